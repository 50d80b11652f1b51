"""Small hand-checkable inputs shared by the coverage and output tests.

The grid (EPSG:32635, 100 m spacing, every street 100 m long, walkable both ways)::

    6 ---- 7 ---- 8        y = 200
    |      |      |
    3 ---- 4 ---- 5        y = 100
    |      |      |
    0 ---- 1 ---- 2        y = 0
    x = 0  x=100  x=200    (offsets from ORIGIN)

With ``speed_kmh=6`` one minute is exactly 100 m, so walk minutes are metres / 100.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import psutil
import pytest
import shapely

from planner.app.plan import Plan
from planner.config import AnalysisConfig
from planner.errors import OffNetworkWarning
from planner.walk.coverage import CoverageResult, analyze_coverage

UTM = "EPSG:32635"
#: South-west corner of the grid in UTM zone 35N (about 27.0 E, 60.2 N: Finland).
ORIGIN = (500_000.0, 6_675_000.0)
SPACING_M = 100.0
#: 6 km/h is 100 m per minute: walk minutes are metres / 100.
SPEED_KMH = 6.0
#: The ``children`` fixture's call (tests/report/conftest.py): this process' children
#: started during the test.
Children = Callable[[], list[psutil.Process]]


def xy(dx: float, dy: float) -> tuple[float, float]:
    """UTM coordinates of a point given relative to the grid's south-west corner."""
    return ORIGIN[0] + dx, ORIGIN[1] + dy


def grid_streets(*, island: bool = False) -> nx.MultiDiGraph:
    """The 3x3 grid as an osmnx-style MultiDiGraph in UTM, both directions on each street.

    With ``island``, two more nodes (9 at x=1000 and 10 at x=1100, y=0) joined by a 100 m
    street that does not connect to the grid.
    """
    g = nx.MultiDiGraph(crs=UTM)
    for i in range(3):
        for j in range(3):
            x, y = xy(j * SPACING_M, i * SPACING_M)
            g.add_node(3 * i + j, x=x, y=y)
    pairs = [(3 * i + j, 3 * i + j + 1) for i in range(3) for j in range(2)]
    pairs += [(3 * i + j, 3 * (i + 1) + j) for i in range(2) for j in range(3)]
    if island:
        for n, dx in ((9, 1000.0), (10, 1100.0)):
            x, y = xy(dx, 0.0)
            g.add_node(n, x=x, y=y)
        pairs.append((9, 10))
    for u, v in pairs:
        g.add_edge(u, v, length=SPACING_M)
        g.add_edge(v, u, length=SPACING_M)
    return g


def points(
    rows: dict[str, tuple[float, float]], crs: str = UTM, **columns: list
) -> gpd.GeoDataFrame:
    """Points with an ``id`` column from ``{id: (dx, dy)}`` relative to the grid origin."""
    geoms = [shapely.Point(xy(dx, dy)) for dx, dy in rows.values()]
    gdf = gpd.GeoDataFrame({"id": list(rows), **columns}, geometry=geoms, crs=UTM)
    return gdf.to_crs(crs)


#: Station A on street 0-1, 30 m from node 0, 10 m off the street.
#: Station B on street 5-8, 70 m from node 5, 10 m off the street.
GRID_STATIONS = {"A": (30.0, -10.0), "B": (210.0, 170.0)}

#: Homes: position relative to the origin and population.
GRID_HOMES = {
    "H1": ((100.0, 50.0), 10.0),  # street 1-4, 50 m from 1: A 70+50=120; B 170+50=220
    "H2": ((-5.0, 150.0), 20.0),  # street 3-6, 50 m from 3: A 130+50=180; B 230+50=280
    "H3": ((150.0, 205.0), 30.0),  # street 7-8, 50 m from 7: B 30+50=80; A 270+50=320
    "H4": ((205.0, 130.0), 40.0),  # street 5-8 like B: |70-30|=40 directly; A 270+30=300
    "H5": ((10.0, 195.0), 50.0),  # street 6-7, 10 m from 6: B 130+90=220; A 230+10=240
    "H6": ((150.0, 105.0), 60.0),  # street 4-5, 50 m from 4: B 70+50=120; A 170+50=220
    "H7": ((95.0, 80.0), 70.0),  # street 1-4, 80 m from 1: A 70+80=150; B 170+20=190
}


def grid_stations(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Stations A and B, given in ``crs`` (WGS84 by default, the network is in UTM)."""
    return points(GRID_STATIONS, crs, name=["Alpha", "Beta"])


def grid_homes(crs: str = UTM) -> gpd.GeoDataFrame:
    """Homes H1..H7 with their populations, given in ``crs``."""
    return points(
        {k: v[0] for k, v in GRID_HOMES.items()},
        crs,
        population=[v[1] for v in GRID_HOMES.values()],
    )


class _DataParser(HTMLParser):
    """Collects the ``<data>`` elements of a report page: attributes and visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "data":
            self._open = {k: v or "" for k, v in attrs}
            self._open["text"] = ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "data" and self._open is not None:
            self.items.append(self._open)
            self._open = None


def report_numbers(page: str) -> list[dict[str, str]]:
    """Every ``<data>`` element of a report page as a dict of its attributes plus ``text``."""
    parser = _DataParser()
    parser.feed(page)
    return parser.items


def summary_value(summary: dict, key: str) -> object:
    """A value of ``summary.json`` by the report's ``data-key`` path (``a/b`` for nested)."""
    value: object = summary
    for part in key.split("/"):
        value = value[int(part)] if isinstance(value, list) else value[part]  # type: ignore[index]
    return value


def check_report_numbers(page: str, summary: dict, *, source: str | None = None) -> int:
    """Assert every number of ``source`` in the page equals ``summary`` and reads as formatted.

    Returns how many numbers were checked.
    """
    import math

    from planner.report.page import FORMATS, MISSING

    checked = 0
    for item in report_numbers(page):
        if item.get("data-source") != source or "data-key" not in item:
            continue
        expected = summary_value(summary, item["data-key"])
        if item["value"] == "":
            assert expected is None, item
        else:
            value = float(item["value"])
            assert isinstance(expected, int | float), item
            assert math.isclose(value, float(expected), rel_tol=1e-12, abs_tol=1e-9), item
            assert item["text"] == FORMATS[item["data-format"]](value), item
        if item["value"] == "" and item["text"] != MISSING:
            assert item["text"], item
        checked += 1
    return checked


# ---------------------------------------------------------------- output folders

#: Settings of the grid run written by ``tests/report/conftest.py`` (``result``, ``written``).
RUN_CONFIG = AnalysisConfig(
    walk_minutes=2.0, speed_kmh=SPEED_KMH, band_minutes=(1.0,), max_snap_m=50
)
REJECTED = pd.DataFrame(
    {
        "row": [2, 5],
        "column": ["lon", "纬度"],
        "value": ["abc", "-91"],
        "reason": ["not a number", "outside -90..90 (WGS84 degrees expected)"],
    }
)


def read_summary(folder: Path) -> dict:
    def no_constants(name: str) -> None:
        raise AssertionError(f"summary.json holds {name}, which is not JSON")

    return json.loads((folder / "summary.json").read_text("utf-8"), parse_constant=no_constants)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name)


#: Text cells that a spreadsheet program would run as formulas.
HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tx",
    "\r=1",
]


# ------------------------------------------------------------------- app plans


STATION_LAYER_COLUMNS = ["id", "homes_served", "population_served", "population_only_here"]
DEMAND_LAYER_COLUMNS = [
    "walk_min",
    "nearest_station",
    "covered",
    "stations_within",
    "status",
    "snap_m",
]


def full(plan: Plan) -> CoverageResult:
    """The reference: a full analysis of the plan's stations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OffNetworkWarning)
        return analyze_coverage(
            plan.area.network, plan.stations, plan.area.demand, config=plan.config
        )


def assert_same_as_full(plan: Plan, *, polygons: bool = True) -> None:
    ref, got = full(plan), plan.result
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.stations[STATION_LAYER_COLUMNS]),
        pd.DataFrame(ref.stations[STATION_LAYER_COLUMNS]),
        check_exact=False,
        rtol=1e-9,
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.demand[DEMAND_LAYER_COLUMNS]),
        pd.DataFrame(ref.demand[DEMAND_LAYER_COLUMNS]),
        check_exact=False,
        rtol=1e-9,
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.gaps.drop(columns="geometry")),
        pd.DataFrame(ref.gaps.drop(columns="geometry")),
        check_exact=False,
        rtol=1e-9,
    )
    a, b = got.summary(), ref.summary()
    for key in b:
        if isinstance(b[key], float):
            assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-9), key
        else:
            assert a[key] == b[key], key
    assert plan.share_covered == pytest.approx(ref.share_covered, rel=1e-12)
    if polygons:
        crs = plan.area.network.crs
        area_got = got.coverage_area.to_crs(crs).area.to_numpy()
        area_ref = ref.coverage_area.to_crs(crs).area.to_numpy()
        # The union of the stations' own bands against the one-pass bands: pieces are
        # simplified (1 m) as each station reaches them, so outlines agree to within
        # centimetres on average, areas to 0.01 %.
        np.testing.assert_allclose(area_got, area_ref, rtol=1e-4, atol=1.0)
        iso_got = got.isochrones.to_crs(crs)
        iso_ref = ref.isochrones.to_crs(crs)
        assert list(iso_got["station_id"]) == list(iso_ref["station_id"])
        np.testing.assert_allclose(iso_got.area, iso_ref.area, rtol=1e-9, atol=1e-6)


def output_of_new_process(script: str) -> str:
    """What ``script`` (dedented) prints when run by a new Python process of this checkout.

    For what must hold across processes (caches read back by another run); the process
    fails the test when it fails, with its error output.
    """
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def count_calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    """Wrap ``module.name`` so that each call (passed through) appends to the returned list.

    For caches: how many times the costly function behind them really ran.
    """
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


#: Bounds of the bundled Helsinki extract's homes, a little widened (WGS84).
HELSINKI_BOUNDS = (24.935, 60.164, 24.9534, 60.1791)


def helsinki_quadrants() -> list[shapely.Polygon]:
    """The bundled Helsinki extract in four quadrants sharing their borders: SW, SE, NW, NE."""
    west, south, east, north = HELSINKI_BOUNDS
    mid_x, mid_y = (west + east) / 2, (south + north) / 2
    return [
        shapely.box(west, south, mid_x, mid_y),
        shapely.box(mid_x, south, east, mid_y),
        shapely.box(west, mid_y, mid_x, north),
        shapely.box(mid_x, mid_y, east, north),
    ]
