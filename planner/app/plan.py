"""The editable plan's state: stations on a study area with their coverage, never modified.

A :class:`Plan` holds the stations, each station's reach (its row of the sparse stations x
homes reach matrix) and isochrone bands, and the multi-source search for every home's
nearest station; its figures and layers are computed from these on first use.
:func:`build_plan` makes one in full (one bounded search per station); the edits of
:mod:`planner.app.edits` make new plans from an old one, recomputing only what the edit
changes, through :func:`derive_plan`. The heavy parts (network, snapped homes) live in the
shared :class:`~planner.app.study_area.StudyArea`; arrays are shared between plans wherever
an edit does not change them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner.app.area_files import gap_zones
from planner.app.station_rows import (
    Reach,
    StationBands,
    StationMemo,
    read_only,
    station_bands,
    station_reach,
)
from planner.app.study_area import StudyArea, normalise_stations
from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.sources.coords import WGS84
from planner.walk.access import (
    NodeDistances,
    Snapped,
    nearest_station_distances,
    point_distances,
    snap_points,
)
from planner.walk.coverage import AREA_POLYGON_OPTIONS, CoverageResult, network_facts
from planner.walk.gaps import (
    GapClusters,
    gap_table_from_arrays,
    outlines_wgs84,
    update_clusters,
)
from planner.walk.isochrones import isochrone_polygons
from planner.walk.layers import demand_layer, station_layer

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


#: Prefix of the ids given to stations added without one.

#: Up to this many stations, the coverage bands are the union of the stations' own bands
#: (kept per station, so an edit builds one station's); above, one pass over the streets.
UNION_MAX_STATIONS = 20


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
    parent_outlines
        Those zones' outlines in WGS84, by zone label, when they had been reprojected:
        the zones an edit leaves alone are not reprojected again.
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
    parent_outlines: Mapping[int, shapely.Geometry] | None = None

    # ----------------------------------------------------------------- figures

    @property
    def covered(self) -> npt.NDArray[np.bool_]:
        """Per home, within the walk limit of a station."""
        return self.home_dist_m <= self.config.walk_limit_m

    @property
    def population(self) -> FloatArray:
        """Per home, its population (the area's, read-only)."""
        return self.area.population

    @cached_property
    def walk_min(self) -> FloatArray:
        """Per home, walk minutes to the nearest station (NaN when none is reachable)."""
        return walk_minutes(self.home_dist_m, self.config)

    @property
    def off_network(self) -> npt.NDArray[np.bool_]:
        """Per home, farther than the snap distance from every street."""
        return ~self.area.demand_snap.on_network

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
        return np.array([r.population for r in self.reach], dtype=float)

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

    @cached_property
    def station_ids(self) -> npt.NDArray[np.object_]:
        """Station ids (text) by position."""
        ids: npt.NDArray[np.object_] = np.asarray(self.stations["id"].astype(str), dtype=object)
        return read_only(ids)

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
            self.station_ids,
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
        """Which gap zone each unserved home is in (updated from the parent's, or stored)."""
        unserved = ~self.covered
        link = self.config.gap_link_m
        if self.parent_gaps is None:
            return gap_zones(self.area.demand_xy, unserved, link_m=link, crs=self.area.network.crs)
        return update_clusters(
            self.parent_gaps, self.area.demand_xy, self.area.demand_tree, unserved, link_m=link
        )

    @cached_property
    def gap_outlines(self) -> Mapping[int, shapely.Geometry]:
        """Each gap zone's outline in WGS84, by zone label (only new zones reprojected)."""
        return outlines_wgs84(self.gap_clusters, self.area.network.crs, known=self.parent_outlines)

    @cached_property
    def gaps(self) -> gpd.GeoDataFrame:
        """Gap zones from the unserved homes, as :attr:`CoverageResult.gaps`.

        Built from the plan's per-home arrays (no demand layer), the same table as
        :func:`planner.walk.gaps.gap_table` gives from the demand layer.
        """
        return gap_table_from_arrays(
            self.gap_clusters,
            population=self.population,
            walk_min=self.walk_min,
            off_network=self.off_network,
            home_nearest=self.home_nearest,
            station_ids=self.station_ids,
            outlines=self.gap_outlines,
        )

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
                **AREA_POLYGON_OPTIONS,
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
            isochrone_layer=self.isochrones,
            area_layer=self.coverage_area,
            gaps=self.gaps,
            network_facts=network_facts(self.area.network),
        )

    def summary(self) -> dict[str, Any]:
        """Headline figures without building polygons (gap zones are built)."""
        out = CoverageResult(
            config=self.config,
            stations=self.stations_out,
            demand=self.demand_out,
            isochrone_layer=_EMPTY_POLYS,
            area_layer=_EMPTY_POLYS,
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
    memo: StationMemo | None = None,
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
    memo
        Searches already made for stations at the same coordinates under the same
        settings, on the same area; filled with this plan's. Building many plans that
        share most stations (a project's undo history) then costs one search per distinct
        station. The caller keeps one memo per study area.

    Returns
    -------
    Plan
        The plan with all its figures.
    """
    cfg = config or AnalysisConfig()
    area = area.with_max_snap(cfg.max_snap_m)
    table = normalise_stations(area.stations if stations is None else stations)
    snapped = snap_points(area.network, table.geometry, max_snap_m=cfg.max_snap_m)
    xy = shapely.get_coordinates(table.geometry.to_numpy())
    found: list[tuple[Reach, StationBands]] = []
    for i in range(len(table)):
        key = (float(xy[i, 0]), float(xy[i, 1]), cfg)
        if memo is not None and key in memo:
            found.append(memo[key])
            continue
        one = _single(snapped, i)
        pair = (station_reach(area, cfg, one), station_bands(area.network, cfg, one))
        if memo is not None:
            memo[key] = pair
        found.append(pair)
    reach = tuple(r for r, _ in found)
    bands = tuple(b for _, b in found)
    within = np.zeros(len(area.demand), dtype=np.int64)
    for r in reach:
        within[r.homes] += 1
    return derive_plan(area, cfg, table, snapped, reach, bands, within)


def with_config(plan: Plan, config: AnalysisConfig) -> Plan:
    """The same stations under other settings (a full recompute)."""
    if config == plan.config:
        return plan
    return build_plan(plan.area, plan.stations, config=config)


# ------------------------------------------------------------- building blocks


@dataclass(frozen=True, eq=False)
class SearchUpdate:
    """What an edit changed in the multi-source search (for :func:`derive_plan`).

    Attributes
    ----------
    node_dist
        The search over the edited plan's stations, updated
        (:mod:`planner.walk.nearest_update`).
    relabel
        Per station position in the plan edited, its position after the edit (``-1`` for
        a removed station).
    streets
        The streets of the stations the edit added, moved (from and to) or removed.
    """

    node_dist: NodeDistances
    relabel: IntArray
    streets: IntArray


def derive_plan(
    area: StudyArea,
    config: AnalysisConfig,
    stations: gpd.GeoDataFrame,
    snapped: Snapped,
    reach: tuple[Reach, ...],
    bands: tuple[StationBands, ...],
    within_count: IntArray,
    *,
    parent: Plan | None = None,
    update: SearchUpdate | None = None,
) -> Plan:
    """Finish a plan: every home's walk distance to its nearest station.

    The building block of :func:`build_plan` and of every edit (:mod:`planner.app.edits`).
    Without ``update`` the multi-source search runs in full and every home is placed on
    it; with an edit's ``update`` (and its ``parent``), only the homes on streets whose
    ends changed, or on the edited stations' streets, are placed again: the others keep
    their distance and nearest station (relabelled), as a full pass would give them.
    """
    if update is None or parent is None:
        node_dist = nearest_station_distances(area.network, snapped)
        dist, nearest = point_distances(area.network, node_dist, snapped, area.demand_snap)
    else:
        node_dist = update.node_dist
        dist, nearest = _homes_again(area, parent, update, snapped)
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
        home_dist_m=read_only(dist),
        home_nearest=read_only(nearest),
        **({} if parent is None else inherited_gaps(parent)),
    )


def _homes_again(
    area: StudyArea, parent: Plan, update: SearchUpdate, snapped: Snapped
) -> tuple[FloatArray, IntArray]:
    """Homes' distances and nearest stations after an edit, placing only those it touches."""
    before = parent.node_dist
    after = update.node_dist
    changed = (after.dist_m != before.dist_m) | (
        after.nearest != _relabelled(before.nearest, update.relabel)
    )
    homes = area.demand_snap
    u, v = area.demand_ends
    on_street = np.zeros(area.network.edge_length_m.size, dtype=bool)
    on_street[update.streets[update.streets >= 0]] = True
    redo = np.flatnonzero(
        homes.on_network & (changed[u] | changed[v] | on_street[np.maximum(homes.edge, 0)])
    )
    dist = parent.home_dist_m.copy()
    nearest = _relabelled(parent.home_nearest, update.relabel)
    some = Snapped(
        index=pd.RangeIndex(redo.size),
        edge=homes.edge[redo],
        offset_m=homes.offset_m[redo],
        snap_m=homes.snap_m[redo],
    )
    dist[redo], nearest[redo] = point_distances(area.network, after, snapped, some)
    return dist, nearest


def _relabelled(positions: IntArray, relabel: IntArray) -> IntArray:
    """Station positions after an edit (``-1`` stays ``-1``; a removed station gives ``-1``)."""
    if relabel.size == 0:
        return np.full(positions.size, -1, dtype=np.int64)
    out: IntArray = np.where(positions >= 0, relabel[np.maximum(positions, 0)], -1)
    return out.astype(np.int64)


def inherited_gaps(plan: Plan) -> dict[str, Any]:
    """What a plan edited from ``plan`` updates its gap zones from (:class:`Plan` fields).

    ``parent_gaps``: the plan's gap zones if built, else those it would be updated from;
    ``parent_outlines``: the outlines in WGS84 known for them. Labels are never reused
    along a line of edits, so outlines known for an older plan's zones are still right
    for the zones that kept their label.
    """
    built: GapClusters | None = plan.__dict__.get("gap_clusters")
    outlines: Mapping[int, shapely.Geometry] | None = plan.__dict__.get("gap_outlines")
    return {
        "parent_gaps": built if built is not None else plan.parent_gaps,
        "parent_outlines": outlines if outlines is not None else plan.parent_outlines,
    }


def walk_minutes(dist_m: FloatArray, config: AnalysisConfig) -> FloatArray:
    """Walk minutes from walk distances (NaN where the distance is infinite), read-only."""
    out: FloatArray = np.where(np.isfinite(dist_m), dist_m / config.metres_per_minute, np.nan)
    return read_only(out)


def _single(snapped: Snapped, k: int) -> Snapped:
    return Snapped(
        index=snapped.index[k : k + 1],
        edge=snapped.edge[k : k + 1],
        offset_m=snapped.offset_m[k : k + 1],
        snap_m=snapped.snap_m[k : k + 1],
    )
