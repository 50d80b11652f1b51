"""The report's sections on one result: header, key figures, map, charts and tables.

Each ``*_section`` function returns one ``<section>`` of the page as HTML text (used by
:mod:`planner.report.report`), written with the vocabulary of :mod:`planner.report.page`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element

from planner._version import __version__
from planner.report.charts import (
    OverviewCanvas,
    district_figure,
    figure_svg,
    finish_overview,
    overview_canvas,
    station_figure,
    walk_time_figure,
)
from planner.report.maps import coverage_map
from planner.report.page import MISSING, Words, data_table, esc, num
from planner.texts import text
from planner.walk.coverage import CoverageResult


def _band_key(band: float) -> str:
    return f"{band:g}"


# ---------------------------------------------------------------------------- sections


def header_section(w: Words, s: Mapping[str, Any], title: str | None) -> str:
    """Title, walk standard, date made, and the navigation."""
    heading = esc(title) if title else w.t("title")
    sub = w.h(
        "subtitle",
        minutes=num(s["minutes"], "number", "minutes"),
        speed=num(s["speed_kmh"], "number", "speed_kmh"),
        metres=num(s["walk_limit_m"], "metres", "walk_limit_m"),
    )
    made = ""
    if s.get("created_utc"):
        made = (
            '<p class="note">'
            + w.t("made", created=s["created_utc"], version=s.get("version", __version__))
            + "</p>"
        )
    nav = "".join(
        f'<a href="#{anchor}">{w.t(key)}</a>'
        for anchor, key in (
            ("key-figures", "key_figures"),
            ("map", "map"),
            ("charts", "charts"),
            ("tables", "tables"),
            ("methods", "methods"),
        )
    )
    return (
        f"<header><h1>{heading}</h1><p class='subtitle'>{sub}</p>{made}"
        f'<nav class="screen-only">{nav}</nav></header>'
    )


def _card(label: str, value: str, sub: str = "", cls: str = "card") -> str:
    sub_html = f'<div class="sub">{sub}</div>' if sub else ""
    return (
        f'<div class="{cls}"><div class="label">{label}</div>'
        f'<div class="value">{value}</div>{sub_html}</div>'
    )


def key_figures_section(w: Words, s: Mapping[str, Any], result: CoverageResult) -> str:
    """The headline figures, all from the summary ``s``."""
    share = num(s["share_covered"], "share", "share_covered")
    share_label = w.h("share_covered", minutes=num(s["minutes"], "number", "minutes"))
    big = (
        '<div class="card big">'
        f'<div class="value">{share}</div><div class="label">{share_label}</div>'
        '<div class="sub">'
        + w.h(
            "people_covered_of",
            covered=num(s["population_covered"], "people", "population_covered"),
            total=num(s["population_total"], "people", "population_total"),
        )
        + "</div></div>"
    )
    cards = [big]
    people = s.get("population_within_minutes", {})
    homes = s.get("demand_points_within_minutes", {})
    for band in result.config.bands:
        k = _band_key(band)
        cards.append(
            _card(
                w.t("within_band", minutes=k),
                num(people.get(k), "people", f"population_within_minutes/{k}"),
                w.h(
                    "homes_n",
                    homes=num(homes.get(k), "count", f"demand_points_within_minutes/{k}"),
                ),
            )
        )
    cards += [
        _card(
            w.t("stations"),
            num(s["stations"], "count", "stations"),
            w.h("stations_off", n=num(s["stations_off_network"], "count", "stations_off_network")),
        ),
        _card(
            w.t("gap_zones"),
            num(s["gap_zones"], "count", "gap_zones"),
            w.h(
                "gap_people",
                people=num(s["population_in_gap_zones"], "people", "population_in_gap_zones"),
            ),
        ),
        _card(
            w.t("people_not_served"),
            num(s["population_uncovered"], "people", "population_uncovered"),
        ),
        _card(
            w.t("walk_median"),
            _minutes(w, s.get("walk_min_median"), "walk_min_median"),
            w.h("walk_p90", value=_minutes(w, s.get("walk_min_p90"), "walk_min_p90")),
        ),
        _card(
            w.t("homes_total"),
            num(s["demand_points"], "count", "demand_points"),
            w.h(
                "homes_detail",
                off=num(s["demand_points_off_network"], "count", "demand_points_off_network"),
                unreachable=num(
                    s["demand_points_unreachable"], "count", "demand_points_unreachable"
                ),
            ),
        ),
    ]
    return (
        f'<section id="key-figures"><h2>{w.t("key_figures")}</h2>'
        f'<div class="cards">{"".join(cards)}</div></section>'
    )


def _minutes(w: Words, value: Any, key: str) -> str:
    if value is None:
        return f'<data value="" data-format="minutes" data-key="{key}">{w.t("unreachable")}</data>'
    return w.h("unit_min", value=num(value, "minutes", key))


def map_section(
    w: Words,
    result: CoverageResult,
    streets: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame | None,
    tiles: bool,
    map_html: str | None = None,
    extra_layers: Sequence[Element] = (),
    overview: str | None = None,
) -> str:
    """The interactive map in an ``iframe`` (screen) and a static overview map (print).

    ``map_html`` is the map already rendered (e.g. for ``map.html``); None renders it,
    with ``extra_layers`` (e.g. the station categories' layers). ``overview`` is the
    overview map already drawn (:func:`overview_svg`); None draws it.
    """
    if map_html is None:
        fmap = coverage_map(
            result,
            streets=streets,
            tiles=tiles,
            suggested_sites=sites,
            language=w.lang,
            extra_layers=extra_layers,
        )
        map_html = fmap.get_root().render()
    doc = map_html
    if overview is None:
        bands = len(result.coverage_area)
        canvas = overview_canvas(result, bands=bands, streets=streets, suggested_sites=sites)
        overview = overview_svg(w, result, canvas)
    return (
        f'<section id="map"><h2>{w.t("map")}</h2>'
        f'<div class="screen-only"><iframe class="map-frame" title="{w.t("map")}" '
        f'srcdoc="{html.escape(doc, quote=True)}"></iframe>'
        f'<p class="note">{w.t("map_caption")}</p></div>'
        f'<figure class="print-only">{overview}'
        f"<figcaption>{w.t('map_print_caption')}</figcaption></figure></section>"
    )


def overview_svg(w: Words, result: CoverageResult, canvas: OverviewCanvas) -> str:
    """The printed report's overview map as inline SVG, finished from its ``canvas``."""
    fig = finish_overview(canvas, result, language=w.lang)
    return figure_svg(fig, label=text("map", w.lang), salt="overview")


def charts_section(w: Words, result: CoverageResult, districts: pd.DataFrame | None) -> str:
    """Walk-time distribution, people per station and, with districts, coverage by district."""
    cfg = result.config
    d = result.demand
    no_time = float(d.loc[~np.isfinite(d["walk_min"].to_numpy(dtype=float)), "population"].sum())
    walk = figure_svg(
        walk_time_figure(result, language=w.lang), label=text("chart_walk", w.lang), salt="walk"
    )
    fig, shown = station_figure(result, language=w.lang)
    stations = figure_svg(fig, label=text("chart_stations", w.lang), salt="stations")
    top = w.t("chart_top", n=shown) if shown < len(result.stations) else ""
    parts = [
        _figure(
            "chart-walk",
            w.t("chart_walk"),
            walk,
            w.t("chart_walk_caption", minutes=f"{cfg.walk_minutes:g}", off=f"{no_time:,.0f}"),
        ),
        _figure(
            "chart-stations",
            w.t("chart_stations"),
            stations,
            w.h("chart_stations_caption", minutes=esc(f"{cfg.walk_minutes:g}"), shown=top),
        ),
    ]
    if districts is not None and len(districts):
        fig, _ = district_figure(districts, language=w.lang)
        svg = figure_svg(fig, label=text("chart_districts", w.lang), salt="districts")
        parts.append(
            _figure(
                "chart-districts",
                w.t("chart_districts"),
                svg,
                w.t("chart_districts_caption", minutes=f"{cfg.walk_minutes:g}"),
            )
        )
    return f'<section id="charts"><h2>{w.t("charts")}</h2>{"".join(parts)}</section>'


def _figure(anchor: str, heading: str, svg: str, caption: str) -> str:
    return (
        f'<figure id="{anchor}"><h3>{heading}</h3>{svg}'
        f'<figcaption class="note">{caption}</figcaption></figure>'
    )


def tables_section(
    w: Words,
    result: CoverageResult,
    districts: pd.DataFrame | None,
    data: Mapping[str, Any],
    site_of_gap: Mapping[int, list[str]] | None,
) -> str:
    """Tables per station, district and gap zone (and suggested sites), from ``data``."""
    parts = [f'<section id="tables"><h2>{w.t("tables")}</h2>']
    # Stations
    has_category = "category" in result.stations.columns
    headers = [(w.t("c_id"), False), (w.t("c_name"), False)]
    if has_category:
        headers.append((w.t("c_category"), False))
    headers += [
        (w.t("c_served"), True),
        (w.t("c_only"), True),
        (w.t("c_overlap"), True),
        (w.t("c_homes"), True),
        (w.t("c_on_network"), False),
    ]
    snap = f"{result.config.max_snap_m:g}"
    rows = []
    for r in data["stations"]:
        cells = [esc(r["id"]), esc(r["name"])]
        if has_category:
            cells.append(esc(r["category"]))
        cells += [
            num(r["population_served"], "people"),
            num(r["population_only_here"], "people"),
            num(r["population_overlap"], "people"),
            num(r["homes_served"], "count"),
            w.t("yes") if r["on_network"] else w.t("no_snap", m=snap),
        ]
        rows.append(cells)
    parts.append(f"<h3>{w.t('t_stations')}</h3>")
    parts.append(data_table("stations-table", headers, rows))
    parts.append(f'<p class="note">{w.t("t_stations_note")}</p>')
    # Districts
    parts.append(f"<h3>{w.t('t_districts')}</h3>")
    if districts is None:
        parts.append(f'<p class="note">{w.t("t_districts_none")}</p>')
    else:
        parts.append(_district_table(w, result, districts))
    # Gap zones
    parts.append(f"<h3>{w.t('t_gaps')}</h3>")
    if not data["gaps"]:
        parts.append(f'<p class="note">{w.t("t_gaps_none")}</p>')
    else:
        headers = [
            (w.t("c_gap"), True),
            (w.t("c_homes"), True),
            (w.t("c_population"), True),
            (w.t("c_walk_nearest"), True),
            (w.t("c_nearest_station"), False),
        ]
        if site_of_gap is not None:
            headers.append((w.t("c_suggested"), False))
        rows = []
        for g in data["gaps"]:
            station = esc(g["nearest_station_name"] or g["nearest_station"] or MISSING)
            cells = [
                num(g["gap_id"], "count"),
                num(g["homes"], "count"),
                num(g["population"], "people"),
                num(g["walk_min_nearest"], "minutes")
                if math.isfinite(g["walk_min_nearest"])
                else w.t("unreachable"),
                station,
            ]
            if site_of_gap is not None:
                cells.append(
                    ", ".join(esc(v) for v in g["suggested_sites"]) or w.t("suggested_none")
                )
            rows.append(cells)
        parts.append(data_table("gaps-table", headers, rows))
        parts.append(
            f'<p class="note">{w.t("t_gaps_note", link=f"{result.config.gap_link_m:g}")}</p>'
        )
    if data["suggested_sites"] is not None:
        parts.append(f"<h3>{w.t('t_sites')}</h3>")
        rows = [
            [esc(r["id"]), esc(r["name"]), f"{r['lat']:.6f}, {r['lon']:.6f}"]
            for r in data["suggested_sites"]
        ]
        parts.append(
            data_table(
                "sites-table",
                [(w.t("c_id"), False), (w.t("c_name"), False), ("lat, lon", False)],
                rows,
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _district_table(w: Words, result: CoverageResult, table: pd.DataFrame) -> str:
    headers = [
        (w.t("c_district"), False),
        (w.t("c_homes"), True),
        (w.t("c_population"), True),
        (w.t("c_covered"), True),
        (w.t("c_uncovered"), True),
        (w.t("c_share"), True),
    ]

    def cells(name: str, homes: float, pop: float, cov: float) -> list[str]:
        share = cov / pop if pop > 0 else None
        return [
            name,
            num(homes, "count"),
            num(pop, "people"),
            num(cov, "people"),
            num(pop - cov, "people"),
            num(share, "share"),
        ]

    rows = [
        cells(esc(name), float(homes), float(pop), float(cov))
        for name, homes, pop, cov in zip(
            table["district"],
            table["homes"],
            table["population"],
            table["population_covered"],
            strict=True,
        )
    ]
    out_homes = len(result.demand) - int(table["homes"].sum())
    out_pop = result.population_total - float(table["population"].sum())
    out_cov = result.population_covered - float(table["population_covered"].sum())
    if out_homes > 0:
        rows.append(cells(w.t("outside_districts"), out_homes, out_pop, out_cov))
    foot = cells(
        w.t("total"), len(result.demand), result.population_total, result.population_covered
    )
    return data_table("districts-table", headers, rows, foot)
