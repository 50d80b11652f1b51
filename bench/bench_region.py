"""``planner region`` on the Porto metro extract cut into study areas, with 1, 2 and 4 workers.

Run from the repository (one command)::

    python bench/bench_region.py                        # Porto metro, 4 x 4 areas, 1,2,4 workers
    python bench/bench_region.py --grid 3 --workers 2 --homes 50000

Not a timed test. The region is ``../shared/data/osm/porto-metro-roads.osm.pbf`` (64,358
walk nodes) with the seeded random stations and homes of ``bench/bench_scale.py`` (3,000
stations and 100,000 homes near random walk nodes, population 1-200), cut into a
``--grid`` x ``--grid`` grid of study areas over the homes. For each worker count it runs
:func:`planner.run_region` on a fresh ``LocalCluster`` (processes, one thread each) into a
fresh folder, after a warm-up that builds the network cache, and records the run's wall
time and its parts (``inputs``: the client loading and handing over the inputs; ``areas``:
the tasks; ``region``: the region's own files), each area task's time, and each worker's
peak resident memory (``resource.getrusage`` inside the worker). Results are printed and
written to ``bench/results/region.json`` (gitignored). Skipped with a note when the extract
is absent.

(``bench/tile_extract.py`` does not make one connected network of the Copenhagen extract:
its 2 x 2 tiling kept one copy as the largest part, so the buildings-based Copenhagen
region is not used here.)
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTO = ROOT.parent / "shared/data/osm/porto-metro-roads.osm.pbf"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, default=PORTO)
    parser.add_argument("--stations", type=int, default=3_000)
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--grid", type=int, default=4, help="areas per side (default 4)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = parser.parse_args(argv)
    if not args.extract.is_file():
        print(f"skipped: {args.extract} is absent (see ../shared/data/osm/PROVENANCE.md)")
        return 0
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import geopandas as gpd
    import pandas as pd
    import shapely
    from bench_scale import points_csv
    from distributed import Client, LocalCluster

    import planner
    from planner.config import AnalysisConfig

    logging.basicConfig(level=logging.WARNING)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-region-"))
    work.mkdir(parents=True, exist_ok=True)
    region = args.extract
    started = time.perf_counter()
    network = planner.network_from_file(region)  # builds the cache the workers read
    stations_csv, homes_csv = points_csv(region, args.stations, args.homes, work, args.seed)
    homes = pd.read_csv(homes_csv)
    prepare_s = time.perf_counter() - started
    west, south, east, north = (
        homes["lon"].min(),
        homes["lat"].min(),
        homes["lon"].max(),
        homes["lat"].max(),
    )
    dx, dy = (east - west) / args.grid, (north - south) / args.grid
    boxes = [
        shapely.box(west + i * dx, south + j * dy, west + (i + 1) * dx, south + (j + 1) * dy)
        for j in range(args.grid)
        for i in range(args.grid)
    ]
    names = [f"area {j + 1}-{i + 1}" for j in range(args.grid) for i in range(args.grid)]
    gpd.GeoDataFrame({"name": names}, geometry=boxes, crs=4326).to_file(
        work / "areas.gpkg", driver="GPKG"
    )
    facts = {
        "extract": args.extract.name,
        "areas": len(boxes),
        "walk_nodes": network.n_nodes,
        "street_km": round(network.street_m / 1000, 1),
        "homes": len(homes),
        "stations": args.stations,
        "minutes": args.minutes,
        "build_network_and_points_s": round(prepare_s, 1),
    }
    print(json.dumps(facts, indent=1))
    config = AnalysisConfig(walk_minutes=args.minutes)
    runs = []
    for n in [int(x) for x in args.workers.split(",")]:
        with (
            LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            t0 = time.perf_counter()
            run = planner.run_region(
                region,
                work / "areas.gpkg",
                stations_csv,
                work / f"out-{n}",
                demand_path=homes_csv,
                config=config,
                client=client,
                overwrite=True,
            )
            wall = time.perf_counter() - t0
            rss = client.run(_peak_rss_mb)
        task_s = [o.seconds for o in run.outcomes if o.status == "done"]
        runs.append(
            {
                "workers": n,
                "wall_s": round(wall, 1),
                **{f"{k}_s": round(v, 1) for k, v in run.seconds.items()},
                "areas_done": len(task_s),
                "areas_failed": len(run.failed),
                "task_s_sum": round(sum(task_s), 1),
                "task_s_median": round(statistics.median(task_s), 2) if task_s else None,
                "task_s_max": round(max(task_s), 2) if task_s else None,
                "worker_peak_rss_mb": sorted(round(v) for v in rss.values()),
                "share_covered": round(run.summary["share_covered"], 4),
            }
        )
        print(json.dumps(runs[-1]))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "region.json").write_text(json.dumps({"facts": facts, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
