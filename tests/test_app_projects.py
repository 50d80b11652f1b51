"""Projects in the app: saved as they change, reopened in a new session, never overwritten.

Each AppTest is a new browser session; a session opened with ``?project=<id>`` is what a
reload (or a colleague's link) gives. The store is the test session's own SQLite file
(``PLANNER_STORE``, set in ``tests/conftest.py``); ``tests/app/test_store.py`` runs the
same store on PostgreSQL + PostGIS. ``tests/test_app_browser.py`` reloads a real page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.app.workspace import Workspace

APP = str(Path(__file__).resolve().parent.parent / "app.py")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def session(project: str | None = None) -> AppTest:
    """A new browser session, opened on ``project`` when given (as after a reload)."""
    at = AppTest.from_file(APP, default_timeout=120)
    if project is not None:
        at.query_params["project"] = project
    at.run()
    assert not at.exception, at.exception
    return at


def workspace(at: AppTest) -> Workspace:
    ws: Workspace = at.session_state["workspace"]
    return ws


def stations(at: AppTest) -> str:
    return {m.label: m.value for m in at.metric}["Stations"]


def add(at: AppTest, lon: float, lat: float, name: str) -> None:
    at.number_input(key="add_lon").set_value(lon)
    at.number_input(key="add_lat").set_value(lat)
    at.text_input(key="add_name").set_value(name)
    at.button(key="FormSubmitter:add_by_coordinates-Add station").click().run()
    assert not at.exception, at.exception


def project_of(at: AppTest) -> str:
    pid = at.query_params["project"]
    value = pid[0] if isinstance(pid, list) else pid
    assert value
    return str(value)


def test_an_untouched_demo_starts_no_project() -> None:
    at = session()
    assert "project" not in at.query_params
    assert "project_link" not in at.session_state


def test_work_is_saved_and_reopened_in_a_new_session() -> None:
    at = session()
    add(at, 24.9475, 60.1765, "North")
    at.sidebar.slider(key="minutes").set_value(10).run()
    pid = project_of(at)
    before = workspace(at)
    assert stations(at) == "4"

    again = session(pid)  # a reload: a new session with the page's URL
    ws = workspace(again)
    assert stations(again) == "4"
    assert ws.plan.stations["name"].tolist()[-1] == "North"
    assert again.sidebar.slider(key="minutes").value == 10
    assert ws.plan.config.walk_minutes == 10
    assert ws.plan.population_covered == pytest.approx(before.plan.population_covered)
    assert len(ws.history) == len(before.history) == 1  # settings are not undone
    assert ws.scenario_names == ["baseline"]
    assert "Opened project " in " ".join(s.value for s in again.success)
    # the undo history came back too: undo goes back to the demo's three stations
    again.sidebar.button(key="undo").click().run()
    assert stations(again) == "3"
    assert again.sidebar.slider(key="minutes").value == 10  # undo keeps the settings
    third = session(pid)
    assert stations(third) == "3"  # the undo was saved as well


def test_a_refused_save_is_shown_and_the_planner_chooses() -> None:
    first = session()
    add(first, 24.9475, 60.1765, "From A")
    pid = project_of(first)
    second = session(pid)
    add(first, 24.94, 60.168, "A again")  # saved: the project moves on to version 3
    add(second, 24.95, 60.17, "From B")  # B started from version 2: refused, not lost
    warned = " ".join(w.value for w in second.sidebar.warning)
    assert "saved by another session" in warned.replace("\\", "")
    assert "From B" in workspace(second).plan.stations["name"].tolist()  # still on screen
    assert stations(session(pid)) == "5"  # the store holds A's work only
    second.sidebar.button(key="project_reload").click().run()
    names = workspace(second).plan.stations["name"].tolist()
    assert {"From A", "A again"} <= set(names)
    assert "From B" not in names
    add(second, 24.95, 60.17, "From B")
    assert not second.sidebar.warning
    assert set(workspace(session(pid)).plan.stations["name"]) >= {"A again", "From B"}


def test_keep_mine_as_a_new_project_and_the_project_list() -> None:
    first = session()
    add(first, 24.9475, 60.1765, "A1")
    pid = project_of(first)
    second = session(pid)
    add(first, 24.94, 60.168, "A2")
    add(second, 24.95, 60.17, "B1")
    second.sidebar.button(key="project_keep_mine").click().run()
    assert not second.sidebar.warning
    mine = project_of(second)
    assert mine != pid
    assert "B1" in workspace(session(mine)).plan.stations["name"].tolist()
    assert "B1" not in workspace(session(pid)).plan.stations["name"].tolist()
    # the list opens the other project in this session
    pick = second.sidebar.selectbox(key="project_pick")
    pick.set_value(next(o for o in pick.options if o.endswith(pid[:8])))
    second.sidebar.button(key="project_open").click().run()
    assert project_of(second) == pid
    assert "A2" in workspace(second).plan.stations["name"].tolist()
    # renamed in one session, listed by the new name in another
    second.sidebar.text_input(key="project_name").set_value("Harbour <b>plan</b>").run()
    listed = session().sidebar.selectbox(key="project_pick")
    assert "Harbour <b>plan</b>" in " ".join(str(o) for o in listed.options)
    # a new project starts on the demo again, with no project until the first change
    second.sidebar.button(key="project_new").click().run()
    assert stations(second) == "3"
    assert "project" not in second.query_params


def test_a_project_that_is_gone_is_said_so() -> None:
    at = session("no-such-project")
    assert "is not in the store" in " ".join(e.value for e in at.error).replace("\\", "")
    assert stations(at) == "3"


def test_a_session_is_told_when_another_saved_before_it_edits() -> None:
    first = session()
    add(first, 24.9475, 60.1765, "A1")
    pid = project_of(first)
    second = session(pid)
    assert not second.sidebar.info
    add(first, 24.94, 60.168, "A2")
    second.run()  # any rerun, no edit of its own
    told = " ".join(i.value for i in second.sidebar.info).replace("\\", "")
    assert "Another session has saved this project since you opened it" in told
    second.sidebar.button(key="project_reload_newer").click().run()
    assert "A2" in workspace(second).plan.stations["name"].tolist()
    assert not second.sidebar.info
    assert not first.sidebar.info  # the session that saved is not told about itself


def test_an_uploaded_extract_project_reopens_from_the_store() -> None:
    import pyrosm

    data = Path(pyrosm.get_data("test_pbf")).read_bytes()
    at = session()
    at.switch_page("app_pages/study_area.py").run()
    at.radio(key="area_source").set_value("extract").run()
    at.file_uploader(key="extract_upload").set_value(
        ("kotka.osm.pbf", data, "application/octet-stream")
    )
    at.run()
    at.button(key="build_area").click().run()
    assert not at.exception, at.exception
    pid = project_of(at)  # a new study area starts its project at once
    homes = len(workspace(at).plan.area.demand)
    again = session(pid)  # the area is built again from the file kept in the store
    ws = workspace(again)
    assert ws.plan.area.name == "kotka.osm.pbf"
    assert len(ws.plan.area.demand) == homes
    assert ws.plan.area is not workspace(at).plan.area
    assert stations(again) == "0"


def test_deleting_a_project_and_editing_one_deleted_elsewhere() -> None:
    first = session()
    add(first, 24.9475, 60.1765, "Kept")
    pid = project_of(first)
    second = session(pid)
    assert second.sidebar.button(key="project_delete").proto.disabled  # needs the tick first
    second.sidebar.checkbox(key="project_delete_sure").check().run()
    second.sidebar.button(key="project_delete").click().run()
    assert "project" not in second.query_params
    assert stations(second) == "3"  # back on the demo, no project
    assert "Project " in " ".join(s.value for s in second.success)
    assert "is not in the store" in " ".join(e.value for e in session(pid).error).replace("\\", "")
    # the first session still shows its plan; its next edit is kept as a new project
    add(first, 24.94, 60.168, "After")
    warned = " ".join(w.value for w in first.warning).replace("\\", "")
    assert "deleted in another session" in warned
    second_try = project_of(first)
    assert second_try != pid
    names = workspace(session(second_try)).plan.stations["name"].tolist()
    assert {"Kept", "After"} <= set(names)
