"""``planner analyze --category-minutes --require --groups --profile``: outputs, report, CLI."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import check_report_numbers

from planner.cli import main
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm

PBF = str(demo_extract_path())
TAGS = {"amenity": ["library", "pharmacy", "clinic"]}


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("circles")
    stations = stations_from_osm(PBF, tags=TAGS)
    stations.assign(lon=stations.geometry.x, lat=stations.geometry.y).drop(
        columns="geometry"
    ).to_csv(folder / "stations.csv", index=False)
    homes = homes_from_osm(PBF)
    pts = homes.to_crs(3067).geometry.centroid.to_crs(4326)
    pop = homes["population"].round(2).to_numpy()
    pd.DataFrame(
        {
            "lon": pts.x,
            "lat": pts.y,
            "population": pop,
            "elderly": np.round(pop * 0.25, 2),
            "children": np.round(pop * 0.15, 2),
        }
    ).to_csv(folder / "homes.csv", index=False)
    west, south, east, north = pts.total_bounds
    mid = (west + east) / 2
    gpd.GeoDataFrame(
        {"name": ["west", "east"]},
        geometry=[
            shapely.box(west - 1, south - 1, mid, north + 1),
            shapely.box(mid, south - 1, east + 1, north + 1),
        ],
        crs=4326,
    ).to_file(folder / "districts.geojson")
    out = folder / "results"
    argv = [
        "analyze", "--network", PBF, "--stations", str(folder / "stations.csv"),
        "--demand", str(folder / "homes.csv"), "--districts", str(folder / "districts.geojson"),
        "--out", str(out), "--category-minutes", "library=3,pharmacy=4", "--minutes", "5",
        "--require", "library,clinic", "--groups", "elderly,children",
        "--profile", "adult,wheelchair", "-q",
    ]  # fmt: skip
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(argv) == 0
    return out, stdout.getvalue()


def test_summary_blocks(analyzed: tuple[Path, str]) -> None:
    out, printed = analyzed
    s = json.loads((out / "summary.json").read_text("utf-8"))
    assert s["profile"]["name"] == "adult"
    assert s["categories"]["clinic"]["minutes"] == 5.0  # --minutes for the unlisted one
    assert s["categories"]["library"]["minutes"] == 3.0
    assert s["require"] == ["library", "clinic"]
    demand = pd.read_csv(out / "demand.csv")
    pop = demand["population"].to_numpy(dtype=float)
    want = demand["covered_library"].to_numpy(bool) & demand["covered_clinic"].to_numpy(bool)
    assert np.array_equal(demand["complete"].to_numpy(bool), want)
    assert s["share_complete"] == pytest.approx(pop[want].sum() / pop.sum(), abs=1e-3)
    for g in ("elderly", "children"):
        heads = demand[g].to_numpy(dtype=float)
        assert s["groups"][g]["population_complete"] == pytest.approx(heads[want].sum(), abs=0.1)
    prof = s["profiles"]
    assert set(prof) == {"adult", "wheelchair"}
    assert prof["wheelchair"]["speed_kmh"] == 3.6
    assert prof["wheelchair"]["share_covered"] < prof["adult"]["share_covered"]
    assert prof["adult"]["share_complete"] == s["share_complete"]
    assert "complete circle" in printed
    assert "profile wheelchair (3.6 km/h)" in printed
    assert "category library: " in printed


def test_category_layers_and_station_figures(analyzed: tuple[Path, str]) -> None:
    out, _ = analyzed
    s = json.loads((out / "summary.json").read_text("utf-8"))
    gaps = gpd.read_file(out / "coverage.gpkg", layer="category_gaps")
    for name, cat in s["categories"].items():
        assert (gaps["category"] == name).sum() == cat["gap_zones"]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert "category_gaps" in manifest["geopackage_layers"]["coverage.gpkg"]
    st = pd.read_csv(out / "stations.csv")
    assert set(st.loc[st["category"] == "library", "category_minutes"]) == {3.0}
    assert set(st.loc[st["category"] == "clinic", "category_minutes"]) == {5.0}
    assert (st["population_served_in_category"] <= st["population_served"] + 0.11).all()


def test_districts_carry_groups_and_complete(analyzed: tuple[Path, str]) -> None:
    out, _ = analyzed
    s = json.loads((out / "summary.json").read_text("utf-8"))
    d = pd.read_csv(out / "districts.csv")
    assert d["population_complete"].sum() == pytest.approx(s["population_complete"], abs=0.2)
    for g in ("elderly", "children"):
        assert d[f"group_{g}"].sum() == pytest.approx(s["groups"][g]["population"], abs=0.2)
        assert d[f"group_{g}_covered"].sum() == pytest.approx(
            s["groups"][g]["population_covered"], abs=0.2
        )
        share = d[f"group_{g}_share_complete"].to_numpy(dtype=float)
        assert ((share >= 0) & (share <= 1)).all()


def test_report_numbers_are_the_summary(analyzed: tuple[Path, str]) -> None:
    out, _ = analyzed
    s = json.loads((out / "summary.json").read_text("utf-8"))
    page = (out / "report.html").read_text("utf-8")
    for anchor in ("categories-table", "profiles-table", "groups-table", "complete-circle"):
        assert f'id="{anchor}"' in page
    assert check_report_numbers(page, s) > 40
