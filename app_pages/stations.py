"""Stations page: load stations, see them on the map and in a table, add, move, delete."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from planner.app.edits import add_station, apply_station_table, remove_station, station_table
from planner.app.plan import build_plan
from planner.app.uploads import (
    STATION_LIMIT_MB,
    STATION_SUFFIXES,
    merge_stations,
    stations_from_upload,
)
from planner.app.workspace import ClickMode, edit, stations_loaded
from planner.errors import PlannerError

ws = ui.workspace()
plan = ws.plan
st.header(ui.t("page_stations"))
ui.flash()
ui.metrics(plan)

with st.expander(ui.t("upload_stations"), expanded=False):
    upload = st.file_uploader(
        ui.t("stations_file"),
        type=[suffix.lstrip(".") for suffix in STATION_SUFFIXES],
        key="stations_upload",
        max_upload_size=STATION_LIMIT_MB,
        help=ui.t("stations_file_help", mb=STATION_LIMIT_MB),
    )
    how = st.radio(
        ui.t("upload_how"),
        ["replace", "append"],
        format_func={v: ui.t(f"upload_{v}") for v in ("replace", "append")}.__getitem__,
        horizontal=True,
        key="upload_how",
    )
    if st.button(ui.t("load_stations"), disabled=upload is None, key="load_stations"):
        assert upload is not None
        try:
            loaded = stations_from_upload(upload.name, upload.getvalue())
            table = loaded.data if how == "replace" else merge_stations(plan, loaded.data)
            new = build_plan(plan.area, table, config=plan.config)
        except PlannerError as err:
            ui.show_error(err)  # the plan is left as it was
        else:
            st.session_state["rejected_rows"] = loaded.rejected
            loaded_ws = stations_loaded(ws, new, source=upload.name, append=how == "append")
            ui.save(loaded_ws, ui.t("loaded_stations", n=len(loaded.data)))
            st.rerun()
    rejected = st.session_state.get("rejected_rows")
    if rejected is not None and len(rejected):
        st.warning(ui.t("rejected_rows", n=rejected["row"].nunique()))
        st.dataframe(rejected, hide_index=True, key="rejected_table")

ids = plan.stations["id"].astype(str).tolist()
names = dict(zip(ids, plan.stations["name"].astype(str), strict=True))
if st.session_state.get("selected_station") not in ids:
    # Set, not dropped: the browser then clears the box instead of showing a deleted station.
    st.session_state["selected_station"] = None
left, right = st.columns([2, 1])
with right:
    mode: ClickMode = st.radio(
        ui.t("click_mode"),
        ["add", "move", "drag", "inspect"],
        format_func={v: ui.t(f"click_{v}") for v in ("add", "move", "drag", "inspect")}.__getitem__,
        key="click_mode",
    )
    selected = st.selectbox(
        ui.t("selected_station"),
        ids,
        format_func=lambda i: f"{i} · {names.get(i, '')}",
        index=None,
        key="selected_station",
        placeholder=ui.t("choose_station"),
    )
    if st.button(ui.t("delete_station"), disabled=selected is None, key="delete_station"):
        assert selected is not None
        ui.save(edit(ws, remove_station(plan, selected)), ui.t("deleted", id=selected))
        st.session_state.pop("selected_station", None)
        st.rerun()
    with st.form("add_by_coordinates", border=True):
        st.caption(ui.t("add_by_coordinates"))
        lon = st.number_input(ui.t("lon"), value=None, format="%.6f", key="add_lon")
        lat = st.number_input(ui.t("lat"), value=None, format="%.6f", key="add_lat")
        new_name = st.text_input(ui.t("name"), key="add_name")
        new_category = st.text_input(ui.t("category"), key="add_category")
        if st.form_submit_button(ui.t("add_station")):
            try:
                new = add_station(plan, lon, lat, name=new_name, category=new_category)  # type: ignore[arg-type]
            except PlannerError as err:
                ui.show_error(err)
            else:
                ui.save_added(edit(ws, new), str(new.stations["id"].iloc[-1]))
                st.rerun()
with left:
    ui.plan_map(ws, key="map_stations", click_mode=mode, selected=selected)

st.subheader(ui.t("station_table"))
st.caption(ui.t("station_table_help"))
with st.form("station_table_form", border=False):
    edited = st.data_editor(
        station_table(plan),
        num_rows="dynamic",
        hide_index=True,
        key=f"station_editor_{ws.revision}",
        column_config={
            "id": st.column_config.TextColumn(ui.t("id")),
            "name": st.column_config.TextColumn(ui.t("name")),
            "category": st.column_config.TextColumn(ui.t("category")),
            # No min/max here: the browser would clamp 95 to 90 silently; the plan
            # refuses an out-of-range value with a message instead.
            "lon": st.column_config.NumberColumn(ui.t("lon"), format="%.6f"),
            "lat": st.column_config.NumberColumn(ui.t("lat"), format="%.6f"),
        },
    )
    if st.form_submit_button(ui.t("apply_table")):
        try:
            new = apply_station_table(plan, edited)
        except PlannerError as err:
            ui.show_error(err)
        else:
            if new is not plan:
                ui.save(edit(ws, new), ui.t("table_applied"))
                st.rerun()
