"""Tables and figures of a plan as the app shows them, and the files it offers to download.

Pure functions of a :class:`~planner.app.plan.Plan` (or its result): no Streamlit here, so the
pages stay thin and these are tested directly.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.app.plan import Plan
from planner.report.export import csv_table, for_geopackage, summary_dict
from planner.report.output_folder import LAYERS
from planner.report.report import coverage_report
from planner.report.spreadsheet import csv_text
from planner.sources.osm import OSM_DATA
from planner.texts import Language, text
from planner.walk.coverage import CoverageResult
from planner.walk.gaps import GAP_COLUMNS


@dataclass(frozen=True, slots=True)
class Headline:
    """The figures shown at the top of every page."""

    share_covered: float
    population_covered: float
    population_uncovered: float
    population_total: float
    stations: int
    stations_off_network: int
    gap_zones: int
    population_in_gap_zones: float


def headline(plan: Plan) -> Headline:
    """Headline figures of a plan."""
    total = plan.area.population_total
    return Headline(
        share_covered=plan.share_covered,
        population_covered=plan.population_covered,
        population_uncovered=total - plan.population_covered,
        population_total=total,
        stations=len(plan.stations),
        stations_off_network=int((~plan.snapped.on_network).sum()),
        gap_zones=len(plan.gaps),
        population_in_gap_zones=float(plan.gaps["population"].sum()),
    )


def station_figures(plan: Plan) -> pd.DataFrame:
    """One row per station with its figures.

    Columns ``id``, ``name``, ``category``, ``lon``, ``lat``, ``on_network``,
    ``homes_served``, ``population_served``, ``population_only_here``.
    """
    st = plan.stations
    return pd.DataFrame(
        {
            "id": st["id"].astype(str).to_numpy(),
            "name": st["name"].astype(str).to_numpy(),
            "category": st["category"].astype(str).to_numpy(),
            "lon": st.geometry.x.to_numpy(dtype=float) if len(st) else np.empty(0),
            "lat": st.geometry.y.to_numpy(dtype=float) if len(st) else np.empty(0),
            "on_network": plan.snapped.on_network,
            "homes_served": plan.homes_served,
            "population_served": plan.population_served.round(1),
            "population_only_here": plan.population_only_here.round(1),
        }
    )


@dataclass(frozen=True, eq=False)
class WalkTimes:
    """People by walk time to the nearest station.

    Attributes
    ----------
    table
        Indexed by the bin's lower bound in minutes (``minutes``); columns ``within`` (people
        within the walk limit) and ``beyond`` (people beyond it). The last bin holds
        everyone at or beyond ``cap_min``.
    step_min
        Bin width in minutes.
    cap_min
        Lower bound of the last, open bin.
    unreachable
        People with no station reachable on the network.
    off_network
        People living farther than the snap distance from every street.
    """

    table: pd.DataFrame
    step_min: float
    cap_min: float
    unreachable: float
    off_network: float


def walk_time_distribution(plan: Plan, *, step_min: float | None = None) -> WalkTimes:
    """Population by walk time to the nearest station, in bins up to twice the limit."""
    cfg = plan.config
    step = step_min or (1.0 if cfg.walk_minutes <= 20 else 2.0)
    cap = step * math.ceil(2 * cfg.walk_minutes / step)
    # from the plan's per-home arrays: the demand layer (a 100,000-row table at metro
    # scale) is not built for a page that shows only this
    pop = plan.population
    minutes = plan.walk_min
    reached = np.isfinite(minutes)
    lows = np.arange(0.0, cap + step / 2, step)
    bins = np.minimum(np.floor(minutes[reached] / step), len(lows) - 1).astype(int)
    covered = plan.covered[reached]
    within = np.bincount(bins[covered], weights=pop[reached][covered], minlength=len(lows))
    beyond = np.bincount(bins[~covered], weights=pop[reached][~covered], minlength=len(lows))
    table = pd.DataFrame(
        {"within": within.round(1), "beyond": beyond.round(1)},
        index=pd.Index(lows, name="minutes"),
    )
    off = plan.off_network
    return WalkTimes(
        table=table,
        step_min=step,
        cap_min=cap,
        unreachable=float(pop[~off & ~reached].sum()),
        off_network=float(pop[off].sum()),
    )


def gap_table(plan: Plan) -> pd.DataFrame:
    """Gap zones without their outlines, largest population first."""
    gaps = pd.DataFrame(plan.gaps.drop(columns="geometry"))
    return gaps.round({"population": 1, "walk_min_nearest": 1, "walk_min_median": 1})


#: Text keys of the column names the app shows (``col_<column>`` in the catalogue).
READABLE_COLUMNS = (
    *GAP_COLUMNS,
    "id",
    "name",
    "change",
    "moved_m",
    "served_base",
    "served_other",
)
_PEOPLE = {"population", "served_base", "served_other", "moved_m"}
_MINUTES = {"walk_min_nearest", "walk_min_median"}
_SHARES = {"share_covered"}


def _whole(value: object) -> str:
    x = float(value)  # type: ignore[arg-type]
    return f"{x:,.0f}" if math.isfinite(x) else ""


def _tenth(value: object) -> str:
    x = float(value)  # type: ignore[arg-type]
    return f"{x:.1f}" if math.isfinite(x) else ""


def readable_table(table: pd.DataFrame, language: Language) -> pd.DataFrame:
    """A table as a planner reads it: named columns, whole people, minutes to a tenth.

    People (and metres) become whole numbers with thousands separators, walk times minutes
    with one decimal, missing values empty cells; columns are named in ``language``
    (``col_<column>`` of the catalogue). Every cell is text, ready to show.
    """
    out = pd.DataFrame(index=table.index)
    for column in table.columns:
        values = table[column]
        if column in _PEOPLE:
            shown = values.map(_cell(_whole))
        elif column in _MINUTES:
            shown = values.map(_cell(_tenth))
        else:
            shown = values.map(lambda v: "" if _missing(v) else str(v))
        label = text(f"col_{column}", language) if column in READABLE_COLUMNS else column
        out[label] = shown.astype(str)
    return out


def readable_figures(figures: pd.DataFrame, language: Language) -> pd.DataFrame:
    """The comparison's figures (rows ``share_covered``, ...) as text, rows named in ``language``.

    Shares in percent (changes in percentage points), people whole, minutes to a tenth,
    changes signed, missing values empty.
    """

    def one(key: str, value: object, signed: bool) -> str:
        if _missing(value):
            return ""
        x = float(value)  # type: ignore[arg-type]
        sign = "+" if signed else ""
        if key in _SHARES:
            return f"{x * 100:{sign}.1f}" + (" pp" if signed else "%")
        if key in _MINUTES:
            return f"{x:{sign}.1f}"
        return f"{x:{sign},.0f}"

    rows = {
        text(f"fig_{key}", language): [
            one(str(key), row[c], signed=c == "change") for c in figures.columns
        ]
        for key, row in figures.iterrows()
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(figures.columns))


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and not math.isfinite(value)


def _cell(fmt: Callable[[object], str]) -> Callable[[object], str]:
    return lambda v: "" if _missing(v) else fmt(v)


# ----------------------------------------------------------------------- downloads


def geopackage_bytes(result: CoverageResult) -> bytes:
    """The result's layers as one GeoPackage file, the same as ``coverage.gpkg``.

    Layers ``stations``, ``demand``, ``isochrones``, ``coverage_area``, ``gaps``, EPSG:4326.
    """
    with tempfile.TemporaryDirectory(prefix="planner-gpkg-") as tmp:
        path = Path(tmp) / "coverage.gpkg"
        for name in LAYERS:
            layer: gpd.GeoDataFrame = getattr(result, name)
            for_geopackage(layer).to_file(path, layer=name, driver="GPKG", index=False)
        return path.read_bytes()


def csv_bytes(layer: gpd.GeoDataFrame, *, raw_text: bool = False) -> bytes:
    """A layer as CSV, with ``lon`` and ``lat`` instead of the geometry (as ``stations.csv``).

    UTF-8 with a byte-order mark, so that spreadsheet programs read Chinese names correctly.
    Text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a
    leading ``'`` so that spreadsheet programs do not run them as formulas, unless
    ``raw_text`` (:func:`planner.report.spreadsheet.spreadsheet_safe`); numbers are never changed.
    """
    return csv_text(csv_table(layer), raw_text=raw_text).encode("utf-8-sig")


def summary_bytes(
    result: CoverageResult,
    *,
    inputs: Mapping[str, str] | None = None,
    osm_data: Collection[str] = OSM_DATA,
) -> bytes:
    """``summary.json`` of the result (the documented contract), UTF-8.

    ``osm_data`` names what came from OpenStreetMap (the study area's
    :attr:`~planner.app.study_area.StudyArea.osm_data`), credited in it.
    """
    summary = summary_dict(result, inputs=inputs, osm_data=osm_data)
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def report_bytes(
    plan: Plan,
    *,
    language: Language = "en",
    suggested_sites: gpd.GeoDataFrame | None = None,
    tiles: bool = True,
    inputs: Mapping[str, str] | None = None,
) -> bytes:
    """The HTML coverage report of a plan (:func:`planner.report.report.coverage_report`), UTF-8.

    Its figures are those of the plan's ``summary.json`` (same inputs as
    :func:`summary_bytes`); the area's streets are drawn under the map, and
    ``suggested_sites`` (e.g. the workspace's proposed sites) are added when given.
    ``inputs`` (e.g. :meth:`Workspace.inputs`) say where the data came from; the study
    area's description when None.
    """
    html = coverage_report(
        plan.result,
        summary=summary_dict(
            plan.result,
            inputs=dict(inputs) if inputs is not None else dict(plan.area.description),
            osm_data=plan.area.osm_data,
        ),
        language=language,
        streets=plan.area.network.edges,
        suggested_sites=suggested_sites,
        tiles=tiles,
    )
    return html.encode("utf-8")
