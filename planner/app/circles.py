"""The app's service-circle view: categories, the complete circle and walking profiles.

Pure functions over a :class:`~planner.app.plan.Plan` for the "Service circles" page
(``app_pages/circles.py``): the circle analysis of the plan's stations under a chosen
walking profile (:func:`circle_view`), its per-category table (:func:`category_table`)
and, when the demand carries head counts of groups of people, its per-group table
(:func:`group_columns`, :func:`group_table`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from planner.app.map_elements import class_points
from planner.app.plan import Plan
from planner.report.maps import (
    COVERED_COLOUR,
    UNCOVERED_COLOUR,
    even_sample,
    map_text,
    stable_ids,
)
from planner.sources.coords import WGS84
from planner.texts import Language, text
from planner.walk.categories import CircleResult, analyze_circles, station_categories
from planner.walk.profiles import BUILTIN_PROFILES, WalkProfile

#: Homes drawn at most on the category layer (evenly thinned past it).
MAX_LAYER_HOMES = 8_000

#: The profiles the app offers, in order; ``adult`` walks at the sidebar's speed.
APP_PROFILES = tuple(BUILTIN_PROFILES)

#: Demand columns that are never offered as groups of people: the population itself,
#: coordinates, and the building figures the OSM homes carry.
NOT_GROUPS = frozenset({"population", "lon", "lat", "x", "y", "levels", "floor_m2"})


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
    groups: Sequence[str] = (),
) -> CircleResult:
    """The circle analysis of ``plan`` (its stations, homes, limit) for one profile.

    ``adult`` walks at the plan's ``speed_kmh`` (the sidebar's); the other built-in
    profiles at their own speed. Categories missing from ``category_minutes`` use the
    plan's walk limit; with fewer than two categories there is no per-category view.
    ``groups`` are demand columns of head counts (from :func:`group_columns`).
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
            groups=groups,
        )


def group_columns(plan: Plan) -> list[str]:
    """Demand columns that can be head counts of groups of people, in table order.

    Numeric columns (not :data:`NOT_GROUPS`, not made by the analysis) whose values are
    all finite and 0 or more; the page offers them and the user picks the groups.
    """
    demand = plan.area.demand
    out = []
    for col in demand.columns:
        name = str(col)
        if col == demand.geometry.name or name in NOT_GROUPS:
            continue
        if not pd.api.types.is_numeric_dtype(demand[col]) or demand[col].dtype == bool:
            continue
        values = demand[col].to_numpy(dtype=float)
        if len(values) and np.isfinite(values).all() and (values >= 0).all():
            out.append(name)
    return out


def group_table(result: CircleResult) -> pd.DataFrame:
    """One row per group of people of ``result``: its people and shares covered, in %.

    Columns ``group`` (the column name, shown as data), ``people``, ``share_covered``
    (within the circle of all stations), then with categories ``share_complete`` and
    ``share_0``, ``share_1``... (within each category's own limit, in the order of
    ``result.categories``). Shares are percentages of the group's own people (0 when the
    group has nobody). Empty without groups.
    """
    if not result.groups:
        return pd.DataFrame(columns=["group", "people", "share_covered"])
    figures = result.summary()["groups"]
    rows = []
    for group, fig in figures.items():
        row = {
            "group": group,
            "people": fig["population"],
            "share_covered": 100.0 * fig["share_covered"],
        }
        if result.categories:
            row["share_complete"] = 100.0 * fig["share_complete"]
            for i, cat in enumerate(result.categories):
                row[f"share_{i}"] = 100.0 * fig["categories"][cat.name]["share_covered"]
        rows.append(row)
    return pd.DataFrame(rows)


def category_table(result: CircleResult) -> pd.DataFrame:
    """One row per category of ``result``, for a table.

    Columns ``category`` (the user's text, shown as data), ``minutes``, ``stations``,
    ``population_covered``, ``share_covered`` (percent, as in :func:`group_table`),
    ``gap_zones`` and ``required``.
    """
    rows = [
        {
            "category": c.name,
            "minutes": c.result.config.walk_minutes,
            "stations": len(c.result.stations),
            "population_covered": c.result.population_covered,
            "share_covered": 100.0 * c.result.share_covered,
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


def category_layer(
    result: CircleResult,
    category: str | None = None,
    *,
    language: Language = "en",
    max_homes: int = MAX_LAYER_HOMES,
) -> folium.FeatureGroup:
    """Homes coloured by whether they reach ``category`` (the complete circle when None).

    Blue: within the category's limit (or in the complete circle); red: not. Names go
    through :func:`~planner.report.maps.map_text` (text from data never runs as a template).

    Raises
    ------
    KeyError
        When ``category`` is not one of ``result.categories``.
    """
    d = result.result.demand
    if category is None:
        covered = result.complete
        name = text("layer_complete", language)
    else:
        column = {c.name: c.column for c in result.categories}[category]
        covered = d[f"covered_{column}"].to_numpy(dtype=bool)
        name = text("layer_category", language, category=category)
    homes = d.assign(_in=covered)
    shown = even_sample(homes, max_homes)
    pts = gpd.GeoDataFrame(
        {
            "id": shown["id"].astype(str) if "id" in shown.columns else shown.index.astype(str),
            "people": shown["population"].round(0),
            "within": shown["_in"].astype(bool).map(lambda v: text("yes" if v else "no", language)),
            "cls": shown["_in"].astype(int),
        },
        geometry=shown.geometry,
        crs=shown.crs,
    ).to_crs(WGS84)
    group = folium.FeatureGroup(name=map_text(name), show=True)
    if len(pts):
        class_points(
            pts,
            (UNCOVERED_COLOUR, COVERED_COLOUR),
            fields=["id", "people", "within"],
            aliases=[map_text(text(k, language)) for k in ("home", "people", "c_covered")],
        ).add_to(group)
    stable_ids(group, prefix="category-layer")
    return group


__all__ = [
    "APP_PROFILES",
    "category_layer",
    "category_table",
    "circle_view",
    "group_columns",
    "group_table",
    "plan_categories",
]
