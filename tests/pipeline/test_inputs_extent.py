"""The street network's area that input points are checked against (``planner.pipeline.inputs``)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from planner.pipeline.inputs import _convex_hull


def geos_hull(xy: np.ndarray) -> shapely.Geometry:
    return shapely.convex_hull(shapely.multipoints(xy))


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 60), st.just(2)),
        elements=st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 1)),
    )
)
def test_the_hull_is_geos_hull(xy: np.ndarray) -> None:
    ours, theirs = _convex_hull(xy), geos_hull(xy)
    assert ours.geom_type == theirs.geom_type
    assert ours.equals(theirs) or ours.symmetric_difference(theirs).area < 1e-6 * max(
        theirs.area, 1.0
    )


@pytest.mark.parametrize(
    ("xy", "kind"),
    [
        ([[0.0, 0.0]], "Point"),
        ([[0.0, 0.0], [1.0, 1.0]], "LineString"),
        ([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], "LineString"),  # in a line
        ([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], "Point"),
        ([[0.0, 0.0], [4.0, 0.0], [0.0, 3.0], [1.0, 1.0]], "Polygon"),
    ],
)
def test_hulls_of_few_points_and_points_in_a_line(xy: list[list[float]], kind: str) -> None:
    hull = _convex_hull(np.array(xy))
    assert hull.geom_type == kind
    assert hull.equals(geos_hull(np.array(xy)))
