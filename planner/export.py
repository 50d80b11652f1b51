"""Files out (a documented contract), and reading an output folder back.

Layout of an output folder::

    summary.json    headline figures, parameters, inputs and version
    coverage.gpkg   layers stations, demand, isochrones, coverage_area, gaps (EPSG:4326),
                    and districts when district polygons were given
    stations.csv, demand.csv, gaps.csv   the same tables with lon/lat (districts.csv too)
    map.html        Folium map that opens offline
    report.html     the coverage report (planner.report), self-contained
    rejected_<input>.csv   rows of an input file that were rejected, when there were any

Existing files are never replaced unless ``overwrite=True``. :func:`read_outputs` reads a
folder back into a :class:`~planner.coverage.CoverageResult`; :func:`pdf_from_html` prints
a report to PDF with headless Chromium when it is installed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.config import AnalysisConfig
from planner.coverage import CoverageResult, coverage_by_district
from planner.errors import (
    InputDataError,
    InputFileNotFoundError,
    OutputExistsError,
    PdfEngineError,
)
from planner.i18n import Language
from planner.maps import coverage_map
from planner.report import coverage_report

#: Value of ``summary.json``'s ``generator`` field; marks a folder as this tool's output.
GENERATOR = "service-circle-planner"
LAYERS = ("stations", "demand", "isochrones", "coverage_area", "gaps")
#: Tables also written as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese text).
CSV_TABLES = ("stations", "demand", "gaps")
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
) -> OutputPaths:
    """Write the coverage result to a folder.

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
        table of the report (:func:`planner.coverage.coverage_by_district`).
    district_name_column
        Column of ``districts`` with the names.
    report
        Also write ``report.html`` (:func:`planner.report.coverage_report`).
    language
        Language of the report and map: ``"en"`` or ``"zh"``.
    overwrite
        Replace existing output files. Without it, an existing file stops the write before
        anything is written.

    Returns
    -------
    OutputPaths
        The files written.
    """
    rejected = {k: v for k, v in (rejected or {}).items() if len(v)}
    tables = (*CSV_TABLES, "districts") if districts is not None else CSV_TABLES
    paths = output_paths(out_dir, rejected_names=tuple(rejected), csv_names=tables, report=report)
    check_free(paths, overwrite=overwrite)
    by_district = (
        coverage_by_district(result, districts, name_column=district_name_column)
        if districts is not None
        else None
    )
    folder = paths.folder
    folder.mkdir(parents=True, exist_ok=True)
    if overwrite and is_planner_output(folder):
        for stale in set(folder.glob("rejected_*.csv")) - set(paths.rejected):
            stale.unlink()  # left by an earlier run of ours; would describe other inputs
        if by_district is None and (folder / "districts.csv").exists():
            (folder / "districts.csv").unlink()

    if paths.geopackage.exists():
        paths.geopackage.unlink()
    for name in LAYERS:
        layer: gpd.GeoDataFrame = getattr(result, name)
        _for_gpkg(layer).to_file(paths.geopackage, layer=name, driver="GPKG")
    if by_district is not None:
        _for_gpkg(by_district).to_file(paths.geopackage, layer="districts", driver="GPKG")
    for path in paths.csv:
        layer = by_district if path.stem == "districts" else getattr(result, path.stem)
        csv_table(layer).to_csv(path, index=False, encoding="utf-8-sig")
    coverage_map(result, streets=streets, language=language).save(str(paths.map))
    for path, table in zip(paths.rejected, rejected.values(), strict=True):
        table.to_csv(path, index=False)

    summary = summary_dict(result, inputs=inputs, rejected=rejected)
    if paths.report is not None:
        page = coverage_report(
            result,
            summary=summary,
            language=language,
            streets=streets,
            districts=districts,
            district_name_column=district_name_column,
        )
        paths.report.write_text(page, "utf-8")
    paths.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return paths


def csv_table(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """A layer as a plain table for CSV: its columns without geometry, plus ``lon``, ``lat``.

    Points give their own coordinates; areas (gap zones, districts) a point inside them
    (``representative_point``). Coordinates are WGS84 degrees rounded to 7 decimals.
    """
    wgs = layer.to_crs(4326)
    geoms = wgs.geometry
    pts = geoms.where(geoms.geom_type == "Point", geoms.representative_point())
    table = pd.DataFrame(wgs.drop(columns=wgs.geometry.name))
    table["lon"] = np.round(pts.x.to_numpy(dtype=float), 7)
    table["lat"] = np.round(pts.y.to_numpy(dtype=float), 7)
    return table


def write_report(page: str, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a report page (from :func:`planner.report.coverage_report`) to ``path``.

    Raises :class:`OutputExistsError` when the file exists and ``overwrite`` is off.
    """
    out = check_file_free(path, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, "utf-8")
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
        ``planner demo``.

    Returns
    -------
    SavedRun
        The result (layers from the GeoPackage, settings from ``summary.json``) and the
        summary as written.

    Raises
    ------
    InputFileNotFoundError
        When the folder holds no planner output.
    InputDataError
        When its files cannot be read as one.
    """
    path = Path(folder)
    if not is_planner_output(path):
        msg = (
            f"{path}: no summary.json written by the planner here. Give a folder written by "
            "planner analyze or planner demo."
        )
        raise InputFileNotFoundError(msg)
    summary: dict[str, Any] = json.loads((path / "summary.json").read_text("utf-8"))
    gpkg = path / "coverage.gpkg"
    if not gpkg.exists():
        msg = f"{gpkg}: missing; run the analysis again to write the folder's files together."
        raise InputFileNotFoundError(msg)
    try:
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
    except (KeyError, ValueError, TypeError, OSError) as err:
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
    )


def check_free(paths: OutputPaths, *, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` when an output file exists and ``overwrite`` is off."""
    if overwrite:
        return
    targets = [paths.summary, paths.geopackage, paths.map, *paths.rejected, *paths.csv]
    if paths.report is not None:
        targets.append(paths.report)
    existing = [p for p in targets if p.exists()]
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
    out["rejected_rows"] = {k: len(v) for k, v in (rejected or {}).items()}
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


def _for_gpkg(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy with text columns as plain objects (missing values written as NULL)."""
    out = gdf.copy()
    for col in out.columns:
        s = out[col]
        if col != out.geometry.name and not (
            pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        ):
            out[col] = s.astype(object).where(s.notna(), None)
    return out


def _finite(value: Any) -> Any:
    """Replace NaN/inf (invalid JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
