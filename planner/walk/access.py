"""Walk distances on the network: snapping, bounded multi-source searches, isochrones.

Points (stations, homes) are snapped to the nearest street *edge*, keeping their offset
along it; tunnels are walked through but never snapped to. A station is a source that
enters the network at both ends of its street: at ``offset`` metres from the ``u`` end and
``length - offset`` metres from the ``v`` end. A home is reached at
``min(d[u] + offset, d[v] + length - offset)``, or directly along the street when a station
stands on the same street.

All searches run scipy's compiled Dijkstra on the network's CSR matrix, augmented with one
virtual node per station; their results equal networkx's ``multi_source_dijkstra`` on the
same graph (``tests/test_access.py`` checks this).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from shapely.ops import substring

from planner.errors import InputDataError
from planner.walk.network import ZERO_LENGTH_M, WalkNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Budget in bytes for the dense distance blocks of per-station searches.
_BLOCK_BYTES = 64 * 2**20


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


def snap_points(network: WalkNetwork, points: gpd.GeoSeries, *, max_snap_m: float) -> Snapped:
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

    Returns
    -------
    Snapped
        Street, offset along it, and snap distance per point, in input order.
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
        (pt_idx, tree_idx), dists = network.edge_tree.query_nearest(
            geoms, max_distance=max_snap_m, return_distance=True, all_matches=False
        )
        edge_idx = network.snap_edges[tree_idx]
        edge[pt_idx] = edge_idx
        snap[pt_idx] = dists
        lines = network.edges.geometry.to_numpy()[edge_idx]
        frac = shapely.line_locate_point(lines, geoms[pt_idx], normalized=True)
        frac = np.nan_to_num(frac, nan=0.0)
        offset[pt_idx] = frac * network.edge_length_m[edge_idx]
    for arr in (edge, offset, snap):
        arr.setflags(write=False)
    return Snapped(index=points.index, edge=edge, offset_m=offset, snap_m=snap)


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
    graph, sources = _augmented(network, stations)
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
    graph, sources = _augmented(network, sites)
    n, k, m = network.n_nodes, len(sites), len(points)
    at_node = _points_by_node(network, points)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    block = max(1, _BLOCK_BYTES // (8 * graph.shape[0]))
    for start in range(0, sources.size, block):
        stop = min(start + block, sources.size)
        dmat = np.atleast_2d(
            csgraph.dijkstra(
                graph, directed=True, indices=n + np.arange(start, stop), limit=limit_m
            )
        )
        for r in range(stop - start):
            node_dist = dmat[r, :n]
            # Only points on streets with a reached end can be reached through the network.
            cand = np.unique(_gather(at_node, np.flatnonzero(np.isfinite(node_dist))))
            e = points.edge[cand]
            h = points.offset_m[cand]
            d = np.minimum(
                node_dist[network.edge_u[e]] + h,
                node_dist[network.edge_v[e]] + (network.edge_length_m[e] - h),
            )
            near = d <= limit_m
            rows.append(np.full(int(near.sum()), sources[start + r], dtype=np.int64))
            cols.append(cand[near])
            vals.append(d[near])
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
    r_all = np.concatenate(rows)
    c_all = np.concatenate(cols)
    d_all = np.concatenate(vals)
    order = np.lexsort((d_all, c_all, r_all))  # per (site, point) the shortest first
    r_all, c_all, d_all = r_all[order], c_all[order], d_all[order]
    first = np.ones(r_all.size, dtype=bool)
    first[1:] = (r_all[1:] != r_all[:-1]) | (c_all[1:] != c_all[:-1])
    r_all, c_all = r_all[first], c_all[first]
    d_all = np.maximum(d_all[first], ZERO_LENGTH_M)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r_all, minlength=k))])
    return sparse.csr_array((d_all, c_all, indptr), shape=(k, m))


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
    whole, pieces = _reached(network, node_dist_m, stations, limit_m=limit_m)
    geoms = network.edges.geometry.to_numpy()
    idx = [*whole.tolist(), *(e for e, _ in pieces)]
    out = [*geoms[whole], *(g for _, g in pieces)]
    return gpd.GeoSeries(out, index=pd.Index(idx, name="edge"), crs=network.crs)


def isochrone_polygons(
    network: WalkNetwork,
    node_dist_m: FloatArray,
    stations: Snapped,
    *,
    limits_m: tuple[float, ...],
    buffer_m: float,
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
    out: list[shapely.Geometry] = []
    previous: shapely.Geometry = shapely.Polygon()
    done = np.zeros(len(geoms), dtype=bool)  # edges wholly inside the previous band
    for limit in limits_m:
        whole, pieces = _reached(network, node_dist_m, stations, limit_m=limit)
        new_whole = whole[~done[whole]]
        lines = np.array([*geoms[new_whole], *(g for e, g in pieces if not done[e])], dtype=object)
        # Union the band's new streets on their own, then merge with the previous band:
        # cheaper than feeding the large previous polygon into the many-piece union.
        ring = shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=3))
        poly = shapely.union(previous, ring)
        out.append(poly)
        previous = poly
        done[whole] = True
    return out


def single_station_distances(
    network: WalkNetwork, stations: Snapped, position: int, *, limit_m: float | None
) -> FloatArray:
    """Node distances from one station (by position in ``stations``), bounded by ``limit_m``."""
    only = _only(stations, position)
    return nearest_station_distances(network, only, limit_m=limit_m).dist_m


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
    graph, _ = _augmented(network, station)
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
    d, _ = _point_distances(network, node_dist, np.zeros(n, dtype=np.int64), station, sub)
    within = d <= limit_m
    return StationSearch(
        node_dist_m=node_dist, points=cand[within].astype(np.int64), dist_m=d[within]
    )


# --------------------------------------------------------------------------- internals


def _only(stations: Snapped, position: int) -> Snapped:
    sl = slice(position, position + 1)
    return Snapped(
        index=stations.index[sl],
        edge=stations.edge[sl],
        offset_m=stations.offset_m[sl],
        snap_m=stations.snap_m[sl],
    )


def _augmented(network: WalkNetwork, stations: Snapped) -> tuple[sparse.csr_array, IntArray]:
    """CSR with one virtual node per on-network station, linked to both ends of its street.

    Returns the matrix and, for each virtual node in order, the station's position. A
    station on a self-loop gets two links to the same node, both the shorter way round.
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
    lo = np.searchsorted(s_edge, e, side="left")
    counts = np.searchsorted(s_edge, e, side="right") - lo
    if not counts.any():
        return dist, nearest
    pair_pt = np.repeat(np.arange(on.size), counts)
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


def _reached(
    network: WalkNetwork, node_dist_m: FloatArray, stations: Snapped, *, limit_m: float
) -> tuple[IntArray, list[tuple[int, object]]]:
    """Edges reached whole, and (edge, piece) for edges reached only in part."""
    edges = network.edges
    length = network.edge_length_m
    du = node_dist_m[network.edge_u]
    dv = node_dist_m[network.edge_v]
    from_u = np.clip(limit_m - du, 0.0, length)  # reached interval [0, from_u]
    from_v = np.clip(limit_m - dv, 0.0, length)  # reached interval [length - from_v, length]
    whole_mask = (from_u + from_v >= length) & (length > 0)
    station_spans: dict[int, list[tuple[float, float]]] = {}
    for e, o in zip(stations.edge, stations.offset_m, strict=True):
        if e >= 0 and not whole_mask[e]:
            station_spans.setdefault(int(e), []).append((o - limit_m, o + limit_m))
    partial = np.flatnonzero(~whole_mask & ((from_u > 0) | (from_v > 0)))
    geoms = edges.geometry.to_numpy()
    pieces: list[tuple[int, object]] = []
    for e in sorted(set(partial.tolist()) | set(station_spans)):
        ln = length[e]
        spans = [(0.0, from_u[e]), (ln - from_v[e], ln), *station_spans.get(e, [])]
        merged = _merge_spans(spans, ln)
        if merged == [(0.0, ln)]:
            pieces.append((e, geoms[e]))
            continue
        pieces.extend((e, _substring(geoms[e], a, b, ln)) for a, b in merged)
    return np.flatnonzero(whole_mask).astype(np.int64), pieces


def _points_by_node(network: WalkNetwork, points: Snapped) -> tuple[IntArray, IntArray]:
    """On-network point positions grouped by the two nodes at the ends of their street.

    CSR form ``(pointers, positions)``: the points of node ``x`` are
    ``positions[pointers[x]:pointers[x + 1]]``.
    """
    on = np.flatnonzero(points.on_network)
    e = points.edge[on]
    ends = np.concatenate([network.edge_u[e], network.edge_v[e]])
    by_node = np.argsort(ends, kind="stable")
    node_ptr = np.searchsorted(ends[by_node], np.arange(network.n_nodes + 1))
    return node_ptr, np.concatenate([on, on])[by_node]


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
    starts = ptr[keys]
    counts = ptr[keys + 1] - starts
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return members[offsets + np.arange(int(counts.sum()))]


def _merge_spans(spans: list[tuple[float, float]], length: float) -> list[tuple[float, float]]:
    clipped = sorted(
        (max(0.0, a), min(length, b)) for a, b in spans if min(length, b) > max(0.0, a)
    )
    merged: list[tuple[float, float]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _substring(line: shapely.LineString, start_m: float, end_m: float, length_m: float) -> object:
    """The piece of ``line`` between two distances given in network metres."""
    frac_a = start_m / length_m if length_m > 0 else 0.0
    frac_b = end_m / length_m if length_m > 0 else 1.0
    return substring(line, frac_a, frac_b, normalized=True)


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
