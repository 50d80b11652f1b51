r"""Where the next stations go: maximal covering, set covering, relocation.

The questions a planner asks after seeing the gaps, answered on the walking network:

* :func:`maximal_covering`: add ``k`` stations (existing ones stay) to serve the most people;
* :func:`set_covering`: the fewest added stations so that every home some site can reach is
  within the limit (homes that no site can reach are reported, not ignored);
* :func:`relocation`: per existing station, the people no other station serves, and the
  gain from moving it to its best nearby candidate;
* :func:`suggest_sites`: the one call behind the app's "suggest" button.

All start from a :class:`SitingProblem`: the candidate → home and station → home coverage
relations from the same bounded searches as the coverage analysis
(:func:`planner.access.reach_matrix`), held as sparse matrices. Solvers live in
:mod:`planner.covering` (greedy with bounds, exact MILP with HiGHS) and
:mod:`planner.capacity` (station capacity).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from planner import __version__
from planner.access import Snapped, reach_matrix, snap_points
from planner.candidates import DEFAULT_SPACING_M, candidates_from_gaps
from planner.capacity import (
    CapacityModel,
    capacitated_max_cover,
    capacitated_set_cover,
    greedy_capacitated_max_cover,
)
from planner.config import AnalysisConfig
from planner.coverage import CoverageResult
from planner.covering import (
    Solution,
    collapse_rows,
    exact_max_cover,
    exact_set_cover,
    greedy_max_cover,
    greedy_set_cover,
    lp_bound_max_cover,
)
from planner.errors import InputDataError, OffNetworkWarning
from planner.milp import relative_gap
from planner.network import WalkNetwork
from planner.sources import validate_points

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Method = Literal["greedy", "exact"]
Model = Literal["maximal_covering", "set_covering"]

#: Columns :func:`planner.coverage.analyze_coverage` adds; dropped when a result is reused.
_COVERAGE_DEMAND_COLUMNS = (
    "walk_min",
    "nearest_station",
    "covered",
    "stations_within",
    "status",
    "snap_m",
)
_COVERAGE_STATION_COLUMNS = (
    "snap_m",
    "on_network",
    "homes_served",
    "population_served",
    "population_only_here",
)
#: Why a home is in :attr:`SitingResult.unreachable`.
REASON_OFF_NETWORK = "off_network"
REASON_NO_SITE = "no_site_within_limit"


# ----------------------------------------------------------------------------- problem


@dataclass(frozen=True, eq=False)
class SitingProblem:
    """Existing stations, candidate sites and homes, and who can reach whom.

    Build it with :func:`siting_problem`. All tables are in WGS84 and keep their inputs'
    index and columns.

    Attributes
    ----------
    config
        Settings (walk limit = ``config.walk_limit_m``).
    stations
        Existing stations with ``id``, ``snap_m`` and ``on_network``.
    candidates
        Candidate sites with ``id``, ``snap_m`` and ``on_network``.
    demand
        Homes with ``id``, ``population``, ``snap_m`` and ``on_network``.
    station_reach
        Sparse ``(stations, homes)`` walk metres, stored where within the limit.
    candidate_reach
        Sparse ``(candidates, homes)`` walk metres, stored where within the limit.
    station_snap, candidate_snap
        Where stations and candidates stand on the network.
    """

    config: AnalysisConfig
    stations: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    station_reach: sparse.csr_array
    candidate_reach: sparse.csr_array
    station_snap: Snapped
    candidate_snap: Snapped

    @property
    def population(self) -> FloatArray:
        """People per home, in demand order."""
        return np.asarray(self.demand["population"].to_numpy(dtype=np.float64), dtype=np.float64)

    @property
    def covered_before(self) -> BoolArray:
        """Homes within the limit of an existing station."""
        return np.asarray(_reached_count(self.station_reach) > 0)

    @property
    def reachable(self) -> BoolArray:
        """Homes within the limit of an existing station or of some candidate."""
        by_candidate = np.asarray(_reached_count(self.candidate_reach) > 0, dtype=bool)
        return np.asarray(self.covered_before | by_candidate, dtype=bool)


def siting_problem(
    network: WalkNetwork,
    stations: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    config: AnalysisConfig | None = None,
) -> SitingProblem:
    r"""Snap stations, candidates and homes, and compute the coverage relations.

    Parameters
    ----------
    network
        The walking network.
    stations
        Existing stations (points with a CRS; ``id`` optional, the index is used when
        absent). May be empty.
    demand
        Homes with a ``population`` column.
    candidates
        Candidate sites (points with a CRS; ``id`` optional, ``C<position>`` when absent).
    config
        Settings; :class:`AnalysisConfig` defaults when None.

    Returns
    -------
    SitingProblem
        The inputs are not modified.

    Notes
    -----
    Home :math:`i` is covered by site :math:`j` (:math:`a_{ij} = 1`) when the network walk
    distance :math:`d_{ij} \le v T` (speed :math:`v`, limit :math:`T`), computed exactly as
    in :func:`planner.coverage.analyze_coverage`: one bounded search per site, homes and
    sites snapped to their nearest street. Off-network candidates (beyond ``max_snap_m``)
    cover nobody and are reported with an :class:`OffNetworkWarning`.
    """
    cfg = config or AnalysisConfig()
    stations = validate_points(stations, what="stations")
    demand = validate_points(demand, what="demand", require=("population",))
    candidates = validate_points(candidates, what="candidates")
    if "id" not in stations.columns:
        stations = stations.assign(id=stations.index.astype(str))
    if "id" not in demand.columns:
        demand = demand.assign(id=demand.index.astype(str))
    if "id" not in candidates.columns:
        candidates = candidates.assign(id=[f"C{i}" for i in range(len(candidates))])
    limit = cfg.walk_limit_m
    s_snap = snap_points(network, stations.geometry, max_snap_m=cfg.max_snap_m)
    c_snap = snap_points(network, candidates.geometry, max_snap_m=cfg.max_snap_m)
    d_snap = snap_points(network, demand.geometry, max_snap_m=cfg.max_snap_m)
    off = ~c_snap.on_network
    if off.any():
        shown = ", ".join(map(str, candidates["id"].to_numpy()[off][:20]))
        msg = (
            f"{int(off.sum())} candidate sites lie more than {cfg.max_snap_m:g} m from every "
            f"street and can serve nobody: {shown}{' ...' if off.sum() > 20 else ''}."
        )
        warnings.warn(msg, OffNetworkWarning, stacklevel=2)
    started = time.perf_counter()
    s_reach = reach_matrix(network, s_snap, d_snap, limit_m=limit)
    c_reach = reach_matrix(network, c_snap, d_snap, limit_m=limit)
    logger.info(
        "Coverage relation: %d candidates x %d homes, %d pairs within %.0f m in %.2f s.",
        len(candidates),
        len(demand),
        c_reach.nnz,
        limit,
        time.perf_counter() - started,
    )
    return SitingProblem(
        config=cfg,
        stations=stations.assign(snap_m=s_snap.snap_m, on_network=s_snap.on_network),
        candidates=candidates.assign(snap_m=c_snap.snap_m, on_network=c_snap.on_network),
        demand=demand.assign(snap_m=d_snap.snap_m, on_network=d_snap.on_network),
        station_reach=s_reach,
        candidate_reach=c_reach,
        station_snap=s_snap,
        candidate_snap=c_snap,
    )


# ------------------------------------------------------------------------------ result


@dataclass(frozen=True, eq=False)
class SitingResult:
    """Proposed new stations and the coverage before and after them.

    Attributes
    ----------
    model
        ``maximal_covering`` or ``set_covering``.
    method
        ``greedy`` or ``exact``.
    k
        Sites asked for (maximal covering), None for set covering.
    capacity
        People per station, or None when unlimited.
    config
        Settings used.
    sites
        Proposed sites (candidate columns kept) in a greedy order: ``rank`` (1 first),
        ``population_added`` (people this site adds after the sites ranked before it;
        with capacity, people assigned to it), ``population_cumulative``,
        ``population_within`` (people within its limit, served before or not) and
        ``population_only_here`` (served by this site and no other station, old or new).
    demand
        Homes with ``covered_before``, ``covered_after``, ``new_site`` (id of the nearest
        proposed site within the limit, if any) and ``walk_min_new_site``; with capacity
        also ``served_share_before`` / ``served_share_after`` (0..1).
    unreachable
        Homes with people that neither an existing station nor any candidate can reach:
        ``id``, ``population``, ``reason`` (``off_network`` or ``no_site_within_limit``).
    population_total, population_covered_before, population_covered_after
        People in all homes, and served before and after (with capacity: assigned).
    objective
        Maximal covering: people served after. Set covering: sites proposed.
    bound
        Proven bound on the optimum of ``objective``: an upper bound for maximal covering,
        a lower bound for set covering (NaN when none is known).
    gap
        ``|bound - objective| / |bound|``: how far from optimal the answer can be.
    guarantee
        A-priori ratio of the method (``1 - 1/e`` for greedy maximal covering, ``H(d)``
        for greedy set covering), None otherwise.
    status
        ``optimal``, ``time_limit``, ``heuristic``, ``infeasible`` or ``solver_error``.
    solve_s, build_s
        Seconds spent solving, and building the model from the problem.
    candidates_total, candidates_on_network, candidates_distinct
        Candidates given, within reach of the network, and with distinct useful coverage.
    detail
        Solver facts (JSON-ready).
    """

    model: Model
    method: Method
    k: int | None
    capacity: float | None
    config: AnalysisConfig
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    unreachable: gpd.GeoDataFrame
    population_total: float
    population_covered_before: float
    population_covered_after: float
    objective: float
    bound: float
    gap: float
    guarantee: float | None
    status: str
    solve_s: float
    build_s: float
    candidates_total: int
    candidates_on_network: int
    candidates_distinct: int
    detail: dict[str, Any]

    @property
    def population_added(self) -> float:
        """People served after minus before."""
        return self.population_covered_after - self.population_covered_before

    @property
    def share_before(self) -> float:
        """Share of people served before (0 without people)."""
        t = self.population_total
        return self.population_covered_before / t if t > 0 else 0.0

    @property
    def share_after(self) -> float:
        """Share of people served after (0 without people)."""
        t = self.population_total
        return self.population_covered_after / t if t > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """Headline figures as a JSON-ready dict (the ``siting.json`` contract)."""
        cfg = self.config
        sites = self.sites
        pts = sites.geometry
        rows = [
            {
                "rank": int(r["rank"]),
                "id": str(r["id"]),
                "lon": round(float(p.x), 7),
                "lat": round(float(p.y), 7),
                "population_added": float(r["population_added"]),
                "population_within": float(r["population_within"]),
                "population_only_here": float(r["population_only_here"]),
            }
            for (_, r), p in zip(sites.iterrows(), pts, strict=True)
        ]
        return {
            "version": __version__,
            "model": self.model,
            "method": self.method,
            "k": self.k,
            "capacity": self.capacity,
            "minutes": cfg.walk_minutes,
            "speed_kmh": cfg.speed_kmh,
            "walk_limit_m": round(cfg.walk_limit_m, 3),
            "max_snap_m": cfg.max_snap_m,
            "stations_existing": int(self.detail.get("stations_existing", 0)),
            "sites_proposed": len(sites),
            "candidates_total": self.candidates_total,
            "candidates_on_network": self.candidates_on_network,
            "candidates_distinct": self.candidates_distinct,
            "population_total": self.population_total,
            "population_covered_before": self.population_covered_before,
            "population_covered_after": self.population_covered_after,
            "population_added": self.population_added,
            "share_covered_before": self.share_before,
            "share_covered_after": self.share_after,
            "objective": self.objective,
            "bound": _json_float(self.bound),
            "gap": _json_float(self.gap),
            "guarantee": self.guarantee,
            "status": self.status,
            "solve_s": round(self.solve_s, 4),
            "build_s": round(self.build_s, 4),
            "unreachable_homes": len(self.unreachable),
            "unreachable_population": float(self.unreachable["population"].sum()),
            "sites": rows,
            "detail": {k: _json_value(v) for k, v in self.detail.items()},
        }


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
    bound of :func:`planner.covering.greedy_max_cover`; exact: HiGHS's dual bound) gives
    the actual gap; ``lp_bound=True`` adds the LP relaxation's bound, usually much tighter.

    With capacity :math:`C` people may be split between stations; :math:`z_{ij}` is the
    share of home :math:`i` served by site :math:`j` (existing :math:`x_j = 1`)::

        maximise    sum_i sum_j p_i z_ij
        subject to  sum_j z_ij <= 1,  sum_i p_i z_ij <= C x_j,  sum_{j new} x_j <= k

    (see :func:`planner.capacity.capacitated_max_cover`); greedy is then a heuristic with
    the LP relaxation as its bound, and "served" counts assigned people.
    """
    _check_k(k)
    _check_method(method)
    if capacity is not None:
        return _capacitated_max(
            problem, k, method=method, capacity=capacity, time_limit_s=time_limit_s
        )
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
    return _result(
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
    :func:`planner.capacity.capacitated_set_cover`) every home with people that some site
    reaches must be fully assigned within capacities; ``status`` is ``infeasible`` when no
    choice of candidates can do it.
    """
    _check_method(method)
    if capacity is not None:
        if method != "exact":
            msg = "set_covering with a capacity is solved exactly: pass method='exact'."
            raise InputDataError(msg)
        return _capacitated_set(problem, capacity=capacity, time_limit_s=time_limit_s)
    started = time.perf_counter()
    pop = problem.population
    c_count = _reached_count(problem.candidate_reach)
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
    return _result(
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


@dataclass(frozen=True, eq=False)
class RelocationResult:
    """Which existing stations add least, and what moving each would gain.

    Attributes
    ----------
    stations
        One row per existing station (input columns kept), fewest unique people first:
        ``population_served`` (within its limit), ``population_only_here`` (served by no
        other station: lost if it closed), ``best_site`` (id of the best candidate within
        ``move_within_m`` walk, or missing), ``move_m`` (walk metres to it),
        ``population_gain`` (people served after the move minus before; may be negative)
        and ``population_after_move``.
    move_within_m
        How far (walk metres) a station may move.
    population_covered
        People served by the existing stations.
    """

    stations: gpd.GeoDataFrame
    move_within_m: float
    population_covered: float


def relocation(
    network: WalkNetwork, problem: SitingProblem, *, move_within_m: float | None = None
) -> RelocationResult:
    r"""Per existing station: people only it serves, and the best move to a nearby candidate.

    Parameters
    ----------
    network
        The walking network the problem was built on.
    problem
        Stations, candidates, homes and coverage relations.
    move_within_m
        Candidates within this walk distance of a station are its possible new sites;
        half the walk limit when None.

    Returns
    -------
    RelocationResult
        A table per station, fewest people served only there first.

    Notes
    -----
    With :math:`c_i` the number of existing stations within the limit of home :math:`i`,
    closing station :math:`s` loses :math:`L_s = \sum_{i \in N(s)} p_i [c_i = 1]`, and
    opening candidate :math:`j` in its place gains
    :math:`G_{sj} = \sum_{i \in N(j)} p_i [c_i - a_{is} = 0]`. The move's net gain is
    :math:`G_{sj} - L_s`; the best candidate within ``move_within_m`` is reported (one
    station moved at a time, the others staying where they are).
    """
    limit = problem.config.walk_limit_m / 2 if move_within_m is None else float(move_within_m)
    if not (math.isfinite(limit) and limit > 0):
        msg = f"move_within_m must be a positive number of metres, got {move_within_m!r}."
        raise InputDataError(msg)
    pop = problem.population
    e = sparse.csr_array(problem.station_reach > 0, dtype=np.float64)
    c = sparse.csr_array(problem.candidate_reach > 0, dtype=np.float64)
    count = np.asarray(e.sum(axis=0)).ravel()
    served = np.asarray(e @ pop).ravel()
    single_w = np.where(count == 1, pop, 0.0)
    only = np.asarray(e @ single_w).ravel()
    base = np.asarray(c @ np.where(count == 0, pop, 0.0)).ravel()  # per candidate
    # extra[j, s]: people only s serves that j would serve.
    extra = sparse.csr_array(c @ sparse.csr_array(e.multiply(single_w[None, :])).T)
    near = reach_matrix(network, problem.station_snap, problem.candidate_snap, limit_m=limit)
    near_coo = sparse.coo_array(near)
    s_idx, j_idx = near_coo.row.astype(np.int64), near_coo.col.astype(np.int64)
    extra_pairs = np.asarray(extra[j_idx, s_idx]).ravel() if s_idx.size else np.empty(0)
    net = base[j_idx] + extra_pairs - only[s_idx]
    n_st = len(problem.stations)
    best_j = np.full(n_st, -1, dtype=np.int64)
    best_gain = np.full(n_st, np.nan)
    best_m = np.full(n_st, np.nan)
    order = np.lexsort((j_idx, -net, s_idx))  # per station: highest gain, lowest index
    first = np.ones(order.size, dtype=bool)
    first[1:] = s_idx[order][1:] != s_idx[order][:-1]
    pick = order[first]
    best_j[s_idx[pick]] = j_idx[pick]
    best_gain[s_idx[pick]] = net[pick]
    best_m[s_idx[pick]] = near_coo.data[pick]
    covered = float(pop[count > 0].sum())
    ids = problem.candidates["id"].astype(str).to_numpy()
    table = problem.stations.drop(
        columns=[c_ for c_ in _COVERAGE_STATION_COLUMNS if c_ in problem.stations.columns]
    ).assign(
        population_served=served,
        population_only_here=only,
        best_site=pd.Series(
            np.where(best_j >= 0, ids[np.maximum(best_j, 0)], None),
            index=problem.stations.index,
            dtype="string",
        ),
        move_m=best_m,
        population_gain=best_gain,
        population_after_move=covered + best_gain,
    )
    table = table.sort_values(["population_only_here", "id"], kind="stable")
    return RelocationResult(stations=table, move_within_m=limit, population_covered=covered)


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
        (:func:`planner.candidates.candidates_from_gaps` with ``spacing_m``).
    config
        Settings; ``result.config`` when None.
    method, capacity, time_limit_s
        As in :func:`maximal_covering`.
    spacing_m
        Thinning of the default candidates, metres.

    Returns
    -------
    SitingResult
        As :func:`maximal_covering`. When everyone is served (no gap) and no candidates
        are given, no site is proposed.
    """
    cfg = config or result.config
    cands = candidates
    if cands is None:
        cands = candidates_from_gaps(network, result, spacing_m=spacing_m)
    demand = result.demand.drop(
        columns=[c for c in _COVERAGE_DEMAND_COLUMNS if c in result.demand.columns]
    )
    stations = result.stations.drop(
        columns=[c for c in _COVERAGE_STATION_COLUMNS if c in result.stations.columns]
    )
    problem = siting_problem(network, stations, demand, cands, config=cfg)
    return maximal_covering(problem, k, method=method, capacity=capacity, time_limit_s=time_limit_s)


# --------------------------------------------------------------------------- internals


def _capacitated_max(
    problem: SitingProblem, k: int, *, method: Method, capacity: float, time_limit_s: float
) -> SitingResult:
    _check_capacity(capacity)
    started = time.perf_counter()
    model, rows, classes = _capacity_model(problem, capacity)
    before = capacitated_max_cover(
        CapacityModel(
            matrix=sparse.csc_array(model.matrix[:, : model.n_fixed]),
            weight=model.weight,
            n_fixed=model.n_fixed,
            capacity=capacity,
        ),
        0,
        integer=False,
    )
    build_s = time.perf_counter() - started
    if method == "exact":
        solution = capacitated_max_cover(model, k, time_limit_s=time_limit_s)
    else:
        solution = greedy_capacitated_max_cover(model, k)
    detail: dict[str, Any] = {
        "homes_in_model": int(rows.size),
        "demand_classes": int(model.weight.size),
        **solution.detail,
    }
    return _result(
        problem,
        model="maximal_covering",
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


def _capacitated_set(
    problem: SitingProblem, *, capacity: float, time_limit_s: float
) -> SitingResult:
    _check_capacity(capacity)
    started = time.perf_counter()
    model, rows, classes = _capacity_model(problem, capacity)
    before = capacitated_max_cover(
        CapacityModel(
            matrix=sparse.csc_array(model.matrix[:, : model.n_fixed]),
            weight=model.weight,
            n_fixed=model.n_fixed,
            capacity=capacity,
        ),
        0,
        integer=False,
    )
    build_s = time.perf_counter() - started
    solution = capacitated_set_cover(model, time_limit_s=time_limit_s)
    detail: dict[str, Any] = {
        "homes_in_model": int(rows.size),
        "demand_classes": int(model.weight.size),
        **solution.detail,
    }
    return _result(
        problem,
        model="set_covering",
        method="exact",
        k=None,
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


def _result(
    problem: SitingProblem,
    *,
    model: Model,
    method: Method,
    k: int | None,
    chosen: npt.NDArray[np.int64],
    solution: Solution,
    objective: float,
    bound: float,
    build_s: float,
    distinct: int,
    detail: dict[str, Any],
    capacity: float | None = None,
    share: tuple[Any, ...] | None = None,
) -> SitingResult:
    """Assemble the result tables from the chosen candidate positions."""
    pop = problem.population
    before = problem.covered_before
    c_reach = sparse.csr_array(problem.candidate_reach)
    order = _greedy_order(c_reach, pop, before, chosen)
    chosen = chosen[order]
    sub = sparse.csr_array(c_reach[chosen]) if chosen.size else sparse.csr_array((0, len(pop)))
    by_new = sub > 0
    new_count = np.asarray(by_new.sum(axis=0)).ravel()
    old_count = _reached_count(problem.station_reach)
    after = before | (new_count > 0)
    within = np.asarray(by_new.astype(np.float64) @ pop).ravel()
    only_w = np.where((new_count == 1) & (old_count == 0), pop, 0.0)
    only_here = np.asarray(by_new.astype(np.float64) @ only_w).ravel()
    added = np.zeros(chosen.size)
    seen = before.copy()
    for r in range(chosen.size):
        cols = sub[[r]].indices
        fresh = cols[~seen[cols]]
        added[r] = pop[fresh].sum()
        seen[cols] = True
    # Nearest proposed site per home.
    near_site = pd.Series(pd.NA, index=problem.demand.index, dtype="string")
    near_min = np.full(len(pop), np.nan)
    if chosen.size:
        coo = sparse.coo_array(sub)
        o = np.lexsort((coo.data, coo.col))
        col, row, dist = coo.col[o], coo.row[o], coo.data[o]
        first = np.ones(col.size, dtype=bool)
        first[1:] = col[1:] != col[:-1]
        ids = problem.candidates["id"].astype(str).to_numpy()[chosen]
        near_site.iloc[col[first]] = ids[row[first]]
        near_min[col[first]] = dist[first] / problem.config.metres_per_minute
    demand_out = problem.demand.assign(
        covered_before=before, covered_after=after, new_site=near_site, walk_min_new_site=near_min
    )
    covered_before_pop = float(pop[before].sum())
    covered_after_pop = float(pop[after].sum())
    if share is not None:
        rows, class_of, before_sol, sol = share
        share_before = np.zeros(len(pop))
        share_after = np.zeros(len(pop))
        cls = class_of
        ok = cls >= 0
        share_before[rows[ok]] = before_sol.served_share[cls[ok]]
        share_after[rows[ok]] = sol.served_share[cls[ok]] if sol.served_share is not None else 0.0
        demand_out = demand_out.assign(
            served_share_before=np.clip(share_before, 0.0, 1.0),
            served_share_after=np.clip(share_after, 0.0, 1.0),
        )
        covered_before_pop = float(before_sol.objective)
        covered_after_pop = float(
            sol.objective if model == "maximal_covering" else (pop * share_after).sum()
        )
        if sol.served_by_site is not None:
            added = np.asarray(sol.served_by_site)[len(problem.stations) + chosen]
    sites = problem.candidates.iloc[chosen].assign(
        rank=np.arange(1, chosen.size + 1),
        population_added=added,
        population_cumulative=covered_before_pop + np.cumsum(added),
        population_within=within,
        population_only_here=only_here,
    )
    unreach = ~problem.reachable & (pop > 0)
    unreachable = gpd.GeoDataFrame(
        {
            "id": problem.demand["id"].to_numpy()[unreach],
            "population": pop[unreach],
            "reason": np.where(
                problem.demand["on_network"].to_numpy()[unreach], REASON_NO_SITE, REASON_OFF_NETWORK
            ),
        },
        geometry=problem.demand.geometry.to_numpy()[unreach],
        crs=problem.demand.crs,
        index=problem.demand.index[unreach],
    )
    detail = {"stations_existing": len(problem.stations), **detail}
    return SitingResult(
        model=model,
        method=method,
        k=k,
        capacity=capacity,
        config=problem.config,
        sites=sites,
        demand=demand_out,
        unreachable=unreachable,
        population_total=float(pop.sum()),
        population_covered_before=covered_before_pop,
        population_covered_after=covered_after_pop,
        objective=objective,
        bound=bound,
        gap=solution.gap,
        guarantee=solution.guarantee,
        status=solution.status,
        solve_s=solution.seconds,
        build_s=build_s,
        candidates_total=len(problem.candidates),
        candidates_on_network=int(problem.candidates["on_network"].sum()),
        candidates_distinct=distinct,
        detail=detail,
    )


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


def _greedy_order(
    reach: sparse.csr_array, pop: FloatArray, before: BoolArray, chosen: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Order the chosen sites greedily (most people added first) for ranking."""
    seen = before.copy()
    left = list(range(chosen.size))
    order: list[int] = []
    rows = [reach[[int(j)]].indices for j in chosen]
    while left:
        gains = [float(pop[rows[i]][~seen[rows[i]]].sum()) for i in left]
        best = left[int(np.argmax(gains))]
        order.append(best)
        seen[rows[best]] = True
        left.remove(best)
    return np.asarray(order, dtype=np.int64)


def _reached_count(reach: sparse.csr_array) -> npt.NDArray[np.int64]:
    """Per home (column): how many sites (rows) reach it."""
    csr = sparse.csr_array(reach)
    return np.bincount(csr.indices, minlength=csr.shape[1]).astype(np.int64)


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


def _json_float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _json_value(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return _json_float(float(v))
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, str | int | bool) or v is None:
        return v
    return str(v)
