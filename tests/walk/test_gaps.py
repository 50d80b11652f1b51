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


def _reference_zones(xy: np.ndarray, link_m: float) -> tuple[set[frozenset[int]], list[float]]:
    """The obvious clustering: one union of every home's buffer, homes by the part they are in."""
    pts = shapely.points(xy)
    parts = shapely.get_parts(shapely.union_all(shapely.buffer(pts, link_m / 2.0, quad_segs=4)))
    pt_idx, part_idx = shapely.STRtree(parts).query(pts, predicate="within")
    groups: dict[int, set[int]] = {}
    for p, z in zip(pt_idx.tolist(), part_idx.tolist(), strict=True):
        groups.setdefault(z, set()).add(p)
    return {frozenset(g) for g in groups.values()}, sorted(round(g.area, 3) for g in parts)


@pytest.mark.parametrize("seed", range(4))
def test_clustering_equals_one_union_of_all_buffers(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # clumps and scattered homes, plus homes exactly one link apart (their 16-gon buffers
    # may or may not touch) and homes at the same place
    xy = np.vstack(
        [
            rng.normal(0, 120, size=(300, 2)) + rng.uniform(0, 3000, size=(1, 2)),
            rng.uniform(0, 3000, size=(400, 2)),
            [[5000.0, 5000.0], [5150.0, 5000.0], [5000.0, 5150.0], [5106.0, 5106.0]],
            [[6000.0, 6000.0], [6000.0, 6000.0]],
        ]
    )
    clusters = cluster_unserved(xy, np.ones(len(xy), dtype=bool), link_m=150.0)
    zones, areas = _reference_zones(xy, 150.0)
    assert _zones(clusters) == zones
    assert sorted(round(g.area, 3) for g in clusters.outlines.values()) == areas
    for label, outline in clusters.outlines.items():  # each home inside its own zone
        homes = np.flatnonzero(clusters.zone_of == label)
        assert shapely.contains(outline, shapely.points(xy[homes])).all()
