"""The app map's homes: drawn once from the study area, coloured by each plan's state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from planner.app.edits import add_station
from planner.app.homes_layer import (
    HomesBase,
    HomesState,
    drawn_homes,
    homes_geojson,
    write_homes_file,
)
from planner.app.plan import Plan, build_plan
from planner.app.plan_map import base_map, plan_layers
from planner.app.study_area import StudyArea, study_area
from planner.report.maps import map_text
from planner.walk.network import WalkNetwork
from tests.browser import offline_page, require_browser

EVIL = "<script>alert(1)</script>{{ 7*7 }}"


@pytest.fixture(scope="module")
def plan(helsinki_area: StudyArea) -> Plan:
    return build_plan(helsinki_area)


def test_drawn_homes_are_all_or_evenly_thinned(helsinki_area: StudyArea) -> None:
    n = len(helsinki_area.demand)
    assert drawn_homes(helsinki_area).tolist() == list(range(n))
    rows = drawn_homes(helsinki_area, 10)
    assert len(rows) == 10
    assert rows[0] == 0
    assert rows[-1] == n - 1
    assert np.all(np.diff(rows) > 0)
    assert np.all(np.diff(rows) <= n // 9 + 1)  # evenly spread, no long run left out


def test_state_carries_each_drawn_homes_coverage(plan: Plan) -> None:
    state = HomesState(plan, max_homes=50)
    rows = drawn_homes(plan.area, 50)
    out = plan.demand_out.iloc[rows]
    assert state.shown == len(rows) == 50
    assert state.served == "".join("1" if c else "0" for c in out["covered"])
    assert 0 < state.served.count("1") < 50  # the demo has served and unserved homes
    for minutes, walk in zip(state.minutes, out["walk_min"], strict=True):
        assert minutes is None if not np.isfinite(walk) else minutes == round(walk, 1)
    base = HomesBase(plan.area, language="en", max_homes=50)
    assert base.key == state.key  # the state colours the homes the base drew
    assert HomesBase(plan.area, language="en", max_homes=49).key != state.key


def test_an_edit_sends_the_homes_state_not_the_homes(plan: Plan) -> None:
    edited = add_station(plan, 24.9475, 60.1765)
    homes_group = plan_layers(edited).groups[2]
    state = next(c for c in homes_group._children.values() if isinstance(c, HomesState))
    script = state._template.module.script(state)
    n = len(plan.area.demand)
    assert len(script) < 12 * n  # flags and minutes, no coordinates or ids
    assert not any(i in script for i in plan.area.demand["id"].astype(str).head(20) if len(i) > 3)
    assert state.served.count("1") > HomesState(plan, max_homes=8000).served.count("1")


def test_user_ids_reach_the_map_escaped(
    helsinki_network: WalkNetwork, helsinki_area: StudyArea, tmp_path: Path
) -> None:
    homes = helsinki_area.demand
    ids = [f"{EVIL}{i}" for i in range(len(homes))]
    area = study_area(helsinki_network, homes.assign(id=ids), name="evil")
    data = homes_geojson(area)
    assert [f["properties"]["id"] for f in data["features"]] == [map_text(i) for i in ids]
    assert "<script>" not in json.dumps(data)
    assert "{{" not in json.dumps(data)
    path = write_homes_file(area, tmp_path)
    assert path is not None
    assert path.name == f"homes-{area.key}-{len(homes)}.geojson"
    assert json.loads(path.read_text("utf-8")) == data
    stamp = path.stat().st_mtime_ns
    assert write_homes_file(area, tmp_path) == path  # written once
    assert path.stat().st_mtime_ns == stamp


def test_homes_are_drawn_and_coloured_in_a_browser(plan: Plan, tmp_path: Path) -> None:
    require_browser()
    fmap = base_map(plan.area, bands=plan.config.bands, tiles=False)
    for group in plan_layers(plan).groups:
        group.add_to(fmap)
    path = tmp_path / "homes.html"
    path.write_text(fmap.get_root().render(), "utf-8")
    covered = int(plan.demand_out["covered"].sum())
    errors: list[str] = []
    with offline_page() as page:
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-container")
        colours = page.evaluate(
            """() => window.plannerHomes.layer.getLayers().reduce((n, m) => {
                n[m.options.fillColor] = (n[m.options.fillColor] || 0) + 1; return n; }, {})"""
        )
        assert colours == {"#2166ac": covered, "#d7301f": len(plan.area.demand) - covered}
        # A later state recolours in place: every home unserved.
        n = len(plan.area.demand)
        page.evaluate(f"() => window.plannerHomes.show('{'0' * n}', [])")
        after = page.evaluate(
            "() => window.plannerHomes.layer.getLayers().map(m => m.options.fillColor)"
        )
        assert set(after) == {"#d7301f"}
        tip = page.evaluate(
            """() => { const h = window.plannerHomes.layer;
                return h.getTooltip()._content(h.getLayers()[0]); }"""
        )
        first = plan.area.demand.iloc[0]
        assert tip == (
            f"<b>Home</b> {map_text(first['id'])}<br><b>People</b> "
            f"{round(first['population'])}<br><b>Minutes to nearest station</b> -"
        )
    assert errors == []
