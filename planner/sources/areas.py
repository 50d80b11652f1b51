"""Areas: the study area that limits an analysis, and named districts for per-district tables.

A study area is one (Multi)Polygon in WGS84, from a GIS file (all its polygons united) or
drawn on a map (GeoJSON). Districts are named polygons. :func:`clip_graph` keeps the part
of a street network inside a study area.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError, NetworkBuildError
from planner.limits import InputLimits, describe_rows
from planner.sources.coords import WGS84, CoordSystem
from planner.sources.locate import locate_areas
from planner.sources.tableio import read_table

if TYPE_CHECKING:
    import networkx as nx

#: A study area: one polygon or several, in WGS84.
Area: TypeAlias = shapely.Polygon | shapely.MultiPolygon


def study_area_from_file(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    coord_system: CoordSystem | str = "wgs84",
    limits: InputLimits | None = None,
) -> Area:
    """The study area: the union of the polygons of a GIS file, in WGS84.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile (or zipped), FlatGeobuf file of polygons.
    layer
        Layer to read when the file holds several.
    crs
        CRS of a file that declares none.
    coord_system
        ``"gcj02"``/``"bd09"`` for an outline traced on a Chinese web map.
    limits
        File size, rows and columns allowed; :class:`~planner.limits.InputLimits`
        defaults when None.

    Raises
    ------
    InputDataError
        When the file holds no polygon, or holds other geometries too (every row that is
        not an area is named).
    """
    table = read_table(path, layer=layer, limits=limits)
    areas, rejected = locate_areas(table, crs=crs, coord_system=coord_system)
    if len(rejected):
        rows = "; ".join(
            f"row {r.row}: {r.reason} ({r.value})" for r in rejected.head(10).itertuples()
        )
        msg = (
            f"{table.source}: a study area must be polygons only; {len(rejected)} row(s) are "
            f"not: {rows}. Remove them or choose a polygon layer."
        )
        raise InputDataError(msg)
    return _as_area(shapely.union_all(areas.geometry.to_numpy()), table.source)


def study_area_from_geojson(obj: Mapping[str, Any] | str) -> Area:
    """The study area from GeoJSON drawn on a map (a geometry, Feature or FeatureCollection).

    Coordinates are WGS84 longitude/latitude, as GeoJSON requires.
    """
    data = json.loads(obj) if isinstance(obj, str) else dict(obj)
    kind = data.get("type")
    if kind == "FeatureCollection":
        geoms = [shapely.geometry.shape(f["geometry"]) for f in data.get("features", [])]
    elif kind == "Feature":
        geoms = [shapely.geometry.shape(data["geometry"])]
    else:
        geoms = [shapely.geometry.shape(data)]
    polys = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys or len(polys) != len(geoms):
        msg = (
            "Drawn study area: draw one or more polygons or rectangles (got "
            f"{[g.geom_type for g in geoms]})."
        )
        raise InputDataError(msg)
    return _as_area(shapely.union_all([shapely.make_valid(p) for p in polys]), "drawn study area")


def _as_area(geom: BaseGeometry, source: str) -> Area:
    if isinstance(geom, shapely.GeometryCollection) and not isinstance(geom, shapely.MultiPolygon):
        polys = [g for g in geom.geoms if isinstance(g, shapely.Polygon | shapely.MultiPolygon)]
        geom = shapely.union_all(polys) if polys else shapely.Polygon()
    if not isinstance(geom, shapely.Polygon | shapely.MultiPolygon) or geom.is_empty:
        msg = f"{source}: the study area encloses no area."
        raise InputDataError(msg)
    return geom


def districts_from_file(
    path: str | Path,
    *,
    name_column: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    coord_system: CoordSystem | str = "wgs84",
    limits: InputLimits | None = None,
) -> gpd.GeoDataFrame:
    """Named districts (polygons) for per-district tables.

    Parameters
    ----------
    path
        GIS file of polygons.
    name_column
        Column with the district names; found as ``name``/``district``/``名称``/``区``/
        ``街道`` (any case) when None.
    layer, crs, coord_system, limits
        As in :func:`study_area_from_file`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name`` (text; ``""`` where the file has none) and ``geometry`` (WGS84),
        one row per district, in file order.

    Raises
    ------
    InputDataError
        For a row that is not a polygon (named with its row, counted from 1), a missing
        name column, or duplicated names (every one named with its rows).
    """
    table = read_table(path, layer=layer, limits=limits)
    if table.geometry is not None:
        kinds = table.geometry.geom_type
        bad = table.geometry.isna() | ~kinds.isin(["Polygon", "MultiPolygon"])
        if bad.any():
            row = int(table.geometry.index[bad.to_numpy()][0])
            kind = "missing geometry" if pd.isna(kinds.loc[row]) else f"a {kinds.loc[row]}"
            msg = (
                f"{table.source}: row {row} is {kind}, not a polygon; districts must be "
                "polygons or multipolygons."
            )
            raise InputDataError(msg)
    areas, _ = locate_areas(table, crs=crs, coord_system=coord_system)
    columns = [str(c) for c in areas.columns if c != "geometry"]
    if name_column is None:
        lower = {c.lower(): c for c in columns}
        found = [lower[n] for n in ("name", "district", "名称", "区", "街道") if n in lower]
        if not found:
            msg = (
                f"{table.source}: no district-name column (name, district, 名称, 区, 街道); "
                f"columns found: {columns}. Name it with --district-name."
            )
            raise InputDataError(msg)
        name_column = found[0]
    elif name_column not in columns:
        msg = (
            f"{table.source}: no column {name_column!r}; columns found: {columns}. Name the "
            "district-name column with --district-name."
        )
        raise InputDataError(msg)
    names = areas[name_column].map(lambda v: "" if pd.isna(v) else str(v).strip())
    filled = names[names != ""]
    dup = filled[filled.duplicated(keep=False)]
    if len(dup):
        groups = list(dup.groupby(dup).groups.items())
        detail = "; ".join(f"{name!r} on {describe_rows(list(rows))}" for name, rows in groups[:10])
        if len(groups) > 10:
            detail += f" (and {len(groups) - 10:,} more names)"
        msg = f"{table.source}: district names must be unique (column {name_column!r}): {detail}."
        raise InputDataError(msg)
    return gpd.GeoDataFrame(
        {"name": names.to_numpy(dtype=object)}, geometry=areas.geometry.to_numpy(), crs=WGS84
    )


def clip_graph(graph: nx.MultiDiGraph, area: Area, *, source: str = "") -> nx.MultiDiGraph:
    """The part of a street network whose nodes lie inside ``area`` (WGS84).

    Parameters
    ----------
    graph
        osmnx-compatible graph with ``graph["crs"]``. Not modified.
    area
        Study area in WGS84.
    source
        Name of the network for messages.

    Raises
    ------
    NetworkBuildError
        When no street lies inside the area.
    """
    crs = graph.graph.get("crs", WGS84)
    shape = gpd.GeoSeries([area], crs=WGS84).to_crs(crs).iloc[0]
    ids = np.fromiter(graph.nodes, dtype=object, count=graph.number_of_nodes())
    xs = np.fromiter((d["x"] for _, d in graph.nodes(data=True)), float, len(ids))
    ys = np.fromiter((d["y"] for _, d in graph.nodes(data=True)), float, len(ids))
    inside = shapely.contains_xy(shape, xs, ys)
    clipped: nx.MultiDiGraph = graph.subgraph(ids[inside].tolist()).copy()
    if clipped.number_of_edges() == 0:
        west, south, east, north = area.bounds
        msg = (
            f"{source or 'The street network'}: no street inside the study area "
            f"({west:.5f}, {south:.5f}, {east:.5f}, {north:.5f}); check that the area and "
            "the network cover the same place (and the area's CRS)."
        )
        raise NetworkBuildError(msg)
    clipped.graph["study_area"] = area.wkt
    return clipped


def points_outside(points: gpd.GeoDataFrame, area: Area) -> pd.Index:
    """Index of the points (any CRS) that lie outside ``area`` (WGS84)."""
    pts = points.geometry.to_crs(WGS84)
    inside = np.asarray(shapely.contains_xy(area, pts.x.to_numpy(), pts.y.to_numpy()), bool)
    outside: pd.Index = points.index[~inside]
    return outside
