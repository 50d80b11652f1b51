"""A whole region at once: one Dask task per study area, the same figures as each area alone.

:func:`run_region` is ``planner region``. The client loads the inputs once the way
``planner analyze`` does (:func:`planner.pipeline.inputs.load_inputs`, which also builds the
network cache the workers then read), gives every home to the first area listed that holds
it, writes the stations and homes as GeoParquet under ``DIR/.region-inputs/`` and submits
one :func:`planner.pipeline.region_task.analyze_area` per area to ``dask.distributed``: a
``LocalCluster`` of worker processes by default, or the running scheduler named by
``scheduler``. Only paths and small values go through the scheduler.

Layout of ``DIR``::

    summary.json     region totals and an ``areas`` list (name, folder, status, figures)
                     and a ``failed`` list (name, reason)
    areas.csv        the same per-area table
    areas.gpkg       layer ``areas``: the area polygons with their figures
    report.html      the region report (per-area table, map of shares, worst gaps)
    rejected_<input>.csv  rows of the stations or demand file that were rejected, if any
    areas/<NNN-name>/  each area's usual output folder, written atomically

A re-run with the same ``DIR`` and inputs skips every area whose folder is complete
(:func:`planner.pipeline.region_task.completed_outcome`) and retries the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from planner._version import __version__
from planner.config import AnalysisConfig
from planner.errors import InputDataError, OutputExistsError
from planner.pipeline.inputs import InputOptions, load_inputs
from planner.pipeline.region_files import write_parquet, write_region
from planner.pipeline.region_task import (
    AREA_COLUMN,
    AreaOutcome,
    AreaTask,
    RegionFiles,
    analyze_area,
    completed_outcome,
    failed_outcome,
    is_complete,
)
from planner.report.output_folder import is_rejected_file
from planner.sources.areas import districts_from_file
from planner.sources.road_files import RoadOptions, is_road_layer
from planner.sources.tables import TableSpec
from planner.texts import Language
from planner.walk.access import snap_points
from planner.walk.categories import CircleSettings, settled_circles
from planner.walk.profiles import walk_profile

logger = logging.getLogger(__name__)

#: Folder of the inputs handed to the workers, inside ``DIR``.
INPUTS_DIR = ".region-inputs"
#: Files of ``DIR`` written by a region run.
REGION_FILES = ("summary.json", "areas.csv", "areas.gpkg", "report.html")

#: Told of each area as it ends: its outcome, how many have ended, how many there are.
AreaProgress = Callable[[AreaOutcome, int, int], None]


@dataclass(frozen=True, slots=True)
class RegionRun:
    """A finished region run.

    Attributes
    ----------
    out_dir
        The region's folder.
    outcomes
        One per area, in file order.
    summary
        The content of ``summary.json``.
    dashboard
        The Dask dashboard's address, when the cluster serves one.
    seconds
        Wall time of the run's parts: ``inputs`` (starting the local cluster or connecting
        to the scheduler, then the client loading the inputs and writing them for the
        workers), ``areas`` (from the first task submitted to the last ended, and closing
        a local cluster), ``region`` (the region's own files).
    """

    out_dir: Path
    outcomes: tuple[AreaOutcome, ...]
    summary: dict[str, Any]
    dashboard: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[AreaOutcome, ...]:
        """The areas that failed."""
        return tuple(o for o in self.outcomes if o.status == "failed")


def safe_folder_name(position: int, name: str) -> str:
    """A folder name for area ``position`` (from 0) called ``name``: ``NNN-<letters>``.

    Letters and digits of any script, ``-`` and ``_`` are kept (at most 60); everything
    else (path separators, dots, HTML, spaces) becomes ``_``. The number keeps the names
    unique, ordered and never a reserved or hidden name. The area's own name is kept in its
    outputs.
    """
    text = unicodedata.normalize("NFKC", name)
    slug = re.sub(r"[^\w-]+", "_", text, flags=re.UNICODE).strip("_")[:60]
    return f"{position + 1:03d}-{slug}" if slug else f"{position + 1:03d}"


def areas_from_file(path: str | Path, *, name_column: str | None = None) -> gpd.GeoDataFrame:
    """The study areas of a region: ``name``, ``folder`` and polygons (WGS84), in file order.

    Parameters
    ----------
    path
        Polygons in any GIS format (GeoPackage, GeoJSON, Shapefile, ...).
    name_column
        Column of the area names; found by name (``name``, ``district``, ``名称``, ...)
        when None. Areas without a name are called ``area <row>``.

    Raises
    ------
    InputDataError
        As :func:`planner.sources.areas.districts_from_file` (not polygons, no or duplicate
        names), or when the file holds no area.
    """
    areas = districts_from_file(path, name_column=name_column)
    if len(areas) == 0:
        msg = f"{path}: holds no area; give one polygon per study area."
        raise InputDataError(msg)
    names = [n or f"area {i + 1}" for i, n in enumerate(areas["name"])]
    folders = [safe_folder_name(i, n) for i, n in enumerate(names)]
    return areas.assign(name=names, folder=folders)[["name", "folder", "geometry"]]


def home_areas(homes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Per home, the first area listed that holds it (border included), by position; -1 if none."""
    tree = shapely.STRtree(areas.geometry.to_numpy())
    home_idx, area_idx = tree.query(homes.geometry.to_numpy(), predicate="covered_by")
    first = np.full(len(homes), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, home_idx, area_idx)
    return np.where(first == np.iinfo(np.int64).max, -1, first)


@contextlib.contextmanager
def dask_client(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``dask.distributed`` client: of a running scheduler, or of a new ``LocalCluster``.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (one thread each); all cores when None.
    scheduler
        Address of a running scheduler (``tcp://host:8786``); no local cluster is made.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")  # type: ignore[no-untyped-call]
        except OSError as err:
            msg = (
                f"--scheduler {scheduler}: no Dask scheduler answers there ({err}); start one "
                "with `dask scheduler` or check the address."
            )
            raise InputDataError(msg) from err
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def run_region(
    network_path: str | Path,
    areas_path: str | Path,
    stations_path: str | Path | TableSpec,
    out_dir: str | Path,
    *,
    demand_path: str | Path | TableSpec | None = None,
    area_name_column: str | None = None,
    config: AnalysisConfig | None = None,
    options: InputOptions | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    language: Language = "en",
    raw_text: bool = False,
    overwrite: bool = False,
    circles: CircleSettings | None = None,
    progress: AreaProgress | None = None,
    on_client: Callable[[str | None], None] | None = None,
) -> RegionRun:
    """Analyse every study area of a region as one Dask task each, and write the region's folder.

    Parameters
    ----------
    network_path
        The region's network file (every area's streets and their halo).
    areas_path
        Study-area polygons (a county, district or any polygon per row).
    stations_path, demand_path, options
        As in :func:`planner.pipeline.analysis.run_analysis`.
    out_dir
        The region's folder; for a cluster, a folder every worker can write (shared file
        system), as must be the network file and the cache folder.
    area_name_column
        Column of the area names; found by name when None.
    config
        Analysis settings (the walk limit and snap distance set the halo).
    workers
        Worker processes of the local cluster (all cores when None).
    scheduler
        Address of a running Dask scheduler instead of a local cluster.
    client
        A ``distributed.Client`` to use as it is (neither ``workers`` nor ``scheduler``).
    language, raw_text
        Language of the reports; CSV text cells as they are.
    overwrite
        Use a folder that holds other files than a region run's.
    circles
        Walking profiles, station categories with their own limits, the complete circle
        and groups of people, as in :func:`planner.pipeline.analysis.run_analysis`: each
        area gets its circle figures, the region table the complete circle per area. The
        halo is that of the longest walk (the fastest profile, the longest category limit).
    progress
        Told of each area as it ends.
    on_client
        Told the dashboard's address (None when there is none) once the client is up.

    Returns
    -------
    RegionRun
        Every area's outcome and the summary; failed areas are in it, not raised.

    Notes
    -----
    Each area's figures equal those of the whole network for its homes: its streets are
    those meeting the area widened by ``L + 3s`` and its stations those within ``L + 2s``
    (walk limit ``L``, snap distance ``s``; see :mod:`planner.walk.subnetwork`). A home on
    a shared border counts once, in the first area listed; a home in no area is counted in
    ``homes_outside_areas``. Walk times beyond the limit are not measured (left empty).
    """
    cfg = config or AnalysisConfig()
    out = Path(out_dir)
    started = time.perf_counter()
    _check_region_folder(out, overwrite=overwrite)
    areas = areas_from_file(areas_path, name_column=area_name_column)
    opts = replace(options or InputOptions(), max_snap_m=cfg.max_snap_m)
    base_key = _inputs_key(
        network_path, stations_path, demand_path, cfg, language, raw_text, circles
    )
    keys = [
        _area_key(base_key, str(n), g) for n, g in zip(areas["name"], areas.geometry, strict=True)
    ]
    folders = [(out / "areas" / str(f)).resolve() for f in areas["folder"]]
    pending = not all(is_complete(f, k) for f, k in zip(folders, keys, strict=True))
    # The cluster first: a wrong --scheduler is named before minutes of reading inputs.
    owned = (
        contextlib.nullcontext(client)
        if client is not None or not pending
        else dask_client(workers=workers, scheduler=scheduler)
    )
    with owned as c:
        dashboard = None
        if c is not None:
            dashboard = getattr(c, "dashboard_link", None) if _serves_dashboard(c) else None
            if on_client is not None:
                on_client(dashboard)
        inputs = load_inputs(network_path, stations_path, demand_path=demand_path, options=opts)
        settled = settled_circles(inputs.stations, inputs.demand, circles or CircleSettings())
        on_net = snap_points(inputs.network, inputs.stations.geometry, max_snap_m=cfg.max_snap_m)
        owner = home_areas(inputs.demand, areas)
        staging = out / INPUTS_DIR
        staging.mkdir(parents=True, exist_ok=True)
        files = RegionFiles(
            network=str(Path(network_path).resolve()),
            stations=str(write_parquet(inputs.stations, staging / "stations.parquet")),
            homes=str(
                write_parquet(
                    inputs.demand.assign(**{AREA_COLUMN: owner}).iloc[
                        np.argsort(owner, kind="stable")
                    ],
                    staging / "homes.parquet",
                )
            ),
            names=dict(inputs.names),
            osm_data=inputs.osm_data,
            cache_dir=None if opts.cache_dir is None else str(opts.cache_dir),
            network_cache=opts.network_cache,
            limits=opts.limits,
            road=worker_road_options(network_path, opts),
        )
        has_station = bool(on_net.on_network.any())
        categories_on_network = _categories_on_network(inputs.stations, on_net.on_network)
        tasks = [
            AreaTask(
                position=i,
                name=str(name),
                folder=str(folder),
                area_wkb=shapely.to_wkb(geometry),
                key=key,
                files=files,
                config=cfg,
                region_has_station=has_station,
                language=language,
                raw_text=raw_text,
                circles=settled,
                categories_on_network=categories_on_network,
            )
            for i, (name, folder, geometry, key) in enumerate(
                zip(areas["name"], folders, areas.geometry, keys, strict=True)
            )
        ]
        loaded = time.perf_counter()
        outcomes = _run_tasks(tasks, client=c, progress=progress)
    ran = time.perf_counter()
    first = walk_profile(settled.profiles[0]) if settled.profiles else None
    summary = write_region(
        out,
        areas,
        outcomes,
        cfg if first is None else replace(cfg, speed_kmh=first.speed_kmh),  # the areas' speed
        inputs_names={**inputs.names, "areas": str(areas_path)},
        homes_outside=int((owner < 0).sum()),
        language=language,
        raw_text=raw_text,
        rejected=inputs.rejected,
    )
    shutil.rmtree(staging, ignore_errors=True)
    seconds = {
        "inputs": loaded - started,
        "areas": ran - loaded,
        "region": time.perf_counter() - ran,
    }
    return RegionRun(
        out_dir=out,
        outcomes=tuple(outcomes),
        summary=summary,
        dashboard=dashboard,
        seconds=seconds,
    )


def _run_tasks(
    tasks: list[AreaTask], *, client: Any, progress: AreaProgress | None
) -> list[AreaOutcome]:
    """Skip the complete areas, run the others on ``client``, and collect every outcome."""
    from distributed import as_completed

    outcomes: dict[int, AreaOutcome] = {}
    todo = []
    for task in tasks:
        done = completed_outcome(task)
        if done is None:
            todo.append(task)
        else:
            outcomes[task.position] = done
            if progress is not None:
                progress(done, len(outcomes), len(tasks))
    if todo and client is None:  # an area folder vanished since the first look
        msg = "some areas are no longer complete; run the command again to redo them."
        raise InputDataError(msg)
    futures = {
        client.submit(analyze_area, t, key=f"area-{t.position:05d}-{t.key[:12]}", pure=False): t
        for t in todo
    }
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        task = futures[future]
        try:
            outcome = future.result()
        except Exception as err:
            outcome = failed_outcome(task, f"{type(err).__name__}: {err}")
        outcomes[task.position] = outcome
        if progress is not None:
            progress(outcome, len(outcomes), len(tasks))
    return [outcomes[t.position] for t in tasks]


def _serves_dashboard(client: Any) -> bool:
    try:
        info = client.scheduler_info()
    except Exception:
        return False
    return bool(info.get("services", {}).get("dashboard"))


def _check_region_folder(out: Path, *, overwrite: bool) -> None:
    """Refuse a folder holding files that are not a region run's, unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        msg = f"{out} is a file, not a folder; choose another output folder with --out."
        raise OutputExistsError(msg)
    if not out.is_dir() or overwrite:
        return
    ours = {*REGION_FILES, "areas", INPUTS_DIR}
    other = sorted(
        p.name
        for p in out.iterdir()
        if p.name not in ours and not p.name.startswith(".") and not is_rejected_file(p.name)
    )
    if other:
        msg = (
            f"{out} holds files that are not a region run's ({', '.join(other[:5])}); choose an "
            "empty or new folder with --out, or pass --overwrite to write beside them."
        )
        raise OutputExistsError(msg)


def _categories_on_network(
    stations: gpd.GeoDataFrame, on_network: npt.NDArray[np.bool_]
) -> tuple[str, ...]:
    """The station categories of which some station lies on the network."""
    if "category" not in stations.columns:
        return ()
    labels = stations["category"].fillna("").astype(str).str.strip().to_numpy()
    return tuple(sorted({str(c) for c in labels[on_network] if c}))


def _inputs_key(
    network: str | Path,
    stations: str | Path | TableSpec,
    demand: str | Path | TableSpec | None,
    cfg: AnalysisConfig,
    language: str,
    raw_text: bool,
    circles: CircleSettings | None = None,
) -> str:
    """A fingerprint of the inputs (path, size, modification time) and the settings."""
    parts: list[object] = [__version__, repr(cfg), language, raw_text, repr(circles)]
    profile_files = [p for p in (circles.profiles if circles else ()) if isinstance(p, str | Path)]
    for item in (network, stations, demand, *profile_files):
        path = getattr(item, "path", item)
        if path is None:
            parts.append(None)
            continue
        p = Path(str(path))
        stat = p.stat() if p.is_file() else None
        parts.append(
            (str(p.resolve()), stat and stat.st_size, stat and stat.st_mtime_ns, repr(item))
        )
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _area_key(base: str, name: str, geometry: shapely.Geometry) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(base.encode())
    digest.update(name.encode("utf-8"))
    digest.update(shapely.to_wkb(shapely.normalize(geometry)))
    return digest.hexdigest()


def worker_road_options(network_path: str | Path, opts: InputOptions) -> RoadOptions | None:
    """A road layer's options with its files as absolute paths (workers may run elsewhere)."""
    if not is_road_layer(network_path):
        return None
    road = opts.road_options()

    def absolute(path: str | Path | None) -> str | None:
        return None if path is None else str(Path(path).resolve())

    return replace(road, mapping=absolute(road.mapping), osm_paths=absolute(road.osm_paths))
