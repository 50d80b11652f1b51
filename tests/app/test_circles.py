"""The app's service-circle view on the grid: categories, complete circle, profiles."""

from __future__ import annotations

import pytest

from planner.app.circles import category_layer, category_table, circle_view, plan_categories
from planner.app.edits import update_station
from planner.app.plan import build_plan
from planner.app.study_area import StudyArea
from planner.config import AnalysisConfig
from tests.helpers import SPEED_KMH


def test_categories_complete_circle_and_profiles(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area, config=AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH))
    assert plan_categories(plan) == []
    assert circle_view(plan).categories == ()
    plan = update_station(update_station(plan, "A", category="market"), "B", category="<b>x</b>")
    assert plan_categories(plan) == ["market", "<b>x</b>"]
    view = circle_view(plan, category_minutes={"market": 1.5, "unknown": 3.0})
    # helpers.GRID_HOMES: market (A) within 150 m: H1 (120), H7 (150); B within 200 m:
    # H3, H4, H6, H7 (190): complete = H7 (70 people of 280)
    assert view.profile.speed_kmh == SPEED_KMH  # adult walks at the plan's speed
    assert view.share_complete == pytest.approx(70 / 280)
    table = category_table(view)
    assert list(table["category"]) == ["market", "<b>x</b>"]
    assert list(table["minutes"]) == [1.5, 2.0]
    assert list(table["population_covered"]) == [80.0, 200.0]
    # Shares in percent, as the groups table shows them.
    assert list(table["share_covered"]) == pytest.approx([100 * 80 / 280, 100 * 200 / 280])
    only_b = circle_view(plan, require=["<b>x</b>"])
    assert only_b.share_complete == pytest.approx(200 / 280)
    assert list(category_table(only_b)["required"]) == [False, True]
    slow = circle_view(plan, profile="elderly")
    assert slow.profile.speed_kmh == 3.5
    assert slow.result.share_covered < view.result.share_covered


def test_category_layer_colours_and_escapes(grid_area: StudyArea) -> None:
    import folium

    plan = build_plan(grid_area, config=AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH))
    plan = update_station(update_station(plan, "A", category="{{ 7*7 }}"), "B", category="<b>")
    view = circle_view(plan, category_minutes={"{{ 7*7 }}": 1.5})
    layer = category_layer(view, "{{ 7*7 }}")
    data = next(iter(c for c in layer._children.values() if isinstance(c, folium.GeoJson))).data
    within = {f["properties"]["id"]: f["properties"]["cls"] for f in data["features"]}
    assert within == {"H1": 1, "H2": 0, "H3": 0, "H4": 0, "H5": 0, "H6": 0, "H7": 1}
    complete = category_layer(view, None)
    fmap = folium.Map()
    complete.add_to(fmap)
    layer.add_to(fmap)
    folium.LayerControl().add_to(fmap)
    assert layer.layer_name == "Within the &#123;&#123; 7*7 &#125;&#125; limit"
    assert complete.layer_name == "Complete circle"
    html = fmap.get_root().render()
    assert "Within the 49 limit" not in html
    assert "Within the \\u0026#123;\\u0026#123; 7*7 \\u0026#125;\\u0026#125; limit" in html


def test_group_columns_and_table_by_hand(grid_area: StudyArea) -> None:
    """Grid: market (A) covers H1 + H7 (80 of 280 people), B 200, complete H7 (70)."""
    import dataclasses

    from planner.app.circles import group_columns, group_table

    d = grid_area.demand
    at_h7 = (d["id"] == "H7").to_numpy(dtype=float)
    demand = d.assign(
        everyone=d["population"], h7=at_h7, nobody=0.0, note="x", minus=-at_h7, levels=1.0
    )
    area = dataclasses.replace(grid_area, demand=demand)
    plan = build_plan(area, config=AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH))
    assert group_columns(plan) == ["everyone", "h7", "nobody"]  # not text, negative, levels
    assert list(group_table(circle_view(plan)).columns) == ["group", "people", "share_covered"]
    plan = update_station(update_station(plan, "A", category="market"), "B", category="<b>x</b>")
    view = circle_view(plan, category_minutes={"market": 1.5}, groups=group_columns(plan))
    table = group_table(view).set_index("group")
    assert table.loc["everyone", "people"] == 280.0
    assert table.loc["everyone", "share_covered"] == pytest.approx(100 * view.result.share_covered)
    assert table.loc["everyone", "share_complete"] == pytest.approx(100 * 70 / 280)
    assert table.loc["everyone", "share_0"] == pytest.approx(100 * 80 / 280)
    assert table.loc["everyone", "share_1"] == pytest.approx(100 * 200 / 280)
    assert table.loc["h7"].tolist() == [1.0, 100.0, 100.0, 100.0, 100.0]
    assert table.loc["nobody"].tolist() == [0.0] * 5
