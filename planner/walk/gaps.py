"""Gap zones: clusters of unserved homes, built in full or updated around an edit.

Unserved homes closer than ``gap_link_m`` to each other form one zone, outlined by the
union of ``gap_link_m / 2`` buffers around them. :func:`cluster_unserved` clusters every
unserved home; :func:`update_clusters` re-clusters only the zones an edit can change: the
zones holding a home that became served, and the zones near a home that became unserved.
Zones are local (a zone is a connected group of nearby homes), so every other zone stays
as it was. :func:`gap_table` turns either into the ``gaps`` layer of a coverage result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

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
    """

    zone_of: IntArray
    outlines: Mapping[int, shapely.Geometry]
    next_label: int


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
        return gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS}, geometry=[], crs=WGS84)
    walk = demand["walk_min"].to_numpy(dtype=float)[homes]
    table = pd.DataFrame(
        {
            "zone": clusters.zone_of[homes],
            "first": homes,
            "population": demand["population"].to_numpy(dtype=float)[homes],
            "walk_min": walk,
            "reach": np.where(np.isnan(walk), np.inf, walk),
            "off": (demand["status"].to_numpy()[homes] == STATUS_OFF_NETWORK),
        }
    )
    nearest_ids = demand["nearest_station"].to_numpy(dtype=object)[homes]
    groups = table.groupby("zone", sort=True)
    summary = groups.agg(
        first=("first", "min"),
        homes=("first", "size"),
        population=("population", "sum"),
        walk_min_nearest=("walk_min", "min"),
        walk_min_median=("walk_min", "median"),
        homes_off_network=("off", "sum"),
    )
    best = groups["reach"].idxmin()  # first home with the shortest walk, in home order
    reachable = np.isfinite(table["reach"].to_numpy()[best.to_numpy()])
    nearest = np.where(reachable, nearest_ids[best.to_numpy()], None)
    summary["nearest_station"] = pd.Series(
        [None if pd.isna(v) else str(v) for v in nearest], index=summary.index, dtype=object
    )
    summary["homes_off_network"] = summary["homes_off_network"].astype(np.int64)
    summary = summary.sort_values(
        ["population", "homes", "first"], ascending=[False, False, True], kind="mergesort"
    )
    summary.insert(0, "gap_id", np.arange(1, len(summary) + 1))
    geoms = [clusters.outlines[int(z)] for z in summary.index]
    out = gpd.GeoDataFrame(summary[GAP_COLUMNS].reset_index(drop=True), geometry=geoms, crs=crs)
    return out.to_crs(WGS84)


def _cluster(xy: FloatArray, link_m: float) -> tuple[IntArray, list[shapely.Geometry]]:
    """Zone of each point (0..k-1) and the k zone outlines, by buffer-and-union."""
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64), []
    pts = shapely.points(xy)
    parts = list(
        shapely.get_parts(shapely.union_all(shapely.buffer(pts, link_m / 2.0, quad_segs=4)))
    )
    pt_idx, zone_idx = shapely.STRtree(parts).query(pts, predicate="within")
    labels = np.full(len(pts), -1, dtype=np.int64)
    labels[pt_idx] = zone_idx
    return labels, parts
