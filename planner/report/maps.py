"""Folium maps of a coverage result, pure functions that work without internet access.

Folium loads Leaflet, jQuery, Bootstrap and icon fonts from CDNs by default; offline the
map does not render at all. :func:`coverage_map` embeds Leaflet from the installed
``django-js-lib-leaflet`` package (as ``data:`` URIs) and uses only Leaflet's own vector
layers and circle markers, so the file opens with no network. Background tiles still come
from OpenStreetMap when reachable; the street network is drawn from our own data so the map
stays readable on a plain background when they are not.

Text from the user's files is data, never code. Folium renders each element's script as a
Jinja2 template *after* our data is inside it (branca's ``MacroElement.render`` wraps the
rendered script in a new ``Element(template)``), so a ``{{ ... }}`` in a station name would
be evaluated on the machine and a ``{#`` would crash the run. Every value and column name
that reaches a map therefore goes through :func:`map_text` (via :func:`to_geojson`): HTML
escaped, with ``{`` and ``}`` written as the character references ``&#123;`` and ``&#125;``.
Tooltips, popups and the legend insert their text as HTML, so people read the original
characters, while the rendered script holds no brace from the data for Jinja to parse.
:func:`stable_ids` (:mod:`planner.report.map_render`) makes folium's random element ids
deterministic, so the same input gives byte-identical HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from planner.errors import InputDataError
from planner.report.map_geometry import (
    feature_collection,
    gap_outlines,
    simplified_outlines,
    streets_image,
)
from planner.report.map_render import GeoJson, ImageOverlay
from planner.report.map_render import leaflet_assets as leaflet_assets
from planner.report.map_render import stable_ids as stable_ids
from planner.texts import Language, check_language, text
from planner.walk.coverage import CoverageResult

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
#: Grid (degrees) coordinates are snapped to on the maps: 1e-6 degree is about 0.1 m.
MAP_GRID_DEG = 1e-6
MAP_DECIMALS = 6
#: Draw at most this many homes of each kind (served, not served) in ``map.html``; past it
#: the homes drawn are an even sample and the layer's name says how many are shown. Every
#: figure still counts every home.
MAX_MAP_HOMES = 20_000
#: Past this many street segments the map draws the streets as one image (about 15 m per
#: pixel at metro scale, :func:`planner.report.map_geometry.streets_image`); gap zones are
#: drawn coarser when there are hundreds (:func:`planner.report.map_geometry.gap_outlines`),
#: so that a city's map stays a few megabytes; figures and the GeoPackage keep the exact
#: outlines.
LARGE_LAYER = 20_000
#: Past this many vertices a band's outline is drawn coarser (5 m) and without holes or
#: parts under about 20 m across (:func:`planner.report.map_geometry.simplified_outlines`).
LARGE_OUTLINE = 50_000
#: Simplification of lines and outlines drawn on the map, in degrees (about 2 m and 5 m).
SMALL_LAYER_TOLERANCE_DEG = 0.00002
LARGE_LAYER_TOLERANCE_DEG = 0.00005


def coverage_map(
    result: CoverageResult,
    *,
    streets: gpd.GeoDataFrame | None = None,
    tiles: bool = True,
    station_isochrones: bool = False,
    suggested_sites: gpd.GeoDataFrame | None = None,
    language: Language = "en",
    max_homes: int = MAX_MAP_HOMES,
    extra_layers: Sequence[Element] = (),
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
    max_homes
        Homes of each kind (served, not served) drawn at most; past it an even sample is
        drawn and the layer's name says so (:data:`MAX_MAP_HOMES` by default), so that the
        map of a city of millions of homes stays a few megabytes.
    extra_layers
        More overlays and controls, added after the stations and before the layer control
        (e.g. :func:`planner.report.category_layers.category_layers`).

    Returns
    -------
    folium.Map
        A map with no external script or stylesheet (only tiles are fetched online). All
        text from the data is escaped (:func:`map_text`) and element ids are deterministic.
    """
    if max_homes < 1:
        msg = f"max_homes must be at least 1, got {max_homes}."
        raise InputDataError(msg)
    lang = check_language(language)
    # Built before the bands, which analyze_coverage may still be making in the background.
    street_layer = _streets_layer(streets, lang) if streets is not None and len(streets) else None
    after = [_gaps_layer(result, lang), _homes_layer(result, lang, max_homes)]
    after.append(_stations_layer(result, lang))
    bounds = map_bounds(result)
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    fmap.default_js, fmap.default_css = leaflet_assets()
    if tiles:
        folium.TileLayer(
            tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19, control=False
        ).add_to(fmap)
    else:
        _Attribution(OSM_ATTRIBUTION).add_to(fmap)
    if street_layer is not None:
        street_layer.add_to(fmap)
    _bands_layer(result.coverage_area, lang).add_to(fmap)
    if station_isochrones and len(result.isochrones):
        _station_bands_layer(result, lang).add_to(fmap)
    for group in after:
        group.add_to(fmap)
    if suggested_sites is not None and len(suggested_sites):
        _sites_layer(suggested_sites, lang).add_to(fmap)
    for layer in extra_layers:
        layer.add_to(fmap)
    Legend(result.config.bands, lang, sites=suggested_sites is not None).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds(bounds)
    stable_ids(fmap.get_root(), prefix="coverage-map")
    return fmap


class Legend(MacroElement):
    """A Leaflet control listing the band colours and symbols (plain Leaflet, no jQuery).

    Shared by :func:`coverage_map` and the app's map (:mod:`planner.app.plan_map`).
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
        rows = [f"<b>{map_text(text('map_legend_title', language))}</b>"]
        for i, band in enumerate(bands):
            colour = BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)]
            low = 0.0 if i == 0 else bands[i - 1]
            label = text("map_band_range", language, low=f"{low:g}", high=f"{band:g}")
            rows.append(swatch.format(f"background:{colour}") + map_text(label))
        dot = (
            '<span style="display:inline-block;width:9px;height:9px;border-radius:50%;'
            'margin:0 6px 0 2px;background:{}"></span>'
        )
        rows += [
            dot.format(STATION_COLOUR) + map_text(text("map_station", language)),
            dot.format(COVERED_COLOUR) + map_text(text("map_home_in", language)),
            dot.format(UNCOVERED_COLOUR) + map_text(text("map_home_out", language)),
            swatch.format(f"border:2px dashed {GAP_COLOUR}") + map_text(text("map_gap", language)),
        ]
        if sites:
            rows.append(dot.format(SITE_COLOUR) + map_text(text("map_site", language)))
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


def map_bounds(result: CoverageResult) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of the bands, homes and stations, in degrees."""
    frames = [g for g in (result.coverage_area, result.demand, result.stations) if len(g)]
    minx, miny, maxx, maxy = np.array([f.total_bounds for f in frames]).T
    return [
        [float(np.nanmin(miny)), float(np.nanmin(minx))],
        [float(np.nanmax(maxy)), float(np.nanmax(maxx))],
    ]


def _streets_layer(streets: gpd.GeoDataFrame, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_layer_streets", lang), show=True)
    if len(streets) > LARGE_LAYER:
        # A city's streets as one image: as vectors they are most of the file's megabytes.
        image = streets_image(streets.geometry)
        ImageOverlay(image=image.url, bounds=image.bounds, opacity=0.8, interactive=False).add_to(
            group
        )
        return group
    lines = streets[["geometry"]].to_crs(4326)
    lines = lines.set_geometry(lines.geometry.simplify(SMALL_LAYER_TOLERANCE_DEG))
    GeoJson(
        to_geojson(lines),
        uniform_style=True,
        style_function=lambda _: {"color": STREET_COLOUR, "weight": 1, "opacity": 0.8},
        interactive=False,
    ).add_to(group)
    return group


class BandGroup(folium.FeatureGroup):
    """The map's group of walk-time band layers (:func:`band_layers`), a plain feature group.

    Its own class so that :mod:`planner.report.deferred` finds it in a built map.
    """


def _bands_layer(areas: gpd.GeoDataFrame, lang: Language) -> folium.FeatureGroup:
    group = BandGroup(name=text("map_layer_bands", lang), show=True)
    for layer in band_layers(areas, lang):
        layer.add_to(group)
    return group


def band_layers(areas: gpd.GeoDataFrame, lang: Language) -> list[folium.GeoJson]:
    """One layer per band of ``areas`` (a :attr:`~CoverageResult.coverage_area`), widest first."""
    layers: list[folium.GeoJson] = []
    areas = areas.sort_values("band_min", ascending=False)
    n = len(areas)
    for i, (_, row) in enumerate(areas.iterrows()):
        colour = BAND_COLOURS[min(n - 1 - i, len(BAND_COLOURS) - 1)]
        layers.append(
            GeoJson(
                to_geojson(
                    gpd.GeoDataFrame(
                        {"band_min": [row["band_min"]]},
                        geometry=_band_outline(row.geometry),
                        crs=4326,
                    ),
                    arrays=True,
                ),
                uniform_style=True,
                style_function=lambda _, c=colour: {
                    "color": c,
                    "weight": 1,
                    "fillColor": c,
                    "fillOpacity": 0.35,
                },
                tooltip=map_text(text("map_within_band", lang, minutes=f"{row['band_min']:g}")),
            )
        )
    return layers


def _station_bands_layer(result: CoverageResult, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_layer_isochrones", lang), show=False)
    iso = result.isochrones.sort_values("band_min", ascending=False)
    GeoJson(
        to_geojson(iso[["station_id", "band_min", "geometry"]]),
        uniform_style=True,
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
        gaps = gap_outlines(result.gaps)
        gaps["population"] = gaps["population"].round(0)
        gaps["walk_min_nearest"] = gaps["walk_min_nearest"].round(1)
        GeoJson(
            to_geojson(
                gaps[["gap_id", "homes", "population", "walk_min_nearest", "geometry"]],
                arrays=True,
            ),
            uniform_style=True,
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


def _homes_layer(result: CoverageResult, lang: Language, max_homes: int) -> folium.FeatureGroup:
    d = result.demand
    parts = []
    for covered, colour in ((True, COVERED_COLOUR), (False, UNCOVERED_COLOUR)):
        part = d.loc[d["covered"].to_numpy() == covered]
        parts.append((even_sample(part, max_homes), colour))
    shown = sum(len(p) for p, _ in parts)
    name = text("map_layer_homes", lang)
    if shown < len(d):
        name += " " + text("map_sampled", lang, shown=f"{shown:,}", total=f"{len(d):,}")
    group = folium.FeatureGroup(name=map_text(name), show=True)
    for part, colour in parts:
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
        GeoJson(
            to_geojson(pts, arrays=True),
            marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.85),
            uniform_style=True,
            style_function=lambda _, c=colour: {"fillColor": c, "color": c},
            tooltip=folium.GeoJsonTooltip(["id", "people", "minutes", "status"]),
        ).add_to(group)
    return group


def _band_outline(geom: Any) -> list[Any]:
    """A band's outline as the map draws it: coarser and without specks when it is large."""
    large = shapely.get_num_coordinates(geom) > LARGE_OUTLINE
    tol = LARGE_LAYER_TOLERANCE_DEG if large else SMALL_LAYER_TOLERANCE_DEG / 2
    area = (4 * tol) ** 2 if large else 0.0
    drawn = simplified_outlines(np.array([geom], dtype=object), tolerance=tol, min_ring_area=area)
    return list(drawn)


def even_sample(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most ``limit`` rows of ``frame``, evenly spread over it (all rows when fewer)."""
    if len(frame) <= limit:
        return frame
    return frame.iloc[np.linspace(0, len(frame) - 1, limit).astype(int)]


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
    GeoJson(
        to_geojson(table),
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
    GeoJson(
        to_geojson(table),
        marker=folium.CircleMarker(
            radius=8, color="black", weight=2, fill=True, fill_color=SITE_COLOUR, fill_opacity=1.0
        ),
        tooltip=folium.GeoJsonTooltip([map_text(c) for c in fields]) if fields else None,
    ).add_to(group)
    return group


def station_marker() -> folium.CircleMarker:
    """The symbol of a station on every map: a filled purple dot with a white ring."""
    return folium.CircleMarker(
        radius=7, color="white", weight=2, fill=True, fill_color=STATION_COLOUR, fill_opacity=1.0
    )


def map_text(value: object) -> str:
    """Text from data as a folium map shows it: HTML-escaped, braces as references.

    Parameters
    ----------
    value
        Any value; None and missing values give ``""``.

    Returns
    -------
    str
        ``html.escape(str(value))`` with ``{`` and ``}`` written as ``&#123;`` and
        ``&#125;``. Popups, tooltips, layer names and the legend insert text as HTML, so
        the reader sees the original characters; the page's script holds no brace from the
        data, so folium's second Jinja pass (see the module notes) finds nothing to run.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value)).replace("{", "&#123;").replace("}", "&#125;")


def escape_text_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy with every text value and every column name passed through :func:`map_text`."""
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(map_text)
    names = {c: map_text(c) for c in out.columns if c != out.geometry.name}
    return out.rename(columns=names)


def to_geojson(gdf: gpd.GeoDataFrame, *, arrays: bool = False) -> dict[str, Any]:
    """The table as a GeoJSON FeatureCollection in WGS84, safe to give to ``folium.GeoJson``.

    Every text value and column name goes through :func:`map_text`; numbers stay numbers.
    Name tooltip or popup fields with ``map_text(column)`` when a column name may come
    from the user. Coordinates are rounded to :data:`MAP_GRID_DEG` (about 0.1 m; vertex by
    vertex, fast on outlines of any size) and features carry no ``bbox``: a map's size is
    mostly coordinates, and 17 significant digits of a degree are sub-nanometre. With
    ``arrays`` the collection is a :class:`~.map_geometry.GeoJsonData` (polygon rings as
    numpy arrays, written by orjson): for this package's :class:`~.map_render.GeoJson`
    only, and only for properties without infinities (orjson writes them as ``null``).
    """
    table = escape_text_columns(gdf).to_crs(4326)
    geoms = shapely.transform(table.geometry.to_numpy(), lambda xy: np.round(xy, MAP_DECIMALS))
    return feature_collection(table.drop(columns=table.geometry.name), geoms, arrays=arrays)
