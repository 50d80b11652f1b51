"""Service circles page: categories with their own limits, the complete circle, profiles."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from planner.app.circles import (
    APP_PROFILES,
    category_layer,
    category_table,
    circle_view,
    group_columns,
    group_table,
    plan_categories,
)
from planner.texts import md_escape

ws = ui.workspace()
plan = ws.plan
st.header(ui.t("page_circles"))
ui.flash()
profile = st.selectbox(
    ui.t("profile_label"),
    APP_PROFILES,
    format_func=lambda p: ui.t(f"profile_{p}"),
    key="circle_profile",
)
names = plan_categories(plan)
minutes: dict[str, float] = {}
required: list[str] = []
if len(names) >= 2:
    required = st.multiselect(
        ui.t("circles_require_label"), names, default=names, key="circle_require"
    )
    inputs = st.columns(min(len(names), 4))
    for i, name in enumerate(names):
        minutes[name] = inputs[i % len(inputs)].number_input(
            ui.t("circles_minutes_label", category=md_escape(name)),
            min_value=1.0,
            max_value=120.0,
            value=float(plan.config.walk_minutes),
            step=1.0,
            key=f"circle_minutes_{i}",
        )
else:
    st.caption(ui.t("circles_need_categories"))
candidates = group_columns(plan)
groups: list[str] = []
if candidates:
    groups = st.multiselect(
        ui.t("circles_groups_label"), candidates, default=candidates, key="circle_groups"
    )
view = circle_view(
    plan, profile=profile, category_minutes=minutes, require=required or None, groups=groups
)
cols = st.columns(3)
cols[0].metric(ui.t("m_share"), f"{view.result.share_covered:.1%}")
if view.categories:
    cols[1].metric(ui.t("m_complete"), f"{view.share_complete:.1%}")
    cols[2].metric(ui.t("m_complete_people"), f"{view.population_complete:,.0f}")
    names_shown = [c.name for c in view.categories]
    choice = st.selectbox(
        ui.t("circles_map_label"),
        range(len(names_shown) + 1),
        format_func=lambda i: (
            ui.t("layer_complete")
            if i == 0
            else ui.t("layer_category", category=names_shown[i - 1])
        ),
        key="circle_layer",
    )
    layer = category_layer(view, names_shown[choice - 1] if choice else None, language=ui.lang())
    ui.plan_map(ws, key="map_circles", extra_groups=[layer])
    st.dataframe(
        category_table(view),
        hide_index=True,
        key="circle_categories",
        column_config={
            "category": ui.t("category"),
            "minutes": ui.t("c_minutes"),
            "stations": ui.t("c_stations_n"),
            "population_covered": st.column_config.NumberColumn(ui.t("c_covered"), format="%.0f"),
            "share_covered": st.column_config.NumberColumn(ui.t("c_share"), format="%.1f%%"),
            "gap_zones": ui.t("c_gap_zones"),
            "required": ui.t("c_required"),
        },
    )
if view.groups:
    st.subheader(ui.t("circles_groups"))
    percent = "%.1f%%"
    shares = {
        f"share_{i}": st.column_config.NumberColumn(
            ui.t("c_group_share_in", category=c.name), format=percent
        )
        for i, c in enumerate(view.categories)
    }
    st.dataframe(
        group_table(view),
        hide_index=True,
        key="circle_groups_table",
        column_config={
            "group": ui.t("c_group"),
            "people": st.column_config.NumberColumn(ui.t("c_group_people"), format="%.0f"),
            "share_covered": st.column_config.NumberColumn(ui.t("c_group_share"), format=percent),
            "share_complete": st.column_config.NumberColumn(
                ui.t("c_group_complete"), format=percent
            ),
            **shares,
        },
    )
    st.caption(ui.t("circles_groups_app_note"))
st.caption(ui.t("circles_app_note", speed=f"{view.profile.speed_kmh:g}"))
