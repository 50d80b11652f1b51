"""What the pages show and offer to download, computed from a plan."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
import pytest

from planner.app.edits import add_station
from planner.app.plan import build_plan
from planner.app.study_area import StudyArea, study_area
from planner.app.views import (
    csv_bytes,
    gap_table,
    geopackage_bytes,
    headline,
    station_figures,
    summary_bytes,
    walk_time_distribution,
)
from planner.config import AnalysisConfig
from planner.report.output_folder import LAYERS
from tests.helpers import SPEED_KMH


def test_headline_and_station_figures(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area, config=AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH))
    h = headline(plan)
    assert h.population_total == 280.0
    assert h.population_covered == 230.0
    assert h.population_uncovered == 50.0
    assert h.share_covered == pytest.approx(230 / 280)
    assert (h.stations, h.stations_off_network, h.gap_zones) == (2, 0, 1)
    assert h.population_in_gap_zones == 50.0
    table = station_figures(plan)
    assert list(table["id"]) == ["A", "B"]
    assert list(table["population_served"]) == [100.0, 200.0]
    assert list(table["population_only_here"]) == [30.0, 130.0]
    assert table["lon"].between(26, 28).all()
    assert list(gap_table(plan)["population"]) == [50.0]


def test_walk_time_distribution_adds_up_to_everyone(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area, config=AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH))
    walk = walk_time_distribution(plan, step_min=1.0)
    # Minutes to nearest: H1 1.2, H2 1.8, H3 0.8, H4 0.4, H5 2.2, H6 1.2, H7 1.5.
    assert walk.cap_min == 4.0
    assert list(walk.table.index) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert list(walk.table["within"]) == [70.0, 160.0, 0.0, 0.0, 0.0]
    assert list(walk.table["beyond"]) == [0.0, 0.0, 50.0, 0.0, 0.0]
    assert walk.unreachable == 0.0
    assert walk.off_network == 0.0
    assert walk.table.to_numpy().sum() == plan.area.population_total


def test_downloads_hold_the_current_plan(grid_area: StudyArea, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan = add_station(build_plan(grid_area), 27.0, 60.2, name="图书馆 <b>")
    result = plan.result
    path = tmp_path / "c.gpkg"
    path.write_bytes(geopackage_bytes(result))
    for layer in LAYERS:
        back = gpd.read_file(path, layer=layer)
        assert len(back) == len(getattr(result, layer))
    stations = pd.read_csv(io.BytesIO(csv_bytes(result.stations)), encoding="utf-8-sig")
    assert list(stations["name"])[-1] == "图书馆 <b>"
    assert {"lon", "lat", "population_served"} <= set(stations.columns)
    homes = pd.read_csv(io.BytesIO(csv_bytes(result.demand)), encoding="utf-8-sig")
    assert len(homes) == len(grid_area.demand)
    summary = json.loads(summary_bytes(result, inputs={"network": "grid"}))
    assert summary["attribution"].startswith("Street and building data (c) OpenStreetMap")
    own = json.loads(summary_bytes(result, inputs={"network": "grid"}, osm_data=()))
    assert own["osm_data"] == []
    assert "attribution" not in own
    assert summary["stations"] == 3
    assert summary["inputs"] == {"network": "grid"}
    assert summary["share_covered"] == pytest.approx(plan.share_covered)


def test_csv_download_is_spreadsheet_safe(grid_area: StudyArea) -> None:
    plan = add_station(build_plan(grid_area), 27.0, 60.2, name="=HYPERLINK(1)")
    plan = add_station(plan, 27.001, 60.2, name="-2")
    safe = pd.read_csv(io.BytesIO(csv_bytes(plan.result.stations)), encoding="utf-8-sig", dtype=str)
    assert list(safe["name"])[-2:] == ["'=HYPERLINK(1)", "-2"]  # a number stays as it is
    raw = pd.read_csv(
        io.BytesIO(csv_bytes(plan.result.stations, raw_text=True)), encoding="utf-8-sig", dtype=str
    )
    assert list(raw["name"])[-2:] == ["=HYPERLINK(1)", "-2"]


@pytest.mark.parametrize("stations", [0, 3])
def test_walk_time_distribution_equals_the_demand_layer(
    helsinki_area: StudyArea, stations: int
) -> None:
    # From the plan's per-home arrays, as the demand layer (the files' figures) gives it;
    # with no station every home is unreachable; two homes far out are off the network.
    far = gpd.GeoDataFrame(
        {"id": ["far1", "far2"], "population": [7.0, 11.0]},
        geometry=gpd.points_from_xy([25.2, 25.3], [60.3, 60.1]),
        crs="EPSG:4326",
    )
    homes = pd.concat([helsinki_area.demand[["id", "population", "geometry"]], far])
    area = study_area(
        helsinki_area.network,
        gpd.GeoDataFrame(homes, crs="EPSG:4326").reset_index(drop=True),
        name="Helsinki and two far homes",
        stations=helsinki_area.stations.iloc[:stations],
    )
    plan = build_plan(area, config=AnalysisConfig(walk_minutes=5.0))
    walk = walk_time_distribution(plan)
    demand = plan.demand_out
    pop = demand["population"].to_numpy(dtype=float)
    status = demand["status"].to_numpy()
    assert walk.off_network == 18.0
    assert walk.off_network == pop[status == "off_network"].sum()
    assert walk.unreachable == pytest.approx(pop[status == "unreachable"].sum(), rel=1e-12)
    assert (walk.unreachable > 0) == (stations == 0)
    minutes = demand["walk_min"].to_numpy(dtype=float)
    covered = demand["covered"].to_numpy(dtype=bool)
    for low in walk.table.index:  # each bin, home by home
        last = low == walk.cap_min
        inside = (minutes >= low) & ((minutes < low + walk.step_min) | last)
        assert walk.table.loc[low, "within"] == round(pop[inside & covered].sum(), 1)
        assert walk.table.loc[low, "beyond"] == round(pop[inside & ~covered].sum(), 1)
