"""Large map layers made light: outlines simplified ring by ring, streets drawn as one image.

A metro area's walk-time bands have hundreds of thousands of vertices and more than ten
thousand holes (the blocks between reached streets), and its street layer tens of thousands
of lines. GEOS's polygon simplification checks the rings against each other and takes
seconds per band; as GeoJSON the street lines alone are about 15 MB of ``map.html``. This
module gives the map what it draws, no more:

- :func:`simplified_outlines` simplifies every ring of every polygon on its own (one
  vectorised Douglas-Peucker call over all rings) and drops rings that collapse or whose
  area is below a cut-off. Rings of a polygon may then touch or cross by up to the
  tolerance: fine for drawing, which is all the result is for (figures and the GeoPackage
  keep the exact outlines).
- :func:`feature_collection` makes the GeoJSON dictionary of a table: the same dictionary
  as GeoPandas' ``to_geo_dict``, with points' coordinates read in one call rather than
  feature by feature (homes are most of a map's features).
- :func:`streets_image` rasterises street lines into a PNG in Web Mercator, the projection
  Leaflet draws in, so that an image overlay stretched between its corners sits exactly on
  the streets. Points are sampled along each segment at most a pixel apart, all segments at
  once with numpy; a pixel is drawn when a sample falls in it.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from PIL import Image
from pyproj import CRS, Transformer

#: Web Mercator, the projection Leaflet draws in.
WEB_MERCATOR = 3857
#: Gap zones drawn with outlines simplified by about 5 m past this many, and by about
#: 20 m past the second number (:func:`gap_outlines`).
MANY_GAPS = 500
THOUSANDS_OF_GAPS = 2_000


def simplified_outlines(
    geoms: NDArray[np.object_], *, tolerance: float, min_ring_area: float = 0.0
) -> NDArray[np.object_]:
    """Polygons simplified ring by ring, for drawing only.

    Parameters
    ----------
    geoms
        Polygons or multipolygons (other geometries and missing values give ``None``).
    tolerance
        Douglas-Peucker tolerance in the geometries' own units.
    min_ring_area
        Holes and parts whose simplified ring encloses less than this area (in squared
        units) are dropped.

    Returns
    -------
    numpy.ndarray
        One geometry per input: a (multi)polygon, or ``None`` when nothing is left.

    Notes
    -----
    Each ring is simplified on its own with ``preserve_topology=False`` (fast: no test of
    one ring against another). A ring that collapses (fewer than four points) is dropped;
    a part whose outer ring is dropped is dropped with its holes. The outline moves by at
    most ``tolerance``; rings of one polygon may touch after it, so the result is for
    display, not for measuring.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    if not len(geoms):
        return out
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    which = np.flatnonzero(polygonal)
    if not len(which):
        return out
    parts, part_of = shapely.get_parts(geoms[which], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    first = np.r_[True, ring_of[1:] != ring_of[:-1]]  # the outer ring of each part
    simple = shapely.simplify(rings, tolerance, preserve_topology=False)
    keep = (shapely.get_type_id(simple) == 2) & (shapely.get_num_coordinates(simple) >= 4)
    if min_ring_area > 0:
        area = np.zeros(len(simple))
        area[keep] = shapely.area(shapely.polygons(simple[keep]))
        keep &= area >= min_ring_area
    shell_kept = np.zeros(len(parts), dtype=bool)
    shell_kept[ring_of[first & keep]] = True
    keep &= shell_kept[ring_of]
    if not keep.any():
        return out
    # polygons(rings, indices=...) takes each index's first ring as the shell, the rest holes.
    kept_parts = np.flatnonzero(shell_kept)
    polys = shapely.polygons(simple[keep], indices=np.searchsorted(kept_parts, ring_of[keep]))
    multi = shapely.multipolygons(
        polys, indices=np.searchsorted(np.unique(part_of[kept_parts]), part_of[kept_parts])
    )
    owners = which[np.unique(part_of[kept_parts])]
    single = shapely.get_num_geometries(multi) == 1
    out[owners] = np.where(single, shapely.get_geometry(multi, 0), multi)
    return out


def drawing_tolerance(zones: int) -> float | None:
    """Degrees by which :func:`gap_outlines` simplifies ``zones`` outlines (None: not at all)."""
    if zones <= MANY_GAPS:
        return None
    return 0.0002 if zones > THOUSANDS_OF_GAPS else 0.00005


def gap_outlines(gaps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Gap zones as a map draws them: coarser outlines the more zones there are.

    Up to :data:`MANY_GAPS` zones keep their outlines; past it they are simplified by
    about 5 m, and past :data:`THOUSANDS_OF_GAPS` by about 20 m (a zone is at least a
    circle of ``gap_link_m / 2`` around a home, so it stays recognisable), which halves
    the layer's size. Figures, tables and the GeoPackage keep the exact outlines.

    Parameters
    ----------
    gaps
        Gap zones (any CRS); not modified.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in WGS84 with the outlines to draw.
    """
    out = gaps.to_crs(4326)
    tol = drawing_tolerance(len(out))
    if tol is None:
        return out
    drawn = simplified_outlines(out.geometry.to_numpy(), tolerance=tol)
    return out.set_geometry(gpd.GeoSeries(drawn, index=out.index, crs=4326))


@dataclass(frozen=True)
class StreetsImage:
    """Street lines rasterised for a map overlay.

    Attributes
    ----------
    url
        The PNG as a ``data:image/png;base64,...`` URL (grey lines, transparent elsewhere).
    bounds
        ``[[south, west], [north, east]]`` in WGS84 degrees: the image's outer corners.
    width_px, height_px
        Size of the image in pixels.
    pixel_m
        Size of a pixel in Web Mercator metres.
    """

    url: str
    bounds: list[list[float]]
    width_px: int
    height_px: int
    pixel_m: float


def streets_raster(
    streets: gpd.GeoSeries, *, max_px: int = 4096, min_pixel_m: float = 2.0
) -> tuple[NDArray[np.bool_], tuple[float, float, float, float], float]:
    """Street lines as a boolean pixel grid in Web Mercator.

    Parameters
    ----------
    streets
        Lines (any CRS set on the series).
    max_px
        Pixels on the longer side at most.
    min_pixel_m
        Pixels are never smaller than this (Web Mercator metres), so a small area does not
        make a needlessly large image.

    Returns
    -------
    grid, box, pixel_m
        ``grid[row, col]`` is True where a street passes (row 0 is the north edge);
        ``box`` is ``(west, south, east, north)`` of the grid in Web Mercator metres;
        ``pixel_m`` the size of a pixel.
    """
    lines = streets.to_numpy()
    lines = lines[~(shapely.is_missing(lines) | shapely.is_empty(lines))]
    coords, line = shapely.get_coordinates(lines, return_index=True)
    coords = _to_web_mercator(coords, streets.crs)
    if not len(coords):
        return np.zeros((1, 1), dtype=bool), (0.0, 0.0, 0.0, 0.0), min_pixel_m
    x0, y0 = coords.min(axis=0)
    x1, y1 = coords.max(axis=0)
    pixel_m = max(min_pixel_m, max(x1 - x0, y1 - y0) / max(max_px - 2, 1))
    width = int(np.floor((x1 - x0) / pixel_m)) + 2
    height = int(np.floor((y1 - y0) / pixel_m)) + 2
    box = (float(x0), float(y1 - height * pixel_m), float(x0 + width * pixel_m), float(y1))
    same = line[1:] == line[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    steps = np.ceil(np.hypot(*(b - a).T) / pixel_m).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(a)), steps)
    start = np.cumsum(steps) - steps
    t = (np.arange(len(seg)) - start[seg]) / np.maximum(steps[seg] - 1, 1)
    pts = a[seg] + (b[seg] - a[seg]) * t[:, None]
    col = np.clip(((pts[:, 0] - box[0]) / pixel_m).astype(np.int64), 0, width - 1)
    row = np.clip(((box[3] - pts[:, 1]) / pixel_m).astype(np.int64), 0, height - 1)
    grid = np.zeros((height, width), dtype=bool)
    grid[row, col] = True
    return grid, box, pixel_m


def _to_web_mercator(coords: NDArray[np.float64], crs: Any) -> NDArray[np.float64]:
    """Coordinates in ``crs`` projected as ``GeoSeries.to_crs(WEB_MERCATOR)`` projects them.

    The same transformer and numbers, without building the projected lines.
    """
    if crs is None:
        msg = "Cannot draw streets without a CRS: set one on the street lines."
        raise ValueError(msg)
    target = CRS.from_user_input(WEB_MERCATOR)
    if crs.is_exact_same(target) or not len(coords):
        return coords
    x, y = Transformer.from_crs(crs, target, always_xy=True).transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def streets_image(
    streets: gpd.GeoSeries,
    *,
    colour: tuple[int, int, int] = (158, 158, 158),
    max_px: int = 4096,
    min_pixel_m: float = 2.0,
) -> StreetsImage:
    """Street lines as a PNG overlay for a Leaflet map (see :func:`streets_raster`).

    Parameters
    ----------
    streets
        Lines (any CRS set on the series).
    colour
        RGB of the lines; other pixels are transparent.
    max_px, min_pixel_m
        Size limits of the image (:func:`streets_raster`).

    Returns
    -------
    StreetsImage
        The image as a data URL and its corners in WGS84.
    """
    grid, box, pixel_m = streets_raster(streets, max_px=max_px, min_pixel_m=min_pixel_m)
    image = Image.frombytes("P", (grid.shape[1], grid.shape[0]), grid.astype(np.uint8).tobytes())
    image.putpalette([0, 0, 0, *colour])
    buf = io.BytesIO()
    # zlib's fastest level: a quarter of the default's time for a file a sixth larger (the
    # Porto metro's streets: 0.05 s and 552 kB against 0.17 s and 473 kB).
    image.save(buf, format="PNG", transparency=0, bits=1, compress_level=1)
    corners = gpd.GeoSeries(
        shapely.points([box[0], box[2]], [box[1], box[3]]), crs=WEB_MERCATOR
    ).to_crs(4326)
    west, east = (float(v) for v in corners.x)
    south, north = (float(v) for v in corners.y)
    return StreetsImage(
        url="data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
        bounds=[[south, west], [north, east]],
        width_px=int(grid.shape[1]),
        height_px=int(grid.shape[0]),
        pixel_m=float(pixel_m),
    )


#: Pixels along the longer side of the overview map's streets image: at most the map's own
#: (a 7-inch wide figure at 100 dpi), so that matplotlib scales it up, never down (a street
#: one pixel wide falls between the pixels kept when an image is scaled down).
OVERVIEW_STREETS_PX = 640


def streets_share_image(
    streets: gpd.GeoSeries,
    *,
    rgb: tuple[float, float, float],
    alpha: float,
    max_px: int = OVERVIEW_STREETS_PX,
) -> tuple[NDArray[np.uint8], tuple[float, float, float, float]]:
    """Streets as an RGBA image, each pixel as opaque as the share of it they cover.

    Drawn at twice the size (:func:`streets_raster`) and each 2 x 2 block averaged: smooth
    lines, and a dense centre stays readable. Bytes, not floats (matplotlib checks a float
    image for NaN pixel by pixel). The raster is in Web Mercator; drawn between its corners
    in degrees, a pixel lands at most about 0.1 % of the map's height from its place over a
    metro area (the Mercator scale changes by 0.5 % across 0.4 degrees of latitude).

    Returns
    -------
    rgba, extent
        ``rgba[row, col]`` (row 0 north; ``alpha`` for a pixel covered whole) and
        ``(west, east, south, north)`` in degrees, as ``imshow``'s ``extent`` takes it.
    """
    fine, box, pixel_m = streets_raster(streets, max_px=2 * max_px)
    rows, cols = (fine.shape[0] + 1) // 2, (fine.shape[1] + 1) // 2
    padded = np.zeros((2 * rows, 2 * cols), dtype=np.uint8)
    padded[: fine.shape[0], : fine.shape[1]] = fine
    share = padded.reshape(rows, 2, cols, 2).sum(axis=(1, 3)) / 4.0
    west, north = box[0], box[3]
    corners = gpd.GeoSeries(
        shapely.points([west, west + 2 * cols * pixel_m], [north - 2 * rows * pixel_m, north]),
        crs=WEB_MERCATOR,
    ).to_crs(4326)
    rgba = np.zeros((rows, cols, 4), dtype=np.uint8)
    rgba[..., :3] = (np.array(rgb) * 255).astype(np.uint8)
    rgba[..., 3] = np.round(share * alpha * 255).astype(np.uint8)
    x, y = corners.x.to_numpy(), corners.y.to_numpy()
    return rgba, (float(x[0]), float(x[1]), float(y[0]), float(y[1]))


class GeoJsonData(dict[str, Any]):
    """A GeoJSON FeatureCollection whose polygon rings are numpy arrays of ``[x, y]`` rows.

    Written by orjson, which writes arrays without a Python object per number
    (:mod:`planner.report.map_render`); :func:`json.dumps` cannot write it.
    """


def feature_collection(
    properties: pd.DataFrame, geoms: NDArray[np.object_], *, arrays: bool = False
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of a table and its geometries, as a dictionary.

    Parameters
    ----------
    properties
        One row per feature; its columns become the properties (missing values ``None``),
        its index the features' ``id`` (as text).
    geoms
        One geometry per row (missing or empty geometries give ``"geometry": null``).
    arrays
        Give polygon rings as numpy arrays, in a :class:`GeoJsonData` (for a map's large
        outlines: a city's bands have hundreds of thousands of vertices).

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}``, the same as GeoPandas'
        ``to_geo_dict(show_bbox=False)`` of the table.
    """
    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    shapes: list[Any] = [None] * len(geoms)
    points = present & (shapely.get_type_id(geoms) == 0)
    xy = shapely.get_coordinates(geoms[points]).tolist()
    for i, (x, y) in zip(np.flatnonzero(points).tolist(), xy, strict=True):
        shapes[i] = {"type": "Point", "coordinates": [x, y]}
    polygons = present & np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.has_z(geoms)
    polygons[polygons] = ~_has_empty_part(geoms[polygons])
    found = _polygon_shapes(geoms[polygons], arrays=arrays)
    for i, shape in zip(np.flatnonzero(polygons).tolist(), found, strict=True):
        shapes[i] = shape
    for i in np.flatnonzero(present & ~points & ~polygons).tolist():
        shapes[i] = geoms[i].__geo_interface__
    values = properties.astype(object).where(properties.notna(), None)
    names = [str(c) for c in values.columns]
    ids = [str(i) for i in properties.index]
    rows = values.to_numpy().tolist() if len(names) else [[] for _ in ids]
    features = [
        {
            "id": fid,
            "type": "Feature",
            "properties": dict(zip(names, row, strict=True)),
            "geometry": shape,
        }
        for fid, row, shape in zip(ids, rows, shapes, strict=True)
    ]
    out = {"type": "FeatureCollection", "features": features}
    return GeoJsonData(out) if arrays else out


def _has_empty_part(geoms: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Whether each (Multi)Polygon has an empty part (left to shapely's own interface)."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    out = np.zeros(len(geoms), dtype=bool)
    out[part_of[shapely.is_empty(parts)]] = True
    return out


def _polygon_shapes(geoms: NDArray[np.object_], *, arrays: bool = False) -> list[dict[str, Any]]:
    """``__geo_interface__`` of 2D (Multi)Polygons, from their coordinates in whole-array calls.

    The same types and numbers as shapely's (lists where shapely gives tuples: the same
    JSON), without a Python tuple per vertex (a city's band has hundreds of thousands);
    with ``arrays`` each ring is an array of ``[x, y]`` rows, without a list per vertex.
    """
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, coord_of = shapely.get_coordinates(rings, return_index=True)
    per_ring = np.bincount(coord_of, minlength=len(rings))
    if arrays:
        ring_lists: list[Any] = np.split(xy, np.cumsum(per_ring)[:-1]) if len(rings) else []
    else:
        ring_lists = _split(xy.tolist(), per_ring)
    part_lists = _split(ring_lists, np.bincount(ring_of, minlength=len(parts)))
    per_geom = _split(part_lists, np.bincount(part_of, minlength=len(geoms)))
    multi = (shapely.get_type_id(geoms) == 6).tolist()
    return [
        {"type": "MultiPolygon", "coordinates": p}
        if is_multi
        else {"type": "Polygon", "coordinates": p[0]}
        for p, is_multi in zip(per_geom, multi, strict=True)
    ]


def _split(items: list[Any], counts: NDArray[np.int64]) -> list[list[Any]]:
    """``items`` cut into consecutive lists of ``counts`` items."""
    ends = np.cumsum(counts).tolist()
    return [items[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)] if ends else []
