"""Coverage per group of people: head counts of groups (elderly, children) per demand point.

A demand table may carry, beside ``population``, columns with the head counts of groups
of people at each point. :func:`group_figures` gives each group's total, covered
population and share covered, per station category and in the complete circle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputDataError


def check_groups(demand: gpd.GeoDataFrame, groups: Sequence[str]) -> None:
    """Raise :class:`InputDataError` unless each group is a column of head counts.

    The message names the column and the first rows that are missing, negative or not
    finite numbers.
    """
    seen: set[str] = set()
    for group in groups:
        if group in seen:
            raise InputDataError(f"--groups: group {group!r} is given twice; name it once.")
        seen.add(group)
        if group not in demand.columns:
            cols = ", ".join(map(repr, map(str, demand.columns)))
            msg = (
                f"demand: no column {group!r} for the group of people named in --groups "
                f"(groups=... in Python); the columns are {cols}."
            )
            raise InputDataError(msg)
        values = pd.to_numeric(demand[group], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            rows = [str(r) for r in demand.index[bad][:20]]
            msg = (
                f"demand: column {group!r} (a group of people in --groups) has values that "
                f"are not head counts (missing, negative or not numbers) on rows "
                f"{', '.join(rows)}; give a number of people, 0 or more, on every row."
            )
            raise InputDataError(msg)
        with np.errstate(over="ignore"):
            if not np.isfinite(values.sum()):
                msg = f"demand: column {group!r}: the head counts' total is not finite."
                raise InputDataError(msg)


def group_figures(
    demand: gpd.GeoDataFrame,
    groups: Sequence[str],
    *,
    categories: Mapping[str, str],
    complete: npt.NDArray[np.bool_],
) -> dict[str, dict[str, Any]]:
    """Per group: people, people covered and share covered, per category and complete.

    Parameters
    ----------
    demand
        A demand layer with ``covered`` and the group columns.
    groups
        The group columns.
    categories
        Category name to its ``covered_<c>`` column (may be empty).
    complete
        Per point, whether it is in the complete circle.

    Returns
    -------
    dict
        ``{group: {population, population_covered, share_covered, population_complete,
        share_complete, categories: {name: {population_covered, share_covered}}}}``;
        shares are 0 when the group has nobody.
    """
    covered = demand["covered"].to_numpy(dtype=bool)
    out: dict[str, dict[str, Any]] = {}
    for group in groups:
        heads = pd.to_numeric(demand[group], errors="coerce").to_numpy(dtype=float)
        total = float(heads.sum())

        def share(mask: npt.NDArray[np.bool_], heads: npt.NDArray[np.float64] = heads) -> float:
            return float(heads[mask].sum())

        per_cat = {
            name: _figures(share(demand[col].to_numpy(dtype=bool)), total)
            for name, col in categories.items()
        }
        cov = _figures(share(covered), total)
        comp = _figures(share(complete), total)
        out[str(group)] = {
            "population": total,
            "population_covered": cov["population_covered"],
            "share_covered": cov["share_covered"],
            "population_complete": comp["population_covered"],
            "share_complete": comp["share_covered"],
            "categories": per_cat,
        }
    return out


def _figures(covered: float, total: float) -> dict[str, float]:
    return {"population_covered": covered, "share_covered": covered / total if total > 0 else 0.0}
