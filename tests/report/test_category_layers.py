"""Per-category map layers: features counted on the bundled Helsinki extract and by hand."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import folium
import pytest
from helpers import SPEED_KMH, grid_homes, grid_stations, grid_streets

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.report.category_layers import CategoryLegend, category_layers
from planner.report.export import write_outputs
from planner.report.maps import coverage_map
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.walk.categories import CircleResult, analyze_circles
from planner.walk.network import WalkNetwork, build_walk_network
from planner.walk.profiles import WalkProfile

TAGS = {"amenity": ["library", "pharmacy", "clinic"]}
MINUTES = {"library": 3.0, "pharmacy": 4.0, "clinic": 5.0}


@pytest.fixture(scope="module")
def helsinki_circle(helsinki_network: WalkNetwork) -> CircleResult:
    path = demo_extract_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        stations, homes = stations_from_osm(path, tags=TAGS), homes_from_osm(path)
    return analyze_circles(
        helsinki_network,
        stations,
        homes,
        config=AnalysisConfig(walk_minutes=15.0),
        category_minutes=MINUTES,
        require=["library", "pharmacy"],
    )


def features(group: folium.FeatureGroup) -> list[list[dict[str, Any]]]:
    """The features of each GeoJson layer of ``group``, in order."""
    return [
        child.data["features"]
        for child in group._children.values()
        if isinstance(child, folium.GeoJson)
    ]


def test_helsinki_layers_count_stations_areas_and_homes(helsinki_circle: CircleResult) -> None:
    circle = helsinki_circle
    layers = category_layers(circle)
    assert len(layers) == len(MINUTES) + 2
    assert isinstance(layers[-1], CategoryLegend)
    stations = circle.result.stations
    demand = circle.result.demand
    for layer, name in zip(layers, MINUTES, strict=False):
        assert isinstance(layer, folium.FeatureGroup)
        assert layer.layer_name == f"{name}: stations, area and homes within {MINUTES[name]:g} min"
        assert layer.show is False
        homes, area, points = features(layer)
        # homes: those within the category's own limit, counted independently from walk_min
        within = demand[f"walk_min_{name}"].to_numpy(dtype=float) <= MINUTES[name] + 1e-9
        assert 0 < len(homes) == int(within.sum()) < len(demand)
        assert {f["properties"]["id"] for f in homes} == set(demand.loc[within, "id"].astype(str))
        assert len(area) == 1
        assert area[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
        mine = stations[stations["category"] == name]
        assert len(points) == len(mine) > 0
        assert {f["properties"]["id"] for f in points} == set(mine["id"].astype(str))
    complete = layers[len(MINUTES)]
    (homes,) = features(complete)
    both = demand["covered_library"].to_numpy(dtype=bool) & demand["covered_pharmacy"].to_numpy(
        dtype=bool
    )
    assert len(homes) == int(both.sum()) > 0
    assert complete.layer_name.startswith("Homes in the complete circle")


def test_map_has_the_layers_in_its_control_and_the_legend(helsinki_circle: CircleResult) -> None:
    layers = category_layers(helsinki_circle, language="zh")
    page = coverage_map(helsinki_circle.result, extra_layers=layers).get_root().render()
    control = re.search(r"overlays\s*:\s*\{(.*?)\}", page, re.S)
    assert control is not None
    names = [json.loads(f'"{n}"') for n in re.findall(r'"([^"]+)"\s*:', control.group(1))]
    for name in MINUTES:
        assert f"{name}：服务站、{MINUTES[name]:g} 分钟内范围与住宅" in names
    assert "完整服务圈内住宅（到达所有必需类别）" in names
    assert json.dumps("服务站类别（图层）")[1:-1] in page  # the legend, as JSON in the script


def test_no_categories_no_layers_and_bad_max_homes(helsinki_network: WalkNetwork) -> None:
    path = demo_extract_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stations, homes = stations_from_osm(path), homes_from_osm(path)
        circle = analyze_circles(helsinki_network, stations.assign(category="x"), homes)
    assert category_layers(circle) == []
    with pytest.raises(InputDataError, match="max_homes"):
        category_layers(circle, max_homes=0)


def test_grid_layers_by_hand_sampled_and_written_to_map_html(tmp_path: Path) -> None:
    """Grid helpers: A 'market' within 150 m covers H1, H7; B 'station' H3, H4, H6, H7."""
    circle = analyze_circles(
        build_walk_network(grid_streets()),
        grid_stations().assign(category=["market", "station"]),
        grid_homes(),
        config=AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH),
        profile=WalkProfile("grid", SPEED_KMH),
        category_minutes={"market": 1.5},
    )
    market, station, complete, _ = category_layers(circle)
    assert sorted(f["properties"]["id"] for f in features(market)[0]) == ["H1", "H7"]
    assert sorted(f["properties"]["id"] for f in features(station)[0]) == ["H3", "H4", "H6", "H7"]
    assert [f["properties"]["id"] for f in features(complete)[0]] == ["H7"]
    sampled = category_layers(circle, max_homes=2)[1]
    assert len(features(sampled)[0]) == 2
    assert sampled.layer_name.endswith("(2 of 4 shown)")
    out = tmp_path / "out"
    write_outputs(circle.result, out, circle=circle, report=True)
    page = (out / "map.html").read_text("utf-8")
    assert "market: stations, area and homes within 1.5 min" in page
    assert "station: stations, area and homes within 2 min" in page
    report = (out / "report.html").read_text("utf-8")
    assert "market: stations, area and homes within 1.5 min" in report


def test_category_layer_switches_on_in_chromium(
    page: object, helsinki_circle: CircleResult, tmp_path: Path
) -> None:
    """Offline Chromium: ticking a category in the layer control draws its features."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    circle = helsinki_circle
    path = tmp_path / "map.html"
    coverage_map(circle.result, tiles=False, extra_layers=category_layers(circle)).save(str(path))
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    count = """() => {
        const map = window[document.querySelector('.folium-map').id];
        let n = 0; map.eachLayer(() => n++); return n;
    }"""
    before = page.evaluate(count)
    legends = page.locator(".planner-legend").all_inner_texts()
    assert any(
        "Station categories (layers)" in t and "library (within 3 min)" in t for t in legends
    )
    label = page.locator(".leaflet-control-layers-overlays label", has_text="library:")
    label.locator("input").check()
    page.wait_for_timeout(200)
    homes = int(circle.result.demand["covered_library"].sum())
    stations = int((circle.result.stations["category"] == "library").sum())
    # the group, then each GeoJson layer with its features: homes, the area (1), stations
    assert page.evaluate(count) - before == 1 + (1 + homes) + (1 + 1) + (1 + stations)
    assert errors == []


def test_saved_run_gives_the_same_layers_and_planner_report_draws_them(tmp_path: Path) -> None:
    """Written, read back (``read_outputs``) and reported (``make_report``) on the grid."""
    from planner.pipeline.analysis import make_report
    from planner.report.category_layers import saved_category_layers
    from planner.report.saved_run import read_outputs
    from planner.walk.categories import circles_summary

    circle = analyze_circles(
        build_walk_network(grid_streets()),
        grid_stations().assign(category=["market", "station"]),
        grid_homes(),
        config=AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH),
        profile=WalkProfile("grid", SPEED_KMH),
        category_minutes={"market": 1.5},
    )
    out = tmp_path / "out"
    write_outputs(circle.result, out, circle=circle, circles=circles_summary([circle]))
    saved = read_outputs(out)
    fresh = category_layers(circle)
    again = saved_category_layers(saved.result, saved.summary)
    assert len(again) == len(fresh) == 4
    for new, old in zip(again[:3], fresh[:3], strict=True):
        assert new.layer_name == old.layer_name
        ids = [sorted(f["properties"]["id"] for f in layer) for layer in features(new)]
        old_ids = [sorted(str(f["properties"].get("id")) for f in layer) for layer in features(old)]
        # the same homes and stations; the area within the limit is not saved
        assert ids == [old_ids[0], *old_ids[2:]]
    station = features(again[1])[1]
    assert [f["properties"]["served"] for f in station] == [200.0]  # B, within its 2 min
    assert saved_category_layers(saved.result, {}) == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no street file to draw the base layer from
        page = make_report(out, out=tmp_path / "again.html")
    report = Path(page).read_text("utf-8")
    assert "market: stations, area and homes within 1.5 min" in report
    assert "Station categories (layers)" in report
