"""What one edit sends to the browser: the app map's payload, layer by layer, at metro scale.

Run from the repository root::

    python bench/bench_app_map.py                        # Porto metro, 50,000 homes
    python bench/bench_app_map.py --homes 20000 --stations 300
    python bench/bench_app_map.py --demo                 # the Helsinki demo

The app draws its map with ``streamlit_folium.st_folium``: the base map (background,
streets, legend) as the component's ``script`` and the plan's layers (walk-time bands,
gap zones, homes, stations) as ``feature_group_to_add``. Streamlit re-sends the
component's arguments whenever one of them changes, so an edit costs the size of the
arguments. This prints the size of each part as st_folium builds it (its own string
builders), for a plan and for the same plan after one added station, and how long the
Python side takes to build them. Homes and stations are scattered as in ``bench_app.py``.
The browser side (bytes over the websocket, redraw time, heap) is measured by
``bench/bench_app_browser.py``; figures of both are in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_app import PORTO, random_area, scattered  # noqa: E402
from streamlit_folium import (  # noqa: E402
    _get_feature_group_string,
    _get_layer_control_string,
    _get_map_string,
)

from planner.app.edits import add_station  # noqa: E402
from planner.app.plan import Plan, build_plan  # noqa: E402
from planner.app.plan_map import base_map, layer_control, plan_layers  # noqa: E402
from planner.app.study_area import StudyArea, demo_study_area  # noqa: E402
from planner.walk.network_cache import network_from_file  # noqa: E402

LAYER_NAMES = ("bands", "gap zones", "homes", "stations", "sites")


def payload(plan: Plan) -> tuple[int, list[int], float]:
    """Bytes of the base script, bytes of each plan layer, seconds to build them."""
    t0 = time.perf_counter()
    fmap = base_map(  # as the app draws it: streets and homes fetched from files
        plan.area,
        bands=plan.config.bands,
        streets_url="/app/static/areas/streets.geojson",
        homes_url="/app/static/areas/homes.geojson",
    )
    base = len(_get_map_string(fmap).encode())
    layers = plan_layers(plan)
    sizes = [
        len(_get_feature_group_string(g, fmap, idx).encode()) for idx, g in enumerate(layers.groups)
    ]
    sizes.append(len(_get_layer_control_string(layer_control(), fmap).encode()))
    return base, sizes, time.perf_counter() - t0


def report(label: str, plan: Plan) -> None:
    base, sizes, dt = payload(plan)
    names = [*LAYER_NAMES[: len(sizes) - 1], "layer control"]
    total = base + sum(sizes)
    print(f"  {label}: {total / 1e6:.2f} MB in all, built in {dt:.2f} s")
    print(f"    {'base map (script)':<22} {base / 1e6:8.3f} MB")
    for name, size in zip(names, sizes, strict=True):
        print(f"    {name:<22} {size / 1e6:8.3f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", action="store_true", help="the Helsinki demo instead of Porto")
    ap.add_argument("--homes", type=int, default=50_000)
    ap.add_argument("--stations", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    area: StudyArea
    if args.demo:
        area = demo_study_area()
    else:
        if not PORTO.exists():
            sys.exit(f"{PORTO} is absent")
        t0 = time.perf_counter()
        net = network_from_file(PORTO)
        area = random_area("porto", net, args.stations, args.homes, rng)
        print(f"study area built in {time.perf_counter() - t0:.1f} s")
    plan = build_plan(area)
    print(
        f"{area.name}: {area.network.n_nodes:,} nodes, {len(area.network.edges):,} segments, "
        f"{len(area.demand):,} homes, {len(plan.stations):,} stations, "
        f"{len(plan.gaps):,} gap zones"
    )
    report("before the edit", plan)
    p = scattered(area.network, 1, rng).iloc[0]
    edited = add_station(plan, float(p.x), float(p.y))
    report("after one added station", edited)


if __name__ == "__main__":
    main()
