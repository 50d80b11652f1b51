"""The report's account of how its figures were made: parameters, sources and methods.

Both sections are written from the run's summary (``summary.json``), with the vocabulary
of :mod:`planner.report.page`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner.report.page import Words, esc, num
from planner.texts import text


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
    # A summary from before ``osm_data`` was recorded took everything from OSM.
    credit = "attribution" if s.get("osm_data", ["streets"]) else "attribution_own"
    return (
        f'<section id="methods"><h2>{w.t("methods")}</h2>'
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + f"<h3>{w.t('limitations')}</h3><ul>{limits}</ul>"
        + f'<p class="attribution">{w.t(credit)}</p>{files}</section>'
    )
