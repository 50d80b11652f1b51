"""Tests of siting.models: hand-checked answers on a straight street, then Helsinki.

The street (EPSG:32635, nodes 0..6 at x = 0, 100, ..., 600 m, every street 100 m), plus a
separate island street at x = 1000..1100::

    a       b       e       c       d           (homes, 5 m off the street; e 1 m off)
    0 - 1 - 2 - 3 - 4 - 5 - 6       10 - 11     (g on the island)
    C0  C1  C2  C3  C4  C5  C6                  (candidates on the nodes)

Homes: a (x=0, 5 people), b (200, 5), e (300, 1), c (400, 5), d (600, 5), g (island, 3) and
f (3 km away, off the network, 7). At 6 km/h and 1.1 minutes the limit is 110 m, so
candidate Ci covers the homes within 110 m of x = 100 i:

    C0 {a}   C1 {a, b}   C2 {b, e}   C3 {b, e, c}   C4 {e, c}   C5 {c, d}   C6 {d}

Greedy's trap: with k = 2 greedy takes C3 (11 people), then C0 (+5, the lowest index of
C0/C1/C5): 16, and no single swap improves it. The optimum is C1 + C5: 20.
"""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from helpers import SPEED_KMH, UTM

from planner.config import AnalysisConfig
from planner.errors import InputDataError, OffNetworkWarning
from planner.siting import models as models_module
from planner.siting.candidates import candidates_from_gaps
from planner.siting.covering import Solution
from planner.siting.models import (
    REASON_NO_SITE,
    REASON_OFF_NETWORK,
    SitingProblem,
    maximal_covering,
    relocation,
    set_covering,
    siting_problem,
    suggest_sites,
)
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network

X0, Y0 = 500_000.0, 6_675_000.0
LINE_CONFIG = AnalysisConfig(walk_minutes=1.1, speed_kmh=SPEED_KMH, max_snap_m=50.0)
PULP_V4 = "ignore:.*PuLP 4.0:DeprecationWarning"


def pts(rows: dict[str, tuple[float, float]], **columns: list[float]) -> gpd.GeoDataFrame:
    geoms = [shapely.Point(X0 + x, Y0 + y) for x, y in rows.values()]
    return gpd.GeoDataFrame({"id": list(rows), **columns}, geometry=geoms, crs=UTM)


@pytest.fixture(scope="module")
def line() -> WalkNetwork:
    g = nx.MultiDiGraph(crs=UTM)
    for i in range(7):
        g.add_node(i, x=X0 + 100.0 * i, y=Y0)
    for i in range(6):
        g.add_edge(i, i + 1, length=100.0)
        g.add_edge(i + 1, i, length=100.0)
    g.add_node(10, x=X0 + 1000.0, y=Y0)
    g.add_node(11, x=X0 + 1100.0, y=Y0)
    g.add_edge(10, 11, length=100.0)
    g.add_edge(11, 10, length=100.0)
    return build_walk_network(g, keep_islands=True)


def homes() -> gpd.GeoDataFrame:
    return pts(
        {
            "a": (0, 5),
            "b": (200, 5),
            "c": (400, 5),
            "d": (600, 5),
            "e": (300, 1),
            "f": (3000, 0),
            "g": (1050, 5),
        },
        population=[5.0, 5.0, 5.0, 5.0, 1.0, 7.0, 3.0],
    )


def candidates() -> gpd.GeoDataFrame:
    return pts({f"C{i}": (100.0 * i, 0.0) for i in range(7)})


def no_stations() -> gpd.GeoDataFrame:
    return pts({})


@pytest.fixture(scope="module")
def problem(line: WalkNetwork) -> SitingProblem:
    return siting_problem(line, no_stations(), homes(), candidates(), config=LINE_CONFIG)


def test_coverage_relation_by_hand(problem: SitingProblem) -> None:
    ids = problem.demand["id"].tolist()
    reach = {
        f"C{j}": sorted(ids[i] for i in problem.candidate_reach[[j]].indices) for j in range(7)
    }
    assert reach == {
        "C0": ["a"],
        "C1": ["a", "b"],
        "C2": ["b", "e"],
        "C3": ["b", "c", "e"],
        "C4": ["c", "e"],
        "C5": ["c", "d"],
        "C6": ["d"],
    }
    assert problem.candidate_reach[[1]].toarray()[0, :2].tolist() == pytest.approx([100, 100])
    assert problem.station_reach.shape == (0, 7)
    assert problem.demand["on_network"].tolist() == [True] * 5 + [False, True]


def test_greedy_trap_reported_with_its_gap(problem: SitingProblem) -> None:
    greedy = maximal_covering(problem, 2)
    exact = maximal_covering(problem, 2, method="exact")

    assert greedy.sites["id"].tolist() == ["C3", "C0"]
    assert greedy.sites["rank"].tolist() == [1, 2]
    assert greedy.sites["population_added"].tolist() == [11.0, 5.0]
    assert greedy.sites["population_cumulative"].tolist() == [11.0, 16.0]
    assert greedy.objective == 16.0
    assert greedy.population_covered_after == 16.0
    assert greedy.status == "heuristic"
    assert greedy.bound >= 20.0  # the optimum, which greedy did not find, is within its bound
    assert greedy.gap == pytest.approx((greedy.bound - 16.0) / greedy.bound)
    with_lp = maximal_covering(problem, 2, lp_bound=True)
    assert with_lp.sites["id"].tolist() == ["C3", "C0"]
    assert 20.0 <= with_lp.bound <= greedy.bound
    assert with_lp.detail["greedy_online_bound"] == greedy.bound

    assert sorted(exact.sites["id"]) == ["C1", "C5"]
    assert exact.objective == 20.0
    assert exact.status == "optimal"
    assert exact.gap == pytest.approx(0.0, abs=1e-6)
    assert exact.population_total == 31.0
    assert exact.population_covered_before == 0.0
    assert exact.share_after == pytest.approx(20 / 31)
    d = exact.demand.set_index("id")
    assert d["covered_after"].to_dict() == {
        "a": True,
        "b": True,
        "c": True,
        "d": True,
        "e": False,
        "f": False,
        "g": False,
    }
    assert d.loc["a", "new_site"] == "C1"
    assert d.loc["a", "walk_min_new_site"] == pytest.approx(1.0)
    assert d.loc["d", "new_site"] == "C5"


def test_existing_stations_stay_and_count(line: WalkNetwork) -> None:
    # A station at x = 0 serves a: one new site should take b, e, c (C3, 11 people).
    stations = pts({"S": (0.0, 0.0)})
    p = siting_problem(line, stations, homes(), candidates(), config=LINE_CONFIG)

    for method in ("greedy", "exact"):
        r = maximal_covering(p, 1, method=method)
        assert r.sites["id"].tolist() == ["C3"]
        assert r.population_covered_before == 5.0
        assert r.population_covered_after == 16.0
        assert r.objective == 16.0
        assert r.sites["population_only_here"].tolist() == [11.0]


def test_set_covering_reports_homes_nobody_can_reach(problem: SitingProblem) -> None:
    # a needs C0/C1, d needs C5/C6, e needs C2/C3/C4: three sites; f and g stay unserved.
    for method in ("greedy", "exact"):
        r = set_covering(problem, method=method)
        assert r.objective == 3.0
        assert r.bound == 3.0
        assert len(r.sites) == 3
        assert r.population_covered_after == 21.0
        u = r.unreachable.set_index("id")
        assert u["reason"].to_dict() == {"f": REASON_OFF_NETWORK, "g": REASON_NO_SITE}
        assert u["population"].to_dict() == {"f": 7.0, "g": 3.0}
        assert r.summary()["unreachable_population"] == 10.0


@pytest.mark.parametrize(("k", "served"), [(1, 8.0), (2, 16.0), (3, 21.0)])
def test_capacity_is_respected(problem: SitingProblem, k: int, served: float) -> None:
    # 8 people per station: one site serves 8 of its 10-11; two disjoint ones 16; three
    # (C1, C3/C4, C5) all 21 reachable people.
    for method in ("greedy", "exact"):
        r = maximal_covering(problem, k, method=method, capacity=8.0)
        assert r.population_covered_after == pytest.approx(served)
        assert r.capacity == 8.0
        assert (r.sites["population_added"] <= 8.0 + 1e-6).all()
        assert r.sites["population_cumulative"].isna().all()  # loads move between stations
        share = r.demand["served_share_after"].to_numpy()
        assert float(share @ problem.population) == pytest.approx(served)
        if method == "exact":
            assert r.status == "optimal"


def test_capacitated_set_covering(line: WalkNetwork) -> None:
    # Stations at x = 100 and 200 serve a, b, e (11 people, capacity 8 each). With capacity
    # 8, c and d (10 people) need C5 and one more site (C3/C4/C6) for the last 2.
    stations = pts({"S1": (100.0, 0.0), "S2": (200.0, 0.0)})
    p = siting_problem(line, stations, homes(), candidates(), config=LINE_CONFIG)

    r = set_covering(p, method="exact", capacity=8.0)

    assert r.status == "optimal"
    assert r.objective == 2.0
    assert r.population_covered_before == pytest.approx(11.0)
    assert r.population_covered_after == pytest.approx(21.0)
    with pytest.raises(InputDataError, match="method='exact'"):
        set_covering(p, capacity=8.0)


def test_relocation_by_hand(line: WalkNetwork) -> None:
    # S1 (x=100) serves a, b; S2 (x=200) serves b, e. Only S1 serves a (5), only S2 e (1).
    # Moving S2 to C5 (300 m away) loses e and gains c, d: +9. Moving S1 to C5 (400 m):
    # loses a, gains c, d: +5.
    stations = pts({"S1": (100.0, 0.0), "S2": (200.0, 0.0)}, name=[1.0, 2.0])
    p = siting_problem(line, stations, homes(), candidates(), config=LINE_CONFIG)

    r = relocation(line, p, move_within_m=400.0)

    t = r.stations.set_index("id")
    assert list(t.index) == ["S2", "S1"]  # fewest people only here first
    assert t["population_served"].to_dict() == {"S2": 6.0, "S1": 10.0}
    assert t["population_only_here"].to_dict() == {"S2": 1.0, "S1": 5.0}
    assert t["best_site"].tolist() == ["C5", "C5"]
    assert t["move_m"].tolist() == pytest.approx([300.0, 400.0])
    assert t["population_gain"].to_dict() == {"S2": 9.0, "S1": 5.0}
    assert r.population_covered == 11.0
    assert t["population_after_move"].to_dict() == {"S2": 20.0, "S1": 16.0}
    assert t["name"].tolist() == [2.0, 1.0]  # input columns kept
    # Within 150 m S2 can only reach C1..C3: C3 keeps e and adds c: +5.
    near = relocation(line, p, move_within_m=150.0).stations.set_index("id")
    assert near.loc["S2", "best_site"] == "C3"
    assert near.loc["S2", "population_gain"] == 5.0


def test_inputs_are_not_modified_and_results_are_frozen(line: WalkNetwork) -> None:
    h, c, s = homes(), candidates(), pts({"S": (0.0, 0.0)})
    before = (h.copy(), c.copy(), s.copy())

    p = siting_problem(line, s, h, c, config=LINE_CONFIG)
    r = maximal_covering(p, 2, method="exact")

    for original, kept in zip((h, c, s), before, strict=True):
        assert_geodataframe_equal(original, kept)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.objective = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.config = LINE_CONFIG  # type: ignore[misc]


def test_bad_arguments_are_refused(problem: SitingProblem) -> None:
    with pytest.raises(InputDataError, match="k must be"):
        maximal_covering(problem, 0)
    with pytest.raises(InputDataError, match="method"):
        maximal_covering(problem, 1, method="fast")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="capacity"):
        maximal_covering(problem, 1, capacity=-3.0)


def test_off_network_candidates_are_reported(line: WalkNetwork) -> None:
    far = pts({"C0": (0.0, 0.0), "far": (0.0, 900.0)})
    with pytest.warns(OffNetworkWarning, match="1 candidate sites"):
        p = siting_problem(line, no_stations(), homes(), far, config=LINE_CONFIG)

    r = maximal_covering(p, 2)

    assert r.candidates_total == 2
    assert r.candidates_on_network == 1
    assert r.sites["id"].tolist() == ["C0"]  # the other adds nobody: one site only


def test_summary_is_json(problem: SitingProblem) -> None:
    s = maximal_covering(problem, 2, method="exact").summary()

    text = json.dumps(s, allow_nan=False)
    assert json.loads(text)["sites"][0]["rank"] == 1
    assert s["model"] == "maximal_covering"
    assert s["population_added"] == 20.0
    assert {"bound", "gap", "status", "guarantee", "solve_s"} <= set(s)


# ------------------------------------------------------------------------- Helsinki


@pytest.fixture(scope="module")
def helsinki_result(helsinki_network: WalkNetwork) -> CoverageResult:
    from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm

    path = demo_extract_path()
    cfg = AnalysisConfig(walk_minutes=5.0, max_isochrone_stations=0)
    return analyze_coverage(
        helsinki_network, stations_from_osm(path), homes_from_osm(path), config=cfg
    )


def test_same_engine_as_the_coverage_analysis(
    helsinki_network: WalkNetwork, helsinki_result: CoverageResult
) -> None:
    cands = candidates_from_gaps(helsinki_network, helsinki_result)
    p = siting_problem(
        helsinki_network,
        helsinki_result.stations[["id", "geometry"]],
        helsinki_result.demand[["id", "population", "geometry"]],
        cands,
        config=helsinki_result.config,
    )

    np.testing.assert_array_equal(p.covered_before, helsinki_result.demand["covered"])
    counts = np.bincount(p.station_reach.indices, minlength=len(p.demand))
    np.testing.assert_array_equal(counts, helsinki_result.demand["stations_within"])


@pytest.mark.filterwarnings(PULP_V4)
def test_helsinki_same_optimum_as_spopt(
    helsinki_network: WalkNetwork, helsinki_result: CoverageResult
) -> None:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    cands = candidates_from_gaps(helsinki_network, helsinki_result, spacing_m=100.0)
    cands = cands.iloc[::3].reset_index(drop=True)  # small enough for CBC in a second
    p = siting_problem(
        helsinki_network,
        helsinki_result.stations[["id", "geometry"]],
        helsinki_result.demand[["id", "population", "geometry"]],
        cands,
        config=helsinki_result.config,
    )
    n_st = len(p.stations)
    # The same matrix for spopt: homes x (stations, candidates), walk metres, inf = beyond.
    reach = np.vstack([p.station_reach.toarray(), p.candidate_reach.toarray()]).T
    cost = np.where(reach > 0, reach, 1e9)
    limit = p.config.walk_limit_m
    fixed = np.r_[np.ones(n_st), np.zeros(len(cands))].astype(int)
    assert 20 <= len(cands) <= 80
    for k in (2, 4):
        spopt = locate.MCLP.from_cost_matrix(
            cost,
            p.population,
            service_radius=limit,
            p_facilities=n_st + k,
            predefined_facilities_arr=fixed,
        ).solve(pulp.PULP_CBC_CMD(msg=False))
        optimum = float(pulp.value(spopt.problem.objective))

        exact = maximal_covering(p, k, method="exact")
        greedy = maximal_covering(p, k)

        assert exact.population_covered_after == pytest.approx(optimum, rel=1e-9)
        assert greedy.population_covered_after <= optimum * (1 + 1e-9)
        assert optimum <= greedy.bound * (1 + 1e-9)

    rows = p.reachable & (p.population > 0)
    lscp = locate.LSCP.from_cost_matrix(
        cost[rows], service_radius=limit, predefined_facilities_arr=fixed
    ).solve(pulp.PULP_CBC_CMD(msg=False))
    sc = set_covering(p, method="exact")
    assert sc.objective + n_st == pytest.approx(pulp.value(lscp.problem.objective))


def test_suggest_sites_on_the_demo_closes_gaps(
    helsinki_network: WalkNetwork, helsinki_result: CoverageResult
) -> None:
    r = suggest_sites(helsinki_network, helsinki_result, k=3)  # its speed: bench_siting.py

    assert len(r.sites) == 3
    assert r.population_covered_before == pytest.approx(helsinki_result.population_covered)
    assert r.population_covered_after > r.population_covered_before
    assert r.sites["population_added"].is_monotonic_decreasing
    assert r.sites["source"].eq("gap").all()
    assert r.bound >= r.objective
    assert not (r.demand["covered_before"] & ~r.demand["covered_after"]).any()
    exact = suggest_sites(helsinki_network, helsinki_result, k=3, method="exact")
    assert exact.status == "optimal"
    assert r.objective <= exact.objective <= r.bound * (1 + 1e-9)


@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_no_site_that_adds_nobody_is_proposed(problem: SitingProblem, method: str) -> None:
    # Three sites reach every home some candidate can reach (a..e, 21 people); asked for
    # five, both methods propose three and say that three are enough.
    r = maximal_covering(problem, 5, method=method)  # type: ignore[arg-type]

    assert len(r.sites) == 3
    assert (r.sites["population_added"] > 0).all()
    assert r.population_covered_after == 21.0
    assert r.sites_enough == 3
    assert r.summary()["sites_enough"] == 3
    assert r.bound <= 21.0  # never more people than some site can reach
    full = maximal_covering(problem, 2, method=method)  # type: ignore[arg-type]
    assert full.sites_enough is None


def test_solver_answer_with_a_useless_site_is_trimmed_and_bounded(
    problem: SitingProblem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HiGHS may fill the k-th slot with a site that adds nobody, and its dual bound may
    # lie above every person there is (Monaco: 63,415 > 63,215): neither reaches the result.
    real = models_module.exact_max_cover

    def padded(*args: object, **kwargs: object) -> Solution:
        sol = real(*args, **kwargs)  # type: ignore[arg-type]
        spare = np.setdiff1d(np.arange(args[0].shape[1]), sol.chosen)  # type: ignore[attr-defined]
        return dataclasses.replace(
            sol, chosen=np.concatenate([sol.chosen, spare[:1]]), bound=sol.bound + 200.0
        )

    monkeypatch.setattr(models_module, "exact_max_cover", padded)
    r = maximal_covering(problem, 4, method="exact")

    assert len(r.sites) == 3
    assert (r.sites["population_added"] > 0).all()
    assert r.population_covered_after == 21.0
    assert r.sites_enough == 3
    assert r.detail["sites_adding_nobody_dropped"] == 1
    assert r.bound == 21.0
    assert r.gap == pytest.approx(0.0)


def test_suggest_sites_with_the_points_already_snapped_gives_the_same_answer(
    helsinki_network: WalkNetwork, helsinki_result: CoverageResult
) -> None:
    from planner.walk.access import snap_points

    cfg = helsinki_result.config
    st = snap_points(helsinki_network, helsinki_result.stations.geometry, max_snap_m=cfg.max_snap_m)
    homes = snap_points(
        helsinki_network, helsinki_result.demand.geometry, max_snap_m=cfg.max_snap_m
    )
    fresh = suggest_sites(helsinki_network, helsinki_result, k=3)
    given = suggest_sites(
        helsinki_network, helsinki_result, k=3, station_snap=st, demand_snap=homes
    )
    assert given.sites["id"].tolist() == fresh.sites["id"].tolist()
    assert given.objective == fresh.objective
    with pytest.raises(InputDataError, match="demand_snap holds 3 snapped points"):
        suggest_sites(
            helsinki_network,
            helsinki_result,
            k=3,
            demand_snap=snap_points(
                helsinki_network, helsinki_result.demand.geometry.iloc[:3], max_snap_m=300.0
            ),
        )
