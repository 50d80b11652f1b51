"""Service-circle planner: who can walk to a service station within 15 minutes.

The folders are the pipeline's stages, and imports run one way: :mod:`planner.sources`
(files in, validated) → :mod:`planner.walk` (the walk network, walk times, coverage, gap
zones) → :mod:`planner.siting` (where new stations go) and :mod:`planner.report` (maps,
charts, the HTML report, GeoPackage and CSV) → :mod:`planner.pipeline`, :mod:`planner.cli`
and :mod:`planner.app` (the app's model). The most used names are re-exported here::

    import planner

    path = planner.demo_extract_path()
    network = planner.build_walk_network(planner.graph_from_file(path))
    result = planner.analyze_coverage(
        network, planner.stations_from_osm(path), planner.homes_from_osm(path)
    )
"""

from __future__ import annotations

from planner._version import __version__
from planner.config import AnalysisConfig
from planner.limits import InputLimits
from planner.report.maps import coverage_map
from planner.report.report import coverage_report
from planner.report.scenarios import ScenarioComparison, compare_scenarios
from planner.siting.models import (
    SitingResult,
    maximal_covering,
    relocation,
    set_covering,
    siting_problem,
    suggest_sites,
)
from planner.sources.areas import districts_from_file, study_area_from_file
from planner.sources.demand import demand_from_csv, demand_from_file
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.sources.population import PopulationRule
from planner.sources.sites import candidates_from_file, stations_from_csv, stations_from_file
from planner.sources.streets import graph_from_file
from planner.walk.breakdowns import coverage_by_district, coverage_curve
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network

__all__ = [
    "AnalysisConfig",
    "CoverageResult",
    "InputLimits",
    "PopulationRule",
    "ScenarioComparison",
    "SitingResult",
    "WalkNetwork",
    "__version__",
    "analyze_coverage",
    "build_walk_network",
    "candidates_from_file",
    "compare_scenarios",
    "coverage_by_district",
    "coverage_curve",
    "coverage_map",
    "coverage_report",
    "demand_from_csv",
    "demand_from_file",
    "demo_extract_path",
    "districts_from_file",
    "graph_from_file",
    "homes_from_osm",
    "maximal_covering",
    "relocation",
    "set_covering",
    "siting_problem",
    "stations_from_csv",
    "stations_from_file",
    "stations_from_osm",
    "study_area_from_file",
    "suggest_sites",
]
