"""A second reader for OSM extracts, through pyosmium: walking network, buildings, POIs.

pyrosm 0.25 crashes on some valid extracts (``ValueError: could not broadcast input
array from shape (8000,) into shape (7999,)``) that pyosmium, the OSM project's own
libosmium binding, reads without trouble. :func:`walk_graph_from_osmium` builds the same
walking network as pyrosm from such a file: it selects the ways with pyrosm's own walking
filter, cuts them into segments between consecutive nodes with pyrosm's segment lengths
(haversine, to the millimetre), and hands them to pyrosm's graph export, so both readers
give the same nodes, edges and lengths (the tests compare them on the Kotka extract).
:func:`features_from_osmium` reads buildings and points of interest the same way, with
libosmium's area assembly.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)


def _excluded(tags: dict[str, str], rules: dict[str, Any]) -> bool:
    """Whether pyrosm's exclude-filter ``rules`` drops a way with these tags."""
    for key, rule in rules.items():
        if hasattr(rule, "closes"):
            if rule.closes(tags):
                return True
        elif key in tags and tags[key] in rule:
            return True
    return False


def walk_frames_from_osmium(
    path: Path, *, extra_tags: Sequence[str] = ()
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and edges of the walking network, laid out as pyrosm's ``get_network``.

    Parameters
    ----------
    path
        An ``.osm.pbf`` (or any format libosmium reads).
    extra_tags
        Way tags kept as columns beyond pyrosm's walking columns (as pyrosm's
        ``extra_attributes``).

    Returns
    -------
    (nodes, edges)
        ``nodes``: ``id``, ``lon``, ``lat``, point geometry, in order of first use.
        ``edges``: one row per segment between consecutive nodes of a walkable way:
        ``id`` (way id), pyrosm's highway tag columns, ``osm_type``, ``u``, ``v``,
        ``length`` (metres) and a two-point line geometry. Empty frames when the file
        has no walkable way.

    Raises
    ------
    RuntimeError
        From pyosmium, for a file it cannot read.
    """
    import osmium
    from pyrosm.config import Conf
    from pyrosm.config.osm_filters import walking_filter
    from pyrosm.distance import segment_lengths

    rules = walking_filter()
    columns = list(dict.fromkeys([*Conf.tags.highway, *extra_tags]))
    way_rows: list[dict[str, Any]] = []
    seg_way: list[int] = []
    seg_u: list[int] = []
    seg_v: list[int] = []
    start: list[tuple[float, float]] = []
    end: list[tuple[float, float]] = []
    node_xy: dict[int, tuple[float, float]] = {}
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
    for obj in processor.with_locations():
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = {t.k: t.v for t in obj.tags}
        if "highway" not in tags or _excluded(tags, rules):
            continue
        kept = [(n.ref, n.lon, n.lat) for n in obj.nodes if n.location.valid()]
        if len(kept) < 2:
            continue
        row = len(way_rows)
        way_rows.append({"id": obj.id, **{k: tags[k] for k in columns if k in tags}})
        for ref, lon, lat in kept:
            node_xy.setdefault(ref, (lon, lat))
        for (a, ax, ay), (b, bx, by) in itertools.pairwise(kept):
            seg_way.append(row)
            seg_u.append(a)
            seg_v.append(b)
            start.append((ax, ay))
            end.append((bx, by))
    if not way_rows:
        empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
        return empty, empty.copy()
    ways = pd.DataFrame(way_rows)
    present = [c for c in columns if c in ways.columns]
    ways = ways[[*present, "id"]]
    edges = ways.iloc[np.asarray(seg_way)].reset_index(drop=True)
    s = np.asarray(start, dtype=float)
    e = np.asarray(end, dtype=float)
    edges = gpd.GeoDataFrame(
        edges.assign(
            osm_type="way",
            u=np.asarray(seg_u, dtype=np.int64),
            v=np.asarray(seg_v, dtype=np.int64),
        ),
        geometry=shapely.linestrings(np.stack([s, e], axis=1)),
        crs="EPSG:4326",
    )
    edges["length"] = segment_lengths(s, e)
    ids = np.fromiter(node_xy, dtype=np.int64, count=len(node_xy))
    xy = np.array(list(node_xy.values()), dtype=float)
    nodes = gpd.GeoDataFrame(
        {"lon": xy[:, 0], "lat": xy[:, 1], "id": ids},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:4326",
    )
    return nodes, edges


def has_osm_data(path: Path) -> bool:
    """Whether an extract holds any node, way or relation (not just a header).

    A PBF download cut off after its first blob holds a valid header and nothing else;
    it is a broken file, not an area without streets.

    Raises
    ------
    RuntimeError
        From pyosmium, for a file it cannot read.
    """
    import osmium

    for _ in osmium.FileProcessor(str(path)):
        return True
    return False


def walk_graph_from_osmium(path: Path) -> nx.MultiDiGraph | None:
    """The walking graph of an extract read with pyosmium; None when it has no walkable way.

    The graph is built by pyrosm's own export (``OSM.to_graph``, networkx, osmnx
    compatible, simplified), exactly as :func:`planner.sources.streets.graph_from_file` does
    with pyrosm's reader.
    """
    import pyrosm

    nodes, edges = walk_frames_from_osmium(path)
    if len(edges) == 0:
        return None
    graph: nx.MultiDiGraph = pyrosm.OSM.to_graph(
        nodes,
        edges,
        graph_type="networkx",
        osmnx_compatible=True,
        network_type="walking",
        retain_all=True,
        progress=False,
    )
    return graph


def _tag_dict(obj: Any) -> dict[str, str]:
    return {t.k: t.v for t in obj.tags}


def features_from_osmium(
    path: Path,
    tags: Mapping[str, Sequence[str] | None],
    *,
    columns: Sequence[str] = ("name",),
) -> gpd.GeoDataFrame:
    """OSM features with any of the given tags, as pyrosm's ``get_pois``/``get_buildings``.

    Parameters
    ----------
    path
        An ``.osm.pbf`` (or any format libosmium reads).
    tags
        Tag key to accepted values; None accepts any value (e.g. ``{"building": None}``).
    columns
        Other tag keys to keep as columns.

    Returns
    -------
    geopandas.GeoDataFrame
        ``osm_type`` (``node``, ``way``, ``relation``), ``id``, one column per key of
        ``tags`` and ``columns`` and the
        geometry in WGS84: points for nodes, (Multi)Polygons for closed ways and
        multipolygon relations, assembled by libosmium. Open ways and broken outlines
        that libosmium cannot close are left out.
    """
    import osmium

    def wanted(obj_tags: dict[str, str]) -> bool:
        return any(
            k in obj_tags and (values is None or obj_tags[k] in values)
            for k, values in tags.items()
        )

    keys = list(dict.fromkeys([*tags, *columns]))
    wkb = osmium.geom.WKBFactory()
    rows: list[dict[str, Any]] = []
    geoms: list[bytes | str] = []
    processor = osmium.FileProcessor(str(path)).with_areas().with_locations()
    for obj in processor:
        if isinstance(obj, osmium.osm.Node):
            kind, osm_id = "node", obj.id
            t = _tag_dict(obj)
            if not t or not wanted(t):
                continue
            geom = wkb.create_point(obj)
        elif isinstance(obj, osmium.osm.Area):
            t = _tag_dict(obj)
            if not wanted(t):
                continue
            kind = "way" if obj.from_way() else "relation"
            osm_id = obj.orig_id()
            try:
                geom = wkb.create_multipolygon(obj)
            except RuntimeError:
                continue
        else:
            continue
        rows.append({"osm_type": kind, "id": osm_id, **{k: t.get(k) for k in keys}})
        geoms.append(geom)
    values = shapely.from_wkb(geoms) if geoms else np.array([], dtype=object)
    # Single-part multipolygons become polygons, as pyrosm gives them.
    parts = shapely.get_num_geometries(values)
    single = (shapely.get_type_id(values) == 6) & (parts == 1)
    values[single] = shapely.get_geometry(values[single], 0)
    frame = pd.DataFrame(rows, columns=["osm_type", "id", *keys])
    return gpd.GeoDataFrame(frame, geometry=values, crs="EPSG:4326")
