"""Stations and candidate sites from tables of any format, validated row by row.

:func:`stations_from_file` and :func:`candidates_from_file` read a
:class:`~planner.sources.tables.TableSpec` (CSV, Excel, GeoJSON, GeoPackage, Shapefile,
FlatGeobuf; coordinates in WGS84, an EPSG code, GCJ-02 or BD-09), check ``id``, ``name``,
``category`` and ``capacity``, and return the accepted rows with every rejected row in
:attr:`~planner.sources.tables.Loaded.rejected`.
"""

from __future__ import annotations

from pathlib import Path

from planner.limits import DEFAULT_LIMITS, InputLimits, check_count
from planner.sources.coords import CoordSystem
from planner.sources.rawtable import numbers_from_text
from planner.sources.rejected import rejected_table
from planner.sources.tables import (
    Loaded,
    TableSpec,
    canonical_columns,
    locate_spec,
    read_spec,
    rejected_amounts,
    require_rows,
    table_spec,
    with_ids,
)


def stations_from_file(
    path: str | Path | TableSpec,
    *,
    layer: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    crs: str | None = None,
    coord_system: CoordSystem | str | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    limits: InputLimits | None = None,
) -> Loaded:
    """Stations from a table or GIS file.

    Parameters
    ----------
    path
        The file (any of :data:`planner.sources.tableio.TABLE_SUFFIXES`) or a :class:`TableSpec`.
    layer, lon_column, lat_column, crs, coord_system, encoding, decimal
        How to read it; see :class:`TableSpec`.
    limits
        Size, row, column and station limits; :class:`~planner.limits.InputLimits`
        defaults when None.

    Returns
    -------
    Loaded
        Stations with a string ``id`` (``S<row>`` when the file has none), ``name`` and
        ``category`` (``""`` when absent), ``capacity`` (float, NaN when empty) when the
        file has such a column, the other columns carried through, and rejected rows.

    Raises
    ------
    InputDataError
        For duplicate ids (every duplicate named with its rows), a file without usable
        rows, or missing coordinate columns.
    """
    spec = table_spec(
        path,
        layer=layer,
        lon_column=lon_column,
        lat_column=lat_column,
        crs=crs,
        coord_system=coord_system,
        encoding=encoding,
        decimal=decimal,
    )
    return _sites(spec, prefix="S", what="station", limits=limits or DEFAULT_LIMITS)


def candidates_from_file(
    path: str | Path | TableSpec,
    *,
    layer: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    crs: str | None = None,
    coord_system: CoordSystem | str | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    limits: InputLimits | None = None,
) -> Loaded:
    """Candidate sites for new stations, read like :func:`stations_from_file`.

    Ids default to ``C<row>``; the station limit does not apply (candidates may be many).
    """
    spec = table_spec(
        path,
        layer=layer,
        lon_column=lon_column,
        lat_column=lat_column,
        crs=crs,
        coord_system=coord_system,
        encoding=encoding,
        decimal=decimal,
    )
    return _sites(spec, prefix="C", what="candidate site", limits=limits or DEFAULT_LIMITS)


def _sites(spec: TableSpec, *, prefix: str, what: str, limits: InputLimits) -> Loaded:
    raw = read_spec(spec, limits)
    if what == "station":
        check_count(
            raw.source,
            len(raw.frame),
            limit=limits.max_stations,
            what="stations",
            name="max_stations",
        )
    table = canonical_columns(raw, ("id", "name", "category", "capacity"))
    points, rejected = locate_spec(spec, table)
    if "capacity" in points.columns:
        text = points["capacity"].astype(str).str.strip()
        empty = points["capacity"].isna() | text.eq("") | text.str.lower().isin(["nan", "none"])
        value = numbers_from_text(text.where(~empty, ""), decimal=table.decimal)
        extra, bad = rejected_amounts(
            points,
            value,
            ~empty.to_numpy(),
            "capacity",
            limit=limits.max_capacity_per_station,
            limit_name="max_capacity_per_station",
            unit="people",
        )
        rejected = rejected_table([rejected, extra])
        points = points.loc[~bad].copy()
        points["capacity"] = value.loc[~bad].where(~empty.loc[~bad])
    require_rows(points, rejected, table.source, what)
    points = with_ids(points, table.source, prefix)
    for col in ("name", "category"):
        points[col] = points[col].fillna("").astype(str) if col in points.columns else ""
    front = [c for c in ("id", "name", "category") if c in points.columns]
    points = points[front + [c for c in points.columns if c not in front]]
    return Loaded(data=points, rejected=rejected, source=table.source)


def stations_from_csv(
    path: str | Path,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
    limits: InputLimits | None = None,
) -> Loaded:
    """Stations from a CSV file with longitude/latitude columns in WGS84.

    Kept for scripts written before :func:`stations_from_file`, which reads every format.
    """
    return stations_from_file(path, lon_column=lon_column, lat_column=lat_column, limits=limits)
