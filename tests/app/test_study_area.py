"""Study areas: the demo, local extracts, place names (online, mocked here) and buildings."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

import planner.app.study_area as study_area_module
from planner.app.area_cache import AreaCache
from planner.app.study_area import (
    EXTRACT_STAGES,
    PLACE_STAGES,
    StudyArea,
    demo_study_area,
    homes_from_buildings,
    normalise_stations,
    study_area,
    study_area_from_extract,
    study_area_from_place,
)
from planner.errors import InputDataError, NetworkBuildError
from planner.pipeline.progress import Stage
from planner.sources.population import PopulationRule
from planner.walk.network import WalkNetwork
from tests.helpers import grid_homes


def test_the_demo_credits_osm_for_streets_homes_and_stations() -> None:
    assert demo_study_area().osm_data == ("streets", "buildings", "stations")


def test_area_holds_snapped_demand_and_normalised_stations(helsinki_area: StudyArea) -> None:
    assert helsinki_area.demand_snap.on_network.all()
    assert len(helsinki_area.demand) == len(helsinki_area.demand_snap)
    assert list(helsinki_area.stations.columns[:3]) == ["id", "name", "category"]
    assert list(helsinki_area.stations.index) == list(range(len(helsinki_area.stations)))
    minx, miny, maxx, maxy = helsinki_area.bounds_wgs84
    assert 24.9 < minx < maxx < 25.0
    assert 60.1 < miny < maxy < 60.2
    assert len(helsinki_area.key) == 16
    assert helsinki_area.with_max_snap(helsinki_area.max_snap_m) is helsinki_area
    assert helsinki_area.with_max_snap(20.0).max_snap_m == 20.0


def test_demand_without_ids_gets_row_ids(grid_area: StudyArea) -> None:
    homes = grid_homes().drop(columns="id")
    area = study_area(grid_area.network, homes, name="grid")
    assert list(area.demand["id"]) == [str(i) for i in range(len(homes))]
    assert len(area.stations) == 0


def test_normalise_stations() -> None:
    raw = gpd.GeoDataFrame(
        {"name": ["a", None]}, geometry=[shapely.Point(1, 2), shapely.Point(3, 4)], crs=4326
    )
    out = normalise_stations(raw)
    assert list(out["id"]) == ["S1", "S2"]
    assert list(out["name"]) == ["a", ""]
    assert list(out["category"]) == ["", ""]
    with pytest.raises(InputDataError, match="duplicate ids"):
        normalise_stations(out.assign(id=["S1", "S1"]))
    with pytest.raises(InputDataError, match="duplicate ids S1"):  # same once trimmed
        normalise_stations(out.assign(id=["S1", " S1 "]))


def test_extract_area_from_the_small_bundled_extract() -> None:
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        stages: list[Stage] = []
        area = study_area_from_extract(pyrosm.get_data("test_pbf"), progress=stages.append)
    # Each stage announced as it starts (names are text keys the app shows), then the end.
    assert [(s.index, s.total, s.name) for s in stages[:-1]] == [
        (1, 3, "area_stage_network"),
        (2, 3, "area_stage_homes"),
        (3, 3, "area_stage_snap"),
    ]
    assert stages[-1].index > stages[-1].total
    assert tuple(s.name for s in stages[:-1]) == EXTRACT_STAGES
    assert area.network.n_nodes > 200
    assert len(area.demand) > 100
    assert len(area.stations) == 0
    assert area.name == "test.osm.pbf"
    assert area.osm_data == ("streets", "buildings")  # credited in summary.json, report
    # With a demand table of one's own only the streets come from OpenStreetMap.
    own = area.demand.assign(population=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = study_area_from_extract(pyrosm.get_data("test_pbf"), demand=own)
    assert mine.osm_data == ("streets",)
    assert mine.with_max_snap(50.0).osm_data == ("streets",)


def test_place_name_offline_says_so_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(study_area_module, "internet_reachable", lambda *a, **k: False)
    with pytest.raises(NetworkBuildError, match="No internet connection"):
        study_area_from_place("Kallio, Helsinki")
    with pytest.raises(InputDataError, match="place name"):
        study_area_from_place("  ")


def test_place_name_download_builds_the_area(
    monkeypatch: pytest.MonkeyPatch, helsinki_graph: object, helsinki_network: WalkNetwork
) -> None:
    import osmnx as ox

    footprints = gpd.GeoDataFrame(
        {"building": ["apartments", "yes", "retail"], "building:levels": ["4", None, "2"]},
        geometry=[
            shapely.box(24.940, 60.170, 24.9405, 60.1703),
            shapely.box(24.944, 60.172, 24.9445, 60.1723),
            shapely.box(24.946, 60.174, 24.9465, 60.1743),
        ],
        crs="EPSG:4326",
    )
    asked: list[str] = []
    monkeypatch.setattr(study_area_module, "internet_reachable", lambda *a, **k: True)
    monkeypatch.setattr(
        ox, "graph_from_place", lambda place, **k: asked.append(place) or helsinki_graph
    )
    monkeypatch.setattr(ox, "features_from_place", lambda place, **k: footprints)
    stages: list[Stage] = []
    area = study_area_from_place("Kamppi, Helsinki", progress=stages.append)
    assert tuple(s.name for s in stages[:-1]) == PLACE_STAGES
    assert asked == ["Kamppi, Helsinki"]
    assert area.network.n_nodes == helsinki_network.n_nodes
    assert list(area.demand["building"]) == ["apartments", "yes"]

    def fail(place: str, **kwargs: object) -> None:
        raise ConnectionError("host unreachable")

    monkeypatch.setattr(ox, "graph_from_place", fail)
    with pytest.raises(NetworkBuildError, match="Could not download 'Nowhere'"):
        study_area_from_place("Nowhere")


def test_area_cache_keeps_the_newest_areas(grid_area: StudyArea, helsinki_area: StudyArea) -> None:
    cache = AreaCache(size=2)
    assert cache.get("a") is None
    cache.put("a", grid_area)
    cache.put("b", helsinki_area)
    assert cache.get("a") is grid_area  # now the newest: "b" goes first
    cache.put("c", grid_area)
    assert cache.get("b") is None
    assert cache.get("a") is grid_area
    assert cache.get("c") is grid_area


def test_homes_from_buildings_follow_the_population_rule() -> None:
    buildings = gpd.GeoDataFrame(
        {
            "building": ["house", "yes", "yes", "school"],
            "building:levels": ["2", "x", None, "3"],
            "amenity": [None, None, "cafe", None],
        },
        geometry=[shapely.box(0, 0, 0.0002, 0.0002) for _ in range(4)],
        crs="EPSG:4326",
    )
    homes = homes_from_buildings(buildings, rule=PopulationRule(floor_m2_per_person=50.0))
    assert list(homes["building"]) == ["house", "yes"]
    np.testing.assert_array_equal(homes["levels"], [2.0, 3.0])
    np.testing.assert_allclose(homes["population"], homes["floor_m2"] / 50.0)
    assert homes.crs == "EPSG:4326"
    assert len(homes_from_buildings(buildings.iloc[:0])) == 0
