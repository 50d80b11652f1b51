"""``planner analyze --network roads.shp``: a road line layer as the walking network."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.cli import main
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.walk.network_cache import network_from_file


def test_analyze_with_a_shapefile_network(tmp_path: Path) -> None:
    pbf = demo_extract_path()
    edges = network_from_file(pbf, use_cache=False).edges
    roads = gpd.GeoDataFrame({"class": edges["highway"]}, geometry=edges.geometry).to_crs(3067)
    roads.to_file(tmp_path / "roads.shp")
    st = stations_from_osm(pbf).head(3)
    pd.DataFrame({"lon": st.geometry.x, "lat": st.geometry.y}).to_csv(tmp_path / "s.csv")
    homes = homes_from_osm(pbf).head(200)
    pd.DataFrame(
        {"lon": homes.geometry.x, "lat": homes.geometry.y, "population": np.ones(len(homes))}
    ).to_csv(tmp_path / "d.csv")
    out = tmp_path / "out"
    argv = [
        "analyze",
        "--network",
        str(tmp_path / "roads.shp"),
        "--node-tolerance-m",
        "0.3",
        "--walkable",
        "class not in (steps)",
        "--stations",
        str(tmp_path / "s.csv"),
        "--demand",
        str(tmp_path / "d.csv"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(out),
    ]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    assert code == 0
    facts = json.loads((out / "summary.json").read_text("utf-8"))["network"]
    layer = facts["road_layer"]
    assert layer["node_tolerance_m"] == 0.3
    assert layer["lines_read"] == len(roads)
    assert layer["dropped_not_walkable"] == int((roads["class"] == "steps").sum()) > 0
    assert facts["nodes"] > 2000
