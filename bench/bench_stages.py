"""Reading and analysis of ``planner analyze`` stage by stage, in-process: wall and CPU seconds.

Run from the repository (one command)::

    python bench/bench_stages.py                       # (b) the 2 x 2 prefecture
    python bench/bench_stages.py --case metro          # (a) Porto metro
    python bench/bench_stages.py --pbf X.osm.pbf --stations S.csv --homes H.csv

Not a timed test. Times the steps of the reading stage (the extract read into street
tables, the network compiled, the station and home tables read, the "outside the
network's area" check) and of the analysis stage apart from the band polygons and the
writing (snapping, the multi-source search, the homes' distances, the per-station
searches, the demand layer, the gap zones), each with its wall time and the process's CPU
time (CPU time moves less than wall time when other work shares the cores; with threads
it is their sum). The inputs are those of ``bench_scale.py`` (same seed), written once
into ``--work``; the prefecture extract is built by ``tile_extract.py`` when missing.
Prints the covered share and sums of the per-station figures, so that two runs (two
versions of the code) can be checked for the same results. Skipped with a note when
``../shared/data/osm/porto-metro-roads.osm.pbf`` is absent and no ``--pbf`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
T = TypeVar("T")


def timed(name: str, times: dict[str, tuple[float, float]], work: Callable[[], T]) -> T:
    """``work()``, its wall and CPU seconds stored under ``name`` and printed."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = work()
    times[name] = (time.perf_counter() - t0, time.process_time() - c0)
    wall, cpu = times[name]
    print(f"  {name:<40} wall {wall:7.2f} s  cpu {cpu:7.2f} s", flush=True)
    return out


def input_arguments(parser: argparse.ArgumentParser, *, case: str) -> None:
    """The options that choose a case's inputs (:func:`inputs`), ``case`` by default."""
    parser.add_argument("--case", choices=("metro", "prefecture"), default=case)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "planner-bench"))
    parser.add_argument("--pbf")
    parser.add_argument("--stations")
    parser.add_argument("--homes")


def parsed_case(
    parser: argparse.ArgumentParser, argv: list[str] | None
) -> tuple[argparse.Namespace, tuple[Path, Path, Path]] | None:
    """The arguments and the case's inputs (:func:`inputs`); None (said so) when the Porto
    extract is absent and no ``--pbf`` is given. Warnings (off-network, outside the area)
    are silenced from here on."""
    from bench_scale import PORTO

    args = parser.parse_args(argv)
    if not args.pbf and not PORTO.exists():
        print(f"skipped: {PORTO} not found")
        return None
    found = inputs(args)
    warnings.simplefilter("ignore")  # off-network and outside-the-area warnings
    return args, found


def inputs(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """The extract, stations and homes: given, or made as ``bench_scale.py`` makes them."""
    if args.pbf:
        return Path(args.pbf), Path(args.stations), Path(args.homes)
    from bench_scale import CASES, PORTO, points_csv  # bench/ is on sys.path as a script
    from tile_extract import tile_extract

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    pbf = PORTO
    if args.case == "prefecture":
        pbf = work / "porto-2x2.osm.pbf"
        if not pbf.exists():
            tile_extract(PORTO, pbf, nx=2, ny=2)
    folder = work / f"points-{args.case}-{args.seed}"
    if not (folder / "homes.csv").exists():
        folder.mkdir(exist_ok=True)
        sizes = CASES[args.case]
        points_csv(pbf, sizes["stations"], sizes["homes"], folder, args.seed)
    return pbf, folder / "stations.csv", folder / "homes.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    input_arguments(parser, case="prefecture")
    case = parsed_case(parser, argv)
    if case is None:
        return 0
    _, (pbf, stations_csv, homes_csv) = case
    from planner.config import AnalysisConfig
    from planner.pipeline.inputs import _extent, _report_outside
    from planner.sources.demand import demand_from_file
    from planner.sources.sites import stations_from_file
    from planner.sources.street_tables import street_tables_from_file
    from planner.sources.validate import validate_points
    from planner.walk.access import nearest_station_distances, point_distances, snap_points
    from planner.walk.compile import network_from_tables
    from planner.walk.coverage import gap_zones
    from planner.walk.layers import demand_layer
    from planner.walk.reach import reach_matrix

    cfg = AnalysisConfig()
    times: dict[str, tuple[float, float]] = {}
    load = os.getloadavg()[0]
    print(f"{pbf.name}, load average {load:.1f}")
    tables = timed("read: extract to street tables", times, lambda: street_tables_from_file(pbf))
    network = timed("read: compile the network", times, lambda: network_from_tables(tables))
    st = timed("read: stations table", times, lambda: stations_from_file(stations_csv))
    dm = timed("read: homes table", times, lambda: demand_from_file(homes_csv))

    def outside() -> None:
        extent = _extent(network, cfg.max_snap_m)
        _report_outside(st, extent, "stations")
        _report_outside(dm, extent, "demand")

    timed("read: outside the network's area", times, outside)
    stations = validate_points(st.data, what="stations")
    demand = validate_points(dm.data, what="demand", require=("population",))
    timed("analysis: street index", times, lambda: network.edge_tree)
    snap_m = cfg.max_snap_m
    s_snap = timed(
        "analysis: snap stations",
        times,
        lambda: snap_points(network, stations.geometry, max_snap_m=snap_m),
    )
    d_snap = timed(
        "analysis: snap homes",
        times,
        lambda: snap_points(network, demand.geometry, max_snap_m=snap_m),
    )
    nd = timed(
        "analysis: multi-source search", times, lambda: nearest_station_distances(network, s_snap)
    )
    dist, nearest = timed(
        "analysis: homes' distances", times, lambda: point_distances(network, nd, s_snap, d_snap)
    )
    reach = timed(
        "analysis: per-station searches",
        times,
        lambda: reach_matrix(network, s_snap, d_snap, limit_m=cfg.walk_limit_m),
    )
    within = np.bincount(reach.indices, minlength=len(demand))
    ids = stations["id"].astype(str).to_numpy()
    layer = timed(
        "analysis: demand layer",
        times,
        lambda: demand_layer(demand, d_snap, dist, nearest, within, ids, config=cfg),
    )
    gaps = timed("analysis: gap zones", times, lambda: gap_zones(network, layer, config=cfg))
    pop = demand["population"].to_numpy(dtype=float)
    facts = {
        "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
        "nodes": network.n_nodes,
        "share_covered": float(pop[dist <= cfg.walk_limit_m].sum() / pop.sum()),
        "station_home_pairs": int(reach.nnz),
        "gap_zones": len(gaps),
        "wall_s": round(sum(w for w, _ in times.values()), 1),
        "cpu_s": round(sum(c for _, c in times.values()), 1),
    }
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
