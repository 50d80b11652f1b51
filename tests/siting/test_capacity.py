"""Tests of siting.capacity: capacitated covering against brute force and PySAL spopt."""

from __future__ import annotations

import itertools

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

# spopt builds its models with PuLP, whose 3.x releases warn about their own 4.0 API.
PULP_V4 = "ignore:.*PuLP 4.0:DeprecationWarning"

Matrix = npt.NDArray[np.float64]


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
