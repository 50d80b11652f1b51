r"""Where new stations raise the lowest access scores most: the access objective of ``suggest``.

Maximal covering (:func:`planner.siting.models.maximal_covering`) counts people brought
within the walk limit; this objective counts how much service the worst-served people
gain. It uses the floating-catchment scores of :mod:`planner.walk.scores` on the same
sparse relations as the covering models (:class:`~planner.siting.problem.SitingProblem`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from scipy import sparse

from planner.errors import InputDataError
from planner.siting.problem import SitingProblem
from planner.walk.scores import (
    AccessSettings,
    decay_weights,
    parse_methods,
    scores_from_reach,
    station_supply,
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class AccessSitingResult:
    """The outcome of :func:`access_siting`.

    Attributes
    ----------
    method
        Access method (:data:`planner.walk.scores.METHODS`).
    k, capacity, worst_share
        New stations asked for, supply of each, and the share of people whose mean
        access is maximised.
    sites
        Chosen candidates in the order picked: their columns plus ``rank``,
        ``objective_gain`` and ``objective_after`` (the objective once this site is added).
    demand
        Homes with ``access_before`` and ``access_after``.
    objective_before, objective_after
        Population-weighted mean access of the worst ``worst_share`` of the people some
        station or candidate can reach, before and after the new sites.
    upper_bound
        No choice of ``k`` candidates reaches a higher objective (see Notes of
        :func:`access_siting`).
    """

    method: str
    k: int
    capacity: float
    worst_share: float
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    objective_before: float
    objective_after: float
    upper_bound: float

    @property
    def gap(self) -> float:
        """Relative gap ``(upper_bound - after) / (upper_bound - before)``; 0 when proven."""
        room = self.upper_bound - self.objective_before
        return 0.0 if room <= 0 else max(0.0, (self.upper_bound - self.objective_after) / room)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (the ``access_objective`` block of ``siting.json``)."""
        pts = self.sites.geometry
        return {
            "objective": f"mean {self.method} access of the worst {self.worst_share:.0%} of people",
            "method": self.method,
            "k": self.k,
            "capacity_per_new_station": self.capacity,
            "worst_share": self.worst_share,
            "objective_before": self.objective_before,
            "objective_after": self.objective_after,
            "upper_bound": self.upper_bound,
            "gap": self.gap,
            "sites": [
                {
                    "rank": int(r["rank"]),
                    "id": str(r["id"]),
                    "lon": float(p.x),
                    "lat": float(p.y),
                    "objective_gain": float(r["objective_gain"]),
                }
                for (_, r), p in zip(self.sites.iterrows(), pts, strict=True)
            ],
        }


def worst_weights(access: FloatArray, population: FloatArray, share: float) -> FloatArray:
    """People counted per home in the worst ``share`` of people (lowest access first).

    The home at the boundary counts in part, so that the weights sum to exactly
    ``share`` of the population.
    """
    order = np.argsort(access, kind="stable")
    want = share * population.sum()
    before = np.cumsum(population[order]) - population[order]
    taken = np.clip(want - before, 0.0, population[order])
    out = np.zeros_like(population)
    out[order] = taken
    return out


def worst_mean(access: FloatArray, population: FloatArray, share: float) -> float:
    """Population-weighted mean access of the worst ``share`` of people (0 with nobody)."""
    w = worst_weights(access, population, share)
    total = w.sum()
    return float((w * access).sum() / total) if total > 0 else 0.0


def access_siting(
    problem: SitingProblem,
    k: int,
    *,
    capacity: float = 1.0,
    method: str = "2sfca",
    worst_share: float = 0.1,
    settings: AccessSettings | None = None,
) -> AccessSitingResult:
    r"""Greedily pick ``k`` candidate sites that raise the worst-served people's access most.

    Parameters
    ----------
    problem
        Stations, candidates, homes and their reach (:func:`planner.siting.problem.siting_problem`).
    k
        New stations to place (1 or more).
    capacity
        Supply of each new station, in the unit of the stations' ``capacity`` column.
    method
        Access method: ``2sfca``, ``e2sfca``, ``g2sfca`` or ``gravity``.
    worst_share
        Share of people (0 < share <= 1) whose mean access is maximised: 0.1 is the worst
        decile.
    settings
        Weighting of the access method.

    Returns
    -------
    AccessSitingResult
        Chosen sites, scores before and after, the objective and its upper bound.

    Notes
    -----
    Let :math:`A_i(S)` be home :math:`i`'s access with the new sites :math:`S` and
    :math:`P_i` its people, over the homes some station or candidate reaches (the others
    cannot gain). The objective is the mean access of the worst share :math:`q` of people,

    .. math::

        F(S) = \min_{0 \le w_i \le P_i,\ \sum_i w_i = qP} \frac{\sum_i w_i A_i(S)}{qP}.

    A station's ratio :math:`R_c = C / \sum_i P_i f(t_{ic})` does not depend on the other
    stations (:func:`planner.walk.scores.access_scores`), so
    :math:`A_i(S) = A_i(\emptyset) + \sum_{c \in S} R_c f(t_{ic})` exactly. The greedy
    adds, ``k`` times, the candidate with the largest :math:`F` after it (only candidates
    that reach a home of the current worst share can raise :math:`F`); among equals (while
    :math:`F` is flat, e.g. more than the worst share of people have no access at all)
    the one that adds most access to the people now in the worst share. It stops early
    when no candidate reaches any of them. Bound: with
    :math:`w^0` the worst-share weights before any site, :math:`F(S) \le F_0(S) =
    \sum_i w^0_i A_i(S) / qP`, which is linear in the sites, so the best :math:`k`
    sites for :math:`F_0` (the :math:`k` largest single gains) give
    ``upper_bound`` :math:`\ge \max_{|S| = k} F(S)`.
    """
    name = parse_methods([method])
    if len(name) != 1 or k < 1:
        msg = f"access siting needs one access method and k >= 1; got {method!r}, k={k!r}."
        raise InputDataError(msg)
    if not (math.isfinite(capacity) and capacity > 0):
        msg = f"capacity of a new station must be a positive number, got {capacity!r}."
        raise InputDataError(msg)
    if not (0 < worst_share <= 1):
        msg = f"worst_share must be in (0, 1], got {worst_share!r}."
        raise InputDataError(msg)
    opts = settings or AccessSettings()
    cfg = problem.config
    pop_all = problem.population
    pop = np.where(problem.reachable, pop_all, 0.0)
    before, _ = scores_from_reach(
        problem.station_reach,
        station_supply(problem.stations),
        pop_all,
        method=name[0],
        settings=opts,
        config=cfg,
    )
    gains = _candidate_gains(problem, capacity, pop_all, name[0], opts)
    access = before.copy()
    chosen: list[int] = []
    objective = [worst_mean(before, pop, worst_share)]
    free = np.ones(gains.shape[0], dtype=bool)
    for _ in range(min(k, gains.shape[0])):
        # Gain of each candidate to the people now in the worst share: the tie-breaker
        # while the objective is flat (many people at 0, no single site lifts them all).
        to_worst = np.asarray(gains @ worst_weights(access, pop, worst_share), dtype=np.float64)
        touching = np.flatnonzero(free & (to_worst > 0))
        best, best_key = -1, (objective[-1], 0.0)
        for c in touching:
            row = gains[[c], :].tocoo()
            trial = access.copy()
            trial[row.col] += row.data
            key = (worst_mean(trial, pop, worst_share), float(to_worst[c]))
            if key[0] > best_key[0] + 1e-15 or (key[0] >= best_key[0] and key[1] > best_key[1]):
                best, best_key = int(c), key
        if best < 0:
            break  # no candidate reaches anybody in the worst share
        best_value = best_key[0]
        row = gains[[best], :].tocoo()
        access[row.col] += row.data
        free[best] = False
        chosen.append(best)
        objective.append(best_value)
    w0 = worst_weights(before, pop, worst_share)
    linear = np.asarray(gains @ w0, dtype=np.float64) / max(w0.sum(), 1e-300)
    top = np.sort(linear)[::-1][:k].sum() if linear.size else 0.0
    sites = problem.candidates.iloc[chosen].assign(
        rank=np.arange(1, len(chosen) + 1),
        objective_gain=np.diff(objective),
        objective_after=objective[1:],
    )
    return AccessSitingResult(
        method=name[0],
        k=k,
        capacity=capacity,
        worst_share=worst_share,
        sites=sites,
        demand=problem.demand.assign(access_before=before, access_after=access),
        objective_before=objective[0],
        objective_after=objective[-1],
        upper_bound=max(objective[0] + float(top), objective[-1]),
    )


def _candidate_gains(
    problem: SitingProblem,
    capacity: float,
    population: FloatArray,
    method: str,
    settings: AccessSettings,
) -> sparse.csr_array:
    """Sparse ``(candidates, homes)``: the access each candidate alone would add per home."""
    reach = sparse.csr_array(problem.candidate_reach)
    n_cand = reach.shape[0]
    _, ratio = scores_from_reach(
        reach,
        np.full(n_cand, capacity),
        population,
        method=method,
        settings=settings,
        config=problem.config,
    )
    weights = decay_weights(
        reach.data / problem.config.metres_per_minute, method, settings, problem.config
    )
    per_row = np.repeat(np.nan_to_num(ratio, nan=0.0), np.diff(reach.indptr))
    return sparse.csr_array((weights * per_row, reach.indices, reach.indptr), shape=reach.shape)
