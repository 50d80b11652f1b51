"""A planner's working state: undo, scenarios, map clicks, scenario files, comparison."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from planner.app.edits import add_station, move_station, remove_station
from planner.app.plan import build_plan
from planner.app.study_area import StudyArea
from planner.app.workspace import (
    BASELINE,
    MAX_UNDO,
    accept_sites,
    compare_plans,
    drop_scenario,
    edit,
    handle_click,
    keep_scenario,
    open_scenario,
    plan_from_saved,
    propose_sites,
    read_scenario,
    scenario_json,
    set_config,
    start_workspace,
    undo,
)
from planner.config import AnalysisConfig
from planner.errors import InputDataError
from tests.helpers import SPEED_KMH, points

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def ws(grid_area: StudyArea):  # type: ignore[no-untyped-def]
    return start_workspace(build_plan(grid_area, config=AnalysisConfig(speed_kmh=SPEED_KMH)))


def test_undo_goes_back_one_edit_at_a_time(ws) -> None:  # type: ignore[no-untyped-def]
    assert not ws.can_undo
    one = edit(ws, add_station(ws.plan, 27.0, 60.2))
    two = edit(one, remove_station(one.plan, "A"))
    assert two.revision == 2
    assert undo(two).plan is one.plan
    assert undo(undo(two)).plan is ws.plan
    assert undo(ws) is ws
    assert edit(ws, ws.plan) is ws


def test_undo_history_is_bounded(ws) -> None:  # type: ignore[no-untyped-def]
    for i in range(MAX_UNDO + 5):
        ws = edit(ws, move_station(ws.plan, "A", 27.0 + i * 1e-5, 60.2))
    assert len(ws.history) == MAX_UNDO


def test_undo_after_a_settings_change_keeps_the_new_settings(ws) -> None:  # type: ignore[no-untyped-def]
    added = edit(ws, add_station(ws.plan, 27.0, 60.2))
    slower = set_config(added, AnalysisConfig(walk_minutes=1.0, speed_kmh=SPEED_KMH))
    back = undo(slower)
    assert back.plan.config.walk_minutes == 1.0
    assert len(back.plan.stations) == 2


def test_scenarios_are_kept_compared_and_reopened(ws) -> None:  # type: ignore[no-untyped-def]
    assert ws.scenario_names == [BASELINE]
    corner = points({"C": (0.0, 200.0)}, "EPSG:4326").geometry.iloc[0]
    proposal = edit(ws, add_station(ws.plan, corner.x, corner.y, station_id="C"))
    proposal = edit(proposal, move_station(proposal.plan, "B", corner.x + 0.001, corner.y))
    proposal = keep_scenario(proposal, " proposal ")
    assert proposal.scenario_names == [BASELINE, "proposal"]
    cmp = compare_plans(proposal.scenario(BASELINE), proposal.scenario("proposal"))
    assert cmp.counts() == {"added": 1, "moved": 1, "removed": 0, "renamed": 0}
    assert cmp.population_gained == pytest.approx(
        proposal.plan.population_covered - ws.plan.population_covered
    )
    assert cmp.figures.loc["stations", "change"] == 1
    assert set(cmp.stations["change"]) == {"added", "moved"}
    assert cmp.stations.loc[cmp.stations["id"] == "B", "moved_m"].iloc[0] > 50
    back = open_scenario(proposal, BASELINE)
    assert back.plan is ws.plan
    assert drop_scenario(back, "proposal").scenario_names == [BASELINE]
    with pytest.raises(InputDataError, match="name"):
        keep_scenario(ws, "  ")
    with pytest.raises(InputDataError, match="No scenario named 'x'"):
        ws.scenario("x")


def test_compare_flags_different_settings(ws) -> None:  # type: ignore[no-untyped-def]
    other = set_config(ws, AnalysisConfig(walk_minutes=1.0, speed_kmh=SPEED_KMH))
    cmp = compare_plans(ws.plan, other.plan)
    assert cmp.settings_differ == ("walk_minutes",)
    assert cmp.population_gained < 0
    assert len(cmp.stations) == 0


def test_map_clicks_add_move_or_do_nothing(ws) -> None:  # type: ignore[no-untyped-def]
    click = {"lat": 60.2, "lng": 27.0005}
    added, sid = handle_click(ws, click, mode="add")
    assert sid == "new-1"
    assert added.plan.stations.geometry.iloc[-1].x == pytest.approx(27.0005)
    moved, sid = handle_click(ws, click, mode="move", selected="A")
    assert sid == "A"
    assert moved.plan.stations.geometry.iloc[0].x == pytest.approx(27.0005)
    for mode, selected, value in (
        ("inspect", None, click),
        ("add", None, None),
        ("move", None, None),
        ("add", None, {"lat": "x"}),
    ):
        same, sid = handle_click(ws, value, mode=mode, selected=selected)  # type: ignore[arg-type]
        assert same is ws
        assert sid is None
    # A move with no station selected (or one deleted since) is refused with a reason.
    for selected in (None, "nope"):
        with pytest.raises(InputDataError, match="choose the station to move") as err:
            handle_click(ws, click, mode="move", selected=selected)
        assert err.value.key == "err_move_needs_station"
    wrapped, _ = handle_click(ws, {"lat": 60.2, "lng": 27.0005 + 360}, mode="add")
    assert wrapped.plan.stations.geometry.iloc[-1].x == pytest.approx(27.0005)


def test_scenario_file_round_trip(ws, grid_area: StudyArea) -> None:  # type: ignore[no-untyped-def]
    plan = add_station(ws.plan, 27.0, 60.2, name=EVIL, category="图书馆")
    text = scenario_json(plan, "方案 A")
    doc = json.loads(text)
    assert doc["study_area"] == "grid"
    saved = read_scenario(text.encode("utf-8"), source="a.scenario.json")
    assert saved.name == "方案 A"
    assert saved.config == plan.config
    assert list(saved.stations["name"]) == [*plan.stations["name"]]
    again = plan_from_saved(grid_area, saved)
    assert list(again.stations["id"]) == list(plan.stations["id"])
    assert again.share_covered == pytest.approx(plan.share_covered)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00", "not UTF-8 JSON"),
        (b'{"kind": "other"}', "not a scenario file"),
        (
            json.dumps(
                {
                    "kind": "service-circle-planner/scenario",
                    "format": 1,
                    "settings": {"walk_minutes": 15, "speed_kmh": 4.5},
                    "stations": {"features": [{"geometry": {"coordinates": [200, 1]}}]},
                }
            ).encode(),
            "station 1 lies outside",
        ),
        (
            json.dumps(
                {"kind": "service-circle-planner/scenario", "format": 1, "settings": {}}
            ).encode(),
            "settings are missing",
        ),
    ],
)
def test_bad_scenario_files_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        read_scenario(content, source="bad.json")


def test_proposed_sites_are_accepted_as_one_edit(ws) -> None:  # type: ignore[no-untyped-def]
    sites = gpd.GeoDataFrame(
        {"id": ["p1", "p2"], "name": ["one", "two"], "population_gain": [10.0, 5.0]},
        geometry=[shapely.Point(27.0, 60.2), shapely.Point(27.001, 60.2)],
        crs="EPSG:4326",
    )
    proposed = propose_sites(ws, sites)
    accepted = accept_sites(proposed, ["p2"])
    assert list(accepted.plan.stations["id"]) == ["A", "B", "p2"]
    assert list(accepted.proposed_sites["id"]) == ["p1"]
    assert undo(accepted).plan is ws.plan
    assert accept_sites(ws, ["p1"]) is ws
    assert propose_sites(proposed, None).proposed_sites is None
    with pytest.raises(InputDataError, match="CRS"):
        propose_sites(ws, sites.set_crs(None, allow_override=True))
