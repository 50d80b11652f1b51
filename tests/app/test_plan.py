"""The plan's state: built in full, its figures, its one-pass coverage area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import planner.app.plan as plan_module
from planner.app.edits import add_station
from planner.app.plan import build_plan
from planner.app.station_rows import StationMemo
from planner.app.study_area import StudyArea
from planner.config import AnalysisConfig
from tests.helpers import assert_same_as_full, grid_stations


def test_many_stations_use_the_one_pass_area(
    helsinki_area: StudyArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_module, "UNION_MAX_STATIONS", 2)
    config = AnalysisConfig(walk_minutes=5.0, max_isochrone_stations=2)
    plan = build_plan(helsinki_area, config=config)
    plan = add_station(plan, 24.944, 60.172)
    assert not plan.polygons_per_station
    assert len(plan.result.isochrones) == 0
    assert_same_as_full(plan)


def test_a_plan_with_no_station(grid_area: StudyArea) -> None:
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs="EPSG:4326")
    plan = build_plan(grid_area, empty)
    assert plan.share_covered == 0.0
    assert (plan.demand_out["status"] == "unreachable").all()
    assert len(plan.gaps) >= 1
    one = add_station(plan, *grid_stations().geometry.iloc[0].coords[0])
    assert one.share_covered > 0


def test_a_memo_shares_station_searches_between_plans(helsinki_area: StudyArea) -> None:
    memo: StationMemo = {}
    first = build_plan(helsinki_area, memo=memo)
    assert len(memo) == len(helsinki_area.stations) == 3
    extra = gpd.GeoDataFrame(
        {"id": ["N"], "name": ["North"], "category": [""]},
        geometry=[shapely.Point(24.9475, 60.1765)],
        crs="EPSG:4326",
    )
    more = pd.concat([helsinki_area.stations, extra], ignore_index=True)
    second = build_plan(helsinki_area, more, memo=memo)
    assert len(memo) == 4  # one new search
    assert second.reach[0] is first.reach[0]
    reference = build_plan(helsinki_area, more)  # no memo: every station searched again
    assert np.array_equal(second.home_dist_m, reference.home_dist_m)
    assert np.array_equal(second.within_count, reference.within_count)
    assert second.population_covered == reference.population_covered
    other = build_plan(helsinki_area, more, memo=memo, config=AnalysisConfig(walk_minutes=5))
    assert len(memo) == 8  # other settings: other searches
    assert other.population_covered < second.population_covered
