"""The report page's HTML vocabulary: escaped words, numbers as ``<data>``, tables, the page.

Numbers are written with :func:`num` as ``<data>`` elements (exact value, ``data-key``,
formatted text); all text goes through :class:`Words` or :func:`esc`, which escape it.
:func:`page_html` puts the sections (:mod:`planner.report.sections`,
:mod:`planner.report.methods`, :mod:`planner.report.comparison_section`) together with the
style sheet and the JSON block.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from planner._version import __version__
from planner.texts import Language, text

#: ``id`` of the page's machine-readable JSON block.
REPORT_DATA_ID = "planner-report-data"

#: Formats of ``<data>`` values, by the name written in their ``data-format`` attribute.
FORMATS: dict[str, Callable[[float], str]] = {
    "people": lambda v: f"{v:,.0f}",
    "count": lambda v: f"{round(v):,}",
    "share": lambda v: f"{v:.1%}",
    "minutes": lambda v: f"{v:.1f}",
    "number": lambda v: f"{v:g}",
    "number2": lambda v: f"{v:.2f}",
    "score": lambda v: f"{v:.4g}",  # access scores: supply per person
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


def data_table(
    anchor: str,
    headers: Sequence[tuple[str, bool]],
    rows: Sequence[Sequence[str]],
    foot: Sequence[str] | None = None,
) -> str:
    """A ``<table>`` with ``headers`` (text, numeric?), ``rows`` and an optional footer."""
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
