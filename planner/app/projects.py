"""A session's project: make one from a workspace, save its changes, open one again.

The glue between a :class:`~planner.app.workspace.Workspace`, the study area it is on
and the :class:`~planner.app.store_sql.ProjectStore`. A session holds a
:class:`ProjectLink` (which project, which version it last saved or read, and the saved
document, so an unchanged workspace is not saved again).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from planner.app.store import (
    AreaRef,
    ProjectInfo,
    state_document,
    state_from_workspace,
    workspace_from_state,
)
from planner.app.store_sql import ProjectStore
from planner.app.study_area import (
    StudyArea,
    demo_study_area,
    study_area_from_place,
)
from planner.app.uploads import area_from_upload, demand_from_upload
from planner.app.workspace import Workspace
from planner.texts import Language, text


@dataclass(frozen=True)
class ProjectLink:
    """A session's tie to its project in the store.

    Attributes
    ----------
    info
        The project's row as of the last save or reading (its ``version`` is the one the
        next save must find in the store).
    area
        The project's study area reference.
    document
        The state document last saved or read (JSON text), to skip saving no change.
    """

    info: ProjectInfo
    area: AreaRef
    document: str


def demo_ref(area: StudyArea) -> AreaRef:
    """The reference of the bundled demo area."""
    return AreaRef(kind="demo", label=area.name)


def place_ref(place: str, area: StudyArea) -> AreaRef:
    """The reference of a study area downloaded by place name."""
    return AreaRef(kind="place", label=area.name, place=place)


def upload_ref(
    store: ProjectStore,
    area: StudyArea,
    *,
    extract: tuple[str, bytes],
    demand: tuple[str, bytes] | None = None,
) -> AreaRef:
    """Keep an uploaded extract (and homes table) in the store; their reference."""
    extract_digest = store.put_file(*extract)
    demand_digest = store.put_file(*demand) if demand is not None else ""
    return AreaRef(
        kind="extract",
        label=area.name,
        extract_digest=extract_digest,
        extract_name=extract[0],
        demand_digest=demand_digest,
        demand_name=demand[0] if demand is not None else "",
    )


def area_from_ref(store: ProjectStore, ref: AreaRef) -> StudyArea:
    """Build a project's study area again (the place kind needs the internet)."""
    if ref.kind == "demo":
        return demo_study_area()
    if ref.kind == "place":
        return study_area_from_place(ref.place)
    name, data = store.file(ref.extract_digest)
    demand = None
    if ref.demand_digest:
        demand_name, demand_data = store.file(ref.demand_digest)
        demand = demand_from_upload(demand_name, demand_data).data
    return area_from_upload(name, data, demand=demand)


def document_of(ws: Workspace) -> str:
    """The state document of a workspace as JSON text (what a save would write)."""
    return json.dumps(state_document(state_from_workspace(ws)), ensure_ascii=False)


def default_name(area: AreaRef, language: Language, *, now: datetime | None = None) -> str:
    """A new project's name: its area and the time it was started (UTC)."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M")
    return text("project_default_name", language, area=area.label, date=when)


def new_project(store: ProjectStore, ws: Workspace, area: AreaRef, *, name: str) -> ProjectLink:
    """A new project in the store holding ``ws``."""
    state = state_from_workspace(ws)
    info = store.create(name, area, state)
    return ProjectLink(info=info, area=area, document=document_of(ws))


def save_project(store: ProjectStore, link: ProjectLink, ws: Workspace) -> ProjectLink:
    """Save ``ws`` into the linked project when it changed; the link after the save.

    Raises :class:`~planner.errors.ProjectConflictError` when another session saved the
    project since this link's version (nothing is written).
    """
    doc = document_of(ws)
    if doc == link.document:
        return link
    info = store.save(
        link.info.project_id, state_from_workspace(ws), expected_version=link.info.version
    )
    return ProjectLink(info=info, area=link.area, document=doc)


def open_project(
    store: ProjectStore,
    project_id: str,
    *,
    area_for: Callable[[AreaRef], StudyArea] | None = None,
) -> tuple[ProjectLink, Workspace]:
    """A project from the store and its workspace, plans computed again.

    ``area_for`` builds (or finds in a cache) the study area of a reference;
    :func:`area_from_ref` when None.
    """
    stored = store.load(project_id)
    area = (area_for or (lambda ref: area_from_ref(store, ref)))(stored.area)
    ws = workspace_from_state(area, stored.state)
    return ProjectLink(info=stored.info, area=stored.area, document=document_of(ws)), ws
