"""Tests of report.comparison_section: a change reads as the difference of what is shown."""

from __future__ import annotations

import re

from planner.report.comparison_section import _cmp_row


def _text(cell: str) -> str:
    match = re.search(r">([^<]*)</data>", cell)
    assert match
    return match.group(1)


def test_a_change_is_the_difference_of_the_rounded_figures() -> None:
    _label, before, after, change = _cmp_row(
        "people", "k", 20_593.4, 29_938.6, "people", "people_change"
    )
    assert (_text(before), _text(after), _text(change)) == ("20,593", "29,939", "+9,346")
    _, before, after, change = _cmp_row("share", "k", 0.81849, 0.99951, "share", "share_change")
    assert (_text(before), _text(after), _text(change)) == ("81.8%", "100.0%", "+18.2 pp")
    assert _text(_cmp_row("x", "k", None, 3.0, "people", "people_change")[3]) == "—"
