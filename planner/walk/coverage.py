"""Who is served: coverage figures, per-station catchments and gap zones.

:func:`analyze_coverage` is the library's main entry point: stations and demand in, a frozen
:class:`CoverageResult` of GeoDataFrames out.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._version import __version__
from planner.config import AnalysisConfig
from planner.errors import InputDataError, InputWarning, OffNetworkWarning
from planner.sources.coords import WGS84
from planner.sources.validate import validate_points
from planner.walk.access import (
    Snapped,
    isochrone_polygons,
    nearest_station_distances,
    point_distances,
    single_station_distances,
    snap_points,
    station_reach,
)
from planner.walk.gaps import cluster_unserved, gap_table
from planner.walk.network import WalkNetwork

logger = logging.getLogger(__name__)

#: Values of the demand layer's ``status`` column.
STATUS_COVERED = "covered"
STATUS_BEYOND = "beyond_limit"
STATUS_UNREACHABLE = "unreachable"
STATUS_OFF_NETWORK = "off_network"

#: Columns :func:`station_layer` adds to the input stations.
STATION_COLUMNS = (
    "snap_m",
    "on_network",
    "homes_served",
    "population_served",
    "population_only_here",
)
#: Columns :func:`demand_layer` adds to the input demand.
DEMAND_COLUMNS = ("walk_min", "nearest_station", "covered", "stations_within", "status", "snap_m")
#: Prefix of input columns kept under a new name because an output column has theirs.
INPUT_PREFIX = "input_"


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
    isochrones
        Per station and band: ``station_id``, ``band_min`` and the area reachable within
        ``band_min`` minutes; bands of a station are nested. Empty when there are more
        stations than ``config.max_isochrone_stations``.
    coverage_area
        Per band: ``band_min`` and the area within ``band_min`` minutes of any station.
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
    isochrones: gpd.GeoDataFrame
    coverage_area: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    network_facts: dict[str, Any]

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
    stations = validate_points(stations, what="stations")
    demand = validate_points(demand, what="demand", require=("population",))
    check_population(demand)
    if "id" not in stations.columns:
        stations = stations.assign(id=stations.index.astype(str))
    station_ids = stations["id"].astype(str).to_numpy()
    limit = cfg.walk_limit_m
    mpm = cfg.metres_per_minute

    s_snap = snap_points(network, stations.geometry, max_snap_m=cfg.max_snap_m)
    d_snap = snap_points(network, demand.geometry, max_snap_m=cfg.max_snap_m)
    _warn_off_network("stations", stations, s_snap, cfg)
    _warn_off_network("demand points", demand, d_snap, cfg)

    node_dist = nearest_station_distances(network, s_snap)
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

    limits = tuple(b * mpm for b in cfg.bands)
    area_polys = isochrone_polygons(
        network, node_dist.dist_m, s_snap, limits_m=limits, buffer_m=cfg.isochrone_buffer_m
    )
    coverage_area = gpd.GeoDataFrame(
        {"band_min": list(cfg.bands)}, geometry=area_polys, crs=network.crs
    ).to_crs(WGS84)
    isochrones = _station_isochrones(network, s_snap, station_ids, cfg)
    gaps = _gap_zones(network, demand_out, cfg)
    facts = network_facts(network)
    return CoverageResult(
        config=cfg,
        stations=stations_out,
        demand=demand_out,
        isochrones=isochrones,
        coverage_area=coverage_area,
        gaps=gaps,
        network_facts=facts,
    )


def demand_layer(
    demand: gpd.GeoDataFrame,
    snapped: Snapped,
    dist_m: np.ndarray,
    nearest: np.ndarray,
    within_count: np.ndarray,
    station_ids: np.ndarray,
    *,
    config: AnalysisConfig,
) -> gpd.GeoDataFrame:
    """The demand layer of a :class:`CoverageResult` from per-point search results.

    A building block shared by :func:`analyze_coverage` and :mod:`planner.app.plan`.

    Parameters
    ----------
    demand
        Validated demand points (WGS84) with ``population``.
    snapped
        The demand points snapped to the network.
    dist_m, nearest
        Walk distance to the nearest station (``inf`` when none) and that station's
        position (``-1`` when none), per point.
    within_count
        Number of stations within the walk limit, per point.
    station_ids
        Station ids by position.
    config
        The analysis settings.

    Returns
    -------
    geopandas.GeoDataFrame
        As :attr:`CoverageResult.demand`.
    """
    covered = dist_m <= config.walk_limit_m
    status = np.where(
        ~snapped.on_network,
        STATUS_OFF_NETWORK,
        np.where(
            covered,
            STATUS_COVERED,
            np.where(np.isfinite(dist_m), STATUS_BEYOND, STATUS_UNREACHABLE),
        ),
    )
    ids = station_ids if len(station_ids) else np.array([""], dtype=object)
    demand = keep_input_columns(demand, DEMAND_COLUMNS, what="demand")
    return demand.assign(
        walk_min=np.where(np.isfinite(dist_m), dist_m / config.metres_per_minute, np.nan),
        nearest_station=pd.Series(
            ids[np.maximum(nearest, 0)], index=demand.index, dtype="string"
        ).where(nearest >= 0),
        covered=covered,
        stations_within=within_count,
        status=status,
        snap_m=snapped.snap_m,
    )


def station_layer(
    stations: gpd.GeoDataFrame,
    snapped: Snapped,
    homes_served: np.ndarray,
    population_served: np.ndarray,
    population_only_here: np.ndarray,
) -> gpd.GeoDataFrame:
    """The station layer of a :class:`CoverageResult` (input columns plus figures).

    Input columns named like the added ones are kept under a prefixed name
    (:func:`keep_input_columns`).
    """
    stations = keep_input_columns(stations, STATION_COLUMNS, what="stations")
    return stations.assign(
        snap_m=snapped.snap_m,
        on_network=snapped.on_network,
        homes_served=homes_served,
        population_served=population_served,
        population_only_here=population_only_here,
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


def keep_input_columns(
    table: gpd.GeoDataFrame, added: Sequence[str], *, what: str
) -> gpd.GeoDataFrame:
    """Rename input columns that an output column would overwrite or collide with.

    Parameters
    ----------
    table
        Input stations or demand; not modified.
    added
        Names of the columns the planner adds (:data:`STATION_COLUMNS`,
        :data:`DEMAND_COLUMNS`). The index's name (the loaders' ``row``, written as a column
        of the GeoPackage) and ``geometry`` (when the geometry column has another name)
        count too.
    what
        How to name the table in the warning.

    Returns
    -------
    geopandas.GeoDataFrame
        ``table`` itself when nothing clashes; otherwise a copy in which each clashing
        column ``c`` is named ``input_c`` (``input_c_2``, ... when that is taken too), with
        an :class:`~planner.errors.InputWarning` naming each column and its new name.
    """
    geom = table.geometry.name
    reserved = set(added)
    if table.index.name is not None:
        reserved.add(str(table.index.name))
    if geom != "geometry":
        reserved.add("geometry")
    clashes = [c for c in table.columns if c != geom and str(c) in reserved]
    if not clashes:
        return table
    taken = {str(c) for c in table.columns} | reserved
    renamed: dict[str, str] = {}
    for col in clashes:
        new = f"{INPUT_PREFIX}{col}"
        n = 2
        while new in taken:
            new = f"{INPUT_PREFIX}{col}_{n}"
            n += 1
        taken.add(new)
        renamed[str(col)] = new
    listed = ", ".join(f"{old!r} as {new!r}" for old, new in renamed.items())
    warnings.warn(
        f"{what}: input column(s) named like the planner's own output columns are kept "
        f"under new names: {listed}.",
        InputWarning,
        stacklevel=3,
    )
    return table.rename(columns=renamed)


def network_facts(network: WalkNetwork) -> dict[str, Any]:
    """Size of the network analysed and what was left out (:attr:`CoverageResult.network_facts`)."""
    return {
        "nodes": network.n_nodes,
        "street_segments": len(network.edges),
        "street_km": round(network.street_m / 1000.0, 3),
        "crs": network.crs.to_string(),
        "components": network.islands.components,
        "island_nodes_left_out": network.islands.nodes_dropped,
        "island_street_km_left_out": round(network.islands.street_m_dropped / 1000.0, 3),
    }


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


def coverage_by_district(
    result: CoverageResult, districts: gpd.GeoDataFrame, *, name_column: str = "name"
) -> gpd.GeoDataFrame:
    """Population, homes and coverage share per district polygon.

    Parameters
    ----------
    result
        A coverage analysis.
    districts
        Polygons with a CRS and a name column; the index is kept.
    name_column
        Column holding the district names.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per district, same index and order as ``districts``, in WGS84:
        ``district`` (the name), ``homes``, ``homes_covered``, ``population``,
        ``population_covered``, ``population_uncovered``, ``share_covered`` (NaN when the
        district has no population) and the district polygon. Named
        ``coverage_by_district``.

    Raises
    ------
    InputDataError
        When the table has no CRS, no ``name_column`` or a geometry that is not a polygon.

    Notes
    -----
    Each demand point is assigned by a spatial join to the first district (in table order)
    whose polygon contains it or has it on its boundary, so a home on a shared border is
    counted once. Homes outside every polygon are in no row: the rows' population can add
    up to less than the study area's.
    """
    if districts.crs is None:
        msg = "districts: the table has no CRS; set one (e.g. districts.set_crs(4326))."
        raise InputDataError(msg)
    if name_column not in districts.columns:
        msg = (
            f"districts: no column {name_column!r} with the district names (columns: "
            f"{', '.join(map(str, districts.columns))}). Pass name_column=..."
        )
        raise InputDataError(msg)
    kinds = districts.geometry.geom_type
    bad = ~kinds.isin(["Polygon", "MultiPolygon"]) | districts.geometry.is_empty
    if bad.any():
        first = districts.index[bad.to_numpy()][0]
        msg = (
            f"districts: row {first} has a {kinds.loc[first]} geometry; districts must be "
            "polygons or multipolygons."
        )
        raise InputDataError(msg)
    polys = districts.geometry.to_crs(WGS84)
    pts = result.demand.geometry.to_numpy()
    pt_idx, poly_idx = shapely.STRtree(polys.to_numpy()).query(pts, predicate="intersects")
    first_poly = np.full(len(pts), len(polys), dtype=np.int64)
    np.minimum.at(first_poly, pt_idx, poly_idx)
    inside = first_poly < len(polys)
    pop = result.demand["population"].to_numpy(dtype=float)
    cov = result.demand["covered"].to_numpy(dtype=bool)
    n = len(polys) + 1
    homes = np.bincount(first_poly, minlength=n)[:-1]
    homes_cov = np.bincount(first_poly[cov], minlength=n)[:-1]
    population = np.bincount(first_poly, weights=pop, minlength=n)[:-1]
    covered = np.bincount(first_poly[cov & inside], weights=pop[cov & inside], minlength=n)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(population > 0, covered / population, np.nan)
    out = gpd.GeoDataFrame(
        {
            "district": districts[name_column].astype(str).to_numpy(),
            "homes": homes.astype(np.int64),
            "homes_covered": homes_cov.astype(np.int64),
            "population": population,
            "population_covered": covered,
            "population_uncovered": population - covered,
            "share_covered": share,
        },
        index=districts.index,
        geometry=polys.to_numpy(),
        crs=WGS84,
    )
    out.attrs["name"] = "coverage_by_district"
    return out


def coverage_curve(
    result: CoverageResult,
    *,
    minutes: Sequence[float],
    speeds_kmh: Sequence[float] | None = None,
) -> pd.DataFrame:
    r"""Share of population covered for every pair of walk limit and walking speed.

    Parameters
    ----------
    result
        A coverage analysis (its walk distances are used; its own limit is not).
    minutes
        Walk limits in minutes.
    speeds_kmh
        Walking speeds in km/h; the result's own speed when None.

    Returns
    -------
    pandas.DataFrame
        One row per (speed, minutes), speeds outer: ``speed_kmh``, ``minutes``,
        ``walk_limit_m``, ``population_covered``, ``share_covered``; named
        ``coverage_curve``.

    Notes
    -----
    :func:`analyze_coverage` searches the whole network, so each home's walk distance to
    its nearest station :math:`d_i` does not depend on the limit. Coverage at limit
    :math:`T` and speed :math:`v` is therefore
    :math:`\sum_i p_i [d_i \le vT] / \sum_i p_i` from one analysis, the same figure as a
    new :func:`analyze_coverage` run with that limit and speed would give.
    """
    cfg = result.config
    speeds = [cfg.speed_kmh] if speeds_kmh is None else [float(v) for v in speeds_kmh]
    limits = [float(m) for m in minutes]
    for name, values in (("minutes", limits), ("speeds_kmh", speeds)):
        if not values or any(not (np.isfinite(v) and v > 0) for v in values):
            msg = f"coverage_curve: {name} must be positive numbers, got {values!r}."
            raise InputDataError(msg)
    dist = np.nan_to_num(
        result.demand["walk_min"].to_numpy(dtype=float) * cfg.metres_per_minute, nan=np.inf
    )
    pop = result.demand["population"].to_numpy(dtype=float)
    total = pop.sum()
    rows = []
    for speed in speeds:
        for m in limits:
            limit_m = m * speed * 1000.0 / 60.0
            covered = float(pop[dist <= limit_m + 1e-6].sum())
            rows.append(
                {
                    "speed_kmh": speed,
                    "minutes": m,
                    "walk_limit_m": limit_m,
                    "population_covered": covered,
                    "share_covered": covered / total if total > 0 else 0.0,
                }
            )
    table = pd.DataFrame(rows)
    table.attrs["name"] = "coverage_curve"
    return table


def _warn_off_network(
    what: str, table: gpd.GeoDataFrame, snapped: Snapped, cfg: AnalysisConfig
) -> None:
    off = ~snapped.on_network
    if not off.any():
        return
    ids = table["id"].astype(str).to_numpy()[off] if "id" in table.columns else table.index[off]
    shown = ", ".join(map(str, list(ids)[:20])) + (" ..." if off.sum() > 20 else "")
    msg = (
        f"{int(off.sum())} {what} lie more than {cfg.max_snap_m:g} m from every street and "
        f"are reported as off-network, not moved: {shown}. Check their coordinates or raise "
        "max_snap_m."
    )
    warnings.warn(msg, OffNetworkWarning, stacklevel=3)


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
            polys = isochrone_polygons(
                network, dist, single, limits_m=limits, buffer_m=cfg.isochrone_buffer_m
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
