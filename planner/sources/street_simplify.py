"""pyrosm's simplification of a walking network read for graph export, straight to arrays.

pyrosm's ``graph_tables(..., simplify=True, retain_all=True)`` on the readers of
``pyrosm.engine.readers.graph_network`` builds GeoDataFrames: a table row (with a line)
for the first segment of every merged chain, the chain's merged line, a node frame with
points. The street tables need none of these objects: :func:`simplified_arrays` runs the
same steps with pyrosm's own pieces (the directed segment rows, the endpoint rules, the
chain walk, the geometry orientation) and keeps the result as arrays, each chain's line
as a run of flat coordinates. Nodes, edges, lengths, coordinates and tag texts are those
of ``graph_tables`` (tested equal on the bundled extracts and on the Porto metro extract
when present); when pyrosm's pieces are not there (another pyrosm release),
:func:`simplified_arrays` returns None and the caller uses ``graph_tables``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: The way tags pyrosm's simplification compares along a chain (a node where one of
#: them changes is kept): ``pyrosm.graph_simplify.EDGE_ATTRS_DIFFER``.
_DIFFER = ("maxspeed", "highway")


@dataclass(frozen=True, eq=False)
class SimplifiedArrays:
    """A simplified walking network as arrays (WGS84).

    Attributes
    ----------
    node_ids, node_xy
        The nodes at the ends of the simplified streets, in the order of pyrosm's node
        table, and their lon/lat.
    edge_u, edge_v, length_m
        End node ids and length in metres of each simplified street (one merged chain).
    line_xy, line_offsets
        The line of street ``i`` is ``line_xy[line_offsets[i]:line_offsets[i + 1]]``.
    tag_texts
        Per tag asked for, one text per street: the chain's distinct values joined with
        ``;`` in order, "" when it has none (as ``tag_text`` gives them).
    """

    node_ids: npt.NDArray[np.int64]
    node_xy: npt.NDArray[np.float64]
    edge_u: npt.NDArray[np.int64]
    edge_v: npt.NDArray[np.int64]
    length_m: npt.NDArray[np.float64]
    line_xy: npt.NDArray[np.float64]
    line_offsets: npt.NDArray[np.int64]
    tag_texts: dict[str, npt.NDArray[np.object_]]


def _pyrosm_pieces() -> dict[str, Callable[..., Any]] | None:
    """The pieces of pyrosm's simplification, or None when this pyrosm release lacks one."""
    try:
        from pyrosm import graph_simplify as gs
        from pyrosm.graphs import _segment_rows

        pieces = {
            "segment_rows": _segment_rows,
            "factorize": gs._factorize_nodes,
            "endpoints": gs.detect_endpoints,
            "csr": gs._build_csr,
            "reversed": gs._compute_geom_reversed,
            "walk": gs._cython_walk_chains or gs._reference_walk,
        }
    except (ImportError, AttributeError):
        return None
    if tuple(getattr(gs, "EDGE_ATTRS_DIFFER", ())) != _DIFFER:
        return None
    return pieces


def simplified_arrays(nodes: Any, edges: Any, *, tags: tuple[str, ...]) -> SimplifiedArrays | None:
    """The walking network of pyrosm's graph-export readers, simplified, as arrays.

    Parameters
    ----------
    nodes, edges
        The readers ``pyrosm.engine.readers.graph_network`` returns (the edges gain an
        empty ``oneway`` column when the extract has none, as in ``graph_tables``).
    tags
        Way tags to give one text per street.

    Returns
    -------
    SimplifiedArrays or None
        None when the readers or this pyrosm release are not the ones this follows.
    """
    pieces = _pyrosm_pieces()
    readers = all(hasattr(edges, a) for a in ("ways", "way_of", "coords", "codes", "floats"))
    if pieces is None or not readers or not hasattr(nodes, "coordinates"):
        return None
    rows, swapped = pieces["segment_rows"](edges, "oneway", False, "walking")
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return None
    from_ids, to_ids = edges.values("u"), edges.values("v")
    u, v, uniques = pieces["factorize"](
        np.where(swapped, to_ids[rows], from_ids[rows]),
        np.where(swapped, from_ids[rows], to_ids[rows]),
    )
    n_nodes = len(uniques)
    nid = np.asarray(nodes.ids())
    x, y = nodes.coordinates()
    factor = pd.Index(uniques).get_indexer(nid)  # -1: a node no segment names
    known = factor >= 0
    node_x = np.full(n_nodes, np.nan)
    node_y = np.full(n_nodes, np.nan)
    node_x[factor[known]] = x[known]
    node_y[factor[known]] = y[known]
    differ = [edges.codes(c)[rows] for c in _DIFFER if c in edges.columns]
    is_endpoint = pieces["endpoints"](u, v, n_nodes, edge_attr_values=differ or None)
    indptr, indices, edge_id, src = pieces["csr"](u, v, n_nodes)
    index = np.intc if u.dtype == np.int32 else np.longlong
    chain_ids, chain_ptr = pieces["walk"](
        indptr.astype(index, copy=False),
        indices.astype(index, copy=False),
        edge_id.astype(index, copy=False),
        np.ascontiguousarray(is_endpoint, dtype=np.uint8),
        src.astype(index, copy=False),
        True,
    )
    chain_ids = np.asarray(chain_ids, dtype=np.int64)
    chain_ptr = np.asarray(chain_ptr, dtype=np.int64)
    n_chains = len(chain_ptr) - 1
    if n_chains == 0:
        return None
    first, last = chain_ptr[:-1], chain_ptr[1:] - 1
    new_u, new_v = u[chain_ids[first]], v[chain_ids[last]]
    coords, offsets = edges.coords()
    flipped = pieces["reversed"](coords, offsets, rows, u, v, node_x, node_y)
    line_xy, line_offsets = _stitch(coords, offsets, rows, flipped, chain_ids, chain_ptr)
    seg_rows = rows[chain_ids]
    seg_chain = np.repeat(np.arange(n_chains), np.diff(chain_ptr))
    lengths = edges.floats("length")[seg_rows]
    ends = np.zeros(n_nodes, dtype=bool)  # by factor: the nodes a chain ends at
    ends[new_u] = ends[new_v] = True
    keep_nodes = known & ends[np.where(known, factor, 0)]
    return SimplifiedArrays(
        node_ids=nid[keep_nodes].astype(np.int64),
        node_xy=np.column_stack([x[keep_nodes], y[keep_nodes]]).astype(np.float64),
        edge_u=np.asarray(uniques[new_u], dtype=np.int64),
        edge_v=np.asarray(uniques[new_v], dtype=np.int64),
        length_m=np.asarray(
            np.bincount(seg_chain, weights=lengths, minlength=n_chains), dtype=np.float64
        ),
        line_xy=line_xy,
        line_offsets=line_offsets,
        tag_texts={
            t: _chain_texts(_way_column(edges, t), edges.way_of[seg_rows], chain_ptr) for t in tags
        },
    )


def _way_column(edges: Any, tag: str) -> npt.NDArray[np.object_] | None:
    """The values of ``tag`` per way row, or None when the ways have no such column."""
    if tag not in edges.ways.columns:
        return None
    return np.asarray(edges.ways[tag].to_numpy(), dtype=object)


def _chain_texts(
    way_values: npt.NDArray[np.object_] | None,
    seg_way: npt.NDArray[np.int64],
    chain_ptr: npt.NDArray[np.int64],
) -> npt.NDArray[np.object_]:
    """One text per chain: its segments' distinct texts in order, joined with ``;``.

    What ``tag_text`` gives for pyrosm's merged cell (the first segment's value where the
    chain agrees, the list of its segments' values where it does not).
    """
    from planner.sources.street_tables import tag_text

    n_chains = len(chain_ptr) - 1
    if way_values is None:
        return np.full(n_chains, "", dtype=object)
    codes, uniques = pd.factorize(tag_text(way_values))
    seg = codes[seg_way]
    texts = np.asarray(uniques, dtype=object)
    out = texts[seg[chain_ptr[:-1]]]
    low = np.minimum.reduceat(seg, chain_ptr[:-1])
    high = np.maximum.reduceat(seg, chain_ptr[:-1])
    for k in np.flatnonzero(low != high).tolist():
        seen: list[str] = []
        for text in texts[seg[chain_ptr[k] : chain_ptr[k + 1]]].tolist():
            if text and text not in seen:
                seen.append(text)
        out[k] = ";".join(seen)
    return out


def _stitch(
    coords: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    flipped: npt.NDArray[np.bool_],
    chain_ids: npt.NDArray[np.int64],
    chain_ptr: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Each chain's line as flat coordinates, shared vertices once (pyrosm's stitching)."""
    from planner.sources.street_tables import run_sources

    segs = rows[chain_ids]
    lens = np.diff(offsets)[segs].astype(np.int64)
    starts = np.asarray(offsets, dtype=np.int64)[segs]
    rev = flipped[chain_ids]
    # A segment after a chain's first leaves out its first vertex (the previous one's last):
    # the last stored one when it is taken backwards.
    skip = np.ones(len(chain_ids), dtype=np.int64)
    skip[chain_ptr[:-1]] = 0
    src, out_off, _ = run_sources(np.where(rev, starts, starts + skip), lens - skip, rev)
    line_offsets = out_off[chain_ptr]  # a chain's first segment starts its run
    return np.ascontiguousarray(coords[src]), line_offsets
