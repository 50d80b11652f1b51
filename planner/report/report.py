"""The coverage report: one self-contained HTML file that opens offline and prints well.

:func:`coverage_report` is a pure function from a :class:`~planner.walk.coverage.CoverageResult`
(and its ``summary.json`` figures) to the text of an HTML page: headline figures with the
parameters and data sources, the interactive map (Leaflet embedded, in an ``iframe`` with
``srcdoc``), static charts as inline SVG, tables per station, district and gap zone, an
optional scenario comparison, and the methods. The page loads nothing from the network
except optional map tiles.

Every number shown is also in a ``<data>`` element whose ``data-key`` names the
``summary.json`` field it comes from (``population_within_minutes/5`` for nested fields)
and whose ``value`` is the exact number; the page also embeds its figures and tables as
JSON in ``<script type="application/json" id="planner-report-data">``. Text from user
files is always escaped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._version import __version__
from planner.errors import InputDataError
from planner.report.access_section import access_section
from planner.report.category_layers import saved_category_layers
from planner.report.charts import station_labels
from planner.report.circles_section import circles_section
from planner.report.comparison_section import comparison_section
from planner.report.methods import methods_section, parameters_section
from planner.report.page import REPORT_DATA_ID, Words, json_ready, page_html
from planner.report.road_section import road_quality_section
from planner.report.sections import (
    charts_section,
    header_section,
    key_figures_section,
    map_section,
    tables_section,
)
from planner.texts import Language, check_language, text
from planner.walk.breakdowns import coverage_by_district, district_extras
from planner.walk.coverage import CoverageResult

__all__ = [
    "check_summary",
    "coverage_report",
    "report_data",
]

#: Summary fields that must agree between ``summary`` and the result's own figures.
_CHECKED = (
    "minutes",
    "speed_kmh",
    "stations",
    "stations_off_network",
    "demand_points",
    "demand_points_covered",
    "population_total",
    "population_covered",
    "share_covered",
    "population_within_minutes",
    "demand_points_within_minutes",
    "gap_zones",
    "population_in_gap_zones",
)


def coverage_report(
    result: CoverageResult,
    *,
    summary: Mapping[str, Any] | None = None,
    language: Language = "en",
    title: str | None = None,
    streets: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    district_name_column: str = "name",
    baseline: CoverageResult | None = None,
    baseline_summary: Mapping[str, Any] | None = None,
    suggested_sites: gpd.GeoDataFrame | None = None,
    tiles: bool = True,
    map_html: str | None = None,
    overview: str | None = None,
) -> str:
    """The coverage report as the text of one self-contained HTML page.

    Parameters
    ----------
    result
        The analysis to report.
    summary
        Its ``summary.json`` content (:func:`planner.report.export.summary_dict`), whose inputs,
        date and figures the report states; :meth:`CoverageResult.summary` when None.
    language
        ``"en"`` or ``"zh"``.
    title
        Page title; a default title in ``language`` when None.
    streets
        Street lines to draw under the map and on the printed overview map.
    districts
        District polygons; adds the per-district table and chart
        (:func:`planner.walk.coverage.coverage_by_district`).
    district_name_column
        Column of ``districts`` with the names.
    baseline
        A second scenario to compare with ("before"; ``result`` is "after").
    baseline_summary
        The baseline's ``summary.json``; its own summary when None.
    suggested_sites
        Proposed new station points (e.g. from siting). Adds a map layer, a table, and a
        "suggested site" column to the gap table: a site belongs to the gap zone named in
        its ``gap_id`` column, else to the zone that contains it, else to the nearest zone
        within the walk limit (straight line).
    tiles
        Let the map load OpenStreetMap tiles when online.
    map_html
        The interactive map already rendered (the ``map.html`` written beside the report,
        :func:`planner.report.maps.coverage_map` of the same arguments), so that a city's
        map is rendered once; None renders it here.
    overview
        The printed overview map already drawn (:func:`planner.report.sections.overview_svg`
        of the same arguments); None draws it here.

    Returns
    -------
    str
        The HTML page (UTF-8 text).

    Raises
    ------
    InputDataError
        When ``summary`` does not hold the result's figures (e.g. a ``summary.json`` from
        another run), or an argument has the wrong shape.
    """
    lang = check_language(language)
    s = dict(summary) if summary is not None else result.summary()
    check_summary(result, s, what="summary")
    bs: dict[str, Any] | None = None
    if baseline is not None:
        bs = dict(baseline_summary) if baseline_summary is not None else baseline.summary()
        check_summary(baseline, bs, what="baseline summary")
    sites = _checked_sites(suggested_sites)
    w = Words(lang)
    district_table = (
        coverage_by_district(
            result, districts, name_column=district_name_column, **district_extras(s)
        )
        if districts is not None
        else None
    )
    site_of_gap = _sites_per_gap(result, sites) if sites is not None else None
    # A map rendered here (not given) shows the summary's station categories too.
    layers = saved_category_layers(result, s, language=lang) if map_html is None else []
    data: dict[str, Any] = {
        "generator": "service-circle-planner",
        "version": __version__,
        "language": lang,
        "summary": s,
        "stations": _station_rows(result),
        "districts": _district_rows(district_table) if district_table is not None else None,
        "gaps": _gap_rows(result, site_of_gap),
        "suggested_sites": _site_rows(sites) if sites is not None else None,
        "comparison": None,
    }
    body = [
        header_section(w, s, title),
        key_figures_section(w, s, result),
        parameters_section(w, s),
        road_quality_section(w, s),
        map_section(w, result, streets, sites, tiles, map_html, layers, overview),
        charts_section(w, result, district_table),
        tables_section(w, result, district_table, data, site_of_gap),
    ]
    body.append(circles_section(w, s))
    if s.get("access"):
        body.append(access_section(w, result, s["access"]))
    if baseline is not None and bs is not None:
        section, data["comparison"] = comparison_section(w, baseline, bs, result, s)
        body.append(section)
    body.append(methods_section(w, s))
    page_title = title if title else text("title", lang)
    return page_html(lang, page_title, "\n".join(b for b in body if b), data)


def check_summary(result: CoverageResult, summary: Mapping[str, Any], *, what: str) -> None:
    """Raise InputDataError when ``summary`` does not hold ``result``'s figures."""
    own = json.loads(json.dumps(json_ready(result.summary())))
    for key in _CHECKED:
        if not _same(own.get(key), summary.get(key)):
            msg = (
                f"The {what} does not match the coverage layers: {key} is "
                f"{summary.get(key)!r} there but {own.get(key)!r} in the layers. The files "
                "come from different runs; run the analysis again to write them together."
            )
            raise InputDataError(msg)


def report_data(page: str) -> dict[str, Any]:
    """The machine-readable JSON block of a report page made by :func:`coverage_report`."""
    start_tag = f'<script type="application/json" id="{REPORT_DATA_ID}">'
    start = page.index(start_tag) + len(start_tag)
    end = page.index("</script>", start)
    data: dict[str, Any] = json.loads(page[start:end])
    return data


# ----------------------------------------------------------------------------- helpers


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return bool(a == b)


def _checked_sites(sites: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if sites is None:
        return None
    if sites.crs is None:
        msg = "suggested_sites: the table has no CRS; set one (e.g. sites.set_crs(4326))."
        raise InputDataError(msg)
    if len(sites) and not (sites.geometry.geom_type == "Point").all():
        msg = "suggested_sites: every suggested site must be a point."
        raise InputDataError(msg)
    out = sites.to_crs(4326)
    if "id" not in out.columns:
        out = out.assign(id=[f"site {i + 1}" for i in range(len(out))])
    return out


def _site_labels(sites: gpd.GeoDataFrame) -> list[str]:
    return station_labels(sites.assign(id=sites["id"].astype(str)))


def _sites_per_gap(result: CoverageResult, sites: gpd.GeoDataFrame) -> dict[int, list[str]]:
    labels = _site_labels(sites)
    gaps = result.gaps
    out: dict[int, list[str]] = {int(g): [] for g in gaps["gap_id"]}
    if not len(gaps) or not len(sites):
        return out
    if "gap_id" in sites.columns:
        for label, gap in zip(labels, sites["gap_id"], strict=True):
            if pd.notna(gap) and int(gap) in out:
                out[int(gap)].append(label)
        return out
    metric = gaps.geometry.estimate_utm_crs()
    polys = gaps.geometry.to_crs(metric).to_numpy()
    pts = sites.geometry.to_crs(metric).to_numpy()
    ids = gaps["gap_id"].to_numpy()
    for label, pt in zip(labels, pts, strict=True):
        dist = np.array([poly.distance(pt) for poly in polys])
        best = int(np.argmin(dist))
        if dist[best] <= result.config.walk_limit_m:
            out[int(ids[best])].append(label)
    return out


# -------------------------------------------------------------------------- JSON rows


def _station_rows(result: CoverageResult) -> list[dict[str, Any]]:
    st = result.stations
    n = len(st)
    served = st["population_served"].to_numpy(dtype=float)
    only = st["population_only_here"].to_numpy(dtype=float)
    category = st["category"].astype(str).tolist() if "category" in st.columns else [""] * n
    columns = {
        "id": st["id"].astype(str).tolist(),
        "name": station_labels(st),
        "category": category,
        "population_served": served.tolist(),
        "population_only_here": only.tolist(),
        "population_overlap": (served - only).tolist(),
        "homes_served": st["homes_served"].to_numpy(dtype=np.int64).tolist(),
        "on_network": st["on_network"].to_numpy(dtype=bool).tolist(),
        "snap_m": st["snap_m"].to_numpy(dtype=float).tolist(),
    }
    keys = list(columns)
    rows = [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    rows.sort(key=lambda r: (-float(r["population_served"]), str(r["id"])))
    return rows


def _district_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [
        "district",
        "homes",
        "homes_covered",
        "population",
        "population_covered",
        "population_uncovered",
        "share_covered",
    ]
    return [
        {str(k): v for k, v in rec.items()} for rec in pd.DataFrame(table[cols]).to_dict("records")
    ]


def _gap_rows(
    result: CoverageResult, site_of_gap: Mapping[int, list[str]] | None
) -> list[dict[str, Any]]:
    g = result.gaps
    names = dict(
        zip(result.stations["id"].astype(str), station_labels(result.stations), strict=True)
    )
    # Column by column (a city has thousands of gap zones): the same values as row by row.
    gap_ids = g["gap_id"].to_numpy(dtype=np.int64).tolist()
    homes = g["homes"].to_numpy(dtype=np.int64).tolist()
    people = g["population"].to_numpy(dtype=float).tolist()
    walk_nearest = g["walk_min_nearest"].to_numpy(dtype=float).tolist()
    walk_median = g["walk_min_median"].to_numpy(dtype=float).tolist()
    nearest_ids = [
        str(v) if pd.notna(v) else None for v in g["nearest_station"].to_numpy(dtype=object)
    ]
    rows = []
    for gid, n_homes, pop, near, median, nearest_id in zip(
        gap_ids, homes, people, walk_nearest, walk_median, nearest_ids, strict=True
    ):
        row: dict[str, Any] = {
            "gap_id": gid,
            "homes": n_homes,
            "population": pop,
            "walk_min_nearest": near,
            "walk_min_median": median,
            "nearest_station": nearest_id,
            "nearest_station_name": names.get(nearest_id, "") if nearest_id else "",
        }
        if site_of_gap is not None:
            row["suggested_sites"] = list(site_of_gap.get(gid, []))
        rows.append(row)
    return rows


def _site_rows(sites: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    labels = _site_labels(sites)
    rows = []
    for i in range(len(sites)):
        pt = sites.geometry.iloc[i]
        row: dict[str, Any] = {
            "id": str(sites["id"].iloc[i]),
            "name": labels[i],
            "lon": float(pt.x),
            "lat": float(pt.y),
        }
        for col in sites.columns:
            if str(col).startswith("population") and pd.api.types.is_numeric_dtype(sites[col]):
                row[str(col)] = float(sites[col].iloc[i])
        rows.append(row)
    return rows
