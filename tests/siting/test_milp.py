"""Tests of siting.milp: how HiGHS's reported bound is checked before it is trusted."""

from __future__ import annotations

import math

import pytest

from planner.siting.milp import _checked_bound


@pytest.mark.parametrize(
    ("raw", "objective", "maximize", "optimal", "expected"),
    [
        (20.0, 20.0, True, True, (20.0, True)),
        (0.0, 3.0, True, True, (3.0, True)),  # wrong side, solved in presolve: trust status
        (18.0, 27.0, False, True, (18.0, False)),  # valid bound, but "optimal" is not proven
        (30.0, 27.0, False, False, (math.nan, False)),  # wrong side, no proof: unknown
        (25.0, 27.0, False, False, (25.0, False)),
    ],
)
def test_checked_bound(
    raw: float, objective: float, maximize: bool, optimal: bool, expected: tuple[float, bool]
) -> None:
    bound, proven = _checked_bound(
        raw, objective, 0.0, maximize=maximize, optimal=optimal, mip_rel_gap=1e-4
    )
    if math.isnan(expected[0]):
        assert math.isnan(bound)
    else:
        assert bound == expected[0]
    assert proven == expected[1]
