"""Two plans on one study area: which homes gain or lose coverage, and their map layer.

:func:`coverage_change` compares, home by home, whether each is within the walk limit
of a station in a first plan (the base) and in a second one; :func:`change_layer` draws
the homes that changed as rings (green: gain, magenta: lose) over the plans' own layers.
The Compare page shows the two plans side by side with this layer on both.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from planner.app.plan import Plan
from planner.errors import InputDataError
from planner.report.maps import even_sample, stable_ids, to_geojson
from planner.sources.coords import WGS84
from planner.texts import Language, text

GAINED_COLOUR = "#1a9850"
LOST_COLOUR = "#c51b7d"
#: Draw at most this many changed homes of each kind (evenly thinned past it).
MAX_CHANGED_HOMES = 4_000
GAINED, LOST = "gained", "lost"


@dataclass(frozen=True, eq=False)
class CoverageChange:
    """Homes whose coverage differs between two plans.

    Attributes
    ----------
    homes
        One row per home that gains or loses coverage: ``id``, ``population``, ``change``
        (``"gained"`` or ``"lost"``), ``walk_min_base`` and ``walk_min_other`` (minutes
        to the nearest station, inf when none is reachable), points in WGS84; the
        study area's demand index.
    people_gained, people_lost
        People in the homes that gain / lose coverage.
    """

    homes: gpd.GeoDataFrame
    people_gained: float
    people_lost: float


def coverage_change(base: Plan, other: Plan) -> CoverageChange:
    """Which homes gain or lose coverage from ``base`` to ``other``.

    Both plans must be on the same study area's homes (they may differ in settings: a
    home's coverage is judged under each plan's own walk limit).

    Raises
    ------
    InputDataError
        When the plans are on different homes (another study area).
    """
    same = base.area.demand.index.equals(other.area.demand.index)
    if not same or len(base.area.demand) != len(other.area.demand):
        names = {"base": base.area.name, "other": other.area.name}
        raise InputDataError(key="err_compare_other_area", **names)
    a, b = base.covered, other.covered
    status = np.where(~a & b, GAINED, np.where(a & ~b, LOST, ""))
    keep = status != ""
    demand = base.area.demand
    homes = gpd.GeoDataFrame(
        {
            "id": demand["id"].astype(str).to_numpy()[keep],
            "population": base.population[keep],
            "change": status[keep],
            "walk_min_base": (base.home_dist_m / base.config.metres_per_minute)[keep],
            "walk_min_other": (other.home_dist_m / other.config.metres_per_minute)[keep],
        },
        geometry=demand.geometry.to_crs(WGS84).to_numpy()[keep],
        index=demand.index[keep],
        crs=WGS84,
    )
    pop = homes["population"]
    return CoverageChange(
        homes=homes,
        people_gained=float(pop[homes["change"] == GAINED].sum()),
        people_lost=float(pop[homes["change"] == LOST].sum()),
    )


def change_layer(
    change: CoverageChange, *, language: Language = "en", max_homes: int = MAX_CHANGED_HOMES
) -> folium.FeatureGroup:
    """The homes that gain (green rings) or lose (magenta rings) coverage, one map layer.

    Each ring's tooltip gives the home, its people and its walk time in both plans.
    """
    group = folium.FeatureGroup(name=text("map_layer_changes", language), show=True)
    homes = change.homes
    for kind, colour in ((GAINED, GAINED_COLOUR), (LOST, LOST_COLOUR)):
        part = even_sample(homes.loc[homes["change"] == kind], max_homes)
        if not len(part):
            continue
        points = gpd.GeoDataFrame(
            {
                "id": part["id"],
                "change": text(f"home_{kind}", language),
                "people": part["population"].round(0),
                "before": _minutes(part["walk_min_base"], language),
                "after": _minutes(part["walk_min_other"], language),
            },
            geometry=part.geometry,
            crs=WGS84,
        )
        folium.GeoJson(
            to_geojson(points),
            marker=folium.CircleMarker(radius=7, weight=3, fill=False),
            style_function=lambda _, c=colour: {"color": c},
            tooltip=folium.GeoJsonTooltip(
                ["change", "id", "people", "before", "after"],
                aliases=[
                    text(k, language)
                    for k in ("map_change", "home", "people", "walk_first", "walk_second")
                ],
            ),
        ).add_to(group)
    stable_ids(group, prefix="change-layer")
    return group


def _minutes(values: pd.Series, language: Language) -> list[str]:
    """Walk times as ``12.3``, or "unreachable" in the reader's language."""
    none = text("unreachable", language)
    return [f"{v:.1f}" if np.isfinite(v) else none for v in values.to_numpy(dtype=float)]
