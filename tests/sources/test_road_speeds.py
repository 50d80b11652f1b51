"""A road layer's own walking speeds ([speed] of a mapping file): costs, profiles, errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from road_lines import write_layer

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.report.road_section import road_quality_items
from planner.sources.road_files import RoadOptions
from planner.sources.road_layers import road_tables_from_file
from planner.sources.road_mapping import SpeedRule, line_speeds, road_mapping_from_file
from planner.walk.coverage import analyze_coverage, road_report_facts
from planner.walk.line_speeds import has_line_speeds, line_speed_network
from planner.walk.network import LINE_FACTOR_COLUMN, LINE_SPEED_COLUMN
from planner.walk.network_cache import network_from_file
from planner.walk.profiles import WalkProfile, profile_network

X, Y = 500_000.0, 3_000_000.0  # on the CGCS2000 zone's central meridian: scale 1
CRS = "EPSG:4547"


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "道路映射.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def path_layer(tmp_path: Path) -> Path:
    """A station at x=0, a 600 m footway, then 300 m of steps to a home at x=900.

    A third line (a side street of the 施工便道 class) hangs off x=600.
    """
    lines = [
        shapely.LineString([(X, Y), (X + 600, Y)]),
        shapely.LineString([(X + 600, Y), (X + 900, Y)]),
        shapely.LineString([(X + 600, Y), (X + 600, Y + 200)]),
    ]
    frame = gpd.GeoDataFrame(
        {"道路等级": ["人行道", "台阶", "施工便道"], "highway": ["footway", "steps", "path"]},
        geometry=lines,
        crs=CRS,
    )
    return write_layer(frame, tmp_path / "roads.gpkg")


def _points(xs: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(len(xs))], "population": [100.0] * len(xs)},
        geometry=[shapely.Point(X + x, Y) for x in xs],
        crs=CRS,
    )


CLASSES = '[speed]\ncolumn = "道路等级"\nclasses = { "台阶" = 2.0, "施工便道" = 0 }\n'


def _network(tmp_path: Path, layer: Path, text: str | None) -> object:
    mapping = None if text is None else _mapping(tmp_path, text)
    return network_from_file(layer, road=RoadOptions(mapping=mapping), use_cache=False)


def test_slow_steps_leave_the_home_uncovered(tmp_path: Path, path_layer: Path) -> None:
    station, home = _points([0.0]), _points([900.0])
    config = AnalysisConfig(speed_kmh=4.5, walk_minutes=15)
    plain = analyze_coverage(_network(tmp_path, path_layer, None), station, home, config=config)
    # 900 m at 4.5 km/h (75 m a minute): 12 minutes, covered.
    assert plain.demand["walk_min"].iloc[0] == pytest.approx(12.0, rel=1e-3)
    assert bool(plain.demand["covered"].iloc[0])
    network = _network(tmp_path, path_layer, CLASSES)
    assert has_line_speeds(network)
    result = analyze_coverage(network, station, home, config=config)
    # 600 m at 4.5 km/h = 8 min, then 300 m of steps at 2 km/h = 9 min: 17 > 15.
    assert result.demand["walk_min"].iloc[0] == pytest.approx(17.0, rel=1e-3)
    assert not bool(result.demand["covered"].iloc[0])
    # Street km are the true lengths; the speed-0 side street is not walked at all.
    assert result.network_facts["street_km"] == pytest.approx(0.9, rel=1e-3)
    report = network.road_report
    assert report is not None
    assert (report.lines_own_speed, report.dropped_speed_zero) == (1, 1)
    assert report.speed_column == "道路等级"


def test_costs_are_relative_to_the_run_speed(tmp_path: Path, path_layer: Path) -> None:
    network = _network(tmp_path, path_layer, CLASSES)
    at_5 = line_speed_network(network, speed_kmh=5.0)
    length = at_5.edges["street_length_m"].to_numpy()
    cost = at_5.edges["length_m"].to_numpy()
    steps = np.isclose(length, 300.0, rtol=1e-3)
    assert cost[steps] == pytest.approx(length[steps] * 5.0 / 2.0)
    assert cost[~steps] == pytest.approx(length[~steps])
    assert LINE_SPEED_COLUMN not in at_5.edges.columns
    assert line_speed_network(at_5, speed_kmh=3.0) is at_5  # applied once only
    assert LINE_SPEED_COLUMN in network.edges.columns  # the input is not modified


def test_composes_with_a_walking_profile(tmp_path: Path, path_layer: Path) -> None:
    """The profile's speed on lines without one; its factors multiply the line's time."""
    network = _network(tmp_path, path_layer, CLASSES)
    station, home = _points([0.0]), _points([900.0])
    slow = WalkProfile("slow", 3.0, time_factor={"highway=steps": 1.5})
    walked = profile_network(network, slow)
    config = AnalysisConfig(speed_kmh=3.0, walk_minutes=30)
    result = analyze_coverage(walked, station, home, config=config)
    # 600 m at 3 km/h = 12 min; 300 m of steps at 2 km/h = 9 min, times 1.5 = 13.5 min.
    assert result.demand["walk_min"].iloc[0] == pytest.approx(25.5, rel=1e-3)
    assert walked.street_m == pytest.approx(900.0, rel=1e-3)
    plain = profile_network(network, WalkProfile("plain", 3.0))
    plain_result = analyze_coverage(plain, station, home, config=config)
    assert plain_result.demand["walk_min"].iloc[0] == pytest.approx(21.0, rel=1e-3)


def test_speed_column_in_a_gbk_dbf(tmp_path: Path) -> None:
    lines = [shapely.LineString([(X, Y + 10 * i), (X + 100, Y + 10 * i)]) for i in range(4)]
    frame = gpd.GeoDataFrame(
        {"名称": ["人民路", "台阶路", "小巷", "封闭路"], "步行速度": ["4.5", "2", "", "0"]},
        geometry=lines,
        crs=CRS,
    )
    shp = write_layer(frame, tmp_path / "roads.shp", encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    mapping = _mapping(tmp_path, '[speed]\ncolumn = "步行速度"\n')
    tables, report = road_tables_from_file(shp, options=RoadOptions(mapping=mapping))
    assert tables.line_speed_kmh is not None
    offsets = np.round(tables.node_xy[tables.edge_u][:, 1] - Y)
    by_y = dict(zip(offsets, tables.line_speed_kmh, strict=True))
    assert by_y[0.0] == 4.5
    assert by_y[10.0] == 2.0
    assert np.isnan(by_y[20.0])  # an empty cell: the run's speed
    assert 30.0 not in by_y  # speed 0: closed
    assert (report.lines_own_speed, report.dropped_speed_zero) == (2, 1)
    assert report.speed_column == "步行速度"
    items = dict(road_quality_items(road_report_facts(report), "zh"))
    assert "步行速度" in items["有自身步行速度的线"]
    assert items["有自身步行速度的线"].startswith("2 条")
    en = dict(road_quality_items(road_report_facts(report), "en"))
    assert "1 left out with speed 0" in en["Lines with their own walking speed"]


def test_full_width_digits_and_numbers_are_speeds() -> None:
    frame = pd.DataFrame(
        {"v": pd.Series(["４.５", 3, 2.5, " 1 ", None, float("nan")], dtype=object)}
    )
    speeds = line_speeds(frame, SpeedRule("v"), "roads.shp", checked=np.ones(6, dtype=bool))
    assert speeds[:4].tolist() == [4.5, 3.0, 2.5, 1.0]
    assert np.isnan(speeds[4:]).all()


def test_unreadable_speeds_are_named_by_row_and_value(tmp_path: Path) -> None:
    lines = [shapely.LineString([(X, Y + 10 * i), (X + 100, Y + 10 * i)]) for i in range(5)]
    frame = gpd.GeoDataFrame(
        {
            "kind": ["road", "road", "road", "road", "motorway"],
            "速度": ["4", "快", "60", "-1", "x"],
        },
        geometry=lines,
        crs=CRS,
    )
    layer = write_layer(frame, tmp_path / "roads.gpkg")
    mapping = _mapping(tmp_path, '[speed]\ncolumn = "速度"\n')
    options = RoadOptions(mapping=mapping, walkable="kind in (road)")
    with pytest.raises(InputDataError) as err:
        road_tables_from_file(layer, options=options)
    message = str(err.value)
    assert "roads.gpkg" in message
    assert "'速度'" in message
    assert "3 value(s)" in message  # the motorway's 'x' is not walked, so not checked
    assert "row 2: '快'; row 3: '60'; row 4: '-1'" in message


def test_a_missing_speed_column_is_named(tmp_path: Path, path_layer: Path) -> None:
    mapping = _mapping(tmp_path, '[speed]\ncolumn = "限速"\n')
    with pytest.raises(InputDataError, match=r"\[speed\].*'限速'.*道路等级"):
        road_tables_from_file(path_layer, options=RoadOptions(mapping=mapping))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[speed]\ncolumn = "a"\nclasses = { "台阶" = "slow" }\n', r"speed\.classes '台阶'"),
        ('[speed]\ncolumn = "a"\nclasses = { "台阶" = 25 }\n', r"speed\.classes '台阶' = 25"),
        ('[speed]\ncolumn = "a"\nclasses = { "台阶" = -1 }\n', r"from 0 to 20"),
        ('[speed]\ncolumn = "a"\nclasses = {}\n', r"speed\.classes must be a table"),
        ('[speed]\ncolumn = "a"\nfactor = 2\n', r"speed\.factor must be the name of a column"),
        ('[speed]\ncolumn = "a"\nfactors = "f"\n', r"\[speed\] has an unknown key 'factors'"),
        ("[speed]\nclasses = { a = 1 }\n", r"\[speed\] needs column"),
        ('[speed]\nfactor = "f"\nclasses = { a = 1 }\n', r"\[speed\] needs column"),
        ("speed = 3\n", r"speed must be a table"),
    ],
)
def test_speed_table_mistakes_name_the_file_and_key(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(InputDataError, match=rf"道路映射\.toml.*{says}"):
        road_mapping_from_file(_mapping(tmp_path, text))


@pytest.fixture
def factor_layer(tmp_path: Path) -> Path:
    """600 m of slope (time x1.5) then 300 m of steps at 2 km/h (time x2), a dead end."""
    lines = [
        shapely.LineString([(X, Y), (X + 600, Y)]),
        shapely.LineString([(X + 600, Y), (X + 900, Y)]),
        shapely.LineString([(X + 900, Y), (X + 900, Y + 50)]),
    ]
    frame = gpd.GeoDataFrame(
        {"v": [None, 2.0, None], "f": ["1.5", "2", ""]}, geometry=lines, crs=CRS
    )
    return write_layer(frame, tmp_path / "factors.gpkg")


FACTORS = '[speed]\ncolumn = "v"\nfactor = "f"\n'


def test_time_factors_multiply_the_time_at_each_lines_speed(
    tmp_path: Path, factor_layer: Path
) -> None:
    network = _network(tmp_path, factor_layer, FACTORS)
    config = AnalysisConfig(speed_kmh=4.5, walk_minutes=30)
    result = analyze_coverage(network, _points([0.0]), _points([900.0]), config=config)
    # 600 m at 4.5 km/h x 1.5 = 12 min; 300 m at 2 km/h x 2 = 18 min.
    assert result.demand["walk_min"].iloc[0] == pytest.approx(30.0, rel=1e-3)
    assert bool(result.demand["covered"].iloc[0])
    assert result.network_facts["street_km"] == pytest.approx(0.95, rel=1e-3)
    report = network.road_report
    assert report is not None
    assert (report.lines_own_speed, report.lines_time_factor) == (1, 2)
    assert (report.speed_column, report.factor_column) == ("v", "f")
    items = dict(road_quality_items(road_report_facts(report), "en"))
    assert (
        items["Lines with a factor on their walking time"] == "2 (column f; the others: factor 1)"
    )
    only = _network(tmp_path, factor_layer, '[speed]\nfactor = "f"\n')  # factors, no speeds
    alone = analyze_coverage(only, _points([0.0]), _points([900.0]), config=config)
    assert alone.demand["walk_min"].iloc[0] == pytest.approx(12.0 + 8.0, rel=1e-3)


def test_bad_time_factors_are_named(tmp_path: Path) -> None:
    lines = [shapely.LineString([(X, Y + 10 * i), (X + 100, Y + 10 * i)]) for i in range(4)]
    frame = gpd.GeoDataFrame({"系数": ["1", "0", "陡", "200"]}, geometry=lines, crs=CRS)
    layer = write_layer(frame, tmp_path / "roads.gpkg")
    mapping = _mapping(tmp_path, '[speed]\nfactor = "系数"\n')
    with pytest.raises(InputDataError) as err:
        road_tables_from_file(layer, options=RoadOptions(mapping=mapping))
    assert "'系数'" in str(err.value)
    assert "row 2: '0'; row 3: '陡'; row 4: '200'" in str(err.value)


def test_cache_keeps_speeds_and_is_keyed_by_the_mapping(tmp_path: Path, path_layer: Path) -> None:
    mapping = _mapping(tmp_path, CLASSES)
    cache = tmp_path / "cache"
    options = RoadOptions(mapping=mapping)
    first = network_from_file(path_layer, road=options, cache_dir=cache)
    again = network_from_file(path_layer, road=options, cache_dir=cache)
    assert again.from_cache
    assert np.array_equal(
        again.edges[LINE_SPEED_COLUMN].to_numpy(), first.edges[LINE_SPEED_COLUMN].to_numpy(),
        equal_nan=True,
    )  # fmt: skip
    assert again.road_report == first.road_report
    mapping.write_text(CLASSES.replace("2.0", "3.0"), "utf-8")
    changed = network_from_file(path_layer, road=options, cache_dir=cache)
    assert not changed.from_cache
    assert np.nanmax(changed.edges[LINE_SPEED_COLUMN].to_numpy()) == 3.0


def test_cache_keeps_time_factors(tmp_path: Path, factor_layer: Path) -> None:
    options = RoadOptions(mapping=_mapping(tmp_path, FACTORS))
    first = network_from_file(factor_layer, road=options, cache_dir=tmp_path / "c")
    again = network_from_file(factor_layer, road=options, cache_dir=tmp_path / "c")
    assert again.from_cache
    factors = again.edges[LINE_FACTOR_COLUMN].to_numpy()
    assert np.array_equal(factors, first.edges[LINE_FACTOR_COLUMN].to_numpy(), equal_nan=True)
    assert sorted(factors[np.isfinite(factors)].tolist()) == [1.5, 2.0]
