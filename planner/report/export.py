"""Files out (a documented contract), and reading an output folder back.

Layout of an output folder::

    summary.json    headline figures, parameters, inputs and version
    coverage.gpkg   layers stations, demand, isochrones, coverage_area, gaps (EPSG:4326),
                    and districts when district polygons were given
    stations.csv, demand.csv, gaps.csv   the same tables with lon/lat (districts.csv too)
    map.html        Folium map that opens offline
    report.html     the coverage report (planner.report.report), self-contained
    rejected_<input>.csv   rows of an input file that were rejected, when there were any
    manifest.json   written last: the files of the finished run (:data:`MANIFEST`)

A run is written into a temporary folder beside the target (``.<name>.partial-XXXX``, same
parent directory) and moved into place only when every file is written: a run that fails or
is killed never leaves a folder that looks finished, and an ``overwrite`` run replaces an
earlier one only when the new one is complete. Existing files are never replaced unless
``overwrite=True``; files of the user's own in the folder are kept.

Text cells of every CSV are written spreadsheet-safe (:func:`spreadsheet_safe`) unless
``raw_text=True``. :func:`read_outputs` checks a folder's completeness
(:func:`check_complete`) and reads it back into a :class:`~planner.walk.coverage.CoverageResult`;
:func:`pdf_from_html` prints a report to PDF with headless Chromium when it is installed.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from planner.config import AnalysisConfig
from planner.errors import (
    IncompleteOutputError,
    InputDataError,
    InputFileNotFoundError,
    InputWarning,
    OutputExistsError,
    PdfEngineError,
)
from planner.report.maps import coverage_map
from planner.report.report import coverage_report
from planner.texts import Language
from planner.walk.breakdowns import coverage_by_district
from planner.walk.coverage import CoverageResult

#: Value of ``summary.json``'s ``generator`` field; marks a folder as this tool's output.
GENERATOR = "service-circle-planner"
LAYERS = ("stations", "demand", "isochrones", "coverage_area", "gaps")
#: Tables also written as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese text).
CSV_TABLES = ("stations", "demand", "gaps")
#: Written last into an output folder: which files the finished run holds.
MANIFEST = "manifest.json"
#: Files an output folder of ours may hold besides the CSV tables and rejected rows.
OWN_FILES = (
    "summary.json",
    "coverage.gpkg",
    "coverage.gpkg-journal",
    "coverage.gpkg-wal",
    "coverage.gpkg-shm",
    "map.html",
    "report.html",
    "report.pdf",
    "districts.csv",
    MANIFEST,
)
#: A text cell starting with one of these is a formula to a spreadsheet program (CSV/XLSX).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
#: Programs tried, in order, to print a report to PDF.
PDF_ENGINES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass(frozen=True, slots=True)
class OutputPaths:
    """Where :func:`write_outputs` wrote each file."""

    folder: Path
    summary: Path
    geopackage: Path
    map: Path
    rejected: tuple[Path, ...]
    csv: tuple[Path, ...] = ()
    report: Path | None = None
    manifest: Path | None = None


@dataclass(frozen=True, eq=False)
class SavedRun:
    """An output folder read back by :func:`read_outputs`."""

    folder: Path
    result: CoverageResult
    summary: dict[str, Any]


def write_outputs(
    result: CoverageResult,
    out_dir: str | Path,
    *,
    inputs: Mapping[str, str] | None = None,
    rejected: Mapping[str, pd.DataFrame] | None = None,
    streets: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    district_name_column: str = "name",
    report: bool = True,
    language: Language = "en",
    overwrite: bool = False,
    raw_text: bool = False,
) -> OutputPaths:
    """Write the coverage result to a folder, all files or none.

    Parameters
    ----------
    result
        The analysis to write.
    out_dir
        Output folder; created when missing.
    inputs
        Names of the inputs (``network``, ``stations``, ``demand``, ``network_date``) for
        ``summary.json``.
    rejected
        Rejected rows per input name; each non-empty table is written as
        ``rejected_<name>.csv``.
    streets
        Street lines for the map's base layer.
    districts
        District polygons: adds a ``districts`` layer, ``districts.csv`` and the district
        table of the report (:func:`planner.walk.coverage.coverage_by_district`).
    district_name_column
        Column of ``districts`` with the names.
    report
        Also write ``report.html`` (:func:`planner.report.report.coverage_report`).
    language
        Language of the report and map: ``"en"`` or ``"zh"``.
    overwrite
        Replace existing output files. Without it, an existing file stops the write before
        anything is written.
    raw_text
        Write text cells of the CSV files exactly as they are. By default a text cell (or
        column name) starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
        is written with a leading ``'`` so that spreadsheet programs show it as text
        instead of running it as a formula (CSV injection); numbers, also negative ones,
        are never changed (:func:`spreadsheet_safe`).

    Returns
    -------
    OutputPaths
        The files written.

    Raises
    ------
    OutputExistsError
        When an output file exists and ``overwrite`` is off, or ``out_dir`` is a file.
    InputDataError
        When a headline figure is not finite (e.g. head counts so large that their sum
        overflows); nothing is written.

    Notes
    -----
    The files are written into ``.<name>.partial-XXXX`` beside ``out_dir`` and
    :data:`MANIFEST` last; the folder is then moved into place. An existing folder is
    replaced only at that point: files of an earlier run of ours are dropped, any other
    file in it is kept. When writing fails, the temporary folder is removed and the
    existing folder is untouched; a run killed outright leaves at most the temporary
    folder, never a folder at ``out_dir`` that looks finished.
    """
    rejected = {k: v for k, v in (rejected or {}).items() if len(v)}
    tables = (*CSV_TABLES, "districts") if districts is not None else CSV_TABLES
    paths = output_paths(out_dir, rejected_names=tuple(rejected), csv_names=tables, report=report)
    check_free(paths, overwrite=overwrite)
    summary = summary_dict(result, inputs=inputs, rejected=rejected)
    check_finite_totals(summary, result=result)
    by_district = (
        coverage_by_district(result, districts, name_column=district_name_column)
        if districts is not None
        else None
    )
    planned = {p.name for p in _all_paths(paths)}
    with staged_folder(paths.folder, keep=planned) as tmp:
        staged = output_paths(tmp, rejected_names=tuple(rejected), csv_names=tables, report=report)
        for name in LAYERS:
            layer: gpd.GeoDataFrame = getattr(result, name)
            for_geopackage(layer).to_file(staged.geopackage, layer=name, driver="GPKG", index=False)
        if by_district is not None:
            for_geopackage(by_district).to_file(
                staged.geopackage, layer="districts", driver="GPKG", index=False
            )
        for path in staged.csv:
            layer = by_district if path.stem == "districts" else getattr(result, path.stem)
            write_csv(csv_table(layer, what=path.name), path, raw_text=raw_text)
        coverage_map(result, streets=streets, language=language).save(str(staged.map))
        for path, table in zip(staged.rejected, rejected.values(), strict=True):
            write_csv(table, path, raw_text=raw_text, bom=False)
        if staged.report is not None:
            page = coverage_report(
                result,
                summary=summary,
                language=language,
                streets=streets,
                districts=districts,
                district_name_column=district_name_column,
            )
            staged.report.write_text(page, "utf-8")
        staged.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
        layers = [*LAYERS, "districts"] if by_district is not None else list(LAYERS)
        write_manifest(tmp, layers=layers)
    return paths


def csv_table(layer: gpd.GeoDataFrame, *, what: str = "table") -> pd.DataFrame:
    """A layer as a plain table for CSV: its columns without geometry, plus ``lon``, ``lat``.

    Points give their own coordinates; areas (gap zones, districts) a point inside them
    (``representative_point``). Coordinates are WGS84 degrees rounded to 7 decimals. A
    ``lon`` or ``lat`` column of the layer that holds other values than these coordinates
    is kept as ``input_lon`` / ``input_lat`` (with an :class:`~planner.errors.InputWarning`);
    one that holds the same coordinates is replaced. ``what`` names the table in that
    warning.
    """
    wgs = layer.to_crs(4326)
    geoms = wgs.geometry
    if len(wgs):
        pts = geoms.where(geoms.geom_type == "Point", geoms.representative_point())
        lon = np.round(pts.x.to_numpy(dtype=float), 7)
        lat = np.round(pts.y.to_numpy(dtype=float), 7)
    else:
        lon = lat = np.empty(0)
    table = pd.DataFrame(wgs.drop(columns=wgs.geometry.name))
    clashes: dict[str, str] = {}
    for name, values in (("lon", lon), ("lat", lat)):
        if name in table.columns:
            given = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
            if not np.allclose(given, values, atol=1e-6, equal_nan=False):
                clashes[name] = free_name(f"input_{name}", table.columns)
                table = table.rename(columns={name: clashes[name]})
    if clashes:
        warn_renamed(clashes, what=what)
    table["lon"] = lon
    table["lat"] = lat
    return table


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
        out.isetitem(pos, col.map(safe_cell, na_action="ignore").to_numpy(dtype=object))
    out.columns = pd.Index([safe_cell(c) for c in out.columns], dtype=object)
    return out


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


def check_finite_totals(summary: Mapping[str, Any], *, result: CoverageResult) -> None:
    """Raise :class:`InputDataError` when a population figure of a run is not finite.

    Head counts so large that their sum overflows (``1e308``) would otherwise be written
    as null or printed as ``inf``; the message names the largest head counts' rows.
    """
    raw = result.summary()
    keys = (
        "population_total",
        "population_covered",
        "population_uncovered",
        "share_covered",
        "population_in_gap_zones",
    )
    bad = [k for k in keys if not _is_finite_number(raw.get(k))]
    bad += [
        f"population_within_minutes/{b}"
        for b, v in (raw.get("population_within_minutes") or {}).items()
        if not _is_finite_number(v)
    ]
    if not bad:
        return
    pop = pd.to_numeric(result.demand["population"], errors="coerce")
    worst = pop.abs().sort_values(ascending=False).index[:5].tolist()
    msg = (
        f"The run's figures {', '.join(bad)} are not finite numbers (population total "
        f"{summary.get('population_total')!r}): the demand head counts are too large or not "
        f"numbers; largest on demand rows {worst}. Check the population column; nothing "
        "was written."
    )
    raise InputDataError(msg)


def write_report(page: str, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a report page (from :func:`planner.report.report.coverage_report`) to ``path``.

    Raises :class:`OutputExistsError` when the file exists and ``overwrite`` is off.
    """
    out = check_file_free(path, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    try:
        tmp.write_text(page, "utf-8")
        tmp.replace(out)  # atomic: never a half-written report under its real name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def check_file_free(path: str | Path, *, overwrite: bool) -> Path:
    """Raise :class:`OutputExistsError` when ``path`` exists and ``overwrite`` is off."""
    out = Path(path)
    if out.exists() and not overwrite:
        msg = (
            f"{out} already exists; not overwriting it. Choose another file with --out or "
            "pass --overwrite (overwrite=True) to replace it."
        )
        raise OutputExistsError(msg)
    return out


def find_pdf_engine() -> str | None:
    """Path of an installed headless browser that prints PDF (:data:`PDF_ENGINES`), or None."""
    for name in PDF_ENGINES:
        found = shutil.which(name)
        if found:
            return found
    return None


def pdf_from_html(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    engine: str | None = None,
    overwrite: bool = False,
    timeout_s: float = 180.0,
) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, the page's print layout).

    Parameters
    ----------
    html_path
        The report to print (e.g. ``report.html``).
    pdf_path
        The PDF to write.
    engine
        Browser executable; the first of :data:`PDF_ENGINES` on the PATH when None.
    overwrite
        Replace an existing PDF.
    timeout_s
        Give up after this many seconds.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    PdfEngineError
        When no engine is installed or printing fails.
    OutputExistsError
        When ``pdf_path`` exists and ``overwrite`` is off.
    """
    exe = engine or find_pdf_engine()
    if exe is None:
        msg = (
            "No PDF engine found: install Chromium (Debian/Ubuntu: apt-get install chromium) "
            "or Google Chrome to make PDFs. The HTML report prints from any browser too."
        )
        raise PdfEngineError(msg)
    src = Path(html_path).resolve()
    out = check_file_free(Path(pdf_path).resolve(), overwrite=overwrite)
    with tempfile.TemporaryDirectory(prefix="planner-pdf-") as profile:
        tmp = Path(profile) / "report.pdf"
        cmd = [
            exe,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(profile) / 'profile'}",
            f"--print-to-pdf={tmp}",
            src.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(2, "--no-sandbox")  # Chromium refuses to start as root otherwise
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            msg = f"{exe} could not print {src} to PDF: {err}"
            raise PdfEngineError(msg) from err
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tail = (done.stderr or "").strip().splitlines()[-3:]
            msg = f"{exe} could not print {src} to PDF (exit {done.returncode}): {tail}"
            raise PdfEngineError(msg)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(tmp, out)
    return out


def read_outputs(folder: str | Path) -> SavedRun:
    """Read a folder written by :func:`write_outputs` back into a coverage result.

    Parameters
    ----------
    folder
        A folder with ``summary.json`` and ``coverage.gpkg`` from ``planner analyze`` or
        ``planner demo`` (or its ``coverage.gpkg``: the folder it is in is read).

    Returns
    -------
    SavedRun
        The result (layers from the GeoPackage, settings from ``summary.json``) and the
        summary as written.

    Raises
    ------
    InputFileNotFoundError
        When the folder holds no planner output.
    IncompleteOutputError
        When the folder lacks a file or layer of a finished run (:func:`check_complete`);
        the message names each one.
    InputDataError
        When its files cannot be read as one.
    """
    path = Path(folder)
    if path.is_file() and path.suffix.lower() == ".gpkg":
        path = path.parent
    elif path.is_file():
        msg = f"{path} is a file; give the output folder of planner analyze or planner demo."
        raise InputFileNotFoundError(msg)
    check_complete(path)
    gpkg = path / "coverage.gpkg"
    missing = missing_layers(gpkg, LAYERS)
    if missing:
        msg = (
            f"{gpkg}: layer(s) {', '.join(map(repr, missing))} missing; a finished run "
            f"writes the layers {', '.join(LAYERS)}. Run the analysis again."
        )
        raise IncompleteOutputError(msg)
    try:
        summary: dict[str, Any] = json.loads((path / "summary.json").read_text("utf-8"))
        layers = {name: gpd.read_file(gpkg, layer=name) for name in LAYERS}
        bands = summary.get("band_minutes") or sorted(layers["coverage_area"]["band_min"])
        config = AnalysisConfig(
            walk_minutes=float(summary["minutes"]),
            speed_kmh=float(summary["speed_kmh"]),
            max_snap_m=float(summary["max_snap_m"]),
            band_minutes=tuple(float(b) for b in bands),
            gap_link_m=float(summary.get("gap_link_m", 150.0)),
            isochrone_buffer_m=float(summary.get("isochrone_buffer_m", 40.0)),
        )
    except (KeyError, ValueError, TypeError, OSError, RuntimeError) as err:
        # pyogrio's DataSourceError and DataLayerError are RuntimeErrors
        msg = f"{path}: summary.json or coverage.gpkg cannot be read ({err})."
        raise InputDataError(msg) from err
    demand = layers["demand"]
    demand["covered"] = demand["covered"].astype(bool)
    demand["nearest_station"] = demand["nearest_station"].astype("string")
    stations = layers["stations"]
    stations["id"] = stations["id"].astype(str)
    stations["on_network"] = stations["on_network"].astype(bool)
    result = CoverageResult(
        config=config,
        stations=stations,
        demand=demand,
        isochrones=layers["isochrones"],
        coverage_area=layers["coverage_area"],
        gaps=layers["gaps"],
        network_facts=dict(summary.get("network") or {}),
    )
    return SavedRun(folder=path, result=result, summary=summary)


def output_paths(
    out_dir: str | Path,
    *,
    rejected_names: tuple[str, ...] = (),
    csv_names: tuple[str, ...] = CSV_TABLES,
    report: bool = True,
) -> OutputPaths:
    """The files :func:`write_outputs` writes into ``out_dir``."""
    folder = Path(out_dir)
    return OutputPaths(
        folder=folder,
        summary=folder / "summary.json",
        geopackage=folder / "coverage.gpkg",
        map=folder / "map.html",
        rejected=tuple(folder / f"rejected_{name}.csv" for name in rejected_names),
        csv=tuple(folder / f"{name}.csv" for name in csv_names),
        report=folder / "report.html" if report else None,
        manifest=folder / MANIFEST,
    )


def check_free(paths: OutputPaths, *, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` when an output file exists and ``overwrite`` is off.

    Also when the output folder is an existing file (never replaced, even with
    ``overwrite``).
    """
    if paths.folder.exists() and not paths.folder.is_dir():
        msg = f"{paths.folder} is a file, not a folder; choose another output folder with --out."
        raise OutputExistsError(msg)
    if overwrite:
        return
    existing = [p for p in _all_paths(paths) if p.exists()]
    if existing:
        msg = (
            f"{existing[0]} already exists; not overwriting it. Choose another output folder "
            "or pass --overwrite (overwrite=True) to replace the earlier results."
        )
        raise OutputExistsError(msg)


def summary_dict(
    result: CoverageResult,
    *,
    inputs: Mapping[str, str] | None = None,
    rejected: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """The content of ``summary.json``: :meth:`CoverageResult.summary` plus provenance."""
    out: dict[str, Any] = {"generator": GENERATOR}
    out.update(result.summary())
    out["inputs"] = dict(inputs or {})
    # Rows, not problems: a row with two bad cells is one rejected row.
    out["rejected_rows"] = {
        k: int(v["row"].nunique()) if "row" in v.columns else len(v)
        for k, v in (rejected or {}).items()
    }
    out["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    out["attribution"] = "Street and building data (c) OpenStreetMap contributors, ODbL 1.0"
    cleaned: dict[str, Any] = _finite(out)
    return cleaned


def is_planner_output(folder: str | Path) -> bool:
    """True when ``folder`` holds a ``summary.json`` written by this tool."""
    path = Path(folder) / "summary.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("generator") == GENERATOR


def for_geopackage(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy ready for a GeoPackage layer, written with ``index=False``.

    Text columns become plain objects (missing values written as NULL). A named index (the
    loaders' ``row``) becomes a column of that name, or ``index_<name>`` when a column has
    it; columns named like the GeoPackage's own ``fid`` or like another column (compared
    case-insensitively, as SQLite does) are renamed ``input_<name>``, with an
    :class:`~planner.errors.InputWarning`. So no column name can make the write fail.
    """
    out = gdf.copy()
    geom = out.geometry.name
    renamed: dict[str, str] = {}
    seen: set[str] = {"fid", str(geom).lower()}
    names: list[str] = []
    for col in out.columns:
        name = str(col)
        if col == geom:
            names.append(name)
            continue
        if name.lower() in seen:
            new = name
            n = 1
            while new.lower() in seen:
                new = f"input_{name}" if n == 1 else f"input_{name}_{n}"
                n += 1
            renamed[name] = new
            name = new
        seen.add(name.lower())
        names.append(name)
    out.columns = pd.Index(names)
    if out.index.name is not None:
        idx = str(out.index.name)
        label = free_name(idx if idx.lower() not in seen else f"index_{idx}", names)
        out = out.reset_index(names=label)
    if renamed:
        warn_renamed(renamed, what=str(gdf.attrs.get("name", "GeoPackage layer")))
    for col in out.columns:
        s = out[col]
        if col != geom and not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            out[col] = s.astype(object).where(s.notna(), None)
    return gpd.GeoDataFrame(out, geometry=geom, crs=gdf.crs)


def _finite(value: Any) -> Any:
    """Replace NaN/inf (invalid JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@contextmanager
def staged_folder(target: str | Path, *, keep: Iterable[str] = ()) -> Iterator[Path]:
    """A temporary folder beside ``target`` that replaces it when the block ends without error.

    Parameters
    ----------
    target
        The folder to write. Its parent is created when missing.
    keep
        Names the new folder's files take over from an existing ``target`` (the caller has
        checked that it may replace them). Other files of an existing ``target`` are kept,
        except those an earlier run of ours wrote (:data:`OWN_FILES`, the CSV tables,
        ``rejected_*.csv``), which would describe another run.

    Yields
    ------
    Path
        The temporary folder ``.<name>.partial-XXXX`` in ``target``'s parent directory.

    Notes
    -----
    When the block raises (or is interrupted), the temporary folder is removed and
    ``target`` is left as it was. Otherwise an existing ``target`` is renamed to
    ``.<name>.old-XXXX``, the new folder renamed to ``target`` (each an atomic rename on
    one file system), the user's own files moved back into it and the old folder removed:
    ``target`` never holds files of two runs.
    """
    out = Path(target)
    if out.exists() and not out.is_dir():
        msg = f"{out} is a file, not a folder; choose another output folder with --out."
        raise OutputExistsError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_dir(out, "partial")
    try:
        yield tmp
        ours = is_planner_output(out) or (out / MANIFEST).exists()
        drop = set(keep)
        _move_into_place(tmp, out, drop=lambda name: name in drop or (ours and own_file(name)))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def own_file(name: str) -> bool:
    """Whether a file name is one that :func:`write_outputs` writes."""
    return (
        name in OWN_FILES
        or name in {f"{t}.csv" for t in CSV_TABLES}
        or (name.startswith("rejected_") and name.endswith(".csv"))
    )


def _fresh_dir(target: Path, kind: str) -> Path:
    """Create ``.<name>.<kind>-XXXX`` beside ``target`` (permissions as a plain mkdir)."""
    for _ in range(100):
        path = target.parent / f".{target.name}.{kind}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    msg = f"could not create a temporary folder beside {target}"
    raise OSError(msg)


def _move_into_place(tmp: Path, target: Path, *, drop: Callable[[str], bool]) -> None:
    if not target.exists():
        tmp.rename(target)
        return
    if target.is_symlink():  # keep the link and write into the folder it points to
        _move_files_in(tmp, target, drop=drop)
        return
    old = _fresh_dir(target, "old")
    try:
        target.replace(old)  # onto an empty folder: atomic on POSIX
    except OSError:
        old.rmdir()
        _move_files_in(tmp, target, drop=drop)
        return
    try:
        tmp.rename(target)
    except OSError:
        old.replace(target)
        raise
    shutil.copymode(old, target)
    for entry in old.iterdir():
        if not drop(entry.name) and not (target / entry.name).exists():
            entry.replace(target / entry.name)
    shutil.rmtree(old, ignore_errors=True)


def _move_files_in(tmp: Path, target: Path, *, drop: Callable[[str], bool]) -> None:
    """Fallback when ``target`` cannot be renamed (e.g. a mount point): file by file.

    The old manifest goes first and the new one comes last, so the folder does not look
    finished in between.
    """
    (target / MANIFEST).unlink(missing_ok=True)
    for entry in target.iterdir():
        if drop(entry.name) and entry.is_file():
            entry.unlink()
    for entry in sorted(tmp.iterdir(), key=lambda p: p.name == MANIFEST):
        entry.replace(target / entry.name)
    tmp.rmdir()


def write_manifest(folder: str | Path, *, layers: Iterable[str] = LAYERS) -> Path:
    """Write :data:`MANIFEST` into ``folder``: its files with their sizes, and the layers.

    Written last by :func:`write_outputs`; :func:`check_complete` reads it.
    """
    path = Path(folder)
    files = {p.name: p.stat().st_size for p in sorted(path.iterdir()) if p.is_file()}
    manifest = {
        "generator": GENERATOR,
        "files": files,
        "geopackage_layers": {"coverage.gpkg": list(layers)},
    }
    out = path / MANIFEST
    out.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return out


def check_complete(folder: str | Path) -> dict[str, Any]:
    """Check that an output folder holds every file and layer of a finished run.

    Parameters
    ----------
    folder
        A folder written by :func:`write_outputs`.

    Returns
    -------
    dict
        Its manifest.

    Raises
    ------
    InputFileNotFoundError
        When the folder does not exist or holds no planner output.
    IncompleteOutputError
        When its manifest, or a file or GeoPackage layer the manifest lists, is missing or
        a file is empty; the message names each one.
    """
    path = Path(folder)
    if not path.is_dir():
        partial = sorted(path.parent.glob(f".{path.name}.partial-*"))
        hint = (
            f" A run into it did not finish: {partial[0].name} is its unfinished temporary "
            "folder (safe to delete)."
            if partial
            else ""
        )
        msg = (
            f"{path}: no summary.json written by the planner here (no such folder).{hint} "
            "Give a folder written by planner analyze or planner demo."
        )
        raise InputFileNotFoundError(msg)
    manifest_path = path / MANIFEST
    if not manifest_path.exists():
        if not is_planner_output(path):
            msg = (
                f"{path}: no summary.json written by the planner here. Give a folder written "
                "by planner analyze or planner demo."
            )
            raise InputFileNotFoundError(msg)
        msg = (
            f"{path}: incomplete output folder: {MANIFEST} is missing (a finished run writes "
            "it last), so the run that wrote it did not finish or an older planner wrote "
            "it. Run the analysis again."
        )
        raise IncompleteOutputError(msg)
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        files = {str(k): int(v) for k, v in dict(manifest["files"]).items()}
        layers = {str(k): list(v) for k, v in dict(manifest["geopackage_layers"]).items()}
    except (OSError, ValueError, KeyError, TypeError) as err:
        msg = f"{manifest_path}: not a readable manifest ({err}). Run the analysis again."
        raise IncompleteOutputError(msg) from err
    problems = []
    for name, size in files.items():
        file = path / name
        if not file.is_file():
            problems.append(f"{name} is missing")
        elif size > 0 and file.stat().st_size == 0:
            problems.append(f"{name} is empty")
    for gpkg, names in layers.items():
        if (path / gpkg).is_file() and not any(p.startswith(gpkg) for p in problems):
            missing = missing_layers(path / gpkg, names)
            problems += [f"{gpkg} has no layer {name!r}" for name in missing]
    if problems:
        msg = (
            f"{path}: incomplete output folder: {'; '.join(problems)}. Run the analysis "
            "again to write the folder's files together."
        )
        raise IncompleteOutputError(msg)
    out: dict[str, Any] = manifest
    return out


def missing_layers(gpkg: str | Path, names: Iterable[str]) -> list[str]:
    """Names of ``names`` that are not layers of the GeoPackage ``gpkg``.

    Raises
    ------
    InputDataError
        When ``gpkg`` cannot be read as a GeoPackage; the message names the file.
    """
    try:
        present = {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]}
    except Exception as err:  # pyogrio raises its own DataSourceError and OSError
        msg = f"{gpkg}: not a readable GeoPackage ({err}). Run the analysis again."
        raise InputDataError(msg) from err
    return [n for n in names if n not in present]


def free_name(name: str, taken: Iterable[object]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... : the first that is not in ``taken``."""
    used = {str(t) for t in taken}
    if name not in used:
        return name
    n = 2
    while f"{name}_{n}" in used:
        n += 1
    return f"{name}_{n}"


def warn_renamed(renamed: Mapping[str, str], *, what: str) -> None:
    """Warn that input columns are kept under new names (they clash with output columns)."""
    listed = ", ".join(f"{old!r} as {new!r}" for old, new in renamed.items())
    warnings.warn(
        f"{what}: input column(s) named like the planner's own output columns are kept "
        f"under new names: {listed}.",
        InputWarning,
        stacklevel=3,
    )


def _all_paths(paths: OutputPaths) -> list[Path]:
    out = [paths.summary, paths.geopackage, paths.map, *paths.rejected, *paths.csv]
    if paths.report is not None:
        out.append(paths.report)
    if paths.manifest is not None:
        out.append(paths.manifest)
    return out


def _is_finite_number(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
