"""The report's before/after section: a result compared with a baseline.

The figures come from :func:`planner.report.scenarios.compare_scenarios`; this module
writes them as HTML with the vocabulary of :mod:`planner.report.page`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from planner.report.page import Words, data_table, esc, json_ready, num
from planner.report.scenarios import (
    ADDED,
    MOVED,
    REMOVED,
    RENAMED,
    UNCHANGED,
    compare_scenarios,
)
from planner.texts import text
from planner.walk.coverage import CoverageResult


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
    parts.append(data_table("comparison-table", headers, rows))
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
            renamed=num(counts[RENAMED], "count"),
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
            data_table(
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


#: Decimals each format shows: a change is the difference of the figures as shown, so that
#: 20,593 → 29,939 reads +9,346, never a rounding of the exact difference (+9,345).
_SHOWN_DECIMALS = {"people": 0, "count": 0, "share": 3, "metres": 0, "km": 1, "minutes": 1}


def _cmp_row(label: str, key: str, before: Any, after: Any, fmt: str, change_fmt: str) -> list[str]:
    change = None
    if before is not None and after is not None:
        digits = _SHOWN_DECIMALS.get(fmt)
        b, a = float(before), float(after)
        if digits is not None and math.isfinite(a) and math.isfinite(b):
            b, a = round(b, digits), round(a, digits)
        change = a - b
    return [
        label,
        num(before, fmt, key, "baseline"),
        num(after, fmt, key),
        num(change, change_fmt, key, "change"),
    ]
