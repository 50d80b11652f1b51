"""Cutting a walking network around an area: what is kept, and distances within the limit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import csgraph

from planner.config import AnalysisConfig
from planner.walk.network import WalkNetwork
from planner.walk.subnetwork import area_halo_m, halo_widths_m, network_within

#: South-west node of the conftest grid (node 0), UTM 35N.
X0, Y0 = 500_000.0, 6_670_000.0


def xy(dx: float, dy: float) -> tuple[float, float]:
    """A point given relative to the grid's node 0."""
    return X0 + dx, Y0 + dy


def _ids(network: WalkNetwork) -> list[int]:
    return sorted(int(i) for i in network.node_ids)


def test_a_street_partly_inside_keeps_both_ends(grid_network: WalkNetwork) -> None:
    # a small box around the middle of street 0-1 (x = 50, y = 0): only that street
    piece = network_within(grid_network, shapely.box(*xy(45, -5), *xy(55, 5)))
    assert _ids(piece) == [0, 1]
    assert len(piece.edges) == 1
    assert piece.edges["length_m"].tolist() == [100.0]
    assert piece.csr[0, 1] == 100.0
    assert piece.csr[1, 0] == 100.0


def test_kept_nodes_bring_every_street_between_them(grid_network: WalkNetwork) -> None:
    # the bottom row and the streets up to the middle row: 0-3, 1-4, 2-5 meet the box,
    # so 3, 4, 5 are kept, and with them the streets 3-4 and 4-5 (not meeting the box)
    piece = network_within(grid_network, shapely.box(*xy(-5, -5), *xy(205, 50)))
    assert _ids(piece) == [0, 1, 2, 3, 4, 5]
    assert len(piece.edges) == 7
    assert piece.csr.nnz == 14
    # positions are consistent: u_idx/v_idx point at the right node ids
    assert (piece.node_ids[piece.edge_u] == piece.edges["u"].to_numpy()).all()
    assert (piece.node_ids[piece.edge_v] == piece.edges["v"].to_numpy()).all()


def test_an_area_with_no_street_gives_an_empty_network(grid_network: WalkNetwork) -> None:
    piece = network_within(grid_network, shapely.box(*xy(900, 900), *xy(950, 950)))
    assert piece.n_nodes == 0
    assert len(piece.edges) == 0


def test_halo_widths() -> None:
    halo = halo_widths_m(AnalysisConfig(walk_minutes=10, speed_kmh=6, max_snap_m=50))
    assert halo.stations_m == pytest.approx(1000 + 100)
    assert halo.streets_m == pytest.approx(1000 + 150)


def test_the_halo_polygon_holds_the_exact_disc() -> None:
    disc = area_halo_m(shapely.Point(0, 0), 100.0)
    angles = np.linspace(0, 2 * np.pi, 720)
    ring = shapely.points(100 * np.cos(angles), 100 * np.sin(angles))
    assert shapely.covers(disc, ring).all()


def test_distances_within_the_limit_are_those_of_the_whole_network(
    helsinki_network: WalkNetwork,
) -> None:
    """From every node inside a central area: the same distances up to the limit."""
    limit = 300.0
    x0, y0 = helsinki_network.node_xy.mean(axis=0)
    area = shapely.box(x0 - 150, y0 - 150, x0 + 150, y0 + 150)
    piece = network_within(helsinki_network, area_halo_m(area, limit))
    assert 0 < piece.n_nodes < helsinki_network.n_nodes
    inside = np.flatnonzero(shapely.contains_xy(area, *piece.node_xy.T))
    position = pd.Index(helsinki_network.node_ids)
    whole_pos = position.get_indexer(piece.node_ids[inside])
    assert (whole_pos >= 0).all()
    d_piece = csgraph.dijkstra(piece.csr, indices=inside, limit=limit)
    d_whole = csgraph.dijkstra(helsinki_network.csr, indices=whole_pos, limit=limit)
    # the piece's columns in the whole network's order
    cols = position.get_indexer(piece.node_ids)
    assert np.isfinite(d_piece).sum() > 100
    np.testing.assert_array_equal(d_piece, d_whole[:, cols])
    # and no node of the whole network outside the piece is within the limit
    outside = np.setdiff1d(np.arange(helsinki_network.n_nodes), cols)
    assert np.isinf(d_whole[:, outside]).all()
