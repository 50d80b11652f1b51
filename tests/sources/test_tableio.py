"""Tests of sources.tableio: reading each file type, and the errors for files we cannot read."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planner.errors import (
    InputDataError,
    InputFileNotFoundError,
    InputWarning,
    PlannerError,
    UnsupportedFormatError,
)
from planner.limits import InputLimitError, InputLimits
from planner.sources.demand import demand_from_csv
from planner.sources.locate import locate_points
from planner.sources.sites import stations_from_csv
from planner.sources.streets import graph_from_file
from planner.sources.tableio import TABLE_SUFFIXES, read_table


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


# ------------------------------------------------------------------ hostile tables (issue 9)


@pytest.mark.parametrize(
    ("header", "column"),
    [("lon, lon,lat", "'lon' in columns 1, 2"), ("id,lat,ID ,id ", "'id' in columns 1, 4")],
)
def test_headers_equal_once_trimmed_are_named(tmp_path: Path, header: str, column: str) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(f"{header}\n1,2,3{',4' if header.count(',') == 3 else ''}\n", "utf-8")
    with pytest.raises(InputDataError, match="duplicated column names") as info:
        read_table(path)
    assert str(info.value).startswith(f"{path}: ")
    assert column in str(info.value)


def test_duplicated_headers_in_excel_and_geojson(tmp_path: Path) -> None:
    xlsx = tmp_path / "dup.xlsx"
    pd.DataFrame([["lon", "lon", "lat"], ["1", "2", "3"]]).to_excel(xlsx, index=False, header=False)
    with pytest.raises(InputDataError, match=r"dup\.xlsx: duplicated column names.*'lon'"):
        read_table(xlsx)
    geojson = tmp_path / "dup.geojson"
    geojson.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"name":"a"," name":"b"},"geometry":{"type":"Point","coordinates":[1,2]}}]}',
        "utf-8",
    )
    with pytest.raises(InputDataError, match=r"dup\.geojson: duplicated column names.*'name'"):
        read_table(geojson)


def test_rows_with_the_wrong_number_of_fields_are_rejected_by_row(tmp_path: Path) -> None:
    path = tmp_path / "comma.csv"
    path.write_text(
        "id,name,lon,lat\n"
        "S1,Luckan,24.9365,60,17\n"  # a decimal comma: one field too many
        "S2,Kamppi,24.93,60.16\n"
        "S3,Short,24.9\n"  # one field too few
        "\n"  # blank lines are not rows
        "S4,Trailing,24.95,60.17,\n"  # a trailing delimiter carries no data: kept
        '"S5","Quoted, with comma",24.94,60.18\n',
        "utf-8",
    )
    table = read_table(path)
    # Never re-aligned, never used as an index: the kept rows keep their own numbers.
    assert table.frame.index.tolist() == [2, 4, 5]
    assert table.frame["id"].tolist() == ["S2", "S4", "S5"]
    assert table.frame["name"].tolist() == ["Kamppi", "Trailing", "Quoted, with comma"]
    assert table.rejected["row"].tolist() == [1, 3]
    assert table.rejected["value"].tolist() == ["S1,Luckan,24.9365,60,17", "S3,Short,24.9"]
    reasons = table.rejected["reason"].tolist()
    assert reasons[0].startswith("5 fields, header has 4: a decimal comma?")
    assert "--decimal ," in reasons[0]
    assert reasons[1].startswith("3 fields, header has 4: a missing value")
    points, rejected = locate_points(table)
    assert points["id"].tolist() == ["S2", "S4", "S5"]
    assert [(p.x, p.y) for p in points.geometry] == [(24.93, 60.16), (24.95, 60.17), (24.94, 60.18)]
    # Every input row is either loaded or rejected.
    assert len(points) + rejected["row"].nunique() == 5
    assert rejected["row"].tolist() == [1, 3]


def test_decimal_comma_files(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("id;name;lon;lat\nS1;Luckan;24,9365;60,1700\nS2;Kamppi;24.93;60.16\n", "utf-8")
    points, rejected = locate_points(read_table(path, decimal=","))
    assert [(p.x, p.y) for p in points.geometry] == [(24.9365, 60.17), (24.93, 60.16)]
    assert rejected.empty
    # Without --decimal , the comma numbers are not numbers: rejected, never misread.
    points, rejected = locate_points(read_table(path))
    assert points["id"].tolist() == ["S2"]
    assert rejected["row"].tolist() == [1, 1]
    commas = tmp_path / "commas.csv"
    commas.write_text("id,lon,lat\nS1,24.9,60.1\n", "utf-8")
    with pytest.raises(InputDataError, match=r"commas\.csv: --decimal , needs another field"):
        read_table(commas, decimal=",")
    with pytest.raises(InputDataError, match="decimal mark"):
        read_table(commas, decimal=":")


def test_bom_before_gbk_text_is_read_as_gbk(tmp_path: Path) -> None:
    path = tmp_path / "bom_gbk.csv"
    text = "id,名称,lon,lat\nBJ01,天安门广场,116.39,39.90\nBJ02,王府井大街,116.41,39.91\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("gbk"))
    with pytest.warns(InputWarning, match=r"bom_gbk\.csv: .*byte-order mark but is not UTF-8"):
        table = read_table(path)
    assert table.frame.columns.tolist() == ["id", "名称", "lon", "lat"]
    assert table.frame["id"].tolist() == ["BJ01", "BJ02"]
    assert table.frame["名称"].tolist() == ["天安门广场", "王府井大街"]
    # A BOM before UTF-8 is simply dropped, with no warning.
    utf8 = tmp_path / "bom_utf8.csv"
    utf8.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert read_table(utf8).frame.columns.tolist()[0] == "id"
    # An encoding given by the user wins; its BOM is dropped from the first header.
    assert read_table(utf8, encoding="utf-8").frame.columns.tolist()[0] == "id"


def test_ambiguous_encoding_asks_for_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name,lon,lat\nA1,Töölö Bibliotek,24.9,60.1\n".encode("latin-1"))
    with pytest.raises(InputDataError, match=r"latin\.csv: text encoding .*--encoding"):
        read_table(path)
    assert read_table(path, encoding="latin-1").frame["name"].tolist() == ["Töölö Bibliotek"]
    with pytest.raises(InputDataError, match=r"not valid utf-8 text .*--encoding"):
        read_table(path, encoding="utf-8")


def test_table_limits_are_checked_before_reading(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(
        ",".join(f"c{i}" for i in range(10_000)) + "\n" + ",".join(["1"] * 10_000) + "\n",
        "utf-8",
    )
    with pytest.raises(InputLimitError, match=r"wide\.csv: more than 1,000 columns") as info:
        read_table(wide)
    assert "--limit max_columns=" in str(info.value)
    assert read_table(wide, limits=InputLimits(max_columns=10_000)).frame.shape == (1, 10_000)
    geojson = tmp_path / "wide.geojson"
    props = ",".join(f'"c{i}": {i}' for i in range(10_000))
    geojson.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{'
        + props
        + '},"geometry":{"type":"Point","coordinates":[1,2]}}]}',
        "utf-8",
    )
    with pytest.raises(InputLimitError, match=r"wide\.geojson: more than 1,000 columns"):
        read_table(geojson)
    rows = tmp_path / "rows.csv"
    rows.write_text("lon,lat\n" + "1,2\n" * 11, "utf-8")
    with pytest.raises(InputLimitError, match=r"rows\.csv: more than 10 rows"):
        read_table(rows, limits=InputLimits(max_rows=10))
    assert len(read_table(rows, limits=InputLimits(max_rows=11)).frame) == 11
    with pytest.raises(InputLimitError, match=r"rows\.csv is 0\.0 MB; table files are limited"):
        read_table(rows, limits=InputLimits(max_file_mb=1e-6))
    xlsx = tmp_path / "rows.xlsx"
    pd.DataFrame({"lon": [1] * 11, "lat": [2] * 11}).to_excel(xlsx, index=False)
    with pytest.raises(InputLimitError, match=r"rows\.xlsx:Sheet1: more than 10 rows"):
        read_table(xlsx, limits=InputLimits(max_rows=10))


def test_zipped_table_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    import zipfile

    bomb = tmp_path / "stations.zip"
    with (
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z,
        z.open("stations.csv", "w") as member,
    ):
        member.write(b"lon,lat\n")
        for _ in range(200):
            member.write(b"24.9,60.1\n" * 100_000)  # 1 MB
    assert bomb.stat().st_size < 500_000
    with pytest.raises(InputLimitError, match=r"stations\.zip: the compressed file .*zip bomb"):
        read_table(bomb)


def test_unclosed_quote_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('id,lon,lat\n"a' + "x" * 200_000 + "\n", "utf-8")
    with pytest.raises(InputDataError, match=r"quote\.csv: line \d+: .*unclosed quote"):
        read_table(path)


@pytest.mark.parametrize("load", [stations_from_csv, demand_from_csv, graph_from_file])
def test_missing_file(tmp_path: Path, load: object) -> None:
    path = tmp_path / "nowhere" / "missing.csv"
    with pytest.raises(InputFileNotFoundError, match="no such file") as info:
        load(path)  # type: ignore[operator]
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, PlannerError)
    assert str(path) in str(info.value)


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="is a folder"):
        stations_from_csv(tmp_path)
