"""Gap zones: clusters of unserved homes, built in full or updated around an edit.

Unserved homes closer than ``gap_link_m`` to each other form one zone, outlined by the
union of ``gap_link_m / 2`` buffers around them. :func:`cluster_unserved` clusters every
unserved home; :func:`update_clusters` re-clusters only the zones an edit can change: the
zones holding a home that became served, and the zones near a home that became unserved.
Zones are local (a zone is a connected group of nearby homes), so every other zone stays
as it was. :func:`gap_table` turns either into the ``gaps`` layer of a coverage result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from planner.sources.coords import WGS84

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: ``status`` of homes off the street network (counted in ``homes_off_network``).
STATUS_OFF_NETWORK = "off_network"
GAP_COLUMNS = [
    "gap_id",
    "homes",
    "population",
    "walk_min_nearest",
    "walk_min_median",
    "nearest_station",
    "homes_off_network",
]


@dataclass(frozen=True, eq=False)
class GapClusters:
    """Which zone each unserved home is in, and each zone's outline.

    Attributes
    ----------
    zone_of
        Per home, the label of its zone; ``-1`` for served homes.
    outlines
        Zone label to outline (a polygon in the metric CRS the homes were given in).
    next_label
        The next unused label.
    outlines_wgs84
        The same outlines reprojected to WGS84, by label, when they are known already
        (zones read back from a cache); None when they are not.
    """

    zone_of: IntArray
    outlines: Mapping[int, shapely.Geometry]
    next_label: int
    outlines_wgs84: Mapping[int, shapely.Geometry] | None = None


def cluster_unserved(xy: FloatArray, unserved: BoolArray, *, link_m: float) -> GapClusters:
    """Cluster all unserved homes into gap zones.

    Parameters
    ----------
    xy
        Home coordinates in a metric CRS, shape ``(n, 2)``.
    unserved
        Per home, True when it is not within the walk limit of any station.
    link_m
        Homes closer than this form one zone.

    Returns
    -------
    GapClusters
        The zones.
    """
    zone_of = np.full(len(xy), -1, dtype=np.int64)
    homes = np.flatnonzero(unserved)
    labels, parts = _cluster(xy[homes], link_m)
    zone_of[homes] = labels
    zone_of.setflags(write=False)
    return GapClusters(zone_of=zone_of, outlines=dict(enumerate(parts)), next_label=len(parts))


def update_clusters(
    old: GapClusters,
    xy: FloatArray,
    tree: shapely.STRtree,
    unserved: BoolArray,
    *,
    link_m: float,
) -> GapClusters:
    """The zones after an edit, re-clustering only the zones it can change.

    Parameters
    ----------
    old
        The zones before the edit.
    xy
        Home coordinates (metric), as given to :func:`cluster_unserved`.
    tree
        Spatial index over ``shapely.points(xy)``.
    unserved
        Per home, unserved after the edit.
    link_m
        As for :func:`cluster_unserved`.

    Returns
    -------
    GapClusters
        The same zones as :func:`cluster_unserved` would give (up to labels).
    """
    was = old.zone_of >= 0
    became_served = np.flatnonzero(was & ~unserved)
    became_unserved = np.flatnonzero(~was & unserved)
    if became_served.size == 0 and became_unserved.size == 0:
        return old
    affected = set(old.zone_of[became_served].tolist())
    if became_unserved.size:
        # Homes within link_m of a newly unserved home: their zones may merge with it.
        # (A superset of the buffers that touch, which only re-clusters a little more.)
        _, near = tree.query(
            shapely.points(xy[became_unserved]), predicate="dwithin", distance=link_m
        )
        affected |= set(old.zone_of[near][old.zone_of[near] >= 0].tolist())
    members = np.isin(old.zone_of, np.fromiter(affected, dtype=np.int64, count=len(affected)))
    redo = np.flatnonzero((members & unserved) | (~was & unserved))
    labels, parts = _cluster(xy[redo], link_m)
    zone_of = old.zone_of.copy()
    zone_of[members | (was & ~unserved)] = -1
    zone_of[redo] = labels + old.next_label
    zone_of.setflags(write=False)
    outlines = {k: g for k, g in old.outlines.items() if k not in affected}
    outlines.update({old.next_label + i: g for i, g in enumerate(parts)})
    return GapClusters(zone_of=zone_of, outlines=outlines, next_label=old.next_label + len(parts))


def gap_table(
    clusters: GapClusters, demand: gpd.GeoDataFrame, crs: pyproj.CRS | str
) -> gpd.GeoDataFrame:
    """The gap-zone layer of a coverage result from the clusters.

    Parameters
    ----------
    clusters
        The zones.
    demand
        The demand layer (``population``, ``walk_min``, ``nearest_station``, ``status``),
        one row per home in the order of the clusters' homes.
    crs
        The metric CRS of the outlines.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gap_id`` (1 = most people; ties by more homes, then by the zone's first home),
        ``homes``, ``population``, ``walk_min_nearest``, ``walk_min_median``,
        ``nearest_station`` (the station nearest to the zone's nearest home),
        ``homes_off_network`` and the outline, in WGS84.
    """
    homes = np.flatnonzero(clusters.zone_of >= 0)
    if homes.size == 0:
        return _empty_gaps()
    zones = _zone_figures(
        clusters,
        homes,
        demand["population"].to_numpy(dtype=float)[homes],
        demand["walk_min"].to_numpy(dtype=float)[homes],
        demand["status"].to_numpy()[homes] == STATUS_OFF_NETWORK,
    )
    found = demand["nearest_station"].iloc[zones.best_home]
    nearest = [None if pd.isna(v) else str(v) for v in found]
    outlines = outlines_wgs84(clusters, crs)
    return _gap_frame(zones, nearest, outlines)


def gap_table_from_arrays(
    clusters: GapClusters,
    *,
    population: FloatArray,
    walk_min: FloatArray,
    off_network: BoolArray,
    home_nearest: IntArray,
    station_ids: Sequence[str] | npt.NDArray[np.object_],
    outlines: Mapping[int, shapely.Geometry],
) -> gpd.GeoDataFrame:
    """The gap-zone layer from per-home arrays, as :func:`gap_table` gives it.

    What the app's plans use after each edit: no demand layer is built, and the outlines
    come already in WGS84 (:func:`outlines_wgs84`, kept per zone between edits).

    Parameters
    ----------
    clusters
        The zones.
    population, walk_min, off_network
        Per home: people, walk minutes to the nearest station (NaN when none is reachable)
        and whether it is off the street network.
    home_nearest
        Per home, the position of its nearest station (``-1`` when none).
    station_ids
        Station ids by position.
    outlines
        Each zone's outline in WGS84, by label (every label of ``clusters``).

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`gap_table`.
    """
    homes = np.flatnonzero(clusters.zone_of >= 0)
    if homes.size == 0:
        return _empty_gaps()
    zones = _zone_figures(clusters, homes, population[homes], walk_min[homes], off_network[homes])
    best = home_nearest[zones.best_home]
    ids = np.asarray(station_ids, dtype=object)
    found = np.flatnonzero(zones.reachable & (best >= 0))
    nearest: list[str | None] = [None] * best.size
    for k, sid in zip(found.tolist(), ids[best[found]].tolist(), strict=True):
        nearest[k] = str(sid)
    return _gap_frame(zones, nearest, outlines)


def outlines_wgs84(
    clusters: GapClusters,
    crs: pyproj.CRS | str,
    known: Mapping[int, shapely.Geometry] | None = None,
) -> dict[int, shapely.Geometry]:
    """Each zone's outline reprojected to WGS84, by label.

    Parameters
    ----------
    clusters
        The zones (outlines in the metric ``crs``).
    crs
        The CRS of the outlines.
    known
        Outlines already reprojected, by label, from the zones these were updated from
        (:func:`update_clusters` keeps an unchanged zone's label and outline and gives new
        zones new labels): only the other zones are reprojected. When None, the
        clusters' own ``outlines_wgs84`` (if any) are used as known.

    Returns
    -------
    dict
        Label to outline in WGS84, for every zone of ``clusters``.
    """
    have = known if known is not None else (clusters.outlines_wgs84 or {})
    out = {k: have[k] for k in clusters.outlines if k in have}
    todo = [k for k in clusters.outlines if k not in out]
    if todo:
        geoms = gpd.GeoSeries([clusters.outlines[k] for k in todo], crs=crs).to_crs(WGS84)
        out.update(zip(todo, geoms.to_numpy(), strict=True))
    return out


@dataclass(frozen=True, eq=False)
class _Zones:
    """Per zone (one row each, ordered by label): figures and the home they come from."""

    label: IntArray
    first: IntArray
    homes: IntArray
    population: FloatArray
    walk_min_nearest: FloatArray
    walk_min_median: FloatArray
    off_network: IntArray
    best_home: IntArray
    reachable: BoolArray


def _zone_figures(
    clusters: GapClusters,
    homes: IntArray,
    population: FloatArray,
    walk_min: FloatArray,
    off_network: BoolArray,
) -> _Zones:
    """Group the unserved ``homes`` (ascending) by zone, in numpy.

    ``walk_min_nearest`` and ``walk_min_median`` skip homes with no reachable station (NaN
    when the zone has none); ``best_home`` is the zone's first home (in home order) with
    the shortest walk.
    """
    zone = clusters.zone_of[homes]
    reach = np.where(np.isnan(walk_min), np.inf, walk_min)
    # by zone, then walk time, then home (lexsort is stable and homes are ascending)
    order = np.lexsort((reach, zone))
    z_sorted, r_sorted = zone[order], reach[order]
    starts = np.flatnonzero(np.r_[True, z_sorted[1:] != z_sorted[:-1]])
    size = np.diff(np.r_[starts, z_sorted.size])
    finite = np.add.reduceat(np.isfinite(r_sorted).astype(np.int64), starts)
    mid_lo = starts + np.maximum(finite - 1, 0) // 2
    mid_hi = starts + np.maximum(finite, 1) // 2
    median = np.where(finite > 0, (r_sorted[mid_lo] + r_sorted[mid_hi]) / 2.0, np.nan)
    median = np.where(finite % 2 == 1, r_sorted[mid_lo], median)
    nearest = r_sorted[starts]
    best = order[starts]
    by_home = np.argsort(zone, kind="stable")  # by zone, then home: each zone's first home
    return _Zones(
        label=z_sorted[starts],
        first=homes[by_home[starts]],
        homes=size.astype(np.int64),
        population=np.asarray(
            np.bincount(
                np.searchsorted(z_sorted[starts], zone), weights=population, minlength=starts.size
            ),
            dtype=np.float64,
        ),
        walk_min_nearest=np.where(np.isfinite(nearest), nearest, np.nan),
        walk_min_median=median,
        off_network=np.add.reduceat(off_network[order].astype(np.int64), starts),
        best_home=homes[best],
        reachable=np.isfinite(nearest),
    )


def _gap_frame(
    zones: _Zones, nearest: list[str | None], outlines: Mapping[int, shapely.Geometry]
) -> gpd.GeoDataFrame:
    """The layer: zones ordered by people, then homes (both descending), then first home."""
    rank = np.lexsort((zones.first, -zones.homes, -zones.population))
    table = pd.DataFrame(
        {
            "gap_id": np.arange(1, rank.size + 1, dtype=np.int64),
            "homes": zones.homes[rank],
            "population": zones.population[rank],
            "walk_min_nearest": zones.walk_min_nearest[rank],
            "walk_min_median": zones.walk_min_median[rank],
            "nearest_station": pd.Series([nearest[i] for i in rank], dtype=object),
            "homes_off_network": zones.off_network[rank],
        }
    )
    geoms = [outlines[int(z)] for z in zones.label[rank]]
    return gpd.GeoDataFrame(table, geometry=geoms, crs=WGS84)


def _empty_gaps() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS}, geometry=[], crs=WGS84)


def _cluster(xy: FloatArray, link_m: float) -> tuple[IntArray, list[shapely.Geometry]]:
    """Zone of each point (0..k-1) and the k zone outlines, by buffer-and-union.

    The union is taken per group of points linked by steps of at most ``link_m`` (buffers
    of points farther apart cannot touch), not over all points at once: the same outlines,
    without merging far-apart pieces (about half the time at 50,000 homes).
    """
    n = len(xy)
    if n == 0:
        return np.empty(0, dtype=np.int64), []
    discs = shapely.buffer(shapely.points(xy), link_m / 2.0, quad_segs=4)
    pairs = cKDTree(xy).query_pairs(link_m, output_type="ndarray")
    linked = sparse.coo_array(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, group = csgraph.connected_components(linked, directed=False)
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    ends = np.r_[starts[1:], n]
    labels = np.full(n, -1, dtype=np.int64)
    parts: list[shapely.Geometry] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        members = order[a:b]
        if b - a == 1:
            labels[members] = len(parts)
            parts.append(discs[members[0]])
            continue
        pieces = shapely.get_parts(shapely.union_all(discs[members]))
        if len(pieces) == 1:
            labels[members] = len(parts)
        else:  # linked by distance, yet the buffers do not all touch: which piece holds each
            pt_idx, piece_idx = shapely.STRtree(pieces).query(
                shapely.points(xy[members]), predicate="within"
            )
            labels[members[pt_idx]] = len(parts) + piece_idx
        parts.extend(pieces)
    return labels, parts
