"""Tests of report.scenarios: two grid scenarios compared, checked by hand."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from helpers import SPEED_KMH, grid_homes, grid_stations, grid_streets, points

from planner.config import AnalysisConfig
from planner.report.scenarios import compare_scenarios, station_changes
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network

CONFIG = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH, max_snap_m=50.0)


@pytest.fixture(scope="module")
def grid() -> WalkNetwork:
    return build_walk_network(grid_streets())


@pytest.fixture(scope="module")
def before(grid: WalkNetwork) -> CoverageResult:
    """Stations A and B (tests/helpers.py): everyone but H5 (50 people) within 200 m."""
    return analyze_coverage(grid, grid_stations(), grid_homes(), config=CONFIG)


def test_removing_a_station_loses_the_homes_only_it_reached(
    grid: WalkNetwork, before: CoverageResult
) -> None:
    only_a = analyze_coverage(grid, grid_stations().iloc[:1], grid_homes(), config=CONFIG)
    cmp = compare_scenarios(before, only_a)
    # A alone reaches H1 (120 m), H2 (180 m), H7 (150 m): 10 + 20 + 70 people.
    assert only_a.population_covered == pytest.approx(100.0)
    assert cmp.population_gained == pytest.approx(100.0 - 230.0)
    assert cmp.newly_covered == pytest.approx(0.0)
    assert cmp.no_longer_covered == pytest.approx(30 + 40 + 60)  # H3, H4, H6
    assert cmp.same_demand
    assert cmp.parameters_differ == ()
    assert cmp.change_counts() == {
        "added": 0,
        "moved": 0,
        "renamed": 0,
        "removed": 1,
        "unchanged": 1,
    }
    removed = cmp.stations.set_index("station_id").loc["B"]
    assert removed["change"] == "removed"
    assert removed["name"] == "Beta"
    assert removed["population_served_before"] == pytest.approx(200.0)
    assert pd.isna(removed["population_served_after"])
    assert cmp.before["stations"] == 2
    assert cmp.after["stations"] == 1


def test_moved_added_and_removed_stations_are_matched_by_id(
    grid: WalkNetwork, before: CoverageResult
) -> None:
    # A moves 50 m east along its street; B is replaced by C at the same place (new id).
    after_stations = points(
        {"A": (80.0, -10.0), "C": (210.0, 170.0)}, "EPSG:4326", name=["Alpha", "Gamma"]
    )
    after = analyze_coverage(grid, after_stations, grid_homes(), config=CONFIG)
    cmp = compare_scenarios(before, after)
    t = cmp.stations
    assert t["station_id"].tolist() == ["C", "A", "B"]  # added, moved, removed
    assert t["change"].tolist() == ["added", "moved", "removed"]
    assert t["moved_m"].iloc[1] == pytest.approx(50.0, abs=0.01)
    assert t["moved_m"].isna().tolist() == [True, False, True]
    assert cmp.population_gained == pytest.approx(after.population_covered - 230.0)
    assert cmp.newly_covered is not None
    assert cmp.no_longer_covered is not None
    assert cmp.newly_covered - cmp.no_longer_covered == pytest.approx(cmp.population_gained)
    # A station moved by less than the tolerance is unchanged.
    still = compare_scenarios(before, after, moved_tolerance_m=60.0)
    assert still.stations.set_index("station_id").loc["A", "change"] == "unchanged"


def test_different_parameters_and_demand_are_flagged(
    grid: WalkNetwork, before: CoverageResult
) -> None:
    slower = analyze_coverage(
        grid,
        grid_stations(),
        grid_homes().iloc[:5],
        config=dataclasses.replace(CONFIG, speed_kmh=3.0),
    )
    cmp = compare_scenarios(before, slower)
    assert cmp.parameters_differ == ("speed_kmh",)
    assert not cmp.same_demand
    assert cmp.newly_covered is None
    assert cmp.no_longer_covered is None
    assert cmp.change_counts()["unchanged"] == 2


def test_one_station_comparison_for_the_report_and_the_app() -> None:
    import shapely

    before = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "name": ["A", "B", "C", "D"], "category": ["x"] * 4},
        geometry=[shapely.Point(24.94 + 0.001 * i, 60.17) for i in range(4)],
        crs=4326,
    )
    after = before.iloc[1:].copy()
    after.loc[1, "geometry"] = shapely.Point(24.95, 60.17)  # b moves about 500 m
    after.loc[2, "name"] = "C, renamed"
    after = pd.concat(
        [
            after,
            gpd.GeoDataFrame(
                {"id": ["e"], "name": ["E"]}, geometry=[shapely.Point(24.9, 60.1)], crs=4326
            ),
        ],
        ignore_index=True,
    )
    table = station_changes(before, after, [1, 2, 3, 4], [20, 30, 40, 50], moved_tolerance_m=1.0)
    assert table["station_id"].tolist() == ["e", "b", "c", "a", "d"]
    assert table["change"].tolist() == ["added", "moved", "renamed", "removed", "unchanged"]
    assert table.loc[1, "moved_m"] == pytest.approx(
        0.009 * 111_320 * np.cos(np.radians(60.17)), rel=0.01
    )
    assert table["population_served_after"].tolist()[:3] == [50, 20, 30]
    assert table.loc[3, "population_served_before"] == 1
