"""The inputs of a run: the network, stations and demand loaded and checked together.

What ``planner analyze`` and ``planner suggest`` read, the way they read it: tables
first (a bad table stops the run before a long download), then the network, then the
homes, each point checked against the network's extent.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import ConvexHull, QhullError

from planner.errors import InputDataError, InputWarning, UnsupportedFormatError
from planner.limits import DEFAULT_LIMITS, InputLimits, check_count, describe_rows
from planner.sources.areas import Area, clip_graph, points_outside, study_area_from_file
from planner.sources.coords import CoordSystem, parse_coord_system
from planner.sources.demand import demand_from_file
from planner.sources.download import (
    NetworkQuery,
    buildings_from_query,
    cached_network_path,
    graph_from_query,
)
from planner.sources.osm import OSM_DATA, homes_from_osm
from planner.sources.population import PopulationRule, homes_from_buildings
from planner.sources.road_files import RoadOptions, is_road_layer
from planner.sources.sites import stations_from_file
from planner.sources.tables import Loaded, TableSpec
from planner.walk.band_cache import band_cache_folder
from planner.walk.network import WalkNetwork, build_walk_network
from planner.walk.network_cache import network_from_file

logger = logging.getLogger(__name__)


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
        Cache folder of downloaded and built networks
        (:func:`planner.sources.download.default_cache_dir` when None).
    network_cache
        Reuse a network built before from the same file and options (and store the one
        built now); see :mod:`planner.walk.network_cache`. When on, the whole-city band
        polygons are kept in the same folder too (:meth:`band_cache_dir`).
    refresh_download
        Download a queried network again even when it is cached.
    max_snap_m
        Points farther than this from the network's extent are reported.
    limits
        Input limits (file sizes, rows, columns, stations, homes); see
        :class:`~planner.limits.InputLimits`.
    network_layer, node_tolerance_m, walkable, road_mapping, network_crs,
    network_coord_system, add_osm_paths, osm_join_m
        For a road line layer as the network: its layer, the distance within which line
        ends are joined, the filter of walkable lines, a mapping file, the layer's CRS
        (DXF states none), GCJ-02/BD-09 lon/lat, an OSM extract whose footpaths are merged
        in and how near their ends join (:class:`~planner.sources.road_files.RoadOptions`,
        made by :meth:`road_options`).
    """

    study_area: str | Path | Area | None = None
    demand_onto: DemandOnto = "auto"
    population_column: str = "population"
    rule: PopulationRule | None = None
    cache_dir: str | Path | None = None
    refresh_download: bool = False
    network_cache: bool = True
    max_snap_m: float = 300.0
    limits: InputLimits = DEFAULT_LIMITS
    network_layer: str | None = None
    node_tolerance_m: float = 0.5
    walkable: str | None = None
    road_mapping: str | Path | None = None
    network_crs: str | None = None
    network_coord_system: CoordSystem = "wgs84"
    add_osm_paths: str | Path | None = None
    osm_join_m: float = 5.0

    def band_cache_dir(self) -> Path | None:
        """Where the band polygons are kept, or None when the network cache is off.

        See :func:`planner.walk.band_cache.band_cache_folder`.
        """
        return band_cache_folder(self.cache_dir, network_cache=self.network_cache)

    def road_options(self) -> RoadOptions:
        """How a road line layer given as the network is read and noded."""
        return RoadOptions(
            layer=self.network_layer,
            node_tolerance_m=self.node_tolerance_m,
            walkable=self.walkable,
            mapping=self.road_mapping,
            crs=self.network_crs,
            coord_system=self.network_coord_system,
            osm_paths=self.add_osm_paths,
            osm_join_m=self.osm_join_m,
        )


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
    osm_data
        Which of the data came from OpenStreetMap and must credit it: ``"streets"`` (an
        OSM extract, a download, or a GraphML network, taken to be an osmnx graph),
        ``"buildings"`` (homes taken from the extract's buildings, also as targets of
        demand areas); not a road layer of one's own nor a demand file.
    """

    network: WalkNetwork
    stations: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    rejected: dict[str, pd.DataFrame]
    names: dict[str, str]
    osm_data: tuple[str, ...] = OSM_DATA


def load_network(
    network_path: str | Path, options: InputOptions, *, study_area: Area | None = None
) -> WalkNetwork:
    """The walking network of a local file read with ``options``: every command's one way in.

    ``planner analyze``, ``suggest``, ``report`` (its street layer) and ``region`` read a
    network file through here, so a road layer's options (layer, tolerance, mapping, CRS,
    OSM paths) apply alike everywhere.

    Parameters
    ----------
    network_path
        An OSM extract, GraphML file or road line layer.
    options
        Cache, limits and road-layer options.
    study_area
        Keep only the streets inside this polygon (WGS84).
    """
    return network_from_file(
        network_path,
        study_area=study_area,
        limits=options.limits,
        cache_dir=options.cache_dir,
        use_cache=options.network_cache,
        road=options.road_options() if is_road_layer(network_path) else None,
    )


def saved_road_options(facts: Mapping[str, object]) -> InputOptions:
    """Input options that read a road layer again as a saved run's ``summary.json`` says.

    ``facts`` is ``network.road_layer.options`` of the summary
    (:attr:`planner.sources.road_layers.RoadLayerReport.options`); values of the wrong
    type are left at their defaults.
    """

    def given(key: str) -> str | None:
        value = facts.get(key)
        return value if isinstance(value, str) else None

    def number(key: str, default: float) -> float:
        value = facts.get(key)
        return float(value) if isinstance(value, int | float) else default

    system = given("coord_system")
    return InputOptions(
        network_layer=given("layer"),
        node_tolerance_m=number("node_tolerance_m", 0.5),
        walkable=given("walkable"),
        road_mapping=given("mapping"),
        network_crs=given("crs"),
        network_coord_system=parse_coord_system(system) if system else "wgs84",
        add_osm_paths=given("osm_paths"),
        osm_join_m=number("osm_join_m", 5.0),
    )


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
        Station table of any format, or a :class:`~planner.sources.tables.TableSpec`.
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
    osm_data = ["streets"]
    if isinstance(network_path, NetworkQuery):
        query = network_path
        graph_file = cached_network_path(query, cache_dir=opts.cache_dir)
        net_name = f"OpenStreetMap via osmnx: {query.describe()}"
        if area is None and graph_file.exists() and not opts.refresh_download:
            # osmnx's stored GraphML, built like any network file: the built network is
            # cached too, so the second run of an area reads arrays, not GraphML.
            network = network_from_file(
                graph_file, limits=lim, cache_dir=opts.cache_dir, use_cache=opts.network_cache
            )
        else:
            graph = graph_from_query(query, cache_dir=opts.cache_dir, refresh=opts.refresh_download)
            if area is not None:
                graph = clip_graph(graph, area, source=graph.graph["source"])
            network = build_walk_network(graph)

        def homes_source() -> gpd.GeoDataFrame:
            buildings = buildings_from_query(
                query, cache_dir=opts.cache_dir, refresh=opts.refresh_download
            )
            return homes_from_buildings(buildings, rule=opts.rule)

    else:
        net_path = Path(network_path)
        network = load_network(net_path, opts, study_area=area)
        net_name = str(net_path)
        if is_road_layer(net_path) and opts.add_osm_paths is None:
            osm_data = []  # a road layer of one's own (with OSM paths added, credit OSM)
        if opts.network_layer:
            net_name += f" (layer {opts.network_layer})"
        if not net_path.name.lower().endswith(".graphml") and not is_road_layer(net_path):

            def homes_source() -> gpd.GeoDataFrame:
                return homes_from_osm(net_path, rule=opts.rule)

    extent = _extent(network, opts.max_snap_m)
    _report_outside(loaded_stations, extent, "stations")
    rejected = {"stations": loaded_stations.rejected}
    names = {"network": net_name, "stations": loaded_stations.source}
    if demand_path is not None:
        onto, weight, onto_name = _demand_targets(opts, homes_source, network, demand_path)
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
            if onto_name == "homes":
                osm_data.append("buildings")
    elif homes_source is None:
        kind = "road layer" if is_road_layer(str(network_path)) else "GraphML network"
        msg = (
            f"{net_name}: a {kind} "
            "carries no buildings to take homes from; give "
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
        osm_data.append("buildings")
    if area is not None:
        names["study_area"] = str(opts.study_area) if not _is_area(opts.study_area) else "given"
    return Inputs(
        network=network,
        stations=loaded_stations.data,
        demand=demand,
        rejected=rejected,
        names=names,
        osm_data=tuple(osm_data),
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
    network: WalkNetwork,
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
                f"{demand}: --demand-onto homes needs buildings, which a GraphML network or "
                "road layer does not have; use --demand-onto nodes or cells."
            )
            raise UnsupportedFormatError(msg)
        return homes, "floor_m2", "homes"
    return lambda: _network_nodes(network), None, "street nodes"


def _network_nodes(network: WalkNetwork) -> gpd.GeoDataFrame:
    """The network's nodes as WGS84 points with an ``id`` column (street-node demand)."""
    xy = network.node_xy
    pts = gpd.GeoDataFrame(
        {"id": network.node_ids.astype(str)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=network.crs,
    )
    return pts.to_crs(4326)


def _extent(network: WalkNetwork, margin_m: float) -> Area:
    """The network's convex hull widened by ``margin_m``, in WGS84."""
    hull = _convex_hull(network.node_xy).buffer(margin_m)
    out: Area = gpd.GeoSeries([hull], crs=network.crs).to_crs(4326).iloc[0]
    return out


def _convex_hull(xy: npt.NDArray[np.float64]) -> shapely.Geometry:
    """The convex hull of points, as a polygon (or a line or point when they are in one).

    Qhull on the array: a tenth of GEOS' time through a MultiPoint of a city's nodes; GEOS'
    for fewer than three points or points in a line.
    """
    try:
        corners = ConvexHull(xy).vertices
    except (QhullError, ValueError):
        return shapely.convex_hull(shapely.multipoints(xy))
    return shapely.Polygon(xy[corners])


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


def describe_tags(tags: Mapping[str, Sequence[str]]) -> str:
    """OSM tags as ``key=v1,v2; key2=v3`` for summaries and messages."""
    return "; ".join(f"{k}={','.join(v)}" for k, v in tags.items())
