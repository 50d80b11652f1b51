"""Map builders: offline assets, escaping, and a real headless Chromium rendering offline."""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.utils import htmlsafe_json_dumps

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.report.maps import coverage_map, leaflet_assets, map_text
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.sources.streets import graph_from_file
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def demo() -> tuple[WalkNetwork, CoverageResult]:
    path = demo_extract_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        network = build_walk_network(graph_from_file(path))
        stations = stations_from_osm(path)
        homes = homes_from_osm(path)
    stations = stations.assign(name=[EVIL, *stations["name"].iloc[1:]])
    result = analyze_coverage(network, stations, homes, config=AnalysisConfig())
    return network, result


@pytest.fixture(scope="module")
def map_file(
    demo: tuple[WalkNetwork, CoverageResult], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    network, result = demo
    path = tmp_path_factory.mktemp("map") / "map.html"
    coverage_map(result, streets=network.edges).save(str(path))
    return path


def test_leaflet_assets_come_from_the_installed_package() -> None:
    js, css = leaflet_assets()
    assert [name for name, _ in js] == ["leaflet"]
    assert js[0][1].startswith("data:text/javascript;base64,")
    assert css[0][1].startswith("data:text/css;base64,")
    assert len(js[0][1]) > 100_000  # the real Leaflet build, not a stub


def test_map_loads_no_external_script_or_stylesheet(map_file: Path) -> None:
    html = map_file.read_text("utf-8")
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    links = re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert scripts, "Leaflet must be embedded"
    assert all(not s.startswith(("http:", "https:", "//")) for s in scripts + links)
    assert "jquery" not in html.lower()
    assert "OpenStreetMap contributors" in html


def test_user_text_is_escaped(map_file: Path) -> None:
    html = map_file.read_text("utf-8")
    assert EVIL not in html
    escaped = ("&lt;script&gt;alert(1)", "\\u0026lt;script\\u0026gt;alert(1)")
    assert any(e in html for e in escaped)


def test_map_without_tiles_still_credits_osm(demo: tuple[WalkNetwork, CoverageResult]) -> None:
    _, result = demo
    html = coverage_map(result, tiles=False).get_root().render()
    assert "tile.openstreetmap.org" not in html
    assert "addAttribution" in html
    assert "OpenStreetMap contributors" in html


def test_map_layers_hold_the_result(demo: tuple[WalkNetwork, CoverageResult]) -> None:
    _, result = demo
    fmap = coverage_map(result, station_isochrones=True)
    names = [child.layer_name for child in fmap._children.values() if hasattr(child, "layer_name")]
    assert "Stations" in names
    assert "Gap zones (not served)" in names
    assert "Isochrones per station" in names
    html = fmap.get_root().render()
    assert html.count('"band_min"') >= len(result.config.bands)


# ----------------------------------------------------------------------------- browser


def test_map_renders_offline_in_chromium(page: object, map_file: Path) -> None:
    from PIL import Image
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(map_file.as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_timeout(500)
    assert errors == []
    assert page.evaluate("typeof L") == "object"
    state = page.evaluate(
        """() => {
            const map = window[document.querySelector('.folium-map').id];
            let layers = 0; map.eachLayer(() => layers++);
            return {layers: layers, zoom: map.getZoom()};
        }"""
    )
    assert state["layers"] > 100  # streets, bands, homes, stations
    assert state["zoom"] >= 13  # fitted to the study area, not the whole world
    assert "OpenStreetMap contributors" in page.inner_text(".leaflet-control-attribution")
    assert "Walk time to nearest station" in page.inner_text(".planner-legend")

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "map_offline.png"
    page.screenshot(path=str(shot))
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3).astype(int)
    r, g, b = pixels.T
    greenish = (g > r + 15) & (g > b + 15)  # walk-time bands
    reddish = (r > g + 60) & (r > b + 60)  # unserved homes and gap zones
    assert greenish.mean() > 0.05
    assert reddish.sum() > 50

    # A station named like a script shows as text in its popup and never runs: click it.
    point = page.evaluate(
        """() => {
            const map = window[document.querySelector('.folium-map').id];
            let found = null;
            map.eachLayer(l => {
                const p = l.feature && l.feature.properties;
                if (!found && p && p.id && String(p.name).includes('script')) { found = l; }
            });
            if (!found) return null;
            const pt = map.latLngToContainerPoint(found.getLatLng());
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + pt.x, box.top + pt.y];
        }"""
    )
    assert point is not None
    page.mouse.click(point[0], point[1])
    page.wait_for_selector(".leaflet-popup-content")
    text = page.inner_text(".leaflet-popup-content")
    assert EVIL in text
    assert "people within 15 min" in text
    page.wait_for_timeout(400)  # popup fade-in
    page.screenshot(path=str(ARTIFACTS / "map_offline_popup.png"))
    assert dialogs == []


# ------------------------------------------------------------ text is data, never code


def _payloads(marker: Path) -> list[str]:
    """Template payloads: evaluation, a shell command (creates ``marker``), syntax breakers."""
    return [
        "{{ 7*7 }}",
        "{{ lipsum.__globals__.os.popen('touch " + str(marker) + "').read() }}",
        "Community room {#12}",
        "Discount {% 50",
        "{% raw %}x{% endraw %}",
        "}}{{",
        "{0} {name!r} %s %(x)s",
        '";alert(1);//',
        "</script><script>alert(1)</script>",
    ]


def _page_shows(value: str, page: str) -> bool:
    """True when the page's script holds ``value`` as map_text shows it (JSON-encoded)."""
    return htmlsafe_json_dumps(map_text(value))[1:-1] in page


def test_text_from_files_is_never_evaluated(
    demo: tuple[WalkNetwork, CoverageResult], tmp_path: Path
) -> None:
    _, result = demo
    marker = tmp_path / "evaluated"
    payloads = _payloads(marker)
    st = result.stations
    n = len(st)
    evil_stations = st.assign(
        id=[payloads[i % len(payloads)] + f"-{i}" for i in range(n)],
        name=[payloads[(i + 1) % len(payloads)] for i in range(n)],
        category=[payloads[(i + 2) % len(payloads)] for i in range(n)],
    )
    homes = result.demand.assign(
        id=[payloads[i % len(payloads)] + f"-{i}" for i in range(len(result.demand))]
    )
    evil = dataclasses.replace(result, stations=evil_stations, demand=homes)
    sites = gpd.GeoDataFrame(
        {"id": [payloads[0]], "name": [payloads[1]], "population_{{ 6*7 }}": [3.0]},
        geometry=[shapely.Point(24.94, 60.17)],
        crs=4326,
    )
    page = coverage_map(evil, station_isochrones=True, suggested_sites=sites).get_root().render()
    assert not marker.exists(), "a shell command in a station name ran"
    for value in payloads:
        assert _page_shows(value, page), value
    # feature ids are numbers as text (the layers written by orjson are compact)
    assert '"49"' not in re.sub(r'"id": ?"49"', "", page)
    assert "42" not in re.findall(r'"population_[^"]*"', page)[0]
    assert _page_shows("population_{{ 6*7 }}", page)


def test_same_result_gives_byte_identical_map(demo: tuple[WalkNetwork, CoverageResult]) -> None:
    network, result = demo
    first = coverage_map(result, streets=network.edges).get_root().render()
    second = coverage_map(result, streets=network.edges).get_root().render()
    assert first == second
    assert re.search(r"map_[0-9a-f]{32}", first)


def test_homes_past_the_cap_are_sampled_and_the_layer_says_so(
    demo: tuple[WalkNetwork, CoverageResult],
) -> None:
    _, result = demo
    fmap = coverage_map(result, max_homes=10)
    names = [c.layer_name for c in fmap._children.values() if hasattr(c, "layer_name")]
    total = len(result.demand)
    assert f"Homes (blue served, red not) (20 of {total:,} shown)" in names
    page = fmap.get_root().render()

    def count(status: str) -> int:
        return len(re.findall(f'"status": ?"{status}"', page))

    assert count("covered") == 10
    assert count("not covered") + count("unreachable") <= 10
    with pytest.raises(InputDataError, match="max_homes"):
        coverage_map(result, max_homes=0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(st.text(min_size=0, max_size=30), min_size=3, max_size=3))
def test_any_unicode_name_renders_as_itself(
    demo: tuple[WalkNetwork, CoverageResult], names: list[str]
) -> None:
    _, result = demo
    stations = result.stations.iloc[:3].assign(
        name=names, id=[f"{n}#{i}" for i, n in enumerate(names)]
    )
    small = dataclasses.replace(result, stations=stations)
    page = coverage_map(small, tiles=False).get_root().render()
    for i, value in enumerate(names):
        assert _page_shows(value, page)
        assert _page_shows(f"{value}#{i}", page)
