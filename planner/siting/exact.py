"""Exact covering models, solved as mixed-integer programs with HiGHS.

Maximal covering (Church and ReVelle's MCLP, :func:`exact_max_cover`) and set covering
(Toregas' LSCP, :func:`exact_set_cover`), as in PySAL spopt, and their LP relaxations as
bounds (:func:`lp_bound_max_cover`, :func:`lp_bound_set_cover`). Each solver returns a
:class:`~planner.siting.covering.Solution` with HiGHS's bound and MIP gap.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from planner.siting.covering import FloatArray, Solution, only_gains
from planner.siting.milp import HighsOutcome, relative_gap, run_highs


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
    # No answer serves more than the rows some column covers (HiGHS's bound can, by its gap).
    coverable = float(w[np.asarray(a.sum(axis=1)).ravel() > 0].sum())
    bound = min(bound, max(coverable, value))
    return Solution(
        chosen=chosen,
        gains=only_gains(a, w, chosen),
        objective=value,
        bound=bound,
        gap=relative_gap(value, bound),
        guarantee=None,
        status=out.status,
        seconds=out.seconds,
        steps_bound=np.empty(0),
        detail=out.detail,
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
        gains=only_gains(a, ones, chosen),
        objective=float(chosen.size),
        bound=bound,
        gap=relative_gap(float(chosen.size), bound),
        guarantee=None,
        status=out.status,
        seconds=out.seconds,
        steps_bound=np.empty(0),
        detail=out.detail,
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


def lp_bound_set_cover(matrix: sparse.csc_array, *, time_limit_s: float = 60.0) -> float:
    r"""Lower bound on the set-covering optimum from its LP relaxation (HiGHS).

    The model of :func:`exact_set_cover` with :math:`0 \le x_j \le 1`, unrounded; NaN when
    the LP was not solved in time.
    """
    a = sparse.csc_array(matrix)
    lp = _set_cover_model(a, integer=False, time_limit_s=time_limit_s, mip_rel_gap=0.0)
    return float(lp.objective) if lp.status == "optimal" else float("nan")


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
