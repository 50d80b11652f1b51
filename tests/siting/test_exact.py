"""Tests of siting.exact: the MILP models by hand, against PySAL spopt (CBC), and HiGHS's limits.

Brute-force checks of both the exact and the greedy solvers are in test_greedy.py.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import sparse

from planner.siting.exact import exact_max_cover, exact_set_cover
from planner.siting.greedy import greedy_max_cover, greedy_set_cover

# spopt builds its models with PuLP, whose 3.x releases warn about their own 4.0 API.
PULP_V4 = "ignore:.*PuLP 4.0:DeprecationWarning"

#: Rows a..e (people 5, 5, 5, 5, 1); columns S1 = {a, b}, S2 = {c, d}, S3 = {b, c, e}.
TRAP = np.array([[1, 0, 0], [1, 0, 1], [0, 1, 1], [0, 1, 0], [0, 0, 1]], dtype=float)
TRAP_W = np.array([5.0, 5.0, 5.0, 5.0, 1.0])


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


def test_empty_problems() -> None:
    empty = sparse.csc_array((0, 3))
    assert greedy_max_cover(empty, np.empty(0), 2).chosen.size == 0
    assert exact_max_cover(empty, np.empty(0), 2).objective == 0.0
    assert exact_set_cover(empty).objective == 0.0
    no_cols = sparse.csc_array((3, 0))
    assert greedy_max_cover(no_cols, np.ones(3), 2).objective == 0.0


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


# -------------------------------------------------------------------------- HiGHS


def test_highs_prints_nothing() -> None:
    # highspy.Highs() prints a banner before options can be set; ours must not print.
    code = (
        "import numpy as np; from scipy import sparse;"
        "from planner.siting.exact import exact_max_cover;"
        "from planner.siting.greedy import greedy_set_cover;"
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


def test_exact_proposes_no_useless_site_and_bounds_by_what_exists() -> None:
    # Asked for three columns when two cover every row: the bound never exceeds the rows'
    # weight, and the column adding nobody is not chosen.
    a = sparse.csc_array(np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]], dtype=float))
    w = np.array([5.0, 5.0, 1.0])
    exact = exact_max_cover(a, w, 3)

    assert exact.objective == 11.0
    assert exact.bound <= 11.0
    assert 2 not in exact.chosen.tolist()
