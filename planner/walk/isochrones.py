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
from shapely.ops import substring

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
        outline by about 0.2 m on average (at most ``buffer_m * (1 - cos 22.5°)``, 3 m at
        40 m, at the tip of a dead end) and halves the union's work.
    simplify_m
        Simplify the street pieces by this tolerance (metres) before buffering; 0 keeps
        them as they are. 1 m moves the outline by at most 1 m.
    workers
        Union the pieces in this many vertical strips at once (threads; GEOS releases
        the GIL), then merge the strips. 1 unions in one call.

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
        if simplify_m > 0:
            lines = shapely.simplify(lines, simplify_m)
        ring = union_pieces(shapely.buffer(lines, buffer_m, quad_segs=quad_segs), workers=workers)
        poly = shapely.union(previous, ring)
        out.append(poly)
        previous = poly
        done[whole] = True
    return out


def union_pieces(polygons: npt.NDArray[np.object_], *, workers: int = 1) -> shapely.Geometry:
    """The union of many small polygons, in ``workers`` vertical strips at once.

    Pieces are sorted by the x of their centre and cut into ``workers`` strips of equal
    count; each strip is unioned in its own thread (GEOS releases the GIL) and the strips
    are merged pairwise. The result is the same area as ``shapely.union_all(polygons)``.
    """
    if workers <= 1 or len(polygons) < 1000:
        return shapely.union_all(polygons)
    x = shapely.get_coordinates(shapely.centroid(polygons))[:, 0]
    strips = np.array_split(polygons[np.argsort(x, kind="stable")], workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(shapely.union_all, strips))
        while len(parts) > 1:
            pairs = [np.array(parts[i : i + 2], dtype=object) for i in range(0, len(parts), 2)]
            parts = list(pool.map(shapely.union_all, pairs))
    return parts[0]


# --------------------------------------------------------------------------- internals


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
