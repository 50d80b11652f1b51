"""Map layers of a circle analysis: one per station category, plus the complete circle.

:func:`category_layers` turns a :class:`~planner.walk.categories.CircleResult` into
overlays for :func:`planner.report.maps.coverage_map` (its ``extra_layers``): per category
its stations, the area within that category's own walk limit and the homes that reach
it within the limit; one layer of the homes in the complete circle (every required
category within its limit); and a legend naming the categories' colours. The layers are
hidden at first and toggled in the map's layer control. :func:`saved_category_layers` draws
the same from a saved run's layers and ``summary.json`` (without the areas, which are not
saved), for ``planner report``.

Category names, station names and ids are data: every one of them reaches the map
through :func:`~planner.report.maps.map_text` or :func:`~planner.report.maps.to_geojson`
(HTML escaped, braces as character references), never as template or HTML source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
from branca.element import Element, MacroElement

from planner.errors import InputDataError
from planner.report.map_geometry import simplified_outlines
from planner.report.map_render import GeoJson
from planner.report.maps import (
    MAX_MAP_HOMES,
    SMALL_LAYER_TOLERANCE_DEG,
    Legend,
    even_sample,
    map_text,
    to_geojson,
)
from planner.texts import Language, check_language, text
from planner.walk.categories import CircleResult
from planner.walk.coverage import CoverageResult

#: Colours of the categories, in the order of :attr:`CircleResult.categories` (repeating
#: past eight; the legend and the layer names tell repeated colours apart).
CATEGORY_COLOURS = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
)
#: Colour of the homes in the complete circle.
COMPLETE_COLOUR = "#01665e"


def category_colour(index: int) -> str:
    """The colour of the ``index``-th category (0-based)."""
    return CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]


@dataclass(frozen=True, eq=False)
class _Category:
    """What one category's layer draws."""

    name: str
    column: str
    minutes: float
    stations: gpd.GeoDataFrame
    served: npt.NDArray[np.float64]
    area: gpd.GeoDataFrame | None


def category_layers(
    circle: CircleResult,
    *,
    language: Language = "en",
    max_homes: int = MAX_MAP_HOMES,
) -> list[Element]:
    """Overlays of each station category and of the complete circle, with their legend.

    Parameters
    ----------
    circle
        The circle analysis of one walking profile.
    language
        Language of the layer names, tooltips and legend: ``"en"`` or ``"zh"``.
    max_homes
        Homes drawn at most per layer; past it an even sample is drawn and the layer's
        name says how many are shown. Figures elsewhere count every home.

    Returns
    -------
    list of branca elements
        Empty without categories. Otherwise one :class:`folium.FeatureGroup` per category
        (its stations, its area within its own limit, the homes covered within that
        limit), one of the homes in the complete circle, then a :class:`CategoryLegend`.
        Every group is hidden until switched on in the layer control.
    """
    cats = [
        _Category(
            name=c.name,
            column=c.column,
            minutes=c.result.config.walk_minutes,
            stations=c.result.stations,
            served=c.result.stations["population_served"].to_numpy(dtype=float),
            area=c.result.coverage_area,
        )
        for c in circle.categories
    ]
    return _layers(circle.result.demand, cats, circle.complete, language, max_homes)


def saved_category_layers(
    result: CoverageResult,
    summary: Mapping[str, Any],
    *,
    language: Language = "en",
    max_homes: int = MAX_MAP_HOMES,
) -> list[Element]:
    """:func:`category_layers` of a saved run: from its layers and ``summary.json``.

    The demand layer's ``covered_<column>`` and complete-circle columns and the station
    layer's ``category`` (and ``population_served_in_category``) columns give the same
    homes and stations; the area within each category's limit is not saved, so it is not
    drawn. Empty when the summary names no categories or the layers lack their columns.
    """
    cats_info = summary.get("categories")
    if not isinstance(cats_info, Mapping) or not cats_info:
        return []
    demand, stations = result.demand, result.stations
    complete = str(summary.get("complete_column", "complete"))
    columns = [f"covered_{info.get('column')}" for info in cats_info.values()]
    if any(c not in demand.columns for c in [*columns, complete]):
        return []
    labels = (
        stations["category"].fillna("").astype(str).str.strip().to_numpy()
        if "category" in stations.columns
        else np.full(len(stations), "", dtype=object)
    )
    served_col = "population_served_in_category"
    if served_col not in stations.columns:
        served_col = "population_served"
    cats = [
        _Category(
            name=str(name),
            column=str(info.get("column")),
            minutes=float(info.get("minutes", result.config.walk_minutes)),
            stations=stations.loc[labels == str(name)],
            served=stations.loc[labels == str(name), served_col].to_numpy(dtype=float),
            area=None,
        )
        for name, info in cats_info.items()
    ]
    within = demand[complete].fillna(False).to_numpy(dtype=bool)
    return _layers(demand, cats, within, language, max_homes)


def _layers(
    demand: gpd.GeoDataFrame,
    cats: Sequence[_Category],
    complete: npt.NDArray[np.bool_],
    language: Language,
    max_homes: int,
) -> list[Element]:
    if max_homes < 1:
        msg = f"max_homes must be at least 1, got {max_homes}."
        raise InputDataError(msg)
    lang = check_language(language)
    if not cats:
        return []
    out: list[Element] = []
    for i, cat in enumerate(cats):
        colour = category_colour(i)
        covered = demand[f"covered_{cat.column}"].fillna(False).to_numpy(dtype=bool)
        minutes = f"{cat.minutes:g}"
        name = text("map_layer_category", lang, category=cat.name, minutes=minutes)
        group = _homes_group(demand, covered, name, colour, lang, max_homes)
        if cat.area is not None and len(cat.area):
            _area(cat.area).add_to(group)
        if len(cat.stations):
            _stations(cat, colour, lang).add_to(group)
        out.append(group)
    name = text("map_layer_complete", lang)
    out.append(_homes_group(demand, complete, name, COMPLETE_COLOUR, lang, max_homes))
    out.append(CategoryLegend([(c.name, c.minutes) for c in cats], lang))
    return out


class CategoryLegend(MacroElement):
    """A second legend box: each category's colour, name and limit, and the complete circle.

    The same plain-Leaflet control as :class:`~planner.report.maps.Legend`; ``categories``
    are ``(name, minutes)`` in the order of the layers.
    """

    _template = Legend._template

    def __init__(self, categories: Sequence[tuple[str, float]], language: Language) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CategoryLegend"
        dot = (
            '<span style="display:inline-block;width:9px;height:9px;border-radius:50%;'
            'margin:0 6px 0 2px;background:{}"></span>'
        )
        rows = [f"<b>{map_text(text('map_legend_categories', language))}</b>"]
        for i, (name, minutes) in enumerate(categories):
            label = text("map_legend_category", language, category=name, minutes=f"{minutes:g}")
            rows.append(dot.format(category_colour(i)) + map_text(label))
        rows.append(dot.format(COMPLETE_COLOUR) + map_text(text("map_layer_complete", language)))
        self.html = "<br>".join(rows)


def _homes_group(
    demand: gpd.GeoDataFrame,
    within: npt.NDArray[np.bool_],
    name: str,
    colour: str,
    lang: Language,
    max_homes: int,
) -> folium.FeatureGroup:
    """A hidden group holding the homes where ``within`` is True (evenly thinned)."""
    homes = demand.loc[within]
    shown = even_sample(homes, max_homes)
    if len(shown) < len(homes):
        name += " " + text("map_sampled", lang, shown=f"{len(shown):,}", total=f"{len(homes):,}")
    group = folium.FeatureGroup(name=map_text(name), show=False)
    if not len(shown):
        return group
    pts = gpd.GeoDataFrame(
        {
            "id": shown["id"].astype(str) if "id" in shown.columns else shown.index.astype(str),
            "people": shown["population"].round(0),
        },
        geometry=shown.geometry,
        crs=shown.crs,
    )
    GeoJson(
        to_geojson(pts),
        marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.85),
        uniform_style=True,
        style_function=lambda _, c=colour: {"fillColor": c, "color": c},
        tooltip=folium.GeoJsonTooltip(
            ["id", "people"], aliases=[text("home", lang), text("people", lang)]
        ),
    ).add_to(group)
    return group


def _area(area: gpd.GeoDataFrame) -> folium.GeoJson:
    """The area within the category's own limit (its last, widest band), as an outline."""
    widest = area.loc[[area["band_min"].idxmax()]]
    drawn = simplified_outlines(
        widest.geometry.to_numpy(), tolerance=SMALL_LAYER_TOLERANCE_DEG / 2, min_ring_area=0.0
    )
    outline = gpd.GeoDataFrame(
        {"band_min": widest["band_min"].to_numpy()}, geometry=list(drawn), crs=area.crs
    )
    return GeoJson(
        to_geojson(outline),
        uniform_style=True,
        style_function=lambda _: {"color": "#333333", "weight": 1, "fillOpacity": 0.12},
        interactive=False,
    )


def _stations(cat: _Category, colour: str, lang: Language) -> folium.GeoJson:
    st = cat.stations
    minutes = f"{cat.minutes:g}"
    table = gpd.GeoDataFrame(
        {
            "name": st["name"].astype(str) if "name" in st.columns else "",
            "id": st["id"].astype(str),
            "category": cat.name,
            "served": np.round(cat.served, 0),
        },
        geometry=st.geometry,
        crs=st.crs,
    )
    return GeoJson(
        to_geojson(table),
        marker=folium.CircleMarker(
            radius=7, color="white", weight=2, fill=True, fill_color=colour, fill_opacity=1.0
        ),
        tooltip=folium.GeoJsonTooltip(
            ["name", "id", "category", "served"],
            aliases=[
                text("c_name", lang),
                text("c_id", lang),
                text("c_category", lang),
                text("map_people_within", lang, minutes=minutes),
            ],
        ),
    )


__all__ = [
    "CATEGORY_COLOURS",
    "COMPLETE_COLOUR",
    "CategoryLegend",
    "category_layers",
    "saved_category_layers",
]
