"""Cases and a slow reference for the walk engine's tests (access, reach, isochrones).

Every street is split at the stations and points on it, and networkx's Dijkstra runs on the
split graph; the cases are a 3x3 grid's helpers, random graphs with awkward streets and the
bundled Helsinki extract. The ``case`` fixture is in this folder's ``conftest.py``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.walk.access import Snapped, snap_points
from planner.walk.network import WalkNetwork, build_walk_network

CRS = "EPSG:32635"  # as in conftest.py
X0, Y0 = 500_000.0, 6_670_000.0
#: Engine vs reference tolerance: zero-length streets weigh 1e-9 m in the engine.
TOL_M = 1e-6

FloatArray = npt.NDArray[np.float64]


def points_at(*xy: tuple[float, float]) -> gpd.GeoSeries:
    """Points at offsets (metres) from the grid origin."""
    return gpd.GeoSeries(
        gpd.points_from_xy([X0 + x for x, _ in xy], [Y0 + y for _, y in xy]), crs=CRS
    )


def snapped(edge: list[int], offset_m: list[float]) -> Snapped:
    """Points placed directly on streets (``edge`` rows of ``network.edges``)."""
    e = np.asarray(edge, dtype=np.int64)
    return Snapped(
        index=pd.RangeIndex(len(e)),
        edge=e,
        offset_m=np.asarray(offset_m, dtype=np.float64),
        snap_m=np.where(e >= 0, 0.0, np.nan),
    )


def concat(*parts: Snapped) -> Snapped:
    edge = np.concatenate([p.edge for p in parts])
    return Snapped(
        index=pd.RangeIndex(len(edge)),
        edge=edge,
        offset_m=np.concatenate([p.offset_m for p in parts]),
        snap_m=np.concatenate([p.snap_m for p in parts]),
    )


def edge_row(network: WalkNetwork, u: int, v: int) -> int:
    edges = network.edges
    rows = np.flatnonzero((edges["u"] == min(u, v)) & (edges["v"] == max(u, v)))
    assert rows.size == 1
    return int(rows[0])


def by_node_id(network: WalkNetwork, values: npt.NDArray[np.generic]) -> dict[int, float]:
    """Per-node values keyed by graph node id (compiled positions are in no set order)."""
    return {int(n): float(d) for n, d in zip(network.node_ids, values, strict=True)}


# ----------------------------------------------------------------------- the reference


@dataclass(frozen=True)
class Reference:
    """Distances on the split street graph, by networkx Dijkstra.

    ``node_m[j, i]`` / ``point_m[j, p]``: from station ``j`` to node position ``i`` / point
    ``p`` (inf when unreachable or off-network); ``nearest_node_m`` / ``nearest_point_m``:
    from the nearest station, by one multi-source search; ``chains``: per street row, the
    offsets and split-graph labels along it.
    """

    node_m: FloatArray
    point_m: FloatArray
    nearest_node_m: FloatArray
    nearest_point_m: FloatArray
    nearest_node: npt.NDArray[np.int64]
    nearest_point: npt.NDArray[np.int64]
    chains: list[list[tuple[float, tuple[str, int]]]]

    def along_edge(self, row: int, t: FloatArray) -> FloatArray:
        """Distance from the nearest station to the spots at offsets ``t`` along a street.

        Any walk to a spot on the street enters it at a node of its chain (an end, a station
        or a point) and then walks along the street.
        """
        d = np.full(np.shape(t), np.inf)
        for offset, (kind, i) in self.chains[row]:
            if kind == "s":
                at = 0.0
            else:
                at = (self.nearest_node_m if kind == "n" else self.nearest_point_m)[i]
            d = np.minimum(d, at + np.abs(np.asarray(t) - offset))
        return d


def reference(network: WalkNetwork, stations: Snapped, points: Snapped) -> Reference:
    """Split every street at its stations and points; run networkx Dijkstra."""
    on_street: dict[int, list[tuple[float, tuple[str, int]]]] = defaultdict(list)
    for kind, placed in (("s", stations), ("p", points)):
        for i, (e, offset) in enumerate(zip(placed.edge, placed.offset_m, strict=True)):
            if e >= 0:
                on_street[int(e)].append((float(offset), (kind, i)))
    graph = nx.Graph()
    graph.add_nodes_from(("n", i) for i in range(network.n_nodes))
    chains = []
    edges = network.edges
    for row, (u, v, length) in enumerate(
        zip(edges["u_idx"], edges["v_idx"], edges["length_m"], strict=True)
    ):
        chain = [(0.0, ("n", int(u))), *sorted(on_street[row]), (float(length), ("n", int(v)))]
        chains.append(chain)
        for (o1, a), (o2, b) in itertools.pairwise(chain):
            graph.add_node(a)
            graph.add_node(b)
            if a != b and (not graph.has_edge(a, b) or graph[a][b]["weight"] > o2 - o1):
                graph.add_edge(a, b, weight=o2 - o1)

    k, n, m = len(stations), network.n_nodes, len(points)
    node_m = np.full((k, n), np.inf)
    point_m = np.full((k, m), np.inf)
    sources = [("s", int(j)) for j in np.flatnonzero(stations.edge >= 0)]
    for _, j in sources:
        for (kind, i), d in nx.single_source_dijkstra_path_length(graph, ("s", j)).items():
            if kind == "n":
                node_m[j, i] = d
            elif kind == "p":
                point_m[j, i] = d
    dist, paths = nx.multi_source_dijkstra(graph, set(sources))

    def nearest(kind: str, size: int) -> tuple[FloatArray, npt.NDArray[np.int64]]:
        d = np.array([dist.get((kind, i), np.inf) for i in range(size)])
        s = np.array([paths[(kind, i)][0][1] if (kind, i) in paths else -1 for i in range(size)])
        return d, s.astype(np.int64)

    nearest_node_m, nearest_node = nearest("n", n)
    nearest_point_m, nearest_point = nearest("p", m)
    return Reference(
        node_m, point_m, nearest_node_m, nearest_point_m, nearest_node, nearest_point, chains
    )


def assert_nearest_is_right(
    dist: FloatArray,
    nearest: npt.NDArray[np.int64],
    per_station: FloatArray,
    ref_nearest: npt.NDArray[np.int64],
) -> None:
    """The named station is at the reported distance; where the nearest is unique, it is it."""
    finite = np.isfinite(dist)
    assert (nearest[~finite] == -1).all()
    assert (nearest[finite] >= 0).all()
    where = np.flatnonzero(finite)
    np.testing.assert_allclose(per_station[nearest[where], where], dist[where], rtol=0, atol=TOL_M)
    if per_station.shape[0] >= 2:
        two = np.sort(per_station, axis=0)[:2]
        with np.errstate(invalid="ignore"):
            unique = finite & (two[1] - two[0] > TOL_M)
        assert unique.sum() >= 0.5 * finite.sum()  # ties are rare: the check is not vacuous
        np.testing.assert_array_equal(nearest[unique], per_station.argmin(axis=0)[unique])
        np.testing.assert_array_equal(nearest[unique], ref_nearest[unique])


# ------------------------------------------------------------------ cases to compare on


@dataclass(frozen=True)
class Case:
    """A network, stations and points, the reference distances, and a walk limit.

    ``point_xy`` holds the projected input coordinates of the points that were snapped
    (NaN for points placed directly on a street); ``max_snap_m`` is the snap distance used.
    """

    network: WalkNetwork
    stations: Snapped
    points: Snapped
    point_xy: FloatArray
    max_snap_m: float
    ref: Reference
    limit_m: float


def scatter(
    network: WalkNetwork, rng: np.random.Generator, count: int, *, max_snap_m: float, crs: str
) -> tuple[Snapped, FloatArray]:
    """Snap points at random spots inside the network's bounds, given in ``crs``."""
    xmin, ymin, xmax, ymax = network.edges.total_bounds
    xy = rng.uniform((xmin, ymin), (xmax, ymax), size=(count, 2))
    points = gpd.GeoSeries(gpd.points_from_xy(*xy.T), crs=network.crs).to_crs(crs)
    return snap_points(network, points, max_snap_m=max_snap_m), xy


def random_case(graph: nx.MultiDiGraph, seed: int) -> Case:
    """Stations and points on a random graph, snapped and placed on awkward streets."""
    rng = np.random.default_rng(1000 + seed)
    network = build_walk_network(graph, crs=CRS, keep_islands=seed % 2 == 0)
    edges = network.edges
    length = edges["length_m"].to_numpy()
    loops = np.flatnonzero(edges["u_idx"] == edges["v_idx"])
    zeros = np.flatnonzero(length == 0)
    assert loops.size
    assert zeros.size
    max_snap_m = 80.0
    scattered_st, _ = scatter(network, rng, 10, max_snap_m=max_snap_m, crs=CRS)
    ends = rng.integers(len(edges), size=2)
    shared = rng.integers(len(edges), size=3)
    stations = concat(
        scattered_st,
        snapped(
            [loops[0], zeros[0], ends[0], ends[1], -1, *shared, shared[0]],
            [
                rng.uniform(0, length[loops[0]]),
                0.0,
                0.0,
                length[ends[1]],
                0.0,
                *rng.uniform(0, length[shared]),
                rng.uniform(0, length[shared[0]]),
            ],
        ),
    )
    on_station_streets = rng.choice(stations.edge[stations.edge >= 0], size=15)
    scattered_pt, xy = scatter(network, rng, 200, max_snap_m=max_snap_m, crs=CRS)
    placed = snapped(
        [*loops, *zeros, *on_station_streets, ends[0], ends[1]],
        [
            *rng.uniform(0, length[loops]),
            *np.zeros(zeros.size),
            *rng.uniform(0, length[on_station_streets]),
            length[ends[0]],
            0.0,
        ],
    )
    points = concat(scattered_pt, placed)
    point_xy = np.vstack([xy, np.full((len(placed), 2), np.nan)])
    ref = reference(network, stations, points)
    return Case(network, stations, points, point_xy, max_snap_m, ref, limit_m=150.0)


def helsinki_case(network: WalkNetwork) -> Case:
    """30 stations and 300 points at random spots of the Helsinki extract, given in WGS84."""
    rng = np.random.default_rng(2024)
    max_snap_m = 100.0
    stations, _ = scatter(network, rng, 30, max_snap_m=max_snap_m, crs="EPSG:4326")
    scattered_pt, xy = scatter(network, rng, 300, max_snap_m=max_snap_m, crs="EPSG:4326")
    length = network.edges["length_m"].to_numpy()
    loops = np.flatnonzero(network.edges["u_idx"] == network.edges["v_idx"])
    same = stations.edge[stations.edge >= 0][:5]  # points sharing a street with a station
    placed = snapped(
        [*same, *loops], [*rng.uniform(0, length[same]), *rng.uniform(0, length[loops])]
    )
    points = concat(scattered_pt, placed)
    point_xy = np.vstack([xy, np.full((len(placed), 2), np.nan)])
    ref = reference(network, stations, points)
    return Case(network, stations, points, point_xy, max_snap_m, ref, limit_m=600.0)


CASES = [*(f"random-{seed}" for seed in range(6)), "helsinki"]
