"""The road layer's quality report as console lines and as a report section."""

from __future__ import annotations

from typing import Any

from planner.report.page import Words
from planner.report.road_section import road_quality_items, road_quality_section

FACTS: dict[str, Any] = {
    "lines_read": 1209,
    "dropped_no_geometry": 1,
    "dropped_not_lines": 2,
    "dropped_zero_length": 3,
    "dropped_not_walkable": 4,
    "dropped_no_pedestrians": 5,
    "ends_joined": 33,
    "node_tolerance_m": 0.5,
    "dead_ends": 657,
    "near_miss_ends": 289,
    "parts": 50,
    "parts_street_km": 2.337,
    "level_column": "<层>",
    "osm_paths_added": 2225,
    "osm_ends_joined": 517,
    "options": {"osm_paths": "city.osm.pbf", "osm_join_m": 5.0},
}


def test_items_in_both_languages() -> None:
    en = dict(road_quality_items(FACTS, "en"))
    assert en["Lines read"] == "1,209"
    assert en["Lines left out"] == (
        "1 without geometry, 2 not lines, 3 of zero length, 4 not walkable, 5 closed to pedestrians"
    )
    assert en["Ends joined"] == "33 within 0.5 m"
    assert en["Dead ends"] == "657"
    assert en["Ends that nearly meet"].startswith("289 within 5 m of another street, not joined")
    assert en["Disconnected parts"].startswith("50 parts; 2.337 km of street outside")
    assert en["Level column"] == "<层>"
    assert en["OSM paths merged"] == "2,225 path segments, 517 ends joined to the layer within 5 m"
    zh = dict(road_quality_items(FACTS, "zh"))
    assert zh["已连接的端点"] == "33 处（0.5 米以内）"
    assert zh["未采用的线"].endswith("5 条禁止行人")


def test_without_osm_paths_or_levels_those_lines_are_left_out() -> None:
    facts = {k: v for k, v in FACTS.items() if k not in ("options", "level_column")}
    labels = [label for label, _ in road_quality_items(facts, "en")]
    assert "OSM paths merged" not in labels
    assert "Level column" not in labels
    assert len(labels) == 6


def test_section_escapes_and_is_empty_without_a_road_layer() -> None:
    html = road_quality_section(Words("en"), {"network": {"road_layer": FACTS}})
    assert html.startswith('<section id="road-layer"><h2>Road layer quality</h2>')
    assert "&lt;层&gt;" in html
    assert "<层>" not in html
    assert road_quality_section(Words("en"), {"network": {"nodes": 3}}) == ""
    assert road_quality_section(Words("zh"), {}) == ""
