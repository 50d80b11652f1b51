"""Tests of sources.delimited: the whole-text reading of plain tables equals the row reader.

A plain table (no quotes, no blank line, one field per header column on every row) is read
in a few whole-text operations; every other table row by row with the csv module. The two
must give the same rows, row numbers and rejections, and the same errors.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner.sources.delimited as delimited
from planner.errors import PlannerError
from planner.limits import InputLimits
from planner.sources.delimited import read_delimited

LIMITS = InputLimits()


def _both(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """What the reader gives (or raises), with and without the whole-text path."""

    def attempt() -> tuple[object, ...]:
        try:
            frame, rejected = read_delimited(path, None, ".", LIMITS)
        except PlannerError as err:
            return ("error", type(err).__name__, str(err))
        return frame, rejected

    fast = attempt()
    with monkeypatch.context() as m:
        m.setattr(delimited, "_plain_rows", lambda *args: None)
        slow = attempt()
    return fast, slow


def _assert_same(fast: tuple[object, ...], slow: tuple[object, ...]) -> None:
    if isinstance(slow[0], str):  # ("error", kind, message)
        assert fast == slow
        return
    assert not isinstance(fast[0], str), fast
    pd.testing.assert_frame_equal(fast[0], slow[0])
    pd.testing.assert_frame_equal(fast[1], slow[1])


@pytest.mark.parametrize(
    "text",
    [
        "lon,lat,population\n24.9,60.1,5\n24.8,60.2,7\n",
        "lon,lat,population\r\n24.9,60.1,5\r\n24.8,60.2,7",  # Windows, no final break
        "\ufeffid;name\n1;  Kallio \n2;\n",  # BOM, spaces kept, an empty field
        "name\nA\nB\n",  # one column
        "a,b,\n1,2,\n3,4,\n",  # a trailing delimiter on every line
        "id,name\n1,北京站\n2,{{ 7*7 }}\n",
        'id,name\n1,"a, b"\n',  # a quote: read row by row
        "id,name\n1,a\n\n2,b\n",  # a blank line
        "id,name\n1,a,b\n2,c\n",  # a row with a field too many
        "id,name\r1,a\r2,b\r",  # old Mac line breaks
        "id,name\n",  # no rows
    ],
    ids=[
        "plain",
        "crlf",
        "bom-semicolon",
        "one-column",
        "trailing-delimiter",
        "text",
        "quoted",
        "blank-line",
        "wrong-count",
        "cr",
        "header-only",
    ],
)
def test_whole_text_reading_equals_the_row_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode("utf-8"))

    fast, slow = _both(path, monkeypatch)

    _assert_same(fast, slow)


def test_a_plain_table_is_read_without_the_row_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.csv"
    path.write_text("lon,lat\n1.5,2\n3,4\n", "utf-8")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the row reader was used")

    monkeypatch.setattr(delimited.csv, "reader", refuse)
    frame, rejected = read_delimited(path, None, ".", LIMITS)

    assert frame.to_dict("list") == {"lon": ["1.5", "3"], "lat": ["2", "4"]}
    assert frame.index.tolist() == [1, 2]
    assert frame.index.name == "row"
    assert len(rejected) == 0


FIELD = st.text(alphabet=st.sampled_from(list('ab1 ,;"\r\n\t.')), max_size=4)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(st.sampled_from(["id", "lon", "lat", "name", ""]), min_size=1, max_size=4),
    rows=st.lists(st.lists(FIELD, min_size=0, max_size=5), max_size=6),
    sep=st.sampled_from([",", ";"]),
    end=st.sampled_from(["\n", "\r\n"]),
)
def test_random_tables_read_alike(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    header: list[str],
    rows: list[list[str]],
    sep: str,
    end: str,
) -> None:
    path = tmp_path / "random.csv"
    lines = [sep.join(f"{h}{i}" if h else h for i, h in enumerate(header))]
    lines += [sep.join(r) for r in rows]
    path.write_bytes(end.join(lines).encode("utf-8"))

    fast, slow = _both(path, monkeypatch)

    _assert_same(fast, slow)
