"""Time of one edit in the app (add, move, delete a station) against a full recompute.

Run from the repository root::

    python bench/bench_app.py                       # Helsinki demo + Porto (64k and 300k+ nodes)
    python bench/bench_app.py --graphs helsinki grid --stations 2000
    python bench/bench_app.py --quick               # fewer repetitions

Graphs:

- ``helsinki``: the app's demo exactly (pyrosm's bundled extract, its homes from buildings,
  its 3 community centres), plus the same with 100 random stations.
- ``porto``: the Porto walk network from ``../shared/data/osm/porto-metro-roads.osm.pbf``
  as the app builds it (pyrosm, simplified: about 64,000 nodes); skipped when absent.
- ``porto-full``: the same extract *unsimplified* (every OSM node kept: 300,000+ nodes),
  the 100,000+-node case; skipped when absent.
- ``grid``: a synthetic jittered street grid of 320 x 320 = 102,400 nodes (needs no file).

On the Porto and grid networks, ``--stations`` random stations (default 1,000) and
``--homes`` random homes (default 100,000, population 1-200) are scattered up to ~30 m off
random streets (the extract has no buildings). Each edit is timed as the app pays for it:
the edit itself (the edited station's bounded search, one multi-source search, the
per-home sums) plus the figures and the gap zones the page shows. Station isochrone
polygons, built for at most 200 stations, are timed separately (Helsinki only).

Two baselines: ``full figures`` recomputes the same outputs from scratch (a new plan: one
search per station, plus the gap zones); ``analyze_coverage`` is the library's full
analysis, which also builds every polygon layer. Each time is the median of ``--repeat``
edits at random places; the ratio is baseline / edit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # time this checkout's planner, whatever is installed

from planner.app.edits import add_station, move_station, remove_station  # noqa: E402
from planner.app.plan import Plan, build_plan  # noqa: E402
from planner.app.study_area import StudyArea, demo_study_area, study_area  # noqa: E402
from planner.config import AnalysisConfig  # noqa: E402
from planner.walk.coverage import analyze_coverage  # noqa: E402
from planner.walk.network import WalkNetwork, build_walk_network  # noqa: E402
from planner.walk.network_cache import network_from_file  # noqa: E402

PORTO = ROOT.parent / "shared/data/osm/porto-metro-roads.osm.pbf"


def scattered(network: WalkNetwork, n: int, rng: np.random.Generator) -> gpd.GeoSeries:
    """Random points near random snappable streets, in WGS84."""
    e = rng.choice(network.snap_edges, n)
    on_street = shapely.line_interpolate_point(
        network.edges.geometry.to_numpy()[e], rng.random(n), normalized=True
    )
    xy = shapely.get_coordinates(on_street) + rng.normal(0.0, 30.0, size=(n, 2))
    return gpd.GeoSeries(shapely.points(xy), crs=network.crs).to_crs(4326)


def random_area(
    name: str, network: WalkNetwork, stations: int, homes: int, rng: np.random.Generator
) -> StudyArea:
    demand = gpd.GeoDataFrame(
        {"id": [f"H{i}" for i in range(homes)], "population": rng.uniform(1, 200, homes)},
        geometry=scattered(network, homes, rng),
    )
    sites = gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(stations)]}, geometry=scattered(network, stations, rng)
    )
    return study_area(network, demand, name=name, stations=sites)


def grid_network(side: int, rng: np.random.Generator) -> WalkNetwork:
    """A jittered side x side street grid, 80 m blocks, in UTM zone 35N."""
    g = nx.MultiDiGraph(crs="EPSG:32635")
    x0, y0 = 500_000.0, 6_670_000.0
    xy = rng.normal(0.0, 8.0, size=(side * side, 2))
    for i in range(side):
        for j in range(side):
            k = i * side + j
            g.add_node(k, x=x0 + 80.0 * j + xy[k, 0], y=y0 + 80.0 * i + xy[k, 1])
    for i in range(side):
        for j in range(side):
            k = i * side + j
            for other in ([k + 1] if j + 1 < side else []) + ([k + side] if i + 1 < side else []):
                a, b = g.nodes[k], g.nodes[other]
                length = float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))
                g.add_edge(k, other, length=length)
                g.add_edge(other, k, length=length)
    return build_walk_network(g)


def porto_network(*, simplify: bool) -> WalkNetwork:
    import pyrosm

    if simplify:  # as the app builds it (the built-network cache after the first run)
        return network_from_file(PORTO)
    osm = pyrosm.OSM(str(PORTO))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    graph = osm.to_graph(nodes, edges, graph_type="networkx", osmnx_compatible=True, simplify=False)
    return build_walk_network(graph)


#: CPU seconds of the last :func:`timed` call (this process, all threads).
LAST_CPU = [0.0]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = fn()
    LAST_CPU[0] = time.process_time() - c0
    return time.perf_counter() - t0, out


def figures(plan: Plan) -> None:
    """What a page shows after an edit: headline figures, per-station table, gap zones."""
    _ = (plan.share_covered, plan.population_served, plan.population_only_here, plan.gaps)


def bench_edits(
    label: str, area: StudyArea, cfg: AnalysisConfig, repeat: int, rng: np.random.Generator
) -> None:
    t_build, plan = timed(lambda: build_plan(area, config=cfg))
    assert isinstance(plan, Plan)
    figures(plan)
    net = area.network
    print(
        f"\n{label}: {net.n_nodes:,} nodes, {len(net.edges):,} street segments, "
        f"{len(area.demand):,} homes, {len(plan.stations):,} stations; "
        f"{cfg.walk_minutes:g} min at {cfg.speed_kmh:g} km/h"
    )
    full_fig = [timed(lambda: figures(build_plan(area, plan.stations, config=cfg)))[0]]
    full_fig += [timed(lambda: figures(build_plan(area, plan.stations, config=cfg)))[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_full, _ = timed(lambda: analyze_coverage(net, plan.stations, area.demand, config=cfg))
    base_fig = min(full_fig)
    print(f"  {'full figures (new plan + gaps)':<38} {base_fig * 1000:10.1f} ms")
    print(f"  {'analyze_coverage (with polygons)':<38} {t_full * 1000:10.1f} ms")

    points = scattered(net, 3 * repeat, rng)
    pts = [(float(p.x), float(p.y)) for p in points]
    ids = list(plan.stations["id"].astype(str))
    times: dict[str, list[float]] = {"add": [], "move": [], "delete": [], "polygons": []}
    cpu: dict[str, list[float]] = {"add": [], "move": [], "delete": []}
    for i in range(repeat):
        lon, lat = pts[i]
        dt, new = timed(lambda lon=lon, lat=lat: _with_figures(add_station(plan, lon, lat)))
        times["add"].append(dt)
        cpu["add"].append(LAST_CPU[0])
        if plan.polygons_per_station and isinstance(new, Plan):
            times["polygons"].append(timed(lambda new=new: new.coverage_area)[0])
        lon, lat = pts[repeat + i]
        sid = ids[int(rng.integers(len(ids)))]
        times["move"].append(
            timed(lambda s=sid, lon=lon, lat=lat: _with_figures(move_station(plan, s, lon, lat)))[0]
        )
        cpu["move"].append(LAST_CPU[0])
        sid = ids[int(rng.integers(len(ids)))]
        times["delete"].append(timed(lambda s=sid: _with_figures(remove_station(plan, s)))[0])
        cpu["delete"].append(LAST_CPU[0])
    print(
        f"  {'edit (median of ' + str(repeat) + ')':<38} {'ms':>10} "
        f"{'vs full figures':>16} {'vs analyze_coverage':>20} {'cpu ms':>8}"
    )
    for kind in ("add", "move", "delete"):
        med = statistics.median(times[kind])
        print(
            f"  {kind + ' station + figures + gaps':<38} {med * 1000:10.1f} "
            f"{base_fig / med:15.1f}x {t_full / med:19.1f}x "
            f"{statistics.median(cpu[kind]) * 1000:8.1f}"
        )
    if times["polygons"]:
        med = statistics.median(times["polygons"])
        print(f"  {'  + new station isochrones, bands union':<38} {med * 1000:10.1f}")
    print(f"  (first build of the plan: {t_build * 1000:.0f} ms)")


def _with_figures(plan: Plan) -> Plan:
    figures(plan)
    return plan


def bench_area(homes: int, rng: np.random.Generator) -> None:
    """The Porto study area built as the app builds an upload, the first time and again.

    The app's path for an uploaded extract and homes table (``planner.app.uploads``): the
    homes CSV read and validated, the network from the file (built, or loaded from the
    built-network cache), homes snapped and indexed, the first plan (no station: every
    home unserved) with its gap zones, the map's files (streets, homes: written once per
    area) and its layers. "first time": an empty cache folder; "again": a new process
    would find the built network in the cache (the app itself keeps a built area in
    memory, so a second build in the same process costs nothing).
    """
    import os
    import tempfile

    import pandas as pd

    import planner.app.study_area as study_area_module
    from planner.app.homes_layer import write_homes_file
    from planner.app.plan_map import base_map, plan_layers, write_streets_file
    from planner.app.uploads import area_from_upload, demand_from_upload
    from planner.app.views import headline
    from planner.app.workspace import workspace_for_area

    if not PORTO.exists():
        print(f"\narea: skipped, {PORTO} not found")
        return
    work = Path(tempfile.mkdtemp(prefix="bench-area-"))
    table = work / f"homes-{homes}.csv"
    net = network_from_file(PORTO, cache_dir=work / "scratch")
    pts = scattered(net, homes, rng)
    pd.DataFrame(
        {
            "id": [f"H{i}" for i in range(homes)],
            "lon": pts.x.round(6),
            "lat": pts.y.round(6),
            "population": rng.integers(1, 200, homes),
        }
    ).to_csv(table, index=False)
    data, dem = PORTO.read_bytes(), table.read_bytes()
    real_network = study_area_module.network_from_file
    print(f"\nPorto study area as the app builds an upload ({homes:,} homes), seconds")
    os.environ["PLANNER_CACHE_DIR"] = str(work / "cache")  # empty: the first time
    for run in ("first time", "again"):
        t: dict[str, float] = {}

        def network(*args: object, _t: dict[str, float] = t, **kwargs: object) -> WalkNetwork:
            t0 = time.perf_counter()
            out = real_network(*args, **kwargs)  # type: ignore[arg-type]
            _t["network"] = time.perf_counter() - t0
            return out

        study_area_module.network_from_file = network  # type: ignore[assignment]
        start = time.perf_counter()
        demand = demand_from_upload(table.name, dem).data
        t["homes table"] = time.perf_counter() - start
        t0 = time.perf_counter()
        area = area_from_upload(PORTO.name, data, demand=demand)
        t["snap homes"] = time.perf_counter() - t0 - t["network"]
        t0 = time.perf_counter()
        ws = workspace_for_area(area)
        t["first plan"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        zones = headline(ws.plan).gap_zones
        t["gap zones"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if run == "first time":
            write_streets_file(area, work / "static")
            write_homes_file(area, work / "static")
        t["map files"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        base_map(area, bands=cfg_bands(), streets_url="/s", homes_url="/h")
        plan_layers(ws.plan)
        t["map layers"] = time.perf_counter() - t0
        total = time.perf_counter() - start
        parts = "  ".join(f"{k} {v:.1f}" for k, v in t.items())
        print(f"  {run:<11} {total:5.1f} s  ({parts}; {zones:,} gap zones)")
    study_area_module.network_from_file = real_network


def cfg_bands() -> tuple[float, ...]:
    """The default walk-time bands of the map."""
    return AnalysisConfig().bands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--graphs",
        nargs="+",
        default=["helsinki", "porto", "porto-full"],
        choices=["helsinki", "porto", "porto-full", "grid"],
    )
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="3 edits of each kind")
    parser.add_argument(
        "--area",
        action="store_true",
        help="also time the Porto study area built as the app builds an upload (--homes homes)",
    )
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else args.repeat
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", FutureWarning)
    rng = np.random.default_rng(args.seed)
    cfg = AnalysisConfig()
    print("One edit in the app vs a full recompute (wall clock, this machine)")
    if args.area:
        bench_area(args.homes, rng)
    for name in args.graphs:
        if name == "helsinki":
            t, area = timed(demo_study_area)
            assert isinstance(area, StudyArea)
            print(f"\n[Helsinki demo area built in {t:.1f} s]")
            bench_edits("Helsinki demo (3 community centres)", area, cfg, repeat, rng)
            more = study_area(
                area.network,
                area.demand,
                name="Helsinki, 100 stations",
                stations=gpd.GeoDataFrame(
                    {"id": [f"S{i}" for i in range(100)]},
                    geometry=scattered(area.network, 100, rng),
                ),
            )
            bench_edits("Helsinki, 100 random stations", more, cfg, repeat, rng)
            continue
        if name.startswith("porto") and not PORTO.exists():
            print(f"\n{name}: skipped, {PORTO} not found")
            continue
        t0 = time.perf_counter()
        if name == "grid":
            network = grid_network(320, rng)
            label = "Synthetic grid 320 x 320"
        else:
            network = porto_network(simplify=name == "porto")
            label = "Porto, simplified" if name == "porto" else "Porto, unsimplified"
        print(f"\n[{label}: network built in {time.perf_counter() - t0:.1f} s]")
        area = random_area(label, network, args.stations, args.homes, rng)
        bench_edits(label, area, cfg, repeat, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
