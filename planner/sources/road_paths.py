"""OpenStreetMap footpaths merged into a city's own road layer (``--add-osm-paths``).

A planning office's centre-line layer holds the roads but often not the footways, paths,
steps and pedestrian streets between them, which OSM has. :func:`merge_osm_paths` takes
those ways from an OSM extract (the stretches between OSM nodes, the way the OSM network
is read), keeps the ones within the layer's extent, and joins the loose ends of that
path network onto the nearest line of the layer within ``osm_join_m``: a vertex is put
into the road line there, so the noding makes a junction. Paths that only cross a road
line are not joined to it (as for bridges).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from planner.errors import InputDataError
from planner.limits import InputLimits
from planner.sources.road_files import RoadOptions
from planner.sources.street_tables import PROFILE_TAGS, street_tables_from_file

#: OSM ``highway`` values merged as paths.
PATH_CLASSES = frozenset({"footway", "path", "steps", "pedestrian", "corridor", "bridleway"})
_Array = npt.NDArray[np.object_]
_Ids = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class MergedPaths:
    """Road lines with OSM paths appended.

    Attributes
    ----------
    parts
        The road lines (vertices put in where paths join them), then the paths.
    rows
        Row of ``frame`` of each line.
    frame
        The layer's attributes, then one row per path (``highway``, ``tunnel``, ...).
    added
        Path lines appended.
    joined
        Path ends joined onto a road line.
    """

    parts: npt.NDArray[np.object_]
    rows: npt.NDArray[np.int64]
    frame: pd.DataFrame
    added: int = 0
    joined: int = 0


def merge_osm_paths(
    parts: npt.NDArray[np.object_],
    rows: npt.NDArray[np.int64],
    frame: pd.DataFrame,
    crs: pyproj.CRS,
    *,
    options: RoadOptions,
    limits: InputLimits,
) -> MergedPaths:
    """Append the OSM paths of ``options.osm_paths`` to the road lines, ends joined.

    Parameters
    ----------
    parts
        Road lines in ``crs`` (metres), not modified.
    rows
        Row of ``frame`` of each line.
    frame
        The layer's attributes.
    crs
        The metric CRS of ``parts``.
    options
        ``osm_paths`` (nothing is merged when None) and ``osm_join_m``.
    limits
        File limits of the OSM extract.

    Returns
    -------
    MergedPaths
        Everything as given when ``options.osm_paths`` is None.
    """
    attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if options.osm_paths is None:
        return MergedPaths(parts, rows, attrs.reset_index(drop=True))
    join_m = options.osm_join_m
    if not (np.isfinite(join_m) and join_m >= 0):
        msg = f"--osm-join-m {join_m}: give a distance in metres, 0 or more."
        raise InputDataError(msg)
    paths, tags, u, v, road_nodes = _osm_paths(Path(options.osm_paths), crs, parts, join_m, limits)
    if len(paths) == 0:
        return MergedPaths(parts, rows, attrs.reset_index(drop=True))
    loose = _loose_nodes(u, v, road_nodes)
    parts, paths, joined = _join_ends(parts, paths, u, v, loose, join_m)
    extra = pd.DataFrame({t: tags[t] for t in tags})
    merged = pd.concat([attrs.reset_index(drop=True), extra], ignore_index=True)
    new_rows = np.r_[rows, len(attrs) + np.arange(len(paths))].astype(np.int64)
    out = np.concatenate([parts, paths]).astype(object)
    return MergedPaths(out, new_rows, merged, added=len(paths), joined=joined)


def _osm_paths(
    pbf: Path,
    crs: pyproj.CRS,
    parts: npt.NDArray[np.object_],
    join_m: float,
    limits: InputLimits,
) -> tuple[_Array, dict[str, _Array], _Ids, _Ids, _Ids]:
    """Path stretches of the extract inside the layer's extent (widened by ``join_m``).

    Also their tags, end nodes, and the nodes of the extract's other streets.
    """
    tables = street_tables_from_file(pbf, limits=limits)
    highway = np.asarray(tables.tags.get("highway", np.full(len(tables.edge_u), "")), dtype=str)
    keep = np.isin(highway, list(PATH_CLASSES))
    road_nodes = np.unique(np.r_[tables.edge_u[~keep], tables.edge_v[~keep]])
    # One row per stretch: the reverse rows of two-way paths go.
    a, b = np.minimum(tables.edge_u, tables.edge_v), np.maximum(tables.edge_u, tables.edge_v)
    first = ~pd.DataFrame({"a": a, "b": b, "m": np.round(tables.length_m, 3)}).duplicated()
    keep &= first.to_numpy()
    lines = tables.lines()
    keep &= np.array([g is not None for g in lines])
    to_metric = pyproj.Transformer.from_crs(tables.crs, crs, always_xy=True)
    geoms = shapely.transform(
        lines[keep], lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))
    )
    x0, y0, x1, y1 = shapely.total_bounds(parts)
    box = shapely.box(x0 - join_m, y0 - join_m, x1 + join_m, y1 + join_m)
    inside = shapely.within(geoms, box)
    idx = np.flatnonzero(keep)[inside]
    tags = {
        t: np.asarray(tables.tags[t], dtype=object)[idx] for t in PROFILE_TAGS if t in tables.tags
    }
    tags["tunnel"] = np.where(tables.tunnel[idx], "yes", "")
    return geoms[inside], tags, tables.edge_u[idx], tables.edge_v[idx], road_nodes


def _loose_nodes(u: _Ids, v: _Ids, road_nodes: _Ids) -> _Ids:
    """Path nodes to join: where a path met another street in OSM, or ends."""
    ids, counts = np.unique(np.r_[u, v], return_counts=True)
    return np.union1d(ids[counts == 1], np.intersect1d(ids, road_nodes))


def _join_ends(
    parts: npt.NDArray[np.object_],
    paths: npt.NDArray[np.object_],
    u: npt.NDArray[np.int64],
    v: npt.NDArray[np.int64],
    loose: npt.NDArray[np.int64],
    join_m: float,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_], int]:
    """Move loose path ends onto the nearest road line within ``join_m``; vertex put in there."""
    xy, which = shapely.get_coordinates(paths, return_index=True)
    starts = np.r_[0, np.flatnonzero(which[1:] != which[:-1]) + 1]
    stops = np.r_[starts[1:] - 1, len(which) - 1]
    end_vertex = np.r_[starts, stops]
    end_node = np.r_[u, v]
    at_loose = np.isin(end_node, loose)
    end_vertex, end_node = end_vertex[at_loose], end_node[at_loose]
    if len(end_vertex) == 0 or len(parts) == 0 or join_m <= 0:
        return parts, paths, 0
    points = shapely.points(xy[end_vertex])
    tree = shapely.STRtree(parts)
    pi, li = tree.query_nearest(points, max_distance=join_m, all_matches=False)
    if len(pi) == 0:
        return parts, paths, 0
    along = shapely.line_locate_point(parts[li], points[pi])
    snapped = shapely.get_coordinates(shapely.line_interpolate_point(parts[li], along))
    xy = xy.copy()
    xy[end_vertex[pi]] = snapped
    new_paths = shapely.linestrings(xy, indices=which)
    new_parts = parts.copy()
    for line in np.unique(li):
        mine = li == line
        new_parts[line] = _with_vertices(parts[line], along[mine], snapped[mine])
    return new_parts, np.asarray(new_paths, dtype=object), len(np.unique(end_node[pi]))


def _with_vertices(
    line: shapely.LineString, along: npt.NDArray[np.float64], xy: npt.NDArray[np.float64]
) -> shapely.LineString:
    """``line`` with the points ``xy`` (at distances ``along`` from its start) as vertices."""
    coords = shapely.get_coordinates(line)
    cum = np.r_[0.0, np.cumsum(np.hypot(*np.diff(coords, axis=0).T))]
    dist = np.r_[cum, along]
    order = np.argsort(dist, kind="stable")
    return shapely.linestrings(np.vstack([coords, xy])[order])
