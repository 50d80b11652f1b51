"""The bundled extract's streets written as a city's own road layer, for the road-layer tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest

from planner.walk.network import WalkNetwork


def street_lines_of(network: WalkNetwork, crs: Any = 3067) -> gpd.GeoDataFrame:
    """A network's streets as plain lines (``highway``, ``tunnel`` flags) in ``crs``."""
    e = network.edges
    lines = gpd.GeoDataFrame(
        {"highway": e["highway"], "tunnel": np.where(e["snappable"], "", "yes")},
        geometry=e.geometry,
    )
    return lines.to_crs(crs)


def write_layer(frame: gpd.GeoDataFrame, path: Path, **kw: Any) -> Path:
    """``frame`` written with pyogrio; returns ``path``."""
    frame.to_file(path, engine="pyogrio", **kw)
    return path


def assert_same_network(road: WalkNetwork, pbf: WalkNetwork) -> None:
    """The road layer's network is the PBF's (checked on the bundled Helsinki extract)."""
    assert road.n_nodes == pbf.n_nodes
    # One tunnel footway ends on another's vertex without an OSM junction there: the
    # layer (no levels given) joins them, splitting that footway in two.
    assert len(road.edges) == len(pbf.edges) + 1
    # Geodesic lengths on the WGS84 ellipsoid; pyrosm's are haversine, 0.3 % shorter.
    assert road.street_m == pytest.approx(pbf.street_m, rel=5e-3)
    assert road.islands.components == 1
    assert int((~road.edges["snappable"]).sum()) == int((~pbf.edges["snappable"]).sum()) + 1
