"""Sweeps for researchers: walk limits x speeds x station scenarios x areas, as Dask tasks.

:func:`sweep` answers "how does coverage move with the standard, the walking speed and the
station plan, area by area?" in one tidy table. Each (scenario, area) pair is one Dask task
that reads the network once (file or cache, a road layer with its road options), cuts it
around the area with the halo of the *largest* walk limit of the sweep (exact for every
smaller one, see :mod:`planner.walk.subnetwork`; widened for a road layer's lines faster
than the run's speed), snaps the homes and stations once, and runs one multi-source search
(per speed when the streets carry speeds of their own, whose costs depend on the run's
speed); every walk limit is then a threshold on the same distances.
No output folders are written: the figures are the table.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.pipeline.inputs import InputOptions, load_inputs
from planner.pipeline.region import (
    areas_from_file,
    dask_client,
    home_areas,
    worker_road_options,
)
from planner.pipeline.region_files import write_parquet
from planner.pipeline.region_task import AREA_COLUMN, RegionFiles, region_network, widened_halo
from planner.sources.road_files import RoadOptions
from planner.sources.tables import TableSpec
from planner.walk.access import nearest_station_distances, point_distances, snap_points
from planner.walk.line_speeds import has_line_speeds, line_speed_network
from planner.walk.subnetwork import area_halo_m, halo_widths_m, network_within

#: Columns of the table :func:`sweep` returns.
SWEEP_COLUMNS = (
    "scenario",
    "area",
    "minutes",
    "speed_kmh",
    "homes",
    "homes_covered",
    "population_total",
    "population_covered",
    "share_covered",
)


@dataclass(frozen=True, slots=True)
class SweepTask:
    """One (scenario, area) pair: paths and small values only."""

    scenario: str
    area: str
    position: int
    area_wkb: bytes | None
    network: str
    stations: str
    homes: str
    minutes: tuple[float, ...]
    speeds_kmh: tuple[float, ...]
    max_snap_m: float
    cache_dir: str | None
    road: RoadOptions | None = None


def sweep(
    network_path: str | Path,
    scenarios: Mapping[str, str | Path | TableSpec],
    *,
    minutes: Sequence[float] = (15.0,),
    speeds_kmh: Sequence[float] = (4.5,),
    areas_path: str | Path | None = None,
    area_name_column: str | None = None,
    demand_path: str | Path | TableSpec | None = None,
    max_snap_m: float = 300.0,
    options: InputOptions | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    work_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Coverage for every walk limit x speed x station scenario x area, as one tidy table.

    Parameters
    ----------
    network_path
        The network file (local extract, GraphML or road layer).
    scenarios
        Scenario name -> station file (e.g. ``{"today": "stations.csv", "plan": "..."}``).
    minutes, speeds_kmh
        Walk limits and walking speeds to try.
    areas_path, area_name_column
        Study-area polygons (one row of figures per area); None: the whole network.
    demand_path
        As in :func:`planner.pipeline.analysis.run_analysis` (the extract's homes when None).
    max_snap_m
        Largest snap distance, metres.
    options
        Further input options (cache folder, limits, population rule).
    workers, scheduler, client
        As in :func:`planner.pipeline.region.run_region`.
    work_dir
        Folder for the loaded tables handed to the workers (every worker must see it; a
        temporary folder, removed afterwards, when None).

    Returns
    -------
    pandas.DataFrame
        :data:`SWEEP_COLUMNS`, one row per scenario x area x minutes x speed, sorted so.
        ``population_covered`` equals :func:`planner.walk.coverage.analyze_coverage`'s
        figure for the same inputs and settings.
    """
    if not scenarios:
        msg = "sweep: give at least one station scenario (name -> station file)."
        raise InputDataError(msg)
    mins = tuple(float(m) for m in minutes)
    speeds = tuple(float(v) for v in speeds_kmh)
    for m in mins:
        AnalysisConfig(walk_minutes=m, max_snap_m=max_snap_m)  # refuses a bad value
    for v in speeds:
        AnalysisConfig(speed_kmh=v)
    if not mins or not speeds:
        msg = "sweep: give at least one walk limit (minutes) and one speed (speeds_kmh)."
        raise InputDataError(msg)
    opts = replace(options or InputOptions(), max_snap_m=max_snap_m)
    areas = areas_from_file(areas_path, name_column=area_name_column) if areas_path else None
    with contextlib.ExitStack() as stack:
        folder = Path(work_dir or stack.enter_context(tempfile.TemporaryDirectory()))
        tasks: list[SweepTask] = []
        for s, (scenario, stations_path) in enumerate(scenarios.items()):
            inputs = load_inputs(network_path, stations_path, demand_path=demand_path, options=opts)
            owner = (
                home_areas(inputs.demand, areas)
                if areas is not None
                else np.zeros(len(inputs.demand), dtype=np.int64)
            )
            homes = write_parquet(
                inputs.demand[["population", "geometry"]].assign(**{AREA_COLUMN: owner}),
                folder / f"homes-{s}.parquet",
            )
            stations = write_parquet(
                inputs.stations[["geometry"]], folder / f"stations-{s}.parquet"
            )
            rows = (
                [("all", None)]
                if areas is None
                else [
                    (str(n), shapely.to_wkb(g))
                    for n, g in zip(areas["name"], areas.geometry, strict=True)
                ]
            )
            tasks += [
                SweepTask(
                    scenario=scenario,
                    area=name,
                    position=i,
                    area_wkb=wkb,
                    network=str(Path(network_path).resolve()),
                    stations=str(stations),
                    homes=str(homes),
                    minutes=mins,
                    speeds_kmh=speeds,
                    max_snap_m=max_snap_m,
                    cache_dir=None if opts.cache_dir is None else str(opts.cache_dir),
                    road=worker_road_options(network_path, opts),
                )
                for i, (name, wkb) in enumerate(rows)
            ]
        owned = (
            contextlib.nullcontext(client)
            if client is not None
            else dask_client(workers=workers, scheduler=scheduler)
        )
        with owned as c:
            futures = c.map(sweep_pair, tasks, pure=False)
            results = c.gather(futures)
    frame = pd.DataFrame([row for rows in results for row in rows], columns=list(SWEEP_COLUMNS))
    return frame.sort_values(
        ["scenario", "area", "minutes", "speed_kmh"], kind="stable"
    ).reset_index(drop=True)


def sweep_pair(task: SweepTask) -> list[dict[str, Any]]:
    """The rows of one (scenario, area) pair: every walk limit x speed (run on a worker)."""
    network = region_network(
        RegionFiles(
            network=task.network,
            stations="",
            homes="",
            cache_dir=task.cache_dir,
            road=task.road,
        )
    )
    homes = gpd.read_parquet(task.homes, filters=[(AREA_COLUMN, "==", task.position)])
    stations = gpd.read_parquet(task.stations)
    largest = AnalysisConfig(
        walk_minutes=max(task.minutes), speed_kmh=max(task.speeds_kmh), max_snap_m=task.max_snap_m
    )
    if task.area_wkb is not None:
        area = gpd.GeoSeries([shapely.from_wkb(task.area_wkb)], crs=4326).to_crs(network.crs)[0]
        fastest_run = line_speed_network(network, speed_kmh=largest.speed_kmh)
        halo = widened_halo(halo_widths_m(largest), fastest_run)
        network = network_within(network, area_halo_m(area, halo.streets_m))
        near = shapely.dwithin(
            stations.geometry.to_crs(network.crs).to_numpy(), area, halo.stations_m
        )
        stations = stations.loc[near]
    pop = homes["population"].to_numpy(dtype=float)
    rows: list[dict[str, Any]] = []
    own_speeds = has_line_speeds(network)
    distances: dict[float, npt.NDArray[np.float64]] = {}

    def dist_at(speed: float) -> npt.NDArray[np.float64]:
        """Walk distance (metres at ``speed``) from each home to its nearest station."""
        key = speed if own_speeds else 0.0  # without speeds of their own: one search
        if key not in distances:
            walked = line_speed_network(network, speed_kmh=speed)
            if walked.n_nodes == 0:
                distances[key] = np.full(len(homes), np.inf)
            else:
                s_snap = snap_points(walked, stations.geometry, max_snap_m=task.max_snap_m)
                h_snap = snap_points(walked, homes.geometry, max_snap_m=task.max_snap_m)
                distances[key], _ = point_distances(
                    walked, nearest_station_distances(walked, s_snap), s_snap, h_snap
                )
        return distances[key]

    for minutes in task.minutes:
        for speed in task.speeds_kmh:
            cfg = AnalysisConfig(walk_minutes=minutes, speed_kmh=speed, max_snap_m=task.max_snap_m)
            covered = dist_at(speed) <= cfg.walk_limit_m
            total = float(pop.sum())
            rows.append(
                {
                    "scenario": task.scenario,
                    "area": task.area,
                    "minutes": minutes,
                    "speed_kmh": speed,
                    "homes": len(homes),
                    "homes_covered": int(covered.sum()),
                    "population_total": total,
                    "population_covered": float(pop[covered].sum()),
                    "share_covered": float(pop[covered].sum()) / total if total > 0 else 0.0,
                }
            )
    return rows
