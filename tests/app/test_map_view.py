"""The app map's view is remembered in the browser tab and restored when it is redrawn."""

from __future__ import annotations

from planner.app.map_view import STORAGE_PREFIX
from planner.app.plan_map import base_map
from planner.app.study_area import StudyArea


def test_the_base_map_restores_the_last_view_of_its_area(grid_area: StudyArea) -> None:
    html = base_map(grid_area, bands=(5.0, 10.0)).get_root().render()
    key = f'"{STORAGE_PREFIX}{grid_area.key}"'
    assert key in html
    # after the first fit to the area, so a remembered view wins
    assert html.index(".fitBounds(") < html.index(key)
    assert "sessionStorage" in html
    assert 'map.on("moveend zoomend"' in html
    # the view does not depend on the legend's bands: same script for another walk limit
    other = base_map(grid_area, bands=(5.0,)).get_root().render()
    assert key in other


def test_areas_keep_their_own_views(grid_area: StudyArea, helsinki_area: StudyArea) -> None:
    html = base_map(helsinki_area, bands=(5.0,)).get_root().render()
    assert f"{STORAGE_PREFIX}{helsinki_area.key}" in html
    assert f"{STORAGE_PREFIX}{grid_area.key}" not in html
