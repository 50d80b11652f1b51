"""Isochrones: the streets and the area within a walk limit of stations, as geometry.

Built from the node distances of :mod:`planner.walk.access`: each street is cut where the
limit runs out (:func:`reached_edge_parts`) and the reached pieces are buffered into nested
band polygons (:func:`isochrone_polygons`). No hull is drawn, so a band does not bridge
rivers or railways that the network does not cross.
"""

from __future__ import annotations

import itertools
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
    edge, a, b = _spans(network, node_dist_m, stations, limit_m=limit_m)
    pieces = _pieces(network, edge, a, b)
    return gpd.GeoSeries(pieces, index=pd.Index(edge, name="edge"), crs=network.crs)


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
        Threads (GEOS releases the GIL): the bands' rings (what each band adds to the
        previous one) are unioned side by side, the first as soon as its pieces are cut,
        the others largest first; with three bands or more, the last two bands are then
        merged side by side (see Notes). 1 unions the rings one after the other while the
        calling thread merges each with the previous band, in order.

    Returns
    -------
    list of shapely geometries
        One (Multi)Polygon per limit, each containing the previous one (bands are nested by
        construction: each is the union of an earlier band and the streets added since; to
        GEOS's rounding, under 1e-9 m at the corners on Porto metro).

    Notes
    -----
    A band is the previous band plus the buffers of what its streets reach beyond the
    previous band's spans (:func:`_new_spans`): a street reached in part within 5 minutes
    and further within 10 adds only its new stretch, which touches the old one, so no seam
    is left. On Porto metro (3,000 stations) this cut the three bands' CPU time from 9.0 to
    8.1 s (one thread), and from 12.3-12.9 s to 7.9-8.1 s against unioning each ring in two
    strips; outlines 1.2 cm apart per metre on average (the 1 m simplification now applies
    to the shorter pieces).

    With ``workers > 1`` and three bands or more, the last band is the third-last band
    plus the union of the last two rings, built beside the second-last band (the
    third-last band plus its ring) instead of after it. The two last rings are small in a
    city and are joined while the first ring is still being unioned, so the two merges
    with the large first band run at once. On Porto metro (``bench/bench_band_merges.py``,
    idle machine) the merges in order take 2.0-2.2 s of CPU one after the other (band 10
    1.1-1.2 s, band 15 0.9-1.0 s), the side-by-side pair 1.1-1.2 s of wall after a 0.65 s
    join; the three bands take 4.1-4.6 s of wall instead of 5.3-5.6 s, for 0.2-0.7 s
    more CPU (7.8-8.0 s to 7.9-8.8 s). The last band is the same polygon to 1e-6 m
    (0 m² apart). This helps a caller that waits for the bands (the app's plan map at
    city scale); in ``planner analyze``, whose main thread writes the tables, map and
    report meanwhile, the two cores are busy already and the run takes as long as before.
    Streets are buffered piece by piece and then unioned;
    buffering one merged line set gives the same polygon many times slower. No convex or
    concave hull is used, so the polygon does not bridge rivers or railways that the
    network does not cross.
    """
    spans = [_spans(network, node_dist_m, stations, limit_m=limit) for limit in limits_m]

    def ring_lines(k: int) -> npt.NDArray[np.object_]:
        # Band k's ring: what its streets reach beyond the previous band's (whole streets
        # not already in it, and the rest of streets it reached in part). The buffers of a
        # street's spans that touch join without a seam, so the band is the same set as
        # the union of all its streets' buffers, built from far fewer and shorter pieces.
        return _pieces(network, *(spans[0] if k == 0 else _new_spans(spans[k], spans[k - 1])))

    def ring_part(lines: npt.NDArray[np.object_]) -> shapely.Geometry:
        if simplify_m > 0:
            lines = shapely.simplify(lines, simplify_m)
        buffers = shapely.buffer(lines, buffer_m, quad_segs=quad_segs)
        return shapely.disjoint_subset_union_all(buffers)

    # Each ring is unioned on its own (cheaper than feeding the large previous band into
    # the many-piece union), then merged with the previous band. With workers > 1 the
    # rings are unioned side by side (GEOS releases the GIL): the first as soon as its
    # pieces are cut, the others largest first; and the last two bands are merged side by
    # side from the band before them: the last band takes the union of the last two rings
    # (small ones in a city, joined while the first ring is still being unioned) instead
    # of waiting for the second-last band.
    if not spans:
        return []
    with ThreadPoolExecutor(
        max_workers=max(workers, 1), thread_name_prefix="planner-bands"
    ) as pool:
        started = {0: pool.submit(ring_part, ring_lines(0))}
        rest = {k: ring_lines(k) for k in range(1, len(spans))}
        size = {k: int(shapely.get_num_coordinates(lines).sum()) for k, lines in rest.items()}
        for k in sorted(rest, key=lambda k: -size[k]) if workers > 1 else rest:
            started[k] = pool.submit(ring_part, rest[k])
        parts = [started[k] for k in range(len(spans))]
        if workers < 2 or len(parts) < 3:  # each band merged with the previous one
            bands = itertools.accumulate((p.result() for p in parts), _merged, initial=_EMPTY)
            return list(bands)[1:]
        # Queued after every ring, so the rings it waits for have started (no deadlock).
        tail = pool.submit(lambda: _merged(_merged(_EMPTY, parts[-2].result()), parts[-1].result()))
        first = [part.result() for part in parts[:-2]]
        *before, base = itertools.accumulate(first, _merged, initial=_EMPTY)
        last = pool.submit(lambda: _merged(base, tail.result()))
        return [*before[1:], base, _merged(base, parts[-2].result()), last.result()]


#: The band of no street: an empty polygon (not an empty collection).
_EMPTY = shapely.Polygon()


def _merged(band: shapely.Geometry, ring: shapely.Geometry) -> shapely.Geometry:
    """``band`` plus ``ring`` (either may be empty; a band that reaches nothing stays empty)."""
    if shapely.is_empty(ring):
        return band
    return ring if shapely.is_empty(band) else shapely.union(band, ring)


# --------------------------------------------------------------------------- internals


def _spans(
    network: WalkNetwork, node_dist_m: FloatArray, stations: Snapped, *, limit_m: float
) -> tuple[IntArray, FloatArray, FloatArray]:
    """The reached spans ``[a, b]`` of the streets (metres along each edge).

    An edge is reached from its ends (``limit_m`` minus each end's distance, along the
    edge) and from each station on it (``limit_m`` either way from the station); the
    spans of one edge are merged (touching spans join), all edges at once. Edges reached
    whole come first, as ``[0, length]``, then the other edges' merged spans ordered by
    edge, then along the edge. Spans grow with ``limit_m``: each span of a smaller limit
    lies within one span of a larger limit.
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
    m_b = np.maximum.reduceat(b, starts) if starts.size else np.zeros(0)
    whole = np.flatnonzero(whole_mask).astype(np.int64)
    return (
        np.concatenate([whole, e[starts].astype(np.int64)]),
        np.concatenate([np.zeros(whole.size), a[starts]]),
        np.concatenate([length[whole], m_b]),
    )


def _new_spans(
    spans: tuple[IntArray, FloatArray, FloatArray],
    before: tuple[IntArray, FloatArray, FloatArray],
) -> tuple[IntArray, FloatArray, FloatArray]:
    """What ``spans`` reach beyond ``before`` (the spans of a smaller limit), as spans.

    Each span of ``before`` lies within one of ``spans`` (spans grow with the limit), so
    a span ``[A, B]`` holding ``[a1, b1], ..., [am, bm]`` leaves ``[A, a1], [b1, a2], ...,
    [bm, B]``: per edge, the sorted starts (``A`` and every ``b``) pair up in order with
    the sorted ends (every ``a`` and ``B``). Empty spans (``A == a1``) are dropped; the
    others touch the spans of ``before``, so their buffers join those of ``before``
    without a seam.
    """
    e, a, b = spans
    pe, pa, pb = before
    start_e, start = np.concatenate([e, pe]), np.concatenate([a, pb])
    end_e, end = np.concatenate([pe, e]), np.concatenate([pa, b])
    by_start = np.lexsort((start, start_e))
    by_end = np.lexsort((end, end_e))
    out_e, out_a, out_b = start_e[by_start], start[by_start], end[by_end]
    keep = out_b > out_a
    return out_e[keep], out_a[keep], out_b[keep]


def _pieces(
    network: WalkNetwork, edge: IntArray, a: FloatArray, b: FloatArray
) -> npt.NDArray[np.object_]:
    """The street pieces of the spans: an edge's own line where a span covers it whole."""
    length = network.edge_length_m[edge]
    geoms = network.edges.geometry.to_numpy()
    full = (a <= 0.0) & (b >= length)
    piece = np.empty(edge.size, dtype=object)
    piece[full] = geoms[edge[full]]
    cut = np.flatnonzero(~full)
    if cut.size:
        piece[cut] = _substrings(geoms[edge[cut]], a[cut] / length[cut], b[cut] / length[cut])
    return piece


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
