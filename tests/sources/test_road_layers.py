"""Road centre-line layers noded into street tables: the bundled extract and small cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from road_lines import assert_same_network, street_lines_of, write_layer

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.sources.road_files import RoadOptions
from planner.sources.road_layers import RoadLayerReport, road_tables_from_file
from planner.sources.street_tables import StreetTables
from planner.walk.compile import network_from_tables
from planner.walk.coverage import analyze_coverage, network_facts
from planner.walk.network import WalkNetwork
from planner.walk.network_cache import network_from_file

GK = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E


@pytest.fixture(scope="module")
def pbf_network() -> WalkNetwork:
    return network_from_file(demo_extract_path(), use_cache=False)


@pytest.fixture(scope="module")
def street_lines(pbf_network: WalkNetwork) -> gpd.GeoDataFrame:
    """The PBF network's streets as plain lines, tunnels flagged, in ETRS-TM35FIN."""
    return street_lines_of(pbf_network)


def test_shapefile_gives_the_pbf_network_and_coverage(
    tmp_path: Path, pbf_network: WalkNetwork, street_lines: gpd.GeoDataFrame
) -> None:
    shp = write_layer(street_lines, tmp_path / "roads.shp")
    road = network_from_file(shp, road=RoadOptions(node_tolerance_m=0.0), use_cache=False)
    assert_same_network(road, pbf_network)
    assert road.crs == pbf_network.crs
    path = demo_extract_path()
    stations = stations_from_osm(path).head(4)
    homes = homes_from_osm(path)
    cfg = AnalysisConfig(walk_minutes=5)  # short, so that coverage is partial
    a = analyze_coverage(pbf_network, stations, homes, config=cfg)
    b = analyze_coverage(road, stations, homes, config=cfg)
    covered_a = a.demand["covered"].to_numpy()
    assert 0.1 < covered_a.mean() < 0.9
    assert (b.demand["covered"].to_numpy() == covered_a).mean() >= 0.99
    assert b.demand["walk_min"].to_numpy() == pytest.approx(
        a.demand["walk_min"].to_numpy(), rel=0.01, abs=0.1, nan_ok=True
    )
    facts = network_facts(road)
    assert facts["road_layer"]["ends_joined"] == 0
    assert facts["road_layer"]["lines_read"] == len(street_lines)


def test_geopackage_in_gauss_kruger_with_chinese_columns(
    tmp_path: Path, pbf_network: WalkNetwork, street_lines: gpd.GeoDataFrame
) -> None:
    lines = street_lines.rename(columns={"highway": "道路等级"}).to_crs(GK)
    gpkg = write_layer(lines, tmp_path / "道路.gpkg", layer="中心线")
    road = network_from_file(
        gpkg, road=RoadOptions(layer="中心线", node_tolerance_m=0.0), use_cache=False
    )
    assert_same_network(road, pbf_network)


def test_cache_keeps_the_report_and_is_keyed_by_tolerance(
    tmp_path: Path, street_lines: gpd.GeoDataFrame
) -> None:
    shp = write_layer(street_lines, tmp_path / "roads.shp")
    cache = tmp_path / "cache"
    first = network_from_file(shp, cache_dir=cache)
    again = network_from_file(shp, cache_dir=cache)
    other = network_from_file(shp, cache_dir=cache, road=RoadOptions(node_tolerance_m=0.0))
    assert not first.from_cache
    assert again.from_cache
    assert not other.from_cache
    assert again.road_report == first.road_report
    assert first.road_report is not None
    assert first.road_report.ends_joined > 0
    assert other.road_report is not None
    assert other.road_report.ends_joined == 0


def _tables(
    tmp_path: Path, frame: gpd.GeoDataFrame, **kw: Any
) -> tuple[StreetTables, RoadLayerReport]:
    path = write_layer(frame, tmp_path / "lines.geojson")
    return road_tables_from_file(path, options=RoadOptions(**kw))


def test_bridge_crossing_without_a_shared_vertex_is_not_joined(tmp_path: Path) -> None:
    street = shapely.LineString([(0, 0), (100, 0)])
    bridge = shapely.LineString([(50, -50), (50, 50)])
    frame = gpd.GeoDataFrame(geometry=[street, bridge], crs=3067)
    tables, report = _tables(tmp_path, frame)
    assert len(tables.node_ids) == 4
    assert len(tables.edge_u) == 2
    assert report.parts == 2
    assert report.dead_ends == 4


def test_shared_vertex_joins_unless_levels_differ(tmp_path: Path) -> None:
    street = shapely.LineString([(0, 0), (50, 0), (100, 0)])
    other = shapely.LineString([(50, -50), (50, 0), (50, 50)])
    same = gpd.GeoDataFrame({"level": [0, 0]}, geometry=[street, other], crs=3067)
    tables, report = _tables(tmp_path, same)
    assert len(tables.node_ids) == 5
    assert len(tables.edge_u) == 4
    assert report.parts == 1
    over = gpd.GeoDataFrame({"level": [0, 1]}, geometry=[street, other], crs=3067)
    tables, report = _tables(tmp_path, over)
    assert len(tables.node_ids) == 4
    assert report.parts == 2
    assert report.level_column == "level"


def test_near_miss_ends_joined_within_tolerance_and_counted(tmp_path: Path) -> None:
    a = shapely.LineString([(0, 0), (100, 0)])
    b = shapely.LineString([(100.3, 0), (200, 0)])  # 0.3 m gap: joined
    c = shapely.LineString([(202, 0), (300, 0)])  # 2 m gap: a near miss, not joined
    frame = gpd.GeoDataFrame(geometry=[a, b, c], crs=3067)
    tables, report = _tables(tmp_path, frame)
    assert report.ends_joined == 1
    assert len(tables.node_ids) == 5
    assert report.parts == 2
    assert report.near_miss_ends == 2  # the two ends 2 m apart
    assert report.parts_street_m == pytest.approx(98.0, rel=1e-2)
    tables, report = _tables(tmp_path, frame, node_tolerance_m=0.0)
    assert report.ends_joined == 0
    assert len(tables.node_ids) == 6


def test_dropped_lines_counted_by_reason(tmp_path: Path) -> None:
    geoms = [
        shapely.LineString([(0, 0), (100, 0)]),
        shapely.Point(5, 5),
        None,
        shapely.LineString([(7, 7), (7, 7)]),
        shapely.MultiLineString([[(0, 10), (50, 10)], [(60, 10), (90, 10)]]),
    ]
    frame = gpd.GeoDataFrame({"class": ["road", "x", "road", "road", "path"]}, geometry=geoms)
    frame = frame.set_crs(3067)
    path = write_layer(frame, tmp_path / "mixed.gpkg")
    tables, report = road_tables_from_file(path)
    assert (report.dropped_not_lines, report.dropped_no_geometry) == (1, 1)
    assert report.dropped_zero_length == 1
    assert len(tables.edge_u) == 3
    tables, report = road_tables_from_file(path, options=RoadOptions(walkable="class in (road)"))
    assert report.dropped_not_walkable == 2
    assert len(tables.edge_u) == 1
    with pytest.raises(InputDataError, match="lacks"):
        road_tables_from_file(path, options=RoadOptions(walkable="kind in (road)"))


def test_compiled_network_walks_both_ways(tmp_path: Path) -> None:
    line = shapely.LineString([(500000, 3000000), (500000, 3000100)])
    frame = gpd.GeoDataFrame(geometry=[line], crs="EPSG:4547").to_crs(4326)
    tables, _ = _tables(tmp_path, frame)
    net = network_from_tables(tables)
    assert net.csr[0, 1] == pytest.approx(100.0, rel=1e-3)
    assert net.csr[1, 0] == net.csr[0, 1]
