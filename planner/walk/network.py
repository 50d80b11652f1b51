"""The walking network: an osmnx-compatible graph compiled into flat arrays.

:func:`build_walk_network` takes any osmnx-compatible ``networkx.MultiDiGraph`` (from
pyrosm, osmnx or a GraphML file), makes every street walkable both ways, projects it to a
metric CRS, keeps the largest connected part (the other parts are reported), and compiles it
into a CSR adjacency matrix for the shortest-path engine plus one row per street segment
for snapping points onto streets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import osmnx as ox
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from planner.errors import NetworkBuildError

logger = logging.getLogger(__name__)

#: Weight given to zero-length edges: scipy's csgraph ignores explicit zeros in sparse input.
ZERO_LENGTH_M = 1e-9


@dataclass(frozen=True, slots=True)
class IslandReport:
    """Parts of the street network left out because they do not connect to the main part.

    Attributes
    ----------
    components
        Number of connected parts in the input network.
    nodes_dropped
        Street nodes outside the largest part.
    street_m_dropped
        Street length outside the largest part, metres (each street counted once).
    """

    components: int
    nodes_dropped: int
    street_m_dropped: float


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """A walking network ready for shortest-path searches.

    Build it with :func:`build_walk_network`; do not construct it by hand.

    Attributes
    ----------
    graph
        Projected osmnx-compatible MultiDiGraph: every street in both directions, edge
        ``length`` in metres, the largest connected part only.
    crs
        The metric CRS of ``graph``, ``node_xy`` and ``edges``.
    node_ids
        Graph node id of each compiled node position.
    node_xy
        Projected coordinates of each node, shape ``(n, 2)``.
    csr
        ``(n, n)`` adjacency in CSR form; entry ``(i, j)`` is the shortest street length in
        metres from node ``i`` to node ``j`` among parallel streets.
    edges
        One row per street segment (a street with its reverse counted once): ``u``, ``v``
        (graph node ids), ``u_idx``, ``v_idx`` (compiled positions), ``length_m`` and a
        ``geometry`` running from ``u`` to ``v``; ``snappable`` is False for tunnels, which
        points never snap to (they are still walked through).
    islands
        What was left out as disconnected.
    """

    graph: nx.MultiDiGraph
    crs: pyproj.CRS
    node_ids: npt.NDArray[np.int64]
    node_xy: npt.NDArray[np.float64]
    csr: sparse.csr_array
    edges: gpd.GeoDataFrame
    islands: IslandReport

    @property
    def n_nodes(self) -> int:
        """Number of compiled nodes."""
        return int(self.node_ids.shape[0])

    @property
    def street_m(self) -> float:
        """Total street length in metres, each street counted once."""
        return float(self.edges["length_m"].sum())

    @cached_property
    def edge_u(self) -> npt.NDArray[np.int32]:
        """``edges.u_idx`` as a read-only array (compiled position of each street's u end)."""
        return _frozen(self.edges["u_idx"].to_numpy(dtype=np.int32))

    @cached_property
    def edge_v(self) -> npt.NDArray[np.int32]:
        """``edges.v_idx`` as a read-only array (compiled position of each street's v end)."""
        return _frozen(self.edges["v_idx"].to_numpy(dtype=np.int32))

    @cached_property
    def edge_length_m(self) -> npt.NDArray[np.float64]:
        """``edges.length_m`` as a read-only array."""
        return _frozen(self.edges["length_m"].to_numpy(dtype=np.float64))

    @cached_property
    def snap_edges(self) -> npt.NDArray[np.int64]:
        """Positions in ``edges`` of the streets points may snap to (tunnels excluded)."""
        return np.flatnonzero(self.edges["snappable"].to_numpy()).astype(np.int64)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index over the geometries of :attr:`snap_edges` (built once)."""
        return shapely.STRtree(self.edges.geometry.to_numpy()[self.snap_edges])


def build_walk_network(
    graph: nx.MultiDiGraph,
    *,
    crs: str | pyproj.CRS | None = None,
    keep_islands: bool = False,
) -> WalkNetwork:
    """Compile an osmnx-compatible street graph into a :class:`WalkNetwork`.

    Parameters
    ----------
    graph
        A MultiDiGraph with node ``x``/``y``, edge ``length`` in metres and optional edge
        ``geometry``, in the CRS given by ``graph.graph["crs"]``. It is not modified.
    crs
        Metric CRS to project to; by default the UTM zone of the graph's centre.
    keep_islands
        Keep every connected part instead of only the largest. Homes snapped to an island
        with no station are then reported as unreachable.

    Returns
    -------
    WalkNetwork
        The projected, two-way, compiled network.

    Raises
    ------
    NetworkBuildError
        If the graph has no walkable street or lacks ``x``/``y``/``length`` attributes.
    """
    where = _where(graph)
    if graph.number_of_edges() == 0:
        msg = (
            f"{where}has no walkable streets. Check that the extract covers the "
            "study area and contains highway=* ways open to pedestrians."
        )
        raise NetworkBuildError(msg[0].upper() + msg[1:])
    if "crs" not in graph.graph:
        msg = f"{where}has no graph['crs']; set it (e.g. 'EPSG:4326') before building."
        raise NetworkBuildError(msg[0].upper() + msg[1:])
    _check_attributes(graph, where)

    projected = ox.projection.project_graph(graph, to_crs=crs)
    two_way = _with_reverse_edges(projected)
    node_ids = np.fromiter(two_way.nodes, dtype=np.int64, count=two_way.number_of_nodes())
    csr = _compile_csr(two_way, node_ids)

    n_comp, labels = csgraph.connected_components(csr, directed=False)
    islands = IslandReport(components=int(n_comp), nodes_dropped=0, street_m_dropped=0.0)
    if n_comp > 1 and not keep_islands:
        largest = np.bincount(labels).argmax()
        keep_mask = labels == largest
        dropped_ids = node_ids[~keep_mask]
        dropped_m = _street_length(two_way.subgraph(dropped_ids.tolist()))
        two_way = two_way.subgraph(node_ids[keep_mask].tolist()).copy()
        node_ids = node_ids[keep_mask]
        csr = _compile_csr(two_way, node_ids)
        islands = IslandReport(
            components=int(n_comp),
            nodes_dropped=int((~keep_mask).sum()),
            street_m_dropped=dropped_m,
        )
        logger.info(
            "Left out %d disconnected parts of the street network: %d nodes, %.0f m of street.",
            n_comp - 1,
            islands.nodes_dropped,
            islands.street_m_dropped,
        )

    node_xy = np.column_stack(
        [
            np.fromiter((two_way.nodes[n]["x"] for n in node_ids), float, len(node_ids)),
            np.fromiter((two_way.nodes[n]["y"] for n in node_ids), float, len(node_ids)),
        ]
    )
    edges = _edge_table(two_way, node_ids, node_xy)
    for arr in (node_ids, node_xy):
        arr.setflags(write=False)
    return WalkNetwork(
        graph=two_way,
        crs=pyproj.CRS.from_user_input(two_way.graph["crs"]),
        node_ids=node_ids,
        node_xy=node_xy,
        csr=csr,
        edges=edges,
        islands=islands,
    )


def _where(graph: nx.MultiDiGraph) -> str:
    """``"<file>: the street network "`` when the graph says where it came from."""
    source = graph.graph.get("source")
    return f"{source}: the street network " if source else "the street network "


def _check_attributes(graph: nx.MultiDiGraph, where: str) -> None:
    prefix = where[0].upper() + where[1:]
    for node, data in graph.nodes(data=True):
        if "x" not in data or "y" not in data:
            msg = f"{prefix}node {node!r} has no 'x'/'y' coordinates."
            raise NetworkBuildError(msg)
        break
    for u, v, data in graph.edges(data=True):
        length = data.get("length")
        try:
            value = float(length) if length is not None else np.nan
        except (TypeError, ValueError):
            value = np.nan
        if not np.isfinite(value) or value < 0:
            msg = (
                f"{prefix}edge ({u!r}, {v!r}) has no valid 'length' in metres "
                f"(got {length!r}). Load the network with planner.graph_from_file or osmnx."
            )
            raise NetworkBuildError(msg)


def _with_reverse_edges(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return a copy in which every edge has a reverse edge (walking ignores one-way)."""
    out = graph.copy()
    # Match reverses by length too: with parallel streets, a reverse of one of them does not
    # make the others two-way (a one-way 60 m street beside a two-way 100 m one).
    present = {(u, v, round(float(d), 3)) for u, v, d in out.edges(data="length")}
    missing = [
        (u, v, d)
        for u, v, d in out.edges(data=True)
        if (v, u, round(float(d["length"]), 3)) not in present
    ]
    for u, v, data in missing:
        rev = dict(data)
        geom = rev.get("geometry")
        if geom is not None:
            rev["geometry"] = geom.reverse()
        rev["reversed"] = True
        out.add_edge(v, u, **rev)
    return out


def _compile_csr(graph: nx.MultiDiGraph, node_ids: npt.NDArray[np.int64]) -> sparse.csr_array:
    """Adjacency with the shortest length per ordered node pair (never summed)."""
    pos = pd.Index(node_ids)
    m = graph.number_of_edges()
    us = np.empty(m, dtype=np.int64)
    vs = np.empty(m, dtype=np.int64)
    ws = np.empty(m, dtype=np.float64)
    for i, (u, v, length) in enumerate(graph.edges(data="length")):
        us[i], vs[i], ws[i] = u, v, length
    rows = pos.get_indexer(pd.Index(us))
    cols = pos.get_indexer(pd.Index(vs))
    keep = rows != cols  # self-loops never shorten a path
    rows, cols, ws = rows[keep], cols[keep], ws[keep]
    order = np.lexsort((ws, cols, rows))
    rows, cols, ws = rows[order], cols[order], ws[order]
    first = np.ones(rows.shape[0], dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, ws = rows[first], cols[first], np.maximum(ws[first], ZERO_LENGTH_M)
    n = len(node_ids)
    csr = sparse.csr_array((ws, (rows, cols)), shape=(n, n))
    # csgraph works on 32-bit indices and would copy 64-bit ones on every search.
    csr.indices = csr.indices.astype(np.int32)
    csr.indptr = csr.indptr.astype(np.int32)
    return csr


def _street_length(graph: nx.MultiDiGraph) -> float:
    seen: set[tuple[object, object, float]] = set()
    total = 0.0
    for u, v, length in graph.edges(data="length"):
        key = (min(u, v), max(u, v), round(float(length), 3))
        if key not in seen:
            seen.add(key)
            total += float(length)
    return total


def _edge_table(
    graph: nx.MultiDiGraph,
    node_ids: npt.NDArray[np.int64],
    node_xy: npt.NDArray[np.float64],
) -> gpd.GeoDataFrame:
    """One row per street segment, geometry oriented from ``u`` to ``v``."""
    pos = pd.Index(node_ids)
    rows: list[tuple[int, int, float, object, bool]] = []
    seen: set[tuple[int, int, float]] = set()
    for u, v, data in graph.edges(data=True):
        a, b = (u, v) if u <= v else (v, u)
        length = float(data["length"])
        key = (a, b, round(length, 3))
        if key in seen:
            continue
        seen.add(key)
        rows.append((a, b, length, data.get("geometry"), _is_tunnel(data.get("tunnel"))))
    u_arr = np.array([r[0] for r in rows], dtype=np.int64)
    v_arr = np.array([r[1] for r in rows], dtype=np.int64)
    u_idx = pos.get_indexer(pd.Index(u_arr))
    v_idx = pos.get_indexer(pd.Index(v_arr))
    geoms = np.array([r[3] for r in rows], dtype=object)
    straight = shapely.linestrings(np.stack([node_xy[u_idx], node_xy[v_idx]], axis=1))
    missing = np.array([g is None for g in geoms])
    geoms[missing] = straight[missing]
    # Orient every geometry from u to v: stored geometries may run either way.
    starts = shapely.get_coordinates(shapely.get_point(geoms, 0))
    d_u = np.hypot(*(starts - node_xy[u_idx]).T)
    d_v = np.hypot(*(starts - node_xy[v_idx]).T)
    flip = d_v < d_u
    geoms[flip] = shapely.reverse(geoms[flip])
    return gpd.GeoDataFrame(
        {
            "u": u_arr,
            "v": v_arr,
            "u_idx": u_idx,
            "v_idx": v_idx,
            "length_m": np.array([r[2] for r in rows], dtype=float),
            "snappable": np.array([not r[4] for r in rows], dtype=bool),
        },
        geometry=gpd.GeoSeries(geoms, crs=graph.graph["crs"]),
    )


def _frozen(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr.setflags(write=False)
    return arr


def _is_tunnel(tag: object) -> bool:
    """True for ``tunnel=*`` values meaning underground (not ``no`` or a building passage).

    Homes and stations are entered from the surface: snapping them to a tunnel below
    (Helsinki's underground service roads, metro passages) would be wrong.
    """
    values = tag if isinstance(tag, list) else [tag]
    return any(
        isinstance(v, str) and v.strip().lower() not in {"", "no", "building_passage"}
        for v in values
    )
