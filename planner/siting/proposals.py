"""Proposed sites and the coverage before and after them: :class:`SitingResult`.

The solvers of :mod:`planner.siting.models` pick candidate positions; :func:`assemble_result`
turns them into the result tables (sites in a greedy order with what each adds, homes
before and after, homes nobody can reach) and headline figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from planner._version import __version__
from planner.config import AnalysisConfig
from planner.siting.covering import Solution
from planner.siting.problem import FloatArray, SitingProblem, reached_count

BoolArray = npt.NDArray[np.bool_]
Method = Literal["greedy", "exact"]
Model = Literal["maximal_covering", "set_covering"]

#: Why a home is in :attr:`SitingResult.unreachable`.
REASON_OFF_NETWORK = "off_network"
REASON_NO_SITE = "no_site_within_limit"


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
        with capacity, people assigned to it), ``population_cumulative`` (served with the
        sites up to this one; NaN with capacity),
        ``population_within`` (people within its limit, served before or not) and
        ``population_only_here`` (served by this site and no other station, old or new).
        Without capacity a site that adds nobody is never proposed, even when asked for.
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
    sites_enough
        Maximal covering without capacity: the number of sites proposed when fewer than
        ``k`` serve every home that some site can reach (more would add nobody); None
        otherwise.
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
    sites_enough: int | None = None

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
            "sites_enough": self.sites_enough,
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


def assemble_result(
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
    dropped = 0
    if model == "maximal_covering" and share is None and chosen.size:
        # A site whose people are all served by the sites ranked before it adds nobody:
        # it is not proposed (coverage is unchanged without it).
        useful = _adds_people(c_reach, pop, before, chosen)
        dropped = int((~useful).sum())
        chosen = chosen[useful]
    sub = sparse.csr_array(c_reach[chosen]) if chosen.size else sparse.csr_array((0, len(pop)))
    by_new = sub > 0
    new_count = np.asarray(by_new.sum(axis=0)).ravel()
    old_count = reached_count(problem.station_reach)
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
        ok = class_of >= 0
        share_before[rows[ok]] = before_sol.served_share[class_of[ok]]
        if sol.served_share is not None:
            share_after[rows[ok]] = sol.served_share[class_of[ok]]
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
    # With capacity people move between stations: a running total of the sites' loads is
    # not the people served, so no cumulative figure is given.
    cumulative = (
        covered_before_pop + np.cumsum(added) if share is None else np.full(chosen.size, np.nan)
    )
    sites = problem.candidates.iloc[chosen].assign(
        rank=np.arange(1, chosen.size + 1),
        population_added=added,
        population_cumulative=cumulative,
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
    if dropped:
        detail["sites_adding_nobody_dropped"] = dropped
    enough = None
    if model == "maximal_covering" and share is None and k is not None and chosen.size < k:
        reachable_by_site = (reached_count(problem.candidate_reach) > 0) & (pop > 0)
        if bool(after[reachable_by_site].all()):
            enough = int(chosen.size)
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
        sites_enough=enough,
    )


def _adds_people(
    reach: sparse.csr_array, pop: FloatArray, before: BoolArray, chosen: npt.NDArray[np.int64]
) -> BoolArray:
    """Per chosen site (in rank order), whether it serves someone the sites before it do not."""
    seen = before.copy()
    useful = np.zeros(chosen.size, dtype=bool)
    for r, j in enumerate(chosen):
        cols = reach[[int(j)]].indices
        fresh = cols[~seen[cols]]
        useful[r] = bool(pop[fresh].sum() > 0)
        seen[cols] = True
    return useful


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
