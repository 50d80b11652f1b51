"""Compare and report page: named scenarios side by side, save and load, downloads.

The HTML coverage report, like the other downloads, is built only when its button is
clicked (a deferred download), from the plan, language and proposed sites of this run.
"""

from __future__ import annotations

import re

import streamlit as st

from app_pages import ui
from planner.app.compare_map import change_layer, coverage_change
from planner.app.uploads import SCENARIO_LIMIT_MB, check_size
from planner.app.views import (
    csv_bytes,
    geopackage_bytes,
    readable_figures,
    readable_table,
    report_bytes,
    summary_bytes,
)
from planner.app.workspace import (
    BASELINE,
    compare_plans,
    drop_scenario,
    edit,
    keep_scenario,
    open_scenario,
    plan_from_saved,
    read_scenario,
    scenario_json,
)
from planner.errors import PlannerError
from planner.texts import md_escape, text

CURRENT = "\u0000current"  # option value of the current plan (never a scenario name)

ws = ui.workspace()
plan = ws.plan
st.header(ui.t("page_compare"))
ui.flash()
ui.metrics(plan)

# ---------------------------------------------------------------- keep scenarios
st.subheader(ui.t("scenarios"))
c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
name = c1.text_input(ui.t("scenario_name"), value=ui.t("proposal"), key="scenario_name")
if c2.button(ui.t("keep_scenario"), key="keep_scenario"):
    try:
        ui.save(keep_scenario(ws, name), ui.t("kept", name=name.strip()))
    except PlannerError as err:
        ui.show_error(err)
    else:
        st.rerun()

options = [CURRENT, *ws.scenario_names]


LANGUAGE = ui.lang()  # bound now: a format function may be called outside this run


def _label(option: str) -> str:
    """A scenario's name as shown: the current plan and the start in the reader's words."""
    if option == CURRENT:
        return text("current_plan", LANGUAGE)
    return text("scenario_baseline", LANGUAGE) if option == BASELINE else option


c1, c2 = st.columns(2)
base_name = c1.selectbox(
    ui.t("compare_base"),
    options,
    index=min(1, len(options) - 1),
    format_func=_label,
    key="cmp_base",
)
other_name = c2.selectbox(
    ui.t("compare_other"), options, index=0, format_func=_label, key="cmp_other"
)
base = plan if base_name == CURRENT else ws.scenario(base_name)
other = plan if other_name == CURRENT else ws.scenario(other_name)
cmp = compare_plans(base, other)
counts = cmp.counts()
m = st.columns(4)
m[0].metric(ui.t("people_gained"), f"{cmp.population_gained:+,.0f}")
m[1].metric(ui.t("stations_added"), f"{counts['added']}")
m[2].metric(ui.t("stations_moved"), f"{counts['moved']}")
m[3].metric(ui.t("stations_removed"), f"{counts['removed']}")
if cmp.settings_differ:
    names = ", ".join(ui.t(f"setting_{k}") for k in cmp.settings_differ)
    st.warning(ui.t("settings_differ", names=names))
figures = readable_figures(cmp.figures, ui.lang()).rename(
    columns={"base": _label(base_name), "other": _label(other_name), "change": ui.t("change")}
)
st.dataframe(figures, key="cmp_figures")
if len(cmp.stations):
    changes = cmp.stations.assign(change=cmp.stations["change"].map(lambda c: ui.t(f"change_{c}")))
    st.dataframe(readable_table(changes, ui.lang()), hide_index=True, key="cmp_stations")

# ---------------------------------------------------------------- the two plans on maps
st.subheader(ui.t("compare_maps"))
try:
    change = coverage_change(base, other)
except PlannerError as err:  # plans of another study area (a loaded scenario file)
    ui.show_error(err)
else:
    note = ui.t(
        "compare_map_note",
        gained=f"{change.people_gained:,.0f}",
        lost=f"{change.people_lost:,.0f}",
        first=_label(base_name),
        second=_label(other_name),
    )
    st.caption(md_escape(note))
    left, right = st.columns(2)
    for column, shown, key in ((left, base, "map_cmp_base"), (right, other, "map_cmp_other")):
        with column:
            rings = change_layer(change, language=ui.lang())
            ui.plan_map(ws, key=key, plan=shown, height=440, extra_groups=[rings])

c1, c2 = st.columns(2)
if ws.scenario_names:
    pick = c1.selectbox(
        ui.t("scenario_pick"), ws.scenario_names, format_func=_label, key="scenario_pick"
    )
    if c1.button(ui.t("open_scenario"), key="open_scenario"):
        ui.save(open_scenario(ws, pick), ui.t("opened", name=_label(pick)))
        st.rerun()
    if c2.button(ui.t("drop_scenario"), key="drop_scenario"):
        ui.save(drop_scenario(ws, pick))
        st.rerun()

# ---------------------------------------------------------------- save and load
st.subheader(ui.t("save_load"))
c1, c2 = st.columns(2)
slug = re.sub(r"[^\w.-]+", "_", name.strip() or "scenario", flags=re.UNICODE)
c1.download_button(
    ui.t("save_scenario"),
    data=scenario_json(plan, name.strip() or "scenario"),
    file_name=f"{slug}.scenario.json",
    mime="application/json",
    key="save_scenario",
    on_click="ignore",  # no rerun: see "downloads" below
)
upload = c2.file_uploader(
    ui.t("load_scenario"), type=["json"], key="scenario_upload", max_upload_size=SCENARIO_LIMIT_MB
)
if upload is not None and c2.button(ui.t("load"), key="load_scenario"):
    try:
        check_size(upload.name, upload.size, limit_mb=SCENARIO_LIMIT_MB, what="scenario")
        saved = read_scenario(upload.getvalue(), source=upload.name)
        loaded = plan_from_saved(plan.area, saved)
    except PlannerError as err:
        ui.show_error(err)  # the plan is left as it was
    else:
        if saved.area_name and saved.area_name != plan.area.name:
            st.session_state["area_mismatch"] = ui.t("other_area", area=saved.area_name)
        st.session_state["pending_settings"] = {
            "walk_minutes": saved.config.walk_minutes,
            "speed_kmh": saved.config.speed_kmh,
        }
        ui.save(
            keep_scenario(edit(ws, loaded), saved.name), ui.t("scenario_loaded", name=saved.name)
        )
        st.rerun()
mismatch = st.session_state.pop("area_mismatch", None)
if mismatch:
    st.warning(mismatch)

# ---------------------------------------------------------------- downloads
# Every download button is on_click="ignore": a click that reran the app replaced every
# button's (deferred) file id while the browser still held the old ones, so a second
# click within that moment got nothing or "Deferred file ... not found" (issue 15, 5).
st.subheader(ui.t("downloads"))
st.caption(ui.t("downloads_help"))
result_plan = plan
report_inputs = ws.inputs()  # the stations' own source when they were uploaded
d = st.columns(4)
d[0].download_button(
    "coverage.gpkg",
    data=lambda: geopackage_bytes(result_plan.result),
    file_name="coverage.gpkg",
    mime="application/geopackage+sqlite3",
    key="dl_gpkg",
    on_click="ignore",
)
d[1].download_button(
    "stations.csv",
    data=lambda: csv_bytes(result_plan.stations_out),
    file_name="stations.csv",
    mime="text/csv",
    key="dl_stations",
    on_click="ignore",
)
d[2].download_button(
    "homes.csv",
    data=lambda: csv_bytes(result_plan.demand_out),
    file_name="homes.csv",
    mime="text/csv",
    key="dl_homes",
    on_click="ignore",
)
d[3].download_button(
    "summary.json",
    data=lambda: summary_bytes(
        result_plan.result, inputs=report_inputs, osm_data=result_plan.area.osm_data
    ),
    file_name="summary.json",
    mime="application/json",
    key="dl_summary",
    on_click="ignore",
)
report_language = ui.lang()
report_sites = ws.proposed_sites
report_tiles = bool(st.session_state.get("tiles", True))
st.download_button(
    ui.t("report_download"),
    data=lambda: report_bytes(
        result_plan,
        language=report_language,
        suggested_sites=report_sites,
        tiles=report_tiles,
        inputs=report_inputs,
    ),
    file_name="report.html",
    mime="text/html",
    key="dl_report",
    on_click="ignore",
    help=ui.t("report_help"),
)
