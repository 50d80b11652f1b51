"""Map layers of a circle analysis: one per station category, plus the complete circle.

:func:`category_layers` turns a :class:`~planner.walk.categories.CircleResult` into
overlays for :func:`planner.report.maps.coverage_map` (its ``extra_layers``): per category
its stations, the area within that category's own walk limit and the homes that reach
it within the limit; one layer of the homes in the complete circle (every required
category within its limit); and a legend naming the categories' colours. The layers are
hidden at first and toggled in the map's layer control.

Category names, station names and ids are data: every one of them reaches the map
through :func:`~planner.report.maps.map_text` or :func:`~planner.report.maps.to_geojson`
(HTML escaped, braces as character references), never as template or HTML source.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
from branca.element import Element, MacroElement

from planner.errors import InputDataError
from planner.report.map_geometry import simplified_outlines
from planner.report.maps import (
    MAX_MAP_HOMES,
    SMALL_LAYER_TOLERANCE_DEG,
    Legend,
    even_sample,
    map_text,
    to_geojson,
)
from planner.texts import Language, check_language, text
from planner.walk.categories import CategoryCoverage, CircleResult

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
    if max_homes < 1:
        msg = f"max_homes must be at least 1, got {max_homes}."
        raise InputDataError(msg)
    lang = check_language(language)
    if not circle.categories:
        return []
    demand = circle.result.demand
    out: list[Element] = []
    for i, cat in enumerate(circle.categories):
        colour = category_colour(i)
        covered = demand[f"covered_{cat.column}"].to_numpy(dtype=bool)
        minutes = f"{cat.result.config.walk_minutes:g}"
        name = text("map_layer_category", lang, category=cat.name, minutes=minutes)
        group = _homes_group(demand, covered, name, colour, lang, max_homes)
        if len(cat.result.coverage_area):
            _area(cat).add_to(group)
        if len(cat.result.stations):
            _stations(cat, colour, lang).add_to(group)
        out.append(group)
    name = text("map_layer_complete", lang)
    out.append(_homes_group(demand, circle.complete, name, COMPLETE_COLOUR, lang, max_homes))
    out.append(CategoryLegend(circle, lang))
    return out


class CategoryLegend(MacroElement):
    """A second legend box: each category's colour, name and limit, and the complete circle.

    The same plain-Leaflet control as :class:`~planner.report.maps.Legend`.
    """

    _template = Legend._template

    def __init__(self, circle: CircleResult, language: Language) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CategoryLegend"
        dot = (
            '<span style="display:inline-block;width:9px;height:9px;border-radius:50%;'
            'margin:0 6px 0 2px;background:{}"></span>'
        )
        rows = [f"<b>{map_text(text('map_legend_categories', language))}</b>"]
        for i, cat in enumerate(circle.categories):
            minutes = f"{cat.result.config.walk_minutes:g}"
            label = text("map_legend_category", language, category=cat.name, minutes=minutes)
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
    folium.GeoJson(
        to_geojson(pts),
        marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.85),
        style_function=lambda _, c=colour: {"fillColor": c, "color": c},
        tooltip=folium.GeoJsonTooltip(
            ["id", "people"], aliases=[text("home", lang), text("people", lang)]
        ),
    ).add_to(group)
    return group


def _area(cat: CategoryCoverage) -> folium.GeoJson:
    """The area within the category's own limit (its last, widest band), as an outline."""
    area = cat.result.coverage_area
    widest = area.loc[[area["band_min"].idxmax()]]
    drawn = simplified_outlines(
        widest.geometry.to_numpy(), tolerance=SMALL_LAYER_TOLERANCE_DEG / 2, min_ring_area=0.0
    )
    outline = gpd.GeoDataFrame(
        {"band_min": widest["band_min"].to_numpy()}, geometry=list(drawn), crs=area.crs
    )
    return folium.GeoJson(
        to_geojson(outline),
        style_function=lambda _: {"color": "#333333", "weight": 1, "fillOpacity": 0.12},
        interactive=False,
    )


def _stations(cat: CategoryCoverage, colour: str, lang: Language) -> folium.GeoJson:
    st = cat.result.stations
    minutes = f"{cat.result.config.walk_minutes:g}"
    table = gpd.GeoDataFrame(
        {
            "name": st["name"].astype(str) if "name" in st.columns else "",
            "id": st["id"].astype(str),
            "category": cat.name,
            "served": st["population_served"].round(0),
        },
        geometry=st.geometry,
        crs=st.crs,
    )
    return folium.GeoJson(
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


__all__ = ["CATEGORY_COLOURS", "COMPLETE_COLOUR", "CategoryLegend", "category_layers"]
