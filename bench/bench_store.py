"""Time of the project store: a save after each edit, and reopening a project.

Run from the repository root::

    python bench/bench_store.py                          # SQLite, the Helsinki demo
    python bench/bench_store.py --start-server           # also a throw-away PostGIS server
    python bench/bench_store.py --db-url postgresql://... --stations 300 --edits 50

The app saves the session's workspace after every change (``save_project``: the state
document and the one new station set) and rebuilds every plan of a project when it is
opened (``open_project``: the current plan, the undo history, the scenarios). Here a
workspace on the demo city (plus ``--stations`` random stations) gets ``--edits`` station
additions, each saved; then the project is opened again. ``--start-server`` runs
PostgreSQL 15 + PostGIS from ``/usr/lib/postgresql/15/bin`` in a temporary folder (as the
tests do, ``tests/pg_server.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.app.edits import add_station  # noqa: E402
from planner.app.plan import build_plan  # noqa: E402
from planner.app.projects import demo_ref, new_project, open_project, save_project  # noqa: E402
from planner.app.store_sql import ProjectStore  # noqa: E402
from planner.app.study_area import StudyArea, demo_study_area  # noqa: E402
from planner.app.workspace import edit, start_workspace  # noqa: E402


def run(store: ProjectStore, area: StudyArea, *, stations: int, edits: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = area.bounds_wgs84
    extra = gpd.GeoDataFrame(
        {"id": [f"R{i}" for i in range(stations)]},
        geometry=shapely.points(
            rng.uniform(minx, maxx, stations), rng.uniform(miny, maxy, stations)
        ),
        crs="EPSG:4326",
    )
    table = pd.concat([area.stations, extra], ignore_index=True)
    ws = start_workspace(build_plan(area, table))
    link = new_project(store, ws, demo_ref(area), name="bench")
    saves = []
    for _ in range(edits):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        ws = edit(ws, add_station(ws.plan, lon, lat))
        t = time.perf_counter()
        link = save_project(store, link, ws)
        saves.append(time.perf_counter() - t)
    t = time.perf_counter()
    _, back = open_project(store, link.info.project_id, area_for=lambda _: area)
    opened = time.perf_counter() - t
    assert len(back.history) == len(ws.history)
    print(
        f"{store.dialect.name:10s} {len(ws.plan.stations):6d} stations  "
        f"save after one edit: median {statistics.median(saves) * 1000:7.1f} ms, "
        f"max {max(saves) * 1000:7.1f} ms   open ({len(ws.history)}-step history): "
        f"{opened:6.2f} s"
    )
    store.delete(link.info.project_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=0, help="random stations added")
    parser.add_argument("--edits", type=int, default=50, help="edits, each saved")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db-url", default="", help="also a PostgreSQL + PostGIS database")
    parser.add_argument("--start-server", action="store_true", help="start a throw-away one")
    args = parser.parse_args()
    area = demo_study_area()
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="planner-bench-"))
        stores = [ProjectStore.sqlite(Path(folder) / "projects.sqlite")]
        url = args.db_url
        if args.start_server and not url:
            sys.path.insert(0, str(ROOT / "tests"))
            from pg_server import postgres_server

            url = stack.enter_context(postgres_server())
        if url:
            stores.append(ProjectStore.postgres(url))
        for store in stores:
            run(store, area, stations=args.stations, edits=args.edits, seed=args.seed)


if __name__ == "__main__":
    main()
