"""Which existing stations add least, and what moving each to a nearby candidate would gain."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from planner.errors import InputDataError
from planner.siting.problem import SitingProblem
from planner.walk.network import WalkNetwork
from planner.walk.reach import reach_matrix

#: Columns :func:`planner.walk.coverage.analyze_coverage` adds to stations; not carried over.
COVERAGE_STATION_COLUMNS = (
    "snap_m",
    "on_network",
    "homes_served",
    "population_served",
    "population_only_here",
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
        columns=[c_ for c_ in COVERAGE_STATION_COLUMNS if c_ in problem.stations.columns]
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
