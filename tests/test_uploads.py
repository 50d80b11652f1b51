"""Uploaded files: size limits, formats, and the loaders' own errors passed on."""

from __future__ import annotations

import pytest

from planner.errors import InputDataError, UnsupportedFormatError
from planner.plan import build_plan
from planner.study_area import StudyArea
from planner.uploads import (
    area_from_upload,
    check_size,
    demand_from_upload,
    merge_stations,
    stations_from_upload,
)

GOOD = "id,name,category,lon,lat\nX1,<script>alert(1)</script>,lib,27.0,60.2\nX2,b,,999,60.2\n"


def test_station_csv_loads_with_its_rejected_rows() -> None:
    loaded = stations_from_upload("stations.csv", GOOD.encode())
    assert list(loaded.data["id"]) == ["X1"]
    assert loaded.data.loc[1, "name"] == "<script>alert(1)</script>"
    assert list(loaded.rejected["row"]) == [2]
    assert loaded.source == "stations.csv"


def test_size_limit_has_a_clear_message() -> None:
    with pytest.raises(
        InputDataError, match=r"big.csv is 6\.0 MB; station files are limited to 5 MB"
    ):
        stations_from_upload("big.csv", b"x" * 6_000_000)
    check_size("ok.csv", 10, limit_mb=1, what="station")


def test_wrong_format_and_bad_content() -> None:
    with pytest.raises(UnsupportedFormatError, match="CSV"):
        stations_from_upload("stations.xlsx", b"PK\x03\x04")
    with pytest.raises(InputDataError, match="no coordinate column"):
        stations_from_upload("s.csv", b"a,b\n1,2\n")
    with pytest.raises(UnsupportedFormatError, match="street networks are read from"):
        area_from_upload("city.shp", b"x")
    with pytest.raises(InputDataError, match="population"):
        demand_from_upload("homes.csv", b"lon,lat\n27,60\n")


def test_upload_names_cannot_escape_the_temporary_folder() -> None:
    loaded = stations_from_upload("../../etc/stations.csv", GOOD.encode())
    assert len(loaded.data) == 1


def test_appending_stations_refuses_repeated_ids(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area)
    new = stations_from_upload("s.csv", GOOD.encode()).data
    both = merge_stations(plan, new)
    assert list(both["id"]) == ["A", "B", "X1"]
    with pytest.raises(InputDataError, match="ids A are already in the plan"):
        merge_stations(plan, new.assign(id="A"))
