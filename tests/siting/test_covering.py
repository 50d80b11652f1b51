"""Tests of siting.covering, planner.siting.capacity and planner.siting.milp on coverage matrices.

Solvers are checked against brute force on tiny problems, against PySAL spopt (solved with
CBC, a different MILP solver) on small ones, and by hand on textbook traps.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import numpy.typing as npt
import pytest
from scipy import sparse
from scipy.optimize import linprog

from planner.siting.capacity import (
    CapacityModel,
    capacitated_max_cover,
    capacitated_set_cover,
    greedy_capacitated_max_cover,
)
from planner.siting.covering import (
    GREEDY_GUARANTEE,
    collapse_rows,
    exact_max_cover,
    exact_set_cover,
    greedy_max_cover,
    greedy_set_cover,
    lp_bound_max_cover,
)
from planner.siting.milp import _checked_bound

# spopt builds its models with PuLP, whose 3.x releases warn about their own 4.0 API.
PULP_V4 = "ignore:.*PuLP 4.0:DeprecationWarning"

Matrix = npt.NDArray[np.float64]


def covered_weight(a: Matrix, w: Matrix, cols: list[int] | npt.NDArray[np.int64]) -> float:
    return float(w[a[:, list(cols)].sum(axis=1) > 0].sum())


def brute_max_cover(a: Matrix, w: Matrix, k: int) -> float:
    n = a.shape[1]
    return max(covered_weight(a, w, s) for s in itertools.combinations(range(n), min(k, n)))


def brute_set_cover(a: Matrix) -> int:
    n = a.shape[1]
    for r in range(n + 1):
        for s in itertools.combinations(range(n), r):
            if (a[:, list(s)].sum(axis=1) > 0).all():
                return r
    raise AssertionError("not coverable")


def random_instances(seed: int, count: int) -> list[tuple[Matrix, Matrix, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        m, n, k = int(rng.integers(4, 25)), int(rng.integers(3, 9)), int(rng.integers(1, 4))
        a = (rng.random((m, n)) < rng.uniform(0.1, 0.5)).astype(float)
        w = rng.integers(1, 30, size=m).astype(float)
        out.append((a, w, k))
    return out


# ------------------------------------------------------------------------ by hand


#: Rows a..e (people 5, 5, 5, 5, 1); columns S1 = {a, b}, S2 = {c, d}, S3 = {b, c, e}.
TRAP = np.array([[1, 0, 0], [1, 0, 1], [0, 1, 1], [0, 1, 0], [0, 0, 1]], dtype=float)
TRAP_W = np.array([5.0, 5.0, 5.0, 5.0, 1.0])


def test_greedy_falls_into_the_textbook_trap_and_says_so() -> None:
    # Greedy takes S3 (11 people) first, then S1 or S2 (+5): 16. The optimum S1 + S2 is 20.
    greedy = greedy_max_cover(sparse.csc_array(TRAP), TRAP_W, 2, local_search=False)

    assert greedy.chosen.tolist() == [2, 0]
    assert greedy.gains.tolist() == [11.0, 5.0]
    assert greedy.objective == 16.0
    assert greedy.status == "heuristic"
    assert greedy.guarantee == pytest.approx(1 - 1 / math.e)
    # Bound: after S3, S1 and S2 would each add 5 more: 11 + 10 = 21 >= 20.
    assert greedy.bound == 21.0
    assert greedy.bound >= 20.0
    assert greedy.gap == pytest.approx(5 / 21)
    assert greedy.steps_bound.min() == greedy.bound


def test_swap_search_leaves_the_trap() -> None:
    # From greedy's {S3, S1}, swapping S3 for S2 loses c and e (only S3 covers them: 6) and
    # gains c and d (10): one swap reaches the optimum, 20.
    greedy = greedy_max_cover(sparse.csc_array(TRAP), TRAP_W, 2, local_search=True)

    assert sorted(greedy.chosen.tolist()) == [0, 1]
    assert greedy.objective == 20.0
    assert greedy.detail["swaps"] == 1
    assert greedy.detail["objective_before_swaps"] == 16.0


def test_exact_solves_the_trap() -> None:
    exact = exact_max_cover(sparse.csc_array(TRAP), TRAP_W, 2)

    assert exact.chosen.tolist() == [0, 1]
    assert exact.objective == 20.0
    assert exact.status == "optimal"
    assert exact.bound == pytest.approx(20.0)
    assert exact.gap == pytest.approx(0.0, abs=1e-6)


def test_set_cover_by_hand() -> None:
    # a needs S1, d needs S2, e needs S3: all three.
    greedy = greedy_set_cover(sparse.csc_array(TRAP))
    exact = exact_set_cover(sparse.csc_array(TRAP))

    for sol in (greedy, exact):
        assert sorted(sol.chosen.tolist()) == [0, 1, 2]
        assert sol.objective == 3.0
        assert sol.bound == 3.0
    assert greedy.guarantee == pytest.approx(1 + 1 / 2 + 1 / 3)  # H(3): columns of 2-3 rows
    assert exact.status == "optimal"


def test_greedy_set_cover_drops_redundant_sites() -> None:
    # Greedy picks the big middle column first, then both ends make it redundant.
    a = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1], [1, 0, 0], [0, 1, 0]], float)

    greedy = greedy_set_cover(sparse.csc_array(a))

    assert greedy.detail["sites_before_pruning"] == 3
    assert greedy.chosen.tolist() == [0, 1]


def test_set_cover_refuses_an_uncoverable_row() -> None:
    a = sparse.csc_array(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="covered by no column"):
        greedy_set_cover(a)


def test_empty_problems() -> None:
    empty = sparse.csc_array((0, 3))
    assert greedy_max_cover(empty, np.empty(0), 2).chosen.size == 0
    assert exact_max_cover(empty, np.empty(0), 2).objective == 0.0
    assert exact_set_cover(empty).objective == 0.0
    no_cols = sparse.csc_array((3, 0))
    assert greedy_max_cover(no_cols, np.ones(3), 2).objective == 0.0


def test_greedy_stops_when_nothing_more_helps() -> None:
    a = sparse.csc_array(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))

    sol = greedy_max_cover(a, np.array([4.0, 9.0]), 3)

    assert sol.chosen.tolist() == [0]  # lowest index among equal columns; the rest add 0
    assert sol.objective == 4.0
    assert sol.bound == 4.0


def test_collapse_rows_merges_identical_patterns() -> None:
    a = sparse.csr_array(np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0]], dtype=float))

    c = collapse_rows(a, np.array([1.0, 2.0, 3.0, 4.0]))

    assert c.class_of.tolist() == [0, -1, 0, 1]
    assert c.weight.tolist() == [4.0, 4.0]
    assert c.count.tolist() == [2, 1]
    assert c.matrix.toarray().tolist() == [[1, 0, 1], [0, 1, 0]]


# --------------------------------------------------------------- against brute force


@pytest.mark.parametrize("seed", range(4))
def test_max_cover_against_brute_force(seed: int) -> None:
    for a, w, k in random_instances(seed, 25):
        best = brute_max_cover(a, w, k)
        m = sparse.csc_array(a)

        exact = exact_max_cover(m, w, k)
        plain = greedy_max_cover(m, w, k, local_search=False)
        swapped = greedy_max_cover(m, w, k)

        assert exact.objective == pytest.approx(best)
        assert exact.status == "optimal"
        assert covered_weight(a, w, exact.chosen) == pytest.approx(best)
        assert plain.objective >= GREEDY_GUARANTEE * best - 1e-9
        for sol in (plain, swapped):
            assert sol.objective <= best + 1e-9
            assert sol.bound >= best - 1e-9  # the reported bound really bounds the optimum
            assert covered_weight(a, w, sol.chosen) == pytest.approx(sol.objective)
        assert swapped.objective >= plain.objective
        assert lp_bound_max_cover(m, w, k) >= best - 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_set_cover_against_brute_force(seed: int) -> None:
    for a, _, _ in random_instances(100 + seed, 20):
        a = a[a.sum(axis=1) > 0]
        if a.shape[0] == 0:
            continue
        best = brute_set_cover(a)
        m = sparse.csc_array(a)

        exact = exact_set_cover(m)
        greedy = greedy_set_cover(m)

        assert exact.objective == best
        assert exact.status == "optimal"
        assert greedy.bound <= best <= greedy.objective
        assert greedy.guarantee is not None
        assert greedy.objective <= greedy.guarantee * best + 1e-9
        for sol in (exact, greedy):
            assert (a[:, sol.chosen].sum(axis=1) > 0).all()


# ------------------------------------------------------------------- against spopt


@pytest.mark.filterwarnings(PULP_V4)
@pytest.mark.parametrize("seed", range(3))
def test_same_objective_as_spopt_mclp_and_lscp(seed: int) -> None:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    rng = np.random.default_rng(500 + seed)
    for _ in range(4):
        m, n, k = 30, 12, int(rng.integers(2, 5))
        cost = rng.uniform(0, 1000, size=(m, n))  # metres from home i to candidate j
        w = rng.integers(1, 50, size=m).astype(float)
        a = (cost <= 250.0).astype(float)

        spopt_mclp = locate.MCLP.from_cost_matrix(cost, w, service_radius=250.0, p_facilities=k)
        spopt_mclp = spopt_mclp.solve(pulp.PULP_CBC_CMD(msg=False))
        ours = exact_max_cover(sparse.csc_array(a), w, k)
        greedy = greedy_max_cover(sparse.csc_array(a), w, k)

        spopt_value = float(pulp.value(spopt_mclp.problem.objective))
        assert ours.objective == pytest.approx(spopt_value)
        assert greedy.objective <= spopt_value + 1e-9 <= greedy.bound + 2e-9

        rows = a.sum(axis=1) > 0
        spopt_lscp = locate.LSCP.from_cost_matrix(cost[rows], service_radius=250.0)
        spopt_lscp = spopt_lscp.solve(pulp.PULP_CBC_CMD(msg=False))
        ours_sc = exact_set_cover(sparse.csc_array(a[rows]))
        assert ours_sc.objective == pytest.approx(pulp.value(spopt_lscp.problem.objective))


@pytest.mark.filterwarnings(PULP_V4)
def test_capacitated_set_cover_same_as_spopt_clscp() -> None:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    rng = np.random.default_rng(7)
    for _ in range(3):
        cost = rng.uniform(0, 1000, size=(15, 8))
        cost[:, 0] = 0.0  # every home has a site, so a cover exists
        demand = rng.integers(1, 10, size=15).astype(float)
        cap = 20.0
        a = (cost <= 400.0).astype(float)

        spopt = locate.LSCP.from_cost_matrix(
            cost,
            service_radius=400.0,
            demand_quantity_arr=demand,
            facility_capacity_arr=np.full(8, cap),
        ).solve(pulp.PULP_CBC_CMD(msg=False))
        ours = capacitated_set_cover(
            CapacityModel(matrix=sparse.csc_array(a), weight=demand, n_fixed=0, capacity=cap)
        )

        assert ours.status == "optimal"
        assert ours.objective == pytest.approx(pulp.value(spopt.problem.objective))


# ------------------------------------------------------------------------ capacity


def assigned_reference(a: Matrix, w: Matrix, sites: list[int], cap: float) -> float:
    """Most people assignable to ``sites`` (fractions allowed): an LP by scipy."""
    pairs = [(i, j) for j in sites for i in range(a.shape[0]) if a[i, j]]
    if not pairs:
        return 0.0
    rows = [[1.0 if p[0] == i else 0.0 for p in pairs] for i in range(a.shape[0])]
    rows += [[w[p[0]] if p[1] == j else 0.0 for p in pairs] for j in sites]
    b = [1.0] * a.shape[0] + [cap] * len(sites)
    res = linprog(-np.array([w[i] for i, _ in pairs]), A_ub=rows, b_ub=b, bounds=(0, 1))
    return float(-res.fun)


def test_capacitated_max_cover_against_brute_force() -> None:
    rng = np.random.default_rng(11)
    for _ in range(15):
        m, n_fixed, n_new, k = 10, int(rng.integers(0, 3)), int(rng.integers(2, 6)), 2
        a = (rng.random((m, n_fixed + n_new)) < 0.4).astype(float)
        w = rng.integers(1, 10, size=m).astype(float)
        cap = float(rng.integers(5, 20))
        model = CapacityModel(sparse.csc_array(a), w, n_fixed, cap)
        fixed = list(range(n_fixed))
        best = max(
            assigned_reference(a, w, fixed + [n_fixed + j for j in s], cap)
            for r in range(k + 1)
            for s in itertools.combinations(range(n_new), min(r, n_new))
        )

        exact = capacitated_max_cover(model, k)
        greedy = greedy_capacitated_max_cover(model, k)

        assert exact.objective == pytest.approx(best)
        assert exact.status == "optimal"
        assert greedy.objective <= best + 1e-6 <= greedy.bound + 2e-6
        assert greedy.objective == pytest.approx(
            assigned_reference(a, w, fixed + [n_fixed + j for j in greedy.chosen], cap)
        )
        for sol in (exact, greedy):
            assert sol.served_share is not None
            assert sol.served_by_site is not None
            assert sol.served_share.max() <= 1 + 1e-9
            assert sol.served_by_site.max() <= cap + 1e-6
            assert float(sol.served_share @ w) == pytest.approx(sol.objective)


def test_capacitated_set_cover_reports_infeasible() -> None:
    # One home of 30 people, one site of capacity 20: nobody can serve it all.
    model = CapacityModel(sparse.csc_array(np.ones((1, 1))), np.array([30.0]), 0, 20.0)

    sol = capacitated_set_cover(model)

    assert sol.status == "infeasible"


# -------------------------------------------------------------------------- HiGHS


def test_highs_prints_nothing() -> None:
    # highspy.Highs() prints a banner before options can be set; ours must not print.
    code = (
        "import numpy as np; from scipy import sparse;"
        "from planner.siting.covering import exact_max_cover, greedy_set_cover;"
        "a = sparse.csc_array(np.eye(3));"
        "exact_max_cover(a, np.ones(3), 2); greedy_set_cover(a)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    )
    assert proc.stdout == ""
    assert proc.stderr == ""


def test_time_limit_is_reported() -> None:
    # A random set cover that HiGHS cannot prove within a very short limit.
    rng = np.random.default_rng(3)
    a = (rng.random((400, 300)) < 0.02).astype(float)
    a = a[a.sum(axis=1) > 0]

    sol = exact_set_cover(sparse.csc_array(a), time_limit_s=0.2)

    assert sol.status == "time_limit"
    assert sol.seconds < 5
    assert sol.bound <= sol.objective
    assert sol.gap > 0
    assert (a[:, sol.chosen].sum(axis=1) > 0).all()


@pytest.mark.parametrize(
    ("raw", "objective", "maximize", "optimal", "expected"),
    [
        (20.0, 20.0, True, True, (20.0, True)),
        (0.0, 3.0, True, True, (3.0, True)),  # wrong side, solved in presolve: trust status
        (18.0, 27.0, False, True, (18.0, False)),  # valid bound, but "optimal" is not proven
        (30.0, 27.0, False, False, (math.nan, False)),  # wrong side, no proof: unknown
        (25.0, 27.0, False, False, (25.0, False)),
    ],
)
def test_checked_bound(
    raw: float, objective: float, maximize: bool, optimal: bool, expected: tuple[float, bool]
) -> None:
    bound, proven = _checked_bound(
        raw, objective, 0.0, maximize=maximize, optimal=optimal, mip_rel_gap=1e-4
    )
    if math.isnan(expected[0]):
        assert math.isnan(bound)
    else:
        assert bound == expected[0]
    assert proven == expected[1]
