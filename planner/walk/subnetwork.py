"""A piece of a walking network cut around a study area, exact within the walk limit.

A province is analysed one study area at a time (:mod:`planner.pipeline.region`). Each
area needs only the streets a walk of the limit can use from its homes: a path of length
``L`` from a home never leaves the disc of radius ``L`` around the home's snap point, so
the streets meeting the area widened by a halo give its homes exactly the figures of the
whole network. :func:`halo_widths_m` says how wide; :func:`network_within` cuts the
compiled arrays (no rebuild from the file, so the pieces share the whole network's node
positions, lengths and the connected part it kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.config import AnalysisConfig
from planner.walk.network import WalkNetwork, frozen


@dataclass(frozen=True, slots=True)
class HaloWidths:
    """How far around a study area its stations and streets are taken, metres.

    Attributes
    ----------
    stations_m
        Stations within this distance of the area are taken: ``L + 2s`` (walk limit ``L``,
        largest snap distance ``s``): a home's snap point is within ``s`` of the area, a
        reachable station's snap point within ``L`` of that, the station within ``s`` of
        its snap point.
    streets_m
        Streets meeting the area widened by this much are taken: ``L + 3s``, so that every
        station taken still finds the street it snaps to on the whole network (its nearest
        street is within ``s`` of it).
    """

    stations_m: float
    streets_m: float


def halo_widths_m(config: AnalysisConfig) -> HaloWidths:
    """The halo of :class:`HaloWidths` for an analysis' walk limit and snap distance."""
    limit, snap = config.walk_limit_m, config.max_snap_m
    return HaloWidths(stations_m=limit + 2.0 * snap, streets_m=limit + 3.0 * snap)


def network_within(network: WalkNetwork, area_m: BaseGeometry) -> WalkNetwork:
    """The part of ``network`` made of the streets that meet ``area_m``, and all between their ends.

    Parameters
    ----------
    network
        The whole walking network; not modified.
    area_m
        A polygon in the network's CRS (already widened by the halo).

    Returns
    -------
    WalkNetwork
        Every street that meets ``area_m`` with both its ends (so a street partly inside
        keeps its whole length), plus every other street between two kept nodes. Node
        order, street lengths and geometries are the whole network's; ``islands`` is the
        whole network's report (the cut leaves out nothing that was not cut on purpose).
        An area that meets no street gives a network with no node.

    Notes
    -----
    Shortest paths in the piece are never shorter than in the whole network (it is a
    subgraph), and a path that stays inside ``area_m`` is kept whole: distances up to the
    walk limit from the area's homes are therefore exact when ``area_m`` is the area
    widened by :func:`halo_widths_m`.
    """
    meets = network.edges.sindex.query(area_m, predicate="intersects")
    keep_node = np.zeros(network.n_nodes, dtype=bool)
    keep_node[network.edge_u[meets]] = True
    keep_node[network.edge_v[meets]] = True
    new_pos = np.cumsum(keep_node) - 1
    rows = keep_node[network.edge_u] & keep_node[network.edge_v]
    nodes = np.flatnonzero(keep_node)
    csr = network.csr[nodes][:, nodes].tocsr()
    csr.indices = csr.indices.astype(np.int32)
    csr.indptr = csr.indptr.astype(np.int32)
    edges = network.edges.loc[rows].copy()
    edges["u_idx"] = new_pos[edges["u_idx"].to_numpy()].astype(np.int64)
    edges["v_idx"] = new_pos[edges["v_idx"].to_numpy()].astype(np.int64)
    edges = edges.reset_index(drop=True)
    return replace(
        network,
        node_ids=frozen(np.ascontiguousarray(network.node_ids[nodes])),
        node_xy=frozen(np.ascontiguousarray(network.node_xy[nodes])),
        csr=csr,
        edges=edges,
        from_cache=network.from_cache,
    )


def area_halo_m(area_m: BaseGeometry, width_m: float) -> BaseGeometry:
    """``area_m`` widened by at least ``width_m`` metres everywhere (its CRS must be metric).

    A buffer's round corners are polygons whose edges cut inside the true circle, by up to
    ``1 - cos(pi / (4 * quad_segs))`` of the width; the width is raised by that much so the
    polygon holds the exact widened area.
    """
    quad_segs = 8
    return shapely.buffer(
        area_m, width_m / math.cos(math.pi / (4 * quad_segs)), quad_segs=quad_segs
    )
