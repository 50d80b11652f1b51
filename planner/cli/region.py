"""``planner region``: run the region, one line per area as it ends, and its summary.

Imported by :mod:`planner.cli.commands` when the command runs (it loads the pipeline and
Dask). Exit code 1 when an area failed: the other areas are finished and written, and a
re-run with the same ``--out`` retries only the failed ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from planner.cli.inputs import input_specs
from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.pipeline.region import RegionRun, run_region
from planner.pipeline.region_task import AreaOutcome
from planner.texts import text
from planner.walk.categories import CircleSettings


def run_region_command(
    args: argparse.Namespace,
    config: AnalysisConfig,
    started: float,
    *,
    circles: CircleSettings | None = None,
) -> int:
    """Run ``planner region`` for parsed ``args`` (``circles`` from its circle options)."""
    network, stations, demand, options = input_specs(args)
    if not isinstance(network, Path):
        msg = (
            "planner region reads the region's streets from a local file: give --network "
            "FILE (an .osm.pbf extract of the region), not a download."
        )
        raise InputDataError(msg)
    if args.study_area:
        msg = "planner region takes its study areas from --areas; leave out --study-area."
        raise InputDataError(msg)
    if args.workers is not None and args.scheduler:
        msg = "--workers sizes a local cluster; with --scheduler the cluster's workers are used."
        raise InputDataError(msg)
    quiet = bool(args.quiet)

    def show_client(dashboard: str | None) -> None:
        if not quiet:
            count = (
                f"{args.workers} worker{'s' if args.workers != 1 else ''}"
                if args.workers
                else "one worker per core"
            )
            where = args.scheduler or f"local cluster, {count}"
            print(f"planner: Dask client up ({where})")
            if dashboard:
                print(f"planner: Dask dashboard: {dashboard}")
            sys.stdout.flush()

    def show_area(outcome: AreaOutcome, done: int, total: int) -> None:
        if not quiet:
            print(f"planner: [{done}/{total}] {area_line(outcome)}")
            sys.stdout.flush()

    if not quiet:
        print("planner: reading the network, stations and homes once for all areas")
        sys.stdout.flush()
    run = run_region(
        network,
        args.areas,
        stations,
        args.out,
        demand_path=demand,
        area_name_column=args.area_name,
        config=config,
        options=options,
        workers=args.workers,
        scheduler=args.scheduler,
        language=args.lang,
        raw_text=args.raw_text,
        overwrite=args.overwrite,
        circles=circles,
        progress=show_area,
        on_client=show_client,
    )
    print_region(run, time.perf_counter() - started)
    return 1 if run.failed else 0


def area_line(outcome: AreaOutcome) -> str:
    """One line for an area that ended: name, status and share, or why it failed."""
    name = ascii(outcome.name)[1:-1] if not outcome.name.isprintable() else outcome.name
    if outcome.status == "failed":
        return f"{name}: FAILED: {outcome.reason}"
    share = outcome.figures.get("share_covered")
    what = (
        "done earlier, skipped"
        if outcome.status == "skipped"
        else f"done in {outcome.seconds:.1f} s"
    )
    return f"{name}: {share:.1%} covered ({what})" if share is not None else f"{name}: {what}"


def print_region(run: RegionRun, seconds: float) -> None:
    """Print the region's totals, its failed areas and its files."""
    s = run.summary
    lines = [
        f"Region coverage within {s['minutes']:g} minutes' walk at {s['speed_kmh']:g} km/h:",
        f"  people within the circle : {s['population_covered']:,.0f} of "
        f"{s['population_total']:,.0f} ({s['share_covered']:.1%})",
        f"  areas                    : {s['areas_total']} ({s['areas_done']} analysed, "
        f"{s['areas_skipped']} complete from an earlier run, {len(s['failed'])} failed)",
        f"  gap zones                : {s['gap_zones']} "
        f"({s['population_in_gap_zones']:,.0f} people)",
    ]
    if "share_complete" in s:  # stations with categories
        people = f"{s['population_complete']:,.0f}"
        lines.append(text("cli_complete", "en", people=people, share=f"{s['share_complete']:.1%}"))
    if s.get("homes_outside_areas"):
        lines.append(f"  homes in no area         : {s['homes_outside_areas']:,} (not counted)")
    for name, rows in s.get("rejected_rows", {}).items():
        label = f"rejected {name} rows"
        lines.append(f"  {label:<24} : {rows} (see rejected_{name}.csv)")
    for failed in s["failed"]:
        lines.append(f"  FAILED {failed['name']}: {failed['reason']}")
    if run.failed:
        lines.append("  run the same command again to retry the failed areas only")
    lines.append(
        f"Written to {run.out_dir.resolve()} (summary.json, areas.csv, areas.gpkg, "
        f"report.html, areas/) in {seconds:.1f} s"
    )
    print("\n".join(lines))
