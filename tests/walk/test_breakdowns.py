"""Tests of walk.breakdowns: coverage per district and per limit and speed, on a 3x3 grid."""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
import shapely
from helpers import SPEED_KMH, UTM, grid_homes, grid_stations, grid_streets, xy

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.walk.breakdowns import coverage_by_district, coverage_curve
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network

#: 2 minutes at 6 km/h: a 200 m limit (as in test_coverage.py).
GRID_CONFIG = AnalysisConfig(
    walk_minutes=2.0,
    speed_kmh=SPEED_KMH,
    band_minutes=(1.0,),
    max_snap_m=50.0,
    isochrone_buffer_m=10.0,
)


def utm_point(dx: float, dy: float) -> shapely.Point:
    return shapely.Point(xy(dx, dy))


@pytest.fixture(scope="module")
def grid() -> WalkNetwork:
    return build_walk_network(grid_streets())


@pytest.fixture(scope="module")
def grid_result(grid: WalkNetwork) -> CoverageResult:
    return analyze_coverage(grid, grid_stations(), grid_homes(), config=GRID_CONFIG)


def grid_districts(result: CoverageResult, *, east_first: bool = False) -> gpd.GeoDataFrame:
    """West and East of x = 100 m, and an empty district far away, in WGS84.

    The shared border runs exactly through home H1 (x = 100 m) as stored in the result.
    """
    h1 = result.demand.geometry[result.demand["id"] == "H1"].iloc[0]
    corners = gpd.GeoSeries([utm_point(-50, -50), utm_point(250, 250)], crs=UTM).to_crs(4326)
    (x0, y0), (x1, y1) = corners.iloc[0].coords[0], corners.iloc[1].coords[0]
    rows = {
        "West": shapely.box(x0, y0, h1.x, y1),
        "East": shapely.box(h1.x, y0, x1, y1),
        "Empty": shapely.box(x1 + 0.05, y0, x1 + 0.06, y1),
    }
    names = ["East", "West", "Empty"] if east_first else list(rows)
    return gpd.GeoDataFrame(
        {"name": names}, geometry=[rows[n] for n in names], crs=4326, index=[10, 20, 30]
    )


def test_coverage_by_district_matches_hand_computation(grid_result: CoverageResult) -> None:
    table = coverage_by_district(grid_result, grid_districts(grid_result))
    assert table.index.tolist() == [10, 20, 30]
    assert table.crs == "EPSG:4326"
    t = table.set_index("district")
    # West: H1 (on the border, first district), H2, H5 (not covered), H7.
    assert t.loc["West", "homes"] == 4
    assert t.loc["West", "homes_covered"] == 3
    assert t.loc["West", "population"] == pytest.approx(10 + 20 + 50 + 70)
    assert t.loc["West", "population_covered"] == pytest.approx(100.0)
    assert t.loc["West", "population_uncovered"] == pytest.approx(50.0)
    assert t.loc["West", "share_covered"] == pytest.approx(100 / 150)
    # East: H3, H4, H6, all covered.
    assert t.loc["East", "homes"] == 3
    assert t.loc["East", "population"] == pytest.approx(30 + 40 + 60)
    assert t.loc["East", "share_covered"] == pytest.approx(1.0)
    assert t.loc["Empty", "homes"] == 0
    assert t.loc["Empty", "population"] == 0.0
    assert math.isnan(t.loc["Empty", "share_covered"])
    assert table["population"].sum() == pytest.approx(grid_result.population_total)


def test_a_home_on_a_shared_border_counts_once_in_the_first_district(
    grid_result: CoverageResult,
) -> None:
    t = coverage_by_district(grid_result, grid_districts(grid_result, east_first=True)).set_index(
        "district"
    )
    assert t.loc["East", "homes"] == 4  # H1 now falls to East, listed first
    assert t.loc["West", "homes"] == 3
    assert t["homes"].sum() == 7


def test_coverage_by_district_rejects_bad_tables(grid_result: CoverageResult) -> None:
    districts = grid_districts(grid_result)
    with pytest.raises(InputDataError, match="no column 'district_name'"):
        coverage_by_district(grid_result, districts, name_column="district_name")
    with pytest.raises(InputDataError, match="no CRS"):
        coverage_by_district(grid_result, districts.set_crs(None, allow_override=True))
    points = districts.set_geometry(districts.representative_point())
    with pytest.raises(InputDataError, match="row 10 has a Point geometry"):
        coverage_by_district(grid_result, points)


def test_coverage_curve_matches_new_analyses(
    grid: WalkNetwork, grid_result: CoverageResult
) -> None:
    curve = coverage_curve(grid_result, minutes=[1, 2, 3], speeds_kmh=[3.0, SPEED_KMH])
    assert list(curve.columns) == [
        "speed_kmh",
        "minutes",
        "walk_limit_m",
        "population_covered",
        "share_covered",
    ]
    assert curve["speed_kmh"].tolist() == [3.0] * 3 + [SPEED_KMH] * 3
    # 6 km/h: 100 m per minute; 1 min: H3, H4; 2 min: all but H5; 3 min: all.
    assert curve["population_covered"].tolist()[3:] == pytest.approx([70.0, 230.0, 280.0])
    # 3 km/h: 50 m per minute; 1 min: H4 (40 m); 2 min: H3, H4; 3 min (150 m): H1, H6, H7 too.
    assert curve["population_covered"].tolist()[:3] == pytest.approx([40.0, 70.0, 210.0])
    for row in curve.itertuples():
        fresh = analyze_coverage(
            grid,
            grid_stations(),
            grid_homes(),
            config=AnalysisConfig(
                walk_minutes=row.minutes, speed_kmh=row.speed_kmh, max_snap_m=50.0
            ),
        )
        assert row.population_covered == pytest.approx(fresh.population_covered)
        assert row.share_covered == pytest.approx(fresh.share_covered)
    with pytest.raises(InputDataError, match="minutes must be positive"):
        coverage_curve(grid_result, minutes=[0, 5])
    default_speed = coverage_curve(grid_result, minutes=[2])
    assert default_speed["speed_kmh"].tolist() == [SPEED_KMH]
