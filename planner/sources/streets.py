"""Walking street networks from local files: OSM extracts and osmnx GraphML.

:func:`graph_from_file` reads an extract with pyrosm, and again with pyosmium
(:mod:`planner.sources.osmium`) when pyrosm fails, telling a file without streets from one
cut short; :func:`graph_nodes` gives a graph's nodes as points. Networks by place, bounding
box, point or polygon are downloaded in :mod:`planner.sources.download`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import geopandas as gpd

from planner.errors import NetworkBuildError
from planner.limits import DEFAULT_LIMITS, InputLimits, check_network_file
from planner.sources.areas import Area, clip_graph
from planner.sources.coords import WGS84
from planner.sources.osm import GRAPHML_SUFFIXES, PBF_SUFFIXES, XML_SUFFIXES, as_pbf
from planner.sources.tableio import existing_file

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: File types a street network is read from.
NETWORK_SUFFIXES = PBF_SUFFIXES + XML_SUFFIXES + GRAPHML_SUFFIXES


def graph_from_file(
    path: str | Path, *, study_area: Area | None = None, limits: InputLimits | None = None
) -> nx.MultiDiGraph:
    """Read a walking street network from a local file.

    Parameters
    ----------
    path
        An OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) or an osmnx
        ``.graphml`` file.
    study_area
        Keep only the streets whose nodes lie inside this polygon (WGS84).
    limits
        ``max_network_file_mb``, and ``max_decompressed_mb``/``max_compression_ratio`` for
        ``.gz``/``.bz2`` files; :class:`~planner.limits.InputLimits` defaults when None.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-compatible walking graph in WGS84 (a GraphML file keeps its CRS) with edge
        ``length`` in metres; ``graph["reader"]`` says which reader read an extract.

    Raises
    ------
    InputFileNotFoundError, UnsupportedFormatError, NetworkBuildError
        When the file is missing, of an unknown type, unreadable (named as such: a PBF cut
        short is "not a readable OSM PBF file", not a file without streets) or has no
        walkable street.
    InputLimitError
        When the file, or a compressed file's content, passes a limit.

    Notes
    -----
    Extracts are read with pyrosm. When pyrosm fails on a file (pyrosm 0.25 crashes on
    some valid extracts with a broadcast ``ValueError``), the file is read again with
    pyosmium (:mod:`planner.sources.osmium`), which builds the same network; only when
    both fail is the file reported unreadable.
    """
    p = existing_file(path)
    name = p.name.lower()
    lim = limits or DEFAULT_LIMITS
    check_network_file(p, lim)
    if name.endswith(GRAPHML_SUFFIXES):
        graph = _read_graphml(p)
    else:
        with as_pbf(p) as pbf:
            graph = _read_walk_graph(pbf, p)
    graph.graph["source"] = str(p)
    if study_area is not None:
        graph = clip_graph(graph, study_area, source=str(p))
    return graph


def _read_graphml(p: Path) -> nx.MultiDiGraph:
    """An osmnx GraphML file, every problem named with the file."""
    import osmnx as ox  # slow to import (sklearn): only for GraphML

    try:
        graph: nx.MultiDiGraph = ox.load_graphml(p)
    except Exception as err:
        msg = (
            f"{p}: not a readable osmnx GraphML file ({type(err).__name__}: {err}). Re-save "
            "it with ox.save_graphml."
        )
        raise NetworkBuildError(msg) from err
    if graph.number_of_edges() == 0:
        msg = (
            f"{p}: the GraphML file holds no street (0 edges, {graph.number_of_nodes()} "
            "nodes). Save a walking network with ox.save_graphml."
        )
        raise NetworkBuildError(msg)
    if "crs" not in graph.graph:
        msg = (
            f"{p}: the GraphML file declares no CRS (graph attribute 'crs'). Save it with "
            "ox.save_graphml, which writes it."
        )
        raise NetworkBuildError(msg)
    return graph


def _read_walk_graph(pbf: Path, shown: Path) -> nx.MultiDiGraph:
    """The walking graph of a PBF: pyrosm first, pyosmium when pyrosm fails."""
    from planner.sources.osmium import walk_graph_from_osmium

    graph, reader = read_pbf_with_fallback(
        pbf,
        shown,
        lambda: _walk_graph_pyrosm(pbf, shown),
        lambda: walk_graph_from_osmium(pbf),
    )
    graph.graph["reader"] = reader
    return graph


def read_pbf_with_fallback(
    pbf: Path, shown: Path, with_pyrosm: Callable[[], T], with_pyosmium: Callable[[], T | None]
) -> tuple[T, str]:
    """Read a PBF with pyrosm, and with pyosmium when pyrosm fails or finds no street.

    ``with_pyrosm`` raises :class:`_NoStreetsError` when it finds no walkable street;
    ``with_pyosmium`` returns None then. pyosmium reads the whole file to tell a file
    without streets from one cut short (pyrosm reads a PBF cut to 100 bytes as empty).

    Returns
    -------
    tuple
        What was read, and ``"pyrosm"`` or ``"pyosmium"``.

    Raises
    ------
    NetworkBuildError
        "not a readable OSM PBF file" when neither reader can read it, or "no walkable
        streets" when it holds OSM data without them.
    """
    try:
        return with_pyrosm(), "pyrosm"
    except NetworkBuildError:
        raise
    except Exception as err:
        if not isinstance(err, _NoStreetsError):
            logger.warning(
                "%s: pyrosm failed (%s: %s); reading the file with pyosmium instead.",
                shown,
                type(err).__name__,
                err,
            )
        from planner.sources.osmium import has_osm_data

        try:
            found = with_pyosmium()
            empty = found is None and not has_osm_data(pbf)
        except Exception as err2:
            raise _unreadable(shown, err, err2) from err2
        if empty:
            raise _unreadable(shown, err, None) from err
        if found is None:
            raise _no_streets(shown) from err
        return found, "pyosmium"


def _walk_graph_pyrosm(pbf: Path, shown: Path) -> nx.MultiDiGraph:
    import pyrosm

    osm = pyrosm.OSM(str(pbf))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    if edges is None or len(edges) == 0:
        raise _NoStreetsError(str(shown))
    # Every part is kept (pyrosm keeps only the largest by default): the network build
    # drops the small ones itself and reports what it left out.
    graph: nx.MultiDiGraph = osm.to_graph(
        nodes, edges, graph_type="networkx", osmnx_compatible=True, retain_all=True
    )
    return graph


class _NoStreetsError(Exception):
    """pyrosm found no walkable street (the file may still be unreadable)."""


def _unreadable(shown: Path, err: Exception, err2: Exception | None) -> NetworkBuildError:
    """A file neither reader can read (``err2`` from pyosmium), or one with no OSM data."""
    if err2 is None:
        return NetworkBuildError(
            f"{shown}: not a readable OSM PBF file: it holds a header but no OSM data "
            f"({shown.stat().st_size:,} bytes). Download the extract again; a cut-off "
            "download is the usual cause."
        )
    pyrosm_said = (
        "" if isinstance(err, _NoStreetsError) else f"pyrosm: {type(err).__name__}: {err}; "
    )
    return NetworkBuildError(
        f"{shown}: not a readable OSM PBF file ({pyrosm_said}"
        f"pyosmium: {type(err2).__name__}: {err2}). Download the extract again; a "
        "cut-off download is the usual cause."
    )


def _no_streets(path: Path) -> NetworkBuildError:
    return NetworkBuildError(
        f"{path}: the extract has no walkable streets (no highway=* ways open to "
        "pedestrians). Use an extract that covers the study area's streets."
    )


def graph_nodes(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """The nodes of a street graph as WGS84 points with an ``id`` column.

    E.g. as the targets of :func:`~planner.sources.population.distribute_population` when
    there are no buildings.
    """
    ids = list(graph.nodes)
    xs = [graph.nodes[n]["x"] for n in ids]
    ys = [graph.nodes[n]["y"] for n in ids]
    crs = graph.graph.get("crs", WGS84)
    pts = gpd.GeoDataFrame(
        {"id": [str(n) for n in ids]}, geometry=gpd.points_from_xy(xs, ys), crs=crs
    )
    return pts.to_crs(WGS84)
