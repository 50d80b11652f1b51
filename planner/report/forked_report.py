"""The report page made by a forked copy of the process while this one writes the rest.

Writing a city's outputs is CPU work under one GIL: the report page (its charts and printed
overview map drawn by matplotlib, its tables) took as long as the map and the CSV files
together on the Porto metro extract. On a platform that can fork (Linux, macOS),
:func:`report_writer` forks the process when the writing starts: the copy has every input
already (nothing pickled, nothing imported) and makes the page on a second core
(:func:`~planner.report.deferred.pending_report`), while this process makes the map and
the tables; the band polygons and then the finished map go to the copy through a pipe.
The copy only computes and writes the page's file: it prints nothing (another thread of
this process may hold a stream's lock when it forks), reads no future of this process'
threads (the polygons come through the pipe) and leaves with ``os._exit``.

The page is byte for byte the one made in one process (``tests/report/
test_forked_report.py``). Whatever goes wrong in the copy (an error, the copy killed, a
platform without ``fork``), the page is made here instead: the copy can make writing
faster, never change what is written.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any

import geopandas as gpd

from planner.report.deferred import PendingReport, finish_report, pending_report, report_overview
from planner.texts import Language
from planner.walk.coverage import CoverageResult

log = logging.getLogger(__name__)

#: Runs with fewer demand points than this make their page in this process: forking costs
#: more than the page of a district-sized run saves.
FORK_MIN_DEMAND_POINTS = 20_000


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
        self._pid: int | None = None
        self._conn: Connection | None = None
        self._area_sent = False
        self._page: PendingReport | None = None

    @property
    def forked(self) -> bool:
        """Whether a forked copy is making the page."""
        return self._pid is not None

    def send_polygons(self) -> None:
        """Hand the band polygons to the copy (waits until they are built).

        Nothing to do when the page is made here, or when the copy has them.
        """
        if self._conn is None or self._area_sent:
            return
        self._area_sent = True
        self._send(("polygons", self._result.coverage_area))

    def write(self, map_html: str) -> None:
        """Write the page with its map: the copy's page when it made it, else made here."""
        self.send_polygons()
        if self._send(("map", map_html)):
            reply = self._receive()
            self._reap()
            if reply == ("written", None):
                return
            log.debug("The report's process failed; the page is made here: %s", reply)
        page = self._page or _pending_report(self._result, self._inputs)
        self._path.write_text(finish_report(page, map_html), "utf-8")

    def close(self) -> None:
        """Stop a copy still at work (after an error here) and reap it."""
        if self._pid is not None:
            with _gone_already():
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _start(self) -> None:
        ours, theirs = Pipe(duplex=True)
        area = _built_area(self._result)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the copy ends in os._exit, unseen by coverage
            ours.close()
            _make_page(theirs, self._result, self._inputs, self._path, area)
        theirs.close()
        self._pid, self._conn = pid, ours
        self._area_sent = area is not None

    def _send(self, message: tuple[str, Any]) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.send(message)
        except OSError as err:  # the copy is gone: the page is made here
            log.debug("The report's process is gone (%s); the page is made here.", err)
            self._reap()
            return False
        return True

    def _receive(self) -> object:
        if self._conn is None:
            return None
        try:
            reply: object = self._conn.recv()
        except (EOFError, OSError) as err:
            reply = ("failed", f"it ended without a word ({err!r})")
        return reply

    def _reap(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._pid is not None:
            with _gone_already():
                os.waitpid(self._pid, 0)
            self._pid = None


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
        Make the page in a forked copy of the process. None (default): when the platform
        can fork and the run has at least :data:`FORK_MIN_DEMAND_POINTS` demand points.

    Yields
    ------
    ReportWriter
        Leaving the block stops a copy still at work (e.g. when writing failed here).
    """
    inputs = ReportInputs(language, summary, streets, districts, district_name_column)
    writer = ReportWriter(result, inputs, path)
    if fork is None:
        fork = len(result.demand) >= FORK_MIN_DEMAND_POINTS
    if fork and hasattr(os, "fork"):
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
    """The forked copy's whole life: make the page, write it, say so, leave."""
    code = 1
    try:
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115  # closed by _exit
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
        conn.send(("written", None))
        code = 0
    except BaseException:  # any failure: the parent makes the page itself
        with _gone_already():
            conn.send(("failed", traceback.format_exc()))
    finally:
        os._exit(code)


def _gone_already() -> suppress:
    """Ignore that the copy is gone already (killed, reaped)."""
    return suppress(OSError, ChildProcessError)
