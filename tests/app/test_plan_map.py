"""The app's live map: local Leaflet, streets file, escaped popups, layers per plan size."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import pytest
import shapely
from jinja2.utils import htmlsafe_json_dumps

from planner.app.edits import add_station
from planner.app.gaps_layer import CompactGaps
from planner.app.map_elements import STREETS_PANE
from planner.app.plan import Plan, build_plan
from planner.app.plan_map import (
    base_map,
    install_leaflet,
    layer_control,
    leaflet_links,
    plan_layers,
    streets_geojson,
    write_streets_file,
)
from planner.app.study_area import StudyArea
from planner.config import AnalysisConfig
from planner.report.maps import map_text
from tests.browser import artifacts, colour_shares, offline_page, require_browser

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def evil_plan(helsinki_area: StudyArea) -> Plan:
    plan = build_plan(helsinki_area)
    return add_station(plan, 24.9475, 60.1765, name=EVIL, category="<b>bold</b>")


def _page_html(plan: Plan, **kwargs: object) -> str:
    fmap = base_map(plan.area, bands=plan.config.bands, **kwargs)  # type: ignore[arg-type]
    for group in plan_layers(plan, selected="new-1").groups:
        group.add_to(fmap)
    layer_control().add_to(fmap)
    html: str = fmap.get_root().render()
    return html


def test_leaflet_is_copied_from_the_installed_package(tmp_path: Path) -> None:
    folder = install_leaflet(tmp_path)
    assert folder == tmp_path / "leaflet"
    assert (folder / "leaflet.js").stat().st_size > 100_000
    assert (folder / "images" / "layers.png").exists()
    assert install_leaflet(tmp_path) == folder  # idempotent
    js, css = leaflet_links("/app/static/leaflet/")
    assert js == [("leaflet", "/app/static/leaflet/leaflet.js")]
    assert css == [("leaflet_css", "/app/static/leaflet/leaflet.css")]
    js, _ = leaflet_links(None)
    assert js[0][1].startswith("data:text/javascript;base64,")


def test_streets_file_is_written_once(helsinki_area: StudyArea, tmp_path: Path) -> None:
    path = write_streets_file(helsinki_area, tmp_path)
    assert path is not None
    assert path.name == f"streets-{helsinki_area.key}.geojson"
    data = json.loads(path.read_text("utf-8"))
    lines = data["features"][0]["geometry"]["coordinates"]
    assert len(lines) == len(helsinki_area.network.edges)
    stamp = path.stat().st_mtime_ns
    assert write_streets_file(helsinki_area, tmp_path) == path
    assert path.stat().st_mtime_ns == stamp
    assert streets_geojson(helsinki_area) == data


def test_map_loads_nothing_from_the_internet_but_tiles(evil_plan: Plan) -> None:
    html = _page_html(evil_plan, tiles=True, streets_url="/app/static/areas/s.geojson")
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    links = re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert all(not u.startswith(("http:", "https:", "//")) for u in scripts + links)
    assert "jquery" not in html.lower()
    assert "tileerror" in html  # dropped, plain background, when tiles fail
    assert '"/app/static/areas/s.geojson"' in html
    assert STREETS_PANE in html
    offline = _page_html(evil_plan, tiles=False)
    assert "tile.openstreetmap.org" not in offline
    assert "OpenStreetMap contributors" in offline


def test_user_text_is_escaped_in_popups(evil_plan: Plan) -> None:
    html = _page_html(evil_plan)
    assert EVIL not in html
    assert "<b>bold</b>" not in html
    assert "\\u0026lt;script\\u0026gt;alert(1)" in html or "&lt;script&gt;alert(1)" in html


def test_layers_follow_the_plan(evil_plan: Plan) -> None:
    layers = plan_layers(evil_plan)
    names = [g.layer_name for g in layers.groups]
    assert names == [
        "Walk time to nearest station",
        "Gap zones (not served)",
        "Homes (blue served, red not)",
        "Stations",
    ]
    assert layers.homes_shown == layers.homes_total == len(evil_plan.area.demand)
    thin = plan_layers(evil_plan, max_homes=50)
    assert thin.homes_shown <= 100
    sites = gpd.GeoDataFrame(
        {"id": ["p1"], "population_gain": [12.0]}, geometry=[shapely.Point(24.94, 60.17)], crs=4326
    )
    zh = plan_layers(evil_plan, language="zh", proposed=sites)
    assert [g.layer_name for g in zh.groups][-2:] == ["服务站", "建议站址"]


def test_many_stations_draw_streets_by_band(helsinki_area: StudyArea) -> None:
    plan = build_plan(helsinki_area, config=AnalysisConfig(max_isochrone_stations=1))
    assert not plan.polygons_per_station
    html = folium.Map().add_child(plan_layers(plan).groups[0]).get_root().render()
    assert '"band"' in html
    assert "LineString" in html


def test_map_renders_offline_with_escaped_popup(evil_plan: Plan, tmp_path: Path) -> None:
    require_browser()
    path = tmp_path / "plan_map.html"
    path.write_text(_page_html(evil_plan, tiles=True), "utf-8")
    errors: list[str] = []
    dialogs: list[str] = []
    with offline_page() as page:
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-container")
        page.wait_for_timeout(800)
        assert errors == []
        # Tiles failed offline: the tile layer was dropped for a plain background.
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor"
        )
        assert background == "rgb(244, 243, 239)"
        shot = artifacts() / "plan_map_offline.png"
        page.screenshot(path=str(shot))
        shares = colour_shares(shot)
        assert shares["green"] > 0.03
        assert shares["red"] > 0.0005
        point = page.evaluate(
            """() => {
                const map = window[document.querySelector('.folium-map').id];
                let found = null;
                map.eachLayer(l => {
                    const p = l.feature && l.feature.properties;
                    if (!found && p && String(p.name).includes('script')) { found = l; }
                });
                const pt = map.latLngToContainerPoint(found.getLatLng());
                const box = map.getContainer().getBoundingClientRect();
                return [box.left + pt.x, box.top + pt.y];
            }"""
        )
        page.mouse.click(point[0], point[1])
        page.wait_for_selector(".leaflet-popup-content")
        text = page.inner_text(".leaflet-popup-content")
        assert EVIL in text
        assert "<b>bold</b>" in text
        assert "People within 15 min" in text
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts() / "plan_map_popup.png"))
    assert dialogs == []


def test_text_from_files_is_never_evaluated_in_the_app_map(
    helsinki_area: StudyArea, tmp_path: Path
) -> None:
    marker = tmp_path / "evaluated"
    shell = "{{ lipsum.__globals__.os.popen('touch " + str(marker) + "').read() }}"
    plan = build_plan(helsinki_area)
    plan = add_station(plan, 24.9475, 60.1765, name="{{ 7*7 }}", category="{% 50", station_id=shell)
    plan = add_station(plan, 24.9400, 60.1700, name="Room {#12}", category="}}{{")
    sites = gpd.GeoDataFrame(
        {"id": ["{{ 6*7 }}"], "population_{#x": [1.0]},
        geometry=[shapely.Point(24.94, 60.17)],
        crs=4326,
    )
    fmap = base_map(plan.area, bands=plan.config.bands)
    layers = plan_layers(plan, selected=shell, proposed=sites)
    for group in layers.groups:
        group.add_to(fmap)
    page = fmap.get_root().render()
    assert not marker.exists(), "a shell command in a station id ran"
    for value in ("{{ 7*7 }}", "{% 50", shell, "Room {#12}", "}}{{", "{{ 6*7 }}", "population_{#x"):
        assert htmlsafe_json_dumps(map_text(value))[1:-1] in page, value
    # streamlit-folium renders each layer's script once, as the app does: same text.
    script = "".join(g._template.module.script(g) for g in layers.groups)
    assert "{{" not in script
    assert "{%" not in script
    assert "{#" not in script


def test_app_map_ids_are_stable_across_reruns(evil_plan: Plan) -> None:
    assert _page_html(evil_plan) == _page_html(evil_plan)
    first = [g.get_name() for g in plan_layers(evil_plan).groups]
    assert first == [g.get_name() for g in plan_layers(evil_plan).groups]
    assert len(set(first)) == len(first)


def test_the_legend_shows_proposed_sites(evil_plan: Plan) -> None:
    page = _page_html(evil_plan)
    assert "suggested site" in page
    assert "#e08214" in page  # the proposed sites' colour
    zh = base_map(evil_plan.area, bands=evil_plan.config.bands, language="zh")
    assert json.dumps("建议站点")[1:-1] in zh.get_root().render()


def test_many_gap_zones_are_drawn_simplified(
    evil_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gap_coordinates() -> int:
        gaps = plan_layers(evil_plan, selected=None).groups[1]  # bands, gaps, ...
        (layer,) = [c for c in gaps._children.values() if isinstance(c, CompactGaps)]
        return sum(len(ring) // 2 for zone in layer.zones for ring in zone)

    assert len(evil_plan.gaps) > 0
    exact = gap_coordinates()
    assert exact == shapely.get_num_coordinates(evil_plan.gaps.geometry.to_numpy()).sum()
    monkeypatch.setattr("planner.report.map_geometry.MANY_GAPS", 0)
    monkeypatch.setattr("planner.report.map_geometry.THOUSANDS_OF_GAPS", 0)
    assert 0 < gap_coordinates() < exact


def test_proposed_sites_tooltips_use_the_readers_words(evil_plan: Plan) -> None:
    sites = gpd.GeoDataFrame(
        {
            "id": ["node/1"],
            "name": ["Uusi asema"],
            "place": ["near Katu (lat 60.17000, lon 24.94000)"],
            "population_added": [12.0],
            "population_within": [30.0],
        },
        geometry=[shapely.Point(24.94, 60.17)],
        crs=4326,
    )
    layers = plan_layers(evil_plan, language="zh", proposed=sites)
    html = folium.Map().add_child(layers.groups[-1]).get_root().render()
    for word in ("位置", "名称", "新增覆盖人口", "分钟内人口"):
        assert word in html or json.dumps(word)[1:-1] in html, word
    assert '"population_added"' in html  # the data keep their field names
