"""A table as read from a file, before its rows are located: :class:`RawTable`.

Every reader (:mod:`planner.sources.tableio`) returns this one shape: attribute columns
under a checked header (:func:`clean_header`), rows numbered from 1
(:func:`numbered_rows`), and the decimal mark with which :func:`numbers_from_text`
reads numbers in text cells.

Row numbers are 1-based data rows: the header of a CSV or a sheet is row 0 (so row 1 is
spreadsheet line 2), and in GIS files row *n* is the *n*-th feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from planner.errors import InputDataError
from planner.limits import InputLimits, check_count
from planner.sources.rejected import empty_rejected

#: Decimal marks a text table may use (``","`` for European files, with ``;`` between fields).
DECIMAL_MARKS = (".", ",")


@dataclass(frozen=True, eq=False)
class RawTable:
    """A table as read from a file, before its rows are located.

    Attributes
    ----------
    frame
        Attribute columns, index = row numbers from 1 (named ``row``). Text formats
        (CSV, Excel) hold strings, with ``""`` for empty cells.
    geometry
        The GIS file's geometries (same index) in ``crs``, or None for text formats.
    crs
        The CRS the file declares (None when it declares none or has no geometry).
    source
        The path, with ``:layer`` when a layer or sheet was chosen.
    rejected
        Rows that could not be read at all (a text row with more or fewer fields than
        the header), in the form of :func:`~planner.sources.rejected.rejected_table`; they
        are not in ``frame``, whose index skips their numbers.
    decimal
        The decimal mark of numbers in text cells (``"."`` or ``","``).
    """

    frame: pd.DataFrame
    geometry: gpd.GeoSeries | None
    crs: pyproj.CRS | None
    source: str
    rejected: pd.DataFrame = field(default_factory=empty_rejected)
    decimal: str = "."


def numbered_rows(frame: pd.DataFrame, source: object, limits: InputLimits) -> pd.DataFrame:
    """The frame with rows numbered from 1 and a checked header, within the limits."""
    if len(frame) == 0:
        raise InputDataError(key="err_no_data_rows", file=str(source))
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    frame.columns = clean_header(list(frame.columns), source)
    check_count(
        source, len(frame.columns), limit=limits.max_columns, what="columns", name="max_columns"
    )
    check_count(source, len(frame), limit=limits.max_rows, what="rows", name="max_rows")
    return frame


def clean_header(names: Sequence[object], source: object) -> list[str]:
    """Column names trimmed, a byte-order mark dropped, empty ones named ``unnamed_<n>``.

    Raises
    ------
    InputDataError
        When two names are equal once trimmed (``"lon, lon,lat"``), naming every one.
    """
    out = []
    for i, name in enumerate(names, start=1):
        text = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        text = text.replace("\ufeff", "").strip()
        out.append(text or f"unnamed_{i}")
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(out, start=1):
        seen.setdefault(name, []).append(i)
    dups = {k: v for k, v in seen.items() if len(v) > 1}
    if dups:
        detail = "; ".join(
            f"{k!r} in columns {', '.join(map(str, v))}" for k, v in list(dups.items())[:20]
        )
        more = f" (and {len(dups) - 20} more)" if len(dups) > 20 else ""
        raise InputDataError(key="err_duplicate_columns", file=str(source), detail=detail + more)
    return out


def numbers_from_text(values: pd.Series, *, decimal: str = ".") -> pd.Series:
    """Cells as floats (NaN where not a number), read with the given decimal mark.

    Parameters
    ----------
    values
        Text (or numeric) cells; surrounding spaces are ignored.
    decimal
        ``"."`` or ``","``; with ``","``, ``"24,93"`` is 24.93 (``"24.93"`` is too).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    text = values.astype(str).str.strip()
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)
