"""Folium maps of a coverage result, pure functions that work without internet access.

Folium loads Leaflet, jQuery, Bootstrap and icon fonts from CDNs by default; offline the
map does not render at all. :func:`coverage_map` embeds Leaflet from the installed
``django-js-lib-leaflet`` package (as ``data:`` URIs) and uses only Leaflet's own vector
layers and circle markers, so the file opens with no network. Background tiles still come
from OpenStreetMap when reachable; the street network is drawn from our own data so the map
stays readable on a plain background when they are not.
"""

from __future__ import annotations

import base64
import html
import importlib.resources
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from planner.coverage import CoverageResult
from planner.i18n import Language, check_language, text

OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

#: Fill colours of the walk-time bands, nearest first.
BAND_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59")
COVERED_COLOUR = "#2166ac"
UNCOVERED_COLOUR = "#d7301f"
STATION_COLOUR = "#542788"
GAP_COLOUR = "#b2182b"
STREET_COLOUR = "#9e9e9e"
SITE_COLOUR = "#e08214"


def leaflet_assets() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Leaflet's JavaScript and CSS as ``data:`` URIs, from the installed package.

    Returns
    -------
    js, css
        Lists of ``(name, url)`` in the form of ``folium.Map.default_js`` / ``default_css``.
    """
    root = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    js = (root / "leaflet.js").read_bytes()
    css = (root / "leaflet.css").read_bytes()
    return (
        [("leaflet", "data:text/javascript;base64," + base64.b64encode(js).decode())],
        [("leaflet_css", "data:text/css;base64," + base64.b64encode(css).decode())],
    )


def coverage_map(
    result: CoverageResult,
    *,
    streets: gpd.GeoDataFrame | None = None,
    tiles: bool = True,
    station_isochrones: bool = False,
    suggested_sites: gpd.GeoDataFrame | None = None,
    language: Language = "en",
) -> folium.Map:
    """A Folium map of stations, walk-time bands, homes and gap zones.

    Parameters
    ----------
    result
        The coverage analysis to show.
    streets
        Street lines to draw as the base layer (e.g. ``network.edges``); None draws none.
    tiles
        Add OpenStreetMap background tiles (they load only when the tile server is
        reachable; everything else renders offline).
    station_isochrones
        Also add each station's own nested bands as a layer (hidden by default).
    suggested_sites
        Points of proposed new stations (e.g. from siting), drawn as their own layer with
        their ``id``/``name`` and any ``population_*`` columns in the tooltip; None draws
        none.
    language
        Language of the legend, layer names and tooltips: ``"en"`` or ``"zh"``.

    Returns
    -------
    folium.Map
        A map with no external script or stylesheet (only tiles are fetched online).
    """
    lang = check_language(language)
    bounds = _bounds(result)
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    fmap.default_js, fmap.default_css = leaflet_assets()
    if tiles:
        folium.TileLayer(
            tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19, control=False
        ).add_to(fmap)
    else:
        _Attribution(OSM_ATTRIBUTION).add_to(fmap)
    if streets is not None and len(streets):
        _streets_layer(streets, lang).add_to(fmap)
    _bands_layer(result, lang).add_to(fmap)
    if station_isochrones and len(result.isochrones):
        _station_bands_layer(result, lang).add_to(fmap)
    _gaps_layer(result, lang).add_to(fmap)
    _homes_layer(result, lang).add_to(fmap)
    _stations_layer(result, lang).add_to(fmap)
    if suggested_sites is not None and len(suggested_sites):
        _sites_layer(suggested_sites, lang).add_to(fmap)
    Legend(result.config.bands, lang, sites=suggested_sites is not None).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds(bounds)
    return fmap


class Legend(MacroElement):
    """A Leaflet control listing the band colours and symbols (plain Leaflet, no jQuery).

    Shared by :func:`coverage_map` and the app's map (:mod:`planner.plan_map`).
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "planner-legend");
                div.style.cssText = "background:white;padding:6px 8px;font:12px sans-serif;"
                    + "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);line-height:18px";
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}"""
    )

    def __init__(self, bands: tuple[float, ...], language: Language, *, sites: bool) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Legend"
        swatch = (
            '<span style="display:inline-block;width:14px;height:10px;margin-right:4px;{}"></span>'
        )
        rows = [f"<b>{html.escape(text('map_legend_title', language))}</b>"]
        for i, band in enumerate(bands):
            colour = BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)]
            low = 0.0 if i == 0 else bands[i - 1]
            label = text("map_band_range", language, low=f"{low:g}", high=f"{band:g}")
            rows.append(swatch.format(f"background:{colour}") + html.escape(label))
        dot = (
            '<span style="display:inline-block;width:9px;height:9px;border-radius:50%;'
            'margin:0 6px 0 2px;background:{}"></span>'
        )
        rows += [
            dot.format(STATION_COLOUR) + html.escape(text("map_station", language)),
            dot.format(COVERED_COLOUR) + html.escape(text("map_home_in", language)),
            dot.format(UNCOVERED_COLOUR) + html.escape(text("map_home_out", language)),
            swatch.format(f"border:2px dashed {GAP_COLOUR}")
            + html.escape(text("map_gap", language)),
        ]
        if sites:
            rows.append(dot.format(SITE_COLOUR) + html.escape(text("map_site", language)))
        self.html = "<br>".join(rows)


class _Attribution(MacroElement):
    """Credit OSM in the map's attribution control when no tile layer does it."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Attribution"
        self.text = text


def _bounds(result: CoverageResult) -> list[list[float]]:
    frames = [g for g in (result.coverage_area, result.demand, result.stations) if len(g)]
    minx, miny, maxx, maxy = np.array([f.total_bounds for f in frames]).T
    return [
        [float(np.nanmin(miny)), float(np.nanmin(minx))],
        [float(np.nanmax(maxy)), float(np.nanmax(maxx))],
    ]


def _streets_layer(streets: gpd.GeoDataFrame, lang: Language) -> folium.FeatureGroup:
    lines = streets[["geometry"]].to_crs(4326)
    lines = lines.set_geometry(lines.geometry.simplify(0.00002))
    group = folium.FeatureGroup(name=text("map_layer_streets", lang), show=True)
    folium.GeoJson(
        to_geojson(lines),
        style_function=lambda _: {"color": STREET_COLOUR, "weight": 1, "opacity": 0.8},
        interactive=False,
    ).add_to(group)
    return group


def _bands_layer(result: CoverageResult, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_layer_bands", lang), show=True)
    areas = result.coverage_area.sort_values("band_min", ascending=False)
    n = len(areas)
    for i, (_, row) in enumerate(areas.iterrows()):
        colour = BAND_COLOURS[min(n - 1 - i, len(BAND_COLOURS) - 1)]
        folium.GeoJson(
            to_geojson(
                gpd.GeoDataFrame({"band_min": [row["band_min"]]}, geometry=[row.geometry], crs=4326)
            ),
            style_function=lambda _, c=colour: {
                "color": c,
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.35,
            },
            tooltip=html.escape(text("map_within_band", lang, minutes=f"{row['band_min']:g}")),
        ).add_to(group)
    return group


def _station_bands_layer(result: CoverageResult, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_layer_isochrones", lang), show=False)
    iso = result.isochrones.sort_values("band_min", ascending=False)
    folium.GeoJson(
        to_geojson(escape_text_columns(iso[["station_id", "band_min", "geometry"]])),
        style_function=lambda _: {
            "color": STATION_COLOUR,
            "weight": 1,
            "fill": False,
            "dashArray": "4 4",
        },
        tooltip=folium.GeoJsonTooltip(
            ["station_id", "band_min"],
            aliases=[text("map_station", lang), text("map_minutes", lang)],
        ),
    ).add_to(group)
    return group


def _gaps_layer(result: CoverageResult, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_layer_gaps", lang), show=True)
    if len(result.gaps):
        gaps = result.gaps.copy()
        gaps["population"] = gaps["population"].round(0)
        gaps["walk_min_nearest"] = gaps["walk_min_nearest"].round(1)
        folium.GeoJson(
            to_geojson(
                escape_text_columns(
                    gaps[["gap_id", "homes", "population", "walk_min_nearest", "geometry"]]
                )
            ),
            style_function=lambda _: {
                "color": GAP_COLOUR,
                "weight": 2,
                "fillColor": GAP_COLOUR,
                "fillOpacity": 0.15,
                "dashArray": "6 3",
            },
            tooltip=folium.GeoJsonTooltip(
                ["gap_id", "homes", "population", "walk_min_nearest"],
                aliases=[
                    text("map_gap", lang),
                    text("map_homes", lang),
                    text("map_people", lang),
                    text("map_minutes_nearest", lang),
                ],
            ),
        ).add_to(group)
    return group


def _homes_layer(result: CoverageResult, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_layer_homes", lang), show=True)
    d = result.demand
    for covered, colour in ((True, COVERED_COLOUR), (False, UNCOVERED_COLOUR)):
        part = d.loc[d["covered"].to_numpy() == covered]
        if not len(part):
            continue
        pts = gpd.GeoDataFrame(
            {
                "id": part["id"].astype(str) if "id" in part.columns else part.index.astype(str),
                "people": part["population"].round(0),
                "minutes": part["walk_min"].round(1),
                "status": part["status"],
            },
            geometry=part.geometry,
            crs=4326,
        )
        folium.GeoJson(
            to_geojson(escape_text_columns(pts)),
            marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.85),
            style_function=lambda _, c=colour: {"fillColor": c, "color": c},
            tooltip=folium.GeoJsonTooltip(["id", "people", "minutes", "status"]),
        ).add_to(group)
    return group


def _stations_layer(result: CoverageResult, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_layer_stations", lang), show=True)
    st = result.stations
    minutes = f"{result.config.walk_minutes:g}"
    table = gpd.GeoDataFrame(
        {
            "name": st["name"].astype(str) if "name" in st.columns else "",
            "id": st["id"].astype(str),
            "category": st["category"].astype(str) if "category" in st.columns else "",
            "served": st["population_served"].round(0),
            "only_here": st["population_only_here"].round(0),
            "homes": st["homes_served"],
            "on_network": np.where(
                st["on_network"],
                text("yes", lang),
                text("no_snap", lang, m=f"{result.config.max_snap_m:g}"),
            ),
        },
        geometry=st.geometry,
        crs=4326,
    )
    fields = ["name", "id", "category", "served", "only_here", "homes", "on_network"]
    aliases = [
        text("c_name", lang),
        text("c_id", lang),
        text("c_category", lang),
        text("map_people_within", lang, minutes=minutes),
        text("map_only_here", lang),
        text("map_homes_within", lang, minutes=minutes),
        text("map_on_network", lang),
    ]
    folium.GeoJson(
        to_geojson(escape_text_columns(table)),
        marker=station_marker(),
        popup=folium.GeoJsonPopup(fields, aliases=aliases, max_width=340),
        tooltip=folium.GeoJsonTooltip(["name", "id"]),
    ).add_to(group)
    return group


def _sites_layer(sites: gpd.GeoDataFrame, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_layer_sites", lang), show=True)
    pts = sites.to_crs(4326)
    fields = [c for c in pts.columns if c in ("id", "name") or str(c).startswith("population")]
    table = pts[[*fields, pts.geometry.name]].copy()
    for col in fields:
        if pd.api.types.is_float_dtype(table[col]):
            table[col] = table[col].round(0)
    folium.GeoJson(
        to_geojson(escape_text_columns(table)),
        marker=folium.CircleMarker(
            radius=8, color="black", weight=2, fill=True, fill_color=SITE_COLOUR, fill_opacity=1.0
        ),
        tooltip=folium.GeoJsonTooltip(fields) if fields else None,
    ).add_to(group)
    return group


def station_marker() -> folium.CircleMarker:
    """The symbol of a station on every map: a filled purple dot with a white ring."""
    return folium.CircleMarker(
        radius=7, color="white", weight=2, fill=True, fill_color=STATION_COLOUR, fill_opacity=1.0
    )


def escape_text_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy with every text column HTML-escaped (tooltips insert values as HTML)."""
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(lambda v: html.escape(str(v)) if pd.notna(v) else "")
    return out


def to_geojson(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    """The table as a GeoJSON FeatureCollection in WGS84 (for ``folium.GeoJson``)."""
    data: dict[str, Any] = gdf.to_crs(4326).__geo_interface__
    return data
