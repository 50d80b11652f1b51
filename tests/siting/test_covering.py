"""Tests of siting.covering: the preprocessing shared by the covering solvers."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from planner.siting.covering import collapse_rows


def test_collapse_rows_merges_identical_patterns() -> None:
    a = sparse.csr_array(np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0]], dtype=float))

    c = collapse_rows(a, np.array([1.0, 2.0, 3.0, 4.0]))

    assert c.class_of.tolist() == [0, -1, 0, 1]
    assert c.weight.tolist() == [4.0, 4.0]
    assert c.count.tolist() == [2, 1]
    assert c.matrix.toarray().tolist() == [[1, 0, 1], [0, 1, 0]]
