"""What every page shares: cached study areas, the session's workspace, sidebar, map.

Process-wide (``st.cache_resource``): study areas and the Leaflet files, read-only.
Per browser session (``st.session_state``): the :class:`~planner.app.workspace.Workspace`
(current plan, undo history, scenarios), messages waiting to be shown, widget values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import folium
import streamlit as st
from streamlit_folium import st_folium

from planner.app.drag import drag_labels, drag_layer, drag_move
from planner.app.edits import is_off_network, move_station
from planner.app.gaps_layer import ZoneDrawings
from planner.app.homes_layer import write_homes_file
from planner.app.plan import Plan
from planner.app.plan_map import (
    base_map,
    install_leaflet,
    layer_control,
    leaflet_links,
    plan_layers,
    write_streets_file,
)
from planner.app.study_area import StudyArea, demo_study_area
from planner.app.views import headline
from planner.app.workspace import (
    ClickMode,
    Workspace,
    edit,
    handle_click,
    set_config,
    workspace_for_area,
)
from planner.config import AnalysisConfig
from planner.errors import PlannerError
from planner.pipeline.progress import Progress, Stage
from planner.texts import LANGUAGES, Language, error_text, md_escape, text

APP_DIR = Path(__file__).resolve().parent.parent
PAGES_DIR = Path(__file__).resolve().parent
WS = "workspace"
FLASH = "flash"
FLASH_ERROR = "flash_error"
FLASH_WARNING = "flash_warning"


# ------------------------------------------------------------------ shared, read-only


@st.cache_resource(show_spinner=False)
def _demo_area() -> StudyArea:
    return demo_study_area()


def demo_area() -> StudyArea:
    """The bundled Helsinki study area, built once per process and shared by all sessions.

    The first time, a spinner says so in the reader's language.
    """
    with st.spinner(t("building_demo")):
        return _demo_area()


def stage_reporter(status: Any) -> Progress:
    """A progress callback showing each stage as the label of ``status`` (an ``st.status``).

    "Step 2 of 3: reading the homes ..." in the reader's language; the stage names are text
    keys (:data:`planner.app.study_area.EXTRACT_STAGES`).
    """

    def show(stage: Stage) -> None:
        if stage.index <= stage.total:
            name = t(stage.name)
            status.update(label=t("area_stage", index=stage.index, total=stage.total, name=name))

    return show


@st.cache_resource(show_spinner=False)
def static_url() -> str | None:
    """URL path of the app's ``static/`` folder, with Leaflet copied into it.

    Leaflet comes from the installed package; None when static serving is off or the
    folder is read-only (maps then embed Leaflet as ``data:`` URIs).
    """
    if not st.get_option("server.enableStaticServing"):
        return None
    if install_leaflet(APP_DIR / "static") is None:
        return None
    prefix = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return ("/" + prefix if prefix else "") + "/app/static"


@st.cache_resource(show_spinner=False, max_entries=8)
def streets_url(area_key: str, _area: StudyArea) -> str | None:
    """URL of the area's street network file in ``static/`` (written once per area)."""
    base = static_url()
    if base is None:
        return None
    path = write_streets_file(_area, APP_DIR / "static" / "areas")
    return None if path is None else f"{base}/areas/{path.name}"


@st.cache_resource(show_spinner=False, max_entries=8)
def homes_url(area_key: str, _area: StudyArea) -> str | None:
    """URL of the area's drawn homes in ``static/`` (written once per area)."""
    base = static_url()
    if base is None:
        return None
    path = write_homes_file(_area, APP_DIR / "static" / "areas")
    return None if path is None else f"{base}/areas/{path.name}"


@st.cache_resource(show_spinner=False)
def zone_drawings() -> ZoneDrawings:
    """Gap zones encoded for the map, kept by outline for every session (pure values)."""
    return ZoneDrawings()


# ------------------------------------------------------------------ per session


def lang() -> Language:
    """The interface language chosen in the sidebar."""
    value = st.session_state.get("lang", "en")
    return value if value in LANGUAGES else "en"


def language_from_url() -> None:
    """A new session (a reload, a link) takes its language from the URL (``?lang=zh``)."""
    if "lang" not in st.session_state and st.query_params.get("lang") in LANGUAGES:
        st.session_state["lang"] = st.query_params["lang"]


def language_to_url() -> None:
    """Keep the chosen language in the URL, so a reload keeps it (English: no parameter)."""
    if lang() == "en":
        if "lang" in st.query_params:
            del st.query_params["lang"]
    elif st.query_params.get("lang") != lang():
        st.query_params["lang"] = lang()


def t(key: str, **values: object) -> str:
    """Interface text in the chosen language."""
    return text(key, lang(), **values)


def config() -> AnalysisConfig:
    """Settings from the sidebar."""
    return AnalysisConfig(
        walk_minutes=float(st.session_state.get("minutes", 15)),
        speed_kmh=float(st.session_state.get("speed_kmh", 4.5)),
    )


def workspace() -> Workspace:
    """The session's workspace under the sidebar's settings.

    Made on the demo city the first time.
    """
    ws: Workspace | None = st.session_state.get(WS)
    if ws is None:
        ws = workspace_for_area(demo_area(), config=config())
    ws = set_config(ws, config())
    st.session_state[WS] = ws
    return ws


def save(ws: Workspace, message: str | None = None) -> None:
    """Store the session's new workspace (and a message to show once)."""
    st.session_state[WS] = ws
    if message:
        st.session_state[FLASH] = message


def save_added(ws: Workspace, station_id: str) -> None:
    """Store a workspace with a station just added: a warning when it serves nobody."""
    plan = ws.plan
    if is_off_network(plan, station_id):
        metres = f"{plan.config.max_snap_m:g}"
        st.session_state[WS] = ws
        st.session_state[FLASH_WARNING] = t("station_outside_area", id=station_id, metres=metres)
    else:
        save(ws, t("station_added", id=station_id))


def flash() -> None:
    """Show the message left by the last action, once.

    Always takes one place on the page, message or not, so that the elements below keep
    their position and the browser keeps the map (and its zoom) instead of redrawing it.
    """
    slot = st.container()
    message = st.session_state.pop(FLASH, None)
    if message:
        slot.success(md_escape(message))
    doubt = st.session_state.pop(FLASH_WARNING, None)
    if doubt:
        slot.warning(md_escape(doubt))
    problem = st.session_state.pop(FLASH_ERROR, None)
    if problem:
        slot.error(md_escape(problem))


def show_error(err: BaseException) -> None:
    """Show an error in the chosen language (framed English when it has no translation)."""
    error(error_text(err, lang()))


def error(message: str) -> None:
    """Show an error whose text may hold file names or user data (shown literally)."""
    st.error(md_escape(message))


def apply_pending_settings() -> None:
    """Move settings waiting from a loaded scenario into the sidebar widgets."""
    pending = st.session_state.pop("pending_settings", None)
    if pending:
        st.session_state["minutes"] = round(pending["walk_minutes"])
        st.session_state["speed_kmh"] = round(float(pending["speed_kmh"]), 1)


# ------------------------------------------------------------------ layout


def pages() -> list[Any]:
    """The app's pages, titled in the chosen language.

    Every page has its own address (``/stations``, ``/coverage``, ...), so any of them can
    be opened directly or bookmarked. Streamlit serves its default page only at the root
    (its ``url_path`` is not an address), so the default is a hidden page that goes on to
    ``/stations`` with the query (the project) kept.
    """
    stations = st.Page(
        str(PAGES_DIR / "stations.py"), title=t("page_stations"), url_path="stations"
    )

    def home() -> None:
        st.switch_page(stations, query_params=st.query_params.to_dict())

    return [
        st.Page(home, title=t("page_stations"), url_path="home", default=True, visibility="hidden"),
        st.Page(str(PAGES_DIR / "study_area.py"), title=t("page_area"), url_path="study_area"),
        stations,
        st.Page(str(PAGES_DIR / "coverage.py"), title=t("page_coverage"), url_path="coverage"),
        st.Page(str(PAGES_DIR / "circles.py"), title=t("page_circles"), url_path="circles"),
        st.Page(str(PAGES_DIR / "new_sites.py"), title=t("page_sites"), url_path="new_sites"),
        st.Page(str(PAGES_DIR / "compare.py"), title=t("page_compare"), url_path="compare"),
    ]


def sidebar() -> None:
    """Language, walk limit, walking speed, background tiles, undo."""
    apply_pending_settings()
    with st.sidebar:
        st.radio(
            "Language / 语言",
            LANGUAGES,
            format_func=lambda code: {"en": "English", "zh": "中文"}[code],
            horizontal=True,
            key="lang",
        )
        language_to_url()
        st.slider(t("minutes"), 1, 30, 15, key="minutes")
        st.slider(t("speed"), 2.0, 6.0, 4.5, 0.1, key="speed_kmh")
        st.toggle(t("tiles"), value=True, key="tiles", help=t("tiles_help"))
        ws = workspace()
        st.caption(t("area_now", name=md_escape(ws.plan.area.name)))
        if st.button(t("undo"), disabled=not ws.can_undo, key="undo", width="stretch"):
            from planner.app.workspace import undo

            save(undo(ws), t("undone"))
            st.rerun()
        st.caption(t("osm_credit"))


def metrics(plan: Plan) -> None:
    """The headline figures of a plan in one row."""
    h = headline(plan)
    cols = st.columns(4)
    cols[0].metric(t("m_share"), f"{h.share_covered:.1%}")
    cols[1].metric(t("m_unserved"), f"{h.population_uncovered:,.0f}")
    cols[2].metric(t("metric_stations"), f"{h.stations}")
    cols[3].metric(t("metric_gaps"), f"{h.gap_zones}")


def plan_map(
    ws: Workspace,
    *,
    key: str,
    click_mode: ClickMode | None = None,
    selected: str | None = None,
    height: int = 560,
    extra_groups: Sequence[folium.FeatureGroup] = (),
    plan: Plan | None = None,
) -> None:
    """The map of the session's plan; with ``click_mode``, a click edits the plan.

    ``extra_groups`` are drawn over the plan's layers (e.g. the access layer). ``plan``
    draws another plan of the workspace (a kept scenario) instead of the current one.
    """
    shown = ws.plan if plan is None else plan
    fmap = base_map(
        shown.area,
        bands=shown.config.bands,
        language=lang(),
        links=leaflet_links(None if (base := static_url()) is None else f"{base}/leaflet"),
        tiles=bool(st.session_state.get("tiles", True)),
        streets_url=streets_url(shown.area.key, shown.area),
        homes_url=homes_url(shown.area.key, shown.area),
    )
    proposed = ws.proposed_sites if shown is ws.plan else None
    layers = plan_layers(
        shown, language=lang(), selected=selected, proposed=proposed, drawings=zone_drawings()
    )
    on_click: Callable[[], None] | None = None
    returned = ["last_clicked"] if click_mode else []
    if click_mode == "drag":
        # Its own component: the map reads what it returns only when it is first made.
        key = f"{key}_drag"
        extra_groups = [*extra_groups, drag_layer(shown, language=lang())]
        returned = ["last_object_clicked", "last_object_clicked_tooltip"]
        on_click = _drag_handler(key, drag_labels(shown, lang()))
    elif click_mode is not None:
        on_click = _click_handler(key, click_mode, selected)
    st_folium(
        fmap,
        key=key,
        height=height,
        use_container_width=True,
        feature_group_to_add=[*layers.groups, *extra_groups],
        layer_control=layer_control(),
        returned_objects=returned,
        on_change=on_click,
    )
    if layers.homes_shown < layers.homes_total:
        st.caption(t("homes_thinned", shown=layers.homes_shown, total=layers.homes_total))


def _drag_handler(key: str, labels: dict[str, str]) -> Callable[[], None]:
    def on_drag() -> None:
        ws: Workspace = st.session_state[WS]
        moved = drag_move(ws.plan, st.session_state.get(key), labels)
        if moved is None:  # a click on a marker, or a marker of an earlier plan
            return
        sid, lon, lat = moved
        try:
            new = move_station(ws.plan, sid, lon, lat)
        except PlannerError as err:
            st.session_state[FLASH_ERROR] = error_text(err, lang())
            return
        save(edit(ws, new), t("station_moved", id=sid))

    return on_drag


def _click_handler(key: str, mode: ClickMode, selected: str | None) -> Callable[[], None]:
    def on_click() -> None:
        value = st.session_state.get(key) or {}
        ws: Workspace = st.session_state[WS]
        try:
            new, sid = handle_click(ws, value.get("last_clicked"), mode=mode, selected=selected)
        except PlannerError as err:  # e.g. "move" with no station selected: say so
            st.session_state[FLASH_ERROR] = error_text(err, lang())
            return
        if sid is not None and mode == "add":
            save_added(new, sid)
            st.session_state["selected_station"] = sid
        elif sid is not None:
            save(new, t("station_moved", id=sid))

    return on_click
