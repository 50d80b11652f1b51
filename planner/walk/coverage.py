"""Who is served: the coverage analysis and its result.

:func:`analyze_coverage` is the library's main entry point: stations and demand in, a frozen
:class:`CoverageResult` of GeoDataFrames out, with its headline figures
(:meth:`CoverageResult.summary`), per-station catchments, isochrones and gap zones. The
columns it adds to the inputs are defined in :mod:`planner.walk.layers`; tables read off a
result (per district, per limit and speed) are in :mod:`planner.walk.breakdowns`.
"""

from __future__ import annotations

import logging
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._version import __version__
from planner.config import AnalysisConfig
from planner.errors import InputDataError, OffNetworkWarning
from planner.sources.coords import WGS84
from planner.sources.road_layers import RoadLayerReport
from planner.sources.validate import validate_points
from planner.walk.access import (
    Snapped,
    nearest_station_distances,
    point_distances,
    single_station_distances,
    snap_points,
)
from planner.walk.band_cache import band_polygons
from planner.walk.gaps import cluster_unserved, gap_table
from planner.walk.isochrones import isochrone_polygons
from planner.walk.layers import STATUS_OFF_NETWORK, STATUS_UNREACHABLE, demand_layer, station_layer
from planner.walk.line_speeds import line_speed_network
from planner.walk.network import WalkNetwork
from planner.walk.reach import station_reach

logger = logging.getLogger(__name__)

#: How the whole-city band polygons are built (:func:`isochrone_polygons`): round ends of
#: 8 segments per circle and street pieces simplified by 1 m move the outline by about
#: 0.2 m on average against 12 segments and exact pieces, for half the union's work;
#: the bands' rings unioned side by side on two threads, and the last two bands merged
#: side by side.
AREA_POLYGON_OPTIONS: dict[str, Any] = {"quad_segs": 2, "simplify_m": 1.0, "workers": 2}


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """The outcome of :func:`analyze_coverage`. All layers are in WGS84.

    Attributes
    ----------
    config
        The settings used.
    stations
        Input stations (same index and columns) plus ``snap_m``, ``on_network``,
        ``homes_served``, ``population_served`` (within the limit of this station) and
        ``population_only_here`` (within the limit of no other station).
    demand
        Input demand points plus ``walk_min`` (to the nearest station, NaN when
        unreachable or off-network), ``nearest_station`` (its id), ``covered`` (bool),
        ``stations_within`` (how many stations are within the limit), ``status`` (one of
        ``covered``, ``beyond_limit``, ``unreachable``, ``off_network``) and ``snap_m``.
    isochrone_layer
        Per station and band: ``station_id``, ``band_min`` and the area reachable within
        ``band_min`` minutes; bands of a station are nested. Empty when there are more
        stations than ``config.max_isochrone_stations``. Or a future of it while
        :func:`analyze_coverage` still builds it in the background: read it as
        :attr:`isochrones`, which waits for it.
    area_layer
        Per band: ``band_min`` and the area within ``band_min`` minutes of any station; or
        a future of it while :func:`analyze_coverage` still builds it in the background.
        Read it as :attr:`coverage_area`, which waits for it.
    gaps
        Gap zones, largest population first: ``gap_id``, ``homes``, ``population``,
        ``walk_min_nearest`` and ``walk_min_median`` (walk time of the zone's homes to their
        nearest station), ``nearest_station``, ``homes_off_network`` and the zone outline.
    network_facts
        Size of the network analysed and what was left out as disconnected.
    """

    config: AnalysisConfig
    stations: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    isochrone_layer: gpd.GeoDataFrame | Future[gpd.GeoDataFrame] = field(repr=False)
    area_layer: gpd.GeoDataFrame | Future[gpd.GeoDataFrame] = field(repr=False)
    gaps: gpd.GeoDataFrame
    network_facts: dict[str, Any]

    @property
    def isochrones(self) -> gpd.GeoDataFrame:
        """Per station and band: ``station_id``, ``band_min`` and the area within reach.

        Waits for the polygons when they are still being built in the background.
        """
        layer = self.isochrone_layer
        return layer.result() if isinstance(layer, Future) else layer

    @property
    def coverage_area(self) -> gpd.GeoDataFrame:
        """Per band: ``band_min`` and the area within ``band_min`` minutes of any station.

        Waits for the polygons when they are still being built in the background (an
        error raised while building them is raised here).
        """
        layer = self.area_layer
        return layer.result() if isinstance(layer, Future) else layer

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the polygons built (a future cannot be pickled)."""
        return {
            **self.__dict__,
            "area_layer": self.coverage_area,
            "isochrone_layer": self.isochrones,
        }

    @property
    def population_total(self) -> float:
        """Population of all demand points, off-network ones included."""
        return float(self.demand["population"].sum())

    @property
    def population_covered(self) -> float:
        """Population within the walk limit of a station."""
        return float(self.demand.loc[self.demand["covered"], "population"].sum())

    @property
    def share_covered(self) -> float:
        """``population_covered / population_total`` (0 when there is no population)."""
        total = self.population_total
        return self.population_covered / total if total > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """Headline figures as a JSON-ready dict (the ``summary.json`` contract)."""
        d = self.demand
        pop = d["population"].to_numpy(dtype=float)
        walk = d["walk_min"].to_numpy(dtype=float)
        by_band = {
            f"{b:g}": float(pop[np.nan_to_num(walk, nan=np.inf) <= b + 1e-9].sum())
            for b in self.config.bands
        }
        homes_by_band = {
            f"{b:g}": int((np.nan_to_num(walk, nan=np.inf) <= b + 1e-9).sum())
            for b in self.config.bands
        }
        return {
            "version": __version__,
            "minutes": self.config.walk_minutes,
            "speed_kmh": self.config.speed_kmh,
            "walk_limit_m": round(self.config.walk_limit_m, 3),
            "max_snap_m": self.config.max_snap_m,
            "band_minutes": list(self.config.bands),
            "gap_link_m": self.config.gap_link_m,
            "isochrone_buffer_m": self.config.isochrone_buffer_m,
            "stations": len(self.stations),
            "stations_off_network": int((~self.stations["on_network"]).sum()),
            "demand_points": len(d),
            "demand_points_covered": int(d["covered"].sum()),
            "demand_points_off_network": int((d["status"] == STATUS_OFF_NETWORK).sum()),
            "demand_points_unreachable": int((d["status"] == STATUS_UNREACHABLE).sum()),
            "population_total": self.population_total,
            "population_covered": self.population_covered,
            "population_uncovered": self.population_total - self.population_covered,
            "share_covered": self.share_covered,
            "population_within_minutes": by_band,
            "demand_points_within_minutes": homes_by_band,
            "walk_min_median": _weighted_quantile(walk, pop, 0.5),
            "walk_min_p90": _weighted_quantile(walk, pop, 0.9),
            "gap_zones": len(self.gaps),
            "population_in_gap_zones": float(self.gaps["population"].sum()),
            "network": dict(self.network_facts),
        }


def analyze_coverage(
    network: WalkNetwork,
    stations: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    config: AnalysisConfig | None = None,
    band_cache_dir: str | Path | None = None,
) -> CoverageResult:
    r"""Compute who lives within the walk limit of a station, per station and in gap zones.

    Parameters
    ----------
    network
        The walking network (:func:`planner.walk.network.build_walk_network`).
    stations
        Station points with a CRS and an ``id`` column (the index is used when absent).
    demand
        Demand points (homes, communities) with a CRS and a ``population`` column.
    config
        Analysis settings; :class:`AnalysisConfig` defaults when None.
    band_cache_dir
        Cache folder in which the whole-city band polygons are kept and looked up
        (:func:`planner.walk.band_cache.band_polygons`: a rerun with the same stations,
        streets and settings reads them instead of building them). None builds them
        every time and stores nothing.

    Returns
    -------
    CoverageResult
        Layers and figures; the inputs are not modified.

    Notes
    -----
    A home :math:`i` with population :math:`p_i` is covered when its network walk
    distance to the nearest station, :math:`d_i`, satisfies :math:`d_i \le v \cdot T`
    (speed :math:`v`, limit :math:`T`). Both homes and stations are snapped to the nearest
    street within ``max_snap_m``; the straight snap segment is not counted as walking.
    Coverage share is :math:`\sum_i p_i [d_i \le vT] / \sum_i p_i`, with off-network
    homes counted as not covered.
    """
    cfg = config or AnalysisConfig()
    network = line_speed_network(network, speed_kmh=cfg.speed_kmh)
    stations = validate_points(stations, what="stations")
    demand = validate_points(demand, what="demand", require=("population",))
    check_population(demand)
    if "id" not in stations.columns:
        stations = stations.assign(id=stations.index.astype(str))
    station_ids = stations["id"].astype(str).to_numpy()
    limit = cfg.walk_limit_m

    s_snap = snap_points(network, stations.geometry, max_snap_m=cfg.max_snap_m)
    node_dist = nearest_station_distances(network, s_snap)
    # The band polygons are the costliest part (GEOS unions, which release the GIL): they
    # are built in the background while the homes are snapped, the figures, layers and
    # gap zones computed, and whatever the caller does next until it reads
    # ``coverage_area``.
    polygons = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner-polygons")
    area_layer = polygons.submit(
        _coverage_area, network, node_dist.dist_m, s_snap, cfg, band_cache_dir
    )
    # Per-station isochrones (a small city's stations) follow in the same thread.
    isochrone_layer = polygons.submit(_station_isochrones, network, s_snap, station_ids, cfg)
    polygons.shutdown(wait=False)  # the thread ends when both are built
    d_snap = snap_points(network, demand.geometry, max_snap_m=cfg.max_snap_m)
    _warn_off_network("stations", stations, s_snap, cfg)
    _warn_off_network("demand points", demand, d_snap, cfg)
    dist_m, nearest = point_distances(network, node_dist, s_snap, d_snap)
    covered = dist_m <= limit

    pop = demand["population"].to_numpy(dtype=float)
    within_count = np.zeros(len(demand), dtype=np.int64)
    served = np.zeros(len(stations))
    homes_served = np.zeros(len(stations), dtype=np.int64)
    for s, (pos, _) in enumerate(station_reach(network, s_snap, d_snap, limit_m=limit)):
        within_count[pos] += 1
        served[s] = pop[pos].sum()
        homes_served[s] = pos.size
    only = (within_count == 1) & covered
    # float even when no home is served by one station only (bincount then gives ints)
    only_here = np.bincount(nearest[only], weights=pop[only], minlength=len(stations)).astype(float)

    demand_out = demand_layer(
        demand, d_snap, dist_m, nearest, within_count, station_ids, config=cfg
    )
    stations_out = station_layer(stations, s_snap, homes_served, served, only_here)

    gaps = _gap_zones(network, demand_out, cfg)
    facts = network_facts(network)
    return CoverageResult(
        config=cfg,
        stations=stations_out,
        demand=demand_out,
        isochrone_layer=isochrone_layer,
        area_layer=area_layer,
        gaps=gaps,
        network_facts=facts,
    )


def check_population(demand: gpd.GeoDataFrame) -> None:
    """Raise :class:`InputDataError` unless every head count and their total are finite.

    Head counts that are missing or not finite, or so large that their sum overflows
    (``1e308``), would make every population figure ``inf`` or ``nan``; the message names
    the rows (at most 20).
    """
    pop = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(pop)
    with np.errstate(over="ignore", invalid="ignore"):
        total = pop[~bad].sum()
    if not bad.any() and np.isfinite(total):
        return
    if bad.any():
        rows = demand.index[bad]
        what = "head counts that are missing or not finite numbers"
    else:
        rows = demand.index[np.argsort(-np.abs(pop), kind="stable")][: min(20, len(pop))]
        what = f"head counts whose total overflows (largest {np.abs(pop).max():.3g})"
    shown = list(rows[:20])
    more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
    msg = (
        f"demand: population column has {what}, on rows {shown}{more}; the population "
        "figures would not be finite. Check the population column."
    )
    raise InputDataError(msg)


def network_facts(network: WalkNetwork) -> dict[str, Any]:
    """Size of the network analysed and what was left out (:attr:`CoverageResult.network_facts`).

    A network built from a road layer adds its quality report under ``road_layer``.
    """
    facts: dict[str, Any] = {
        "nodes": network.n_nodes,
        "street_segments": len(network.edges),
        "street_km": round(network.street_m / 1000.0, 3),
        "crs": network.crs.to_string(),
        "components": network.islands.components,
        "island_parts_left_out": network.islands.parts_dropped,
        "island_nodes_left_out": network.islands.nodes_dropped,
        "island_street_km_left_out": round(network.islands.street_m_dropped / 1000.0, 3),
    }
    if network.road_report is not None:
        facts["road_layer"] = road_report_facts(network.road_report)
    return facts


def road_report_facts(report: RoadLayerReport) -> dict[str, Any]:
    """The road-layer quality report as JSON-ready figures (lengths in km)."""
    facts = asdict(report)
    facts["parts_street_km"] = round(facts.pop("parts_street_m") / 1000.0, 3)
    return facts


def gap_zones(
    network: WalkNetwork, demand: gpd.GeoDataFrame, *, config: AnalysisConfig
) -> gpd.GeoDataFrame:
    """Gap zones: clusters of unserved demand points, largest population first.

    Parameters
    ----------
    network
        The walking network (its CRS is used to measure distances between homes).
    demand
        A demand layer as in :attr:`CoverageResult.demand` (``covered``, ``population``,
        ``walk_min``, ``nearest_station``, ``status`` columns).
    config
        Gives ``gap_link_m``: unserved homes closer than this form one zone.

    Returns
    -------
    geopandas.GeoDataFrame
        As :attr:`CoverageResult.gaps`.
    """
    return _gap_zones(network, demand, config)


def _warn_off_network(
    what: str, table: gpd.GeoDataFrame, snapped: Snapped, cfg: AnalysisConfig
) -> None:
    off = ~snapped.on_network
    if not off.any():
        return
    ids = table["id"].astype(str).to_numpy()[off] if "id" in table.columns else table.index[off]
    labels = [str(i) for i in ids]
    if "name" in table.columns:  # the user's own names, next to ids we may have made up
        names = table["name"].astype(str).to_numpy()[off]
        labels = [f"{i} ({n!r})" if n.strip() else i for i, n in zip(labels, names, strict=True)]
    shown = ", ".join(labels[:20]) + (
        f" (and {len(labels) - 20:,} more)" if len(labels) > 20 else ""
    )
    msg = (
        f"{int(off.sum())} {what} lie more than {cfg.max_snap_m:g} m from every street and "
        f"are reported as off-network, not moved: {shown}. Check their coordinates or raise "
        "the snap distance (--max-snap-m; max_snap_m in Python)."
    )
    warnings.warn(msg, OffNetworkWarning, stacklevel=3)


def _coverage_area(
    network: WalkNetwork,
    node_dist_m: np.ndarray,
    snapped: Snapped,
    cfg: AnalysisConfig,
    cache_dir: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """The nested band polygons of all stations, in WGS84 (kept in ``cache_dir`` if given)."""
    limits = tuple(b * cfg.metres_per_minute for b in cfg.bands)
    logger.info("coverage bands: %d limits over %d streets", len(limits), len(network.edges))
    build = isochrone_polygons if cache_dir is None else partial(band_polygons, cache_dir=cache_dir)
    polys = build(
        network,
        node_dist_m,
        snapped,
        limits_m=limits,
        buffer_m=cfg.isochrone_buffer_m,
        **AREA_POLYGON_OPTIONS,
    )
    return gpd.GeoDataFrame({"band_min": list(cfg.bands)}, geometry=polys, crs=network.crs).to_crs(
        WGS84
    )


def _station_isochrones(
    network: WalkNetwork, snapped: Snapped, ids: np.ndarray, cfg: AnalysisConfig
) -> gpd.GeoDataFrame:
    rows: list[tuple[str, float, shapely.Geometry]] = []
    if len(snapped) <= cfg.max_isochrone_stations:
        limits = tuple(b * cfg.metres_per_minute for b in cfg.bands)
        for s in np.flatnonzero(snapped.on_network):
            dist = single_station_distances(network, snapped, int(s), limit_m=limits[-1])
            single = Snapped(
                index=snapped.index[s : s + 1],
                edge=snapped.edge[s : s + 1],
                offset_m=snapped.offset_m[s : s + 1],
                snap_m=snapped.snap_m[s : s + 1],
            )
            polys = isochrone_polygons(  # built as the coverage area is: their union is it
                network,
                dist,
                single,
                limits_m=limits,
                buffer_m=cfg.isochrone_buffer_m,
                **AREA_POLYGON_OPTIONS,
            )
            rows.extend(
                (str(ids[s]), band, poly) for band, poly in zip(cfg.bands, polys, strict=True)
            )
    else:
        logger.info(
            "%d stations > max_isochrone_stations=%d: per-station isochrones skipped.",
            len(snapped),
            cfg.max_isochrone_stations,
        )
    return gpd.GeoDataFrame(
        {"station_id": [r[0] for r in rows], "band_min": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=network.crs,
    ).to_crs(WGS84)


def _gap_zones(
    network: WalkNetwork, demand: gpd.GeoDataFrame, cfg: AnalysisConfig
) -> gpd.GeoDataFrame:
    xy = shapely.get_coordinates(demand.geometry.to_crs(network.crs).to_numpy())
    clusters = cluster_unserved(xy, ~demand["covered"].to_numpy(dtype=bool), link_m=cfg.gap_link_m)
    return gap_table(clusters, demand, network.crs)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float | None:
    """Population-weighted quantile of walk times; unreachable homes count as infinite."""
    v = np.nan_to_num(values, nan=np.inf)
    if weights.sum() <= 0:
        return None
    order = np.argsort(v)
    cum = np.cumsum(weights[order]) / weights.sum()
    val = v[order][np.searchsorted(cum, q)]
    return float(val) if np.isfinite(val) else None
