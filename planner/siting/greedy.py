"""Greedy covering heuristics, each with a proven bound on the optimum.

Greedy maximal covering with lazy evaluation and a 1-swap local search
(:func:`greedy_max_cover`), and greedy set covering with redundant sites removed
(:func:`greedy_set_cover`, bounded below by the LP relaxation of
:mod:`planner.siting.exact`). Each returns a :class:`~planner.siting.covering.Solution`
whose ``bound`` and ``gap`` say how far from optimal the answer can be.
"""

from __future__ import annotations

import heapq
import math
import time

import numpy as np
from scipy import sparse

from planner.errors import InputDataError
from planner.siting.covering import BoolArray, FloatArray, IntArray, Solution, only_gains
from planner.siting.exact import lp_bound_set_cover
from planner.siting.milp import EPS_PEOPLE, relative_gap

#: ``1 - 1/e``: greedy maximal covering reaches at least this share of the optimum.
GREEDY_GUARANTEE = 1.0 - 1.0 / math.e


def greedy_max_cover(
    matrix: sparse.csc_array,
    weight: FloatArray,
    k: int,
    *,
    local_search: bool = True,
    max_swaps: int = 200,
) -> Solution:
    r"""Greedy maximal covering with lazy evaluation (CELF), a bound, and 1-swap search.

    Parameters
    ----------
    matrix
        Demand x candidates, 0/1 (CSC).
    weight
        People per demand row (non-negative).
    k
        Number of sites to choose.
    local_search
        After the greedy picks, swap a chosen site for another while that covers more
        people (best improvement first, at most ``max_swaps`` swaps).
    max_swaps
        Cap on local-search swaps.

    Returns
    -------
    Solution
        ``status="heuristic"``, ``guarantee = 1 - 1/e`` and the data-dependent ``bound``.

    Notes
    -----
    The objective :math:`f(S) = \sum_i w_i \, [\exists j \in S: a_{ij} = 1]` is monotone
    and submodular, so greedy reaches :math:`f(S_k) \ge (1 - 1/e)\, f(S^*)` (Nemhauser,
    Wolsey and Fisher 1978). Lazy evaluation (Minoux 1978; CELF, Leskovec et al. 2007)
    keeps each candidate's last computed gain in a max-heap: by submodularity a stale gain
    is an upper bound on the current one, so a candidate whose refreshed gain stays on top
    is the greedy pick without re-evaluating the others.

    Bound: for every greedy prefix :math:`S_t` and any :math:`|S^*| \le k`,
    :math:`f(S^*) \le f(S_t) + \sum_{j \in \text{top-}k} \Delta_j(S_t)`, where
    :math:`\Delta_j(S_t)` may be replaced by any upper bound on it, such as the stale heap
    values. The reported ``bound`` is the minimum over all prefixes (the stale values at
    intermediate steps, the exact gains, one sparse product each, at the first and last).
    It bounds the optimum itself, so it stays valid after local search.
    """
    started = time.perf_counter()
    a = sparse.csc_array(matrix)
    n_rows, n_cols = a.shape
    w = np.asarray(weight, dtype=np.float64)
    k = int(min(k, n_cols))
    covered = np.zeros(n_rows, dtype=bool)
    indptr, indices = a.indptr, a.indices

    exact0 = _column_gains(a, w, covered)
    heap = [(-float(g), int(j)) for j, g in enumerate(exact0) if g > EPS_PEOPLE]
    heapq.heapify(heap)
    fresh_at = np.zeros(n_cols, dtype=np.int64)  # step at which the heap value was computed
    chosen: list[int] = []
    gains: list[float] = []
    value = 0.0
    steps_bound = [_topk_sum(exact0, k)]
    evaluations = n_cols
    for step in range(k):
        pick = -1
        while heap:
            neg, j = heapq.heappop(heap)
            if fresh_at[j] == step:
                pick, gain = j, -neg
                break
            rows = indices[indptr[j] : indptr[j + 1]]
            g = float(w[rows][~covered[rows]].sum())
            evaluations += 1
            fresh_at[j] = step
            if g > EPS_PEOPLE:
                heapq.heappush(heap, (-g, j))
        if pick < 0:
            break  # no candidate adds anyone: fewer than k sites are useful
        chosen.append(pick)
        gains.append(gain)
        value += gain
        covered[indices[indptr[pick] : indptr[pick + 1]]] = True
        # Stale heap values bound the current gains (submodularity): a free bound.
        stale = np.fromiter((-v for v, _ in heap), dtype=np.float64, count=len(heap))
        steps_bound.append(value + _topk_sum(stale, k))
    exact_last = _column_gains(a, w, covered)
    steps_bound.append(value + _topk_sum(exact_last, k))

    swaps = 0
    chosen_arr = np.array(chosen, dtype=np.int64)
    final_gains = np.array(gains, dtype=np.float64)
    if local_search and chosen_arr.size:
        chosen_arr, value, swaps = _swap_search(a, w, chosen_arr, max_swaps=max_swaps)
        if swaps:
            final_gains = only_gains(a, w, chosen_arr)
    bound = float(min(steps_bound))
    bound = max(bound, value)  # guard against rounding below the value found
    return Solution(
        chosen=chosen_arr,
        gains=final_gains,
        objective=float(value),
        bound=bound,
        gap=relative_gap(value, bound),
        guarantee=GREEDY_GUARANTEE,
        status="heuristic",
        seconds=time.perf_counter() - started,
        steps_bound=np.array(steps_bound, dtype=np.float64),
        detail={
            "gain_evaluations": evaluations,
            "swaps": swaps,
            "objective_before_swaps": sum(gains),
        },
    )


def greedy_set_cover(matrix: sparse.csc_array, *, lower_bound: bool = True) -> Solution:
    r"""Greedy set covering (Chvátal 1979) with redundant sites removed, and an LP bound.

    Parameters
    ----------
    matrix
        Rows that must be covered x candidates, 0/1 (CSC). Every row must have an entry.
    lower_bound
        Compute the LP-relaxation lower bound on the optimum with HiGHS.

    Returns
    -------
    Solution
        ``objective`` = sites chosen; ``bound`` = :math:`\lceil z_{LP} \rceil`;
        ``guarantee`` = :math:`H(d) = \sum_{t=1}^{d} 1/t` for the largest column size
        :math:`d`.

    Notes
    -----
    Each step picks the candidate covering most rows not yet covered (lowest index on
    ties); then, in reverse order of picking, a site whose rows are all covered by the
    other chosen sites is dropped. Greedy uses at most :math:`H(d)` times the optimum.
    """
    started = time.perf_counter()
    a = sparse.csc_array(matrix)
    n_rows, n_cols = a.shape
    if n_rows and np.diff(sparse.csr_array(a).indptr).min() == 0:
        msg = "greedy_set_cover: a row is covered by no column; drop it first."
        raise InputDataError(msg)
    ones = np.ones(n_rows)
    covered = np.zeros(n_rows, dtype=bool)
    indptr, indices = a.indptr, a.indices
    gains0 = _column_gains(a, ones, covered)
    heap = [(-float(g), int(j)) for j, g in enumerate(gains0) if g > 0]
    heapq.heapify(heap)
    fresh_at = np.zeros(n_cols, dtype=np.int64)
    chosen: list[int] = []
    step = 0
    while not covered.all() and heap:
        _, j = heapq.heappop(heap)
        if fresh_at[j] != step:
            rows = indices[indptr[j] : indptr[j + 1]]
            g = float((~covered[rows]).sum())
            fresh_at[j] = step
            if g > 0:
                heapq.heappush(heap, (-g, j))
            continue
        chosen.append(j)
        covered[indices[indptr[j] : indptr[j + 1]]] = True
        step += 1
    # Reverse delete: drop sites whose rows all have another chosen site.
    kept = list(chosen)
    count = np.asarray(a[:, kept].sum(axis=1)).ravel() if kept else np.zeros(n_rows)
    for j in reversed(chosen):
        rows = indices[indptr[j] : indptr[j + 1]]
        if (count[rows] >= 2).all():
            kept.remove(j)
            count[rows] -= 1
    chosen_arr = np.array(sorted(kept), dtype=np.int64)
    sizes = np.diff(indptr)
    d = int(sizes.max()) if sizes.size else 0
    bound = float("nan")
    detail: dict[str, object] = {"sites_before_pruning": len(chosen)}
    if lower_bound and n_rows:
        lp = lp_bound_set_cover(a)
        if math.isfinite(lp):
            bound = float(math.ceil(lp - 1e-6))
            detail["lp_relaxation"] = lp
    elif not n_rows:
        bound = 0.0
    value = float(chosen_arr.size)
    return Solution(
        chosen=chosen_arr,
        gains=only_gains(a, ones, chosen_arr),
        objective=value,
        bound=bound,
        gap=relative_gap(value, bound),
        guarantee=float(sum(1.0 / t for t in range(1, d + 1))) if d else None,
        status="heuristic",
        seconds=time.perf_counter() - started,
        steps_bound=np.empty(0),
        detail=detail,
    )


# ----------------------------------------------------------------------------- helpers


def _column_gains(a: sparse.csc_array, w: FloatArray, covered: BoolArray) -> FloatArray:
    """People each column would add: ``A^T (w * not covered)``."""
    return np.asarray(a.T @ np.where(covered, 0.0, w), dtype=np.float64)


def _topk_sum(values: FloatArray, k: int) -> float:
    if values.size == 0 or k <= 0:
        return 0.0
    if values.size <= k:
        return float(np.clip(values, 0.0, None).sum())
    top = np.partition(values, values.size - k)[values.size - k :]
    return float(np.clip(top, 0.0, None).sum())


def _swap_search(
    a: sparse.csc_array, w: FloatArray, chosen: IntArray, *, max_swaps: int
) -> tuple[IntArray, float, int]:
    """Best-improvement 1-swap (Teitz and Bart 1968) over all candidates, vectorised.

    Swapping out site ``s`` loses the people only ``s`` covers; swapping in ``c`` gains
    the people nobody covers plus those only ``s`` covered, both among ``c``'s rows.
    """
    chosen = chosen.copy()
    n_rows = a.shape[0]
    csr = sparse.csr_array(a)
    swaps = 0
    for _ in range(max_swaps):
        sub = sparse.csc_array(a[:, chosen])
        count = np.asarray(sub.sum(axis=1)).ravel()
        base = _column_gains(a, w, count > 0)
        single = np.flatnonzero(count == 1)
        # The chosen site covering each singly-covered row.
        owner = np.asarray(sparse.csr_array(sub[single]).indices, dtype=np.int64)
        only = sparse.csc_array((w[single], (single, owner)), shape=(n_rows, chosen.size))
        loss = np.asarray(only.sum(axis=0)).ravel()
        extra = np.asarray((csr.T @ only).toarray())  # candidates x chosen
        delta = base[:, None] + extra - loss[None, :]
        delta[chosen, :] = -np.inf
        flat = int(np.argmax(delta))
        c, pos = divmod(flat, chosen.size)
        if not delta[c, pos] > 1e-9 * max(1.0, float(w.sum())):
            break
        chosen[pos] = c
        swaps += 1
    count = np.asarray(sparse.csc_array(a[:, chosen]).sum(axis=1)).ravel()
    return chosen, float(w[count > 0].sum()), swaps
