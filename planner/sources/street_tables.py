"""Walking street networks as flat tables: node and edge arrays, read without networkx.

:func:`street_tables_from_file` reads an OSM extract's walking network with pyrosm (and
with pyosmium, :mod:`planner.sources.osmium`, when pyrosm fails), simplified exactly as
pyrosm's ``to_graph`` simplifies it (degree-2 chains merged, a chain not merged across a
change of ``highway`` or ``maxspeed``) but with **every** connected part kept: which parts
to keep is decided, and reported, by :func:`planner.walk.network.network_from_tables`.
pyrosm's simplification runs straight to arrays (:mod:`planner.sources.street_simplify`):
the streets' lines come as flat coordinates (``line_xy``), built as objects only when asked
for (:meth:`StreetTables.lines`).
:func:`street_tables_from_graph` gives the same tables for an osmnx-compatible
``networkx.MultiDiGraph`` (GraphML files, osmnx downloads, hand-made graphs).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner.errors import NetworkBuildError
from planner.limits import DEFAULT_LIMITS, InputLimits, check_network_file
from planner.sources.areas import Area
from planner.sources.osm import GRAPHML_SUFFIXES, as_pbf
from planner.sources.tableio import existing_file

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)

#: OSM tags kept on every street, as text ("" when missing): what walking profiles read.
PROFILE_TAGS = ("highway", "wheelchair", "incline", "kerb", "step_count", "surface")
#: Tags read from an extract beyond pyrosm's default walking columns.
EXTRA_TAGS = ("wheelchair", "incline", "kerb", "step_count")
#: The only tags read onto the streets: the profiles' and ``tunnel`` (never snapped to),
#: those pyrosm's simplification compares along a chain (``pyrosm.graphs.graph_tags`` for a
#: walking network: ``highway``, ``maxspeed``; a test checks they are still these) and
#: ``oneway``, which ``graph_tables`` looks for (every street is two-way for walking).
GRAPH_TAGS = (*PROFILE_TAGS, "tunnel", "maxspeed", "oneway")


@dataclass(frozen=True, eq=False)
class StreetTables:
    """A street network as arrays, before projection and compilation.

    Attributes
    ----------
    crs
        CRS of ``node_xy`` and ``geometry`` (WGS84 for extracts).
    node_ids
        Node ids (OSM node ids for extracts), shape ``(n,)``.
    node_xy
        Node coordinates in ``crs``, shape ``(n, 2)``.
    edge_u, edge_v
        Node ids at the ends of each street segment, one row per direction given.
    length_m
        Length of each row in metres (geodesic for extracts).
    geometry
        Line of each row from ``u`` to ``v`` in ``crs``; None where a graph edge has none.
        None for the whole array when the lines are given as ``line_xy`` instead (read
        them with :meth:`lines`).
    tunnel
        Whether each row is underground (``tunnel=*`` other than ``no``/building passage).
    tags
        :data:`PROFILE_TAGS` to one text per row ("" when missing; ``;`` joins the values
        of a merged chain that differ).
    source
        Where the network came from, for messages.
    reader
        ``"pyrosm"``, ``"pyosmium"``, ``"graph"`` or ``"road-layer"``.
    line_speed_kmh
        A road layer's own walking speed of each row in km/h (NaN: the run's speed), or
        None when no row has one (:mod:`planner.walk.line_speeds`).
    line_time_factor
        A road layer's factor on the walking time of each row (NaN: 1), or None.
    line_xy, line_offsets
        The lines as flat coordinates, every row having one: row ``i`` runs along
        ``line_xy[line_offsets[i]:line_offsets[i + 1]]`` (from an extract: no line object
        is built until one is asked for); None when ``geometry`` holds them.
    """

    crs: Any
    node_ids: npt.NDArray[np.int64]
    node_xy: npt.NDArray[np.float64]
    edge_u: npt.NDArray[np.int64]
    edge_v: npt.NDArray[np.int64]
    length_m: npt.NDArray[np.float64]
    geometry: npt.NDArray[np.object_] | None
    tunnel: npt.NDArray[np.bool_]
    tags: Mapping[str, npt.NDArray[np.object_]] = field(default_factory=dict)
    source: str = ""
    reader: str = "graph"
    line_speed_kmh: npt.NDArray[np.float64] | None = None
    line_time_factor: npt.NDArray[np.float64] | None = None
    line_xy: npt.NDArray[np.float64] | None = None
    line_offsets: npt.NDArray[np.int64] | None = None

    def lines(self) -> npt.NDArray[np.object_]:
        """The line of each row (None where a graph edge has none), built if needed."""
        if self.geometry is not None:
            return self.geometry
        if self.line_xy is None or self.line_offsets is None:
            return np.full(len(self.edge_u), None, dtype=object)
        return lines_from_runs(self.line_xy, self.line_offsets)


def lines_from_runs(
    xy: npt.NDArray[np.float64], offsets: npt.NDArray[np.int64]
) -> npt.NDArray[np.object_]:
    """LineStrings of runs of flat coordinates: line ``i`` is ``xy[offsets[i]:offsets[i+1]]``."""
    out = np.empty(len(offsets) - 1, dtype=object)
    if len(out):
        which = np.repeat(np.arange(len(out)), np.diff(offsets))
        out[:] = shapely.linestrings(xy, indices=which)
    return out


def take_runs(
    xy: npt.NDArray[np.float64], offsets: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The runs of ``rows`` (in that order) as flat coordinates and offsets of their own."""
    starts = offsets[:-1][rows]
    src, out_off, _ = run_sources(starts, offsets[1:][rows] - starts)
    return xy[src], out_off


def run_sources(
    starts: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    reverse: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Where to take runs of flat coordinates from, laid end to end (all runs at once).

    Run ``k`` is positions ``starts[k]`` to ``starts[k] + sizes[k] - 1``, taken backwards
    where ``reverse[k]``.

    Returns
    -------
    src, offsets, owner
        The source position of each output position, where each run starts in the output
        (and the end), and the run of each output position.
    """
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    owner = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    step = np.arange(int(offsets[-1]), dtype=np.int64) - offsets[owner]
    first = np.asarray(starts, dtype=np.int64)
    if reverse is None:
        return first[owner] + step, offsets, owner
    src = np.where(reverse[owner], (first + sizes - 1)[owner] - step, first[owner] + step)
    return src, offsets, owner


def street_tables_from_file(path: str | Path, *, limits: InputLimits | None = None) -> StreetTables:
    """Read the walking network of a local OSM extract or osmnx GraphML file as tables.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.graphml``.
    limits
        File-size limits, as in :func:`planner.sources.streets.graph_from_file`.

    Returns
    -------
    StreetTables
        Every connected part of the network (none dropped), each street in each direction
        it is given.

    Raises
    ------
    InputFileNotFoundError, UnsupportedFormatError, NetworkBuildError, InputLimitError
        As :func:`planner.sources.streets.graph_from_file`.
    """
    p = existing_file(path)
    lim = limits or DEFAULT_LIMITS
    check_network_file(p, lim)
    if p.name.lower().endswith(GRAPHML_SUFFIXES):
        from planner.sources.streets import _read_graphml

        graph = _read_graphml(p)
        graph.graph["source"] = str(p)
        return street_tables_from_graph(graph)
    with as_pbf(p) as pbf:
        nodes, edges, reader = _read_frames(pbf, p)
    return _tables_from_frames(nodes, edges, source=str(p), reader=reader)


def _read_frames(pbf: Path, shown: Path) -> tuple[Any, Any, str]:
    """The simplified walking network of pyrosm (as arrays), or of pyosmium (as frames).

    pyrosm reads the extract for graph export (``pyrosm.engine.readers.graph_network``):
    the ways and nodes straight from the file, without building the table of every
    street segment and every node, nor writing and reading back pyrosm's own result
    cache, and only the tags kept on the streets (:data:`GRAPH_TAGS`). Its
    simplification is run to arrays (:func:`planner.sources.street_simplify.
    simplified_arrays`: no line, point or frame built); the result is that of
    ``get_network(nodes=True)`` simplified by ``graph_tables`` (tested equal on the
    bundled extracts), which is used when those pyrosm pieces are missing.

    Returns
    -------
    (nodes, edges, reader)
        ``(SimplifiedArrays, None, "pyrosm")``, or pyrosm's simplified node and edge
        frames and the reader's name.
    """
    from pyrosm.engine import readers
    from pyrosm.graphs import graph_tables

    from planner.sources.osmium import walk_frames_from_osmium
    from planner.sources.street_simplify import simplified_arrays
    from planner.sources.streets import _NoStreetsError, read_pbf_with_fallback

    def simplified(nodes: Any, edges: Any) -> tuple[Any, Any]:
        return graph_tables(  # type: ignore[no-any-return]
            nodes, edges, network_type="walking", retain_all=True, simplify=True, progress=False
        )

    def with_pyrosm() -> tuple[Any, Any]:
        nodes, edges = readers.graph_network(
            str(pbf),
            network_type="walking",
            extra_attributes=list(EXTRA_TAGS),
            tags_to_keep=list(GRAPH_TAGS),
            keep_metadata=False,
            progress=False,
        )
        if edges is None:
            raise _NoStreetsError(str(shown))
        arrays = simplified_arrays(nodes, edges, tags=(*PROFILE_TAGS, "tunnel"))
        if arrays is not None:
            return arrays, None
        tables = simplified(nodes, edges)
        if len(tables[1]) == 0:
            raise _NoStreetsError(str(shown))
        return tables

    def with_pyosmium() -> tuple[Any, Any] | None:
        nodes, edges = walk_frames_from_osmium(pbf, extra_tags=EXTRA_TAGS)
        if len(edges) == 0:
            return None
        # Only the columns the tables and the simplification read (the others' copying
        # is a third of graph_tables' time).
        keep = ["id", "u", "v", "length", "geometry", *GRAPH_TAGS]
        return simplified(nodes, edges[[c for c in edges.columns if c in keep]])

    (nodes, edges), reader = read_pbf_with_fallback(pbf, shown, with_pyrosm, with_pyosmium)
    return nodes, edges, reader


def _tables_from_frames(gn: Any, ge: Any, *, source: str, reader: str) -> StreetTables:
    """The street tables of pyrosm's simplified graph tables (or arrays), every part kept."""
    from planner.sources.street_simplify import SimplifiedArrays

    if isinstance(gn, SimplifiedArrays):
        return StreetTables(
            crs="EPSG:4326",
            node_ids=gn.node_ids,
            node_xy=gn.node_xy,
            edge_u=gn.edge_u,
            edge_v=gn.edge_v,
            length_m=gn.length_m,
            geometry=None,
            tunnel=tunnel_flags(gn.tag_texts["tunnel"]),
            tags={t: gn.tag_texts[t] for t in PROFILE_TAGS},
            source=source,
            reader=reader,
            line_xy=gn.line_xy,
            line_offsets=gn.line_offsets,
        )
    geoms = np.asarray(ge.geometry.to_numpy(), dtype=object)
    return StreetTables(
        crs="EPSG:4326",
        node_ids=gn["id"].to_numpy(dtype=np.int64),
        node_xy=shapely.get_coordinates(gn.geometry.to_numpy()),
        edge_u=ge["u"].to_numpy(dtype=np.int64),
        edge_v=ge["v"].to_numpy(dtype=np.int64),
        length_m=ge["length"].to_numpy(dtype=np.float64),
        geometry=geoms,
        tunnel=tunnel_flags(_column(ge, "tunnel")),
        tags={t: tag_text(_column(ge, t)) for t in PROFILE_TAGS},
        source=source,
        reader=reader,
    )


def _column(frame: pd.DataFrame, name: str) -> npt.NDArray[np.object_]:
    if name in frame.columns:
        return np.asarray(frame[name].to_numpy(), dtype=object)
    return np.full(len(frame), None, dtype=object)


def _values(value: object) -> list[str]:
    """The texts of one cell: a scalar, a list (a merged chain) or missing."""
    items = value if isinstance(value, list | tuple | np.ndarray) else [value]
    out: list[str] = []
    for item in items:
        if item is None or (isinstance(item, float) and np.isnan(item)):
            continue
        text = str(item).strip()
        if text and text not in out:
            out.append(text)
    return out


#: ``type`` of each cell of an object array, in one C loop.
_type_of = np.frompyfunc(type, 1, 1)
_LIST = np.array([list], dtype=object)
_ARRAY = np.array([np.ndarray], dtype=object)  # compared as a cell, not as an operand


def tag_text(values: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """One text per row: missing is "", a chain's differing values are joined with ``;``."""
    cells = np.asarray(values, dtype=object).reshape(-1)
    kinds = _type_of(cells)
    listed = (kinds == _LIST) | (kinds == _ARRAY)  # a merged chain's values, unhashable
    if listed.any():
        cells = cells.copy()
        tuples = np.empty(int(listed.sum()), dtype=object)
        tuples[:] = [tuple(v) for v in cells[listed]]
        cells[listed] = tuples
    try:
        codes, uniques = pd.factorize(pd.Series(cells, dtype=object))
    except TypeError:  # a subclass of list, say: cell by cell
        codes, uniques = pd.factorize(pd.Series(values, dtype=object).map(_hashable))
    texts = np.array([";".join(_values(u)) for u in uniques] + [""], dtype=object)
    return texts[codes]  # code -1 (missing) takes the last entry, ""


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list | np.ndarray) else value


def tunnel_flags(values: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """True for ``tunnel=*`` values meaning underground (not ``no`` or a building passage).

    Homes and stations are entered from the surface: snapping them to a tunnel below
    (Helsinki's underground service roads, metro passages) would be wrong.
    """
    texts = tag_text(values)
    uniq, inverse = np.unique(texts.astype(str), return_inverse=True)
    flags = np.array(
        [any(v.lower() not in {"", "no", "building_passage"} for v in u.split(";")) for u in uniq],
        dtype=bool,
    )
    return flags[inverse].reshape(len(values))


def street_tables_from_graph(graph: nx.MultiDiGraph) -> StreetTables:
    """The tables of an osmnx-compatible graph (GraphML, osmnx, pyrosm or hand-made).

    Parameters
    ----------
    graph
        A MultiDiGraph with node ``x``/``y``, edge ``length`` in metres and optional edge
        ``geometry``, in the CRS given by ``graph.graph["crs"]``. It is not modified.

    Returns
    -------
    StreetTables
        Nodes in the graph's order, edges in its edge order.

    Raises
    ------
    NetworkBuildError
        If the graph has no walkable street, no CRS, or lacks ``x``/``y``/``length``.
    """
    where = graph_where(graph)
    if graph.number_of_edges() == 0:
        msg = (
            f"{where}has no walkable streets. Check that the extract covers the "
            "study area and contains highway=* ways open to pedestrians."
        )
        raise NetworkBuildError(msg[0].upper() + msg[1:])
    if "crs" not in graph.graph:
        msg = f"{where}has no graph['crs']; set it (e.g. 'EPSG:4326') before building."
        raise NetworkBuildError(msg[0].upper() + msg[1:])
    prefix = where[0].upper() + where[1:]
    n = graph.number_of_nodes()
    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=n)
    xy = np.empty((n, 2), dtype=np.float64)
    for i, (node, data) in enumerate(graph.nodes(data=True)):
        if "x" not in data or "y" not in data:
            msg = f"{prefix}node {node!r} has no 'x'/'y' coordinates."
            raise NetworkBuildError(msg)
        xy[i] = data["x"], data["y"]
    m = graph.number_of_edges()
    us = np.empty(m, dtype=np.int64)
    vs = np.empty(m, dtype=np.int64)
    lengths = np.empty(m, dtype=np.float64)
    geoms = np.empty(m, dtype=object)
    raw: dict[str, list[object]] = {t: [] for t in (*PROFILE_TAGS, "tunnel")}
    for i, (u, v, data) in enumerate(graph.edges(data=True)):
        length = data.get("length")
        try:
            value = float(length) if length is not None else np.nan
        except (TypeError, ValueError):
            value = np.nan
        if not np.isfinite(value) or value < 0:
            msg = (
                f"{prefix}edge ({u!r}, {v!r}) has no valid 'length' in metres "
                f"(got {length!r}). Load the network with planner.graph_from_file or osmnx."
            )
            raise NetworkBuildError(msg)
        us[i], vs[i], lengths[i] = u, v, value
        geoms[i] = data.get("geometry")
        for tag, values in raw.items():
            values.append(data.get(tag))
    as_array = {t: _object_array(v) for t, v in raw.items()}
    return StreetTables(
        crs=graph.graph["crs"],
        node_ids=node_ids,
        node_xy=xy,
        edge_u=us,
        edge_v=vs,
        length_m=lengths,
        geometry=geoms,
        tunnel=tunnel_flags(as_array["tunnel"]),
        tags={t: tag_text(as_array[t]) for t in PROFILE_TAGS},
        source=str(graph.graph.get("source", "")),
        reader="graph",
    )


def clip_tables(tables: StreetTables, area: Area) -> StreetTables:
    """The streets of ``tables`` whose two ends lie inside ``area`` (WGS84), and their nodes.

    Raises
    ------
    NetworkBuildError
        When no street lies inside the area.
    """
    import geopandas as gpd

    shape = gpd.GeoSeries([area], crs="EPSG:4326").to_crs(tables.crs).iloc[0]
    inside = shapely.contains_xy(shape, tables.node_xy[:, 0], tables.node_xy[:, 1])
    kept_ids = tables.node_ids[inside]
    rows = np.isin(tables.edge_u, kept_ids) & np.isin(tables.edge_v, kept_ids)
    if not rows.any():
        west, south, east, north = area.bounds
        msg = (
            f"{tables.source or 'The street network'}: no street inside the study area "
            f"({west:.5f}, {south:.5f}, {east:.5f}, {north:.5f}); check that the area and "
            "the network cover the same place (and the area's CRS)."
        )
        raise NetworkBuildError(msg)
    return StreetTables(
        crs=tables.crs,
        node_ids=kept_ids,
        node_xy=tables.node_xy[inside],
        edge_u=tables.edge_u[rows],
        edge_v=tables.edge_v[rows],
        length_m=tables.length_m[rows],
        geometry=None if tables.geometry is None else tables.geometry[rows],
        tunnel=tables.tunnel[rows],
        tags={t: v[rows] for t, v in tables.tags.items()},
        source=tables.source,
        reader=tables.reader,
        line_speed_kmh=None if tables.line_speed_kmh is None else tables.line_speed_kmh[rows],
        line_time_factor=(
            None if tables.line_time_factor is None else tables.line_time_factor[rows]
        ),
        **_runs_of(tables, np.flatnonzero(rows)),
    )


def _runs_of(tables: StreetTables, rows: npt.NDArray[np.int64]) -> dict[str, Any]:
    """``line_xy`` and ``line_offsets`` of ``rows`` of ``tables`` (none when it has none)."""
    if tables.line_xy is None or tables.line_offsets is None:
        return {}
    xy, offsets = take_runs(tables.line_xy, tables.line_offsets, rows)
    return {"line_xy": xy, "line_offsets": offsets}


def _object_array(values: list[object]) -> npt.NDArray[np.object_]:
    """A 1-D object array of ``values`` (lists stay cells, never a second dimension)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def graph_where(graph: nx.MultiDiGraph) -> str:
    """``"<file>: the street network "`` when the graph says where it came from."""
    source = graph.graph.get("source")
    return f"{source}: the street network " if source else "the street network "
