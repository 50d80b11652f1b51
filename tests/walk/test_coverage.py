"""Tests of walk.coverage: figures checked by hand on a 3x3 grid, then on Helsinki."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import pickle
from concurrent.futures import Future

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from helpers import (
    GRID_HOMES,
    SPEED_KMH,
    UTM,
    grid_homes,
    grid_stations,
    grid_streets,
    points,
    xy,
)

import planner.walk.coverage as coverage_module
from planner.config import AnalysisConfig
from planner.errors import InputDataError, OffNetworkWarning
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.sources.streets import graph_from_file
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.layers import (
    STATUS_BEYOND,
    STATUS_COVERED,
    STATUS_OFF_NETWORK,
    STATUS_UNREACHABLE,
)
from planner.walk.network import WalkNetwork, build_walk_network

#: 2 minutes at 6 km/h: a 200 m limit; one 1-minute (100 m) band below it.
GRID_CONFIG = AnalysisConfig(
    walk_minutes=2.0,
    speed_kmh=SPEED_KMH,
    band_minutes=(1.0,),
    max_snap_m=50.0,
    isochrone_buffer_m=10.0,
)

# Hand-computed in tests/helpers.py: nearest station, walk metres, stations within 200 m.
EXPECTED = {
    "H1": ("A", 120.0, 1),
    "H2": ("A", 180.0, 1),
    "H3": ("B", 80.0, 1),
    "H4": ("B", 40.0, 1),
    "H5": ("B", 220.0, 0),
    "H6": ("B", 120.0, 1),
    "H7": ("A", 150.0, 2),
}


def utm_point(dx: float, dy: float) -> shapely.Point:
    return shapely.Point(xy(dx, dy))


def in_utm(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return gdf.geometry.to_crs(UTM)


@pytest.fixture(scope="module")
def grid() -> WalkNetwork:
    return build_walk_network(grid_streets())


@pytest.fixture(scope="module")
def grid_result(grid: WalkNetwork) -> CoverageResult:
    return analyze_coverage(grid, grid_stations(), grid_homes(), config=GRID_CONFIG)


# ----------------------------------------------------------------------- hand-made grid


def test_walk_minutes_nearest_station_and_counts_match_hand_computation(
    grid_result: CoverageResult,
) -> None:
    d = grid_result.demand.set_index("id")
    for home, (station, metres, within) in EXPECTED.items():
        assert d.loc[home, "walk_min"] == pytest.approx(metres / 100.0, abs=1e-6), home
        assert d.loc[home, "nearest_station"] == station, home
        assert d.loc[home, "stations_within"] == within, home
    assert d["covered"].to_dict() == {h: e[1] <= 200.0 for h, e in EXPECTED.items()}
    assert d["status"].to_dict() == {
        h: STATUS_COVERED if e[1] <= 200.0 else STATUS_BEYOND for h, e in EXPECTED.items()
    }
    # Snap distances: H1 lies on its street, the others 5 m off it.
    assert d["snap_m"].to_numpy() == pytest.approx([0, 5, 5, 5, 5, 5, 5], abs=1e-6)


def test_walk_minutes_match_networkx_on_the_grid_with_homes_as_nodes(
    grid_result: CoverageResult,
) -> None:
    # Reference: split each home's and station's street at its foot point and run networkx.
    g = nx.Graph()
    for u, v in grid_streets().to_undirected().edges():
        g.add_edge(u, v, weight=100.0)
    feet = {  # (street, metres from the lower node id)
        "A": ((0, 1), 30.0),
        "B": ((5, 8), 70.0),
        "H1": ((1, 4), 50.0),
        "H2": ((3, 6), 50.0),
        "H3": ((7, 8), 50.0),
        "H4": ((5, 8), 30.0),
        "H5": ((6, 7), 10.0),
        "H6": ((4, 5), 50.0),
        "H7": ((1, 4), 80.0),
    }
    by_edge: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for name, (edge, off) in feet.items():
        by_edge.setdefault(edge, []).append((off, name))
    for (u, v), stops in by_edge.items():
        g.remove_edge(u, v)
        chain = [(0.0, u), *sorted(stops), (100.0, v)]
        for (a, na), (b, nb) in itertools.pairwise(chain):
            g.add_edge(na, nb, weight=b - a)
    dist = nx.multi_source_dijkstra_path_length(g, {"A", "B"}, weight="weight")
    d = grid_result.demand.set_index("id")
    for home in GRID_HOMES:
        assert d.loc[home, "walk_min"] == pytest.approx(dist[home] / 100.0, abs=1e-6)


def test_station_catchments_match_hand_computation(grid_result: CoverageResult) -> None:
    s = grid_result.stations.set_index("id")
    # A reaches H1, H2, H7 within 200 m; B reaches H3, H4, H6, H7. H7 is within both.
    assert s["homes_served"].to_dict() == {"A": 3, "B": 4}
    assert s.loc["A", "population_served"] == pytest.approx(10 + 20 + 70)
    assert s.loc["B", "population_served"] == pytest.approx(30 + 40 + 60 + 70)
    assert s.loc["A", "population_only_here"] == pytest.approx(10 + 20)
    assert s.loc["B", "population_only_here"] == pytest.approx(30 + 40 + 60)
    assert s["snap_m"].to_numpy() == pytest.approx([10.0, 10.0], abs=1e-6)
    assert s["on_network"].tolist() == [True, True]
    # Input columns and order are kept.
    assert s["name"].tolist() == ["Alpha", "Beta"]
    assert list(grid_result.stations.index) == [0, 1]


def test_summary_figures_match_hand_computation(grid_result: CoverageResult) -> None:
    total = 10 + 20 + 30 + 40 + 50 + 60 + 70
    covered = total - 50  # only H5 (220 m) is beyond the 200 m limit
    assert grid_result.population_total == pytest.approx(total)
    assert grid_result.population_covered == pytest.approx(covered)
    assert grid_result.share_covered == pytest.approx(covered / total)

    s = grid_result.summary()
    assert s["walk_limit_m"] == pytest.approx(200.0)
    assert s["stations"] == 2
    assert s["stations_off_network"] == 0
    assert s["demand_points"] == 7
    assert s["demand_points_covered"] == 6
    assert s["demand_points_off_network"] == 0
    assert s["demand_points_unreachable"] == 0
    assert s["population_uncovered"] == pytest.approx(50.0)
    # Within 1 minute (100 m): H4 (40 m) and H3 (80 m).
    assert s["population_within_minutes"] == pytest.approx({"1": 40 + 30, "2": covered})
    assert s["demand_points_within_minutes"] == {"1": 2, "2": 6}
    assert s["band_minutes"] == [1.0, 2.0]
    assert s["gap_link_m"] == 150.0
    assert s["isochrone_buffer_m"] == 10.0
    # Weighted by population, sorted by time: H4 40, H3 30, H1 10, H6 60 (cumulative 140 of
    # 280 = 0.5 at 1.2 min), H7 70, H2 20, H5 50 (0.9 is reached only by H5 at 2.2 min).
    assert s["walk_min_median"] == pytest.approx(1.2, abs=1e-6)
    assert s["walk_min_p90"] == pytest.approx(2.2, abs=1e-6)
    assert s["gap_zones"] == 1
    assert s["population_in_gap_zones"] == pytest.approx(50.0)
    assert s["network"]["nodes"] == 9
    assert s["network"]["street_segments"] == 12
    assert s["network"]["street_km"] == pytest.approx(1.2)
    assert s["network"]["crs"] == UTM
    assert s["network"]["components"] == 1


def test_single_gap_zone_is_the_one_home_beyond_the_limit(grid_result: CoverageResult) -> None:
    gaps = grid_result.gaps
    assert len(gaps) == 1
    row = gaps.iloc[0]
    assert row["gap_id"] == 1
    assert row["homes"] == 1
    assert row["population"] == pytest.approx(50.0)
    assert row["walk_min_nearest"] == pytest.approx(2.2, abs=1e-6)
    assert row["walk_min_median"] == pytest.approx(2.2, abs=1e-6)
    assert row["nearest_station"] == "B"
    assert row["homes_off_network"] == 0
    assert in_utm(gaps).iloc[0].contains(utm_point(10.0, 195.0))


def test_isochrone_bands_are_nested_per_station(grid_result: CoverageResult) -> None:
    iso = grid_result.isochrones
    assert iso.crs == "EPSG:4326"
    assert sorted(zip(iso["station_id"], iso["band_min"], strict=True)) == [
        ("A", 1.0),
        ("A", 2.0),
        ("B", 1.0),
        ("B", 2.0),
    ]
    geoms = in_utm(iso)
    for station in ("A", "B"):
        rows = (iso["station_id"] == station).to_numpy()
        inner = geoms[rows & (iso["band_min"] == 1.0).to_numpy()].iloc[0]
        outer = geoms[rows & (iso["band_min"] == 2.0).to_numpy()].iloc[0]
        assert inner.difference(outer).area < 1e-3  # square metres
        assert outer.area > inner.area
    a2 = geoms[((iso["station_id"] == "A") & (iso["band_min"] == 2.0)).to_numpy()].iloc[0]
    b2 = geoms[((iso["station_id"] == "B") & (iso["band_min"] == 2.0)).to_numpy()].iloc[0]
    # Node 0 is 30 m from A and 370 m from B; node 8 the other way round.
    assert a2.contains(utm_point(0, 0))
    assert not a2.contains(utm_point(200, 200))
    assert b2.contains(utm_point(200, 200))
    assert not b2.contains(utm_point(0, 0))


def test_coverage_area_has_one_row_per_band_cut_at_the_limit(grid_result: CoverageResult) -> None:
    area = grid_result.coverage_area
    assert area["band_min"].tolist() == [1.0, 2.0]
    one, two = in_utm(area)
    # Node 0 is 30 m from A: inside both bands. Node 2 is 170 m from either station: only in
    # the 2-minute band (the 1-minute streets end 70 m away, buffer 10 m).
    assert one.contains(utm_point(0, 0))
    assert not one.contains(utm_point(200, 0))
    assert two.contains(utm_point(200, 0))
    # Node 6 is 230 m from both: its streets are reached up to 30 m short of it.
    assert not two.contains(utm_point(0, 200))
    assert two.contains(utm_point(0, 170))
    assert one.difference(two).area < 1e-3
    # The band of any station is the union of the stations' own bands.
    iso = grid_result.isochrones
    union = shapely.union_all(in_utm(iso)[(iso["band_min"] == 2.0).to_numpy()].to_numpy())
    assert union.symmetric_difference(two).area < 1.0


def test_band_polygons_built_in_the_background_are_waited_for_and_pickled(
    grid: WalkNetwork,
) -> None:
    result = analyze_coverage(grid, grid_stations(), grid_homes(), config=GRID_CONFIG)
    assert isinstance(result.area_layer, Future)  # still building, or built, in a thread
    assert isinstance(result.isochrone_layer, Future)
    area = result.coverage_area  # waits for it
    assert set(result.isochrones["station_id"]) == {"A", "B"}
    assert area["band_min"].tolist() == [1.0, 2.0]
    assert in_utm(area).iloc[1].contains(utm_point(200, 0))
    # A result can be pickled and copied (a future cannot): the polygons go with it.
    for copied in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
        assert isinstance(copied.area_layer, gpd.GeoDataFrame)
        assert_geodataframe_equal(copied.coverage_area, area)
        assert_geodataframe_equal(copied.isochrones, result.isochrones)
        assert copied.share_covered == result.share_covered
    replaced = dataclasses.replace(result, gaps=result.gaps.iloc[:0])
    assert_geodataframe_equal(replaced.coverage_area, area)


def test_an_error_building_the_band_polygons_is_raised_when_they_are_read(
    grid: WalkNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> gpd.GeoDataFrame:
        raise shapely.errors.GEOSException("TopologyException: side location conflict")

    monkeypatch.setattr(coverage_module, "_coverage_area", broken)
    result = analyze_coverage(grid, grid_stations(), grid_homes(), config=GRID_CONFIG)
    assert result.share_covered == pytest.approx(grid_result_share(grid))  # figures unaffected
    with pytest.raises(shapely.errors.GEOSException, match="side location conflict"):
        _ = result.coverage_area


def grid_result_share(grid: WalkNetwork) -> float:
    pop = grid_homes()["population"].to_numpy(dtype=float)
    covered = [EXPECTED[h][1] <= 200.0 for h in GRID_HOMES]
    return float(pop[covered].sum() / pop.sum())


def test_unreachable_home_on_an_island_kept_with_keep_islands() -> None:
    network = build_walk_network(grid_streets(island=True), keep_islands=True)
    homes = pd.concat(
        [grid_homes(), points({"H8": (1050.0, 5.0)}, population=[8.0])], ignore_index=True
    )
    result = analyze_coverage(network, grid_stations(), homes, config=GRID_CONFIG)
    h8 = result.demand.set_index("id").loc["H8"]
    assert h8["status"] == STATUS_UNREACHABLE
    assert math.isnan(h8["walk_min"])
    assert pd.isna(h8["nearest_station"])
    assert not h8["covered"]
    assert h8["stations_within"] == 0
    assert h8["snap_m"] == pytest.approx(5.0)
    s = result.summary()
    assert s["demand_points_unreachable"] == 1
    assert s["network"]["components"] == 2
    assert s["population_total"] == pytest.approx(288.0)
    assert s["population_covered"] == pytest.approx(230.0)
    # The island home (1 km away) is its own gap zone, after H5 (population 50).
    assert result.gaps["population"].tolist() == pytest.approx([50.0, 8.0])
    assert math.isnan(result.gaps["walk_min_nearest"].iloc[1])
    assert pd.isna(result.gaps["nearest_station"].iloc[1])


def test_off_network_home_and_station_warn_and_are_not_moved(grid: WalkNetwork) -> None:
    homes = pd.concat(
        [grid_homes(), points({"far": (600.0, 600.0)}, population=[5.0])], ignore_index=True
    )
    stations = pd.concat(
        [grid_stations(), points({"C": (-400.0, 0.0)}, "EPSG:4326", name=["Gamma"])],
        ignore_index=True,
    )
    with pytest.warns(OffNetworkWarning) as record:
        result = analyze_coverage(grid, stations, homes, config=GRID_CONFIG)
    messages = [str(w.message) for w in record]
    assert any("1 stations" in m and ": C ('Gamma')." in m for m in messages)
    assert any("1 demand points" in m and ": far." in m for m in messages)
    far = result.demand.set_index("id").loc["far"]
    assert far["status"] == STATUS_OFF_NETWORK
    assert math.isnan(far["walk_min"])
    assert math.isnan(far["snap_m"])
    assert not far["covered"]
    c = result.stations.set_index("id").loc["C"]
    assert not c["on_network"]
    assert c["homes_served"] == 0
    assert c["population_served"] == 0.0
    # The point is reported where it was given, not moved onto a street.
    assert in_utm(result.demand).iloc[-1].equals_exact(utm_point(600.0, 600.0), 1e-3)
    # The other homes are unchanged by an off-network station.
    d = result.demand.set_index("id")
    for home, (_, metres, within) in EXPECTED.items():
        assert d.loc[home, "walk_min"] == pytest.approx(metres / 100.0, abs=1e-6)
        assert d.loc[home, "stations_within"] == within
    s = result.summary()
    assert s["stations_off_network"] == 1
    assert s["demand_points_off_network"] == 1
    assert s["population_covered"] == pytest.approx(230.0)
    # "far" is 400 m from H5's zone: a zone of its own, counted as off-network.
    gaps = result.gaps.set_index("population")
    assert gaps.loc[5.0, "homes_off_network"] == 1
    assert gaps.loc[50.0, "homes_off_network"] == 0


def test_longer_limit_covers_everyone(grid: WalkNetwork) -> None:
    cfg = AnalysisConfig(walk_minutes=2.5, speed_kmh=SPEED_KMH, max_snap_m=50.0)
    result = analyze_coverage(grid, grid_stations(), grid_homes(), config=cfg)
    assert result.share_covered == 1.0
    assert len(result.gaps) == 0
    assert result.summary()["population_in_gap_zones"] == 0.0
    assert result.demand["status"].eq(STATUS_COVERED).all()
    # H5 (220 m to B, 240 m to A) is now within both; H1 (220 m to B) too.
    within = result.demand.set_index("id")["stations_within"]
    assert within["H5"] == 2
    assert within["H1"] == 2
    assert within["H3"] == 1


def test_inputs_are_not_modified(grid: WalkNetwork) -> None:
    stations, homes = grid_stations(), grid_homes("EPSG:3857")
    stations_before, homes_before = stations.copy(), homes.copy()
    edges_before = grid.edges.copy()
    analyze_coverage(grid, stations, homes, config=GRID_CONFIG)
    assert_geodataframe_equal(stations, stations_before)
    assert_geodataframe_equal(homes, homes_before)
    assert homes.crs == "EPSG:3857"
    assert_geodataframe_equal(grid.edges, edges_before)


def test_result_layers_keep_input_index_and_are_in_wgs84(grid: WalkNetwork) -> None:
    homes = grid_homes().set_index(pd.Index([70, 60, 50, 40, 30, 20, 10], name="home"))
    result = analyze_coverage(grid, grid_stations(), homes, config=GRID_CONFIG)
    assert result.demand.index.equals(homes.index)
    for layer in ("stations", "demand", "isochrones", "coverage_area", "gaps"):
        assert getattr(result, layer).crs == "EPSG:4326", layer
    assert result.demand.loc[30, "walk_min"] == pytest.approx(2.2, abs=1e-6)  # H5


def test_stations_without_id_column_use_the_index(grid: WalkNetwork) -> None:
    stations = grid_stations().drop(columns="id").set_index(pd.Index(["x", "y"]))
    result = analyze_coverage(grid, stations, grid_homes(), config=GRID_CONFIG)
    assert result.demand.set_index("id")["nearest_station"].to_dict() == {
        h: {"A": "x", "B": "y"}[e[0]] for h, e in EXPECTED.items()
    }


def test_invalid_inputs_are_rejected(grid: WalkNetwork) -> None:
    homes = grid_homes()
    with pytest.raises(InputDataError, match="population"):
        analyze_coverage(grid, grid_stations(), homes.drop(columns="population"))
    with pytest.raises(InputDataError, match="no CRS"):
        analyze_coverage(grid, grid_stations().set_crs(None, allow_override=True), homes)


# ---------------------------------------------------------------------------- gap zones


@pytest.fixture(scope="module")
def street_network() -> WalkNetwork:
    """One straight street of 9 segments of 100 m (nodes 0..9 at x = 0..900)."""
    g = nx.MultiDiGraph(crs=UTM)
    for i in range(10):
        x, y = xy(100.0 * i, 0.0)
        g.add_node(i, x=x, y=y)
    for i in range(9):
        g.add_edge(i, i + 1, length=100.0)
        g.add_edge(i + 1, i, length=100.0)
    return build_walk_network(g)


def street_homes(xs_pops: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    rows = {f"h{x:g}": (x, 5.0) for x, _ in xs_pops}
    return points(rows, population=[p for _, p in xs_pops])


def test_separated_clusters_of_unserved_homes_form_two_zones(street_network: WalkNetwork) -> None:
    station = points({"S": (0.0, -5.0)})
    # Walk limit 200 m. Cluster near x=500 (3 homes, 15 people), cluster near x=860
    # (2 homes, 70 people): 310 m apart, more than the 150 m gap link. One home covered.
    homes = street_homes(
        [(150.0, 1000.0), (500.0, 5.0), (520.0, 5.0), (540.0, 5.0), (850.0, 30.0), (870.0, 40.0)]
    )
    cfg = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH, gap_link_m=150.0)
    result = analyze_coverage(street_network, station, homes, config=cfg)
    gaps = result.gaps
    assert gaps["gap_id"].tolist() == [1, 2]
    assert gaps["homes"].tolist() == [2, 3]
    assert gaps["population"].tolist() == pytest.approx([70.0, 15.0])
    assert gaps["walk_min_nearest"].tolist() == pytest.approx([8.5, 5.0], abs=1e-6)
    assert gaps["walk_min_median"].tolist() == pytest.approx([8.6, 5.2], abs=1e-6)
    assert gaps["nearest_station"].tolist() == ["S", "S"]
    assert gaps["homes_off_network"].tolist() == [0, 0]
    outlines = in_utm(gaps)
    for x in (850.0, 870.0):
        assert outlines.iloc[0].contains(utm_point(x, 5.0))
        assert not outlines.iloc[1].contains(utm_point(x, 5.0))
    for x in (500.0, 520.0, 540.0):
        assert outlines.iloc[1].contains(utm_point(x, 5.0))
    assert not outlines.iloc[0].contains(utm_point(150.0, 5.0))
    assert not outlines.iloc[1].contains(utm_point(150.0, 5.0))
    assert result.summary()["population_in_gap_zones"] == pytest.approx(85.0)


def test_unserved_homes_closer_than_the_link_form_one_zone(street_network: WalkNetwork) -> None:
    station = points({"S": (0.0, -5.0)})
    homes = street_homes([(500.0, 1.0), (600.0, 2.0), (700.0, 4.0), (840.0, 8.0)])
    cfg = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH, gap_link_m=150.0)
    result = analyze_coverage(street_network, station, homes, config=cfg)
    assert len(result.gaps) == 1
    zone = result.gaps.iloc[0]
    assert zone["homes"] == 4
    assert zone["population"] == pytest.approx(15.0)
    assert zone["walk_min_nearest"] == pytest.approx(5.0, abs=1e-6)
    assert zone["walk_min_median"] == pytest.approx(6.5, abs=1e-6)
    # A shorter link splits the chain where homes are more than 100 m apart (700 -> 840).
    narrow = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH, gap_link_m=120.0)
    split = analyze_coverage(street_network, station, homes, config=narrow)
    assert split.gaps["homes"].tolist() == [1, 3]
    assert split.gaps["population"].tolist() == pytest.approx([8.0, 7.0])


# ------------------------------------------------------------------------- real Helsinki


@pytest.fixture(scope="module")
def helsinki() -> tuple[WalkNetwork, CoverageResult]:
    path = demo_extract_path()
    network = build_walk_network(graph_from_file(path))
    result = analyze_coverage(network, stations_from_osm(path), homes_from_osm(path))
    return network, result


def test_helsinki_share_and_covered_population_agree(
    helsinki: tuple[WalkNetwork, CoverageResult],
) -> None:
    _, result = helsinki
    d = result.demand
    assert 0.0 < result.share_covered < 1.0
    assert result.population_covered == pytest.approx(d.loc[d["covered"], "population"].sum())
    assert result.population_total == pytest.approx(d["population"].sum())
    assert len(d) == 373
    s = result.summary()
    assert s["population_covered"] + s["population_uncovered"] == pytest.approx(
        s["population_total"]
    )
    assert s["demand_points_covered"] == int(d["covered"].sum())


def test_helsinki_walk_times_are_consistent_with_the_limit(
    helsinki: tuple[WalkNetwork, CoverageResult],
) -> None:
    _, result = helsinki
    d = result.demand
    covered = d["covered"].to_numpy()
    walk = d["walk_min"].to_numpy(dtype=float)
    reachable = np.isfinite(walk)
    assert (walk[covered] <= 15.0 + 1e-9).all()
    assert (walk[~covered & reachable] > 15.0).all()
    assert set(d.loc[covered, "status"]) == {STATUS_COVERED}
    assert set(d.loc[~covered & reachable, "status"]) <= {STATUS_BEYOND}
    assert (d.loc[covered, "stations_within"] >= 1).all()
    assert (d.loc[~covered, "stations_within"] == 0).all()
    # People served by one station only are part of that station's served population, and
    # the stations' only-here figures add up to everyone within reach of exactly one.
    st = result.stations
    assert (st["population_only_here"] <= st["population_served"] + 1e-9).all()
    assert st["population_only_here"].sum() == pytest.approx(
        d.loc[d["stations_within"] == 1, "population"].sum()
    )


def test_helsinki_every_home_beyond_the_limit_is_in_exactly_one_gap_zone(
    helsinki: tuple[WalkNetwork, CoverageResult],
) -> None:
    _, result = helsinki
    d = result.demand
    beyond = d.loc[d["status"] == STATUS_BEYOND]
    assert len(beyond) > 0
    zones = result.gaps.geometry.to_numpy()
    for point in beyond.geometry:
        assert int(shapely.contains(zones, point).sum()) == 1
    # Each zone's figures, recounted from the uncovered homes inside its outline.
    uncovered_homes = d.loc[~d["covered"]]
    for zone in result.gaps.itertuples():
        inside = uncovered_homes.loc[uncovered_homes.within(zone.geometry)]
        assert zone.homes == len(inside)
        assert zone.population == pytest.approx(inside["population"].sum())
        assert zone.walk_min_nearest == pytest.approx(inside["walk_min"].min())
    assert int(result.gaps["homes"].sum()) == int((~d["covered"]).sum())
    uncovered = result.population_total - result.population_covered
    assert result.summary()["population_in_gap_zones"] == pytest.approx(uncovered)
    assert result.gaps["population"].is_monotonic_decreasing


def test_helsinki_isochrones_and_coverage_area(
    helsinki: tuple[WalkNetwork, CoverageResult],
) -> None:
    network, result = helsinki
    iso = result.isochrones
    assert len(result.stations) > 1
    assert len(iso) == 3 * len(result.stations)
    assert result.coverage_area["band_min"].tolist() == [5.0, 10.0, 15.0]
    geoms = iso.geometry.to_crs(network.crs)
    for _, group in geoms.groupby(iso["station_id"]):
        by_band = group.to_numpy()[np.argsort(iso.loc[group.index, "band_min"].to_numpy())]
        for inner, outer in itertools.pairwise(by_band):
            assert inner.difference(outer).area < 1.0
    area15 = result.coverage_area.geometry.iloc[-1]
    covered = result.demand.loc[result.demand["covered"]]
    # Homes snap at most 300 m from a street; covered ones near their street are inside.
    near = covered.loc[covered["snap_m"] < 30.0]
    assert shapely.contains(area15, near.geometry.to_numpy()).all()
