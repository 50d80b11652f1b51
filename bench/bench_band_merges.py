"""The band polygons' merges, in order and side by side, in-process: CPU and wall seconds.

Run from the repository (one command)::

    python bench/bench_band_merges.py                  # (a) Porto metro, 3 repeats
    python bench/bench_band_merges.py --repeats 5 --case prefecture
    python bench/bench_band_merges.py --pbf X.osm.pbf --stations S.csv --homes H.csv

Not a timed test. Reads the inputs (those of ``bench_scale.py``, same seed), snaps the
stations and runs the search as ``analyze_coverage`` does, then unions the three rings of
the walk-time bands (what each band adds beyond the previous one, as
``isochrone_polygons`` with ``AREA_POLYGON_OPTIONS`` cuts and buffers them) and times,
each on one thread (CPU seconds): the two merges in order (``b10 = b5 | r10``, ``b15 = b10 |
r15``) and the side-by-side variant (``R = r10 | r15``, then ``b10 = b5 | r10`` and
``b15 = b5 | R``, the two at once: their wall time). Then, per repeat, the whole of
``isochrone_polygons`` with ``AREA_POLYGON_OPTIONS`` (wall and CPU). Prints the areas, the
symmetric difference between the two variants' last band, whether they are equal vertex
by vertex (1e-6 m), and how far any corner of a band lies outside the next band. Run it
on an idle machine: with other work on the two cores, wall times say little.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu(work: object, *args: object) -> tuple[shapely.Geometry, float]:
    """``work(*args)`` and its CPU seconds (this thread only)."""
    c0 = time.thread_time()
    out = work(*args)  # type: ignore[operator]
    return out, time.thread_time() - c0


def outside_m(inner: shapely.Geometry, outer: shapely.Geometry) -> float:
    """How far the farthest corner of ``inner`` lies outside ``outer`` (metres)."""
    corners = shapely.points(shapely.get_coordinates(inner))
    return float(shapely.distance(outer, corners).max())


def main(argv: list[str] | None = None) -> int:
    from bench_stages import input_arguments, parsed_case

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    input_arguments(parser, case="metro")
    parser.add_argument("--repeats", type=int, default=3)
    case = parsed_case(parser, argv)
    if case is None:
        return 0
    args, (pbf, stations_csv, homes_csv) = case
    from planner.config import AnalysisConfig
    from planner.pipeline.inputs import InputOptions, load_inputs
    from planner.walk import isochrones as iso
    from planner.walk.access import nearest_station_distances, snap_points
    from planner.walk.coverage import AREA_POLYGON_OPTIONS
    from planner.walk.line_speeds import line_speed_network

    data = load_inputs(pbf, stations_csv, demand_path=homes_csv, options=InputOptions())
    cfg = AnalysisConfig()
    network = line_speed_network(data.network, speed_kmh=cfg.speed_kmh)
    snapped = snap_points(network, data.stations.geometry, max_snap_m=cfg.max_snap_m)
    dist = nearest_station_distances(network, snapped).dist_m
    limits = tuple(b * cfg.metres_per_minute for b in cfg.bands)
    if len(limits) != 3:
        print(f"skipped: {len(limits)} bands, this bench compares three")
        return 0
    spans = [iso._spans(network, dist, snapped, limit_m=limit) for limit in limits]
    rings = []
    for k, new in enumerate(spans):
        lines = iso._pieces(network, *(new if k == 0 else iso._new_spans(new, spans[k - 1])))
        lines = shapely.simplify(lines, AREA_POLYGON_OPTIONS["simplify_m"])
        buffers = shapely.buffer(
            lines, cfg.isochrone_buffer_m, quad_segs=AREA_POLYGON_OPTIONS["quad_segs"]
        )
        ring, secs = cpu(shapely.disjoint_subset_union_all, buffers)
        print(f"ring {k}: {len(lines):,} pieces, union {secs:.2f} s CPU", flush=True)
        rings.append(ring)
    b5, r10, r15 = rings
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for _ in range(args.repeats):
        b10, t10 = cpu(shapely.union, b5, r10)
        b15, t15 = cpu(shapely.union, b10, r15)
        tail, t_tail = cpu(shapely.union, r10, r15)
        side15, t_side = cpu(shapely.union, b5, tail)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            both = [pool.submit(shapely.union, b5, r10), pool.submit(shapely.union, b5, tail)]
            side10, side15 = (f.result() for f in both)
        wall = time.perf_counter() - t0
        print(
            f"in order: b5|r10 {t10:.2f} + b10|r15 {t15:.2f} = {t10 + t15:.2f} s CPU; "
            f"side by side: r10|r15 {t_tail:.2f}, b5|R {t_side:.2f}, "
            f"b5|r10 and b5|R at once {wall:.2f} s wall",
            flush=True,
        )
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        bands = iso.isochrone_polygons(
            network,
            dist,
            snapped,
            limits_m=limits,
            buffer_m=cfg.isochrone_buffer_m,
            **AREA_POLYGON_OPTIONS,
        )
        wall, secs = time.perf_counter() - t0, time.process_time() - c0
        print(f"isochrone_polygons: {wall:.2f} s wall, {secs:.2f} s CPU", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print("areas, km²:", " / ".join(f"{b.area / 1e6:.4f}" for b in bands))
    diff = shapely.symmetric_difference(b15, side15).area
    same = shapely.equals_exact(shapely.normalize(b15), shapely.normalize(side15), 1e-6)
    print(f"last band, in order against side by side: {diff:.3g} m² apart, equal to 1e-6 m: {same}")
    print(f"side by side: a corner of the 10-minute band {outside_m(side10, side15):.2g} m outside")
    print(f"in order: a corner of the 10-minute band {outside_m(b10, b15):.2g} m outside")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
