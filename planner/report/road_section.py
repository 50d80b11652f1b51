"""The quality report of a road layer used as the network: on the console and in the report.

:func:`road_quality_items` turns ``summary.json``'s ``network.road_layer`` block
(:func:`planner.walk.coverage.road_report_facts`) into labelled lines in one language; the
CLI prints them after ``planner analyze`` and :func:`road_quality_section` writes them as
a section of the HTML report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner.report.page import Words, esc
from planner.sources.road_layers import NEAR_MISS_M
from planner.texts import Language, text


def _int(facts: Mapping[str, Any], key: str) -> int:
    value = facts.get(key, 0)
    return int(value) if isinstance(value, int | float) else 0


def _metres(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "?"


def road_quality_items(facts: Mapping[str, Any], language: Language) -> list[tuple[str, str]]:
    """(label, value) lines of a road layer's quality report, as plain text.

    Parameters
    ----------
    facts
        ``network.road_layer`` of a run's summary.
    language
        ``"en"`` or ``"zh"``.

    Returns
    -------
    list of (str, str)
        Not escaped: the level and speed columns' names come from the user's file.
    """

    def t(key: str, **values: object) -> str:
        return text(key, language, **values)

    n = {k: f"{_int(facts, k):,}" for k in facts if isinstance(facts[k], int | float)}
    items = [
        (t("rq_read"), n.get("lines_read", "0")),
        (
            t("rq_dropped"),
            t(
                "rq_dropped_value",
                no_geometry=n.get("dropped_no_geometry", "0"),
                not_lines=n.get("dropped_not_lines", "0"),
                zero=n.get("dropped_zero_length", "0"),
                not_walkable=n.get("dropped_not_walkable", "0"),
                no_foot=n.get("dropped_no_pedestrians", "0"),
            ),
        ),
        (
            t("rq_joined"),
            t(
                "rq_joined_value",
                n=n.get("ends_joined", "0"),
                metres=_metres(facts.get("node_tolerance_m")),
            ),
        ),
        (t("rq_dead_ends"), n.get("dead_ends", "0")),
        (
            t("rq_near_miss"),
            t("rq_near_miss_value", n=n.get("near_miss_ends", "0"), metres=_metres(NEAR_MISS_M)),
        ),
        (
            t("rq_parts"),
            t(
                "rq_parts_value",
                parts=n.get("parts", "0"),
                km=_metres(facts.get("parts_street_km")),
            ),
        ),
    ]
    if facts.get("level_column"):
        items.append((t("rq_level"), str(facts["level_column"])))
    if facts.get("speed_column"):
        items.append(
            (
                t("rq_speed"),
                t(
                    "rq_speed_value",
                    column=str(facts["speed_column"]),
                    own=n.get("lines_own_speed", "0"),
                    zero=n.get("dropped_speed_zero", "0"),
                ),
            )
        )
    if facts.get("factor_column"):
        items.append(
            (
                t("rq_factor"),
                t(
                    "rq_factor_value",
                    column=str(facts["factor_column"]),
                    n=n.get("lines_time_factor", "0"),
                ),
            )
        )
    options = facts.get("options")
    if isinstance(options, Mapping) and options.get("osm_paths"):
        items.append(
            (
                t("rq_osm"),
                t(
                    "rq_osm_value",
                    added=n.get("osm_paths_added", "0"),
                    joined=n.get("osm_ends_joined", "0"),
                    metres=_metres(options.get("osm_join_m")),
                ),
            )
        )
    return items


def road_quality_section(w: Words, s: Mapping[str, Any]) -> str:
    """The road layer's quality report as a section; "" when the network is not a layer."""
    net = s.get("network")
    facts = net.get("road_layer") if isinstance(net, Mapping) else None
    if not isinstance(facts, Mapping):
        return ""
    rows = "".join(
        f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in road_quality_items(facts, w.lang)
    )
    return f'<section id="road-layer"><h2>{w.t("rq_title")}</h2><dl>{rows}</dl></section>'
