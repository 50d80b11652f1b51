"""Tests of planner.tableio: reading each file type, and the errors for files we cannot read."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planner.errors import InputDataError, UnsupportedFormatError
from planner.tableio import TABLE_SUFFIXES, locate_areas, locate_points, read_table


def test_text_tables_are_strings_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("id\tlon\tlat\n007\t24.9\t60.1\n\t24.8\t60.2\n", "utf-8")
    table = read_table(path)
    assert table.geometry is None
    assert table.crs is None
    assert list(table.frame.index) == [1, 2]
    assert table.frame.index.name == "row"
    assert table.frame["id"].tolist() == ["007", ""]
    assert table.source == str(path)


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_delimiter_is_detected(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"name{sep}lon{sep}lat\nA B{sep}24.9{sep}60.1\n", "utf-8")
    assert read_table(path).frame.to_dict("list") == {
        "name": ["A B"],
        "lon": ["24.9"],
        "lat": ["60.1"],
    }


def test_explicit_encoding(tmp_path: Path) -> None:
    path = tmp_path / "big5.csv"
    path.write_bytes("name,lon,lat\n臺北,121.5,25.0\n".encode("big5"))
    assert read_table(path, encoding="big5").frame["name"].tolist() == ["臺北"]
    with pytest.raises(InputDataError, match=r"unknown text encoding 'klingon'"):
        read_table(path, encoding="klingon")


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("notes.docx", b"PK\x03\x04", UnsupportedFormatError, "unsupported file type"),
        ("old.xls", b"\xd0\xcf\x11\xe0", UnsupportedFormatError, r"Save the sheet as \.xlsx"),
        ("broken.gpkg", b"not a database" * 20, InputDataError, "not a readable GIS file"),
        ("broken.xlsx", b"PK\x03\x04 truncated", InputDataError, "not a readable Excel file"),
        ("empty.csv", b"", InputDataError, "the file is empty"),
        ("blank.csv", b"\n\n  \n", InputDataError, "the file is empty"),
        ("header.csv", b"lon,lat\n", InputDataError, "header but no data rows"),
    ],
)
def test_files_we_cannot_read(
    tmp_path: Path, name: str, content: bytes, error: type[Exception], message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=message) as info:
        read_table(path)
    assert str(info.value).startswith(str(path))
    if error is UnsupportedFormatError and name.endswith("docx"):
        for suffix in TABLE_SUFFIXES:
            assert suffix in str(info.value)


def test_empty_layers_and_sheets(tmp_path: Path) -> None:
    geojson = tmp_path / "none.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": []}', "utf-8")
    with pytest.raises(InputDataError, match="the layer has no features"):
        read_table(geojson)
    xlsx = tmp_path / "empty.xlsx"
    pd.DataFrame().to_excel(xlsx, index=False)
    with pytest.raises(InputDataError, match="the workbook is empty"):
        read_table(xlsx)
    with pytest.raises(InputDataError, match=r"no sheet 'x'; sheets: \['Sheet1'\]"):
        read_table(xlsx, layer="x")


def test_gis_rows_are_features_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    gdf = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[shapely.Point(1, 2), shapely.Point(3, 4)], crs=3857
    )
    gdf.to_file(path, engine="pyogrio")
    table = read_table(path)
    assert list(table.frame.index) == [1, 2]
    assert list(table.geometry.index) == [1, 2]
    assert table.crs is not None
    assert table.crs.to_epsg() == 3857
    points, rejected = locate_points(table)
    assert points.crs == "EPSG:4326"
    assert len(rejected) == 0
    # Coordinate columns win over the geometry only when both are named.
    cols = tmp_path / "cols.gpkg"
    gdf.assign(east=[24.9, 25.0], north=[60.1, 60.2]).to_file(cols, engine="pyogrio")
    by_columns, _ = locate_points(read_table(cols), lon_column="east", lat_column="north")
    assert [(p.x, p.y) for p in by_columns.geometry] == [(24.9, 60.1), (25.0, 60.2)]


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


@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
def test_shapefile_text_without_cpg(tmp_path: Path, encoding: str) -> None:
    names = ["朝阳区零工驿站", "海淀·就业服务站", "Töölö"]
    if encoding == "GBK":
        names[2] = "plain"
    path = tmp_path / "sites.shp"
    gpd.GeoDataFrame({"name": names}, geometry=[shapely.Point(116.4, 39.9)] * 3, crs=4326).to_file(
        path, engine="pyogrio", encoding=encoding
    )
    (tmp_path / "sites.cpg").unlink()  # many Chinese shapefiles come without one
    assert read_table(path).frame["name"].tolist() == names
    latin = tmp_path / "latin.shp"
    gpd.GeoDataFrame({"name": ["Töölö"]}, geometry=[shapely.Point(24.9, 60.2)], crs=4326).to_file(
        latin, engine="pyogrio", encoding="ISO-8859-1"
    )
    (tmp_path / "latin.cpg").unlink()
    assert read_table(latin).frame["name"].tolist() == ["Töölö"]
