"""From files to proposed sites: the one call behind ``planner suggest``, and its files.

Layout of an output folder::

    siting.json    headline figures: coverage before and after, sites, bound and gap
    siting.gpkg    layers proposed_sites, demand, unreachable, relocation (EPSG:4326),
                   and access_sites with ``--objective access``

Existing files are never replaced unless ``overwrite=True``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from planner.config import AnalysisConfig
from planner.errors import InputDataError, OutputExistsError, UnsupportedFormatError
from planner.limits import DEFAULT_LIMITS, InputLimits
from planner.pipeline.inputs import InputOptions, load_inputs
from planner.pipeline.progress import Progress, Stages
from planner.report.output_folder import GENERATOR
from planner.siting.access_siting import AccessSitingResult, access_siting
from planner.siting.candidates import DEFAULT_SPACING_M, candidates_from_gaps, candidates_from_osm
from planner.siting.models import (
    Method,
    RelocationResult,
    SitingProblem,
    SitingResult,
    maximal_covering,
    relocation,
    set_covering,
    siting_problem,
)
from planner.sources.osm import OSM_DATA, OSM_DATA_KINDS
from planner.sources.road_files import is_road_layer
from planner.sources.sites import candidates_from_file
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.line_speeds import line_speed_network
from planner.walk.network import WalkNetwork
from planner.walk.scores import AccessSettings

#: The stages of :func:`run_suggest`, as announced to ``progress``.
SUGGEST_STAGES = (
    "reading the street network, stations and demand",
    "analysing coverage",
    "finding candidate sites and what each can reach",
    "choosing sites",
    "relocation and writing siting.json, siting.gpkg",
)

#: Layers of ``siting.gpkg``.
SITING_LAYERS = ("proposed_sites", "demand", "unreachable", "relocation")
#: The layer added by ``--objective access``.
ACCESS_SITES_LAYER = "access_sites"

#: What ``planner suggest`` maximises: people within the limit, or the worst-served access.
Objective = Literal["coverage", "access"]


@dataclass(frozen=True, slots=True)
class SitingPaths:
    """Where :func:`write_siting_outputs` wrote each file."""

    folder: Path
    summary: Path
    geopackage: Path


@dataclass(frozen=True, eq=False)
class SuggestRun:
    """A finished ``planner suggest`` run."""

    network: WalkNetwork
    coverage: CoverageResult
    problem: SitingProblem
    result: SitingResult
    relocation: RelocationResult
    paths: SitingPaths
    rejected: dict[str, pd.DataFrame]
    access: AccessSitingResult | None = None


def siting_paths(out_dir: str | Path) -> SitingPaths:
    """The files :func:`write_siting_outputs` writes into ``out_dir``."""
    folder = Path(out_dir)
    return SitingPaths(
        folder=folder, summary=folder / "siting.json", geopackage=folder / "siting.gpkg"
    )


def write_siting_outputs(
    result: SitingResult,
    out_dir: str | Path,
    *,
    relocation: RelocationResult | None = None,
    inputs: Mapping[str, str] | None = None,
    overwrite: bool = False,
    access: AccessSitingResult | None = None,
    osm_data: Collection[str] = OSM_DATA,
) -> SitingPaths:
    """Write proposed sites and the coverage before and after them.

    Parameters
    ----------
    result
        The siting answer.
    out_dir
        Output folder; created when missing.
    relocation
        Relocation table to add as a layer and to the summary.
    inputs
        Names of the inputs for ``siting.json``.
    overwrite
        Replace existing files; without it an existing file stops the write before
        anything is written.
    access
        Sites of the access objective: the ``access_sites`` layer and the
        ``access_objective`` block of ``siting.json``.
    osm_data
        Which data came from OpenStreetMap, credited in ``siting.json``
        (:func:`planner.report.export.osm_attribution`).

    Returns
    -------
    SitingPaths
        The files written.
    """
    paths = siting_paths(out_dir)
    _check_free(paths, overwrite=overwrite)
    paths.folder.mkdir(parents=True, exist_ok=True)
    if paths.geopackage.exists():
        paths.geopackage.unlink()
    layers: dict[str, gpd.GeoDataFrame] = {
        "proposed_sites": result.sites,
        "demand": result.demand,
        "unreachable": result.unreachable,
    }
    if relocation is not None:
        layers["relocation"] = relocation.stations
    if access is not None:
        layers[ACCESS_SITES_LAYER] = access.sites
    from planner.report.export import for_geopackage, osm_attribution  # late: see analysis

    for name, layer in layers.items():
        for_geopackage(layer).to_file(paths.geopackage, layer=name, driver="GPKG", index=False)
    summary: dict[str, Any] = {"generator": GENERATOR, **result.summary()}
    if relocation is not None:
        summary["relocation"] = relocation_summary(relocation)
    if access is not None:
        summary["access_objective"] = access.summary()
    summary["inputs"] = dict(inputs or {})
    summary["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["osm_data"] = [kind for kind in OSM_DATA_KINDS if kind in osm_data]
    credit = osm_attribution(osm_data)
    if credit is not None:
        summary["attribution"] = credit
    paths.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return paths


def read_proposed_sites(folder: str | Path) -> gpd.GeoDataFrame:
    """The ``proposed_sites`` layer of a folder written by :func:`write_siting_outputs`.

    Raises
    ------
    InputDataError
        When the folder holds no ``siting.gpkg`` written by ``planner suggest``.
    """
    path = siting_paths(folder).geopackage
    if not path.is_file():
        msg = f"{path}: not found; give the output folder of 'planner suggest'."
        raise InputDataError(msg)
    try:
        sites: gpd.GeoDataFrame = gpd.read_file(path, layer="proposed_sites")
    except Exception as err:  # pyogrio raises its own errors for missing layers
        msg = f"{path}: no readable 'proposed_sites' layer ({err})."
        raise InputDataError(msg) from err
    return sites


def relocation_summary(reloc: RelocationResult, *, rows: int = 10) -> dict[str, Any]:
    """The relocation table's first rows (fewest unique people first) as JSON-ready data."""
    table = reloc.stations.head(rows)
    out = []
    for _, r in table.iterrows():
        gain = r["population_gain"]
        out.append(
            {
                "id": str(r["id"]),
                "population_served": float(r["population_served"]),
                "population_only_here": float(r["population_only_here"]),
                "best_site": None if pd.isna(r["best_site"]) else str(r["best_site"]),
                "move_m": None if pd.isna(r["move_m"]) else float(r["move_m"]),
                "population_gain": None if pd.isna(gain) else float(gain),
            }
        )
    return {"move_within_m": reloc.move_within_m, "stations": out}


def run_suggest(
    network_path: str | Path,
    stations_path: str | Path,
    out_dir: str | Path,
    *,
    k: int | None,
    demand_path: str | Path | None = None,
    candidates_path: str | Path | None = None,
    candidate_tags: Mapping[str, Sequence[str]] | None = None,
    spacing_m: float = DEFAULT_SPACING_M,
    margin_m: float = 0.0,
    method: Method = "greedy",
    capacity: float | None = None,
    time_limit_s: float = 60.0,
    move_within_m: float | None = None,
    lp_bound: bool = False,
    config: AnalysisConfig | None = None,
    overwrite: bool = False,
    limits: InputLimits | None = None,
    options: InputOptions | None = None,
    objective: Objective = "coverage",
    access_method: str = "2sfca",
    new_capacity: float = 1.0,
    worst_share: float = 0.1,
    access_settings: AccessSettings | None = None,
    progress: Progress | None = None,
) -> SuggestRun:
    """Propose new station sites for a local extract and a station table, and write them.

    Parameters
    ----------
    network_path, stations_path, demand_path
        As :func:`planner.pipeline.run_analysis`.
    out_dir
        Output folder for ``siting.json`` and ``siting.gpkg``.
    k
        New stations for maximal covering; None for set covering (the fewest stations
        that serve every home some site can reach).
    candidates_path
        CSV of candidate sites (``lon``, ``lat``, optional ``id``, ``name``).
    candidate_tags
        OSM tags of candidate features in the network extract (e.g. community centres).
    spacing_m, margin_m
        Thinning and widening of the default candidates (nodes in the gap zones), used
        when neither ``candidates_path`` nor ``candidate_tags`` is given.
    method, capacity, time_limit_s
        As :func:`planner.siting.models.maximal_covering`.
    move_within_m
        Relocation radius (walk metres); half the walk limit when None.
    lp_bound
        Greedy maximal covering: add the LP-relaxation bound (see ``maximal_covering``).
    config
        Analysis settings.
    overwrite
        Replace existing output files.
    limits
        Input limits (:class:`~planner.limits.InputLimits`); the defaults when None.
    options
        How the inputs are read (a road layer's options, the cache, ...); ``limits``
        replaces its limits.
    objective
        ``"coverage"`` (maximal or set covering only) or ``"access"``: also the ``k`` sites
        that raise the mean access of the worst ``worst_share`` of people most
        (:func:`planner.siting.access_siting.access_siting`), next to maximal covering.
    access_method, new_capacity, worst_share, access_settings
        The access objective: method, supply of each new station, share of people, and
        the method's weighting.
    progress
        Told of each stage (:data:`SUGGEST_STAGES`) as it starts; stages are logged too.

    Returns
    -------
    SuggestRun
        Everything computed, and the paths written.
    """
    if candidates_path is not None and candidate_tags is not None:
        msg = (
            "Give candidates as a file (--candidates) or as OSM tags (--candidate-tags), not both."
        )
        raise InputDataError(msg)
    if capacity is not None and not (math.isfinite(capacity) and capacity > 0):
        msg = f"capacity must be a positive number of people per station, got {capacity!r}."
        raise InputDataError(msg)
    if k is not None and k < 1:
        msg = f"k must be a whole number of new stations, 1 or more; got {k!r}."
        raise InputDataError(msg)
    if objective == "access" and k is None:
        msg = "The access objective places a given number of stations: give --k, not --cover-all."
        raise InputDataError(msg)
    paths = siting_paths(out_dir)
    _check_free(paths, overwrite=overwrite)
    cfg = config or AnalysisConfig()
    lim = limits or DEFAULT_LIMITS
    stages = Stages(SUGGEST_STAGES, progress)
    stages.start(SUGGEST_STAGES[0])
    opts = dataclasses.replace(options or InputOptions(), limits=lim)
    inputs = load_inputs(network_path, stations_path, demand_path=demand_path, options=opts)
    # A road layer's own line speeds, as costs at the run's speed (siting walks them too).
    network = line_speed_network(inputs.network, speed_kmh=cfg.speed_kmh)
    rejected = dict(inputs.rejected)
    osm_data = inputs.osm_data
    stages.start(SUGGEST_STAGES[1])
    coverage = analyze_coverage(
        network,
        inputs.stations,
        inputs.demand,
        config=dataclasses.replace(cfg, max_isochrone_stations=0),
        band_cache_dir=opts.band_cache_dir(),
    )
    names = dict(inputs.names)
    stages.start(SUGGEST_STAGES[2])
    if candidates_path is not None:
        loaded = candidates_from_file(candidates_path, limits=lim)
        candidates = loaded.data
        rejected["candidates"] = loaded.rejected
        names["candidates"] = str(candidates_path)
    elif candidate_tags is not None:
        if str(network_path).lower().endswith(".graphml") or is_road_layer(network_path):
            kind = "road layer" if is_road_layer(network_path) else "GraphML network"
            msg = (
                f"{network_path}: a {kind} has no OSM features to use as candidates; give "
                "them with --candidates (a table or GIS file of points)."
            )
            raise UnsupportedFormatError(msg)
        candidates = candidates_from_osm(network_path, tags=candidate_tags)
        tags = "; ".join(f"{key}={','.join(v)}" for key, v in candidate_tags.items())
        names["candidates"] = f"OSM {tags} in {network_path}"
        osm_data = (*osm_data, "stations")
    else:
        candidates = candidates_from_gaps(network, coverage, spacing_m=spacing_m, margin_m=margin_m)
        names["candidates"] = f"network nodes in the gap zones (one per {spacing_m:g} m cell" + (
            f", zones widened by {margin_m:g} m)" if margin_m else ")"
        )
    problem = siting_problem(
        network, inputs.stations, inputs.demand, candidates, config=coverage.config
    )
    stages.start(SUGGEST_STAGES[3])
    if k is None:
        result = set_covering(problem, method=method, capacity=capacity, time_limit_s=time_limit_s)
    else:
        result = maximal_covering(
            problem,
            k,
            method=method,
            capacity=capacity,
            time_limit_s=time_limit_s,
            lp_bound=lp_bound,
        )
    by_access = (
        access_siting(
            problem,
            k,
            capacity=new_capacity,
            method=access_method,
            worst_share=worst_share,
            settings=access_settings,
        )
        if objective == "access" and k is not None
        else None
    )
    stages.start(SUGGEST_STAGES[4])
    reloc = relocation(network, problem, move_within_m=move_within_m)
    written = write_siting_outputs(
        result,
        out_dir,
        relocation=reloc,
        inputs=names,
        overwrite=overwrite,
        access=by_access,
        osm_data=osm_data,
    )
    stages.done()
    return SuggestRun(
        network=network,
        coverage=coverage,
        problem=problem,
        result=result,
        relocation=reloc,
        paths=written,
        rejected=rejected,
        access=by_access,
    )


def _check_free(paths: SitingPaths, *, overwrite: bool) -> None:
    if overwrite:
        return
    for p in (paths.summary, paths.geopackage):
        if p.exists():
            msg = (
                f"{p} already exists; not overwriting it. Choose another output folder or "
                "pass --overwrite (or overwrite=True in Python) to replace the earlier results."
            )
            raise OutputExistsError(msg)
