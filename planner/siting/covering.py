"""What every covering solver shares: the problem's form, the answer, and preprocessing.

This module knows nothing of maps: a problem is a sparse 0/1 matrix ``A`` (demand rows x
candidate columns, :math:`a_{ij} = 1` when candidate :math:`j` is within the walk limit
of demand :math:`i`) and a weight per row (people). :mod:`planner.siting.models` builds these
matrices from the walk network and turns the answers back into GeoDataFrames.

Every solver returns a frozen :class:`Solution` carrying the sites chosen, the objective,
a bound on the optimum and how it was obtained, so the gap to optimal is always reported.
The solvers are in :mod:`planner.siting.greedy` (heuristics with bounds),
:mod:`planner.siting.exact` (MILP with HiGHS) and :mod:`planner.siting.capacity`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from planner.siting.milp import Status

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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


def only_gains(a: sparse.csc_array, w: FloatArray, chosen: IntArray) -> FloatArray:
    """People covered by exactly one chosen site, summed per site (what each adds last)."""
    if chosen.size == 0:
        return np.empty(0)
    sub = sparse.csc_array(a[:, chosen])
    count = np.asarray(sub.sum(axis=1)).ravel()
    only = np.where(count == 1, w, 0.0)
    return np.asarray(sub.T @ only, dtype=np.float64)
