"""Tests of sources.areas: study areas (file or drawn), districts, and clipping a network."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from planner.errors import (
    InputDataError,
    InputFileNotFoundError,
    NetworkBuildError,
)
from planner.limits import InputLimitError, InputLimits
from planner.sources.areas import (
    clip_graph,
    districts_from_file,
    points_outside,
    study_area_from_file,
    study_area_from_geojson,
)
from planner.sources.coords import wgs84_to_gcj02
from planner.sources.osm import demo_extract_path
from planner.sources.streets import graph_from_file

#: Western and eastern halves of the Helsinki extract's centre.
WEST = shapely.box(24.935, 60.164, 24.944, 60.179)
EAST = shapely.box(24.944, 60.164, 24.953, 60.179)


def write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path, engine="pyogrio")
    return path


def test_study_area_is_the_union_of_the_file_polygons(tmp_path: Path) -> None:
    path = write(gpd.GeoDataFrame(geometry=[WEST, EAST], crs=4326), tmp_path / "area.gpkg")
    area = study_area_from_file(path)
    assert area.geom_type == "Polygon"  # the two halves merge into one
    assert area.symmetric_difference(shapely.box(24.935, 60.164, 24.953, 60.179)).area < 1e-12
    # The same outline in a projected CRS comes back in WGS84.
    tm35 = write(gpd.GeoDataFrame(geometry=[WEST], crs=4326).to_crs(3067), tmp_path / "tm.shp")
    assert study_area_from_file(tm35).symmetric_difference(WEST).area < 1e-12


def test_study_area_traced_on_a_chinese_map(tmp_path: Path) -> None:
    wgs = shapely.box(116.38, 39.90, 116.42, 39.93)
    gcj = shapely.transform(wgs, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    path = write(gpd.GeoDataFrame(geometry=[gcj], crs=4326), tmp_path / "gcj.geojson")
    area = study_area_from_file(path, coord_system="gcj02")
    assert np.allclose(shapely.get_coordinates(area), shapely.get_coordinates(wgs), atol=1e-8)


def test_study_area_must_be_polygons(tmp_path: Path) -> None:
    path = write(
        gpd.GeoDataFrame(geometry=[WEST, shapely.Point(24.94, 60.17)], crs=4326),
        tmp_path / "mixed.geojson",
    )
    with pytest.raises(InputDataError, match=r"polygons only; 1 row\(s\) are not: row 2: not an"):
        study_area_from_file(path)


def test_drawn_study_area() -> None:
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(WEST)}
    assert study_area_from_geojson(feature).equals(WEST)
    collection = {"type": "FeatureCollection", "features": [feature, {**feature, "geometry":
                  shapely.geometry.mapping(EAST)}]}  # fmt: skip
    assert study_area_from_geojson(json.dumps(collection)).area == pytest.approx(
        WEST.area + EAST.area
    )
    with pytest.raises(InputDataError, match=r"draw one or more polygons.*\['Point'\]"):
        study_area_from_geojson({"type": "Point", "coordinates": [24.9, 60.1]})


def test_districts(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"名称": ["西区", "东区"], "code": [1, 2]}, geometry=[WEST, EAST], crs=4326
    )
    districts = districts_from_file(write(gdf, tmp_path / "d.gpkg"))
    assert list(districts.columns) == ["name", "geometry"]
    assert districts["name"].tolist() == ["西区", "东区"]
    assert districts.crs == "EPSG:4326"
    assert districts_from_file(tmp_path / "d.gpkg", name_column="code")["name"].tolist() == [
        "1",
        "2",
    ]
    dup = gdf.assign(名称=["A", "A"])
    with pytest.raises(InputDataError, match=r"unique \(column '名称'\): 'A' on rows \[1, 2\]"):
        districts_from_file(write(dup, tmp_path / "dup.gpkg"))
    layered = tmp_path / "layers.gpkg"
    gdf.to_file(layered, layer="streets_committees", engine="pyogrio")
    gdf.head(1).to_file(layered, layer="city", engine="pyogrio")
    assert len(districts_from_file(layered, layer="streets_committees")) == 2
    with pytest.raises(InputDataError, match=r"no district-name column.*\['code'\]"):
        districts_from_file(write(gdf.drop(columns="名称"), tmp_path / "noname.gpkg"))


def test_graph_from_file_clips_to_the_study_area(helsinki_graph: nx.MultiDiGraph) -> None:
    west = graph_from_file(demo_extract_path(), study_area=WEST)
    xs = np.array([x for _, x in west.nodes(data="x")])
    ys = np.array([y for _, y in west.nodes(data="y")])
    assert shapely.contains_xy(WEST, xs, ys).all()
    # Exactly the nodes of the whole network that lie in the area, and their streets.
    inside = [
        n for n, d in helsinki_graph.nodes(data=True) if shapely.contains_xy(WEST, d["x"], d["y"])
    ]
    assert set(west.nodes) == set(inside)
    assert west.number_of_edges() == helsinki_graph.subgraph(inside).number_of_edges()
    assert 0 < west.number_of_nodes() < helsinki_graph.number_of_nodes()
    assert west.graph["study_area"] == WEST.wkt


def test_clip_outside_the_network_is_an_error(helsinki_graph: nx.MultiDiGraph) -> None:
    with pytest.raises(NetworkBuildError, match=r"no street inside the study area \(116\.3"):
        clip_graph(helsinki_graph, shapely.box(116.3, 39.9, 116.4, 40.0), source="helsinki")


def test_points_outside() -> None:
    pts = gpd.GeoDataFrame(
        geometry=[shapely.Point(24.94, 60.17), shapely.Point(25.5, 60.5)], crs=4326, index=[4, 9]
    ).to_crs(3067)
    assert list(points_outside(pts, WEST)) == [9]


def test_duplicate_district_names_list_at_most_twenty_rows(tmp_path: Path) -> None:
    boxes = [shapely.box(24.9 + 0.001 * i, 60.1, 24.9005 + 0.001 * i, 60.1005) for i in range(30)]
    gdf = gpd.GeoDataFrame({"name": ["A"] * 25 + ["B"] * 5}, geometry=boxes, crs=4326)
    with pytest.raises(InputDataError, match="district names must be unique") as info:
        districts_from_file(write(gdf, tmp_path / "d.gpkg"))
    msg = str(info.value)
    assert (
        "'A' on rows [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, ...]"
        in msg
    )
    assert "(and 5 more)" in msg
    assert "'B' on rows [26, 27, 28, 29, 30]" in msg


def test_area_files_follow_the_input_limits(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"name": ["W", "E"]}, geometry=[WEST, EAST], crs=4326)
    path = write(gdf, tmp_path / "d.gpkg")
    with pytest.raises(InputLimitError, match=r"d\.gpkg: more than 1 rows"):
        districts_from_file(path, limits=InputLimits(max_rows=1))
    with pytest.raises(InputLimitError, match=r"d\.gpkg: more than 1 rows"):
        study_area_from_file(path, limits=InputLimits(max_rows=1))


def test_districts_from_file_finds_the_names_and_reprojects(tmp_path: Path) -> None:
    utm = "EPSG:32635"
    boxes = [
        shapely.box(385_000, 6_670_000, 386_000, 6_671_000),
        shapely.box(386_000, 6_670_000, 387_000, 6_671_000),
    ]
    table = gpd.GeoDataFrame({"名称": ["东区", None], "code": [1, 2]}, geometry=boxes, crs=utm)
    table.to_file(tmp_path / "d.gpkg", driver="GPKG")
    got = districts_from_file(tmp_path / "d.gpkg")
    assert got["name"].tolist() == ["东区", ""]
    assert got.crs == "EPSG:4326"
    assert got.geometry.iloc[0].equals_exact(table.to_crs(4326).geometry.iloc[0], 1e-9)
    assert districts_from_file(tmp_path / "d.gpkg", name_column="code")["name"].tolist() == [
        "1",
        "2",
    ]
    with pytest.raises(InputDataError, match="--district-name"):
        districts_from_file(tmp_path / "d.gpkg", name_column="missing")
    table.assign(geometry=table.centroid).to_file(tmp_path / "p.gpkg", driver="GPKG")
    with pytest.raises(InputDataError, match="row 1 is a Point, not a polygon"):
        districts_from_file(tmp_path / "p.gpkg")
    with pytest.raises(InputFileNotFoundError):
        districts_from_file(tmp_path / "none.geojson")
