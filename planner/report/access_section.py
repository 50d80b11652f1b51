"""The report's access section: figures per method, a distribution chart, the worst zones.

Shown when ``summary.json`` has an ``access`` block (``planner analyze --access``); the
figures are those of the block (each number carries its ``data-key``), the chart, zones and
station ratios are read off the result's ``access_<method>`` and ``ratio_<method>`` columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from planner.report.chart_style import chart_style
from planner.report.charts import WIDTH_IN, figure_svg
from planner.report.maps import COVERED_COLOUR, UNCOVERED_COLOUR
from planner.report.page import Words, data_table, esc, num
from planner.texts import Language, text
from planner.walk.coverage import CoverageResult
from planner.walk.scores import access_gap_zones

#: Zones listed in the report.
WORST_ZONES = 10


def access_figure(
    access: np.ndarray, population: np.ndarray, method: str, *, language: Language = "en"
) -> Figure:
    """People by access score: a bar for no access, then 20 equal bins up to the largest."""
    with chart_style():
        return _access_figure(access, population, method, language)


def _access_figure(
    access: np.ndarray, population: np.ndarray, method: str, language: Language
) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, 2.6))
    ax = fig.add_subplot()
    none = float(population[access <= 0].sum())
    pos = access > 0
    top = float(access[pos].max()) if pos.any() else 1.0
    edges = np.linspace(0.0, top, 21)
    counts, _ = np.histogram(access[pos], bins=edges, weights=population[pos])
    width = edges[1] - edges[0]
    ax.bar([-width], [none], width=width * 0.9, color=UNCOVERED_COLOUR, align="edge")
    ax.bar(edges[:-1], counts, width=width * 0.9, color=COVERED_COLOUR, align="edge")
    ax.set_xlabel(text("access_axis", language))
    ax.set_ylabel(text("access_people", language))
    ax.set_title(text("access_chart", language, method=method))
    fig.tight_layout()
    return fig


def access_section(w: Words, result: CoverageResult, block: Mapping[str, Any]) -> str:
    """The section: figures table, chart of the first method, worst zones, station ratios."""
    methods = [m for m in block["methods"] if f"access_{m}" in result.demand.columns]
    if not methods:
        return ""
    cfg = result.config
    first = methods[0]
    by = block["by_method"]
    threshold = block["settings"].get("threshold")
    parts = [
        f'<section id="access"><h2>{w.t("access")}</h2>',
        f'<p class="note">{w.t("access_intro", minutes=f"{cfg.walk_minutes:g}")}</p>',
        f"<h3>{w.t('access_figures')}</h3>",
    ]
    stats = ["mean", "median", "p10", "p90"]
    headers = [(w.t("c_method"), False)]
    headers += [(w.t(f"c_{s}"), True) for s in stats]
    headers += [(w.t("c_gini"), True), (w.t("c_no_access"), True)]
    if threshold is not None:
        headers.append((w.t("c_below", threshold=f"{threshold:g}"), True))
    rows = []
    for m in methods:
        key = f"access/by_method/{m}"
        cells = [esc(m)]
        cells += [num(by[m][s], "score", f"{key}/{s}") for s in stats]
        cells += [
            num(by[m]["gini"], "number2", f"{key}/gini"),
            num(by[m]["share_no_access"], "share", f"{key}/share_no_access"),
        ]
        if threshold is not None:
            cells.append(
                num(by[m]["share_below_threshold"], "share", f"{key}/share_below_threshold")
            )
        rows.append(cells)
    parts.append(data_table("access-table", headers, rows))
    # Distribution chart of the first method
    d = result.demand
    access = d[f"access_{first}"].to_numpy(dtype=float)
    pop = d["population"].to_numpy(dtype=float)
    svg = figure_svg(
        access_figure(access, pop, first, language=w.lang),
        label=text("access_chart", w.lang, method=first),
        salt="access",
    )
    parts.append(
        f'<figure id="chart-access"><h3>{w.t("access_chart", method=first)}</h3>{svg}'
        f'<figcaption class="note">{w.t("access_chart_caption", method=first)}</figcaption>'
        "</figure>"
    )
    # The worst-served zones
    below = threshold if threshold is not None else by[first]["p10"]
    parts.append(f"<h3>{w.t('access_gaps', method=first)}</h3>")
    zones = access_gap_zones(d, first, below=float(below or 0.0), link_m=cfg.gap_link_m)
    if zones.empty:
        parts.append(f'<p class="note">{w.t("access_gaps_none")}</p>')
    else:
        rows = [
            [
                num(z["zone"], "count"),
                num(z["homes"], "count"),
                num(z["population"], "people"),
                num(z["access_mean"], "score"),
                num(z["access_min"], "score"),
                f"{z['lat']:.6f}, {z['lon']:.6f}",
            ]
            for _, z in zones.head(WORST_ZONES).iterrows()
        ]
        headers = [
            (w.t("c_gap"), True),
            (w.t("c_homes"), True),
            (w.t("c_population"), True),
            (w.t("c_access_mean"), True),
            (w.t("c_access_min"), True),
            (w.t("c_location"), False),
        ]
        parts.append(data_table("access-zones-table", headers, rows))
    note = w.t("access_gaps_note", below=f"{below or 0:.4g}", link=f"{cfg.gap_link_m:g}")
    parts.append(f'<p class="note">{note}</p>')
    # Per-station ratios
    st = result.stations
    headers = [(w.t("c_id"), False), (w.t("c_name"), False), (w.t("c_supply"), True)]
    headers += [(esc(f"ratio_{m}"), True) for m in methods]
    rows = []
    for _, r in st.iterrows():
        cells = [esc(r["id"]), esc(r.get("name", "") if r.get("name") is not None else "")]
        cells.append(num(r.get("supply", 1.0), "number"))
        cells += [num(float(r[f"ratio_{m}"]), "score") for m in methods]
        rows.append(cells)
    parts.append(f"<h3>{w.t('access_ratios')}</h3>")
    parts.append(data_table("access-ratios-table", headers, rows))
    parts.append(f'<p class="note">{w.t("access_ratio_note")}</p></section>')
    return "".join(parts)
