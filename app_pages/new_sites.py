"""New sites page: where the siting step's suggestions will be asked for and accepted.

SITING SLOT. The siting branch provides ``planner.siting.suggest_sites``. Wire it in where
marked below: build the candidates and call it with ``ws.plan``, then
``ui.save(propose_sites(ws, sites))``. Everything after that (the proposals on the map, the
table, accepting some into the plan as one undoable edit) already works on
``Workspace.proposed_sites``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import ui
from planner.workspace import accept_sites, propose_sites

ws = ui.workspace()
st.header(ui.t("page_sites"))
ui.flash()
ui.metrics(ws.plan)

st.info(ui.t("siting_pending"))
count = st.number_input(ui.t("how_many_sites"), min_value=1, max_value=50, value=3, key="n_sites")
# --- SITING SLOT: replace `disabled=True` and add the call to suggest_sites(...) here.
st.button(ui.t("suggest", n=int(count)), disabled=True, key="suggest_sites")

proposed = ws.proposed_sites
if proposed is None or not len(proposed):
    st.caption(ui.t("no_proposals"))
else:
    table = pd.DataFrame(proposed.drop(columns=proposed.geometry.name))
    st.dataframe(table, hide_index=True, key="proposed_table")
    ids = table["id"].astype(str).tolist() if "id" in table.columns else []
    chosen = st.multiselect(ui.t("accept_which"), ids, default=ids, key="accept_ids")
    c1, c2 = st.columns(2)
    if c1.button(ui.t("accept_sites"), disabled=not chosen, key="accept_sites"):
        ui.save(accept_sites(ws, chosen), ui.t("accepted", n=len(chosen)))
        st.rerun()
    if c2.button(ui.t("discard_sites"), key="discard_sites"):
        ui.save(propose_sites(ws, None))
        st.rerun()
    ui.plan_map(ws, key="map_sites")
