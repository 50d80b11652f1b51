r"""Covering models on a sparse coverage matrix: greedy with bounds, and exact MILP (HiGHS).

This module knows nothing of maps: a problem is a sparse 0/1 matrix ``A`` (demand rows x
candidate columns, :math:`a_{ij} = 1` when candidate :math:`j` is within the walk limit
of demand :math:`i`) and a weight per row (people). :mod:`planner.siting.models` builds these
matrices from the walk network and turns the answers back into GeoDataFrames.

Every solver returns a frozen :class:`Solution` carrying the sites chosen, the objective,
a bound on the optimum and how it was obtained, so the gap to optimal is always reported.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from planner.errors import InputDataError
from planner.siting.milp import EPS_PEOPLE, HighsOutcome, Status, relative_gap, run_highs

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: ``1 - 1/e``: greedy maximal covering reaches at least this share of the optimum.
GREEDY_GUARANTEE = 1.0 - 1.0 / math.e


@dataclass(frozen=True, eq=False)
class Solution:
    """The answer of one covering solver.

    Attributes
    ----------
    chosen
        Columns chosen, in the order picked (greedy) or ascending (exact).
    gains
        For greedy maximal covering, the people each pick added at the moment it was made
        (after local search, the final marginal value of each site: people only it covers);
        for the other solvers, people newly covered that only this site covers.
    objective
        Maximal covering: people covered by the chosen sites (in the model's rows).
        Set covering: the number of sites chosen.
    bound
        A proven bound on the optimum: upper bound for maximal covering, lower bound for
        set covering. ``nan`` when none could be computed.
    gap
        Relative gap ``|bound - objective| / max(|bound|, tiny)``; 0 when proven optimal.
    guarantee
        A-priori approximation ratio of the method (``1 - 1/e`` for greedy maximal
        covering, ``H(d)`` for greedy set covering), None for exact solutions and
        heuristics without one.
    status
        ``optimal`` (proven within the MIP gap tolerance), ``time_limit`` (best found when
        the time ran out), ``heuristic`` (greedy; see ``bound``), ``infeasible``,
        ``solver_error``.
    seconds
        Wall time of the solve.
    steps_bound
        Greedy maximal covering: the upper bound available after each pick (the minimum is
        ``bound``); empty otherwise.
    detail
        Solver facts (HiGHS status text, nodes, evaluations, swaps, ...), JSON-ready.
    served_share
        Capacity models only: the share of each demand row assigned to an open site
        (0..1); None otherwise (a row is then served when a chosen site covers it).
    served_by_site
        Capacity models only: people assigned to each site column (fixed ones first).
    """

    chosen: IntArray
    gains: FloatArray
    objective: float
    bound: float
    gap: float
    guarantee: float | None
    status: Status
    seconds: float
    steps_bound: FloatArray
    detail: dict[str, object]
    served_share: FloatArray | None = None
    served_by_site: FloatArray | None = None


# ----------------------------------------------------------------------- preprocessing


@dataclass(frozen=True, eq=False)
class Collapsed:
    """Demand rows with identical candidate sets merged into one weighted class.

    ``matrix`` is classes x columns (CSC, 0/1), ``weight`` the summed weight per class,
    ``count`` the rows per class and ``class_of`` the class of every original row (-1 for
    rows no column covers, which are dropped).
    """

    matrix: sparse.csc_array
    weight: FloatArray
    count: IntArray
    class_of: IntArray


def collapse_rows(matrix: sparse.csr_array | sparse.csc_array, weight: FloatArray) -> Collapsed:
    """Merge rows with the same sparsity pattern; drop rows covered by no column.

    Parameters
    ----------
    matrix
        Rows x columns; the stored entries are the coverage relation.
    weight
        Weight per row.

    Returns
    -------
    Collapsed
        The merged classes; a solution of the collapsed problem is one of the original
        problem with the same objective.
    """
    csr = sparse.csr_array(matrix)
    csr.sort_indices()
    n_rows, n_cols = csr.shape
    class_of = np.full(n_rows, -1, dtype=np.int64)
    seen: dict[bytes, int] = {}
    firsts: list[int] = []
    indptr, indices = csr.indptr, csr.indices.astype(np.int64)
    for i in range(n_rows):
        a, b = indptr[i], indptr[i + 1]
        if a == b:
            continue
        key = indices[a:b].tobytes()
        c = seen.get(key)
        if c is None:
            c = len(firsts)
            seen[key] = c
            firsts.append(i)
        class_of[i] = c
    kept = class_of >= 0
    n_cls = len(firsts)
    w = np.bincount(class_of[kept], weights=weight[kept], minlength=n_cls).astype(np.float64)
    count = np.bincount(class_of[kept], minlength=n_cls).astype(np.int64)
    sub = sparse.csr_array(csr[np.asarray(firsts, dtype=np.int64)]) if firsts else None
    pattern = (
        sparse.csr_array((np.ones(sub.nnz), sub.indices, sub.indptr), shape=(n_cls, n_cols))
        if sub is not None
        else sparse.csr_array((0, n_cols))
    )
    return Collapsed(matrix=sparse.csc_array(pattern), weight=w, count=count, class_of=class_of)


# --------------------------------------------------------------------- maximal covering


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
            final_gains = _only_gains(a, w, chosen_arr)
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


def exact_max_cover(
    matrix: sparse.csc_array,
    weight: FloatArray,
    k: int,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> Solution:
    r"""Maximal covering solved as a mixed-integer program with HiGHS.

    Parameters
    ----------
    matrix
        Demand x candidates, 0/1 (CSC).
    weight
        People per demand row.
    k
        At most this many sites.
    time_limit_s
        HiGHS stops after this many seconds and returns its best solution and bound.
    mip_rel_gap
        HiGHS stops when the relative gap between solution and bound is below this.

    Returns
    -------
    Solution
        ``status`` ``optimal`` or ``time_limit``, HiGHS's dual ``bound`` and MIP ``gap``.

    Notes
    -----
    The MCLP of Church and ReVelle (1974), as in spopt's ``MCLP``, with the coverage
    variables relaxed to :math:`[0, 1]` (at an optimum they are 0 or 1 anyway)::

        maximise    sum_i w_i y_i
        subject to  y_i <= sum_j a_ij x_j      for every demand row i
                    sum_j x_j <= k
                    x_j in {0, 1},  0 <= y_i <= 1

    spopt states the cardinality as ``= k``; with non-negative weights the optimum is the
    same.
    """
    a = sparse.csc_array(matrix)
    n_rows, n_cols = a.shape
    w = np.asarray(weight, dtype=np.float64)
    if n_rows == 0 or n_cols == 0 or k == 0:
        return _trivial(0.0)
    out = _mclp_model(a, w, k, integer=True, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    x = out.values[:n_cols] if out.values is not None else np.zeros(n_cols)
    chosen = np.flatnonzero(x > 0.5).astype(np.int64)
    value = float(w[np.asarray(a[:, chosen].sum(axis=1)).ravel() > 0].sum())
    bound = max(out.bound, value) if math.isfinite(out.bound) else out.bound
    return Solution(
        chosen=chosen,
        gains=_only_gains(a, w, chosen),
        objective=value,
        bound=bound,
        gap=relative_gap(value, bound),
        guarantee=None,
        status=out.status,
        seconds=out.seconds,
        steps_bound=np.empty(0),
        detail=out.detail,
    )


# ------------------------------------------------------------------------ set covering


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
        lp = _set_cover_model(a, integer=False, time_limit_s=60.0, mip_rel_gap=0.0)
        if lp.status == "optimal":
            bound = float(math.ceil(lp.objective - 1e-6))
            detail["lp_relaxation"] = lp.objective
    elif not n_rows:
        bound = 0.0
    value = float(chosen_arr.size)
    return Solution(
        chosen=chosen_arr,
        gains=_only_gains(a, ones, chosen_arr),
        objective=value,
        bound=bound,
        gap=relative_gap(value, bound),
        guarantee=float(sum(1.0 / t for t in range(1, d + 1))) if d else None,
        status="heuristic",
        seconds=time.perf_counter() - started,
        steps_bound=np.empty(0),
        detail=detail,
    )


def exact_set_cover(
    matrix: sparse.csc_array,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 0.0,
) -> Solution:
    r"""Set covering (LSCP) solved as a mixed-integer program with HiGHS.

    Parameters
    ----------
    matrix
        Rows that must be covered x candidates, 0/1 (CSC). Every row must have an entry.
    time_limit_s
        HiGHS stops after this many seconds with its best solution and bound.
    mip_rel_gap
        Relative gap at which HiGHS stops (0: prove optimality).

    Returns
    -------
    Solution
        ``objective`` = sites chosen, ``bound`` = HiGHS's lower bound (rounded up).

    Notes
    -----
    The LSCP of Toregas et al. (1971), as in spopt's ``LSCP``::

        minimise    sum_j x_j
        subject to  sum_j a_ij x_j >= 1        for every row i
                    x_j in {0, 1}
    """
    a = sparse.csc_array(matrix)
    if a.shape[0] == 0:
        return _trivial(0.0)
    out = _set_cover_model(a, integer=True, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    ones = np.ones(a.shape[0])
    chosen = out.chosen
    bound = float(math.ceil(out.bound - 1e-6)) if math.isfinite(out.bound) else out.bound
    return Solution(
        chosen=chosen,
        gains=_only_gains(a, ones, chosen),
        objective=float(chosen.size),
        bound=bound,
        gap=relative_gap(float(chosen.size), bound),
        guarantee=None,
        status=out.status,
        seconds=out.seconds,
        steps_bound=np.empty(0),
        detail=out.detail,
    )


# ----------------------------------------------------------------------------- helpers


def _set_cover_model(
    a: sparse.csc_array,
    *,
    integer: bool,
    time_limit_s: float,
    mip_rel_gap: float,
) -> HighsOutcome:
    n_rows, n_cols = a.shape
    return run_highs(
        np.ones(n_cols),
        sparse.csc_array(a, dtype=np.float64),
        row_lo=np.ones(n_rows),
        row_hi=np.full(n_rows, np.inf),
        col_hi=np.ones(n_cols),
        integer=np.full(n_cols, integer),
        maximize=False,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )


def lp_bound_max_cover(
    matrix: sparse.csc_array, weight: FloatArray, k: int, *, time_limit_s: float = 60.0
) -> float:
    r"""Upper bound on the maximal-covering optimum from its LP relaxation (HiGHS).

    The model of :func:`exact_max_cover` with :math:`0 \le x_j \le 1`; NaN when the LP
    was not solved in time.
    """
    a = sparse.csc_array(matrix)
    if a.shape[0] == 0 or a.shape[1] == 0 or k == 0:
        return 0.0
    w = np.asarray(weight, dtype=np.float64)
    out = _mclp_model(a, w, k, integer=False, time_limit_s=time_limit_s, mip_rel_gap=0.0)
    return float(out.objective) if out.status == "optimal" else float("nan")


def _mclp_model(
    a: sparse.csc_array,
    w: FloatArray,
    k: int,
    *,
    integer: bool,
    time_limit_s: float,
    mip_rel_gap: float,
) -> HighsOutcome:
    n_rows, n_cols = a.shape
    # Columns: x_0..x_{n-1}, y_0..y_{m-1}. Rows: y_i - sum_j a_ij x_j <= 0, then sum x <= k.
    x_part = sparse.vstack([-a, sparse.csr_array(np.ones((1, n_cols)))], format="csc")
    y_part = sparse.vstack(
        [sparse.eye_array(n_rows, format="csc"), sparse.csc_array((1, n_rows))], format="csc"
    )
    return run_highs(
        np.concatenate([np.zeros(n_cols), w]),
        sparse.hstack([x_part, y_part], format="csc"),
        row_lo=np.full(n_rows + 1, -np.inf),
        row_hi=np.concatenate([np.zeros(n_rows), [float(k)]]),
        col_hi=np.ones(n_cols + n_rows),
        integer=np.concatenate([np.full(n_cols, integer), np.zeros(n_rows, dtype=bool)]),
        maximize=True,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )


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


def _only_gains(a: sparse.csc_array, w: FloatArray, chosen: IntArray) -> FloatArray:
    """People covered by exactly one chosen site, summed per site (what each adds last)."""
    if chosen.size == 0:
        return np.empty(0)
    sub = sparse.csc_array(a[:, chosen])
    count = np.asarray(sub.sum(axis=1)).ravel()
    only = np.where(count == 1, w, 0.0)
    return np.asarray(sub.T @ only, dtype=np.float64)


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


def _trivial(objective: float) -> Solution:
    """The answer of an empty problem: nothing to choose, optimal by definition."""
    return Solution(
        chosen=np.empty(0, dtype=np.int64),
        gains=np.empty(0),
        objective=objective,
        bound=objective,
        gap=0.0,
        guarantee=None,
        status="optimal",
        seconds=0.0,
        steps_bound=np.empty(0),
        detail={},
    )
