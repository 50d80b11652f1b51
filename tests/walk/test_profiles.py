"""Walking profiles: speeds, forbidden ways, slower ways, on hand-made networks and Helsinki."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from helpers import UTM, points, xy

from planner.config import AnalysisConfig
from planner.errors import InputDataError, InputFileNotFoundError
from planner.walk.access import nearest_station_distances, snap_points
from planner.walk.categories import analyze_circles
from planner.walk.network import build_walk_network
from planner.walk.profiles import (
    BUILTIN_PROFILES,
    WalkProfile,
    profile_from_file,
    profile_network,
    walk_profile,
    walk_profiles,
)

# A flight of steps (0-1, 60 m) is the only short way from the station at node 0 to the
# home on street 1-3; the way round (0-2-3-1) is 600 + 60 + 600 m::
#
#     2 ---------- 3      y = 600
#     |            |
#     |            |
#     0 == steps = 1      y = 0
#     x = 0        x = 60
STEPS = {0: (0.0, 0.0), 1: (60.0, 0.0), 2: (0.0, 600.0), 3: (60.0, 600.0)}


def steps_graph(*, extra: dict[tuple[int, int], dict[str, str]] | None = None) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(crs=UTM)
    for n, (dx, dy) in STEPS.items():
        x, y = xy(dx, dy)
        g.add_node(n, x=x, y=y)
    ways = {(0, 1): {"highway": "steps"}, (0, 2): {}, (2, 3): {}, (3, 1): {}}
    for (u, v), tags in ways.items():
        (ux, uy), (vx, vy) = STEPS[u], STEPS[v]
        attrs = {"highway": "footway", **tags, **(extra or {}).get((u, v), {})}
        length = float(np.hypot(vx - ux, vy - uy))
        g.add_edge(u, v, length=length, **attrs)
        g.add_edge(v, u, length=length, **attrs)
    return g


STATION = points({"S": (0.0, -5.0)})  # on the steps, at node 0
HOME = points({"H": (65.0, 30.0)}, population=[100.0])  # street 1-3, 30 m from node 1


def test_steps_only_short_way_wheelchair_loses_adult_keeps() -> None:
    network = build_walk_network(steps_graph())
    cfg = AnalysisConfig(walk_minutes=15.0)
    adult = analyze_circles(network, STATION, HOME, config=cfg, profile="adult")
    wheel = analyze_circles(network, STATION, HOME, config=cfg, profile="wheelchair")
    elderly = analyze_circles(network, STATION, HOME, config=cfg, profile="elderly")
    # adult: 60 m of steps + 30 m at 75 m/min
    assert adult.result.demand["walk_min"].iloc[0] == pytest.approx(90.0 / 75.0)
    assert adult.result.share_covered == 1.0
    # wheelchair: no steps, round the block: 600 + 60 + 570 m at 60 m/min = 20.5 min > 15
    assert wheel.result.demand["walk_min"].iloc[0] == pytest.approx(1230.0 / 60.0)
    assert wheel.result.share_covered == 0.0
    # elderly: the steps take twice as long: (120 + 30) m at 3.5 km/h
    assert elderly.result.demand["walk_min"].iloc[0] == pytest.approx(150.0 / (3500.0 / 60.0))
    assert elderly.result.share_covered == 1.0
    assert wheel.summary()["profile"]["speed_kmh"] == 3.6
    assert wheel.result.config.speed_kmh == 3.6


def test_plain_profile_is_the_network_itself() -> None:
    network = build_walk_network(steps_graph())
    assert profile_network(network, BUILTIN_PROFILES["adult"]) is network
    fast = WalkProfile("fast", 6.0)
    assert profile_network(network, fast) is network


def test_costs_forbidden_inclines_and_kerbs() -> None:
    extra = {
        (0, 2): {"incline": "10%", "surface": "gravel"},
        (2, 3): {"kerb": "rolled", "surface": "asphalt;gravel"},
        (3, 1): {"incline": "4°"},
    }
    network = build_walk_network(steps_graph(extra=extra))
    wheel = profile_network(network, BUILTIN_PROFILES["wheelchair"])
    by_ends = {
        tuple(sorted((int(r.u), int(r.v)))): (r.length_m, r.street_length_m)
        for r in wheel.edges.itertuples()
    }
    # steps and the 10 % slope are gone; 4 degrees is 6.99 %, kept
    assert set(by_ends) == {(2, 3), (1, 3)}
    # kerb=rolled: 10 s at 1 m/s; surface gravel in a merged chain: x1.5
    assert by_ends[(2, 3)] == pytest.approx((60.0 * 1.5 + 10.0, 60.0))
    assert by_ends[(1, 3)] == pytest.approx((600.0, 600.0))
    assert wheel.street_m == pytest.approx(660.0)
    assert network.street_m == pytest.approx(1320.0)
    # the CSR follows the costs, and nodes 0 and 2 are cut off
    snapped = snap_points(
        wheel, gpd.GeoSeries([shapely.Point(xy(60.0, 300.0))], crs=UTM), max_snap_m=50.0
    )
    dist = nearest_station_distances(wheel, snapped).dist_m
    order = {int(n): i for i, n in enumerate(wheel.node_ids)}
    assert dist[order[3]] == pytest.approx(300.0)
    assert dist[order[2]] == pytest.approx(400.0)
    assert np.isinf(dist[order[0]])


def test_profile_network_matches_networkx_on_helsinki(helsinki_network) -> None:
    """Wheelchair costs against networkx Dijkstra on a graph built edge by edge."""
    wheel = profile_network(helsinki_network, BUILTIN_PROFILES["wheelchair"])
    steps = (helsinki_network.edges["highway"] == "steps").sum()
    assert steps > 0
    assert len(wheel.edges) == len(helsinki_network.edges) - int(
        (~_allowed(helsinki_network.edges)).sum()
    )
    g = nx.Graph()
    slow = {"gravel", "unpaved", "dirt", "grass", "sand", "ground", "fine_gravel"}
    for r in helsinki_network.edges[_allowed(helsinki_network.edges)].itertuples():
        w = r.length_m * (1.5 if slow & set(r.surface.split(";")) else 1.0)
        w += 10.0 if "rolled" in r.kerb.split(";") else 0.0
        a, b = int(r.u_idx), int(r.v_idx)
        if a != b and (not g.has_edge(a, b) or g[a][b]["w"] > w):
            g.add_edge(a, b, w=w)
    src = int(wheel.edges["u_idx"].iloc[0])
    ref = nx.single_source_dijkstra_path_length(g, src, weight="w")
    from scipy.sparse import csgraph

    ours = csgraph.dijkstra(wheel.csr, indices=src)
    got = np.array([ours[n] for n in ref])
    assert np.allclose(got, list(ref.values()), atol=1e-6)
    assert np.isinf(ours[[n for n in range(wheel.n_nodes) if n not in ref]]).all()


def _allowed(edges: gpd.GeoDataFrame) -> np.ndarray:
    parts = {t: edges[t].astype(str).str.split(";") for t in ("highway", "wheelchair", "kerb")}
    bad = (
        parts["highway"].apply(lambda p: "steps" in p)
        | parts["wheelchair"].apply(lambda p: "no" in p)
        | parts["kerb"].apply(lambda p: "raised" in p)
    )
    steep = (
        edges["incline"]
        .astype(str)
        .apply(
            lambda t: any(
                p.strip().endswith("%") and abs(float(p.strip()[:-1])) > 8 for p in t.split(";")
            )
        )
    )
    return ~(bad | steep).to_numpy()


def test_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "pushchair.toml"
    path.write_text(
        'speed_kmh = 4.0\nforbid = ["highway=steps"]\n[penalty_s]\n"kerb=raised" = 15\n'
    )
    prof = profile_from_file(path)
    assert prof == WalkProfile(
        "pushchair", 4.0, forbid=("highway=steps",), penalty_s={"kerb=raised": 15}
    )
    assert walk_profile(str(path)).name == "pushchair"
    assert [p.name for p in walk_profiles("adult, wheelchair")] == ["adult", "wheelchair"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("speed = 4", "unknown key(s) 'speed'"),
        ("name = 'x'", "has no speed_kmh"),
        ("speed_kmh = 0", "speed_kmh must be a number more than 0"),
        ("speed_kmh = 45", "at most 20"),
        ("speed_kmh = 'fast'", "speed_kmh must be a number"),
        ('speed_kmh = 4\nforbid = ["steps"]', 'must be "tag=value"'),
        ('speed_kmh = 4\nforbid = ["colour=red"]', "names no known tag"),
        ('speed_kmh = 4\n[time_factor]\n"highway=steps" = 0.5', "at least 1"),
        ("speed_kmh = 4\nmax_incline_percent = -1", "max_incline_percent"),
        ("speed_kmh = = 4", "not a valid TOML"),
    ],
)
def test_profile_file_errors_name_file_and_key(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(InputDataError) as err:
        profile_from_file(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_unknown_profiles() -> None:
    with pytest.raises(InputDataError, match="Unknown walking profile 'runner'"):
        walk_profile("runner")
    with pytest.raises(InputFileNotFoundError, match="not found"):
        walk_profile("/nonexistent/p.toml")
    with pytest.raises(InputDataError, match="given twice"):
        walk_profiles("adult,adult")
    with pytest.raises(InputDataError, match="No walking profile"):
        walk_profiles(" , ")
