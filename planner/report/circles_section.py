"""The report's service-circle section: categories, the complete circle, profiles, groups.

Shown when ``summary.json`` holds the circle analysis' blocks
(:func:`planner.walk.categories.circles_summary`): ``categories`` with ``share_complete``,
``profiles`` (several walking profiles) or ``groups`` (an equity table). Every figure is
the block's own number (with its ``data-key`` when the names allow one); category, profile
and group names are the user's text and are escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner.report.page import Words, data_table, esc, num


def circles_section(w: Words, s: Mapping[str, Any]) -> str:
    """The section's HTML, or "" when the summary has no category, profile or group."""
    cats = s.get("categories") or {}
    profiles = s.get("profiles") or {}
    groups = s.get("groups") or {}
    profile = s.get("profile") or {}
    if not (cats or profiles or groups):
        return ""
    parts = [f'<section id="circles"><h2>{w.t("circles")}</h2>']
    if profile:
        speed = profile.get("speed_kmh")
        note = w.t("circles_profile", name=profile.get("name", ""), speed=f"{speed:g}")
        parts.append(f'<p class="note">{note}</p>')
    if cats:
        parts.append(_categories(w, s, cats))
    if profiles:
        parts.append(_profiles(w, profiles, list(cats)))
    if groups:
        parts.append(_groups(w, groups, list(cats), complete="share_complete" in s))
    parts.append("</section>")
    return "".join(parts)


def _key(*parts: object) -> str | None:
    """A ``data-key`` path, or None when a name holds ``/`` (it would split the path)."""
    texts = [str(p) for p in parts]
    return None if any("/" in t for t in texts[1:]) else "/".join(texts)


def _categories(w: Words, s: Mapping[str, Any], cats: Mapping[str, Any]) -> str:
    required = set(s.get("require") or [])
    headers = [
        (w.t("c_category"), False),
        (w.t("c_minutes"), True),
        (w.t("c_stations_n"), True),
        (w.t("c_covered"), True),
        (w.t("c_share"), True),
        (w.t("c_gap_zones"), True),
        (w.t("c_required"), False),
    ]
    rows = [
        [
            esc(name),
            num(c["minutes"], "number", _key("categories", name, "minutes")),
            num(c["stations"], "count", _key("categories", name, "stations")),
            num(c["population_covered"], "people", _key("categories", name, "population_covered")),
            num(c["share_covered"], "share", _key("categories", name, "share_covered")),
            num(c["gap_zones"], "count", _key("categories", name, "gap_zones")),
            w.t("yes") if name in required else w.t("no"),
        ]
        for name, c in cats.items()
    ]
    complete = w.h(
        "circles_complete",
        share=num(s["share_complete"], "share", "share_complete"),
        people=num(s["population_complete"], "people", "population_complete"),
        require=esc(", ".join(map(str, s.get("require") or []))),
    )
    return (
        f'<p id="complete-circle"><strong>{complete}</strong></p>'
        f"<h3>{w.t('circles_categories')}</h3>"
        + data_table("categories-table", headers, rows)
        + f'<p class="note">{w.t("circles_categories_note")}</p>'
    )


def _profiles(w: Words, profiles: Mapping[str, Any], cats: list[str]) -> str:
    headers = [
        (w.t("c_profile"), False),
        (w.t("c_speed"), True),
        (w.t("c_covered"), True),
        (w.t("c_share"), True),
    ]
    if cats:
        headers.append((w.t("c_complete"), True))
        headers += [(w.t("c_share_in", category=c), True) for c in cats]
    rows = []
    for name, p in profiles.items():
        cells = [
            esc(name),
            num(p["speed_kmh"], "number", _key("profiles", name, "speed_kmh")),
            num(p["population_covered"], "people", _key("profiles", name, "population_covered")),
            num(p["share_covered"], "share", _key("profiles", name, "share_covered")),
        ]
        if cats:
            cells.append(
                num(p["share_complete"], "share", _key("profiles", name, "share_complete"))
            )
            cells += [
                num(
                    p["categories"][c]["share_covered"],
                    "share",
                    _key("profiles", name, "categories", c, "share_covered"),
                )
                for c in cats
            ]
        rows.append(cells)
    return (
        f"<h3>{w.t('circles_profiles')}</h3>"
        + data_table("profiles-table", headers, rows)
        + f'<p class="note">{w.t("circles_profiles_note")}</p>'
    )


def _groups(w: Words, groups: Mapping[str, Any], cats: list[str], *, complete: bool) -> str:
    headers = [
        (w.t("c_group"), False),
        (w.t("c_population"), True),
        (w.t("c_covered"), True),
        (w.t("c_share"), True),
    ]
    if complete:
        headers.append((w.t("c_complete"), True))
    headers += [(w.t("c_share_in", category=c), True) for c in cats]
    rows = []
    for name, g in groups.items():
        cells = [
            esc(name),
            num(g["population"], "people", _key("groups", name, "population")),
            num(g["population_covered"], "people", _key("groups", name, "population_covered")),
            num(g["share_covered"], "share", _key("groups", name, "share_covered")),
        ]
        if complete:
            cells.append(num(g["share_complete"], "share", _key("groups", name, "share_complete")))
        cells += [
            num(
                g["categories"][c]["share_covered"],
                "share",
                _key("groups", name, "categories", c, "share_covered"),
            )
            for c in cats
        ]
        rows.append(cells)
    return (
        f"<h3>{w.t('circles_groups')}</h3>"
        + data_table("groups-table", headers, rows)
        + f'<p class="note">{w.t("circles_groups_note")}</p>'
    )
