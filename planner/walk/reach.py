"""Who is within the walk limit of each site: bounded per-site searches and reach matrices.

Where :mod:`planner.walk.access` finds every point's *nearest* station in one multi-source
search, this module runs one search per site (a station or a candidate site), bounded by
the walk limit, and keeps every (site, point) pair within it: as a sparse matrix for
whole station sets (:func:`reach_matrix`, the coverage relation of the coverage analysis
and of the siting models), or one station at a time with its node distances
(:func:`station_search`, for the app's edits). The searches and the point rule are those of
:mod:`planner.walk.access`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from planner.errors import InputDataError
from planner.walk.access import (
    NodeDistances,
    Snapped,
    graph_with_stations,
    point_distances,
    z_order,
)
from planner.walk.network import ZERO_LENGTH_M, WalkNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Sites searched together (one scipy call over the part of the network they can reach).
_BLOCK_SITES = 64
#: Budget in bytes for one call's dense distances (fewer sites per call on a large region).
_BLOCK_BYTES = 64 * 2**20


def station_reach(
    network: WalkNetwork,
    stations: Snapped,
    points: Snapped,
    *,
    limit_m: float,
) -> Iterator[tuple[IntArray, FloatArray]]:
    """Points within ``limit_m`` of each station, one bounded search per station.

    Parameters
    ----------
    network
        The walking network.
    stations
        Snapped stations.
    points
        Snapped points.
    limit_m
        Walk limit in metres.

    Yields
    ------
    point_positions, dist_m
        For each station in order: positions of the points within the limit and their
        distances. Off-network stations yield empty arrays.
    """
    reach = reach_matrix(network, stations, points, limit_m=limit_m)
    for row in range(reach.shape[0]):
        span = slice(reach.indptr[row], reach.indptr[row + 1])
        yield reach.indices[span].astype(np.int64), reach.data[span]


def reach_matrix(
    network: WalkNetwork,
    sites: Snapped,
    points: Snapped,
    *,
    limit_m: float,
) -> sparse.csr_array:
    """Walk distance from every site to every point within ``limit_m``, held sparse.

    The batched form of :func:`station_reach`: the same bounded searches (one per site,
    run in blocks by scipy's compiled Dijkstra) and the same point rule, with the points'
    distances computed for a whole block of sites at once.

    Parameters
    ----------
    network
        The walking network.
    sites
        Snapped sites (stations or candidate sites); off-network sites reach nothing.
    points
        Snapped points (homes); off-network points are reached by no site.
    limit_m
        Walk limit in metres.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(len(sites), len(points))``; entry ``(j, i)`` is the walk distance in metres
        from site ``j`` to point ``i``, stored only when it is at most ``limit_m``. A
        distance of zero is stored as :data:`planner.walk.network.ZERO_LENGTH_M` so that every
        reached pair is a stored entry (the sparsity pattern *is* the coverage relation).
        Column indices are sorted within each row.
    """
    n, k, m = network.n_nodes, len(sites), len(points)
    at_node, from_v = _points_by_node(network, points, with_ends=True)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    where = np.full(n, -1, dtype=np.int64)  # a node's place in the block's region
    for block, region, graph in _local_graphs(network, sites, limit_m=limit_m):
        r = region.size
        where[region] = np.arange(r)
        # At most _BLOCK_BYTES of distances at once (a region may be the whole network).
        step = max(1, _BLOCK_BYTES // (8 * graph.shape[0]))
        for lo in range(0, block.size, step):
            part = np.arange(lo, min(lo + step, block.size))
            dmat = np.atleast_2d(
                csgraph.dijkstra(graph, directed=True, indices=r + part, limit=limit_m)
            )[:, :r]
            # Only points on streets with a reached end can be reached through the network.
            row, node = np.nonzero(np.isfinite(dmat))
            ptr = at_node[0]
            per_node = ptr[region[node] + 1] - ptr[region[node]]
            taken = _gather_slots(ptr, region[node])
            cand = at_node[1][taken]
            row = np.repeat(row, per_node)
            e = points.edge[cand]
            h = points.offset_m[cand]
            via_u = _block_dist(dmat, row, where[network.edge_u[e]])
            via_v = _block_dist(dmat, row, where[network.edge_v[e]])
            d = np.minimum(via_u + h, via_v + (network.edge_length_m[e] - h))
            # A point with both ends reached comes twice, with the same distance: kept once,
            # from its u end (its v end is the only one when u was not reached).
            near = (d <= limit_m) & (~from_v[taken] | ~np.isfinite(via_u))
            rows.append(block[part][row[near]])
            cols.append(cand[near])
            vals.append(d[near])
        where[region] = -1
    # Sites on a point's own street also reach it directly along the street.
    pair_site, pair_pt = _same_street_pairs(sites.edge, points.edge)
    if pair_site.size:
        direct = np.abs(sites.offset_m[pair_site] - points.offset_m[pair_pt])
        near = direct <= limit_m
        rows.append(pair_site[near])
        cols.append(pair_pt[near])
        vals.append(direct[near])
    if not rows:
        return sparse.csr_array((k, m), dtype=np.float64)
    return _shortest_pairs(
        np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), shape=(k, m)
    )


def _shortest_pairs(
    r_all: IntArray, c_all: IntArray, d_all: FloatArray, *, shape: tuple[int, int]
) -> sparse.csr_array:
    """CSR of the shortest of the distances given per (row, column), columns sorted per row.

    Zero distances are stored as :data:`~planner.walk.network.ZERO_LENGTH_M`.
    """
    k, m = shape
    if k * max(m, 1) < 2**62:  # one int64 key per pair: one sort instead of three
        key = r_all.astype(np.int64) * m + c_all
        order = np.argsort(key, kind="stable")
        key = key[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        starts = np.flatnonzero(first)
        d_all = np.minimum.reduceat(d_all[order], starts) if starts.size else d_all[:0]
        r_all, c_all = r_all[order][starts], c_all[order][starts]
    else:
        order = np.lexsort((d_all, c_all, r_all))  # per (site, point) the shortest first
        r_all, c_all, d_all = r_all[order], c_all[order], d_all[order]
        first = np.ones(r_all.size, dtype=bool)
        first[1:] = (r_all[1:] != r_all[:-1]) | (c_all[1:] != c_all[:-1])
        r_all, c_all, d_all = r_all[first], c_all[first], d_all[first]
    d_all = np.maximum(d_all, ZERO_LENGTH_M)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r_all, minlength=k))])
    return sparse.csr_array((d_all, c_all, indptr), shape=(k, m))


@dataclass(frozen=True, eq=False)
class PointIndex:
    """Snapped points grouped for repeated reach queries (build once with :func:`index_points`).

    Attributes
    ----------
    points
        The snapped points.
    by_node
        ``(pointers, positions)``: the points on streets ending at node ``g`` are
        ``positions[pointers[g]:pointers[g + 1]]``.
    by_edge
        ``(pointers, positions)``: the points on street ``e``, in the same form.
    """

    points: Snapped
    by_node: tuple[IntArray, IntArray]
    by_edge: tuple[IntArray, IntArray]


@dataclass(frozen=True, eq=False)
class StationSearch:
    """One station's bounded search: node distances and the points within the limit.

    Attributes
    ----------
    node_dist_m
        Walk distance in metres from the station to every node, ``inf`` beyond the limit.
    points
        Positions (in the indexed points) of the points within the limit, ascending.
    dist_m
        Their walk distances in metres.
    """

    node_dist_m: FloatArray
    points: IntArray
    dist_m: FloatArray


def index_points(network: WalkNetwork, points: Snapped) -> PointIndex:
    """Group snapped points by street and street-end node for :func:`station_search`.

    Parameters
    ----------
    network
        The walking network the points were snapped to.
    points
        Snapped points (homes).

    Returns
    -------
    PointIndex
        The grouping; read-only, shareable between searches and sessions.
    """
    by_node, by_edge = _points_by_node(network, points), _points_by_edge(network, points)
    for arr in (*by_node, *by_edge):
        arr.setflags(write=False)
    return PointIndex(points=points, by_node=by_node, by_edge=by_edge)


def station_search(
    network: WalkNetwork, station: Snapped, index: PointIndex, *, limit_m: float
) -> StationSearch:
    """Bounded search from one station: node distances and the points within ``limit_m``.

    The single-station form of :func:`station_reach` (same search, same point rule), which
    also returns the node distances so that the station's isochrones can be cut from them.

    Parameters
    ----------
    network
        The walking network.
    station
        Exactly one snapped station. An off-network station reaches nothing.
    index
        The points to test, from :func:`index_points`.
    limit_m
        Walk limit in metres.

    Returns
    -------
    StationSearch
        Node distances and the points within the limit with their distances.
    """
    if len(station) != 1:
        msg = f"station_search takes exactly one station, got {len(station)}."
        raise InputDataError(msg)
    n = network.n_nodes
    if not station.on_network[0]:
        return StationSearch(
            node_dist_m=np.full(n, np.inf),
            points=np.empty(0, dtype=np.int64),
            dist_m=np.empty(0, dtype=np.float64),
        )
    graph, _ = graph_with_stations(network, station)
    node_dist = np.asarray(
        csgraph.dijkstra(graph, directed=True, indices=n, limit=limit_m)[:n], dtype=np.float64
    )
    points = index.points
    cand = np.union1d(
        _gather(index.by_node, np.flatnonzero(np.isfinite(node_dist))),
        _gather(index.by_edge, station.edge[:1]),
    )
    sub = Snapped(
        index=points.index[cand],
        edge=points.edge[cand],
        offset_m=points.offset_m[cand],
        snap_m=points.snap_m[cand],
    )
    only = NodeDistances(dist_m=node_dist, nearest=np.zeros(n, dtype=np.int64), limit_m=limit_m)
    d, _ = point_distances(network, only, station, sub)
    within = d <= limit_m
    return StationSearch(
        node_dist_m=node_dist, points=cand[within].astype(np.int64), dist_m=d[within]
    )


# --------------------------------------------------------------------------- internals


def _local_graphs(
    network: WalkNetwork, sites: Snapped, *, limit_m: float
) -> Iterator[tuple[IntArray, IntArray, sparse.csr_array]]:
    """Blocks of nearby sites, each with the part of the network their searches can reach.

    Yields ``(block, region, graph)``: positions of the block's on-network sites in
    ``sites``; the network nodes (ascending) that lie within reach of one of them; and the
    CSR matrix of those nodes (local numbering, the order of ``region``) plus one virtual
    node per site (``len(region) + j`` for ``block[j]``), linked as
    :func:`~planner.walk.access.graph_with_stations` links it.

    A node ``w`` reached within ``limit_m`` from a site on street ``(u, v)`` is at most
    ``G + rho * limit_m`` in a straight line from ``u``, where ``G`` is the street's drawn
    length and ``rho`` the largest ratio of drawn to network length of any street (1 on
    networks whose lengths are measured along their lines): the path runs along streets
    each at least ``1 / rho`` of its drawn length. So a bounding box of the block's ``u``
    nodes widened by that radius holds every node the searches reach, and every node on
    their shortest paths; the distances found on the smaller graph are the same numbers.
    Sites are taken in the order of a Z-curve over cells of the walk limit, so that a
    block's sites are near each other and its region small.
    """
    sources = np.flatnonzero(sites.edge >= 0)
    n = network.n_nodes
    if not sources.size:
        return
    e = sites.edge[sources]
    u, v, length = network.edge_u[e], network.edge_v[e], network.edge_length_m[e]
    drawn = shapely.length(network.edges.geometry.to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(drawn > 1e-6, drawn / network.edge_length_m, 1.0)
    rho = max(1.0, float(np.max(ratio, initial=1.0)))
    radius = drawn[e] + rho * limit_m * (1 + 1e-9) + 1e-6  # per site, metres
    xy = network.node_xy[u]
    if np.isfinite(radius).all() and np.isfinite(xy).all():
        cell = np.floor((xy - xy.min(axis=0)) / max(limit_m, 1.0)).astype(np.int64)
        order = np.argsort(z_order(cell[:, 0], cell[:, 1]), kind="stable")
    else:
        order = np.arange(sources.size)
    off = sites.offset_m[sources]
    loop = u == v
    w_u = np.maximum(np.where(loop, np.minimum(off, length - off), off), ZERO_LENGTH_M)
    w_v = np.maximum(np.where(loop, w_u, length - off), ZERO_LENGTH_M)
    base = network.csr
    local = np.full(n, -1, dtype=np.int64)
    by_x = np.argsort(network.node_xy[:, 0], kind="stable")
    sorted_x = network.node_xy[by_x, 0]
    for start in range(0, order.size, _BLOCK_SITES):
        pick = order[start : start + _BLOCK_SITES]
        reach = float(radius[pick].max())
        if np.isfinite(reach):
            lo = xy[pick].min(axis=0) - reach
            hi = xy[pick].max(axis=0) + reach
            span = by_x[
                np.searchsorted(sorted_x, lo[0]) : np.searchsorted(sorted_x, hi[0], "right")
            ]
            y = network.node_xy[span, 1]
            region = np.sort(span[(y >= lo[1]) & (y <= hi[1])])
        else:
            region = np.arange(n)
        r, b = region.size, pick.size
        local[region] = np.arange(r)
        starts = base.indptr[region]
        counts = base.indptr[region + 1] - starts
        pos = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        to = local[base.indices[pos]]
        keep = to >= 0
        per_row = np.bincount(np.repeat(np.arange(r), counts)[keep], minlength=r)
        links = np.column_stack([local[u[pick]], local[v[pick]]]).ravel()
        weights = np.column_stack([w_u[pick], w_v[pick]]).ravel()
        indptr = np.concatenate([[0], np.cumsum(per_row), per_row.sum() + 2 * np.arange(1, b + 1)])
        graph = sparse.csr_array(
            (
                np.concatenate([base.data[pos][keep], weights]),
                np.concatenate([to[keep], links]).astype(np.int32),
                indptr,
            ),
            shape=(r + b, r + b),
        )
        local[region] = -1
        yield sources[pick], region, graph


def _block_dist(dmat: FloatArray, row: IntArray, col: IntArray) -> FloatArray:
    """``dmat[row, col]``, and infinity where ``col`` is -1 (a node outside the region)."""
    inside = col >= 0
    return np.where(inside, dmat[row, np.where(inside, col, 0)], np.inf)


@overload
def _points_by_node(
    network: WalkNetwork, points: Snapped, *, with_ends: Literal[False] = False
) -> tuple[IntArray, IntArray]: ...


@overload
def _points_by_node(
    network: WalkNetwork, points: Snapped, *, with_ends: Literal[True]
) -> tuple[tuple[IntArray, IntArray], npt.NDArray[np.bool_]]: ...


def _points_by_node(
    network: WalkNetwork, points: Snapped, *, with_ends: bool = False
) -> tuple[IntArray, IntArray] | tuple[tuple[IntArray, IntArray], npt.NDArray[np.bool_]]:
    """On-network point positions grouped by the two nodes at the ends of their street.

    CSR form ``(pointers, positions)``: the points of node ``x`` are
    ``positions[pointers[x]:pointers[x + 1]]``. With ``with_ends``, also whether each
    member is there as its street's ``v`` end (a point on a self-loop is in its node's
    group twice, once as each end).
    """
    on = np.flatnonzero(points.on_network)
    e = points.edge[on]
    ends = np.concatenate([network.edge_u[e], network.edge_v[e]])
    by_node = np.argsort(ends, kind="stable")
    node_ptr = np.searchsorted(ends[by_node], np.arange(network.n_nodes + 1))
    groups = node_ptr, np.concatenate([on, on])[by_node]
    if with_ends:
        return groups, by_node >= on.size
    return groups


def _points_by_edge(network: WalkNetwork, points: Snapped) -> tuple[IntArray, IntArray]:
    """On-network point positions grouped by street (CSR form as :func:`_points_by_node`)."""
    on = np.flatnonzero(points.on_network)
    e = points.edge[on]
    by_edge = np.argsort(e, kind="stable")
    edge_ptr = np.searchsorted(e[by_edge], np.arange(len(network.edges) + 1))
    return edge_ptr, on[by_edge]


def _gather(groups: tuple[IntArray, IntArray], keys: IntArray) -> IntArray:
    """Concatenated members of the groups ``keys`` (see :func:`_points_by_node`)."""
    ptr, members = groups
    return members[_gather_slots(ptr, keys)]


def _gather_slots(ptr: IntArray, keys: IntArray) -> IntArray:
    """Slots (in the members array) of the members of the groups ``keys``, concatenated."""
    starts = ptr[keys]
    counts = ptr[keys + 1] - starts
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    out: IntArray = offsets + np.arange(int(counts.sum()))
    return out


def _same_street_pairs(site_edge: IntArray, point_edge: IntArray) -> tuple[IntArray, IntArray]:
    """All (site, point) position pairs on the same street (off-network ones excluded)."""
    s_on = np.flatnonzero(site_edge >= 0)
    p_on = np.flatnonzero(point_edge >= 0)
    if s_on.size == 0 or p_on.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    order = s_on[np.argsort(site_edge[s_on], kind="stable")]
    s_edge = site_edge[order]
    pe = point_edge[p_on]
    lo = np.searchsorted(s_edge, pe, side="left")
    counts = np.searchsorted(s_edge, pe, side="right") - lo
    pair_pt = np.repeat(p_on, counts)
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    pair_site = order[first + np.arange(pair_pt.size)]
    return pair_site.astype(np.int64), pair_pt.astype(np.int64)
