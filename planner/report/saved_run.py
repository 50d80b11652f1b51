"""A finished output folder read back: is it complete, and the result it holds.

:func:`check_complete` compares a folder with the manifest its run wrote last
(:mod:`planner.report.output_folder`); :func:`read_outputs` reads the folder back into a
:class:`~planner.walk.coverage.CoverageResult`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from planner.config import AnalysisConfig
from planner.errors import IncompleteOutputError, InputDataError, InputFileNotFoundError
from planner.report.output_folder import LAYERS, MANIFEST, is_planner_output
from planner.walk.coverage import CoverageResult


@dataclass(frozen=True, eq=False)
class SavedRun:
    """An output folder read back by :func:`read_outputs`."""

    folder: Path
    result: CoverageResult
    summary: dict[str, Any]


def read_outputs(folder: str | Path) -> SavedRun:
    """Read a folder written by :func:`~planner.report.export.write_outputs` back as a result.

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
        isochrone_layer=layers["isochrones"],
        area_layer=layers["coverage_area"],
        gaps=layers["gaps"],
        network_facts=dict(summary.get("network") or {}),
    )
    return SavedRun(folder=path, result=result, summary=summary)


def check_complete(folder: str | Path) -> dict[str, Any]:
    """Check that an output folder holds every file and layer of a finished run.

    Parameters
    ----------
    folder
        A folder written by :func:`~planner.report.export.write_outputs`.

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
