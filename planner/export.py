"""Files out: ``summary.json``, ``coverage.gpkg`` and ``map.html`` (a documented contract).

Layout of an output folder::

    summary.json    headline figures, parameters, inputs and version
    coverage.gpkg   layers stations, demand, isochrones, coverage_area, gaps (EPSG:4326)
    map.html        Folium map that opens offline
    rejected_<input>.csv   rows of an input file that were rejected, when there were any

Existing files are never replaced unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.coverage import CoverageResult
from planner.errors import OutputExistsError
from planner.maps import coverage_map

#: Value of ``summary.json``'s ``generator`` field; marks a folder as this tool's output.
GENERATOR = "service-circle-planner"
LAYERS = ("stations", "demand", "isochrones", "coverage_area", "gaps")


@dataclass(frozen=True, slots=True)
class OutputPaths:
    """Where :func:`write_outputs` wrote each file."""

    folder: Path
    summary: Path
    geopackage: Path
    map: Path
    rejected: tuple[Path, ...]


def write_outputs(
    result: CoverageResult,
    out_dir: str | Path,
    *,
    inputs: Mapping[str, str] | None = None,
    rejected: Mapping[str, pd.DataFrame] | None = None,
    streets: gpd.GeoDataFrame | None = None,
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
        Names of the inputs (``network``, ``stations``, ``demand``) for ``summary.json``.
    rejected
        Rejected rows per input name; each non-empty table is written as
        ``rejected_<name>.csv``.
    streets
        Street lines for the map's base layer.
    overwrite
        Replace existing output files. Without it, an existing file stops the write before
        anything is written.

    Returns
    -------
    OutputPaths
        The files written.
    """
    rejected = {k: v for k, v in (rejected or {}).items() if len(v)}
    paths = output_paths(out_dir, rejected_names=tuple(rejected))
    check_free(paths, overwrite=overwrite)
    folder = paths.folder
    folder.mkdir(parents=True, exist_ok=True)
    if overwrite and is_planner_output(folder):
        for stale in set(folder.glob("rejected_*.csv")) - set(paths.rejected):
            stale.unlink()  # left by an earlier run of ours; would describe other inputs

    if paths.geopackage.exists():
        paths.geopackage.unlink()
    for name in LAYERS:
        layer: gpd.GeoDataFrame = getattr(result, name)
        _for_gpkg(layer).to_file(paths.geopackage, layer=name, driver="GPKG")
    coverage_map(result, streets=streets).save(str(paths.map))
    for path, table in zip(paths.rejected, rejected.values(), strict=True):
        table.to_csv(path, index=False)

    summary = summary_dict(result, inputs=inputs, rejected=rejected)
    paths.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return paths


def output_paths(out_dir: str | Path, *, rejected_names: tuple[str, ...] = ()) -> OutputPaths:
    """The files :func:`write_outputs` writes into ``out_dir``."""
    folder = Path(out_dir)
    return OutputPaths(
        folder=folder,
        summary=folder / "summary.json",
        geopackage=folder / "coverage.gpkg",
        map=folder / "map.html",
        rejected=tuple(folder / f"rejected_{name}.csv" for name in rejected_names),
    )


def check_free(paths: OutputPaths, *, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` when an output file exists and ``overwrite`` is off."""
    if overwrite:
        return
    targets = [paths.summary, paths.geopackage, paths.map, *paths.rejected]
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
