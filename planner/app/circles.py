"""The app's service-circle view: categories, the complete circle and walking profiles.

Pure functions over a :class:`~planner.app.plan.Plan` for the "Service circles" page
(``app_pages/circles.py``): the circle analysis of the plan's stations under a chosen
walking profile (:func:`circle_view`) and its per-category table (:func:`category_table`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pandas as pd

from planner.app.plan import Plan
from planner.walk.categories import CircleResult, analyze_circles, station_categories
from planner.walk.profiles import BUILTIN_PROFILES, WalkProfile

#: The profiles the app offers, in order; ``adult`` walks at the sidebar's speed.
APP_PROFILES = tuple(BUILTIN_PROFILES)


def plan_categories(plan: Plan) -> list[str]:
    """The plan's station categories, in order of first appearance (no warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return station_categories(plan.stations)


def circle_view(
    plan: Plan,
    *,
    profile: str = "adult",
    category_minutes: Mapping[str, float] | None = None,
    require: Sequence[str] | None = None,
) -> CircleResult:
    """The circle analysis of ``plan`` (its stations, homes, limit) for one profile.

    ``adult`` walks at the plan's ``speed_kmh`` (the sidebar's); the other built-in
    profiles at their own speed. Categories missing from ``category_minutes`` use the
    plan's walk limit; with fewer than two categories there is no per-category view.
    Off-network and empty-category warnings are left to the other pages.
    """
    prof: WalkProfile = BUILTIN_PROFILES[profile]
    if profile == "adult":
        prof = replace(prof, speed_kmh=plan.config.speed_kmh)
    names = plan_categories(plan)
    if len(names) < 2:  # one kind of station: the complete circle is the circle
        category_minutes, require = None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze_circles(
            plan.area.network,
            plan.stations,
            plan.area.demand,
            config=plan.config,
            profile=prof,
            category_minutes={k: v for k, v in (category_minutes or {}).items() if k in names},
            require=[r for r in (require or ()) if r in names] or None,
        )


def category_table(result: CircleResult) -> pd.DataFrame:
    """One row per category of ``result``, for a table.

    Columns ``category`` (the user's text, shown as data), ``minutes``, ``stations``,
    ``population_covered``, ``share_covered``, ``gap_zones`` and ``required``.
    """
    rows = [
        {
            "category": c.name,
            "minutes": c.result.config.walk_minutes,
            "stations": len(c.result.stations),
            "population_covered": c.result.population_covered,
            "share_covered": c.result.share_covered,
            "gap_zones": len(c.result.gaps),
            "required": c.name in result.require,
        }
        for c in result.categories
    ]
    columns = [
        "category",
        "minutes",
        "stations",
        "population_covered",
        "share_covered",
        "gap_zones",
        "required",
    ]
    return pd.DataFrame(rows, columns=columns)
