"""Gap zones kept on disk: read back equal to a fresh build, rebuilt when anything differs."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from helpers import count_calls, output_of_new_process

import planner.app.area_files as area_files
from planner.app.area_files import GAP_CACHE_SUBDIR, SNAP_CACHE_SUBDIR, gap_zones, snapped_homes
from planner.app.plan import build_plan
from planner.app.study_area import StudyArea, study_area
from planner.config import AnalysisConfig
from planner.walk.access import Snapped, snap_points
from planner.walk.gaps import GapClusters, cluster_unserved, outlines_wgs84
from planner.walk.network import WalkNetwork

CRS = "EPSG:3067"  # metric, Finland (the homes lie around Helsinki)
LINK_M = 120.0


def _homes(n: int = 400, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Homes in a few clumps around Helsinki (metric), about a third of them served."""
    rng = np.random.default_rng(seed)
    centres = np.array([[385_000.0, 6_672_000.0], [386_500.0, 6_673_000.0], [384_000, 6_674_500]])
    xy = centres[rng.integers(0, 3, n)] + rng.normal(0, 250, (n, 2))
    unserved = rng.random(n) > 0.33
    return xy, unserved


def _frame(
    zones: GapClusters, outlines: dict[int, shapely.Geometry] | None = None
) -> gpd.GeoDataFrame:
    """The zones as a table (label, homes, outline in WGS84), ordered by label."""
    wgs84 = outlines if outlines is not None else zones.outlines_wgs84
    assert wgs84 is not None
    labels = sorted(zones.outlines)
    return gpd.GeoDataFrame(
        {
            "label": labels,
            "homes": [int(np.count_nonzero(zones.zone_of == k)) for k in labels],
            "metric": gpd.GeoSeries([zones.outlines[k] for k in labels]),
        },
        geometry=[wgs84[k] for k in labels],
        crs="EPSG:4326",
    )


def _fresh(xy: np.ndarray, unserved: np.ndarray, link_m: float = LINK_M) -> gpd.GeoDataFrame:
    built = cluster_unserved(xy, unserved, link_m=link_m)
    return _frame(built, outlines_wgs84(built, CRS))


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / GAP_CACHE_SUBDIR).glob("*.npz"))


def test_stored_zones_read_back_equal_to_a_fresh_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xy, unserved = _homes()
    builds = count_calls(monkeypatch, area_files, "cluster_unserved")
    first = gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=tmp_path, min_homes=0)
    assert len(builds) == 1
    assert len(_entries(tmp_path)) == 1
    again = gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=tmp_path, min_homes=0)
    assert len(builds) == 1  # read back, not built
    fresh = _fresh(xy, unserved)
    assert len(fresh) > 5  # several zones, some of many homes
    assert fresh["homes"].max() > 20
    for zones in (first, again):
        assert np.array_equal(zones.zone_of, cluster_unserved(xy, unserved, link_m=LINK_M).zone_of)
        assert zones.next_label == len(fresh)
        assert_geodataframe_equal(_frame(zones), fresh, check_less_precise=False)
    assert not again.zone_of.flags.writeable


def test_a_new_process_reads_back_what_this_one_stored(tmp_path: Path) -> None:
    xy, unserved = _homes()
    np.save(tmp_path / "xy.npy", xy)
    np.save(tmp_path / "unserved.npy", unserved)
    gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=tmp_path / "cache", min_homes=0)
    script = f"""
        import numpy as np
        import planner.app.area_files as area_files
        from planner.walk.gaps import outlines_wgs84

        def refuse(*args, **kwargs):
            raise AssertionError("built again in a new process")

        xy = np.load({str(tmp_path / "xy.npy")!r})
        unserved = np.load({str(tmp_path / "unserved.npy")!r})
        fresh = area_files.cluster_unserved(xy, unserved, link_m={LINK_M})
        area_files.cluster_unserved = refuse
        zones = area_files.gap_zones(
            xy, unserved, link_m={LINK_M}, crs={CRS!r}, cache_dir={str(tmp_path / "cache")!r},
            min_homes=0,
        )
        assert np.array_equal(zones.zone_of, fresh.zone_of)
        assert zones.outlines.keys() == fresh.outlines.keys()
        assert all(zones.outlines[k].equals_exact(g, 0) for k, g in fresh.outlines.items())
        wgs84 = outlines_wgs84(fresh, {CRS!r})
        assert all(zones.outlines_wgs84[k].equals_exact(g, 0) for k, g in wgs84.items())
        print(len(fresh.outlines))
        """
    printed = output_of_new_process(script)
    assert int(printed) == len(_fresh(xy, unserved))


def test_any_change_of_what_the_zones_depend_on_rebuilds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xy, unserved = _homes()
    builds = count_calls(monkeypatch, area_files, "cluster_unserved")
    gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=tmp_path, min_homes=0)
    moved = xy.copy()
    moved[5, 0] += 0.5  # one home half a metre east
    one_served = unserved.copy()
    one_served[np.flatnonzero(unserved)[0]] = False
    changes = [
        (moved, unserved, LINK_M),
        (xy, one_served, LINK_M),
        (xy, unserved, LINK_M + 30.0),
    ]
    for k, (xy2, unserved2, link2) in enumerate(changes, start=2):
        zones = gap_zones(xy2, unserved2, link_m=link2, crs=CRS, cache_dir=tmp_path, min_homes=0)
        assert len(builds) == k
        assert_geodataframe_equal(_frame(zones), _fresh(xy2, unserved2, link2))
    assert len(_entries(tmp_path)) == 4
    gap_zones(xy, unserved, link_m=LINK_M + 30.0, crs=CRS, cache_dir=tmp_path, min_homes=0)
    assert len(builds) == 4  # each of them is kept


@pytest.mark.parametrize(
    "damage",
    ["truncate", "garbage", "empty", "other_key", "other_zones"],
)
def test_a_broken_entry_is_rebuilt_never_an_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    xy, unserved = _homes()
    gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=tmp_path, min_homes=0)
    (entry,) = _entries(tmp_path)
    raw = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a whole file, but stored for other homes: copied over this entry
        other_xy, other_unserved = _homes(seed=8) if damage == "other_key" else (xy, unserved)
        if damage == "other_zones":
            other_unserved = unserved.copy()
            other_unserved[np.flatnonzero(unserved)[:3]] = False
        elsewhere = tmp_path / "elsewhere"
        gap_zones(
            other_xy, other_unserved, link_m=LINK_M, crs=CRS, cache_dir=elsewhere, min_homes=0
        )
        (other,) = _entries(elsewhere)
        if damage == "other_zones":  # the right key, zones of other homes
            with np.load(other) as data:
                arrays = dict(data)
            with np.load(entry) as data:
                arrays["key"] = data["key"]
            with entry.open("wb") as f:
                np.savez(f, **arrays)
        else:
            entry.write_bytes(other.read_bytes())
    builds = count_calls(monkeypatch, area_files, "cluster_unserved")
    with caplog.at_level(logging.WARNING, logger="planner.app.area_files"):
        zones = gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=tmp_path, min_homes=0)
    assert len(builds) == 1
    assert "unusable" in caplog.text
    assert entry.name in caplog.text
    assert_geodataframe_equal(_frame(zones), _fresh(xy, unserved))
    again = gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=tmp_path, min_homes=0)
    assert len(builds) == 1  # the rebuilt entry replaced the broken one
    assert_geodataframe_equal(_frame(again), _fresh(xy, unserved))


def test_an_unwritable_cache_folder_still_gives_the_zones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    xy, unserved = _homes()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="planner.app.area_files"):
        zones = gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=blocked, min_homes=0)
    assert "Could not store" in caplog.text
    assert_geodataframe_equal(_frame(zones), _fresh(xy, unserved))
    assert blocked.read_text() == "not a folder"


def test_few_unserved_homes_are_not_stored(tmp_path: Path) -> None:
    xy, unserved = _homes()
    zones = gap_zones(xy, unserved, link_m=LINK_M, crs=CRS, cache_dir=tmp_path, min_homes=10_000)
    assert not _entries(tmp_path)
    assert zones.outlines_wgs84 is None
    assert np.array_equal(zones.zone_of, cluster_unserved(xy, unserved, link_m=LINK_M).zone_of)


def test_old_entries_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(area_files, "GAP_CACHE_KEEP", 2)
    xy, unserved = _homes(n=60)
    for link in (50.0, 60.0, 70.0):
        gap_zones(xy, unserved, link_m=link, crs=CRS, cache_dir=tmp_path, min_homes=0)
    assert len(_entries(tmp_path)) == 2


def test_a_plan_reads_its_stored_zones_and_rebuilds_on_other_settings(
    helsinki_area: StudyArea, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(area_files, "GAP_CACHE_MIN_HOMES", 0)
    builds = count_calls(monkeypatch, area_files, "cluster_unserved")
    reference = build_plan(helsinki_area).gaps
    assert len(builds) == 1
    assert len(reference) > 3
    again = build_plan(helsinki_area).gaps  # a new plan: the zones read back
    assert len(builds) == 1
    assert_geodataframe_equal(again, reference)
    monkeypatch.setattr(area_files, "GAP_CACHE_MIN_HOMES", 10**9)  # no cache at all
    assert_geodataframe_equal(build_plan(helsinki_area).gaps, reference)
    monkeypatch.setattr(area_files, "GAP_CACHE_MIN_HOMES", 0)
    shorter = AnalysisConfig(walk_minutes=10.0)
    changed = build_plan(helsinki_area, config=shorter).gaps  # more homes unserved
    assert len(builds) == 3  # built: 1 stored, 1 with no cache, this one
    monkeypatch.setattr(area_files, "GAP_CACHE_MIN_HOMES", 10**9)
    assert_geodataframe_equal(changed, build_plan(helsinki_area, config=shorter).gaps)
    assert not changed["homes"].equals(reference["homes"])
    # populations are not part of the key: the same zones read back, their figures new
    monkeypatch.setattr(area_files, "GAP_CACHE_MIN_HOMES", 0)
    more = helsinki_area.demand.assign(population=helsinki_area.demand["population"] * 2)
    before = len(builds)
    doubled = build_plan(
        study_area(helsinki_area.network, more, name="x", stations=helsinki_area.stations)
    ).gaps
    assert len(builds) == before
    assert np.allclose(doubled["population"], reference["population"] * 2)
    assert doubled.geometry.geom_equals_exact(reference.geometry, tolerance=0).all()


def _points(network: WalkNetwork, n: int = 3_000, seed: int = 5) -> gpd.GeoSeries:
    """Random points over the network's box (some far from any street), in WGS84."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = network.edges.total_bounds
    xy = np.column_stack([rng.uniform(minx - 300, maxx, n), rng.uniform(miny, maxy + 300, n)])
    metric = gpd.GeoSeries(shapely.points(xy), crs=network.crs, index=np.arange(n) * 3 + 1)
    return metric.to_crs("EPSG:4326")


def _snap_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = area_files.snap_points

    def counted(*args: object, **kwargs: object) -> Snapped:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(area_files, "snap_points", counted)
    return calls


def _same_snap(a: Snapped, b: Snapped) -> None:
    assert a.index.equals(b.index)
    assert np.array_equal(a.edge, b.edge)
    assert np.array_equal(a.offset_m, b.offset_m)
    assert np.array_equal(a.snap_m, b.snap_m, equal_nan=True)


def test_snapped_homes_read_back_equal_and_rebuilt_on_any_change(
    helsinki_network: WalkNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = _points(helsinki_network)
    reference = snap_points(helsinki_network, points, max_snap_m=100.0)
    assert 0 < int(np.count_nonzero(reference.edge < 0)) < len(points) // 2  # some off-network
    calls = _snap_calls(monkeypatch)

    def snapped(net: WalkNetwork, pts: gpd.GeoSeries, snap_m: float = 100.0) -> Snapped:
        return snapped_homes(net, pts, max_snap_m=snap_m, cache_dir=tmp_path, min_points=0)

    _same_snap(snapped(helsinki_network, points), reference)
    _same_snap(snapped(helsinki_network, points), reference)
    assert len(calls) == 1  # the second read back
    moved = points.copy()
    moved.iloc[7] = shapely.Point(moved.iloc[7].x + 1e-5, moved.iloc[7].y)
    longer = helsinki_network.edges.assign(length_m=helsinki_network.edges["length_m"] * 1.01)
    other_net = replace(helsinki_network, edges=longer)
    for k, (net, pts, snap_m) in enumerate(
        [
            (helsinki_network, moved, 100.0),
            (helsinki_network, points, 50.0),
            (other_net, points, 100.0),
        ],
        start=2,
    ):
        _same_snap(snapped(net, pts, snap_m), snap_points(net, pts, max_snap_m=snap_m))
        assert len(calls) == k  # snapped again
    # the index is the points', not the stored one
    renamed = points.set_axis(np.arange(len(points)) + 1000)
    assert snapped(helsinki_network, renamed).index.equals(renamed.index)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "edge_out_of_range"])
def test_a_broken_snap_entry_is_rebuilt(
    helsinki_network: WalkNetwork,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    points = _points(helsinki_network, n=500)
    snapped_homes(helsinki_network, points, max_snap_m=100.0, cache_dir=tmp_path, min_points=0)
    (entry,) = sorted((tmp_path / SNAP_CACHE_SUBDIR).glob("*.npz"))
    if damage == "truncate":
        entry.write_bytes(entry.read_bytes()[:300])
    elif damage == "garbage":
        entry.write_bytes(b"\x93NUMPY" + b"\xff" * 999)
    else:
        with np.load(entry) as data:
            arrays = dict(data)
        arrays["edge"] = arrays["edge"].copy()
        arrays["edge"][0] = len(helsinki_network.edges) + 5
        with entry.open("wb") as f:
            np.savez(f, **arrays)
    calls = _snap_calls(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="planner.app.area_files"):
        got = snapped_homes(
            helsinki_network, points, max_snap_m=100.0, cache_dir=tmp_path, min_points=0
        )
    assert len(calls) == 1
    assert "unusable" in caplog.text
    _same_snap(got, snap_points(helsinki_network, points, max_snap_m=100.0))
