"""Coverage broken down: per district polygon, and per walk limit and walking speed.

Tables read off a finished :class:`~planner.walk.coverage.CoverageResult` without a new
search: :func:`coverage_by_district` assigns its demand points to district polygons, and
:func:`coverage_curve` re-reads its walk distances against other limits and speeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputDataError
from planner.sources.coords import WGS84
from planner.walk.coverage import CoverageResult


def coverage_by_district(
    result: CoverageResult,
    districts: gpd.GeoDataFrame,
    *,
    name_column: str = "name",
    groups: Sequence[str] = (),
    complete_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Population, homes and coverage share per district polygon.

    Parameters
    ----------
    result
        A coverage analysis.
    districts
        Polygons with a CRS and a name column; the index is kept.
    name_column
        Column holding the district names.
    groups
        Demand columns with head counts of groups of people
        (:mod:`planner.walk.groups`): each adds ``group_<g>`` (people of the group),
        ``group_<g>_covered`` and ``group_<g>_share_covered`` (and
        ``group_<g>_share_complete`` with ``complete_column``).
    complete_column
        The demand layer's complete-circle column (:mod:`planner.walk.categories`): adds
        ``population_complete`` and ``share_complete``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per district, same index and order as ``districts``, in WGS84:
        ``district`` (the name), ``homes``, ``homes_covered``, ``population``,
        ``population_covered``, ``population_uncovered``, ``share_covered`` (NaN when the
        district has no population) and the district polygon. Named
        ``coverage_by_district``.

    Raises
    ------
    InputDataError
        When the table has no CRS, no ``name_column`` or a geometry that is not a polygon.

    Notes
    -----
    Each demand point is assigned by a spatial join to the first district (in table order)
    whose polygon contains it or has it on its boundary, so a home on a shared border is
    counted once. Homes outside every polygon are in no row: the rows' population can add
    up to less than the study area's.
    """
    if districts.crs is None:
        msg = "districts: the table has no CRS; set one (e.g. districts.set_crs(4326))."
        raise InputDataError(msg)
    if name_column not in districts.columns:
        msg = (
            f"districts: no column {name_column!r} with the district names (columns: "
            f"{', '.join(map(str, districts.columns))}). Name the column with --district-name "
            "(name_column=... in Python)."
        )
        raise InputDataError(msg)
    kinds = districts.geometry.geom_type
    bad = ~kinds.isin(["Polygon", "MultiPolygon"]) | districts.geometry.is_empty
    if bad.any():
        first = districts.index[bad.to_numpy()][0]
        msg = (
            f"districts: row {first} has a {kinds.loc[first]} geometry; districts must be "
            "polygons or multipolygons."
        )
        raise InputDataError(msg)
    polys = districts.geometry.to_crs(WGS84)
    pts = result.demand.geometry.to_numpy()
    pt_idx, poly_idx = shapely.STRtree(polys.to_numpy()).query(pts, predicate="intersects")
    first_poly = np.full(len(pts), len(polys), dtype=np.int64)
    np.minimum.at(first_poly, pt_idx, poly_idx)
    inside = first_poly < len(polys)
    pop = result.demand["population"].to_numpy(dtype=float)
    cov = result.demand["covered"].to_numpy(dtype=bool)
    n = len(polys) + 1
    homes = np.bincount(first_poly, minlength=n)[:-1]
    homes_cov = np.bincount(first_poly[cov], minlength=n)[:-1]
    population = np.bincount(first_poly, weights=pop, minlength=n)[:-1]
    covered = np.bincount(first_poly[cov & inside], weights=pop[cov & inside], minlength=n)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(population > 0, covered / population, np.nan)
    columns: dict[str, object] = {
        "district": districts[name_column].astype(str).to_numpy(),
        "homes": homes.astype(np.int64),
        "homes_covered": homes_cov.astype(np.int64),
        "population": population,
        "population_covered": covered,
        "population_uncovered": population - covered,
        "share_covered": share,
    }

    def per_district(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
        keep = mask & inside
        return np.bincount(first_poly[keep], weights=weights[keep], minlength=n)[:-1]

    def ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(whole > 0, part / whole, np.nan)

    complete = (
        result.demand[complete_column].to_numpy(dtype=bool) if complete_column is not None else None
    )
    if complete is not None:
        pop_complete = per_district(pop, complete)
        columns["population_complete"] = pop_complete
        columns["share_complete"] = ratio(pop_complete, population)
    everyone = np.ones(len(pop), dtype=bool)
    for group in groups:
        heads = pd.to_numeric(result.demand[group], errors="coerce").to_numpy(dtype=float)
        total = per_district(heads, everyone)
        columns[f"group_{group}"] = total
        columns[f"group_{group}_covered"] = per_district(heads, cov)
        columns[f"group_{group}_share_covered"] = ratio(per_district(heads, cov), total)
        if complete is not None:
            columns[f"group_{group}_share_complete"] = ratio(per_district(heads, complete), total)
    out = gpd.GeoDataFrame(
        columns,
        index=districts.index,
        geometry=polys.to_numpy(),
        crs=WGS84,
    )
    out.attrs["name"] = "coverage_by_district"
    return out


def district_extras(summary: Mapping[str, Any]) -> dict[str, Any]:
    """``groups`` and ``complete_column`` of the district table, from ``summary.json``."""
    groups = summary.get("groups")
    complete = summary.get("complete_column") if "share_complete" in summary else None
    return {
        "groups": tuple(groups) if isinstance(groups, Mapping) else (),
        "complete_column": complete if isinstance(complete, str) else None,
    }


def coverage_curve(
    result: CoverageResult,
    *,
    minutes: Sequence[float],
    speeds_kmh: Sequence[float] | None = None,
) -> pd.DataFrame:
    r"""Share of population covered for every pair of walk limit and walking speed.

    Parameters
    ----------
    result
        A coverage analysis (its walk distances are used; its own limit is not).
    minutes
        Walk limits in minutes.
    speeds_kmh
        Walking speeds in km/h; the result's own speed when None.

    Returns
    -------
    pandas.DataFrame
        One row per (speed, minutes), speeds outer: ``speed_kmh``, ``minutes``,
        ``walk_limit_m``, ``population_covered``, ``share_covered``; named
        ``coverage_curve``.

    Notes
    -----
    :func:`~planner.walk.coverage.analyze_coverage` searches the whole network, so each
    home's walk distance to its nearest station :math:`d_i` does not depend on the limit.
    Coverage at limit :math:`T` and speed :math:`v` is therefore
    :math:`\sum_i p_i [d_i \le vT] / \sum_i p_i` from one analysis, the same figure as a
    new :func:`~planner.walk.coverage.analyze_coverage` run with that limit and speed would
    give.
    """
    cfg = result.config
    speeds = [cfg.speed_kmh] if speeds_kmh is None else [float(v) for v in speeds_kmh]
    limits = [float(m) for m in minutes]
    for name, values in (("minutes", limits), ("speeds_kmh", speeds)):
        if not values or any(not (np.isfinite(v) and v > 0) for v in values):
            msg = f"coverage_curve: {name} must be positive numbers, got {values!r}."
            raise InputDataError(msg)
    dist = np.nan_to_num(
        result.demand["walk_min"].to_numpy(dtype=float) * cfg.metres_per_minute, nan=np.inf
    )
    pop = result.demand["population"].to_numpy(dtype=float)
    total = pop.sum()
    rows = []
    for speed in speeds:
        for m in limits:
            limit_m = m * speed * 1000.0 / 60.0
            covered = float(pop[dist <= limit_m + 1e-6].sum())
            rows.append(
                {
                    "speed_kmh": speed,
                    "minutes": m,
                    "walk_limit_m": limit_m,
                    "population_covered": covered,
                    "share_covered": covered / total if total > 0 else 0.0,
                }
            )
    table = pd.DataFrame(rows)
    table.attrs["name"] = "coverage_curve"
    return table
