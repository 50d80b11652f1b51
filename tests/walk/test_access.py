"""Tests of walk.access: snapping, walk distances, station reach and isochrones.

The engine is checked by hand on a 3x3 grid and against a slow reference on random graphs
and on the bundled Helsinki extract: every street is split at the stations and points on
it, and networkx's Dijkstra runs on the split graph.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import shapely

import planner.walk.access
from planner.errors import InputDataError
from planner.walk.access import (
    Snapped,
    isochrone_polygons,
    nearest_station_distances,
    point_distances,
    reach_matrix,
    reached_edge_parts,
    snap_points,
    station_reach,
)
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


@pytest.fixture(scope="module", params=CASES)
def case(request: pytest.FixtureRequest) -> Case:
    if request.param == "helsinki":
        return helsinki_case(request.getfixturevalue("helsinki_network"))
    make: Callable[[int], nx.MultiDiGraph] = request.getfixturevalue("random_street_graph")
    seed = int(request.param.split("-")[1])
    return random_case(make(seed), seed)


# --------------------------------------------------------------------- snapping, by hand


def test_snap_points_on_grid(grid_network: WalkNetwork) -> None:
    points = points_at((50, 0), (130, 60), (200, 200), (-500, -500), (0, 185))
    points.index = pd.Index([10, 11, 12, 13, 14], name="home")

    placed = snap_points(grid_network, points, max_snap_m=100.0)

    row = [edge_row(grid_network, *pair) for pair in ((0, 1), (1, 4), (3, 6), (7, 8), (5, 8))]
    assert placed.edge[[0, 1, 3, 4]].tolist() == [row[0], row[1], -1, row[2]]
    assert placed.edge[2] in (row[3], row[4])  # node 8 ends two streets: either is right
    assert placed.index.equals(points.index)
    assert placed.on_network.tolist() == [True, True, True, False, True]
    np.testing.assert_allclose(placed.snap_m, [0.0, 30.0, 0.0, np.nan, 0.0], atol=1e-9)
    np.testing.assert_allclose(placed.offset_m, [50.0, 60.0, 100.0, 0.0, 85.0], atol=1e-9)
    assert len(placed) == 5


def test_snap_points_reprojects(grid_network: WalkNetwork) -> None:
    wgs84 = points_at((130, 60)).to_crs("EPSG:4326")

    placed = snap_points(grid_network, wgs84, max_snap_m=100.0)

    assert placed.edge.tolist() == [edge_row(grid_network, 1, 4)]
    assert placed.offset_m[0] == pytest.approx(60.0, abs=1e-6)
    assert placed.snap_m[0] == pytest.approx(30.0, abs=1e-6)


def test_snap_points_without_crs_is_refused(grid_network: WalkNetwork) -> None:
    with pytest.raises(InputDataError, match="no CRS"):
        snap_points(grid_network, gpd.GeoSeries(gpd.points_from_xy([X0], [Y0])), max_snap_m=10.0)


def test_snap_no_points(grid_network: WalkNetwork) -> None:
    placed = snap_points(grid_network, gpd.GeoSeries([], crs=CRS), max_snap_m=10.0)

    assert len(placed) == 0


# -------------------------------------------------------------------- distances, by hand


def test_grid_distances_from_a_mid_street_station(grid_network: WalkNetwork) -> None:
    stations = snap_points(grid_network, points_at((50, 0)), max_snap_m=1.0)
    homes = snap_points(
        grid_network,
        points_at((130, 60), (0, 180), (20, 5), (95, 0), (200, 200), (900, 900)),
        max_snap_m=40.0,
    )

    nodes = nearest_station_distances(grid_network, stations)
    dist, nearest = point_distances(grid_network, nodes, stations, homes)

    by_id = by_node_id(grid_network, nodes.dist_m)
    assert by_id == {0: 50, 1: 50, 2: 150, 3: 150, 4: 150, 5: 250, 6: 250, 7: 250, 8: 350}
    assert nodes.nearest.tolist() == [0] * 9
    assert nodes.limit_m is None
    # (130, 60) is 30 m beside street 1-4: 50 + 60. (0, 180): 150 + 80 via node 3.
    # (20, 5) and (95, 0) share the station's street: 30 and 45 m along it (not 50 + 20
    # round node 0). (200, 200) is node 8. (900, 900) is off the network.
    np.testing.assert_allclose(dist, [110.0, 230.0, 30.0, 45.0, 350.0, np.inf], atol=1e-9)
    assert nearest.tolist() == [0, 0, 0, 0, 0, -1]


def test_grid_nearest_of_two_stations(grid_network: WalkNetwork) -> None:
    # Station 0 mid-way along 0-1, station 1 at 50 m up street 5-8.
    stations = snap_points(grid_network, points_at((50, 0), (200, 150)), max_snap_m=1.0)
    homes = snap_points(
        grid_network, points_at((0, 180), (170, 200), (100, 40), (200, 100)), max_snap_m=1.0
    )

    nodes = nearest_station_distances(grid_network, stations)
    dist, nearest = point_distances(grid_network, nodes, stations, homes)

    by_id = by_node_id(grid_network, nodes.dist_m)
    assert by_id == {0: 50, 1: 50, 2: 150, 3: 150, 4: 150, 5: 50, 6: 250, 7: 150, 8: 50}
    nearest_by_id = by_node_id(grid_network, nodes.nearest)
    ties = {2, 4, 6}  # as far from either station
    assert {n: s for n, s in nearest_by_id.items() if n not in ties} == {
        0: 0, 1: 0, 3: 0, 5: 1, 7: 1, 8: 1
    }  # fmt: skip
    assert {nearest_by_id[n] for n in ties} <= {0, 1}
    np.testing.assert_allclose(dist, [230.0, 80.0, 90.0, 50.0], atol=1e-9)
    assert nearest.tolist() == [0, 1, 0, 1]


def test_grid_two_stations_on_the_home_street(grid_network: WalkNetwork) -> None:
    row = edge_row(grid_network, 3, 4)
    stations = snapped([row, row, row], [10.0, 90.0, 55.0])
    homes = snapped([row, row, row, row], [0.0, 30.0, 80.0, 100.0])

    nodes = nearest_station_distances(grid_network, stations)
    dist, nearest = point_distances(grid_network, nodes, stations, homes)

    np.testing.assert_allclose(dist, [10.0, 20.0, 10.0, 10.0], atol=1e-9)
    assert nearest.tolist() == [0, 0, 1, 1]


def test_grid_off_network_station_is_no_source(grid_network: WalkNetwork) -> None:
    stations = snap_points(grid_network, points_at((-300, 0), (100, 0)), max_snap_m=50.0)
    homes = snap_points(grid_network, points_at((100, 30)), max_snap_m=50.0)

    nodes = nearest_station_distances(grid_network, stations)
    dist, nearest = point_distances(grid_network, nodes, stations, homes)

    assert stations.edge[0] == -1
    # A station on a node enters it at the 1e-9 m weight of zero-length links.
    assert by_node_id(grid_network, nodes.dist_m)[8] == pytest.approx(300.0, abs=1e-6)
    assert dist.tolist() == pytest.approx([30.0], abs=1e-6)
    assert nearest.tolist() == [1]


@pytest.mark.parametrize("station_xy", [[(-300.0, 0.0)], []], ids=["off-network", "none"])
def test_no_station_on_the_network(
    grid_network: WalkNetwork, station_xy: list[tuple[float, float]]
) -> None:
    stations = snap_points(grid_network, points_at(*station_xy), max_snap_m=50.0)
    homes = snap_points(grid_network, points_at((100, 30)), max_snap_m=50.0)

    nodes = nearest_station_distances(grid_network, stations)
    dist, nearest = point_distances(grid_network, nodes, stations, homes)

    assert np.isinf(nodes.dist_m).all()
    assert (nodes.nearest == -1).all()
    assert dist.tolist() == [np.inf]
    assert nearest.tolist() == [-1]
    reach = list(station_reach(grid_network, stations, homes, limit_m=1e6))
    assert [pos.size for pos, _ in reach] == [0] * len(station_xy)


def test_grid_bounded_search(grid_network: WalkNetwork) -> None:
    stations = snap_points(grid_network, points_at((50, 0)), max_snap_m=10.0)

    nodes = nearest_station_distances(grid_network, stations, limit_m=150.0)

    by_id = by_node_id(grid_network, nodes.dist_m)
    inf = np.inf
    assert by_id == {0: 50, 1: 50, 2: 150, 3: 150, 4: 150, 5: inf, 6: inf, 7: inf, 8: inf}
    assert by_node_id(grid_network, nodes.nearest) == {
        0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: -1, 6: -1, 7: -1, 8: -1
    }  # fmt: skip
    assert nodes.limit_m == 150.0


def test_parallel_zero_length_and_loop_streets_by_hand(grid_graph: nx.MultiDiGraph) -> None:
    # A 60 m street parallel to 0-1 (drawn bent south), node 9 on top of node 2 joined to it
    # by a zero-length street and on to node 10 at (300, 0), and an 80 m square loop at 8.
    bent = shapely.LineString([(X0, Y0), (X0 + 50, Y0 - 40), (X0 + 100, Y0)])
    grid_graph.add_edge(0, 1, length=60.0, geometry=bent)
    grid_graph.add_node(9, x=X0 + 200.0, y=Y0)
    grid_graph.add_node(10, x=X0 + 300.0, y=Y0)
    grid_graph.add_edge(9, 2, length=0.0)
    grid_graph.add_edge(9, 10, length=100.0)
    square = [(200, 200), (220, 200), (220, 220), (200, 220), (200, 200)]
    loop = shapely.LineString([(X0 + x, Y0 + y) for x, y in square])
    grid_graph.add_edge(8, 8, length=80.0, geometry=loop)
    network = build_walk_network(grid_graph, crs=CRS)
    stations = snap_points(network, points_at((0, 50)), max_snap_m=1.0)  # 50 m up 0-3
    homes = snap_points(
        network, points_at((150, 0), (250, 0), (220, 215), (50, -40)), max_snap_m=5.0
    )

    nodes = nearest_station_distances(network, stations)
    dist, nearest = point_distances(network, nodes, stations, homes)

    by_id = by_node_id(network, nodes.dist_m)
    assert by_id[1] == 110.0  # 50 + the 60 m street, not 50 + 100, nor 50 + 160
    assert by_id[2] == 210.0
    assert by_id[9] == pytest.approx(210.0, abs=1e-6)
    assert by_id[10] == pytest.approx(310.0, abs=1e-6)
    assert by_id[8] == 350.0
    assert homes.edge[3] == edge_row_of_length(network, 60.0)
    assert homes.edge[2] == edge_row_of_length(network, 80.0)
    # (150, 0): 110 + 50; (250, 0): 210 + 0 + 50; (220, 215) is 35 m into the 80 m loop at
    # node 8 (the shorter way round: 35 m, not 45 m); (50, -40) is half-way along the bent
    # 60 m street.
    np.testing.assert_allclose(dist, [160.0, 260.0, 385.0, 80.0], atol=1e-6)
    assert nearest.tolist() == [0, 0, 0, 0]


def edge_row_of_length(network: WalkNetwork, length_m: float) -> int:
    rows = np.flatnonzero(network.edges["length_m"] == length_m)
    assert rows.size == 1
    return int(rows[0])


def test_keep_islands_island_homes_are_unreachable() -> None:
    graph = nx.MultiDiGraph(crs=CRS)
    for n in range(9):
        graph.add_node(n, x=X0 + 100.0 * (n % 3), y=Y0 + 100.0 * (n // 3))
        if n % 3 < 2:
            graph.add_edge(n, n + 1, length=100.0)
        if n < 6:
            graph.add_edge(n, n + 3, length=100.0)
    graph.add_node(100, x=X0 + 1000.0, y=Y0)
    graph.add_node(101, x=X0 + 1100.0, y=Y0)
    graph.add_edge(100, 101, length=100.0)
    network = build_walk_network(graph, crs=CRS, keep_islands=True)
    stations = snap_points(network, points_at((50, 0)), max_snap_m=1.0)
    homes = snap_points(network, points_at((1050, 0), (100, 30)), max_snap_m=1.0)

    nodes = nearest_station_distances(network, stations)
    dist, nearest = point_distances(network, nodes, stations, homes)

    by_id = by_node_id(network, nodes.dist_m)
    assert by_id[100] == np.inf
    assert by_id[101] == np.inf
    assert dist.tolist() == [np.inf, 80.0]
    assert nearest.tolist() == [-1, 0]
    assert homes.on_network.all()


# ------------------------------------------------------------ engine against reference


def test_node_distances_match_reference(case: Case) -> None:
    nodes = nearest_station_distances(case.network, case.stations)

    np.testing.assert_allclose(nodes.dist_m, case.ref.nearest_node_m, rtol=0, atol=TOL_M)
    np.testing.assert_allclose(nodes.dist_m, case.ref.node_m.min(axis=0), rtol=0, atol=TOL_M)
    assert_nearest_is_right(nodes.dist_m, nodes.nearest, case.ref.node_m, case.ref.nearest_node)


def test_point_distances_match_reference(case: Case) -> None:
    nodes = nearest_station_distances(case.network, case.stations)

    dist, nearest = point_distances(case.network, nodes, case.stations, case.points)

    np.testing.assert_allclose(dist, case.ref.nearest_point_m, rtol=0, atol=TOL_M)
    assert_nearest_is_right(dist, nearest, case.ref.point_m, case.ref.nearest_point)
    assert np.isinf(dist[~case.points.on_network]).all()
    assert np.isfinite(dist).sum() > 0.4 * len(dist)


def test_bounded_search_matches_unbounded(case: Case) -> None:
    limit = case.limit_m
    ref = case.ref.nearest_node_m

    nodes = nearest_station_distances(case.network, case.stations, limit_m=limit)
    dist, _ = point_distances(case.network, nodes, case.stations, case.points)

    inside, outside = ref <= limit - TOL_M, ref > limit + TOL_M
    assert inside.sum() > 10
    assert outside.sum() > 10
    np.testing.assert_allclose(nodes.dist_m[inside], ref[inside], rtol=0, atol=TOL_M)
    assert np.isinf(nodes.dist_m[outside]).all()
    assert (nodes.nearest[outside] == -1).all()
    assert nodes.limit_m == limit
    near = case.ref.nearest_point_m <= limit - TOL_M
    np.testing.assert_allclose(dist[near], case.ref.nearest_point_m[near], rtol=0, atol=TOL_M)
    assert (dist[~near] >= limit - TOL_M).all()


def test_station_reach_matches_reference(case: Case) -> None:
    limit = case.limit_m

    reach = list(station_reach(case.network, case.stations, case.points, limit_m=limit))

    assert len(reach) == len(case.stations)
    for j, (pos, dist) in enumerate(reach):
        ref = case.ref.point_m[j]
        surely = set(np.flatnonzero(ref <= limit - TOL_M).tolist())
        maybe = set(np.flatnonzero(ref <= limit + TOL_M).tolist())
        assert surely <= set(pos.tolist()) <= maybe, j
        assert (np.diff(pos) > 0).all()
        np.testing.assert_allclose(dist, ref[pos], rtol=0, atol=TOL_M)
        assert (dist <= limit).all()
        if case.stations.edge[j] < 0:
            assert pos.size == 0
    assert sum(pos.size for pos, _ in reach) > len(case.stations)


def test_station_reach_in_small_blocks(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = list(station_reach(case.network, case.stations, case.points, limit_m=case.limit_m))
    monkeypatch.setattr(planner.walk.access, "_BLOCK_BYTES", 1)  # one station per block

    blocks = list(station_reach(case.network, case.stations, case.points, limit_m=case.limit_m))

    assert len(blocks) == len(whole)
    for (pos_a, d_a), (pos_b, d_b) in zip(whole, blocks, strict=True):
        np.testing.assert_array_equal(pos_a, pos_b)
        np.testing.assert_array_equal(d_a, d_b)


def test_reach_matrix_matches_reference_and_station_reach(case: Case) -> None:
    limit = case.limit_m

    matrix = reach_matrix(case.network, case.stations, case.points, limit_m=limit)

    assert matrix.shape == (len(case.stations), len(case.points))
    reach = list(station_reach(case.network, case.stations, case.points, limit_m=limit))
    for j, (pos, dist) in enumerate(reach):
        row = matrix[[j], :]
        found = row.indices
        ref = case.ref.point_m[j]
        surely = set(np.flatnonzero(ref <= limit - TOL_M).tolist())
        maybe = set(np.flatnonzero(ref <= limit + TOL_M).tolist())
        assert surely <= set(found.tolist()) <= maybe, j
        np.testing.assert_allclose(row.data, np.maximum(ref[found], 1e-9), rtol=0, atol=TOL_M)
        np.testing.assert_array_equal(np.sort(found), pos)
        np.testing.assert_allclose(row.data[np.argsort(found)], np.maximum(dist, 1e-9), atol=1e-9)
    assert matrix.nnz > len(case.stations)


def test_reach_matrix_in_small_blocks(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = reach_matrix(case.network, case.stations, case.points, limit_m=case.limit_m)
    monkeypatch.setattr(planner.walk.access, "_BLOCK_BYTES", 1)  # one site per block

    blocks = reach_matrix(case.network, case.stations, case.points, limit_m=case.limit_m)

    np.testing.assert_array_equal(whole.indptr, blocks.indptr)
    np.testing.assert_array_equal(whole.indices, blocks.indices)
    np.testing.assert_array_equal(whole.data, blocks.data)


def test_reach_matrix_without_sites_or_points(grid_network: WalkNetwork) -> None:
    none = snapped([], [])
    some = snapped([0, -1], [10.0, 0.0])

    assert reach_matrix(grid_network, none, some, limit_m=100.0).shape == (0, 2)
    empty = reach_matrix(grid_network, some, none, limit_m=100.0)
    assert empty.shape == (2, 0)
    assert empty.nnz == 0
    # The off-network site reaches nothing; the on-network one reaches itself (distance 0).
    both = reach_matrix(grid_network, some, some, limit_m=100.0)
    assert both.toarray().tolist() == [[1e-9, 0.0], [0.0, 0.0]]


def test_snapping_finds_the_nearest_street(case: Case) -> None:
    network, points = case.network, case.points
    given = np.flatnonzero(~np.isnan(case.point_xy[:, 0]))
    xy = shapely.points(case.point_xy[given])
    geoms = network.edges.geometry.to_numpy()

    # Brute force: the distance from every point to every street it may snap to.
    snappable = network.edges["snappable"].to_numpy()
    nearest_m = shapely.distance(xy[:, None], geoms[None, snappable]).min(axis=1)

    on = points.on_network[given]
    assert on.sum() > 0.5 * len(given)
    np.testing.assert_allclose(points.snap_m[given][on], nearest_m[on], rtol=0, atol=1e-6)
    assert (nearest_m[on] <= case.max_snap_m).all()
    assert (nearest_m[~on] > case.max_snap_m).all()
    assert np.isnan(points.snap_m[given][~on]).all()
    # The offset puts the point's foot on its street, at the snap distance from the point.
    e = points.edge[given][on]
    assert snappable[e].all()  # never a tunnel
    length = network.edges["length_m"].to_numpy()[e]
    real = length > 0  # zero-length streets put every foot at their u end
    foot = shapely.line_interpolate_point(
        geoms[e][real], points.offset_m[given][on][real] / length[real], normalized=True
    )
    np.testing.assert_allclose(
        shapely.distance(xy[on][real], foot), nearest_m[on][real], rtol=0, atol=1e-5
    )
    assert (points.offset_m[given][on] >= 0).all()
    assert (points.offset_m[given][on] <= length + 1e-9).all()


# -------------------------------------------------------------------------- isochrones


def parts_by_edge(network: WalkNetwork, parts: gpd.GeoSeries) -> dict[tuple[int, int], list[float]]:
    edges = network.edges
    out: dict[tuple[int, int], list[float]] = defaultdict(list)
    for row, geom in parts.items():
        # Rounded to the micrometre: a station on a node enters it at 1e-9 m.
        out[(int(edges["u"].iloc[row]), int(edges["v"].iloc[row]))].append(round(geom.length, 6))
    return {k: sorted(v) for k, v in out.items()}


def test_reached_parts_from_a_corner_station(grid_network: WalkNetwork) -> None:
    stations = snap_points(grid_network, points_at((0, 0)), max_snap_m=1.0)
    nodes = nearest_station_distances(grid_network, stations)

    parts = reached_edge_parts(grid_network, nodes.dist_m, stations, limit_m=150.0)

    assert parts_by_edge(grid_network, parts) == {
        (0, 1): [100.0],
        (0, 3): [100.0],
        (1, 2): [50.0],
        (1, 4): [50.0],
        (3, 4): [50.0],
        (3, 6): [50.0],
    }
    assert parts.length.sum() == pytest.approx(400.0)
    assert parts.crs == grid_network.crs
    assert parts.index.name == "edge"
    piece = parts.loc[edge_row(grid_network, 1, 2)]
    assert piece.equals_exact(shapely.LineString([(X0 + 100, Y0), (X0 + 150, Y0)]), 1e-9)


def test_reached_parts_from_both_ends_leave_a_gap(grid_network: WalkNetwork) -> None:
    # From mid 0-1, nodes 3 and 4 are both 150 m away: street 3-4 is reached 30 m from each
    # end with a limit of 180 m, and its middle 40 m are not.
    stations = snap_points(grid_network, points_at((50, 0)), max_snap_m=1.0)
    nodes = nearest_station_distances(grid_network, stations)

    parts = reached_edge_parts(grid_network, nodes.dist_m, stations, limit_m=180.0)

    assert parts_by_edge(grid_network, parts) == {
        (0, 1): [100.0],
        (0, 3): [100.0],
        (1, 2): [100.0],
        (1, 4): [100.0],
        (3, 4): [30.0, 30.0],
        (3, 6): [30.0],
        (4, 5): [30.0],
        (4, 7): [30.0],
        (2, 5): [30.0],
    }
    assert parts.length.sum() == pytest.approx(580.0)
    gap = parts.loc[[edge_row(grid_network, 3, 4)]]
    assert shapely.union_all(gap.to_numpy()).equals(
        shapely.MultiLineString(
            [
                [(X0, Y0 + 100), (X0 + 30, Y0 + 100)],
                [(X0 + 70, Y0 + 100), (X0 + 100, Y0 + 100)],
            ]
        )
    )


def test_reached_part_within_the_station_street(grid_network: WalkNetwork) -> None:
    stations = snap_points(grid_network, points_at((50, 0)), max_snap_m=1.0)
    nodes = nearest_station_distances(grid_network, stations, limit_m=30.0)

    parts = reached_edge_parts(grid_network, nodes.dist_m, stations, limit_m=30.0)

    assert parts.index.tolist() == [edge_row(grid_network, 0, 1)]
    assert parts.iloc[0].equals_exact(shapely.LineString([(X0 + 20, Y0), (X0 + 80, Y0)]), 1e-9)


def test_isochrone_area_by_hand(grid_network: WalkNetwork) -> None:
    # From the centre node with 100 m: a plus sign of four 100 m streets, 20 m wide, with
    # half of a 12-sided "circle" (quad_segs=3, area 3 r^2 = 300 m^2) capping each arm:
    # 2 * 200 * 20 - 20 * 20 + 4 * 150 = 8200 m^2.
    stations = snap_points(grid_network, points_at((100, 100)), max_snap_m=1.0)
    nodes = nearest_station_distances(grid_network, stations)

    (band,) = isochrone_polygons(
        grid_network, nodes.dist_m, stations, limits_m=(100.0,), buffer_m=10.0
    )

    assert band.area == pytest.approx(2 * 200 * 20 - 20 * 20 + 4 * 150, rel=1e-9)
    assert band.contains(shapely.Point(X0 + 100, Y0 + 100))
    assert not band.contains(shapely.Point(X0 + 50, Y0 + 50))


def test_isochrone_does_not_cross_a_river() -> None:
    # Two parallel streets from x=-1500 to 1500, 300 m apart across a river, joined only by
    # bridges at x=-1000 and x=1000. A station on the south bank at x=0.
    graph = nx.MultiDiGraph(crs=CRS)
    xs = range(-1500, 1501, 100)
    for bank, y in (("s", 0.0), ("n", 300.0)):
        for x in xs:
            graph.add_node(node_id(bank, x), x=X0 + x, y=Y0 + y)
        for x in xs[:-1]:
            graph.add_edge(node_id(bank, x), node_id(bank, x + 100), length=100.0)
    for x in (-1000, 1000):
        graph.add_edge(node_id("s", x), node_id("n", x), length=300.0)
    network = build_walk_network(graph, crs=CRS)
    stations = snap_points(network, points_at((0, 0)), max_snap_m=1.0)
    nodes = nearest_station_distances(network, stations)

    (band,) = isochrone_polygons(network, nodes.dist_m, stations, limits_m=(1500.0,), buffer_m=50.0)
    parts = reached_edge_parts(network, nodes.dist_m, stations, limit_m=1500.0)

    opposite = shapely.Point(X0, Y0 + 290)  # 1000 + 300 + 1000 m away on foot
    river = shapely.Point(X0, Y0 + 150)
    hull = shapely.union_all(parts.to_numpy()).convex_hull
    assert hull.contains(opposite)  # a hull would claim the far bank...
    assert hull.contains(river)
    assert not band.contains(opposite)  # ...the street-based isochrone does not
    assert not band.contains(river)
    assert not band.intersects(shapely.Point(X0, Y0 + 300))
    assert band.contains(shapely.Point(X0 + 1000, Y0 + 300))  # far bank by the bridge
    assert band.contains(shapely.Point(X0 + 1150, Y0 + 300))
    assert not band.contains(shapely.Point(X0 + 1300, Y0 + 300))
    assert band.contains(shapely.Point(X0 - 1450, Y0))
    assert band.bounds == pytest.approx((X0 - 1550, Y0 - 50, X0 + 1550, Y0 + 350), abs=1e-6)


def node_id(bank: str, x: int) -> int:
    return (0 if bank == "s" else 10_000) + x + 2000


def test_reached_parts_stay_within_the_limit(case: Case) -> None:
    network, limit = case.network, case.limit_m
    nodes = nearest_station_distances(network, case.stations, limit_m=limit)

    parts = reached_edge_parts(network, nodes.dist_m, case.stations, limit_m=limit)

    geoms = network.edges.geometry.to_numpy()
    length = network.edges["length_m"].to_numpy()
    assert len(parts) > 10
    for row, piece in parts.items():
        street = geoms[row]
        # Spots along the piece, as offsets along the street in network metres.
        spots = shapely.line_interpolate_point(piece, np.linspace(0, 1, 21), normalized=True)
        t = shapely.line_locate_point(street, spots, normalized=True) * length[row]
        d = case.ref.along_edge(row, t)
        assert (d <= limit + 1e-5).all(), (row, d.max())
        # A piece ends at a street end or exactly where the limit is reached.
        for end in (t[0], t[-1]):
            if min(end, length[row] - end) > 1e-6:
                assert case.ref.along_edge(row, np.array([end]))[0] == pytest.approx(
                    limit, abs=1e-5
                )
    # Streets with no piece are beyond the limit everywhere (their minimum is at a chain node).
    missed = sorted(set(range(len(length))) - set(parts.index) - set(np.flatnonzero(length == 0)))
    for row in missed:
        offsets = np.array([o for o, _ in case.ref.chains[row]])
        assert case.ref.along_edge(row, offsets).min() >= limit - 1e-6, row


def test_isochrone_bands_are_nested_and_hug_the_streets(case: Case) -> None:
    network = case.network
    nodes = nearest_station_distances(network, case.stations)
    limits = (case.limit_m / 3, 2 * case.limit_m / 3, case.limit_m)
    buffer_m = 20.0

    bands = isochrone_polygons(
        network, nodes.dist_m, case.stations, limits_m=limits, buffer_m=buffer_m
    )

    assert len(bands) == 3
    for inner, outer in itertools.pairwise(bands):
        assert inner.difference(outer).area < 1e-6
        assert outer.area > inner.area
    rng = np.random.default_rng(7)
    for limit, band in zip(limits, bands, strict=True):
        pieces = reached_edge_parts(network, nodes.dist_m, case.stations, limit_m=limit)
        parts = shapely.union_all(pieces.to_numpy())
        # Every reached street is inside the band...
        assert parts.difference(band.buffer(1e-6)).length < 1e-6
        # ...and the band is no wider than the buffer: its boundary (every 5 m) and random
        # spots inside it are all within buffer_m of a reached street.
        edge_spots = shapely.points(shapely.get_coordinates(shapely.segmentize(band.boundary, 5.0)))
        xmin, ymin, xmax, ymax = band.bounds
        spots = shapely.points(rng.uniform((xmin, ymin), (xmax, ymax), size=(20_000, 2)))
        inside = spots[shapely.contains_xy(band, *shapely.get_coordinates(spots).T)]
        assert inside.size > 1000
        tree = shapely.STRtree(pieces.to_numpy())
        for probe in (edge_spots, inside):
            _, away_m = tree.query_nearest(probe, return_distance=True, all_matches=False)
            assert away_m.max() <= buffer_m + 1e-6
