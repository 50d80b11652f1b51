"""The app's map over many edits in a real browser: what the tab keeps.

Each edit replaces the plan's layers on the map (st_folium's ``feature_group_to_add``).
streamlit-folium 0.27 kept every replaced layer in a list of its own
(``window.feature_group``) and the removed layer control kept listening to the map, so
the tab grew by the plan's layers at each edit (about 110 MB per edit at metro scale).
The module adds stations one by one on the demo city by clicking the map, forcing
garbage collection through the Chrome DevTools Protocol and reading the page's
JavaScript heap.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from planner.app.plan import build_plan
from planner.app.study_area import demo_study_area
from planner.report.maps import COVERED_COLOUR, UNCOVERED_COLOUR
from tests.browser import offline_page, require_browser
from tests.test_app_browser import MAP_FRAME, streamlit_server

#: Edits made; the heap is read after WARM_UP of them and after all of them.
EDITS = 100
WARM_UP = 6
#: Heap growth allowed between the two readings. One demo edit's layers are about
#: 0.13 MB of script; kept, they cost about 1.1 MB of heap each: 26-30 MB over 24 edits
#: before the fix (:class:`planner.app.map_elements.ReleaseOldLayers`), about 100 MB
#: over these 94 at that rate. After it: 1.7 MB over 24 edits, 5.0 MB over 94 (each edit
#: adds a station, so the stations' markers, popups and table grow a little).
MAX_GROWTH_MB = 12.0


#: How many drawn homes have each colour (the homes are drawn once and recoloured).
HOME_COLOURS = """() => window.plannerHomes.layer.getLayers().reduce((n, m) => {
    n[m.options.fillColor] = (n[m.options.fillColor] || 0) + 1; return n; }, {})"""


def _stations(page: Any) -> str:
    return page.locator('[data-testid="stMetricValue"]').nth(2).inner_text()  # type: ignore[no-any-return]


def _heap_mb(cdp: Any) -> float:
    for _ in range(3):
        cdp.send("HeapProfiler.collectGarbage")
    return float(cdp.send("Runtime.getHeapUsage")["usedSize"]) / 1e6


def _frame(page: Any) -> Any:
    return next(f for f in page.frames if "st_folium" in f.url)


@pytest.fixture(scope="module")
def after_edits() -> Iterator[dict[str, Any]]:
    """Make EDITS edits in the browser; what the tab holds afterwards."""
    require_browser()
    errors: list[str] = []
    with streamlit_server("streamlit-memory.log") as url, offline_page() as page:
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(url)
        page.wait_for_selector(MAP_FRAME, timeout=90_000)
        page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)
        _frame(page).wait_for_function(
            "() => window.map && Object.keys(window.map._layers).length > 50", timeout=30_000
        )
        page.wait_for_timeout(1000)
        homes_before = _frame(page).evaluate(HOME_COLOURS)
        cdp = page.context.new_cdp_session(page)
        box = page.locator(MAP_FRAME).bounding_box()
        assert box is not None
        # Points on a grid over the middle of the map, away from its controls (more than
        # EDITS: a click on a marker adds no station).
        grid = [(0.25 + 0.5 * (i % 12) / 11, 0.25 + 0.5 * (i // 12) / 11) for i in range(144)]
        heaps: dict[int, float] = {}
        made = 0
        started = time.monotonic()
        for fx, fy in grid:
            if made == EDITS:
                break
            before = _stations(page)
            page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            deadline = time.monotonic() + 20
            while _stations(page) == before and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            if _stations(page) == before:
                continue  # e.g. a click on a marker: no station added
            made += 1
            page.wait_for_timeout(400)  # the new layers are drawn
            if made in (WARM_UP, EDITS):
                heaps[made] = _heap_mb(cdp)
        print(f"{made} edits in {time.monotonic() - started:.0f} s")
        kept = _frame(page).evaluate("() => (window.feature_group || []).length")
        after = _frame(page).evaluate(HOME_COLOURS)
        yield {
            "made": made,
            "heaps": heaps,
            "kept": kept,
            "errors": errors,
            "homes_before": homes_before,
            "homes_after": after,
        }


def test_replaced_layers_are_not_listed(after_edits: dict[str, Any]) -> None:
    assert after_edits["made"] == EDITS, f"only {after_edits['made']} edits went through"
    assert after_edits["errors"] == []
    assert after_edits["kept"] <= 6  # the plan's layers now on the map, not every edit's


def test_memory_stays_flat_over_repeated_edits(after_edits: dict[str, Any]) -> None:
    heaps = after_edits["heaps"]
    assert after_edits["made"] == EDITS
    print(f"heap after {WARM_UP} and {EDITS} edits (MB): {heaps}")
    assert heaps[EDITS] - heaps[WARM_UP] < MAX_GROWTH_MB, heaps


def test_homes_are_recoloured_by_the_edits(after_edits: dict[str, Any]) -> None:
    plan = build_plan(demo_study_area())
    served = int(plan.demand_out["covered"].sum())
    n = len(plan.area.demand)
    assert after_edits["homes_before"] == {COVERED_COLOUR: served, UNCOVERED_COLOUR: n - served}
    after = after_edits["homes_after"]
    assert set(after) <= {COVERED_COLOUR, UNCOVERED_COLOUR}  # every home coloured
    assert sum(after.values()) == n
    assert after[COVERED_COLOUR] > served  # EDITS stations added
