"""The project store: embedded SQLite by default, PostgreSQL with PostGIS by URL.

One class, :class:`ProjectStore`, over two databases that hold the same tables:

``planner_projects``
    One row per project: id, name, study area reference (JSON), ``version``, time of the
    last save, and the state document (JSON: current plan, undo history, scenarios, each
    as a station-set digest and its settings).
``planner_station_sets``
    The station tables the states refer to, once per project and digest: ``id``, ``name``,
    ``category`` as JSON and the points as one MultiPoint in WGS84 (a PostGIS
    ``geometry(MultiPoint, 4326)`` on the server, WKB in SQLite). An edit adds one set.
``planner_files``
    Uploaded extracts and homes tables that study areas are built from, by SHA-256.

Saves are optimistic: :meth:`ProjectStore.save` names the version it started from and is
refused with :class:`~planner.errors.ProjectConflictError` when another session saved in
between, so no edit is ever overwritten silently.

:func:`store_from_env` picks the database: ``PLANNER_DB_URL`` (a PostgreSQL URL) when set,
else the SQLite file ``PLANNER_STORE`` or ``projects.sqlite`` in the user's data folder.
Every call opens its own connection, so one store serves every session's thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd

from planner.app.store import (
    AreaRef,
    ProjectInfo,
    ProjectState,
    StoredProject,
    state_document,
    state_from_document,
    station_sets,
    stations_from_stored,
    stations_properties,
    stations_wkb,
)
from planner.errors import ProjectConflictError, ProjectNotFoundError, StoreError

#: Environment variable with a PostgreSQL URL (``postgresql://user:pw@host:5432/db``).
DB_URL_ENV = "PLANNER_DB_URL"
#: Environment variable with the path of the embedded store's SQLite file.
STORE_PATH_ENV = "PLANNER_STORE"
#: File name of the embedded store in the user's data folder.
STORE_FILE = "projects.sqlite"
SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class Dialect:
    """How the two databases differ in the few places that matter."""

    name: str
    param: str
    blob: str
    geometry: str
    geometry_in: str
    geometry_out: str


SQLITE = Dialect("sqlite", "?", "BLOB", "BLOB", "?", "points")
POSTGIS = Dialect(
    "postgresql",
    "%s",
    "BYTEA",
    "geometry(MultiPoint, 4326)",
    "ST_GeomFromWKB(?, 4326)",
    "ST_AsBinary(points)",
)


class Cursor:
    """A database cursor that takes ``?`` placeholders in either dialect."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self._cur = cursor
        self._dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement."""
        if self._dialect.param != "?":
            sql = sql.replace("?", self._dialect.param)
        self._cur.execute(sql, tuple(params))
        return self

    def one(self) -> tuple[Any, ...] | None:
        """The next row, or None."""
        row = self._cur.fetchone()
        return None if row is None else tuple(row)

    def all(self) -> list[tuple[Any, ...]]:
        """The remaining rows."""
        return [tuple(r) for r in self._cur.fetchall()]

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return int(self._cur.rowcount)


class ProjectStore:
    """Projects kept in SQLite (:meth:`sqlite`) or PostgreSQL + PostGIS (:meth:`postgres`).

    Attributes
    ----------
    dialect
        :data:`SQLITE` or :data:`POSTGIS`.
    location
        The SQLite file, or the server URL without its password (for messages).
    """

    def __init__(self, target: str, dialect: Dialect, location: str) -> None:
        self._target = target
        self.dialect = dialect
        self.location = location
        self._create_tables()

    # -------------------------------------------------------------- opening

    @classmethod
    def sqlite(cls, path: str | Path) -> ProjectStore:
        """The embedded store in a SQLite file (made, with its folder, when missing)."""
        p = Path(path).expanduser()
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(key="err_store_open", where=str(p), detail=str(err)) from err
        return cls(str(p), SQLITE, str(p))

    @classmethod
    def postgres(cls, url: str) -> ProjectStore:
        """The store in a PostgreSQL database with PostGIS (``postgresql://...``)."""
        return cls(url, POSTGIS, redact_url(url))

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        """One connection and transaction: committed on success, rolled back on error."""
        try:
            if self.dialect is SQLITE:
                conn: Any = sqlite3.connect(self._target, timeout=30, isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")
            else:
                import psycopg

                conn = psycopg.connect(self._target, connect_timeout=10)
        except Exception as err:  # sqlite3.Error, psycopg.Error: both name the cause
            raise StoreError(key="err_store_open", where=self.location, detail=str(err)) from err
        try:
            yield Cursor(conn.cursor(), self.dialect)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def _create_tables(self) -> None:
        d = self.dialect
        statements = [
            "CREATE TABLE IF NOT EXISTS planner_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS planner_projects (project_id TEXT PRIMARY KEY, "
            "name TEXT NOT NULL, area TEXT NOT NULL, version INTEGER NOT NULL, "
            "updated_utc TEXT NOT NULL, state TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS planner_station_sets (project_id TEXT NOT NULL, "
            f"digest TEXT NOT NULL, properties TEXT NOT NULL, points {d.geometry} NOT NULL, "
            "PRIMARY KEY (project_id, digest))",
            "CREATE TABLE IF NOT EXISTS planner_files (digest TEXT PRIMARY KEY, "
            f"name TEXT NOT NULL, data {d.blob} NOT NULL)",
        ]
        try:
            with self._transaction() as cur:
                if d is POSTGIS:
                    cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                for sql in statements:
                    cur.execute(sql)
                cur.execute(
                    "INSERT INTO planner_meta (key, value) VALUES ('schema', ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    (SCHEMA_VERSION,),
                )
                row = cur.execute("SELECT value FROM planner_meta WHERE key = 'schema'").one()
        except StoreError:
            raise
        except Exception as err:  # e.g. no PostGIS on the server, no right to create tables
            raise StoreError(key="err_store_open", where=self.location, detail=str(err)) from err
        if row is None or row[0] != SCHEMA_VERSION:
            detail = f"schema {row[0] if row else None}, expected {SCHEMA_VERSION}"
            raise StoreError(key="err_store_open", where=self.location, detail=detail)

    # -------------------------------------------------------------- projects

    def create(self, name: str, area: AreaRef, state: ProjectState) -> ProjectInfo:
        """A new project (version 1) holding ``state`` on ``area``."""
        pid = str(uuid.uuid4())
        now = _now()
        doc = json.dumps(state_document(state), ensure_ascii=False)
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO planner_projects (project_id, name, area, version, updated_utc, "
                "state) VALUES (?, ?, ?, 1, ?, ?)",
                (pid, name, area.to_json(), now, doc),
            )
            self._write_sets(cur, pid, state)
        return ProjectInfo(pid, name, area.label, 1, now)

    def save(self, project_id: str, state: ProjectState, *, expected_version: int) -> ProjectInfo:
        """Save a project's new state over ``expected_version``; returns its new row.

        Raises
        ------
        ProjectConflictError
            Another session saved the project since ``expected_version``: nothing is
            written; reload it and edit again.
        ProjectNotFoundError
            The project is no longer in the store.
        """
        now = _now()
        doc = json.dumps(state_document(state), ensure_ascii=False)
        with self._transaction() as cur:
            cur.execute(
                "UPDATE planner_projects SET state = ?, version = version + 1, updated_utc = ? "
                "WHERE project_id = ? AND version = ?",
                (doc, now, project_id, expected_version),
            )
            if cur.rowcount != 1:
                row = cur.execute(
                    "SELECT version FROM planner_projects WHERE project_id = ?", (project_id,)
                ).one()
                if row is None:
                    raise ProjectNotFoundError(key="err_project_missing", project=project_id)
                raise ProjectConflictError(
                    key="err_project_conflict", stored_version=int(row[0]), yours=expected_version
                )
            self._write_sets(cur, project_id, state)
            row = cur.execute(
                "SELECT name, area FROM planner_projects WHERE project_id = ?", (project_id,)
            ).one()
        assert row is not None  # the update above found it, in this transaction
        return ProjectInfo(
            project_id, str(row[0]), AreaRef.from_json(row[1]).label, expected_version + 1, now
        )

    def _write_sets(self, cur: Cursor, project_id: str, state: ProjectState) -> None:
        """Add the state's new station sets and drop the ones it no longer refers to."""
        sets = station_sets(state)
        have = {
            r[0]
            for r in cur.execute(
                "SELECT digest FROM planner_station_sets WHERE project_id = ?", (project_id,)
            ).all()
        }
        for digest, table in sets.items():
            if digest not in have:
                cur.execute(
                    "INSERT INTO planner_station_sets (project_id, digest, properties, points) "
                    f"VALUES (?, ?, ?, {self.dialect.geometry_in})",
                    (project_id, digest, stations_properties(table), stations_wkb(table)),
                )
        for digest in have - set(sets):
            cur.execute(
                "DELETE FROM planner_station_sets WHERE project_id = ? AND digest = ?",
                (project_id, digest),
            )

    def load(self, project_id: str) -> StoredProject:
        """A project's row, study area reference and state."""
        with self._transaction() as cur:
            row = cur.execute(
                "SELECT name, area, version, updated_utc, state FROM planner_projects "
                "WHERE project_id = ?",
                (project_id,),
            ).one()
            if row is None:
                raise ProjectNotFoundError(key="err_project_missing", project=project_id)
            sets = cur.execute(
                f"SELECT digest, properties, {self.dialect.geometry_out} "
                "FROM planner_station_sets WHERE project_id = ?",
                (project_id,),
            ).all()
        tables: dict[str, gpd.GeoDataFrame] = {
            str(d): stations_from_stored(p, w) for d, p, w in sets
        }
        try:
            doc = json.loads(row[4])
        except ValueError as err:
            raise StoreError(key="err_store_corrupt", what="project", detail=str(err)) from err
        area = AreaRef.from_json(row[1])
        info = ProjectInfo(project_id, str(row[0]), area.label, int(row[2]), str(row[3]))
        return StoredProject(info=info, area=area, state=state_from_document(doc, tables))

    def list_projects(self) -> list[ProjectInfo]:
        """Every project, the last saved first."""
        with self._transaction() as cur:
            rows = cur.execute(
                "SELECT project_id, name, area, version, updated_utc FROM planner_projects "
                "ORDER BY updated_utc DESC, name"
            ).all()
        return [
            ProjectInfo(str(p), str(n), AreaRef.from_json(a).label, int(v), str(u))
            for p, n, a, v, u in rows
        ]

    def version(self, project_id: str) -> int:
        """The version of a project in the store now."""
        with self._transaction() as cur:
            row = cur.execute(
                "SELECT version FROM planner_projects WHERE project_id = ?", (project_id,)
            ).one()
        if row is None:
            raise ProjectNotFoundError(key="err_project_missing", project=project_id)
        return int(row[0])

    def rename(self, project_id: str, name: str) -> None:
        """Give a project another name (its version does not change)."""
        with self._transaction() as cur:
            cur.execute(
                "UPDATE planner_projects SET name = ? WHERE project_id = ?", (name, project_id)
            )
            if cur.rowcount != 1:
                raise ProjectNotFoundError(key="err_project_missing", project=project_id)

    def delete(self, project_id: str) -> None:
        """Remove a project and its station sets (its uploaded files stay, shared)."""
        with self._transaction() as cur:
            cur.execute("DELETE FROM planner_station_sets WHERE project_id = ?", (project_id,))
            cur.execute("DELETE FROM planner_projects WHERE project_id = ?", (project_id,))

    # -------------------------------------------------------------- files

    def put_file(self, name: str, data: bytes) -> str:
        """Keep an uploaded file (once per content); returns its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO planner_files (digest, name, data) VALUES (?, ?, ?) "
                "ON CONFLICT (digest) DO NOTHING",
                (digest, name, data),
            )
        return digest

    def file(self, digest: str) -> tuple[str, bytes]:
        """A kept file's name and content."""
        with self._transaction() as cur:
            row = cur.execute(
                "SELECT name, data FROM planner_files WHERE digest = ?", (digest,)
            ).one()
        if row is None:
            raise StoreError(key="err_store_corrupt", what="file", detail=digest)
        return str(row[0]), bytes(row[1])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def redact_url(url: str) -> str:
    """A database URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def default_store_path() -> Path:
    """``projects.sqlite`` in the user's data folder (``~/.local/share/...`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("service-circle-planner")) / STORE_FILE


def store_from_env(environ: Mapping[str, str] | None = None) -> ProjectStore:
    """The store the environment names: ``PLANNER_DB_URL``, else ``PLANNER_STORE``'s file."""
    env = os.environ if environ is None else environ
    url = env.get(DB_URL_ENV, "").strip()
    if url:
        return ProjectStore.postgres(url)
    path = env.get(STORE_PATH_ENV, "").strip()
    return ProjectStore.sqlite(path or default_store_path())
