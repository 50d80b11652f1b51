"""Study area page: the demo city, an uploaded OSM extract, or a place name (online)."""

from __future__ import annotations

import hashlib

import streamlit as st

from app_pages import projects, ui
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


@st.cache_resource(max_entries=4, show_spinner=False)
def _extract_area(
    digest: str, filename: str, _data: bytes, demand_name: str, _demand: bytes | None
) -> StudyArea:
    """An uploaded extract's study area, cached by content (read-only, shareable)."""
    demand = demand_from_upload(demand_name, _demand).data if _demand else None
    return area_from_upload(filename, _data, demand=demand)


@st.cache_resource(max_entries=4, show_spinner=False)
def _place_area(place: str) -> StudyArea:
    """A downloaded place's study area (osmnx; needs the internet)."""
    return study_area_from_place(place)


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
        try:
            with st.spinner(ui.t("building")):
                new_area = _extract_area(
                    digest, extract.name, data, demand.name if demand else "", extra
                )
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
            with st.spinner(ui.t("downloading")):
                new_area = _place_area(place.strip())
        except PlannerError as err:
            ui.show_error(err)
        else:
            _switch(new_area, place_ref(place.strip(), new_area))
