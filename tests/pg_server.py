"""A throw-away PostgreSQL 15 + PostGIS server for the tests, from the Debian binaries.

``initdb`` in a temporary folder, ``pg_ctl start`` on 127.0.0.1 and a free port (trust
authentication, loopback only), a fresh database with ``CREATE EXTENSION postgis``, and
``pg_ctl stop`` at the end. PostgreSQL refuses to run as root: as root the folder is given
to the ``postgres`` user and the binaries run through ``runuser -u postgres --``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _pg_version() -> str:
    """The newest installed PostgreSQL major version with PostGIS (Debian's layout), or 15."""
    versions = sorted(
        (p.name for p in Path("/usr/lib/postgresql").glob("*") if p.name.isdigit()),
        key=int,
        reverse=True,
    )
    with_postgis = [
        v for v in versions if Path(f"/usr/share/postgresql/{v}/extension/postgis.control").exists()
    ]
    return (with_postgis or versions or ["15"])[0]


PG_VERSION = _pg_version()
PG_BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
POSTGIS_CONTROL = Path(f"/usr/share/postgresql/{PG_VERSION}/extension/postgis.control")
INSTALL_HINT = f"apt-get install postgresql postgresql-{PG_VERSION}-postgis-3 (see .ci/run)"


def require_postgis() -> None:
    """Skip (fail on CI) when PostgreSQL or PostGIS is not installed."""
    reason = None
    if not (PG_BIN / "initdb").exists():
        reason = f"PostgreSQL binaries missing in {PG_BIN}: {INSTALL_HINT}"
    elif not POSTGIS_CONTROL.exists():
        reason = f"PostGIS for PostgreSQL {PG_VERSION} missing ({POSTGIS_CONTROL}): {INSTALL_HINT}"
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must have PostgreSQL and PostGIS: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server with a database ``planner_test`` (PostGIS on); yields its URL."""
    require_postgis()
    root = Path(tempfile.mkdtemp(prefix="planner-pg-"))
    data, log = root / "data", root / "server.log"
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        done = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"{args[0]} failed: {done.stdout}{done.stderr}")

    started = False
    try:
        run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "planner", "--auth=trust",
            "-E", "UTF8", "--no-locale")  # fmt: skip
        run(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
            "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start",
        )  # fmt: skip
        started = True
        import psycopg

        admin = f"postgresql://planner@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE planner_test")
        url = f"postgresql://planner@127.0.0.1:{port}/planner_test"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield url
    finally:
        if started:
            run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
