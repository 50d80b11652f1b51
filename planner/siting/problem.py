"""The siting question as data: stations, candidates, homes, and who can reach whom.

:func:`siting_problem` snaps existing stations, candidate sites and homes to the walking
network and computes the station → home and candidate → home coverage relations with
the same bounded searches as the coverage analysis (:func:`planner.walk.reach.reach_matrix`),
held as sparse matrices. The solvers in :mod:`planner.siting.models` and
:mod:`planner.siting.relocation` start from it.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from scipy import sparse

from planner.config import AnalysisConfig
from planner.errors import InputDataError, OffNetworkWarning
from planner.sources.validate import validate_points
from planner.walk.access import Snapped, snap_points
from planner.walk.network import WalkNetwork
from planner.walk.reach import reach_matrix

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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
        return np.asarray(reached_count(self.station_reach) > 0)

    @property
    def reachable(self) -> BoolArray:
        """Homes within the limit of an existing station or of some candidate."""
        by_candidate = np.asarray(reached_count(self.candidate_reach) > 0, dtype=bool)
        return np.asarray(self.covered_before | by_candidate, dtype=bool)


def siting_problem(
    network: WalkNetwork,
    stations: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    config: AnalysisConfig | None = None,
    station_snap: Snapped | None = None,
    demand_snap: Snapped | None = None,
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
    station_snap, demand_snap
        The stations and homes already snapped to ``network`` with ``config.max_snap_m``
        (e.g. the app's plan holds them), row for row; None snaps them here.

    Returns
    -------
    SitingProblem
        The inputs are not modified.

    Notes
    -----
    Home :math:`i` is covered by site :math:`j` (:math:`a_{ij} = 1`) when the network walk
    distance :math:`d_{ij} \le v T` (speed :math:`v`, limit :math:`T`), computed exactly as
    in :func:`planner.walk.coverage.analyze_coverage`: one bounded search per site, homes and
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
    s_snap = _given_or_snapped(network, stations, station_snap, cfg, what="stations")
    c_snap = snap_points(network, candidates.geometry, max_snap_m=cfg.max_snap_m)
    d_snap = _given_or_snapped(network, demand, demand_snap, cfg, what="demand")
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


def _given_or_snapped(
    network: WalkNetwork,
    points: gpd.GeoDataFrame,
    given: Snapped | None,
    cfg: AnalysisConfig,
    *,
    what: str,
) -> Snapped:
    if given is None:
        return snap_points(network, points.geometry, max_snap_m=cfg.max_snap_m)
    if len(given) != len(points):
        msg = (
            f"{what}_snap holds {len(given)} snapped points for {len(points)} {what} rows; "
            f"pass the points snapped from these very rows, or None to snap them here."
        )
        raise InputDataError(msg)
    return given


def reached_count(reach: sparse.csr_array) -> npt.NDArray[np.int64]:
    """Per home (column): how many sites (rows) reach it."""
    csr = sparse.csr_array(reach)
    return np.bincount(csr.indices, minlength=csr.shape[1]).astype(np.int64)
