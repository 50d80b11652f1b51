"""Tests of report.report: every number against the summary, escaping, both languages,
districts, suggested sites, scenario comparison; then the demo's report in headless
Chromium offline (map and charts visible) and printed to PDF."""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import (
    SPEED_KMH,
    UTM,
    check_report_numbers,
    grid_homes,
    grid_stations,
    grid_streets,
    points,
    report_numbers,
    xy,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.utils import htmlsafe_json_dumps

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.report.export import summary_dict, write_outputs
from planner.report.maps import map_text
from planner.report.pdf import find_pdf_engine, pdf_from_html
from planner.report.report import coverage_report, report_data
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.sources.streets import graph_from_file
from planner.walk.breakdowns import coverage_by_district
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CONFIG = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH, band_minutes=(1.0,), max_snap_m=50)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def grid() -> WalkNetwork:
    return build_walk_network(grid_streets())


@pytest.fixture(scope="module")
def result(grid: WalkNetwork) -> CoverageResult:
    """Grid stations A (named like a script) and B; everyone but H5 (50 of 280) covered."""
    stations = grid_stations().assign(name=[EVIL, "Beta"], category=["clinic", "库 & 站"])
    return analyze_coverage(grid, stations, grid_homes(), config=CONFIG)


@pytest.fixture(scope="module")
def summary(result: CoverageResult) -> dict[str, Any]:
    inputs = {"network": f"{EVIL}.osm.pbf", "stations": "A & B", "demand": "H1..H7"}
    return summary_dict(result, inputs=inputs, rejected={"stations": pd.DataFrame({"row": [3]})})


@pytest.fixture(scope="module")
def grid_page(result: CoverageResult, summary: dict[str, Any]) -> str:
    return coverage_report(result, summary=summary)


def visible_text(page: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>|<svg.*?</svg>", "", page, flags=re.S)
    body = re.sub(r'srcdoc="[^"]*"', "", body)
    body = re.sub(r"</?(?:data|span|b|a)\b[^>]*>", "", body)  # inline: no space
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def map_document(page: str) -> str:
    match = re.search(r'<iframe class="map-frame"[^>]* srcdoc="([^"]*)"', page)
    assert match
    return html.unescape(match.group(1))


# ------------------------------------------------------------------------ grid report


def test_every_number_matches_the_summary(grid_page: str, summary: dict[str, Any]) -> None:
    page = grid_page
    assert check_report_numbers(page, summary) >= 25
    keys = {n["data-key"] for n in report_numbers(page) if "data-key" in n}
    assert {
        "share_covered",
        "population_covered",
        "population_total",
        "population_uncovered",
        "population_within_minutes/1",
        "population_within_minutes/2",
        "demand_points_within_minutes/1",
        "demand_points_within_minutes/2",
        "stations",
        "stations_off_network",
        "gap_zones",
        "population_in_gap_zones",
        "walk_min_median",
        "walk_min_p90",
        "minutes",
        "speed_kmh",
        "walk_limit_m",
        "max_snap_m",
        "gap_link_m",
        "network/nodes",
        "network/street_km",
        "rejected_rows/stations",
    } <= keys
    assert report_data(page)["summary"] == json.loads(json.dumps(summary))
    text = visible_text(page)
    assert "82.1% of people live within 2 minutes' walk of a station" in text
    assert "230 of 280 people" in text
    assert "People within 1 min 70 2 homes" in text
    assert "Gap zones 1 50 people not served" in text
    assert "Median walk 1.2 min 90% of people within 2.2 min" in text
    assert "2 minutes' walk at 6 km/h (200 m along the streets)" in text


def test_tables_hold_the_result_layers(grid_page: str) -> None:
    page = grid_page
    data = report_data(page)
    rows = {r["id"]: r for r in data["stations"]}
    assert [r["id"] for r in data["stations"]] == ["B", "A"]  # most people served first
    assert rows["A"]["population_served"] == pytest.approx(100.0)
    assert rows["A"]["population_only_here"] == pytest.approx(30.0)
    assert rows["A"]["population_overlap"] == pytest.approx(70.0)  # H7 is within both
    assert rows["B"]["population_served"] == pytest.approx(200.0)
    assert rows["B"]["homes_served"] == 4  # H3, H4, H6, H7
    assert data["gaps"] == [
        {
            "gap_id": 1,
            "homes": 1,
            "population": pytest.approx(50.0),
            "walk_min_nearest": pytest.approx(2.2),
            "walk_min_median": pytest.approx(2.2),
            "nearest_station": "B",
            "nearest_station_name": "Beta",
        }
    ]
    text = visible_text(page)
    assert "B Beta 库 & 站 200 130 70 4 yes" in text
    assert f"A {EVIL} clinic 100 30 70 3 yes" in text
    assert "1 1 50 2.2 Beta" in text
    assert "No district boundaries were given" in text
    assert data["districts"] is None
    assert data["comparison"] is None


def test_user_text_is_escaped_everywhere(result: CoverageResult, summary: dict[str, Any]) -> None:
    page = coverage_report(result, summary=summary, title=EVIL)
    assert EVIL not in page
    assert f"<title>{ESCAPED}</title>" in page
    assert f"<h1>{ESCAPED}</h1>" in page
    assert f"<dd>{ESCAPED}.osm.pbf<br>" in page
    assert f"<td>{ESCAPED}</td>" in page
    doc = map_document(page)
    assert EVIL not in doc  # the map escapes its own text; srcdoc escapes the map again
    assert ESCAPED in doc or "\\u0026lt;script\\u0026gt;" in doc
    data = report_data(page)
    assert {r["name"] for r in data["stations"]} == {EVIL, "Beta"}  # JSON keeps the text
    raw = page[page.index('id="planner-report-data"') :]
    assert "</script>" not in raw[: raw.index("</script>")]  # JSON cannot close its tag


def test_page_is_self_contained_and_prints(grid_page: str) -> None:
    page = grid_page
    doc = map_document(page)
    for text in (page, doc):
        refs = re.findall(r'<(?:script|img|link|iframe|source)[^>]+(?:src|href)="([^"]+)"', text)
        assert all(not r.startswith(("http:", "https:", "//")) for r in refs), refs
    assert "data:text/javascript;base64," in doc  # Leaflet embedded
    assert "jquery" not in doc.lower()
    assert page.count('<svg class="chart"') == 3  # overview map, walk times, stations
    assert "© OpenStreetMap contributors" in page
    assert "@media print" in page
    assert '<figure class="print-only">' in page
    ids = re.findall(r'\bid="([^"]+)"', re.sub(r'srcdoc="[^"]*"', "", page))
    assert len(ids) == len(set(ids))  # the charts' SVG ids do not clash


def test_chinese_report(result: CoverageResult, summary: dict[str, Any]) -> None:
    page = coverage_report(result, summary=summary, language="zh")
    assert '<html lang="zh-CN">' in page
    text = visible_text(page)
    for words in ("主要指标", "参数与数据", "覆盖缺口区", "方法与局限", "© OpenStreetMap 贡献者"):
        assert words in text
    assert "的人口居住在服务站步行 2 分钟范围内" in text
    assert "Key figures" not in text
    assert check_report_numbers(page, summary) >= 25
    doc = map_document(page)  # map legend and layers too, as text or as JSON escapes
    assert "到最近服务站的步行时间" in doc or json.dumps("到最近服务站的步行时间")[1:-1] in doc
    with pytest.raises(InputDataError, match="language"):
        coverage_report(result, language="fr")  # type: ignore[arg-type]


def test_districts_table_and_chart(result: CoverageResult, summary: dict[str, Any]) -> None:
    west = shapely.box(*xy(-50, -50), *xy(99, 250))  # H1 (x = 100) and the east are outside
    districts = points({"w": (0, 0)}, UTM).set_geometry([west]).assign(name=["West <1>"])
    page = coverage_report(result, summary=summary, districts=districts)
    expected = coverage_by_district(result, districts)
    data = report_data(page)
    assert data["districts"] == [
        {
            "district": "West <1>",
            "homes": 3,
            "homes_covered": 2,
            "population": pytest.approx(20 + 50 + 70),
            "population_covered": pytest.approx(90.0),
            "population_uncovered": pytest.approx(50.0),
            "share_covered": pytest.approx(expected["share_covered"].iloc[0]),
        }
    ]
    text = visible_text(page)
    assert "West <1> 3 140 90 50 64.3%" in text
    assert "outside the districts given 4 140 140 0 100.0%" in text
    assert "total 7 280 230 50 82.1%" in text
    assert 'id="chart-districts"' in page
    assert page.count('<svg class="chart"') == 4


def test_suggested_sites_add_a_column_a_table_and_a_map_layer(
    result: CoverageResult, summary: dict[str, Any]
) -> None:
    sites = points(
        {"new-1": (10.0, 190.0), "far": (3000.0, 3000.0)}, "EPSG:4326", name=["Site <1>", ""]
    )
    page = coverage_report(result, summary=summary, suggested_sites=sites)
    data = report_data(page)
    assert data["gaps"][0]["suggested_sites"] == ["Site <1>"]  # inside gap zone 1 (H5)
    assert [s["id"] for s in data["suggested_sites"]] == ["new-1", "far"]
    text = visible_text(page)
    assert "suggested site" in text
    assert "1 1 50 2.2 Beta Site <1>" in text
    assert "Suggested sites" in text
    assert "Suggested sites" in map_document(page)
    # A gap_id column (as siting may give) wins over the spatial match.
    page = coverage_report(result, summary=summary, suggested_sites=sites.assign(gap_id=[None, 1]))
    assert report_data(page)["gaps"][0]["suggested_sites"] == ["far"]
    # Without sites there is no such column.
    assert "suggested site" not in visible_text(coverage_report(result, summary=summary))
    with pytest.raises(InputDataError, match="point"):
        coverage_report(result, suggested_sites=sites.set_geometry(sites.to_crs(UTM).buffer(5)))


def test_scenario_comparison(
    grid: WalkNetwork, result: CoverageResult, summary: dict[str, Any]
) -> None:
    stations = grid_stations().iloc[:1].assign(name=[EVIL], category=["clinic"])
    baseline = analyze_coverage(grid, stations, grid_homes(), config=CONFIG)
    before = summary_dict(baseline, inputs={"stations": "A only"})
    page = coverage_report(result, summary=summary, baseline=baseline, baseline_summary=before)
    assert check_report_numbers(page, before, source="baseline") >= 7
    assert check_report_numbers(page, summary) >= 25
    changes = [n for n in report_numbers(page) if n.get("data-source") == "change"]
    assert len(changes) >= 7
    for item in changes:
        key = item["data-key"].split("/")
        after_v, before_v = summary, before
        for part in key:
            after_v, before_v = after_v[part], before_v[part]
        # The change is the difference of the figures as shown (rounded), not of the exact ones.
        unit = 0.001 if item["data-format"] == "share_change" else 1.0
        assert float(item["value"]) == pytest.approx(after_v - before_v, abs=unit), item
    cmp = report_data(page)["comparison"]
    assert cmp["population_gained"] == pytest.approx(130.0)
    assert cmp["newly_covered"] == pytest.approx(130.0)
    assert cmp["no_longer_covered"] == pytest.approx(0.0)
    assert cmp["station_changes"] == {
        "added": 1,
        "moved": 0,
        "renamed": 0,
        "removed": 0,
        "unchanged": 1,
    }
    text = visible_text(page)
    assert "Before: A only. After: A & B (this report)." in text
    assert "share covered 35.7% 82.1% +46.4 pp" in text
    assert "People gained: +130. Home by home: 130 people newly covered, 0 no longer covered." in (
        text
    )
    assert "B Beta added — 200" in text


def test_a_summary_of_another_run_is_refused(
    result: CoverageResult, summary: dict[str, Any]
) -> None:
    with pytest.raises(InputDataError, match="population_covered"):
        coverage_report(result, summary={**summary, "population_covered": 1.0})


def test_charts_are_the_same_every_time(result: CoverageResult, summary: dict[str, Any]) -> None:
    def charts(page: str) -> str:
        match = re.search(r'<section id="charts">.*?</section>', page, flags=re.S)
        assert match
        return match.group(0)

    one = coverage_report(result, summary=summary)
    two = coverage_report(result, summary=summary)
    assert charts(one) == charts(two)
    assert report_data(one) == report_data(two)


# ------------------------------------------------------------------------ demo report


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo written by write_outputs (report.html and summary.json of one run)."""
    path = demo_extract_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        network = build_walk_network(graph_from_file(path))
        stations = stations_from_osm(path)
        homes = homes_from_osm(path)
    stations = stations.assign(name=[EVIL, *stations["name"].iloc[1:]])
    result = analyze_coverage(network, stations, homes)
    out = tmp_path_factory.mktemp("demo") / "run"
    write_outputs(result, out, inputs={"network": str(path)}, streets=network.edges)
    return out


def test_demo_report_numbers_match_its_summary_json(demo_run: Path) -> None:
    page = (demo_run / "report.html").read_text("utf-8")
    summary = json.loads((demo_run / "summary.json").read_text("utf-8"))
    assert check_report_numbers(page, summary) >= 30
    assert report_data(page)["summary"] == summary
    text = visible_text(page)
    assert f"{summary['share_covered']:.1%} of people live within 15 minutes' walk" in text
    stations = pd.read_csv(demo_run / "stations.csv", encoding="utf-8-sig").set_index("id")
    for row in report_data(page)["stations"]:
        # The CSVs give head counts to one decimal.
        assert row["population_served"] == pytest.approx(
            stations.loc[row["id"], "population_served"], abs=0.05
        )
        assert row["population_only_here"] == pytest.approx(
            stations.loc[row["id"], "population_only_here"], abs=0.05
        )
    gaps = pd.read_csv(demo_run / "gaps.csv", encoding="utf-8-sig")
    assert [g["population"] for g in report_data(page)["gaps"]] == pytest.approx(
        gaps["population"].tolist(), abs=0.05
    )
    assert EVIL not in page


def _share(pixels: np.ndarray, kind: str) -> float:
    r, g, b = pixels.reshape(-1, 3).astype(int).T
    masks = {
        "green": (g > r + 15) & (g > b + 15),
        "red": (r > g + 60) & (r > b + 60),
        "purple": (b > g + 30) & (r > g + 5),
    }
    return float(masks[kind].mean())


def test_demo_report_opens_offline_in_chromium(page: object, demo_run: Path) -> None:
    from PIL import Image
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda req: requests.append(req.url))
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto((demo_run / "report.html").as_uri())
    frame_el = page.wait_for_selector("iframe.map-frame")
    assert frame_el is not None
    frame = frame_el.content_frame()
    assert frame is not None
    frame.wait_for_selector(".leaflet-container")
    page.wait_for_timeout(800)
    assert errors == []
    assert dialogs == []
    state = frame.evaluate(
        """() => {
            const map = window[document.querySelector('.folium-map').id];
            let layers = 0; map.eachLayer(() => layers++);
            return {layers: layers, zoom: map.getZoom(), L: typeof L};
        }"""
    )
    assert state["L"] == "object"
    assert state["layers"] > 100
    assert state["zoom"] >= 13
    external = [u for u in requests if u.startswith(("http:", "https:"))]
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in external), external
    charts = page.evaluate(
        """() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
            const box = svg.getBoundingClientRect();
            return {w: box.width, h: box.height, shown: svg.checkVisibility()};
        })"""
    )
    assert len(charts) == 3
    assert [c["shown"] for c in charts] == [False, True, True]  # the overview map is for print
    assert all(c["w"] > 500 and c["h"] > 100 for c in charts[1:])
    summary = json.loads((demo_run / "summary.json").read_text("utf-8"))
    assert f"{summary['share_covered']:.1%}" in page.inner_text("#key-figures")

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_offline.png"
    page.screenshot(path=str(shot), full_page=True)
    image = np.asarray(Image.open(shot).convert("RGB"))

    def region(selector: str) -> np.ndarray:
        box = page.evaluate(
            f"""() => {{
                const b = document.querySelector('{selector}').getBoundingClientRect();
                return [b.left + window.scrollX, b.top + window.scrollY, b.width, b.height];
            }}"""
        )
        x, y, w, h = (int(v) for v in box)
        return image[y : y + h, x : x + w]

    map_px = region("iframe.map-frame")
    assert _share(map_px, "green") > 0.05  # walk-time bands
    assert _share(map_px, "red") > 0.0005  # unserved homes and gap zones
    assert _share(region("#chart-walk svg"), "green") > 0.03  # bars within the limit
    assert _share(region("#chart-stations svg"), "purple") > 0.01
    assert _share(region("#key-figures"), "green") > 0.01  # the headline share

    page.emulate_media(media="print")
    try:
        assert (
            page.evaluate("document.querySelector('iframe.map-frame').checkVisibility()") is False
        )
        assert page.evaluate("document.querySelector('svg.chart').checkVisibility()") is True
        page.screenshot(path=str(ARTIFACTS / "report_print_media.png"), full_page=True)
    finally:
        page.emulate_media(media="screen")


def test_demo_report_prints_to_pdf(demo_run: Path, tmp_path: Path) -> None:
    if find_pdf_engine() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian chromium (see .ci/run)")
        pytest.skip("no PDF engine (chromium) installed")
    pdf = pdf_from_html(demo_run / "report.html", tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert 4 <= pages <= 12  # key figures, map, charts, tables, methods
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.text(max_size=40), min_size=2, max_size=2),
    category=st.text(max_size=20),
    title=st.text(max_size=40),
)
def test_any_text_in_the_report_is_shown_as_itself(
    result: CoverageResult, names: list[str], category: str, title: str
) -> None:
    """Random unicode (braces, quotes, markup, control characters) never runs or breaks."""
    stations = result.stations.assign(name=names, category=[category, category])
    page = coverage_report(dataclasses.replace(result, stations=stations), title=title)
    shown = visible_text(page)
    doc = map_document(page)
    for name in names:
        if name.isprintable():
            assert " ".join(name.split()) in shown
        assert htmlsafe_json_dumps(map_text(name))[1:-1] in doc
    rows = report_data(page)["stations"]
    assert len(rows) == len(stations)
    for name in names:
        if name.strip():
            assert name.strip() in {row["name"].strip() for row in rows}
