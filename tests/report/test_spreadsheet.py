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
