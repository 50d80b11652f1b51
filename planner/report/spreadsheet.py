"""Tables as CSV text that spreadsheet programs cannot run as formulas (CSV injection).

Every CSV and XLSX the planner writes goes through :func:`spreadsheet_safe` unless the
caller asks for ``raw_text``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

#: A text cell starting with one of these is a formula to a spreadsheet program (CSV/XLSX).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Copy of a table whose text cannot run as a formula in a spreadsheet program.

    A text cell or column name that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return (:data:`FORMULA_STARTS`) gets a leading ``'``: Excel and LibreOffice
    then show it as text (CSV injection, e.g. ``=HYPERLINK(...)`` or ``+cmd|...``). Numbers
    are never changed: numeric columns are left alone, and a text cell that is a plain
    number (``-2``, ``+3.5``, ``-1e3``) stays as it is. Every CSV and XLSX the planner
    writes goes through this function unless the caller asks for ``raw_text``.

    Parameters
    ----------
    table
        Any table; not modified.

    Returns
    -------
    pandas.DataFrame
        The escaped copy, same index.
    """
    out = table.copy()
    for pos in range(out.shape[1]):
        col = out.iloc[:, pos]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        out.isetitem(pos, _safe_column(col))
    out.columns = pd.Index([safe_cell(c) for c in out.columns], dtype=object)
    return out


def _safe_column(col: pd.Series) -> NDArray[np.object_]:
    """A text column's cells through :func:`safe_cell`, looking only at those that need it."""
    values: NDArray[np.object_] = col.to_numpy(dtype=object, copy=True)
    try:
        first = col.str[:1]  # vectorised; not text (numbers, NaN) gives NaN
    except AttributeError:  # no text in the column at all
        return np.array([safe_cell(v) for v in values], dtype=object)
    for i in np.flatnonzero(first.isin(FORMULA_STARTS).to_numpy()):
        values[i] = safe_cell(values[i])
    return values


def safe_cell(value: Any) -> Any:
    """One cell made spreadsheet-safe (see :func:`spreadsheet_safe`); non-text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(table: pd.DataFrame, *, raw_text: bool = False) -> str:
    """A table as CSV text without its index, spreadsheet-safe unless ``raw_text``.

    See :func:`spreadsheet_safe` for what is escaped. Lines end in CRLF (RFC 4180), so a
    cell holding a carriage return or a line feed is quoted and stays one cell.
    """
    safe = table if raw_text else spreadsheet_safe(table)
    text: str = safe.to_csv(index=False, lineterminator="\r\n")
    return text


def write_csv(
    table: pd.DataFrame, path: str | Path, *, raw_text: bool = False, bom: bool = True
) -> Path:
    """Write a table as CSV without its index, spreadsheet-safe unless ``raw_text``.

    Parameters
    ----------
    table
        The table.
    path
        The file to write (replaced when it exists: callers check first).
    raw_text
        Write text cells as they are; by default cells that a spreadsheet program would
        run as formulas get a leading ``'`` (:func:`spreadsheet_safe`).
    bom
        Start with a UTF-8 byte-order mark, so that spreadsheet programs read Chinese text.

    Returns
    -------
    Path
        ``path``.
    """
    out = Path(path)
    out.write_text(csv_text(table, raw_text=raw_text), "utf-8-sig" if bom else "utf-8", newline="")
    return out
