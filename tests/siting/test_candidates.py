"""Tests of siting.candidates: thinning by hand on the 3x3 grid, gaps and OSM on Helsinki."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import SPEED_KMH, UTM, grid_streets, points, xy

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.siting.candidates import (
    candidates_from_gaps,
    candidates_from_network,
    candidates_from_osm,
    thin_candidates,
)
from planner.sources.osm import demo_extract_path
from planner.walk.coverage import analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network


@pytest.fixture(scope="module")
def grid() -> WalkNetwork:
    return build_walk_network(grid_streets())


def node_ids(cands: gpd.GeoDataFrame) -> list[int]:
    return sorted(int(i.split("/")[1]) for i in cands["id"])


def test_every_node_without_thinning(grid: WalkNetwork) -> None:
    cands = candidates_from_network(grid, spacing_m=0)

    assert node_ids(cands) == list(range(9))
    assert cands.crs == "EPSG:4326"
    assert (cands["source"] == "network").all()
    back = cands.to_crs(UTM).set_index("id").geometry
    assert back["node/4"].distance(shapely.Point(xy(100, 100))) < 1e-6


def test_thinning_keeps_one_node_per_cell(grid: WalkNetwork) -> None:
    # 150 m cells counted from the UTM origin: in x the grid's 0 m lies in one cell (centre
    # at 25 m) and 100, 200 m in the next (centre 175 m); in y 0, 100 m share a cell
    # (centre 75 m) and 200 m is in the next (centre 225 m). Kept, per cell, the node
    # nearest its centre: 3 of {0, 3}, 5 of {1, 2, 4, 5}, 6 alone, 8 of {7, 8}.
    cands = candidates_from_network(grid, spacing_m=150.0)

    assert node_ids(cands) == [3, 5, 6, 8]
    with pytest.raises(InputDataError, match="spacing_m"):
        candidates_from_network(grid, spacing_m=-1.0)


def test_nodes_within_areas_and_one_for_an_empty_area(grid: WalkNetwork) -> None:
    areas = gpd.GeoSeries(
        [
            shapely.box(*xy(-10, -10), *xy(110, 10)),  # nodes 0 and 1
            shapely.Point(xy(190, 210)).buffer(5),  # no node inside: nearest is 8
        ],
        crs=UTM,
    )

    cands = candidates_from_network(grid, within=areas, spacing_m=0)

    assert cands["id"].tolist() == ["node/0", "node/1", "node/8"]
    assert cands["area"].tolist() == [0, 0, 1]


def test_gap_candidates_sit_in_the_gaps(grid: WalkNetwork) -> None:
    # One station at node 0, 1-minute (100 m) limit: the two far homes are one gap zone
    # (75 m circles around them), holding node 8 (5 m from "far") and node 5 (50 m from
    # "far2"); widened by 60 m (135 m) it also holds nodes 7 (100 m) and 4 (107 m).
    cfg = AnalysisConfig(walk_minutes=1.0, speed_kmh=SPEED_KMH, max_isochrone_stations=0)
    stations = points({"S": (0.0, 0.0)})
    homes = points(
        {"near": (50.0, 0.0), "far": (200.0, 195.0), "far2": (195.0, 150.0)},
        population=[1.0, 2.0, 3.0],
    )
    result = analyze_coverage(grid, stations, homes, config=cfg)

    cands = candidates_from_gaps(grid, result, spacing_m=0)

    assert len(result.gaps) == 1
    assert cands["id"].tolist() == ["node/5", "node/8"]
    assert cands["gap_id"].tolist() == [1, 1]
    assert (cands["source"] == "gap").all()
    wider = candidates_from_gaps(grid, result, spacing_m=0, margin_m=60.0)
    assert node_ids(wider) == [4, 5, 7, 8]


def test_no_gap_no_candidates(grid: WalkNetwork) -> None:
    cfg = AnalysisConfig(walk_minutes=10.0, speed_kmh=SPEED_KMH, max_isochrone_stations=0)
    result = analyze_coverage(
        grid, points({"S": (0.0, 0.0)}), points({"h": (100.0, 5.0)}, population=[1.0]), config=cfg
    )

    assert len(candidates_from_gaps(grid, result)) == 0


def test_osm_candidates_from_the_extract() -> None:
    cands = candidates_from_osm(demo_extract_path(), tags={"amenity": ["school", "townhall"]})

    assert sorted(cands["category"].value_counts().to_dict().items()) == [
        ("school", 3),
        ("townhall", 1),
    ]
    assert (cands["source"] == "osm").all()
    assert cands["id"].is_unique
    assert np.isfinite(cands.geometry.x).all()


def test_thin_candidates_keeps_the_one_nearest_each_cell_centre(grid: WalkNetwork) -> None:
    # 100 m cells from the CRS origin; the cell [500000, 500100) x [4000000, 4000100) has
    # its centre at (500050, 4000050): of a (57 m from it) and b (42 m), b is kept; c is
    # alone in the next cell; d shares a's cell but is in gap zone 2, so it stays too.
    x = [500_010.0, 500_020.0, 500_150.0, 500_090.0]
    y = [4_000_010.0, 4_000_020.0, 4_000_010.0, 4_000_090.0]
    cands = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "gap_id": [1, 1, 1, 2]},
        geometry=shapely.points(x, y),
        crs=grid.crs,
    ).to_crs(4326)

    kept = thin_candidates(cands, spacing_m=100.0, crs=grid.crs)

    assert kept["id"].tolist() == ["b", "c", "d"]
    assert kept.index.tolist() == [0, 1, 2]
    one_zone = thin_candidates(cands.drop(columns="gap_id"), spacing_m=100.0, crs=grid.crs)
    assert one_zone["id"].tolist() == ["b", "c"]  # b (42 m) is nearer the centre than d (57 m)


def test_suggest_sites_thins_past_max_candidates(grid: WalkNetwork) -> None:
    from planner.siting.models import suggest_sites

    cfg = AnalysisConfig(walk_minutes=1.0, speed_kmh=SPEED_KMH, max_isochrone_stations=0)
    homes = points(
        {"near": (50.0, 0.0), "far": (200.0, 195.0), "far2": (195.0, 150.0)},
        population=[1.0, 2.0, 3.0],
    )
    result = analyze_coverage(grid, points({"S": (0.0, 0.0)}), homes, config=cfg)
    # Two gap candidates (nodes 5 and 8, see above); at most one asked for: the grid is
    # widened twice (ceil(sqrt(2 / 1)) = 2), 50 m to 100 m.
    full = suggest_sites(grid, result, k=1, spacing_m=50.0, max_candidates=None)
    capped = suggest_sites(grid, result, k=1, spacing_m=50.0, max_candidates=1)
    assert full.candidates_total == 2
    assert "candidate_spacing_m" not in full.detail
    assert capped.detail["candidate_spacing_m"] == 100.0
    assert capped.candidates_total == 1
