"""Streamlit app: the service-circle planner (run with ``streamlit run app.py``).

A thin shell over :mod:`planner`: the sidebar reads the settings, each page in
``app_pages/`` reads its widgets, makes library calls and renders the result. The study
area (network, homes) is cached once per process and never mutated; each browser session
keeps its own :class:`planner.app.workspace.Workspace` in ``st.session_state``, saved into
its project in the project store after every change (``app_pages/projects.py``).
"""

from __future__ import annotations

import streamlit as st

from app_pages import projects, ui

ui.language_from_url()
st.set_page_config(page_title=ui.t("app_title"), layout="wide")
projects.restore()
ui.sidebar()
projects.sidebar()
page = st.navigation(ui.pages())
try:
    page.run()
finally:
    projects.persist()
