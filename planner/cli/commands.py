"""Run a parsed ``planner`` command through :mod:`planner.pipeline` and print its summary.

Imported by :func:`planner.cli.main` only once the command line is parsed: this is where the
pipeline (osmnx, geopandas, folium, matplotlib) is loaded.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from planner.cli.inputs import input_specs, road_option_values
from planner.cli.printing import print_suggestion, print_summary
from planner.cli.progress import StageDisplay
from planner.config import AnalysisConfig
from planner.errors import InputDataError, PdfEngineError, PlannerError
from planner.limits import parse_limits
from planner.pipeline.analysis import make_report, run_analysis, run_demo
from planner.pipeline.inputs import InputOptions
from planner.pipeline.suggest import SuggestRun, run_suggest
from planner.report.output_folder import check_file_free, is_planner_output
from planner.report.pdf import pdf_from_html
from planner.sources.osm import parse_osm_tags
from planner.walk.categories import CircleSettings, parse_category_minutes
from planner.walk.profiles import walk_profiles
from planner.walk.scores import (
    DEFAULT_STEP_WEIGHTS,
    AccessSettings,
    parse_methods,
    parse_step_weights,
)


def run_command(args: argparse.Namespace) -> int:
    """Run the command of ``args``; returns the exit code (1 for bad input)."""
    started = time.perf_counter()
    display = StageDisplay(quiet=bool(getattr(args, "quiet", False)))
    try:
        if args.command == "report":
            return _report(args, started)
        config = AnalysisConfig(
            walk_minutes=args.minutes, speed_kmh=args.speed_kmh, max_snap_m=args.max_snap_m
        )
        if args.command == "region":
            from planner.cli.region import run_region_command

            return run_region_command(args, config, started, circles=_circle_options(args))
        if args.command == "suggest":
            suggested = _suggest(args, config, display)
            print_suggestion(suggested, time.perf_counter() - started)
            return 0
        # The demo refreshes its own earlier output, its PDF included.
        pdf_overwrite = args.overwrite or (args.command == "demo" and is_planner_output(args.out))
        if args.pdf:
            check_file_free(Path(args.out) / "report.pdf", overwrite=pdf_overwrite)
        if args.command == "demo":
            tags = parse_osm_tags(args.station_tags) if args.station_tags else None
            run = run_demo(
                args.out,
                config=config,
                station_tags=tags,
                language=args.lang,
                overwrite=args.overwrite,
                raw_text=args.raw_text,
                **_access_options(args),
                circles=_circle_options(args),
                progress=display,
            )
        else:
            network, stations, demand, options = input_specs(args)
            run = run_analysis(
                network,
                stations,
                args.out,
                demand_path=demand,
                districts_path=args.districts,
                district_name_column=args.district_name,
                config=config,
                language=args.lang,
                overwrite=args.overwrite,
                options=options,
                raw_text=args.raw_text,
                **_access_options(args),
                circles=_circle_options(args),
                progress=display,
            )
        print_summary(run, time.perf_counter() - started, language=args.lang)
        if args.pdf and run.paths.report is not None:
            _pdf(run.paths.report, run.paths.folder / "report.pdf", overwrite=pdf_overwrite)
    except PlannerError as err:
        display.close()
        print(f"planner: error: {err}", file=sys.stderr)
        return 1
    finally:
        display.close()
    return 0


def _access_options(args: argparse.Namespace) -> dict[str, Any]:
    """``access_methods`` and ``access_settings`` of ``run_demo``/``run_analysis``."""
    if not args.access:
        return {}
    settings = AccessSettings(
        step_weights=parse_step_weights(args.e2sfca_weights)
        if args.e2sfca_weights
        else DEFAULT_STEP_WEIGHTS,
        gaussian_sigma_min=args.gaussian_sigma_min,
        gravity_beta=args.gravity_beta,
        threshold=args.access_threshold,
    )
    return {"access_methods": parse_methods(args.access), "access_settings": settings}


def _circle_options(args: argparse.Namespace) -> CircleSettings:
    """Profiles, category limits, required categories and groups of ``demo``/``analyze``."""

    def names(text: str | None) -> tuple[str, ...]:
        return tuple(s.strip() for s in (text or "").split(",") if s.strip())

    return CircleSettings(
        profiles=walk_profiles(args.profile) if args.profile else (),
        category_minutes=parse_category_minutes(args.category_minutes or ""),
        require=names(args.require),
        groups=names(args.groups),
    )


def _report(args: argparse.Namespace, started: float) -> int:
    out = Path(args.out) if args.out else Path(args.results) / "report.html"
    pdf_path = out.with_suffix(".pdf")
    if args.pdf:
        check_file_free(pdf_path, overwrite=args.overwrite)
    path = make_report(
        args.results,
        out=out,
        language=args.lang,
        compare_dir=args.compare,
        siting_dir=args.siting,
        districts_path=args.districts,
        district_name_column=args.district_name,
        title=args.title,
        overwrite=args.overwrite,
    )
    seconds = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6
    print(f"Report written to {path.resolve()} ({size_mb:.1f} MB) in {seconds:.1f} s")
    if args.pdf:
        _pdf(path, pdf_path, overwrite=args.overwrite)
    return 0


def _pdf(html_path: Path, pdf_path: Path, *, overwrite: bool) -> None:
    """Print the report to PDF; without a PDF engine, say so and carry on (exit code 0)."""
    try:
        written = pdf_from_html(html_path, pdf_path, overwrite=overwrite)
    except PdfEngineError as err:
        print(f"planner: note: PDF not written: {err}", file=sys.stderr)
        return
    print(f"PDF written to {written}")


def _suggest(args: argparse.Namespace, config: AnalysisConfig, display: StageDisplay) -> SuggestRun:
    if args.k is not None and args.k < 1:
        msg = f"--k must be 1 or more, got {args.k}."
        raise InputDataError(msg)
    return run_suggest(
        args.network,
        args.stations,
        args.out,
        k=None if args.cover_all else args.k,
        demand_path=args.demand,
        candidates_path=args.candidates,
        candidate_tags=parse_osm_tags(args.candidate_tags) if args.candidate_tags else None,
        spacing_m=args.candidate_spacing_m,
        margin_m=args.candidate_margin_m,
        method=args.method,
        capacity=args.capacity,
        time_limit_s=args.time_limit_s,
        move_within_m=args.move_within_m,
        lp_bound=args.lp_bound,
        config=config,
        overwrite=args.overwrite,
        limits=parse_limits(args.limit),
        options=InputOptions(**road_option_values(args), cache_dir=args.cache_dir),
        objective=args.objective,
        access_method=args.access_method,
        new_capacity=args.new_capacity,
        worst_share=args.worst_share,
        progress=display,
    )
