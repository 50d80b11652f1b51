"""The multi-source search updated after one station is added or removed, not redone.

:func:`~planner.walk.access.nearest_station_distances` searches the whole network from every
station (about 12-30 ms on a 64,000-node metro network). After an edit of one station only
part of the network changes:

- **a station added**: only the nodes now nearer to it than to any other station.
  :func:`with_station_added` searches from the new station with a limit, and widens the
  limit until every node just beyond it already has a station within the limit (then no
  node beyond it can be nearer to the new station: see the Notes);
- **a station removed**: only the nodes whose nearest station it was.
  :func:`with_station_removed` searches those nodes again, from the nodes around them
  (whose distances do not change) and from the stations whose streets reach into them.

Both give the distances of a full search exactly (the same sums in the same order) and
the same nearest station wherever one station is strictly nearest; between stations at
exactly the same distance either may be named, as in a full search.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from planner.walk.access import NodeDistances, Snapped, graph_with_stations
from planner.walk.network import WalkNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Widen the added station's search up to this many times (doubling the limit each time)
#: before searching the whole network from it.
MAX_WIDENINGS = 6


def with_station_added(
    network: WalkNetwork,
    before: NodeDistances,
    station: Snapped,
    position: int,
    *,
    start_limit_m: float,
) -> NodeDistances:
    r"""The nearest-station search after adding one station.

    Parameters
    ----------
    network
        The walking network.
    before
        The unbounded search over the other stations (``limit_m`` None).
    station
        The added station, snapped (one point).
    position
        Its position among the stations (the label the nodes nearer to it get).
    start_limit_m
        First limit of its bounded search (e.g. twice the walk limit).

    Returns
    -------
    NodeDistances
        As :func:`~planner.walk.access.nearest_station_distances` over all stations.

    Notes
    -----
    Let :math:`d_s` be the distance from the new station and :math:`d` the distance to the
    nearest other station. A search from the new station bounded by :math:`L` gives
    :math:`d_s(v)` exactly where :math:`d_s(v) \le L`. Take a node :math:`v` it does not
    reach and the first unreached node :math:`x` on a shortest path from the station to
    :math:`v`: :math:`d_s(v) = d_s(x) + d(x, v) > L + d(x, v)`. When every unreached node
    next to a reached one has :math:`d(x) \le L`, then
    :math:`d(v) \le d(x) + d(x, v) < d_s(v)`: no node beyond the limit is nearer to the
    new station, and the new search is :math:`\min(d, d_s)` over the reached nodes.
    """
    _check_unbounded(before)
    graph, sources = graph_with_stations(network, station)
    if sources.size == 0:  # off the network: serves nobody
        return before
    n = network.n_nodes
    csr = network.csr
    limit = float(start_limit_m)
    if not np.isfinite(before.dist_m).any():  # the first station: it is nearest everywhere
        limit = np.inf
    for _ in range(MAX_WIDENINGS + 1):
        dist = np.asarray(csgraph.dijkstra(graph, directed=True, indices=n, limit=limit))[:n]
        reached = np.isfinite(dist)
        if _frontier_covered(csr, reached, graph, n, before.dist_m, limit):
            break
        limit *= 2.0
    else:  # far from every other station: one unbounded search from it
        dist = np.asarray(csgraph.dijkstra(graph, directed=True, indices=n))[:n]
    better = dist < before.dist_m
    return NodeDistances(
        dist_m=np.where(better, dist, before.dist_m),
        nearest=np.where(better, np.int64(position), before.nearest).astype(np.int64),
        limit_m=None,
    )


def with_station_removed(
    network: WalkNetwork,
    before: NodeDistances,
    removed: int,
    after: Snapped,
    *,
    relabel: IntArray,
) -> NodeDistances:
    r"""The nearest-station search after removing one station.

    Parameters
    ----------
    network
        The walking network.
    before
        The unbounded search over all stations, the removed one included.
    removed
        The removed station's position in ``before``.
    after
        The stations without it, snapped (a station kept at its position but with no
        street, ``edge == -1``, counts as removed too).
    relabel
        Per position in ``before``, the station's position in ``after`` (``-1`` for the
        removed one).

    Returns
    -------
    NodeDistances
        As :func:`~planner.walk.access.nearest_station_distances` over ``after``.

    Notes
    -----
    Walk paths never pass through a station, so a node whose nearest station was another
    keeps its distance. The nodes :math:`R` that were nearest to the removed station are
    searched again: a shortest path to :math:`v \in R` leaves the rest of the network
    last at a node :math:`b` next to :math:`R` (whose distance is known and unchanged) or
    starts at a station whose street touches :math:`R`; one search from those sources,
    each :math:`b` entered at its own distance, over the streets into :math:`R` only.
    """
    _check_unbounded(before)
    nearest = np.where(before.nearest >= 0, relabel[np.maximum(before.nearest, 0)], -1)
    lost = np.flatnonzero(before.nearest == removed)
    if lost.size == 0:
        return NodeDistances(dist_m=before.dist_m, nearest=nearest, limit_m=None)
    n = network.n_nodes
    in_lost = np.zeros(n, dtype=bool)
    in_lost[lost] = True
    graph, sources = graph_with_stations(network, after)
    # every edge of the network and of the stations' links that ends in the lost nodes
    rows = np.repeat(np.arange(graph.shape[0]), np.diff(graph.indptr))
    into = np.flatnonzero(in_lost[np.minimum(graph.indices, n - 1)] & (graph.indices < n))
    tail, head, weight = rows[into], graph.indices[into], graph.data[into]
    from_node = tail < n
    kept = from_node & ~in_lost[np.minimum(tail, n - 1)]
    # sources: each station (a label node), entering the kept nodes next to the lost ones
    # at their own distance and the lost nodes along its own street
    border = np.unique(tail[kept])
    border = border[np.isfinite(before.dist_m[border]) & (nearest[border] >= 0)]
    station_of = np.concatenate([nearest[border], sources[tail[~from_node] - n]])
    labels, label_of = np.unique(station_of, return_inverse=True)
    local = np.full(n, -1, dtype=np.int64)
    local[lost] = np.arange(lost.size)
    local[border] = lost.size + np.arange(border.size)
    first_label = lost.size + border.size
    inner = from_node & (in_lost[np.minimum(tail, n - 1)] | np.isin(tail, border))
    heads = np.concatenate([local[head[inner]], local[border], local[head[~from_node]]])
    tails = np.concatenate(
        [
            local[tail[inner]],
            first_label + label_of[: border.size],
            first_label + label_of[border.size :],
        ]
    )
    weights = np.concatenate([weight[inner], before.dist_m[border], weight[~from_node]])
    # one edge per node pair, the shortest (a station on a loop links twice to one node;
    # a sparse matrix built from pairs would add the two up)
    order = np.lexsort((weights, heads, tails))
    tails, heads, weights = tails[order], heads[order], weights[order]
    first = np.r_[True, (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])]
    size = first_label + labels.size
    sub = sparse.csr_array((weights[first], (tails[first], heads[first])), shape=(size, size))
    dist = before.dist_m.copy()
    out = nearest.copy()
    if labels.size:
        d, _, src = csgraph.dijkstra(
            sub,
            directed=True,
            indices=first_label + np.arange(labels.size),
            min_only=True,
            return_predecessors=True,
        )
        src_lost = src[: lost.size]
        dist[lost] = d[: lost.size]
        out[lost] = np.where(src_lost >= 0, labels[np.maximum(src_lost - first_label, 0)], -1)
    else:
        dist[lost] = np.inf
        out[lost] = -1
    out[lost[~np.isfinite(dist[lost])]] = -1
    return NodeDistances(dist_m=dist, nearest=out.astype(np.int64), limit_m=None)


def _frontier_covered(
    csr: sparse.csr_array,
    reached: npt.NDArray[np.bool_],
    graph: sparse.csr_array,
    n: int,
    other_m: FloatArray,
    limit_m: float,
) -> bool:
    """Whether every unreached node next to a reached one has another station within the limit."""
    if reached.all():
        return True
    nodes = np.flatnonzero(reached)
    starts, ends = csr.indptr[nodes], csr.indptr[nodes + 1]
    counts = ends - starts
    pos = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    nbrs = csr.indices[pos]
    links = graph.indices[graph.indptr[n] : graph.indptr[n + 1]]  # the station's street ends
    frontier = np.concatenate([nbrs[~reached[nbrs]], links[~reached[links]]])
    return bool(frontier.size == 0 or other_m[frontier].max() <= limit_m)


def _check_unbounded(before: NodeDistances) -> None:
    if before.limit_m is not None:
        msg = "An incremental update needs the unbounded search (limit_m None)."
        raise ValueError(msg)
