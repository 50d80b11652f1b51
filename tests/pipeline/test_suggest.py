"""Tests of ``planner suggest`` and its files (planner.pipeline.suggest), on the bundled extract."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from test_cli import PBF, run

from planner.pipeline.suggest import SITING_LAYERS
from planner.report.report import report_data

STATIONS = str(Path(__file__).resolve().parents[2] / "data" / "helsinki_stations_example.csv")
#: 5 minutes: the example stations leave real gaps in the small extract.
BASE = ["suggest", "--network", PBF, "--stations", STATIONS, "--minutes", "5"]


@pytest.fixture(scope="module")
def suggested(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("suggest") / "sites"
    code, stdout, _ = run([*BASE, "--k", "3", "--out", str(out)])
    return code, stdout, out


def test_suggest_writes_sites_and_before_after(suggested: tuple[int, str, Path]) -> None:
    code, stdout, out = suggested

    assert code == 0, stdout
    s = json.loads((out / "siting.json").read_text("utf-8"))
    assert s["generator"] == "service-circle-planner"
    assert s["model"] == "maximal_covering"
    assert s["method"] == "greedy"
    assert s["k"] == 3
    assert s["sites_proposed"] == 3
    assert [site["rank"] for site in s["sites"]] == [1, 2, 3]
    assert s["population_covered_after"] > s["population_covered_before"] > 0
    assert s["population_added"] == pytest.approx(
        sum(site["population_added"] for site in s["sites"])
    )
    assert s["bound"] >= s["objective"] == s["population_covered_after"]
    assert s["walk_limit_m"] == 375.0
    assert s["inputs"]["candidates"].startswith("network nodes in the gap zones")
    assert s["relocation"]["stations"]
    assert set(pyogrio.list_layers(out / "siting.gpkg")[:, 0]) == set(SITING_LAYERS)
    sites = gpd.read_file(out / "siting.gpkg", layer="proposed_sites")
    assert sites.crs == "EPSG:4326"
    assert sites["id"].tolist() == [site["id"] for site in s["sites"]]
    demand = gpd.read_file(out / "siting.gpkg", layer="demand")
    assert demand["covered_after"].sum() >= demand["covered_before"].sum()
    assert "people" in stdout
    assert "served after" in stdout


def test_suggest_refuses_to_overwrite(suggested: tuple[int, str, Path]) -> None:
    _, _, out = suggested
    before = (out / "siting.json").read_text("utf-8")

    code, _, err = run([*BASE, "--k", "1", "--out", str(out)])

    assert code == 1
    assert "pass --overwrite (or overwrite=True in Python)" in err
    assert (out / "siting.json").read_text("utf-8") == before


def test_suggest_cover_all_exact_with_osm_candidates(tmp_path: Path) -> None:
    out = tmp_path / "cover"
    code, stdout, err = run(
        [
            *BASE,
            "--cover-all",
            "--method",
            "exact",
            "--candidate-tags",
            "amenity=school,library,townhall,pharmacy,clinic,doctors,post_office",
            "--out",
            str(out),
        ]
    )

    assert code == 0, err
    s = json.loads((out / "siting.json").read_text("utf-8"))
    assert s["model"] == "set_covering"
    assert s["status"] == "optimal"
    assert s["objective"] == s["sites_proposed"] == s["bound"]
    assert s["inputs"]["candidates"].startswith("OSM amenity=school")
    # OSM amenities do not reach every gap: the rest is reported, not ignored.
    assert s["unreachable_homes"] > 0
    assert s["population_covered_after"] + s["unreachable_population"] == pytest.approx(
        s["population_total"]
    )
    assert "unreachable homes" in stdout
    # A count of sites is a whole number; a bound that meets the solution proves it optimal.
    assert f"status                   : proven optimal; lower bound {s['bound']:.0f}, " in stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--k", "0"], "--k must be 1 or more"),
        (["--k", "2", "--capacity", "-5"], "capacity must be a positive"),
    ],
)
def test_suggest_bad_values_exit_1(tmp_path: Path, extra: list[str], message: str) -> None:
    code, _, err = run([*BASE, *extra, "--out", str(tmp_path / "x")])

    assert code == 1
    assert message in err


def test_suggest_needs_k_or_cover_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run([*BASE, "--out", "x"])
    assert exc.value.code == 2


def test_report_shows_the_proposed_sites(suggested: tuple[int, str, Path], tmp_path: Path) -> None:
    code, _, out = suggested
    assert code == 0
    results = tmp_path / "results"
    argv = ["analyze", "--network", PBF, "--stations", STATIONS, "--minutes", "5"]
    assert run([*argv, "--out", str(results)])[0] == 0
    page_path = tmp_path / "with-sites.html"
    code, _, stderr = run(["report", str(results), "--siting", str(out), "--out", str(page_path)])
    assert code == 0, stderr
    sites = gpd.read_file(out / "siting.gpkg", layer="proposed_sites")
    data = report_data(page_path.read_text("utf-8"))
    listed = [row["id"] for row in data["suggested_sites"]]
    assert listed == sites["id"].astype(str).tolist()
    # A folder that is not a suggest output is refused with a message naming it.
    code, _, stderr = run(
        ["report", str(results), "--siting", str(results), "--out", str(tmp_path / "x.html")]
    )
    assert code == 1
    assert "siting.gpkg" in stderr


def test_suggest_access_objective_next_to_maximal_covering(tmp_path: Path) -> None:
    out = tmp_path / "access"
    argv = [*BASE, "--k", "3", "--objective", "access", "--new-capacity", "2", "--out", str(out)]
    code, stdout, stderr = run([*argv, "--worst-share", "0.2", "--access-method", "e2sfca"])
    assert code == 0, stderr
    s = json.loads((out / "siting.json").read_text("utf-8"))
    assert s["model"] == "maximal_covering"  # today's answer stays
    block = s["access_objective"]
    assert block["method"] == "e2sfca"
    assert block["worst_share"] == 0.2
    assert block["capacity_per_new_station"] == 2.0
    assert block["objective_before"] <= block["objective_after"] <= block["upper_bound"]
    assert 0.0 <= block["gap"] <= 1.0
    layers = set(pyogrio.list_layers(out / "siting.gpkg")[:, 0])
    assert layers == {*SITING_LAYERS, "access_sites"}
    sites = gpd.read_file(out / "siting.gpkg", layer="access_sites")
    assert sites["id"].tolist() == [site["id"] for site in block["sites"]]
    assert "access objective (e2sfca, worst 20% of people" in stdout
    # The access objective places a given number of stations.
    code, _, stderr = run([*BASE, "--cover-all", "--objective", "access", "--out", str(tmp_path)])
    assert code == 1
    assert "give --k" in stderr


def test_suggest_says_when_fewer_sites_are_enough(tmp_path: Path) -> None:
    # Asked for far more sites than the gaps need: no site that adds nobody is proposed,
    # and the print says how many are enough.
    out = tmp_path / "sites"
    code, stdout, _ = run([*BASE, "--k", "200", "--method", "exact", "--out", str(out)])

    assert code == 0, stdout
    s = json.loads((out / "siting.json").read_text("utf-8"))
    assert 0 < s["sites_proposed"] < 200
    assert s["sites_enough"] == s["sites_proposed"]
    assert all(site["population_added"] > 0 for site in s["sites"])
    assert s["bound"] <= s["population_total"] - s["unreachable_population"] + 1e-6
    assert f"{s['sites_proposed']} sites are enough (asked for 200)" in stdout
