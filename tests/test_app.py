"""The Streamlit app as a person uses it: every page, widgets set, metric values checked.

AppTest runs no JavaScript, so the map is checked here only for what the page sends it (no
internet links, escaped text); ``tests/test_app_browser.py`` clicks the real map.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

import planner.app.study_area as study_area_module
from planner.app.workspace import Workspace, propose_sites
from planner.pipeline.progress import Stage
from planner.siting.models import suggest_sites
from planner.texts import text

APP = str(Path(__file__).resolve().parent.parent / "app.py")
EVIL = "<script>alert(1)</script>"
STATIONS_CSV = (
    "id,name,category,lon,lat\n"
    f"E1,{EVIL},<b>lib</b>,24.9475,60.1765\n"
    "E2,Second,library,24.9400,60.1700\n"
    "E3,Broken,library,not-a-number,60.17\n"
).encode()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def share(at: AppTest) -> float:
    return float(metrics(at)["People within the circle"].rstrip("%")) / 100


def fresh(page: str | None = None) -> AppTest:
    """A new browser session (its own session state), on ``page`` when given."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    if page is not None:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, at.exception
    return at


def workspace(at: AppTest) -> Workspace:
    ws: Workspace = at.session_state["workspace"]
    return ws


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page with ``column`` (read-only tables carry no key)."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            value: pd.DataFrame = frame.value
            return value
    raise AssertionError(f"no table with a column {column!r}")


def map_args(at: AppTest) -> dict[str, object]:
    comps = list(at.get("component_instance"))
    assert comps, "the map component must be on the page"
    args: dict[str, object] = json.loads(comps[0].proto.json_args)
    return args


@pytest.fixture(scope="module")
def stations_page() -> AppTest:
    return fresh()


# ------------------------------------------------------------------ stations page


def test_stations_page_shows_the_demo(stations_page: AppTest) -> None:
    assert metrics(stations_page) == {
        "People within the circle": "81.8%",
        "People not served": "6,304",
        "Stations": "3",
        "Gap zones": "4",
    }
    table = stations_page.data_editor[0].value
    assert list(table.columns) == ["id", "name", "category", "lon", "lat"]
    assert len(table) == 3


def test_map_is_sent_with_local_assets_only(stations_page: AppTest) -> None:
    args = map_args(stations_page)
    links = [*args["js_links"], *args["css_links"]]  # type: ignore[misc]
    assert any("leaflet" in str(u) for u in links)
    assert all(not str(u).startswith(("http:", "https:", "//")) for u in links)
    assert args["returned_objects"] == ["last_clicked"]
    assert "feature_group_feature_group_3" in str(args["feature_group"])  # stations layer


def test_walk_limit_changes_the_figures_and_back(stations_page: AppTest) -> None:
    before = metrics(stations_page)
    stations_page.sidebar.slider(key="minutes").set_value(5).run()
    assert share(stations_page) < 0.818
    assert int(metrics(stations_page)["Gap zones"]) >= 4
    stations_page.sidebar.slider(key="speed_kmh").set_value(3.0).run()
    slower = share(stations_page)
    stations_page.sidebar.slider(key="minutes").set_value(15).run()
    assert share(stations_page) > slower
    stations_page.sidebar.slider(key="speed_kmh").set_value(4.5).run()
    assert metrics(stations_page) == before


def test_add_by_coordinates_then_undo() -> None:
    at = fresh()
    at.number_input(key="add_lon").set_value(24.9475)
    at.number_input(key="add_lat").set_value(60.1765)
    at.text_input(key="add_name").set_value("North")
    at.button(key="FormSubmitter:add_by_coordinates-Add station").click().run()
    assert not at.exception
    assert metrics(at)["Stations"] == "4"
    assert share(at) > 0.95
    assert "Station new-1 added." in [s.value.replace("\\", "") for s in at.success]
    assert list(at.data_editor[0].value["name"])[-1] == "North"
    at.sidebar.button(key="undo").click().run()
    assert metrics(at)["Stations"] == "3"
    assert metrics(at)["People within the circle"] == "81.8%"


def test_delete_the_selected_station() -> None:
    at = fresh()
    first = workspace(at).plan.stations["id"].iloc[0]
    at.selectbox(key="selected_station").set_value(first).run()
    at.button(key="delete_station").click().run()
    assert metrics(at)["Stations"] == "2"
    assert first not in set(workspace(at).plan.stations["id"])


def test_station_table_edits_are_applied_together() -> None:
    at = fresh()
    key = f"station_editor_{workspace(at).revision}"
    at.session_state[key] = {
        "edited_rows": {"1": {"name": "Renamed"}},
        "added_rows": [{"id": "T1", "name": "Added", "lon": 24.9475, "lat": 60.1765}],
        "deleted_rows": [0],
    }
    at.button(key="FormSubmitter:station_table_form-Apply changes to the plan").click().run()
    assert not at.exception
    stations = workspace(at).plan.stations
    assert len(stations) == 3
    assert next(iter(stations["name"])) == "Renamed"
    assert list(stations["id"])[-1] == "T1"
    assert share(at) > 0.9


def test_uploaded_stations_show_rejected_rows_and_stay_text() -> None:
    at = fresh()
    at.file_uploader(key="stations_upload").set_value(("mine.csv", STATIONS_CSV, "text/csv"))
    at.run()
    at.button(key="load_stations").click().run()
    assert not at.exception
    assert metrics(at)["Stations"] == "2"
    assert any("1 rows of the file were rejected" in w.value for w in at.warning)
    rejected = frame_with(at, "reason")
    assert list(rejected["row"]) == [3]
    assert list(rejected["column"]) == ["lon"]
    names = list(at.data_editor[0].value["name"])
    assert names[0] == EVIL  # shown as text by the table
    script = json.dumps(map_args(at))
    assert EVIL not in script
    assert "<b>lib</b>" not in script


def test_stations_from_an_excel_file_with_a_rejected_row() -> None:
    at = fresh()
    accepted = list(at.get("file_uploader")[0].proto.type)
    for suffix in (".csv", ".xlsx", ".geojson", ".gpkg", ".zip"):
        assert suffix in accepted
    table = pd.DataFrame(
        {
            "id": ["X1", "X2", "X3"],
            "name": ["North", "West", "Broken"],
            "lon": [24.9475, 24.9400, "far"],
            "lat": [60.1765, 60.1700, 60.17],
        }
    )
    buf = io.BytesIO()
    table.to_excel(buf, index=False)
    at.file_uploader(key="stations_upload").set_value(("mine.xlsx", buf.getvalue(), "x"))
    at.run()
    at.button(key="load_stations").click().run()
    assert not at.exception
    assert list(workspace(at).plan.stations["id"]) == ["X1", "X2"]
    assert metrics(at)["Stations"] == "2"
    assert share(at) > 0.95
    rejected = frame_with(at, "reason")
    assert list(rejected["row"]) == [3]
    assert list(rejected["column"]) == ["lon"]


def test_a_bad_or_oversized_file_leaves_the_plan_as_it_was() -> None:
    at = fresh()
    before = metrics(at)
    plan = workspace(at).plan
    at.file_uploader(key="stations_upload").set_value(("bad.csv", b"a,b\n1,2\n", "text/csv"))
    at.run()
    at.button(key="load_stations").click().run()
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("bad.csv" in e and "no coordinate column" in e for e in errors)
    big = b"lon,lat\n" + b"24.94,60.17\n" * 500_000
    at.file_uploader(key="stations_upload").set_value(("big.csv", big, "text/csv"))
    at.run()
    at.button(key="load_stations").click().run()
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("big.csv is 6.0 MB; station files are limited to 5 MB" in e for e in errors)
    assert metrics(at) == before
    assert workspace(at).plan is plan


def test_interface_in_chinese() -> None:
    at = fresh()
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert not at.exception
    labels = list(metrics(at))
    assert labels == ["生活圈内人口占比", "未覆盖人口", "服务站数", "覆盖缺口区"]
    assert metrics(at)["服务站数"] == "3"
    layer_names = str(map_args(at)["layer_control"])
    assert json.dumps("服务站")[1:-1] in layer_names or "服务站" in layer_names


# ------------------------------------------------------------------ other pages


def test_coverage_page_figures_chart_and_tables() -> None:
    at = fresh("coverage")
    assert metrics(at)["People within the circle"] == "81.8%"
    assert len(at.get("vega_lite_chart")) == 1  # walk-time distribution
    table = frame_with(at, "population_only_here")
    plan = workspace(at).plan
    assert list(table["id"]) == list(plan.stations["id"])
    assert table["population_served"].sum() == pytest.approx(plan.population_served.sum(), 0.01)
    gaps = frame_with(at, "Gap zone")
    assert len(gaps) == 4
    people = gaps["People"].str.replace(",", "").astype(int)
    assert people.is_monotonic_decreasing
    assert map_args(at)["returned_objects"] == []  # this map only shows; clicks edit nothing
    assert any("Median" in c.value for c in at.caption)


def test_new_sites_page_suggests_sites_and_accepts_them() -> None:
    at = fresh("new_sites")
    assert any("No proposed sites" in c.value for c in at.caption)
    plan = workspace(at).plan
    expected = suggest_sites(plan.area.network, plan.result, k=2, method="greedy")
    assert len(expected.sites) == 2  # the demo's two gaps need two sites

    at.number_input(key="n_sites").set_value(2)
    at.radio(key="siting_method").set_value("greedy").run()
    assert at.button(key="suggest_sites").proto.label == "Suggest 2 new stations"
    at.button(key="suggest_sites").click().run()
    assert not at.exception
    assert "2 sites proposed." in [s.value.replace("\\", "") for s in at.success]
    table = frame_with(at, "population_added")
    assert list(table.columns) == [
        "rank",
        "place",
        "id",
        "population_added",
        "population_within",
        "population_only_here",
    ]
    assert list(table["id"]) == list(expected.sites["id"])
    # a readable place: the nearest named street and the coordinates (issue 15)
    assert all(re.fullmatch(r"near .+ \(lat 60\.\d{5}, lon 24\.\d{5}\)", p) for p in table["place"])
    assert list(table["population_added"]) == pytest.approx(
        list(expected.sites["population_added"])
    )
    m = metrics(at)
    assert m["People added"] == f"{expected.population_added:+,.0f}" == "+6,304"
    assert m["Share served: before → after"] == "81.8% → 100.0%"
    assert m["Gap to the best possible"] == f"{expected.gap:.2%}" == "0.00%"
    assert m["Solver status"] == "heuristic"
    assert any(f"{expected.bound:,.0f} people" in c.value for c in at.caption)
    assert metrics(at)["Stations"] == "3"  # proposed, not yet in the plan

    # Accept the first site: one edit; the second stays proposed.
    first, second = (str(i) for i in expected.sites["id"])
    at.multiselect(key="accept_ids").set_value([first]).run()
    at.button(key="accept_sites").click().run()
    assert not at.exception
    assert metrics(at)["Stations"] == "4"
    assert workspace(at).plan.stations["name"].iloc[-1].startswith("New station near ")
    added = expected.sites["population_added"].iloc[0]
    assert workspace(at).plan.population_covered == pytest.approx(
        plan.population_covered + added, abs=1
    )
    assert list(workspace(at).proposed_sites["id"]) == [second]
    assert "Solver status" not in metrics(at)  # the figures were for the plan before
    at.multiselect(key="accept_ids").set_value([second]).run()
    at.button(key="accept_sites").click().run()
    assert metrics(at)["Stations"] == "5"
    assert metrics(at)["People within the circle"] == "100.0%"
    assert workspace(at).proposed_sites is None
    at.sidebar.button(key="undo").click().run()
    assert metrics(at)["Stations"] == "4"

    # Back at the start, the exact method: optimal, the same people added.
    at.sidebar.button(key="undo").click().run()
    assert metrics(at)["Stations"] == "3"
    at.radio(key="siting_method").set_value("exact").run()
    at.button(key="suggest_sites").click().run()
    assert metrics(at)["Solver status"] == "optimal"
    assert metrics(at)["Share served: before → after"] == "81.8% → 100.0%"
    exact = frame_with(at, "population_added")
    assert exact["population_added"].sum() == pytest.approx(expected.population_added, abs=1)


def test_new_sites_page_with_everyone_served_and_in_chinese() -> None:
    # The language is set before the first run: AppTest keeps a radio's format function
    # from the run before, so a language switch followed by more runs confuses it.
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/new_sites.py").run()
    assert at.button(key="suggest_sites").proto.label == "建议 3 个新站址"
    at.sidebar.slider(key="minutes").set_value(30).run()
    assert metrics(at)["生活圈内人口占比"] == "100.0%"
    at.button(key="suggest_sites").click().run()
    assert not at.exception
    assert any("未建议站址" in s.value for s in at.success)
    assert workspace(at).proposed_sites is None
    assert any("暂无建议站址" in c.value for c in at.caption)


def test_new_sites_page_accepts_proposals_held_in_the_workspace() -> None:
    at = fresh("new_sites")
    sites = gpd.GeoDataFrame(
        {"id": ["p1", "p2"], "name": ["North", "West"], "population_gain": [5000.0, 10.0]},
        geometry=[shapely.Point(24.9475, 60.1765), shapely.Point(24.937, 60.17)],
        crs="EPSG:4326",
    )
    at.session_state["workspace"] = propose_sites(workspace(at), sites)
    at.run()
    assert len(frame_with(at, "population_gain")) == 2
    at.multiselect(key="accept_ids").set_value(["p1"]).run()
    at.button(key="accept_sites").click().run()
    assert metrics(at)["Stations"] == "4"
    assert share(at) > 0.95
    assert list(workspace(at).proposed_sites["id"]) == ["p2"]


def test_compare_page_scenarios_files_and_downloads() -> None:
    at = fresh()
    at.number_input(key="add_lon").set_value(24.9475)
    at.number_input(key="add_lat").set_value(60.1765)
    at.button(key="FormSubmitter:add_by_coordinates-Add station").click().run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    at.text_input(key="scenario_name").set_value("north").run()
    at.button(key="keep_scenario").click().run()
    assert workspace(at).scenario_names == ["baseline", "north"]
    at.selectbox(key="cmp_base").set_value("baseline")
    at.selectbox(key="cmp_other").set_value("north").run()
    m = metrics(at)
    assert m["Stations added"] == "1"
    assert m["Stations moved"] == "0"
    gained = float(m["People gained"].replace(",", ""))
    assert gained == pytest.approx(
        workspace(at).scenario("north").population_covered
        - workspace(at).scenario("baseline").population_covered,
        abs=1,
    )
    assert gained > 5000
    figures = frame_with(at, "Change")
    assert figures.loc["Stations", "Change"] == "+1"
    downloads = {b.proto.label for b in at.get("download_button")}
    assert {"coverage.gpkg", "stations.csv", "homes.csv", "summary.json"} <= downloads
    assert "Save the current plan to a file" in downloads

    # Save the current plan to a file, go back to the baseline, load the file again.
    from planner.app.workspace import scenario_json

    saved = scenario_json(workspace(at).plan, "north").encode("utf-8")
    at.selectbox(key="scenario_pick").set_value("baseline").run()
    at.button(key="open_scenario").click().run()
    assert metrics(at)["Stations"] == "3"
    at.file_uploader(key="scenario_upload").set_value(
        ("north.scenario.json", saved, "application/json")
    )
    at.run()
    at.button(key="load_scenario").click().run()
    assert metrics(at)["Stations"] == "4"
    at.file_uploader(key="scenario_upload").set_value(("x.json", b"{}", "application/json"))
    at.run()
    at.button(key="load_scenario").click().run()
    assert any("not a scenario file" in e.value.replace("\\", "") for e in at.error)
    assert metrics(at)["Stations"] == "4"


Deferred = dict[str, tuple[Callable[[], bytes], str | None, str | None]]


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> Deferred:
    """The download buttons' deferred files (what a click would build), by file name."""
    seen: Deferred = {}
    add = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kw):  # type: ignore[no-untyped-def]
        seen[str(file_name)] = (data_callable, mimetype, file_name)
        return add(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


def report_figure(html: str, key: str) -> float:
    """A figure the report states, read from its ``<data data-key=...>`` element."""
    found = re.search(rf'<data value="([^"]+)"[^>]*data-key="{key}"', html)
    assert found, key
    return float(found.group(1))


def test_compare_page_html_report_of_the_current_plan(deferred: Deferred) -> None:
    at = fresh("compare")
    button = at.get("download_button")
    report = next(b for b in button if b.proto.label == "Coverage report (HTML)")
    assert not report.proto.disabled
    assert report.proto.deferred_file_id  # built only when clicked
    build, mime, file_name = deferred["report.html"]
    assert (mime, file_name) == ("text/html", "report.html")
    html = build().decode("utf-8")
    plan = workspace(at).plan
    assert '<html lang="en">' in html
    assert report_figure(html, "share_covered") == pytest.approx(plan.share_covered)
    assert "Luckan" in html  # a station of the plan

    # Proposed sites and the Chinese interface reach the report of the next run.
    sites = suggest_sites(plan.area.network, plan.result, k=2).sites
    at.session_state["workspace"] = propose_sites(workspace(at), sites)
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert not at.exception
    assert any(b.proto.label == text("report_download", "zh") for b in at.get("download_button"))
    html = deferred["report.html"][0]().decode("utf-8")
    assert '<html lang="zh' in html
    assert all(str(i) in html for i in sites["id"])


def test_study_area_page_offline_place_and_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(study_area_module, "internet_reachable", lambda *a, **k: False)
    at = fresh("study_area")
    m = metrics(at)
    assert m["Street nodes"] == "2,459"
    assert m["Homes"] == "373"
    assert m["People"] == "34,674"
    at.radio(key="area_source").set_value("place").run()
    at.text_input(key="place_name").set_value("Kallio, Helsinki").run()
    at.button(key="download_place").click().run()
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("No internet connection" in e for e in errors)
    assert metrics(at)["Stations"] == "3"
    at.radio(key="area_source").set_value("demo").run()
    at.button(key="load_demo").click().run()
    assert workspace(at).scenario_names == ["baseline"]


# ------------------------------------------------------------------ sessions


def test_two_sessions_do_not_see_each_others_edits() -> None:
    alice, bob = fresh(), fresh()
    area = workspace(alice).plan.area
    assert workspace(bob).plan.area is area  # one network per process, shared read-only
    node_xy = area.network.node_xy.copy()
    homes = area.demand.copy()
    alice.number_input(key="add_lon").set_value(24.9475)
    alice.number_input(key="add_lat").set_value(60.1765)
    alice.button(key="FormSubmitter:add_by_coordinates-Add station").click().run()
    alice.sidebar.slider(key="minutes").set_value(10).run()
    assert metrics(alice)["Stations"] == "4"
    bob.run()
    assert metrics(bob)["Stations"] == "3"
    assert metrics(bob)["People within the circle"] == "81.8%"
    assert len(workspace(bob).plan.stations) == 3
    assert (area.network.node_xy == node_xy).all()
    assert area.demand.equals(homes)
    assert not area.network.node_xy.flags.writeable


def test_study_area_from_an_uploaded_extract_starts_with_no_station() -> None:
    import pyrosm

    data = Path(pyrosm.get_data("test_pbf")).read_bytes()
    at = fresh("study_area")
    at.radio(key="area_source").set_value("extract").run()
    at.file_uploader(key="extract_upload").set_value(
        ("kotka.osm.pbf", data, "application/octet-stream")
    )
    at.run()
    at.button(key="build_area").click().run()
    assert not at.exception, at.exception
    assert workspace(at).plan.area.name == "kotka.osm.pbf"
    m = metrics(at)
    assert m["Stations"] == "0"
    assert m["People within the circle"] == "0.0%"
    assert int(m["Homes"].replace(",", "")) > 100
    at.switch_page("app_pages/stations.py").run()
    assert not at.exception, at.exception
    assert len(list(at.get("component_instance"))) == 1
    at.switch_page("app_pages/coverage.py").run()
    assert not at.exception, at.exception


def test_building_a_study_area_shows_its_stage_and_a_failure_plainly() -> None:
    import pyrosm

    at = fresh("study_area")
    at.radio(key="area_source").set_value("extract").run()
    cut = Path(pyrosm.get_data("test_pbf")).read_bytes()[:100]  # a download cut short
    at.file_uploader(key="extract_upload").set_value(("cut.osm.pbf", cut, "x/y"))
    at.run()
    at.button(key="build_area").click().run()
    assert not at.exception, at.exception
    # The status box (which showed each stage as it started) ends in a plain failure.
    (box,) = at.status
    assert (box.label, box.state) == ("The study area could not be built", "error")
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("cut.osm.pbf: not a readable OSM PBF file" in e for e in errors), errors
    assert workspace(at).plan.area.name != "cut.osm.pbf"


def test_stage_labels_follow_the_reader_s_language() -> None:
    from app_pages import ui

    class Box:
        label = ""

        def update(self, *, label: str) -> None:
            self.label = label

    box = Box()
    show = ui.stage_reporter(box)
    show(Stage(index=2, total=3, name="area_stage_homes"))
    assert box.label == "Step 2 of 3: reading the homes ..."
    show(Stage(index=4, total=3, name="done"))  # the end: the caller sets the last label
    assert box.label == "Step 2 of 3: reading the homes ..."


def test_errors_are_shown_in_chinese_in_the_chinese_app() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/stations.py").run()
    plan = workspace(at).plan
    big = b"lon,lat\n" + b"24.94,60.17\n" * 500_000
    at.file_uploader(key="stations_upload").set_value(("big.csv", big, "text/csv"))
    at.run()
    at.button(key="load_stations").click().run()
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("big.csv 大小为 6.0 MB；服务站文件上限为 5 MB" in e for e in errors), errors
    at.file_uploader(key="stations_upload").set_value(("bad.csv", b"a,b\n1,2\n", "text/csv"))
    at.run()
    at.button(key="load_stations").click().run()
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("bad.csv：在" in e and "找不到坐标列" in e for e in errors), errors
    assert workspace(at).plan is plan


def test_access_layer_on_the_coverage_page() -> None:
    at = fresh("coverage")
    at.toggle(key="show_access").set_value(True).run()
    assert not at.exception, at.exception
    at.selectbox(key="access_method").set_value("gravity").run()
    captions = " ".join(c.value for c in at.caption)
    assert "Access (GRAVITY" in captions
    assert "Gini" in captions
    args = map_args(at)
    assert "feature_group_feature_group_4" in str(args["feature_group"])  # a fifth layer
    assert "Access (GRAVITY)" in str(args["layer_control"])
