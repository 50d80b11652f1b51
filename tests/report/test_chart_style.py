"""The charts' glyph warnings stay quiet while other threads swap the warning filters.

``warnings.catch_warnings`` swaps the filters of the whole process; pyogrio's GeoPackage
writer enters and leaves one in ``write_outputs``' writer thread while the report's charts
are drawn. Under the suite's ``error`` filter a glyph warning that gets through fails the
test (CI once failed so on a Chinese report).
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import pytest

from planner.report import export
from planner.report.chart_style import quiet_glyphs
from planner.walk.coverage import CoverageResult
from planner.walk.network import WalkNetwork

GLYPH = "Glyph 21040 (\\N{CJK UNIFIED IDEOGRAPH-5230}) missing from font(s) DejaVu Sans."


def test_the_filter_outlives_a_thread_that_puts_back_what_it_found() -> None:
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with warnings.catch_warnings():
            inside.set()
            leave.wait(timeout=30)

    with quiet_glyphs():
        thread = threading.Thread(target=other)
        thread.start()
        inside.wait(timeout=30)
        leave.set()
        thread.join()  # it put back the filters it found: ours among them
        warnings.warn(GLYPH, UserWarning, stacklevel=1)  # ignored, not an error
    with pytest.raises(UserWarning, match="Glyph 21040"):
        warnings.warn(GLYPH, UserWarning, stacklevel=1)  # outside: the suite's error


def test_write_outputs_starts_its_writer_thread_with_the_filter_in_place(
    tmp_path: Path,
    result: CoverageResult,
    network: WalkNetwork,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = export.write_geopackage
    warned: list[str] = []

    def writer(*args: object, **kwargs: object) -> None:
        with warnings.catch_warnings():  # as pyogrio's writer does
            warnings.warn(GLYPH, UserWarning, stacklevel=1)  # an error unless quiet
            warned.append(threading.current_thread().name)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(export, "write_geopackage", writer)
    export.write_outputs(result, tmp_path / "out", streets=network.edges, language="zh")
    assert warned
    assert all(name.startswith("planner-gpkg") for name in warned)
    assert (tmp_path / "out" / "coverage.gpkg").exists()
