"""The map and report rendered before the band polygons exist are the one-shot ones, byte for byte.

``write_outputs`` renders everything but the band polygons' parts while they are built
(:mod:`planner.report.deferred`); these tests compare its files with
``coverage_map(...).get_root().render()`` and ``coverage_report(...)`` of the same result,
on the bundled Helsinki extract, and check that nothing waits for the polygons early.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.report import export, forked_report
from planner.report.category_layers import category_layers
from planner.report.deferred import (
    fill_markers,
    finish_map,
    finish_report,
    pending_map,
    pending_report,
    polygon_parts,
)
from planner.report.export import write_outputs
from planner.report.maps import coverage_map
from planner.report.report import coverage_report
from planner.sources.osm import demo_extract_path, stations_from_osm
from planner.texts import Language
from planner.walk.categories import analyze_circles
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork


def helsinki_result(
    network: WalkNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], minutes: float
) -> CoverageResult:
    stations, homes = points
    return analyze_coverage(network, stations, homes, config=AnalysisConfig(walk_minutes=minutes))


class GuardedPolygons(Future[gpd.GeoDataFrame]):
    """The polygons, handed out only once :attr:`ready` is set; earlier is a test failure."""

    def __init__(self, layer: gpd.GeoDataFrame, ready: dict[str, bool]) -> None:
        super().__init__()
        self.layer = layer
        self.ready = ready
        self.set_result(layer)

    def result(self, timeout: float | None = None) -> gpd.GeoDataFrame:
        assert self.ready["polygons"], "waited for the polygons before the rest was rendered"
        return self.layer


def guarded(result: CoverageResult, ready: dict[str, bool]) -> CoverageResult:
    """``result`` whose band and isochrone layers may be read only once ``ready`` says so."""
    return dataclasses.replace(
        result,
        area_layer=GuardedPolygons(result.coverage_area, ready),
        isochrone_layer=GuardedPolygons(result.isochrones, ready),
    )


@pytest.mark.parametrize(("language", "minutes"), [("en", 15.0), ("zh", 5.0)])
def test_written_map_and_report_are_the_one_shot_ones(
    tmp_path: Path,
    helsinki_network: WalkNetwork,
    helsinki_points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    language: Language,
    minutes: float,
) -> None:
    result = helsinki_result(helsinki_network, helsinki_points, minutes)
    streets = helsinki_network.edges
    out = tmp_path / "out"
    write_outputs(result, out, streets=streets, language=language)
    assert len(result.coverage_area) == len(result.config.bands) == (3 if minutes == 15 else 1)
    whole = coverage_map(result, streets=streets, language=language).get_root().render()
    written = (out / "map.html").read_text("utf-8")
    assert written == whole
    # The bands are there (three layers, widest first) and the view is fitted to them.
    assert written.count("_add({") >= 3
    assert ".fitBounds(" in written
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    page = coverage_report(
        result, summary=summary, language=language, streets=streets, map_html=whole
    )
    assert (out / "report.html").read_text("utf-8") == page
    # Each polygon part is where the one-shot page has it: splicing the same parts in
    # another order gives another page.
    fmap = pending_map(result, streets=streets, language=language)
    parts = polygon_parts(fmap)
    assert finish_map(fmap, parts) == whole
    keys = list(parts)
    swapped = dict(
        zip(keys, [parts[keys[1]], parts[keys[0]], *list(parts.values())[2:]], strict=True)
    )
    assert finish_map(fmap, swapped) != whole


def test_the_rest_is_rendered_before_the_polygons_are_read(
    helsinki_network: WalkNetwork, helsinki_points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    built = helsinki_result(helsinki_network, helsinki_points, 10.0)
    streets = helsinki_network.edges
    whole = coverage_map(built, streets=streets).get_root().render()
    summary = built.summary()
    page = coverage_report(built, summary=summary, streets=streets, map_html=whole)
    ready = {"polygons": False}
    result = guarded(built, ready)
    report = pending_report(result, summary=summary, streets=streets)
    fmap = pending_map(result, streets=streets)
    ready["polygons"] = True  # only the polygon parts are left
    parts = polygon_parts(fmap)
    assert finish_map(fmap, parts) == whole
    assert finish_report(report, finish_map(fmap, parts)) == page


def test_write_outputs_writes_the_rest_before_reading_the_polygons(
    tmp_path: Path,
    helsinki_network: WalkNetwork,
    helsinki_points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = helsinki_result(helsinki_network, helsinki_points, 10.0)
    ready = {"polygons": False}
    done: list[str] = []

    def note(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            out = fn(*args, **kwargs)
            done.append(name)
            if len(done) == 5:
                ready["polygons"] = True  # the map and report wait for nothing else
            return out

        return wrapper

    monkeypatch.setattr(export, "write_csv", note("csv", export.write_csv))
    monkeypatch.setattr(export, "pending_map", note("pending_map", export.pending_map))
    monkeypatch.setattr(
        forked_report, "pending_report", note("pending_report", forked_report.pending_report)
    )
    write_outputs(guarded(built, ready), tmp_path / "out", streets=helsinki_network.edges)
    assert done == ["pending_report", "pending_map", "csv", "csv", "csv"]
    whole = coverage_map(built, streets=helsinki_network.edges).get_root().render()
    assert (tmp_path / "out" / "map.html").read_text("utf-8") == whole


def test_category_layers_after_the_bands_stay_in_place(
    tmp_path: Path,
    helsinki_network: WalkNetwork,
    helsinki_points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    path = demo_extract_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        stations = stations_from_osm(path, tags={"amenity": ["library", "pharmacy"]})
    circle = analyze_circles(
        helsinki_network,
        stations,
        helsinki_points[1],
        config=AnalysisConfig(walk_minutes=10.0),
        category_minutes={"library": 3.0, "pharmacy": 4.0},
    )
    streets = helsinki_network.edges
    write_outputs(circle.result, tmp_path / "out", streets=streets, circle=circle, report=False)
    whole = coverage_map(circle.result, streets=streets, extra_layers=category_layers(circle))
    assert (tmp_path / "out" / "map.html").read_text("utf-8") == whole.get_root().render()


def test_polygons_with_other_bands_than_configured_stop_the_write(
    tmp_path: Path,
    helsinki_network: WalkNetwork,
    helsinki_points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    built = helsinki_result(helsinki_network, helsinki_points, 10.0)
    assert list(built.config.bands) == [5.0, 10.0]
    one = Future[gpd.GeoDataFrame]()
    one.set_result(built.coverage_area.iloc[:1])
    result = dataclasses.replace(built, area_layer=one)
    with pytest.raises(InputDataError, match=r"layer has 1 rows for 2 configured bands"):
        write_outputs(result, tmp_path / "out", streets=helsinki_network.edges)
    assert not (tmp_path / "out").exists()


def test_fill_markers_puts_each_part_in_place_and_refuses_missing_or_repeated_markers() -> None:
    assert fill_markers("a<1>b<2>c", {"<2>": "TWO", "<1>": "one"}) == "aonebTWOc"
    assert fill_markers("<1>", {"<1>": "<1><1>"}) == "<1><1>"  # parts are not searched again
    with pytest.raises(RuntimeError, match="exactly once"):
        fill_markers("a<1>b", {"<2>": "x"})
    with pytest.raises(RuntimeError, match="exactly once"):
        fill_markers("a<1>b<1>", {"<1>": "x"})


def test_grid_map_is_the_one_shot_one_and_is_finished_once(
    result: CoverageResult, network: WalkNetwork
) -> None:
    fmap = pending_map(result, streets=network.edges, language="zh")
    parts = polygon_parts(fmap)
    whole = coverage_map(result, streets=network.edges, language="zh").get_root().render()
    assert finish_map(fmap, parts) == whole
    with pytest.raises(RuntimeError, match="finished once"):
        polygon_parts(fmap)
