"""Tests of sources.street_tables' tag texts: one text per street from pyrosm's cells."""

from __future__ import annotations

import numpy as np

from planner.sources.street_tables import tag_text, tunnel_flags


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
