"""The app's access layer: homes coloured by how much service they reach (issue 13).

One call of :func:`planner.walk.scores.access_scores` on the plan's stations and homes, the
same computation as ``planner analyze --access``: the figures shown beside the map are the
``access`` block that ``summary.json`` would hold for this plan. Homes are drawn in five
classes (no access, then four population-weighted quartiles of the scores above zero),
evenly thinned past ``max_homes`` like the homes layer; every home counts in the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np

from planner.app.map_elements import class_points
from planner.app.plan import Plan
from planner.report.maps import even_sample, map_text, stable_ids
from planner.sources.coords import WGS84
from planner.texts import Language, text
from planner.walk.scores import AccessScores, access_scores

#: Class colours: no access first, then low to high access.
ACCESS_COLOURS = ("#d7301f", "#eff3ff", "#9ecae1", "#4292c6", "#08519c")
#: Homes drawn at most (evenly thinned past it).
MAX_ACCESS_HOMES = 8_000


@dataclass(frozen=True, eq=False)
class AccessLayer:
    """The map layer and the figures behind it.

    Attributes
    ----------
    group
        The feature group for st_folium's ``feature_group_to_add``.
    scores
        The access scores of every home and station.
    method
        The method drawn.
    figures
        ``scores.summary()["by_method"][method]``: mean, median, p10, p90, Gini, share
        with no access (population-weighted).
    breaks
        Upper score of each class above zero (the quartiles), for the legend.
    """

    group: folium.FeatureGroup
    scores: AccessScores
    method: str
    figures: dict[str, Any]
    breaks: tuple[float, ...]


def access_layer(
    plan: Plan,
    *,
    method: str = "2sfca",
    language: Language = "en",
    max_homes: int = MAX_ACCESS_HOMES,
) -> AccessLayer:
    """Homes coloured by their access score under ``method`` (one of ``METHODS``).

    Parameters
    ----------
    plan
        The plan: its stations (``capacity`` as supply, 1 when absent) and homes.
    method
        ``"2sfca"``, ``"e2sfca"``, ``"g2sfca"`` or ``"gravity"``.
    language
        ``"en"`` or ``"zh"``.
    max_homes
        Homes drawn at most.

    Returns
    -------
    AccessLayer
        The layer and its figures.
    """
    scores = access_scores(
        plan.area.network, plan.stations, plan.area.demand, methods=(method,), config=plan.config
    )
    column = f"access_{method}"
    values = scores.demand[column].to_numpy(dtype=float)
    pop = scores.demand["population"].to_numpy(dtype=float)
    breaks = _weighted_quartiles(values, pop)
    cls = np.where(values > 0, 1 + np.searchsorted(np.asarray(breaks[:-1]), values), 0)
    homes = scores.demand.assign(_cls=cls)
    shown = even_sample(homes, max_homes)
    pts = gpd.GeoDataFrame(
        {
            "id": shown["id"].astype(str) if "id" in shown.columns else shown.index.astype(str),
            "score": shown[column].map(lambda v: float(f"{v:.4g}")),
            "people": shown["population"].round(0),
            "cls": shown["_cls"].astype(int),
        },
        geometry=shown.geometry,
        crs=shown.crs,
    ).to_crs(WGS84)
    name = text("layer_access", language, method=method.upper())
    group = folium.FeatureGroup(name=map_text(name), show=True)
    if len(pts):
        class_points(
            pts,
            ACCESS_COLOURS,
            fields=["id", "score", "people"],
            aliases=[map_text(text(k, language)) for k in ("home", "access_score", "people")],
        ).add_to(group)
    stable_ids(group, prefix="access-layer")
    figures = scores.summary()["by_method"][method]
    return AccessLayer(group=group, scores=scores, method=method, figures=figures, breaks=breaks)


def _weighted_quartiles(values: np.ndarray, weights: np.ndarray) -> tuple[float, ...]:
    """Population-weighted quartiles of the positive scores (four class tops)."""
    pos = values > 0
    if not pos.any():
        return (0.0, 0.0, 0.0, 0.0)
    v, w = values[pos], weights[pos]
    order = np.argsort(v, kind="stable")
    v, cum = v[order], np.cumsum(w[order])
    total = cum[-1] if cum[-1] > 0 else 1.0
    at = np.minimum(np.searchsorted(cum, np.array([0.25, 0.5, 0.75]) * total), len(v) - 1)
    tops = [float(x) for x in v[at]]
    return (*tops, float(v[-1]))


__all__ = ["ACCESS_COLOURS", "AccessLayer", "access_layer"]
