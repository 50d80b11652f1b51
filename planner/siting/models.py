r"""Where the next stations go: maximal covering, set covering, relocation.

The questions a planner asks after seeing the gaps, answered on the walking network:

* :func:`maximal_covering`: add ``k`` stations (existing ones stay) to serve the most people;
* :func:`set_covering`: the fewest added stations so that every home some site can reach is
  within the limit (homes that no site can reach are reported, not ignored);
* :func:`relocation`: per existing station, the people no other station serves, and the
  gain from moving it to its best nearby candidate;
* :func:`suggest_sites`: the one call behind the app's "suggest" button.

All start from a :class:`~planner.siting.problem.SitingProblem` (:mod:`planner.siting.problem`): the
candidate → home and station → home coverage relations from the same bounded searches as
the coverage analysis (:func:`planner.walk.reach.reach_matrix`), held as sparse matrices.
Solvers live in :mod:`planner.siting.greedy` (greedy with bounds), :mod:`planner.siting.exact`
(exact MILP with HiGHS) and :mod:`planner.siting.capacity` (station capacity); answers are
assembled into a :class:`~planner.siting.proposals.SitingResult` (:mod:`planner.siting.proposals`);
relocation is in :mod:`planner.siting.relocation`. The names most used are importable from here.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from scipy import sparse

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.siting.candidates import (
    DEFAULT_SPACING_M,
    MAX_GAP_CANDIDATES,
    candidates_from_gaps,
    thin_candidates,
)
from planner.siting.capacity import (
    CapacityModel,
    capacitated_max_cover,
    capacitated_set_cover,
    greedy_capacitated_max_cover,
)
from planner.siting.covering import Solution, collapse_rows
from planner.siting.exact import exact_max_cover, exact_set_cover, lp_bound_max_cover
from planner.siting.greedy import greedy_max_cover, greedy_set_cover
from planner.siting.milp import relative_gap
from planner.siting.problem import SitingProblem, reached_count, siting_problem
from planner.siting.proposals import (
    REASON_NO_SITE,
    REASON_OFF_NETWORK,
    Method,
    SitingResult,
    assemble_result,
)
from planner.siting.relocation import COVERAGE_STATION_COLUMNS, RelocationResult, relocation
from planner.walk.access import Snapped
from planner.walk.coverage import CoverageResult
from planner.walk.network import WalkNetwork

logger = logging.getLogger(__name__)

#: Columns :func:`planner.walk.coverage.analyze_coverage` adds to homes; dropped when reused.
_COVERAGE_DEMAND_COLUMNS = (
    "walk_min",
    "nearest_station",
    "covered",
    "stations_within",
    "status",
    "snap_m",
)

__all__ = [
    "REASON_NO_SITE",
    "REASON_OFF_NETWORK",
    "Method",
    "RelocationResult",
    "SitingProblem",
    "SitingResult",
    "maximal_covering",
    "relocation",
    "set_covering",
    "siting_problem",
    "suggest_sites",
]


# ------------------------------------------------------------------------------ models


def maximal_covering(
    problem: SitingProblem,
    k: int,
    *,
    method: Method = "greedy",
    capacity: float | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    local_search: bool = True,
    lp_bound: bool = False,
) -> SitingResult:
    r"""Add ``k`` stations to the existing ones so that the most people are served.

    Parameters
    ----------
    problem
        Stations, candidates, homes and the coverage relations (:func:`siting_problem`).
    k
        Number of new stations (fewer are proposed when no further site adds anyone).
    method
        ``greedy`` (lazy greedy with 1-swap local search, seconds on a city) or ``exact``
        (MILP with HiGHS, started from the greedy answer).
    capacity
        People one station can serve (existing and new alike); None for unlimited.
    time_limit_s
        Time limit of the exact solver; its best answer and bound are returned.
    mip_rel_gap
        The exact solver stops when within this relative gap of optimal.
    local_search
        Improve the greedy answer by swapping sites (greedy only).
    lp_bound
        Greedy only: also solve the LP relaxation (HiGHS, about as long as the root of the
        exact solve) and report the tighter of the two bounds.

    Returns
    -------
    SitingResult
        Proposed sites, coverage before and after, the bound and the gap to optimal.

    Notes
    -----
    Without capacity (MCLP, Church and ReVelle 1974; existing stations fixed, so only homes
    they do not serve count; :math:`N_i` = candidates within the limit of home :math:`i`,
    :math:`p_i` its people)::

        maximise    sum_i p_i y_i
        subject to  y_i <= sum_{j in N_i} x_j     for every home i not served before
                    sum_j x_j <= k
                    x_j in {0, 1},  0 <= y_i <= 1

    Homes with the same :math:`N_i` are merged and candidates with the same coverage kept
    once before solving (the optimum is unchanged). Greedy reaches at least
    :math:`1 - 1/e` of the optimum; the reported bound (greedy: the lazy-greedy online
    bound of :func:`planner.siting.greedy.greedy_max_cover`; exact: HiGHS's dual bound) gives
    the actual gap; ``lp_bound=True`` adds the LP relaxation's bound, usually much tighter.

    With capacity :math:`C` people may be split between stations; :math:`z_{ij}` is the
    share of home :math:`i` served by site :math:`j` (existing :math:`x_j = 1`)::

        maximise    sum_i sum_j p_i z_ij
        subject to  sum_j z_ij <= 1,  sum_i p_i z_ij <= C x_j,  sum_{j new} x_j <= k

    (see :func:`planner.siting.capacity.capacitated_max_cover`); greedy is then a heuristic with
    the LP relaxation as its bound, and "served" counts assigned people.
    """
    _check_k(k)
    _check_method(method)
    if capacity is not None:
        return _capacitated(problem, k, method=method, capacity=capacity, time_limit_s=time_limit_s)
    started = time.perf_counter()
    pop = problem.population
    before = problem.covered_before
    rows = np.flatnonzero(~before & (pop > 0))
    a = sparse.csc_array(problem.candidate_reach[:, rows].T)
    classes = collapse_rows(a, pop[rows])
    cols = collapse_rows(sparse.csr_array(classes.matrix.T), np.ones(classes.matrix.shape[1]))
    reps = _first_of_each(cols.class_of)
    reduced = sparse.csc_array(classes.matrix[:, reps])
    build_s = time.perf_counter() - started
    greedy = greedy_max_cover(reduced, classes.weight, k, local_search=local_search)
    if lp_bound and method == "greedy":
        lp = lp_bound_max_cover(reduced, classes.weight, k, time_limit_s=time_limit_s)
        if math.isfinite(lp) and lp < greedy.bound:
            greedy = dataclasses.replace(
                greedy,
                bound=max(lp, greedy.objective),
                gap=relative_gap(greedy.objective, max(lp, greedy.objective)),
                detail={**greedy.detail, "online_bound": greedy.bound, "lp_bound": lp},
            )
    solution = greedy
    detail: dict[str, Any] = {
        "homes_in_model": int(rows.size),
        "demand_classes": int(classes.weight.size),
        "greedy_objective": float(pop[before].sum() + greedy.objective),
        "greedy_bound": float(pop[before].sum() + greedy.bound),
        "greedy_s": greedy.seconds,
        **{f"greedy_{k_}": v for k_, v in greedy.detail.items()},
    }
    if method == "exact":
        solution = _better(
            exact_max_cover(
                reduced, classes.weight, k, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap
            ),
            greedy,
            maximize=True,
        )
        detail.update(solution.detail)
    chosen = reps[solution.chosen]
    base = float(pop[before].sum())
    # No choice of sites serves more people than some site can reach: HiGHS's dual bound
    # (within its MIP gap) and greedy's online bound can exceed that, so they are capped.
    reachable = float(classes.weight[np.asarray(classes.matrix.sum(axis=1)).ravel() > 0].sum())
    if math.isfinite(solution.bound) and solution.bound > reachable:
        capped = max(reachable, solution.objective)
        solution = dataclasses.replace(
            solution, bound=capped, gap=relative_gap(solution.objective, capped)
        )
    return assemble_result(
        problem,
        model="maximal_covering",
        method=method,
        k=k,
        chosen=chosen,
        solution=solution,
        objective=base + solution.objective,
        bound=base + solution.bound,
        build_s=build_s,
        distinct=int(reps.size),
        detail=detail,
    )


def set_covering(
    problem: SitingProblem,
    *,
    method: Method = "greedy",
    capacity: float | None = None,
    time_limit_s: float = 60.0,
) -> SitingResult:
    r"""The fewest new stations so that every home that some site can reach is served.

    Parameters
    ----------
    problem
        Stations, candidates, homes and the coverage relations.
    method
        ``greedy`` (Chvátal's greedy with redundant sites removed; LP lower bound) or
        ``exact`` (MILP with HiGHS, proven optimal unless the time limit is hit).
    capacity
        People one station can serve; None for unlimited. Requires ``method="exact"``.
    time_limit_s
        Time limit of the exact solver.

    Returns
    -------
    SitingResult
        ``objective`` = new stations proposed; ``unreachable`` lists the homes with people
        that no existing station and no candidate can reach (they are left out of the
        requirement, and counted).

    Notes
    -----
    LSCP (Toregas et al. 1971), existing stations fixed; :math:`U` = homes with people not
    served before that some candidate can reach::

        minimise    sum_j x_j
        subject to  sum_{j in N_i} x_j >= 1       for every home i in U
                    x_j in {0, 1}

    With capacity (spopt's CLSCP-SO with existing stations open; see
    :func:`planner.siting.capacity.capacitated_set_cover`) every home with people that some site
    reaches must be fully assigned within capacities; ``status`` is ``infeasible`` when no
    choice of candidates can do it.
    """
    _check_method(method)
    if capacity is not None:
        if method != "exact":
            msg = "set_covering with a capacity is solved exactly: pass method='exact'."
            raise InputDataError(msg)
        return _capacitated(
            problem, None, method="exact", capacity=capacity, time_limit_s=time_limit_s
        )
    started = time.perf_counter()
    pop = problem.population
    c_count = reached_count(problem.candidate_reach)
    rows = np.flatnonzero(~problem.covered_before & (pop > 0) & (c_count > 0))
    a = sparse.csc_array(problem.candidate_reach[:, rows].T)
    classes = collapse_rows(a, pop[rows])
    cols = collapse_rows(sparse.csr_array(classes.matrix.T), np.ones(classes.matrix.shape[1]))
    reps = _first_of_each(cols.class_of)
    reduced = sparse.csc_array(classes.matrix[:, reps])
    build_s = time.perf_counter() - started
    greedy = greedy_set_cover(reduced)
    solution = greedy
    detail: dict[str, Any] = {
        "homes_in_model": int(rows.size),
        "demand_classes": int(classes.weight.size),
        "greedy_sites": int(greedy.chosen.size),
        "greedy_s": greedy.seconds,
        **{f"greedy_{k_}": v for k_, v in greedy.detail.items()},
    }
    if method == "exact":
        solution = _better(
            exact_set_cover(reduced, time_limit_s=time_limit_s), greedy, maximize=False
        )
        detail.update(solution.detail)
    chosen = reps[solution.chosen]
    return assemble_result(
        problem,
        model="set_covering",
        method=method,
        k=None,
        chosen=chosen,
        solution=solution,
        objective=float(chosen.size),
        bound=solution.bound,
        build_s=build_s,
        distinct=int(reps.size),
        detail=detail,
    )


def suggest_sites(
    network: WalkNetwork,
    result: CoverageResult,
    *,
    k: int,
    candidates: gpd.GeoDataFrame | None = None,
    config: AnalysisConfig | None = None,
    method: Method = "greedy",
    capacity: float | None = None,
    time_limit_s: float = 60.0,
    spacing_m: float = DEFAULT_SPACING_M,
    max_candidates: int | None = MAX_GAP_CANDIDATES,
    station_snap: Snapped | None = None,
    demand_snap: Snapped | None = None,
) -> SitingResult:
    """The best ``k`` new sites for a finished coverage analysis (the app's "suggest").

    Parameters
    ----------
    network
        The walking network the coverage was computed on.
    result
        The coverage analysis (its stations stay; its homes are the demand).
    k
        Number of new stations.
    candidates
        Candidate sites; by default network nodes in the gap zones
        (:func:`planner.siting.candidates.candidates_from_gaps` with ``spacing_m``).
    config
        Settings; ``result.config`` when None.
    method, capacity, time_limit_s
        As in :func:`maximal_covering`.
    spacing_m
        Thinning of the default candidates, metres.
    max_candidates
        When the default candidates at ``spacing_m`` are more than this, they are thinned
        again on a grid ``ceil(sqrt(count / max_candidates))`` times wider (each gap zone
        keeps one at least); ``detail["candidate_spacing_m"]`` says which grid was used.
        Each candidate costs one bounded search, so this keeps a metro area's suggestion
        within seconds. None keeps ``spacing_m``.
    station_snap, demand_snap
        The result's stations and homes as already snapped (the app's plan holds them),
        row for row; None snaps them again (:func:`~planner.siting.problem.siting_problem`).

    Returns
    -------
    SitingResult
        As :func:`maximal_covering`. When everyone is served (no gap) and no candidates
        are given, no site is proposed.
    """
    cfg = config or result.config
    cands = candidates
    spacing = spacing_m
    if cands is None:
        cands = candidates_from_gaps(network, result, spacing_m=spacing)
        if max_candidates is not None and len(cands) > max_candidates:
            spacing = spacing_m * math.ceil(math.sqrt(len(cands) / max(max_candidates, 1)))
            cands = thin_candidates(cands, spacing_m=spacing, crs=network.crs)
    demand = result.demand.drop(
        columns=[c for c in _COVERAGE_DEMAND_COLUMNS if c in result.demand.columns]
    )
    stations = result.stations.drop(
        columns=[c for c in COVERAGE_STATION_COLUMNS if c in result.stations.columns]
    )
    problem = siting_problem(
        network,
        stations,
        demand,
        cands,
        config=cfg,
        station_snap=station_snap,
        demand_snap=demand_snap,
    )
    found = maximal_covering(
        problem, k, method=method, capacity=capacity, time_limit_s=time_limit_s
    )
    if candidates is not None or spacing == spacing_m:
        return found
    return dataclasses.replace(found, detail={**found.detail, "candidate_spacing_m": spacing})


# --------------------------------------------------------------------------- internals


def _capacitated(
    problem: SitingProblem,
    k: int | None,
    *,
    method: Method,
    capacity: float,
    time_limit_s: float,
) -> SitingResult:
    """Maximal covering (``k`` given) or set covering (``k`` None) with station capacity."""
    _check_capacity(capacity)
    started = time.perf_counter()
    model, rows, classes = _capacity_model(problem, capacity)
    existing_only = CapacityModel(
        matrix=sparse.csc_array(model.matrix[:, : model.n_fixed]),
        weight=model.weight,
        n_fixed=model.n_fixed,
        capacity=capacity,
    )
    before = capacitated_max_cover(existing_only, 0, integer=False)
    build_s = time.perf_counter() - started
    if k is None:
        solution = capacitated_set_cover(model, time_limit_s=time_limit_s)
    elif method == "exact":
        solution = capacitated_max_cover(model, k, time_limit_s=time_limit_s)
    else:
        solution = greedy_capacitated_max_cover(model, k)
    detail: dict[str, Any] = {
        "homes_in_model": int(rows.size),
        "demand_classes": int(model.weight.size),
        **solution.detail,
    }
    return assemble_result(
        problem,
        model="maximal_covering" if k is not None else "set_covering",
        method=method,
        k=k,
        chosen=solution.chosen,
        solution=solution,
        objective=solution.objective,
        bound=solution.bound,
        build_s=build_s,
        distinct=len(problem.candidates),
        detail=detail,
        capacity=capacity,
        share=(rows, classes, before, solution),
    )


def _capacity_model(
    problem: SitingProblem, capacity: float
) -> tuple[CapacityModel, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Homes with people that some site reaches x (stations, candidates), rows merged."""
    pop = problem.population
    rows = np.flatnonzero(problem.reachable & (pop > 0))
    both = sparse.vstack(
        [problem.station_reach[:, rows], problem.candidate_reach[:, rows]], format="csr"
    )
    classes = collapse_rows(sparse.csc_array(both.T), pop[rows])
    model = CapacityModel(
        matrix=classes.matrix,
        weight=classes.weight,
        n_fixed=len(problem.stations),
        capacity=float(capacity),
    )
    return model, rows, classes.class_of


def _better(exact: Solution, greedy: Solution, *, maximize: bool) -> Solution:
    """The exact solver's answer, or greedy's when that is better (time limit hit).

    The bound stays the exact solver's: it bounds the optimum whatever the answer.
    """
    if not math.isfinite(exact.objective):
        return greedy
    worse = exact.objective < greedy.objective if maximize else exact.objective > greedy.objective
    if exact.status == "optimal" or not worse:
        return exact
    bound = exact.bound if math.isfinite(exact.bound) else greedy.bound
    return dataclasses.replace(
        exact,
        chosen=greedy.chosen,
        gains=greedy.gains,
        objective=greedy.objective,
        bound=bound,
        gap=relative_gap(greedy.objective, bound),
        detail={**exact.detail, "incumbent": "greedy (better than the solver's best)"},
    )


def _first_of_each(class_of: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Position of the first member of each class 0..n-1 (members with class -1 skipped)."""
    valid = np.flatnonzero(class_of >= 0)
    _, first = np.unique(class_of[valid], return_index=True)
    return valid[first].astype(np.int64)


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        msg = f"k must be a whole number of new stations, 1 or more; got {k!r}."
        raise InputDataError(msg)


def _check_method(method: str) -> None:
    if method not in ("greedy", "exact"):
        msg = f"method must be 'greedy' or 'exact', got {method!r}."
        raise InputDataError(msg)


def _check_capacity(capacity: float) -> None:
    if not (isinstance(capacity, int | float) and math.isfinite(capacity) and capacity > 0):
        msg = f"capacity must be a positive number of people per station, got {capacity!r}."
        raise InputDataError(msg)
