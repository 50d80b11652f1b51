"""The app's live map: a base map that stays put, and plan layers that change with each edit.

Built for ``streamlit_folium.st_folium``: :func:`base_map` (background, streets, legend)
changes only with the study area, the settings or the language, so the browser keeps the
map (and the planner's zoom) across edits; :func:`plan_layers` returns the feature groups
(walk-time bands, gap zones, homes, stations, proposed sites) that st_folium swaps in place
after each edit (its ``feature_group_to_add``).

Works with no internet: Leaflet comes from the installed ``django-js-lib-leaflet``
package, either copied into the app's static folder (:func:`install_leaflet`, served by
Streamlit's static file serving) or embedded as ``data:`` URIs; markers are Leaflet circle
markers (no icon fonts). Online tiles load when reachable; when they fail the map drops
them and shows a plain background under the street network drawn from our own data.
Every text that came from a user file reaches the map through :func:`planner.report.maps.to_geojson`
(HTML-escaped, braces as character references: folium renders scripts as Jinja templates
after the data is inside them, see :mod:`planner.report.maps`), and element ids are deterministic.
"""

from __future__ import annotations

import importlib.resources
import itertools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from planner.app.gaps_layer import CompactGaps, ZoneDrawings
from planner.app.homes_layer import MAX_HOMES, HomesBase, HomesState
from planner.app.map_elements import PlainBackground, ReleaseOldLayers, Streets, TileFallback
from planner.app.map_view import KeepView
from planner.app.plan import Plan
from planner.app.site_names import site_field_words
from planner.app.study_area import StudyArea
from planner.report.map_geometry import gap_outlines
from planner.report.maps import (
    BAND_COLOURS,
    OSM_ATTRIBUTION,
    OSM_TILES,
    Legend,
    leaflet_assets,
    map_text,
    stable_ids,
    station_marker,
    to_geojson,
)
from planner.sources.coords import WGS84
from planner.texts import Language, text

SITE_COLOUR = "#e08214"
SELECTED_COLOUR = "#ffd92f"
#: Background shown when online tiles cannot be loaded.
PLAIN_BACKGROUND = "#f4f3ef"
#: Embed the street network in the map only up to this many street segments.
MAX_STREETS = 40_000
#: Serve the street network as a file (see :func:`write_streets_file`) up to this many.
MAX_STREETS_FILE = 250_000
#: Draw walk-time bands as polygons on networks up to this many street segments (and up
#: to ``max_isochrone_stations`` stations); beyond, colour the reached streets by band.
MAX_POLYGON_STREETS = 20_000

Links = list[tuple[str, str]]


def install_leaflet(static_dir: str | Path) -> Path | None:
    """Copy Leaflet (js, css, images) from the installed package into ``static_dir/leaflet``.

    Files already there with the same size are left alone. Returns the folder, or None when
    it cannot be written (read-only install): use ``data:`` URIs then.
    """
    src = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    dest = Path(static_dir) / "leaflet"
    try:
        with importlib.resources.as_file(src) as root:
            files = [p for p in Path(root).rglob("*") if p.is_file()]
            for f in files:
                target = dest / f.relative_to(root)
                if target.exists() and target.stat().st_size == f.stat().st_size:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, target)
    except OSError:
        return None
    return dest if (dest / "leaflet.js").exists() else None


def leaflet_links(base_url: str | None) -> tuple[Links, Links]:
    """Leaflet's script and stylesheet links: under ``base_url`` or as ``data:`` URIs.

    Parameters
    ----------
    base_url
        URL path of the folder :func:`install_leaflet` filled (for Streamlit static
        serving, ``/app/static/leaflet``); None embeds the files as ``data:`` URIs.
    """
    if base_url is None:
        return leaflet_assets()
    base = base_url.rstrip("/")
    return [("leaflet", f"{base}/leaflet.js")], [("leaflet_css", f"{base}/leaflet.css")]


def streets_geojson(area: StudyArea) -> dict[str, Any]:
    """The study area's streets as one GeoJSON MultiLineString in WGS84 (about 1 m detail)."""
    lines = area.network.edges.geometry.to_crs(WGS84).simplify(0.00001).to_numpy()
    # all lines' vertices at once, then split per line (no loop over vertices)
    xy, line_of = shapely.get_coordinates(lines, return_index=True)
    flat = np.round(xy, 6).tolist()
    cuts = np.searchsorted(line_of, np.arange(len(lines) + 1)).tolist()
    coords = [flat[a:b] for a, b in itertools.pairwise(cuts)]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "MultiLineString", "coordinates": coords},
            }
        ],
    }


def write_streets_file(area: StudyArea, folder: str | Path) -> Path | None:
    """Write :func:`streets_geojson` to ``folder/streets-<area key>.geojson`` (once).

    Served as a static file, the streets are fetched by the browser once instead of being
    sent inside the map on every rerun. Returns None when the folder cannot be written.
    """
    path = Path(folder) / f"streets-{area.key}.geojson"
    if path.exists():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(streets_geojson(area), separators=(",", ":")), "utf-8")
        tmp.replace(path)
    except OSError:
        return None
    return path


def base_map(
    area: StudyArea,
    *,
    bands: tuple[float, ...],
    language: Language = "en",
    links: tuple[Links, Links] | None = None,
    tiles: bool = True,
    streets_url: str | None = None,
    homes_url: str | None = None,
    max_homes: int = MAX_HOMES,
) -> folium.Map:
    """The part of the map that does not change with edits: background, streets, homes, legend.

    Parameters
    ----------
    area
        The study area (its streets are drawn, up to :data:`MAX_STREETS` segments).
    bands
        Band limits in minutes, for the legend.
    language
        ``"en"`` or ``"zh"``.
    links
        Leaflet links from :func:`leaflet_links`; ``data:`` URIs when None.
    tiles
        Try online OpenStreetMap tiles (dropped in the browser when they fail to load).
    streets_url
        URL of the file :func:`write_streets_file` wrote, fetched by the browser; None
        embeds the streets in the map (up to :data:`MAX_STREETS` segments).
    homes_url
        URL of the file :func:`planner.app.homes_layer.write_homes_file` wrote (same
        ``max_homes``), fetched by the browser; None embeds the homes in the map.
    max_homes
        Homes drawn at most (evenly thinned past it); :func:`plan_layers` colours them.

    Returns
    -------
    folium.Map
        A map fitted to the study area, loading nothing from the internet but tiles.
    """
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    fmap.default_js, fmap.default_css = links or leaflet_assets()
    if tiles:
        folium.TileLayer(
            tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19, control=False
        ).add_to(fmap)
        TileFallback(PLAIN_BACKGROUND).add_to(fmap)
    else:
        PlainBackground(PLAIN_BACKGROUND).add_to(fmap)
    n_streets = len(area.network.edges)
    if streets_url is not None and n_streets <= MAX_STREETS_FILE:
        Streets(url=streets_url).add_to(fmap)
    elif 0 < n_streets <= MAX_STREETS:
        Streets(data=streets_geojson(area)).add_to(fmap)
    if len(area.demand) and max_homes > 0:
        HomesBase(area, language=language, max_homes=max_homes, url=homes_url).add_to(
            fmap
        )  # coloured by edits
    # Every symbol the app can draw, proposed sites included (the legend stays put).
    Legend(bands, language, sites=True).add_to(fmap)
    minx, miny, maxx, maxy = area.bounds_wgs84
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    KeepView(area.key).add_to(fmap)  # a map drawn again opens at the planner's last view
    stable_ids(fmap.get_root(), prefix="base-map")
    return fmap


@dataclass(frozen=True, eq=False)
class PlanLayers:
    """The plan's map layers and how many homes they show.

    Attributes
    ----------
    groups
        Feature groups for st_folium's ``feature_group_to_add``.
    homes_shown, homes_total
        Homes drawn and homes in the plan (homes are thinned past ``MAX_HOMES``).
    """

    groups: list[folium.FeatureGroup]
    homes_shown: int
    homes_total: int


def plan_layers(
    plan: Plan,
    *,
    language: Language = "en",
    selected: str | None = None,
    proposed: gpd.GeoDataFrame | None = None,
    max_homes: int = MAX_HOMES,
    drawings: ZoneDrawings | None = None,
) -> PlanLayers:
    """The layers that change with the plan: bands, gap zones, homes, stations, sites.

    Parameters
    ----------
    plan
        The plan to draw.
    language
        ``"en"`` or ``"zh"``.
    selected
        Id of a station to highlight.
    proposed
        Proposed sites (from the siting step) to draw in their own colour.
    max_homes
        As given to :func:`base_map`: the homes it drew are coloured by this plan.
    drawings
        Gap zones already encoded for the map, kept between plans (the app keeps one for
        all sessions): the zones an edit left alone are not simplified and encoded again.

    Returns
    -------
    PlanLayers
        The feature groups, in drawing order.
    """
    groups = [_bands_layer(plan, language), _gaps_layer(plan, language, drawings)]
    ReleaseOldLayers().add_to(groups[0])  # the layers an edit replaced can be freed
    homes, shown = _homes_layer(plan, language, max_homes)
    groups += [homes, _stations_layer(plan, language, selected)]
    if proposed is not None and len(proposed):
        groups.append(_sites_layer(proposed, language, f"{plan.config.walk_minutes:g}"))
    for i, group in enumerate(groups):
        stable_ids(group, prefix=f"plan-layer-{i}")
    return PlanLayers(groups=groups, homes_shown=shown, homes_total=len(plan.area.demand))


def layer_control() -> folium.LayerControl:
    """The layer switcher for :func:`plan_layers` (st_folium's ``layer_control``)."""
    control = folium.LayerControl(collapsed=True)
    stable_ids(control, prefix="layer-control")
    return control


# ---------------------------------------------------------------------- layers


def _bands_layer(plan: Plan, lang: Language) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_bands", lang), show=True)
    bands = plan.config.bands
    if plan.polygons_per_station and len(plan.area.network.edges) <= MAX_POLYGON_STREETS:
        areas = plan.coverage_area
        for i in reversed(range(len(areas))):
            colour = BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)]
            folium.GeoJson(
                to_geojson(areas.iloc[[i]][["band_min", "geometry"]]),
                style_function=lambda _, c=colour: {
                    "color": c,
                    "weight": 1,
                    "fillColor": c,
                    "fillOpacity": 0.35,
                },
                interactive=False,
            ).add_to(group)
        return group
    # Many stations: colour the reached streets by band (one pass, no polygons).
    net = plan.area.network
    d = np.minimum(plan.node_dist.dist_m[net.edge_u], plan.node_dist.dist_m[net.edge_v])
    minutes = d / plan.config.metres_per_minute
    band_of = np.searchsorted(np.asarray(bands), minutes, side="left")
    reached = np.flatnonzero(band_of < len(bands))
    if 0 < reached.size <= MAX_STREETS:
        lines = net.edges.iloc[reached][["geometry"]].assign(band=band_of[reached]).to_crs(WGS84)
        colours = dict(enumerate(BAND_COLOURS))
        folium.GeoJson(
            to_geojson(lines),
            style_function=lambda f: {
                "color": colours.get(f["properties"]["band"], BAND_COLOURS[-1]),
                "weight": 3,
                "opacity": 0.8,
            },
            interactive=False,
        ).add_to(group)
    return group


def _gaps_layer(plan: Plan, lang: Language, drawings: ZoneDrawings | None) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_gaps", lang), show=True)
    gaps = plan.gaps
    if len(gaps):
        # thousands of zones at metro scale: drawn simplified, sent compact (most of an
        # edit's bytes); with ``drawings``, only the zones an edit changed are encoded
        table = gaps[["gap_id", "homes", "population", "walk_min_nearest", "geometry"]]
        if drawings is None:
            CompactGaps(gap_outlines(table), language=lang).add_to(group)
        else:
            CompactGaps(table, language=lang, zones=drawings.encoded(table)).add_to(group)
    return group


def _homes_layer(plan: Plan, lang: Language, max_homes: int) -> tuple[folium.FeatureGroup, int]:
    group = folium.FeatureGroup(name=text("map_layer_homes", lang), show=True)
    if not len(plan.area.demand):
        return group, 0
    state = HomesState(plan, max_homes=max_homes)  # the homes are drawn by the base map
    state.add_to(group)
    return group, state.shown


def _stations_layer(plan: Plan, lang: Language, selected: str | None) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_stations", lang), show=True)
    st = plan.stations
    if not len(st):
        return group
    minutes = f"{plan.config.walk_minutes:g}"
    on = plan.snapped.on_network
    table = gpd.GeoDataFrame(
        {
            "name": st["name"].astype(str),
            "id": st["id"].astype(str),
            "category": st["category"].astype(str),
            "served": plan.population_served.round(0),
            "only_here": plan.population_only_here.round(0),
            "homes": plan.homes_served,
            "on_network": np.where(on, text("yes", lang), text("off_network", lang)),
        },
        geometry=st.geometry,
        crs=WGS84,
    )
    fields = ["name", "id", "category", "served", "only_here", "homes", "on_network"]
    aliases = [
        text("name", lang),
        text("id", lang),
        text("category", lang),
        text("people_within", lang, minutes=minutes),
        text("only_here", lang),
        text("homes_within", lang, minutes=minutes),
        text("on_network", lang),
    ]
    if selected is not None and selected in set(table["id"]):
        ring = table.loc[table["id"] == selected]
        folium.GeoJson(
            to_geojson(ring[["geometry"]]),
            marker=folium.CircleMarker(radius=13, color=SELECTED_COLOUR, weight=4, fill=False),
            interactive=False,
        ).add_to(group)
    folium.GeoJson(
        to_geojson(table),
        marker=station_marker(),
        popup=folium.GeoJsonPopup(fields, aliases=aliases, max_width=340),
        tooltip=folium.GeoJsonTooltip(
            ["name", "id"], aliases=[text("name", lang), text("id", lang)]
        ),
    ).add_to(group)
    return group


def _sites_layer(sites: gpd.GeoDataFrame, lang: Language, minutes: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=text("map_sites", lang), show=True)
    pts = sites.to_crs(WGS84)
    shown = ("name", "place", "id")
    keep = [c for c in pts.columns if c in shown or str(c).startswith("population")]
    words = site_field_words(lang, minutes=minutes)  # other columns: by their name
    folium.GeoJson(
        to_geojson(pts[[*keep, pts.geometry.name]]),
        marker=folium.CircleMarker(
            radius=7, color="white", weight=2, fill=True, fill_color=SITE_COLOUR, fill_opacity=1.0
        ),
        tooltip=folium.GeoJsonTooltip(
            [map_text(c) for c in keep], aliases=[words.get(str(c), map_text(c)) for c in keep]
        )
        if keep
        else None,
    ).add_to(group)
    return group
