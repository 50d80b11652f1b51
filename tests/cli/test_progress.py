"""Tests of cli.progress: stage lines, the bar, and silence with --quiet."""

from __future__ import annotations

import io

import pytest

from planner.cli.progress import StageDisplay
from planner.pipeline.progress import Stage, Stages


def test_plain_lines_name_each_stage() -> None:
    out = io.StringIO()
    display = StageDisplay(bar=False, out=out)
    stages = Stages(("reading", "analysing", "writing"), display)
    for name in ("reading", "analysing", "writing"):
        stages.start(name)
    stages.done()

    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "planner: [1/3] reading",
        "planner: [2/3] analysing",
        "planner: [3/3] writing",
    ]


def test_quiet_shows_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    display = StageDisplay(quiet=True)
    display(Stage(1, 2, "reading"))
    display(Stage(3, 2, "done"))
    assert capsys.readouterr() == ("", "")


def test_the_bar_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    display = StageDisplay(bar=True)
    display(Stage(1, 2, "reading"))
    display(Stage(2, 2, "writing"))
    display(Stage(3, 2, "done"))
    display.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "writing" in captured.err


def test_stages_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="planner.pipeline"):
        Stages(("one",), None).start("one")
    assert "stage 1/1: one" in caplog.text
