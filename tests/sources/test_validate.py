"""Tests of sources.validate: GeoDataFrames given to the API."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from planner.errors import (
    InputDataError,
)
from planner.sources.validate import validate_points


def gdf_points(crs: str | None = "EPSG:3857", **columns: list) -> gpd.GeoDataFrame:
    geoms = [shapely.Point(2_776_000.0, 8_438_000.0), shapely.Point(2_777_000.0, 8_439_000.0)]
    return gpd.GeoDataFrame({"id": ["a", "b"], **columns}, geometry=geoms, crs=crs, index=[10, 20])


def test_validate_points_returns_a_wgs84_copy_and_leaves_the_input_alone() -> None:
    given = gdf_points(population=[1.0, 2.0])
    before = given.copy()
    out = validate_points(given, what="demand", require=("population",))
    assert_geodataframe_equal(given, before)
    assert given.crs == "EPSG:3857"
    assert out is not given
    assert out.crs == "EPSG:4326"
    assert list(out.index) == [10, 20]
    to_wgs = pyproj.Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    for pin, pout in zip(given.geometry, out.geometry, strict=True):
        assert (pout.x, pout.y) == pytest.approx(to_wgs.transform(pin.x, pin.y))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: pd.DataFrame({"id": ["a"]}), "expected a GeoDataFrame, got DataFrame"),
        (lambda: gdf_points(crs=None), "stations: the GeoDataFrame has no CRS"),
        (
            lambda: gdf_points().set_geometry([shapely.Point(0, 0), shapely.box(0, 0, 1, 1)]),
            r"1 row\(s\) without a point geometry \(index \[20\]\)",
        ),
        (
            lambda: gdf_points().set_geometry([None, shapely.Point()]),
            r"2 row\(s\) without a point geometry \(index \[10, 20\]\)",
        ),
        (lambda: gdf_points().assign(id=["a", "a"]), r"duplicate ids \['a'\]"),
    ],
)
def test_validate_points_errors(make: object, message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        validate_points(make(), what="stations")  # type: ignore[operator]


@pytest.mark.parametrize(
    ("population", "bad_index"),
    [([1.0, -1.0], "[20]"), ([np.nan, 2.0], "[10]"), (["3", "many"], "[20]")],
)
def test_validate_points_rejects_bad_population(population: list, bad_index: str) -> None:
    with pytest.raises(InputDataError, match="population must be a number of 0 or more") as info:
        validate_points(gdf_points(population=population), what="demand", require=("population",))
    assert str(info.value).endswith(f"(index {bad_index}).")


def test_validate_points_missing_required_column() -> None:
    with pytest.raises(InputDataError, match=r"missing column\(s\) \['population'\]"):
        validate_points(gdf_points(), what="demand", require=("population",))
