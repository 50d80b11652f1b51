"""``planner analyze --access``: score columns in the outputs and the ``access`` block."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner.cli import main
from planner.config import AnalysisConfig
from planner.pipeline.analysis import with_access
from planner.sources.osm import demo_extract_path, stations_from_osm
from planner.walk.network import WalkNetwork
from planner.walk.scores import AccessSettings

PBF = str(demo_extract_path())


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("access")
    stations = stations_from_osm(PBF, tags={"amenity": ["library", "community_centre"]})
    table = pd.DataFrame(
        {
            "id": stations["id"].to_numpy(),
            "lon": stations.geometry.x.to_numpy(),
            "lat": stations.geometry.y.to_numpy(),
            "capacity": [2.0 + i % 2 for i in range(len(stations))],
        }
    )
    table.loc[0, "capacity"] = np.nan  # an empty capacity counts as 1
    path = folder / "stations.csv"
    table.to_csv(path, index=False)
    out = folder / "results"
    argv = [
        "analyze",
        "--network",
        PBF,
        "--stations",
        str(path),
        "--out",
        str(out),
        "--minutes",
        "7",
        "--access",
        "gravity,2sfca,e2sfca",
        "--e2sfca-weights",
        "3:1,7:0.5",
        "--gravity-beta",
        "2",
        "--access-threshold",
        "0.0005",
    ]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(argv)
    assert code == 0
    return out, stdout.getvalue(), table


def test_analyze_writes_scores_to_every_output(analyzed: tuple[Path, str, pd.DataFrame]) -> None:
    out, stdout, table = analyzed
    assert "access 2sfca" in stdout
    assert "access gravity" in stdout
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    block = summary["access"]
    assert block["methods"] == ["2sfca", "e2sfca", "gravity"]
    assert block["settings"]["e2sfca_step_weights"] == [[3.0, 1.0], [7.0, 0.5]]
    assert block["settings"]["gravity_beta"] == 2.0
    demand_csv = pd.read_csv(out / "demand.csv", encoding="utf-8-sig")
    stations_csv = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")
    demand_gpkg = gpd.read_file(out / "coverage.gpkg", layer="demand")
    stations_gpkg = gpd.read_file(out / "coverage.gpkg", layer="stations")
    for m in ("2sfca", "e2sfca", "gravity"):
        np.testing.assert_allclose(demand_csv[f"access_{m}"], demand_gpkg[f"access_{m}"])
        np.testing.assert_allclose(stations_csv[f"ratio_{m}"], stations_gpkg[f"ratio_{m}"])
        # The population-weighted mean in summary.json is that of the written columns
        # (the GeoPackage's head counts: the CSV gives them to one decimal).
        pop = demand_gpkg["population"].to_numpy()
        mean = (pop * demand_gpkg[f"access_{m}"]).sum() / pop.sum()
        assert block["by_method"][m]["mean"] == pytest.approx(mean)
        below = pop[demand_gpkg[f"access_{m}"] < 0.0005].sum() / pop.sum()
        assert block["by_method"][m]["share_below_threshold"] == pytest.approx(below)
    assert stations_csv["supply"].tolist() == [1.0, *table["capacity"].iloc[1:]]


def test_with_access_leaves_the_result_alone_without_methods(
    helsinki_network: WalkNetwork,
) -> None:
    from planner.sources.osm import homes_from_osm
    from planner.walk.coverage import analyze_coverage

    stations = stations_from_osm(PBF, tags={"amenity": ["library"]})
    result = analyze_coverage(
        helsinki_network,
        stations,
        homes_from_osm(PBF),
        config=AnalysisConfig(max_isochrone_stations=0),
    )
    same, none = with_access(helsinki_network, result, ())
    assert same is result
    assert none is None
    scored, scores = with_access(
        helsinki_network,
        result,
        ("g2sfca",),
        AccessSettings(gaussian_sigma_min=4.0),
    )
    assert scores is not None
    assert "access_g2sfca" in scored.demand.columns
    assert "access_g2sfca" not in result.demand.columns
    assert scored.summary() == result.summary()


def test_bad_access_options_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stations = tmp_path / "s.csv"
    stations.write_text("lon,lat\n24.94,60.17\n", "utf-8")
    argv = ["analyze", "--network", PBF, "--stations", str(stations), "--out", str(tmp_path)]
    assert main([*argv, "--access", "3sfca"]) == 1
    assert "access methods must be some of 2sfca" in capsys.readouterr().err
    assert main([*argv, "--access", "e2sfca", "--e2sfca-weights", "5-1"]) == 1
    assert "minutes:weight" in capsys.readouterr().err
