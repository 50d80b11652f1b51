"""The report page made by a forked copy of the process is the one made in one process.

:mod:`planner.report.forked_report` makes the page in a forked copy at city scale; these
tests force the fork on the bundled Helsinki extract and compare its page byte for byte
with ``coverage_report`` of the same result, with the band polygons built before the fork
and after it, and check that a copy that fails or dies leaves the page made here, and that
no copy is left behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from helpers import Children

from planner.config import AnalysisConfig
from planner.report import export, forked, forked_report
from planner.report.deferred import finish_map, pending_map, polygon_parts
from planner.report.export import write_outputs
from planner.report.forked_report import report_writer
from planner.report.maps import coverage_map
from planner.report.report import coverage_report
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture(scope="module")
def built(
    helsinki_network: WalkNetwork, helsinki_points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> CoverageResult:
    """Community centres and homes of the bundled Helsinki extract, polygons built."""
    stations, homes = helsinki_points
    result = analyze_coverage(
        helsinki_network, stations, homes, config=AnalysisConfig(walk_minutes=10.0)
    )
    result.coverage_area  # noqa: B018  # built before the tests use it
    result.isochrones  # noqa: B018
    return result


@pytest.fixture(scope="module")
def page(built: CoverageResult, helsinki_network: WalkNetwork) -> str:
    """The report page made the plain way, in this process (map, then page)."""
    streets = helsinki_network.edges
    whole = coverage_map(built, streets=streets).get_root().render()
    return coverage_report(built, summary=built.summary(), streets=streets, map_html=whole)


def always_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on ``write_outputs`` forks its copies for the small extract, whatever threads
    ran before."""
    monkeypatch.setattr(forked, "FORK_MIN_DEMAND_POINTS", 1)
    monkeypatch.setattr(forked, "only_planner_threads", lambda: True)


def later(result: CoverageResult, gate: threading.Event) -> CoverageResult:
    """``result`` whose polygons are a future that a thread of this process sets later."""
    area: Future[gpd.GeoDataFrame] = Future()
    layer = result.coverage_area

    def finish() -> None:
        gate.wait(timeout=60)
        area.set_result(layer)

    threading.Thread(target=finish, daemon=True).start()
    return dataclasses.replace(result, area_layer=area)


def write_page(result: CoverageResult, streets: gpd.GeoDataFrame, path: Path, **kw: Any) -> bool:
    """Write the page as ``write_outputs`` does; whether a copy made it."""
    with report_writer(result, path, summary=result.summary(), streets=streets, **kw) as writer:
        forked = writer.forked
        fmap = pending_map(result, streets=streets)
        writer.send_polygons()
        writer.write(finish_map(fmap, polygon_parts(fmap)))
    return forked


def test_the_forked_page_is_the_one_shot_page(
    tmp_path: Path,
    built: CoverageResult,
    helsinki_network: WalkNetwork,
    page: str,
    children: Children,
) -> None:
    streets = helsinki_network.edges
    assert write_page(built, streets, tmp_path / "report.html", fork=True)
    assert (tmp_path / "report.html").read_text("utf-8") == page
    assert children() == []


def test_polygons_built_after_the_fork_reach_the_copy(
    tmp_path: Path, built: CoverageResult, helsinki_network: WalkNetwork, page: str
) -> None:
    streets = helsinki_network.edges
    gate = threading.Event()
    result = later(built, gate)
    with report_writer(
        result, tmp_path / "report.html", summary=built.summary(), streets=streets, fork=True
    ) as writer:
        assert writer.forked
        fmap = pending_map(result, streets=streets)
        gate.set()  # the thread that builds the polygons is not in the copy: sent to it
        writer.send_polygons()
        writer.write(finish_map(fmap, polygon_parts(fmap)))
    assert (tmp_path / "report.html").read_text("utf-8") == page


@pytest.mark.parametrize(
    ("how", "where"), [("raises", "report_overview"), ("dies", "pending_report")]
)
def test_a_copy_that_fails_leaves_the_page_to_this_process(
    tmp_path: Path,
    built: CoverageResult,
    helsinki_network: WalkNetwork,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    where: str,
    page: str,
    children: Children,
) -> None:
    streets = helsinki_network.edges
    here = os.getpid()
    real = getattr(forked_report, where)

    def fails_in_the_copy(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != here:
            if how == "dies":
                os.kill(os.getpid(), signal.SIGKILL)
            msg = "simulated failure in the copy"
            raise RuntimeError(msg)
        return real(*args, **kwargs)

    monkeypatch.setattr(forked_report, where, fails_in_the_copy)
    assert write_page(built, streets, tmp_path / "report.html", fork=True)
    assert (tmp_path / "report.html").read_text("utf-8") == page
    assert children() == []


def test_write_outputs_with_the_fork_writes_the_same_files(
    tmp_path: Path,
    built: CoverageResult,
    helsinki_network: WalkNetwork,
    monkeypatch: pytest.MonkeyPatch,
    children: Children,
) -> None:
    streets = helsinki_network.edges
    write_outputs(built, tmp_path / "here", streets=streets)
    forks: list[bool] = []
    real = forked_report.ReportWriter._start

    def start(self: forked_report.ReportWriter) -> None:
        real(self)
        forks.append(self.forked)

    monkeypatch.setattr(forked_report.ReportWriter, "_start", start)
    always_fork(monkeypatch)
    write_outputs(built, tmp_path / "forked", streets=streets)
    assert forks == [True]
    for name in ("map.html", "demand.csv", "stations.csv", "gaps.csv"):
        here = (tmp_path / "here" / name).read_bytes()
        assert (tmp_path / "forked" / name).read_bytes() == here, name
    summary = json.loads((tmp_path / "forked" / "summary.json").read_text("utf-8"))
    whole = (tmp_path / "forked" / "map.html").read_text("utf-8")
    page = coverage_report(built, summary=summary, streets=streets, map_html=whole)
    assert (tmp_path / "forked" / "report.html").read_text("utf-8") == page
    assert children() == []


def test_a_failure_here_stops_the_copy_and_leaves_no_folder(
    tmp_path: Path,
    built: CoverageResult,
    helsinki_network: WalkNetwork,
    monkeypatch: pytest.MonkeyPatch,
    children: Children,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        assert len(children()) == 2, "the copies write the tables and page meanwhile"
        msg = "simulated failure while making the map"
        raise RuntimeError(msg)

    always_fork(monkeypatch)
    monkeypatch.setattr(export, "pending_map", fail)
    with pytest.raises(RuntimeError, match="simulated"):
        write_outputs(built, tmp_path / "out", streets=helsinki_network.edges)
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []
    assert children() == []


def test_small_runs_make_their_page_here(
    tmp_path: Path, built: CoverageResult, helsinki_network: WalkNetwork
) -> None:
    assert len(built.demand) < forked.FORK_MIN_DEMAND_POINTS
    assert not write_page(built, helsinki_network.edges, tmp_path / "report.html")
