"""A second reader for OSM extracts: the walking network through pyosmium.

pyrosm 0.25 crashes on some valid extracts (``ValueError: could not broadcast input
array from shape (8000,) into shape (7999,)``) that pyosmium, the OSM project's own
libosmium binding, reads without trouble. :func:`walk_graph_from_osmium` builds the same
walking network as pyrosm from such a file: it selects the ways with pyrosm's own walking
filter, cuts them into segments between consecutive nodes with pyrosm's segment lengths
(haversine, to the millimetre), and hands them to pyrosm's graph export, so both readers
give the same nodes, edges and lengths (the tests compare them on the Kotka extract).
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

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


def walk_frames_from_osmium(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and edges of the walking network, laid out as pyrosm's ``get_network``.

    Parameters
    ----------
    path
        An ``.osm.pbf`` (or any format libosmium reads).

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
    columns = list(dict.fromkeys(Conf.tags.highway))
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


def walk_graph_from_osmium(path: Path) -> nx.MultiDiGraph | None:
    """The walking graph of an extract read with pyosmium; None when it has no walkable way.

    The graph is built by pyrosm's own export (``OSM.to_graph``, networkx, osmnx
    compatible, simplified), exactly as :func:`planner.sources.graph_from_file` does
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
        progress=False,
    )
    return graph
