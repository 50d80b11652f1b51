"""Tests of sources.sites: stations and candidate sites from every supported format.

Round trips use real data: the social-service points of the bundled Helsinki extract
(written by the tests into each format), and points in Beijing for GCJ-02 / BD-09.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest

from planner.errors import CRSError, InputDataError, InputWarning
from planner.limits import InputLimitError, InputLimits
from planner.sources.coords import wgs84_to_bd09, wgs84_to_gcj02
from planner.sources.demand import demand_from_file
from planner.sources.osm import (
    demo_extract_path,
    stations_from_osm,
)
from planner.sources.sites import candidates_from_file, stations_from_csv, stations_from_file
from planner.sources.tables import TableSpec

GEOD = pyproj.Geod(ellps="WGS84")
SOCIAL = {"amenity": ("community_centre", "library", "social_facility")}
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
FORMATS = ["csv", "csv-bom", "csv-semicolon", "xlsx", "geojson", "gpkg", "gpkg-3067", "shp",
           "zip", "fgb"]  # fmt: skip


@pytest.fixture(scope="module")
def helsinki_stations() -> gpd.GeoDataFrame:
    """The 12 social-service points of the Helsinki extract, with a capacity column."""
    s = stations_from_osm(demo_extract_path(), tags=SOCIAL)
    return s.assign(capacity=np.arange(len(s), dtype=float) * 10.0)


def max_error_m(a: gpd.GeoSeries, b: gpd.GeoSeries) -> float:
    return float(
        np.max(GEOD.inv(a.x.to_numpy(), a.y.to_numpy(), b.x.to_numpy(), b.y.to_numpy())[2])
    )


def write_zipped_shapefile(gdf: gpd.GeoDataFrame, folder: Path, name: str = "sites") -> Path:
    shp = folder / "shp"
    shp.mkdir()
    gdf.to_file(shp / f"{name}.shp", engine="pyogrio")
    out = folder / f"{name}.zip"
    with zipfile.ZipFile(out, "w") as z:
        for f in shp.iterdir():
            z.write(f, f.name)
    return out


def writers(tmp: Path, s: gpd.GeoDataFrame) -> dict[str, Path]:
    """The stations written to every format, as a planner's colleagues would save them."""
    table = pd.DataFrame(s.drop(columns="geometry")).assign(lon=s.geometry.x, lat=s.geometry.y)
    paths = {}
    paths["csv"] = tmp / "stations.csv"
    table.to_csv(paths["csv"], index=False)
    paths["csv-bom"] = tmp / "stations_bom.csv"
    table.to_csv(paths["csv-bom"], index=False, encoding="utf-8-sig")
    paths["csv-semicolon"] = tmp / "stations_semicolon.csv"
    table.to_csv(paths["csv-semicolon"], index=False, sep=";")
    paths["xlsx"] = tmp / "stations.xlsx"
    table.to_excel(paths["xlsx"], index=False, sheet_name="stations")
    paths["geojson"] = tmp / "stations.geojson"
    s.to_file(paths["geojson"], driver="GeoJSON", engine="pyogrio")
    paths["gpkg"] = tmp / "stations.gpkg"
    s.to_file(paths["gpkg"], layer="stations", engine="pyogrio")
    paths["gpkg-3067"] = tmp / "stations_tm35.gpkg"
    s.to_crs(3067).to_file(paths["gpkg-3067"], layer="stations", engine="pyogrio")
    paths["shp"] = tmp / "stations.shp"
    s.to_file(paths["shp"], engine="pyogrio")
    paths["zip"] = write_zipped_shapefile(s, tmp)
    paths["fgb"] = tmp / "stations.fgb"
    # FlatGeobuf's spatial index reorders the features; without it the order is kept.
    s.to_file(paths["fgb"], driver="FlatGeobuf", engine="pyogrio", SPATIAL_INDEX="NO")
    return paths


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory, helsinki_stations: gpd.GeoDataFrame
) -> dict[str, Path]:
    return writers(tmp_path_factory.mktemp("formats"), helsinki_stations)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_round_trips_the_helsinki_stations(
    written: dict[str, Path], helsinki_stations: gpd.GeoDataFrame, fmt: str
) -> None:
    loaded = stations_from_file(written[fmt])
    s = helsinki_stations
    got = loaded.data
    assert len(loaded.rejected) == 0
    assert got.crs == "EPSG:4326"
    assert list(got.index) == list(range(1, len(s) + 1))
    assert got["id"].tolist() == s["id"].tolist()
    assert got["name"].tolist() == s["name"].tolist()
    assert got["category"].tolist() == s["category"].tolist()
    assert got["capacity"].dtype == np.float64
    assert got["capacity"].tolist() == s["capacity"].tolist()
    assert list(got.columns[:3]) == ["id", "name", "category"]
    # Coordinates survive every format (and the TM35 round trip) to well under a metre.
    assert max_error_m(got.geometry, s.geometry) < (1e-3 if fmt == "gpkg-3067" else 1e-6)


def test_projected_coordinate_columns_with_an_epsg_code(
    tmp_path: Path, helsinki_stations: gpd.GeoDataFrame
) -> None:
    tm35 = helsinki_stations.to_crs(3067)
    table = pd.DataFrame({"id": tm35["id"], "x": tm35.geometry.x, "y": tm35.geometry.y})
    path = tmp_path / "tm35.csv"
    table.to_csv(path, index=False)
    loaded = stations_from_file(path, crs="EPSG:3067")
    assert max_error_m(loaded.data.geometry, helsinki_stations.geometry) < 1e-3
    # Without --crs, metre values are not degrees: every row is rejected, with the hint.
    with pytest.raises(InputDataError, match=r"outside -180\.\.180 .*projected\? give --crs"):
        stations_from_file(path)


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_chinese_web_map_coordinates_in_a_chinese_csv(
    tmp_path: Path, system: str, encoding: str
) -> None:
    forward = wgs84_to_gcj02 if system == "gcj02" else wgs84_to_bd09
    x, y = forward(BEIJING["lon"].to_numpy(), BEIJING["lat"].to_numpy())
    table = BEIJING.drop(columns=["lon", "lat"]).assign(经度=x, 纬度=y)
    path = tmp_path / "驿站.csv"
    table.to_csv(path, index=False, encoding=encoding)
    loaded = stations_from_file(path, coord_system=system)
    truth = gpd.GeoSeries(gpd.points_from_xy(BEIJING["lon"], BEIJING["lat"]), crs=4326)
    assert max_error_m(loaded.data.geometry, truth) < 1e-3
    # Aliases: 编号 is the id, 名称 the name.
    assert loaded.data["id"].tolist() == BEIJING["编号"].tolist()
    assert loaded.data["name"].tolist() == BEIJING["名称"].tolist()
    # Read as WGS84 by mistake, the points would be hundreds of metres off (BD-09: more).
    as_wgs = stations_from_file(path)
    assert 100 < max_error_m(as_wgs.data.geometry, truth) < (800 if system == "gcj02" else 1500)


def test_gcj02_excel_sheet_and_geojson(tmp_path: Path) -> None:
    x, y = wgs84_to_gcj02(BEIJING["lon"].to_numpy(), BEIJING["lat"].to_numpy())
    xlsx = tmp_path / "sites.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        BEIJING.drop(columns=["lon", "lat"]).assign(经度=x, 纬度=y).to_excel(
            writer, sheet_name="站点", index=False
        )
        pd.DataFrame({"说明": ["坐标来自高德地图"]}).to_excel(
            writer, sheet_name="说明", index=False
        )
    with pytest.raises(InputDataError, match=r"2 sheets with data: \['站点', '说明'\]"):
        stations_from_file(xlsx)
    loaded = stations_from_file(xlsx, layer="站点", coord_system="GCJ-02")
    assert loaded.source == f"{xlsx}:站点"
    truth = gpd.GeoSeries(gpd.points_from_xy(BEIJING["lon"], BEIJING["lat"]), crs=4326)
    assert max_error_m(loaded.data.geometry, truth) < 1e-3
    geojson = tmp_path / "sites.geojson"
    gpd.GeoDataFrame(BEIJING[["编号"]], geometry=gpd.points_from_xy(x, y), crs=4326).to_file(
        geojson, engine="pyogrio"
    )
    assert (
        max_error_m(stations_from_file(geojson, coord_system="gcj02").data.geometry, truth) < 1e-3
    )


def test_shapefile_without_prj_needs_a_crs(tmp_path: Path, written: dict[str, Path]) -> None:
    for part in written["shp"].parent.glob("stations.*"):
        shutil.copy(part, tmp_path / part.name)
    (tmp_path / "stations.prj").unlink()
    with pytest.raises(CRSError, match=r"declares no coordinate reference system.*--crs"):
        stations_from_file(tmp_path / "stations.shp")
    loaded = stations_from_file(tmp_path / "stations.shp", crs="EPSG:4326")
    assert len(loaded.data) == 12
    with pytest.raises(CRSError, match=r"declares EPSG:3067 but --crs says EPSG:4326"):
        stations_from_file(written["gpkg-3067"], crs="EPSG:4326")


def test_layers_must_be_chosen_when_there_are_several(
    tmp_path: Path, helsinki_stations: gpd.GeoDataFrame
) -> None:
    path = tmp_path / "city.gpkg"
    helsinki_stations.to_file(path, layer="stations", engine="pyogrio")
    helsinki_stations.head(2).to_file(path, layer="proposed", engine="pyogrio")
    with pytest.raises(InputDataError, match=r"2 layers: stations \(Point\), proposed \(Point\)"):
        stations_from_file(path)
    assert len(stations_from_file(path, layer="proposed").data) == 2
    with pytest.raises(
        InputDataError, match=r"no layer 'nope'; layers: \['stations', 'proposed'\]"
    ):
        stations_from_file(path, layer="nope")
    spec = TableSpec(path, layer="stations")
    assert stations_from_file(spec).source == f"{path}:stations"


def test_capacity_must_be_a_number_but_may_be_empty(tmp_path: Path) -> None:
    path = tmp_path / "cap.csv"
    path.write_text(
        "id,lon,lat,capacity\na,24.9,60.1,12\nb,24.9,60.1,\nc,24.9,60.1,many\nd,24.9,60.1,-1\n",
        "utf-8",
    )
    loaded = stations_from_file(path)
    assert loaded.data["id"].tolist() == ["a", "b"]
    assert loaded.data["capacity"].tolist()[0] == 12.0
    assert np.isnan(loaded.data["capacity"].tolist()[1])
    assert loaded.rejected[["row", "column", "value"]].to_dict("list") == {
        "row": [3, 4],
        "column": ["capacity", "capacity"],
        "value": ["many", "-1"],
    }


def test_candidates_get_their_own_ids(tmp_path: Path) -> None:
    path = tmp_path / "cand.csv"
    path.write_text("lon,lat,name\n24.94,60.17,school yard\n24.95,60.16,old post office\n", "utf-8")
    loaded = candidates_from_file(path)
    assert loaded.data["id"].tolist() == ["C1", "C2"]
    assert loaded.data["name"].tolist() == ["school yard", "old post office"]


def test_absurd_capacities_are_rejected_by_row(tmp_path: Path) -> None:
    path = tmp_path / "cap.csv"
    path.write_text(
        "id,lon,lat,capacity\na,24.94,60.17,1e308\nb,24.94,60.17,\nc,24.94,60.17,-inf\n"
        "d,24.94,60.17,300\n",
        "utf-8",
    )
    loaded = stations_from_file(path)
    assert loaded.data["id"].tolist() == ["b", "d"]
    assert np.isnan(loaded.data["capacity"].iloc[0])
    assert loaded.data["capacity"].iloc[1] == 300
    assert loaded.rejected["row"].tolist() == [1, 3]
    assert "above 10,000,000 people" in loaded.rejected["reason"].iloc[0]


def test_european_files_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("id;name;lon;lat;capacity\nS1;Luckan;24,9365;60,1700;12,5\n", "utf-8")
    loaded = stations_from_file(TableSpec(path, decimal=","))
    assert loaded.data["capacity"].tolist() == [12.5]
    assert [(p.x, p.y) for p in loaded.data.geometry] == [(24.9365, 60.17)]
    demand = tmp_path / "eu_demand.csv"
    demand.write_text("lon;lat;population\n24,9365;60,17;1234,5\n", "utf-8")
    assert demand_from_file(demand, decimal=",").data["population"].tolist() == [1234.5]
    with pytest.raises(InputDataError, match="decimal mark"):
        TableSpec(path, decimal="·")


def test_a_decimal_comma_never_shifts_columns(tmp_path: Path) -> None:
    path = tmp_path / "stations.csv"
    path.write_text("id,name,lon,lat\nS1,Luckan,24.9365,60,17\nS2,Kamppi,24.93,60.16\n", "utf-8")
    loaded = stations_from_file(path)
    assert loaded.data["id"].tolist() == ["S2"]
    assert loaded.data["name"].tolist() == ["Kamppi"]
    assert loaded.rejected.to_dict("list")["row"] == [1]
    assert "5 fields, header has 4: a decimal comma?" in loaded.rejected["reason"].iloc[0]


def test_bom_before_gbk_keeps_the_ids(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    text = "编号,名称,lon,lat\nBJ01,天安门,116.39,39.90\nBJ02,王府井,116.41,39.91\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("gbk"))
    with pytest.warns(InputWarning, match="byte-order mark"):
        loaded = stations_from_file(path)
    assert loaded.data["id"].tolist() == ["BJ01", "BJ02"]  # never S1, S2
    assert loaded.data["name"].tolist() == ["天安门", "王府井"]


def test_station_and_home_limits(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text(
        "lon,lat,population\n" + "".join(f"24.9{i},60.1,1\n" for i in range(6)), "utf-8"
    )
    with pytest.raises(InputLimitError, match=r"many\.csv: more than 5 stations") as info:
        stations_from_file(path, limits=InputLimits(max_stations=5))
    assert "--limit max_stations=" in str(info.value)
    assert len(stations_from_file(path, limits=InputLimits(max_stations=6)).data) == 6
    assert len(candidates_from_file(path, limits=InputLimits(max_stations=5)).data) == 6
    with pytest.raises(InputLimitError, match=r"many\.csv: more than 5 demand points"):
        demand_from_file(path, limits=InputLimits(max_homes=5))


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("lon", "lat"),
        ("lng", "lat"),
        ("longitude", "latitude"),
        ("long", "lat"),
        ("x", "y"),
        ("经度", "纬度"),
        ("Lon", "LAT"),
        (" lon ", " lat "),
    ],
)
def test_coordinate_columns_are_found_by_name(tmp_path: Path, lon: str, lat: str) -> None:
    path = write_csv(tmp_path, f"name,{lat},{lon}\nfirst,60.17,24.94\nsecond,-33.5,-70.25\n")
    loaded = stations_from_csv(path)
    assert coords(loaded.data) == [(24.94, 60.17), (-70.25, -33.5)]
    assert loaded.data.crs == "EPSG:4326"
    assert loaded.data["id"].tolist() == ["S1", "S2"]
    assert loaded.data["name"].tolist() == ["first", "second"]
    assert loaded.data["category"].tolist() == ["", ""]
    # The coordinate columns become the geometry.
    assert sorted(loaded.data.columns) == ["category", "geometry", "id", "name"]
    assert len(loaded.rejected) == 0
    assert loaded.source == str(path)


def test_explicit_coordinate_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,east,north,lat\na,24.94,60.17,99\n")
    with pytest.raises(InputDataError, match=r"columns found: \['id', 'east', 'north', 'lat'\]"):
        stations_from_csv(path)
    # lat is found by name (its value is out of range); north is used when named.
    loaded = stations_from_csv(path, lon_column="east", lat_column="north")
    assert coords(loaded.data) == [(24.94, 60.17)]
    assert loaded.data["lat"].tolist() == ["99"]  # other columns are carried through
    with pytest.raises(InputDataError, match=r"no column 'easting'.*'east'"):
        stations_from_csv(path, lon_column="easting", lat_column="north")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_encodings_round_trip_chinese_names(tmp_path: Path, encoding: str) -> None:
    # Full-width brackets on purpose: they are common in Chinese names.
    names = ["朝阳区零工驿站", "海淀·就业服务站（北）", "Ünïcödé café"]
    if encoding == "gbk":
        names[2] = "plain name"  # GBK has no umlauts
    text = "id,name,category,经度,纬度\n" + "".join(
        f"{i},{n},社区,116.4{i},39.9{i}\n" for i, n in enumerate(names)
    )
    path = write_csv(tmp_path, text, encoding=encoding)
    loaded = stations_from_csv(path)
    assert loaded.data["name"].tolist() == names
    assert loaded.data["category"].tolist() == ["社区"] * 3
    # With a BOM the first header is still "id", not "\ufeffid".
    assert loaded.data["id"].tolist() == ["0", "1", "2"]
    assert coords(loaded.data) == [(116.40, 39.90), (116.41, 39.91), (116.42, 39.92)]


def test_unknown_encoding_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,lon,lat\nCafé Ålesund,1,2\n".encode("latin-1"))
    with pytest.raises(InputDataError, match=r"latin\.csv: text encoding .*--encoding"):
        stations_from_csv(path)


def test_utf16_is_read_by_its_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes("name,lon,lat\nCafé 站,24.9,60.1\n".encode("utf-16"))
    assert stations_from_csv(path).data["name"].tolist() == ["Café 站"]


def test_ids_are_strings_from_the_file_or_s_plus_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,lon,lat\n007, 24.9 ,60.1\n 12,24.8,60.2\n")
    loaded = stations_from_csv(path)
    assert loaded.data["id"].tolist() == ["007", "12"]  # kept as text, stripped
    no_id = write_csv(tmp_path, "lon,lat\n24.9,60.1\nbad,60.2\n24.7,60.3\n", name="no_id.csv")
    loaded = stations_from_csv(no_id)
    # Row numbers are 1-based data rows, kept when a row before is rejected.
    assert loaded.data["id"].tolist() == ["S1", "S3"]
    assert list(loaded.data.index) == [1, 3]


def test_every_bad_row_is_rejected_with_row_column_value_and_reason(tmp_path: Path) -> None:
    text = (
        "id,lon,lat\n"
        "good1,24.94,60.17\n"  # 1
        "r2,abc,60.17\n"  # 2: lon not a number
        "r3,24.94,\n"  # 3: lat empty
        "r4,181,60.17\n"  # 4: lon out of range
        "r5,24.94,-90.5\n"  # 5: lat out of range
        "r6,,north\n"  # 6: both bad
        "good7, 24.95 , 60.18 \n"  # 7: spaces are fine
        "r8,-180.0001,90\n"  # 8: lon just out of range (lat 90 is fine)
    )
    loaded = stations_from_csv(write_csv(tmp_path, text))
    assert loaded.data["id"].tolist() == ["good1", "good7"]
    assert coords(loaded.data) == [(24.94, 60.17), (24.95, 60.18)]
    lon_range = "outside -180..180 (WGS84 degrees expected)"
    lat_range = "outside -90..90 (WGS84 degrees expected)"
    expected = pd.DataFrame(
        [
            (2, "lon", "abc", "not a number"),
            (3, "lat", "", "not a number"),
            (4, "lon", "181", lon_range),
            (5, "lat", "-90.5", lat_range),
            (6, "lat", "north", "not a number"),
            (6, "lon", "", "not a number"),
            (8, "lon", "-180.0001", lon_range),
        ],
        columns=["row", "column", "value", "reason"],
    )
    got = loaded.rejected.astype({"row": int, "column": object, "value": object})
    pd.testing.assert_frame_equal(got, expected.astype({"column": object, "value": object}))


def test_duplicate_ids_stop_with_the_rows_named(tmp_path: Path) -> None:
    text = "id,lon,lat\na,24.9,60.1\nb,24.9,60.1\n a ,24.9,60.1\nb,24.9,60.1\nc,24.9,60.1\n"
    path = write_csv(tmp_path, text, name="dups.csv")
    with pytest.raises(InputDataError) as info:
        stations_from_csv(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "'a' on rows [1, 3]" in msg
    assert "'b' on rows [2, 4]" in msg
    assert "'c'" not in msg


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("id,lon,lat\n", "header but no data rows"),
        ("lon,lat\nx,y\n,\n", r"no row has valid coordinates in columns 'lon'/'lat' \(2 rows"),
    ],
)
def test_empty_and_useless_files(tmp_path: Path, text: str, message: str) -> None:
    path = write_csv(tmp_path, text, name="useless.csv")
    with pytest.raises(InputDataError, match=message) as info:
        stations_from_csv(path)
    assert str(path) in str(info.value)


def write_csv(
    folder: Path, text: str, *, name: str = "points.csv", encoding: str = "utf-8"
) -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def coords(gdf: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    return [(p.x, p.y) for p in gdf.geometry]
