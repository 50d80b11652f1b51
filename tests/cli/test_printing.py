"""Tests of what ``planner`` prints (planner.cli.printing): statuses and bounds in plain words."""

from __future__ import annotations

import math

import pytest

from planner.cli.printing import _count, _status


@pytest.mark.parametrize(
    ("status", "gap", "printed"),
    [
        ("heuristic", 0.0, "proven optimal"),  # the greedy's bound meets its solution
        ("optimal", 0.0, "proven optimal"),
        ("heuristic", 0.2222, "heuristic"),
        ("optimal", 5e-5, "optimal"),  # within the MIP tolerance: HiGHS's word
        ("time_limit", 0.01, "time_limit"),
        ("infeasible", 0.0, "infeasible"),
        ("heuristic", math.nan, "heuristic"),
    ],
)
def test_a_zero_gap_is_proven_optimal(status: str, gap: float, printed: str) -> None:
    assert _status(status, gap) == printed


@pytest.mark.parametrize(
    ("bound", "printed"),
    [(9.0, "9"), (8.97, "9"), (9.0000001, "9"), (1234.0, "1,234"), (math.nan, "n/a")],
)
def test_a_bound_on_a_count_of_sites_is_a_whole_number(bound: float, printed: str) -> None:
    assert _count(bound) == printed
