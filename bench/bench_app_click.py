"""A click on the map at metro scale, through the whole app, in headless Chromium.

Run from the repository root (needs Debian chromium, Playwright and the Porto extract)::

    python bench/bench_app_click.py                    # 50,000 homes, 300 stations, 15 clicks
    python bench/bench_app_click.py --cache-dir /tmp/planner-cache   # keep the built network

Starts the real app (``streamlit run app.py`` on a free local port, every request off this
machine aborted) and does what a planner does: on the Study area page uploads the Porto
metro extract (``../shared/data/osm/porto-metro-roads.osm.pbf``) and a table of random
homes, builds the area, goes to the Stations page, loads a table of random stations, then
clicks the map in "add" mode ``--clicks`` times, each at a random home in view (so each
new station serves people and changes gap zones). Per click, from the mouse press: the
time until the new layers are drawn (st_folium's ``last_feature_group`` changed, then two
animation frames; the same signal as ``bench_app_browser.py``), until the rerun's first,
largest (the map's layers) and last websocket messages were handled by the page, until the
page is idle (no script running); the bytes received over the websocket; the tab's
JavaScript heap after forced garbage collection. Then frames per second while the map is
dragged with the mouse and zoomed with the wheel, counted with ``requestAnimationFrame``
inside the map's frame. Screenshots go to ``test-artifacts/bench-app-click*.png``.

``--profile FILE`` records the server with py-spy (``pip install py-spy``; raw collapsed
stacks) while the clicks run; ``--browser-profile FILE`` the tab's CPU profile over three
clicks; ``--trace FILE`` a Chromium trace of two clicks (both open in DevTools).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.browser import artifacts, offline_page  # noqa: E402
from tests.test_app_browser import MAP_FRAME, streamlit_server  # noqa: E402

#: In every frame: the time (ms since the epoch, one clock for the page and the map's
#: frame) of the last mouse press, and of each websocket message received, with its size.
CLOCK = """(() => {
    const now = () => performance.timeOrigin + performance.now();
    window.__received = [];
    addEventListener("mousedown", () => { window.__pressed = now(); }, true);
    const Native = window.WebSocket;
    if (!Native) { return; }
    class Timed extends Native {
        constructor(...args) {
            super(...args);
            this.addEventListener("message", (e) => {
                const d = e.data;
                window.__received.push([now(), d.byteLength ?? d.size ?? d.length]);
            });
        }
    }
    window.WebSocket = Timed;
})();"""

#: The new layers are drawn: st_folium's last feature group changed, then two frames.
#: Resolves with the time drawn (ms since the epoch).
CHANGED = """([old, limit]) => new Promise((done, fail) => {
    const t0 = performance.now();
    (function wait() {
        if (window.__GLOBAL_DATA__ && window.__GLOBAL_DATA__.last_feature_group !== old) {
            requestAnimationFrame(() => requestAnimationFrame(
                () => done(performance.timeOrigin + performance.now())));
        } else if (performance.now() - t0 > limit) { fail(new Error("no redraw")); }
        else { setTimeout(wait, 5); }
    })();
})"""

#: Frame times while ``ms`` milliseconds pass: counted with requestAnimationFrame.
FRAMES = """(ms) => new Promise(done => {
    const times = [];
    const t0 = performance.now();
    function tick(now) {
        times.push(now);
        if (now - t0 < ms) { requestAnimationFrame(tick); } else { done(times); }
    }
    requestAnimationFrame(tick);
})"""


def log(message: str) -> None:
    """A step of the run, with the time, as it happens."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _heap_mb(cdp: Any) -> float:
    for _ in range(3):
        cdp.send("HeapProfiler.collectGarbage")
    return float(cdp.send("Runtime.getHeapUsage")["usedSize"]) / 1e6


def write_inputs(folder: Path, *, homes: int, stations: int) -> tuple[Path, Path]:
    """Random homes and stations near Porto's streets, as CSV tables a planner uploads."""
    from bench_app import PORTO, scattered

    from planner.walk.network_cache import network_from_file

    rng = np.random.default_rng(1)
    net = network_from_file(PORTO)
    out = []
    for name, n, kind in (("homes", homes, "H"), ("stations", stations, "S")):
        pts = scattered(net, n, rng)
        table = pd.DataFrame(
            {"id": [f"{kind}{i}" for i in range(n)], "lon": pts.x.round(6), "lat": pts.y.round(6)}
        )
        if kind == "H":
            table["population"] = rng.integers(1, 200, n)
        else:
            table.insert(1, "name", [f"Station {i}" for i in range(n)])
        path = folder / f"porto-{name}-{n}.csv"
        table.to_csv(path, index=False)
        out.append(path)
    return out[0], out[1]


def _idle(page: Any, timeout_ms: float = 120_000) -> float:
    """Seconds until Streamlit shows no running script (its status widget gone)."""
    t0 = time.perf_counter()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )
    return time.perf_counter() - t0


def _map_frame(page: Any) -> Any:
    page.wait_for_selector(MAP_FRAME, timeout=120_000)
    frame = next(f for f in page.frames if "st_folium" in f.url)
    frame.wait_for_function("() => window.map && window.plannerHomes", timeout=120_000)
    return frame


def _uploaded(page: Any, key: str, *, timeout: float) -> None:
    """Wait until the uploader ``key`` lists its file.

    Not by the file's name: Streamlit shortens a long name in the middle
    ("porto-m...ds.osm.pbf"), so waiting for the whole name never ends.
    """
    page.locator(f'.st-key-{key} [data-testid="stFileChipName"]').wait_for(timeout=timeout)


def build_area(page: Any, url: str, extract: Path, homes: Path) -> float:
    """Upload the extract and the homes on the Study area page and build: seconds."""
    page.goto(f"{url}/study_area")
    page.wait_for_selector(".st-key-area_source", timeout=120_000)
    _idle(page)
    log("study area page open")
    page.locator(".st-key-area_source label", has_text="Upload an OSM extract").click()
    page.wait_for_selector(
        ".st-key-extract_upload input[type=file]", state="attached", timeout=60_000
    )
    _idle(page)
    page.locator(".st-key-extract_upload input[type=file]").set_input_files(str(extract))
    _uploaded(page, "extract_upload", timeout=120_000)
    _idle(page)
    log(f"extract uploaded ({extract.stat().st_size / 1e6:.1f} MB)")
    page.locator(".st-key-demand_upload input[type=file]").set_input_files(str(homes))
    _uploaded(page, "demand_upload", timeout=120_000)
    _idle(page)
    log(f"homes uploaded ({homes.stat().st_size / 1e6:.1f} MB)")
    t0 = time.perf_counter()
    page.locator(".st-key-build_area button").click()
    page.get_by_text("Study area loaded").wait_for(timeout=600_000)
    _idle(page, 600_000)
    return time.perf_counter() - t0


def load_stations(page: Any, stations: Path) -> float:
    """Open the Stations page from the sidebar and load the stations table: seconds."""
    page.locator('[data-testid="stSidebarNav"] a[href$="/stations"]').click()
    _map_frame(page)
    _idle(page)
    log("stations page open")
    page.get_by_text("Load stations from a file").click()
    page.locator(".st-key-stations_upload input[type=file]").set_input_files(str(stations))
    _uploaded(page, "stations_upload", timeout=60_000)
    _idle(page)
    t0 = time.perf_counter()
    page.locator(".st-key-load_stations button").click()
    page.get_by_text("stations loaded").wait_for(timeout=300_000)
    _idle(page, 300_000)
    return time.perf_counter() - t0


def fps(page: Any, frame: Any, *, action: str, seconds: float = 3.0) -> tuple[float, float]:
    """Frames per second and the longest frame (ms) inside the map while it pans or zooms."""
    box = page.locator(MAP_FRAME).bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    handle = frame.evaluate_handle(FRAMES, seconds * 1000)
    t0 = time.perf_counter()
    if action == "pan":
        page.mouse.move(cx, cy)
        page.mouse.down()
        step = 0
        while time.perf_counter() - t0 < seconds - 0.2:
            dx = 150 * np.sin(step / 10)
            page.mouse.move(cx + dx, cy + dx / 2)
            step += 1
            time.sleep(0.016)
        page.mouse.up()
    else:
        page.mouse.move(cx, cy)
        while time.perf_counter() - t0 < seconds - 0.5:
            page.mouse.wheel(0, -240)
            time.sleep(0.35)
            page.mouse.wheel(0, 240)
            time.sleep(0.35)
    times = np.diff(np.asarray(handle.json_value()))
    return 1000.0 / float(times.mean()), float(times.max())


def _server_pid() -> int:
    """The process id of the ``streamlit run`` this script started."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        if "streamlit" in " ".join(child.cmdline()):
            return int(child.pid)
    raise RuntimeError("no streamlit process found")


def click_once(page: Any, frame: Any, x: float, y: float) -> dict[str, float] | None:
    """Click at ``(x, y)`` in "add" mode; the times of one edit (ms from the press) or None.

    ``drawn``: the new layers drawn; ``first``/``layers``/``last``: the first, the largest
    (the map's component arguments) and the last websocket message of the rerun received;
    ``idle``: no script running; ``mb``: megabytes received.
    """
    old = frame.evaluate("() => window.__GLOBAL_DATA__.last_feature_group")
    shown = page.locator('[data-testid="stMetricValue"]').nth(2).inner_text()
    page.evaluate("() => { window.__received.length = 0; }")
    t0 = time.perf_counter()
    page.mouse.click(x, y)
    try:
        done = frame.evaluate(CHANGED, [old, 4_000])
    except Exception:  # e.g. a click on a station: no edit
        return None
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-testid=stMetricValue]')[2].innerText !== n",
        arg=shown,
        timeout=60_000,
    )
    _idle(page)
    idle = (time.perf_counter() - t0) * 1000
    page.wait_for_timeout(300)  # any message still on its way
    pressed = frame.evaluate("() => window.__pressed")
    got = page.evaluate("() => window.__received")
    big = max(got, key=lambda m: m[1])
    return {
        "drawn": done - pressed,
        "first": got[0][0] - pressed,
        "layers": big[0] - pressed,
        "last": got[-1][0] - pressed,
        "idle": idle,
        "mb": sum(m[1] for m in got) / 1e6,
    }


def browser_profile(page: Any, frame: Any, box: dict[str, float], out: Path) -> None:
    """The tab's CPU profile over three clicks (JSON, for DevTools) and its summary."""
    import json

    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    cdp.send("Profiler.start")
    for fx, fy in ((0.33, 0.41), (0.61, 0.52), (0.45, 0.67)):
        click_once(page, frame, box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    profile = cdp.send("Profiler.stop")["profile"]
    out.write_text(json.dumps(profile))
    nodes = {n["id"]: n for n in profile["nodes"]}
    dt = dict.fromkeys(nodes, 0.0)
    for node, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        dt[node] += delta / 1000
    by: dict[str, float] = {}
    for i, ms in dt.items():
        f = nodes[i]["callFrame"]
        where = (
            f"{f['functionName'] or '(anonymous)'} {f['url'].rsplit('/', 1)[-1]}:{f['lineNumber']}"
        )
        by[where] = by.get(where, 0.0) + ms
    log("browser self time over 3 clicks, ms:")
    for where, ms in sorted(by.items(), key=lambda kv: -kv[1])[:30]:
        log(f"  {ms:8.1f}  {where[:140]}")


def browser_trace(page: Any, frame: Any, box: dict[str, float], out: Path) -> None:
    """A Chromium trace of two clicks (for DevTools) and the main thread's time by task."""
    import json

    browser = page.context.browser
    browser.start_tracing(
        page=page,
        categories=["devtools.timeline", "v8", "blink", "disabled-by-default-devtools.timeline"],
    )
    for fx, fy in ((0.37, 0.44), (0.58, 0.61)):
        click_once(page, frame, box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    out.write_bytes(browser.stop_tracing())
    events = json.loads(out.read_text())
    events = events["traceEvents"] if isinstance(events, dict) else events
    names = {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    main = {k for k, v in names.items() if v == "CrRendererMain"}
    by: dict[str, float] = {}
    for e in events:
        if (e.get("pid"), e.get("tid")) in main and e.get("ph") == "X" and "dur" in e:
            by[e["name"]] = by.get(e["name"], 0.0) + e["dur"] / 1000
    log("renderer main threads, inclusive ms over 2 clicks (events nest):")
    for name, ms in sorted(by.items(), key=lambda kv: -kv[1])[:30]:
        log(f"  {ms:8.1f}  {name}")


def main() -> None:
    from bench_app import PORTO

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--homes", type=int, default=50_000)
    ap.add_argument("--stations", type=int, default=300)
    ap.add_argument("--clicks", type=int, default=15)
    ap.add_argument("--cache-dir", type=Path, default=None, help="built networks (default: new)")
    ap.add_argument("--profile", type=Path, default=None, help="py-spy the server's clicks")
    ap.add_argument("--trace", type=Path, default=None, help="a Chromium trace of 2 clicks")
    ap.add_argument(
        "--browser-profile", type=Path, default=None, help="the tab's CPU profile of 3 clicks"
    )
    args = ap.parse_args()
    if not PORTO.exists():
        sys.exit(f"{PORTO} not found")
    work = Path(tempfile.mkdtemp(prefix="bench-app-click-"))
    cache = args.cache_dir or work / "cache"
    os.environ["PLANNER_CACHE_DIR"] = str(cache)
    homes, stations = write_inputs(work, homes=args.homes, stations=args.stations)
    log(f"inputs written to {work}; load average {os.getloadavg()}")
    with (
        streamlit_server("bench-app-click.log", env={"PLANNER_CACHE_DIR": str(cache)}) as url,
        offline_page(viewport=(1400, 1400)) as page,
    ):
        page.context.add_init_script(CLOCK)
        page.on("pageerror", lambda err: log(f"page error: {err}"))
        built = build_area(page, url, PORTO, homes)
        log(f"study area built in {built:.1f} s; load average {os.getloadavg()}")
        loaded = load_stations(page, stations)
        log(f"{args.stations} stations loaded in {loaded:.1f} s")
        page.get_by_text("Load stations from a file").click()  # closed again
        frame = _map_frame(page)
        page.locator(MAP_FRAME).scroll_into_view_if_needed()
        page.wait_for_timeout(2000)
        shot = artifacts() / "bench-app-click.png"
        page.screenshot(path=str(shot))
        cdp = page.context.new_cdp_session(page)
        heaps = [_heap_mb(cdp)]
        box = page.locator(MAP_FRAME).bounding_box()
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "--pid",
                    str(_server_pid()),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(args.profile),
                    "--idle",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            page.wait_for_timeout(1000)
        rng = np.random.default_rng(2)
        rows: list[dict[str, float]] = []
        loads = []
        table = pd.read_csv(homes)
        while len(rows) < args.clicks:
            # at a random home (on the streets, so the new station serves people and
            # changes gap zones), if it is in view
            home = table.iloc[int(rng.integers(len(table)))]
            at = frame.evaluate(
                "([lat, lon]) => window.map.latLngToContainerPoint([lat, lon])",
                [float(home["lat"]), float(home["lon"])],
            )
            if not (20 < at["x"] < box["width"] - 60 and 20 < at["y"] < box["height"] - 40):
                continue
            # 8 px aside: a click on a drawn home's or a station's marker edits nothing
            row = click_once(page, frame, box["x"] + at["x"] + 8, box["y"] + at["y"] + 8)
            if row is None:
                log("click without an edit")
                continue
            rows.append(row)
            if args.trace and len(rows) == 2:
                browser_trace(page, frame, box, args.trace)
            if args.browser_profile and len(rows) == 3:
                browser_profile(page, frame, box, args.browser_profile)
            heaps.append(_heap_mb(cdp))
            loads.append(os.getloadavg()[0])
            log(
                f"click {len(rows)}: "
                + ", ".join(f"{k} {v:.0f}" for k, v in row.items())
                + f" heap {heaps[-1]:.1f} MB"
            )
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        pan = fps(page, frame, action="pan")
        zoom = fps(page, frame, action="zoom")
        page.screenshot(path=str(artifacts() / "bench-app-click-after.png"))

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(
        f"\nPorto metro in the app: {args.homes:,} homes, {args.stations:,} stations "
        f"(+{len(rows)} clicks); study area built in {built:.1f} s, stations loaded in "
        f"{loaded:.1f} s"
    )
    drawn = [r["drawn"] for r in rows]
    print(
        f"  click to new layers drawn: median {med('drawn'):.0f} ms "
        f"(min {min(drawn):.0f}, max {max(drawn):.0f})"
    )
    print(
        f"  from the press, median ms: first message {med('first'):.0f}, map layers received "
        f"{med('layers'):.0f}, last message {med('last'):.0f}, page idle {med('idle'):.0f}"
    )
    print(
        f"  in the browser, layers received to drawn: median "
        f"{statistics.median(r['drawn'] - r['layers'] for r in rows):.0f} ms"
    )
    print(f"  websocket per click: median {med('mb'):.2f} MB")
    print(f"  heap: {heaps[0]:.1f} MB before, {heaps[1]:.1f} after 1, {heaps[-1]:.1f} after all")
    print(f"  pan: {pan[0]:.0f} fps (longest frame {pan[1]:.0f} ms)")
    print(f"  zoom: {zoom[0]:.0f} fps (longest frame {zoom[1]:.0f} ms)")
    print(f"  load average during the clicks: {min(loads):.1f}-{max(loads):.1f}")
    print(f"  screenshot: {shot}")


if __name__ == "__main__":
    main()
