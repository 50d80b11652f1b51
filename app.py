"""Streamlit app: coverage of the demo city on a map (run with ``streamlit run app.py``).

A thin shell over :mod:`planner`: read widgets, build a config, make one library call,
render the result. Heavy objects are cached once per process and never mutated.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from planner.config import AnalysisConfig
from planner.coverage import CoverageResult, analyze_coverage
from planner.export import summary_dict
from planner.maps import coverage_map
from planner.network import WalkNetwork, build_walk_network
from planner.pipeline import DEMO_DESCRIPTION
from planner.sources import (
    DEMO_STATION_TAGS,
    demo_extract_path,
    graph_from_file,
    homes_from_osm,
    stations_from_osm,
)


@st.cache_resource(show_spinner="Building the Helsinki walking network ...")
def demo_inputs() -> tuple[WalkNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The demo network, stations and homes, shared read-only by all sessions."""
    path = demo_extract_path()
    network = build_walk_network(graph_from_file(path))
    return network, stations_from_osm(path, tags=DEMO_STATION_TAGS), homes_from_osm(path)


@st.cache_data(show_spinner="Computing walk times ...", max_entries=32)
def demo_coverage(walk_minutes: float, speed_kmh: float) -> CoverageResult:
    """Coverage of the demo for one setting (cached per setting)."""
    network, stations, homes = demo_inputs()
    config = AnalysisConfig(walk_minutes=walk_minutes, speed_kmh=speed_kmh)
    return analyze_coverage(network, stations, homes, config=config)


st.set_page_config(page_title="Service-circle planner", layout="wide")
st.title("15-minute service-circle planner")
st.caption(DEMO_DESCRIPTION["network"] + ". Map data © OpenStreetMap contributors.")

with st.sidebar:
    minutes = st.slider("Walk limit (minutes)", 1, 30, 15, key="minutes")
    speed = st.slider("Walking speed (km/h)", 2.0, 6.0, 4.5, 0.1, key="speed_kmh")

network, _, _ = demo_inputs()
result = demo_coverage(float(minutes), float(speed))
summary = result.summary()

c1, c2, c3, c4 = st.columns(4)
c1.metric("People within the circle", f"{summary['share_covered']:.1%}")
c2.metric("People not served", f"{summary['population_uncovered']:,.0f}")
c3.metric("Stations", f"{summary['stations']}")
c4.metric("Gap zones", f"{summary['gap_zones']}")

st_folium(coverage_map(result, streets=network.edges), height=560, use_container_width=True)

st.subheader("Stations")
st.dataframe(
    pd.DataFrame(result.stations.drop(columns="geometry")),
    column_order=["id", "name", "category", "population_served", "population_only_here"],
    hide_index=True,
)
st.subheader("Gap zones")
st.dataframe(pd.DataFrame(result.gaps.drop(columns="geometry")), hide_index=True)
st.download_button(
    "Download summary.json",
    json.dumps(summary_dict(result, inputs=DEMO_DESCRIPTION), indent=2, ensure_ascii=False),
    file_name="summary.json",
    mime="application/json",
)
