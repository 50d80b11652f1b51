"""Tests of sources.tables: stations, candidates and demand from every supported format.

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
import shapely

from planner.errors import CRSError, InputDataError, InputWarning
from planner.limits import InputLimitError, InputLimits
from planner.sources.coords import wgs84_to_bd09, wgs84_to_gcj02
from planner.sources.demand import demand_from_file
from planner.sources.osm import demo_extract_path, stations_from_osm
from planner.sources.sites import candidates_from_file, stations_from_file
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


FORMATS = ["csv", "csv-bom", "csv-semicolon", "xlsx", "geojson", "gpkg", "gpkg-3067", "shp",
           "zip", "fgb"]  # fmt: skip


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


def test_duplicate_ids_in_a_gis_file(tmp_path: Path, helsinki_stations: gpd.GeoDataFrame) -> None:
    path = tmp_path / "dups.gpkg"
    helsinki_stations.assign(id=["x", "y"] * 6).to_file(path, engine="pyogrio")
    with pytest.raises(InputDataError, match=r"'x' on rows \[1, 3, 5, 7, 9, 11\]"):
        stations_from_file(path)


def test_candidates_get_their_own_ids(tmp_path: Path) -> None:
    path = tmp_path / "cand.csv"
    path.write_text("lon,lat,name\n24.94,60.17,school yard\n24.95,60.16,old post office\n", "utf-8")
    loaded = candidates_from_file(path)
    assert loaded.data["id"].tolist() == ["C1", "C2"]
    assert loaded.data["name"].tolist() == ["school yard", "old post office"]


def test_demand_points_from_geojson_with_a_chinese_head_count_column(tmp_path: Path) -> None:
    path = tmp_path / "communities.geojson"
    gpd.GeoDataFrame(
        BEIJING[["编号", "人口"]],
        geometry=gpd.points_from_xy(BEIJING["lon"], BEIJING["lat"]),
        crs=4326,
    ).to_file(path, engine="pyogrio")
    loaded = demand_from_file(path)
    assert loaded.data["id"].tolist() == BEIJING["编号"].tolist()
    assert loaded.data["population"].tolist() == [1200.0, 3400.0, 2800.0, 5100.0, 7600.0, 4300.0]
    with pytest.raises(InputDataError, match=r"no population column 'residents'"):
        demand_from_file(path, population_column="residents")


def test_demand_areas_without_targets_stand_at_a_point_inside(tmp_path: Path) -> None:
    cells = [shapely.box(24.94 + i * 0.01, 60.16, 24.95 + i * 0.01, 60.17) for i in range(3)]
    path = tmp_path / "grid.gpkg"
    gpd.GeoDataFrame({"pop": [10, 0, 25.5]}, geometry=cells, crs=4326).to_file(
        path, engine="pyogrio"
    )
    loaded = demand_from_file(path)
    assert loaded.data["id"].tolist() == ["D1", "D2", "D3"]
    assert loaded.data["population"].tolist() == [10.0, 0.0, 25.5]
    assert (loaded.data.geom_type == "Point").all()
    assert all(p.within(c) for p, c in zip(loaded.data.geometry, cells, strict=True))


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


# ------------------------------------------------------------------ hostile tables (issue 9)


def test_absurd_head_counts_are_rejected_by_row(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text(
        "id,lon,lat,population\n"
        "a,24.94,60.17,1e308\n"
        "b,24.94,60.17,1e308\n"
        "c,24.94,60.17,inf\n"
        "d,24.94,60.17,-5\n"
        "e,24.94,60.17,many\n"
        "f,24.94,60.17,1200\n"
        "g,24.94,60.17,10000000\n"
        "h,24.94,60.17,15000000\n",
        "utf-8",
    )
    loaded = demand_from_file(path)
    assert loaded.data["id"].tolist() == ["f", "g"]
    assert loaded.data["population"].sum() == 10_001_200
    rej = loaded.rejected
    assert rej["row"].tolist() == [1, 2, 3, 4, 5, 8]
    assert set(rej["column"]) == {"population"}
    assert "above 10,000,000 people for one point" in rej["reason"].iloc[0]
    assert "--limit max_population_per_point=" in rej["reason"].iloc[0]
    assert rej["reason"].iloc[2] == "population must be a number of 0 or more"  # inf
    assert len(loaded.data) + rej["row"].nunique() == 8
    # The limit can be raised.
    raised = demand_from_file(path, limits=InputLimits(max_population_per_point=2e7))
    assert raised.data["id"].tolist() == ["f", "g", "h"]


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
