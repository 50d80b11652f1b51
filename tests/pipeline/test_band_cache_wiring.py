"""The pipeline keeps the band polygons beside the built networks, only with that cache on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import shapely
from helpers import count_calls
from test_cli import PBF

import planner.walk.band_cache as band_cache
from planner.config import AnalysisConfig
from planner.pipeline.analysis import run_analysis
from planner.pipeline.inputs import InputOptions
from planner.pipeline.region_task import RegionFiles
from planner.pipeline.suggest import run_suggest
from planner.sources.download import default_cache_dir
from planner.walk.band_cache import BAND_CACHE_SUBDIR, band_cache_folder

STATIONS = str(Path(__file__).resolve().parents[2] / "data" / "helsinki_stations_example.csv")
#: 5 minutes: the example stations leave real gaps in the small extract.
CONFIG = AnalysisConfig(walk_minutes=5.0, max_isochrone_stations=0)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Store even the small extract's bands, and count the builds made through the cache."""
    monkeypatch.setattr(band_cache, "BAND_CACHE_MIN_SPANS", 0)
    return count_calls(monkeypatch, band_cache, "isochrone_polygons")


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / BAND_CACHE_SUBDIR).glob("*.npz"))


def test_the_band_folder_follows_the_network_cache(tmp_path: Path) -> None:
    assert InputOptions(cache_dir=tmp_path).band_cache_dir() == tmp_path
    assert InputOptions(cache_dir=str(tmp_path)).band_cache_dir() == tmp_path
    assert InputOptions().band_cache_dir() == default_cache_dir()
    assert InputOptions(cache_dir=tmp_path, network_cache=False).band_cache_dir() is None
    # A region's areas (one task each) use the folder of the region's network cache.
    files = RegionFiles(network="n.osm.pbf", stations="s.parquet", homes="h.parquet")

    def folder(f: RegionFiles) -> Path | None:  # as region_task.area_runs chooses it
        return band_cache_folder(f.cache_dir, network_cache=f.network_cache)

    assert folder(replace(files, cache_dir=str(tmp_path))) == tmp_path
    assert folder(files) == default_cache_dir()
    assert folder(replace(files, cache_dir=str(tmp_path), network_cache=False)) is None


def test_a_second_analysis_reads_the_bands_back(tmp_path: Path, builds: list[int]) -> None:
    options = InputOptions(cache_dir=tmp_path / "cache")
    first = run_analysis(PBF, STATIONS, tmp_path / "en", config=CONFIG, options=options)
    # The whole set's bands, and each station category's (two categories in the file).
    assert len(builds) == 3
    assert len(_entries(tmp_path / "cache")) == 3
    again = run_analysis(
        PBF, STATIONS, tmp_path / "zh", config=CONFIG, options=options, language="zh"
    )
    assert len(builds) == 3  # read back: another language, another folder, same stations
    a, b = first.result.coverage_area, again.result.coverage_area
    assert a["band_min"].tolist() == b["band_min"].tolist() == [5.0]
    assert [shapely.to_wkb(g) for g in a.geometry] == [shapely.to_wkb(g) for g in b.geometry]
    assert first.result.summary() == again.result.summary()


def test_without_the_network_cache_nothing_is_stored(tmp_path: Path, builds: list[int]) -> None:
    options = InputOptions(cache_dir=tmp_path / "cache", network_cache=False)
    run_analysis(PBF, STATIONS, tmp_path / "out", config=CONFIG, options=options)
    assert len(builds) == 0  # built by isochrone_polygons directly, not through the cache
    assert not (tmp_path / "cache").exists()


def test_suggest_keeps_its_bands_in_the_cache_folder(tmp_path: Path, builds: list[int]) -> None:
    options = InputOptions(cache_dir=tmp_path / "cache")
    for out in ("a", "b"):
        run_suggest(PBF, STATIONS, tmp_path / out, k=1, config=CONFIG, options=options)
    assert len(builds) == 1  # the whole set's bands (suggest runs no category)
    assert len(_entries(tmp_path / "cache")) == 1
