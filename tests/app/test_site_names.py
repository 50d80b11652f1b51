"""Proposed sites get a readable place: the nearest named street and the coordinates."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.app.site_names import (
    coordinates_text,
    nearest_street_names,
    street_names_from_file,
    with_places,
)
from planner.sources.osm import demo_extract_path

EVIL = "{{ 7*7 }}<b>Katu</b>"


@pytest.fixture(scope="module")
def streets() -> gpd.GeoDataFrame:
    return street_names_from_file(demo_extract_path())


def test_the_demo_extract_has_named_streets(streets: gpd.GeoDataFrame) -> None:
    assert len(streets) > 500
    assert streets.crs.to_epsg() == 4326
    assert (streets["name"].str.len() > 0).all()
    assert "Mannerheimintie" in set(streets["name"])


def test_nearest_named_street_matches_a_brute_force_search(streets: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(15)
    lon = rng.uniform(24.936, 24.952, 25)
    lat = rng.uniform(60.165, 60.178, 25)
    sites = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)
    got = nearest_street_names(sites, streets, max_m=150)
    metric = sites.estimate_utm_crs()
    lines = streets.to_crs(metric)
    for site, name in zip(sites.to_crs(metric).geometry, got, strict=True):
        d = lines.distance(site)
        if d.min() > 150:
            assert name == ""
        else:  # the nearest one, or one at the same distance (a corner of two streets)
            assert name in set(lines.loc[np.isclose(d, d.min()), "name"])
    assert sum(bool(n) for n in got) >= 20  # the centre is dense with named streets


def test_places_and_names_in_both_languages(streets: gpd.GeoDataFrame) -> None:
    sites = gpd.GeoDataFrame(
        {"id": ["node/1", "node/2", "node/3"], "name": ["", "", "Kept"]},
        geometry=[
            shapely.Point(24.9475, 60.1765),
            shapely.Point(-3.25, -51.5),  # far from every street
            shapely.Point(24.9475, 60.1765),
        ],
        crs=4326,
    )
    before = sites.copy()
    out = with_places(sites, streets)
    street = nearest_street_names(sites.iloc[[0]], streets)[0]
    assert street
    assert out["place"].tolist()[:2] == [
        f"near {street} (lat 60.17650, lon 24.94750)",
        "at lat -51.50000, lon -3.25000",
    ]
    assert out["name"].tolist() == [f"New station near {street}", "New station", "Kept"]
    zh = with_places(sites, streets, language="zh")
    assert zh["place"].iloc[0] == f"{street}附近（纬度 60.17650，经度 24.94750）"
    assert zh["name"].iloc[1] == "新站"
    assert sites.equals(before)  # the input is not changed
    assert with_places(sites, None)["place"].iloc[0] == "at lat 60.17650, lon 24.94750"


def test_street_names_from_osm_stay_text() -> None:
    streets = gpd.GeoDataFrame(
        {"name": [EVIL]}, geometry=[shapely.LineString([(24.0, 60.0), (24.001, 60.0)])], crs=4326
    )
    sites = gpd.GeoDataFrame(geometry=[shapely.Point(24.0005, 60.0001)], crs=4326)
    out = with_places(sites, streets)
    assert out["place"].iloc[0] == f"near {EVIL} (lat 60.00010, lon 24.00050)"
    assert out["name"].iloc[0] == f"New station near {EVIL}"


def test_files_without_names_give_coordinates_only(tmp_path: Path) -> None:
    graphml = tmp_path / "net.graphml"
    graphml.write_text("<graphml/>")
    assert street_names_from_file(graphml).empty
    broken = tmp_path / "cut.osm.pbf"
    broken.write_bytes(demo_extract_path().read_bytes()[:5000])
    assert street_names_from_file(broken).empty
    assert coordinates_text(-0.5, 51.25, "en") == "lat 51.25000, lon -0.50000"
