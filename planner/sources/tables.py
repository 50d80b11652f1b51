"""What every table loader shares: how a table is given, what a loader returns, row checks.

A :class:`TableSpec` says where a table of points is and how to read it; the loaders of
stations and candidate sites (:mod:`planner.sources.sites`) and of demand
(:mod:`planner.sources.demand`) read it with :func:`~planner.sources.tableio.read_table`,
place its rows with :func:`~planner.sources.locate.locate_points`, and check the columns
that carry meaning here: names found by alias (:data:`COLUMN_ALIASES`), head counts and
capacities (:func:`rejected_amounts`), ids (:func:`with_ids`). They return a
:class:`Loaded`: the accepted rows and every rejected row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputDataError
from planner.limits import ROWS_SHOWN, InputLimits, describe_rows, how_to_raise
from planner.sources.coords import CoordSystem, parse_coord_system
from planner.sources.locate import locate_points
from planner.sources.rawtable import DECIMAL_MARKS, RawTable
from planner.sources.rejected import rejected_table
from planner.sources.tableio import read_table
from planner.texts import word

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


def table_spec(path: str | Path | TableSpec, **options: object) -> TableSpec:
    """A :class:`TableSpec` of a path, or the spec given, with the options that are not None."""
    given = {k: v for k, v in options.items() if v is not None}
    if isinstance(path, TableSpec):
        return replace(path, **given)  # type: ignore[arg-type]
    return TableSpec(Path(path), **given)  # type: ignore[arg-type]


def read_spec(spec: TableSpec, limits: InputLimits) -> RawTable:
    """The table the spec names, read as it says (:func:`~planner.sources.tableio.read_table`)."""
    return read_table(
        spec.path, layer=spec.layer, encoding=spec.encoding, decimal=spec.decimal, limits=limits
    )


def locate_spec(spec: TableSpec, table: RawTable) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The rows as WGS84 points and the rejected rows, placed as the spec says."""
    return locate_points(
        table,
        lon_column=spec.lon_column,
        lat_column=spec.lat_column,
        crs=spec.crs,
        coord_system=spec.coord_system,
    )


def canonical_columns(table: RawTable, names: Sequence[str]) -> RawTable:
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


def rejected_amounts(
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


def require_rows(gdf: gpd.GeoDataFrame, rejected: pd.DataFrame, source: str, what: str) -> None:
    """Raise, listing the first rejected rows and why, when no row of ``what`` is left."""
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
        raise InputDataError(
            key="err_no_usable_rows",
            file=str(source),
            what=word(what),
            n=n,
            detail="\n  ".join(lines) + more,
        )


def with_ids(gdf: gpd.GeoDataFrame, source: str, prefix: str) -> gpd.GeoDataFrame:
    """A copy with a text ``id``: the file's (checked unique), else ``<prefix><row>``."""
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
        raise InputDataError(key="err_duplicate_ids", file=str(source), detail=detail + more)
