"""The real app in a real browser, offline: load the demo, click the map, see coverage change.

Starts ``streamlit run app.py`` on a free local port (bounded wait, always stopped), opens
it in Debian's headless Chromium with every non-local request aborted, adds a station by
clicking a gap zone on the map, and checks that the covered share changes while the map
stays in place. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import artifacts, colour_shares, offline_page, require_browser

ROOT = Path(__file__).resolve().parent.parent
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
START_TIMEOUT_S = 60
#: A point in the demo's largest gap zone (north-east of the centre), WGS84.
GAP_LAT, GAP_LON = 60.1765, 24.9475


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    require_browser()
    port = _free_port()
    log = (artifacts() / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def _share(page: object) -> str:
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()  # type: ignore[attr-defined,no-any-return]


def test_click_on_the_map_adds_a_station_offline(app_url: str) -> None:
    requests: list[str] = []
    errors: list[str] = []
    with offline_page(requests) as page:
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(app_url)
        page.wait_for_selector(MAP_FRAME, timeout=90_000)
        page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)
        frame = next(f for f in page.frames if "st_folium" in f.url)
        # Wait for the streets (fetched from the static folder) and the plan's layers.
        frame.wait_for_function(
            "() => window.map && Object.keys(window.map._layers).length > 50", timeout=30_000
        )
        page.wait_for_timeout(1000)
        before = _share(page)
        assert before == "81.8%"
        assert frame.evaluate("typeof L") == "object"
        shot = artifacts() / "app_before_click.png"
        page.screenshot(path=str(shot))
        shares = colour_shares(shot)
        assert shares["green"] > 0.02  # walk-time bands drawn
        assert shares["red"] > 0.0005  # unserved homes and gap zones drawn

        # The map must stay in place across the edit: mark it and zoom in once.
        frame.evaluate("() => { window.__kept = 1; window.map.setZoom(window.map.getZoom() + 1); }")
        page.wait_for_timeout(500)
        zoom = frame.evaluate("() => window.map.getZoom()")
        x, y = frame.evaluate(
            f"() => {{ const p = window.map.latLngToContainerPoint([{GAP_LAT}, {GAP_LON}]);"
            " return [p.x, p.y]; }"
        )
        box = page.locator(MAP_FRAME).bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + x, box["y"] + y)
        deadline = time.monotonic() + 30
        while _share(page) == before and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        after = _share(page)
        assert after != before
        assert float(after.rstrip("%")) > 95.0
        page.wait_for_timeout(1500)
        assert "Station new-1 added." in page.inner_text('[data-testid="stAlert"]')
        frame = next(f for f in page.frames if "st_folium" in f.url)
        assert frame.evaluate("() => window.__kept") == 1  # not redrawn from scratch
        assert frame.evaluate("() => window.map.getZoom()") == zoom
        page.screenshot(path=str(artifacts() / "app_after_click.png"))
    assert errors == []
    outside = [u for u in requests if u.startswith(("http:", "https:")) and "127.0.0.1" not in u]
    assert all("tile.openstreetmap.org" in u for u in outside), outside[:5]
    assert any("/app/static/leaflet/leaflet.js" in u for u in requests)
    assert any("/app/static/areas/streets-" in u for u in requests)
