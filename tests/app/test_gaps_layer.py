"""The app map's gap zones, sent as integer steps: the same outlines to within a metre."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.app.edits import add_station
from planner.app.gaps_layer import (
    GRID_DEG,
    CompactGaps,
    ZoneDrawings,
    decode_rings,
    encode_rings,
    encode_zones,
)
from planner.app.plan import Plan, build_plan
from planner.app.plan_map import base_map, plan_layers
from planner.app.study_area import StudyArea
from planner.report.map_geometry import MANY_GAPS, THOUSANDS_OF_GAPS, gap_outlines
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


def _fresh(gaps: gpd.GeoDataFrame) -> list[list[list[int]]]:
    """The zones as the map encoded them without :class:`ZoneDrawings`."""
    return encode_zones(gap_outlines(gaps).geometry.to_numpy())


def _many_zones(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(24.9, 25.0, n), rng.uniform(60.15, 60.2, n)
    discs = shapely.buffer(shapely.points(x, y), rng.uniform(0.0005, 0.002, n), quad_segs=8)
    return gpd.GeoDataFrame(
        {"gap_id": np.arange(n), "homes": 1, "population": 1.0, "walk_min_nearest": 20.0},
        geometry=discs,
        crs=4326,
    )


@pytest.mark.parametrize("n", [3, MANY_GAPS + 1, THOUSANDS_OF_GAPS + 1])
def test_kept_drawings_equal_a_fresh_encoding(n: int) -> None:
    gaps = _many_zones(n, seed=n)
    drawings = ZoneDrawings()
    assert drawings.encoded(gaps) == _fresh(gaps)
    assert drawings.built == n
    # the same outlines again: nothing encoded, the same answer
    assert drawings.encoded(gaps.iloc[::-1]) == _fresh(gaps)[::-1]
    assert drawings.built == n


def test_an_edit_encodes_only_the_zones_it_changed(plan: Plan) -> None:
    gaps = _many_zones(THOUSANDS_OF_GAPS + 5, seed=1)
    drawings = ZoneDrawings()
    drawings.encoded(gaps)
    # an edit: two zones gone, one new; the others keep their outline objects
    new = shapely.buffer(shapely.Point(24.95, 60.17), 0.003)
    edited = pd.concat([gaps.iloc[2:], gaps.iloc[:1].set_geometry([new])], ignore_index=True)
    built = drawings.built
    assert drawings.encoded(edited) == _fresh(edited)
    assert drawings.built == built + 1
    # a real edit of the Helsinki plan: the same as the map without kept drawings
    drawings.encoded(plan.gaps)
    after = add_station(plan, 24.9475, 60.1765)
    assert drawings.encoded(after.gaps) == _fresh(after.gaps)
    layers = [plan_layers(after, drawings=d).groups[1] for d in (drawings, None)]
    fmap = base_map(plan.area, bands=plan.config.bands, tiles=False)
    for g in layers:
        g.add_to(fmap)
    scripts = [next(iter(g._children.values())).rendered_script() for g in layers]
    assert scripts[0].replace(layers[0].get_name(), "G") == scripts[1].replace(
        layers[1].get_name(), "G"
    )


def test_the_oldest_drawings_are_let_go() -> None:
    gaps = _many_zones(20, seed=3)
    drawings = ZoneDrawings(size=5)
    assert drawings.encoded(gaps) == _fresh(gaps)
    assert len(drawings._kept) == 5
    assert drawings.encoded(gaps.iloc[:3]) == _fresh(gaps.iloc[:3])  # let go: built again
    assert drawings.built == 23
