"""A region's halo widens for a road layer's lines faster than the run's speed."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from planner.config import AnalysisConfig
from planner.pipeline.region_task import widened_halo
from planner.sources.road_files import RoadOptions
from planner.walk.line_speeds import line_speed_network
from planner.walk.network_cache import network_from_file
from planner.walk.subnetwork import halo_widths_m

X, Y = 500_000.0, 3_000_000.0


def test_a_travelator_at_twice_the_speed_doubles_the_halo(tmp_path: Path) -> None:
    lines = [
        shapely.LineString([(X, Y), (X + 600, Y)]),
        shapely.LineString([(X + 600, Y), (X + 900, Y)]),
    ]
    roads = gpd.GeoDataFrame({"v": ["", "9"]}, geometry=lines, crs=4547)
    roads.to_file(tmp_path / "roads.gpkg", engine="pyogrio")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[speed]\ncolumn = "v"\n', "utf-8")
    options = RoadOptions(mapping=mapping)
    network = network_from_file(tmp_path / "roads.gpkg", road=options, use_cache=False)
    cfg = AnalysisConfig(speed_kmh=4.5, walk_minutes=15, max_snap_m=100)
    halo = halo_widths_m(cfg)
    assert widened_halo(halo, network) == halo  # speeds not applied: lengths are costs
    at_speed = line_speed_network(network, speed_kmh=4.5)
    wide = widened_halo(halo, at_speed)
    assert wide.streets_m == pytest.approx(2 * halo.streets_m, rel=1e-6)
    assert wide.stations_m == pytest.approx(2 * halo.stations_m, rel=1e-6)
    slow = line_speed_network(network, speed_kmh=9.0)  # nothing faster than the run
    assert widened_halo(halo, slow) == halo
