"""The report's access section (planner.report.access_section), on the bundled extract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import check_report_numbers

from planner.config import AnalysisConfig
from planner.pipeline.analysis import make_report, run_demo
from planner.walk.scores import AccessSettings, access_gap_zones


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("access") / "demo"
    run_demo(
        out,
        config=AnalysisConfig(walk_minutes=7.0),
        station_tags={"amenity": ["library", "community_centre"]},
        access_methods=("2sfca", "gravity"),
        access_settings=AccessSettings(threshold=0.0003),
    )
    return out


def test_report_shows_the_figures_of_summary_json(folder: Path) -> None:
    page = (folder / "report.html").read_text("utf-8")
    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    for anchor in ("access-table", "chart-access", "access-zones-table", "access-ratios-table"):
        assert f'id="{anchor}"' in page
    assert 'data-key="access/by_method/gravity/share_below_threshold"' in page
    assert check_report_numbers(page, summary) > 0
    # The report made later from the folder has the same section.
    again = make_report(folder, out=folder / "again.html", language="zh")
    text = again.read_text("utf-8")
    assert 'id="access-zones-table"' in text
    assert "可达性得分" in text


def test_worst_zones_are_below_the_threshold_lowest_first(folder: Path) -> None:
    import geopandas as gpd

    demand = gpd.read_file(folder / "coverage.gpkg", layer="demand")
    zones = access_gap_zones(demand, "2sfca", below=0.0003, link_m=150.0)
    low = demand["access_2sfca"] < 0.0003
    assert zones["homes"].sum() == low.sum()
    assert zones["population"].sum() == pytest.approx(demand.loc[low, "population"].sum())
    assert zones["access_mean"].is_monotonic_increasing
    assert (zones["access_min"] < 0.0003).all()
