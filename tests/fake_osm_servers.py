"""Fake Nominatim and Overpass servers for offline tests of the osmnx downloads.

The Overpass fake answers like the real server from the bundled Kotka extract: it parses
the ``poly:"lat lon ..."`` of osmnx's query, applies the walking filter (pyrosm's, which
follows osmnx's ``walk`` filter) and returns every walkable way with a node inside the
polygon, plus all of those ways' nodes (``(way...;>;);out;``). References to nodes that
the clipped extract lacks are left out of the ways, as a server with the full planet
would have them.

Everything goes through ``responses``, which intercepts ``requests`` before any socket is
opened; :func:`no_sockets` also makes any real connection attempt fail loudly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np
import osmium
import pyrosm
import responses
import shapely
from pyrosm.config.osm_filters import walking_filter

from planner.sources.osmium import _excluded

KOTKA = Path(pyrosm.get_data("test_pbf"))
OVERPASS = "https://overpass-api.de/api"
NOMINATIM = "https://nominatim.openstreetmap.org"
#: The part of Kotka the fake Nominatim returns for the place "Kotka test area".
KOTKA_AREA = (26.930, 60.515, 26.955, 60.532)
STATUS_TEXT = (
    "Connected as: 1\nCurrent time: 2024-01-01T00:00:00Z\nAnnounced endpoint: none\n"
    "Rate limit: 2\n2 slots available now.\nCurrently running queries (pid, space limit, "
    "time limit, start time):\n"
)


@dataclass
class KotkaOSM:
    """Kotka's walkable ways and their nodes, as Overpass JSON elements."""

    nodes: dict[int, dict[str, Any]] = field(default_factory=dict)
    ways: list[dict[str, Any]] = field(default_factory=list)
    buildings: list[dict[str, Any]] = field(default_factory=list)


@cache
def kotka_osm() -> KotkaOSM:
    out = KotkaOSM()
    rules = walking_filter()
    for obj in osmium.FileProcessor(str(KOTKA)).with_locations():
        if isinstance(obj, osmium.osm.Node):
            out.nodes[obj.id] = {
                "type": "node",
                "id": obj.id,
                "lat": obj.location.lat,
                "lon": obj.location.lon,
                **({"tags": {t.k: t.v for t in obj.tags}} if len(obj.tags) else {}),
            }
        elif isinstance(obj, osmium.osm.Way):
            tags = {t.k: t.v for t in obj.tags}
            refs = [n.ref for n in obj.nodes]
            if "building" in tags and all(n.location.valid() for n in obj.nodes):
                out.buildings.append({"type": "way", "id": obj.id, "nodes": refs, "tags": tags})
            if "highway" not in tags or _excluded(tags, rules):
                continue
            refs = [n.ref for n in obj.nodes if n.location.valid()]
            if len(refs) >= 2:
                out.ways.append({"type": "way", "id": obj.id, "nodes": refs, "tags": tags})
    return out


def overpass_answer(query: str) -> dict[str, Any]:
    """The elements Overpass would return for osmnx's query ``query``.

    A query for ``'building'`` features gets the building ways (relations left out), any
    other query the walkable ways.
    """
    match = re.search(r'poly:"([^"]+)"', query) or re.search(r"poly:'([^']+)'", query)
    assert match, query
    numbers = [float(v) for v in match.group(1).split()]
    poly = shapely.Polygon(list(zip(numbers[1::2], numbers[0::2], strict=True)))
    osm = kotka_osm()
    ways = []
    for way in osm.buildings if "'building'" in query else osm.ways:
        xy = np.array([(osm.nodes[n]["lon"], osm.nodes[n]["lat"]) for n in way["nodes"]])
        if shapely.contains_xy(poly, xy[:, 0], xy[:, 1]).any():
            ways.append(way)
    node_ids = sorted({n for way in ways for n in way["nodes"]})
    elements = [osm.nodes[n] for n in node_ids] + ways
    return {"version": 0.6, "generator": "fake Overpass (Kotka extract)", "elements": elements}


def nominatim_answer(query: str) -> list[dict[str, Any]]:
    """Nominatim's answer: the Kotka test area for its name, nothing for other names."""
    if query.strip().lower() != "kotka test area":
        return []
    west, south, east, north = KOTKA_AREA
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return [
        {
            "place_id": 1,
            "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
            "osm_type": "relation",
            "osm_id": 1,
            "lat": str((south + north) / 2),
            "lon": str((west + east) / 2),
            "class": "boundary",
            "type": "administrative",
            "place_rank": 16,
            "importance": 0.5,
            "addresstype": "city",
            "name": "Kotka test area",
            "display_name": "Kotka test area, Finland",
            "boundingbox": [str(south), str(north), str(west), str(east)],
            "geojson": {"type": "Polygon", "coordinates": [ring]},
        }
    ]


@dataclass
class FakeServers:
    """The registered fakes and the requests they received."""

    mock: responses.RequestsMock

    @property
    def calls(self) -> list[str]:
        return [f"{c.request.method} {c.request.url}" for c in self.mock.calls]

    def count(self, fragment: str) -> int:
        return sum(fragment in call for call in self.calls)


def overpass_callback(request: Any) -> tuple[int, dict[str, str], str]:
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    query = parse_qs(body)["data"][0]
    return 200, {"Content-Type": "application/json"}, json.dumps(overpass_answer(query))


def nominatim_callback(request: Any) -> tuple[int, dict[str, str], str]:
    params = parse_qs(request.url.split("?", 1)[1])
    answer = nominatim_answer(params["q"][0])
    return 200, {"Content-Type": "application/json"}, json.dumps(answer)
