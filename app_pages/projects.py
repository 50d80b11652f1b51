"""The session's project: reopened after a reload, saved after each change, the project list.

The page's URL carries the project's id (``?project=...``), so a reload or a link opens
the same project from the store (:mod:`planner.app.store_sql`). :func:`persist` runs at the
end of every script run and saves the workspace when it changed; a save refused because
another session saved first is shown in the sidebar with the choice to reload the
project or keep this session's plan as a new project: no edit is lost silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from app_pages import ui
from planner.app.projects import (
    ProjectLink,
    area_from_ref,
    default_name,
    demo_ref,
    new_project,
    open_project,
    save_project,
)
from planner.app.store import AreaRef
from planner.app.store_sql import ProjectStore, store_from_env
from planner.app.study_area import StudyArea
from planner.app.workspace import Workspace
from planner.errors import PlannerError, ProjectConflictError, ProjectNotFoundError
from planner.texts import error_text, md_escape

LINK = "project_link"
AREA_REF = "project_area_ref"
START_NEW = "project_start_new"
CONFLICT = "project_conflict"
STORE_PROBLEM = "project_store_problem"
QUERY = "project"


@st.cache_resource(show_spinner=False)
def store() -> ProjectStore | PlannerError:
    """The process's project store (from the environment), or why there is none."""
    try:
        return store_from_env()
    except PlannerError as err:
        return err


def _store() -> ProjectStore | None:
    s = store()
    if isinstance(s, PlannerError):
        st.session_state[STORE_PROBLEM] = error_text(s, ui.lang())
        return None
    return s


@st.cache_resource(max_entries=4, show_spinner=False)
def _stored_area(ref_json: str, _store: ProjectStore) -> StudyArea:
    """A project's study area built again from its reference (cached per process)."""
    return area_from_ref(_store, AreaRef.from_json(ref_json))


def _area_for(s: ProjectStore) -> Callable[[AreaRef], StudyArea]:
    def build(ref: AreaRef) -> StudyArea:
        return ui.demo_area() if ref.kind == "demo" else _stored_area(ref.to_json(), s)

    return build


def _use(link: ProjectLink, ws: Workspace) -> None:
    """Make an opened project the session's (settings go to the sidebar on the next run)."""
    st.session_state[ui.WS] = ws
    st.session_state[LINK] = link
    st.session_state[AREA_REF] = link.area
    st.session_state.pop(CONFLICT, None)
    st.session_state.pop("project_name", None)
    cfg = ws.plan.config
    st.session_state["pending_settings"] = {
        "walk_minutes": cfg.walk_minutes,
        "speed_kmh": cfg.speed_kmh,
    }
    st.query_params[QUERY] = link.info.project_id


def _open(s: ProjectStore, project_id: str) -> bool:
    try:
        with st.spinner(ui.t("project_opening")):
            link, ws = open_project(s, project_id, area_for=_area_for(s))
    except PlannerError as err:
        st.session_state[ui.FLASH_ERROR] = error_text(err, ui.lang())
        return False
    _use(link, ws)
    st.session_state[ui.FLASH] = ui.t("project_opened", name=link.info.name)
    return True


def restore() -> None:
    """In a new browser session (a reload), open the project named in the URL."""
    if ui.WS in st.session_state:
        return
    project_id = st.query_params.get(QUERY)
    s = _store()
    if project_id and s is not None and not _open(s, project_id):
        del st.query_params[QUERY]


def start(area: StudyArea, ref: AreaRef | None = None) -> None:
    """A new study area was chosen: its workspace starts a new project at once."""
    st.session_state[AREA_REF] = ref or demo_ref(area)
    st.session_state.pop(LINK, None)
    st.session_state[START_NEW] = True


def persist() -> None:
    """Save the session's workspace into its project when it changed (end of every run)."""
    ws: Workspace | None = st.session_state.get(ui.WS)
    s = _store()
    if ws is None or s is None or CONFLICT in st.session_state:
        return
    link: ProjectLink | None = st.session_state.get(LINK)
    try:
        if link is None:
            untouched = ws.revision == 0 and len(ws.scenarios) <= 1 and not ws.stations_source
            if untouched and not st.session_state.get(START_NEW):
                return  # nothing worth a project yet: the demo as it starts
            ref = st.session_state.get(AREA_REF) or demo_ref(ws.plan.area)
            link = new_project(s, ws, ref, name=default_name(ref, ui.lang()))
        else:
            link = save_project(s, link, ws)
    except ProjectConflictError as err:
        st.session_state[CONFLICT] = error_text(err, ui.lang())
        return
    except ProjectNotFoundError:  # deleted by another session: keep this work as a new one
        try:
            ref = link.area if link is not None else demo_ref(ws.plan.area)
            link = new_project(s, ws, ref, name=default_name(ref, ui.lang()))
        except PlannerError as err:
            st.session_state[STORE_PROBLEM] = error_text(err, ui.lang())
            return
        st.session_state[ui.FLASH_WARNING] = ui.t("project_recreated", name=link.info.name)
    except PlannerError as err:
        st.session_state[STORE_PROBLEM] = error_text(err, ui.lang())
        return
    st.session_state.pop(START_NEW, None)
    st.session_state.pop(STORE_PROBLEM, None)
    st.session_state[LINK] = link
    if st.query_params.get(QUERY) != link.info.project_id:
        st.query_params[QUERY] = link.info.project_id


def sidebar() -> None:
    """The project: its name and state, a refused save's choices, the project list."""
    s = _store()
    with st.sidebar:
        problem = st.session_state.get(STORE_PROBLEM)
        if problem:
            st.warning(md_escape(ui.t("project_store_off", detail=problem)))
        if s is None:
            return
        conflict = st.session_state.get(CONFLICT)
        link: ProjectLink | None = st.session_state.get(LINK)
        if conflict and link is not None:
            st.warning(md_escape(conflict))
            if st.button(ui.t("project_reload"), key="project_reload", width="stretch"):
                _open(s, link.info.project_id)
                st.rerun()
            if st.button(ui.t("project_keep_mine"), key="project_keep_mine", width="stretch"):
                st.session_state.pop(CONFLICT, None)
                st.session_state.pop(LINK, None)
                st.session_state[START_NEW] = True
                st.rerun()
        elif link is not None and _newer_in_store(s, link):
            st.info(md_escape(ui.t("project_newer", version=link.info.version)))
            if st.button(ui.t("project_reload"), key="project_reload_newer", width="stretch"):
                _open(s, link.info.project_id)
                st.rerun()
        with st.expander(ui.t("project"), expanded=False):
            _project_list(s, link)


def _newer_in_store(s: ProjectStore, link: ProjectLink) -> bool:
    """Whether another session saved the project since this one read or saved it."""
    try:
        return s.version(link.info.project_id) > link.info.version
    except PlannerError:
        return False


def _project_list(s: ProjectStore, link: ProjectLink | None) -> None:
    if link is None:
        st.caption(ui.t("project_unsaved"))
    else:
        info = link.info
        st.caption(md_escape(ui.t("project_now", name=info.name, version=info.version)))
        name = st.text_input(ui.t("project_rename"), value=info.name, key="project_name")
        if name.strip() and name.strip() != info.name:
            try:
                s.rename(info.project_id, name.strip())
            except PlannerError as err:
                ui.show_error(err)
            else:
                renamed = replace(info, name=name.strip())
                st.session_state[LINK] = replace(link, info=renamed)
        sure = st.checkbox(ui.t("project_delete_sure"), key="project_delete_sure")
        if st.button(ui.t("project_delete"), disabled=not sure, key="project_delete"):
            try:
                s.delete(info.project_id)
            except PlannerError as err:
                ui.show_error(err)
            else:
                _forget()
                st.session_state[ui.FLASH] = ui.t("project_deleted", name=info.name)
                st.rerun()
    try:
        projects = s.list_projects()
    except PlannerError as err:
        ui.show_error(err)
        return
    if not projects:
        st.caption(ui.t("project_none"))
    else:
        # Plain labels, no format function: the list and the language change between runs.
        labels = {
            ui.t(
                "project_row",
                name=p.name,
                area=p.area_label,
                updated=p.updated_utc[:16].replace("T", " "),
                short=p.project_id[:8],
            ): p.project_id
            for p in projects
        }
        label = st.selectbox(ui.t("project_list"), list(labels), key="project_pick")
        pick = labels.get(label or "")
        opened = st.button(ui.t("project_open"), key="project_open", width="stretch")
        if opened and pick and _open(s, pick):
            st.rerun()
    if st.button(ui.t("project_new"), key="project_new", width="stretch"):
        _forget()
        st.rerun()


def _forget() -> None:
    """Leave the project: the session starts again on the demo, with no project yet."""
    for key in (ui.WS, LINK, AREA_REF, START_NEW, CONFLICT, "project_name", "project_delete_sure"):
        st.session_state.pop(key, None)
    if QUERY in st.query_params:
        del st.query_params[QUERY]
