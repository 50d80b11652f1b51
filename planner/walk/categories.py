"""Service circles as a city defines them: kinds of station, walking profiles, groups.

:func:`analyze_circles` runs the coverage analysis of :mod:`planner.walk.coverage` for one
walking profile (:mod:`planner.walk.profiles`) over all stations, then once more per
station *category* (the stations' ``category`` column), each category with its own walk
limit: one multi-source search per category, not per station. A home is in the
*complete circle* when it reaches every required category within that category's limit.
Head counts of groups of people (demand columns such as ``elderly`` or ``children``)
give each group's share covered, per category and complete (:mod:`planner.walk.groups`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.config import AnalysisConfig
from planner.errors import InputDataError, InputWarning, OffNetworkWarning
from planner.walk.coverage import CoverageResult, analyze_coverage, network_facts
from planner.walk.groups import check_groups, group_figures
from planner.walk.layers import free_name
from planner.walk.network import WalkNetwork
from planner.walk.profiles import WalkProfile, profile_network, walk_profile

#: Longest column suffix made from a category name.
MAX_SUFFIX = 40


@dataclass(frozen=True, eq=False)
class CategoryCoverage:
    """Coverage of the stations of one category.

    Attributes
    ----------
    name
        The category, as written in the station table.
    column
        Suffix of its demand columns (``walk_min_<column>``, ``covered_<column>``): the
        name made safe for column names (letters, digits and ``_``), unique.
    result
        The coverage analysis of this category's stations alone, with its own
        ``walk_minutes`` (per-station isochrones are not built).
    """

    name: str
    column: str
    result: CoverageResult


@dataclass(frozen=True, eq=False)
class CircleResult:
    """The outcome of :func:`analyze_circles` for one walking profile.

    Attributes
    ----------
    profile
        The walking profile.
    result
        Coverage of all stations under the profile; when there are categories its demand
        layer also carries ``walk_min_<c>`` and ``covered_<c>`` per category and
        ``complete``, and its station layer each station's ``category_minutes``,
        ``population_served_in_category`` and ``population_only_here_in_category`` (within its
        category's limit, "only here" among the stations of its category; NaN for
        stations without a category).
    categories
        Per-category coverage, in order of first appearance in the station table (empty
        when the stations have fewer than two categories and none was asked for).
    require
        Categories a home must reach to be in the complete circle.
    groups
        Demand columns holding head counts of groups of people.
    complete_column
        The demand column of the complete circle (``complete``, or ``complete_2``... when
        the input has such a column).
    """

    profile: WalkProfile
    result: CoverageResult
    categories: tuple[CategoryCoverage, ...] = ()
    require: tuple[str, ...] = ()
    groups: tuple[str, ...] = field(default=())
    complete_column: str = "complete"

    @property
    def complete(self) -> npt.NDArray[np.bool_]:
        """Per demand point: True when every required category is within its limit."""
        d = self.result.demand
        column = self.complete_column if self.categories else "covered"
        return np.asarray(d[column].to_numpy(dtype=bool), dtype=bool)

    @property
    def category_gaps(self) -> gpd.GeoDataFrame | None:
        """Gap zones of every category in one table; None without categories.

        ``category`` first, then the columns of
        :attr:`~planner.walk.coverage.CoverageResult.gaps`.
        """
        if not self.categories:
            return None
        frames = [
            c.result.gaps.assign(category=c.name)[["category", *c.result.gaps.columns]]
            for c in self.categories
        ]
        table = pd.concat(frames, ignore_index=True)
        return gpd.GeoDataFrame(table, geometry=frames[0].geometry.name, crs=frames[0].crs)

    @property
    def population_complete(self) -> float:
        """Population in the complete circle."""
        pop = self.result.demand["population"].to_numpy(dtype=float)
        return float(pop[self.complete].sum())

    @property
    def share_complete(self) -> float:
        """``population_complete / population_total`` (0 when there is no population)."""
        total = self.result.population_total
        return self.population_complete / total if total > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` additions of the circle analysis.

        ``profile`` always; ``categories``, ``require``, ``population_complete`` and
        ``share_complete`` when there are categories; ``groups`` when there are groups.
        """
        out: dict[str, Any] = {"profile": self.profile.describe()}
        if self.categories:
            out["categories"] = {
                c.name: {
                    "column": c.column,
                    "minutes": c.result.config.walk_minutes,
                    "stations": len(c.result.stations),
                    "population_covered": c.result.population_covered,
                    "share_covered": c.result.share_covered,
                    "gap_zones": len(c.result.gaps),
                    "population_in_gap_zones": float(c.result.gaps["population"].sum()),
                }
                for c in self.categories
            }
            out["require"] = list(self.require)
            out["complete_column"] = self.complete_column
            out["population_complete"] = self.population_complete
            out["share_complete"] = self.share_complete
        if self.groups:
            cats = {c.name: f"covered_{c.column}" for c in self.categories}
            out["groups"] = group_figures(
                self.result.demand, self.groups, categories=cats, complete=self.complete
            )
        return out


def analyze_circles(
    network: WalkNetwork,
    stations: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    config: AnalysisConfig | None = None,
    profile: str | Path | WalkProfile = "adult",
    category_minutes: Mapping[str, float] | None = None,
    require: Sequence[str] | None = None,
    groups: Sequence[str] = (),
    band_cache_dir: str | Path | None = None,
    categories: Sequence[str] | None = None,
) -> CircleResult:
    r"""Coverage per station category and the complete circle, for one walking profile.

    Parameters
    ----------
    network
        The walking network (not modified).
    stations
        Station points; their ``category`` column (text) names each station's kind.
    demand
        Demand points with ``population`` and the columns named in ``groups``.
    config
        Analysis settings; its ``walk_minutes`` is the limit of every category not in
        ``category_minutes``. Its ``speed_kmh`` is replaced by the profile's.
    profile
        A built-in profile name (``adult``, ``elderly``, ``wheelchair``), a TOML profile
        file or a :class:`~planner.walk.profiles.WalkProfile`.
    category_minutes
        Walk limit in minutes per category, e.g. ``{"service_station": 15,
        "gig_market": 30}``.
    require
        Categories of the complete circle; every category when None.
    groups
        Demand columns with head counts of groups of people (e.g. ``elderly``).
    band_cache_dir
        Cache folder of the band polygons, as for
        :func:`~planner.walk.coverage.analyze_coverage` (None: built, not stored).
    categories
        The categories to analyse, in order, when they are those of a larger set of
        stations than ``stations`` (a region's, of which ``stations`` are the ones near one
        area): a category none of ``stations`` has is analysed with no station, so that
        nobody reaches it and the complete circle still requires it. None: the categories
        of ``stations``.

    Returns
    -------
    CircleResult
        The whole-set result (as :func:`~planner.walk.coverage.analyze_coverage`, under
        the profile) and, when the stations have two or more categories or
        ``category_minutes``/``require`` name any, one result per category.

    Raises
    ------
    InputDataError
        When ``category_minutes`` or ``require`` names a category no station has, a limit
        is not a positive number, or a group column is missing or not a head count.

    Notes
    -----
    Category :math:`c` with limit :math:`T_c` covers home :math:`i` when
    :math:`d_{ic} \le v T_c`, :math:`d_{ic}` the walk distance from :math:`i` to the
    nearest station of :math:`c` (one multi-source search per category). The complete
    circle is :math:`\bigwedge_{c \in R} [d_{ic} \le v T_c]` over the required set
    :math:`R`. Stations without a category count in the whole-set result only.
    """
    prof = walk_profile(profile)
    cfg = replace(config or AnalysisConfig(), speed_kmh=prof.speed_kmh)
    groups = tuple(groups)
    check_groups(demand, groups)
    walked = profile_network(network, prof)
    result = analyze_coverage(walked, stations, demand, config=cfg, band_cache_dir=band_cache_dir)
    if walked is not network:  # street length and parts as the streets are, not as costs
        result = replace(result, network_facts=network_facts(network))
    names = station_categories(stations) if categories is None else list(categories)
    minutes = dict(category_minutes or {})
    _check_named(names, minutes, what="--category-minutes (category_minutes)")
    _check_named(names, require or (), what="--require (require)")
    if len(names) < 2 and not minutes and not require:
        return CircleResult(profile=prof, result=result, groups=groups)
    req = tuple(require) if require else tuple(names)
    cats = []
    taken: list[str] = list(map(str, result.demand.columns))
    columns: dict[str, Any] = {}
    labels = stations["category"].fillna("").astype(str).str.strip().to_numpy()
    for name in names:
        mins = float(minutes.get(name, cfg.walk_minutes))
        cat_cfg = replace(cfg, walk_minutes=mins, max_isochrone_stations=0)
        with warnings.catch_warnings():  # the whole-set run has warned of them already
            warnings.simplefilter("ignore", OffNetworkWarning)
            res = analyze_coverage(
                walked,
                stations.loc[labels == name],
                demand,
                config=cat_cfg,
                band_cache_dir=band_cache_dir,
            )
        suffix = column_suffix(name, taken)
        taken += [f"walk_min_{suffix}", f"covered_{suffix}"]
        columns[f"walk_min_{suffix}"] = res.demand["walk_min"].to_numpy()
        columns[f"covered_{suffix}"] = res.demand["covered"].to_numpy(dtype=bool)
        cats.append(CategoryCoverage(name=name, column=suffix, result=res))
    by_name = {c.name: c for c in cats}
    complete = np.ones(len(result.demand), dtype=bool)
    for name in req:
        complete &= columns[f"covered_{by_name[name].column}"]
    complete_column = free_name("complete", taken)
    columns[complete_column] = complete
    demand_out = result.demand.assign(**columns)
    stations_out = _station_figures(result.stations, labels, cats)
    return CircleResult(
        profile=prof,
        result=replace(result, demand=demand_out, stations=stations_out),
        categories=tuple(cats),
        require=req,
        groups=groups,
        complete_column=complete_column,
    )


def _station_figures(
    stations: gpd.GeoDataFrame, labels: npt.NDArray[Any], cats: Sequence[CategoryCoverage]
) -> gpd.GeoDataFrame:
    """The station layer plus each station's figures within its own category's limit."""
    n = len(stations)
    minutes = np.full(n, np.nan)
    served = np.full(n, np.nan)
    only = np.full(n, np.nan)
    for cat in cats:
        pos = np.flatnonzero(labels == cat.name)
        minutes[pos] = cat.result.config.walk_minutes
        served[pos] = cat.result.stations["population_served"].to_numpy(dtype=float)
        only[pos] = cat.result.stations["population_only_here"].to_numpy(dtype=float)
    taken: list[str] = list(map(str, stations.columns))
    out = {}
    for name, values in (
        ("category_minutes", minutes),
        ("population_served_in_category", served),
        ("population_only_here_in_category", only),
    ):
        column = free_name(name, taken)
        taken.append(column)
        out[column] = values
    return stations.assign(**out)


def settled_circles(
    stations: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, settings: CircleSettings
) -> CircleSettings:
    """``settings`` checked against the stations and homes of a whole run, and self-contained.

    For a run split into parts (a region's areas, each with only the stations near it):
    the profiles are read (built-in names and TOML files become
    :class:`~planner.walk.profiles.WalkProfile`), ``categories`` lists every station
    category, and a category limit, required category or group column that does not exist
    is refused here, once, rather than in every part.

    Raises
    ------
    InputDataError
        As :func:`analyze_profiles` would for the whole set.
    """
    profiles = tuple(walk_profile(p) for p in settings.profiles)
    names = [p.name for p in profiles]
    for name in names:
        if names.count(name) > 1:
            raise InputDataError(f"Walking profile {name!r} given twice: name each once.")
    check_groups(demand, tuple(settings.groups))
    cats = station_categories(stations)
    _check_named(cats, settings.category_minutes, what="--category-minutes (category_minutes)")
    _check_named(cats, settings.require, what="--require (require)")
    return replace(settings, profiles=profiles, categories=tuple(cats))


def station_categories(stations: gpd.GeoDataFrame) -> list[str]:
    """The stations' non-empty categories, in order of first appearance.

    Warns (:class:`~planner.errors.InputWarning`) when some stations have a category and
    others none: those count in the whole-set result only.
    """
    if "category" not in stations.columns:
        return []
    labels = stations["category"].fillna("").astype(str).str.strip()
    names = [str(n) for n in pd.unique(labels[labels != ""])]
    empty = int((labels == "").sum())
    if names and empty:
        msg = (
            f"stations: {empty} station(s) have no category and count only in the coverage "
            "of all stations, in no category. Fill their category column to count them."
        )
        warnings.warn(msg, InputWarning, stacklevel=3)
    return names


def column_suffix(name: str, taken: Sequence[str]) -> str:
    """A column suffix for category ``name``: letters, digits and ``_`` only, unique.

    Text from the station table is data: anything else becomes ``_`` (so no column name
    starts with ``=``, ``+``, ``-`` or ``@``), at most :data:`MAX_SUFFIX` characters,
    ``category`` when nothing is left, with ``_2``, ``_3``... when a column has it.
    """
    base = re.sub(r"[^\w]+", "_", name, flags=re.UNICODE).strip("_")[:MAX_SUFFIX] or "category"
    used = set(taken)
    suffix = base
    n = 2
    while f"walk_min_{suffix}" in used or f"covered_{suffix}" in used:
        suffix = f"{base}_{n}"
        n += 1
    return suffix


def parse_category_minutes(text: str) -> dict[str, float]:
    """``"service_station=15,gig_market=30"`` as ``{name: minutes}``.

    Raises
    ------
    InputDataError
        When an item is not ``name=minutes`` with a positive number, or a name repeats.
    """
    out: dict[str, float] = {}
    for item in (s for s in text.split(",") if s.strip()):
        name, sep, value = item.rpartition("=")
        name = name.strip()
        try:
            minutes = float(value)
        except ValueError:
            minutes = float("nan")
        if not sep or not name or not (np.isfinite(minutes) and minutes > 0):
            msg = (
                f"--category-minutes: {item.strip()!r} is not category=minutes with a "
                'positive number of minutes; write e.g. "service_station=15,gig_market=30".'
            )
            raise InputDataError(msg)
        if name in out:
            raise InputDataError(f"--category-minutes: category {name!r} is given twice.")
        out[name] = minutes
    return out


def _check_named(
    names: Sequence[str], given: Sequence[str] | Mapping[str, float], *, what: str
) -> None:
    unknown = [str(n) for n in given if str(n) not in names]
    if unknown:
        known = ", ".join(map(repr, names)) if names else "none (no category column)"
        msg = (
            f"{what} names {', '.join(map(repr, unknown))}, which no station has as its "
            f"category; the stations' categories are {known}."
        )
        raise InputDataError(msg)


@dataclass(frozen=True, slots=True)
class CircleSettings:
    """What a run asks of the circle analysis (:func:`analyze_profiles`).

    Parameters
    ----------
    profiles
        Walking profiles, each a built-in name, a TOML file or a
        :class:`~planner.walk.profiles.WalkProfile`; the first one's result is the run's
        main result. Empty: the ``adult`` profile at the configured ``speed_kmh``.
    category_minutes
        Walk limit in minutes per station category.
    require
        Categories of the complete circle; every category when empty.
    groups
        Demand columns with head counts of groups of people.
    categories
        Every category to analyse, in order, when the stations given are part of a larger
        set (a region's): see :func:`analyze_circles`. Empty: the stations' own categories.
    """

    profiles: tuple[str | Path | WalkProfile, ...] = ()
    category_minutes: Mapping[str, float] = field(default_factory=dict)
    require: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


def analyze_profiles(
    network: WalkNetwork,
    stations: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    config: AnalysisConfig | None = None,
    settings: CircleSettings | None = None,
    band_cache_dir: str | Path | None = None,
) -> tuple[CircleResult, ...]:
    """:func:`analyze_circles` once per walking profile of ``settings``, in order.

    Without profiles the one profile is ``adult`` walking at ``config.speed_kmh`` (so a
    plain run is the coverage analysis it always was). ``band_cache_dir`` is the cache
    folder of the band polygons (:func:`~planner.walk.coverage.analyze_coverage`; None:
    built, not stored).
    """
    cfg = config or AnalysisConfig()
    opts = settings or CircleSettings()
    profiles = opts.profiles or (replace(walk_profile("adult"), speed_kmh=cfg.speed_kmh),)
    names: list[str] = []
    out = []
    for spec in profiles:
        prof = walk_profile(spec)
        if prof.name in names:
            raise InputDataError(f"Walking profile {prof.name!r} given twice: name each once.")
        names.append(prof.name)
        out.append(
            analyze_circles(
                network,
                stations,
                demand,
                config=cfg,
                profile=prof,
                category_minutes=opts.category_minutes,
                require=opts.require or None,
                groups=opts.groups,
                band_cache_dir=band_cache_dir,
                categories=opts.categories or None,
            )
        )
    return tuple(out)


def circles_summary(results: Sequence[CircleResult]) -> dict[str, Any]:
    """The ``summary.json`` additions of a run: the first profile's, plus ``profiles``.

    ``profiles`` (only when there are several) gives per profile its speed, people and
    share covered, complete circle and per-category shares, side by side.
    """
    out = results[0].summary()
    if len(results) > 1:
        out["profiles"] = {
            r.profile.name: {
                "speed_kmh": r.profile.speed_kmh,
                "population_covered": r.result.population_covered,
                "share_covered": r.result.share_covered,
                "population_complete": r.population_complete,
                "share_complete": r.share_complete,
                "categories": {
                    c.name: {
                        "population_covered": c.result.population_covered,
                        "share_covered": c.result.share_covered,
                    }
                    for c in r.categories
                },
            }
            for r in results
        }
    return out
