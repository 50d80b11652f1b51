"""Tests of walk.reach: the points within the walk limit of each site, against the reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csgraph
from walk_reference import TOL_M, Case, points_at, snapped

import planner.walk.reach
from planner.walk.access import (
    NodeDistances,
    Snapped,
    graph_with_stations,
    point_distances,
    snap_points,
    z_order,
)
from planner.walk.network import WalkNetwork
from planner.walk.reach import _shortest_pairs, reach_matrix, station_reach


@pytest.mark.parametrize("station_xy", [[(-300.0, 0.0)], []], ids=["off-network", "none"])
def test_station_reach_without_a_station_on_the_network(
    grid_network: WalkNetwork, station_xy: list[tuple[float, float]]
) -> None:
    stations = snap_points(grid_network, points_at(*station_xy), max_snap_m=50.0)
    homes = snap_points(grid_network, points_at((100, 30)), max_snap_m=50.0)

    reach = list(station_reach(grid_network, stations, homes, limit_m=1e6))
    assert [pos.size for pos, _ in reach] == [0] * len(station_xy)


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
    monkeypatch.setattr(planner.walk.reach, "_BLOCK_SITES", 1)  # one station per block

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
    monkeypatch.setattr(planner.walk.reach, "_BLOCK_SITES", 1)  # one site per block

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


@pytest.mark.parametrize("limit_m", [150.0, 600.0, np.inf])
def test_reach_matrix_equals_whole_network_searches_exactly(case: Case, limit_m: float) -> None:
    """Searches on the part of the network in reach give the very numbers of whole searches."""
    matrix = reach_matrix(case.network, case.stations, case.points, limit_m=limit_m)
    graph, sources = graph_with_stations(case.network, case.stations)
    n = case.network.n_nodes
    for j, site in enumerate(sources.tolist()):
        dist = csgraph.dijkstra(graph, directed=True, indices=n + j, limit=limit_m)[:n]
        only = NodeDistances(dist_m=dist, nearest=np.zeros(n, dtype=np.int64), limit_m=limit_m)
        st = case.stations
        one = Snapped(
            index=st.index[site : site + 1],
            edge=st.edge[site : site + 1],
            offset_m=st.offset_m[site : site + 1],
            snap_m=st.snap_m[site : site + 1],
        )
        d, _ = point_distances(case.network, only, one, case.points)
        row = matrix[[site]].toarray()[0]
        expected = np.where(np.isfinite(d) & (d <= limit_m), np.maximum(d, 1e-9), 0.0)
        np.testing.assert_array_equal(row, expected)


def test_z_order_interleaves_the_bits_of_x_and_y() -> None:
    x = np.array([0, 1, 0, 1, 2, 3, 0, 5])
    y = np.array([0, 0, 1, 1, 0, 0, 2, 6])
    # bit i of x goes to bit 2i, bit i of y to bit 2i + 1
    assert z_order(x, y).tolist() == [0, 1, 2, 3, 4, 5, 8, 0b111001]


def test_reach_matrix_within_a_small_memory_budget(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = reach_matrix(case.network, case.stations, case.points, limit_m=np.inf)
    monkeypatch.setattr(planner.walk.reach, "_BLOCK_BYTES", 1)  # one site per search call

    small = reach_matrix(case.network, case.stations, case.points, limit_m=np.inf)

    np.testing.assert_array_equal(whole.indptr, small.indptr)
    np.testing.assert_array_equal(whole.indices, small.indices)
    np.testing.assert_array_equal(whole.data, small.data)


def test_shortest_pairs_keeps_the_shortest_distance_per_site_and_point() -> None:
    rows = np.array([2, 0, 2, 0, 2, 0])
    cols = np.array([5, 3, 1, 3, 5, 0])
    dist = np.array([9.0, 4.0, 7.0, 2.5, 3.0, 0.0])

    matrix = _shortest_pairs(rows, cols, dist, shape=(3, 6))

    assert matrix.indptr.tolist() == [0, 2, 2, 4]
    assert matrix.indices.tolist() == [0, 3, 1, 5]
    assert matrix.data.tolist() == [1e-9, 2.5, 7.0, 3.0]
