"""Gap zones: updating around changed homes gives the same zones as clustering anew."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.walk.gaps import (
    cluster_unserved,
    gap_table,
    gap_table_from_arrays,
    outlines_wgs84,
    update_clusters,
)


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


def _reference_table(clusters, demand: gpd.GeoDataFrame) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The gap figures by a pandas groupby, row by row as documented (slow, obvious)."""
    homes = np.flatnonzero(clusters.zone_of >= 0)
    rows = []
    for zone in np.unique(clusters.zone_of[homes]):
        mine = homes[clusters.zone_of[homes] == zone]
        walk = demand["walk_min"].to_numpy(dtype=float)[mine]
        reach = np.where(np.isnan(walk), np.inf, walk)
        best = mine[int(np.argmin(reach))]
        near = demand["nearest_station"].iloc[best]
        rows.append(
            {
                "first": mine.min(),
                "homes": mine.size,
                "population": demand["population"].to_numpy()[mine].sum(),
                "walk_min_nearest": pd.Series(walk).min(),
                "walk_min_median": pd.Series(walk).median(),
                "nearest_station": None if np.isinf(reach.min()) or pd.isna(near) else str(near),
                "homes_off_network": int(
                    (demand["status"].to_numpy()[mine] == "off_network").sum()
                ),
            }
        )
    table = pd.DataFrame(rows).sort_values(
        ["population", "homes", "first"], ascending=[False, False, True], kind="mergesort"
    )
    table.insert(0, "gap_id", np.arange(1, len(table) + 1))
    table["nearest_station"] = pd.Series(
        [r["nearest_station"] for r in rows], dtype=object
    ).reindex(table.index)
    return table.drop(columns="first").reset_index(drop=True)


@pytest.mark.parametrize("seed", range(6))
def test_gap_tables_equal_a_groupby_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1500
    xy = rng.uniform(0, 12000, size=(n, 2)) + np.array([500_000.0, 6_670_000.0])
    clusters = cluster_unserved(xy, rng.random(n) < 0.6, link_m=150.0)
    # whole numbers of people (ties between zones) in half the cases; some homes with no
    # station reachable, some off the network
    pop = rng.integers(1, 4, n).astype(float) if seed % 2 else rng.uniform(0, 50, n)
    walk = np.where(rng.random(n) < 0.2, np.nan, rng.integers(16, 30, n).astype(float))
    nearest = np.where(np.isnan(walk), -1, rng.integers(0, 7, n))
    ids = np.array([f"S{i}" for i in range(7)], dtype=object)
    off = rng.random(n) < 0.1
    demand = gpd.GeoDataFrame(
        {
            "population": pop,
            "walk_min": walk,
            "nearest_station": pd.Series(ids[np.maximum(nearest, 0)], dtype="string").where(
                nearest >= 0
            ),
            "status": np.where(off, "off_network", "beyond_limit"),
        },
        geometry=shapely.points(xy),
        crs="EPSG:32635",
    )
    ref = _reference_table(clusters, demand)
    from_layer = gap_table(clusters, demand, "EPSG:32635")
    from_arrays = gap_table_from_arrays(
        clusters,
        population=pop,
        walk_min=walk,
        off_network=off,
        home_nearest=nearest,
        station_ids=list(ids),
        outlines=outlines_wgs84(clusters, "EPSG:32635"),
    )
    assert len(ref) > 100
    for got in (from_layer, from_arrays):
        pd.testing.assert_frame_equal(
            pd.DataFrame(got.drop(columns="geometry")), ref, check_exact=False, rtol=1e-12
        )
    assert shapely.equals_exact(
        from_layer.geometry.to_numpy(), from_arrays.geometry.to_numpy(), tolerance=0.0
    ).all()
