"""The walking network in flat arrays: nodes, streets, CSR adjacency, what was left out.

:func:`network_from_tables` compiles a street network's node and edge tables
(:mod:`planner.sources.street_tables`, read from an extract without networkx) into a
:class:`WalkNetwork`: every street walkable both ways, projected to a metric CRS in one
vectorised pyproj call, the largest connected part kept and every part left out reported,
a CSR adjacency matrix for the shortest-path engine plus one row per street segment for
snapping points onto streets. :func:`build_walk_network` does the same for any
osmnx-compatible ``networkx.MultiDiGraph`` (GraphML, osmnx, hand-made graphs);
:meth:`WalkNetwork.to_networkx` makes such a graph back, on request only. Networks built
from files are cached on disk by :mod:`planner.walk.network_cache`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from scipy import sparse

from planner.sources.road_layers import RoadLayerReport
from planner.sources.street_tables import street_tables_from_graph

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)

#: Edge column of a road layer's own walking speed per street (km/h, NaN: the run's speed),
#: present until :func:`planner.walk.line_speeds.line_speed_network` turns it into costs.
LINE_SPEED_COLUMN = "line_speed_kmh"
#: Edge column of a road layer's factor on each street's walking time (NaN: 1), likewise.
LINE_FACTOR_COLUMN = "line_time_factor"
#: Weight given to zero-length edges: scipy's csgraph ignores explicit zeros in sparse input.
ZERO_LENGTH_M = 1e-9


@dataclass(frozen=True, slots=True)
class IslandReport:
    """Parts of the street network left out because they do not connect to the main part.

    Attributes
    ----------
    components
        Number of connected parts in the input network.
    nodes_dropped
        Street nodes outside the largest part.
    street_m_dropped
        Street length outside the largest part, metres (each street counted once).
    parts_dropped
        Connected parts left out (``components - 1``, or 0 when every part is kept).
    """

    components: int
    nodes_dropped: int
    street_m_dropped: float
    parts_dropped: int = 0


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """A walking network ready for shortest-path searches.

    Build it with :func:`network_from_tables`, :func:`build_walk_network` or
    :func:`planner.walk.network_cache.network_from_file`; do not construct it by hand.

    Attributes
    ----------
    crs
        The metric CRS of ``node_xy`` and ``edges``.
    node_ids
        Graph node id of each compiled node position.
    node_xy
        Projected coordinates of each node, shape ``(n, 2)``.
    csr
        ``(n, n)`` adjacency in CSR form; entry ``(i, j)`` is the shortest street length in
        metres from node ``i`` to node ``j`` among parallel streets.
    edges
        One row per street segment (a street with its reverse counted once): ``u``, ``v``
        (graph node ids), ``u_idx``, ``v_idx`` (compiled positions), ``length_m`` and a
        ``geometry`` running from ``u`` to ``v``; ``snappable`` is False for tunnels, which
        points never snap to (they are still walked through); the OSM tags of
        :data:`~planner.sources.street_tables.PROFILE_TAGS` as text ("" when missing);
        ``line_speed_kmh`` and ``line_time_factor`` (:data:`LINE_SPEED_COLUMN`,
        :data:`LINE_FACTOR_COLUMN`) when a road layer gives speeds or time factors.
    islands
        What was left out as disconnected.
    source
        Where the network came from (a file name), for messages.
    from_cache
        Whether it was loaded from the built-network cache instead of being built.
    road_report
        What noding a road line layer found (:mod:`planner.sources.road_layers`); None
        for OSM extracts and graphs.
    """

    crs: pyproj.CRS
    node_ids: npt.NDArray[np.int64]
    node_xy: npt.NDArray[np.float64]
    csr: sparse.csr_array
    edges: gpd.GeoDataFrame
    islands: IslandReport
    source: str = ""
    from_cache: bool = False
    road_report: RoadLayerReport | None = None

    @property
    def n_nodes(self) -> int:
        """Number of compiled nodes."""
        return int(self.node_ids.shape[0])

    @property
    def street_m(self) -> float:
        """Total street length in metres, each street counted once.

        On a walking profile's network (:func:`planner.walk.profiles.profile_network`),
        whose ``length_m`` are walking costs, the streets' own ``street_length_m``.
        """
        column = "street_length_m" if "street_length_m" in self.edges.columns else "length_m"
        return float(self.edges[column].sum())

    @cached_property
    def edge_u(self) -> npt.NDArray[np.int32]:
        """``edges.u_idx`` as a read-only array (compiled position of each street's u end)."""
        return _frozen(self.edges["u_idx"].to_numpy(dtype=np.int32))

    @cached_property
    def edge_v(self) -> npt.NDArray[np.int32]:
        """``edges.v_idx`` as a read-only array (compiled position of each street's v end)."""
        return _frozen(self.edges["v_idx"].to_numpy(dtype=np.int32))

    @cached_property
    def edge_length_m(self) -> npt.NDArray[np.float64]:
        """``edges.length_m`` as a read-only array."""
        return _frozen(self.edges["length_m"].to_numpy(dtype=np.float64))

    @cached_property
    def snap_edges(self) -> npt.NDArray[np.int64]:
        """Positions in ``edges`` of the streets points may snap to (tunnels excluded)."""
        return np.flatnonzero(self.edges["snappable"].to_numpy()).astype(np.int64)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index over the geometries of :attr:`snap_edges` (built once)."""
        return shapely.STRtree(self.edges.geometry.to_numpy()[self.snap_edges])

    def to_networkx(self) -> nx.MultiDiGraph:
        """An osmnx-compatible ``MultiDiGraph`` of the network (made anew on each call).

        Projected to :attr:`crs`; every street in both directions with ``length`` (metres),
        ``geometry`` (from ``u`` to ``v``; ``reversed`` on the way back) and its non-empty
        tags; nodes with ``x``/``y``. For GraphML export (``osmnx.save_graphml``) and
        notebooks; the engine never needs it.
        """
        from planner.walk.graph_export import network_to_networkx

        return network_to_networkx(self)


def build_walk_network(
    graph: nx.MultiDiGraph,
    *,
    crs: str | pyproj.CRS | None = None,
    keep_islands: bool = False,
) -> WalkNetwork:
    """Compile an osmnx-compatible street graph into a :class:`WalkNetwork`.

    Parameters
    ----------
    graph
        A MultiDiGraph with node ``x``/``y``, edge ``length`` in metres and optional edge
        ``geometry``, in the CRS given by ``graph.graph["crs"]``. It is not modified.
    crs
        Metric CRS to project to; by default the UTM zone of the graph's centre.
    keep_islands
        Keep every connected part instead of only the largest. Homes snapped to an island
        with no station are then reported as unreachable.

    Returns
    -------
    WalkNetwork
        The projected, two-way, compiled network.

    Raises
    ------
    NetworkBuildError
        If the graph has no walkable street or lacks ``x``/``y``/``length`` attributes.
    """
    from planner.walk.compile import network_from_tables

    return network_from_tables(street_tables_from_graph(graph), crs=crs, keep_islands=keep_islands)


def frozen(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``arr``, made read-only."""
    arr.setflags(write=False)
    return arr


_frozen = frozen
