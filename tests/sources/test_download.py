"""Tests of sources.download against fake Nominatim/Overpass servers (never the internet).

The fakes (tests/fake_osm_servers.py, fixtures ``online``/``offline`` in conftest.py)
answer from the bundled Kotka extract through ``responses``; real sockets are refused.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely
from fake_osm_servers import KOTKA, KOTKA_AREA, FakeServers, kotka_osm

from planner.errors import InputDataError, NetworkBuildError, NetworkDownloadError, PlannerError
from planner.sources.download import (
    bbox_query,
    buildings_from_query,
    cached_network_path,
    default_cache_dir,
    graph_from_bbox,
    graph_from_place,
    graph_from_point,
    graph_from_polygon,
    graph_from_query,
    place_query,
    point_query,
)
from planner.sources.osm import homes_from_osm
from planner.sources.population import homes_from_buildings
from planner.sources.streets import graph_from_file


def kotka_bounds(margin: float = 0.01) -> tuple[float, float, float, float]:
    osm = kotka_osm()
    lons = [n["lon"] for n in osm.nodes.values()]
    lats = [n["lat"] for n in osm.nodes.values()]
    return min(lons) - margin, min(lats) - margin, max(lons) + margin, max(lats) + margin


def total_m(graph: nx.MultiDiGraph) -> float:
    return float(sum(d for *_, d in graph.edges(data="length")))


def edges(graph: nx.MultiDiGraph) -> set[tuple[int, int, float]]:
    return {(int(u), int(v), round(float(d), 3)) for u, v, d in graph.edges(data="length")}


def test_bbox_download_of_the_whole_extract_matches_the_extract(
    online: FakeServers, tmp_path: Path
) -> None:
    graph = graph_from_bbox(kotka_bounds(), cache_dir=tmp_path)
    ref = graph_from_file(KOTKA)  # every part; osmnx keeps the largest
    ref = ref.subgraph(max(nx.weakly_connected_components(ref), key=len))
    # Same streets: osmnx and pyrosm sum the same segments (to the mm, rounding apart).
    assert total_m(graph) == pytest.approx(total_m(ref), abs=0.05)
    assert total_m(graph) == pytest.approx(80_580.68, abs=0.01)
    # osmnx merges across highway/maxspeed changes where pyrosm keeps a node: 282 vs 290.
    assert set(graph.nodes) < set(ref.nodes)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (282, 652)
    osm = kotka_osm()
    for node, data in graph.nodes(data=True):
        assert (data["x"], data["y"]) == (osm.nodes[node]["lon"], osm.nodes[node]["lat"])
    assert graph.graph["crs"] == "epsg:4326"
    assert graph.graph["source"].startswith("OpenStreetMap via osmnx: bbox ")
    assert online.count("POST https://overpass-api.de/api/interpreter") == 1
    assert online.count("nominatim") == 0


def test_second_run_of_the_same_area_makes_no_request(online: FakeServers, tmp_path: Path) -> None:
    first = graph_from_point((26.94, 60.523), radius_m=500, cache_dir=tmp_path)
    assert online.count("POST") == 1
    cached = cached_network_path(point_query((26.94, 60.523), radius_m=500), cache_dir=tmp_path)
    assert cached.exists()
    assert first.graph["cache_file"] == str(cached)
    online.mock.reset()  # from now on any request fails, and none is recorded yet
    second = graph_from_point((26.94, 60.523), radius_m=500, cache_dir=tmp_path)
    assert online.calls == []
    assert edges(second) == edges(first)
    assert dict(second.nodes(data="x")) == dict(first.nodes(data="x"))


def test_osmnx_http_cache_rebuilds_the_network_without_a_download(
    online: FakeServers, tmp_path: Path
) -> None:
    first = graph_from_place("Kotka test area", cache_dir=tmp_path)
    assert online.count("nominatim.openstreetmap.org/search") == 1
    assert online.count("POST") == 1
    cached_network_path(place_query("Kotka test area"), cache_dir=tmp_path).unlink()
    online.mock.reset()
    again = graph_from_place(" Kotka  test area ", cache_dir=tmp_path)  # spaces do not count
    # Only the rate-limit probe was tried (and failed); the data came from osmnx's cache.
    assert online.calls == ["GET https://overpass-api.de/api/status"]
    assert edges(again) == edges(first)


def test_place_point_and_polygon_queries_cut_the_network_to_their_area(
    online: FakeServers, tmp_path: Path
) -> None:
    west, south, east, north = KOTKA_AREA
    place = graph_from_place("Kotka test area", cache_dir=tmp_path)
    xy = np.array([(d["x"], d["y"]) for _, d in place.nodes(data=True)])
    assert ((xy[:, 0] >= west) & (xy[:, 0] <= east)).all()
    assert ((xy[:, 1] >= south) & (xy[:, 1] <= north)).all()
    assert 50 < place.number_of_nodes() < 282
    # The same area as a polygon gives the same network.
    polygon = graph_from_polygon(shapely.box(*KOTKA_AREA), cache_dir=tmp_path)
    assert edges(polygon) == edges(place)
    assert online.count("POST") == 2
    # A point with a radius: nodes within the square of that half-side.
    point = graph_from_point((26.94, 60.523), radius_m=300, cache_dir=tmp_path)
    north_m = ox.distance.great_circle(60.523, 26.94, [d for _, d in point.nodes(data="y")], 26.94)
    assert np.max(north_m) <= 300.5
    assert point.number_of_nodes() < place.number_of_nodes()


def test_offline_download_names_the_local_file_options(
    offline: FakeServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    real_pause = ox._overpass._get_overpass_pause

    def recorded_pause(*args: object, **kwargs: object) -> float:
        pauses.append(real_pause(*args, **kwargs))  # type: ignore[arg-type]
        return pauses[-1]

    monkeypatch.setattr(ox._overpass, "_get_overpass_pause", recorded_pause)
    with pytest.raises(NetworkDownloadError) as info:
        graph_from_bbox(KOTKA_AREA, cache_dir=tmp_path)
    assert pauses  # osmnx asked for a rate-limit slot ...
    assert not any(pauses)  # ... and got no 60-second wait for it
    assert isinstance(info.value, ConnectionError)
    assert isinstance(info.value, PlannerError)
    msg = str(info.value)
    assert msg.startswith("Could not download the walking network of bbox 26.93,60.515,")
    assert "no connection" in msg
    for option in ("--network", ".osm.pbf", ".osm.bz2", ".graphml"):
        assert option in msg
    assert str(tmp_path) in msg
    assert not list(tmp_path.glob("networks/*.graphml"))


def test_offline_place_query(offline: FakeServers, tmp_path: Path) -> None:
    with pytest.raises(NetworkDownloadError, match=r"place 'Kotka test area'.*--network"):
        graph_from_place("Kotka test area", cache_dir=tmp_path)
    assert offline.count("nominatim.openstreetmap.org/search") == 1


def test_unknown_place_and_area_without_streets(online: FakeServers, tmp_path: Path) -> None:
    with pytest.raises(NetworkDownloadError, match=r"Nominatim found no place 'Atlantis'"):
        graph_from_place("Atlantis", cache_dir=tmp_path)
    # The Gulf of Finland south of Kotka: Overpass answers, with no street.
    with pytest.raises(NetworkBuildError, match=r"no walkable streets in bbox 27,60.2,27.01"):
        graph_from_bbox((27.0, 60.2, 27.01, 60.21), cache_dir=tmp_path)


def test_osmnx_settings_are_restored(online: FakeServers, tmp_path: Path) -> None:
    before = (ox.settings.use_cache, ox.settings.cache_folder, ox.settings.overpass_rate_limit)
    graph_from_bbox(KOTKA_AREA, cache_dir=tmp_path / "c")
    after = (ox.settings.use_cache, ox.settings.cache_folder, ox.settings.overpass_rate_limit)
    assert after == before
    assert list((tmp_path / "c" / "osmnx-http").glob("*.json"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: bbox_query((27.0, 60.5, 26.9, 60.6)), "west < east"),
        (lambda: bbox_query((60.5, 27.0, 60.6, 95.0)), "WEST,SOUTH,EAST,NORTH"),
        (lambda: point_query((26.9, 60.5), radius_m=0), "positive number of metres"),
        (lambda: point_query((260.9, 60.5), radius_m=100), "LON,LAT"),
        (lambda: place_query("  "), "give a place name"),
    ],
)
def test_bad_queries(make: object, message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        make()  # type: ignore[operator]


def test_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    q = bbox_query(KOTKA_AREA)
    assert cached_network_path(q) == cached_network_path(q, cache_dir=tmp_path / "here")
    assert cached_network_path(q).parent == tmp_path / "here" / "networks"
    other = bbox_query((26.93, 60.515, 26.955, 60.533))
    assert cached_network_path(other) != cached_network_path(q)
    monkeypatch.delenv("PLANNER_CACHE_DIR")
    assert default_cache_dir().name == "service-circle-planner"


def test_refresh_downloads_again(online: FakeServers, tmp_path: Path) -> None:
    graph_from_query(bbox_query(KOTKA_AREA), cache_dir=tmp_path)
    graph_from_query(bbox_query(KOTKA_AREA), cache_dir=tmp_path, refresh=True)
    # The refresh goes past our cache; osmnx's HTTP cache answers the repeated query.
    assert online.count("POST") == 1
    assert online.count("/status") >= 2


def test_buildings_of_a_downloaded_area_give_the_extracts_homes(
    online: FakeServers, tmp_path: Path
) -> None:
    buildings = buildings_from_query(bbox_query(KOTKA_AREA), cache_dir=tmp_path)
    assert list(buildings.columns) == [
        "osm_type", "id", "building", "building:levels", "building:flats", "amenity", "shop",
        "office", "geometry",
    ]  # fmt: skip
    assert buildings.crs == "EPSG:4326"
    assert (buildings.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    homes = homes_from_buildings(buildings).set_index("id")
    ref = homes_from_osm(KOTKA).set_index("id")
    common = homes.index.intersection(ref.index)
    # The fake server leaves out multipolygon relations: all else is the same.
    assert len(common) >= 0.95 * len(homes)
    assert set(homes.index) <= set(ref.index)
    assert homes.loc[common, "population"].to_numpy() == pytest.approx(
        ref.loc[common, "population"].to_numpy(), rel=1e-9
    )
    # An area without buildings gives an empty table, cached as well.
    sea = bbox_query((27.0, 60.2, 27.01, 60.21))
    assert len(buildings_from_query(sea, cache_dir=tmp_path)) == 0
    online.mock.reset()
    again = buildings_from_query(bbox_query(KOTKA_AREA), cache_dir=tmp_path)
    assert len(buildings_from_query(sea, cache_dir=tmp_path)) == 0
    assert online.calls == []
    assert again["id"].tolist() == buildings["id"].tolist()
