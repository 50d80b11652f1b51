"""The region report: every study area's coverage on one page.

:func:`region_report` writes what ``planner region`` puts in ``DIR/report.html``: the
region's totals, a table of the areas (each linked to its own report), the areas that
failed with their reasons, a map of each area's covered share, and the largest gap zones
across the region. Area names and failure reasons come from user files and errors: they
are escaped on the page (:func:`planner.report.page.esc`) and in the map
(:func:`planner.report.maps.to_geojson`, :func:`planner.report.maps.map_text`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import pandas as pd

from planner.report.maps import (
    OSM_ATTRIBUTION,
    OSM_TILES,
    leaflet_assets,
    map_text,
    stable_ids,
    to_geojson,
)
from planner.report.page import Words, data_table, esc, num, page_html
from planner.texts import Language, check_language

#: Colours of the share classes on the map, from least to most covered.
SHARE_COLOURS = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")
#: Upper bounds of the share classes.
SHARE_STEPS = (0.5, 0.7, 0.85, 0.95, 1.0)
#: Colour of an area without figures (failed).
NO_FIGURES = "#bdbdbd"


def share_colour(share: object) -> str:
    """The map colour of a covered share (:data:`SHARE_COLOURS`; grey when missing)."""
    if share is None or pd.isna(share):  # type: ignore[call-overload]
        return NO_FIGURES
    value = float(share)  # type: ignore[arg-type]
    for step, colour in zip(SHARE_STEPS, SHARE_COLOURS, strict=True):
        if value <= step:
            return colour
    return SHARE_COLOURS[-1]


def region_map(
    areas: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame | None, *, language: Language = "en"
) -> folium.Map:
    """A Folium map of the areas coloured by covered share, and the largest gap zones.

    Parameters
    ----------
    areas
        ``name``, ``status``, ``share_covered``, ``population_total`` and polygons.
    gaps
        Gap zones with ``area`` and ``population`` (None or empty draws none).
    language
        Language of the layer names and tooltips.
    """
    w = Words(check_language(language))
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    fmap.default_js, fmap.default_css = leaflet_assets()
    folium.TileLayer(
        tiles=OSM_TILES,
        attr=OSM_ATTRIBUTION,
        name="OpenStreetMap",
        max_zoom=19,
        control=False,
    ).add_to(fmap)
    shown = areas[["name", "status", "share_covered", "population_total", "geometry"]].assign(
        share=areas["share_covered"].map(lambda v: "" if pd.isna(v) else f"{float(v):.1%}"),
        colour=areas["share_covered"].map(share_colour),
    )
    folium.GeoJson(
        to_geojson(shown.drop(columns=["share_covered"])),
        name=map_text(w.t("region_map_areas")),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#444",
            "weight": 1,
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "share", "status"],
            aliases=[
                map_text(w.t(k))
                for k in ("region_col_area", "region_col_share", "region_col_status")
            ],
        ),
    ).add_to(fmap)
    if gaps is not None and len(gaps):
        folium.GeoJson(
            to_geojson(
                gaps[["area", "population", "geometry"]].assign(
                    population=gaps["population"].round(0)
                )
            ),
            name=map_text(w.t("region_gaps")),
            style_function=lambda f: {"color": "#b2182b", "weight": 2, "dashArray": "4 4"},
            tooltip=folium.GeoJsonTooltip(
                fields=["area", "population"],
                aliases=[map_text(w.t(k)) for k in ("region_col_area", "region_col_people")],
            ),
        ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    west, south, east, north = areas.to_crs(4326).total_bounds
    fmap.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    stable_ids(fmap.get_root(), prefix="region-map")
    return fmap


def region_report(
    areas: gpd.GeoDataFrame,
    summary: Mapping[str, Any],
    *,
    gaps: gpd.GeoDataFrame | None = None,
    language: Language = "en",
) -> str:
    """The region report as one self-contained HTML page.

    Parameters
    ----------
    areas
        One row per area in file order: ``name``, ``folder``, ``status``, ``reason`` and the
        figures of :data:`planner.pipeline.region_task.AREA_FIGURES` (and ``share_complete``
        when the stations have categories), with polygons.
    summary
        The region's ``summary.json`` content (totals, settings).
    gaps
        The largest gap zones across the region (``area``, ``population``, ``homes``).
    language
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        The page; every area's report is linked as ``areas/<folder>/report.html``.
    """
    lang = check_language(language)
    w = Words(lang)
    title = w.t("region_title")
    minutes, speed = float(summary["minutes"]), float(summary["speed_kmh"])
    metres = minutes * speed * 1000 / 60
    subtitle = w.t("subtitle", minutes=f"{minutes:g}", speed=f"{speed:g}", metres=f"{metres:,.0f}")
    total = f"{float(summary['population_total']):,.0f}"
    gap_people = f"{float(summary['population_in_gap_zones']):,.0f}"
    outside = int(summary.get("homes_outside_areas") or 0)
    header = f"<header><h1>{title}</h1><p class=subtitle>{subtitle}</p></header>"
    cards = (
        '<section id="figures"><div class=cards>'
        + _card(
            w.t("share_covered", minutes=f"{minutes:g}"),
            num(summary["share_covered"], "share", "share_covered"),
            "",
            "card big",
        )
        + _card(
            w.t("region_people"),
            num(summary["population_covered"], "people", "population_covered"),
            w.t("region_of_people", total=total),
        )
        + (
            _card(
                w.t("m_complete"),
                num(summary["share_complete"], "share", "share_complete"),
                f"{w.t('m_complete_people')}: "
                + num(summary["population_complete"], "people", "population_complete"),
            )
            if "share_complete" in summary
            else ""
        )
        + _card(
            w.t("region_areas"),
            num(summary["areas_total"], "count", "areas_total"),
            w.t("region_failed_n", n=len(summary.get("failed", []))),
        )
        + _card(
            w.t("gap_zones"),
            num(summary["gap_zones"], "count", "gap_zones"),
            w.t("gap_people", people=gap_people),
        )
        + "</div>"
        + f"<p class=note>{w.t('region_exact_note')}</p>"
        + (f"<p class=note>{w.t('region_outside', homes=f'{outside:,}')}</p>" if outside else "")
        + "</section>"
    )
    fmap = region_map(areas, gaps, language=lang).get_root().render()
    map_part = (
        f'<section id="map"><h2>{w.t("region_map")}</h2>'
        f'<iframe class="map-frame" title="{w.t("region_map")}" '
        f'srcdoc="{html.escape(fmap, quote=True)}"></iframe>'
        f"<p class=note>{w.t('region_map_caption')}</p></section>"
    )
    return page_html(
        lang,
        title,
        header + cards + map_part + _areas_section(w, areas) + _gaps_section(w, gaps),
        {"summary": dict(summary)},
    )


def _card(label: str, value: str, sub: str = "", cls: str = "card") -> str:
    """One figure card: label, value and an optional line below (all already HTML)."""
    below = f"<div class=sub>{sub}</div>" if sub else ""
    return (
        f'<div class="{cls}"><div class=label>{label}</div>'
        f"<div class=value>{value}</div>{below}</div>"
    )


def _areas_section(w: Words, areas: gpd.GeoDataFrame) -> str:
    headers = [
        (w.t("region_col_area"), False),
        (w.t("region_col_status"), False),
        (w.t("region_col_people"), True),
        (w.t("region_col_covered"), True),
        (w.t("region_col_share"), True),
        (w.t("region_col_gaps"), True),
        (w.t("region_col_report"), False),
    ]
    complete = "share_complete" in areas.columns  # stations with categories
    if complete:
        headers.insert(5, (w.t("m_complete"), True))
    rows = []
    failed = []
    for r in areas.to_dict("records"):
        status = str(r["status"])
        link = (
            f'<a href="areas/{quote(str(r["folder"]))}/report.html">{esc(r["folder"])}</a>'
            if status != "failed"
            else ""
        )
        row = [
            esc(r["name"]),
            w.t(f"region_status_{status}"),
            num(r["population_total"], "people"),
            num(r["population_covered"], "people"),
            num(r["share_covered"], "share"),
            num(r["gap_zones"], "count"),
            link,
        ]
        if complete:
            row.insert(5, num(r["share_complete"], "share"))
        rows.append(row)
        if status == "failed":
            failed.append([esc(r["name"]), esc(r["reason"])])
    out = f'<section id="areas"><h2>{w.t("region_areas")}</h2>' + data_table(
        "areas-table", headers, rows
    )
    if failed:
        out += f"<h3>{w.t('region_failed')}</h3>" + data_table(
            "failed-table",
            [(w.t("region_col_area"), False), (w.t("region_col_reason"), False)],
            failed,
        )
        out += f"<p class=note>{w.t('region_failed_note')}</p>"
    return out + "</section>"


def _gaps_section(w: Words, gaps: gpd.GeoDataFrame | None) -> str:
    body = f'<section id="gaps"><h2>{w.t("region_gaps")}</h2>'
    if gaps is None or len(gaps) == 0:
        return body + f"<p>{w.t('region_no_gaps')}</p></section>"
    rows = [
        [
            esc(r["area"]),
            num(r["population"], "people"),
            num(r.get("homes"), "count"),
        ]
        for r in gaps.to_dict("records")
    ]
    headers = [
        (w.t("region_col_area"), False),
        (w.t("region_col_people"), True),
        (w.t("region_col_homes"), True),
    ]
    return body + data_table("gaps-table", headers, rows) + "</section>"
