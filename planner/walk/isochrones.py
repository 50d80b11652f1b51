"""Isochrones: the streets and the area within a walk limit of stations, as geometry.

Built from the node distances of :mod:`planner.walk.access`: each street is cut where the
limit runs out (:func:`reached_edge_parts`) and the reached pieces are buffered into nested
band polygons (:func:`isochrone_polygons`). No hull is drawn, so a band does not bridge
rivers or railways that the network does not cross.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner.walk.access import Snapped
from planner.walk.network import WalkNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def reached_edge_parts(
    network: WalkNetwork,
    node_dist_m: FloatArray,
    stations: Snapped,
    *,
    limit_m: float,
) -> gpd.GeoSeries:
    """Street pieces within ``limit_m`` of the stations, cut at the limit.

    Parameters
    ----------
    network
        The walking network.
    node_dist_m
        Distance from each node to the nearest of ``stations`` (at least up to ``limit_m``).
    stations
        The stations the distances were computed from (their own streets are reached
        directly from the station's position).
    limit_m
        Walk limit in metres.

    Returns
    -------
    geopandas.GeoSeries
        LineStrings in the network's CRS, indexed by edge position (one edge may appear
        twice when it is reached from both ends but not in the middle).
    """
    whole, piece_edge, piece = _reached(network, node_dist_m, stations, limit_m=limit_m)
    geoms = network.edges.geometry.to_numpy()
    idx = np.concatenate([whole, piece_edge])
    out = np.concatenate([geoms[whole], piece])
    return gpd.GeoSeries(out, index=pd.Index(idx, name="edge"), crs=network.crs)


def isochrone_polygons(
    network: WalkNetwork,
    node_dist_m: FloatArray,
    stations: Snapped,
    *,
    limits_m: tuple[float, ...],
    buffer_m: float,
    quad_segs: int = 3,
    simplify_m: float = 0.0,
    workers: int = 1,
) -> list[shapely.Geometry]:
    """Nested isochrone polygons, one per limit, built from reached street pieces.

    Parameters
    ----------
    network
        The walking network.
    node_dist_m
        Distance from each node to the nearest of ``stations``, at least up to the largest
        limit.
    stations
        The stations the distances were computed from.
    limits_m
        Ascending limits in metres.
    buffer_m
        Half-width of the strip around each reached street piece.
    quad_segs
        Segments per quarter circle of the buffers' round ends. 2 instead of 3 moves the
        outline by about 0.2 m on average and halves the union's work. Against true circles
        (40 m, 1 m simplification) the outline is about 1.4 m inside on average and up to
        6 m inside at worst where GEOS's 2-segment ends and joins cut a corner (measured
        on the bundled Helsinki extract, ``tests/walk/test_isochrones.py``).
    simplify_m
        Simplify the street pieces by this tolerance (metres) before buffering; 0 keeps
        them as they are. 1 m moves the outline by at most 1 m.
    workers
        Threads (GEOS releases the GIL): each band's new pieces are cut into this many
        vertical strips and the strips of all bands are queued at once, so that later
        bands are unioned while earlier ones are merged (on Porto metro, 3,000 stations:
        8.4-8.9 s against 10.0-10.8 s with one band at a time, the same CPU and areas).
        1 unions each band's pieces in one call.

    Returns
    -------
    list of shapely geometries
        One (Multi)Polygon per limit, each containing the previous one (bands are nested by
        construction: each is the union of the previous band and the streets it adds).

    Notes
    -----
    Streets are buffered piece by piece and then unioned; buffering one merged line set
    gives the same polygon many times slower. No convex or concave hull is used, so the
    polygon does not bridge rivers or railways that the network does not cross.
    """
    geoms = network.edges.geometry.to_numpy()
    rings: list[npt.NDArray[np.object_]] = []  # each band's new street pieces
    done = np.zeros(len(geoms), dtype=bool)  # edges wholly inside the previous band
    for limit in limits_m:
        whole, piece_edge, piece = _reached(network, node_dist_m, stations, limit_m=limit)
        new_whole = whole[~done[whole]]
        rings.append(np.concatenate([geoms[new_whole], piece[~done[piece_edge]]]))
        done[whole] = True

    def ring_part(lines: npt.NDArray[np.object_]) -> shapely.Geometry:
        if simplify_m > 0:
            lines = shapely.simplify(lines, simplify_m)
        buffers = shapely.buffer(lines, buffer_m, quad_segs=quad_segs)
        return shapely.disjoint_subset_union_all(buffers)

    # Each band's new streets are unioned on their own (cheaper than feeding the large
    # previous polygon into the many-piece union), then merged with the previous band.
    # With workers > 1, every band's strips are queued at once: the pool unions later
    # bands while this thread merges the earlier ones (GEOS releases the GIL).
    out: list[shapely.Geometry] = []
    previous: shapely.Geometry = shapely.Polygon()  # an empty band stays a polygon
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        parts = [[pool.submit(ring_part, s) for s in _strips(lines, workers)] for lines in rings]
        for band in parts:
            pieces = [f.result() for f in band]
            ring = pieces[0] if len(pieces) == 1 else shapely.union_all(np.array(pieces, object))
            if not shapely.is_empty(ring):  # the first band's ring is not unioned again
                previous = ring if shapely.is_empty(previous) else shapely.union(previous, ring)
            out.append(previous)
    return out


# --------------------------------------------------------------------------- internals


def _strips(lines: npt.NDArray[np.object_], count: int) -> list[npt.NDArray[np.object_]]:
    """``lines`` in ``count`` vertical strips of equal count (by the x of their centre).

    One strip when ``count`` is 1 or there are too few lines to be worth a thread each.
    """
    if count <= 1 or len(lines) < 1000:
        return [lines]
    x = shapely.get_coordinates(shapely.centroid(lines))[:, 0]
    return list(np.array_split(lines[np.argsort(x, kind="stable")], count))


def _reached(
    network: WalkNetwork, node_dist_m: FloatArray, stations: Snapped, *, limit_m: float
) -> tuple[IntArray, IntArray, npt.NDArray[np.object_]]:
    """Edges reached whole; and the edges reached only in part with their reached pieces.

    An edge is reached from its ends (``limit_m`` minus each end's distance, along the
    edge) and from each station on it (``limit_m`` either way from the station); the
    spans of one edge are merged (touching spans join), all edges at once. An edge whose
    spans cover it is returned as it is; otherwise each merged span is cut out of its line
    (:func:`_substrings`). Pieces come ordered by edge, then along the edge.
    """
    length = network.edge_length_m
    from_u = np.clip(limit_m - node_dist_m[network.edge_u], 0.0, length)  # [0, from_u]
    from_v = np.clip(limit_m - node_dist_m[network.edge_v], 0.0, length)  # [len - from_v, len]
    whole_mask = (from_u + from_v >= length) & (length > 0)
    st_edge = stations.edge[stations.edge >= 0]
    st_off = stations.offset_m[stations.edge >= 0]
    st_off, st_edge = st_off[~whole_mask[st_edge]], st_edge[~whole_mask[st_edge]]
    partial = np.flatnonzero(~whole_mask & ((from_u > 0) | (from_v > 0)))
    edges = np.union1d(partial, st_edge)
    e = np.concatenate([edges, edges, st_edge])
    a = np.concatenate([np.zeros(edges.size), length[edges] - from_v[edges], st_off - limit_m])
    b = np.concatenate([from_u[edges], length[edges], st_off + limit_m])
    a, b = np.maximum(a, 0.0), np.minimum(b, length[e])
    keep = b > a
    e, a, b = e[keep], a[keep], b[keep]
    order = np.lexsort((b, a, e))
    e, a, b = e[order], a[order], b[order]
    # Per edge, the largest end of the spans so far (exact: a running maximum of ranks).
    rank = np.empty(b.size, dtype=np.int64)
    rank[np.argsort(b, kind="stable")] = np.arange(b.size)
    running = np.maximum.accumulate(e * max(b.size, 1) + rank) - e * max(b.size, 1)
    first = np.r_[True, e[1:] != e[:-1]] if e.size else np.zeros(0, dtype=bool)
    by_rank = np.sort(b)
    reach_before = np.where(first, -np.inf, by_rank[np.r_[0, running[:-1]]] if e.size else 0.0)
    starts = np.flatnonzero(first | (a > reach_before))
    m_edge, m_a = e[starts], a[starts]
    m_b = np.maximum.reduceat(b, starts) if starts.size else np.zeros(0)
    ln = length[m_edge]
    full = (m_a == 0.0) & (m_b == ln)
    geoms = network.edges.geometry.to_numpy()
    piece = np.empty(m_edge.size, dtype=object)
    piece[full] = geoms[m_edge[full]]
    cut = np.flatnonzero(~full)
    if cut.size:
        piece[cut] = _substrings(geoms[m_edge[cut]], m_a[cut] / ln[cut], m_b[cut] / ln[cut])
    return np.flatnonzero(whole_mask).astype(np.int64), m_edge.astype(np.int64), piece


def _substrings(
    lines: npt.NDArray[np.object_], start: FloatArray, end: FloatArray
) -> npt.NDArray[np.object_]:
    """The piece of each line between two fractions of its length (all lines at once).

    As :func:`shapely.ops.substring` with ``normalized=True`` and ``start < end``: the point
    at ``start``, the line's vertices strictly between, the point at ``end``.
    """
    total = shapely.length(lines)
    da, db = start * total, end * total
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    step = np.hypot(*np.diff(coords, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(np.where(owner[1:] == owner[:-1], step, 0.0))])
    first = np.r_[True, owner[1:] != owner[:-1]]
    along -= along[first][owner]
    inner = (along > da[owner]) & (along < db[owner])
    k = len(lines)
    xy = np.concatenate(
        [
            shapely.get_coordinates(shapely.line_interpolate_point(lines, da)),
            coords[inner],
            shapely.get_coordinates(shapely.line_interpolate_point(lines, db)),
        ]
    )
    which = np.concatenate([np.arange(k), owner[inner], np.arange(k)])
    slot = np.concatenate([np.zeros(k), np.ones(int(inner.sum())), np.full(k, 2.0)])
    seq = np.concatenate([np.zeros(k), np.flatnonzero(inner), np.zeros(k)])
    order = np.lexsort((seq, slot, which))
    return np.asarray(shapely.linestrings(xy[order], indices=which[order]), dtype=object)
