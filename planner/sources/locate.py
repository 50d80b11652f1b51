"""Placing the rows of a table: WGS84 points or areas, and the rows that cannot be placed.

:func:`locate_points` turns a :class:`~planner.sources.rawtable.RawTable` into WGS84
points: from the file's geometry, or from longitude/latitude columns found by name in
English or Chinese (:func:`find_column`), in WGS84, any EPSG code, GCJ-02 or BD-09.
:func:`locate_areas` gives the polygons of a GIS table, repaired. Every row that cannot be
placed is returned in the rejection table (:mod:`planner.sources.rejected`) with its row
number, column, value and the reason; nothing is dropped silently.
"""

from __future__ import annotations

import difflib
import logging
import warnings
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from planner.errors import CRSError, InputDataError, InputWarning, Term
from planner.sources.coords import (
    WGS84,
    CoordSystem,
    geometries_to_wgs84,
    parse_coord_system,
    resolve_crs,
    to_wgs84,
)
from planner.sources.rawtable import RawTable, numbers_from_text
from planner.sources.rejected import REJECTED_COLUMNS, rejected_table

logger = logging.getLogger(__name__)

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")


def find_column(frame: pd.DataFrame, names: Sequence[str], given: str | None, source: str) -> str:
    """The column named ``given``, or the first column matching ``names`` (any case).

    Raises
    ------
    InputDataError
        Naming the columns found, a close match when there is one, and how to choose.
    """
    columns = [str(c) for c in frame.columns]
    if given is not None:
        if given not in columns:
            msg = f"{source}: no column {given!r}; columns found: {columns}."
            raise InputDataError(msg)
        return given
    lower = {c.lower(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    close = [m for n in names for m in difflib.get_close_matches(n, list(lower), 1, 0.75)]
    hint = Term("did_you_mean", (("name", repr(lower[close[0]])),)) if close else ""
    raise InputDataError(
        key="err_no_coordinate_column",
        file=str(source),
        names=str(list(names)),
        columns=str(columns),
        hint=hint,
    )


def _problems(rows: pd.Index, column: str, values: pd.Series, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype=np.int64),
            "column": column,
            "value": values.loc[rows].astype(str).to_numpy(),
            "reason": reason,
        },
        columns=REJECTED_COLUMNS,
    )


def locate_points(
    table: RawTable,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    coord_system: CoordSystem | str = "wgs84",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Place the rows of a table as WGS84 points.

    Parameters
    ----------
    table
        From :func:`~planner.sources.tableio.read_table`.
    lon_column, lat_column
        Coordinate columns; found by name when None (:data:`LON_NAMES`,
        :data:`LAT_NAMES`). A GIS file's geometry is used unless both are given.
    crs
        CRS of the coordinate columns (EPSG:4326 by default) or of a GIS file that
        declares none.
    coord_system
        ``"gcj02"``/``"bd09"`` when longitude/latitude come from Chinese web maps.

    Returns
    -------
    (geopandas.GeoDataFrame, pandas.DataFrame)
        The placed rows (all attribute columns but the coordinate columns; index = row
        numbers) and the rejected rows.

    Raises
    ------
    InputDataError, CRSError
        When no row can be placed, the coordinate columns are missing or the CRS unknown.
    """
    system = parse_coord_system(coord_system)
    given_crs = resolve_crs(crs, source=f"{table.source}: --crs") if crs is not None else None
    use_columns = table.geometry is None or (lon_column is not None and lat_column is not None)
    if use_columns:
        gdf, rejected, where = _points_from_columns(
            table, lon_column, lat_column, given_crs or pyproj.CRS(WGS84), system
        )
    else:
        gdf, rejected = _points_from_geometry(table, given_crs, system)
        where = "the geometry column"
    rejected = rejected_table([table.rejected, rejected])
    if len(gdf) == 0:
        first = rejected.iloc[0]
        msg = (
            f"{table.source}: no row has valid coordinates in {where} "
            f"({rejected['row'].nunique()} rows rejected), e.g. row {first['row']}: "
            f"{first['reason']} ({first['value']!r})."
        )
        raise InputDataError(msg)
    if len(rejected):
        logger.warning("%s: %d row(s) rejected.", table.source, rejected["row"].nunique())
    return gdf, rejected


def _points_from_columns(
    table: RawTable,
    lon_column: str | None,
    lat_column: str | None,
    crs: pyproj.CRS,
    system: CoordSystem,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str]:
    frame, source = table.frame, table.source
    lon_col = find_column(frame, LON_NAMES, lon_column, source)
    lat_col = find_column(frame, LAT_NAMES, lat_column, source)
    raw_x = frame[lon_col].astype(str).str.strip()
    raw_y = frame[lat_col].astype(str).str.strip()
    x = numbers_from_text(raw_x, decimal=table.decimal).to_numpy(dtype=float)
    y = numbers_from_text(raw_y, decimal=table.decimal).to_numpy(dtype=float)
    geographic = bool(crs.is_geographic)
    if geographic and lon_column is None and lat_column is None and _looks_swapped(x, y):
        warnings.warn(
            f"{source}: columns {lon_col!r} and {lat_col!r} look swapped (the latitudes are "
            f"beyond ±90° but the longitudes would all be valid latitudes); used "
            f"{lat_col!r} as longitude and {lon_col!r} as latitude. Name the columns with "
            "--lon-column/--lat-column if this is wrong.",
            InputWarning,
            stacklevel=4,
        )
        lon_col, lat_col, raw_x, raw_y, x, y = lat_col, lon_col, raw_y, raw_x, y, x
    idx = frame.index
    parts = []
    bad = ~np.isfinite(x)
    parts.append(_problems(idx[bad], lon_col, frame[lon_col], "not a number"))
    bad_y = ~np.isfinite(y)
    parts.append(_problems(idx[bad_y], lat_col, frame[lat_col], "not a number"))
    if geographic:
        unit = "WGS84 degrees" if crs == pyproj.CRS(WGS84) else f"{crs.name} degrees"
        hint = "" if np.nanmax(np.abs(x), initial=0) <= 1000 else "; projected? give --crs"
        out_x = np.isfinite(x) & (np.abs(x) > 180)
        out_y = np.isfinite(y) & (np.abs(y) > 90)
        # A row whose pair would be valid the other way round says so (the columns are
        # right when most rows are: see _looks_swapped).
        swapped = out_y & (np.abs(y) <= 180) & (np.abs(x) <= 90)
        fine = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
        if fine.any():  # swapped when its latitude is where the other rows' longitudes are
            swapped &= np.abs(y - np.median(x[fine])) < 2.0
        for rows, col, bound in (
            (out_x, lon_col, "-180..180"),
            (out_y & ~swapped, lat_col, "-90..90"),
        ):
            reason = f"outside {bound} ({unit} expected{hint})"
            parts.append(_problems(idx[rows], col, frame[col], reason))
        reason = f"outside -90..90 ({unit} expected); longitude and latitude swapped in this row?"
        parts.append(_problems(idx[swapped], lat_col, frame[lat_col], reason))
        bad |= bad_y | out_x | out_y
    else:
        bad |= bad_y
    keep = ~bad
    rejected = rejected_table(parts)
    kept = frame.loc[keep].drop(columns=[lon_col, lat_col])
    px, py = x[keep], y[keep]
    if not geographic:
        to_wgs = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
        px, py = to_wgs.transform(px, py)
        out = ~(np.isfinite(px) & np.isfinite(py))
        if out.any():
            rows = kept.index[out]
            extra = _problems(rows, lon_col, frame[lon_col], f"outside the area of {crs.name}")
            rejected = rejected_table([rejected, extra])
            kept, px, py = kept.loc[~out], px[~out], py[~out]
    elif crs != pyproj.CRS(WGS84):
        to_wgs = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
        px, py = to_wgs.transform(px, py)
    if system != "wgs84":
        px, py = to_wgs84(px, py, system)
    if "geometry" in kept.columns:
        # The points are built from the coordinate columns; keep the input's own
        # "geometry" text as data under another name rather than overwrite it.
        new = "input_geometry"
        while new in kept.columns:
            new += "_"
        kept = kept.rename(columns={"geometry": new})
        msg = (
            f"{source}: the column 'geometry' is kept as {new!r}; the points come from "
            f"columns {lon_col!r}/{lat_col!r}."
        )
        warnings.warn(msg, InputWarning, stacklevel=3)
    gdf = gpd.GeoDataFrame(kept, geometry=gpd.points_from_xy(px, py), crs=WGS84)
    return gdf, rejected, f"columns {lon_col!r}/{lat_col!r}"


def _looks_swapped(x: np.ndarray, y: np.ndarray) -> bool:
    """True when most latitudes are out of range but every pair is valid swapped.

    Needs three rows with coordinates at least: one or two odd rows are bad rows (rejected
    with a reason that suggests the swap), not a sign that the columns are misnamed.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return False
    x, y = x[ok], y[ok]
    out_now = np.abs(y) > 90
    valid_swapped = (np.abs(x) <= 90) & (np.abs(y) <= 180)
    return bool(out_now.mean() > 0.5 and valid_swapped.all())


_POLYGONAL = {"Polygon", "MultiPolygon"}


def _points_from_geometry(
    table: RawTable, crs: pyproj.CRS | None, system: CoordSystem
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    source = table.source
    geoms = _with_crs(table, crs)
    kinds = geoms.geom_type.fillna("none")
    missing = geoms.isna() | geoms.is_empty
    multi = kinds.eq("MultiPoint") & ~missing
    n_parts = shapely.get_num_geometries(geoms.to_numpy())
    usable = (kinds.eq("Point") | (multi & (n_parts == 1)) | kinds.isin(_POLYGONAL)) & ~missing
    values = kinds.where(~missing, "empty")
    parts = [
        _problems(
            geoms.index[missing], "geometry", values, "no geometry; every row needs a location"
        ),
        _problems(
            geoms.index[multi & (n_parts > 1)],
            "geometry",
            values,
            "a MultiPoint of several points; give one point per row",
        ),
        _problems(
            geoms.index[~usable & ~missing & ~multi],
            "geometry",
            values,
            "not a point or an area (lines do not mark a location)",
        ),
    ]
    if kinds[usable].isin(_POLYGONAL).any():
        counts = kinds[usable].value_counts().to_dict()
        if len(counts) > 1:
            warnings.warn(
                f"{source}: mixed geometry types {counts}; areas are placed at a point inside "
                "each (shapely's representative_point).",
                InputWarning,
                stacklevel=4,
            )
        else:
            logger.info("%s: areas placed at a point inside each.", source)
    kept = geoms.loc[usable]
    points = gpd.GeoSeries(
        np.where(
            kept.geom_type.isin(_POLYGONAL),
            kept.representative_point(),
            shapely.get_geometry(kept.to_numpy(), 0),
        ),
        index=kept.index,
        crs=kept.crs,
    )
    if system != "wgs84" and not points.crs.is_geographic:
        msg = (
            f"{source}: GCJ-02/BD-09 coordinates are longitude/latitude, but the file's "
            f"CRS {points.crs.to_string()} is projected. Drop the coordinate-system option."
        )
        raise CRSError(msg)
    points = points.to_crs(WGS84) if system == "wgs84" else geometries_to_wgs84(points, system)
    x, y = points.x.to_numpy(), points.y.to_numpy()
    out = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
    wkt = pd.Series(shapely.to_wkt(kept.to_numpy(), rounding_precision=6), index=kept.index)
    parts.append(
        _problems(
            kept.index[out],
            "geometry",
            wkt,
            f"outside -180..180/-90..90 once converted to WGS84; is the CRS "
            f"{geoms.crs.to_string()} right?",
        )
    )
    keep = kept.index[~out]
    gdf = gpd.GeoDataFrame(table.frame.loc[keep], geometry=points.loc[keep], crs=WGS84)
    return gdf, rejected_table(parts)


def locate_areas(
    table: RawTable,
    *,
    crs: str | int | pyproj.CRS | None = None,
    coord_system: CoordSystem | str = "wgs84",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The polygons of a GIS table in WGS84, invalid outlines repaired.

    Parameters
    ----------
    table
        From :func:`~planner.sources.tableio.read_table`; must have geometry.
    crs
        CRS of a file that declares none.
    coord_system
        ``"gcj02"``/``"bd09"`` for outlines traced on Chinese web maps.

    Returns
    -------
    (geopandas.GeoDataFrame, pandas.DataFrame)
        Polygon and MultiPolygon rows (index = row numbers) and the rejected rows (no
        geometry, not an area, or nothing left after repair).
    """
    system = parse_coord_system(coord_system)
    if table.geometry is None:
        msg = (
            f"{table.source}: a table without geometry cannot give areas. Use a GeoPackage, "
            "GeoJSON or Shapefile of polygons."
        )
        raise InputDataError(msg)
    given = resolve_crs(crs, source=f"{table.source}: --crs") if crs is not None else None
    geoms = _with_crs(table, given)
    kinds = geoms.geom_type.fillna("none")
    missing = geoms.isna() | geoms.is_empty
    polygonal = kinds.isin(_POLYGONAL) & ~missing
    values = kinds.where(~missing, "empty")
    parts = [
        _problems(geoms.index[missing], "geometry", values, "no geometry"),
        _problems(
            geoms.index[~polygonal & ~missing],
            "geometry",
            values,
            "not an area (Polygon or MultiPolygon expected)",
        ),
    ]
    kept = geoms.loc[polygonal]
    if system != "wgs84":
        if not kept.crs.is_geographic:
            msg = (
                f"{table.source}: GCJ-02/BD-09 coordinates are longitude/latitude, but the "
                f"file's CRS {kept.crs.to_string()} is projected. Drop the coordinate-system "
                "option."
            )
            raise CRSError(msg)
        kept = geometries_to_wgs84(kept, system)
    else:
        kept = kept.to_crs(WGS84)
    fixed = gpd.GeoSeries(shapely.make_valid(kept.to_numpy()), index=kept.index, crs=WGS84).apply(
        _polygonal_part
    )
    empty = fixed.isna() | fixed.is_empty
    parts.append(_problems(fixed.index[empty], "geometry", values, "the outline encloses no area"))
    keep = fixed.index[~empty]
    gdf = gpd.GeoDataFrame(table.frame.loc[keep], geometry=fixed.loc[keep], crs=WGS84)
    rejected = rejected_table([table.rejected, *parts])
    if len(gdf) == 0:
        first = rejected.iloc[0]
        msg = (
            f"{table.source}: no usable area ({rejected['row'].nunique()} rows rejected), "
            f"e.g. row {first['row']}: {first['reason']} ({first['value']!r})."
        )
        raise InputDataError(msg)
    return gdf, rejected


def _polygonal_part(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygons of a repaired geometry (make_valid may add lines or points)."""
    if geom is None or geom.geom_type in _POLYGONAL:
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if g.geom_type in _POLYGONAL]
    return shapely.union_all(polys) if polys else None


def _with_crs(table: RawTable, crs: pyproj.CRS | None) -> gpd.GeoSeries:
    """The table's geometry with its CRS, checked against a CRS the user gave."""
    assert table.geometry is not None
    file_crs = table.crs
    if file_crs is None and crs is None:
        msg = (
            f"{table.source}: the file declares no coordinate reference system (a shapefile "
            "without its .prj?). Give it with --crs, e.g. --crs EPSG:4326 for longitude/"
            "latitude in degrees."
        )
        raise CRSError(msg)
    if file_crs is not None and crs is not None and not file_crs.equals(crs):
        msg = (
            f"{table.source}: the file declares {file_crs.to_string()} but --crs says "
            f"{crs.to_string()}. Drop --crs (the file's CRS is used) or fix the file."
        )
        raise CRSError(msg)
    return table.geometry.set_crs(file_crs or crs, allow_override=True)
