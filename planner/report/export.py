"""Files out (a documented contract): a coverage result written as an output folder.

:func:`write_outputs` writes ``summary.json`` (:func:`summary_dict`), the GeoPackage layers
(:func:`for_geopackage`), the CSV tables (:func:`csv_table`), the map and the report into a
folder laid out and staged as :mod:`planner.report.output_folder` describes: all files or
none. Text cells of every CSV are written spreadsheet-safe
(:func:`planner.report.spreadsheet.spreadsheet_safe`) unless ``raw_text=True``. Reading a
folder back is :mod:`planner.report.saved_run`; printing a report to PDF is
:mod:`planner.report.pdf`.
"""

from __future__ import annotations

import gc
import json
import math
import secrets
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputDataError
from planner.report.category_layers import category_layers
from planner.report.chart_style import quiet_glyphs
from planner.report.deferred import finish_map, pending_map, polygon_parts
from planner.report.forked import in_a_copy, worth_forking
from planner.report.forked_report import report_writer
from planner.report.output_folder import (
    CSV_TABLES,
    GENERATOR,
    LAYERS,
    OutputPaths,
    all_paths,
    check_file_free,
    check_free,
    output_paths,
    staged_folder,
    write_manifest,
)
from planner.report.spreadsheet import write_csv
from planner.sources.osm import OSM_DATA, OSM_DATA_KINDS
from planner.texts import Language
from planner.walk.breakdowns import coverage_by_district, district_extras
from planner.walk.categories import CircleResult
from planner.walk.coverage import CoverageResult
from planner.walk.layers import free_name, warn_renamed


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
    access: Mapping[str, Any] | None = None,
    circles: Mapping[str, Any] | None = None,
    category_gaps: gpd.GeoDataFrame | None = None,
    circle: CircleResult | None = None,
    osm_data: Collection[str] = OSM_DATA,
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
        are never changed (:func:`~planner.report.spreadsheet.spreadsheet_safe`).
    access
        The ``access`` block of ``summary.json``
        (:meth:`planner.walk.scores.AccessScores.summary`), when the result's layers carry
        access scores; the report then gains its access section.
    circles
        The circle analysis' additions to ``summary.json``
        (:func:`planner.walk.categories.circles_summary`: ``profile``, ``categories``,
        ``share_complete``, ``groups``, ``profiles``); the report then gains its
        categories, profiles and groups tables, and the district table its complete-circle
        and group columns.
    category_gaps
        Gap zones per station category
        (:attr:`planner.walk.categories.CircleResult.category_gaps`), written as the
        ``category_gaps`` layer of the GeoPackage.
    circle
        The circle analysis of the run's (first) walking profile: with categories, the map
        (``map.html`` and the report's) gains a layer per category and one of the complete
        circle (:func:`planner.report.category_layers.category_layers`).

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
    The files are written into ``.<name>.partial-XXXX`` beside ``out_dir``
    (:func:`~planner.report.output_folder.staged_folder`) and
    :data:`~planner.report.output_folder.MANIFEST` last; the folder is then moved into
    place. An existing folder is replaced only at that point: files of an earlier run of
    ours are dropped, any other file in it is kept. When writing fails, the temporary
    folder is removed and the existing folder is untouched; a run killed outright leaves
    at most the temporary folder, never a folder at ``out_dir`` that looks finished.
    """
    rejected = {k: v for k, v in (rejected or {}).items() if len(v)}
    tables = (*CSV_TABLES, "districts") if districts is not None else CSV_TABLES
    paths = output_paths(out_dir, rejected_names=tuple(rejected), csv_names=tables, report=report)
    check_free(paths, overwrite=overwrite)
    summary = summary_dict(
        result,
        inputs=inputs,
        rejected=rejected,
        access=access,
        circles=circles,
        osm_data=osm_data,
    )
    check_finite_totals(summary, result=result)
    by_district = (
        coverage_by_district(
            result, districts, name_column=district_name_column, **district_extras(summary)
        )
        if districts is not None
        else None
    )
    planned = {p.name for p in all_paths(paths)}
    # The charts' glyph warnings are silenced before the GeoPackage thread starts (see
    # chart_style.quiet_glyphs: pyogrio's own catch_warnings would drop a later filter).
    with gc_paused(), quiet_glyphs(), staged_folder(paths.folder, keep=planned) as tmp:
        staged = output_paths(tmp, rejected_names=tuple(rejected), csv_names=tables, report=report)
        # The polygon layers may still be in the making (analyze_coverage builds them in the
        # background): the layers and tables that do not need them are written first.
        polygons = ("isochrones", "coverage_area")
        named = [(name, getattr(result, name)) for name in LAYERS if name not in polygons]
        if by_district is not None:
            named.append(("districts", by_district))
        if category_gaps is not None:
            named.append(("category_gaps", category_gaps))
        ready = [(name, for_geopackage(layer)) for name, layer in named]

        def write_tables() -> None:
            for path in staged.csv:
                layer = by_district if path.stem == "districts" else getattr(result, path.stem)
                write_csv(csv_table(layer, what=path.name), path, raw_text=raw_text)
            for path, table in zip(staged.rejected, rejected.values(), strict=True):
                write_csv(table, path, raw_text=raw_text, bom=False)

        # GDAL writes the GeoPackage without holding the GIL: in a thread of its own. The
        # CSV tables and the report page are written by forked copies of this process at
        # city scale (planner.report.forked), the map here: each on a core of its own.
        with ExitStack() as stack:
            pool = stack.enter_context(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner-gpkg")
            )
            geopackage = pool.submit(write_geopackage, ready, staged.geopackage)
            csv_files = in_a_copy(write_tables, fork=worth_forking(len(result.demand)))
            stack.callback(csv_files.close)
            page = (
                stack.enter_context(
                    report_writer(
                        result,
                        staged.report,
                        language=language,
                        summary=summary,
                        streets=streets,
                        districts=districts,
                        district_name_column=district_name_column,
                    )
                )
                if staged.report is not None
                else None
            )
            extra = category_layers(circle, language=language) if circle is not None else []
            # Everything of the map but the band polygons' parts, while they are built
            # (planner.report.deferred); then only those parts are left to make.
            fmap = pending_map(result, streets=streets, language=language, extra_layers=extra)
            if not csv_files.forked:
                csv_files.wait()
            shapes = [(name, for_geopackage(getattr(result, name))) for name in polygons]
            polygon_layers = pool.submit(write_geopackage, shapes, staged.geopackage)
            if page is not None:
                page.send_polygons()
            whole_map = finish_map(fmap, polygon_parts(fmap))
            staged.map.write_text(whole_map, "utf-8")
            if page is not None:
                page.write(whole_map)
            csv_files.wait()
            geopackage.result()
            polygon_layers.result()
        staged.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
        layers = [*LAYERS, "districts"] if by_district is not None else list(LAYERS)
        if category_gaps is not None:
            layers.append("category_gaps")
        write_manifest(tmp, layers=layers)
    return paths


_GC_LOCK = threading.Lock()
_gc_state = {"pauses": 0, "was_enabled": False}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block; reference counting still frees.

    Writing a city's outputs makes millions of short-lived lists and dictionaries (GeoJSON
    coordinates, table rows) next to a large live heap (network, result): the collector's
    passes cost about a second of the Porto metro writing stage. The collector is process
    wide, so pauses are counted: it is switched back on (if it was on) when the last block
    of any thread ends.
    """
    with _GC_LOCK:
        if _gc_state["pauses"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["pauses"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_state["pauses"] -= 1
            if _gc_state["pauses"] == 0 and _gc_state["was_enabled"]:
                gc.enable()


def write_geopackage(layers: Sequence[tuple[str, gpd.GeoDataFrame]], path: Path) -> None:
    """Add layers, each ready from :func:`for_geopackage`, to the GeoPackage ``path``.

    A layer is written through Arrow (one vectorised call) when every text column holds
    only text or missing values; a column mixing text with other objects is written as
    before, row by row, since Arrow refuses it. Both give the same layer.
    """
    for name, table in layers:
        arrow = all(
            pd.api.types.infer_dtype(table[col], skipna=True) in ("string", "empty")
            for col in table.columns
            if col != table.geometry.name and table[col].dtype == object
        )
        table.to_file(
            path, layer=name, driver="GPKG", index=False, engine="pyogrio", use_arrow=arrow
        )


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
        pts = geoms.to_numpy().copy()
        areas = (geoms.geom_type != "Point").to_numpy()
        # A point inside each area (``representative_point``); a million homes need none.
        pts[areas] = shapely.point_on_surface(pts[areas])
        lon = np.round(shapely.get_x(pts).astype(float), 7)
        lat = np.round(shapely.get_y(pts).astype(float), 7)
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
    return _people_rounded(table)


def _people_rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Head counts to one decimal in CSV (estimates, not 15 digits); the GeoPackage keeps all."""
    out = table.copy()
    for col in out.columns:
        name = str(col)
        if name.startswith(("population", "people")) and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(1)
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

    Raises :class:`~planner.errors.OutputExistsError` when the file exists and ``overwrite`` is off.
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


def summary_dict(
    result: CoverageResult,
    *,
    inputs: Mapping[str, str] | None = None,
    rejected: Mapping[str, pd.DataFrame] | None = None,
    access: Mapping[str, Any] | None = None,
    circles: Mapping[str, Any] | None = None,
    osm_data: Collection[str] = OSM_DATA,
) -> dict[str, Any]:
    """The content of ``summary.json``: :meth:`CoverageResult.summary` plus provenance.

    ``access`` (:meth:`planner.walk.scores.AccessScores.summary`) is added as the
    ``access`` block when given; the keys of ``circles``
    (:func:`planner.walk.categories.circles_summary`) are added as they are. ``osm_data``
    names the data taken from OpenStreetMap: listed as ``osm_data``, credited in
    ``attribution`` (absent when there is none).
    """
    out: dict[str, Any] = {"generator": GENERATOR}
    out.update(result.summary())
    if circles is not None:
        out.update({k: v for k, v in circles.items() if k not in out})
    if access is not None:
        out["access"] = dict(access)
    out["inputs"] = dict(inputs or {})
    # Rows, not problems: a row with two bad cells is one rejected row.
    out["rejected_rows"] = {
        k: int(v["row"].nunique()) if "row" in v.columns else len(v)
        for k, v in (rejected or {}).items()
    }
    out["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    out["osm_data"] = [kind for kind in OSM_DATA_KINDS if kind in osm_data]
    credit = osm_attribution(osm_data)
    if credit is not None:
        out["attribution"] = credit
    cleaned: dict[str, Any] = _finite(out)
    return cleaned


def osm_attribution(osm_data: Collection[str]) -> str | None:
    """The OpenStreetMap credit for the data taken from it; None when there is none.

    >>> osm_attribution(["streets", "buildings"])
    'Street and building data (c) OpenStreetMap contributors, ODbL 1.0'
    >>> osm_attribution(["stations", "streets"])
    'Street and station data (c) OpenStreetMap contributors, ODbL 1.0'
    """
    unknown = sorted(set(osm_data) - set(OSM_DATA_KINDS))
    if unknown:
        msg = f"osm_data: unknown kind(s) {unknown}; use {list(OSM_DATA_KINDS)}."
        raise InputDataError(msg)
    kinds = [kind.removesuffix("s") for kind in OSM_DATA_KINDS if kind in osm_data]
    if not kinds:
        return None
    what = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"
    return f"{what.capitalize()} data (c) OpenStreetMap contributors, ODbL 1.0"


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


def _is_finite_number(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
