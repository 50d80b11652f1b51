"""The multi-source search updated after one edit equals the search redone in full.

By hand on the 3x3 grid, then random sequences of additions, removals and moves on random
street graphs (one-way streets, parallel streets, self-loops, zero-length streets) and on
the bundled Helsinki extract, each step against
:func:`~planner.walk.access.nearest_station_distances` over the same stations.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest
from walk_reference import concat, edge_row, snapped

from planner.walk.access import NodeDistances, Snapped, nearest_station_distances
from planner.walk.nearest_update import with_station_added, with_station_removed
from planner.walk.network import WalkNetwork, build_walk_network


def _node(network: WalkNetwork, node_id: int) -> int:
    return int(np.flatnonzero(np.asarray(network.node_ids) == node_id)[0])


def _without(stations: Snapped, k: int) -> tuple[Snapped, np.ndarray]:
    keep = np.arange(len(stations)) != k
    relabel = np.cumsum(keep) - 1
    relabel[k] = -1
    return (
        snapped(stations.edge[keep].tolist(), stations.offset_m[keep].tolist()),
        relabel,
    )


def _assert_same(got: NodeDistances, network: WalkNetwork, stations: Snapped) -> None:
    full = nearest_station_distances(network, stations)
    np.testing.assert_array_equal(got.dist_m, full.dist_m)  # the same sums: bit for bit
    np.testing.assert_array_equal(got.nearest, full.nearest)
    assert got.limit_m is None


def test_add_and_remove_on_the_grid_by_hand(grid_network: WalkNetwork) -> None:
    # A on street 0-1, 30 m from node 0; B on street 7-8, 50 m from node 7.
    a = snapped([edge_row(grid_network, 0, 1)], [30.0])
    b = snapped([edge_row(grid_network, 7, 8)], [50.0])
    only_a = nearest_station_distances(grid_network, a)
    both = with_station_added(grid_network, only_a, b, 1, start_limit_m=10.0)
    at = {n: _node(grid_network, n) for n in range(9)}
    assert both.dist_m[at[0]] == pytest.approx(30.0)
    assert both.dist_m[at[8]] == pytest.approx(50.0)
    assert both.dist_m[at[4]] == pytest.approx(150.0)  # B, 7, 4 (A, 1, 4 is 170 m)
    assert both.nearest[at[4]] == 1
    assert both.nearest[at[1]] == 0
    _assert_same(both, grid_network, concat(a, b))
    # Removing A: its nodes are searched again, from B.
    only_b = with_station_removed(grid_network, both, 0, b, relabel=np.array([-1, 0]))
    assert only_b.dist_m[at[0]] == pytest.approx(350.0)  # B, 7, 6 (or 4), 3, 0
    assert (only_b.nearest == 0).all()
    _assert_same(only_b, grid_network, b)
    # The last station removed: nobody is reached; the first added: reached everywhere.
    none = with_station_removed(grid_network, only_b, 0, snapped([], []), relabel=np.array([-1]))
    assert np.isinf(none.dist_m).all()
    assert (none.nearest == -1).all()
    again = with_station_added(grid_network, none, a, 0, start_limit_m=10.0)
    _assert_same(again, grid_network, a)


def test_an_off_network_station_changes_nothing(grid_network: WalkNetwork) -> None:
    a = snapped([edge_row(grid_network, 0, 1)], [30.0])
    before = nearest_station_distances(grid_network, a)
    off = snapped([-1], [0.0])
    assert with_station_added(grid_network, before, off, 1, start_limit_m=10.0) is before
    gone = with_station_removed(grid_network, before, 1, a, relabel=np.array([0, -1]))
    np.testing.assert_array_equal(gone.dist_m, before.dist_m)


def _random_edits(
    network: WalkNetwork, rng: np.random.Generator, steps: int, start_limit_m: float
) -> None:
    def place(n: int) -> Snapped:
        e = rng.choice(network.snap_edges, n)
        return snapped(e.tolist(), (rng.random(n) * network.edge_length_m[e]).tolist())

    stations = place(3)
    dist = nearest_station_distances(network, stations)
    for _ in range(steps):
        op = rng.choice(["add", "remove", "move"]) if len(stations) > 1 else "add"
        if op == "add":
            one = place(1)
            dist = with_station_added(
                network, dist, one, len(stations), start_limit_m=start_limit_m
            )
            stations = concat(stations, one)
        elif op == "remove":
            k = int(rng.integers(len(stations)))
            stations, relabel = _without(stations, k)
            dist = with_station_removed(network, dist, k, stations, relabel=relabel)
        else:  # a move: removed where it was, added where it goes, at the same position
            k = int(rng.integers(len(stations)))
            gone = snapped(
                np.where(np.arange(len(stations)) == k, -1, stations.edge).tolist(),
                stations.offset_m.tolist(),
            )
            same = np.arange(len(stations))
            same[k] = -1
            dist = with_station_removed(network, dist, k, gone, relabel=same)
            one = place(1)
            dist = with_station_added(network, dist, one, k, start_limit_m=start_limit_m)
            edge, offset = stations.edge.copy(), stations.offset_m.copy()
            edge[k], offset[k] = one.edge[0], one.offset_m[0]
            stations = snapped(edge.tolist(), offset.tolist())
        _assert_same(dist, network, stations)


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_on_random_graphs_equal_a_full_search(
    random_street_graph: Callable[[int], nx.MultiDiGraph], seed: int
) -> None:
    network = build_walk_network(random_street_graph(seed), keep_islands=seed % 2 == 1)
    # a short first limit makes the added station's search widen several times
    _random_edits(network, np.random.default_rng(seed), 25, start_limit_m=40.0)


@pytest.mark.parametrize("start_limit_m", [100.0, 2250.0])
def test_random_edits_on_helsinki_equal_a_full_search(
    helsinki_network: WalkNetwork, start_limit_m: float
) -> None:
    _random_edits(helsinki_network, np.random.default_rng(7), 30, start_limit_m=start_limit_m)


def test_a_station_on_a_loop_street_reaches_its_node_once(
    random_street_graph: Callable[[int], nx.MultiDiGraph],
) -> None:
    # A station halfway round a loop street links twice to the loop's node, both ways the
    # same length: the removed station's nodes must get that length, not the two added.
    network = build_walk_network(random_street_graph(0))
    loops = np.flatnonzero(network.edge_u == network.edge_v)
    loop = int(np.intersect1d(loops, network.snap_edges)[0])
    node = int(network.edge_u[loop])
    other = np.flatnonzero((network.edge_u == node) != (network.edge_v == node))
    near = int(np.intersect1d(other, network.snap_edges)[0])
    at_node = 0.0 if network.edge_u[near] == node else float(network.edge_length_m[near])
    half = float(network.edge_length_m[loop]) / 2
    stations = snapped([near, loop], [at_node, half])
    before = nearest_station_distances(network, stations)
    assert before.nearest[node] == 0
    after = with_station_removed(
        network, before, 0, snapped([loop], [half]), relabel=np.array([-1, 0])
    )
    assert after.dist_m[node] == pytest.approx(half)
    _assert_same(after, network, snapped([loop], [half]))
