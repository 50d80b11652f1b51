"""Mixed-integer programs solved with HiGHS through highspy, silently and reproducibly."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: How a solve ended: ``optimal`` (proven within the gap tolerance), ``time_limit`` (best
#: found when time ran out), ``feasible`` (the solver claimed optimality but its bound does
#: not prove it), ``heuristic`` (no proof; see the bound), ``infeasible``,
#: ``solver_error``.
Status = Literal["optimal", "time_limit", "feasible", "heuristic", "infeasible", "solver_error"]

#: Gains below this many people count as nothing (floating-point noise).
EPS_PEOPLE = 1e-9


@dataclass(frozen=True, eq=False)
class HighsOutcome:
    """What one HiGHS run returned."""

    values: FloatArray | None
    objective: float
    bound: float
    status: Status
    seconds: float
    detail: dict[str, object]
    chosen: IntArray


def run_highs(
    cost: FloatArray,
    matrix: sparse.csc_array,
    *,
    row_lo: FloatArray,
    row_hi: FloatArray,
    col_hi: FloatArray,
    integer: BoolArray,
    maximize: bool,
    time_limit_s: float,
    mip_rel_gap: float,
) -> HighsOutcome:
    """Solve ``opt cost·x`` s.t. ``row_lo <= A x <= row_hi``, ``0 <= x <= col_hi`` with HiGHS.

    HiGHS runs silently (``output_flag=False`` is set before any other call, so not even
    its banner is printed), single-threaded for reproducible results, with a fixed seed.
    No start solution is passed: with one, HiGHS 1.16 returned a suboptimal set cover as
    "optimal" (callers compare with their own heuristic answer instead).
    """
    import highspy

    started = time.perf_counter()
    mat = sparse.csc_array(matrix)
    mat.sort_indices()
    n_rows, n_cols = mat.shape
    h = _silent_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.asarray(col_hi, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lo, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_hi, dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
    lp.a_matrix_.index_ = mat.indices.astype(np.int32)
    lp.a_matrix_.value_ = mat.data.astype(np.float64)
    is_mip = bool(np.any(integer))
    if is_mip:
        kinds = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
            for i in integer
        ]
        lp.integrality_ = kinds
    h.passModel(lp)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    status_text = h.modelStatusToString(model_status)
    has_solution = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else float("nan")
    if model_status == highspy.HighsModelStatus.kOptimal:
        status: Status = "optimal"
    elif model_status == highspy.HighsModelStatus.kTimeLimit:
        status = "time_limit"
    elif model_status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        status = "infeasible"
    else:
        status = "solver_error"
    if is_mip:
        bound, proven = _checked_bound(
            float(info.mip_dual_bound),
            objective,
            float(info.mip_gap),
            maximize=maximize,
            optimal=status == "optimal",
            mip_rel_gap=mip_rel_gap,
        )
        if status == "optimal" and not proven:
            status = "feasible"
        detail: dict[str, object] = {
            "highs_status": status_text,
            "mip_gap": float(info.mip_gap),
            "mip_nodes": int(info.mip_node_count),
            "mip_dual_bound_reported": float(info.mip_dual_bound),
        }
    else:
        bound = objective if status == "optimal" else float("nan")
        detail = {"highs_status": status_text}
    if not math.isfinite(bound):
        bound = float("nan")
    chosen = (
        np.flatnonzero(values > 0.5).astype(np.int64)
        if values is not None
        else np.empty(0, dtype=np.int64)
    )
    return HighsOutcome(
        values=values,
        objective=objective,
        bound=bound,
        status=status,
        seconds=time.perf_counter() - started,
        detail=detail,
        chosen=chosen,
    )


def _silent_highs() -> Any:
    """A HiGHS instance with logging off before anything can print.

    ``highspy.Highs()`` enables its callbacks in ``__init__``, which makes HiGHS print its
    banner before any option can be set; the compiled base class does not. Fall back to the
    public class when the base class is not where it is in highspy 1.7-1.16.
    """
    import highspy

    core = getattr(highspy, "_core", None)
    cls = getattr(core, "_Highs", None) or highspy.Highs
    h = cls()
    h.setOptionValue("output_flag", False)
    return h


def relative_gap(value: float, bound: float) -> float:
    """``|bound - value| / |bound|`` (NaN when either is not finite)."""
    if not (math.isfinite(value) and math.isfinite(bound)):
        return float("nan")
    return abs(bound - value) / max(abs(bound), 1e-12)


def _checked_bound(
    raw: float,
    objective: float,
    gap: float,
    *,
    maximize: bool,
    optimal: bool,
    mip_rel_gap: float,
) -> tuple[float, bool]:
    """HiGHS's dual bound checked against its objective; and whether "optimal" holds up.

    A bound on the wrong side of the objective is not a bound (HiGHS has reported 0 for a
    maximisation solved in presolve, ERGO-Code/HiGHS#2154): for an optimal status the
    objective itself is then the bound, otherwise the bound is unknown (NaN). A bound on
    the right side but farther than the gap tolerance contradicts an "optimal" status
    (seen with a start solution given to HiGHS 1.16: a set cover of 27 sites declared
    optimal with a lower bound of 18; the optimum is 25): the bound is kept (it is valid)
    and the status is not trusted.
    """
    if not math.isfinite(objective):
        return (raw if math.isfinite(raw) else float("nan")), False
    tol = 1e-6 * max(1.0, abs(objective))
    right_side = math.isfinite(raw) and (
        raw >= objective - tol if maximize else raw <= objective + tol
    )
    if not right_side:
        return (objective if optimal else float("nan")), optimal
    allowed = max(mip_rel_gap, gap if math.isfinite(gap) else 0.0) * abs(objective) + tol
    return raw, optimal and abs(raw - objective) <= allowed
