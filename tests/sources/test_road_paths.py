"""OSM footpaths merged into a road layer that lacks them (``--add-osm-paths``)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from road_lines import street_lines_of, write_layer

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.sources.road_files import RoadOptions
from planner.sources.road_paths import PATH_CLASSES
from planner.walk.coverage import analyze_coverage
from planner.walk.network import WalkNetwork
from planner.walk.network_cache import network_from_file


@pytest.fixture(scope="module")
def pbf_network() -> WalkNetwork:
    return network_from_file(demo_extract_path(), use_cache=False)


@pytest.fixture(scope="module")
def roads_only(pbf_network: WalkNetwork) -> gpd.GeoDataFrame:
    """The extract's streets without its footways, paths and steps: a city's road layer."""
    lines = street_lines_of(pbf_network)
    return lines.loc[~lines["highway"].isin(PATH_CLASSES)]


def test_paths_merged_give_back_the_walking_network(
    tmp_path: Path, pbf_network: WalkNetwork, roads_only: gpd.GeoDataFrame
) -> None:
    gpkg = write_layer(roads_only, tmp_path / "roads.gpkg")
    bare = network_from_file(gpkg, road=RoadOptions(node_tolerance_m=0.0), use_cache=False)
    options = RoadOptions(node_tolerance_m=0.0, osm_paths=demo_extract_path())
    merged = network_from_file(gpkg, road=options, use_cache=False)
    assert bare.n_nodes < 0.4 * pbf_network.n_nodes
    # The paths come back, joined where OSM joins them, plus path ends within 5 m of a
    # road that OSM leaves loose (each splits a road: one node more).
    assert merged.n_nodes == pytest.approx(pbf_network.n_nodes, rel=0.01)
    assert merged.street_m == pytest.approx(pbf_network.street_m, rel=0.01)
    report = merged.road_report
    assert report is not None
    assert report.osm_paths_added > 2000
    assert report.osm_ends_joined > 400
    assert report.lines_read == len(roads_only)
    assert bare.road_report is not None
    assert bare.road_report.osm_paths_added == 0
    path = demo_extract_path()
    stations = stations_from_osm(path).head(4)
    homes = homes_from_osm(path)
    cfg = AnalysisConfig(walk_minutes=5)
    a = analyze_coverage(pbf_network, stations, homes, config=cfg)
    b = analyze_coverage(merged, stations, homes, config=cfg)
    c = analyze_coverage(bare, stations, homes, config=cfg)
    share = a.summary()["share_covered"]
    assert b.summary()["share_covered"] == pytest.approx(share, abs=0.002)
    assert abs(c.summary()["share_covered"] - share) > abs(b.summary()["share_covered"] - share)


def test_ends_join_a_shifted_layer_within_the_join_distance(
    tmp_path: Path, roads_only: gpd.GeoDataFrame
) -> None:
    shifted = roads_only.copy()
    shifted.geometry = shifted.translate(2.0, 0.0)  # the city's survey 2 m off OSM
    gpkg = write_layer(shifted, tmp_path / "shifted.gpkg")
    near = RoadOptions(osm_paths=demo_extract_path(), osm_join_m=5.0)
    none = RoadOptions(osm_paths=demo_extract_path(), osm_join_m=0.0)
    joined = network_from_file(gpkg, road=near, use_cache=False)
    loose = network_from_file(gpkg, road=none, use_cache=False)
    assert joined.road_report is not None
    assert loose.road_report is not None
    assert loose.road_report.osm_ends_joined == 0
    assert joined.road_report.osm_ends_joined > 400
    assert joined.road_report.parts < loose.road_report.parts
    assert joined.islands.street_m_dropped < 0.3 * loose.islands.street_m_dropped
    with pytest.raises(InputDataError, match="--osm-join-m"):
        network_from_file(
            gpkg, road=RoadOptions(osm_paths=demo_extract_path(), osm_join_m=-1), use_cache=False
        )
