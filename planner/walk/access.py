"""Walk distances to the nearest station: snapping, and one multi-source search.

Points (stations, homes) are snapped to the nearest street *edge*, keeping their offset
along it; tunnels are walked through but never snapped to. A station is a source that
enters the network at both ends of its street: at ``offset`` metres from the ``u`` end and
``length - offset`` metres from the ``v`` end. A home is reached at
``min(d[u] + offset, d[v] + length - offset)``, or directly along the street when a station
stands on the same street.

The searches run scipy's compiled Dijkstra on the network's CSR matrix, augmented with one
virtual node per station (:func:`graph_with_stations`); their results equal networkx's
``multi_source_dijkstra`` on the same graph (``tests/walk/test_access.py`` checks this).
Which points each site reaches within a limit is :mod:`planner.walk.reach`; the polygons
cut from the node distances are :mod:`planner.walk.isochrones`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from planner.errors import InputDataError
from planner.walk.network import ZERO_LENGTH_M, WalkNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Threads :func:`snap_points` uses by default (the machines this runs on have 2 cores).
SNAP_WORKERS = 2
#: Points per nearest-street query when snapping (a chunk is one task of a thread).
SNAP_CHUNK = 65_536
#: Cell of the Z-curve along which points are snapped, metres.
SNAP_CELL_M = 50.0


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points placed on the street network.

    Attributes
    ----------
    index
        Index of the input points, in input order.
    edge
        Row position in ``network.edges`` of each point's street, ``-1`` when off-network.
    offset_m
        Distance along the street from its ``u`` end to the point's foot, metres.
    snap_m
        Straight-line distance from the point to its street, metres (NaN when off-network).
    """

    index: pd.Index
    edge: IntArray
    offset_m: FloatArray
    snap_m: FloatArray

    @property
    def on_network(self) -> npt.NDArray[np.bool_]:
        """True for points within the maximum snap distance of a street."""
        return self.edge >= 0

    def __len__(self) -> int:
        return int(self.edge.shape[0])


@dataclass(frozen=True, eq=False)
class NodeDistances:
    """Distance from every network node to its nearest station.

    Attributes
    ----------
    dist_m
        Walk distance in metres, ``inf`` where no station is within the search limit.
    nearest
        Position (in the snapped station set) of the nearest station, ``-1`` where none.
    limit_m
        The search limit in metres, or None for an unbounded search.
    """

    dist_m: FloatArray
    nearest: IntArray
    limit_m: float | None


def snap_points(
    network: WalkNetwork, points: gpd.GeoSeries, *, max_snap_m: float, workers: int = SNAP_WORKERS
) -> Snapped:
    """Snap points to their nearest street edge (tunnels excluded).

    Parameters
    ----------
    network
        The walking network.
    points
        Point geometries with a CRS; reprojected to the network's CRS. Not modified.
    max_snap_m
        Points farther than this from every street are marked off-network (``edge == -1``)
        instead of being moved.
    workers
        Threads that snap chunks of points at once (GEOS releases the GIL); 1 snaps in the
        calling thread. The result does not depend on it.

    Returns
    -------
    Snapped
        Street, offset along it, and snap distance per point, in input order.

    Notes
    -----
    The points are queried in the order of a Z-curve over cells of
    :data:`SNAP_CELL_M` (neighbours one after the other keep the spatial index's pages in
    the processor's cache: about 2.5 times less work for a million homes than the input
    order) and in chunks of :data:`SNAP_CHUNK` points, each answered by the same
    ``STRtree.query_nearest`` call on its own; each point's answer depends on that point
    only, so the order and the chunks change nothing.
    """
    if points.crs is None:
        msg = "Points have no CRS; set one (e.g. points.set_crs('EPSG:4326'))."
        raise InputDataError(msg)
    geoms = points.to_crs(network.crs).to_numpy()
    n = len(geoms)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.zeros(n, dtype=np.float64)
    snap = np.full(n, np.nan, dtype=np.float64)
    if n:
        order = spatial_order(geoms, cell_m=SNAP_CELL_M)
        chunks = [order[lo : lo + SNAP_CHUNK] for lo in range(0, n, SNAP_CHUNK)]
        tree = network.edge_tree
        lines = network.edges.geometry.to_numpy()
        lengths = network.edge_length_m

        def snap_chunk(pos: IntArray) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
            (pt_idx, tree_idx), dists = tree.query_nearest(
                geoms[pos], max_distance=max_snap_m, return_distance=True, all_matches=False
            )
            edge_idx = network.snap_edges[tree_idx]
            frac = shapely.line_locate_point(lines[edge_idx], geoms[pos[pt_idx]], normalized=True)
            return pos[pt_idx], edge_idx, dists, np.nan_to_num(frac, nan=0.0) * lengths[edge_idx]

        if workers > 1 and len(chunks) > 1:
            tree.query_nearest(geoms[:1])  # the tree is built before the threads share it
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="planner-snap") as pool:
                parts = list(pool.map(snap_chunk, chunks))
        else:
            parts = [snap_chunk(c) for c in chunks]
        for pos, edge_idx, dists, along in parts:
            edge[pos] = edge_idx
            snap[pos] = dists
            offset[pos] = along
    for arr in (edge, offset, snap):
        arr.setflags(write=False)
    return Snapped(index=points.index, edge=edge, offset_m=offset, snap_m=snap)


def spatial_order(geoms: npt.NDArray[np.object_], *, cell_m: float) -> IntArray:
    """Positions of point geometries along a Z-curve over square cells of ``cell_m``.

    Points in one cell keep their input order; empty or non-finite points come first.
    """
    box = shapely.bounds(geoms)  # NaN for empty points (get_x refuses them)
    x, y = box[:, 0], box[:, 1]
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return np.arange(len(geoms), dtype=np.int64)
    cx = np.zeros(len(geoms), dtype=np.int64)
    cy = np.zeros(len(geoms), dtype=np.int64)
    top = float(2**30)  # cells past it (absurd coordinates) share the last one
    cx[ok] = np.minimum(np.floor((x[ok] - x[ok].min()) / cell_m), top).astype(np.int64) + 1
    cy[ok] = np.minimum(np.floor((y[ok] - y[ok].min()) / cell_m), top).astype(np.int64) + 1
    return np.argsort(z_order(cx, cy), kind="stable").astype(np.int64)


def z_order(x: IntArray, y: IntArray) -> IntArray:
    """Morton (Z-curve) codes of non-negative integer cells (below 2**31 per axis)."""

    def spread(a: IntArray) -> npt.NDArray[np.uint64]:
        out = a.astype(np.uint64) & np.uint64(0x7FFFFFFF)
        for shift, mask in (
            (16, 0x0000FFFF0000FFFF),
            (8, 0x00FF00FF00FF00FF),
            (4, 0x0F0F0F0F0F0F0F0F),
            (2, 0x3333333333333333),
            (1, 0x5555555555555555),
        ):
            out = (out | (out << np.uint64(shift))) & np.uint64(mask)
        return out

    return (spread(x) | (spread(y) << np.uint64(1))).astype(np.int64)


def nearest_station_distances(
    network: WalkNetwork, stations: Snapped, *, limit_m: float | None = None
) -> NodeDistances:
    """Walk distance from every node to the nearest station, in one multi-source search.

    Parameters
    ----------
    network
        The walking network.
    stations
        Snapped stations; off-network stations are not sources.
    limit_m
        Stop the search at this distance (metres); None searches the whole network.

    Returns
    -------
    NodeDistances
        Distance and nearest-station position per node.
    """
    graph, sources = graph_with_stations(network, stations)
    n = network.n_nodes
    if sources.size == 0:
        return NodeDistances(
            dist_m=np.full(n, np.inf), nearest=np.full(n, -1, dtype=np.int64), limit_m=limit_m
        )
    dist, _, src = csgraph.dijkstra(
        graph,
        directed=True,
        indices=n + np.arange(sources.size),
        min_only=True,
        limit=np.inf if limit_m is None else limit_m,
        return_predecessors=True,
    )
    nearest = np.where(src[:n] >= 0, sources[np.maximum(src[:n] - n, 0)], -1).astype(np.int64)
    return NodeDistances(dist_m=np.asarray(dist[:n]), nearest=nearest, limit_m=limit_m)


def point_distances(
    network: WalkNetwork,
    node_dist: NodeDistances,
    stations: Snapped,
    points: Snapped,
) -> tuple[FloatArray, IntArray]:
    r"""Walk distance from snapped points to their nearest station.

    Parameters
    ----------
    network
        The walking network the points and stations were snapped to.
    node_dist
        Result of :func:`nearest_station_distances` for ``stations``.
    stations
        The same snapped stations.
    points
        Snapped points (homes).

    Returns
    -------
    dist_m, nearest
        Distance in metres (``inf`` when unreachable or off-network) and the position of
        the nearest station (``-1`` when none) per point.

    Notes
    -----
    A point at offset :math:`h` on street :math:`(u, v)` of length :math:`L` is at
    :math:`\min(d_u + h,\; d_v + L - h)`; a station at offset :math:`o` on the same street
    also reaches it directly at :math:`|o - h|`.
    """
    return _point_distances(network, node_dist.dist_m, node_dist.nearest, stations, points)


def single_station_distances(
    network: WalkNetwork, stations: Snapped, position: int, *, limit_m: float | None
) -> FloatArray:
    """Node distances from one station (by position in ``stations``), bounded by ``limit_m``."""
    only = _only(stations, position)
    return nearest_station_distances(network, only, limit_m=limit_m).dist_m


def graph_with_stations(
    network: WalkNetwork, stations: Snapped
) -> tuple[sparse.csr_array, IntArray]:
    """The network's CSR matrix with one virtual node per on-network station.

    Each virtual node is linked to both ends of its station's street, weighted by the
    distance along the street; a station on a self-loop gets two links to the same node,
    both the shorter way round. Every search of :mod:`planner.walk.access` and
    :mod:`planner.walk.reach` starts from these nodes.

    Parameters
    ----------
    network
        The walking network.
    stations
        Snapped stations (or candidate sites); off-network ones get no node.

    Returns
    -------
    matrix, sources
        The ``(n + k) x (n + k)`` matrix for ``n`` nodes and ``k`` on-network stations
        (virtual node ``n + j`` is the ``j``-th of them), and each virtual node's position
        in ``stations``.
    """
    sources = np.flatnonzero(stations.edge >= 0)
    base = network.csr
    n, k = network.n_nodes, sources.size
    e = stations.edge[sources]
    u, v, length = network.edge_u[e], network.edge_v[e], network.edge_length_m[e]
    off = stations.offset_m[sources]
    loop = u == v
    w_u = np.where(loop, np.minimum(off, length - off), off)
    w_v = np.where(loop, w_u, length - off)
    cols = np.empty(2 * k, dtype=np.int32)
    cols[0::2], cols[1::2] = u, v
    data = np.empty(2 * k, dtype=np.float64)
    data[0::2], data[1::2] = w_u, w_v
    np.maximum(data, ZERO_LENGTH_M, out=data)
    links = 2 * np.arange(1, k + 1, dtype=np.int32)
    indptr = np.concatenate([base.indptr, base.indptr[-1] + links])
    matrix = sparse.csr_array(
        (np.concatenate([base.data, data]), np.concatenate([base.indices, cols]), indptr),
        shape=(n + k, n + k),
        copy=False,
    )
    return matrix, sources.astype(np.int64)


# --------------------------------------------------------------------------- internals


def _only(stations: Snapped, position: int) -> Snapped:
    sl = slice(position, position + 1)
    return Snapped(
        index=stations.index[sl],
        edge=stations.edge[sl],
        offset_m=stations.offset_m[sl],
        snap_m=stations.snap_m[sl],
    )


def _point_distances(
    network: WalkNetwork,
    node_dist_m: FloatArray,
    node_nearest: IntArray,
    stations: Snapped,
    points: Snapped,
) -> tuple[FloatArray, IntArray]:
    m = len(points)
    dist = np.full(m, np.inf)
    nearest = np.full(m, -1, dtype=np.int64)
    on = np.flatnonzero(points.on_network)
    if on.size == 0:
        return dist, nearest
    e = points.edge[on]
    h = points.offset_m[on]
    u, v, length = network.edge_u[e], network.edge_v[e], network.edge_length_m[e]
    via_u = node_dist_m[u] + h
    via_v = node_dist_m[v] + (length - h)
    use_v = via_v < via_u
    dist[on] = np.where(use_v, via_v, via_u)
    nearest[on] = np.where(use_v, node_nearest[v], node_nearest[u])
    nearest[on[~np.isfinite(dist[on])]] = -1

    # Stations on the same street reach the point directly along it: pair each point with
    # the stations on its street (stations sorted by street, a range per point).
    s_on = np.flatnonzero(stations.edge >= 0)
    if s_on.size == 0:
        return dist, nearest
    order = s_on[np.argsort(stations.edge[s_on], kind="stable")]
    s_edge = stations.edge[order]
    # only the points on a street with a station (a mask first: most points have none)
    has_station = np.zeros(network.edge_length_m.size, dtype=bool)
    has_station[s_edge] = True
    cand = np.flatnonzero(has_station[e])
    if cand.size == 0:
        return dist, nearest
    lo = np.searchsorted(s_edge, e[cand], side="left")
    counts = np.searchsorted(s_edge, e[cand], side="right") - lo
    pair_pt = np.repeat(cand, counts)
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    pair_st = order[first + np.arange(pair_pt.size)]
    direct = np.abs(stations.offset_m[pair_st] - h[pair_pt])
    pick = np.lexsort((direct, pair_pt))  # per point, the nearest station first
    pt_sorted = pair_pt[pick]
    keep = np.ones(pick.size, dtype=bool)
    keep[1:] = pt_sorted[1:] != pt_sorted[:-1]
    best_pt, best_st, best_d = pt_sorted[keep], pair_st[pick][keep], direct[pick][keep]
    better = best_d < dist[on[best_pt]]
    dist[on[best_pt[better]]] = best_d[better]
    nearest[on[best_pt[better]]] = best_st[better]
    return dist, nearest
