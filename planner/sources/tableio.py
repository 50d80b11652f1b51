"""Reading tables of points: CSV, Excel, GeoJSON, GeoPackage, Shapefile (also zipped), FlatGeobuf.

:func:`read_table` reads any of these formats into one shape (attribute columns plus an
optional geometry column, rows numbered from 1), and :func:`locate_points` turns it into
WGS84 points: from the file's geometry, or from longitude/latitude columns found by name
in English or Chinese, in WGS84, any EPSG code, GCJ-02 or BD-09. Every row that cannot
be placed is returned in the rejection table with its row number, column, value and the
reason; nothing is dropped silently.

Row numbers are 1-based data rows: the header of a CSV or a sheet is row 0 (so row 1 is
spreadsheet line 2), and in GIS files row *n* is the *n*-th feature.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from planner.errors import (
    CRSError,
    InputDataError,
    InputFileNotFoundError,
    InputWarning,
    UnsupportedFormatError,
)
from planner.limits import (
    DEFAULT_LIMITS,
    InputLimits,
    check_compressed,
    check_count,
    check_file_size,
)
from planner.sources.coords import (
    WGS84,
    CoordSystem,
    geometries_to_wgs84,
    parse_coord_system,
    resolve_crs,
    to_wgs84,
)

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
GIS_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb")
#: Every file type a table of points can be read from.
TABLE_SUFFIXES = TEXT_SUFFIXES + EXCEL_SUFFIXES + GIS_SUFFIXES

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
ENCODINGS = ("utf-8-sig", "gb18030")
REJECTED_COLUMNS = ["row", "column", "value", "reason"]
#: Decimal marks a text table may use (``","`` for European files, with ``;`` between fields).
DECIMAL_MARKS = (".", ",")
#: How much of a rejected line is kept in the rejection table (characters).
LINE_SHOWN = 200
_UTF8_BOM = b"\xef\xbb\xbf"


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
        the header), in the form of :func:`rejected_table`; they are not in ``frame``, whose
        index skips their numbers.
    decimal
        The decimal mark of numbers in text cells (``"."`` or ``","``).
    """

    frame: pd.DataFrame
    geometry: gpd.GeoSeries | None
    crs: pyproj.CRS | None
    source: str
    rejected: pd.DataFrame = field(default_factory=empty_rejected)
    decimal: str = "."


def existing_file(path: str | Path) -> Path:
    """The path, checked to be an existing file (not a folder)."""
    p = Path(path).expanduser()
    if not p.exists():
        msg = f"{p}: no such file. Check the path (relative paths start at {Path.cwd()})."
        raise InputFileNotFoundError(msg)
    if p.is_dir():
        msg = f"{p}: is a folder; give the path of a file."
        raise InputDataError(msg)
    return p


def read_table(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    decimal: str = ".",
    limits: InputLimits | None = None,
) -> RawTable:
    """Read a table of any supported format.

    Parameters
    ----------
    path
        A file of one of :data:`TABLE_SUFFIXES`.
    layer
        Layer, zipped member or sheet to read; required when there is more than one.
    encoding
        Text encoding; by default UTF-8 (a byte-order mark is dropped), then GB18030/GBK
        when the bytes are not UTF-8 and read as Chinese text.
    decimal
        Decimal mark of numbers in a text file: ``"."`` or ``","`` (European files, whose
        fields are then separated by ``;``).
    limits
        File size, decompressed size, rows and columns allowed; :class:`InputLimits`
        defaults when None.

    Returns
    -------
    RawTable
        The rows, numbered from 1; text rows with more or fewer fields than the header are
        in :attr:`RawTable.rejected`, by row, never re-aligned.

    Raises
    ------
    UnsupportedFormatError, InputDataError, InputFileNotFoundError
        For an unknown file type, an empty or unreadable file, a missing layer, duplicated
        column names, an undetectable text encoding, or a file past a limit
        (:class:`~planner.limits.InputLimitError`).
    """
    lim = limits or DEFAULT_LIMITS
    if decimal not in DECIMAL_MARKS:
        msg = f"decimal mark {decimal!r}: use '.' or ','."
        raise InputDataError(msg)
    p = existing_file(path)
    name = p.name.lower()
    check_file_size(p, p.stat().st_size, limit_mb=lim.max_file_mb, what="table")
    if name.endswith(TEXT_SUFFIXES):
        frame, rejected = _read_text(p, encoding, decimal, lim)
        return RawTable(frame, None, None, str(p), rejected=rejected, decimal=decimal)
    if name.endswith(EXCEL_SUFFIXES):
        frame, sheet = _read_excel(p, layer, lim)
        source = f"{p}:{sheet}" if sheet else str(p)
        return RawTable(frame, None, None, source, decimal=decimal)
    if name.endswith(GIS_SUFFIXES):
        check_compressed(p, lim)
        return _read_gis(p, layer, encoding, lim)
    if name.endswith(".xls"):
        msg = f"{p}: old Excel 97-2003 (.xls) files are not read. Save the sheet as .xlsx or CSV."
        raise UnsupportedFormatError(msg)
    msg = (
        f"{p}: unsupported file type for a table of points. Use one of "
        f"{', '.join(TABLE_SUFFIXES)} (a .zip must hold a shapefile)."
    )
    raise UnsupportedFormatError(msg)


def _numbered(frame: pd.DataFrame, source: object, limits: InputLimits) -> pd.DataFrame:
    if len(frame) == 0:
        msg = f"{source}: the file has a header but no data rows."
        raise InputDataError(msg)
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
        msg = (
            f"{source}: duplicated column names once spaces are trimmed: {detail}{more}. "
            "Give every column its own name in the header row."
        )
        raise InputDataError(msg)
    return out


def _read_text(
    path: Path, encoding: str | None, decimal: str, limits: InputLimits
) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = path.read_bytes()
    if not raw.strip() or raw.strip() == _UTF8_BOM:
        msg = f"{path}: the file is empty. Give a CSV with a header row and one row per point."
        raise InputDataError(msg)
    text = _decode(raw, path, encoding)
    del raw
    sep = _delimiter(text, path)
    if decimal == "," and sep == ",":
        msg = (
            f"{path}: --decimal , needs another field delimiter than ',' (the header is "
            "separated by commas). Save the file with ';' between fields, or drop --decimal."
        )
        raise InputDataError(msg)
    return _parse_rows(text, path, sep, decimal, limits)


def _decode(raw: bytes, path: Path, encoding: str | None) -> str:
    """The text of a file: the encoding given, else UTF-8, else GB18030 if it reads as Chinese.

    A UTF-8 byte-order mark is dropped but does not force UTF-8: spreadsheets save GBK
    text behind one too. Bytes that are neither UTF-8 nor Chinese GB18030 text are refused
    with a message asking for ``--encoding``, never read as mojibake.
    """
    if encoding:
        try:
            return raw.decode(encoding).lstrip("\ufeff")
        except LookupError as err:
            msg = f"{path}: unknown text encoding {encoding!r}; e.g. utf-8, gb18030."
            raise InputDataError(msg) from err
        except UnicodeDecodeError as err:
            msg = (
                f"{path}: the bytes are not valid {encoding} text (byte {err.start}: "
                f"{err.reason}). Give the right encoding with --encoding, or save as UTF-8."
            )
            raise InputDataError(msg) from err
    for mark, name in _UNICODE_BOMS:
        if raw.startswith(mark):
            # UTF-16 and UTF-32 say what they are: Excel's "Unicode text" is UTF-16.
            try:
                return raw[len(mark) :].decode(name)
            except UnicodeDecodeError as err:
                msg = (
                    f"{path}: starts with a {name.upper()} byte-order mark but is not valid "
                    f"{name.upper()} (byte {err.start + len(mark)}). Save it as UTF-8, or give "
                    "the encoding with --encoding."
                )
                raise InputDataError(msg) from err
    bom = raw.startswith(_UTF8_BOM)
    body = raw[len(_UTF8_BOM) :] if bom else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        utf8_error = err
    tried = ", ".join(ENCODINGS)
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError as err:
        msg = (
            f"{path}: text encoding not recognised (tried {tried}). Save as UTF-8, or "
            "give the encoding with --encoding (e.g. --encoding latin-1)."
        )
        raise InputDataError(msg) from err
    if not _mostly_common_chinese({"text": [text[:200_000]]}):
        msg = (
            f"{path}: text encoding is ambiguous: not UTF-8 (byte {utf8_error.start}), and "
            "read as GB18030/GBK it is not Chinese text. Give the encoding with --encoding "
            "(e.g. --encoding latin-1, cp1252, big5), or save the file as UTF-8."
        )
        raise InputDataError(msg) from utf8_error
    if bom:
        warnings.warn(
            f"{path}: the file starts with a UTF-8 byte-order mark but is not UTF-8 (byte "
            f"{utf8_error.start + len(_UTF8_BOM)}); read as GB18030/GBK Chinese text. Check "
            "the names, or give the encoding with --encoding.",
            InputWarning,
            stacklevel=5,
        )
    else:
        logger.info("%s: not UTF-8; read as GB18030/GBK.", path)
    return text


#: Byte-order marks of the UTF-16 and UTF-32 encodings (UTF-32 first: its LE mark starts
#: with UTF-16's).
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


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
        for fields in reader:
            if _is_blank(fields):
                continue
            row += 1
            if row > max_rows:
                check_count(path, row, limit=max_rows, what="rows", name="max_rows")
            if any("\x00" in f for f in fields):
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
        msg = f"{path}: the file has a header but no data rows."
        raise InputDataError(msg)
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


def _read_excel(
    path: Path, sheet: str | None, limits: InputLimits
) -> tuple[pd.DataFrame, str | None]:
    _check_excel_shape(path, limits)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, header=None)
    except ImportError as err:  # pragma: no cover - openpyxl is a dependency
        msg = f"{path}: reading Excel files needs openpyxl (pip install openpyxl)."
        raise UnsupportedFormatError(msg) from err
    except Exception as err:
        msg = f"{path}: not a readable Excel file ({type(err).__name__}: {err})."
        raise InputDataError(msg) from err
    filled = {k: v for k, v in sheets.items() if v.shape != (0, 0)}
    if sheet is not None:
        if sheet not in sheets:
            msg = f"{path}: no sheet {sheet!r}; sheets: {list(sheets)}."
            raise InputDataError(msg)
        return _with_header(sheets[sheet], f"{path}:{sheet}", limits), sheet
    if not filled:
        msg = (
            f"{path}: the workbook is empty. Give a sheet with a header row and one row per point."
        )
        raise InputDataError(msg)
    if len(filled) > 1:
        msg = (
            f"{path}: the workbook has {len(filled)} sheets with data: {list(filled)}. "
            "Choose one with the layer option (--stations-layer/--demand-layer NAME)."
        )
        raise InputDataError(msg)
    name, frame = next(iter(filled.items()))
    return _with_header(frame, path, limits), (name if len(sheets) > 1 else None)


def _with_header(cells: pd.DataFrame, source: object, limits: InputLimits) -> pd.DataFrame:
    """A sheet read without a header: its first row becomes the (checked) column names."""
    if len(cells) == 0:
        msg = f"{source}: the sheet is empty. Give a header row and one row per point."
        raise InputDataError(msg)
    header = list(cells.iloc[0])
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = pd.RangeIndex(len(header))
    frame.columns = clean_header(header, source)
    return _numbered(frame, source, limits)


def _check_excel_shape(path: Path, limits: InputLimits) -> None:
    """Refuse a workbook whose declared size passes the row or column limit, unread."""
    try:
        import openpyxl  # type: ignore[import-untyped]

        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # unreadable: pandas says why, with the file name
        return
    try:
        for ws in book.worksheets:
            where = f"{path}:{ws.title}"
            check_count(
                where,
                int(ws.max_column or 0),
                limit=limits.max_columns,
                what="columns",
                name="max_columns",
            )
            rows = max(int(ws.max_row or 0) - 1, 0)
            check_count(where, rows, limit=limits.max_rows, what="rows", name="max_rows")
    finally:
        book.close()


def _read_gis(path: Path, layer: str | None, encoding: str | None, limits: InputLimits) -> RawTable:
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as err:
        msg = f"{path}: not a readable GIS file ({type(err).__name__}: {err})."
        raise InputDataError(msg) from err
    names = [str(row[0]) for row in layers]
    if layer is None and len(names) > 1:
        detail = ", ".join(f"{row[0]} ({row[1]})" for row in layers)
        msg = (
            f"{path}: the file holds {len(names)} layers: {detail}. Choose one with the "
            "layer option (--stations-layer/--demand-layer NAME)."
        )
        raise InputDataError(msg)
    if layer is not None and layer not in names:
        msg = f"{path}: no layer {layer!r}; layers: {names}."
        raise InputDataError(msg)
    source = f"{path}:{layer}" if layer is not None else str(path)
    _check_gis_shape(path, layer, source, limits)
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
        if encoding is None and _undeclared_dbf_encoding(path, layer):
            gdf = _redecode_dbf(path, layer, gdf)
    except Exception as err:
        msg = f"{path}: not a readable GIS file ({type(err).__name__}: {err})."
        raise InputDataError(msg) from err
    if len(gdf) == 0:
        msg = f"{source}: the layer has no features."
        raise InputDataError(msg)
    if not isinstance(gdf, gpd.GeoDataFrame):
        frame = _numbered(pd.DataFrame(gdf), source, limits)
        return RawTable(frame, None, None, source)
    geometry = gdf.geometry.copy()
    frame = _numbered(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), source, limits)
    geometry.index = frame.index
    crs = pyproj.CRS.from_user_input(gdf.crs) if gdf.crs is not None else None
    return RawTable(frame, geometry, crs, source)


def _check_gis_shape(path: Path, layer: str | None, source: str, limits: InputLimits) -> None:
    """Refuse a layer whose declared fields or features pass the limits, before reading it."""
    import pyogrio

    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as err:
        msg = f"{path}: not a readable GIS file ({type(err).__name__}: {err})."
        raise InputDataError(msg) from err
    n_fields = len(info.get("fields", ()))
    check_count(source, n_fields, limit=limits.max_columns, what="columns", name="max_columns")
    features = int(info.get("features", -1) or -1)
    check_count(source, features, limit=limits.max_rows, what="rows", name="max_rows")


def _undeclared_dbf_encoding(path: Path, layer: str | None) -> bool:
    """True for a shapefile whose attribute encoding is declared nowhere (no .cpg)."""
    import pyogrio

    info = pyogrio.read_info(path, layer=layer)
    return bool(info.get("driver") == "ESRI Shapefile" and info.get("encoding") == "ISO-8859-1")


def _redecode_dbf(path: Path, layer: str | None, gdf: pd.DataFrame) -> pd.DataFrame:
    """Decode a shapefile's text as UTF-8, else GB18030, when the bytes say so.

    Without a ``.cpg`` file (or a language byte in the ``.dbf``) GDAL reads text as
    ISO-8859-1, which turns the UTF-8 or GBK names of Chinese (and most modern)
    shapefiles into mojibake. The ISO-8859-1 text gives back the exact bytes; they are
    taken as UTF-8 when every value decodes strictly, else as GB18030 when every value
    decodes and most Chinese characters are among the 3,755 common ones (GB2312 level 1,
    where accented Latin letters read as GBK almost never fall); else GDAL's reading
    stands.
    """
    text_cols = [
        c
        for c in gdf.columns
        if c != "geometry"
        and (pd.api.types.is_string_dtype(gdf[c]) or pd.api.types.is_object_dtype(gdf[c]))
    ]
    raw: dict[str, list[bytes | None]] = {}
    for c in text_cols:
        values = [v.encode("latin-1") if isinstance(v, str) else None for v in gdf[c]]
        if any(b is not None and max(b, default=0) > 127 for b in values):
            raw[c] = values
    if not raw:
        return gdf
    for enc in ("utf-8", "gb18030"):
        try:
            decoded = {c: [None if b is None else b.decode(enc) for b in v] for c, v in raw.items()}
        except UnicodeDecodeError:
            continue
        if enc == "gb18030" and not _mostly_common_chinese(decoded):
            continue
        logger.info("%s: no .cpg file; attributes read as %s.", path, enc)
        out = gdf.copy()
        for c, texts in decoded.items():
            out[c] = pd.Series(texts, index=gdf.index, dtype=object)
        return out
    return gdf


def _mostly_common_chinese(decoded: dict[str, list[str | None]]) -> bool:
    common = rare = 0
    for values in decoded.values():
        for v in values:
            for ch in v or "":
                if ord(ch) < 128:
                    continue
                try:
                    lead = ch.encode("gb2312")[0]
                except UnicodeEncodeError:
                    rare += 1
                    continue
                common += 0xB0 <= lead <= 0xD7
                rare += not 0xB0 <= lead <= 0xD7
    return common > 0 and common >= rare


# --------------------------------------------------------------------------- locating


def find_column(frame: pd.DataFrame, names: Sequence[str], given: str | None, source: str) -> str:
    """The column named ``given``, or the first column matching ``names`` (any case).

    Raises
    ------
    InputDataError
        Naming the columns found, a close match when there is one, and how to choose.
    """
    columns = [str(c) for c in frame.columns]
    if given is not None:
        if given not in columns:
            msg = f"{source}: no column {given!r}; columns found: {columns}."
            raise InputDataError(msg)
        return given
    lower = {c.lower(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    close = [m for n in names for m in difflib.get_close_matches(n, list(lower), 1, 0.75)]
    hint = f" Did you mean {lower[close[0]]!r}?" if close else ""
    msg = (
        f"{source}: no coordinate column among {list(names)}; columns found: {columns}."
        f"{hint} Rename the column or name it with --lon-column/--lat-column."
    )
    raise InputDataError(msg)


def _problems(rows: pd.Index, column: str, values: pd.Series, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype=np.int64),
            "column": column,
            "value": values.loc[rows].astype(str).to_numpy(),
            "reason": reason,
        },
        columns=REJECTED_COLUMNS,
    )


def rejected_table(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate rejection tables, sorted by row then column."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_rejected()
    out = pd.concat(parts, ignore_index=True).astype({"column": object, "value": object})
    return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def locate_points(
    table: RawTable,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    coord_system: CoordSystem | str = "wgs84",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Place the rows of a table as WGS84 points.

    Parameters
    ----------
    table
        From :func:`read_table`.
    lon_column, lat_column
        Coordinate columns; found by name when None (:data:`LON_NAMES`,
        :data:`LAT_NAMES`). A GIS file's geometry is used unless both are given.
    crs
        CRS of the coordinate columns (EPSG:4326 by default) or of a GIS file that
        declares none.
    coord_system
        ``"gcj02"``/``"bd09"`` when longitude/latitude come from Chinese web maps.

    Returns
    -------
    (geopandas.GeoDataFrame, pandas.DataFrame)
        The placed rows (all attribute columns but the coordinate columns; index = row
        numbers) and the rejected rows.

    Raises
    ------
    InputDataError, CRSError
        When no row can be placed, the coordinate columns are missing or the CRS unknown.
    """
    system = parse_coord_system(coord_system)
    given_crs = resolve_crs(crs, source=f"{table.source}: --crs") if crs is not None else None
    use_columns = table.geometry is None or (lon_column is not None and lat_column is not None)
    if use_columns:
        gdf, rejected, where = _points_from_columns(
            table, lon_column, lat_column, given_crs or pyproj.CRS(WGS84), system
        )
    else:
        gdf, rejected = _points_from_geometry(table, given_crs, system)
        where = "the geometry column"
    rejected = rejected_table([table.rejected, rejected])
    if len(gdf) == 0:
        first = rejected.iloc[0]
        msg = (
            f"{table.source}: no row has valid coordinates in {where} "
            f"({rejected['row'].nunique()} rows rejected), e.g. row {first['row']}: "
            f"{first['reason']} ({first['value']!r})."
        )
        raise InputDataError(msg)
    if len(rejected):
        logger.warning("%s: %d row(s) rejected.", table.source, rejected["row"].nunique())
    return gdf, rejected


def _points_from_columns(
    table: RawTable,
    lon_column: str | None,
    lat_column: str | None,
    crs: pyproj.CRS,
    system: CoordSystem,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str]:
    frame, source = table.frame, table.source
    lon_col = find_column(frame, LON_NAMES, lon_column, source)
    lat_col = find_column(frame, LAT_NAMES, lat_column, source)
    raw_x = frame[lon_col].astype(str).str.strip()
    raw_y = frame[lat_col].astype(str).str.strip()
    x = numbers_from_text(raw_x, decimal=table.decimal).to_numpy(dtype=float)
    y = numbers_from_text(raw_y, decimal=table.decimal).to_numpy(dtype=float)
    geographic = bool(crs.is_geographic)
    if geographic and lon_column is None and lat_column is None and _looks_swapped(x, y):
        warnings.warn(
            f"{source}: columns {lon_col!r} and {lat_col!r} look swapped (the latitudes are "
            f"beyond ±90° but the longitudes would all be valid latitudes); used "
            f"{lat_col!r} as longitude and {lon_col!r} as latitude. Name the columns with "
            "--lon-column/--lat-column if this is wrong.",
            InputWarning,
            stacklevel=4,
        )
        lon_col, lat_col, raw_x, raw_y, x, y = lat_col, lon_col, raw_y, raw_x, y, x
    idx = frame.index
    parts = []
    bad = ~np.isfinite(x)
    parts.append(_problems(idx[bad], lon_col, frame[lon_col], "not a number"))
    bad_y = ~np.isfinite(y)
    parts.append(_problems(idx[bad_y], lat_col, frame[lat_col], "not a number"))
    if geographic:
        unit = "WGS84 degrees" if crs == pyproj.CRS(WGS84) else f"{crs.name} degrees"
        hint = "" if np.nanmax(np.abs(x), initial=0) <= 1000 else "; projected? give --crs"
        out_x = np.isfinite(x) & (np.abs(x) > 180)
        out_y = np.isfinite(y) & (np.abs(y) > 90)
        for rows, col, bound in ((out_x, lon_col, "-180..180"), (out_y, lat_col, "-90..90")):
            reason = f"outside {bound} ({unit} expected{hint})"
            parts.append(_problems(idx[rows], col, frame[col], reason))
        bad |= bad_y | out_x | out_y
    else:
        bad |= bad_y
    keep = ~bad
    rejected = rejected_table(parts)
    kept = frame.loc[keep].drop(columns=[lon_col, lat_col])
    px, py = x[keep], y[keep]
    if not geographic:
        to_wgs = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
        px, py = to_wgs.transform(px, py)
        out = ~(np.isfinite(px) & np.isfinite(py))
        if out.any():
            rows = kept.index[out]
            extra = _problems(rows, lon_col, frame[lon_col], f"outside the area of {crs.name}")
            rejected = rejected_table([rejected, extra])
            kept, px, py = kept.loc[~out], px[~out], py[~out]
    elif crs != pyproj.CRS(WGS84):
        to_wgs = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
        px, py = to_wgs.transform(px, py)
    if system != "wgs84":
        px, py = to_wgs84(px, py, system)
    if "geometry" in kept.columns:
        # The points are built from the coordinate columns; keep the input's own
        # "geometry" text as data under another name rather than overwrite it.
        new = "input_geometry"
        while new in kept.columns:
            new += "_"
        kept = kept.rename(columns={"geometry": new})
        msg = (
            f"{source}: the column 'geometry' is kept as {new!r}; the points come from "
            f"columns {lon_col!r}/{lat_col!r}."
        )
        warnings.warn(msg, InputWarning, stacklevel=3)
    gdf = gpd.GeoDataFrame(kept, geometry=gpd.points_from_xy(px, py), crs=WGS84)
    return gdf, rejected, f"columns {lon_col!r}/{lat_col!r}"


def _looks_swapped(x: np.ndarray, y: np.ndarray) -> bool:
    """True when most latitudes are out of range but every pair is valid swapped."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return False
    x, y = x[ok], y[ok]
    out_now = np.abs(y) > 90
    valid_swapped = (np.abs(x) <= 90) & (np.abs(y) <= 180)
    return bool(out_now.mean() > 0.5 and valid_swapped.all())


_POLYGONAL = {"Polygon", "MultiPolygon"}


def _points_from_geometry(
    table: RawTable, crs: pyproj.CRS | None, system: CoordSystem
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    source = table.source
    geoms = _with_crs(table, crs)
    kinds = geoms.geom_type.fillna("none")
    missing = geoms.isna() | geoms.is_empty
    multi = kinds.eq("MultiPoint") & ~missing
    n_parts = shapely.get_num_geometries(geoms.to_numpy())
    usable = (kinds.eq("Point") | (multi & (n_parts == 1)) | kinds.isin(_POLYGONAL)) & ~missing
    values = kinds.where(~missing, "empty")
    parts = [
        _problems(
            geoms.index[missing], "geometry", values, "no geometry; every row needs a location"
        ),
        _problems(
            geoms.index[multi & (n_parts > 1)],
            "geometry",
            values,
            "a MultiPoint of several points; give one point per row",
        ),
        _problems(
            geoms.index[~usable & ~missing & ~multi],
            "geometry",
            values,
            "not a point or an area (lines do not mark a location)",
        ),
    ]
    if kinds[usable].isin(_POLYGONAL).any():
        counts = kinds[usable].value_counts().to_dict()
        if len(counts) > 1:
            warnings.warn(
                f"{source}: mixed geometry types {counts}; areas are placed at a point inside "
                "each (shapely's representative_point).",
                InputWarning,
                stacklevel=4,
            )
        else:
            logger.info("%s: areas placed at a point inside each.", source)
    kept = geoms.loc[usable]
    points = gpd.GeoSeries(
        np.where(
            kept.geom_type.isin(_POLYGONAL),
            kept.representative_point(),
            shapely.get_geometry(kept.to_numpy(), 0),
        ),
        index=kept.index,
        crs=kept.crs,
    )
    if system != "wgs84" and not points.crs.is_geographic:
        msg = (
            f"{source}: GCJ-02/BD-09 coordinates are longitude/latitude, but the file's "
            f"CRS {points.crs.to_string()} is projected. Drop the coordinate-system option."
        )
        raise CRSError(msg)
    points = points.to_crs(WGS84) if system == "wgs84" else geometries_to_wgs84(points, system)
    x, y = points.x.to_numpy(), points.y.to_numpy()
    out = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
    wkt = pd.Series(shapely.to_wkt(kept.to_numpy(), rounding_precision=6), index=kept.index)
    parts.append(
        _problems(
            kept.index[out],
            "geometry",
            wkt,
            f"outside -180..180/-90..90 once converted to WGS84; is the CRS "
            f"{geoms.crs.to_string()} right?",
        )
    )
    keep = kept.index[~out]
    gdf = gpd.GeoDataFrame(table.frame.loc[keep], geometry=points.loc[keep], crs=WGS84)
    return gdf, rejected_table(parts)


def locate_areas(
    table: RawTable,
    *,
    crs: str | int | pyproj.CRS | None = None,
    coord_system: CoordSystem | str = "wgs84",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The polygons of a GIS table in WGS84, invalid outlines repaired.

    Parameters
    ----------
    table
        From :func:`read_table`; must have geometry.
    crs
        CRS of a file that declares none.
    coord_system
        ``"gcj02"``/``"bd09"`` for outlines traced on Chinese web maps.

    Returns
    -------
    (geopandas.GeoDataFrame, pandas.DataFrame)
        Polygon and MultiPolygon rows (index = row numbers) and the rejected rows (no
        geometry, not an area, or nothing left after repair).
    """
    system = parse_coord_system(coord_system)
    if table.geometry is None:
        msg = (
            f"{table.source}: a table without geometry cannot give areas. Use a GeoPackage, "
            "GeoJSON or Shapefile of polygons."
        )
        raise InputDataError(msg)
    given = resolve_crs(crs, source=f"{table.source}: --crs") if crs is not None else None
    geoms = _with_crs(table, given)
    kinds = geoms.geom_type.fillna("none")
    missing = geoms.isna() | geoms.is_empty
    polygonal = kinds.isin(_POLYGONAL) & ~missing
    values = kinds.where(~missing, "empty")
    parts = [
        _problems(geoms.index[missing], "geometry", values, "no geometry"),
        _problems(
            geoms.index[~polygonal & ~missing],
            "geometry",
            values,
            "not an area (Polygon or MultiPolygon expected)",
        ),
    ]
    kept = geoms.loc[polygonal]
    if system != "wgs84":
        if not kept.crs.is_geographic:
            msg = (
                f"{table.source}: GCJ-02/BD-09 coordinates are longitude/latitude, but the "
                f"file's CRS {kept.crs.to_string()} is projected. Drop the coordinate-system "
                "option."
            )
            raise CRSError(msg)
        kept = geometries_to_wgs84(kept, system)
    else:
        kept = kept.to_crs(WGS84)
    fixed = gpd.GeoSeries(shapely.make_valid(kept.to_numpy()), index=kept.index, crs=WGS84).apply(
        _polygonal_part
    )
    empty = fixed.isna() | fixed.is_empty
    parts.append(_problems(fixed.index[empty], "geometry", values, "the outline encloses no area"))
    keep = fixed.index[~empty]
    gdf = gpd.GeoDataFrame(table.frame.loc[keep], geometry=fixed.loc[keep], crs=WGS84)
    rejected = rejected_table([table.rejected, *parts])
    if len(gdf) == 0:
        first = rejected.iloc[0]
        msg = (
            f"{table.source}: no usable area ({rejected['row'].nunique()} rows rejected), "
            f"e.g. row {first['row']}: {first['reason']} ({first['value']!r})."
        )
        raise InputDataError(msg)
    return gdf, rejected


def _polygonal_part(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygons of a repaired geometry (make_valid may add lines or points)."""
    if geom is None or geom.geom_type in _POLYGONAL:
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if g.geom_type in _POLYGONAL]
    return shapely.union_all(polys) if polys else None


def _with_crs(table: RawTable, crs: pyproj.CRS | None) -> gpd.GeoSeries:
    """The table's geometry with its CRS, checked against a CRS the user gave."""
    assert table.geometry is not None
    file_crs = table.crs
    if file_crs is None and crs is None:
        msg = (
            f"{table.source}: the file declares no coordinate reference system (a shapefile "
            "without its .prj?). Give it with --crs, e.g. --crs EPSG:4326 for longitude/"
            "latitude in degrees."
        )
        raise CRSError(msg)
    if file_crs is not None and crs is not None and not file_crs.equals(crs):
        msg = (
            f"{table.source}: the file declares {file_crs.to_string()} but --crs says "
            f"{crs.to_string()}. Drop --crs (the file's CRS is used) or fix the file."
        )
        raise CRSError(msg)
    return table.geometry.set_crs(file_crs or crs, allow_override=True)
