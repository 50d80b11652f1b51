"""New sites page: suggest the best sites for new stations, then accept some into the plan.

"Suggest" runs :func:`planner.siting.models.suggest_sites` on the current plan (candidates: street
nodes in its gap zones; greedy or exact maximal covering) and holds the sites with
:func:`~planner.app.workspace.propose_sites`; the solver's figures are kept beside them for the
plan revision they were computed on. Accepting sites adds them as one undoable edit.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import projects, ui
from planner.app.projects import demo_ref
from planner.app.site_names import street_names_from_bytes, street_names_from_file, with_places
from planner.app.store import AreaRef
from planner.app.store_sql import ProjectStore
from planner.app.workspace import accept_sites, propose_sites
from planner.errors import PlannerError
from planner.siting.models import suggest_sites
from planner.sources.osm import demo_extract_path

FIGURES = "siting_figures"  # session key: the last suggestion's figures and its revision
ACCEPT = "accept_ids"  # widget key of the sites to accept (reset by every new proposal)
#: Time limit of the exact solver, seconds (greedy takes well under one on a city).
EXACT_TIME_LIMIT_S = 30.0
#: Columns of a proposal shown in the table, in this order (when present).
SHOWN = ("rank", "place", "id", "population_added", "population_within", "population_only_here")


@st.cache_resource(max_entries=4, show_spinner=False)
def _streets_of(ref_json: str) -> gpd.GeoDataFrame | None:
    """The named streets of a study area's extract (for the sites' places), once per area."""
    ref = AreaRef.from_json(ref_json)
    if ref.kind == "demo":
        return street_names_from_file(demo_extract_path())
    store = projects.store()
    if ref.kind == "extract" and ref.extract_digest and isinstance(store, ProjectStore):
        return street_names_from_bytes(*store.file(ref.extract_digest))
    return None  # a downloaded place: the sites are placed by their coordinates


def _street_names() -> gpd.GeoDataFrame | None:
    ref = st.session_state.get(projects.AREA_REF) or demo_ref(plan.area)
    try:
        return _streets_of(ref.to_json())
    except PlannerError:
        return None


def _message(n: int, enough: int | None, asked: int) -> str:
    """What a suggestion found: sites proposed, fewer are enough, or none helps."""
    if not n:
        return ui.t("no_site_helps")
    if enough is not None:
        return ui.t("sites_enough", n=n, k=asked)
    return ui.t("suggested", n=n)


ws = ui.workspace()
plan = ws.plan
st.header(ui.t("page_sites"))
ui.flash()
ui.metrics(plan)

st.caption(ui.t("siting_help", seconds=f"{EXACT_TIME_LIMIT_S:g}"))
c1, c2 = st.columns(2)
count = c1.number_input(ui.t("how_many_sites"), min_value=1, max_value=20, value=3, key="n_sites")
method = c2.radio(
    ui.t("siting_method"),
    ["greedy", "exact"],
    format_func={v: ui.t(f"method_{v}") for v in ("greedy", "exact")}.__getitem__,
    horizontal=True,
    key="siting_method",
)
if st.button(ui.t("suggest", n=int(count)), key="suggest_sites", type="primary"):
    try:
        with st.spinner(ui.t("suggesting")):
            found = suggest_sites(
                plan.area.network,
                plan.result,
                k=int(count),
                method="exact" if method == "exact" else "greedy",
                time_limit_s=EXACT_TIME_LIMIT_S,
                station_snap=plan.snapped,  # the plan's own: no second snapping of the homes
                demand_snap=plan.area.demand_snap,
            )
    except PlannerError as err:
        ui.show_error(err)  # the plan and any earlier proposal stay as they were
    else:
        n = len(found.sites)
        st.session_state[FIGURES] = {
            "revision": ws.revision,
            "added": found.population_added,
            "before": found.share_before,
            "after": found.share_after,
            "bound": found.bound,
            "gap": found.gap,
            "status": found.status,
            "unreachable": float(found.unreachable["population"].sum()),
            "enough": found.sites_enough,
            "asked": int(count),
        }
        st.session_state.pop(ACCEPT, None)  # the accept box offers this proposal's sites
        sites = with_places(found.sites, _street_names(), language=ui.lang()) if n else None
        ui.save(
            propose_sites(ws, sites),
            _message(n, found.sites_enough, int(count)),
        )
        st.rerun()

proposed = ws.proposed_sites
figures = st.session_state.get(FIGURES)
if proposed is not None and figures and figures["revision"] == ws.revision:
    m = st.columns(4)
    m[0].metric(ui.t("sites_people_added"), f"{figures['added']:+,.0f}")
    m[1].metric(ui.t("sites_share"), f"{figures['before']:.1%} → {figures['after']:.1%}")
    gap = figures["gap"]
    m[2].metric(ui.t("sites_gap"), "-" if not math.isfinite(gap) else f"{gap:.2%}")
    m[3].metric(ui.t("sites_status"), ui.t(f"status_{figures['status']}"))
    if math.isfinite(figures["bound"]):
        st.caption(ui.t("sites_bound", bound=f"{figures['bound']:,.0f}"))
    if figures.get("enough") is not None:
        st.caption(ui.t("sites_enough", n=figures["enough"], k=figures["asked"]))
    if figures["unreachable"] > 0:
        st.caption(ui.t("sites_unreachable", people=f"{figures['unreachable']:,.0f}"))

if proposed is None or not len(proposed):
    st.caption(ui.t("no_proposals"))
else:
    table = pd.DataFrame(proposed.drop(columns=proposed.geometry.name))
    shown = [c for c in SHOWN if c in table.columns]
    if "population_added" in shown:  # a siting result: its figures, not its bookkeeping
        table = table[shown]
    minutes = f"{plan.config.walk_minutes:g}"
    st.dataframe(
        table,
        hide_index=True,
        key="proposed_table",
        column_config={
            "rank": st.column_config.NumberColumn(ui.t("sites_rank")),
            "place": st.column_config.TextColumn(ui.t("site_place")),
            "population_added": st.column_config.NumberColumn(
                ui.t("sites_people_added"), format="%.0f"
            ),
            "population_within": st.column_config.NumberColumn(
                ui.t("people_within", minutes=minutes), format="%.0f"
            ),
            "population_only_here": st.column_config.NumberColumn(ui.t("only_here"), format="%.0f"),
        },
    )
    ids = table["id"].astype(str).tolist() if "id" in table.columns else []
    chosen = st.multiselect(ui.t("accept_which"), ids, default=ids, key=ACCEPT)
    c1, c2 = st.columns(2)
    if c1.button(ui.t("accept_sites"), disabled=not chosen, key="accept_sites"):
        new = accept_sites(ws, chosen)
        st.session_state.pop(ACCEPT, None)
        ui.save(new, ui.t("accepted", n=len(new.plan.stations) - len(plan.stations)))
        st.rerun()
    if c2.button(ui.t("discard_sites"), key="discard_sites"):
        st.session_state.pop(ACCEPT, None)
        ui.save(propose_sites(ws, None))
        st.rerun()
ui.plan_map(ws, key="map_sites")  # the plan's gaps before anything is proposed, too
