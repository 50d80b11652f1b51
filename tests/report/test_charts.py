"""Tests of report.charts: values drawn, deterministic SVG, escaped text, two languages."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import SPEED_KMH, grid_homes, grid_stations, grid_streets, points
from matplotlib.colors import to_hex

from planner.config import AnalysisConfig
from planner.report.charts import (
    BEYOND_COLOUR,
    coverage_curve_figure,
    district_figure,
    figure_svg,
    overview_figure,
    station_figure,
    walk_time_figure,
)
from planner.report.maps import BAND_COLOURS
from planner.walk.breakdowns import coverage_curve
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import build_walk_network

EVIL = "<script>alert(1)</script>"
CONFIG = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH, band_minutes=(1.0,), max_snap_m=50)


@pytest.fixture(scope="module")
def result() -> CoverageResult:
    stations = grid_stations().assign(name=[EVIL, "服务站 $x$ & 1"])
    return analyze_coverage(
        build_walk_network(grid_streets()), stations, grid_homes(), config=CONFIG
    )


def test_walk_time_bars_hold_the_people_per_minute(result: CoverageResult) -> None:
    # Walk minutes: H4 0.4, H3 0.8 | H1 1.2, H6 1.2, H7 1.5, H2 1.8 | H5 2.2 (beyond the limit).
    ax = walk_time_figure(result).axes[0]
    bars = ax.patches
    assert [b.get_height() for b in bars] == pytest.approx([40 + 30, 10 + 60 + 70 + 20, 50])
    assert [to_hex(b.get_facecolor()) for b in bars] == [
        BAND_COLOURS[0],
        BAND_COLOURS[1],
        BEYOND_COLOUR,
    ]
    assert ax.get_xlabel() == "walk time to nearest station (min)"


def test_station_bars_are_served_and_served_only_here(result: CoverageResult) -> None:
    fig, shown = station_figure(result)
    assert shown == 2
    heights = [b.get_width() for b in fig.axes[0].patches]
    # Largest first from the top: B serves 200 (only here 130), A 100 (only here 30).
    assert heights == pytest.approx([100.0, 200.0, 30.0, 130.0])
    assert station_figure(result, top=1)[1] == 1


def test_svg_is_deterministic_inline_and_escaped(result: CoverageResult) -> None:
    one = figure_svg(station_figure(result)[0], label="People & <stations>", salt="s")
    two = figure_svg(station_figure(result)[0], label="People & <stations>", salt="s")
    assert one == two
    assert one.startswith('<svg class="chart" role="img" aria-label="People &amp; &lt;stations')
    assert "<?xml" not in one
    assert "<metadata>" not in one
    assert 'viewBox="0 0 504 ' in one
    assert not re.search(r"<svg[^>]* width=", one)
    assert EVIL not in one
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in one
    assert "服务站 $x$ &amp; 1" in one  # no TeX, text kept as text
    other = figure_svg(station_figure(result)[0], salt="t")
    ids = set(re.findall(r'id="([^"]+)"', one))
    assert ids
    assert ids.isdisjoint(re.findall(r'id="([^"]+)"', other))


def test_chinese_charts_need_no_chinese_font(result: CoverageResult) -> None:
    # filterwarnings=error: a missing-glyph warning would fail this test.
    svg = figure_svg(walk_time_figure(result, language="zh"), salt="zh")
    assert "到最近服务站的步行时间（分钟）" in svg
    assert "超出标准" in svg


def test_district_overview_and_curve_figures(result: CoverageResult) -> None:
    import pandas as pd

    table = pd.DataFrame(
        {
            "district": ["North", "South", "Nobody"],
            "population": [100.0, 50.0, 0.0],
            "share_covered": [0.25, 1.0, np.nan],
        }
    )
    fig, shown = district_figure(table)
    assert shown == 2  # districts without people are left out
    assert sorted(b.get_width() for b in fig.axes[0].patches) == pytest.approx([0.25, 1.0])
    sites = points({"new": (100.0, 200.0)}, "EPSG:4326")
    svg = figure_svg(overview_figure(result, suggested_sites=sites), salt="o")
    assert "OpenStreetMap contributors" in svg
    curve = coverage_curve(result, minutes=[1, 2, 3], speeds_kmh=[3.0, 6.0])
    lines = coverage_curve_figure(curve).axes[0].get_lines()
    assert len(lines) == 2
    assert list(lines[1].get_ydata()) == pytest.approx(curve["share_covered"].tolist()[3:])


@pytest.mark.parametrize("rasterized", [False, True])
def test_band_fill_draws_what_geopandas_plot_draws(rasterized: bool) -> None:
    """The overview's band fill (whole-array paths) gives geopandas' plot's SVG exactly."""
    import geopandas as gpd
    import shapely
    from matplotlib.figure import Figure

    from planner.report.charts import _band_fill, _fill_band

    outer = shapely.Polygon(
        [(0, 0), (0, 4), (4, 4), (4, 0)],  # clockwise: normalised before drawing
        holes=[[(1, 1), (2, 1), (2, 2), (1, 2)], [(2.5, 2.5), (3, 2.5), (3, 3)]],
    )
    geoms = [outer, shapely.MultiPolygon([outer, shapely.box(5, 5, 7, 6)])]

    def svg(draw: object) -> str:
        fig = Figure(figsize=(3, 3))
        ax = fig.add_subplot()
        for geom, colour in zip(geoms, ("#1a9850", "#91cf60"), strict=True):
            draw(ax, geom, colour)  # type: ignore[operator]
        ax.set_xlim(-1, 8)
        ax.set_ylim(-1, 7)
        ax.set_aspect(1.2)  # as the overview does after drawing (geopandas sets its own)
        return figure_svg(fig, salt="fill")

    def fill(ax: object, geom: object, colour: str) -> None:
        # The fill is put in place first (empty) and given its polygon afterwards.
        labels = (ax.get_xlabel(), ax.get_ylabel())  # type: ignore[attr-defined]
        place = _band_fill(ax, colour=colour, alpha=0.45)
        _fill_band(place, geom, rasterized=rasterized, labels=labels)

    ours = svg(fill)
    theirs = svg(
        lambda ax, g, c: gpd.GeoSeries([g]).plot(
            ax=ax, color=c, alpha=0.45, linewidth=0, rasterized=rasterized
        )
    )
    assert ours == theirs
    assert ("<image" in ours) is rasterized


@pytest.mark.parametrize("rasterized", [False, True])
def test_home_dots_are_what_geopandas_plot_draws(rasterized: bool) -> None:
    """The overview's homes (one scatter call) give geopandas' plot's SVG exactly."""
    import geopandas as gpd
    import shapely
    from matplotlib.figure import Figure

    from planner.report.charts import _dots

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1, (50, 2))
    homes = gpd.GeoSeries(shapely.points(xy), crs=4326)

    def svg(draw: object) -> str:
        fig = Figure(figsize=(3, 3), layout="constrained")
        ax = fig.add_subplot()
        draw(ax, homes.iloc[:30], "#2166ac")  # type: ignore[operator]
        draw(ax, homes.iloc[30:], "#d7301f")  # type: ignore[operator]
        ax.set_aspect(1.5)
        return figure_svg(fig, salt="dots")

    ours = svg(lambda ax, p, c: _dots(ax, p, colour=c, rasterized=rasterized))
    theirs = svg(
        lambda ax, p, c: gpd.GeoDataFrame(geometry=p).plot(
            ax=ax, color=c, markersize=3, rasterized=rasterized
        )
    )
    assert ours == theirs
    assert ("<image" in ours) is rasterized


def test_overview_bands_are_filled_in_place_and_an_empty_one_leaves_no_fill(
    result: CoverageResult,
) -> None:
    import dataclasses

    import shapely

    areas = result.coverage_area
    widest = areas["band_min"].idxmax()
    areas = areas.set_geometry(areas.geometry.where(areas.index != widest, shapely.Polygon()))
    for layer, filled in ((result.coverage_area, len(areas)), (areas, len(areas) - 1)):
        fig = overview_figure(dataclasses.replace(result, area_layer=layer), suggested_sites=None)
        kinds = [type(c).__name__ for c in fig.axes[0].collections]
        # The band fills come first (streets here are none), then the gap zones, homes and
        # stations: drawn in that order, as geopandas' plot of each layer would draw them.
        assert kinds[:filled] == ["_GeoPandasPolyCollection"] * filled
        assert "_GeoPandasPolyCollection" not in kinds[filled:]
        fills = fig.axes[0].collections[:filled]
        nearest = shapely.get_num_coordinates(layer.geometry.iloc[0])
        assert len(fills[-1].get_paths()[0].vertices) == nearest  # the nearest band last


@pytest.mark.parametrize("with_streets", [False, True])
def test_overview_is_laid_out_as_constrained_layout_lays_it_out(
    result: CoverageResult, with_streets: bool
) -> None:
    # The overview map's axes are placed without a draw (charts._fixed_layout); the same
    # figure laid out by matplotlib's constrained layout gives the same SVG (clip-path ids
    # are hashes of the clip boxes' floats: left out of the comparison).
    streets = build_walk_network(grid_streets()).edges if with_streets else None
    fixed = overview_figure(result, streets=streets)
    assert fixed.get_layout_engine() is None  # so savefig draws it once
    laid_out = overview_figure(result, streets=streets)
    laid_out.set_layout_engine("constrained")

    def ids_out(svg: str) -> str:
        return re.sub(r"overview-p[0-9a-f]+", "overview-clip", svg)

    svg = figure_svg(fixed, salt="overview")
    assert ids_out(svg) == ids_out(figure_svg(laid_out, salt="overview"))
    assert fixed.axes[0].get_position(original=True).x0 == pytest.approx(0.04167 / 7)


def test_overview_streets_image_holds_the_share_of_each_pixel_the_streets_cover() -> None:
    import geopandas as gpd
    import shapely
    from matplotlib.figure import Figure

    from planner.report.charts import _streets_picture
    from planner.report.map_geometry import OVERVIEW_STREETS_PX, streets_raster

    lines = gpd.GeoSeries(
        [
            shapely.LineString([(0, 0), (5000, 3000)]),
            shapely.LineString([(0, 3000), (2500, 0), (5000, 2900)]),
        ],
        crs=3857,
    )
    ax = Figure().add_subplot()
    _streets_picture(ax, lines)
    rgba = np.asarray(ax.images[0].get_array())
    assert rgba.dtype == np.uint8
    assert max(rgba.shape[:2]) <= OVERVIEW_STREETS_PX  # scaled up on the page, never down
    fine, _, _ = streets_raster(lines, max_px=2 * OVERVIEW_STREETS_PX)
    # Every pixel is 0-4 quarters covered, at 80 % opacity for a whole one.
    assert set(np.unique(rgba[..., 3])) <= {0, 51, 102, 153, 204}
    assert int(rgba[..., 3].astype(int).sum()) == 51 * int(fine.sum())
    assert (rgba[..., 3] > 0).sum() >= fine.sum() / 4
