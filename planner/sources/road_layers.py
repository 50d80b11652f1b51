"""Walking networks from a city's own road centre-line layers (any line layer GDAL reads).

:func:`road_tables_from_file` reads a line layer (Shapefile, GeoPackage, GeoJSON,
FlatGeobuf, ...) in any CRS and *nodes* it into the same
:class:`~planner.sources.street_tables.StreetTables` the OSM path gives, so the rest of
the planner does not know where the streets came from:

- a node wherever lines share an end point or a vertex (a vertex shared by lines on
  different levels, per a ``level``/``layer``/``z_level`` column, is not a junction);
- ends that nearly meet (within ``node_tolerance_m``) are joined to the other end or
  vertex, and the joins counted;
- no junction where lines only cross without a shared vertex (bridges, tunnels);
- every line walkable both ways; lengths are geodesic, as for OSM extracts;
- a line's own walking speed (a mapping file's ``[speed]``) kept per street in
  ``StreetTables.line_speed_kmh``, turned into walking costs at the run's speed by
  :mod:`planner.walk.line_speeds`; a speed of 0 leaves the line out.

A :class:`RoadLayerReport` says what was found: lines dropped and why, joins made,
dead ends, near-miss ends left unjoined, disconnected parts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from planner.errors import InputDataError, NetworkBuildError
from planner.limits import DEFAULT_LIMITS, InputLimits
from planner.sources.road_files import RoadOptions, check_road_file, read_road_frame, road_source
from planner.sources.road_mapping import (
    RoadMapping,
    line_factors,
    line_speeds,
    parse_walkable,
    road_mapping_from_file,
    rule_mask,
)
from planner.sources.road_paths import merge_osm_paths
from planner.sources.street_tables import PROFILE_TAGS, StreetTables, tag_text, tunnel_flags

logger = logging.getLogger(__name__)

#: Columns that say on which level a line lies (first one present is used).
LEVEL_COLUMNS = ("level", "layer", "z_level", "zlevel", "z_lev", "z", "层", "层级")
#: Ends within this distance of another line but not joined are reported as near misses.
NEAR_MISS_M = 5.0
#: Coordinates closer than this (metres) are the same point.
_GRID_M = 1e-3


@dataclass(frozen=True, slots=True)
class RoadLayerReport:
    """What noding a road layer found and did.

    Attributes
    ----------
    lines_read
        Features in the layer.
    dropped_no_geometry, dropped_not_lines, dropped_zero_length, dropped_not_walkable
        Features left out, by reason.
    dropped_no_pedestrians
        Features left out because the mapping file's flag closes them to people on foot.
    ends_joined
        Line ends moved onto another end or vertex within the node tolerance.
    node_tolerance_m
        The tolerance used.
    dead_ends
        Nodes with a single street.
    near_miss_ends
        Dead ends within :data:`NEAR_MISS_M` of another street they are not joined to.
    parts
        Connected parts of the noded network.
    parts_street_m
        Street length outside the largest part, metres.
    level_column
        Column read as the level of each line ("" when none).
    osm_paths_added
        OSM footways, paths, steps and alleys merged into the layer (street segments).
    osm_ends_joined
        Ends of those paths joined onto a line of the layer.
    lines_own_speed
        Lines kept that walk at their own speed (the mapping file's ``[speed]``).
    dropped_speed_zero
        Lines left out because their speed is 0 (closed to people on foot).
    speed_column
        The column read as each line's speed or class of speed ("" when none).
    lines_time_factor, factor_column
        Lines kept with a factor on their walking time, and the column read ("" when none).
    options
        The file and the options it was read with
        (:meth:`~planner.sources.road_files.RoadOptions.facts` and ``file``), so that a
        saved run can read the same network again.
    """

    lines_read: int
    dropped_no_geometry: int
    dropped_not_lines: int
    dropped_zero_length: int
    dropped_not_walkable: int
    ends_joined: int
    node_tolerance_m: float
    dead_ends: int
    near_miss_ends: int
    parts: int
    parts_street_m: float
    level_column: str = ""
    dropped_no_pedestrians: int = 0
    osm_paths_added: int = 0
    osm_ends_joined: int = 0
    lines_own_speed: int = 0
    dropped_speed_zero: int = 0
    speed_column: str = ""
    lines_time_factor: int = 0
    factor_column: str = ""
    options: dict[str, Any] = field(default_factory=dict)


def road_tables_from_file(
    path: str | Path,
    *,
    options: RoadOptions | None = None,
    limits: InputLimits | None = None,
) -> tuple[StreetTables, RoadLayerReport]:
    """Read and node a road line layer into street tables.

    Parameters
    ----------
    path
        Any line layer GDAL reads
        (:data:`~planner.sources.road_files.ROAD_LAYER_SUFFIXES`: a ``.gdb`` folder, a
        ``.zip`` of a shapefile, DXF, ...), in any CRS it states or ``options.crs``.
    options
        Layer, node tolerance (line ends closer than this to another end or vertex are
        joined to it; 0: only exactly shared points are junctions), walkable filter,
        mapping file, CRS, coordinate system and OSM paths
        (:class:`~planner.sources.road_files.RoadOptions`; its defaults when None).
    limits
        File-size limits (:class:`~planner.limits.InputLimits` defaults when None).

    Returns
    -------
    (StreetTables, RoadLayerReport)
        Tables in a metric CRS (the layer's own when projected, else its UTM zone), one
        row per street between two nodes, and the quality report.

    Raises
    ------
    InputFileNotFoundError, UnsupportedFormatError, InputDataError, NetworkBuildError

    Notes
    -----
    A node is put at every end point and at every vertex that two lines (or one line
    twice) share, to the millimetre. An end point joins every line through it whatever
    their levels (ramps meet bridges at their ends); a shared interior vertex joins only
    lines of the same level. Crossings without a shared vertex are never junctions.
    """
    p = road_source(path)
    opts = options or RoadOptions()
    lim = limits or DEFAULT_LIMITS
    check_road_file(p, lim)
    node_tolerance_m = opts.node_tolerance_m
    if node_tolerance_m < 0 or not np.isfinite(node_tolerance_m):
        msg = f"--node-tolerance-m {node_tolerance_m}: give a distance in metres, 0 or more."
        raise InputDataError(msg)
    mapping = road_mapping_from_file(opts.mapping) if opts.mapping else RoadMapping()
    frame = read_road_frame(p, opts, lim)
    n_read = len(frame)
    by_option = parse_walkable(opts.walkable) if opts.walkable else None
    keep_walk = rule_mask(frame, by_option, p) & rule_mask(frame, mapping.walkable, p)
    no_foot = keep_walk & ~rule_mask(frame, mapping.no_pedestrians, p)
    speeds = line_speeds(frame, mapping.speed, p, checked=keep_walk & ~no_foot)
    factors = line_factors(frame, mapping.speed, p, checked=keep_walk & ~no_foot)
    stopped = speeds == 0.0
    kept = keep_walk & ~no_foot & ~stopped
    frame, speeds, factors = frame.loc[kept], speeds[kept], factors[kept]
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    lines = np.isin(types, (1, 2, 5)) & ~missing  # LineString, LinearRing, MultiLineString
    parts, owner = shapely.get_parts(shapely.force_2d(geoms[lines]), return_index=True)
    rows = np.flatnonzero(lines)[owner]
    if len(parts) == 0:
        msg = f"{p}: no line features to build a street network from."
        raise NetworkBuildError(msg)
    crs, parts = _metric(frame.crs, parts, p)
    n_lines = len(parts)
    merged = merge_osm_paths(parts, rows, frame, crs, options=opts, limits=lim)
    parts, rows, frame = merged.parts, merged.rows, merged.frame
    speeds = np.r_[speeds, np.full(len(frame) - len(speeds), np.nan)]
    factors = np.r_[factors, np.full(len(frame) - len(factors), np.nan)]
    level_col = next((c for c in LEVEL_COLUMNS if c in frame.columns), "")
    levels = (
        frame[level_col].astype(str).to_numpy()[rows]
        if level_col
        else np.zeros(len(rows), dtype=object)
    )
    xy, line = shapely.get_coordinates(parts, return_index=True)
    # Consecutive repeats are one vertex; lines left with one vertex have no length.
    q = np.round(xy / _GRID_M).astype(np.int64)
    first = np.r_[True, line[1:] != line[:-1]]
    keep = first | (q[:, 0] != np.roll(q[:, 0], 1)) | (q[:, 1] != np.roll(q[:, 1], 1))
    xy, line, q = xy[keep], line[keep], q[keep]
    counts = np.bincount(line, minlength=len(parts))
    good = counts >= 2
    bad = ~good[:n_lines]
    n_zero = int(len(np.unique(rows[:n_lines][bad])) if bad.any() else 0)
    vert_ok = good[line]
    xy, line, q = xy[vert_ok], line[vert_ok], q[vert_ok]
    renum = np.cumsum(good) - 1
    line, rows, levels = renum[line], rows[good], levels[good]
    first = np.r_[True, line[1:] != line[:-1]]
    last = np.r_[line[1:] != line[:-1], True]
    is_end = first | last
    xy, joins = _join_near_ends(xy, line, is_end, node_tolerance_m)
    q = np.round(xy / _GRID_M).astype(np.int64)
    node_vertex, node_key = _node_keys(q, line, is_end, levels)
    rule = mapping.speed
    own = (
        None
        if rule is None
        else (speeds if rule.column else None, factors if rule.factor else None)
    )
    tables = _split(xy, line, node_vertex, node_key, rows, frame, crs, str(p), own)
    report = _quality(
        tables,
        n_read=n_read,
        no_geom=int(missing.sum()),
        not_lines=int((~lines & ~missing).sum()),
        zero=n_zero,
        not_walkable=int((~keep_walk).sum()),
        joins=joins,
        tolerance=node_tolerance_m,
        level_col=level_col,
    )
    report = replace(
        report,
        dropped_no_pedestrians=int(no_foot.sum()),
        osm_paths_added=merged.added,
        osm_ends_joined=merged.joined,
        lines_own_speed=int(np.isfinite(speeds[np.unique(rows)]).sum()),
        dropped_speed_zero=int(stopped.sum()),
        speed_column="" if rule is None else rule.column or "",
        lines_time_factor=int(np.isfinite(factors[np.unique(rows)]).sum()),
        factor_column="" if rule is None else rule.factor or "",
        options={"file": str(p), **opts.facts()},
    )
    logger.info("%s: road layer noded: %s", p, report)
    return tables, report


def _metric(crs: Any, parts: npt.NDArray[np.object_], p: Path) -> tuple[pyproj.CRS, Any]:
    """Lines in a metric CRS: the layer's own when projected in metres, else its UTM zone."""
    src = pyproj.CRS.from_user_input(crs)
    unit = src.axis_info[0].unit_name if src.axis_info else ""
    if src.is_projected and unit in {"metre", "meter"}:
        return src, parts
    series = gpd.GeoSeries(parts, crs=src)
    try:
        dst = series.to_crs(4326).estimate_utm_crs()
        return dst, series.to_crs(dst).to_numpy()
    except Exception as err:
        msg = f"{p}: cannot project the layer from {src.name} to metres ({err})."
        raise InputDataError(msg) from err


def _join_near_ends(
    xy: npt.NDArray[np.float64],
    line: npt.NDArray[np.int64],
    is_end: npt.NDArray[np.bool_],
    tol: float,
) -> tuple[npt.NDArray[np.float64], int]:
    """Move ends within ``tol`` of another line's end or vertex onto it; count the joins.

    Joined points form clusters (transitively); each cluster takes the place of its first
    interior vertex, or else of its first end, so lines through it do not move.
    """
    if tol <= 0:
        return xy, 0
    pairs = cKDTree(xy).query_pairs(r=tol, output_type="ndarray").astype(np.int64)
    i, j = pairs[:, 0], pairs[:, 1]
    # Each pair with an end in it, as (end, other point).
    a = np.r_[i[is_end[i]], j[is_end[j]]]
    b = np.r_[j[is_end[i]], i[is_end[j]]]
    other = line[a] != line[b]
    same_pt = np.all(np.round(xy[a] / _GRID_M) == np.round(xy[b] / _GRID_M), axis=1)
    a, b = a[other & ~same_pt], b[other & ~same_pt]
    if len(a) == 0:
        return xy, 0
    # Clusters of vertices (exactly coincident vertices count as one point).
    grid = np.round(xy / _GRID_M).astype(np.int64)
    key = _pair_codes(grid[:, 0], grid[:, 1])
    k = int(key.max()) + 1
    graph = sparse.coo_array((np.ones(len(a)), (key[a], key[b])), shape=(k, k))
    n_c, label = csgraph.connected_components(graph, directed=False)
    sizes = np.bincount(label, minlength=n_c)
    joins = int((sizes - 1).sum())
    # Representative point of each cluster: an interior vertex first, then an end.
    order = np.lexsort((np.arange(len(xy)), is_end, label[key]))
    rep = np.full(n_c, -1, dtype=np.int64)
    lab_sorted = label[key][order]
    firsts = np.r_[True, lab_sorted[1:] != lab_sorted[:-1]]
    rep[lab_sorted[firsts]] = order[firsts]
    moved = sizes[label[key]] > 1
    out = xy.copy()
    out[moved] = xy[rep[label[key][moved]]]
    return out, joins


def _pair_codes(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """One code per distinct pair ``(a[i], b[i])``, numbered in order of first appearance."""
    ca, _ = pd.factorize(a)
    cb, ub = pd.factorize(b)
    combined = ca.astype(np.int64) * max(len(ub), 1) + cb
    return pd.factorize(combined)[0].astype(np.int64)


def _node_keys(
    q: npt.NDArray[np.int64],
    line: npt.NDArray[np.int64],
    is_end: npt.NDArray[np.bool_],
    levels: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Which vertices are nodes, and the node number of each (-1 where none)."""
    loc = _pair_codes(q[:, 0], q[:, 1])
    lvl = _pair_codes(loc, levels[line].astype(str))
    end_at = np.zeros(int(loc.max()) + 1, dtype=bool)
    end_at[loc[is_end]] = True
    shared = np.bincount(lvl) > 1  # a point twice on one level: two lines or a loop
    node = is_end | end_at[loc] | shared[lvl]
    ident = np.where(end_at[loc], loc, int(loc.max()) + 1 + lvl)
    key = np.full(len(q), -1, dtype=np.int64)
    key[node] = pd.factorize(ident[node])[0]
    return node, key


def _split(
    xy: npt.NDArray[np.float64],
    line: npt.NDArray[np.int64],
    node: npt.NDArray[np.bool_],
    key: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    frame: pd.DataFrame,
    crs: pyproj.CRS,
    source: str,
    own: tuple[npt.NDArray[np.float64] | None, npt.NDArray[np.float64] | None] | None,
) -> StreetTables:
    """One street per stretch of a line between two consecutive nodes.

    ``own``: each row's own walking speed (km/h, NaN: none) and factor on its walking time
    (NaN: none), each None when not given.
    """
    nodes_at = np.flatnonzero(node)
    # Consecutive nodes on the same line bound a street.
    same = line[nodes_at[1:]] == line[nodes_at[:-1]]
    start, stop = nodes_at[:-1][same], nodes_at[1:][same]
    n_v = stop - start + 1
    offsets = np.repeat(start - np.r_[0, np.cumsum(n_v)[:-1]], n_v)
    idx = np.arange(int(n_v.sum())) + offsets
    seg = np.repeat(np.arange(len(start)), n_v)
    geoms = shapely.linestrings(xy[idx], indices=seg)
    length = _geodesic_m(xy[idx], seg, len(start), crs)
    u, v = key[start], key[stop]
    ok = ~((u == v) & (length <= _GRID_M))
    src_rows = rows[line[start]][ok]
    n_nodes = int(key.max()) + 1
    node_xy = np.empty((n_nodes, 2))
    node_xy[key[nodes_at]] = xy[nodes_at]
    tags = {t: _tag(frame, t)[src_rows] for t in PROFILE_TAGS}
    return StreetTables(
        crs=crs,
        node_ids=np.arange(n_nodes, dtype=np.int64),
        node_xy=node_xy,
        edge_u=u[ok].astype(np.int64),
        edge_v=v[ok].astype(np.int64),
        length_m=length[ok],
        geometry=np.asarray(geoms, dtype=object)[ok],
        tunnel=_tunnel(frame)[src_rows],
        tags=tags,
        source=source,
        reader="road-layer",
        line_speed_kmh=None if own is None or own[0] is None else own[0][src_rows],
        line_time_factor=None if own is None or own[1] is None else own[1][src_rows],
    )


def _tag(frame: pd.DataFrame, name: str) -> npt.NDArray[np.object_]:
    """One text per row of the layer ("" when the column is missing)."""
    if name not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return tag_text(np.asarray(frame[name].to_numpy(), dtype=object))


def _tunnel(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    if "tunnel" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return tunnel_flags(np.asarray(frame["tunnel"].to_numpy(), dtype=object))


def _geodesic_m(
    xy: npt.NDArray[np.float64], seg: npt.NDArray[np.int64], n: int, crs: pyproj.CRS
) -> npt.NDArray[np.float64]:
    """Geodesic length of each street (WGS84 ellipsoid), as OSM extracts measure it."""
    to_ll = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    inner = seg[1:] == seg[:-1]
    _, _, d = pyproj.Geod(ellps="WGS84").inv(
        lon[:-1][inner], lat[:-1][inner], lon[1:][inner], lat[1:][inner]
    )
    out = np.zeros(n)
    np.add.at(out, seg[1:][inner], d)
    return out


def _quality(
    tables: StreetTables,
    *,
    n_read: int,
    no_geom: int,
    not_lines: int,
    zero: int,
    not_walkable: int,
    joins: int,
    tolerance: float,
    level_col: str,
) -> RoadLayerReport:
    """Dead ends, near-miss ends, parts: measured on the noded tables."""
    n = len(tables.node_ids)
    u, v = tables.edge_u, tables.edge_v
    loops = u == v
    degree = np.bincount(np.r_[u[~loops], v[~loops]], minlength=n) + 2 * np.bincount(
        u[loops], minlength=n
    )
    dead = np.flatnonzero(degree == 1)
    near = 0
    if len(dead):
        tree = shapely.STRtree(tables.lines())
        pts = shapely.points(tables.node_xy[dead])
        pi, ei = tree.query(pts, predicate="dwithin", distance=NEAR_MISS_M)
        foreign = (u[ei] != dead[pi]) & (v[ei] != dead[pi])
        near = len(np.unique(pi[foreign]))
    adj = sparse.coo_array((np.ones(len(u)), (u, v)), shape=(n, n))
    n_parts, label = csgraph.connected_components(adj, directed=False)
    main = np.bincount(label).argmax() if n else 0
    outside = float(tables.length_m[label[u] != main].sum())
    return RoadLayerReport(
        lines_read=n_read,
        dropped_no_geometry=no_geom,
        dropped_not_lines=not_lines,
        dropped_zero_length=zero,
        dropped_not_walkable=not_walkable,
        ends_joined=joins,
        node_tolerance_m=float(tolerance),
        dead_ends=len(dead),
        near_miss_ends=near,
        parts=int(n_parts),
        parts_street_m=outside,
        level_column=level_col,
    )
