"""Two coverage results side by side: figures before and after, stations matched by id.

A scenario is one :class:`~planner.walk.coverage.CoverageResult` (a station set on a network
with a demand layer). :func:`compare_scenarios` says what changed between a baseline and a
new scenario: people gained, stations added, moved or removed, homes newly served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.walk.coverage import CoverageResult

#: Values of the station change table's ``change`` column, in the table's order.
ADDED, MOVED, RENAMED, REMOVED, UNCHANGED = "added", "moved", "renamed", "removed", "unchanged"
CHANGES = (ADDED, MOVED, RENAMED, REMOVED, UNCHANGED)


@dataclass(frozen=True, eq=False)
class ScenarioComparison:
    """What changed from ``before`` to ``after`` (see :func:`compare_scenarios`).

    Attributes
    ----------
    before, after
        The two results' :meth:`~planner.walk.coverage.CoverageResult.summary` figures.
    population_gained
        ``after`` population covered minus ``before`` population covered (negative when
        coverage fell).
    newly_covered, no_longer_covered
        Population of homes covered only after / only before, matched by demand ``id``;
        None when the two demand layers do not hold the same ids.
    stations
        One row per station id in either scenario (see :func:`station_changes`).
    parameters_differ
        Names of the settings (``minutes``, ``speed_kmh``, ``max_snap_m``) that differ.
    same_demand
        Whether both scenarios count the same homes with the same population.
    """

    before: dict[str, Any]
    after: dict[str, Any]
    population_gained: float
    newly_covered: float | None
    no_longer_covered: float | None
    stations: pd.DataFrame
    parameters_differ: tuple[str, ...]
    same_demand: bool

    def change_counts(self) -> dict[str, int]:
        """Number of stations per kind of change."""
        counts = self.stations["change"].value_counts()
        return {k: int(counts.get(k, 0)) for k in CHANGES}


def compare_scenarios(
    before: CoverageResult, after: CoverageResult, *, moved_tolerance_m: float = 1.0
) -> ScenarioComparison:
    """Compare a baseline scenario with a new one.

    Parameters
    ----------
    before
        The baseline (e.g. today's stations).
    after
        The new scenario (e.g. with proposed stations).
    moved_tolerance_m
        A station whose id is in both scenarios counts as moved when its two positions are
        farther apart than this (metres).

    Returns
    -------
    ScenarioComparison
        Figures of both, people gained and the station changes.

    Notes
    -----
    Stations are matched by ``id`` only: a station given a new id at the same place counts
    as removed and added. Homes are matched by demand ``id`` when both demand layers have
    the same set of ids and populations; otherwise only the totals are compared.
    """
    b, a = before.summary(), after.summary()
    params = tuple(k for k in ("minutes", "speed_kmh", "max_snap_m") if b[k] != a[k])
    newly, lost, same = _demand_changes(before, after)
    return ScenarioComparison(
        before=b,
        after=a,
        population_gained=after.population_covered - before.population_covered,
        newly_covered=newly,
        no_longer_covered=lost,
        stations=station_changes(
            before.stations,
            after.stations,
            before.stations["population_served"].to_numpy(dtype=float),
            after.stations["population_served"].to_numpy(dtype=float),
            moved_tolerance_m=moved_tolerance_m,
        ),
        parameters_differ=params,
        same_demand=same,
    )


def station_changes(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    served_before: Sequence[float] | np.ndarray,
    served_after: Sequence[float] | np.ndarray,
    *,
    moved_tolerance_m: float = 1.0,
) -> pd.DataFrame:
    """Stations of two scenarios matched by ``id``: added, moved, renamed, removed, unchanged.

    The one comparison of two station sets, used by :func:`compare_scenarios` (the report,
    ``planner report --compare``) and by the app's plan comparison.

    Parameters
    ----------
    before, after
        Station tables with ``id``, a point geometry and optional ``name`` and ``category``.
    served_before, served_after
        People each station serves, in the order of its table.
    moved_tolerance_m
        A station in both counts as moved when its two positions are farther apart than
        this (metres, measured in the local UTM zone).

    Returns
    -------
    pandas.DataFrame
        One row per station id in either table: ``station_id``, ``name`` (the newer one),
        ``change``, ``moved_m`` (NaN unless in both), ``population_served_before``,
        ``population_served_after``; added, moved, renamed, removed, then unchanged.
        *Renamed* means the same place with another name or category.
    """

    def table(st: gpd.GeoDataFrame, served: Sequence[float] | np.ndarray) -> pd.DataFrame:
        blank = pd.Series("", index=st.index)
        return pd.DataFrame(
            {
                "station_id": st["id"].astype(str).to_numpy(),
                "name": (st["name"] if "name" in st.columns else blank).astype(str).to_numpy(),
                "category": (st["category"] if "category" in st.columns else blank)
                .astype(str)
                .to_numpy(),
                "geometry": st.geometry.to_numpy(),
                "served": np.asarray(served, dtype=float),
            }
        )

    tb, ta = table(before, served_before), table(after, served_after)
    merged = tb.merge(ta, on="station_id", how="outer", suffixes=("_b", "_a"), sort=False)
    in_b = merged["geometry_b"].notna().to_numpy()
    in_a = merged["geometry_a"].notna().to_numpy()
    both = in_b & in_a
    moved_m = np.full(len(merged), np.nan)
    if both.any():
        gb = gpd.GeoSeries(merged.loc[both, "geometry_b"].to_numpy(), crs=before.crs)
        ga = gpd.GeoSeries(merged.loc[both, "geometry_a"].to_numpy(), crs=after.crs)
        metric = gb.estimate_utm_crs()
        moved_m[both] = gb.to_crs(metric).distance(ga.to_crs(metric), align=False).to_numpy()
    relabelled = (
        both
        & (
            (merged["name_b"] != merged["name_a"]) | (merged["category_b"] != merged["category_a"])
        ).to_numpy()
    )
    change = np.select(
        [~in_b, ~in_a, moved_m > moved_tolerance_m, relabelled],
        [ADDED, REMOVED, MOVED, RENAMED],
        default=UNCHANGED,
    )
    name = merged["name_a"].where(in_a, merged["name_b"]).fillna("").astype(str)
    out = pd.DataFrame(
        {
            "station_id": merged["station_id"].to_numpy(),
            "name": name.to_numpy(),
            "change": change,
            "moved_m": moved_m,
            "population_served_before": merged["served_b"].to_numpy(dtype=float),
            "population_served_after": merged["served_a"].to_numpy(dtype=float),
        }
    )
    order = {k: i for i, k in enumerate(CHANGES)}
    out = out.assign(_o=out["change"].map(order)).sort_values(["_o", "station_id"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def _demand_changes(
    before: CoverageResult, after: CoverageResult
) -> tuple[float | None, float | None, bool]:
    db, da = before.demand, after.demand
    if "id" not in db.columns or "id" not in da.columns or len(db) != len(da):
        return None, None, False
    tb = pd.DataFrame(
        {"pop": db["population"].to_numpy(float), "cov": db["covered"].to_numpy(bool)},
        index=db["id"].astype(str).to_numpy(),
    )
    ta = pd.DataFrame(
        {"pop": da["population"].to_numpy(float), "cov": da["covered"].to_numpy(bool)},
        index=da["id"].astype(str).to_numpy(),
    )
    if not (tb.index.is_unique and ta.index.is_unique) or set(tb.index) != set(ta.index):
        return None, None, False
    ta = ta.loc[tb.index]
    if not np.allclose(tb["pop"].to_numpy(), ta["pop"].to_numpy()):
        return None, None, False
    pop = tb["pop"].to_numpy()
    newly = float(pop[~tb["cov"].to_numpy() & ta["cov"].to_numpy()].sum())
    lost = float(pop[tb["cov"].to_numpy() & ~ta["cov"].to_numpy()].sum())
    return newly, lost, True
