"""Study area page: the demo city, an uploaded OSM extract, or a place name (online)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import streamlit as st

from app_pages import projects, ui
from planner.app.area_cache import AreaCache
from planner.app.projects import place_ref, upload_ref
from planner.app.store import AreaRef
from planner.app.store_sql import ProjectStore
from planner.app.study_area import StudyArea, study_area_from_place
from planner.app.uploads import (
    DEMAND_LIMIT_MB,
    EXTRACT_LIMIT_MB,
    area_from_upload,
    demand_from_upload,
)
from planner.app.workspace import workspace_for_area
from planner.errors import PlannerError
from planner.pipeline.progress import Progress


@st.cache_resource(show_spinner=False)
def _areas() -> AreaCache:
    """Areas built from uploads (by content) and downloads (by place), shared read-only."""
    return AreaCache(size=4)


def _built(key: str, label: str, build: Callable[[Progress], StudyArea]) -> StudyArea:
    """The area for ``key``, built once, its stages shown in a status box as they start."""
    found = _areas().get(key)
    if found is not None:
        return found
    with st.status(label, expanded=False) as status:
        try:
            area = build(ui.stage_reporter(status))
        except Exception:
            status.update(label=ui.t("area_failed"), state="error")
            raise
        status.update(label=ui.t("area_ready"), state="complete")
    _areas().put(key, area)
    return area


def _switch(area: StudyArea, ref: AreaRef | None = None) -> None:
    """Start a new plan (and a new project) on another study area."""
    projects.start(area, ref)
    ui.save(workspace_for_area(area, config=ui.config()), ui.t("area_loaded", name=area.name))
    st.session_state.pop("rejected_rows", None)
    st.rerun()


ws = ui.workspace()
area = ws.plan.area
st.header(ui.t("page_area"))
ui.flash()
ui.metrics(ws.plan)
facts = st.columns(4)
facts[0].metric(ui.t("street_nodes"), f"{area.network.n_nodes:,}")
facts[1].metric(ui.t("street_km"), f"{area.network.street_m / 1000:,.1f}")
facts[2].metric(ui.t("homes"), f"{len(area.demand):,}")
facts[3].metric(ui.t("people"), f"{area.population_total:,.0f}")
st.caption(ui.t("area_note", name=area.name))

st.subheader(ui.t("choose_area"))
st.caption(ui.t("switch_resets"))
source = st.radio(
    ui.t("area_source"),
    ["demo", "extract", "place"],
    format_func={v: ui.t(f"source_{v}") for v in ("demo", "extract", "place")}.__getitem__,
    horizontal=True,
    key="area_source",
)
if source == "demo":
    st.write(ui.t("demo_text"))
    if st.button(ui.t("load_demo"), key="load_demo"):
        _switch(ui.demo_area())
elif source == "extract":
    extract = st.file_uploader(
        ui.t("extract_file"),
        type=["pbf", "osm", "bz2", "gz", "graphml", "zip", "gpkg", "geojson"],
        key="extract_upload",
        max_upload_size=EXTRACT_LIMIT_MB,
        help=ui.t("extract_help", mb=EXTRACT_LIMIT_MB),
    )
    demand = st.file_uploader(
        ui.t("demand_file"),
        type=["csv", "txt"],
        key="demand_upload",
        max_upload_size=DEMAND_LIMIT_MB,
        help=ui.t("demand_help", mb=DEMAND_LIMIT_MB),
    )
    if st.button(ui.t("build_area"), disabled=extract is None, key="build_area"):
        assert extract is not None
        data = extract.getvalue()
        extra = demand.getvalue() if demand is not None else None
        digest = hashlib.sha256(data + (extra or b"")).hexdigest()
        filename, demand_name = extract.name, demand.name if demand is not None else ""

        def build(progress: Progress) -> StudyArea:
            """The uploaded extract's area (the homes table read here, once per content)."""
            table = demand_from_upload(demand_name, extra).data if extra else None
            return area_from_upload(filename, data, demand=table, progress=progress)

        try:
            new_area = _built(f"extract:{digest}", ui.t("building"), build)
        except PlannerError as err:
            ui.show_error(err)
        else:
            keep = projects.store()
            ref = AreaRef(kind="extract", label=new_area.name)  # not kept: cannot reopen
            if isinstance(keep, ProjectStore):  # the files go into the store with the project
                dem = (demand.name, extra) if demand is not None and extra else None
                try:
                    ref = upload_ref(keep, new_area, extract=(extract.name, data), demand=dem)
                except PlannerError as err:
                    ui.show_error(err)
            _switch(new_area, ref)
else:
    place = st.text_input(ui.t("place_name"), placeholder="Kallio, Helsinki", key="place_name")
    st.caption(ui.t("place_online"))
    if st.button(ui.t("download_place"), disabled=not place.strip(), key="download_place"):
        try:
            name = place.strip()
            new_area = _built(
                f"place:{name}",
                ui.t("downloading"),
                lambda progress: study_area_from_place(name, progress=progress),
            )
        except PlannerError as err:
            ui.show_error(err)
        else:
            _switch(new_area, place_ref(place.strip(), new_area))
