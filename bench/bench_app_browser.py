"""The app map in headless Chromium: bytes per edit over the websocket, redraw time, heap.

Run from the repository root (needs Debian chromium and Playwright, like the browser tests)::

    python bench/bench_app_browser.py                  # the demo app, 20 edits
    python bench/bench_app_browser.py --metro          # + the Porto metro layer swap

Demo app (``streamlit run app.py`` on a free port, every request off this machine
aborted): each edit is a click on the map in "add" mode. Per edit it reports the bytes
the browser received over Streamlit's websocket, the time from the click until the new
layers are on the map (st_folium's ``last_feature_group`` changed, then two animation
frames), and the page's JavaScript heap after forced garbage collection.

``--metro``: Porto metro (``../shared/data/osm/porto-metro-roads.osm.pbf``, 50,000 homes,
``--stations`` stations) has no app of its own here, so the browser side of an edit is
timed on a page holding the app's base map: the plan's layers are swapped as st_folium
swaps them (remove the old groups, ``eval`` the new ones), for a plan and the same plan
after one added station, alternately. This is the redraw without the Streamlit round trip;
the bytes are those of ``bench_app_map.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.browser import offline_page  # noqa: E402
from tests.test_app_browser import MAP_FRAME, streamlit_server  # noqa: E402

CHANGED = """(old) => new Promise(done => {
    const t0 = performance.now();
    (function wait() {
        if (window.__GLOBAL_DATA__ && window.__GLOBAL_DATA__.last_feature_group !== old) {
            requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
        } else { setTimeout(wait, 10); }
    })();
})"""


def _heap_mb(cdp: Any) -> float:
    for _ in range(3):
        cdp.send("HeapProfiler.collectGarbage")
    return float(cdp.send("Runtime.getHeapUsage")["usedSize"]) / 1e6


def demo(edits: int) -> None:
    with streamlit_server("bench-app-browser.log") as url, offline_page() as page:
        received: list[int] = []
        page.on(
            "websocket",
            lambda ws: ws.on("framereceived", lambda f: received.append(len(f))),
        )
        page.goto(url)
        page.wait_for_selector(MAP_FRAME, timeout=90_000)
        frame = next(f for f in page.frames if "st_folium" in f.url)
        frame.wait_for_function("() => window.plannerHomes && window.map", timeout=60_000)
        page.wait_for_timeout(1500)
        cdp = page.context.new_cdp_session(page)
        box = page.locator(MAP_FRAME).bounding_box()
        grid = [(0.3 + 0.4 * (i % 6) / 5, 0.3 + 0.4 * (i // 6) / 5) for i in range(36)]
        sizes, redraws, heaps = [], [], [_heap_mb(cdp)]
        for fx, fy in grid:
            if len(sizes) == edits:
                break
            old = frame.evaluate("() => window.__GLOBAL_DATA__.last_feature_group")
            received.clear()
            t0 = time.perf_counter()
            page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            try:
                frame.evaluate(CHANGED, old)
            except Exception:
                continue
            redraws.append(time.perf_counter() - t0)
            page.wait_for_timeout(800)  # the rest of the rerun's messages
            sizes.append(sum(received))
            heaps.append(_heap_mb(cdp))
        print(f"demo app, {len(sizes)} edits (clicks adding a station):")
        print(f"  websocket bytes per edit: median {statistics.median(sizes) / 1e3:.0f} kB")
        print(f"  click to layers redrawn: median {statistics.median(redraws) * 1000:.0f} ms")
        print(
            f"  heap: {heaps[0]:.1f} MB before, {heaps[1]:.1f} after 1 edit, "
            f"{heaps[-1]:.1f} after {len(sizes)}"
        )


def metro(stations: int, homes: int, swaps: int) -> None:
    from bench_app import PORTO, random_area, scattered
    from streamlit_folium import _get_feature_group_string, _get_layer_control_string

    from planner.app.edits import add_station
    from planner.app.plan import build_plan
    from planner.app.plan_map import base_map, layer_control, plan_layers
    from planner.walk.network_cache import network_from_file

    rng = np.random.default_rng(1)
    area = random_area("porto", network_from_file(PORTO), stations, homes, rng)
    plan = build_plan(area)
    p = scattered(area.network, 1, rng).iloc[0]
    edited = add_station(plan, float(p.x), float(p.y))
    html = base_map(area, bands=plan.config.bands, tiles=False).get_root().render()
    fmap = base_map(area, bands=plan.config.bands, tiles=False)  # st_folium adds to it
    strings = []
    for shown in (plan, edited):
        groups = plan_layers(shown).groups
        s = "".join(_get_feature_group_string(g, fmap, i) for i, g in enumerate(groups))
        strings.append(s + _get_layer_control_string(layer_control(), fmap))
    with tempfile.TemporaryDirectory() as tmp, offline_page() as page:
        path = Path(tmp) / "metro.html"
        path.write_text(html, "utf-8")
        page.on("pageerror", lambda err: print("page error:", err))
        page.goto(path.as_uri())
        name = page.evaluate("() => document.querySelector('.folium-map').id")
        page.evaluate(f"() => {{ window.map = window[{json.dumps(name)}]; }}")
        page.wait_for_function("() => window.plannerHomes", timeout=60_000)
        cdp = page.context.new_cdp_session(page)
        times = []
        heaps = [_heap_mb(cdp)]
        for i in range(swaps):
            times.append(page.evaluate(SWAP, strings[i % 2]))
            if i in (0, swaps - 1):
                heaps.append(_heap_mb(cdp))
        mb = [len(s.encode()) / 1e6 for s in strings]
        print(
            f"Porto metro, {homes:,} homes, {stations:,} stations, {len(plan.gaps):,} gap zones: "
            f"plan layers {mb[0]:.2f} / {mb[1]:.2f} MB"
        )
        print(f"  layer swap to drawn: median {statistics.median(times):.0f} ms over {swaps}")
        print(f"  heap: {heaps[1]:.1f} MB after 1 swap, {heaps[-1]:.1f} after {swaps}")


#: st_folium's swap (its finalizeOnRender): remove the listed groups and the control,
#: eval the new strings, then two animation frames for the canvas to draw.
SWAP = """(code) => new Promise(done => {
    const t0 = performance.now();
    const map_div = window.map;
    (window.feature_group || []).forEach(g => map_div.removeLayer(g));
    if (window.layer_control) { map_div.removeControl(window.layer_control); }
    eval(code);
    requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
})"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--metro", action="store_true")
    ap.add_argument("--stations", type=int, default=300)
    ap.add_argument("--homes", type=int, default=50_000)
    ap.add_argument("--swaps", type=int, default=20)
    args = ap.parse_args()
    if args.edits:
        demo(args.edits)
    if args.metro:
        metro(args.stations, args.homes, args.swaps)


if __name__ == "__main__":
    main()
