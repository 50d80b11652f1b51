"""Tests of sources.tables: the checks every table loader shares (ids)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from planner.errors import InputDataError
from planner.sources.osm import demo_extract_path, stations_from_osm
from planner.sources.sites import stations_from_file

SOCIAL = {"amenity": ("community_centre", "library", "social_facility")}


@pytest.fixture(scope="module")
def helsinki_stations() -> gpd.GeoDataFrame:
    """The 12 social-service points of the Helsinki extract, with a capacity column."""
    s = stations_from_osm(demo_extract_path(), tags=SOCIAL)
    return s.assign(capacity=np.arange(len(s), dtype=float) * 10.0)


def test_duplicate_ids_in_a_gis_file(tmp_path: Path, helsinki_stations: gpd.GeoDataFrame) -> None:
    path = tmp_path / "dups.gpkg"
    helsinki_stations.assign(id=["x", "y"] * 6).to_file(path, engine="pyogrio")
    with pytest.raises(InputDataError, match=r"'x' on rows \[1, 3, 5, 7, 9, 11\]"):
        stations_from_file(path)


# ------------------------------------------------------------------ hostile tables (issue 9)


def test_duplicate_id_messages_list_at_most_twenty_rows(tmp_path: Path) -> None:
    path = tmp_path / "dups.csv"
    path.write_text("id,lon,lat\n" + "x,24.9,60.1\n" * 5000, "utf-8")
    with pytest.raises(InputDataError, match="duplicate ids") as info:
        stations_from_file(path)
    msg = str(info.value)
    assert (
        "'x' on rows [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, ...]"
        in msg
    )
    assert "(and 4,980 more)" in msg
    assert len(msg) < 400
