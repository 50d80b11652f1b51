"""The edits of a plan: incremental edits give the same figures as a full analysis."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import shapely

import planner.app.station_rows as rows_module
from planner.app.edits import (
    add_station,
    add_stations,
    apply_station_table,
    move_station,
    remove_station,
    station_table,
    update_station,
)
from planner.app.plan import Plan, build_plan, with_config
from planner.app.study_area import StudyArea
from planner.config import AnalysisConfig
from planner.errors import InputDataError
from tests.helpers import SPEED_KMH, assert_same_as_full, points


def random_edits(
    plan: Plan, rng: np.random.Generator, steps: int, check: Callable[[Plan], None]
) -> Plan:
    """Apply random adds, moves, deletions and renames, checking after each."""
    minx, miny, maxx, maxy = plan.area.bounds_wgs84
    pad = 0.3 * (maxx - minx)  # some stations land off the network

    def where() -> tuple[float, float]:
        return float(rng.uniform(minx - pad, maxx + pad)), float(rng.uniform(miny, maxy))

    for _ in range(steps):
        ids = plan.stations["id"].tolist()
        op = rng.choice(["add", "move", "remove", "rename"] if ids else ["add"])
        if op == "add":
            plan = add_station(plan, *where(), name=f"n{rng.integers(100)}")
        elif op == "move":
            plan = move_station(plan, str(rng.choice(ids)), *where())
        elif op == "remove":
            plan = remove_station(plan, str(rng.choice(ids)))
        else:
            plan = update_station(plan, str(rng.choice(ids)), name="renamed", category="c")
        check(plan)
    return plan


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_edits_on_the_grid_equal_full_analysis(grid_area: StudyArea, seed: int) -> None:
    config = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH, band_minutes=(1.0,))
    plan = build_plan(grid_area, config=config)
    assert_same_as_full(plan)
    random_edits(plan, np.random.default_rng(seed), 10, assert_same_as_full)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_edits_on_helsinki_equal_full_analysis(helsinki_area: StudyArea, seed: int) -> None:
    plan = build_plan(helsinki_area, config=AnalysisConfig(walk_minutes=8.0))
    assert_same_as_full(plan)
    checked = [0]

    def check(p: Plan) -> None:
        checked[0] += 1  # polygons are slow: compare them at every third step
        assert_same_as_full(p, polygons=checked[0] % 3 == 0)

    end = random_edits(plan, np.random.default_rng(seed), 7, check)
    assert_same_as_full(end)


def test_an_edit_runs_only_the_edited_station_search(
    helsinki_area: StudyArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_plan(helsinki_area)
    calls: list[int] = []
    real = rows_module.station_search

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rows_module, "station_search", counting)
    first = str(plan.stations["id"].iloc[0])
    added = add_station(plan, 24.944, 60.172)
    assert len(calls) == 1
    moved = move_station(added, first, 24.946, 60.174)
    assert len(calls) == 2
    removed = remove_station(moved, first)
    renamed = update_station(removed, str(removed.stations["id"].iloc[0]), name="x")
    assert len(calls) == 2
    # Untouched stations share their reach rows and isochrone memos with the old plan.
    assert added.reach[:3] == plan.reach
    assert moved.reach[1:3] == plan.reach[1:3]
    assert removed.bands == moved.bands[1:]
    assert renamed.reach == removed.reach


def test_edits_never_change_the_old_plan_or_the_area(helsinki_area: StudyArea) -> None:
    plan = build_plan(helsinki_area)
    before = (
        plan.stations.copy(),
        plan.within_count.copy(),
        plan.home_dist_m.copy(),
        plan.result.summary(),
    )
    node_xy = helsinki_area.network.node_xy.copy()
    demand = helsinki_area.demand.copy()
    first = str(plan.stations["id"].iloc[0])
    new = remove_station(
        move_station(add_station(plan, 24.944, 60.172), first, 24.95, 60.17), first
    )
    assert len(new.stations) == len(plan.stations)
    pd.testing.assert_frame_equal(plan.stations, before[0])
    np.testing.assert_array_equal(plan.within_count, before[1])
    np.testing.assert_array_equal(plan.home_dist_m, before[2])
    assert plan.result.summary()["share_covered"] == before[3]["share_covered"]
    np.testing.assert_array_equal(helsinki_area.network.node_xy, node_xy)
    pd.testing.assert_frame_equal(helsinki_area.demand, demand)
    for arr in (plan.within_count, plan.home_dist_m, plan.snapped.edge, plan.reach[0].homes):
        assert not arr.flags.writeable


def test_add_move_remove_on_the_grid_by_hand(grid_area: StudyArea) -> None:
    # 6 km/h, 2 minutes = 200 m. A reaches H1 (120 m), H2 (180), H7 (150); B reaches H1
    # (220 no), H3 (80), H4 (40), H5 (220 no), H6 (120), H7 (190).
    config = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH)
    plan = build_plan(grid_area, config=config)
    figures = dict(zip(plan.stations["id"], plan.population_served, strict=True))
    assert figures == {"A": 10 + 20 + 70, "B": 30 + 40 + 60 + 70}
    only = dict(zip(plan.stations["id"], plan.population_only_here, strict=True))
    assert only == {"A": 30.0, "B": 130.0}
    assert plan.population_covered == 10 + 20 + 30 + 40 + 60 + 70  # H5 (50) is not covered
    # A station at node 6 (top-left corner) reaches H5 (10 m) and H2 (50 m).
    corner = points({"C": (0.0, 200.0)}, "EPSG:4326").geometry.iloc[0]
    plan2 = add_station(plan, corner.x, corner.y, station_id="C", name="Corner")
    assert plan2.share_covered == pytest.approx(1.0)
    assert plan2.population_only_here[2] == pytest.approx(50.0)
    assert plan2.population_only_here[0] == pytest.approx(10.0)  # H2 now shared with C
    plan3 = remove_station(plan2, "A")
    assert list(plan3.stations["id"]) == ["B", "C"]
    assert plan3.population_covered == pytest.approx(20 + 30 + 40 + 50 + 60 + 70)
    assert plan.population_covered == 10 + 20 + 30 + 40 + 60 + 70  # untouched


def test_off_network_station_is_kept_and_serves_nobody(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area, config=AnalysisConfig(speed_kmh=SPEED_KMH))
    far = add_station(plan, 27.5, 60.5, station_id="far")
    k = far.position("far")
    assert not far.snapped.on_network[k]
    assert far.homes_served[k] == 0
    assert far.share_covered == plan.share_covered
    assert_same_as_full(far)


def test_new_ids_are_free_and_bad_input_is_refused(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area)
    p1 = add_station(plan, 27.0, 60.2)
    p2 = add_station(p1, 27.0, 60.2)
    assert list(p2.stations["id"])[-2:] == ["new-1", "new-2"]
    with pytest.raises(InputDataError, match="already in the plan"):
        add_station(plan, 27.0, 60.2, station_id="A")
    with pytest.raises(InputDataError, match=r"outside -90\.\.90"):
        add_station(plan, 27.0, 95.0)
    with pytest.raises(InputDataError, match="No station with id 'Z'"):
        move_station(plan, "Z", 27.0, 60.2)


def test_station_table_round_trip_applies_each_kind_of_change(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area, config=AnalysisConfig(speed_kmh=SPEED_KMH))
    table = station_table(plan)
    assert list(table.columns) == ["id", "name", "category", "lon", "lat"]
    assert apply_station_table(plan, table) is plan
    edited = table.copy()
    edited.loc[0, "name"] = "<script>alert(1)</script>"
    edited.loc[1, "lon"] += 0.0005
    edited = edited.drop(index=0).reset_index(drop=True)  # ... and delete A after all
    edited.loc[len(edited)] = ["", "new one", "library", 27.001, 60.2]
    new = apply_station_table(plan, edited)
    assert list(new.stations["id"]) == ["B", "new-1"]
    assert new.stations.loc[0, "geometry"].x == pytest.approx(table.loc[1, "lon"] + 0.0005)
    assert new.stations.loc[1, "name"] == "new one"
    renamed = table.copy()
    renamed.loc[0, "name"] = "<script>alert(1)</script>"
    assert apply_station_table(plan, renamed).stations.loc[0, "name"] == renamed.loc[0, "name"]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [("lat", np.nan, "row 2: Latitude is missing"), ("id", "A", "id 'A' appears twice")],
)
def test_a_bad_table_row_changes_nothing(
    grid_area: StudyArea, column: str, value: object, message: str
) -> None:
    plan = build_plan(grid_area)
    table = station_table(plan)
    table.loc[0, "name"] = "changed"
    table.loc[1, column] = value
    with pytest.raises(InputDataError, match=message):
        apply_station_table(plan, table)
    assert plan.stations.loc[0, "name"] == "Alpha"


def test_add_stations_and_settings(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area, config=AnalysisConfig(speed_kmh=SPEED_KMH))
    sites = points({"s1": (0.0, 200.0), "s2": (200.0, 0.0)}, "EPSG:4326", name=["one", "two"])
    more = add_stations(plan, sites)
    assert list(more.stations["id"]) == ["A", "B", "s1", "s2"]
    assert_same_as_full(more)
    slower = with_config(more, AnalysisConfig(walk_minutes=1.0, speed_kmh=SPEED_KMH))
    assert slower.share_covered < more.share_covered
    assert_same_as_full(slower)
    assert with_config(slower, slower.config) is slower


def _assert_gaps_as_new_plan(plan: Plan) -> None:
    """The edited plan's gap zones, outlines included, are those of a plan built anew."""
    fresh = build_plan(plan.area, plan.stations, config=plan.config)
    got, ref = plan.gaps, fresh.gaps
    assert len(ref) > 3  # the check means something: several zones
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")),
        pd.DataFrame(ref.drop(columns="geometry")),
        check_exact=False,
        rtol=1e-12,
    )
    crs = plan.area.network.crs
    a, b = got.to_crs(crs).geometry.to_numpy(), ref.to_crs(crs).geometry.to_numpy()
    # the same outlines, up to the order of their vertices (unions of other subsets)
    assert (shapely.area(shapely.symmetric_difference(a, b)) < 1e-3).all()
    np.testing.assert_array_equal(plan.walk_min, fresh.walk_min)


def test_edited_gap_outlines_equal_a_new_plan_along_two_branches(
    helsinki_area: StudyArea,
) -> None:
    # A short limit so that the Helsinki extract has gap zones. Two edits of the same plan
    # give their new zones the same labels: outlines kept along one line of edits must not
    # reach the other.
    base = build_plan(helsinki_area, config=AnalysisConfig(walk_minutes=3.0))
    _ = base.gaps
    first = str(base.stations["id"].iloc[0])
    left = add_station(base, 24.944, 60.172)
    right = move_station(base, first, 24.940, 60.176)
    for plan in (left, right):
        _assert_gaps_as_new_plan(plan)
    left2 = remove_station(move_station(left, first, 24.950, 60.168), "new-1")
    right2 = update_station(add_station(right, 24.946, 60.165), first, name="renamed")
    for plan in (left2, right2, add_station(left2, 24.940, 60.176)):
        _assert_gaps_as_new_plan(plan)
