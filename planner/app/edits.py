"""Edits of the plan: add, move, delete and rename stations, with incremental recompute.

A :class:`~planner.app.plan.Plan` is immutable: :func:`add_station`, :func:`move_station`,
:func:`remove_station` and :func:`update_station` return a *new* plan and leave the old one
as it was, so undo is keeping the previous plans. :func:`station_table` and
:func:`apply_station_table` edit the plan as a table (the app's editable table).

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
(``tests/app/test_edits.py`` checks it after random sequences of edits).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.app.plan import Plan, SearchUpdate, derive_plan, inherited_gaps
from planner.app.station_rows import read_only, station_bands, station_reach
from planner.errors import InputDataError, Term
from planner.sources.coords import WGS84
from planner.walk.access import NodeDistances, Snapped, snap_points
from planner.walk.nearest_update import with_station_added, with_station_removed

#: Prefix of the ids given to stations added without one.
NEW_ID_PREFIX = "new-"
#: Columns of :func:`station_table` (and of the app's editable table).
TABLE_COLUMNS = ("id", "name", "category", "lon", "lat")
#: A move shorter than this (degrees, about 1 cm) is no move.
_SAME_PLACE_DEG = 1e-7


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
    if sid in set(plan.station_ids.tolist()):
        raise InputDataError(key="err_id_in_plan", id=repr(sid))
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
    new = station_reach(plan.area, plan.config, one)
    within = plan.within_count.copy()
    within[new.homes] += 1
    return derive_plan(
        plan.area,
        plan.config,
        table,
        snapped,
        (*plan.reach, new),
        (*plan.bands, station_bands(plan.area.network, plan.config, one)),
        within,
        parent=plan,
        update=SearchUpdate(
            node_dist=_added(plan, plan.node_dist, one, len(plan.stations)),
            relabel=np.arange(len(plan.stations)),
            streets=one.edge,
        ),
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
    new = station_reach(plan.area, plan.config, one)
    within = plan.within_count.copy()
    within[plan.reach[k].homes] -= 1
    within[new.homes] += 1
    reach = (*plan.reach[:k], new, *plan.reach[k + 1 :])
    bands = (
        *plan.bands[:k],
        station_bands(plan.area.network, plan.config, one),
        *plan.bands[k + 1 :],
    )
    gone = _replace_at(plan.snapped, k, _NOWHERE)  # the search without it, then with it
    keep = np.arange(len(plan.stations))
    keep[k] = -1
    without = with_station_removed(plan.area.network, plan.node_dist, k, gone, relabel=keep)
    return derive_plan(
        plan.area,
        plan.config,
        table,
        snapped,
        reach,
        bands,
        within,
        parent=plan,
        update=SearchUpdate(
            node_dist=_added(plan, without, one, k),
            relabel=np.arange(len(plan.stations)),
            streets=np.array([plan.snapped.edge[k], one.edge[0]]),
        ),
    )


def remove_station(plan: Plan, station_id: str) -> Plan:
    """A new plan without one station; no search but the multi-source one is redone."""
    k = plan.position(station_id)
    table = plan.stations.drop(index=k).reset_index(drop=True)
    keep = np.arange(len(plan.stations)) != k
    snapped = Snapped(
        index=table.index,
        edge=read_only(plan.snapped.edge[keep]),
        offset_m=read_only(plan.snapped.offset_m[keep]),
        snap_m=read_only(plan.snapped.snap_m[keep]),
    )
    within = plan.within_count.copy()
    within[plan.reach[k].homes] -= 1
    reach = (*plan.reach[:k], *plan.reach[k + 1 :])
    bands = (*plan.bands[:k], *plan.bands[k + 1 :])
    relabel = np.arange(len(plan.stations)) - (np.arange(len(plan.stations)) > k)
    relabel[k] = -1
    node_dist = with_station_removed(plan.area.network, plan.node_dist, k, snapped, relabel=relabel)
    return derive_plan(
        plan.area,
        plan.config,
        table,
        snapped,
        reach,
        bands,
        within,
        parent=plan,
        update=SearchUpdate(
            node_dist=node_dist, relabel=relabel, streets=plan.snapped.edge[k : k + 1]
        ),
    )


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
    return replace(plan, stations=table, **inherited_gaps(plan))


def is_off_network(plan: Plan, station_id: str) -> bool:
    """Whether a station lies farther than ``max_snap_m`` from every street (serves nobody).

    A station typed far outside the study area is one; the app warns when one is added.
    """
    return not bool(plan.snapped.on_network[plan.position(station_id)])


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
            raise InputDataError(key="err_table_duplicate_id", row=row_no, id=repr(sid))
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


#: A station with no street: removed from the multi-source search.
_NOWHERE = Snapped(
    index=pd.RangeIndex(1),
    edge=np.array([-1], dtype=np.int64),
    offset_m=np.zeros(1),
    snap_m=np.array([np.nan]),
)


def _added(plan: Plan, before: NodeDistances, one: Snapped, position: int) -> NodeDistances:
    """The multi-source search with station ``one`` added at ``position``."""
    return with_station_added(
        plan.area.network,
        before,
        one,
        position,
        start_limit_m=2.0 * plan.config.walk_limit_m,
    )


def _concat(a: Snapped, b: Snapped, index: pd.Index) -> Snapped:
    return Snapped(
        index=index,
        edge=read_only(np.concatenate([a.edge, b.edge])),
        offset_m=read_only(np.concatenate([a.offset_m, b.offset_m])),
        snap_m=read_only(np.concatenate([a.snap_m, b.snap_m])),
    )


def _replace_at(a: Snapped, k: int, one: Snapped) -> Snapped:
    edge, offset, snap = a.edge.copy(), a.offset_m.copy(), a.snap_m.copy()
    edge[k], offset[k], snap[k] = one.edge[0], one.offset_m[0], one.snap_m[0]
    return Snapped(
        index=a.index, edge=read_only(edge), offset_m=read_only(offset), snap_m=read_only(snap)
    )


def _free_id(plan: Plan) -> str:
    taken = set(plan.station_ids.tolist())
    k = 1
    while f"{NEW_ID_PREFIX}{k}" in taken:
        k += 1
    return f"{NEW_ID_PREFIX}{k}"


def _point(lon: float, lat: float, *, row: int | None = None) -> shapely.Point:
    where: Term | str = Term("where_table_row", (("row", row),)) if row is not None else ""
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError) as err:
        raise InputDataError(
            key="err_coordinates_not_numbers", where=where, lon=repr(lon), lat=repr(lat)
        ) from err
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InputDataError(key="err_lon_range", where=where, lon=repr(lon))
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InputDataError(key="err_lat_range", where=where, lat=repr(lat))
    return shapely.Point(float(lon), float(lat))


def _coordinate(value: object, column: str, row: int) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out):
        raise InputDataError(
            key="err_table_coordinate",
            where=Term("where_table_row", (("row", row),)),
            column=Term(column),
            value=repr(value),
        )
    return out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()
