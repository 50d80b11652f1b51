"""Covering with station capacity: people assigned to open stations, none over capacity.

Capacity turns the coverage question into an assignment: each station serves at most
``capacity`` people, and people may be split between stations within their walk limit
(divisible demand). Both models are solved exactly with HiGHS; the greedy is a heuristic
whose answer is re-assigned optimally and bounded by the LP relaxation.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from planner.siting.covering import FloatArray, IntArray, Solution
from planner.siting.milp import EPS_PEOPLE, relative_gap, run_highs


@dataclass(frozen=True, eq=False)
class CapacityModel:
    """A capacitated covering question over fixed (existing) and optional (new) sites.

    ``matrix`` is demand x sites (0/1, CSC), the first ``n_fixed`` columns being sites that
    are open whatever the solver decides; ``weight`` the people per demand row; every site
    serves at most ``capacity`` people.
    """

    matrix: sparse.csc_array
    weight: FloatArray
    n_fixed: int
    capacity: float


def capacitated_max_cover(
    model: CapacityModel,
    k: int,
    *,
    integer: bool = True,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> Solution:
    r"""Capacitated maximal covering with HiGHS (assignment model, people may be split).

    Parameters
    ----------
    model
        Demand x (fixed + optional) sites, weights and capacity.
    k
        At most this many optional sites open.
    integer
        Solve the MIP; False solves the LP relaxation (an upper bound, fractional sites).
    time_limit_s, mip_rel_gap
        HiGHS limits.

    Returns
    -------
    Solution
        ``chosen`` are optional-site positions (0-based among the optional sites);
        ``objective`` is people assigned to an open site within the limit (fixed sites
        included).

    Notes
    -----
    With :math:`z_{ij} \ge 0` the share of demand row :math:`i` served by site :math:`j`
    (only for :math:`a_{ij} = 1`), capacity :math:`C` and :math:`x_j = 1` fixed for
    existing sites::

        maximise    sum_i sum_j w_i z_ij
        subject to  sum_j z_ij <= 1                    for every demand row i
                    sum_i w_i z_ij <= C x_j            for every site j
                    sum_{j new} x_j <= k
                    x_j in {0, 1} (new sites),  x_j = 1 (existing sites)

    This is the capacitated MCLP of Current and Storbeck (1988) with divisible demand, the
    maximal-covering counterpart of spopt's CLSCP-SO.
    """
    a = sparse.csc_array(model.matrix)
    n_rows, n_sites = a.shape
    n_fixed = model.n_fixed
    n_new = n_sites - n_fixed
    w = np.asarray(model.weight, dtype=np.float64)
    mat, r, s = _assignment_matrix(model, cardinality_row=True)
    nz = r.size
    row_hi = np.concatenate(
        [np.ones(n_rows), np.full(n_fixed, model.capacity), np.zeros(n_new), [float(k)]]
    )
    out = run_highs(
        np.concatenate([w[r], np.zeros(n_new)]),
        mat,
        row_lo=np.full(n_rows + n_sites + 1, -np.inf),
        row_hi=row_hi,
        col_hi=np.concatenate([np.ones(nz), np.ones(n_new)]),
        integer=np.concatenate([np.zeros(nz, dtype=bool), np.full(n_new, integer)]),
        maximize=True,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    vals = out.values if out.values is not None else np.zeros(nz + n_new)
    x = vals[nz:]
    chosen = np.flatnonzero(x > 0.5).astype(np.int64) if integer else np.flatnonzero(x > 1e-9)
    value = float(out.objective) if math.isfinite(out.objective) else 0.0
    served_by = np.bincount(s, weights=w[r] * vals[:nz], minlength=n_sites).astype(np.float64)
    return Solution(
        chosen=chosen.astype(np.int64),
        gains=served_by[n_fixed + chosen],
        objective=value,
        bound=max(out.bound, value) if math.isfinite(out.bound) else out.bound,
        gap=relative_gap(value, out.bound),
        guarantee=None,
        status=out.status,
        seconds=out.seconds,
        steps_bound=np.empty(0),
        detail=out.detail,
        served_share=np.bincount(r, weights=vals[:nz], minlength=n_rows).astype(np.float64),
        served_by_site=served_by,
    )


def greedy_capacitated_max_cover(model: CapacityModel, k: int) -> Solution:
    r"""Greedy for capacitated maximal covering; the result is re-assigned optimally.

    Parameters
    ----------
    model
        Demand x (fixed + optional) sites, weights and capacity.
    k
        At most this many optional sites.

    Returns
    -------
    Solution
        ``status="heuristic"``, no a-priori guarantee; ``objective`` is the optimal
        assignment (an LP) for the chosen sites; ``bound`` is HiGHS's LP-relaxation bound.

    Notes
    -----
    Demand is first assigned to the fixed sites (nearest-first along the column order,
    up to capacity); each step then opens the optional site whose reachable unassigned
    people, capped at the capacity, are largest (lazy evaluation is exact here too: the
    unassigned people only decrease), and assigns them to it. The chosen set is finally
    re-assigned by the LP of :func:`capacitated_max_cover` with the sites fixed.
    """
    started = time.perf_counter()
    a = sparse.csc_array(model.matrix)
    _, n_sites = a.shape
    n_fixed = model.n_fixed
    w = np.asarray(model.weight, dtype=np.float64)
    cap = model.capacity
    left = w.copy()
    indptr, indices = a.indptr, a.indices
    for j in range(n_fixed):
        _fill(left, indices[indptr[j] : indptr[j + 1]], cap)
    heap: list[tuple[float, int]] = []
    for j in range(n_fixed, n_sites):
        g = min(cap, float(left[indices[indptr[j] : indptr[j + 1]]].sum()))
        if g > EPS_PEOPLE:
            heap.append((-g, j))
    heapq.heapify(heap)
    fresh_at = np.zeros(n_sites, dtype=np.int64)
    chosen: list[int] = []
    for step in range(k):
        pick = -1
        while heap:
            _, j = heapq.heappop(heap)
            if fresh_at[j] == step:
                pick = j
                break
            g = min(cap, float(left[indices[indptr[j] : indptr[j + 1]]].sum()))
            fresh_at[j] = step
            if g > EPS_PEOPLE:
                heapq.heappush(heap, (-g, j))
        if pick < 0:
            break
        chosen.append(pick - n_fixed)
        _fill(left, indices[indptr[pick] : indptr[pick + 1]], cap)
    chosen_arr = np.array(chosen, dtype=np.int64)
    # Fix the chosen sites and let the LP assign people optimally; bound by the LP relaxation.
    keep = np.r_[np.arange(n_fixed), n_fixed + chosen_arr]
    fixed = CapacityModel(
        matrix=sparse.csc_array(a[:, keep]), weight=w, n_fixed=keep.size, capacity=cap
    )
    assigned = capacitated_max_cover(fixed, 0, integer=False)
    relaxed = capacitated_max_cover(model, k, integer=False)
    served_by = assigned.served_by_site
    assert served_by is not None
    by_site = np.zeros(n_sites)
    by_site[keep] = served_by
    value = assigned.objective
    bound = relaxed.objective if relaxed.status == "optimal" else float("nan")
    return Solution(
        chosen=chosen_arr,
        gains=served_by[n_fixed:],
        objective=value,
        bound=max(bound, value) if math.isfinite(bound) else bound,
        gap=relative_gap(value, bound),
        guarantee=None,
        status="heuristic",
        seconds=time.perf_counter() - started,
        steps_bound=np.empty(0),
        detail={"lp_relaxation": relaxed.objective},
        served_share=assigned.served_share,
        served_by_site=by_site,
    )


def capacitated_set_cover(
    model: CapacityModel,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 0.0,
) -> Solution:
    r"""Fewest new sites so that all demand is assigned within the limit and capacity.

    Parameters
    ----------
    model
        Demand rows that must be served x (fixed + optional) sites, weights, capacity.
    time_limit_s, mip_rel_gap
        HiGHS limits.

    Returns
    -------
    Solution
        ``chosen`` optional-site positions; ``objective`` the number of new sites;
        ``status="infeasible"`` when no choice of sites can serve everyone.

    Notes
    -----
    spopt's CLSCP-SO (capacitated LSCP, single-objective, divisible demand) with the
    existing sites fixed open::

        minimise    sum_{j new} x_j
        subject to  sum_j z_ij = 1                     for every demand row i
                    sum_i w_i z_ij <= C x_j            for every site j
                    z_ij >= 0 (only where a_ij = 1),  x_j in {0, 1}, x_j = 1 (existing)
    """
    a = sparse.csc_array(model.matrix)
    n_rows, n_sites = a.shape
    n_fixed = model.n_fixed
    n_new = n_sites - n_fixed
    w = np.asarray(model.weight, dtype=np.float64)
    mat, r, s = _assignment_matrix(model, cardinality_row=False)
    nz = r.size
    out = run_highs(
        np.concatenate([np.zeros(nz), np.ones(n_new)]),
        mat,
        row_lo=np.concatenate([np.ones(n_rows), np.full(n_sites, -np.inf)]),
        row_hi=np.concatenate([np.ones(n_rows), np.full(n_fixed, model.capacity), np.zeros(n_new)]),
        col_hi=np.ones(nz + n_new),
        integer=np.concatenate([np.zeros(nz, dtype=bool), np.ones(n_new, dtype=bool)]),
        maximize=False,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    vals = out.values if out.values is not None else np.zeros(nz + n_new)
    chosen = np.flatnonzero(vals[nz:] > 0.5).astype(np.int64)
    served_by = np.bincount(s, weights=w[r] * vals[:nz], minlength=n_sites).astype(np.float64)
    bound = float(math.ceil(out.bound - 1e-6)) if math.isfinite(out.bound) else out.bound
    value = float(chosen.size) if out.values is not None else float("nan")
    return Solution(
        chosen=chosen,
        gains=served_by[n_fixed + chosen],
        objective=value,
        bound=bound,
        gap=relative_gap(value, bound),
        guarantee=None,
        status=out.status,
        seconds=out.seconds,
        steps_bound=np.empty(0),
        detail=out.detail,
        served_share=np.bincount(r, weights=vals[:nz], minlength=n_rows).astype(np.float64),
        served_by_site=served_by,
    )


def _assignment_matrix(
    model: CapacityModel, *, cardinality_row: bool
) -> tuple[sparse.csc_array, IntArray, IntArray]:
    """Constraint matrix of the assignment models, and the (row, site) of each z column.

    Columns: one ``z`` per stored (demand row, site) pair, then one ``x`` per new site.
    Rows: one per demand row (``sum_j z_ij``), one per site (``sum_i w_i z_ij - C x_j``),
    and with ``cardinality_row`` a last one (``sum_j x_j``).
    """
    a = sparse.csc_array(model.matrix)
    n_rows, n_sites = a.shape
    n_new = n_sites - model.n_fixed
    w = np.asarray(model.weight, dtype=np.float64)
    coo = sparse.coo_array(sparse.csr_array(a))
    r, s = coo.row.astype(np.int64), coo.col.astype(np.int64)
    nz = r.size
    new = np.arange(n_new)
    rows = [r, n_rows + s, n_rows + model.n_fixed + new]
    cols = [np.arange(nz), np.arange(nz), nz + new]
    vals = [np.ones(nz), w[r], np.full(n_new, -model.capacity)]
    if cardinality_row:
        rows.append(np.full(n_new, n_rows + n_sites))
        cols.append(nz + new)
        vals.append(np.ones(n_new))
    mat = sparse.csc_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows + n_sites + int(cardinality_row), nz + n_new),
    )
    return mat, r, s


def _fill(left: FloatArray, rows: IntArray, cap: float) -> None:
    """Assign up to ``cap`` of the remaining people in ``rows``, in row order (in place)."""
    room = cap
    for i in rows:
        if room <= 0:
            break
        take = min(room, left[i])
        left[i] -= take
        room -= take
