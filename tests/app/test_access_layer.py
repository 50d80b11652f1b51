"""Tests of app.access_layer: the access layer shows the figures of summary.json's access block."""

from __future__ import annotations

import numpy as np
import pytest

from planner.app.access_layer import ACCESS_COLOURS, access_layer
from planner.app.edits import add_station
from planner.app.plan import Plan, build_plan
from planner.app.study_area import StudyArea
from planner.report.maps import map_text
from planner.walk.scores import access_scores


@pytest.fixture(scope="module")
def plan(helsinki_area: StudyArea) -> Plan:
    base = build_plan(helsinki_area)
    return add_station(base, 24.9475, 60.1765, name="{{ 7*7 }}", category="x")


@pytest.mark.parametrize("method", ["2sfca", "e2sfca", "g2sfca", "gravity"])
def test_layer_figures_equal_the_access_block(plan: Plan, method: str) -> None:
    layer = access_layer(plan, method=method)
    direct = access_scores(
        plan.area.network, plan.stations, plan.area.demand, methods=(method,), config=plan.config
    )
    assert layer.figures == pytest.approx(direct.summary()["by_method"][method])
    values = direct.demand[f"access_{method}"].to_numpy()
    assert layer.breaks[-1] == pytest.approx(values.max())
    assert list(layer.breaks) == sorted(layer.breaks)


def test_homes_are_coloured_by_class_and_thinned(plan: Plan) -> None:
    page = access_layer(plan, max_homes=50).group
    geo = next(iter(page._children.values()))
    features = geo.data["features"]
    assert len(features) == 50
    classes = {f["properties"]["cls"] for f in features}
    assert classes <= set(range(len(ACCESS_COLOURS)))
    zero = [f for f in features if f["properties"]["score"] == 0]
    assert all(f["properties"]["cls"] == 0 for f in zero)
    assert np.all([f["properties"]["score"] >= 0 for f in features])


def test_layer_name_is_translated_and_safe(plan: Plan) -> None:
    layer = access_layer(plan, method="gravity", language="zh")
    assert layer.group.layer_name == map_text("可达性（GRAVITY）")
