"""The walk engine's comparison cases, one per random graph and one on Helsinki."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import pytest
from walk_reference import CASES, Case, helsinki_case, random_case


@pytest.fixture(scope="module", params=CASES)
def case(request: pytest.FixtureRequest) -> Case:
    if request.param == "helsinki":
        return helsinki_case(request.getfixturevalue("helsinki_network"))
    make: Callable[[int], nx.MultiDiGraph] = request.getfixturevalue("random_street_graph")
    seed = int(request.param.split("-")[1])
    return random_case(make(seed), seed)
