"""Compiling street tables into a :class:`~planner.walk.network.WalkNetwork`, on arrays only.

Projection (one vectorised pyproj call over the node and geometry coordinates), two-way
streets, the shortest length per node pair, CSR, connected parts with scipy: no loop in
Python over nodes or edges.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from planner.errors import NetworkBuildError
from planner.sources.street_tables import PROFILE_TAGS, StreetTables, run_sources, take_runs
from planner.walk.network import (
    LINE_FACTOR_COLUMN,
    LINE_SPEED_COLUMN,
    ZERO_LENGTH_M,
    IslandReport,
    WalkNetwork,
    frozen,
)

logger = logging.getLogger(__name__)

#: North and south limits of the UTM zones (osmnx uses UPS beyond them).
_UTM_NORTH, _UTM_SOUTH = 84.0, -80.0


def network_from_tables(
    tables: StreetTables,
    *,
    crs: str | pyproj.CRS | None = None,
    keep_islands: bool = False,
) -> WalkNetwork:
    """Compile street tables into a :class:`WalkNetwork`.

    Parameters
    ----------
    tables
        Nodes and directed street rows (:mod:`planner.sources.street_tables`).
    crs
        Metric CRS to project to; by default the UTM zone of the network's centre (as
        osmnx's ``project_graph`` chooses it).
    keep_islands
        Keep every connected part instead of only the largest.

    Returns
    -------
    WalkNetwork
        The projected, two-way, compiled network; ``islands`` counts every part left out.

    Notes
    -----
    A street given one way is walkable back with the same length; a reverse row is added
    only where none of the same length (to the millimetre) exists, so a one-way 60 m
    street beside a two-way 100 m one is still walkable both ways at 60 m. The CSR keeps
    the shortest length per ordered node pair (parallel streets are never summed) and
    gives zero lengths a tiny weight (:data:`ZERO_LENGTH_M`), which scipy would otherwise
    read as no street. The edge table has one row per street: a street and its reverse,
    or parallel rows of the same length, count once.
    """
    where = f"{tables.source}: the street network " if tables.source else "the street network "
    if len(tables.edge_u) == 0:
        msg = (
            f"{where}has no walkable streets. Check that the extract covers the "
            "study area and contains highway=* ways open to pedestrians."
        )
        raise NetworkBuildError(msg[0].upper() + msg[1:])
    node_ids = np.asarray(tables.node_ids, dtype=np.int64)
    index = pd.Index(node_ids)
    pu = index.get_indexer(pd.Index(tables.edge_u))
    pv = index.get_indexer(pd.Index(tables.edge_v))
    if (pu < 0).any() or (pv < 0).any():
        bad = int(np.flatnonzero((pu < 0) | (pv < 0))[0])
        msg = (
            f"{where}has a street ({tables.edge_u[bad]}, {tables.edge_v[bad]}) whose end "
            "node is not among its nodes."
        )
        raise NetworkBuildError(msg[0].upper() + msg[1:])
    to_crs, node_xy, geoms, runs = _project(tables, crs)
    lengths = np.asarray(tables.length_m, dtype=np.float64)
    node_order, seq = _graph_order(pu, pv, lengths, len(node_ids))
    node_ids, node_xy = node_ids[node_order], node_xy[node_order]
    new_pos = np.empty(len(node_order), dtype=np.int64)
    new_pos[node_order] = np.arange(len(node_order))
    pu, pv = new_pos[pu], new_pos[pv]

    table = _street_rows(seq, pu, pv, lengths)
    # The parts, from the rows as they are (the CSR is compiled once, for what is kept).
    n = len(node_ids)
    links = sparse.csr_array((np.ones(len(pu)), (pu, pv)), shape=(n, n))  # counts, never 0
    n_comp, labels = csgraph.connected_components(links, directed=False)
    keep_nodes = np.ones(len(node_ids), dtype=bool)
    islands = IslandReport(components=int(n_comp), nodes_dropped=0, street_m_dropped=0.0)
    if n_comp > 1 and not keep_islands:
        keep_nodes = labels == np.bincount(labels).argmax()
        dropped_rows = ~keep_nodes[pu[table]]
        islands = IslandReport(
            components=int(n_comp),
            nodes_dropped=int((~keep_nodes).sum()),
            street_m_dropped=float(lengths[table[dropped_rows]].sum()),
            parts_dropped=int(n_comp) - 1,
        )
        logger.info(
            "%sLeft out %d disconnected parts of the street network: %d nodes, %.0f m of street.",
            f"{tables.source}: " if tables.source else "",
            islands.parts_dropped,
            islands.nodes_dropped,
            islands.street_m_dropped,
        )
        table = table[~dropped_rows]
        new_pos = np.cumsum(keep_nodes) - 1
        row_keep = keep_nodes[pu]  # a street's two ends are in the same part
        pu_k, pv_k = new_pos[pu[row_keep]], new_pos[pv[row_keep]]
        csr = _compile_csr(pu_k, pv_k, lengths[row_keep], int(keep_nodes.sum()))
        remap = np.full(len(pu), -1, dtype=np.int64)
        remap[np.flatnonzero(row_keep)] = np.arange(int(row_keep.sum()))
        pu, pv, lengths = pu_k, pv_k, lengths[row_keep]
        if runs is not None:
            runs = take_runs(*runs, np.flatnonzero(row_keep))
        else:
            geoms = geoms[row_keep]
        tunnel = np.asarray(tables.tunnel, dtype=bool)[row_keep]
        tags = {t: np.asarray(v, dtype=object)[row_keep] for t, v in tables.tags.items()}
        own = {c: None if a is None else a[row_keep] for c, a in _own(tables).items()}
        table = remap[table]
        node_ids, node_xy = node_ids[keep_nodes], node_xy[keep_nodes]
    else:
        csr = _compile_csr(pu, pv, lengths, n)
        tunnel = np.asarray(tables.tunnel, dtype=bool)
        tags = {t: np.asarray(v, dtype=object) for t, v in tables.tags.items()}
        own = _own(tables)

    ends = _ends(table, pu, pv, node_ids)
    lines = _oriented_lines(table, ends, geoms, runs, node_xy)
    edges = _edge_frame(table, ends, lengths, lines, tunnel, tags, node_ids, to_crs)
    for column, values in own.items():  # a road layer's: applied by planner.walk.line_speeds
        if values is not None:
            edges[column] = np.asarray(values, dtype=np.float64)[table]
    return WalkNetwork(
        crs=to_crs,
        node_ids=frozen(np.ascontiguousarray(node_ids)),
        node_xy=frozen(np.ascontiguousarray(node_xy)),
        csr=csr,
        edges=edges,
        islands=islands,
        source=tables.source,
    )


def _own(tables: StreetTables) -> dict[str, npt.NDArray[np.float64] | None]:
    """A road layer's own speeds and time factors per row, by edge column."""
    return {LINE_SPEED_COLUMN: tables.line_speed_kmh, LINE_FACTOR_COLUMN: tables.line_time_factor}


def utm_crs(lonlat: npt.NDArray[np.float64]) -> pyproj.CRS:
    """The UTM (or UPS) CRS osmnx's ``project_graph`` chooses for nodes at ``lonlat``."""
    lat = float(np.mean(lonlat[:, 1]))
    if lat < _UTM_SOUTH:
        return pyproj.CRS.from_user_input("EPSG:32761")
    if lat > _UTM_NORTH:
        return pyproj.CRS.from_user_input("EPSG:32661")
    lo, hi = lonlat.min(axis=0), lonlat.max(axis=0)
    corners = gpd.GeoSeries(gpd.points_from_xy([lo[0], hi[0]], [lo[1], hi[1]]), crs=4326)
    return pyproj.CRS.from_user_input(corners.estimate_utm_crs())


_Runs = tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]


def _project(
    tables: StreetTables, crs: str | pyproj.CRS | None
) -> tuple[pyproj.CRS, npt.NDArray[np.float64], npt.NDArray[np.object_], _Runs | None]:
    """Nodes and lines in the metric CRS, transformed together in one call.

    Returns
    -------
    (crs, node_xy, geometries, runs)
        The lines as geometries (None where a row has none), or, when the tables give
        them as flat coordinates, as those coordinates and their offsets (``runs``; the
        geometries are then all None, built only for the streets kept).
    """
    src = pyproj.CRS.from_user_input(tables.crs)
    xy = np.asarray(tables.node_xy, dtype=np.float64)
    if crs is not None:
        dst = pyproj.CRS.from_user_input(crs)
    elif src.is_geographic:
        dst = utm_crs(xy)
    else:
        to_wgs = pyproj.Transformer.from_crs(src, 4326, always_xy=True)
        dst = utm_crs(np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))
    flat = tables.geometry is None and tables.line_xy is not None
    if flat:
        geoms = np.full(len(tables.edge_u), None, dtype=object)
        has = np.zeros(len(geoms), dtype=bool)
        coords = np.asarray(tables.line_xy, dtype=np.float64)
    else:
        geoms = np.asarray(tables.lines(), dtype=object)
        has = np.array([g is not None for g in geoms], dtype=bool)
        coords = shapely.get_coordinates(geoms[has])
    if dst == src:
        out_xy, projected = xy.copy(), coords.copy()
    else:
        both = np.vstack([xy, coords])
        transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
        x, y = transformer.transform(both[:, 0], both[:, 1])
        out_all = np.column_stack([x, y])
        out_xy, projected = out_all[: len(xy)], out_all[len(xy) :]
    if flat:
        return dst, out_xy, geoms, (projected, np.asarray(tables.line_offsets, dtype=np.int64))
    out = geoms.copy()
    if has.any():
        out[has] = shapely.transform(geoms[has], lambda c: projected)
    return dst, out_xy, out, None


def _compile_csr(
    pu: npt.NDArray[np.int64], pv: npt.NDArray[np.int64], lengths: npt.NDArray[np.float64], n: int
) -> sparse.csr_array:
    """Adjacency with the shortest length per ordered node pair (never summed), two-way."""
    back = ~_has_reverse(pu, pv, lengths)
    rows = np.concatenate([pu, pv[back]])
    cols = np.concatenate([pv, pu[back]])
    ws = np.concatenate([lengths, lengths[back]])
    keep = rows != cols  # self-loops never shorten a path
    rows, cols, ws = rows[keep], cols[keep], ws[keep]
    order = np.lexsort((ws, cols, rows))
    rows, cols, ws = rows[order], cols[order], ws[order]
    first = np.ones(rows.shape[0], dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, ws = rows[first], cols[first], np.maximum(ws[first], ZERO_LENGTH_M)
    csr = sparse.csr_array((ws, (rows, cols)), shape=(n, n))
    # csgraph works on 32-bit indices and would copy 64-bit ones on every search.
    csr.indices = csr.indices.astype(np.int32)
    csr.indptr = csr.indptr.astype(np.int32)
    return csr


def _has_reverse(
    pu: npt.NDArray[np.int64], pv: npt.NDArray[np.int64], lengths: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """Whether each row has a row back (``v`` to ``u``) of the same length to the mm.

    Lengths compare as ``np.round(length, 3)`` does (``rint(length * 1000)``); node pairs
    and millimetres are packed into one integer key per row.
    """
    if len(pu) == 0:
        return np.zeros(0, dtype=bool)
    n = int(max(pu.max(), pv.max())) + 1
    mm = np.rint(np.asarray(lengths, dtype=np.float64) * 1000.0)
    if n * n >= 2**62 or not np.isfinite(mm).all() or mm.max() >= 2**40 or mm.min() < 0:
        given = pd.MultiIndex.from_arrays([pu, pv, mm])
        return np.asarray(pd.MultiIndex.from_arrays([pv, pu, mm]).isin(given), dtype=bool)
    codes, uniques = pd.factorize(pu.astype(np.int64) * n + pv)
    back = pd.Index(uniques).get_indexer(pv.astype(np.int64) * n + pu)  # -1: no row back
    mm_i = mm.astype(np.int64)
    scale = int(mm_i.max()) + 1
    has: npt.NDArray[np.bool_] = np.asarray(back >= 0, dtype=bool)
    given = pd.Index(codes.astype(np.int64) * scale + mm_i)
    has[has] = np.asarray(pd.Index(back[has] * scale + mm_i[has]).isin(given), dtype=bool)
    return has


def _adjacency_order(
    u: npt.NDArray[np.int64], v: npt.NDArray[np.int64], rank: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The order in which a ``networkx`` multigraph, given rows in order, iterates them.

    By ``rank`` of the row's ``u`` node, then by neighbour in order of first insertion,
    then by insertion. ``u`` and ``v`` are node positions below ``len(rank)``.
    """
    n = len(u)
    key = u.astype(np.int64) * max(len(rank), 1) + v
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    first_seen = first[inverse.reshape(-1)]
    return np.lexsort((np.arange(n), first_seen, rank[u])).astype(np.int64)


def _graph_order(
    pu: npt.NDArray[np.int64], pv: npt.NDArray[np.int64], lengths: npt.NDArray[np.float64], n: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Node order and edge iteration order of the graph path this module replaces.

    The graph path projected an input graph with osmnx (which rebuilds it, adding nodes
    as its edges name them) and then added the missing reverse edges; its node order
    set the compiled positions and its edge order the edge table's. Following it keeps
    networks, and the engine's tie-breaks, identical to that path's.

    Returns
    -------
    (node_order, sequence)
        Table positions of the nodes in the new order, and the edge rows in iteration
        order (row ``i >= len(pu)`` is the added reverse of row ``i - len(pu)``), in
        node positions of the *input* order.
    """
    m = len(pu)
    source = _adjacency_order(pu, pv, np.arange(n, dtype=np.int64))
    ends = np.column_stack([pu[source], pv[source]]).ravel()
    firsts = pd.unique(ends)
    isolated = np.setdiff1d(np.arange(n), firsts, assume_unique=False)
    node_order = np.concatenate([firsts, isolated]).astype(np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[node_order] = np.arange(n)
    rebuilt = source[np.argsort(rank[pu[source]], kind="stable")]
    missing = rebuilt[~_has_reverse(pu, pv, lengths)[rebuilt]]
    rows = np.concatenate([rebuilt, missing + m])
    u = np.concatenate([pu, pv])[rows]
    v = np.concatenate([pv, pu])[rows]
    return node_order, rows[_adjacency_order(u, v, rank[np.arange(n)])]


def _street_rows(
    seq: npt.NDArray[np.int64],
    pu: npt.NDArray[np.int64],
    pv: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """Rows that are streets: the first in ``seq`` of each (ends, length to the mm).

    An added reverse (``seq`` past the rows) stands for its row.
    """
    rows = seq % len(pu)
    a = np.minimum(pu, pv)[rows]
    b = np.maximum(pu, pv)[rows]
    mm = np.round(lengths, 3)[rows]
    dup = pd.DataFrame({"a": a, "b": b, "mm": mm}).duplicated().to_numpy()
    out: npt.NDArray[np.int64] = rows[~dup].astype(np.int64)
    return out


def _ends(
    table: npt.NDArray[np.int64],
    pu: npt.NDArray[np.int64],
    pv: npt.NDArray[np.int64],
    node_ids: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Positions of each street's ``u`` and ``v`` nodes: ``u`` the lower node id."""
    ru, rv = pu[table], pv[table]
    swap = node_ids[ru] > node_ids[rv]
    return np.where(swap, rv, ru).astype(np.int64), np.where(swap, ru, rv).astype(np.int64)


def _oriented_lines(
    table: npt.NDArray[np.int64],
    ends: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    geoms: npt.NDArray[np.object_],
    runs: _Runs | None,
    node_xy: npt.NDArray[np.float64],
) -> npt.NDArray[np.object_]:
    """The line of each street of ``table``, from its ``u`` to its ``v`` end (:func:`_ends`).

    A stored line may run either way: it is turned where its first point lies nearer to
    the other end. A row without one gets the straight line between its ends.
    """
    u_idx, v_idx = ends
    if runs is not None:
        xy, offsets = runs
        starts = offsets[:-1][table]
        flip = _nearer_end(xy[starts], node_xy[u_idx], node_xy[v_idx])
        src, _, line = run_sources(starts, offsets[1:][table] - starts, flip)
        out = np.empty(len(table), dtype=object)
        if len(table):
            out[:] = shapely.linestrings(xy[src], indices=line)
        return out
    g = geoms[table].copy()
    missing = np.array([x is None for x in g], dtype=bool)
    if missing.any():
        g[missing] = shapely.linestrings(
            np.stack([node_xy[u_idx[missing]], node_xy[v_idx[missing]]], axis=1)
        )
    starts_xy = shapely.get_coordinates(shapely.get_point(g, 0))
    flip = _nearer_end(starts_xy, node_xy[u_idx], node_xy[v_idx])
    g[flip] = shapely.reverse(g[flip])
    return g


def _nearer_end(
    first: npt.NDArray[np.float64], at_u: npt.NDArray[np.float64], at_v: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """Whether each line's first point lies nearer its ``v`` end than its ``u`` end."""
    d_u = np.hypot(*(first - at_u).T)
    d_v = np.hypot(*(first - at_v).T)
    out: npt.NDArray[np.bool_] = d_v < d_u
    return out


def _edge_frame(
    table: npt.NDArray[np.int64],
    ends: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    lengths: npt.NDArray[np.float64],
    lines: npt.NDArray[np.object_],
    tunnel: npt.NDArray[np.bool_],
    tags: dict[str, npt.NDArray[np.object_]],
    node_ids: npt.NDArray[np.int64],
    crs: pyproj.CRS,
) -> gpd.GeoDataFrame:
    """One row per street, ``u <= v`` (node ids), ``lines`` oriented from ``u`` to ``v``."""
    u_idx, v_idx = ends
    data: dict[str, object] = {
        "u": node_ids[u_idx],
        "v": node_ids[v_idx],
        "u_idx": u_idx,
        "v_idx": v_idx,
        "length_m": lengths[table].astype(float),
        "snappable": ~tunnel[table],
    }
    for tag in PROFILE_TAGS:
        values = tags.get(tag)
        data[tag] = values[table] if values is not None else np.full(len(table), "", object)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(lines, crs=crs))
