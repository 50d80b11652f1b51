"""Delimited text tables (CSV, TXT, TSV): delimiter, rows and their field counts.

:func:`read_delimited` decodes a file (:mod:`planner.sources.encodings`), finds its
delimiter from the header, and keeps each row only when it has one field per header
column; every other row is rejected by row number with the reason (a decimal comma, a
value holding the delimiter, a missing field), never re-aligned.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import InputDataError
from planner.limits import InputLimits, check_count
from planner.sources.encodings import UTF8_BOM, decode_text
from planner.sources.rawtable import clean_header
from planner.sources.rejected import REJECTED_COLUMNS, rejected_table

logger = logging.getLogger(__name__)

#: How much of a rejected line is kept in the rejection table (characters).
LINE_SHOWN = 200


def read_delimited(
    path: Path, encoding: str | None, decimal: str, limits: InputLimits
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of a text table (strings, index = row numbers) and the rejected rows.

    Raises
    ------
    InputDataError
        For an empty or undecodable file, a decimal comma in a comma-separated file, an
        unclosed quote, a file with a header but no rows, or a table past a limit.
    """
    raw = path.read_bytes()
    if not raw.strip() or raw.strip() == UTF8_BOM:
        raise InputDataError(key="err_file_empty", file=str(path))
    text = decode_text(raw, path, encoding)
    del raw
    sep = _delimiter(text, path)
    if decimal == "," and sep == ",":
        msg = (
            f"{path}: --decimal , needs another field delimiter than ',' (the header is "
            "separated by commas). Save the file with ';' between fields, or drop --decimal."
        )
        raise InputDataError(msg)
    return _parse_rows(text, path, sep, decimal, limits)


def _is_blank(fields: list[str]) -> bool:
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _parse_rows(
    text: str, path: Path, sep: str, decimal: str, limits: InputLimits
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of a delimited text, each kept only when it has one field per header column.

    Blank lines are skipped (they are not rows). A row with fewer or more fields than
    the header is rejected with its row number and the reason; trailing empty fields
    beyond the header (a trailing delimiter) and missing trailing fields of unnamed
    columns are tolerated because they carry no data.
    """
    plain = _plain_rows(text, path, sep, limits)
    if plain is not None:
        return plain
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        header: list[str] = []
        for fields in reader:
            if not _is_blank(fields):
                header = fields
                break
        width = len(header)
        check_count(path, width, limit=limits.max_columns, what="columns", name="max_columns")
        names = clean_header(header, path)
        tail = 0
        while tail < width and not header[width - 1 - tail].replace("\ufeff", "").strip():
            tail += 1
        columns: list[list[str]] = [[] for _ in range(width)]
        appends = [c.append for c in columns]
        index: list[int] = []
        bad: list[tuple[int, str, str]] = []
        row = 0
        max_rows = limits.max_rows
        nul = "\x00" in text  # checked per row only when the text holds one at all
        for fields in reader:
            if _is_blank(fields):
                continue
            row += 1
            if row > max_rows:
                check_count(path, row, limit=max_rows, what="rows", name="max_rows")
            if nul and any("\x00" in f for f in fields):
                bad.append((row, "", "a NUL character: a binary file, or not the encoding read"))
                continue
            n = len(fields)
            if n != width:
                if n > width and not any(f.strip() for f in fields[width:]):
                    fields = fields[:width]
                elif n < width and width - n <= tail:
                    fields = fields + [""] * (width - n)
                else:
                    line = sep.join(fields)
                    if len(line) > LINE_SHOWN:
                        line = line[:LINE_SHOWN] + "..."
                    bad.append((row, line, _field_count_reason(n, width, sep, decimal)))
                    continue
            for append, value in zip(appends, fields, strict=True):
                append(value)
            index.append(row)
    except csv.Error as err:
        msg = (
            f"{path}: line {reader.line_num}: not readable as CSV ({err}); an unclosed "
            'quote (") is the usual cause. Close or remove it.'
        )
        raise InputDataError(msg) from err
    if row == 0:
        raise InputDataError(key="err_no_data_rows", file=str(path))
    frame = pd.DataFrame(
        {name: pd.Series(col, dtype=object) for name, col in zip(names, columns, strict=True)},
        columns=names,
    )
    frame.index = pd.Index(np.asarray(index, dtype=np.int64), name="row")
    rejected = pd.DataFrame(
        {
            "row": np.asarray([b[0] for b in bad], dtype=np.int64),
            "column": "",
            "value": [b[1] for b in bad],
            "reason": [b[2] for b in bad],
        },
        columns=REJECTED_COLUMNS,
    )
    if bad:
        logger.warning("%s: %d row(s) with the wrong number of fields.", path, len(bad))
    return frame, rejected_table([rejected])


def _plain_rows(
    text: str, path: Path, sep: str, limits: InputLimits
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    r"""The rows of a plain table in a few whole-text operations, or None if it is not plain.

    Plain: no quote, no NUL, no line break but ``\n`` or ``\r\n``, no blank line, no field
    longer than the csv module's limit, every row with one field per header column, within
    the row limit. Its rows are then exactly what the csv module reads (a line without
    quotes is its fields joined by the delimiter), numbered from 1 with none rejected; any
    other table is read row by row (:func:`_parse_rows`), which names what is wrong.
    """
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    body = text[:-1] if text.endswith("\n") else text
    lines = body.split("\n")
    n = len(lines) - 1
    if n < 1 or n > limits.max_rows or not all(line.strip() for line in lines):
        return None
    if max(map(len, lines)) > csv.field_size_limit():
        return None
    header = lines[0].split(sep)
    width = len(header)
    check_count(path, width, limit=limits.max_columns, what="columns", name="max_columns")
    rows = body[len(lines[0]) + 1 :]
    if any(line.count(sep) != width - 1 for line in lines[1:]):
        return None
    names = clean_header(header, path)
    fields = np.empty(n * width, dtype=object)
    fields[:] = rows.replace("\n", sep).split(sep) if width > 1 else lines[1:]
    grid = fields.reshape(n, width)
    frame = pd.DataFrame(
        {name: pd.Series(grid[:, j], dtype=object) for j, name in enumerate(names)},
        columns=names,
    )
    frame.index = pd.Index(np.arange(1, n + 1, dtype=np.int64), name="row")
    return frame, rejected_table([pd.DataFrame(columns=REJECTED_COLUMNS)])


def _field_count_reason(n: int, width: int, sep: str, decimal: str) -> str:
    shown = {",": "','", ";": "';'", "\t": "a tab", "|": "'|'"}.get(sep, repr(sep))
    base = f"{n} field{'s' if n != 1 else ''}, header has {width}"
    if n > width and sep == "," and decimal == ".":
        return (
            f"{base}: a decimal comma? Quote values that hold commas, or save the file with "
            "';' between fields and use --decimal ,"
        )
    if n > width:
        return f"{base}: a value holding the delimiter {shown}? Quote it."
    return f"{base}: a missing value or delimiter? Every row needs one field per column."


def _delimiter(text: str, path: Path) -> str:
    if path.name.lower().endswith(".tsv"):
        return "\t"
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","
