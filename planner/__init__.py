"""Service-circle planner: who can walk to a service station within 15 minutes.

The pipeline runs one way: :mod:`planner.sources` (data in) → :mod:`planner.network`
(walk graph) → :mod:`planner.access` (walk distances, isochrones) →
:mod:`planner.coverage` (who is served, gap zones) → :mod:`planner.siting` (where new
stations go) and :mod:`planner.scenarios` (comparisons) → :mod:`planner.maps`,
:mod:`planner.charts`, :mod:`planner.report` and :mod:`planner.export` (maps, charts, the
HTML report and files). The most used names are re-exported here::

    import planner

    path = planner.demo_extract_path()
    network = planner.build_walk_network(planner.graph_from_file(path))
    result = planner.analyze_coverage(
        network, planner.stations_from_osm(path), planner.homes_from_osm(path)
    )
"""

from __future__ import annotations

__version__ = "0.1.0"

from planner.config import AnalysisConfig
from planner.coverage import (
    CoverageResult,
    analyze_coverage,
    coverage_by_district,
    coverage_curve,
)
from planner.limits import InputLimits
from planner.maps import coverage_map
from planner.network import WalkNetwork, build_walk_network
from planner.report import coverage_report
from planner.scenarios import ScenarioComparison, compare_scenarios
from planner.siting import (
    SitingResult,
    maximal_covering,
    relocation,
    set_covering,
    siting_problem,
    suggest_sites,
)
from planner.sources import (
    PopulationRule,
    candidates_from_file,
    demand_from_csv,
    demand_from_file,
    demo_extract_path,
    districts_from_file,
    graph_from_file,
    homes_from_osm,
    stations_from_csv,
    stations_from_file,
    stations_from_osm,
    study_area_from_file,
)

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
