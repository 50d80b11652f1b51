"""A TOML mapping file: walkable classes and a "no pedestrians" flag, errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from road_lines import write_layer

from planner.errors import InputDataError
from planner.sources.road_files import RoadOptions
from planner.sources.road_layers import road_tables_from_file
from planner.sources.road_mapping import road_mapping_from_file

MAPPING = """
[walkable]
column = "道路等级"
classes = ["主干路", "支路", "人行道"]

[no_pedestrians]
column = "禁止行人"
values = ["是"]
"""


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    """Five parallel 100 m lines, one per class; the trunk road is closed to walkers."""
    x, y = 500_000.0, 3_000_000.0  # on the zone's central meridian: scale 1
    lines = [shapely.LineString([(x, y + 10 * i), (x + 100, y + 10 * i)]) for i in range(5)]
    frame = gpd.GeoDataFrame(
        {
            "道路等级": ["主干路", "支路", "人行道", "快速路", "主干路"],
            "禁止行人": ["否", "否", "", "否", "是"],
        },
        geometry=lines,
        crs="EPSG:4547",
    )
    return write_layer(frame, tmp_path / "roads.gpkg")


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "道路映射.toml"
    path.write_text(text, "utf-8")
    return path


def test_mapping_keeps_walkable_classes_and_drops_flagged_lines(
    tmp_path: Path, layer: Path
) -> None:
    options = RoadOptions(mapping=_mapping(tmp_path, MAPPING))
    tables, report = road_tables_from_file(layer, options=options)
    assert report.dropped_not_walkable == 1  # 快速路
    assert report.dropped_no_pedestrians == 1  # the second 主干路
    assert len(tables.edge_u) == 3
    assert tables.length_m.sum() == pytest.approx(300.0, rel=1e-3)
    assert report.options["mapping"] == str(options.mapping)


def test_exclude_list_and_walkable_option_together(tmp_path: Path, layer: Path) -> None:
    text = '[walkable]\ncolumn = "道路等级"\nexclude = ["快速路"]\n'
    options = RoadOptions(mapping=_mapping(tmp_path, text), walkable="道路等级 not in (人行道)")
    tables, report = road_tables_from_file(layer, options=options)
    assert report.dropped_not_walkable == 2
    assert len(tables.edge_u) == 3


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[walk]\ncolumn = "a"\n', r"unknown key 'walk'"),
        ('[walkable]\ncolumn = "道路等级"\n', r"\[walkable\] needs either classes"),
        (
            '[walkable]\ncolumn = "道路等级"\nclasses = "主干路"\n',
            r"walkable\.classes must be a list",
        ),
        ('[walkable]\nclasses = ["a"]\n', r"\[walkable\] needs column"),
        ('[walkable]\ncolumn = "x"\nclasses = ["a"]\nspeed = 3\n', r"unknown key 'speed'"),
        ("walkable = 3\n", r"walkable must be a table"),
        ('[no_pedestrians]\ncolumn = "f"\nvalues = []\n', r"no_pedestrians\.values must"),
        ("[walkable\n", r"not a readable TOML"),
    ],
)
def test_mapping_mistakes_name_the_file_and_key(tmp_path: Path, text: str, says: str) -> None:
    path = _mapping(tmp_path, text)
    with pytest.raises(InputDataError, match=rf"道路映射\.toml.*{says}"):
        road_mapping_from_file(path)


def test_a_column_the_layer_lacks_is_named(tmp_path: Path, layer: Path) -> None:
    text = '[no_pedestrians]\ncolumn = "行人"\n'
    options = RoadOptions(mapping=_mapping(tmp_path, text))
    with pytest.raises(InputDataError, match=r"roads\.gpkg.*\[no_pedestrians\].*'行人'.*道路等级"):
        road_tables_from_file(layer, options=options)
