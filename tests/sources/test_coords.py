"""Tests of sources.coords: GCJ-02 / BD-09 against published reference points, CRS parsing."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from planner.errors import CRSError, InputDataError
from planner.sources.coords import (
    WGS84,
    bd09_to_gcj02,
    bd09_to_wgs84,
    coordinates_in,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geometries_to_wgs84,
    in_china,
    parse_coord_system,
    resolve_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from planner.walk.network import WalkNetwork

GEOD = pyproj.Geod(ellps="WGS84")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def pair(xy: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    return float(xy[0]), float(xy[1])


# (source, input lon/lat, expected lon/lat, error bound in metres). Inputs and outputs
# are as published; the bound is what the comparison shows, rounded up, all under 1 m.
WGS_TO_GCJ = [
    # googollee/eviltransform test vectors (Shanghai, Shenzhen, Beijing)
    ("eviltransform", (121.5272106, 31.1774276), (121.531541859215, 31.17530398364597), 1e-6),
    ("eviltransform", (113.912316, 22.543847), (113.9171764808363, 22.540796131694766), 1e-6),
    ("eviltransform", (116.377817, 39.911954), (116.38404722455657, 39.91334545536069), 1e-6),
    # AMap web-service coordinate-conversion example (coordsys=gps)
    ("AMap API", (116.481499, 39.990475), (116.487585177952, 39.991754014757), 0.05),
    # an offset service's documented answers (6 decimals, about 0.1 m)
    ("offset service", (116.36657, 39.95094), (116.372789, 39.952320), 0.05),
    ("offset service", (115.21657, 38.95032), (115.222782, 38.951179), 0.05),
    # a map API's answer quoted in an R package's tests (its own algorithm differs by 0.7 m)
    ("map API (R test)", (116.39089, 39.90734), (116.39713623, 39.90874539), 0.7),
    # coordtransform_rs and geotool (Rust) test vectors
    ("coordtransform_rs", (116.404, 39.915), (116.41024449916938, 39.91640428150164), 1e-6),
    ("geotool", (121.0917077, 30.6107779), (121.09626935575027, 30.608604331756705), 0.01),
]
GCJ_TO_BD = [
    ("AMap API", (116.487585177952, 39.991754014757), (116.49412, 39.997716), 0.1),
    ("Aliyun address API", (120.026268, 30.279164), (120.032768, 30.285238), 0.06),
    ("gcoord", (123.0, 45.0), (123.00636499, 45.00636899), 0.01),
    (
        "geotool",
        (121.09626935575027, 30.608604331756705),
        (121.10271732371203, 30.61484572185035),
        0.01,
    ),
]
BD_TO_GCJ = [
    ("coordtransform_rs", (116.404, 39.915), (116.39762729119315, 39.90865673957631), 0.05),
]


@pytest.mark.parametrize(("source", "wgs", "gcj", "bound_m"), WGS_TO_GCJ)
def test_wgs84_to_gcj02_reference_points(
    source: str, wgs: tuple[float, float], gcj: tuple[float, float], bound_m: float
) -> None:
    assert metres(pair(wgs84_to_gcj02(*wgs)), gcj) < bound_m, source
    # ... and back: the inverse finds the WGS84 point the reference started from.
    back = pair(gcj02_to_wgs84(*pair(wgs84_to_gcj02(*wgs))))
    assert metres(back, wgs) < 1e-3


@pytest.mark.parametrize(("source", "gcj", "bd", "bound_m"), GCJ_TO_BD)
def test_gcj02_to_bd09_reference_points(
    source: str, gcj: tuple[float, float], bd: tuple[float, float], bound_m: float
) -> None:
    assert metres(pair(gcj02_to_bd09(*gcj)), bd) < bound_m, source
    assert metres(pair(bd09_to_gcj02(*bd)), gcj) < bound_m + 1e-3, source


@pytest.mark.parametrize(("source", "bd", "gcj", "bound_m"), BD_TO_GCJ)
def test_bd09_to_gcj02_reference_points(
    source: str, bd: tuple[float, float], gcj: tuple[float, float], bound_m: float
) -> None:
    assert metres(pair(bd09_to_gcj02(*bd)), gcj) < bound_m, source


def test_wgs84_to_bd09_reference_point() -> None:
    # AMap's example point all the way to Baidu (through GCJ-02)
    assert metres(pair(wgs84_to_bd09(116.481499, 39.990475)), (116.49412, 39.997716)) < 0.1


def test_one_step_inverse_of_other_services_is_off_by_metres() -> None:
    # Aliyun's GCJ-02 -> WGS84 answer is the common one-step approximation: our forward
    # transform of it misses its GCJ-02 input by 1.7 m; our iterative inverse does not.
    aliyun_wgs, gcj = (120.021519, 30.281543), (120.026268, 30.279164)
    assert metres(pair(wgs84_to_gcj02(*aliyun_wgs)), gcj) == pytest.approx(1.75, abs=0.05)
    ours = pair(gcj02_to_wgs84(*gcj))
    assert metres(pair(wgs84_to_gcj02(*ours)), gcj) < 1e-4
    assert metres(ours, aliyun_wgs) == pytest.approx(1.75, abs=0.1)


def test_inverses_are_exact_over_china() -> None:
    rng = np.random.default_rng(42)
    lon = rng.uniform(73.0, 135.0, 20_000)
    lat = rng.uniform(18.0, 53.0, 20_000)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(GEOD.inv(lon, lat, *back)[2]) < 1e-3
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.max(GEOD.inv(lon, lat, *back)[2]) < 1e-3
    # The offset is real: typically 100-700 m.
    offset = GEOD.inv(lon, lat, *wgs84_to_gcj02(lon, lat))[2]
    assert 50 < np.median(offset) < 800


def test_outside_china_gcj02_is_unchanged_and_bd09_is_not() -> None:
    lon, lat = np.array([24.94, -70.6, 140.0]), np.array([60.17, -33.4, 36.0])
    assert not in_china(lon, lat).any()
    gx, gy = wgs84_to_gcj02(lon, lat)
    assert np.array_equal(gx, lon)
    assert np.array_equal(gy, lat)
    assert np.array_equal(gcj02_to_wgs84(lon, lat)[0], lon)
    bx, _ = gcj02_to_bd09(lon, lat)
    assert not np.allclose(bx, lon)


def test_shapes_and_scalars() -> None:
    x, y = wgs84_to_gcj02(116.4, 39.9)
    assert np.ndim(x) == 0
    assert np.ndim(y) == 0
    grid = np.full((2, 3), 116.4), np.full((2, 3), 39.9)
    assert gcj02_to_wgs84(*grid)[0].shape == (2, 3)
    with pytest.raises(InputDataError, match="differ in shape"):
        wgs84_to_gcj02([1.0, 2.0], [1.0])
    assert to_wgs84([116.4], [39.9], "wgs84")[0][0] == 116.4
    assert metres(pair(to_wgs84(*wgs84_to_bd09(116.4, 39.9), "bd09")), (116.4, 39.9)) < 1e-3


def test_geometries_to_wgs84_moves_every_vertex() -> None:
    square = shapely.box(116.40, 39.90, 116.41, 39.91)
    gcj = gpd.GeoSeries([square, shapely.Point(116.4, 39.9)], crs="EPSG:4326", index=[5, 7])
    out = geometries_to_wgs84(gcj, "gcj02")
    assert list(out.index) == [5, 7]
    assert out.crs == "EPSG:4326"
    for a, b in zip(shapely.get_coordinates(gcj), shapely.get_coordinates(out), strict=True):
        assert metres(pair(wgs84_to_gcj02(*b)), tuple(a)) < 1e-3
        assert 100 < metres(tuple(a), tuple(b)) < 800
    assert geometries_to_wgs84(gcj, "wgs84").equals(gcj)


@pytest.mark.parametrize(
    ("text", "system"),
    [("WGS84", "wgs84"), ("gps", "wgs84"), ("GCJ-02", "gcj02"), ("高德", "gcj02"),
     ("Baidu", "bd09"), ("bd09ll", "bd09"), (" BD-09 ", "bd09")],
)  # fmt: skip
def test_parse_coord_system(text: str, system: str) -> None:
    assert parse_coord_system(text) == system


def test_parse_coord_system_rejects_unknown_names() -> None:
    with pytest.raises(InputDataError, match=r"Unknown coordinate system 'mercator'.*gcj02"):
        parse_coord_system("mercator")


def test_resolve_crs() -> None:
    assert resolve_crs("EPSG:4547").to_epsg() == 4547
    assert resolve_crs(4490).to_epsg() == 4490
    assert resolve_crs("3857").to_epsg() == 3857
    with pytest.raises(CRSError, match=r"--crs: unknown coordinate reference system 'EPSG:999999'"):
        resolve_crs("EPSG:999999")
    with pytest.raises(CRSError, match=r"stations.csv: unknown .* 'gcj02'.*GCJ-02 or BD-09 option"):
        resolve_crs("gcj02", source="stations.csv")


def test_coordinates_in_gives_the_numbers_of_to_crs(helsinki_network: WalkNetwork) -> None:
    lines = helsinki_network.edges.geometry
    rng = np.random.default_rng(3)
    points = gpd.GeoSeries(
        shapely.points(rng.uniform(24.9, 25.0, 500), rng.uniform(60.15, 60.2, 500)),
        crs="EPSG:4326",
    )
    for geoms, crs in ((lines, "EPSG:4326"), (points, helsinki_network.crs), (points, WGS84)):
        got = coordinates_in(geoms, crs)
        assert np.array_equal(got, shapely.get_coordinates(geoms.to_crs(crs).to_numpy()))
        assert not got.flags.writeable
    assert len(coordinates_in(lines, "EPSG:4326")) > 2 * len(lines)  # every vertex
    with_z = gpd.GeoSeries([shapely.Point(24.95, 60.17, 12.0)], crs="EPSG:4326")
    expected = shapely.get_coordinates(with_z.to_crs(helsinki_network.crs).to_numpy())
    assert np.array_equal(coordinates_in(with_z, helsinki_network.crs), expected)
    with pytest.raises(ValueError, match="no CRS"):
        coordinates_in(gpd.GeoSeries([shapely.Point(0, 0)]), WGS84)
