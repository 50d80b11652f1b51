"""Tests of walk.access: snapping and walk distances to the nearest station.

The engine is checked by hand on a 3x3 grid and against a slow reference on random graphs
and on the bundled Helsinki extract (``walk_reference.py``): every street is split at the
stations and points on it, and networkx's Dijkstra runs on the split graph.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from walk_reference import (
    CRS,
    TOL_M,
    X0,
    Y0,
    Case,
    assert_nearest_is_right,
    by_node_id,
    edge_row,
    points_at,
    snapped,
)

import planner.walk.access
from planner.errors import InputDataError
from planner.walk.access import (
    nearest_station_distances,
    point_distances,
    snap_points,
    spatial_order,
)
from planner.walk.network import WalkNetwork, build_walk_network

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


@pytest.mark.parametrize("workers", [1, 2])
def test_snapping_in_chunks_and_threads_equals_one_query(
    helsinki_network: WalkNetwork, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Sorted, chunked and threaded snapping gives what one query in input order gives."""
    net = helsinki_network
    rng = np.random.default_rng(11)
    lo, hi = net.node_xy.min(axis=0) - 300.0, net.node_xy.max(axis=0) + 300.0
    xy = rng.uniform(lo, hi, size=(2_000, 2))
    xy[100:110] = xy[0]  # the same point ten times over
    geoms = shapely.points(xy)
    geoms[5] = shapely.Point()  # an empty point is off-network, wherever it is sorted to
    points = gpd.GeoSeries(geoms, crs=net.crs, index=pd.RangeIndex(7, 2_007))
    (pt, tree_idx), dist = net.edge_tree.query_nearest(
        geoms, max_distance=40.0, return_distance=True, all_matches=False
    )
    edge_ref = np.full(len(geoms), -1)
    edge_ref[pt] = net.snap_edges[tree_idx]
    lines = net.edges.geometry.to_numpy()[edge_ref[pt]]
    along = (
        shapely.line_locate_point(lines, geoms[pt], normalized=True)
        * net.edge_length_m[edge_ref[pt]]
    )
    monkeypatch.setattr(planner.walk.access, "SNAP_CHUNK", 97)  # 21 chunks

    placed = snap_points(net, points, max_snap_m=40.0, workers=workers)

    np.testing.assert_array_equal(placed.edge, edge_ref)
    assert 0 < placed.on_network.sum() < len(geoms) - 1  # some of each
    assert not placed.on_network[5]
    np.testing.assert_array_equal(placed.snap_m[pt], dist)
    np.testing.assert_array_equal(placed.offset_m[pt], along)
    assert np.isnan(placed.snap_m[~placed.on_network]).all()
    assert placed.index.equals(points.index)


def test_spatial_order_walks_cells_along_a_z_curve() -> None:
    geoms = shapely.points([(150.0, 150.0), (10.0, 10.0), (150.0, 20.0), (20.0, 150.0), (5, 5)])
    geoms = np.append(geoms, shapely.Point())

    order = spatial_order(geoms, cell_m=100.0)

    # the empty point first, then cells (0, 0) in input order, (1, 0), (0, 1), (1, 1)
    assert order.tolist() == [5, 1, 4, 2, 3, 0]


def test_spatial_order_of_absurd_coordinates_is_still_an_order() -> None:
    geoms = shapely.points([(0.0, 0.0), (1e300, 5.0), (np.inf, 0.0), (-1e300, -1e300)])

    order = spatial_order(geoms, cell_m=50.0)

    assert sorted(order.tolist()) == [0, 1, 2, 3]
    assert order[0] == 2  # not finite: first


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
