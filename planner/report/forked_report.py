"""The report page made by a forked copy of the process while this one writes the rest.

Writing a city's outputs is CPU work under one GIL: the report page (its charts and printed
overview map drawn by matplotlib, its tables) took as long as the map and the CSV files
together on the Porto metro extract. On a platform that can fork (Linux, macOS),
:func:`report_writer` forks the process when the writing starts: the copy has every input
already (nothing pickled, nothing imported) and makes the page on a second core
(:func:`~planner.report.deferred.pending_report`), while this process makes the map and
the tables; the band polygons and then the finished map go to the copy through a pipe
(:class:`~planner.report.forked.ForkedCopy`: the copy reads no future of this process'
threads).

The page is byte for byte the one made in one process (``tests/report/
test_forked_report.py``). Whatever goes wrong in the copy (an error, the copy killed, a
platform without ``fork``), the page is made here instead: the copy can make writing
faster, never change what is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import geopandas as gpd

from planner.report.deferred import PendingReport, finish_report, pending_report, report_overview
from planner.report.forked import ForkedCopy, can_fork, worth_forking
from planner.texts import Language
from planner.walk.coverage import CoverageResult


@dataclass(frozen=True)
class ReportInputs:
    """What :func:`~planner.report.deferred.pending_report` takes besides the result."""

    language: Language
    summary: Mapping[str, Any] | None
    streets: gpd.GeoDataFrame | None
    districts: gpd.GeoDataFrame | None
    district_name_column: str


class ReportWriter:
    """Makes and writes one report page; made by :func:`report_writer`.

    Hand it the band polygons when they are built (:meth:`send_polygons`, optional: it
    lets the copy draw the overview map while the map is made here), then :meth:`write`
    with the finished map.
    """

    def __init__(self, result: CoverageResult, inputs: ReportInputs, path: Path) -> None:
        self._result = result
        self._inputs = inputs
        self._path = path
        self._copy: ForkedCopy | None = None
        self._area_sent = False
        self._page: PendingReport | None = None

    @property
    def forked(self) -> bool:
        """Whether a forked copy is making the page."""
        return self._copy is not None

    def send_polygons(self) -> None:
        """Hand the band polygons to the copy (waits until they are built).

        Nothing to do when the page is made here, or when the copy has them.
        """
        if self._copy is None or self._area_sent:
            return
        self._area_sent = True
        self._copy.send(("polygons", self._result.coverage_area))

    def write(self, map_html: str) -> None:
        """Write the page with its map: the copy's page when it made it, else made here."""
        self.send_polygons()
        if self._copy is not None and self._copy.send(("map", map_html)):
            done, _ = self._copy.result()
            if done:
                return
        page = self._page or _pending_report(self._result, self._inputs)
        self._path.write_text(finish_report(page, map_html), "utf-8")

    def close(self) -> None:
        """Stop a copy still at work (after an error here) and reap it."""
        if self._copy is not None:
            self._copy.close()

    def _start(self) -> None:
        result, inputs, path = self._result, self._inputs, self._path
        area = _built_area(result)
        self._copy = ForkedCopy.start(lambda conn: _make_page(conn, result, inputs, path, area))
        self._area_sent = area is not None


@contextmanager
def report_writer(
    result: CoverageResult,
    path: Path,
    *,
    language: Language = "en",
    summary: Mapping[str, Any] | None = None,
    streets: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    district_name_column: str = "name",
    fork: bool | None = None,
) -> Iterator[ReportWriter]:
    """A writer of the report page of ``result`` to ``path``, in a forked copy when worth it.

    Parameters
    ----------
    result
        The result reported (its band polygons may still be being built).
    path
        Where :meth:`ReportWriter.write` writes the page.
    language, summary, streets, districts, district_name_column
        As :func:`~planner.report.deferred.pending_report` takes them.
    fork
        Make the page in a forked copy of the process (if the platform can fork). None
        (default): for a city-sized run (:func:`~planner.report.forked.worth_forking`).

    Yields
    ------
    ReportWriter
        Leaving the block stops a copy still at work (e.g. when writing failed here).
    """
    inputs = ReportInputs(language, summary, streets, districts, district_name_column)
    writer = ReportWriter(result, inputs, path)
    if fork is None:
        fork = worth_forking(len(result.demand))
    if fork and can_fork():
        writer._start()
    else:
        writer._page = _pending_report(result, inputs)
    try:
        yield writer
    finally:
        writer.close()


def _built_area(result: CoverageResult) -> gpd.GeoDataFrame | None:
    """The band polygons if they are built, else None (read before forking)."""
    layer = result.area_layer
    if isinstance(layer, Future):
        return layer.result() if layer.done() else None
    return layer


def _not_here(what: str) -> Future[gpd.GeoDataFrame]:
    """A future that fails when read: the copy must not wait on this process' threads."""
    future: Future[gpd.GeoDataFrame] = Future()
    future.set_exception(RuntimeError(f"The {what} are not in the report's process."))
    return future


def _settled(
    result: CoverageResult, area: gpd.GeoDataFrame | Future[gpd.GeoDataFrame]
) -> CoverageResult:
    """``result`` holding ``area`` and no future of the forking process' threads."""
    isochrones = _not_here("per-station isochrones")
    return dataclasses.replace(result, area_layer=area, isochrone_layer=isochrones)


def _pending_report(result: CoverageResult, inputs: ReportInputs) -> PendingReport:
    return pending_report(
        result,
        language=inputs.language,
        summary=inputs.summary,
        streets=inputs.streets,
        districts=inputs.districts,
        district_name_column=inputs.district_name_column,
    )


def _make_page(
    conn: Connection,
    result: CoverageResult,
    inputs: ReportInputs,
    path: Path,
    area: gpd.GeoDataFrame | None,
) -> None:  # pragma: no cover - runs in the forked copy, which coverage does not follow
    """The copy's work: make the page, draw the overview when the polygons come, write it."""
    waiting = _not_here("band polygons (not received yet)")
    page = _pending_report(_settled(result, waiting if area is None else area), inputs)
    overview = None if area is None else report_overview(page)
    while True:
        kind, value = conn.recv()
        if kind == "map":
            break
        page = dataclasses.replace(page, result=_settled(page.result, value))
        overview = report_overview(page)
    if overview is None:
        msg = "The band polygons never came to the report's process."
        raise RuntimeError(msg)
    path.write_text(finish_report(page, value, overview=overview), "utf-8")
