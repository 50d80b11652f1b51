"""Tests of report.spreadsheet: text cells escaped as formulas, numbers never changed."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import HOSTILE

from planner.report.spreadsheet import safe_cell, spreadsheet_safe


def test_spreadsheet_safe_escapes_formulas_and_leaves_numbers() -> None:
    table = pd.DataFrame(
        {
            "text": [*HOSTILE, "-2", "+3.5", "-1e3", "plain", None],
            "number": [-1.5, -2.0, 3.0, 0.0, -7.0, 1.0, 2.0, 3.0, 4.0, 5.0, np.nan],
            "=label": ["a"] * 11,
        }
    )
    safe = spreadsheet_safe(table)
    assert safe["text"].tolist()[:6] == ["'" + v for v in HOSTILE]
    assert safe["text"].tolist()[6:10] == ["-2", "+3.5", "-1e3", "plain"]
    assert safe["text"].isna().tolist()[-1]
    assert safe["number"].tolist()[:10] == table["number"].tolist()[:10]
    assert safe["number"].dtype == float
    assert safe.columns.tolist() == ["text", "number", "'=label"]
    assert table["text"].tolist()[0] == HOSTILE[0]  # not modified
    assert safe_cell(-3) == -3
    assert safe_cell("=x") == "'=x"


def test_spreadsheet_safe_is_safe_cell_on_every_cell_of_any_column() -> None:
    """The column-wise escaping gives what :func:`safe_cell` gives cell by cell."""
    rng = np.random.default_rng(7)
    pool = [*HOSTILE, "-2", "+3.5", "=1", "@x", "plain", "", None, np.nan, pd.NA, 5, -3.5, b"=b"]
    mixed = [pool[i] for i in rng.integers(0, len(pool), 400)]
    table = pd.DataFrame(
        {
            "mixed": pd.Series(mixed, dtype=object),
            "string": pd.Series(["=a", "-1", None, "b"] * 100, dtype="string"),
            "category": pd.Series(["+c", "d", "-2", None] * 100, dtype="category"),
            "ints_as_objects": pd.Series(list(range(-200, 200)), dtype=object),
            "all_missing": pd.Series([None, np.nan] * 200, dtype=object),
        }
    )
    safe = spreadsheet_safe(table)
    for col in table.columns:
        expected = [safe_cell(v) for v in table[col].astype(object)]
        got = safe[col].tolist()
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            missing = pd.isna(e) if not isinstance(e, bytes) else False
            if missing:
                assert pd.isna(g), (col, g, e)
            else:
                assert type(g) is type(e), (col, g, e)
                assert g == e, (col, g, e)
    n = sum(isinstance(v, str) and v == "=1" for v in mixed)
    assert n > 0
    assert sum(isinstance(v, str) and v == "'=1" for v in safe["mixed"]) == n
