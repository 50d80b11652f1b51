"""Files people upload in the app: size limits, then the library's own loaders.

Each function checks the size first (a clear message past the limit), writes the bytes to
a private temporary file under the upload's own name, and calls the loader for that kind
of file with the same :class:`~planner.limits.InputLimits` as the command line (rows,
columns, decompressed size, stations, homes, head counts), so an upload is refused or
its rows rejected with the same messages. A loader's error (naming the file, row and
column) reaches the caller naming the upload, so the app can show it and leave the current
plan as it was.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.app.plan import Plan
from planner.app.study_area import StudyArea, study_area_from_extract
from planner.errors import InputDataError, PlannerError, UnsupportedFormatError
from planner.limits import InputLimitError, InputLimits
from planner.pipeline.progress import Progress
from planner.sources.coords import WGS84
from planner.sources.demand import demand_from_file
from planner.sources.osm import forget_pyrosm_reads
from planner.sources.sites import stations_from_file
from planner.sources.tableio import TABLE_SUFFIXES
from planner.sources.tables import Loaded
from planner.texts import word

#: Size limits in megabytes.
STATION_LIMIT_MB = 5
DEMAND_LIMIT_MB = 50
EXTRACT_LIMIT_MB = 200
SCENARIO_LIMIT_MB = 5

#: Station file formats: every table :func:`planner.sources.sites.stations_from_file` reads, but
#: a bare ``.shp`` (its ``.dbf``/``.shx``/``.prj`` cannot come along: upload a zip).
STATION_SUFFIXES = tuple(s for s in TABLE_SUFFIXES if s != ".shp")
#: Demand tables (homes) are read from CSV.
DEMAND_SUFFIXES = (".csv", ".txt")
#: Street networks: OSM extracts, GraphML, and road line layers that come as one file.
EXTRACT_SUFFIXES = (
    ".osm.pbf",
    ".pbf",
    ".osm",
    ".osm.bz2",
    ".osm.gz",
    ".graphml",
    ".zip",
    ".gpkg",
    ".geojson",
)


def check_size(filename: str, size_bytes: int, *, limit_mb: float, what: str) -> None:
    """Raise :class:`InputDataError` when a file is larger than ``limit_mb`` megabytes."""
    if size_bytes > limit_mb * 1_000_000:
        raise InputLimitError(
            key="err_upload_too_large",
            file=filename,
            size_mb=size_bytes / 1_000_000,
            what=word(what),
            limit_mb=limit_mb,
        )


@contextmanager
def _uploaded(filename: str, data: bytes) -> Iterator[Path]:
    """The upload written to a private temporary file under its own name.

    A :class:`PlannerError` raised inside, and every warning, names the upload
    (``filename``), not the temporary file: the same message the command line gives for a
    file of that name.
    """
    name = _safe_name(filename)
    with (
        tempfile.TemporaryDirectory(prefix="planner-upload-") as tmp,
        _forgotten(Path(tmp) / name) as path,
    ):
        path.write_bytes(data)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                yield path
            for w in caught:
                text = str(w.message).replace(str(path), filename).replace(f"{tmp}/", "")
                warnings.warn(text, w.category, stacklevel=3)
        except PlannerError as err:
            text = str(err)
            if str(path) not in text and tmp not in text:
                raise
            # The same kind of error, naming the upload instead of the temporary file.
            named = err.replaced(str(path), filename).replaced(f"{tmp}/", "")
            raise named from err


@contextmanager
def _forgotten(path: Path) -> Iterator[Path]:
    """``path``, whose reads pyrosm cached are removed afterwards (a temporary copy)."""
    try:
        yield path
    finally:
        forget_pyrosm_reads(path)


#: A number written with a decimal comma (``24,9475``, ``-0,5``).
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
#: A number written with a decimal point.
_DECIMAL_POINT = re.compile(r"-?\d+\.\d+")
#: Rows looked at to tell the decimal mark.
DECIMAL_SAMPLE_ROWS = 200


def decimal_mark(filename: str, data: bytes) -> str | None:
    """``","`` when a text table uses decimal commas, else None (read as usual).

    Decimal commas with ``;`` between fields are the usual Excel export in much of Europe
    (``24,9475;60,1765``).

    Only a table whose header is not separated by commas qualifies, and only when some
    values in the first rows are numbers with a decimal comma and none has a decimal
    point; anything else is left to the loader (which names the rows it rejects). The
    command line's ``--decimal ,`` does the same on request.
    """
    if not filename.lower().endswith((".csv", ".txt", ".tsv")):
        return None
    head = data[:200_000].decode("utf-8-sig", errors="replace").splitlines()
    lines = [line for line in head if line.strip()][: DECIMAL_SAMPLE_ROWS + 1]
    if len(lines) < 2:
        return None
    header = lines[0]
    sep = ";" if header.count(";") > 0 else "\t" if header.count("\t") > 0 else None
    if sep is None or "," in header:
        return None
    cells = [c.strip().strip('"') for line in lines[1:] for c in line.split(sep)]
    commas = sum(bool(_DECIMAL_COMMA.fullmatch(c)) for c in cells)
    points = sum(bool(_DECIMAL_POINT.fullmatch(c)) for c in cells)
    return "," if commas and not points else None


def stations_from_upload(
    filename: str,
    data: bytes,
    *,
    limit_mb: float = STATION_LIMIT_MB,
    limits: InputLimits | None = None,
) -> Loaded:
    """Stations from an uploaded file, with the rows the loader rejected.

    Any format :func:`planner.sources.sites.stations_from_file` reads: CSV/TXT/TSV, Excel
    (``.xlsx``, ``.xlsm``), GeoJSON, GeoPackage, FlatGeobuf, a zipped Shapefile. The
    loader's messages name the upload (``filename``), not the temporary file.

    Parameters
    ----------
    filename, data
        The upload's name and bytes.
    limit_mb
        Largest upload, megabytes (checked first).
    limits
        The same limits as the command line's (rows, columns, decompressed size,
        stations, capacities); :class:`~planner.limits.InputLimits` defaults when None.
    """
    check_size(filename, len(data), limit_mb=limit_mb, what="station")
    name = _safe_name(filename)
    if not name.lower().endswith(STATION_SUFFIXES):
        raise UnsupportedFormatError(
            key="err_upload_stations_format", file=filename, suffixes=", ".join(STATION_SUFFIXES)
        )
    with _uploaded(filename, data) as path:
        loaded = stations_from_file(path, limits=limits, decimal=decimal_mark(name, data))
    return Loaded(data=loaded.data, rejected=loaded.rejected, source=filename)


def demand_from_upload(
    filename: str,
    data: bytes,
    *,
    limit_mb: float = DEMAND_LIMIT_MB,
    limits: InputLimits | None = None,
) -> Loaded:
    """Demand points (lon, lat, population) from an uploaded CSV.

    ``limits`` as in :func:`stations_from_upload` (rows, columns, homes, head counts).
    """
    check_size(filename, len(data), limit_mb=limit_mb, what="demand")
    name = _safe_name(filename)
    if not name.lower().endswith(DEMAND_SUFFIXES):
        raise UnsupportedFormatError(key="err_upload_demand_format", file=filename)
    with _uploaded(filename, data) as path:
        loaded = demand_from_file(path, limits=limits, decimal=decimal_mark(name, data))
    return Loaded(data=loaded.data, rejected=loaded.rejected, source=filename)


def area_from_upload(
    filename: str,
    data: bytes,
    *,
    demand: gpd.GeoDataFrame | None = None,
    max_snap_m: float = 300.0,
    limit_mb: float = EXTRACT_LIMIT_MB,
    limits: InputLimits | None = None,
    progress: Progress | None = None,
) -> StudyArea:
    """A study area from an uploaded OSM extract, GraphML file or road line layer.

    ``limits`` as in :func:`stations_from_upload` (decompressed size of ``.osm.bz2``/
    ``.osm.gz``, homes); ``progress`` as in
    :func:`~planner.app.study_area.study_area_from_extract`.
    """
    check_size(filename, len(data), limit_mb=limit_mb, what="street network")
    name = _safe_name(filename)
    if not name.lower().endswith(EXTRACT_SUFFIXES):
        raise UnsupportedFormatError(
            key="err_upload_network_format", file=filename, suffixes=", ".join(EXTRACT_SUFFIXES)
        )
    with _uploaded(filename, data) as path:
        return study_area_from_extract(
            path,
            demand=demand,
            name=filename,
            max_snap_m=max_snap_m,
            limits=limits,
            progress=progress,
        )


def merge_stations(plan: Plan, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The plan's stations followed by ``new`` ones; ids must not repeat."""
    taken = set(plan.stations["id"].astype(str))
    clash = sorted(taken & set(new["id"].astype(str))) if "id" in new.columns else []
    if clash:
        shown = ", ".join(clash[:10]) + (" ..." if len(clash) > 10 else "")
        raise InputDataError(key="err_ids_in_plan", ids=shown)
    both = pd.concat([plan.stations, new.to_crs(WGS84)], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=WGS84)


def _safe_name(filename: str) -> str:
    """The file's own name without any folder part (never write outside the temp folder)."""
    name = Path(filename.replace("\\", "/")).name
    return name or "upload"
