"""The app's defects of issue 15, each as a planner met it: every test failed before its fix.

Kept apart from ``tests/test_app.py`` (which walks every page) so that each module stays
short; the helpers are the same.
"""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import (
    APP,
    Deferred,
    deferred,  # noqa: F401  (a fixture, used by name)
    frame_with,
    fresh,
    metrics,
    workspace,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def successes(at: AppTest) -> list[str]:
    return [s.value.replace("\\", "") for s in at.success]


def errors(at: AppTest) -> list[str]:
    return [e.value.replace("\\", "") for e in at.error]


def warning_texts(at: AppTest) -> list[str]:
    return [w.value.replace("\\", "") for w in at.warning]


# ------------------------------------------------------------------ 1. accept what was proposed


def test_accept_after_a_second_suggestion_adds_what_was_proposed_last() -> None:
    at = fresh("new_sites")
    at.radio(key="siting_method").set_value("greedy")
    at.number_input(key="n_sites").set_value(1).run()
    at.button(key="suggest_sites").click().run()
    assert len(workspace(at).proposed_sites) == 1
    at.number_input(key="n_sites").set_value(2).run()
    at.button(key="suggest_sites").click().run()
    assert metrics(at)["Share served: before → after"] == "81.8% → 100.0%"
    proposed = list(workspace(at).proposed_sites["id"].astype(str))
    assert len(proposed) == 2
    assert list(at.multiselect(key="accept_ids").value) == proposed
    at.button(key="accept_sites").click().run()
    assert not at.exception
    assert metrics(at)["Stations"] == "5"
    assert metrics(at)["People within the circle"] == "100.0%"
    assert "2 sites added to the plan." in successes(at)


# ------------------------------------------------------------------ 8. a site that adds nobody


def test_exact_siting_proposes_no_site_that_adds_nobody() -> None:
    # Greedy stops at 2 sites on the demo (100 % served); exact asked for 3 proposed a
    # third that added 0 people.
    at = fresh("new_sites")
    at.radio(key="siting_method").set_value("exact")
    at.number_input(key="n_sites").set_value(3).run()
    at.button(key="suggest_sites").click().run()
    assert not at.exception
    proposed = workspace(at).proposed_sites
    assert len(proposed) == 2
    assert (proposed["population_added"] > 0).all()
    enough = (
        "2 sites are enough (asked for 3): every reachable home is served, "
        "a further site would add nobody."
    )
    assert enough in successes(at)


# ------------------------------------------------------------------ 3. a deleted selection


@pytest.mark.parametrize("how", ["button", "table"])
def test_a_deleted_station_is_no_longer_selected(how: str) -> None:
    at = fresh()
    first = str(workspace(at).plan.stations["id"].iloc[0])
    at.selectbox(key="selected_station").set_value(first).run()
    if how == "button":
        at.button(key="delete_station").click().run()
    else:
        key = f"station_editor_{workspace(at).revision}"
        at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
        at.button(key="FormSubmitter:station_table_form-Apply changes to the plan").click().run()
    assert not at.exception
    assert first not in set(workspace(at).plan.stations["id"])
    box = at.selectbox(key="selected_station")
    assert box.value is None
    assert box.proto.set_value  # the browser is told to clear the box, not left showing it


# ------------------------------------------------------------------ 4. impossible coordinates


def zh_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception, at.exception
    return at


def test_latitude_95_in_the_table_is_refused_not_clamped() -> None:
    at = fresh()
    plan = workspace(at).plan
    columns = json.loads(at.data_editor[0].proto.columns)
    assert "max_value" not in json.dumps(columns)  # the browser must not clamp it to 90
    key = f"station_editor_{workspace(at).revision}"
    at.session_state[key] = {"edited_rows": {"0": {"lat": 95.0}}}
    at.button(key="FormSubmitter:station_table_form-Apply changes to the plan").click().run()
    assert any("row 1: latitude 95" in e and "-90..90" in e for e in errors(at)), errors(at)
    assert workspace(at).plan is plan
    assert not successes(at)


def test_empty_coordinates_are_refused_in_chinese() -> None:
    at = zh_app()
    plan = workspace(at).plan
    at.button(key="FormSubmitter:add_by_coordinates-添加服务站").click().run()
    assert not at.exception
    assert any("经度和纬度" in e for e in errors(at)), errors(at)
    assert not any("must be numbers" in e for e in errors(at))
    assert workspace(at).plan is plan


def test_a_station_outside_the_study_area_is_added_with_a_warning() -> None:
    at = zh_app()
    at.number_input(key="add_lon").set_value(2.3522)  # Paris, far from the demo city
    at.number_input(key="add_lat").set_value(48.8566)
    at.button(key="FormSubmitter:add_by_coordinates-添加服务站").click().run()
    assert not at.exception
    assert metrics(at)["服务站数"] == "4"
    assert any("研究区" in w for w in warning_texts(at)), warning_texts(at)
    assert not successes(at)


# ------------------------------------------------------------------ 7. tables a planner reads


def test_compare_tables_show_readable_figures() -> None:
    at = fresh()
    at.number_input(key="add_lon").set_value(24.9475)
    at.number_input(key="add_lat").set_value(60.1765)
    at.button(key="FormSubmitter:add_by_coordinates-Add station").click().run()
    at.switch_page("app_pages/compare.py").run()
    at.selectbox(key="cmp_base").set_value("baseline").run()
    figures = frame_with(at, "Change")
    start = "baseline (the start)"  # the scenario kept at the start, in the reader's words
    assert figures.loc["Share of people within the circle", start] == "81.8%"
    assert figures.loc["People within the circle", start] == "28,370"
    assert figures.loc["Median walk time (min)", start] == "8.7"
    assert figures.loc["Stations", "Change"] == "+1"
    changes = frame_with(at, "Moved (m)")
    assert list(changes.columns) == [
        "Id",
        "Name",
        "Change",
        "Moved (m)",
        "People served (first plan)",
        "People served (second plan)",
    ]
    row = changes.iloc[0]
    assert (row["Id"], row["Change"], row["Moved (m)"]) == ("new-1", "added", "")
    assert row["People served (first plan)"] == ""
    assert "None" not in changes.to_numpy().ravel().tolist()


def test_gap_table_is_readable_in_chinese() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/coverage.py").run()
    gaps = frame_with(at, "缺口区")
    assert "gap_id" not in gaps.columns
    assert "walk_min_nearest" not in gaps.columns
    assert "到最近服务站步行（分钟）" in gaps.columns
    assert all(re.fullmatch(r"[\d,]+", v) for v in gaps["人口"])  # whole people
    assert all(re.fullmatch(r"\d+\.\d", v) for v in gaps["到最近服务站步行（分钟）"])


# ------------------------------------------------------------------ 9. smaller


def test_the_deploy_button_is_hidden() -> None:
    import tomllib
    from pathlib import Path

    config = Path(APP).with_name(".streamlit") / "config.toml"
    assert tomllib.loads(config.read_text("utf-8"))["client"]["toolbarMode"] in {
        "viewer",
        "minimal",
    }


def test_the_report_names_the_uploaded_stations_file(deferred: Deferred) -> None:  # noqa: F811
    at = fresh("stations")
    csv = b"id,name,lon,lat\nU1,Uploaded one,24.94,60.17\nU2,Uploaded two,24.945,60.172\n"
    at.file_uploader(key="stations_upload").set_value(("my_stations.csv", csv, "text/csv"))
    at.run()
    at.button(key="load_stations").click().run()
    assert not at.exception
    assert workspace(at).stations_source == "my_stations.csv"
    at.switch_page("app_pages/compare.py").run()
    html = deferred["report.html"][0]().decode("utf-8")
    assert "my_stations.csv" in html
    assert "amenity=community_centre" not in html
    summary = json.loads(deferred["summary.json"][0]())
    assert summary["inputs"]["stations"] == "my_stations.csv"


# ------------------------------------------------------------------ 9. the smaller things

#: An Excel export from a European desktop: ';' between fields, decimal commas.
EXCEL_EU = "id;name;lon;lat\nN1;Pohjoinen;24,9475;60,1765\nN2;Etelä;24,9400;60,1700\n"


def test_a_semicolon_csv_with_decimal_commas_is_accepted() -> None:
    at = fresh()
    at.file_uploader(key="stations_upload").set_value(("asemat.csv", EXCEL_EU.encode(), "text/csv"))
    at.run()
    at.button(key="load_stations").click().run()
    assert not at.exception, at.exception
    assert errors(at) == []
    assert metrics(at)["Stations"] == "2"
    xy = [(p.x, p.y) for p in workspace(at).plan.stations.geometry]
    assert xy == [(24.9475, 60.1765), (24.94, 60.17)]


def test_the_start_and_the_settings_are_named_in_chinese() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.run()
    at.sidebar.slider(key="minutes").set_value(10).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    shown = [str(o) for o in at.selectbox(key="cmp_base").options]
    assert "基准方案（初始）" in shown
    assert "baseline" not in " ".join(shown)
    assert "基准方案（初始）" in at.dataframe[0].value.columns
    assert any("步行时间标准" in w for w in warning_texts(at))  # not "walk_minutes"
    assert not any("walk_minutes" in w for w in warning_texts(at))
    picks = [str(o) for o in at.selectbox(key="scenario_pick").options]
    assert picks == ["基准方案（初始）"]


def test_the_language_is_kept_in_the_address() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert "lang" not in at.query_params
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert at.query_params["lang"] in ("zh", ["zh"])
    again = AppTest.from_file(APP, default_timeout=120)  # a reload of that address
    again.query_params["lang"] = "zh"
    again.run()
    assert not again.exception, again.exception
    assert again.sidebar.radio(key="lang").value == "zh"
    assert "生活圈内人口占比" in metrics(again)


def test_the_new_sites_page_has_a_map_before_anything_is_proposed() -> None:
    at = fresh("new_sites")
    assert workspace(at).proposed_sites is None
    assert len(list(at.get("component_instance"))) == 1


def test_compare_shows_both_plans_on_maps_with_the_homes_that_changed() -> None:
    at = fresh()
    at.number_input(key="add_lon").set_value(24.9475)
    at.number_input(key="add_lat").set_value(60.1765)
    at.button(key="FormSubmitter:add_by_coordinates-Add station").click().run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="cmp_base").set_value("baseline")
    at.selectbox(key="cmp_other").set_value("\u0000current").run()
    maps = list(at.get("component_instance"))
    assert len(maps) == 2  # side by side: the first plan and the second
    ws = workspace(at)
    from planner.app.compare_map import coverage_change

    change = coverage_change(ws.scenario("baseline"), ws.plan)
    assert change.people_gained > 0
    assert change.people_lost == 0
    gained = float(metrics(at)["People gained"].replace(",", "").lstrip("+"))
    assert gained == pytest.approx(round(change.people_gained - change.people_lost))
    note = " ".join(c.value for c in at.caption).replace("\\", "")
    assert f"homes that gain coverage ({change.people_gained:,.0f} people)" in note
    for m in maps:
        assert "#1a9850" in m.proto.json_args  # the rings of the homes that gain coverage


def test_scenario_errors_are_shown_in_chinese() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/compare.py").run()
    at.text_input(key="scenario_name").set_value("   ").run()
    at.button(key="keep_scenario").click().run()
    assert "请为方案命名。" in errors(at)
    at.file_uploader(key="scenario_upload").set_value(
        ("bad.scenario.json", b'{"kind": "other"}', "application/json")
    )
    at.run()
    at.button(key="load_scenario").click().run()
    shown = " ".join(errors(at))
    assert "bad.scenario.json：不是本规划工具保存的方案文件" in shown
    assert "not a scenario file" not in shown
