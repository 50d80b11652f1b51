"""Tests of walk.isochrones: reached street pieces and band polygons, by hand and by reference."""

from __future__ import annotations

import itertools
from collections import defaultdict

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.ops import substring
from walk_reference import CRS, X0, Y0, Case, edge_row, points_at

from planner.walk.access import Snapped, nearest_station_distances, snap_points
from planner.walk.coverage import AREA_POLYGON_OPTIONS
from planner.walk.isochrones import _new_spans, isochrone_polygons, reached_edge_parts
from planner.walk.network import WalkNetwork, build_walk_network


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


# ------------------------------------------------------------- the fast whole-city bands


def _old_bands(
    network: WalkNetwork, dist: np.ndarray, stations: object, limits: tuple[float, ...]
) -> list[shapely.Geometry]:
    """The bands as they were built before the fast options: 12-sided ends, one union."""
    return isochrone_polygons(network, dist, stations, limits_m=limits, buffer_m=40.0)  # type: ignore[arg-type]


def _mean_offset_m(old: shapely.Geometry, new: shapely.Geometry) -> float:
    """Symmetric-difference area per metre of outline: the mean distance between outlines."""
    return float(shapely.symmetric_difference(old, new).area / old.length)


def _big_grid(side: int = 45, step: float = 80.0) -> WalkNetwork:
    graph = nx.MultiDiGraph(crs=CRS)
    rng = np.random.default_rng(3)
    for i, j in itertools.product(range(side), range(side)):
        jitter = rng.normal(0.0, 6.0, 2)
        graph.add_node(i * side + j, x=X0 + i * step + jitter[0], y=Y0 + j * step + jitter[1])
    for i, j in itertools.product(range(side), range(side)):
        for di, dj in ((1, 0), (0, 1)):
            if i + di < side and j + dj < side and rng.random() > 0.1:
                graph.add_edge(i * side + j, (i + di) * side + j + dj, length=step * 1.05)
    return build_walk_network(graph, crs=CRS)


def _stations_on_streets(network: WalkNetwork, count: int, *, seed: int) -> Snapped:
    """``count`` stations at random spots of random streets, snapped."""
    rng = np.random.default_rng(seed)
    edges = rng.choice(network.snap_edges, count)
    points = shapely.line_interpolate_point(
        network.edges.geometry.to_numpy()[edges], rng.random(count), normalized=True
    )
    return snap_points(network, gpd.GeoSeries(points, crs=network.crs), max_snap_m=5.0)


@pytest.mark.parametrize("where", ["grid", "helsinki"])
def test_fast_bands_match_the_old_outlines(where: str, request: pytest.FixtureRequest) -> None:
    network = _big_grid() if where == "grid" else request.getfixturevalue("helsinki_network")
    stations = _stations_on_streets(network, 12, seed=7)
    dist = nearest_station_distances(network, stations).dist_m
    limits = (375.0, 750.0, 1125.0)

    old = _old_bands(network, dist, stations, limits)
    new = isochrone_polygons(
        network,
        dist,
        stations,
        limits_m=limits,
        buffer_m=40.0,
        quad_segs=2,
        simplify_m=1.0,
        workers=2,
    )

    for before, after in zip(old, new, strict=True):
        assert after.is_valid
        assert _mean_offset_m(before, after) < 1.0
        assert after.area == pytest.approx(before.area, rel=0.01)
    for inner, outer in itertools.pairwise(new):
        assert outer.buffer(1e-6).contains(inner)


@pytest.mark.parametrize("workers", [2, 3])
def test_bands_unioned_side_by_side_are_the_bands_one_at_a_time(workers: int) -> None:
    network = _big_grid()
    stations = _stations_on_streets(network, 6, seed=5)
    dist = nearest_station_distances(network, stations).dist_m
    limits = (1000.0, 2000.0, 3000.0)  # each band adds more than 1000 pieces
    assert min(len(reached_edge_parts(network, dist, stations, limit_m=m)) for m in limits) > 1000

    one = isochrone_polygons(network, dist, stations, limits_m=limits, buffer_m=40.0, workers=1)
    side_by_side = isochrone_polygons(
        network, dist, stations, limits_m=limits, buffer_m=40.0, workers=workers
    )

    for a, b in zip(one, side_by_side, strict=True):
        assert b.is_valid
        assert a.area > 0
        assert shapely.symmetric_difference(a, b).area < 1e-6 * a.area


def test_new_spans_by_hand() -> None:
    # edge 0: [0, 10] then [0, 30] -> [10, 30]; edge 1: whole (50 m) both times -> nothing;
    # edge 2: [5, 8] and [12, 20] inside [0, 40] -> [0, 5], [8, 12], [20, 40];
    # edge 3: newly reached [2, 6]; edge 4: [0, 3] and [7, 9] inside [0, 3], [6, 9] -> [6, 7].
    before = (
        np.array([1, 0, 2, 2, 4, 4]),
        np.array([0.0, 0, 5, 12, 0, 7]),
        np.array([50.0, 10, 8, 20, 3, 9]),
    )
    spans = (
        np.array([1, 0, 2, 3, 4, 4]),
        np.array([0.0, 0, 0, 2, 0, 6]),
        np.array([50.0, 30, 40, 6, 3, 9]),
    )

    edge, a, b = _new_spans(spans, before)

    got = sorted(zip(edge.tolist(), a.tolist(), b.tolist(), strict=True))
    assert got == [(0, 10, 30), (2, 0, 5), (2, 8, 12), (2, 20, 40), (3, 2, 6), (4, 6, 7)]


def test_a_band_that_reaches_nothing_is_an_empty_polygon(helsinki_network: WalkNetwork) -> None:
    nowhere = Snapped(
        index=pd.RangeIndex(1),
        edge=np.array([-1]),
        offset_m=np.zeros(1),
        snap_m=np.array([np.nan]),
    )
    dist = np.full(helsinki_network.n_nodes, np.inf)
    bands = isochrone_polygons(
        helsinki_network, dist, nowhere, limits_m=(100.0, 200.0), buffer_m=40.0, workers=2
    )
    assert [b.geom_type for b in bands] == ["Polygon", "Polygon"]
    assert all(b.is_empty for b in bands)


def _reached_one_edge_at_a_time(
    network: WalkNetwork, node_dist_m: np.ndarray, stations: Snapped, limit_m: float
) -> list[tuple[int, shapely.Geometry]]:
    """The obvious per-edge loop the vectorised ``_reached`` replaced (the reference)."""
    length = network.edge_length_m
    from_u = np.clip(limit_m - node_dist_m[network.edge_u], 0.0, length)
    from_v = np.clip(limit_m - node_dist_m[network.edge_v], 0.0, length)
    whole = (from_u + from_v >= length) & (length > 0)
    spans: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for e, o in zip(stations.edge, stations.offset_m, strict=True):
        if e >= 0 and not whole[e]:
            spans[int(e)].append((o - limit_m, o + limit_m))
    geoms = network.edges.geometry.to_numpy()
    out: list[tuple[int, shapely.Geometry]] = [(int(e), geoms[e]) for e in np.flatnonzero(whole)]
    partial = set(np.flatnonzero(~whole & ((from_u > 0) | (from_v > 0))).tolist())
    for e in sorted(partial | set(spans)):
        ln = float(length[e])
        given = [(0.0, from_u[e]), (ln - from_v[e], ln), *spans[e]]
        clipped = sorted((max(0.0, a), min(ln, b)) for a, b in given if min(ln, b) > max(0.0, a))
        merged: list[tuple[float, float]] = []
        for a, b in clipped:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        if merged == [(0.0, ln)]:
            out.append((e, geoms[e]))
            continue
        out += [(e, substring(geoms[e], a / ln, b / ln, normalized=True)) for a, b in merged]
    return out


@pytest.mark.parametrize("limit_m", [150.0, 400.0, 900.0])
def test_reached_parts_are_those_of_the_per_edge_loop(case: Case, limit_m: float) -> None:
    network = case.network
    nodes = nearest_station_distances(network, case.stations, limit_m=limit_m)

    parts = reached_edge_parts(network, nodes.dist_m, case.stations, limit_m=limit_m)
    expected = _reached_one_edge_at_a_time(network, nodes.dist_m, case.stations, limit_m)

    assert parts.index.tolist() == [e for e, _ in expected]
    for got, (_, want) in zip(parts.to_numpy(), expected, strict=True):
        assert got.geom_type == "LineString"
        # the same vertices to within a nanometre (a vertex at a cut may appear twice)
        assert shapely.hausdorff_distance(got, want) < 1e-9
        assert got.length == pytest.approx(want.length, abs=1e-9)
        assert shapely.equals_exact(got.boundary, want.boundary, tolerance=1e-9)


# ------------------------------------------- the bands against one plain union per band


def test_city_bands_equal_a_plain_union_of_the_reached_streets(
    helsinki_network: WalkNetwork,
) -> None:
    """The whole-city bands (incremental, rings side by side, simplified streets) against
    the obvious construction: every street piece reached within the band, buffered, one
    union per band."""
    network = helsinki_network
    stations = _stations_on_streets(network, 40, seed=11)
    dist = nearest_station_distances(network, stations).dist_m
    limits = (150.0, 300.0, 450.0)

    options = dict(AREA_POLYGON_OPTIONS)
    exact = isochrone_polygons(  # incremental, rings side by side, the streets as they are
        network, dist, stations, limits_m=limits, buffer_m=40.0, **(options | {"simplify_m": 0.0})
    )
    bands = isochrone_polygons(network, dist, stations, limits_m=limits, buffer_m=40.0, **options)

    for limit, band, same in zip(limits, bands, exact, strict=True):
        pieces = reached_edge_parts(network, dist, stations, limit_m=limit).to_numpy()
        reference = shapely.union_all(shapely.buffer(pieces, 40.0, quad_segs=16))
        plain = shapely.union_all(shapely.buffer(pieces, 40.0, quad_segs=options["quad_segs"]))
        assert band.is_valid
        assert same.is_valid
        # The incremental construction holds the plain union (to GEOS's overlay
        # noise) and adds only the previous band's 8-sided ends: up to 6 m past it (GEOS
        # places 2-segment ends and joins up to 6 m inside the true circle, measured).
        assert shapely.symmetric_difference(same, plain).area < 1e-3 * plain.area
        assert shapely.difference(plain, shapely.buffer(same, 0.05)).area < 1e-9
        assert shapely.difference(same, shapely.buffer(plain, 7.0)).area < 1e-9
        assert _mean_offset_m(reference, band) < 2.0  # symmetric difference per metre of outline
        # Against true circles (16 segments per quarter): 1.4 m apart on average here; the
        # 8-sided ends lie inside the circles, up to 6 m at worst (GEOS's 2-segment round
        # joins and ends, measured), and the 1 m simplification pushes out by at most 1 m.
        # As areas (a set Hausdorff distance), not outlines: a tiny hole where the circles
        # nearly meet may be open in one and closed in the other.
        assert shapely.difference(band, shapely.buffer(reference, 1.0 + 1e-6)).area < 1e-9
        assert shapely.difference(reference, shapely.buffer(band, 7.0)).area < 1e-9


# ------------------------------------------- the last two bands merged side by side


@pytest.mark.parametrize(
    ("count", "limits"),
    [
        (40, (150.0, 300.0, 450.0)),  # dense: the first ring is the largest
        (3, (150.0, 300.0, 450.0)),  # sparse: the last ring is the largest, unioned first
        (3, (100.0, 200.0, 300.0, 400.0, 500.0)),  # the bands before the last two chained
        (40, (300.0, 600.0)),  # two bands: merged one after the other
    ],
)
def test_bands_merged_side_by_side_keep_areas_and_nesting(
    helsinki_network: WalkNetwork, count: int, limits: tuple[float, ...]
) -> None:
    """The whole-city options (rings largest first, the last two bands merged side by
    side) against the same bands merged one after the other in order (``workers=1``):
    the same areas and outlines, and each band inside the next, on the real extract."""
    network = helsinki_network
    stations = _stations_on_streets(network, count, seed=11)
    dist = nearest_station_distances(network, stations).dist_m
    options = dict(AREA_POLYGON_OPTIONS)
    assert options["workers"] >= 2

    in_order = isochrone_polygons(
        network, dist, stations, limits_m=limits, buffer_m=40.0, **(options | {"workers": 1})
    )
    side_by_side = isochrone_polygons(
        network, dist, stations, limits_m=limits, buffer_m=40.0, **options
    )

    rings = [b.area - a.area for a, b in itertools.pairwise([shapely.Polygon(), *in_order])]
    assert min(rings) > 0  # every band adds area: a ring dropped or repeated shows
    for a, b in zip(in_order, side_by_side, strict=True):
        assert b.is_valid
        assert b.area == pytest.approx(a.area, rel=1e-9)
        assert shapely.symmetric_difference(a, b).area < 1e-6
        assert shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-6)
    for inner, outer in itertools.pairwise(side_by_side):
        assert shapely.difference(inner, outer).area < 1e-6
        corners = shapely.points(shapely.get_coordinates(inner))
        assert shapely.distance(outer, corners).max() < 1e-6  # every corner inside
