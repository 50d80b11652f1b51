"""What is left of ``planner analyze``'s writing once the band polygons are built, in-process.

Run from the repository (one command)::

    python bench/bench_polygon_wait.py                 # (a) Porto metro, 3 runs
    python bench/bench_polygon_wait.py --runs 1 --case prefecture
    python bench/bench_polygon_wait.py --pbf X.osm.pbf --stations S.csv --homes H.csv

Not a timed test. Reads the inputs once (as ``bench_stages.py`` makes them: the same
seeded stations and homes as ``bench_scale.py``), then per run: ``analyze_coverage``, which
returns while the walk-time band polygons are built in the background, and
``write_outputs`` of the result into ``--work``. Prints, in seconds from the start of the
analysis: when ``analyze_coverage`` returned, when the polygons were done (the moment the
background thread finishes), when the folder was written; then the wall and CPU seconds
after the polygons were done (CPU of the whole process, and of the main thread alone,
read with ``pthread_getcpuclockid``), the CPU of the whole run and the load average at
the start and end. With the other engineers' work on the same cores, the CPU seconds
after the polygons are the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from bench_stages import input_arguments, parsed_case

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    input_arguments(parser, case="metro")
    parser.add_argument("--runs", type=int, default=3)
    case = parsed_case(parser, argv)
    if case is None:
        return 0
    args, (pbf, stations_csv, homes_csv) = case
    from planner.pipeline.inputs import InputOptions, load_inputs
    from planner.report.export import write_outputs
    from planner.walk.coverage import analyze_coverage

    data = load_inputs(pbf, stations_csv, demand_path=homes_csv, options=InputOptions())
    out = Path(args.work) / f"polygon-wait-{args.case}"
    main_clock = time.pthread_getcpuclockid(threading.main_thread().ident or 0)
    for run in range(1, args.runs + 1):
        shutil.rmtree(out, ignore_errors=True)
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        result = analyze_coverage(data.network, data.stations, data.demand)
        returned = time.perf_counter() - t0
        done: dict[str, float] = {}

        def finished(_: object, done: dict[str, float] = done) -> None:
            done["t"] = time.perf_counter()
            done["cpu"] = time.process_time()
            done["main"] = time.clock_gettime(main_clock)

        # The per-station isochrones follow the bands in the same thread: its last task.
        result.isochrone_layer.add_done_callback(finished)
        write_outputs(
            result,
            out,
            inputs=dict(data.names),
            rejected=data.rejected,
            streets=data.network.edges,
        )
        end, cpu = time.perf_counter(), time.process_time()
        main_cpu = time.clock_gettime(main_clock)
        print(
            f"run {run}: analysis returned at {returned:.2f} s, polygons done at "
            f"{done['t'] - t0:.2f} s, folder written at {end - t0:.2f} s; after the "
            f"polygons {end - done['t']:.2f} s wall, {cpu - done['cpu']:.2f} s CPU "
            f"({main_cpu - done['main']:.2f} s in the main thread); run CPU {cpu - c0:.2f} s; "
            f"load average {load0:.2f} -> {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
