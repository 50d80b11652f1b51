"""Coverage page: who is within the circle, walk-time distribution, stations, gap zones."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from planner.app.access_layer import access_layer
from planner.app.views import (
    gap_table,
    readable_table,
    station_figures,
    walk_time_distribution,
)
from planner.report.maps import COVERED_COLOUR, UNCOVERED_COLOUR
from planner.walk.scores import METHODS


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


ws = ui.workspace()
plan = ws.plan
st.header(ui.t("page_coverage"))
ui.flash()
ui.metrics(plan)

left, right = st.columns([3, 2])
with left:
    extra = []
    if st.toggle(ui.t("access_toggle"), key="show_access"):
        method = st.selectbox(ui.t("access_method_label"), METHODS, key="access_method")
        layer = access_layer(plan, method=method, language=ui.lang())
        extra.append(layer.group)
        f = layer.figures
        st.caption(
            ui.t(
                "access_note",
                method=method.upper(),
                mean=f"{f['mean']:.3g}",
                median=f"{f['median']:.3g}",
                p10=f"{f['p10']:.3g}",
                p90=f"{f['p90']:.3g}",
                gini=f"{f['gini']:.2f}",
                none=f"{f['share_no_access']:.1%}",
                top=f"{layer.breaks[-1]:.3g}",
            )
        )
    ui.plan_map(ws, key="map_coverage", extra_groups=extra)
with right:
    st.subheader(ui.t("walk_times"))
    walk = walk_time_distribution(plan)
    chart = walk.table.rename(columns={"within": ui.t("within"), "beyond": ui.t("beyond")})
    chart.index = chart.index.rename(ui.t("minutes_axis"))
    st.bar_chart(
        chart,
        color=[COVERED_COLOUR, UNCOVERED_COLOUR],
        x_label=ui.t("minutes_axis"),
        y_label=ui.t("people"),
        stack=True,
    )
    summary = plan.summary()
    st.caption(
        ui.t(
            "walk_times_note",
            cap=f"{walk.cap_min:g}",
            median=_minutes(summary["walk_min_median"]),
            p90=_minutes(summary["walk_min_p90"]),
            unreachable=f"{walk.unreachable:,.0f}",
            off=f"{walk.off_network:,.0f}",
        )
    )

st.subheader(ui.t("per_station"))
minutes = f"{plan.config.walk_minutes:g}"
st.dataframe(
    station_figures(plan),
    hide_index=True,
    key="station_figures",
    column_config={
        "id": ui.t("id"),
        "name": ui.t("name"),
        "category": ui.t("category"),
        "lon": st.column_config.NumberColumn(ui.t("lon"), format="%.5f"),
        "lat": st.column_config.NumberColumn(ui.t("lat"), format="%.5f"),
        "on_network": ui.t("on_network"),
        "homes_served": ui.t("homes_within", minutes=minutes),
        "population_served": st.column_config.NumberColumn(
            ui.t("people_within", minutes=minutes), format="%.0f"
        ),
        "population_only_here": st.column_config.NumberColumn(ui.t("only_here"), format="%.0f"),
    },
)
st.subheader(ui.t("gap_zones"))
gaps = gap_table(plan)
if len(gaps):
    st.dataframe(readable_table(gaps, ui.lang()), hide_index=True, key="gap_table")
else:
    st.caption(ui.t("no_gaps"))
