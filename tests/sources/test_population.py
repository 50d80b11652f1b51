"""Tests of sources.population: population rules, and area head counts onto homes or nodes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.errors import InputDataError, InputWarning
from planner.sources.demand import demand_from_file
from planner.sources.osm import demo_extract_path, homes_from_osm
from planner.sources.population import PopulationRule, distribute_population, homes_from_buildings
from planner.sources.streets import graph_nodes


def buildings() -> gpd.GeoDataFrame:
    """Four 20 m x 10 m buildings (200 m²) in UTM 35N, tagged as OSM would tag them."""
    boxes = [
        shapely.box(500_000 + 50 * i, 6_670_000, 500_020 + 50 * i, 6_670_010) for i in range(4)
    ]
    return gpd.GeoDataFrame(
        {
            "osm_type": "way",
            "id": [1, 2, 3, 4],
            "building": ["apartments", "yes", "yes", "church"],
            "building:levels": ["4", None, "2", "1"],
            "building:flats": ["12", None, "x", None],
            "amenity": [None, None, "school", "place_of_worship"],
        },
        geometry=boxes,
        crs="EPSG:32635",
    )


def test_footprint_rule() -> None:
    homes = homes_from_buildings(buildings())
    # The church and the school are no homes; the untagged building=yes is.
    assert homes["id"].tolist() == ["way/1", "way/2"]
    assert homes["levels"].tolist() == [4.0, 3.0]
    assert homes["floor_m2"].to_numpy() == pytest.approx([800.0, 600.0], rel=1e-3)
    assert homes["population"].to_numpy() == pytest.approx([20.0, 15.0], rel=1e-3)
    assert homes.crs == "EPSG:4326"
    assert "flats" not in homes.columns


def test_dwelling_rule_uses_flats_where_tagged() -> None:
    rule = PopulationRule(people_per_dwelling=2.5, floor_m2_per_person=30.0)
    homes = homes_from_buildings(buildings(), rule=rule)
    # 12 flats x 2.5; the other home has no flats tag: 600 m² / 30 m² per person.
    assert homes["population"].to_numpy() == pytest.approx([30.0, 20.0], rel=1e-3)
    assert homes["flats"].tolist()[0] == 12.0
    assert np.isnan(homes["flats"].tolist()[1])


@pytest.mark.parametrize(
    "kwargs",
    [{"floor_m2_per_person": 0.0}, {"default_levels": -1.0}, {"people_per_dwelling": np.nan}],
)
def test_rules_must_be_positive(kwargs: dict[str, float]) -> None:
    with pytest.raises(InputDataError, match="must be a positive number"):
        PopulationRule(**kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def homes() -> gpd.GeoDataFrame:
    return homes_from_osm(demo_extract_path())


def grid_over(homes: gpd.GeoDataFrame, step_m: float = 250.0) -> gpd.GeoDataFrame:
    """A population grid over the homes' extent (UTM cells), 100 people per cell."""
    utm = homes.to_crs(homes.estimate_utm_crs())
    x0, y0, x1, y1 = utm.total_bounds
    cells = [
        shapely.box(x, y, x + step_m, y + step_m)
        for x in np.arange(x0 - 1, x1 + step_m, step_m)
        for y in np.arange(y0 - 1, y1 + step_m, step_m)
    ]
    grid = gpd.GeoDataFrame(
        {"id": [f"cell{i}" for i in range(len(cells))], "population": 100.0},
        geometry=cells,
        crs=utm.crs,
    )
    return grid.to_crs(4326)


def test_grid_onto_homes_by_floor_area_keeps_every_person(homes: gpd.GeoDataFrame) -> None:
    grid = grid_over(homes)
    with pytest.warns(InputWarning, match=r"area\(s\) hold no home"):
        out = distribute_population(grid, homes, weight_column="floor_m2")
    assert out["population"].sum() == pytest.approx(grid["population"].sum())
    assert out["id"].is_unique
    placed = out[out["target_id"] != ""]
    # Every home gets a share (each lies in one cell); within a cell shares follow floor area.
    assert sorted(placed["target_id"]) == sorted(homes["id"])
    floor = homes.set_index("id")["floor_m2"]
    for _, cell in placed.groupby("area_id"):
        w = floor.loc[cell["target_id"]].to_numpy()
        if w.sum() > 0:
            assert cell["population"].to_numpy() == pytest.approx(100.0 * w / w.sum())
    # Cells without homes keep their 100 people at a point inside the cell.
    empty = out[out["target_id"] == ""]
    assert len(empty) > 0
    assert (empty["population"] == 100.0).all()
    cells = grid.set_index("id").geometry
    assert all(p.within(cells[a]) for p, a in zip(empty.geometry, empty["area_id"], strict=True))


def test_grid_onto_street_nodes_in_equal_shares(helsinki_graph: object) -> None:
    nodes = graph_nodes(helsinki_graph)  # type: ignore[arg-type]
    grid = grid_over(nodes, step_m=400.0)
    with pytest.warns(InputWarning):
        out = distribute_population(grid, nodes)
    assert out["population"].sum() == pytest.approx(grid["population"].sum())
    placed = out[out["target_id"] != ""]
    counts = placed.groupby("area_id")["population"].agg(["size", "min", "max"])
    assert np.allclose(counts["min"], counts["max"])
    assert np.allclose(counts["min"] * counts["size"], 100.0)


def test_demand_grid_file_onto_homes(tmp_path: Path, homes: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grid.gpkg"
    grid_over(homes).rename(columns={"population": "pop"}).to_file(path, engine="pyogrio")
    with pytest.warns(InputWarning):
        loaded = demand_from_file(path, onto=homes, weight_column="floor_m2")
    assert loaded.data["population"].sum() == pytest.approx(100.0 * len(grid_over(homes)))
    assert loaded.data["id"].str.contains("/").any()
    assert len(loaded.rejected) == 0


def test_distribute_checks_its_inputs(homes: gpd.GeoDataFrame) -> None:
    grid = grid_over(homes)
    with pytest.raises(InputDataError, match=r"areas needs a CRS and column\(s\)"):
        distribute_population(grid.drop(columns="population"), homes)
    with pytest.raises(InputDataError, match="no weight column 'floor'"):
        distribute_population(grid, homes, weight_column="floor")
