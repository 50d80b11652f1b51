"""Candidate sites for new stations: network locations in the gaps, OSM features, user points.

Any GeoDataFrame of points can be a candidate set (user tables load with
:func:`planner.sources.sites.stations_from_csv`). This module adds the two generated kinds:

* :func:`candidates_from_gaps` (the documented default): street-network nodes inside the
  gap zones of a coverage result, thinned to one per ``spacing_m`` grid cell, with at least
  one per gap zone;
* :func:`candidates_from_osm`: OSM features of chosen tags (community centres, schools,
  government offices, ...) from an extract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputDataError
from planner.sources.coords import WGS84
from planner.sources.osm import stations_from_osm
from planner.walk.coverage import CoverageResult
from planner.walk.network import WalkNetwork

#: OSM tags of buildings that commonly host a community service station.
CANDIDATE_TAGS: Mapping[str, tuple[str, ...]] = {
    "amenity": ("community_centre", "social_facility", "library", "school", "townhall"),
    "office": ("government",),
}

#: Default thinning of generated candidates: at most one per this many metres (grid cell).
DEFAULT_SPACING_M = 50.0
#: The app's suggestion widens the thinning grid past this many gap candidates (each one
#: costs a bounded search; see :func:`planner.siting.models.suggest_sites`).
MAX_GAP_CANDIDATES = 4_000


def candidates_from_network(
    network: WalkNetwork,
    *,
    within: gpd.GeoSeries | None = None,
    spacing_m: float = DEFAULT_SPACING_M,
) -> gpd.GeoDataFrame:
    """Street-network nodes as candidate sites, thinned to one per grid cell.

    Parameters
    ----------
    network
        The walking network.
    within
        Areas (any CRS) to take nodes from; the whole network when None. Each area with
        no node inside gets the node nearest to it, so no area is left without a candidate.
    spacing_m
        Side of the thinning grid in metres: of the nodes in one cell (and one area), the
        one nearest the cell's centre is kept. 0 keeps every node.

    Returns
    -------
    geopandas.GeoDataFrame
        In WGS84: ``id`` (``node/<graph node id>``), ``source`` (``network``), ``area``
        (position of the area in ``within``, -1 without areas) and the node's point.
    """
    if not (np.isfinite(spacing_m) and spacing_m >= 0):
        msg = f"spacing_m must be 0 or a positive number of metres, got {spacing_m!r}."
        raise InputDataError(msg)
    xy = np.asarray(network.node_xy)
    if within is None:
        node_pos = np.arange(network.n_nodes)
        area = np.full(network.n_nodes, -1, dtype=np.int64)
    else:
        if within.crs is None:
            msg = "within: the areas have no CRS; set one (e.g. .set_crs('EPSG:4326'))."
            raise InputDataError(msg)
        zones = within.to_crs(network.crs).to_numpy()
        pts = shapely.points(xy)
        node_pos, area = shapely.STRtree(zones).query(pts, predicate="within")
        # A node inside two overlapping areas counts once, for the first area.
        first = np.unique(node_pos, return_index=True)[1]
        node_pos, area = node_pos[first], area[first]
        empty = np.setdiff1d(np.arange(len(zones)), area)
        if empty.size:
            nearest = shapely.STRtree(pts).query_nearest(zones[empty], all_matches=False)[1]
            node_pos = np.concatenate([node_pos, nearest])
            area = np.concatenate([area, empty])
    keep = _thin(xy[node_pos], area, spacing_m)
    node_pos, area = node_pos[keep], area[keep]
    order = np.lexsort((network.node_ids[node_pos], area))
    node_pos, area = node_pos[order], area[order]
    dedup = np.unique(node_pos, return_index=True)[1]
    node_pos, area = node_pos[np.sort(dedup)], area[np.sort(dedup)]
    out = gpd.GeoDataFrame(
        {
            "id": [f"node/{n}" for n in network.node_ids[node_pos]],
            "source": "network",
            "area": area.astype(np.int64),
        },
        geometry=gpd.points_from_xy(xy[node_pos, 0], xy[node_pos, 1]),
        crs=network.crs,
    )
    return out.to_crs(WGS84).reset_index(drop=True)


def candidates_from_gaps(
    network: WalkNetwork,
    result: CoverageResult,
    *,
    spacing_m: float = DEFAULT_SPACING_M,
    margin_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """Street-network nodes inside the gap zones of a coverage result (the default).

    Parameters
    ----------
    network
        The walking network the coverage was computed on.
    result
        The coverage analysis whose gap zones (unserved homes) are to be closed.
    spacing_m
        Thinning grid in metres (see :func:`candidates_from_network`).
    margin_m
        Widen each gap zone by this many metres (straight line) before taking its nodes:
        a station just outside a gap can serve it and its neighbour.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`candidates_from_network`, with ``source`` ``gap`` and ``gap_id`` (the
        gap zone each candidate lies in). Empty when there is no gap.

    Notes
    -----
    A gap zone is the union of ``gap_link_m / 2`` buffers around unserved homes, so its
    nodes are the street corners near unserved homes. Each zone gets at least its nearest
    node, so every gap can be reached by some candidate; a site that could close two gaps
    from a covered street between them is only considered with a ``margin_m``.
    """
    gaps = result.gaps
    if len(gaps) == 0:
        return gpd.GeoDataFrame(
            {"id": pd.Series(dtype=object), "source": pd.Series(dtype=object), "gap_id": []},
            geometry=[],
            crs=WGS84,
        )
    zones = gaps.geometry.to_crs(network.crs)
    if margin_m > 0:
        zones = zones.buffer(margin_m, quad_segs=4)
    out = candidates_from_network(network, within=zones, spacing_m=spacing_m)
    gap_ids = gaps["gap_id"].to_numpy()
    return out.assign(source="gap", gap_id=gap_ids[out["area"].to_numpy()]).drop(columns="area")


def thin_candidates(
    candidates: gpd.GeoDataFrame, *, spacing_m: float, crs: object
) -> gpd.GeoDataFrame:
    """Candidates thinned to one per grid cell (and gap zone), as the generators thin nodes.

    Parameters
    ----------
    candidates
        Candidate points; with a ``gap_id`` column, each gap zone is thinned on its own
        (and keeps one candidate at least).
    spacing_m
        Side of the grid in metres; of the candidates in one cell, the one nearest the
        cell's centre is kept.
    crs
        A metric CRS to lay the grid in (e.g. the network's).

    Returns
    -------
    geopandas.GeoDataFrame
        The kept rows, in their order, with a new range index.
    """
    xy = shapely.get_coordinates(candidates.geometry.to_crs(crs).to_numpy())
    group = (
        pd.factorize(candidates["gap_id"])[0]
        if "gap_id" in candidates.columns
        else np.zeros(len(candidates), dtype=np.int64)
    )
    return candidates.iloc[_thin(xy, group, spacing_m)].reset_index(drop=True)


def candidates_from_osm(
    path: str | Path, *, tags: Mapping[str, Sequence[str]] = CANDIDATE_TAGS
) -> gpd.GeoDataFrame:
    """OSM features of the given tags as candidate sites.

    Parameters
    ----------
    path
        An OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``).
    tags
        Tag key to accepted values; :data:`CANDIDATE_TAGS` by default (community centres,
        social facilities, libraries, schools, town halls, government offices).

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`planner.sources.osm.stations_from_osm` (``id``, ``name``, ``category``) plus
        ``source`` (``osm``), in WGS84.
    """
    return stations_from_osm(path, tags=tags).assign(source="osm")


def _thin(xy: np.ndarray, group: np.ndarray, spacing_m: float) -> np.ndarray:
    """Positions to keep: per (group, grid cell) the point nearest the cell centre."""
    if xy.shape[0] == 0 or spacing_m == 0:
        return np.arange(xy.shape[0])
    cell = np.floor(xy / spacing_m)
    centre = (cell + 0.5) * spacing_m
    off = np.hypot(*(xy - centre).T)
    order = np.lexsort((off, cell[:, 1], cell[:, 0], group))
    c0, c1, g = cell[order, 0], cell[order, 1], group[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (c0[1:] != c0[:-1]) | (c1[1:] != c1[:-1]) | (g[1:] != g[:-1])
    return np.sort(order[first])
