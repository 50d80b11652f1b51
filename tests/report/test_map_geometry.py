"""Large map layers: outlines simplified ring by ring, streets rasterised in Web Mercator."""

from __future__ import annotations

import base64
import io
import json
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image

from planner.config import AnalysisConfig
from planner.report import maps
from planner.report.map_geometry import (
    MANY_GAPS,
    THOUSANDS_OF_GAPS,
    feature_collection,
    gap_outlines,
    simplified_outlines,
    streets_image,
    streets_raster,
)
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.sources.streets import graph_from_file
from planner.walk.coverage import analyze_coverage
from planner.walk.network import build_walk_network


def _square(x: float, y: float, side: float) -> list[tuple[float, float]]:
    return [(x, y), (x + side, y), (x + side, y + side), (x, y + side), (x, y)]


def test_outlines_keep_shells_and_holes_and_drop_specks() -> None:
    big = shapely.Polygon(_square(0, 0, 100), holes=[_square(10, 10, 20), _square(60, 60, 1)])
    # a wiggle of 0.1 along the bottom edge, removed at tolerance 0.5
    wiggly = shapely.Polygon([(200, 0), (250, 0.1), (300, 0), (300, 100), (200, 100)])
    speck = shapely.Polygon(_square(500, 500, 2))
    multi = shapely.MultiPolygon([wiggly, speck])
    out = simplified_outlines(
        np.array([big, multi, shapely.Point(0, 0), None], dtype=object),
        tolerance=0.5,
        min_ring_area=10.0,
    )
    assert out[0].geom_type == "Polygon"
    assert out[0].area == pytest.approx(100 * 100 - 20 * 20)  # the 1 x 1 hole is dropped
    assert len(out[0].interiors) == 1
    assert out[1].geom_type == "Polygon"  # the 2 x 2 part is dropped, one part is left
    assert shapely.get_num_coordinates(out[1]) == 5
    assert out[1].area == pytest.approx(100 * 100)
    assert out[2] is None
    assert out[3] is None


def test_outlines_move_at_most_the_tolerance_on_a_real_band() -> None:
    circle = shapely.Point(0, 0).buffer(1000, quad_segs=64)
    holes = [shapely.Point(x, 0).buffer(50, quad_segs=16) for x in (-500, 0, 500)]
    band = shapely.difference(circle, shapely.union_all(holes))
    (out,) = simplified_outlines(np.array([band], dtype=object), tolerance=2.0)
    assert shapely.get_num_coordinates(out) < shapely.get_num_coordinates(band)
    assert len(out.interiors) == 3
    assert shapely.hausdorff_distance(out.exterior, band.exterior) <= 2.0
    # the outline moves by at most 2 m, so the area by at most 2 m times its length
    assert abs(out.area - band.area) <= 2.0 * band.length
    assert abs(out.area - band.area) > 0


def test_everything_collapsing_gives_none() -> None:
    tiny = shapely.Polygon(_square(0, 0, 1))
    out = simplified_outlines(np.array([tiny], dtype=object), tolerance=5.0)
    assert out[0] is None
    assert len(simplified_outlines(np.array([], dtype=object), tolerance=1.0)) == 0


def test_streets_raster_draws_each_line_on_its_pixels() -> None:
    # In Web Mercator metres: a 100 m east-west line at y=0 and a 50 m north-south line.
    lines = gpd.GeoSeries(
        [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100, 0), (100, 50)])],
        crs=3857,
    )
    grid, box, pixel_m = streets_raster(lines, max_px=1000, min_pixel_m=10.0)
    assert pixel_m == 10.0
    assert box[0] == 0.0
    assert box[3] == 50.0
    assert grid.shape == (7, 12)  # 50 m / 10 m + 2 rows, 100 m / 10 m + 2 columns
    rows, cols = np.nonzero(grid)
    bottom = rows == 5  # y = 0 is 5 pixels below the north edge at y = 50
    assert set(cols[bottom]) == set(range(11))  # x = 0 .. 100 m: columns 0 .. 10
    assert set(rows[cols == 10]) == set(range(6))  # x = 100 m, y = 0 .. 50 m
    assert grid.sum() == 11 + 5  # nothing else drawn


def test_streets_raster_limits_the_image_size() -> None:
    lines = gpd.GeoSeries([shapely.LineString([(0, 0), (10_000, 3_000)])], crs=3857)
    grid, _, pixel_m = streets_raster(lines, max_px=102, min_pixel_m=1.0)
    assert pixel_m == pytest.approx(100.0)
    assert max(grid.shape) <= 102
    # the diagonal is continuous: one pixel at least in each column
    assert grid.any(axis=0)[: int(10_000 / pixel_m)].all()


def test_streets_image_is_a_png_of_the_raster_placed_on_its_corners() -> None:
    lines = gpd.GeoSeries([shapely.LineString([(-8.61, 41.14), (-8.60, 41.15)])], crs=4326)
    image = streets_image(lines, colour=(1, 2, 3), max_px=200)
    grid, _, _ = streets_raster(lines, max_px=200)
    png = Image.open(io.BytesIO(base64.b64decode(image.url.split(",", 1)[1])))
    assert png.format == "PNG"
    assert png.size == (image.width_px, image.height_px)
    rgba = np.asarray(png.convert("RGBA"))
    assert ((rgba[..., 3] > 0) == grid).all()
    assert (rgba[grid][:, :3] == (1, 2, 3)).all()
    (south, west), (north, east) = image.bounds
    assert west <= -8.61
    assert south <= 41.14
    assert east >= -8.60
    assert north >= 41.15
    assert east - west < 0.0102
    assert north - south < 0.0102


def test_a_large_street_layer_is_drawn_as_one_image(monkeypatch: pytest.MonkeyPatch) -> None:
    path = demo_extract_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        network = build_walk_network(graph_from_file(path))
        result = analyze_coverage(
            network, stations_from_osm(path), homes_from_osm(path), config=AnalysisConfig()
        )
    vector = maps.coverage_map(result, streets=network.edges).get_root().render()
    assert "L.imageOverlay" not in vector
    monkeypatch.setattr(maps, "LARGE_LAYER", len(network.edges) - 1)
    raster = maps.coverage_map(result, streets=network.edges).get_root().render()
    assert raster.count("L.imageOverlay(") == 1
    assert '"data:image/png;base64,' in raster
    assert len(raster) < len(vector)


def test_feature_collection_is_geopandas_geo_dict() -> None:
    table = gpd.GeoDataFrame(
        {"name": ["a", None, "c", "d"], "people": [1.5, np.nan, 3.0, 4.0]},
        geometry=[
            shapely.Point(1.25, 2.5),
            shapely.Polygon(_square(0, 0, 1), holes=[_square(0.25, 0.25, 0.5)]),
            None,
            shapely.LineString(),
        ],
        index=[10, 11, 12, 13],
    )
    ours = feature_collection(table.drop(columns="geometry"), table.geometry.to_numpy())
    assert json.dumps(ours) == json.dumps(table.to_geo_dict(show_bbox=False))
    assert ours["features"][0]["geometry"] == {"type": "Point", "coordinates": [1.25, 2.5]}
    assert ours["features"][1]["properties"] == {"name": None, "people": None}
    assert ours["features"][3]["geometry"] is None


def _zones(n: int) -> gpd.GeoDataFrame:
    centres = shapely.points(np.arange(n) * 500.0, np.zeros(n))
    return gpd.GeoDataFrame(
        {"gap_id": np.arange(1, n + 1)},
        geometry=shapely.buffer(centres, 75.0, quad_segs=16),
        crs=32629,
    )


def test_gap_outlines_get_coarser_with_thousands_of_zones() -> None:
    few, many, thousands = (_zones(n) for n in (MANY_GAPS, MANY_GAPS + 1, THOUSANDS_OF_GAPS + 1))
    drawn = [gap_outlines(z) for z in (few, many, thousands)]
    per_zone = [shapely.get_num_coordinates(d.geometry.to_numpy()).mean() for d in drawn]

    assert drawn[0].crs == "EPSG:4326"
    assert per_zone[0] == shapely.get_num_coordinates(few.geometry.iloc[0])  # as they are
    assert per_zone[2] < per_zone[1] < per_zone[0]
    assert drawn[2]["gap_id"].tolist() == thousands["gap_id"].tolist()
    # 20 m of simplification of a 75 m circle: every zone is still drawn, near its place
    back = drawn[2].to_crs(32629)
    assert back.geometry.notna().all()
    assert (back.geometry.hausdorff_distance(thousands.geometry, align=True) < 25.0).all()
    assert thousands.geometry.iloc[0].area == _zones(1).geometry.iloc[0].area  # not modified


def test_feature_collection_polygons_are_shapelys_geo_interface() -> None:
    """Polygons and multipolygons (holes, an empty part, z, mixed with other types) come
    out as shapely's ``__geo_interface__`` gives them: the same JSON."""
    ring = [(0, 0), (4, 0), (4, 4), (0, 4)]
    holed = shapely.Polygon(ring, holes=[[(1, 1), (2, 1), (2, 2)], [(3, 3), (3.5, 3), (3.5, 3.5)]])
    geoms = [
        holed,
        shapely.MultiPolygon([holed, shapely.box(5, 5, 6.25, 6.5)]),
        shapely.box(0.1, 0.2, 0.3, 0.4),
        None,
        shapely.Polygon(),
        shapely.Point(1, 2),
        shapely.LineString([(0, 0), (1, 1)]),
        shapely.Polygon([(0, 0, 1), (1, 0, 2), (1, 1, 3)]),
        shapely.from_wkt("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), EMPTY)"),
        shapely.MultiPolygon([shapely.box(7, 7, 8, 8)]),
    ]
    table = gpd.GeoDataFrame({"n": range(len(geoms))}, geometry=geoms)
    ours = feature_collection(table.drop(columns="geometry"), table.geometry.to_numpy())
    assert json.dumps(ours) == json.dumps(table.to_geo_dict(show_bbox=False))
    for feature, geom in zip(ours["features"], geoms, strict=True):
        if geom is not None and not geom.is_empty:
            assert json.dumps(feature["geometry"]) == json.dumps(geom.__geo_interface__)
