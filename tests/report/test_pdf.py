"""Tests of report.pdf: without an engine, the error says how to get one."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import PdfEngineError
from planner.report.pdf import find_pdf_engine, pdf_from_html


def test_pdf_without_an_engine_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on this PATH
    assert find_pdf_engine() is None
    with pytest.raises(PdfEngineError, match="install Chromium") as info:
        pdf_from_html(tmp_path / "report.html", tmp_path / "report.pdf")
    assert isinstance(info.value, RuntimeError)
    assert not (tmp_path / "report.pdf").exists()
