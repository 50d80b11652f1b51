"""Reading tables of points: CSV, Excel, GeoJSON, GeoPackage, Shapefile (also zipped), FlatGeobuf.

:func:`read_table` reads any of these formats into one shape, a
:class:`~planner.sources.rawtable.RawTable` (attribute columns plus an optional geometry
column, rows numbered from 1), within the size, row and column limits. Text files are
parsed in :mod:`planner.sources.delimited`; Excel workbooks and GIS files (layers, sheets,
shapefile attribute encodings) here. :mod:`planner.sources.locate` then places the rows.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj

from planner.errors import (
    InputDataError,
    InputFileNotFoundError,
    UnsupportedFormatError,
)
from planner.limits import (
    DEFAULT_LIMITS,
    InputLimits,
    check_compressed,
    check_count,
    check_file_size,
)
from planner.sources.delimited import read_delimited
from planner.sources.encodings import redecode_dbf
from planner.sources.rawtable import DECIMAL_MARKS, RawTable, clean_header, numbered_rows

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
GIS_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb")
#: Every file type a table of points can be read from.
TABLE_SUFFIXES = TEXT_SUFFIXES + EXCEL_SUFFIXES + GIS_SUFFIXES


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
        frame, rejected = read_delimited(p, encoding, decimal, lim)
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
    return numbered_rows(frame, source, limits)


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
            gdf = redecode_dbf(path, layer, gdf)
    except Exception as err:
        msg = f"{path}: not a readable GIS file ({type(err).__name__}: {err})."
        raise InputDataError(msg) from err
    if len(gdf) == 0:
        msg = f"{source}: the layer has no features."
        raise InputDataError(msg)
    if not isinstance(gdf, gpd.GeoDataFrame):
        frame = numbered_rows(pd.DataFrame(gdf), source, limits)
        return RawTable(frame, None, None, source)
    geometry = gdf.geometry.copy()
    frame = numbered_rows(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), source, limits)
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
