"""A whole-city coverage analysis at the seed city's scale, stage by stage.

Run from anywhere::

    python bench/bench_city.py                 # Porto, 2,751 stations, 100,000 homes
    python bench/bench_city.py --stations 500 --homes 20000

The seed city of the project built 2,751 stations. This runs ``analyze_coverage`` with that
many random stations and 100,000 random homes (both scattered up to ~30 m off random
streets, population 1-200 each) on the Porto walk network from ``../shared/data/osm/``
(skipped when absent), and times its stages: snapping, the one multi-source search, the
per-station searches (people served, served only here), the one-pass coverage bands and
the gap zones.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from planner.config import AnalysisConfig
from planner.sources.streets import graph_from_file
from planner.walk.access import nearest_station_distances, point_distances, snap_points
from planner.walk.coverage import analyze_coverage
from planner.walk.isochrones import isochrone_polygons
from planner.walk.network import WalkNetwork, build_walk_network
from planner.walk.reach import station_reach

PORTO = Path(__file__).resolve().parent.parent.parent / "shared/data/osm/porto-metro-roads.osm.pbf"


def scattered_points(network: WalkNetwork, n: int, rng: np.random.Generator) -> gpd.GeoSeries:
    """Random points near random snappable streets, in WGS84."""
    e = rng.choice(network.snap_edges, n)
    on_street = shapely.line_interpolate_point(
        network.edges.geometry.to_numpy()[e], rng.random(n), normalized=True
    )
    xy = shapely.get_coordinates(on_street) + rng.normal(0.0, 30.0, size=(n, 2))
    return gpd.GeoSeries(shapely.points(xy), crs=network.crs).to_crs(4326)


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    print(f"  {label:<46} {time.perf_counter() - t0:8.2f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=2751)
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not PORTO.exists():
        print(f"skipped: {PORTO} not found")
        return 0
    warnings.simplefilter("ignore")
    cfg = AnalysisConfig()
    limit = cfg.walk_limit_m
    print(f"Porto walk network, {args.stations:,} stations, {args.homes:,} homes")
    network = timed("read + build network", lambda: build_walk_network(graph_from_file(PORTO)))
    print(f"  network: {network.n_nodes:,} nodes, {len(network.edges):,} street segments")
    rng = np.random.default_rng(args.seed)
    stations = gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(args.stations)]},
        geometry=scattered_points(network, args.stations, rng),
    )
    homes = gpd.GeoDataFrame(
        {"population": rng.integers(1, 201, args.homes).astype(float)},
        geometry=scattered_points(network, args.homes, rng),
    )

    print("stages:")
    s_snap = timed("snap stations", lambda: snap_points(network, stations.geometry, max_snap_m=300))
    d_snap = timed("snap homes", lambda: snap_points(network, homes.geometry, max_snap_m=300))
    nodes = timed(
        "one multi-source search (unbounded)", lambda: nearest_station_distances(network, s_snap)
    )
    timed("homes' walk time", lambda: point_distances(network, nodes, s_snap, d_snap))
    timed(
        "per-station searches (served, only here)",
        lambda: sum(len(p) for p, _ in station_reach(network, s_snap, d_snap, limit_m=limit)),
    )
    timed(
        "coverage bands 5/10/15 min (one pass)",
        lambda: isochrone_polygons(
            network,
            nodes.dist_m,
            s_snap,
            limits_m=tuple(b * cfg.metres_per_minute for b in cfg.bands),
            buffer_m=cfg.isochrone_buffer_m,
        ),
    )
    print("whole analysis:")
    result = timed(
        "analyze_coverage", lambda: analyze_coverage(network, stations, homes, config=cfg)
    )
    s = result.summary()
    print(
        f"  share covered {s['share_covered']:.1%}, gap zones {s['gap_zones']:,}, "
        f"per-station isochrones: {len(result.isochrones)} rows "
        f"(built for at most {cfg.max_isochrone_stations} stations)"
    )
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
