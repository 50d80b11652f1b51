"""One planner's working state: the current plan, undo history, named scenarios.

A :class:`Workspace` is immutable like the plans it holds: every operation returns a new
workspace. The app keeps one per browser session (in Streamlit's session state), so two
people never see each other's edits; the study area inside the plans is shared read-only.

Also here: saving a scenario to a JSON file and reading it back, and comparing two plans
side by side.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import shapely

from planner._version import __version__
from planner.app.edits import add_station, add_stations, move_station
from planner.app.plan import Plan, build_plan, with_config
from planner.app.study_area import StudyArea
from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.report.scenarios import UNCHANGED, station_changes
from planner.sources.coords import WGS84

#: Undo keeps at most this many earlier plans.
MAX_UNDO = 50
#: Name of the scenario a workspace starts with.
BASELINE = "baseline"
#: ``kind`` field of a saved scenario file.
SCENARIO_KIND = "service-circle-planner/scenario"
SCENARIO_FORMAT = 1

ClickMode = Literal["add", "move", "drag", "inspect"]


@dataclass(frozen=True, eq=False)
class Workspace:
    """The current plan, the plans before it (undo) and named scenarios.

    Attributes
    ----------
    plan
        The plan being edited.
    history
        Earlier plans, oldest first; :func:`undo` goes back to the last one.
    scenarios
        Named plans kept for comparison, in the order they were kept.
    proposed_sites
        Sites proposed for new stations (points in WGS84 with ``id`` and figures), waiting
        to be accepted into the plan; None when there is no proposal. Filled by the siting
        step.
    revision
        Counts the changes of the current plan (edits, undo, settings); pages use it to
        know that a table made from the plan is out of date.
    stations_source
        Where the stations came from when not from the study area (e.g. an uploaded
        file's name); the reports and ``summary.json`` of the plan state it.
    """

    plan: Plan
    history: tuple[Plan, ...] = ()
    scenarios: tuple[tuple[str, Plan], ...] = ()
    proposed_sites: gpd.GeoDataFrame | None = None
    revision: int = 0
    stations_source: str | None = None

    def inputs(self) -> dict[str, str]:
        """The ``inputs`` of the plan's ``summary.json`` and report.

        The study area's description, with the stations' own source when they were loaded
        from a file.
        """
        out = dict(self.plan.area.description)
        if self.stations_source is not None:
            out["stations"] = self.stations_source
        return out

    @property
    def scenario_names(self) -> list[str]:
        """Names of the kept scenarios."""
        return [name for name, _ in self.scenarios]

    def scenario(self, name: str) -> Plan:
        """A kept scenario by name; :class:`InputDataError` when there is none."""
        for n, plan in self.scenarios:
            if n == name:
                return plan
        kept = ", ".join(repr(n) for n in self.scenario_names) or "-"
        raise InputDataError(key="err_no_scenario", name=repr(name), kept=kept)

    @property
    def can_undo(self) -> bool:
        """Whether there is an earlier plan to go back to."""
        return bool(self.history)


def start_workspace(plan: Plan) -> Workspace:
    """A workspace on ``plan``, which is also kept as the scenario ``baseline``."""
    return Workspace(plan=plan, scenarios=((BASELINE, plan),))


def workspace_for_area(area: StudyArea, *, config: AnalysisConfig | None = None) -> Workspace:
    """A fresh workspace on a study area with its starting stations."""
    return start_workspace(build_plan(area, config=config))


def stations_loaded(ws: Workspace, plan: Plan, *, source: str, append: bool) -> Workspace:
    """:func:`edit` to ``plan``, whose stations were loaded from ``source`` (a file name).

    With ``append`` the source is added to the one before (the plan kept its stations).
    """
    before = ws.stations_source or ws.plan.area.description.get("stations", "")
    named = f"{before} + {source}" if append and before else source
    return replace(edit(ws, plan), stations_source=named)


def edit(ws: Workspace, plan: Plan) -> Workspace:
    """Make ``plan`` the current plan, keeping the previous one for undo."""
    if plan is ws.plan:
        return ws
    history = (*ws.history, ws.plan)[-MAX_UNDO:]
    return replace(ws, plan=plan, history=history, revision=ws.revision + 1)


def undo(ws: Workspace) -> Workspace:
    """Go back to the previous plan (under the current settings); no-op when none."""
    if not ws.history:
        return ws
    previous = with_config(ws.history[-1], ws.plan.config)
    return replace(ws, plan=previous, history=ws.history[:-1], revision=ws.revision + 1)


def set_config(ws: Workspace, config: AnalysisConfig) -> Workspace:
    """Recompute the current plan under new settings (kept scenarios keep theirs)."""
    if config == ws.plan.config:
        return ws
    return replace(ws, plan=with_config(ws.plan, config), revision=ws.revision + 1)


def keep_scenario(ws: Workspace, name: str, plan: Plan | None = None) -> Workspace:
    """Keep ``plan`` (the current plan when None) as a named scenario, replacing a namesake."""
    label = name.strip()
    if not label:
        raise InputDataError(key="err_scenario_name")
    kept = plan if plan is not None else ws.plan
    others = tuple((n, p) for n, p in ws.scenarios if n != label)
    return replace(ws, scenarios=(*others, (label, kept)))


def drop_scenario(ws: Workspace, name: str) -> Workspace:
    """Forget a kept scenario."""
    return replace(ws, scenarios=tuple((n, p) for n, p in ws.scenarios if n != name))


def open_scenario(ws: Workspace, name: str) -> Workspace:
    """Make a kept scenario the current plan (undo goes back)."""
    return edit(ws, ws.scenario(name))


def propose_sites(ws: Workspace, sites: gpd.GeoDataFrame | None) -> Workspace:
    """Hold proposed sites (from the siting step) for the planner to accept or not."""
    if sites is not None and sites.crs is None:
        msg = "proposed sites: the table has no CRS; set one (e.g. EPSG:4326)."
        raise InputDataError(msg)
    return replace(ws, proposed_sites=None if sites is None else sites.to_crs(WGS84))


def accept_sites(ws: Workspace, ids: list[str]) -> Workspace:
    """Add the proposed sites with the given ids to the plan as stations (one edit)."""
    if ws.proposed_sites is None or not ids:
        return ws
    sites = ws.proposed_sites
    site_ids = sites["id"].astype(str) if "id" in sites.columns else sites.index.astype(str)
    chosen = sites.loc[site_ids.isin([str(i) for i in ids]).to_numpy()]
    rest = sites.loc[~site_ids.isin([str(i) for i in ids]).to_numpy()]
    new = edit(ws, add_stations(ws.plan, chosen))
    return replace(new, proposed_sites=rest if len(rest) else None)


def handle_click(
    ws: Workspace,
    click: Mapping[str, Any] | None,
    *,
    mode: ClickMode,
    selected: str | None = None,
) -> tuple[Workspace, str | None]:
    """Apply a map click: add a station there, move the selected one there, or nothing.

    Parameters
    ----------
    ws
        The workspace.
    click
        ``{"lat": ..., "lng": ...}`` as st_folium returns it in ``last_clicked``, or None.
    mode
        ``"add"``, ``"move"`` (needs ``selected``), ``"drag"`` or ``"inspect"`` (clicks on
        the map change nothing; in ``"drag"`` stations are dragged, see
        :mod:`planner.app.drag`).
    selected
        Id of the station to move.

    Returns
    -------
    workspace, station id
        The new workspace and the id of the station added or moved (None when nothing
        changed).

    Raises
    ------
    InputDataError
        A click in ``"move"`` mode with no station selected (or the selected one is no
        longer in the plan): nothing is moved, and the planner is told to choose one.
    """
    if not click or mode in ("inspect", "drag"):  # "drag": stations move by dragging
        return ws, None
    try:
        lat, lon = float(click["lat"]), float(click["lng"])
    except (KeyError, TypeError, ValueError):
        return ws, None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return ws, None
    lon = (lon + 180.0) % 360.0 - 180.0  # Leaflet lets longitudes run past 180
    if mode == "add":
        plan = add_station(ws.plan, lon, lat)
        return edit(ws, plan), str(plan.stations["id"].iloc[-1])
    if selected is None or selected not in set(ws.plan.stations["id"].astype(str)):
        raise InputDataError(key="err_move_needs_station")
    return edit(ws, move_station(ws.plan, selected, lon, lat)), selected


# ------------------------------------------------------------------ scenario files


@dataclass(frozen=True, eq=False)
class SavedScenario:
    """A scenario read from a file: its name, settings and stations.

    Attributes
    ----------
    name
        Scenario name.
    area_name
        Name of the study area it was made on.
    config
        Its settings.
    stations
        ``id``, ``name``, ``category`` and points in WGS84.
    """

    name: str
    area_name: str
    config: AnalysisConfig
    stations: gpd.GeoDataFrame


def scenario_json(plan: Plan, name: str) -> str:
    """A plan's stations and settings as a scenario file (JSON text, UTF-8).

    The file holds the study area's *name* only, not its network or homes: load it again
    on the same study area with :func:`read_scenario` and :func:`plan_from_saved`.
    """
    cfg = plan.config
    features = [
        {
            "type": "Feature",
            "properties": {"id": str(r.id), "name": str(r.name), "category": str(r.category)},
            "geometry": {
                "type": "Point",
                "coordinates": [float(r.geometry.x), float(r.geometry.y)],
            },
        }
        for r in plan.stations.itertuples(index=False)
    ]
    doc = {
        "kind": SCENARIO_KIND,
        "format": SCENARIO_FORMAT,
        "name": name,
        "study_area": plan.area.name,
        "settings": {
            "walk_minutes": cfg.walk_minutes,
            "speed_kmh": cfg.speed_kmh,
            "max_snap_m": cfg.max_snap_m,
        },
        "stations": {"type": "FeatureCollection", "features": features},
        "figures": {
            "share_covered": plan.share_covered,
            "population_covered": plan.population_covered,
        },
        "version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def read_scenario(data: bytes | str, *, source: str = "scenario file") -> SavedScenario:
    """Read a scenario file written by :func:`scenario_json`.

    Parameters
    ----------
    data
        The file's content.
    source
        The file's name, for messages.

    Returns
    -------
    SavedScenario
        Its name, settings and stations.

    Raises
    ------
    InputDataError
        When the file is not a scenario file or a station in it is malformed (the message
        names the station's position in the file).
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError) as err:
        raise InputDataError(key="err_scenario_not_json", file=source, detail=str(err)) from err
    if not isinstance(doc, dict) or doc.get("kind") != SCENARIO_KIND:
        raise InputDataError(key="err_scenario_kind", file=source, kind=repr(SCENARIO_KIND))
    if doc.get("format") != SCENARIO_FORMAT:
        raise InputDataError(
            key="err_scenario_format",
            file=source,
            found=repr(doc.get("format")),
            expected=SCENARIO_FORMAT,
        )
    settings = doc.get("settings") or {}
    try:
        config = AnalysisConfig(
            walk_minutes=float(settings["walk_minutes"]),
            speed_kmh=float(settings["speed_kmh"]),
            max_snap_m=float(settings.get("max_snap_m", AnalysisConfig().max_snap_m)),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InputDataError(
            key="err_scenario_settings", file=source, settings=repr(settings)
        ) from err
    features = (doc.get("stations") or {}).get("features")
    if not isinstance(features, list):
        raise InputDataError(key="err_scenario_no_stations", file=source)
    rows: list[dict[str, str]] = []
    points: list[shapely.Point] = []
    for i, feat in enumerate(features, start=1):
        try:
            props = feat.get("properties") or {}
            lon, lat = (float(c) for c in feat["geometry"]["coordinates"][:2])
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            raise InputDataError(key="err_scenario_station_point", file=source, n=i) from err
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputDataError(
                key="err_scenario_station_range", file=source, n=i, lon=lon, lat=lat
            )
        rows.append({k: str(props.get(k, "") or "") for k in ("id", "name", "category")})
        points.append(shapely.Point(lon, lat))
    stations = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["id", "name", "category"]), geometry=points, crs=WGS84
    )
    return SavedScenario(
        name=str(doc.get("name") or "scenario"),
        area_name=str(doc.get("study_area") or ""),
        config=config,
        stations=stations,
    )


def plan_from_saved(area: StudyArea, saved: SavedScenario) -> Plan:
    """The saved scenario's stations and settings on ``area`` (computed in full)."""
    return build_plan(area, saved.stations, config=saved.config)


# --------------------------------------------------------------------- comparison


@dataclass(frozen=True, eq=False)
class PlanComparison:
    """Two plans side by side (see :func:`compare_plans`).

    Attributes
    ----------
    figures
        One row per figure (``share_covered``, ``population_covered``,
        ``population_uncovered``, ``stations``, ``gap_zones``, ``population_in_gap_zones``,
        ``walk_min_median``); columns ``base``, ``other``, ``change``.
    stations
        One row per station added, moved, removed or renamed: ``id``, ``name``,
        ``change``, ``moved_m`` (NaN unless moved), ``served_base``, ``served_other``.
    population_gained
        People covered in ``other`` minus people covered in ``base``.
    settings_differ
        Names of the settings that differ (``walk_minutes``, ``speed_kmh``, ``max_snap_m``).
    """

    figures: pd.DataFrame
    stations: pd.DataFrame
    population_gained: float
    settings_differ: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        """Number of stations per change (``added``, ``moved``, ``removed``, ``renamed``)."""
        got = self.stations["change"].value_counts()
        return {k: int(got.get(k, 0)) for k in ("added", "moved", "removed", "renamed")}


FIGURES = (
    "share_covered",
    "population_covered",
    "population_uncovered",
    "stations",
    "gap_zones",
    "population_in_gap_zones",
    "walk_min_median",
)


def _changed(table: pd.DataFrame) -> pd.DataFrame:
    """The app's view of :func:`~planner.report.scenarios.station_changes`: changes only."""
    out = table.loc[table["change"] != UNCHANGED].rename(
        columns={
            "station_id": "id",
            "population_served_before": "served_base",
            "population_served_after": "served_other",
        }
    )
    return out.reset_index(drop=True)


def compare_plans(base: Plan, other: Plan, *, moved_tol_m: float = 1.0) -> PlanComparison:
    """Figures of two plans side by side and the stations added, moved or removed.

    Stations are matched by ``id``. A station is *moved* when its two positions are more
    than ``moved_tol_m`` apart, *renamed* when only its name or category changed.
    """
    a, b = base.summary(), other.summary()
    rows = []
    for key in FIGURES:
        va, vb = a.get(key), b.get(key)
        change = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        rows.append({"figure": key, "base": va, "other": vb, "change": change})
    figures = pd.DataFrame(rows).set_index("figure")
    settings = ("walk_minutes", "speed_kmh", "max_snap_m")
    differ = tuple(k for k in settings if getattr(base.config, k) != getattr(other.config, k))
    return PlanComparison(
        figures=figures,
        stations=_changed(
            station_changes(
                base.stations,
                other.stations,
                base.population_served,
                other.population_served,
                moved_tolerance_m=moved_tol_m,
            )
        ),
        population_gained=other.population_covered - base.population_covered,
        settings_differ=differ,
    )
