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
from contextlib import contextmanager
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


@contextmanager
def streamlit_server(
    log_name: str = "streamlit.log", env: dict[str, str] | None = None
) -> Iterator[str]:
    """``streamlit run app.py`` on a free local port (bounded wait, always stopped)."""
    port = _free_port()
    log = (artifacts() / log_name).open("w")
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
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
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


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    require_browser()
    with streamlit_server() as url:
        yield url


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


def _wait_for_map(page: object) -> object:
    """Wait until the app's map has drawn its layers; its frame."""
    page.wait_for_selector(MAP_FRAME, timeout=90_000)  # type: ignore[attr-defined]
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)  # type: ignore[attr-defined]
    frame = next(f for f in page.frames if "st_folium" in f.url)  # type: ignore[attr-defined]
    frame.wait_for_function(
        "() => window.map && Object.keys(window.map._layers).length > 50", timeout=30_000
    )
    return frame


def _metric(page: object, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first  # type: ignore[attr-defined]
    return box.locator('[data-testid="stMetricValue"]').inner_text()  # type: ignore[no-any-return]


def test_a_reload_finds_the_work_still_there(app_url: str) -> None:
    """Defect 2: edit, reload the page, and the edit (and the project) is still there."""
    errors: list[str] = []
    with offline_page() as page:
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(app_url)
        frame = _wait_for_map(page)
        page.wait_for_timeout(1000)
        before = _share(page)
        assert "project=" not in page.url  # the untouched demo is no project yet
        x, y = frame.evaluate(  # type: ignore[attr-defined]
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
        page.wait_for_url("**project=*", timeout=30_000)  # saved: the URL names the project
        url = page.url
        assert _metric(page, "Stations") == "4"

        page.reload()
        _wait_for_map(page)
        deadline = time.monotonic() + 30
        while "Opened project" not in page.inner_text("body") and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert "Opened project" in page.inner_text('[data-testid="stAlert"]')
        assert page.url == url
        assert _share(page) == after
        assert _metric(page, "Stations") == "4"
        page.screenshot(path=str(artifacts() / "app_after_reload.png"))

        page.goto(app_url)  # a fresh visit without the project's link: the demo again
        _wait_for_map(page)
        page.wait_for_timeout(1000)
        assert _share(page) == before
    assert errors == []


#: The Compare page's download buttons.
DOWNLOADS = (
    "coverage.gpkg",
    "stations.csv",
    "homes.csv",
    "summary.json",
    "Save the current plan to a file",
    "Coverage report (HTML)",
)
#: What the files start with.
STARTS = {".gpkg": b"SQLite format 3\x00", ".json": b"{", ".html": b"<!"}


def test_downloads_clicked_in_quick_succession_all_arrive(app_url: str) -> None:
    """Defect 5: every click on a download button gives its file, however quick the clicks.

    A download button that reruns the app on click replaces every button's deferred file
    id while the browser still holds the old ones: a click in that window got nothing or
    "Deferred file ... not found". Two rounds of six clicks, 100 ms apart.
    """
    got: list[object] = []
    with offline_page() as page:
        page.on("download", lambda d: got.append(d))
        page.goto(f"{app_url}/compare")
        page.wait_for_selector('[data-testid="stDownloadButton"]', timeout=90_000)
        page.wait_for_timeout(1500)
        clicks = 0
        for _ in range(2):
            for label in DOWNLOADS:
                button = page.locator('[data-testid="stDownloadButton"] button', has_text=label)
                button.first.click()
                clicks += 1
                page.wait_for_timeout(100)
        deadline = time.monotonic() + 60
        while len(got) < clicks and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        names = sorted(d.suggested_filename for d in got)  # type: ignore[attr-defined]
        assert len(got) == clicks, names
        for d in got:
            assert d.failure() is None  # type: ignore[attr-defined]
            name = d.suggested_filename  # type: ignore[attr-defined]
            data = Path(d.path()).read_bytes()  # type: ignore[attr-defined]
            assert data.startswith(STARTS.get(Path(name).suffix, b"")), name
            assert len(data) > 10, name
        expected = {"coverage.gpkg", "stations.csv", "homes.csv", "summary.json", "report.html"}
        assert expected <= set(names)
        assert any(n.endswith(".scenario.json") for n in names)
    log = (artifacts() / "streamlit.log").read_text("utf-8", errors="replace")
    assert "not found" not in log.lower()


def test_every_page_opens_from_its_own_address(app_url: str) -> None:
    """Item 9: ``/stations`` (and every other page) opened directly shows that page."""
    with offline_page() as page:
        for path, header in [("stations", "Stations"), ("coverage", "Coverage")]:
            page.goto(f"{app_url}/{path}")
            page.wait_for_selector("h1, h2", timeout=90_000)
            page.wait_for_timeout(1000)
            body = page.inner_text("body")
            assert "Page not found" not in body, path
            assert page.locator("h2", has_text=header).count() >= 1, (path, body[:300])
            assert page.url.startswith(f"{app_url}/{path}")
        page.goto(app_url)  # the root goes on to the stations page
        page.wait_for_url("**/stations*", timeout=30_000)
        _wait_for_map(page)
        assert "Page not found" not in page.inner_text("body")


def test_changing_the_walk_limit_keeps_the_zoom(app_url: str) -> None:
    """Item 9: a new walk limit redraws the map (its legend changes) at the same view."""
    with offline_page() as page:
        page.goto(f"{app_url}/stations")
        frame = _wait_for_map(page)
        page.wait_for_timeout(1000)
        start_zoom = frame.evaluate("() => window.map.getZoom()")  # type: ignore[attr-defined]
        frame.evaluate(  # type: ignore[attr-defined]
            f"() => {{ window.map.setView([{GAP_LAT}, {GAP_LON}], window.map.getZoom() + 2); }}"
        )
        page.wait_for_timeout(800)
        zoom = frame.evaluate("() => window.map.getZoom()")  # type: ignore[attr-defined]
        assert zoom == start_zoom + 2
        before = _share(page)
        value = page.locator('[data-testid="stSidebar"] [data-testid="stSliderThumbValue"]').first
        thumb = value.bounding_box()  # the walk limit's handle: drag it to the left
        assert thumb is not None
        x, y = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] + 8
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 50, y, steps=5)
        page.mouse.up()
        deadline = time.monotonic() + 30
        while _share(page) == before and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert _share(page) != before
        page.wait_for_timeout(2000)
        frame = _wait_for_map(page)
        page.wait_for_timeout(500)
        assert frame.evaluate("() => window.map.getZoom()") == zoom  # type: ignore[attr-defined]
        lat, lng = frame.evaluate(  # type: ignore[attr-defined]
            "() => { const c = window.map.getCenter(); return [c.lat, c.lng]; }"
        )
        assert abs(lat - GAP_LAT) < 1e-4
        assert abs(lng - GAP_LON) < 1e-4


def test_dragging_a_station_moves_it_and_undo_puts_it_back(app_url: str) -> None:
    """Issue 15: move a station by dragging its marker on the map; undo goes back."""
    errors: list[str] = []
    with offline_page() as page:
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(f"{app_url}/stations")
        _wait_for_map(page)
        page.get_by_text("nothing: drag a station to move it").click()
        page.wait_for_timeout(1500)
        frame = _wait_for_map(page)
        frame.wait_for_function(  # type: ignore[attr-defined]
            "() => Object.values(window.map._layers).some(l => l.dragging && l.dragging.enabled())",
            timeout=30_000,
        )
        page.wait_for_timeout(500)
        before = _share(page)
        start, end = frame.evaluate(  # type: ignore[attr-defined]
            "() => { const m = Object.values(window.map._layers).find("
            "l => l.dragging && l.dragging.enabled());"
            " const a = window.map.latLngToContainerPoint(m.getLatLng());"
            f" const b = window.map.latLngToContainerPoint([{GAP_LAT}, {GAP_LON}]);"
            " return [[a.x, a.y], [b.x, b.y]]; }"
        )
        box = page.locator(MAP_FRAME).bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + start[0], box["y"] + start[1])
        page.mouse.down()
        page.mouse.move(box["x"] + end[0], box["y"] + end[1], steps=12)
        page.mouse.up()
        deadline = time.monotonic() + 30
        while _share(page) == before and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        moved = _share(page)
        assert moved != before
        assert "moved." in page.inner_text('[data-testid="stAlert"]')
        assert _metric(page, "Stations") == "3"  # moved, not added
        page.screenshot(path=str(artifacts() / "app_after_drag.png"))
        page.locator('[data-testid="stSidebar"] button', has_text="Undo").click()
        deadline = time.monotonic() + 30
        while _share(page) == moved and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert _share(page) == before
    assert errors == []


def test_the_work_survives_a_restart_of_the_app(tmp_path: Path) -> None:
    """Projects live in the store, not in the server: stop it, start another, and reopen."""
    require_browser()
    store = {"PLANNER_STORE": str(tmp_path / "projects.sqlite")}
    with offline_page() as page:
        with streamlit_server("streamlit-first.log", env=store) as url:
            page.goto(f"{url}/stations")
            frame = _wait_for_map(page)
            page.wait_for_timeout(1000)
            before = _share(page)
            x, y = frame.evaluate(  # type: ignore[attr-defined]
                f"() => {{ const p = window.map.latLngToContainerPoint([{GAP_LAT}, {GAP_LON}]);"
                " return [p.x, p.y]; }"
            )
            box = page.locator(MAP_FRAME).bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + x, box["y"] + y)
            page.wait_for_url("**project=*", timeout=30_000)
            after = _share(page)
            assert after != before
            project = page.url.split("project=")[1].split("&")[0]
        with streamlit_server("streamlit-second.log", env=store) as url:  # a new process
            page.goto(f"{url}/stations?project={project}")
            _wait_for_map(page)
            deadline = time.monotonic() + 30
            while _share(page) != after and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert _share(page) == after
            assert _metric(page, "Stations") == "4"
