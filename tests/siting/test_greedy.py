"""Tests of siting.greedy: greedy covering by hand, and against brute force and the exact models."""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import sparse

from planner.siting.exact import exact_max_cover, exact_set_cover, lp_bound_max_cover
from planner.siting.greedy import GREEDY_GUARANTEE, greedy_max_cover, greedy_set_cover

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


def test_greedy_stops_when_nothing_more_helps() -> None:
    a = sparse.csc_array(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))

    sol = greedy_max_cover(a, np.array([4.0, 9.0]), 3)

    assert sol.chosen.tolist() == [0]  # lowest index among equal columns; the rest add 0
    assert sol.objective == 4.0
    assert sol.bound == 4.0


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
