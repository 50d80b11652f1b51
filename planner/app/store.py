"""Projects that persist: what a project holds and how a workspace becomes one and back.

A *project* is a study area reference (:class:`AreaRef`: the demo, an uploaded extract
kept in the store, or a place name) and the state of a :class:`Workspace` that matters
after a reload: the current plan, the undo history and the kept scenarios, each as its
stations and settings (:class:`ProjectState`). Plans are rebuilt from these on reopening;
proposed sites are not kept (run the siting again).

The store itself (embedded SQLite, or PostgreSQL with PostGIS given by ``PLANNER_DB_URL``)
is :class:`planner.app.store_sql.ProjectStore`; this module holds no database code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import weakref
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.app.plan import Plan, build_plan
from planner.app.station_rows import StationMemo
from planner.app.study_area import STATION_COLUMNS, StudyArea
from planner.app.workspace import MAX_UNDO, Workspace
from planner.config import AnalysisConfig
from planner.errors import StoreError
from planner.sources.coords import WGS84

AreaKind = Literal["demo", "extract", "place"]


@dataclass(frozen=True)
class AreaRef:
    """Where a project's study area comes from, enough to build it again.

    Attributes
    ----------
    kind
        ``"demo"`` (the bundled extract), ``"extract"`` (an uploaded file kept in the
        store) or ``"place"`` (a place name downloaded again with osmnx; needs the internet).
    label
        The area's name as shown to people.
    place
        The place name (``kind="place"``).
    extract_digest, extract_name
        SHA-256 and file name of the uploaded extract (``kind="extract"``).
    demand_digest, demand_name
        SHA-256 and file name of the uploaded homes table, if any.
    """

    kind: AreaKind
    label: str
    place: str = ""
    extract_digest: str = ""
    extract_name: str = ""
    demand_digest: str = ""
    demand_name: str = ""

    def to_json(self) -> str:
        """The reference as JSON text."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> AreaRef:
        """Read :meth:`to_json`'s text; :class:`StoreError` when it is not one."""
        try:
            doc = json.loads(text)
            kind = doc["kind"]
            if kind not in ("demo", "extract", "place"):
                raise ValueError(kind)
            fields = {k: str(v) for k, v in doc.items() if k in cls.__dataclass_fields__}
            fields.pop("kind")
            return cls(kind=kind, **fields)
        except (TypeError, ValueError, KeyError) as err:
            raise StoreError(key="err_store_corrupt", what="area", detail=str(err)) from err


@dataclass(frozen=True, eq=False)
class SavedPlan:
    """A plan as kept in the store: its stations and settings.

    Attributes
    ----------
    stations
        ``id``, ``name``, ``category`` and points in WGS84.
    config
        The plan's analysis settings.
    """

    stations: gpd.GeoDataFrame
    config: AnalysisConfig

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the stations (ids, names, categories, exact coordinates)."""
        return stations_digest(self.stations)


@dataclass(frozen=True, eq=False)
class ProjectState:
    """What a project keeps of a workspace.

    Attributes
    ----------
    current
        The plan being edited.
    history
        Earlier plans for undo, oldest first (at most ``MAX_UNDO``).
    scenarios
        Kept scenarios as ``(name, plan)``, in the order they were kept.
    stations_source
        Where the stations came from when loaded from a file (see :class:`Workspace`).
    """

    current: SavedPlan
    history: tuple[SavedPlan, ...] = ()
    scenarios: tuple[tuple[str, SavedPlan], ...] = ()
    stations_source: str | None = None


@dataclass(frozen=True)
class ProjectInfo:
    """One row of the project list.

    Attributes
    ----------
    project_id
        The project's id (a UUID as text).
    name
        Its name.
    area_label
        Its study area's name.
    version
        Counts the saves; an edit saved against an older version is refused.
    updated_utc
        When it was last saved (ISO 8601, UTC).
    """

    project_id: str
    name: str
    area_label: str
    version: int
    updated_utc: str


@dataclass(frozen=True, eq=False)
class StoredProject:
    """A project read from the store: its list row, area reference and state."""

    info: ProjectInfo
    area: AreaRef
    state: ProjectState


# ------------------------------------------------------------------ workspace <-> state


#: Plans are immutable: each one's saved form is made once (a memo, not a setting; it holds
#: a plan's entry only while the plan lives). The app saves after every change, and the
#: undo history holds up to ``MAX_UNDO`` plans of up to thousands of stations each.
_SAVED: weakref.WeakKeyDictionary[Plan, SavedPlan] = weakref.WeakKeyDictionary()


def saved_plan(plan: Plan) -> SavedPlan:
    """The stations and settings of a plan (made once per plan)."""
    try:
        return _SAVED[plan]
    except (KeyError, TypeError):  # TypeError: an object that takes no weak reference
        pass
    out = _saved_plan(plan)
    with contextlib.suppress(TypeError):
        _SAVED[plan] = out
    return out


def _saved_plan(plan: Plan) -> SavedPlan:
    table = plan.stations
    stations = gpd.GeoDataFrame(
        {c: table[c].astype(str).to_numpy() for c in STATION_COLUMNS},
        geometry=table.geometry.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )
    return SavedPlan(stations=stations, config=plan.config)


def state_from_workspace(ws: Workspace) -> ProjectState:
    """What a project keeps of a workspace (see :class:`ProjectState`)."""
    return ProjectState(
        current=saved_plan(ws.plan),
        history=tuple(saved_plan(p) for p in ws.history[-MAX_UNDO:]),
        scenarios=tuple((name, saved_plan(p)) for name, p in ws.scenarios),
        stations_source=ws.stations_source,
    )


def workspace_from_state(area: StudyArea, state: ProjectState) -> Workspace:
    """The workspace a project's state describes, its plans computed on ``area``.

    Plans with the same stations and settings are built once and shared, and a station
    in several plans (the undo history) is searched once.
    """
    built: dict[tuple[str, AnalysisConfig], Plan] = {}
    memo: StationMemo = {}

    def plan(saved: SavedPlan) -> Plan:
        key = (saved.digest, saved.config)
        if key not in built:
            built[key] = build_plan(area, saved.stations, config=saved.config, memo=memo)
        return built[key]

    return Workspace(
        plan=plan(state.current),
        history=tuple(plan(p) for p in state.history),
        scenarios=tuple((name, plan(p)) for name, p in state.scenarios),
        stations_source=state.stations_source,
    )


# ------------------------------------------------------------------ encoding


def stations_digest(stations: gpd.GeoDataFrame) -> str:
    """SHA-256 of a station table's ids, names, categories and exact coordinates."""
    props = stations_properties(stations)
    xy = shapely.get_coordinates(stations.geometry.to_numpy()).astype("<f8")
    h = hashlib.sha256(props.encode())
    h.update(xy.tobytes())
    return h.hexdigest()


def stations_properties(stations: gpd.GeoDataFrame) -> str:
    """The stations' ``id``, ``name`` and ``category`` as JSON text, in table order."""
    rows = [[str(v) for v in row] for row in stations[list(STATION_COLUMNS)].to_numpy()]
    return json.dumps(rows, ensure_ascii=False)


def stations_wkb(stations: gpd.GeoDataFrame) -> bytes:
    """The stations' points as one WKB MultiPoint (WGS84), in table order."""
    points = stations.geometry.to_numpy()
    return bytes(shapely.to_wkb(shapely.multipoints(points) if len(points) else _EMPTY))


_EMPTY = shapely.from_wkt("MULTIPOINT EMPTY")


def stations_from_stored(properties: str, wkb: bytes) -> gpd.GeoDataFrame:
    """Inverse of :func:`stations_properties` and :func:`stations_wkb`."""
    try:
        rows = json.loads(properties)
        geom = shapely.from_wkb(bytes(wkb))
        points = list(shapely.get_parts(geom)) if not geom.is_empty else []
        if len(points) != len(rows):
            msg = f"{len(rows)} station rows but {len(points)} points"
            raise ValueError(msg)
    except (TypeError, ValueError, shapely.errors.GEOSException) as err:
        raise StoreError(key="err_store_corrupt", what="stations", detail=str(err)) from err
    table = pd.DataFrame(rows, columns=list(STATION_COLUMNS), dtype=object)
    return gpd.GeoDataFrame(table, geometry=np.array(points, dtype=object), crs=WGS84)


def config_json(config: AnalysisConfig) -> dict[str, Any]:
    """An :class:`AnalysisConfig` as a JSON-ready mapping."""
    out = asdict(config)
    out["band_minutes"] = list(config.band_minutes)
    return out


def config_from_json(doc: dict[str, Any]) -> AnalysisConfig:
    """Inverse of :func:`config_json` (fields it does not know are ignored)."""
    known = AnalysisConfig.__dataclass_fields__
    values = {k: v for k, v in doc.items() if k in known}
    if "band_minutes" in values:
        values["band_minutes"] = tuple(float(v) for v in values["band_minutes"])
    try:
        return AnalysisConfig(**values)
    except (TypeError, ValueError) as err:
        raise StoreError(key="err_store_corrupt", what="settings", detail=str(err)) from err


def state_document(state: ProjectState) -> dict[str, Any]:
    """The state as a JSON-ready mapping that refers to station sets by digest."""

    def ref(p: SavedPlan) -> dict[str, Any]:
        return {"stations": p.digest, "config": config_json(p.config)}

    return {
        "format": 1,
        "current": ref(state.current),
        "history": [ref(p) for p in state.history],
        "scenarios": [{"name": n, **ref(p)} for n, p in state.scenarios],
        "stations_source": state.stations_source,
    }


def station_sets(state: ProjectState) -> dict[str, gpd.GeoDataFrame]:
    """Every distinct station table of a state, by digest."""
    plans = [state.current, *state.history, *(p for _, p in state.scenarios)]
    return {p.digest: p.stations for p in plans}


def state_from_document(doc: dict[str, Any], sets: dict[str, gpd.GeoDataFrame]) -> ProjectState:
    """Inverse of :func:`state_document`, given the station sets by digest."""

    def plan(ref: dict[str, Any]) -> SavedPlan:
        try:
            stations = sets[ref["stations"]]
        except KeyError as err:
            raise StoreError(
                key="err_store_corrupt", what="stations", detail=f"missing set {err}"
            ) from err
        return SavedPlan(stations=stations, config=config_from_json(ref["config"]))

    try:
        return ProjectState(
            current=plan(doc["current"]),
            history=tuple(plan(r) for r in doc.get("history", [])),
            scenarios=tuple((str(r["name"]), plan(r)) for r in doc.get("scenarios", [])),
            stations_source=doc.get("stations_source"),
        )
    except (KeyError, TypeError) as err:
        raise StoreError(key="err_store_corrupt", what="project", detail=str(err)) from err
