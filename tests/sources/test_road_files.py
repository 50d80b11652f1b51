"""Road layers in the files planning offices hold: zipped shapefiles, .gdb, DXF, GBK, GCJ-02."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from road_lines import assert_same_network, street_lines_of, write_layer

from planner.errors import InputDataError, UnsupportedFormatError
from planner.limits import InputLimitError
from planner.sources.coords import wgs84_to_gcj02
from planner.sources.osm import demo_extract_path
from planner.sources.road_files import RoadOptions, is_road_layer
from planner.sources.road_layers import road_tables_from_file
from planner.walk.network import WalkNetwork
from planner.walk.network_cache import network_from_file

EXACT = RoadOptions(node_tolerance_m=0.0)


@pytest.fixture(scope="module")
def pbf_network() -> WalkNetwork:
    return network_from_file(demo_extract_path(), use_cache=False)


@pytest.fixture(scope="module")
def street_lines(pbf_network: WalkNetwork) -> gpd.GeoDataFrame:
    return street_lines_of(pbf_network)


def _zip(folder: Path, stem: str, name: str) -> Path:
    out = folder / name
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.glob(f"{stem}.*")):
            if f != out:
                zf.write(f, f.name)
    return out


def test_zipped_shapefile_gives_the_pbf_network(
    tmp_path: Path, pbf_network: WalkNetwork, street_lines: gpd.GeoDataFrame
) -> None:
    write_layer(street_lines, tmp_path / "roads.shp")
    packed = _zip(tmp_path, "roads", "roads.zip")
    assert is_road_layer(packed)
    road = network_from_file(packed, road=EXACT, use_cache=False)
    assert_same_network(road, pbf_network)


def test_zipped_geodatabase_and_geopackage(
    tmp_path: Path, pbf_network: WalkNetwork, street_lines: gpd.GeoDataFrame
) -> None:
    gdb = write_layer(street_lines, tmp_path / "城区.gdb", driver="OpenFileGDB", layer="roads")
    packed = tmp_path / "gdb.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        for f in sorted(gdb.rglob("*")):
            zf.write(f, f.relative_to(tmp_path).as_posix())
    road = network_from_file(packed, road=EXACT, use_cache=False)
    assert_same_network(road, pbf_network)
    gpkg = write_layer(street_lines, tmp_path / "roads.gpkg")
    packed = tmp_path / "gpkg.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        zf.write(gpkg, "data/roads.gpkg")
        zf.writestr("readme.txt", "roads of the city")
    road = network_from_file(packed, road=EXACT, use_cache=False)
    assert_same_network(road, pbf_network)


def test_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    bomb = tmp_path / "roads.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("roads.dbf", b"\0" * (40 << 20))
        zf.writestr("roads.shp", b"\0" * 100)
    with pytest.raises(InputLimitError, match=r"roads\.zip.*zip bomb"):
        road_tables_from_file(bomb)


def test_file_geodatabase_folder_with_two_layers(
    tmp_path: Path, pbf_network: WalkNetwork, street_lines: gpd.GeoDataFrame
) -> None:
    gdb = tmp_path / "city.gdb"
    lines = street_lines.to_crs("EPSG:4547")  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
    write_layer(lines, gdb, driver="OpenFileGDB", layer="centrelines")
    write_layer(lines.head(3), gdb, driver="OpenFileGDB", layer="rail")
    assert gdb.is_dir()
    with pytest.raises(InputDataError, match=r"city\.gdb.*centrelines, rail.*--network-layer"):
        network_from_file(gdb, road=EXACT, use_cache=False)
    options = RoadOptions(layer="centrelines", node_tolerance_m=0.0)
    road = network_from_file(gdb, road=options, cache_dir=tmp_path / "cache")
    assert_same_network(road, pbf_network)
    again = network_from_file(gdb, road=options, cache_dir=tmp_path / "cache")
    assert again.from_cache
    assert again.road_report == road.road_report


def test_dxf_needs_its_crs_and_takes_a_cad_layer(
    tmp_path: Path, pbf_network: WalkNetwork, street_lines: gpd.GeoDataFrame
) -> None:
    far = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(0, 0), (50, 0)]), shapely.LineString([(0, 9), (50, 9)])],
        crs=street_lines.crs,
    )
    cad = gpd.GeoDataFrame(
        {"Layer": ["道路中心线"] * len(street_lines) + ["标注"] * len(far)},
        geometry=list(street_lines.geometry) + list(far.geometry),
        crs=street_lines.crs,
    )
    dxf = write_layer(cad, tmp_path / "roads.dxf", driver="DXF")
    with pytest.raises(InputDataError, match=r"roads\.dxf.*DXF.*--network-crs EPSG"):
        road_tables_from_file(dxf, options=EXACT)
    with pytest.raises(InputDataError, match=r"no CAD layer 'roads'.*道路中心线"):
        road_tables_from_file(dxf, options=RoadOptions(crs="EPSG:3067", layer="roads"))
    options = RoadOptions(crs="EPSG:3067", layer="道路中心线", node_tolerance_m=0.0)
    road = network_from_file(dxf, road=options, use_cache=False)
    # DXF keeps no attributes: the tunnel flags are gone, the network is the same.
    assert road.n_nodes == pbf_network.n_nodes
    assert len(road.edges) == len(pbf_network.edges) + 1
    assert road.street_m == pytest.approx(pbf_network.street_m, rel=5e-3)
    assert road.road_report is not None
    assert road.road_report.lines_read == len(street_lines)


def test_gbk_dbf_without_cpg_reads_chinese_names_and_classes(
    tmp_path: Path, pbf_network: WalkNetwork, street_lines: gpd.GeoDataFrame
) -> None:
    classes = {"footway": "人行道", "steps": "台阶", "primary": "主干路"}
    lines = street_lines.assign(道路等级=street_lines["highway"].map(classes).fillna("其他道路"))
    lines = lines.drop(columns="highway")
    shp = write_layer(lines, tmp_path / "roads.shp", encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    road = network_from_file(shp, road=EXACT, use_cache=False)
    assert_same_network(road, pbf_network)
    keep = RoadOptions(walkable="道路等级 not in (台阶)", node_tolerance_m=0.0)
    _, report = road_tables_from_file(shp, options=keep)
    steps = int((street_lines["highway"] == "steps").sum())
    assert report.dropped_not_walkable == steps
    assert report.lines_read == len(street_lines)


def test_gcj02_lines_are_converted_like_points(tmp_path: Path) -> None:
    # A small grid of streets in Beijing, traced from a web map (GCJ-02).
    lon0, lat0 = 116.40, 39.90
    true = [
        shapely.LineString([(lon0 + j * 0.001, lat0 + i * 0.001) for j in range(4)])
        for i in range(3)
    ] + [
        shapely.LineString([(lon0 + i * 0.001, lat0 + j * 0.001) for j in range(3)])
        for i in range(4)
    ]

    def to_gcj(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

    traced = gpd.GeoDataFrame(geometry=shapely.transform(true, to_gcj), crs=4326)
    path = write_layer(traced, tmp_path / "web.geojson")
    raw, _ = road_tables_from_file(path)
    fixed, report = road_tables_from_file(path, options=RoadOptions(coord_system="gcj02"))
    expected, _ = road_tables_from_file(
        write_layer(gpd.GeoDataFrame(geometry=true, crs=4326), tmp_path / "true.geojson")
    )
    assert len(fixed.node_ids) == len(expected.node_ids) == 12
    assert report.parts == 1
    assert np.abs(np.sort(fixed.node_xy, axis=0) - np.sort(expected.node_xy, axis=0)).max() < 0.01
    # Read as WGS84, the same lines are hundreds of metres off.
    assert np.abs(np.sort(raw.node_xy, axis=0) - np.sort(expected.node_xy, axis=0)).max() > 100
    projected = write_layer(traced.to_crs(3857), tmp_path / "p.geojson")
    with pytest.raises(InputDataError, match=r"gcj02.*projected"):
        road_tables_from_file(projected, options=RoadOptions(coord_system="gcj02"))


def test_broken_and_unreadable_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "roads.gpkg"
    bad.write_bytes(b"SQLite format 3\0 but not really")
    with pytest.raises(UnsupportedFormatError, match=r"roads\.gpkg"):
        road_tables_from_file(bad)
    empty_zip = tmp_path / "roads.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "no layer here")
    empty_zip.write_bytes(buf.getvalue())
    with pytest.raises((UnsupportedFormatError, InputDataError), match=r"roads\.zip"):
        road_tables_from_file(empty_zip)
    folder = tmp_path / "roads"
    folder.mkdir()
    with pytest.raises(InputDataError, match=r"is a folder.*\.gdb"):
        road_tables_from_file(folder, options=EXACT)


def test_the_extract_traced_in_gcj02_gives_the_same_network(
    tmp_path: Path, street_lines: gpd.GeoDataFrame
) -> None:
    # The extract's streets moved to Beijing (GCJ-02 is WGS84 outside China), as WGS84
    # lon/lat and as a web map would give them.
    moved = street_lines.to_crs(4326).translate(116.40 - 24.94, 39.90 - 60.17)
    true = gpd.GeoDataFrame({"highway": street_lines["highway"]}, geometry=moved, crs=4326)

    def to_gcj(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

    traced = true.set_geometry(shapely.transform(true.geometry.to_numpy(), to_gcj), crs=4326)
    a = network_from_file(write_layer(true, tmp_path / "true.geojson"), road=EXACT, use_cache=False)
    gcj = RoadOptions(node_tolerance_m=0.0, coord_system="gcj02")
    b = network_from_file(write_layer(traced, tmp_path / "gcj.geojson"), road=gcj, use_cache=False)
    assert b.n_nodes == a.n_nodes
    assert len(b.edges) == len(a.edges)
    assert b.street_m == pytest.approx(a.street_m, rel=1e-6)
    assert np.abs(b.node_xy - a.node_xy).max() < 0.01  # metres
