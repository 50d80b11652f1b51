"""Dragging a station: which station the map reports and where it was dropped."""

from __future__ import annotations

import json

import folium
import pytest

from planner.app.drag import drag_labels, drag_layer, drag_move
from planner.app.edits import add_station
from planner.app.plan import build_plan
from planner.app.study_area import StudyArea
from planner.app.workspace import edit, handle_click, start_workspace

EVIL = "{{ 7*7 }}<img src=x onerror=alert(1)>"


@pytest.fixture
def plan(grid_area: StudyArea):  # type: ignore[no-untyped-def]
    base = build_plan(grid_area)
    return add_station(base, 27.0005, 60.2005, name="x", station_id=EVIL)


def value(label: str, lat: float, lng: float) -> dict[str, object]:
    """What st_folium returns after a drag: the marker's tooltip and its new place."""
    return {"last_object_clicked_tooltip": label, "last_object_clicked": {"lat": lat, "lng": lng}}


def test_a_drop_moves_the_dragged_station(plan) -> None:  # type: ignore[no-untyped-def]
    labels = drag_labels(plan, "en")
    assert labels["Drag to move station A"] == "A"
    assert drag_move(plan, value("Drag to move station A", 60.21, 27.01), labels) == (
        "A",
        27.01,
        60.21,
    )
    evil = drag_labels(plan, "en")[f"Drag to move station {EVIL}"]
    assert evil == EVIL
    assert drag_move(plan, value(f"Drag to move station {EVIL}", 60.3, 27.2), labels) == (
        EVIL,
        27.2,
        60.3,
    )
    zh = drag_labels(plan, "zh")
    assert drag_move(plan, value("拖动以移动服务站 B", 60.3, 27.2), zh) == ("B", 27.2, 60.3)


def test_a_click_or_a_foreign_object_moves_nothing(plan) -> None:  # type: ignore[no-untyped-def]
    labels = drag_labels(plan, "en")
    a = plan.stations.geometry.iloc[0]
    # a click on the marker: its own place (within 1 m, GeoJSON rounds to 0.1 m)
    assert drag_move(plan, value("Drag to move station A", a.y + 1e-6, a.x), labels) is None
    assert drag_move(plan, value("Home H1", 60.3, 27.2), labels) is None  # not a station
    assert drag_move(plan, value("Drag to move station A", float("nan"), 27.2), labels) is None
    assert drag_move(plan, None, labels) is None
    assert (
        drag_move(plan, {"last_object_clicked_tooltip": "Drag to move station A"}, labels) is None
    )
    # a marker of an earlier plan whose station was deleted since
    gone = drag_labels(add_station(plan, 27.0, 60.2, station_id="old"), "en")
    assert drag_move(plan, value("Drag to move station old", 60.3, 27.2), gone) is None


def test_the_layer_holds_draggable_markers_with_escaped_labels(plan) -> None:  # type: ignore[no-untyped-def]
    fmap = folium.Map()
    drag_layer(plan, language="en").add_to(fmap)
    html = fmap.get_root().render()
    assert "draggable: true" in html
    assert 'm.fire("click", {latlng: m.getLatLng()})' in html
    assert "<img src=x" not in html  # the id is data: escaped, never markup
    assert "{{ 7*7 }}" not in html
    data = html[html.index("var data = ") + len("var data = ") :].split(";\n")[0]
    labels = [f["properties"]["label"] for f in json.loads(data)["features"]]
    assert len(labels) == len(plan.stations)
    assert "Drag to move station &#123;&#123; 7*7 &#125;&#125;&lt;img" in labels[-1]


def test_map_clicks_do_nothing_in_drag_mode(plan) -> None:  # type: ignore[no-untyped-def]
    ws = start_workspace(plan)
    same, sid = handle_click(ws, {"lat": 60.2, "lng": 27.0}, mode="drag")
    assert same is ws
    assert sid is None
    assert edit(ws, plan) is ws
