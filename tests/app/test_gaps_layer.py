"""The app map's gap zones, sent as integer steps: the same outlines to within a metre."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from planner.app.gaps_layer import GRID_DEG, CompactGaps, decode_rings, encode_rings
from planner.app.plan import Plan, build_plan
from planner.app.plan_map import base_map, plan_layers
from planner.app.study_area import StudyArea
from tests.browser import offline_page, require_browser


@pytest.fixture(scope="module")
def plan(helsinki_area: StudyArea) -> Plan:
    return build_plan(helsinki_area)


def test_rings_round_trip_to_the_grid() -> None:
    outer = [(24.9400012, 60.17), (24.9500049, 60.17), (24.95, 60.18), (24.94, 60.18)]
    hole = [(24.944, 60.174), (24.946, 60.174), (24.946, 60.176)]
    poly = shapely.Polygon(outer, [hole])
    multi = shapely.MultiPolygon([poly, shapely.box(24.96, 60.16, 24.97, 60.165)])
    rings = encode_rings(multi)
    assert len(rings) == 3  # exterior and hole of the first polygon, then the box
    assert rings[0][:2] == [2494000, 6017000]  # absolute first vertex, then steps
    assert rings[0][2:4] == [1000, 0]
    back = decode_rings(rings)
    expected = [poly.exterior.coords, poly.interiors[0].coords, multi.geoms[1].exterior.coords]
    for got, want in zip(back, expected, strict=True):
        assert np.abs(got - np.asarray(want)).max() <= GRID_DEG / 2 + 1e-12


def test_the_layer_carries_every_zone_and_its_figures(plan: Plan) -> None:
    gaps = plan.gaps
    layer = CompactGaps(gaps, language="en")
    assert len(layer.zones) == len(layer.figures) == len(gaps) > 0
    for rings, geom in zip(layer.zones, gaps.geometry, strict=True):
        drawn = shapely.Polygon(decode_rings(rings)[0], decode_rings(rings)[1:])
        assert shapely.hausdorff_distance(drawn, geom) <= GRID_DEG  # within about 1 m
    first = gaps.iloc[0]
    assert layer.figures[0][:2] == [int(first["gap_id"]), int(first["homes"])]
    assert layer.figures[0][3] == round(first["walk_min_nearest"], 1)
    assert layer.labels == ["Gap zone", "Homes", "People", "Minutes to nearest station"]


def test_gap_zones_are_drawn_with_their_tooltips(plan: Plan, tmp_path: Path) -> None:
    require_browser()
    fmap = base_map(plan.area, bands=plan.config.bands, tiles=False)
    for group in plan_layers(plan).groups:
        group.add_to(fmap)
    path = tmp_path / "gaps.html"
    path.write_text(fmap.get_root().render(), "utf-8")
    errors: list[str] = []
    with offline_page() as page:
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-container")
        drawn = page.evaluate(
            """() => {
                const map = window[document.querySelector('.folium-map').id];
                const out = [];
                map.eachLayer(l => {
                    if (l instanceof L.Polygon && l.options.dashArray === "6 3") {
                        out.push([l.getLatLngs().length, l.getTooltip()._content]);
                    }
                });
                return out;
            }"""
        )
    assert errors == []
    assert len(drawn) == len(plan.gaps)
    tips = sorted(t for _, t in drawn)
    first = plan.gaps.iloc[0]
    assert any(t.startswith(f"<b>Gap zone</b> {int(first['gap_id'])}<br>") for t in tips)
