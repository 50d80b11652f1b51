r"""How much service each home can reach: floating-catchment and gravity access scores.

Coverage (:mod:`planner.walk.coverage`) says whether a station is within the walk limit;
these scores also say how crowded it is. A station's *supply* (its ``capacity`` column,
1 when absent) is shared among the people within its walk limit, and each home adds up the
shares of the stations it can reach. All methods run on the sparse station x home walk
distance relation within the limit (:func:`planner.walk.reach.reach_matrix`, the relation
the siting models use), never on a dense matrix.

Methods (``method`` names as in the columns ``access_<method>`` and ``ratio_<method>``):

``2sfca``
    Two-step floating catchment area, Luo & Wang (2003).
``e2sfca``
    Enhanced 2SFCA with stepped weights per walk band, Luo & Qi (2009).
``g2sfca``
    2SFCA with Gaussian distance decay (Dai 2010), the smooth variant of E2SFCA.
``gravity``
    Gravity-based 2SFCA: the gravity potential with competition (Joseph & Bantock 1982,
    as written by Wang 2012), with a configurable exponent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.sources.validate import validate_points
from planner.walk.access import snap_points
from planner.walk.gaps import cluster_unserved
from planner.walk.network import WalkNetwork
from planner.walk.reach import reach_matrix

FloatArray = npt.NDArray[np.float64]

#: The methods, in the order columns and figures are written.
METHODS = ("2sfca", "e2sfca", "g2sfca", "gravity")

#: E2SFCA's default stepped weights: (upper bound of the walk band in minutes, weight).
#: Luo & Qi (2009) weight three travel-time zones 1.00, 0.68 and 0.22 (a Gaussian decay
#: sampled at the zones' middles); here the zones are the 5/10/15-minute walk bands.
DEFAULT_STEP_WEIGHTS: tuple[tuple[float, float], ...] = ((5.0, 1.0), (10.0, 0.68), (15.0, 0.22))


@dataclass(frozen=True, slots=True)
class AccessSettings:
    r"""How the access scores weight walk time; every method's catchment is the walk limit.

    Parameters
    ----------
    step_weights
        E2SFCA: ``(upper bound in minutes, weight)`` per walk band, ascending. A home at
        ``t`` minutes gets the weight of the first band with ``t <= bound``; beyond the
        last band (but within the limit) the weight is 0. Default
        :data:`DEFAULT_STEP_WEIGHTS`.
    gaussian_sigma_min
        G2SFCA: width :math:`\sigma` in minutes of the Gaussian decay
        :math:`e^{-t^2 / 2\sigma^2}`; half the walk limit when None.
    gravity_beta
        Gravity: the decay exponent :math:`\beta` of :math:`t^{-\beta}` (default 1.5).
    gravity_min_minutes
        Gravity: walk times below this count as this (the potential of :math:`t = 0` would
        be infinite); default 1 minute.
    threshold
        Access below which people are counted as under-served in the summary (in supply
        per person, the unit of the scores); None to leave the figure out.
    """

    step_weights: tuple[tuple[float, float], ...] = field(default=DEFAULT_STEP_WEIGHTS)
    gaussian_sigma_min: float | None = None
    gravity_beta: float = 1.5
    gravity_min_minutes: float = 1.0
    threshold: float | None = None

    def __post_init__(self) -> None:
        bounds = [b for b, _ in self.step_weights]
        if not self.step_weights or any(
            not (math.isfinite(b) and b > 0 and math.isfinite(w) and w >= 0)
            for b, w in self.step_weights
        ):
            msg = (
                "AccessSettings: step_weights must be (minutes > 0, weight >= 0) pairs, got "
                f"{self.step_weights!r}."
            )
            raise InputDataError(msg)
        if bounds != sorted(set(bounds)):
            msg = f"AccessSettings: step_weights bands must ascend, got {bounds!r}."
            raise InputDataError(msg)
        checks = {
            "gaussian_sigma_min": self.gaussian_sigma_min,
            "gravity_beta": self.gravity_beta,
            "gravity_min_minutes": self.gravity_min_minutes,
        }
        for name, value in checks.items():
            if value is not None and not (math.isfinite(value) and value > 0):
                msg = f"AccessSettings: {name} must be a positive number, got {value!r}."
                raise InputDataError(msg)
        if self.threshold is not None and not (
            math.isfinite(self.threshold) and self.threshold >= 0
        ):
            msg = f"AccessSettings: threshold must be 0 or more, got {self.threshold!r}."
            raise InputDataError(msg)


@dataclass(frozen=True, eq=False)
class AccessScores:
    """The outcome of :func:`access_scores`. Layers are in WGS84 and keep the inputs' index.

    Attributes
    ----------
    methods
        The methods computed, in :data:`METHODS` order.
    settings
        The weighting used.
    config
        The analysis settings (walk limit and speed).
    demand
        Input homes plus ``access_<method>`` per method (supply per person reachable;
        0 for homes no station reaches, off-network homes included).
    stations
        Input stations plus ``supply`` (capacity used) and ``ratio_<method>`` per method
        (supply per weighted person in the catchment; NaN when nobody lives within it).
    """

    methods: tuple[str, ...]
    settings: AccessSettings
    config: AnalysisConfig
    demand: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame

    def summary(self) -> dict[str, Any]:
        """The ``access`` block of ``summary.json``: settings and figures per method."""
        pop = self.demand["population"].to_numpy(dtype=float)
        return {
            "methods": list(self.methods),
            "unit": "supply per person",
            "settings": settings_dict(self.settings, self.config),
            "by_method": {
                m: access_summary(
                    self.demand[f"access_{m}"].to_numpy(dtype=float),
                    pop,
                    threshold=self.settings.threshold,
                )
                for m in self.methods
            },
        }


def parse_methods(methods: str | Sequence[str]) -> tuple[str, ...]:
    """Method names from ``"2sfca,gravity"`` or a sequence, checked, in :data:`METHODS` order.

    Raises
    ------
    InputDataError
        For an unknown or missing name.
    """
    given = methods.split(",") if isinstance(methods, str) else list(methods)
    names = [m.strip().lower() for m in given if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        msg = f"access methods must be some of {', '.join(METHODS)}; got {methods!r}."
        raise InputDataError(msg)
    return tuple(m for m in METHODS if m in names)


def parse_step_weights(text: str) -> tuple[tuple[float, float], ...]:
    """E2SFCA weights from ``"5:1,10:0.68,15:0.22"`` (minutes:weight per band)."""
    pairs = []
    try:
        for part in text.split(","):
            minutes, weight = part.split(":")
            pairs.append((float(minutes), float(weight)))
    except ValueError as err:
        msg = f"E2SFCA weights must read like '5:1,10:0.68,15:0.22' (minutes:weight), got {text!r}."
        raise InputDataError(msg) from err
    return tuple(pairs)


def decay_weights(
    minutes: FloatArray, method: str, settings: AccessSettings, config: AnalysisConfig
) -> FloatArray:
    """The weight :math:`f(t)` of each walk time (minutes within the limit) for ``method``."""
    t = np.asarray(minutes, dtype=np.float64)
    if method == "2sfca":
        return np.ones_like(t)
    if method == "e2sfca":
        bounds = np.array([b for b, _ in settings.step_weights])
        weights = np.append([w for _, w in settings.step_weights], 0.0)
        return np.asarray(weights[np.searchsorted(bounds, t, side="left")], dtype=np.float64)
    if method == "g2sfca":
        sigma = settings.gaussian_sigma_min or config.walk_minutes / 2.0
        return np.asarray(np.exp(-(t**2) / (2.0 * sigma**2)), dtype=np.float64)
    if method == "gravity":
        floor = settings.gravity_min_minutes
        return np.asarray(np.maximum(t, floor) ** -settings.gravity_beta, dtype=np.float64)
    msg = f"unknown access method {method!r}; one of {', '.join(METHODS)}."
    raise InputDataError(msg)


def scores_from_reach(
    reach_m: sparse.csr_array,
    supply: FloatArray,
    population: FloatArray,
    *,
    method: str,
    settings: AccessSettings,
    config: AnalysisConfig,
) -> tuple[FloatArray, FloatArray]:
    r"""Per home access and per station ratio from the sparse station x home walk metres.

    Parameters
    ----------
    reach_m
        Sparse ``(stations, homes)`` walk distance in metres, stored where within the limit
        (:func:`planner.walk.reach.reach_matrix`).
    supply
        Supply per station (:math:`S_j`).
    population
        People per home (:math:`P_i`).
    method
        One of :data:`METHODS`.
    settings, config
        Weighting, walk limit and speed.

    Returns
    -------
    access, ratio
        :math:`A_i` per home (0 where no station reaches) and :math:`R_j` per station (NaN
        when its weighted catchment population is 0; such a station adds nothing).

    Notes
    -----
    See :func:`access_scores`. Cost: two sparse products over the stored pairs.
    """
    csr = sparse.csr_array(reach_m)
    weights = decay_weights(csr.data / config.metres_per_minute, method, settings, config)
    w = sparse.csr_array((weights, csr.indices, csr.indptr), shape=csr.shape)
    weighted_demand = np.asarray(w @ population, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted_demand > 0, supply / weighted_demand, np.nan)
    access = np.asarray(w.T @ np.nan_to_num(ratio, nan=0.0), dtype=np.float64)
    return access, np.asarray(ratio, dtype=np.float64)


def station_supply(stations: pd.DataFrame) -> FloatArray:
    """Supply per station: the ``capacity`` column, 1 when absent or empty in a row.

    Raises
    ------
    InputDataError
        When a capacity is negative or not a number (naming the rows).
    """
    if "capacity" not in stations.columns:
        return np.ones(len(stations))
    cap = pd.to_numeric(stations["capacity"], errors="coerce")
    given = stations["capacity"].notna()
    bad = given & ~(cap.apply(lambda v: math.isfinite(v) and v >= 0))
    if bad.any():
        rows = list(stations.index[bad.to_numpy()][:20])
        msg = f"stations: capacity must be a number 0 or more; rows {rows} are not."
        raise InputDataError(msg)
    return np.asarray(cap.fillna(1.0).to_numpy(dtype=float), dtype=np.float64)


def access_scores(
    network: WalkNetwork,
    stations: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    methods: str | Sequence[str] = ("2sfca",),
    settings: AccessSettings | None = None,
    config: AnalysisConfig | None = None,
    reach_m: sparse.csr_array | None = None,
) -> AccessScores:
    r"""Floating-catchment (2SFCA, E2SFCA, Gaussian) and gravity access scores on the walk network.

    Parameters
    ----------
    network
        The walking network.
    stations
        Station points with a CRS; ``capacity`` (supply) optional, 1 when absent.
    demand
        Homes with a CRS and a ``population`` column.
    methods
        Some of :data:`METHODS`, as names or ``"2sfca,e2sfca"``.
    settings
        Weighting (:class:`AccessSettings`); the defaults when None.
    config
        Walk limit and speed; :class:`~planner.config.AnalysisConfig` defaults when None.
    reach_m
        The station x home walk metres within the limit when already computed (e.g.
        :attr:`planner.siting.problem.SitingProblem.station_reach`); computed when None.

    Returns
    -------
    AccessScores
        Homes with ``access_<method>``, stations with ``supply`` and ``ratio_<method>``.
        The inputs are not modified.

    Notes
    -----
    With supply :math:`S_j` at station :math:`j`, :math:`P_i` people at home :math:`i`,
    walk time :math:`t_{ij}` in minutes and the walk limit :math:`T`, every method is the
    two-step form with a weight :math:`f`, zero beyond the limit:

    .. math::

        R_j = \frac{S_j}{\sum_{i:\, t_{ij} \le T} P_i f(t_{ij})}, \qquad
        A_i = \sum_{j:\, t_{ij} \le T} R_j f(t_{ij}).

    - ``2sfca`` (Luo & Wang 2003): :math:`f = 1`.
    - ``e2sfca`` (Luo & Qi 2009): :math:`f(t) = w_r` for :math:`t` in band :math:`r`
      (default 1, 0.68, 0.22 for 0-5, 5-10, 10-15 minutes).
    - ``g2sfca`` (Dai 2010): :math:`f(t) = e^{-t^2/2\sigma^2}`, :math:`\sigma = T/2`.
    - ``gravity`` (Joseph & Bantock 1982; Wang 2012):
      :math:`f(t) = \max(t, t_0)^{-\beta}`, :math:`\beta = 1.5`, :math:`t_0 = 1` minute.

    Each station's supply is spread over the people who reach it, so
    :math:`\sum_i P_i A_i = \sum_j S_j` over stations with people in reach: the
    population-weighted mean of :math:`A` is the supply per person when every station is
    used. A station's ratio does not depend on the other stations (the known 2SFCA
    simplification of competition), which :mod:`planner.siting.access_siting` relies on.
    """
    cfg = config or AnalysisConfig()
    opts = settings or AccessSettings()
    names = parse_methods(methods)
    stations = validate_points(stations, what="stations")
    demand = validate_points(demand, what="demand", require=("population",))
    supply = station_supply(stations)
    if reach_m is None:
        s_snap = snap_points(network, stations.geometry, max_snap_m=cfg.max_snap_m)
        d_snap = snap_points(network, demand.geometry, max_snap_m=cfg.max_snap_m)
        reach_m = reach_matrix(network, s_snap, d_snap, limit_m=cfg.walk_limit_m)
    if reach_m.shape != (len(stations), len(demand)):
        msg = f"reach_m has shape {reach_m.shape}; expected {(len(stations), len(demand))}."
        raise InputDataError(msg)
    pop = demand["population"].to_numpy(dtype=float)
    home_cols: dict[str, FloatArray] = {}
    station_cols: dict[str, FloatArray] = {"supply": supply}
    for m in names:
        access, ratio = scores_from_reach(reach_m, supply, pop, method=m, settings=opts, config=cfg)
        home_cols[f"access_{m}"] = access
        station_cols[f"ratio_{m}"] = ratio
    return AccessScores(
        methods=names,
        settings=opts,
        config=cfg,
        demand=demand.assign(**home_cols),
        stations=stations.assign(**station_cols),
    )


# ------------------------------------------------------------------------- summaries


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float | None:
    """Weighted quantile: the smallest value with at least ``q`` of the weight at or below it."""
    if weights.sum() <= 0:
        return None
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    pos = min(int(np.searchsorted(cum, q - 1e-12)), values.size - 1)
    return float(values[order][pos])


def weighted_gini(values: FloatArray, weights: FloatArray) -> float | None:
    r"""Gini coefficient of ``values`` across people (``weights``), from the Lorenz curve.

    :math:`G = 1 - \sum_k (F_k - F_{k-1})(L_k + L_{k-1})` with :math:`F` the cumulative
    share of people and :math:`L` the cumulative share of the value, homes sorted by value.
    None when there are no people or the values sum to 0.
    """
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    total_w, total_vw = w.sum(), (v * w).sum()
    if total_w <= 0 or total_vw <= 0:
        return None
    f = np.concatenate([[0.0], np.cumsum(w) / total_w])
    lor = np.concatenate([[0.0], np.cumsum(v * w) / total_vw])
    return float(1.0 - np.sum(np.diff(f) * (lor[1:] + lor[:-1])))


def access_summary(
    access: FloatArray, population: FloatArray, *, threshold: float | None = None
) -> dict[str, float | None]:
    """Population-weighted mean, median, p10, p90, Gini and share below ``threshold``."""
    a = np.asarray(access, dtype=np.float64)
    p = np.asarray(population, dtype=np.float64)
    total = p.sum()
    out: dict[str, float | None] = {
        "mean": float((a * p).sum() / total) if total > 0 else None,
        "median": weighted_quantile(a, p, 0.5),
        "p10": weighted_quantile(a, p, 0.1),
        "p90": weighted_quantile(a, p, 0.9),
        "gini": weighted_gini(a, p),
        "share_no_access": float(p[a <= 0].sum() / total) if total > 0 else None,
    }
    if threshold is not None:
        out["threshold"] = threshold
        out["share_below_threshold"] = float(p[a < threshold].sum() / total) if total > 0 else None
    return out


def settings_dict(settings: AccessSettings, config: AnalysisConfig) -> dict[str, Any]:
    """The weighting as JSON-ready data (the ``settings`` of the summary's ``access`` block)."""
    return {
        "catchment_minutes": config.walk_minutes,
        "e2sfca_step_weights": [[b, w] for b, w in settings.step_weights],
        "g2sfca_sigma_min": settings.gaussian_sigma_min or config.walk_minutes / 2.0,
        "gravity_beta": settings.gravity_beta,
        "gravity_min_minutes": settings.gravity_min_minutes,
        "threshold": settings.threshold,
    }


def access_gap_zones(
    demand: gpd.GeoDataFrame,
    method: str,
    *,
    below: float,
    link_m: float,
) -> pd.DataFrame:
    """Zones of under-served homes: access below ``below``, clustered as coverage gap zones.

    Parameters
    ----------
    demand
        Homes with ``population`` and ``access_<method>`` (:attr:`AccessScores.demand`).
    method
        Which score.
    below
        Homes with a score below this are under-served (homes no station reaches score 0).
    link_m
        Under-served homes closer than this form one zone (as ``gap_link_m``).

    Returns
    -------
    pandas.DataFrame
        One row per zone, worst first (lowest population-weighted mean access, then most
        people): ``zone``, ``homes``, ``population``, ``access_mean``, ``access_min``,
        ``lon``, ``lat`` (the zone's population-weighted centre, WGS84).
    """
    columns = ["zone", "homes", "population", "access_mean", "access_min", "lon", "lat"]
    if demand.empty:
        return pd.DataFrame(columns=columns)
    metric = demand.to_crs(demand.estimate_utm_crs())
    xy = np.column_stack([metric.geometry.x, metric.geometry.y])
    score = demand[f"access_{method}"].to_numpy(dtype=float)
    low = score < below
    clusters = cluster_unserved(xy, low, link_m=link_m)
    wgs = demand.to_crs("EPSG:4326")
    table = pd.DataFrame(
        {
            "zone": clusters.zone_of,
            "population": demand["population"].to_numpy(dtype=float),
            "access": score,
            "lon": wgs.geometry.x.to_numpy(),
            "lat": wgs.geometry.y.to_numpy(),
        }
    )[low]
    if table.empty:
        return pd.DataFrame(columns=columns)
    table["w"] = table["population"] + 1e-12  # a zone of empty homes still has a centre
    for col in ("access", "lon", "lat"):
        table[f"{col}_w"] = table[col] * table["w"]
    g = table.groupby("zone")
    out = pd.DataFrame(
        {
            "homes": g.size(),
            "population": g["population"].sum(),
            "access_mean": g["access_w"].sum() / g["w"].sum(),
            "access_min": g["access"].min(),
            "lon": g["lon_w"].sum() / g["w"].sum(),
            "lat": g["lat_w"].sum() / g["w"].sum(),
        }
    ).reset_index(drop=True)
    out = out.sort_values(["access_mean", "population"], ascending=[True, False], kind="stable")
    out.insert(0, "zone", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)
