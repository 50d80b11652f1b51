"""The editable plan: stations on a study area, recomputed incrementally after each edit.

A :class:`Plan` is immutable: :func:`add_station`, :func:`move_station`,
:func:`remove_station` and :func:`update_station` return a *new* plan and leave the old one
as it was, so undo is keeping the previous plans. The heavy parts (network, snapped homes)
live in the shared :class:`~planner.app.study_area.StudyArea`; arrays are shared between plans
wherever an edit does not change them.

What an edit recomputes
-----------------------
- the edited station's one bounded search (:func:`planner.walk.access.station_search`): the homes
  within its walk limit and their distances, i.e. its row of the sparse stations x homes
  reach matrix;
- for the homes in its old and new reach only: how many stations reach them;
- one multi-source search over all stations (scipy's compiled ``min_only`` Dijkstra, the
  same one :func:`~planner.walk.coverage.analyze_coverage` runs) for every home's walk time to its
  nearest station, which is what the figures beyond the limit need;
- vectorised per-home sums (people served by no other station), and, when asked for, the
  gap zones (from the unserved homes) and the edited station's isochrone bands.

Every figure equals a full :func:`~planner.walk.coverage.analyze_coverage` on the same stations
(``tests/test_plan.py`` checks it after random sequences of edits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner.app.study_area import StudyArea, normalise_stations
from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.sources.coords import WGS84
from planner.walk.access import (
    NodeDistances,
    Snapped,
    nearest_station_distances,
    point_distances,
    single_station_distances,
    snap_points,
)
from planner.walk.coverage import CoverageResult, network_facts
from planner.walk.gaps import GapClusters, cluster_unserved, gap_table, update_clusters
from planner.walk.isochrones import isochrone_polygons
from planner.walk.layers import demand_layer, station_layer
from planner.walk.network import WalkNetwork
from planner.walk.reach import station_search

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Prefix of the ids given to stations added without one.
NEW_ID_PREFIX = "new-"
#: Columns of :func:`station_table` (and of the app's editable table).
TABLE_COLUMNS = ("id", "name", "category", "lon", "lat")
#: Up to this many stations, the coverage bands are the union of the stations' own bands
#: (kept per station, so an edit builds one station's); above, one pass over the streets.
UNION_MAX_STATIONS = 20
#: A move shorter than this (degrees, about 1 cm) is no move.
_SAME_PLACE_DEG = 1e-7


@dataclass(frozen=True, eq=False)
class Reach:
    """One station's row of the stations x homes reach matrix.

    Attributes
    ----------
    homes
        Positions of the homes within the walk limit, ascending.
    dist_m
        Their walk distances in metres.
    """

    homes: IntArray
    dist_m: FloatArray


@dataclass(frozen=True, eq=False)
class StationBands:
    """One station's nested isochrone polygons, built on first use and then kept.

    A memo of a pure function of its fields; plans share it for stations an edit does not
    touch, so a station's polygons are built at most once.
    """

    network: WalkNetwork
    station: Snapped
    limits_m: tuple[float, ...]
    buffer_m: float

    @cached_property
    def polygons(self) -> tuple[shapely.Geometry, ...]:
        """One polygon per band limit (metric CRS), nested; empty when off-network."""
        if not self.station.on_network[0]:
            return tuple(shapely.Polygon() for _ in self.limits_m)
        dist = single_station_distances(self.network, self.station, 0, limit_m=self.limits_m[-1])
        return tuple(
            isochrone_polygons(
                self.network, dist, self.station, limits_m=self.limits_m, buffer_m=self.buffer_m
            )
        )


@dataclass(frozen=True, eq=False)
class Plan:
    """Stations on a study area with their coverage; never modified, only replaced.

    Build it with :func:`build_plan`; change it with the edit functions of this module.

    Attributes
    ----------
    area
        The study area (network, homes), shared.
    config
        Walk limit, speed and the other analysis settings.
    stations
        ``id``, ``name``, ``category`` (text), other input columns, points in WGS84,
        index ``0..n-1`` (a station's position).
    snapped
        The stations snapped to the network, by position.
    reach
        Per station, the homes within the walk limit (the sparse reach matrix by rows).
    bands
        Per station, its isochrone bands (built on demand).
    within_count
        Per home, how many stations have it within the limit.
    node_dist
        The multi-source search: each node's distance to its nearest station.
    home_dist_m, home_nearest
        Per home, walk distance to the nearest station (``inf`` when none) and that
        station's position (``-1`` when none).
    parent_gaps
        The gap zones of the plan this one was edited from, when they had been built:
        this plan's zones are then updated from them instead of built from scratch.
    """

    area: StudyArea
    config: AnalysisConfig
    stations: gpd.GeoDataFrame
    snapped: Snapped
    reach: tuple[Reach, ...]
    bands: tuple[StationBands, ...]
    within_count: IntArray
    node_dist: NodeDistances
    home_dist_m: FloatArray
    home_nearest: IntArray
    parent_gaps: GapClusters | None = None

    # ----------------------------------------------------------------- figures

    @property
    def covered(self) -> npt.NDArray[np.bool_]:
        """Per home, within the walk limit of a station."""
        return self.home_dist_m <= self.config.walk_limit_m

    @cached_property
    def population(self) -> FloatArray:
        """Per home, its population."""
        pop: FloatArray = self.area.demand["population"].to_numpy(dtype=float)
        return pop

    @property
    def population_covered(self) -> float:
        """People within the walk limit of a station."""
        return float(self.population[self.covered].sum())

    @property
    def share_covered(self) -> float:
        """Share of people within the walk limit (0 when there is nobody)."""
        total = self.area.population_total
        return self.population_covered / total if total > 0 else 0.0

    @cached_property
    def homes_served(self) -> IntArray:
        """Per station, homes within its walk limit."""
        return np.array([r.homes.size for r in self.reach], dtype=np.int64)

    @cached_property
    def population_served(self) -> FloatArray:
        """Per station, people within its walk limit."""
        pop = self.population
        return np.array([pop[r.homes].sum() for r in self.reach], dtype=float)

    @cached_property
    def population_only_here(self) -> FloatArray:
        """Per station, people within its limit and within the limit of no other station."""
        only = (self.within_count == 1) & self.covered
        return np.bincount(
            self.home_nearest[only], weights=self.population[only], minlength=len(self.stations)
        ).astype(float)

    @property
    def polygons_per_station(self) -> bool:
        """Whether per-station isochrones are built (at most ``max_isochrone_stations``)."""
        return len(self.stations) <= self.config.max_isochrone_stations

    def position(self, station_id: str) -> int:
        """Position of a station by id; :class:`InputDataError` when there is none."""
        hits = np.flatnonzero(self.stations["id"].to_numpy() == str(station_id))
        if hits.size == 0:
            msg = f"No station with id {station_id!r} in the plan."
            raise InputDataError(msg)
        return int(hits[0])

    # ------------------------------------------------------------------ layers

    @cached_property
    def demand_out(self) -> gpd.GeoDataFrame:
        """The demand layer, as :attr:`CoverageResult.demand`."""
        return demand_layer(
            self.area.demand,
            self.area.demand_snap,
            self.home_dist_m,
            self.home_nearest,
            self.within_count,
            self.stations["id"].astype(str).to_numpy(),
            config=self.config,
        )

    @cached_property
    def stations_out(self) -> gpd.GeoDataFrame:
        """The station layer, as :attr:`CoverageResult.stations`."""
        return station_layer(
            self.stations,
            self.snapped,
            self.homes_served,
            self.population_served,
            self.population_only_here,
        )

    @cached_property
    def gap_clusters(self) -> GapClusters:
        """Which gap zone each unserved home is in (updated from the parent plan's)."""
        unserved = ~self.covered
        link = self.config.gap_link_m
        if self.parent_gaps is None:
            return cluster_unserved(self.area.demand_xy, unserved, link_m=link)
        return update_clusters(
            self.parent_gaps, self.area.demand_xy, self.area.demand_tree, unserved, link_m=link
        )

    @cached_property
    def gaps(self) -> gpd.GeoDataFrame:
        """Gap zones from the unserved homes, as :attr:`CoverageResult.gaps`."""
        return gap_table(self.gap_clusters, self.demand_out, self.area.network.crs)

    @cached_property
    def isochrones(self) -> gpd.GeoDataFrame:
        """Per-station nested bands (empty above ``max_isochrone_stations``)."""
        ids: list[str] = []
        bands: list[float] = []
        geoms: list[shapely.Geometry] = []
        if self.polygons_per_station:
            for sid, on, cell in zip(
                self.stations["id"].astype(str), self.snapped.on_network, self.bands, strict=True
            ):
                if not on:
                    continue
                for band, poly in zip(self.config.bands, cell.polygons, strict=True):
                    ids.append(sid)
                    bands.append(band)
                    geoms.append(poly)
        return gpd.GeoDataFrame(
            {"station_id": ids, "band_min": bands}, geometry=geoms, crs=self.area.network.crs
        ).to_crs(WGS84)

    @cached_property
    def coverage_area(self) -> gpd.GeoDataFrame:
        """Per band, the area within that time of any station.

        Up to :data:`UNION_MAX_STATIONS` stations, the union of the stations' own bands
        (built once per station and shared between plans: an edit builds one station's);
        above, one pass over the streets from the multi-source search, as
        :func:`analyze_coverage` does. Both give the same area.
        """
        cfg = self.config
        limits = tuple(b * cfg.metres_per_minute for b in cfg.bands)
        if len(self.stations) <= UNION_MAX_STATIONS:
            polys = [
                shapely.union_all([cell.polygons[i] for cell in self.bands])
                if self.bands
                else shapely.Polygon()
                for i in range(len(limits))
            ]
        else:
            polys = isochrone_polygons(
                self.area.network,
                self.node_dist.dist_m,
                self.snapped,
                limits_m=limits,
                buffer_m=cfg.isochrone_buffer_m,
            )
        return gpd.GeoDataFrame(
            {"band_min": list(cfg.bands)}, geometry=polys, crs=self.area.network.crs
        ).to_crs(WGS84)

    @cached_property
    def result(self) -> CoverageResult:
        """The plan as a :class:`CoverageResult` (for maps, files and reports)."""
        return CoverageResult(
            config=self.config,
            stations=self.stations_out,
            demand=self.demand_out,
            isochrones=self.isochrones,
            coverage_area=self.coverage_area,
            gaps=self.gaps,
            network_facts=network_facts(self.area.network),
        )

    def summary(self) -> dict[str, Any]:
        """Headline figures without building polygons (gap zones are built)."""
        out = CoverageResult(
            config=self.config,
            stations=self.stations_out,
            demand=self.demand_out,
            isochrones=_EMPTY_POLYS,
            coverage_area=_EMPTY_POLYS,
            gaps=self.gaps,
            network_facts=network_facts(self.area.network),
        ).summary()
        return out


_EMPTY_POLYS = gpd.GeoDataFrame({"band_min": []}, geometry=[], crs=WGS84)


# --------------------------------------------------------------------- building


def build_plan(
    area: StudyArea,
    stations: gpd.GeoDataFrame | None = None,
    *,
    config: AnalysisConfig | None = None,
) -> Plan:
    """A plan from a study area and stations, computed in full (one search per station).

    Parameters
    ----------
    area
        The study area. When ``config.max_snap_m`` differs from the area's, the homes are
        snapped again (a new area object; the given one is not changed).
    stations
        Station points with a CRS (``id``, ``name``, ``category`` optional); the area's own
        starting stations when None. Not modified.
    config
        Analysis settings; :class:`AnalysisConfig` defaults when None.

    Returns
    -------
    Plan
        The plan with all its figures.
    """
    cfg = config or AnalysisConfig()
    area = area.with_max_snap(cfg.max_snap_m)
    table = normalise_stations(area.stations if stations is None else stations)
    snapped = snap_points(area.network, table.geometry, max_snap_m=cfg.max_snap_m)
    singles = [_single(snapped, i) for i in range(len(table))]
    reach = tuple(_search(area, cfg, one) for one in singles)
    within = np.zeros(len(area.demand), dtype=np.int64)
    for r in reach:
        within[r.homes] += 1
    bands = tuple(_bands(area.network, cfg, one) for one in singles)
    return _derive(area, cfg, table, snapped, reach, bands, within)


def with_config(plan: Plan, config: AnalysisConfig) -> Plan:
    """The same stations under other settings (a full recompute)."""
    if config == plan.config:
        return plan
    return build_plan(plan.area, plan.stations, config=config)


# ------------------------------------------------------------------------ edits


def add_station(
    plan: Plan,
    lon: float,
    lat: float,
    *,
    name: str = "",
    category: str = "",
    station_id: str | None = None,
) -> Plan:
    """A new plan with one more station at ``(lon, lat)`` (WGS84 degrees).

    Parameters
    ----------
    plan
        The plan to start from (not modified).
    lon, lat
        Position of the new station.
    name, category
        Its name and category (text, shown escaped wherever displayed).
    station_id
        Its id; ``new-1``, ``new-2``, ... (the first free one) when None.

    Returns
    -------
    Plan
        The new plan. A station farther than ``max_snap_m`` from every street is kept
        and reported as off-network (it serves nobody), never moved.
    """
    sid = _free_id(plan) if station_id is None or not str(station_id).strip() else str(station_id)
    sid = sid.strip()
    if sid in set(plan.stations["id"]):
        msg = f"A station with id {sid!r} is already in the plan; choose another id."
        raise InputDataError(msg)
    point = _point(lon, lat)
    row = gpd.GeoDataFrame(
        {"id": [sid], "name": [str(name)], "category": [str(category)]},
        geometry=[point],
        crs=WGS84,
    )
    table = pd.concat([plan.stations, row], ignore_index=True)
    table = gpd.GeoDataFrame(table, geometry="geometry", crs=WGS84)
    one = snap_points(plan.area.network, row.geometry, max_snap_m=plan.config.max_snap_m)
    snapped = _concat(plan.snapped, one, table.index)
    new = _search(plan.area, plan.config, one)
    within = plan.within_count.copy()
    within[new.homes] += 1
    return _derive(
        plan.area,
        plan.config,
        table,
        snapped,
        (*plan.reach, new),
        (*plan.bands, _bands(plan.area.network, plan.config, one)),
        within,
        parent=plan,
    )


def add_stations(plan: Plan, sites: gpd.GeoDataFrame) -> Plan:
    """A new plan with several stations added (e.g. sites accepted from the siting step).

    Parameters
    ----------
    plan
        The plan to start from.
    sites
        Points with a CRS; optional ``id``, ``name``, ``category`` columns.

    Returns
    -------
    Plan
        The new plan (one search per added site).
    """
    if len(sites) == 0:
        return plan
    if sites.crs is None:
        msg = "sites: the table has no CRS; set one (e.g. sites.set_crs('EPSG:4326'))."
        raise InputDataError(msg)
    pts = sites.geometry.to_crs(WGS84)
    out = plan
    for i, geom in enumerate(pts):
        row = sites.iloc[i]
        out = add_station(
            out,
            float(geom.x),
            float(geom.y),
            name=_text(row.get("name", "")),
            category=_text(row.get("category", "")),
            station_id=_text(row.get("id", "")) or None,
        )
    return out


def move_station(plan: Plan, station_id: str, lon: float, lat: float) -> Plan:
    """A new plan with one station moved to ``(lon, lat)``; only its search is redone."""
    k = plan.position(station_id)
    point = _point(lon, lat)
    table = plan.stations.copy()
    table.loc[k, "geometry"] = point
    table = gpd.GeoDataFrame(table, geometry="geometry", crs=WGS84)
    one = snap_points(
        plan.area.network, gpd.GeoSeries([point], crs=WGS84), max_snap_m=plan.config.max_snap_m
    )
    snapped = _replace_at(plan.snapped, k, one)
    new = _search(plan.area, plan.config, one)
    within = plan.within_count.copy()
    within[plan.reach[k].homes] -= 1
    within[new.homes] += 1
    reach = (*plan.reach[:k], new, *plan.reach[k + 1 :])
    bands = (*plan.bands[:k], _bands(plan.area.network, plan.config, one), *plan.bands[k + 1 :])
    return _derive(plan.area, plan.config, table, snapped, reach, bands, within, parent=plan)


def remove_station(plan: Plan, station_id: str) -> Plan:
    """A new plan without one station; no search but the multi-source one is redone."""
    k = plan.position(station_id)
    table = plan.stations.drop(index=k).reset_index(drop=True)
    keep = np.arange(len(plan.stations)) != k
    snapped = Snapped(
        index=table.index,
        edge=_ro(plan.snapped.edge[keep]),
        offset_m=_ro(plan.snapped.offset_m[keep]),
        snap_m=_ro(plan.snapped.snap_m[keep]),
    )
    within = plan.within_count.copy()
    within[plan.reach[k].homes] -= 1
    reach = (*plan.reach[:k], *plan.reach[k + 1 :])
    bands = (*plan.bands[:k], *plan.bands[k + 1 :])
    return _derive(plan.area, plan.config, table, snapped, reach, bands, within, parent=plan)


def update_station(
    plan: Plan, station_id: str, *, name: str | None = None, category: str | None = None
) -> Plan:
    """A new plan with a station's name and/or category changed (nothing is recomputed)."""
    k = plan.position(station_id)
    table = plan.stations.copy()
    if name is not None:
        table.loc[k, "name"] = str(name)
    if category is not None:
        table.loc[k, "category"] = str(category)
    return replace(plan, stations=table, parent_gaps=_gaps_of(plan))


def station_table(plan: Plan) -> pd.DataFrame:
    """``id``, ``name``, ``category``, ``lon``, ``lat`` per station: the editable table."""
    geoms = plan.stations.geometry
    return pd.DataFrame(
        {
            "id": plan.stations["id"].astype(str).to_numpy(),
            "name": plan.stations["name"].astype(str).to_numpy(),
            "category": plan.stations["category"].astype(str).to_numpy(),
            "lon": geoms.x.to_numpy(dtype=float) if len(geoms) else np.empty(0),
            "lat": geoms.y.to_numpy(dtype=float) if len(geoms) else np.empty(0),
        }
    )


def apply_station_table(plan: Plan, table: pd.DataFrame) -> Plan:
    """Apply an edited copy of :func:`station_table`: rows matched by ``id``.

    Rows missing from ``table`` are removed, rows with a new or empty id are added, rows
    whose ``lon``/``lat`` changed are moved and rows whose ``name``/``category`` changed are
    updated. The whole table is checked first: a bad row (missing or out-of-range
    coordinates, a repeated id) raises :class:`InputDataError` naming it, and nothing is
    applied.

    Parameters
    ----------
    plan
        The plan the table was made from.
    table
        The edited table.

    Returns
    -------
    Plan
        The new plan, or ``plan`` itself when nothing changed.
    """
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        msg = f"Station table: columns {missing} are missing."
        raise InputDataError(msg)
    ops = _table_ops(plan, table.reset_index(drop=True))
    out = plan
    for op in ops:
        out = op(out)
    return out


# --------------------------------------------------------------------- internals


def _table_ops(plan: Plan, table: pd.DataFrame) -> list[Any]:
    """The edits that turn ``plan`` into ``table``, validated before any is applied."""
    current = station_table(plan).set_index("id")
    ops: list[Any] = []
    seen: set[str] = set()
    for row_no, row in enumerate(table.itertuples(index=False), start=1):
        sid = _text(row.id)
        if sid and sid in seen:
            msg = f"Station table, row {row_no}: id {sid!r} appears twice; ids must be unique."
            raise InputDataError(msg)
        lon, lat = _coordinate(row.lon, "lon", row_no), _coordinate(row.lat, "lat", row_no)
        _point(lon, lat, row=row_no)
        name, category = _text(row.name), _text(row.category)
        if not sid or sid not in current.index:
            ops.append(
                lambda p, lon=lon, lat=lat, n=name, c=category, s=sid: add_station(
                    p, lon, lat, name=n, category=c, station_id=s or None
                )
            )
            if sid:
                seen.add(sid)
            continue
        seen.add(sid)
        old = current.loc[sid]
        old_lon, old_lat = (float(v) for v in current.loc[sid, ["lon", "lat"]].to_numpy())
        if abs(lon - old_lon) > _SAME_PLACE_DEG or abs(lat - old_lat) > _SAME_PLACE_DEG:
            ops.append(lambda p, s=sid, lon=lon, lat=lat: move_station(p, s, lon, lat))
        if name != old["name"] or category != old["category"]:
            ops.append(
                lambda p, s=sid, n=name, c=category: update_station(p, s, name=n, category=c)
            )
    removed = [sid for sid in current.index if sid not in seen]
    ops = [*(lambda p, s=sid: remove_station(p, s) for sid in removed), *ops]
    return ops


def _derive(
    area: StudyArea,
    config: AnalysisConfig,
    stations: gpd.GeoDataFrame,
    snapped: Snapped,
    reach: tuple[Reach, ...],
    bands: tuple[StationBands, ...],
    within_count: IntArray,
    *,
    parent: Plan | None = None,
) -> Plan:
    """Finish a plan: the one multi-source search for every home's nearest station."""
    node_dist = nearest_station_distances(area.network, snapped)
    dist, nearest = point_distances(area.network, node_dist, snapped, area.demand_snap)
    within_count.setflags(write=False)
    return Plan(
        area=area,
        config=config,
        stations=stations,
        snapped=snapped,
        reach=reach,
        bands=bands,
        within_count=within_count,
        node_dist=node_dist,
        home_dist_m=_ro(dist),
        home_nearest=_ro(nearest),
        parent_gaps=None if parent is None else _gaps_of(parent),
    )


def _gaps_of(plan: Plan) -> GapClusters | None:
    """The plan's gap zones if built, else those it would be updated from."""
    built: GapClusters | None = plan.__dict__.get("gap_clusters")
    return built if built is not None else plan.parent_gaps


def _search(area: StudyArea, config: AnalysisConfig, one: Snapped) -> Reach:
    found = station_search(area.network, one, area.demand_index, limit_m=config.walk_limit_m)
    return Reach(homes=_ro(found.points), dist_m=_ro(found.dist_m))


def _bands(network: WalkNetwork, config: AnalysisConfig, one: Snapped) -> StationBands:
    limits = tuple(b * config.metres_per_minute for b in config.bands)
    return StationBands(
        network=network, station=one, limits_m=limits, buffer_m=config.isochrone_buffer_m
    )


def _single(snapped: Snapped, k: int) -> Snapped:
    return Snapped(
        index=snapped.index[k : k + 1],
        edge=snapped.edge[k : k + 1],
        offset_m=snapped.offset_m[k : k + 1],
        snap_m=snapped.snap_m[k : k + 1],
    )


def _concat(a: Snapped, b: Snapped, index: pd.Index) -> Snapped:
    return Snapped(
        index=index,
        edge=_ro(np.concatenate([a.edge, b.edge])),
        offset_m=_ro(np.concatenate([a.offset_m, b.offset_m])),
        snap_m=_ro(np.concatenate([a.snap_m, b.snap_m])),
    )


def _replace_at(a: Snapped, k: int, one: Snapped) -> Snapped:
    edge, offset, snap = a.edge.copy(), a.offset_m.copy(), a.snap_m.copy()
    edge[k], offset[k], snap[k] = one.edge[0], one.offset_m[0], one.snap_m[0]
    return Snapped(index=a.index, edge=_ro(edge), offset_m=_ro(offset), snap_m=_ro(snap))


def _ro(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr.setflags(write=False)
    return arr


def _free_id(plan: Plan) -> str:
    taken = set(plan.stations["id"].astype(str))
    k = 1
    while f"{NEW_ID_PREFIX}{k}" in taken:
        k += 1
    return f"{NEW_ID_PREFIX}{k}"


def _point(lon: float, lat: float, *, row: int | None = None) -> shapely.Point:
    where = f"Station table, row {row}: " if row is not None else ""
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError) as err:
        msg = f"{where}longitude and latitude must be numbers, got {lon!r}, {lat!r}."
        raise InputDataError(msg) from err
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        msg = f"{where}longitude {lon!r} is outside -180..180 (WGS84 degrees expected)."
        raise InputDataError(msg)
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        msg = f"{where}latitude {lat!r} is outside -90..90 (WGS84 degrees expected)."
        raise InputDataError(msg)
    return shapely.Point(float(lon), float(lat))


def _coordinate(value: object, column: str, row: int) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out):
        msg = f"Station table, row {row}: {column} is missing or not a number ({value!r})."
        raise InputDataError(msg)
    return out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()
