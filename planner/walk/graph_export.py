"""A :class:`~planner.walk.network.WalkNetwork` as an osmnx-compatible ``networkx`` graph.

Made only on request (:meth:`WalkNetwork.to_networkx`): for GraphML export with
``osmnx.save_graphml`` and for notebooks. The engine works on the arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shapely

from planner.sources.street_tables import PROFILE_TAGS

if TYPE_CHECKING:
    import networkx as nx

    from planner.walk.network import WalkNetwork


def network_to_networkx(network: WalkNetwork) -> nx.MultiDiGraph:
    """Every street of ``network`` in both directions, nodes with projected ``x``/``y``.

    See :meth:`planner.walk.network.WalkNetwork.to_networkx`.
    """
    import networkx as nx  # imported when a graph is asked for: a run does not need it

    graph = nx.MultiDiGraph(crs=network.crs.to_string(), source=network.source)
    xy = network.node_xy
    graph.add_nodes_from(
        (int(n), {"x": float(x), "y": float(y)})
        for n, (x, y) in zip(network.node_ids, xy, strict=True)
    )
    edges = network.edges
    us = edges["u"].to_numpy()
    vs = edges["v"].to_numpy()
    lengths = edges["length_m"].to_numpy(dtype=float)
    geoms = edges.geometry.to_numpy()
    back = shapely.reverse(geoms)
    tunnel = ~edges["snappable"].to_numpy(dtype=bool)
    tag_cols = [t for t in PROFILE_TAGS if t in edges.columns]
    tag_values = {t: edges[t].to_numpy() for t in tag_cols}
    for i in range(len(edges)):
        data: dict[str, object] = {"length": float(lengths[i])}
        for tag in tag_cols:
            value = tag_values[tag][i]
            if isinstance(value, str) and value:
                data[tag] = value
        if tunnel[i]:
            data["tunnel"] = "yes"
        u, v = int(us[i]), int(vs[i])
        graph.add_edge(u, v, geometry=geoms[i], reversed=False, **data)
        if u != v:
            graph.add_edge(v, u, geometry=back[i], reversed=True, **data)
    return graph
