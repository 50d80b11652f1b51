"""Tests of sources.locate: placing rows as WGS84 points or areas, and rejecting the rest."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from planner.errors import InputDataError, InputWarning
from planner.sources.locate import locate_areas, locate_points
from planner.sources.sites import stations_from_csv, stations_from_file
from planner.sources.tableio import read_table


def test_locate_areas_repairs_and_rejects(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])  # self-intersecting
    geoms = [shapely.box(0, 0, 1, 1), bowtie, shapely.Point(0.5, 0.5), None]
    path = tmp_path / "areas.geojson"
    gpd.GeoDataFrame({"name": list("abcd")}, geometry=geoms, crs=4326).to_file(
        path, engine="pyogrio"
    )
    areas, rejected = locate_areas(read_table(path))
    assert areas["name"].tolist() == ["a", "b"]
    assert areas.geometry.is_valid.all()
    assert areas.geometry.iloc[1].area == pytest.approx(0.5)
    assert rejected[["row", "value", "reason"]].to_dict("list") == {
        "row": [3, 4],
        "value": ["Point", "empty"],
        "reason": ["not an area (Polygon or MultiPolygon expected)", "no geometry"],
    }
    csv = tmp_path / "t.csv"
    csv.write_text("lon,lat\n1,2\n", "utf-8")
    with pytest.raises(InputDataError, match="a table without geometry cannot give areas"):
        locate_areas(read_table(csv))


def test_the_first_row_with_an_extra_field_is_not_an_index(tmp_path: Path) -> None:
    path = tmp_path / "first.csv"
    path.write_text("id,name,lon,lat\nS1,Luckan,24.9365,60,17\n", "utf-8")
    table = read_table(path)
    with pytest.raises(InputDataError, match=r"no row has valid coordinates .* row 1: 5 fields"):
        locate_points(table)


def test_swapped_columns_are_detected_fixed_and_reported(tmp_path: Path) -> None:
    swapped = BEIJING.rename(columns={"lon": "lat", "lat": "lon"})  # lat column holds 116.x
    path = tmp_path / "swapped.csv"
    swapped.to_csv(path, index=False)
    with pytest.warns(InputWarning, match=r"swapped.csv: columns 'lon' and 'lat' look swapped"):
        loaded = stations_from_file(path)
    truth = gpd.GeoSeries(gpd.points_from_xy(BEIJING["lon"], BEIJING["lat"]), crs=4326)
    assert max_error_m(loaded.data.geometry, truth) < 1e-6
    # Naming the columns turns the guess off: then the rows are out of range.
    with pytest.raises(InputDataError, match=r"outside -90\.\.90"):
        stations_from_file(path, lon_column="lon", lat_column="lat")


def test_misspelled_coordinate_column_suggests_the_close_name(tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    path.write_text("id,longitude,lattitude\na,24.9,60.1\n", "utf-8")
    with pytest.raises(InputDataError) as info:
        stations_from_file(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: no coordinate column among ['lat', 'latitude', 'y', '纬度']")
    assert "Did you mean 'lattitude'?" in msg
    assert "--lat-column" in msg


def test_geometry_problems_are_rejected_row_by_row(tmp_path: Path) -> None:
    geoms = [
        shapely.Point(24.94, 60.17),  # 1 fine
        shapely.box(24.95, 60.16, 24.951, 60.161),  # 2 an area: a point inside it
        shapely.LineString([(24.94, 60.17), (24.95, 60.18)]),  # 3 a line: rejected
        None,  # 4 no geometry: rejected
        shapely.MultiPoint([(24.94, 60.17), (24.95, 60.18)]),  # 5 two points: rejected
        shapely.MultiPoint([(24.96, 60.175)]),  # 6 one point: fine
    ]
    path = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame({"name": list("abcdef")}, geometry=geoms, crs=4326).to_file(
        path, engine="pyogrio"
    )
    with pytest.warns(InputWarning, match=r"mixed geometry types \{'Point': 1, 'Polygon': 1"):
        loaded = stations_from_file(path)
    assert loaded.data["name"].tolist() == ["a", "b", "f"]
    assert loaded.data.geometry.iloc[1].within(geoms[1])
    assert (loaded.data.geometry.iloc[2].x, loaded.data.geometry.iloc[2].y) == (24.96, 60.175)
    assert loaded.rejected.to_dict("list") == {
        "row": [3, 4, 5],
        "column": ["geometry"] * 3,
        "value": ["LineString", "empty", "MultiPoint"],
        "reason": [
            "not a point or an area (lines do not mark a location)",
            "no geometry; every row needs a location",
            "a MultiPoint of several points; give one point per row",
        ],
    }


def test_nan_and_infinite_coordinates_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "nan.csv"
    path.write_text(
        "id,lon,lat\na,24.94,60.17\nb,NaN,60.17\nc,24.94,nan\nd,inf,60.1\ne,24.9,-Infinity\n",
        "utf-8",
    )
    loaded = stations_from_file(path)
    assert loaded.data["id"].tolist() == ["a"]
    assert loaded.rejected.to_dict("list") == {
        "row": [2, 3, 4, 5],
        "column": ["lon", "lat", "lon", "lat"],
        "value": ["NaN", "nan", "inf", "-Infinity"],
        "reason": ["not a number"] * 4,
    }
    # In an Excel sheet, empty and text cells are rejected the same way.
    xlsx = tmp_path / "nan.xlsx"
    pd.DataFrame({"lon": [24.94, None, "east"], "lat": [60.17, 60.1, 60.2]}).to_excel(
        xlsx, index=False
    )
    loaded = stations_from_file(xlsx)
    assert loaded.rejected[["row", "value"]].to_dict("list") == {
        "row": [2, 3],
        "value": ["", "east"],
    }


def test_missing_coordinate_column_lists_the_columns_found(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,name,lon,breite\na,A,24.9,60.1\n")
    with pytest.raises(InputDataError) as info:
        stations_from_csv(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: no coordinate column among ['lat', 'latitude', 'y', '纬度']")
    assert "columns found: ['id', 'name', 'lon', 'breite']" in msg
    assert "--lat-column" in msg


GEOD = pyproj.Geod(ellps="WGS84")


#: Six real places in Beijing (WGS84 lon, lat) with head counts, for the Chinese formats.
BEIJING = pd.DataFrame(
    {
        "编号": ["BJ01", "BJ02", "BJ03", "BJ04", "BJ05", "BJ06"],
        "名称": ["天安门", "王府井", "国贸", "中关村", "望京", "亦庄"],
        "lon": [116.391263, 116.410886, 116.458801, 116.310316, 116.470293, 116.506377],
        "lat": [39.907723, 39.913823, 39.909306, 39.983582, 39.996457, 39.795240],
        "人口": [1200, 3400, 2800, 5100, 7600, 4300],
    }
)


def max_error_m(a: gpd.GeoSeries, b: gpd.GeoSeries) -> float:
    return float(
        np.max(GEOD.inv(a.x.to_numpy(), a.y.to_numpy(), b.x.to_numpy(), b.y.to_numpy())[2])
    )


def write_csv(
    folder: Path, text: str, *, name: str = "points.csv", encoding: str = "utf-8"
) -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path
