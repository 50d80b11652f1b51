"""Gap zones: updating around changed homes gives the same zones as clustering anew."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from planner.walk.gaps import cluster_unserved, update_clusters


def _zones(clusters) -> set[frozenset[int]]:  # type: ignore[no-untyped-def]
    groups: dict[int, set[int]] = {}
    for home, zone in enumerate(clusters.zone_of):
        if zone >= 0:
            groups.setdefault(int(zone), set()).add(home)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("seed", range(5))
def test_updates_equal_a_fresh_clustering(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 2000, size=(600, 2))
    tree = shapely.STRtree(shapely.points(xy))
    unserved = rng.random(600) < 0.5
    clusters = cluster_unserved(xy, unserved, link_m=150.0)
    for _ in range(8):
        # An edit flips the homes around one place: some become served, some not.
        centre = rng.uniform(0, 2000, size=2)
        near = np.flatnonzero(np.hypot(*(xy - centre).T) < rng.uniform(100, 400))
        unserved = unserved.copy()
        unserved[near] = rng.random(near.size) < 0.3
        clusters = update_clusters(clusters, xy, tree, unserved, link_m=150.0)
        fresh = cluster_unserved(xy, unserved, link_m=150.0)
        assert _zones(clusters) == _zones(fresh)
        areas = sorted(round(g.area, 3) for g in clusters.outlines.values())
        assert areas == sorted(round(g.area, 3) for g in fresh.outlines.values())
        assert set(clusters.outlines) == set(np.unique(clusters.zone_of[clusters.zone_of >= 0]))


def test_nothing_changed_keeps_the_same_object() -> None:
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [1000.0, 0.0]])
    unserved = np.array([True, True, True])
    clusters = cluster_unserved(xy, unserved, link_m=150.0)
    assert len(clusters.outlines) == 2
    tree = shapely.STRtree(shapely.points(xy))
    assert update_clusters(clusters, xy, tree, unserved, link_m=150.0) is clusters
    split = update_clusters(clusters, xy, tree, np.array([True, False, True]), link_m=150.0)
    assert len(split.outlines) == 2
    assert split.zone_of[1] == -1
