"""Tests of the ``planner`` command line, run in-process through ``planner.cli.main``."""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from fake_osm_servers import FakeServers
from helpers import check_report_numbers

from planner import __version__
from planner.cli import main
from planner.pipeline.analysis import DEMO_STAGES
from planner.report.pdf import find_pdf_engine
from planner.report.report import report_data
from planner.sources.osm import demo_extract_path, stations_from_osm

SHARE_LINE = re.compile(r"people within the circle : ([\d,]+) of ([\d,]+) \(([\d.]+)%\)")
PBF = str(demo_extract_path())


def run(argv: list[str]) -> tuple[int, str, str]:
    """Call ``main`` and return its exit code, stdout and stderr (warnings are printed there)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def printed_share(stdout: str) -> tuple[int, int, str]:
    match = SHARE_LINE.search(stdout)
    assert match, stdout
    covered, total, share = match.groups()
    return int(covered.replace(",", "")), int(total.replace(",", "")), share


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text("utf-8"))


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("demo") / "planner-demo"
    code, stdout, _ = run(["demo", "--out", str(out)])
    return code, stdout, out


@pytest.fixture(scope="module")
def station_rows() -> list[tuple[str, float, float]]:
    """The demo's three community centres as (id, lon, lat)."""
    s = stations_from_osm(demo_extract_path())
    return [(i, p.x, p.y) for i, p in zip(s["id"], s.geometry, strict=True)]


def test_demo_prints_the_share_and_writes_the_files(demo: tuple[int, str, Path]) -> None:
    code, stdout, out = demo
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "coverage.gpkg",
        "demand.csv",
        "gaps.csv",
        "manifest.json",
        "map.html",
        "report.html",
        "stations.csv",
        "summary.json",
    ]
    s = summary(out)
    covered, total, share = printed_share(stdout)
    assert share == f"{100 * s['share_covered']:.1f}"
    assert covered == round(s["population_covered"])
    assert total == round(s["population_total"])
    assert 0 < s["share_covered"] < 1
    assert s["share_covered"] == pytest.approx(s["population_covered"] / s["population_total"])
    assert "Coverage within 15 minutes' walk at 4.5 km/h (1,125 m):" in stdout
    assert f"stations                 : {s['stations']} (0 off-network)" in stdout
    assert f"gap zones                : {s['gap_zones']} " in stdout
    assert "2,459 nodes, 80.3 km of street" in stdout
    assert s["stations"] == 3
    assert s["demand_points"] == 373
    assert s["osm_data"] == ["streets", "buildings", "stations"]
    assert s["attribution"].startswith("Street, building and station data (c) OpenStreetMap")
    assert str(out.resolve()) in stdout


def test_demo_shows_its_stages_unless_quiet(demo: tuple[int, str, Path], tmp_path: Path) -> None:
    stdout = demo[1]
    for n, name in enumerate(DEMO_STAGES, start=1):
        assert f"planner: [{n}/{len(DEMO_STAGES)}] {name}" in stdout
    code, quiet_out, stderr = run(["demo", "--out", str(tmp_path / "quiet"), "--quiet"])
    assert (code, stderr) == (0, "")
    assert "planner: [" not in quiet_out
    assert printed_share(quiet_out)


def test_demo_refreshes_its_own_output(demo: tuple[int, str, Path], tmp_path: Path) -> None:
    out = tmp_path / "again"
    shutil.copytree(demo[2], out)
    tags = "amenity=community_centre,library,social_facility"
    code, stdout, stderr = run(
        ["demo", "--out", str(out), "--minutes", "5", "--station-tags", tags]
    )
    assert (code, stderr) == (0, "")
    s = summary(out)
    assert s["minutes"] == 5.0
    assert s["walk_limit_m"] == pytest.approx(375.0)
    assert s["stations"] == 12
    assert "community_centre,library,social_facility" in s["inputs"]["stations"]
    assert printed_share(stdout)[2] == f"{100 * s['share_covered']:.1f}"


def test_demo_does_not_replace_a_users_files(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text('{"mine": true}', "utf-8")
    code, stdout, stderr = run(["demo", "--out", str(tmp_path)])
    assert code == 1
    assert stdout == ""
    assert "--overwrite" in stderr
    assert (tmp_path / "summary.json").read_text("utf-8") == '{"mine": true}'


def test_analyze_refuses_a_folder_with_outputs(demo: tuple[int, str, Path], tmp_path: Path) -> None:
    before = (demo[2] / "summary.json").read_bytes()
    stations = write(tmp_path / "stations.csv", "lon,lat\n24.94,60.17\n")
    argv = ["analyze", "--network", PBF, "--stations", str(stations), "--out", str(demo[2])]
    code, stdout, stderr = run(argv)
    assert code == 1
    assert stdout == ""
    assert stderr.startswith("planner: error: ")
    assert "--overwrite" in stderr
    assert str(demo[2] / "summary.json") in stderr
    assert (demo[2] / "summary.json").read_bytes() == before


def test_analyze_with_bad_station_rows_and_osm_homes(
    tmp_path: Path,
    demo: tuple[int, str, Path],
    station_rows: list[tuple[str, float, float]],
) -> None:
    lines = ["id,name,lon,lat"]
    lines += [f"{i},centre {n},{x!r},{y!r}" for n, (i, x, y) in enumerate(station_rows)]
    lines += ["bad1,broken,abc,60.17", "bad2,far south,24.94,-95"]
    stations = write(tmp_path / "stations.csv", "\n".join(lines) + "\n")
    out = tmp_path / "results"
    argv = ["analyze", "--network", PBF, "--stations", str(stations), "--out", str(out)]
    code, stdout, _ = run(argv)
    assert code == 0
    assert "rejected stations rows    : 2 (see rejected_stations.csv)" in stdout
    assert "row 4, column 'lon': not a number ('abc')" in stdout
    assert "row 5, column 'lat': outside -90..90 (WGS84 degrees expected) ('-95')" in stdout
    rejected = pd.read_csv(out / "rejected_stations.csv", dtype={"value": str})
    assert rejected["row"].tolist() == [4, 5]
    assert rejected["column"].tolist() == ["lon", "lat"]
    assert rejected["value"].tolist() == ["abc", "-95"]
    s = summary(out)
    assert s["rejected_rows"] == {"stations": 2}
    assert s["stations"] == 3
    assert s["inputs"]["network"] == PBF
    assert s["inputs"]["stations"] == str(stations)
    # The same three stations and the extract's homes: the demo's figures exactly.
    demo_summary = summary(demo[2])
    for key in ("demand_points", "demand_points_covered", "gap_zones"):
        assert s[key] == demo_summary[key], key
    for key in ("population_total", "population_covered", "share_covered", "walk_min_median"):
        assert s[key] == pytest.approx(demo_summary[key]), key
    assert printed_share(stdout)[2] == f"{100 * s['share_covered']:.1f}"


def test_analyze_with_a_demand_csv(
    tmp_path: Path,
    station_rows: list[tuple[str, float, float]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, x0, y0 = station_rows[0]
    stations = write(
        tmp_path / "stations.csv",
        "lon,lat\n" + "".join(f"{x!r},{y!r}\n" for _, x, y in station_rows),
    )
    demand = write(
        tmp_path / "homes.csv",
        "id,lon,lat,population\n"
        f"at_station,{x0!r},{y0!r},100\n"  # on top of a station: 0 minutes away
        "north_east,24.9520,60.1780,40\n"  # across the extract: beyond 15 minutes
        "far_away,25.5000,60.5000,7\n"  # outside the extract: off-network
        "no_people,24.9400,60.1700,-3\n",  # rejected
    )
    out = tmp_path / "results"
    argv = ["analyze", "--network", PBF, "--stations", str(stations), "--demand", str(demand)]
    code, stdout, stderr = run([*argv, "--out", str(out)])
    assert code == 0, stderr
    assert "rejected demand rows    : 1 (see rejected_demand.csv)" in stdout
    assert "row 4, column 'population': population must be a number of 0 or more ('-3')" in stdout
    assert not (out / "rejected_stations.csv").exists()
    rejected = pd.read_csv(out / "rejected_demand.csv", dtype={"value": str})
    assert rejected.to_dict("records") == [
        {
            "row": 4,
            "column": "population",
            "value": "-3",
            "reason": "population must be a number of 0 or more",
        }
    ]
    s = summary(out)
    # The streets came from OpenStreetMap, the homes from the CSV: OSM credited for streets.
    assert s["osm_data"] == ["streets"]
    assert s["attribution"] == "Street data (c) OpenStreetMap contributors, ODbL 1.0"
    assert s["stations"] == 3
    assert s["demand_points"] == 3
    assert s["demand_points_covered"] == 1
    assert s["demand_points_off_network"] == 1
    assert s["population_total"] == 147.0
    assert s["population_covered"] == 100.0
    assert s["share_covered"] == pytest.approx(100 / 147)
    assert s["rejected_rows"] == {"demand": 1}
    assert s["inputs"]["demand"] == str(demand)
    assert s["population_within_minutes"]["5"] == 100.0
    assert "people within the circle : 100 of 147 (68.0%)" in stdout
    assert "homes / demand points    : 3 (1 off-network, 0 unreachable)" in stdout
    # The OffNetworkWarning reaches the user on stderr, naming the point, in plain words.
    warned = [line for line in stderr.splitlines() if line.startswith("planner: warning: ")]
    assert len([line for line in warned if "far_away" in line]) == 1
    assert "Warning" not in stderr


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (
            lambda d: ["--network", str(d / "missing.osm.pbf"), "--stations", str(d / "s.csv")],
            "missing.osm.pbf: no such file",
        ),
        (
            lambda d: ["--network", PBF, "--stations", str(d / "stations.docx")],
            "stations.docx: unsupported file type for a table of points. Use one of .csv,",
        ),
        (
            lambda d: ["--network", str(d / "streets.shp"), "--stations", str(d / "s.csv")],
            "streets.shp: cannot be read as a line layer",
        ),
    ],
)
def test_bad_input_exits_1_naming_the_problem(
    tmp_path: Path, make_args: object, message: str
) -> None:
    write(tmp_path / "s.csv", "lon,lat\n24.94,60.17\n")
    write(tmp_path / "streets.shp", "not a shapefile")
    write(tmp_path / "stations.docx", "not a table")
    args = make_args(tmp_path)  # type: ignore[operator]
    code, stdout, stderr = run(["analyze", *args, "--out", str(tmp_path / "out")])
    assert code == 1
    assert stdout == ""
    assert stderr.startswith("planner: error: ")
    assert message in stderr
    assert not (tmp_path / "out").exists()


def test_bad_stations_csv_exits_1_naming_file_and_rows(tmp_path: Path) -> None:
    stations = write(tmp_path / "dup.csv", "id,lon,lat\nx,24.94,60.17\nx,24.945,60.171\n")
    argv = ["analyze", "--network", PBF, "--stations", str(stations), "--out", str(tmp_path / "o")]
    code, _, stderr = run(argv)
    assert code == 1
    assert f"{stations}: duplicate ids in column 'id': 'x' on rows [1, 2]" in stderr


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["analyze", "--out", "x"],
        ["demo", "--minutes", "ten"],
        ["report"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: planner" in capsys.readouterr().err


def test_console_script_version() -> None:
    script = shutil.which("planner", path=str(Path(sys.executable).parent)) or shutil.which(
        "planner"
    )
    assert script is not None, "the planner console script is not installed"
    done = subprocess.run(
        [script, "--version"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"planner {__version__}"


# ------------------------------------------------------------------------------- report


def test_demo_report_holds_the_figures_of_its_summary(demo: tuple[int, str, Path]) -> None:
    out = demo[2]
    page = (out / "report.html").read_text("utf-8")
    assert check_report_numbers(page, summary(out)) >= 30
    assert report_data(page)["summary"] == summary(out)
    assert "Streets (walk network)" in page  # analyze/demo reports draw the streets


def test_report_from_a_folder_in_chinese(demo: tuple[int, str, Path], tmp_path: Path) -> None:
    out = demo[2]
    before = (out / "report.html").read_bytes()
    code, stdout, stderr = run(["report", str(out)])
    assert code == 1
    assert "report.html already exists" in stderr
    assert "--overwrite" in stderr
    assert (out / "report.html").read_bytes() == before

    target = tmp_path / "报告.html"
    argv = ["report", str(out), "--lang", "zh", "--out", str(target), "--title", "<b>试点</b>"]
    code, stdout, stderr = run(argv)
    assert (code, stderr) == (0, "")
    assert f"Report written to {target.resolve()}" in stdout
    page = target.read_text("utf-8")
    assert '<html lang="zh-CN">' in page
    assert "<title>&lt;b&gt;试点&lt;/b&gt;</title>" in page
    assert check_report_numbers(page, summary(out)) >= 30
    # The street layer of the analysis's own report is kept: drawn from the network file.
    assert json.dumps("街道（步行网络）")[1:-1] in html.unescape(page)


def test_report_without_the_network_file_warns_that_streets_are_missing(
    demo: tuple[int, str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "moved"
    shutil.copytree(demo[2], folder)
    s = summary(folder)
    s["inputs"]["network"] = str(tmp_path / "gone.osm.pbf")
    (folder / "summary.json").write_text(json.dumps(s), "utf-8")
    code, _, stderr = run(["report", str(folder), "--out", str(tmp_path / "r.html")])
    assert code == 0
    assert "the report's map has no street layer" in stderr
    assert "gone.osm.pbf" in stderr


def test_report_compares_two_folders(demo: tuple[int, str, Path], tmp_path: Path) -> None:
    more = tmp_path / "more"
    tags = "amenity=community_centre,library,social_facility"
    assert run(["demo", "--out", str(more), "--station-tags", tags])[0] == 0
    target = tmp_path / "compare.html"
    code, _, stderr = run(["report", str(more), "--compare", str(demo[2]), "--out", str(target)])
    assert (code, stderr) == (0, "")
    page = target.read_text("utf-8")
    cmp = report_data(page)["comparison"]
    assert cmp["station_changes"] == {
        "added": 9,
        "moved": 0,
        "renamed": 0,
        "removed": 0,
        "unchanged": 3,
    }
    gained = summary(more)["population_covered"] - summary(demo[2])["population_covered"]
    assert cmp["population_gained"] == pytest.approx(gained)
    assert cmp["newly_covered"] == pytest.approx(gained)
    assert check_report_numbers(page, summary(demo[2]), source="baseline") >= 7
    assert check_report_numbers(page, summary(more)) >= 30


def test_report_pdf_is_skipped_with_a_note_without_an_engine(
    demo: tuple[int, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("planner.report.pdf.find_pdf_engine", lambda: None)
    target = tmp_path / "r.html"
    code, stdout, stderr = run(["report", str(demo[2]), "--out", str(target), "--pdf"])
    assert code == 0
    assert "Report written to" in stdout
    assert stderr.startswith("planner: note: PDF not written: No PDF engine found")
    assert "install Chromium" in stderr
    assert target.exists()
    assert not (tmp_path / "r.pdf").exists()


def test_report_pdf_with_chromium(demo: tuple[int, str, Path], tmp_path: Path) -> None:
    if find_pdf_engine() is None:
        pytest.skip("no PDF engine (chromium) installed")
    target = tmp_path / "r.html"
    code, stdout, stderr = run(["report", str(demo[2]), "--out", str(target), "--pdf"])
    assert (code, stderr) == (0, "")
    assert f"PDF written to {tmp_path.resolve() / 'r.pdf'}" in stdout
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")


def test_report_of_a_folder_without_results_exits_1(tmp_path: Path) -> None:
    code, stdout, stderr = run(["report", str(tmp_path)])
    assert code == 1
    assert stdout == ""
    assert "no summary.json written by the planner" in stderr


def test_analyze_with_districts(
    tmp_path: Path, station_rows: list[tuple[str, float, float]]
) -> None:
    stations = write(
        tmp_path / "stations.csv",
        "id,lon,lat\n" + "".join(f"{i},{x!r},{y!r}\n" for i, x, y in station_rows),
    )
    west = [[24.90, 60.15], [24.944, 60.15], [24.944, 60.19], [24.90, 60.19], [24.90, 60.15]]
    east = [[24.944, 60.15], [24.99, 60.15], [24.99, 60.19], [24.944, 60.19], [24.944, 60.15]]
    features = [
        {
            "type": "Feature",
            "properties": {"名称": n},
            "geometry": {"type": "Polygon", "coordinates": [r]},
        }
        for n, r in (("西区", west), ("East <b>", east))
    ]
    districts = write(
        tmp_path / "districts.geojson",
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
    )
    out = tmp_path / "out"
    argv = ["analyze", "--network", PBF, "--stations", str(stations), "--out", str(out)]
    code, stdout, stderr = run([*argv, "--districts", str(districts)])
    assert code == 0, stderr
    assert "districts.csv" in stdout
    table = pd.read_csv(out / "districts.csv", encoding="utf-8-sig")
    assert table["district"].tolist() == ["西区", "East <b>"]
    s = summary(out)
    # districts.csv gives head counts to one decimal
    assert table["population"].sum() == pytest.approx(s["population_total"], abs=0.1)
    assert table["population_covered"].sum() == pytest.approx(s["population_covered"], abs=0.1)
    assert s["inputs"]["districts"] == str(districts)
    page = (out / "report.html").read_text("utf-8")
    assert "East &lt;b&gt;" in page
    assert [d["district"] for d in report_data(page)["districts"]] == ["西区", "East <b>"]
    code, _, stderr = run([*argv, "--districts", str(stations), "--overwrite"])
    assert code == 1
    assert "stations.csv" in stderr


# ------------------------------------------------------------------ inputs of analyze


def kotka_points(n: int, *, seed: int = 0) -> list[tuple[float, float]]:
    """``n`` street-node positions in the Kotka test area (lon, lat)."""
    from fake_osm_servers import KOTKA_AREA, kotka_osm

    west, south, east, north = KOTKA_AREA
    nodes = [
        (d["lon"], d["lat"])
        for d in kotka_osm().nodes.values()
        if west + 0.003 < d["lon"] < east - 0.003 and south + 0.002 < d["lat"] < north - 0.002
    ]
    rng = np.random.default_rng(seed)
    return [nodes[i] for i in sorted(rng.choice(len(nodes), size=n, replace=False))]


def test_analyze_a_downloaded_area_twice_the_second_time_offline(
    online: FakeServers, tmp_path: Path
) -> None:
    from fake_osm_servers import KOTKA_AREA

    stations = tmp_path / "stations.xlsx"
    pd.DataFrame(
        [{"站点编号": f"K{i}", "经度": x, "纬度": y} for i, (x, y) in enumerate(kotka_points(2))]
    ).to_excel(stations, index=False)
    homes = tmp_path / "homes.geojson"
    pts = kotka_points(30, seed=1)
    gpd.GeoDataFrame(
        {"人口": np.arange(1, 31, dtype=float)},
        geometry=gpd.points_from_xy(*zip(*pts, strict=True)),
        crs=4326,
    ).to_file(homes, engine="pyogrio")
    bbox = ",".join(str(v) for v in KOTKA_AREA)
    argv = ["analyze", "--bbox", bbox, "--stations", str(stations), "--demand", str(homes)]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    code, _, stderr = run([*argv, "--out", str(tmp_path / "first")])
    assert code == 0, stderr
    assert online.count("POST") == 1
    first = summary(tmp_path / "first")
    assert first["stations"] == 2
    assert first["demand_points"] == 30
    assert first["population_total"] == 465.0
    assert first["inputs"]["network"].startswith("OpenStreetMap via osmnx: bbox 26.93,60.515")
    online.mock.reset()  # the second run must not ask any server
    code, stdout, stderr = run([*argv, "--out", str(tmp_path / "second")])
    assert printed_share(stdout)[2] == f"{100 * first['share_covered']:.1f}"
    assert code == 0, stderr
    assert online.calls == []
    second = summary(tmp_path / "second")
    for key in ("population_covered", "share_covered", "walk_min_median", "network"):
        assert second[key] == first[key], key
    # The second run built the network from osmnx's stored GraphML and kept the built
    # network: a third run reads it from the built-network cache, with the same figures.
    from planner.walk.network_cache import CACHE_SUBDIR

    built = list((tmp_path / "cache" / CACHE_SUBDIR).glob("*.npz"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    code, _, stderr = run([*argv, "--out", str(tmp_path / "third")])
    assert code == 0, stderr
    assert online.calls == []
    assert built[0].stat().st_mtime_ns == stamp  # read, not written again
    third = summary(tmp_path / "third")
    for key in ("population_covered", "share_covered", "walk_min_median", "network"):
        assert third[key] == first[key], key


def test_analyze_offline_names_the_local_file_options(offline: FakeServers, tmp_path: Path) -> None:
    stations = write(tmp_path / "s.csv", "lon,lat\n26.94,60.52\n")
    demand = write(tmp_path / "d.csv", "lon,lat,population\n26.94,60.52,5\n")
    argv = ["analyze", "--place", "Kotka test area", "--stations", str(stations)]
    argv += ["--demand", str(demand), "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path)]
    code, stdout, stderr = run([*argv[:-1], str(tmp_path / "out")])
    assert code == 1
    assert stdout == ""
    assert "planner: error: Could not download the walking network of place 'Kotka test area'" in (
        stderr
    )
    assert "--network city.osm.pbf" in stderr
    assert not (tmp_path / "out").exists()


def test_analyze_a_downloaded_area_takes_homes_from_its_buildings(
    online: FakeServers, tmp_path: Path
) -> None:
    from planner.sources.download import buildings_from_query, point_query
    from planner.sources.population import homes_from_buildings

    (x, y), *_ = kotka_points(1)
    stations = write(tmp_path / "s.csv", f"lon,lat\n{x!r},{y!r}\n")
    argv = ["analyze", "--point", "26.94,60.523", "--radius-m", "400", "--stations", str(stations)]
    argv += ["--cache-dir", str(tmp_path / "c")]
    code, stdout, stderr = run([*argv, "--out", str(tmp_path / "o")])
    assert code == 0, stderr
    assert online.count("POST") == 2  # the streets, then the buildings
    s = summary(tmp_path / "o")
    assert s["inputs"]["demand"] == (
        "residential buildings of OpenStreetMap via osmnx: 400 m around 26.94,60.523"
    )
    online.mock.reset()
    # The buildings were cached too: the same homes without a request.
    homes = homes_from_buildings(
        buildings_from_query(point_query((26.94, 60.523), radius_m=400), cache_dir=tmp_path / "c")
    )
    assert online.calls == []
    assert s["demand_points"] == len(homes) > 50
    assert s["population_total"] == pytest.approx(homes["population"].sum())
    assert printed_share(stdout)[1] == round(s["population_total"])


def test_analyze_a_graphml_network_needs_demand(tmp_path: Path) -> None:
    import osmnx as ox

    from planner.sources.streets import graph_from_file

    graphml = tmp_path / "kotka.graphml"
    ox.save_graphml(graph_from_file(pyrosm.get_data("test_pbf")), graphml)
    stations = write(tmp_path / "s.csv", "lon,lat\n26.94,60.52\n")
    argv = ["analyze", "--network", str(graphml), "--stations", str(stations)]
    code, _, stderr = run([*argv, "--out", str(tmp_path / "o")])
    assert code == 1
    assert "a GraphML network carries no buildings to take homes from; give the demand" in stderr


def test_analyze_with_a_study_area_gis_stations_and_a_population_grid(
    tmp_path: Path, station_rows: list[tuple[str, float, float]]
) -> None:
    west = gpd.GeoDataFrame(geometry=[shapely.box(24.935, 60.160, 24.9475, 60.18)], crs=4326)
    west.to_file(tmp_path / "west.geojson", engine="pyogrio")
    stations = tmp_path / "stations.gpkg"
    s = gpd.GeoDataFrame(
        {"id": [r[0] for r in station_rows], "capacity": [10, 20, 30]},
        geometry=gpd.points_from_xy([r[1] for r in station_rows], [r[2] for r in station_rows]),
        crs=4326,
    )
    s.to_file(stations, layer="existing", engine="pyogrio")
    s.head(1).to_file(stations, layer="other", engine="pyogrio")
    cells = [
        shapely.box(x, y, x + 0.004, y + 0.002)
        for x in np.arange(24.935, 24.9475, 0.004)
        for y in np.arange(60.160, 60.18, 0.002)
    ]
    grid = gpd.GeoDataFrame({"pop": [50.0] * len(cells)}, geometry=cells, crs=4326).to_crs(3067)
    grid.to_file(tmp_path / "grid.shp", engine="pyogrio")
    out = tmp_path / "out"
    argv = ["analyze", "--network", PBF, "--study-area", str(tmp_path / "west.geojson")]
    argv += ["--stations", str(stations), "--stations-layer", "existing"]
    argv += ["--demand", str(tmp_path / "grid.shp"), "--population-column", "pop"]
    code, stdout, stderr = run([*argv, "--out", str(out)])
    assert code == 0, stderr
    sm = summary(out)
    assert printed_share(stdout)[1] == round(sm["population_total"])
    # Every person of the grid is placed (cells without homes at a point inside them).
    assert sm["population_total"] == pytest.approx(50.0 * len(cells))
    assert sm["inputs"]["demand"].endswith("grid.shp (areas onto homes)")
    assert sm["inputs"]["study_area"] == str(tmp_path / "west.geojson")
    assert sm["network"]["nodes"] < 2459
    assert "hold no home or street node" in stderr
    # Station columns are carried through: capacity is in the stations layer.
    layer = gpd.read_file(out / "coverage.gpkg", layer="stations")
    assert layer["capacity"].tolist() == [10, 20, 30]


def test_analyze_prints_twenty_rejected_rows_and_warns_about_swapped_points(
    tmp_path: Path, station_rows: list[tuple[str, float, float]]
) -> None:
    lines = ["id,lon,lat"]
    lines += [f"{i},{x!r},{y!r}" for i, x, y in station_rows]
    lines += [f"bad{k},x{k},60.17" for k in range(25)]
    lines += ["swapped,60.1702,24.9431"]  # valid degrees both ways: only the network can tell
    stations = write(tmp_path / "stations.csv", "\n".join(lines) + "\n")
    out = tmp_path / "out"
    code, stdout, stderr = run(
        ["analyze", "--network", PBF, "--stations", str(stations), "--out", str(out)]
    )
    assert code == 0, stderr
    assert "rejected stations rows    : 25 (see rejected_stations.csv)" in stdout
    for k in range(20):
        assert f"row {4 + k}, column 'lon': not a number ('x{k}')" in stdout
    # At most 20 are printed, then the count: the file holds them all.
    assert "('x20')" not in stdout
    assert "... and 5 more problems in rejected_stations.csv" in stdout
    assert len(pd.read_csv(out / "rejected_stations.csv")) == 25
    warned = [line for line in stderr.splitlines() if "outside the street network" in line]
    assert len(warned) == 1
    assert warned[0].startswith("planner: warning: ")
    assert "Warning" not in stderr
    assert "1 of 4 stations rows lie outside the street network's area (rows [29])" in warned[0]
    assert "look swapped" in warned[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bbox", "1,2,3"], "--bbox '1,2,3': expected W,S,E,N"),
        (["--bbox", "27,60,26,61"], "west < east"),
        (["--point", "26.9"], "--point '26.9': expected LON,LAT"),
        (["--network", PBF, "--coord-system", "utm"], "Unknown coordinate system 'utm'"),
        (["--network", PBF, "--crs", "EPSG:0"], "unknown coordinate reference system 'EPSG:0'"),
    ],
)
def test_bad_input_options_exit_1(tmp_path: Path, args: list[str], message: str) -> None:
    stations = write(tmp_path / "s.csv", "lon,lat\n24.94,60.17\n")
    code, stdout, stderr = run(
        ["analyze", *args, "--stations", str(stations), "--out", str(tmp_path / "o")]
    )
    assert code == 1
    assert stdout == ""
    assert message in stderr


def test_network_sources_are_alternatives(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["analyze", "--network", PBF, "--place", "x", "--stations", "s", "--out", "o"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_analyze_the_area_of_a_polygon_file(online: FakeServers, tmp_path: Path) -> None:
    from fake_osm_servers import KOTKA_AREA

    area = tmp_path / "area.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(*KOTKA_AREA)], crs=4326).to_file(area, engine="pyogrio")
    (x, y), *_ = kotka_points(1, seed=3)
    stations = write(tmp_path / "s.csv", f"name,lon,lat\nhub,{x!r},{y!r}\n")
    demand = write(tmp_path / "d.csv", f"lon,lat,population\n{x!r},{y!r},12\n")
    argv = ["analyze", "--polygon", str(area), "--stations", str(stations)]
    argv += [
        "--demand",
        str(demand),
        "--cache-dir",
        str(tmp_path / "c"),
        "--out",
        str(tmp_path / "o"),
    ]
    code, stdout, stderr = run(argv)
    assert code == 0, stderr
    s = summary(tmp_path / "o")
    assert s["inputs"]["network"] == (
        "OpenStreetMap via osmnx: polygon within 26.93000,60.51500,26.95500,60.53200"
    )
    assert s["population_covered"] == 12.0
    assert "people within the circle : 12 of 12 (100.0%)" in stdout


# ------------------------------------------------------------------ hostile inputs (issue 9)


def test_analyze_reads_european_files_with_decimal_commas(
    tmp_path: Path, station_rows: list[tuple[str, float, float]]
) -> None:
    lines = ["id;name;lon;lat"]
    lines += [
        f"{i};centre {i};{str(x).replace('.', ',')};{str(y).replace('.', ',')}"
        for i, x, y in station_rows
    ]
    stations = write(tmp_path / "eu.csv", "\n".join(lines) + "\n")
    out = tmp_path / "out"
    argv = ["analyze", "--network", PBF, "--stations", str(stations), "--out", str(out)]
    code, _, stderr = run([*argv, "--decimal", ","])
    assert code == 0, stderr
    s = summary(out)
    assert s["stations"] == len(station_rows)
    assert s["rejected_rows"].get("stations", 0) == 0
    # Without --decimal , every coordinate is "not a number": the run stops, naming a row.
    code, _, stderr = run([*argv[:-1], str(tmp_path / "out2")])
    assert code == 1
    assert f"{stations}: no row has valid coordinates" in stderr


def test_analyze_rejects_rows_with_a_decimal_comma_by_row(
    tmp_path: Path, station_rows: list[tuple[str, float, float]]
) -> None:
    lines = ["id,name,lon,lat"]
    lines += [f"{i},centre,{x!r},{y!r}" for i, x, y in station_rows]
    lines += ["S1,Luckan,24.9365,60,17"]
    stations = write(tmp_path / "stations.csv", "\n".join(lines) + "\n")
    out = tmp_path / "out"
    code, stdout, stderr = run(
        ["analyze", "--network", PBF, "--stations", str(stations), "--out", str(out)]
    )
    assert code == 0, stderr
    row = len(station_rows) + 1
    assert f"row {row}: 5 fields, header has 4: a decimal comma?" in stdout
    rejected = pd.read_csv(out / "rejected_stations.csv", keep_default_na=False)
    assert rejected["row"].tolist() == [row]
    assert rejected["value"].tolist() == ["S1,Luckan,24.9365,60,17"]
    assert summary(out)["stations"] + len(rejected) == row


def test_analyze_limits_refuse_before_work_and_can_be_raised(
    tmp_path: Path, station_rows: list[tuple[str, float, float]]
) -> None:
    lines = ["id,lon,lat"] + [f"{i},{x!r},{y!r}" for i, x, y in station_rows]
    stations = write(tmp_path / "stations.csv", "\n".join(lines) + "\n")
    argv = ["analyze", "--network", PBF, "--stations", str(stations)]
    code, stdout, stderr = run([*argv, "--out", str(tmp_path / "o1"), "--limit", "max_stations=2"])
    assert code == 1
    assert stdout == ""
    assert f"{stations}: more than 2 stations (the limit); refused before analysis" in stderr
    assert "--limit max_stations=" in stderr
    assert not (tmp_path / "o1").exists()
    code, _, stderr = run([*argv, "--out", str(tmp_path / "o2"), "--limit", "max_bananas=2"])
    assert code == 1
    assert "--limit 'max_bananas=2': expected NAME=VALUE with NAME one of max_file_mb" in stderr
    code, _, stderr = run(
        [*argv, "--out", str(tmp_path / "o3"), "--limit", "max_network_file_mb=0.001"]
    )
    assert code == 1
    assert "street network files are limited to 0.001 MB" in stderr


def test_limits_are_documented_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--limit NAME=VALUE" in text
    for name in ("max_file_mb=500", "max_decompressed_mb=2000", "max_rows=5000000"):
        assert name in text
    assert "--decimal {.,,}" in text


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--minutes", "-3"),
        ("--minutes", "0"),
        ("--minutes", "nan"),
        ("--minutes", "ten"),
        ("--speed-kmh", "inf"),
        ("--speed-kmh", "-0"),
        ("--max-snap-m", "-1"),
        ("--max-snap-m", "NaN"),
    ],
)
def test_bad_numbers_name_the_option_and_exit_2(
    tmp_path: Path, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["demo"], ["analyze", "--network", PBF, "--stations", "s.csv"]):
        with pytest.raises(SystemExit) as info:
            main([*command, option, value, "--out", str(tmp_path / "o")])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert f"argument {option}: must be a positive number, got {value}" in err
        assert "AnalysisConfig" not in err
        assert "walk_minutes" not in err
        assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


HOSTILE_STATIONS = (
    "id,name,lon,lat,row,snap_m,population_served,note,level\n"
    'a,"=HYPERLINK(""http://x"")",24.936492,60.168957,r1,5,100,+cmd|x,-2\n'
    "b,@sum,24.94,60.17,r2,6,200,-1+1,-3\n"
)


def test_analyze_keeps_input_columns_named_like_ours_and_writes_safe_csv(
    tmp_path: Path,
) -> None:
    stations = write(tmp_path / "s.csv", HOSTILE_STATIONS)
    argv = ["analyze", "--network", PBF, "--stations", str(stations)]
    code, _, stderr = run([*argv, "--out", str(tmp_path / "o")])
    assert code == 0, stderr
    assert "'row' as 'input_row'" in stderr
    assert "'snap_m' as 'input_snap_m'" in stderr
    assert "'population_served' as 'input_population_served'" in stderr
    table = pd.read_csv(tmp_path / "o" / "stations.csv", encoding="utf-8-sig", dtype=str)
    assert table["name"].tolist() == ['\'=HYPERLINK("http://x")', "'@sum"]
    assert table["note"].tolist() == ["'+cmd|x", "'-1+1"]
    assert table["level"].tolist() == ["-2", "-3"]  # numbers stay as they are
    assert table["input_row"].tolist() == ["r1", "r2"]
    assert table["input_snap_m"].tolist() == ["5", "6"]
    assert float(table["population_served"].iloc[0]) > 200  # ours, not the input's
    layer = gpd.read_file(tmp_path / "o" / "coverage.gpkg", layer="stations")
    assert layer["row"].tolist() == [1, 2]
    assert layer["input_row"].tolist() == ["r1", "r2"]

    code, _, stderr = run([*argv, "--out", str(tmp_path / "raw"), "--raw-text"])
    assert code == 0, stderr
    table = pd.read_csv(tmp_path / "raw" / "stations.csv", encoding="utf-8-sig", dtype=str)
    assert table["name"].tolist() == ['=HYPERLINK("http://x")', "@sum"]


def test_report_of_an_incomplete_folder_says_what_is_missing(
    demo: tuple[int, str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(demo[2], folder)
    (folder / "map.html").unlink()
    (folder / "gaps.csv").write_bytes(b"")
    code, stdout, stderr = run(["report", str(folder), "--out", str(tmp_path / "r.html")])
    assert code == 1
    assert stdout == ""
    assert "incomplete output folder: gaps.csv is empty; map.html is missing" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "r.html").exists()


def test_report_of_a_geopackage_without_a_layer_names_file_and_layer(
    demo: tuple[int, str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(demo[2], folder)
    gpkg = folder / "coverage.gpkg"
    layers = {n: gpd.read_file(gpkg, layer=n) for n in ("stations", "demand", "gaps")}
    gpkg.unlink()
    for name, layer in layers.items():
        layer.to_file(gpkg, layer=name, driver="GPKG")
    for target in (folder, gpkg):
        code, _, stderr = run(["report", str(target), "--out", str(tmp_path / "r.html")])
        assert code == 1
        assert f"{folder}: incomplete output folder: coverage.gpkg has no layer 'isochrones'" in (
            stderr
        )
        assert "coverage.gpkg has no layer 'coverage_area'" in stderr
        assert "Traceback" not in stderr


def test_overwrite_replaces_the_whole_run(demo: tuple[int, str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(demo[2], folder)
    (folder / "rejected_stations.csv").write_text("row\n1\n", "utf-8")  # an older run's
    (folder / "notes.txt").write_text("mine", "utf-8")
    code, _, stderr = run(["demo", "--out", str(folder), "--minutes", "5", "--overwrite"])
    assert code == 0, stderr
    assert summary(folder)["minutes"] == 5
    assert not (folder / "rejected_stations.csv").exists()
    assert (folder / "notes.txt").read_text("utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["copy"]  # no temporary folder left


def test_head_counts_that_overflow_exit_1_without_inf(tmp_path: Path) -> None:
    stations = write(tmp_path / "s.csv", "lon,lat\n24.94,60.17\n")
    demand = write(
        tmp_path / "d.csv",
        "lon,lat,population\n24.941,60.171,1e308\n24.942,60.172,1e308\n24.943,60.17,1e308\n",
    )
    argv = ["analyze", "--network", PBF, "--stations", str(stations), "--demand", str(demand)]
    code, stdout, stderr = run([*argv, "--out", str(tmp_path / "o")])
    assert code == 1
    assert "inf" not in stdout
    assert "nan" not in stdout
    assert "population" in stderr
    assert not (tmp_path / "o").exists()
