"""Tests of the ``planner`` parser (planner.cli.parser): the options of each command."""

from __future__ import annotations

import pytest

from planner.cli import main
from planner.cli.parser import build_parser


def _options(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


def test_each_command_offers_only_the_options_it_uses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    suggest = _options("suggest", capsys)
    assert "--lang" not in suggest
    assert "--pdf" not in suggest
    assert "--minutes" in suggest
    assert "--overwrite" in suggest
    for command in ("demo", "analyze", "report"):
        text = _options(command, capsys)
        assert "--lang" in text, command
        assert "--pdf" in text, command


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["analyze", "--netwrok", "x.osm.pbf", "--stations", "s.csv", "--out", "o"],
            "planner analyze: error: unknown option --netwrok; did you mean --network?",
        ),
        (
            ["analyze", "--network=x.osm.pbf", "--stattions=s.csv", "--out", "o"],
            "planner analyze: error: unknown option --stattions; did you mean --stations?",
        ),
        (
            ["demo", "--minutse", "10"],
            "planner demo: error: unknown option --minutse; did you mean --minutes?",
        ),
        (
            ["suggest", "--lang", "zh", "--network", "x", "--stations", "s", "--k", "1"],
            "planner suggest: error: unknown option --lang\n",
        ),
        (
            ["report", "folder", "--overwirte"],
            "planner report: error: unknown option --overwirte; did you mean --overwrite?",
        ),
    ],
)
def test_an_unknown_option_is_named_with_the_option_meant(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "usage:" not in err  # two lines, not the whole usage
    assert len(err.splitlines()) == 2


def test_abbreviations_negative_numbers_and_positionals_are_not_unknown_options() -> None:
    parser = build_parser()
    args = parser.parse_args(["demo", "--minu", "10", "--out", "o"])
    assert args.minutes == 10.0
    args = parser.parse_args(["report", "--", "--folder-named-like-an-option"])
    assert args.results == "--folder-named-like-an-option"


def test_a_negative_number_is_refused_as_a_number_not_as_an_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--minutes", "-3"])
    assert info.value.code == 2
    assert "argument --minutes: must be a positive number, got -3" in capsys.readouterr().err
