"""The rejection table: one row per problem of an input row that could not be used.

Every loader returns the rows it could not read or place in this form (``row``, ``column``,
``value``, ``reason``) instead of dropping them, so that the user sees each one. A row with
two bad cells appears twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

REJECTED_COLUMNS = ["row", "column", "value", "reason"]


def empty_rejected() -> pd.DataFrame:
    """A rejection table without rows: ``row``, ``column``, ``value``, ``reason``."""
    return pd.DataFrame(
        {
            "row": pd.Series(dtype=np.int64),
            "column": pd.Series(dtype=object),
            "value": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
        }
    )


def rejected_table(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate rejection tables, sorted by row then column."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_rejected()
    out = pd.concat(parts, ignore_index=True).astype({"column": object, "value": object})
    return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
