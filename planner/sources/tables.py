"""Stations, candidate sites and demand from tables of any format, validated row by row.

Each loader reads a file with :func:`planner.sources.tableio.read_table` (CSV, Excel, GeoJSON,
GeoPackage, Shapefile, FlatGeobuf), places its rows with
:func:`planner.sources.tableio.locate_points` (geometry, or coordinate columns in WGS84, an EPSG
code, GCJ-02 or BD-09), checks the columns that carry meaning (``id``, ``name``,
``category``, ``capacity``, ``population``) and returns the accepted rows with every
rejected row in :attr:`Loaded.rejected`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputDataError
from planner.limits import (
    DEFAULT_LIMITS,
    ROWS_SHOWN,
    InputLimits,
    check_count,
    describe_rows,
    how_to_raise,
)
from planner.sources.coords import CoordSystem, parse_coord_system
from planner.sources.population import distribute_population
from planner.sources.tableio import (
    DECIMAL_MARKS,
    RawTable,
    locate_areas,
    locate_points,
    numbers_from_text,
    read_table,
    rejected_table,
)

#: Other names accepted (any case) for the columns that carry meaning.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "站点编号", "code"),
    "name": ("name", "名称", "站点名称", "title"),
    "category": ("category", "type", "类型", "类别", "kind"),
    "capacity": ("capacity", "容量", "服务能力"),
    "population": ("population", "pop", "人口", "人数", "常住人口"),
}


@dataclass(frozen=True, eq=False)
class Loaded:
    """A loaded table and the input rows that were rejected.

    Attributes
    ----------
    data
        The accepted rows as points in WGS84, index = the file's row numbers.
    rejected
        One row per problem of a rejected input row: ``row`` (1-based data row, the
        header is row 0; the feature number in GIS files), ``column``, ``value`` and
        ``reason``. A row with two bad cells appears twice.
    source
        Where the rows came from (a path, with ``:layer`` for a chosen layer or sheet).
    """

    data: gpd.GeoDataFrame
    rejected: pd.DataFrame
    source: str


@dataclass(frozen=True, slots=True)
class TableSpec:
    """Where a table of points is and how to read it.

    Parameters
    ----------
    path
        CSV/TXT/TSV, Excel (``.xlsx``), GeoJSON, GeoPackage, Shapefile (``.shp`` or a
        ``.zip`` holding one) or FlatGeobuf file.
    layer
        GeoPackage layer, zipped-shapefile member or Excel sheet; required when the file
        holds more than one.
    lon_column, lat_column
        Coordinate columns, when they are not found by name (or to use them instead of a
        GIS file's geometry).
    crs
        CRS of coordinate columns (default EPSG:4326), or of a GIS file that declares
        none (a shapefile without ``.prj``). Any EPSG code or pyproj text.
    coord_system
        ``"gcj02"`` or ``"bd09"`` for longitude/latitude copied from Chinese web maps
        (AMap/Gaode/Tencent, Baidu); converted to WGS84.
    encoding
        Text encoding of a CSV or of a shapefile's attributes, when not detected.
    decimal
        Decimal mark of numbers in a CSV: ``"."`` or ``","`` (European files, with ``;``
        between fields).
    """

    path: Path
    layer: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    crs: str | None = None
    coord_system: CoordSystem = "wgs84"
    encoding: str | None = None
    decimal: str = "."

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        object.__setattr__(self, "coord_system", parse_coord_system(self.coord_system))
        if self.decimal not in DECIMAL_MARKS:
            msg = f"{self.path}: decimal mark {self.decimal!r}; use '.' or ','."
            raise InputDataError(msg)


def _spec(path: str | Path | TableSpec, **options: object) -> TableSpec:
    given = {k: v for k, v in options.items() if v is not None}
    if isinstance(path, TableSpec):
        return replace(path, **given)  # type: ignore[arg-type]
    return TableSpec(Path(path), **given)  # type: ignore[arg-type]


def _read(spec: TableSpec, limits: InputLimits) -> RawTable:
    return read_table(
        spec.path, layer=spec.layer, encoding=spec.encoding, decimal=spec.decimal, limits=limits
    )


def _points(spec: TableSpec, table: RawTable) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    return locate_points(
        table,
        lon_column=spec.lon_column,
        lat_column=spec.lat_column,
        crs=spec.crs,
        coord_system=spec.coord_system,
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
    spec = _spec(
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
    spec = _spec(
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
    raw = _read(spec, limits)
    if what == "station":
        check_count(
            raw.source,
            len(raw.frame),
            limit=limits.max_stations,
            what="stations",
            name="max_stations",
        )
    table = _canonical(raw, ("id", "name", "category", "capacity"))
    points, rejected = _points(spec, table)
    if "capacity" in points.columns:
        text = points["capacity"].astype(str).str.strip()
        empty = points["capacity"].isna() | text.eq("") | text.str.lower().isin(["nan", "none"])
        value = numbers_from_text(text.where(~empty, ""), decimal=table.decimal)
        extra, bad = _bad_amounts(
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
    _require_rows(points, rejected, table.source, what)
    points = _with_ids(points, table.source, prefix)
    for col in ("name", "category"):
        points[col] = points[col].fillna("").astype(str) if col in points.columns else ""
    front = [c for c in ("id", "name", "category") if c in points.columns]
    points = points[front + [c for c in points.columns if c not in front]]
    return Loaded(data=points, rejected=rejected, source=table.source)


def _bad_amounts(
    gdf: gpd.GeoDataFrame,
    value: pd.Series,
    given: np.ndarray,
    col: str,
    *,
    limit: float,
    limit_name: str,
    unit: str,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rejections of a head-count-like column: not a number, negative, or past ``limit``.

    Returns the rejection rows and the mask of rejected rows (only where ``given``). The
    upper limit keeps sums finite: ``1e308`` people would overflow a total to infinity.
    """
    v = value.to_numpy(dtype=float)
    # Not a number, infinite or negative: one reason, as the loaders always gave it.
    invalid = given & ~(np.isfinite(v) & (v >= 0))
    too_large = given & np.isfinite(v) & (v > limit)
    parts = [
        _bad_rows(gdf, invalid, col, f"{col} must be a number of 0 or more"),
        _bad_rows(
            gdf,
            too_large,
            col,
            f"{col} above {limit:,.0f} {unit} for one point (the limit); a wrong unit or "
            f"a typing error? {how_to_raise(limit_name, limit)}",
        ),
    ]
    return rejected_table(parts), invalid | too_large


def demand_from_file(
    path: str | Path | TableSpec,
    *,
    population_column: str = "population",
    onto: gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame] | None = None,
    weight_column: str | None = None,
    layer: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    crs: str | None = None,
    coord_system: CoordSystem | str | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    limits: InputLimits | None = None,
) -> Loaded:
    """Demand (who must be served) from population points or areas with head counts.

    Parameters
    ----------
    path
        A table of points (communities, villages, grid-cell centroids) with a head-count
        column, or a GIS file of areas (population-grid cells, residential compounds).
    population_column
        The head-count column (also found as ``pop``, ``人口``, ``人数``; any case).
    onto
        Points to give each area's people to, e.g. homes (:func:`homes_from_osm`) or
        street-network nodes: see :func:`planner.sources.population.distribute_population`; or a
        function returning them, called only when the file holds areas. Without it an
        area's people stand at a point inside the area.
    weight_column
        Column of ``onto`` that weights the split (e.g. ``floor_m2``); equal shares when
        None.
    layer, lon_column, lat_column, crs, coord_system, encoding, decimal
        How to read the file; see :class:`TableSpec`.
    limits
        Size, row, column and home limits and the largest head count of one point;
        :class:`~planner.limits.InputLimits` defaults when None.

    Returns
    -------
    Loaded
        Points with ``id`` (``D<row>`` when the file has none; ``<area id>/<target id>``
        for distributed areas) and a float ``population``; rows with a missing,
        negative, non-numeric, infinite or implausibly large head count (above
        ``limits.max_population_per_point``) are rejected.
    """
    spec = _spec(
        path,
        layer=layer,
        lon_column=lon_column,
        lat_column=lat_column,
        crs=crs,
        coord_system=coord_system,
        encoding=encoding,
        decimal=decimal,
    )
    lim = limits or DEFAULT_LIMITS
    table = _read(spec, lim)
    check_count(
        table.source,
        len(table.frame),
        limit=lim.max_homes,
        what="demand points",
        name="max_homes",
    )
    table = _canonical(table, ("id",))
    table = _population_column(table, population_column)
    areas = table.geometry is not None and spec.lon_column is None and _mostly_areas(table)
    if areas:
        located, rejected = locate_areas(table, crs=spec.crs, coord_system=spec.coord_system)
    else:
        located, rejected = _points(spec, table)
    pop = numbers_from_text(located["population"], decimal=table.decimal)
    extra, bad = _bad_amounts(
        located,
        pop,
        np.ones(len(located), dtype=bool),
        "population",
        limit=lim.max_population_per_point,
        limit_name="max_population_per_point",
        unit="people",
    )
    rejected = rejected_table([rejected, extra])
    located = located.loc[~bad].copy()
    _require_rows(located, rejected, table.source, "demand")
    located["population"] = pop.loc[~bad].astype(float)
    located = _with_ids(located, table.source, "D")
    if areas:
        if onto is not None:
            targets = onto() if callable(onto) else onto
            check_count(
                f"{table.source} (areas given to points)",
                len(targets),
                limit=lim.max_homes,
                what="homes or street nodes to give the areas' people to",
                name="max_homes",
            )
            located = distribute_population(located, targets, weight_column=weight_column)
        else:
            located = located.set_geometry(located.representative_point())
    return Loaded(data=located, rejected=rejected, source=table.source)


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


def demand_from_csv(
    path: str | Path,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
    population_column: str = "population",
    limits: InputLimits | None = None,
) -> Loaded:
    """Demand points with a head count from a CSV file in WGS84.

    Kept for scripts written before :func:`demand_from_file`, which reads every format.
    """
    return demand_from_file(
        path,
        lon_column=lon_column,
        lat_column=lat_column,
        population_column=population_column,
        limits=limits,
    )


# ------------------------------------------------------------------------------ helpers


def _canonical(table: RawTable, names: Sequence[str]) -> RawTable:
    """Rename the first alias column (any case) of each meaningful column to its name."""
    frame = table.frame
    lower = {str(c).lower(): str(c) for c in frame.columns}
    renames: dict[str, str] = {}
    for name in names:
        if name in frame.columns:
            continue
        for alias in COLUMN_ALIASES[name]:
            col = lower.get(alias.lower())
            if col is not None and col not in renames and col not in names:
                renames[col] = name
                break
    if not renames:
        return table
    return replace(table, frame=frame.rename(columns=renames))


def _population_column(table: RawTable, population_column: str) -> RawTable:
    frame = table.frame
    if population_column in frame.columns:
        col = population_column
    elif population_column == "population":
        lower = {str(c).lower(): str(c) for c in frame.columns}
        found = [lower[a.lower()] for a in COLUMN_ALIASES["population"] if a.lower() in lower]
        col = found[0] if found else ""
    else:
        col = ""
    if not col:
        msg = (
            f"{table.source}: no population column {population_column!r}. Columns found: "
            f"{[str(c) for c in frame.columns]}. Add a column of head counts or name it with "
            "--population-column."
        )
        raise InputDataError(msg)
    if col == "population":
        return table
    frame = frame.drop(columns=["population"], errors="ignore")
    return replace(table, frame=frame.rename(columns={col: "population"}))


def _mostly_areas(table: RawTable) -> bool:
    assert table.geometry is not None
    kinds = table.geometry.geom_type.dropna()
    return bool(len(kinds)) and bool(kinds.isin(["Polygon", "MultiPolygon"]).all())


def _bad_rows(
    gdf: gpd.GeoDataFrame, bad: pd.Series | np.ndarray, col: str, reason: str
) -> pd.DataFrame:
    mask = np.asarray(bad, dtype=bool)
    return pd.DataFrame(
        {
            "row": gdf.index[mask].to_numpy(dtype=np.int64),
            "column": col,
            "value": gdf.loc[mask, col].astype(str).to_numpy(),
            "reason": reason,
        }
    )


def _require_rows(gdf: gpd.GeoDataFrame, rejected: pd.DataFrame, source: str, what: str) -> None:
    if len(gdf) == 0:
        n = rejected["row"].nunique()
        shown = rejected.head(ROWS_SHOWN)
        lines = [
            f"row {r}" + (f", column {c!r}" if c else "") + f": {why} ({str(v)[:80]!r})"
            for r, c, v, why in zip(
                shown["row"], shown["column"], shown["value"], shown["reason"], strict=True
            )
        ]
        more = (
            f"\n  (and {len(rejected) - len(shown):,} more)" if len(rejected) > len(shown) else ""
        )
        msg = f"{source}: no usable {what} rows ({n:,} rejected):\n  " + "\n  ".join(lines) + more
        raise InputDataError(msg)


def _with_ids(gdf: gpd.GeoDataFrame, source: str, prefix: str) -> gpd.GeoDataFrame:
    out = gdf.copy()
    if "id" in out.columns:
        text = out["id"].astype(str).str.strip()
        # Integer ids read from GIS files as numbers stay "7", not "7.0".
        if pd.api.types.is_float_dtype(out["id"]) and (out["id"].dropna() % 1 == 0).all():
            text = out["id"].map(lambda v: "" if pd.isna(v) else str(int(v)))
        out["id"] = text
        check_unique_ids(out, source)
    else:
        out.insert(0, "id", [f"{prefix}{row}" for row in out.index])
    return out


def check_unique_ids(points: pd.DataFrame, source: str) -> None:
    """Raise naming every duplicated id of column ``id`` with its rows."""
    dup = points["id"].duplicated(keep=False)
    if dup.any():
        groups = points.loc[dup].groupby("id", sort=True).groups
        detail = "; ".join(
            f"{k!r} on {describe_rows(list(v))}" for k, v in list(groups.items())[:10]
        )
        more = f" (and {len(groups) - 10} more)" if len(groups) > 10 else ""
        msg = f"{source}: duplicate ids in column 'id': {detail}{more}. Give every row its own id."
        raise InputDataError(msg)
