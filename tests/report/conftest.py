"""Fixtures of the report tests: a grid run and the output folder written from it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psutil
import pytest
from helpers import REJECTED, RUN_CONFIG, Children, grid_homes, grid_stations, grid_streets, points

from planner.report.export import write_outputs
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network


@pytest.fixture(scope="module")
def network() -> WalkNetwork:
    """The 3x3 grid plus an island street, islands kept (tests/helpers.py)."""
    return build_walk_network(grid_streets(island=True), keep_islands=True)


@pytest.fixture(scope="module")
def result(network: WalkNetwork) -> CoverageResult:
    """Grid result with H1..H7 and H8 on the island (unreachable)."""
    homes = pd.concat(
        [grid_homes(), points({"H8": (1050.0, 5.0)}, population=[8.0])], ignore_index=True
    )
    return analyze_coverage(network, grid_stations(), homes, config=RUN_CONFIG)


@pytest.fixture
def written(tmp_path: Path, result: CoverageResult, network: WalkNetwork) -> Path:
    out = tmp_path / "out"
    write_outputs(
        result,
        out,
        inputs={"network": "grid", "stations": "A, B", "demand": "H1..H8"},
        rejected={"stations": REJECTED, "demand": REJECTED.iloc[:0]},
        streets=network.edges,
    )
    return out


@pytest.fixture
def children() -> Children:
    """This process' children started since the test began, as a call.

    Other tests' servers and workers may still run beside the test: they are left out.
    """
    before = {c.pid for c in psutil.Process().children(recursive=True)}

    def started() -> list[psutil.Process]:
        return [c for c in psutil.Process().children(recursive=True) if c.pid not in before]

    return started
