"""The sections of the coverage report page, as HTML text (used by :mod:`planner.report.report`).

Each ``*_section`` function returns one ``<section>`` of the page; :func:`page_html` puts
them together with the style sheet and the JSON block. Numbers are written with
:func:`num` as ``<data>`` elements (exact value, ``data-key``, formatted text); all text
goes through :class:`Words` or :func:`esc`, which escape it.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._version import __version__
from planner.report.charts import (
    district_figure,
    figure_svg,
    overview_figure,
    station_figure,
    walk_time_figure,
)
from planner.report.maps import coverage_map
from planner.report.scenarios import ADDED, MOVED, REMOVED, UNCHANGED, compare_scenarios
from planner.texts import Language, text
from planner.walk.coverage import CoverageResult

#: ``id`` of the page's machine-readable JSON block.
REPORT_DATA_ID = "planner-report-data"

#: Formats of ``<data>`` values, by the name written in their ``data-format`` attribute.
FORMATS: dict[str, Callable[[float], str]] = {
    "people": lambda v: f"{v:,.0f}",
    "count": lambda v: f"{round(v):,}",
    "share": lambda v: f"{v:.1%}",
    "minutes": lambda v: f"{v:.1f}",
    "number": lambda v: f"{v:g}",
    "metres": lambda v: f"{v:,.0f}",
    "km": lambda v: f"{v:,.1f}",
    "people_change": lambda v: f"{v:+,.0f}",
    "count_change": lambda v: f"{round(v):+,}",
    "share_change": lambda v: f"{100 * v:+.1f} pp",  # percentage points
}
MISSING = "—"


class Words:
    """Text in one language: escaped for HTML, with values filled in."""

    def __init__(self, language: Language) -> None:
        self.lang = language

    def t(self, key: str, **values: object) -> str:
        """Plain text of ``key`` with raw ``values``, all escaped."""
        return html.escape(text(key, self.lang, **values))

    def h(self, key: str, **markup: str) -> str:
        """Text of ``key`` escaped, then filled with ``markup`` (already-safe HTML)."""
        return html.escape(text(key, self.lang)).format(**markup)


def esc(value: object) -> str:
    """``value`` as text, HTML-escaped."""
    return html.escape(str(value))


def num(value: Any, fmt: str, key: str | None = None, source: str | None = None) -> str:
    """A number as a ``<data>`` element: exact value in ``value``, formatted as text."""
    attrs = f' data-format="{fmt}"'
    if key is not None:
        attrs += f' data-key="{esc(key)}"'
    if source is not None:
        attrs += f' data-source="{source}"'
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f'<data value=""{attrs}>{MISSING}</data>'
    v = float(value)
    return f'<data value="{v!r}"{attrs}>{esc(FORMATS[fmt](v))}</data>'


def _band_key(band: float) -> str:
    return f"{band:g}"


def json_ready(value: Any) -> Any:
    """NaN and infinity as None (JSON has no such numbers), recursively; numpy to Python."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def json_block(data: Mapping[str, Any]) -> str:
    """``data`` as the page's JSON block; ``<``, ``>``, ``&`` escaped so it cannot close its tag."""
    raw = json.dumps(json_ready(dict(data)), ensure_ascii=False, allow_nan=False)
    safe = raw.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/json" id="{REPORT_DATA_ID}">{safe}</script>'


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


def parameters_section(w: Words, s: Mapping[str, Any]) -> str:
    """Parameters and data sources, from the summary ``s``."""
    inputs = s.get("inputs") or {}
    net = s.get("network") or {}
    rows = [
        (w.t("p_limit"), w.h("unit_min", value=num(s["minutes"], "number", "minutes"))),
        (w.t("p_speed"), w.h("unit_km_h", value=num(s["speed_kmh"], "number", "speed_kmh"))),
        (w.t("p_distance"), w.h("unit_m", value=num(s["walk_limit_m"], "metres", "walk_limit_m"))),
        (w.t("p_snap"), w.h("unit_m", value=num(s["max_snap_m"], "number", "max_snap_m"))),
    ]
    if "gap_link_m" in s:
        rows.append(
            (w.t("p_gap_link"), w.h("unit_m", value=num(s["gap_link_m"], "number", "gap_link_m")))
        )
    if "band_minutes" in s:
        bands = ", ".join(
            num(b, "number", f"band_minutes/{i}") for i, b in enumerate(s["band_minutes"])
        )
        rows.append((w.t("p_bands"), w.h("unit_min", value=bands)))
    size = ""
    if net:
        size = w.h(
            "p_network_size",
            nodes=num(net.get("nodes"), "count", "network/nodes"),
            km=num(net.get("street_km"), "km", "network/street_km"),
        )
    source = esc(inputs["network"]) + "<br>" if "network" in inputs else ""
    rows.append((w.t("p_network"), source + size))
    rows.append(
        (w.t("p_network_date"), esc(inputs.get("network_date") or "") or w.t("p_date_unknown"))
    )
    for key, label in (("stations", "p_stations"), ("demand", "p_demand")):
        if key in inputs:
            rows.append((w.t(label), esc(inputs[key])))
    if "rejected_rows" in s:
        rejected = s["rejected_rows"] or {}
        shown = ", ".join(
            f"{esc(k)}: {num(v, 'count', f'rejected_rows/{k}')}" for k, v in rejected.items()
        )
        rows.append((w.t("p_rejected"), shown or w.t("p_none")))
    items = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<section id="parameters"><h2>{w.t("parameters")}</h2><dl>{items}</dl></section>'


def map_section(
    w: Words,
    result: CoverageResult,
    streets: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame | None,
    tiles: bool,
) -> str:
    """The interactive map in an ``iframe`` (screen) and a static overview map (print)."""
    fmap = coverage_map(
        result, streets=streets, tiles=tiles, suggested_sites=sites, language=w.lang
    )
    doc = fmap.get_root().render()
    overview = figure_svg(
        overview_figure(result, streets=streets, suggested_sites=sites, language=w.lang),
        label=text("map", w.lang),
        salt="overview",
    )
    return (
        f'<section id="map"><h2>{w.t("map")}</h2>'
        f'<div class="screen-only"><iframe class="map-frame" title="{w.t("map")}" '
        f'srcdoc="{html.escape(doc, quote=True)}"></iframe>'
        f'<p class="note">{w.t("map_caption")}</p></div>'
        f'<figure class="print-only">{overview}'
        f"<figcaption>{w.t('map_print_caption')}</figcaption></figure></section>"
    )


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


def _table(
    anchor: str,
    headers: Sequence[tuple[str, bool]],
    rows: Sequence[Sequence[str]],
    foot: Sequence[str] | None = None,
) -> str:
    head = "".join(f"<th{' class=num' if num else ''}>{h}</th>" for h, num in headers)
    nums = [num for _, num in headers]

    def row(cells: Sequence[str]) -> str:
        return "".join(
            f"<td{' class=num' if num else ''}>{c}</td>" for c, num in zip(cells, nums, strict=True)
        )

    body = "".join(f"<tr>{row(r)}</tr>" for r in rows)
    tfoot = f"<tfoot><tr>{row(foot)}</tr></tfoot>" if foot else ""
    return (
        f'<table class="data" id="{anchor}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody>{tfoot}</table>"
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
    parts.append(_table("stations-table", headers, rows))
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
        parts.append(_table("gaps-table", headers, rows))
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
            _table(
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
    return _table("districts-table", headers, rows, foot)


def comparison_section(
    w: Words,
    baseline: CoverageResult,
    bs: Mapping[str, Any],
    result: CoverageResult,
    s: Mapping[str, Any],
) -> tuple[str, dict[str, Any]]:
    """Before/after figures and station changes; returns the HTML and the JSON data."""
    cmp = compare_scenarios(baseline, result)
    measures: list[tuple[str, str, str, str]] = [
        (w.t("cmp_share"), "share_covered", "share", "share_change"),
        (w.t("cmp_covered"), "population_covered", "people", "people_change"),
    ]
    rows = []
    for label, key, fmt, change_fmt in measures:
        rows.append(_cmp_row(label, key, bs.get(key), s.get(key), fmt, change_fmt))
    b_bands = bs.get("population_within_minutes", {})
    a_bands = s.get("population_within_minutes", {})
    for k in [k for k in a_bands if k in b_bands]:
        rows.append(
            _cmp_row(
                w.t("cmp_within", minutes=k),
                f"population_within_minutes/{k}",
                b_bands[k],
                a_bands[k],
                "people",
                "people_change",
            )
        )
    for label, key, fmt, change_fmt in (
        (w.t("cmp_stations"), "stations", "count", "count_change"),
        (w.t("cmp_gaps"), "gap_zones", "count", "count_change"),
        (w.t("cmp_gap_people"), "population_in_gap_zones", "people", "people_change"),
    ):
        rows.append(_cmp_row(label, key, bs.get(key), s.get(key), fmt, change_fmt))
    headers = [
        (w.t("c_measure"), False),
        (w.t("c_before"), True),
        (w.t("c_after"), True),
        (w.t("c_change"), True),
    ]
    b_inputs, a_inputs = bs.get("inputs") or {}, s.get("inputs") or {}
    parts = [
        f'<section id="comparison"><h2>{w.t("comparison")}</h2>',
        "<p>"
        + w.t(
            "comparison_intro",
            before=b_inputs.get("stations", text("c_before", w.lang)),
            after=a_inputs.get("stations", text("c_after", w.lang)),
        )
        + "</p>",
    ]
    if cmp.parameters_differ:
        parts.append(
            f'<p class="warning">{w.t("params_differ", what=", ".join(cmp.parameters_differ))}</p>'
        )
    if not cmp.same_demand:
        parts.append(f'<p class="warning">{w.t("demand_differs")}</p>')
    parts.append(_table("comparison-table", headers, rows))
    gained = w.h(
        "gained",
        gained=num(cmp.population_gained, "people_change", "population_covered", "change"),
    )
    if cmp.newly_covered is not None and cmp.no_longer_covered is not None:
        gained += " " + w.h(
            "gained_by_home",
            newly=num(cmp.newly_covered, "people"),
            lost=num(cmp.no_longer_covered, "people"),
        )
    counts = cmp.change_counts()
    parts.append(f"<p>{gained}</p>")
    parts.append(
        "<p>"
        + w.h(
            "station_changes",
            added=num(counts[ADDED], "count"),
            moved=num(counts[MOVED], "count"),
            removed=num(counts[REMOVED], "count"),
            unchanged=num(counts[UNCHANGED], "count"),
        )
        + "</p>"
    )
    changed = cmp.stations.loc[cmp.stations["change"] != UNCHANGED]
    if len(changed):
        st_rows = [
            [
                esc(r.station_id),
                esc(r.name),
                w.t(str(r.change)),
                num(r.moved_m, "metres") if r.change == MOVED else "",
                num(r.population_served_before, "people"),
                num(r.population_served_after, "people"),
            ]
            for r in changed.itertuples(index=False)
        ]
        parts.append(
            _table(
                "station-changes-table",
                [
                    (w.t("c_id"), False),
                    (w.t("c_name"), False),
                    (w.t("c_change_kind"), False),
                    (w.t("c_moved_m"), True),
                    (w.t("c_served_before"), True),
                    (w.t("c_served_after"), True),
                ],
                st_rows,
            )
        )
    parts.append("</section>")
    data = {
        "baseline_summary": dict(bs),
        "population_gained": cmp.population_gained,
        "newly_covered": cmp.newly_covered,
        "no_longer_covered": cmp.no_longer_covered,
        "station_changes": counts,
        "stations": json_ready(cmp.stations.to_dict("records")),
        "parameters_differ": list(cmp.parameters_differ),
        "same_demand": cmp.same_demand,
    }
    return "".join(parts), data


def _cmp_row(label: str, key: str, before: Any, after: Any, fmt: str, change_fmt: str) -> list[str]:
    change = float(after) - float(before) if before is not None and after is not None else None
    return [
        label,
        num(before, fmt, key, "baseline"),
        num(after, fmt, key),
        num(change, change_fmt, key, "change"),
    ]


def methods_section(w: Words, s: Mapping[str, Any]) -> str:
    """Methods, known limitations and the OpenStreetMap credit."""
    inputs = s.get("inputs") or {}
    net = s.get("network") or {}
    not_stated = text("not_stated", w.lang)
    parts_left = int(net.get("components", 1) or 1) - 1
    left_out = (
        text(
            "m_left_out",
            w.lang,
            parts=parts_left,
            km=f"{net.get('island_street_km_left_out', 0) or 0:g}",
        )
        if parts_left > 0
        else text("m_nothing_left_out", w.lang)
    )
    paragraphs = [
        w.t(
            "m_network",
            network=inputs.get("network", not_stated),
            left_out=left_out,
            date=inputs.get("network_date") or text("p_date_unknown", w.lang),
        ),
        w.t(
            "m_walk",
            speed=f"{s['speed_kmh']:g}",
            minutes=f"{s['minutes']:g}",
            metres=f"{s['walk_limit_m']:,.0f}",
        ),
        w.t("m_snap", snap=f"{s['max_snap_m']:g}"),
        w.t("m_times", buffer=f"{s.get('isochrone_buffer_m', 40.0):g}"),
        w.t("m_stations", stations=inputs.get("stations", not_stated)),
        w.t("m_population", demand=inputs.get("demand", not_stated)),
        w.t("m_gaps", link=f"{s.get('gap_link_m', 150.0):g}"),
    ]
    limits = "".join(
        f"<li>{w.t(k)}</li>" for k in ("lim_osm", "lim_population", "lim_entrances", "lim_service")
    )
    files = f'<p class="note">{w.t("files")}</p>' if s.get("created_utc") else ""
    return (
        f'<section id="methods"><h2>{w.t("methods")}</h2>'
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + f"<h3>{w.t('limitations')}</h3><ul>{limits}</ul>"
        + f'<p class="attribution">{w.t("attribution")}</p>{files}</section>'
    )


CSS = """
:root { --ink: #222; --muted: #5f5f5f; --line: #dedede; --accent: #1a7a3e; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC",
  "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; color: var(--ink);
  max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; line-height: 1.45;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 1.75em; margin: 0 0 .15em; }
h2 { font-size: 1.3em; margin: 1.6em 0 .6em; padding-bottom: .2em;
  border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
.subtitle { font-size: 1.1em; margin: 0; }
.note, figcaption { color: var(--muted); font-size: .88em; }
.warning { background: #fff4e5; border-left: 4px solid #e08214; padding: 6px 10px; }
nav { margin-top: .8em; display: flex; gap: 14px; flex-wrap: wrap; font-size: .92em; }
nav a { color: var(--accent); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr));
  gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  break-inside: avoid; }
.card .label { font-size: .86em; color: var(--muted); }
.card .value { font-size: 1.55em; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .sub { font-size: .84em; color: var(--muted); }
.card.big { grid-column: span 2; background: #eef7e9; border-color: #b9dcaa; }
.card.big .value { font-size: 2.5em; color: var(--accent); line-height: 1.1; }
.card.big .label { font-size: 1em; color: var(--ink); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
table.data { border-collapse: collapse; width: 100%; font-size: .9em; margin: .3em 0; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 4px 7px;
  text-align: left; vertical-align: top; }
table.data th { background: #f4f4f4; font-weight: 600; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.data tfoot td { font-weight: 600; border-top: 2px solid #999; }
.map-frame { width: 100%; height: 560px; border: 1px solid #cfcfcf; border-radius: 4px; }
svg.chart { width: 100%; height: auto; display: block; }
figure { margin: 0 0 1.4em; break-inside: avoid; }
.print-only { display: none; }
.attribution { font-weight: 600; }
@media print {
  @page { size: A4; margin: 14mm 13mm; }
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  .screen-only { display: none !important; }
  .print-only { display: block; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr, .card, figure, dl { break-inside: avoid; page-break-inside: avoid; }
  #map, #charts, #tables, #methods { break-before: page; page-break-before: always; }
  a { color: inherit; text-decoration: none; }
}
"""


def page_html(lang: Language, title: str, body: str, data: Mapping[str, Any]) -> str:
    """The whole page: head with the style sheet, the sections, the JSON block."""
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="service-circle-planner {__version__}">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n{json_block(data)}\n</body>\n</html>\n"
    )
