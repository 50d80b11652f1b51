"""One study area of a region, analysed where a Dask worker runs it.

:func:`analyze_area` is the task :func:`planner.pipeline.region.run_region` submits once per
area. It is given paths and small values only (never the network or the tables): the
worker reads the region's network from its file or the built-network cache
(:func:`planner.walk.network_cache.network_from_file`), and the stations and homes from the
GeoParquet files the client wrote once, the homes filtered to its area. It cuts the network
around the area (:mod:`planner.walk.subnetwork`), runs the single-area engine
(:func:`planner.walk.coverage.analyze_coverage`) and writes the area's usual output folder
atomically (:func:`planner.report.export.write_outputs`). Whatever goes wrong in it is
returned as a failed :class:`AreaOutcome` with its reason, never raised.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import traceback
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.config import AnalysisConfig
from planner.errors import InputDataError, PlannerError
from planner.limits import DEFAULT_LIMITS, InputLimits
from planner.report.export import write_outputs
from planner.report.output_folder import GENERATOR
from planner.sources.osm import OSM_DATA
from planner.sources.road_files import RoadOptions
from planner.texts import Language
from planner.walk.band_cache import band_cache_folder
from planner.walk.categories import CircleResult, CircleSettings, analyze_profiles, circles_summary
from planner.walk.coverage import CoverageResult, gap_zones
from planner.walk.layers import STATUS_BEYOND, STATUS_OFF_NETWORK, STATUS_UNREACHABLE
from planner.walk.line_speeds import line_speed_network
from planner.walk.network import WalkNetwork
from planner.walk.network_cache import network_from_file
from planner.walk.profiles import profile_network, walk_profile
from planner.walk.subnetwork import HaloWidths, area_halo_m, halo_widths_m, network_within

logger = logging.getLogger(__name__)

#: Column of the homes file giving each home's area (position in the areas file, from 0).
AREA_COLUMN = "__region_area"
#: Key of an area's ``summary.json`` ``inputs`` that says which region run wrote it.
REGION_KEY = "region_key"

AreaStatus = Literal["done", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class RegionFiles:
    """Where a region's workers read their inputs (paths every worker can open).

    Attributes
    ----------
    network
        The region's network file (``.osm.pbf``, ``.osm``, ``.graphml``, road layer).
    stations, homes
        GeoParquet files of the loaded stations and homes (WGS84); the homes carry
        :data:`AREA_COLUMN`.
    names
        How the inputs are described in each area's ``summary.json``.
    cache_dir, network_cache, limits
        As in :class:`planner.pipeline.inputs.InputOptions`.
    road
        How a road line layer is read (``None`` for OSM and GraphML files).
    osm_data
        Which data came from OpenStreetMap (:attr:`planner.pipeline.inputs.Inputs.osm_data`).
    """

    network: str
    stations: str
    homes: str
    names: dict[str, str] = field(default_factory=dict)
    cache_dir: str | None = None
    network_cache: bool = True
    limits: InputLimits = DEFAULT_LIMITS
    road: RoadOptions | None = None
    osm_data: tuple[str, ...] = OSM_DATA


@dataclass(frozen=True, slots=True)
class AreaTask:
    """What one area's task needs: small values and paths only.

    Attributes
    ----------
    position
        The area's row in the areas file, from 0 (its homes have this :data:`AREA_COLUMN`).
    name
        The area's name as given (data: shown escaped, never used as a path).
    folder
        The area's output folder (``DIR/areas/<safe name>``).
    area_wkb
        The area's polygon in WGS84, as WKB.
    key
        Fingerprint of the inputs and settings; an area folder with the same key is complete.
    files
        Where the inputs are.
    config
        The analysis settings.
    region_has_station
        Whether some station of the region lies on its network (the whole network is one
        connected part, so every on-network home is then reachable, if far).
    language, raw_text
        As in :func:`planner.report.export.write_outputs`.
    circles
        Walking profiles (as :class:`~planner.walk.profiles.WalkProfile`, read by the
        client), category limits, the complete circle and groups, with ``categories`` the
        region's (:func:`planner.walk.categories.analyze_circles`).
    categories_on_network
        The categories of which some station lies on the region's network (as
        ``region_has_station``, per category).
    """

    position: int
    name: str
    folder: str
    area_wkb: bytes
    key: str
    files: RegionFiles
    config: AnalysisConfig
    region_has_station: bool = True
    language: Language = "en"
    raw_text: bool = False
    circles: CircleSettings = field(default_factory=CircleSettings)
    categories_on_network: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AreaOutcome:
    """How one area ended.

    Attributes
    ----------
    position, name, folder
        As in :class:`AreaTask` (``folder`` is the folder's name under ``DIR/areas``).
    status
        ``"done"`` (analysed now), ``"skipped"`` (complete from an earlier run) or
        ``"failed"``.
    figures
        The area's headline figures (from its ``summary.json``); empty when failed.
    reason
        Why it failed (empty otherwise).
    seconds
        Time spent in the task (0 when skipped).
    warnings
        The warnings the area's analysis gave (off-network points, rejected rows, ...).
    """

    position: int
    name: str
    folder: str
    status: AreaStatus
    figures: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()


#: Figures of an area's ``summary.json`` that the region's tables carry.
AREA_FIGURES = (
    "population_total",
    "population_covered",
    "share_covered",
    "demand_points",
    "demand_points_covered",
    "demand_points_off_network",
    "stations",
    "gap_zones",
    "population_in_gap_zones",
)
#: Figures of the complete circle (when the stations have categories), after them.
CIRCLE_FIGURES = ("population_complete", "share_complete")


def analyze_area(task: AreaTask) -> AreaOutcome:
    """Analyse one area and write its output folder; never raises for bad data.

    Parameters
    ----------
    task
        The area and where its inputs are.

    Returns
    -------
    AreaOutcome
        ``"done"`` with the figures written, or ``"failed"`` with the reason (the error's
        message for input problems, the exception and its last frame otherwise).
    """
    started = time.perf_counter()
    folder = Path(task.folder)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runs, streets = area_runs(task)
            names = {**task.files.names, "area": task.name, REGION_KEY: task.key}
            write_outputs(
                runs[0].result,
                folder,
                inputs=names,
                streets=streets,
                language=task.language,
                overwrite=True,
                raw_text=task.raw_text,
                osm_data=task.files.osm_data,
                circles=circles_summary(runs),
                category_gaps=runs[0].category_gaps,
                circle=runs[0],
            )
    except PlannerError as err:
        return _failed(task, str(err), started)
    except Exception as err:
        where = traceback.extract_tb(err.__traceback__)[-1]
        reason = f"{type(err).__name__}: {err} ({Path(where.filename).name}:{where.lineno})"
        return _failed(task, reason, started)
    return AreaOutcome(
        position=task.position,
        name=task.name,
        folder=folder.name,
        status="done",
        figures=area_figures(folder),
        seconds=time.perf_counter() - started,
        warnings=tuple(dict.fromkeys(str(w.message) for w in caught)),
    )


def area_runs(task: AreaTask) -> tuple[tuple[CircleResult, ...], gpd.GeoDataFrame]:
    """The circle analysis of one area, per walking profile, and the streets of its halo.

    As :func:`planner.walk.categories.analyze_profiles` on the whole network for the
    area's homes: the halo is that of the longest walk of any profile and category
    (:func:`circle_halo`), and what a cut network cannot know beyond each limit is left
    out (:func:`exact_beyond_limit`). Nothing is written.

    Raises
    ------
    InputDataError
        When the area holds no home or its halo no street.
    """
    files = task.files
    cfg = task.config
    network = region_network(files)
    area = gpd.GeoSeries([shapely.from_wkb(task.area_wkb)], crs=4326).to_crs(network.crs).iloc[0]
    halo = circle_halo(network, cfg, task.circles)
    piece = network_within(network, area_halo_m(area, halo.streets_m))
    homes = gpd.read_parquet(files.homes, filters=[(AREA_COLUMN, "==", task.position)])
    homes = homes.drop(columns=[AREA_COLUMN])
    if len(homes) == 0:
        msg = f"area {task.name!r}: no home or demand point lies inside it; nothing to analyse."
        raise InputDataError(msg)
    if piece.n_nodes == 0:
        msg = (
            f"area {task.name!r}: no street of {files.network} lies within "
            f"{halo.streets_m:.0f} m of it; check that the network covers the area."
        )
        raise InputDataError(msg)
    stations = gpd.read_parquet(files.stations)
    near = shapely.dwithin(stations.geometry.to_crs(network.crs).to_numpy(), area, halo.stations_m)
    bands_in = band_cache_folder(files.cache_dir, network_cache=files.network_cache)
    runs = analyze_profiles(
        piece, stations.loc[near], homes, config=cfg, settings=task.circles, band_cache_dir=bands_in
    )
    return tuple(_exact_run(run, piece, task) for run in runs), piece.edges


def circle_halo(
    network: WalkNetwork, config: AnalysisConfig, circles: CircleSettings
) -> HaloWidths:
    """The halo of the longest walk: the fastest profile and the longest category limit.

    Profiles only slow walking down (time factors of at least 1, delays of at least 0)
    or take streets away, so a walk of any profile costs at least its length at the
    profile's speed; a road layer's own faster lines widen it (:func:`widened_halo`).
    """
    minutes = max([config.walk_minutes, *circles.category_minutes.values()])
    speeds = [walk_profile(p).speed_kmh for p in circles.profiles]
    widths = [
        widened_halo(
            halo_widths_m(replace(config, walk_minutes=minutes, speed_kmh=speed)),
            _at_speed(network, speed),
        )
        for speed in speeds or [config.speed_kmh]
    ]
    return HaloWidths(
        stations_m=max(w.stations_m for w in widths), streets_m=max(w.streets_m for w in widths)
    )


def _exact_run(run: CircleResult, piece: WalkNetwork, task: AreaTask) -> CircleResult:
    """``run`` with :func:`exact_beyond_limit` applied to it and to each of its categories."""
    walked = profile_network(piece, run.profile)
    result = exact_beyond_limit(run.result, walked, region_has_station=task.region_has_station)
    cats = tuple(
        replace(
            c,
            result=exact_beyond_limit(
                c.result, walked, region_has_station=c.name in task.categories_on_network
            ),
        )
        for c in run.categories
    )
    d = result.demand
    beyond = {  # a category's walk time past its limit: not measured, as for the whole set
        f"walk_min_{c.column}": d[f"walk_min_{c.column}"].where(d[f"covered_{c.column}"])
        for c in run.categories
    }
    return replace(run, result=replace(result, demand=d.assign(**beyond)), categories=cats)


def region_network(files: RegionFiles) -> WalkNetwork:
    """The region's whole network, read once per worker process for all its areas.

    Keyed by the file's path, size and modification time and the build options, so a
    changed file is read again; one network is kept (a worker serves one region at a
    time). The network is immutable, so the areas sharing it cannot affect each other.
    """
    stat = Path(files.network).stat()
    return _network_once(
        files.network,
        (stat.st_size, stat.st_mtime_ns),
        files.limits,
        files.cache_dir,
        files.network_cache,
        files.road,
    )


@functools.lru_cache(maxsize=4)
def _at_speed(network: WalkNetwork, speed_kmh: float) -> WalkNetwork:
    """A road layer's own line speeds as costs at the run's speed (once per worker)."""
    return line_speed_network(network, speed_kmh=speed_kmh)


def widened_halo(halo: HaloWidths, network: WalkNetwork) -> HaloWidths:
    """``halo`` widened by how much faster than the run's speed the fastest street is walked.

    The halo assumes a walk costs at least its length; a road layer's line faster than the
    run's speed (:mod:`planner.walk.line_speeds`) costs less, so a station further away
    may be within the limit.
    """
    edges = network.edges
    if "street_length_m" not in edges.columns or len(edges) == 0:
        return halo
    length = edges["street_length_m"].to_numpy(dtype=np.float64)
    cost = network.edge_length_m
    ok = (length > 0) & (cost > 0)
    fastest = float(np.max(length[ok] / cost[ok], initial=1.0))
    if fastest <= 1.0:
        return halo
    return HaloWidths(stations_m=halo.stations_m * fastest, streets_m=halo.streets_m * fastest)


@functools.lru_cache(maxsize=1)
def _network_once(
    path: str,
    stat: tuple[int, int],
    limits: InputLimits,
    cache_dir: str | None,
    use_cache: bool,
    road: RoadOptions | None,
) -> WalkNetwork:
    logger.info("reading %s (size, mtime %s)", path, stat)
    return network_from_file(
        path, limits=limits, cache_dir=cache_dir, use_cache=use_cache, road=road
    )


def exact_beyond_limit(
    result: CoverageResult, piece: WalkNetwork, *, region_has_station: bool
) -> CoverageResult:
    """The result with what a cut network cannot know about homes beyond the limit left out.

    Within the walk limit a piece cut with the halo gives the whole network's figures; past
    it, a walk may leave the piece, so a home there can look farther than it is, or cut off.
    Such homes keep status ``beyond_limit`` (``unreachable`` only when no station of the
    region is on the network, as on the whole network), and their ``walk_min`` and
    ``nearest_station`` are left empty; gap zones are recomputed from that layer.
    """
    d = result.demand
    out = ~d["covered"].to_numpy(dtype=bool) & (d["status"] != STATUS_OFF_NETWORK).to_numpy()
    if not out.any():
        return result
    status = np.where(out, STATUS_BEYOND if region_has_station else STATUS_UNREACHABLE, d["status"])
    demand = d.assign(
        status=status,
        walk_min=d["walk_min"].where(~out),
        nearest_station=d["nearest_station"].where(~out),
    )
    return replace(result, demand=demand, gaps=gap_zones(piece, demand, config=result.config))


def area_figures(folder: Path) -> dict[str, Any]:
    """The :data:`AREA_FIGURES` of an area's ``summary.json``, and its :data:`CIRCLE_FIGURES`."""
    data = json.loads((folder / "summary.json").read_text("utf-8"))
    figures = {k: data.get(k) for k in AREA_FIGURES}
    return figures | {k: data[k] for k in CIRCLE_FIGURES if k in data}


def is_complete(folder: Path, key: str) -> bool:
    """Whether an area folder holds a finished run of ours with this key."""
    try:
        data = json.loads((folder / "summary.json").read_text("utf-8"))
        return bool(
            data.get("generator") == GENERATOR
            and data.get("inputs", {}).get(REGION_KEY) == key
            and (folder / "manifest.json").is_file()
        )
    except (OSError, ValueError, AttributeError):
        return False


def completed_outcome(task: AreaTask) -> AreaOutcome | None:
    """A ``"skipped"`` outcome when the area's folder is complete for this task's key."""
    folder = Path(task.folder)
    if not is_complete(folder, task.key):
        return None
    return AreaOutcome(
        position=task.position,
        name=task.name,
        folder=folder.name,
        status="skipped",
        figures=area_figures(folder),
    )


def failed_outcome(task: AreaTask, reason: str) -> AreaOutcome:
    """A ``"failed"`` outcome for a task that did not return (a worker lost, cancelled)."""
    return AreaOutcome(
        position=task.position,
        name=task.name,
        folder=Path(task.folder).name,
        status="failed",
        reason=reason,
    )


def _failed(task: AreaTask, reason: str, started: float) -> AreaOutcome:
    logger.warning("area %r failed: %s", task.name, reason)
    return replace(failed_outcome(task, reason), seconds=time.perf_counter() - started)


def figures_frame(outcomes: list[AreaOutcome]) -> pd.DataFrame:
    """One row per area in file order: name, folder, status, reason, seconds, figures.

    The :data:`CIRCLE_FIGURES` follow when some area has them (stations with categories).
    """
    circle = [k for k in CIRCLE_FIGURES if any(k in o.figures for o in outcomes)]
    rows = [
        {
            "name": o.name,
            "folder": o.folder,
            "status": o.status,
            "reason": o.reason,
            "seconds": round(o.seconds, 3),
            **{k: o.figures.get(k) for k in (*AREA_FIGURES, *circle)},
        }
        for o in sorted(outcomes, key=lambda o: o.position)
    ]
    return pd.DataFrame(
        rows, columns=["name", "folder", "status", "reason", "seconds", *AREA_FIGURES, *circle]
    )
