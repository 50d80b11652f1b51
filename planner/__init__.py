"""Service-circle planner: who can walk to a service station within 15 minutes.

The folders are the pipeline's stages, and imports run one way: :mod:`planner.sources`
(files in, validated) → :mod:`planner.walk` (the walk network, walk times, coverage, gap
zones) → :mod:`planner.siting` (where new stations go) and :mod:`planner.report` (maps,
charts, the HTML report, GeoPackage and CSV) → :mod:`planner.pipeline`, :mod:`planner.cli`
and :mod:`planner.app` (the app's model). The most used names are re-exported here::

    import planner

    path = planner.demo_extract_path()
    network = planner.network_from_file(path)  # built once, then from the cache
    result = planner.analyze_coverage(
        network, planner.stations_from_osm(path), planner.homes_from_osm(path)
    )

The names load lazily (:pep:`562`): ``import planner`` is quick, and a name's module (with
osmnx, geopandas, folium or matplotlib behind it) is imported on its first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from planner._version import __version__

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, __getattr__ below
    from planner.config import AnalysisConfig
    from planner.limits import InputLimits
    from planner.pipeline.region import RegionRun, run_region
    from planner.pipeline.sweep import sweep
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
    from planner.walk.categories import (
        CircleResult,
        CircleSettings,
        analyze_circles,
        analyze_profiles,
    )
    from planner.walk.coverage import CoverageResult, analyze_coverage
    from planner.walk.network import WalkNetwork, build_walk_network
    from planner.walk.network_cache import network_from_file
    from planner.walk.profiles import WalkProfile, profile_network, walk_profile
    from planner.walk.scores import AccessScores, AccessSettings, access_scores

#: Where each public name lives: imported from there on first use.
_EXPORTS = {
    "AccessScores": "planner.walk.scores",
    "AccessSettings": "planner.walk.scores",
    "AnalysisConfig": "planner.config",
    "CircleResult": "planner.walk.categories",
    "CircleSettings": "planner.walk.categories",
    "CoverageResult": "planner.walk.coverage",
    "InputLimits": "planner.limits",
    "PopulationRule": "planner.sources.population",
    "RegionRun": "planner.pipeline.region",
    "ScenarioComparison": "planner.report.scenarios",
    "SitingResult": "planner.siting.models",
    "WalkNetwork": "planner.walk.network",
    "WalkProfile": "planner.walk.profiles",
    "access_scores": "planner.walk.scores",
    "analyze_circles": "planner.walk.categories",
    "analyze_coverage": "planner.walk.coverage",
    "analyze_profiles": "planner.walk.categories",
    "build_walk_network": "planner.walk.network",
    "candidates_from_file": "planner.sources.sites",
    "compare_scenarios": "planner.report.scenarios",
    "coverage_by_district": "planner.walk.breakdowns",
    "coverage_curve": "planner.walk.breakdowns",
    "coverage_map": "planner.report.maps",
    "coverage_report": "planner.report.report",
    "demand_from_csv": "planner.sources.demand",
    "demand_from_file": "planner.sources.demand",
    "demo_extract_path": "planner.sources.osm",
    "districts_from_file": "planner.sources.areas",
    "graph_from_file": "planner.sources.streets",
    "homes_from_osm": "planner.sources.osm",
    "maximal_covering": "planner.siting.models",
    "network_from_file": "planner.walk.network_cache",
    "profile_network": "planner.walk.profiles",
    "relocation": "planner.siting.models",
    "run_region": "planner.pipeline.region",
    "set_covering": "planner.siting.models",
    "siting_problem": "planner.siting.models",
    "stations_from_csv": "planner.sources.sites",
    "stations_from_file": "planner.sources.sites",
    "stations_from_osm": "planner.sources.osm",
    "study_area_from_file": "planner.sources.areas",
    "suggest_sites": "planner.siting.models",
    "sweep": "planner.pipeline.sweep",
    "walk_profile": "planner.walk.profiles",
}

__all__ = [
    "AccessScores",
    "AccessSettings",
    "AnalysisConfig",
    "CircleResult",
    "CircleSettings",
    "CoverageResult",
    "InputLimits",
    "PopulationRule",
    "RegionRun",
    "ScenarioComparison",
    "SitingResult",
    "WalkNetwork",
    "WalkProfile",
    "__version__",
    "access_scores",
    "analyze_circles",
    "analyze_coverage",
    "analyze_profiles",
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
    "network_from_file",
    "profile_network",
    "relocation",
    "run_region",
    "set_covering",
    "siting_problem",
    "stations_from_csv",
    "stations_from_file",
    "stations_from_osm",
    "study_area_from_file",
    "suggest_sites",
    "sweep",
    "walk_profile",
]


def __getattr__(name: str) -> Any:
    """Import a public name, or a module of the package, on its first use (:pep:`562`)."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif not name.startswith("_"):
        try:  # planner.siting, planner.report, ...: as if imported with the package
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            msg = f"module {__name__!r} has no attribute {name!r}"
            raise AttributeError(msg) from None
    else:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value  # later uses find it without calling __getattr__
    return value


def __dir__() -> list[str]:
    """The public names, loaded or not, for ``dir(planner)`` and tab completion."""
    return sorted(set(globals()) | set(__all__))
