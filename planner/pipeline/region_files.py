"""The files of a region's folder: ``summary.json``, ``areas.csv``, ``areas.gpkg``, the report.

Also ``rejected_<input>.csv``: the rows of the stations or demand file that were rejected
when the inputs were read (which row, which column, why), as ``planner analyze`` writes
them.

Written by :func:`planner.pipeline.region.run_region` once every area has ended, each file
atomically (a temporary name beside it, then a rename); and the GeoParquet hand-over of the
loaded stations and homes to the workers (:func:`write_parquet`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._version import __version__
from planner.config import AnalysisConfig
from planner.pipeline.region_task import AreaOutcome, figures_frame
from planner.report.export import for_geopackage, write_report
from planner.report.output_folder import GENERATOR
from planner.report.page import json_ready
from planner.report.region import region_report
from planner.report.spreadsheet import write_csv
from planner.texts import Language

#: ``summary.json``'s ``kind`` for a region folder (an area folder has none).
REGION_KIND = "region"


def write_region(
    out: Path,
    areas: gpd.GeoDataFrame,
    outcomes: list[AreaOutcome],
    cfg: AnalysisConfig,
    *,
    inputs_names: dict[str, str],
    homes_outside: int,
    language: Language,
    raw_text: bool,
    rejected: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """Write ``summary.json``, ``areas.csv``, ``areas.gpkg``, ``report.html``, rejected rows.

    Each input with rejected rows gets its ``rejected_<input>.csv``; those of an earlier
    run are removed.
    """
    rejected = {k: v for k, v in (rejected or {}).items() if len(v)}
    for old in out.glob("rejected_*.csv"):
        old.unlink()
    for name, rows in rejected.items():
        tmp = out / f".rejected_{name}.csv.partial"
        write_csv(rows, tmp, raw_text=raw_text, bom=False)
        tmp.replace(out / f"rejected_{name}.csv")
    table = figures_frame(outcomes)
    ok = table[table["status"] != "failed"]
    total = float(ok["population_total"].fillna(0).sum())
    covered = float(ok["population_covered"].fillna(0).sum())
    summary: dict[str, Any] = {
        "generator": GENERATOR,
        "kind": REGION_KIND,
        "version": __version__,
        "minutes": cfg.walk_minutes,
        "speed_kmh": cfg.speed_kmh,
        "max_snap_m": cfg.max_snap_m,
        "areas_total": len(outcomes),
        "areas_done": int((table["status"] == "done").sum()),
        "areas_skipped": int((table["status"] == "skipped").sum()),
        "population_total": total,
        "population_covered": covered,
        "share_covered": covered / total if total > 0 else 0.0,
        "gap_zones": int(ok["gap_zones"].fillna(0).sum()),
        "population_in_gap_zones": float(ok["population_in_gap_zones"].fillna(0).sum()),
        "homes_outside_areas": homes_outside,
        # Rows, not problems: a row with two bad cells is one rejected row.
        "rejected_rows": {k: int(v["row"].nunique()) for k, v in rejected.items()},
        **_complete_circle(ok, total),
        "areas": [
            {
                "name": r["name"],
                "folder": r["folder"],
                "status": r["status"],
                "population": r["population_total"],
                "covered": r["population_covered"],
                "share": r["share_covered"],
                "gap_zones": r["gap_zones"],
                "seconds": r["seconds"],
                "warnings": list(o.warnings),
            }
            for r, o in zip(table.to_dict("records"), outcomes, strict=True)
        ],
        "failed": [
            {"name": r["name"], "folder": r["folder"], "reason": r["reason"]}
            for r in table[table["status"] == "failed"].to_dict("records")
        ],
        "inputs": inputs_names,
    }
    summary = json_ready(json.loads(json.dumps(summary, default=_plain)))
    _atomic_text(out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2))
    tmp = out / ".areas.csv.partial"
    write_csv(table, tmp, raw_text=raw_text)
    tmp.replace(out / "areas.csv")
    layer = gpd.GeoDataFrame(table, geometry=areas.geometry.to_numpy(), crs=areas.crs)
    gpkg_tmp = out / ".areas.partial.gpkg"
    gpkg_tmp.unlink(missing_ok=True)
    for_geopackage(layer).to_file(gpkg_tmp, layer="areas", driver="GPKG", index=False)
    gpkg_tmp.replace(out / "areas.gpkg")
    page = region_report(layer, summary, gaps=_worst_gaps(out, outcomes), language=language)
    write_report(page, out / "report.html", overwrite=True)
    return summary


def _complete_circle(ok: pd.DataFrame, total: float) -> dict[str, float]:
    """The region's complete circle (stations with categories): people and share."""
    if "population_complete" not in ok.columns:
        return {}
    complete = float(ok["population_complete"].fillna(0).sum())
    return {"population_complete": complete, "share_complete": complete / total if total else 0.0}


def _worst_gaps(out: Path, outcomes: list[AreaOutcome], top: int = 20) -> gpd.GeoDataFrame | None:
    """The largest gap zones of all areas (by population), with their area's name."""
    parts = []
    for o in outcomes:
        path = out / "areas" / o.folder / "coverage.gpkg"
        if o.status == "failed" or not path.is_file():
            continue
        gaps = gpd.read_file(path, layer="gaps")
        if len(gaps):
            parts.append(gaps.nlargest(top, "population").assign(area=o.name))
    if not parts:
        return None
    every = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(every.nlargest(top, "population"), crs=parts[0].crs)


def write_parquet(table: gpd.GeoDataFrame, path: Path) -> Path:
    """Write ``table`` as GeoParquet (text columns of mixed types as text), atomically."""
    tmp = path.with_name(f".{path.name}.partial")
    frame = table.copy()
    for col in frame.columns:
        if col != frame.geometry.name and frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    frame.to_parquet(tmp, index=True, row_group_size=50_000)
    tmp.replace(path)
    return path


def _atomic_text(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(content, "utf-8")
    tmp.replace(path)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA:
        return None
    return str(value)
