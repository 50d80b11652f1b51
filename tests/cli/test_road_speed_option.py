"""``planner analyze|suggest --road-mapping`` with a ``[speed]`` table: slow lines, profiles."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planner.cli import main

X, Y = 500_000.0, 3_000_000.0  # on the CGCS2000 zone's central meridian: scale 1


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
    ):
        warnings.simplefilter("ignore")
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    """A station at x=0, 600 m of footway, 300 m of steps, a home of 10 people at x=900."""
    lines = [
        shapely.LineString([(X, Y), (X + 600, Y)]),
        shapely.LineString([(X + 600, Y), (X + 900, Y)]),
    ]
    roads = gpd.GeoDataFrame(
        {"道路等级": ["人行道", "台阶"], "highway": ["footway", "steps"]}, geometry=lines, crs=4547
    )
    roads.to_file(tmp_path / "roads.gpkg", engine="pyogrio")
    pts = gpd.GeoSeries([shapely.Point(X, Y), shapely.Point(X + 900, Y)], crs=4547).to_crs(4326)
    pd.DataFrame({"lon": [pts.x[0]], "lat": [pts.y[0]]}).to_csv(tmp_path / "s.csv", index=False)
    homes = pd.DataFrame({"lon": [pts.x[1]], "lat": [pts.y[1]], "population": [10]})
    homes.to_csv(tmp_path / "h.csv", index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[speed]\ncolumn = "道路等级"\nclasses = { "台阶" = 2.0 }\n', "utf-8")
    return [
        "--network", str(tmp_path / "roads.gpkg"), "--stations", str(tmp_path / "s.csv"),
        "--demand", str(tmp_path / "h.csv"),
    ]  # fmt: skip


def _summary(out: Path) -> dict[str, object]:
    facts: dict[str, object] = json.loads((out / "summary.json").read_text("utf-8"))
    return facts


def test_analyze_walks_slow_steps_at_their_own_speed(tmp_path: Path, inputs: list[str]) -> None:
    code, said = _run(["analyze", *inputs, "--out", str(tmp_path / "plain")])
    assert code == 0, said
    plain = _summary(tmp_path / "plain")
    assert plain["share_covered"] == 1.0
    assert plain["walk_min_median"] == pytest.approx(12.0, rel=1e-3)  # 900 m at 75 m/min
    mapping = str(tmp_path / "m.toml")
    out = tmp_path / "slow"
    code, said = _run(["analyze", *inputs, "--road-mapping", mapping, "--out", str(out)])
    assert code == 0, said
    slow = _summary(out)
    # 600 m at 4.5 km/h (8 min) + 300 m at 2 km/h (9 min).
    assert slow["walk_min_median"] == pytest.approx(17.0, rel=1e-3)
    assert slow["share_covered"] == 0.0
    network = slow["network"]
    assert isinstance(network, dict)
    assert network["street_km"] == pytest.approx(0.9, rel=1e-3)
    assert network["road_layer"]["lines_own_speed"] == 1
    assert "Lines with their own walking speed: 1 (column 道路等级" in said
    page = (out / "report.html").read_text("utf-8")
    assert "Lines with their own walking speed" in page


def test_profile_speed_and_factors_compose_with_line_speeds(
    tmp_path: Path, inputs: list[str]
) -> None:
    mapping = str(tmp_path / "m.toml")
    out = tmp_path / "elderly"
    argv = ["analyze", *inputs, "--road-mapping", mapping, "--profile", "elderly"]
    code, said = _run([*argv, "--minutes", "30", "--out", str(out)])
    assert code == 0, said
    facts = _summary(out)
    # 600 m at the profile's 3.5 km/h, then the steps at their 2 km/h, doubled by elderly.
    assert facts["walk_min_median"] == pytest.approx(600 / (3500 / 60) + 18.0, rel=1e-3)
    assert facts["share_covered"] == 1.0


def test_suggest_reads_the_speeds_too(tmp_path: Path, inputs: list[str]) -> None:
    mapping = str(tmp_path / "m.toml")
    out = tmp_path / "sites"
    code, said = _run(
        ["suggest", *inputs, "--road-mapping", mapping, "--k", "1", "--out", str(out)]
    )
    assert code == 0, said
    siting = json.loads((out / "siting.json").read_text("utf-8"))
    assert siting["inputs"]["network"].endswith("roads.gpkg")
    # The home 17 minutes away is a gap (at 900 m it would be covered); one site covers it.
    assert siting["share_covered_before"] == 0.0
    assert siting["share_covered_after"] == 1.0
