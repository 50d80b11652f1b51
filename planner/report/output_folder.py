"""The output folder: its layout, no silent overwrite, and writing it all or nothing.

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
parent directory) by :func:`staged_folder` and moved into place only when every file is
written: a run that fails or is killed never leaves a folder that looks finished, and an
``overwrite`` run replaces an earlier one only when the new one is complete. Existing files
are never replaced unless ``overwrite=True`` (:func:`check_free`, :func:`check_file_free`);
files of the user's own in the folder are kept. What goes into the files is
:mod:`planner.report.export`'s job; checking a folder and reading it back is
:mod:`planner.report.saved_run`'s.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from planner.errors import OutputExistsError

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


@dataclass(frozen=True, slots=True)
class OutputPaths:
    """Where :func:`~planner.report.export.write_outputs` wrote each file."""

    folder: Path
    summary: Path
    geopackage: Path
    map: Path
    rejected: tuple[Path, ...]
    csv: tuple[Path, ...] = ()
    report: Path | None = None
    manifest: Path | None = None


def output_paths(
    out_dir: str | Path,
    *,
    rejected_names: tuple[str, ...] = (),
    csv_names: tuple[str, ...] = CSV_TABLES,
    report: bool = True,
) -> OutputPaths:
    """The files :func:`~planner.report.export.write_outputs` writes into ``out_dir``."""
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
    existing = [p for p in all_paths(paths) if p.exists()]
    if existing:
        msg = (
            f"{existing[0]} already exists; not overwriting it. Choose another output folder "
            "or pass --overwrite (overwrite=True in Python) to replace the earlier results."
        )
        raise OutputExistsError(msg)


def all_paths(paths: OutputPaths) -> list[Path]:
    """Every file of ``paths``, in the order they are listed."""
    out = [paths.summary, paths.geopackage, paths.map, *paths.rejected, *paths.csv]
    if paths.report is not None:
        out.append(paths.report)
    if paths.manifest is not None:
        out.append(paths.manifest)
    return out


def check_file_free(path: str | Path, *, overwrite: bool) -> Path:
    """Raise :class:`OutputExistsError` when ``path`` exists and ``overwrite`` is off."""
    out = Path(path)
    if out.exists() and not overwrite:
        msg = (
            f"{out} already exists; not overwriting it. Choose another file with --out or "
            "pass --overwrite (overwrite=True in Python) to replace it."
        )
        raise OutputExistsError(msg)
    return out


def is_planner_output(folder: str | Path) -> bool:
    """True when ``folder`` holds a ``summary.json`` written by this tool."""
    path = Path(folder) / "summary.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("generator") == GENERATOR


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
    """Whether a file name is one that :func:`~planner.report.export.write_outputs` writes."""
    return name in OWN_FILES or name in {f"{t}.csv" for t in CSV_TABLES} or is_rejected_file(name)


def is_rejected_file(name: str) -> bool:
    """Whether a file name is a ``rejected_<input>.csv`` of rejected input rows."""
    return name.startswith("rejected_") and name.endswith(".csv")


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

    Written last by :func:`~planner.report.export.write_outputs`;
    :func:`~planner.report.saved_run.check_complete` reads it.
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
