"""A city-sized road layer: reading, noding and compiling it, against the OSM extract it came from.

Run from anywhere::

    python bench/bench_road_layer.py                  # Porto metro (about 300,000 nodes)
    python bench/bench_road_layer.py --extract copenhagen

The extract's walking network is built from the PBF, its streets are written as a
GeoPackage in a projected CRS (as a planning office would hold them), and the layer is read
back through :func:`planner.walk.network_cache.network_from_file`: the time to read and node
it, to compile it, and to load it from the built-network cache, next to the PBF's own build
time; the two networks' sizes are compared. With ``--osm-paths`` the layer is written
without footways, paths and steps and they are merged back from the extract
(``--add-osm-paths``). With ``--speeds`` a mapping file's ``[speed]`` table gives steps,
footways and paths their own walking speeds, and the time to turn them into walking costs
(:func:`planner.walk.line_speeds.line_speed_network`) is printed. Extracts come from
``../shared/data/osm/`` (skipped when absent).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

from planner.sources.road_files import RoadOptions
from planner.sources.road_paths import PATH_CLASSES
from planner.walk.line_speeds import line_speed_network
from planner.walk.network_cache import network_from_file

DATA = Path(__file__).resolve().parent.parent.parent / "shared/data/osm"
EXTRACTS = {"porto": "porto-metro-roads.osm.pbf", "copenhagen": "copenhagen.osm.pbf"}
CRS = {"porto": "EPSG:3763", "copenhagen": "EPSG:25832"}
SPEEDS = '[speed]\ncolumn = "highway"\nclasses = { steps = 2.0, footway = 5.0, path = 3.5 }\n'


def main() -> int:
    """Run the benchmark; 0 when done (also when the extract is absent)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", choices=sorted(EXTRACTS), default="porto")
    parser.add_argument("--osm-paths", action="store_true", help="also time the paths merge")
    parser.add_argument("--speeds", action="store_true", help="own speeds of steps and paths")
    args = parser.parse_args()
    path = DATA / EXTRACTS[args.extract]
    if not path.exists():
        print(f"skipped: {path} is not here")
        return 0
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    pbf = network_from_file(path, use_cache=False)
    t_pbf = time.perf_counter() - t
    print(f"PBF network           : {pbf.n_nodes:,} nodes, {len(pbf.edges):,} streets, "
          f"{pbf.street_m / 1000:,.1f} km; built in {t_pbf:.1f} s")  # fmt: skip
    lines = pbf.edges[["highway", "geometry"]].to_crs(CRS[args.extract])
    if args.osm_paths:
        lines = lines.loc[~lines["highway"].isin(PATH_CLASSES)]
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = Path(tmp) / "roads.gpkg"
        t = time.perf_counter()
        lines.to_file(gpkg, engine="pyogrio")
        print(f"layer written         : {len(lines):,} lines in {time.perf_counter() - t:.1f} s")
        mapping = None
        if args.speeds:
            mapping = Path(tmp) / "speeds.toml"
            mapping.write_text(SPEEDS, "utf-8")
        options = RoadOptions(osm_paths=path if args.osm_paths else None, mapping=mapping)
        t = time.perf_counter()
        road = network_from_file(gpkg, road=options, cache_dir=Path(tmp) / "cache")
        t_road = time.perf_counter() - t
        t = time.perf_counter()
        again = network_from_file(gpkg, road=options, cache_dir=Path(tmp) / "cache")
        t_cache = time.perf_counter() - t
    r = road.road_report
    assert r is not None
    assert again.from_cache
    print(f"road-layer network    : {road.n_nodes:,} nodes, {len(road.edges):,} streets, "
          f"{road.street_m / 1000:,.1f} km; read, noded and compiled in {t_road:.1f} s "
          f"({t_road / t_pbf:.2f}x the PBF's); from the cache in {t_cache:.2f} s")  # fmt: skip
    print(f"quality               : {r.ends_joined:,} ends joined, {r.dead_ends:,} dead ends, "
          f"{r.near_miss_ends:,} near misses, {r.parts:,} parts "
          f"({r.parts_street_m / 1000:,.1f} km outside the largest)")  # fmt: skip
    if args.osm_paths:
        print(f"OSM paths             : {r.osm_paths_added:,} added, {r.osm_ends_joined:,} ends "
              "joined")  # fmt: skip
    if args.speeds:
        t = time.perf_counter()
        walked = line_speed_network(road, speed_kmh=4.5)
        t_speed = time.perf_counter() - t
        print(f"own speeds            : {r.lines_own_speed:,} lines; costs at 4.5 km/h in "
              f"{t_speed:.3f} s; cost km {walked.edge_length_m.sum() / 1000:,.1f}")  # fmt: skip
    print(f"nodes vs PBF          : {road.n_nodes / pbf.n_nodes:.4f}; street length "
          f"{road.street_m / pbf.street_m:.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
