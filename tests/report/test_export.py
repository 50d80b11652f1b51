"""Tests of report.export: summary.json, coverage.gpkg, rejected rows, no silent overwrite."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from helpers import SPEED_KMH, grid_homes, grid_stations, grid_streets, points, xy

from planner import __version__
from planner.config import AnalysisConfig
from planner.errors import (
    IncompleteOutputError,
    InputDataError,
    InputFileNotFoundError,
    InputWarning,
    OutputExistsError,
    PdfEngineError,
)
from planner.report import export
from planner.report.export import (
    GENERATOR,
    LAYERS,
    check_complete,
    csv_table,
    find_pdf_engine,
    for_geopackage,
    is_planner_output,
    pdf_from_html,
    read_outputs,
    safe_cell,
    spreadsheet_safe,
    summary_dict,
    write_outputs,
    write_report,
)
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork, build_walk_network

#: summary.json keys documented in README "Outputs".
DOCUMENTED_KEYS = {
    "minutes",
    "speed_kmh",
    "walk_limit_m",
    "max_snap_m",
    "stations",
    "stations_off_network",
    "demand_points",
    "demand_points_covered",
    "demand_points_off_network",
    "demand_points_unreachable",
    "population_total",
    "population_covered",
    "population_uncovered",
    "share_covered",
    "population_within_minutes",
    "walk_min_median",
    "walk_min_p90",
    "gap_zones",
    "population_in_gap_zones",
    "network",
    "inputs",
    "rejected_rows",
    "version",
    "created_utc",
}

CONFIG = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH, band_minutes=(1.0,), max_snap_m=50)
REJECTED = pd.DataFrame(
    {
        "row": [2, 5],
        "column": ["lon", "纬度"],
        "value": ["abc", "-91"],
        "reason": ["not a number", "outside -90..90 (WGS84 degrees expected)"],
    }
)


@pytest.fixture(scope="module")
def network() -> WalkNetwork:
    """The 3x3 grid plus an island street, islands kept (tests/helpers.py)."""
    return build_walk_network(grid_streets(island=True), keep_islands=True)


@pytest.fixture(scope="module")
def result(network: WalkNetwork) -> CoverageResult:
    """Grid result with H1..H7 and H8 on the island (unreachable)."""
    homes = pd.concat(
        [grid_homes(), points({"H8": (1050.0, 5.0)}, population=[8.0])], ignore_index=True
    )
    return analyze_coverage(network, grid_stations(), homes, config=CONFIG)


@pytest.fixture
def written(tmp_path: Path, result: CoverageResult, network: WalkNetwork) -> Path:
    out = tmp_path / "out"
    write_outputs(
        result,
        out,
        inputs={"network": "grid", "stations": "A, B", "demand": "H1..H8"},
        rejected={"stations": REJECTED, "demand": REJECTED.iloc[:0]},
        streets=network.edges,
    )
    return out


def read_summary(folder: Path) -> dict:
    def no_constants(name: str) -> None:
        raise AssertionError(f"summary.json holds {name}, which is not JSON")

    return json.loads((folder / "summary.json").read_text("utf-8"), parse_constant=no_constants)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_files_written(written: Path) -> None:
    assert sorted(p.name for p in written.iterdir()) == [
        "coverage.gpkg",
        "demand.csv",
        "gaps.csv",
        "manifest.json",  # written last: the folder is complete
        "map.html",
        "rejected_stations.csv",  # the empty demand table writes no file
        "report.html",
        "stations.csv",
        "summary.json",
    ]
    html = (written / "map.html").read_text("utf-8")
    assert "L.map(" in html or "leaflet" in html.lower()


def test_summary_json_has_the_documented_keys_and_the_result_figures(
    written: Path, result: CoverageResult
) -> None:
    summary = read_summary(written)
    assert set(summary) >= DOCUMENTED_KEYS
    assert summary["generator"] == GENERATOR
    assert summary["version"] == __version__
    assert datetime.fromisoformat(summary["created_utc"]).utcoffset().total_seconds() == 0
    assert summary["inputs"] == {"network": "grid", "stations": "A, B", "demand": "H1..H8"}
    assert summary["rejected_rows"] == {"stations": 2}
    expected = result.summary()
    for key, value in expected.items():
        if isinstance(value, float):
            assert summary[key] == pytest.approx(value), key
        else:
            assert summary[key] == value, key
    # Hand-computed (tests/test_coverage.py): H5 beyond the limit, H8 unreachable.
    assert summary["population_total"] == pytest.approx(288.0)
    assert summary["population_covered"] == pytest.approx(230.0)
    assert summary["share_covered"] == pytest.approx(230.0 / 288.0)
    assert summary["demand_points_unreachable"] == 1
    assert summary["population_within_minutes"] == pytest.approx({"1": 70.0, "2": 230.0})
    assert summary["network"]["components"] == 2
    assert summary["network"]["nodes"] == 11
    assert summary["network"]["crs"] == "EPSG:32635"


def test_geopackage_layers(written: Path, result: CoverageResult) -> None:
    gpkg = written / "coverage.gpkg"
    layers = pyogrio.list_layers(gpkg)
    assert sorted(layers[:, 0]) == sorted(LAYERS)
    for name in LAYERS:
        layer = gpd.read_file(gpkg, layer=name)
        assert layer.crs == "EPSG:4326", name
        assert len(layer) == len(getattr(result, name)), name
    stations = gpd.read_file(gpkg, layer="stations")
    assert stations["id"].tolist() == ["A", "B"]
    assert stations["name"].tolist() == ["Alpha", "Beta"]
    assert stations["population_served"].tolist() == pytest.approx([100.0, 200.0])
    assert stations["population_only_here"].tolist() == pytest.approx([30.0, 130.0])
    iso = gpd.read_file(gpkg, layer="isochrones")
    assert sorted(zip(iso["station_id"], iso["band_min"], strict=True)) == [
        ("A", 1.0),
        ("A", 2.0),
        ("B", 1.0),
        ("B", 2.0),
    ]
    assert gpd.read_file(gpkg, layer="coverage_area")["band_min"].tolist() == [1.0, 2.0]
    gaps = gpd.read_file(gpkg, layer="gaps")
    assert gaps["gap_id"].tolist() == [1, 2]
    assert gaps["population"].tolist() == pytest.approx([50.0, 8.0])


def test_demand_layer_columns_and_null_for_unreachable(
    written: Path, result: CoverageResult
) -> None:
    gpkg = written / "coverage.gpkg"
    demand = gpd.read_file(gpkg, layer="demand")
    for col in ("id", "population", "walk_min", "nearest_station", "covered", "stations_within"):
        assert col in demand.columns, col
    assert {"status", "snap_m"} <= set(demand.columns)
    d = demand.set_index("id")
    assert d["walk_min"].drop("H8").to_numpy() == pytest.approx(
        [1.2, 1.8, 0.8, 0.4, 2.2, 1.2, 1.5], abs=1e-6
    )
    assert d["nearest_station"].drop("H8").tolist() == ["A", "A", "B", "B", "B", "B", "A"]
    assert d["covered"].tolist() == [True] * 4 + [False, True, True, False]
    assert d["status"].tolist() == ["covered"] * 4 + ["beyond_limit"] + ["covered"] * 2 + [
        "unreachable"
    ]
    assert np.isnan(d.loc["H8", "walk_min"])
    assert pd.isna(d.loc["H8", "nearest_station"])
    pd.testing.assert_series_equal(
        demand["stations_within"], result.demand["stations_within"], check_dtype=False
    )
    # In the file itself the unreachable home's walk time and station are NULL.
    with sqlite3.connect(gpkg) as db:
        row = db.execute(
            "SELECT walk_min, nearest_station, status FROM demand WHERE id = 'H8'"
        ).fetchone()
        nulls = db.execute("SELECT count(*) FROM demand WHERE walk_min IS NULL").fetchone()
    assert row == (None, None, "unreachable")
    assert nulls == (1,)


def test_rejected_rows_csv(written: Path) -> None:
    back = pd.read_csv(written / "rejected_stations.csv", dtype={"value": str})
    pd.testing.assert_frame_equal(back, REJECTED)


def test_existing_output_is_not_overwritten(
    written: Path, result: CoverageResult, network: WalkNetwork
) -> None:
    before = folder_bytes(written)
    with pytest.raises(OutputExistsError, match="--overwrite") as info:
        write_outputs(result, written, streets=network.edges)
    assert isinstance(info.value, FileExistsError)
    assert str(written) in str(info.value)
    assert folder_bytes(written) == before

    longer = analyze_coverage(
        network,
        grid_stations(),
        grid_homes(),
        config=dataclasses.replace(CONFIG, walk_minutes=2.5),
    )
    write_outputs(longer, written, overwrite=True)
    summary = read_summary(written)
    assert summary["minutes"] == 2.5
    assert summary["share_covered"] == 1.0
    assert summary["gap_zones"] == 0
    assert len(gpd.read_file(written / "coverage.gpkg", layer="gaps")) == 0


def test_a_users_file_stops_the_write_before_anything_is_written(
    tmp_path: Path, result: CoverageResult
) -> None:
    (tmp_path / "map.html").write_text("my own map", "utf-8")
    with pytest.raises(OutputExistsError, match=r"map\.html"):
        write_outputs(result, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
    assert (tmp_path / "map.html").read_text("utf-8") == "my own map"
    # A rejected-rows file of the same name also counts.
    other = tmp_path / "other"
    other.mkdir()
    (other / "rejected_stations.csv").write_text("mine", "utf-8")
    with pytest.raises(OutputExistsError, match=r"rejected_stations\.csv"):
        write_outputs(result, other, rejected={"stations": REJECTED})
    assert (other / "rejected_stations.csv").read_text("utf-8") == "mine"


def test_is_planner_output(tmp_path: Path, written: Path) -> None:
    assert is_planner_output(written)
    assert not is_planner_output(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_planner_output(empty)
    for name, text in {
        "broken": "{not json",
        "other": json.dumps({"generator": "someone-else", "share_covered": 1}),
        "list": "[1, 2]",
    }.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "summary.json").write_text(text, "utf-8")
        assert not is_planner_output(folder), name


def test_nan_and_unreachable_figures_are_written_as_null(
    tmp_path: Path, result: CoverageResult
) -> None:
    # Most people on the island: the weighted median walk time is unreachable (no value).
    demand = result.demand.copy()
    demand.loc[demand["id"] == "H8", "population"] = 10_000.0
    facts = {**result.network_facts, "street_km": math.nan, "island_street_km_left_out": math.inf}
    odd = dataclasses.replace(result, demand=demand, network_facts=facts)
    write_outputs(odd, tmp_path)
    text = (tmp_path / "summary.json").read_text("utf-8")
    assert "NaN" not in text
    assert "Infinity" not in text
    summary = read_summary(tmp_path)
    assert summary["walk_min_median"] is None
    assert summary["walk_min_p90"] is None
    assert summary["network"]["street_km"] is None
    assert summary["network"]["island_street_km_left_out"] is None
    assert summary["population_total"] == pytest.approx(10_280.0)
    assert summary_dict(odd)["walk_min_median"] is None


# ------------------------------------------------------------------- CSV, report, read back

#: CSV columns documented in README "Outputs": the layer's columns, then lon and lat.
CSV_COLUMNS = {
    "stations.csv": [
        "id",
        "name",
        "snap_m",
        "on_network",
        "homes_served",
        "population_served",
        "population_only_here",
        "lon",
        "lat",
    ],
    "demand.csv": [
        "id",
        "population",
        "walk_min",
        "nearest_station",
        "covered",
        "stations_within",
        "status",
        "snap_m",
        "lon",
        "lat",
    ],
    "gaps.csv": [
        "gap_id",
        "homes",
        "population",
        "walk_min_nearest",
        "walk_min_median",
        "nearest_station",
        "homes_off_network",
        "lon",
        "lat",
    ],
}


def test_csv_tables_have_the_documented_columns_and_values(
    written: Path, result: CoverageResult
) -> None:
    for name, columns in CSV_COLUMNS.items():
        raw = (written / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name  # BOM: spreadsheets read UTF-8
        table = pd.read_csv(written / name, encoding="utf-8-sig")
        assert list(table.columns) == columns, name
    stations = pd.read_csv(written / "stations.csv", encoding="utf-8-sig")
    assert stations["id"].tolist() == ["A", "B"]
    assert stations["population_served"].tolist() == pytest.approx([100.0, 200.0])
    assert stations["lon"].to_numpy() == pytest.approx(result.stations.geometry.x, abs=1e-7)
    assert stations["lat"].to_numpy() == pytest.approx(result.stations.geometry.y, abs=1e-7)
    demand = pd.read_csv(written / "demand.csv", encoding="utf-8-sig").set_index("id")
    assert demand.loc["H5", "status"] == "beyond_limit"
    assert np.isnan(demand.loc["H8", "walk_min"])  # unreachable: empty cell
    assert demand["covered"].tolist() == result.demand["covered"].tolist()
    gaps = pd.read_csv(written / "gaps.csv", encoding="utf-8-sig")
    assert gaps["population"].tolist() == pytest.approx([50.0, 8.0])
    # A gap's lon/lat is a point inside its outline.
    for row, outline in zip(gaps.itertuples(), result.gaps.geometry, strict=True):
        assert outline.contains(shapely.Point(row.lon, row.lat))


def test_report_of_the_run_holds_the_summary_figures(written: Path) -> None:
    from helpers import check_report_numbers

    from planner.report.report import report_data

    page = (written / "report.html").read_text("utf-8")
    summary = read_summary(written)
    assert check_report_numbers(page, summary) >= 25
    assert report_data(page)["summary"] == summary


def test_outputs_read_back_into_the_same_result(written: Path, result: CoverageResult) -> None:
    saved = read_outputs(written)
    assert saved.summary == read_summary(written)
    assert saved.result.config.bands == result.config.bands
    assert saved.result.config.walk_limit_m == pytest.approx(result.config.walk_limit_m)
    again = saved.result.summary()
    for key, value in result.summary().items():
        if key == "network":
            continue
        if isinstance(value, float):
            assert again[key] == pytest.approx(value, nan_ok=True), key
        else:
            assert again[key] == value, key
    assert saved.result.demand["covered"].dtype == bool
    assert saved.result.stations["id"].tolist() == ["A", "B"]
    with pytest.raises(InputFileNotFoundError, match=r"no summary\.json written by the planner"):
        read_outputs(written / "missing")


def test_districts_layer_and_csv(tmp_path: Path, result: CoverageResult) -> None:
    west = shapely.box(*xy(-50, -50), *xy(99, 250))
    districts = gpd.GeoDataFrame({"name": ["West"]}, geometry=[west], crs="EPSG:32635")
    write_outputs(result, tmp_path, districts=districts)
    layer = gpd.read_file(tmp_path / "coverage.gpkg", layer="districts")
    assert layer["district"].tolist() == ["West"]
    assert layer["population"].tolist() == pytest.approx([20 + 50 + 70])  # H2, H5, H7
    table = pd.read_csv(tmp_path / "districts.csv", encoding="utf-8-sig")
    assert list(table.columns) == [
        "district",
        "homes",
        "homes_covered",
        "population",
        "population_covered",
        "population_uncovered",
        "share_covered",
        "lon",
        "lat",
    ]
    assert "West" in (tmp_path / "report.html").read_text("utf-8")
    # Rewritten without districts, our stale districts.csv goes.
    write_outputs(result, tmp_path, overwrite=True)
    assert not (tmp_path / "districts.csv").exists()


def test_report_files_are_not_overwritten(tmp_path: Path) -> None:
    target = write_report("<p>one</p>", tmp_path / "r.html")
    with pytest.raises(OutputExistsError, match=r"r\.html already exists"):
        write_report("<p>two</p>", target)
    assert target.read_text("utf-8") == "<p>one</p>"
    write_report("<p>two</p>", target, overwrite=True)
    assert target.read_text("utf-8") == "<p>two</p>"


def test_pdf_without_an_engine_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on this PATH
    assert find_pdf_engine() is None
    with pytest.raises(PdfEngineError, match="install Chromium") as info:
        pdf_from_html(tmp_path / "report.html", tmp_path / "report.pdf")
    assert isinstance(info.value, RuntimeError)
    assert not (tmp_path / "report.pdf").exists()


# ----------------------------------------------------------- input columns named like ours


def test_input_columns_named_like_ours_are_kept_under_input_names(
    tmp_path: Path, network: WalkNetwork
) -> None:
    stations = grid_stations().assign(
        row=["r1", "r2"],
        snap_m=[111.0, 222.0],
        on_network=["yes", "no"],
        population_served=[5, 6],
        fid=["f1", "f2"],
    )
    stations.index = pd.RangeIndex(1, 3, name="row")
    homes = grid_homes().assign(walk_min="x", covered="maybe", status=["s"] * 7)
    with pytest.warns(InputWarning) as caught:
        result = analyze_coverage(network, stations, homes, config=CONFIG)
    text = " ".join(str(w.message) for w in caught)
    for old in ("row", "snap_m", "on_network", "population_served"):
        assert f"'{old}' as 'input_{old}'" in text
    for old in ("walk_min", "covered", "status"):
        assert f"'{old}' as 'input_{old}'" in text
    # The inputs are not modified; ours hold our figures, theirs are kept.
    assert stations["snap_m"].tolist() == [111.0, 222.0]
    st = result.stations
    assert st["input_snap_m"].tolist() == [111.0, 222.0]
    assert st["snap_m"].tolist() == pytest.approx([10.0, 10.0])
    assert st["on_network"].tolist() == [True, True]
    assert st["population_served"].tolist() == pytest.approx([100.0, 200.0])
    assert result.demand["input_status"].tolist() == ["s"] * 7
    assert set(result.demand["status"]) <= {"covered", "beyond_limit"}

    out = tmp_path / "out"
    with pytest.warns(InputWarning, match="'fid' as 'input_fid'"):
        write_outputs(result, out, report=False)
    gpkg = gpd.read_file(out / "coverage.gpkg", layer="stations")
    assert gpkg["row"].tolist() == [1, 2]  # the input row numbers (the index)
    assert gpkg["input_row"].tolist() == ["r1", "r2"]
    assert gpkg["input_fid"].tolist() == ["f1", "f2"]
    assert gpkg["input_population_served"].tolist() == [5, 6]
    assert gpkg["population_served"].tolist() == pytest.approx([100.0, 200.0])
    table = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")
    assert table["input_on_network"].tolist() == ["yes", "no"]
    assert table["on_network"].tolist() == [True, True]


def test_geopackage_writer_takes_any_column_names(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"row": ["a", "b"], "ROW": [1, 2], "fid": ["x", "y"], "name": ["n", None]},
        geometry=[shapely.Point(24.9, 60.1), shapely.Point(24.8, 60.2)],
        crs=4326,
        index=pd.Index([7, 8], name="row"),
    )
    path = tmp_path / "x.gpkg"
    with pytest.warns(InputWarning, match="'ROW' as 'input_ROW'"):
        for_geopackage(layer).to_file(path, layer="t", driver="GPKG", index=False)
    back = gpd.read_file(path, layer="t")
    assert back.columns.tolist() == [
        "index_row",
        "row",
        "input_ROW",
        "input_fid",
        "name",
        "geometry",
    ]
    assert back["index_row"].tolist() == [7, 8]
    assert back["row"].tolist() == ["a", "b"]
    assert back["input_ROW"].tolist() == [1, 2]
    assert back["input_fid"].tolist() == ["x", "y"]
    assert layer.columns.tolist() == ["row", "ROW", "fid", "name", "geometry"]  # unchanged


def test_csv_lon_lat_columns_that_differ_are_kept(result: CoverageResult) -> None:
    same = result.stations.assign(lon=result.stations.geometry.x, lat=result.stations.geometry.y)
    table = csv_table(same)
    assert table.columns.tolist().count("lon") == 1
    assert "input_lon" not in table.columns
    other = result.stations.assign(lon=["east", "west"])
    with pytest.warns(InputWarning, match="'lon' as 'input_lon'"):
        table = csv_table(other)
    assert table["input_lon"].tolist() == ["east", "west"]
    assert table["lon"].tolist() == pytest.approx(result.stations.geometry.x.round(7).tolist())


# ------------------------------------------------------------------------ CSV injection

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tx",
    "\r=1",
]


def test_spreadsheet_safe_escapes_formulas_and_leaves_numbers() -> None:
    table = pd.DataFrame(
        {
            "text": [*HOSTILE, "-2", "+3.5", "-1e3", "plain", None],
            "number": [-1.5, -2.0, 3.0, 0.0, -7.0, 1.0, 2.0, 3.0, 4.0, 5.0, np.nan],
            "=label": ["a"] * 11,
        }
    )
    safe = spreadsheet_safe(table)
    assert safe["text"].tolist()[:6] == ["'" + v for v in HOSTILE]
    assert safe["text"].tolist()[6:10] == ["-2", "+3.5", "-1e3", "plain"]
    assert safe["text"].isna().tolist()[-1]
    assert safe["number"].tolist()[:10] == table["number"].tolist()[:10]
    assert safe["number"].dtype == float
    assert safe.columns.tolist() == ["text", "number", "'=label"]
    assert table["text"].tolist()[0] == HOSTILE[0]  # not modified
    assert safe_cell(-3) == -3
    assert safe_cell("=x") == "'=x"


def test_every_csv_of_a_run_is_spreadsheet_safe_unless_raw_text(
    tmp_path: Path, network: WalkNetwork
) -> None:
    stations = grid_stations().assign(name=HOSTILE[:2], note=HOSTILE[2:4], level=[-1, -2])
    result = analyze_coverage(network, stations, grid_homes(), config=CONFIG)
    bad_rows = REJECTED.assign(value=["=1+1", "-91"])
    out = tmp_path / "safe"
    write_outputs(result, out, rejected={"stations": bad_rows}, report=False)
    table = pd.read_csv(out / "stations.csv", encoding="utf-8-sig", keep_default_na=False)
    assert table["name"].tolist() == ["'" + v for v in HOSTILE[:2]]
    assert table["note"].tolist() == ["'" + v for v in HOSTILE[2:4]]
    assert table["level"].tolist() == [-1, -2]  # numbers stay numbers
    raw = (out / "stations.csv").read_text("utf-8-sig")
    assert ",-1," in raw
    assert ",'+cmd" in raw
    rej = pd.read_csv(out / "rejected_stations.csv", dtype=str)
    assert rej["value"].tolist() == ["'=1+1", "-91"]
    # The GeoPackage is not a spreadsheet: its text is as given.
    assert gpd.read_file(out / "coverage.gpkg", layer="stations")["name"].tolist() == HOSTILE[:2]

    out_raw = tmp_path / "raw"
    write_outputs(result, out_raw, rejected={"stations": bad_rows}, report=False, raw_text=True)
    table = pd.read_csv(out_raw / "stations.csv", encoding="utf-8-sig", keep_default_na=False)
    assert table["name"].tolist() == HOSTILE[:2]
    assert pd.read_csv(out_raw / "rejected_stations.csv", dtype=str)["value"].tolist()[0] == "=1+1"


# ---------------------------------------------------------------------- atomic outputs


def _fail(*args: object, **kwargs: object) -> None:
    raise RuntimeError("disk full (simulated)")


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failing_write_leaves_no_folder_and_no_temporary_files(
    tmp_path: Path, result: CoverageResult, monkeypatch: pytest.MonkeyPatch, error: type
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error("halfway")

    monkeypatch.setattr(export, "coverage_map", fail)  # after the GeoPackage and CSVs
    with pytest.raises(error):
        write_outputs(result, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_a_failing_overwrite_keeps_the_old_folder_untouched(
    written: Path, result: CoverageResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = folder_bytes(written)
    monkeypatch.setattr(export, "coverage_report", _fail)  # the last file but the summary
    with pytest.raises(RuntimeError, match="simulated"):
        write_outputs(result, written, overwrite=True)
    assert folder_bytes(written) == before
    assert leftovers(written.parent) == []
    check_complete(written)


def test_overwrite_replaces_the_run_and_keeps_the_users_own_files(
    written: Path, network: WalkNetwork
) -> None:
    (written / "my notes.txt").write_text("mine", "utf-8")
    (written / "report.pdf").write_bytes(b"%PDF old run")
    longer = analyze_coverage(
        network, grid_stations(), grid_homes(), config=dataclasses.replace(CONFIG, walk_minutes=2.5)
    )
    paths = write_outputs(longer, written, overwrite=True, report=False)
    names = sorted(p.name for p in written.iterdir())
    assert names == [
        "coverage.gpkg",
        "demand.csv",
        "gaps.csv",
        "manifest.json",
        "map.html",
        "my notes.txt",  # the user's
        "stations.csv",
        "summary.json",
    ]  # the earlier run's rejected rows, report and PDF are gone with it
    assert (written / "my notes.txt").read_text("utf-8") == "mine"
    assert read_summary(written)["minutes"] == 2.5
    assert paths.folder == written
    assert leftovers(written.parent) == []
    manifest = check_complete(written)
    assert set(manifest["files"]) == set(names) - {"manifest.json", "my notes.txt"}


def test_an_existing_folder_of_the_users_gets_our_files_beside_theirs(
    tmp_path: Path, result: CoverageResult
) -> None:
    (tmp_path / "data.csv").write_text("x\n1\n", "utf-8")
    write_outputs(result, tmp_path, report=False)
    assert (tmp_path / "data.csv").read_text("utf-8") == "x\n1\n"
    assert (tmp_path / "manifest.json").exists()
    check_complete(tmp_path)
    # A user's file named like one of ours stops the write, the manifest included.
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text("my manifest", "utf-8")
    with pytest.raises(OutputExistsError, match=r"manifest\.json already exists"):
        write_outputs(result, other, report=False)
    assert (other / "manifest.json").read_text("utf-8") == "my manifest"


def test_a_file_is_never_replaced_by_the_output_folder(
    tmp_path: Path, result: CoverageResult
) -> None:
    target = tmp_path / "results"
    target.write_text("my file", "utf-8")
    for overwrite in (False, True):
        with pytest.raises(OutputExistsError, match="is a file, not a folder"):
            write_outputs(result, target, overwrite=overwrite)
    assert target.read_text("utf-8") == "my file"


KILLED_RUN = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import pandas as pd
from helpers import grid_homes, grid_stations, grid_streets
from planner.report import export
from planner.config import AnalysisConfig
from planner.walk.coverage import analyze_coverage
from planner.walk.network import build_walk_network

net = build_walk_network(grid_streets())
result = analyze_coverage(net, grid_stations(), grid_homes(), config=AnalysisConfig(speed_kmh=6))
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
export.coverage_map = die
export.write_outputs(result, {out!r}, overwrite=True)
"""


def test_a_killed_run_never_leaves_a_folder_that_looks_finished(
    written: Path, tmp_path: Path
) -> None:
    before = folder_bytes(written)
    for target in (written, tmp_path / "new"):
        script = KILLED_RUN.format(tests=str(Path(__file__).parents[1]), out=str(target))
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, timeout=300, check=False
        )
        assert done.returncode == -signal.SIGKILL, done.stderr
    assert folder_bytes(written) == before  # the old run, whole
    assert not (tmp_path / "new").exists()
    check_complete(written)
    partial = leftovers(tmp_path)  # clearly named, beside their targets
    assert len(partial) == 2
    assert partial[0].startswith(".new.partial-")
    assert partial[1].startswith(".out.partial-")
    with pytest.raises(InputFileNotFoundError, match=r"did not finish: \.new\.partial-"):
        check_complete(tmp_path / "new")


# ---------------------------------------------------------------- completeness on read


def test_read_outputs_names_what_is_missing(written: Path) -> None:
    (written / "gaps.csv").unlink()
    (written / "map.html").write_text("", "utf-8")
    with pytest.raises(IncompleteOutputError, match=r"gaps\.csv is missing; map\.html is empty"):
        read_outputs(written)
    (written / "manifest.json").unlink()
    with pytest.raises(IncompleteOutputError, match=r"manifest\.json is missing"):
        read_outputs(written)


def test_read_outputs_names_a_missing_geopackage_layer(written: Path) -> None:
    gpkg = written / "coverage.gpkg"
    layers = {n: gpd.read_file(gpkg, layer=n) for n in LAYERS if n != "gaps"}
    gpkg.unlink()
    for name, layer in layers.items():
        layer.to_file(gpkg, layer=name, driver="GPKG")
    with pytest.raises(IncompleteOutputError, match=r"coverage\.gpkg has no layer 'gaps'"):
        read_outputs(written)
    with pytest.raises(IncompleteOutputError, match=r"coverage\.gpkg has no layer 'gaps'"):
        read_outputs(gpkg)  # the GeoPackage itself names its folder
    manifest = json.loads((written / "manifest.json").read_text("utf-8"))
    manifest["geopackage_layers"]["coverage.gpkg"].remove("gaps")
    (written / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IncompleteOutputError, match=r"coverage\.gpkg: layer\(s\) 'gaps' missing"):
        read_outputs(written)


# ------------------------------------------------------------------- non-finite totals


def test_totals_that_overflow_stop_the_write(
    tmp_path: Path, result: CoverageResult, network: WalkNetwork
) -> None:
    homes = grid_homes().assign(population=1e308)
    with pytest.raises(InputDataError, match=r"total overflows \(largest 1e\+308\), on rows"):
        analyze_coverage(network, grid_stations(), homes, config=CONFIG)
    nan_home = grid_homes().assign(population=[1.0, np.nan, 2, 3, 4, 5, np.inf])
    with pytest.raises(InputDataError, match=r"\[1, 6\]"):
        analyze_coverage(network, grid_stations(), nan_home, config=CONFIG)
    # A result built otherwise (e.g. read back, or a plan) is stopped by the writer.
    demand = result.demand.assign(population=1e308)
    broken = dataclasses.replace(result, demand=demand)
    with np.errstate(all="ignore"), pytest.raises(InputDataError, match="not finite"):
        write_outputs(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_an_output_folder_behind_a_link_stays_linked(
    written: Path, tmp_path: Path, network: WalkNetwork
) -> None:
    (written / "notes.txt").write_text("mine", "utf-8")
    link = tmp_path / "link"
    link.symlink_to(written, target_is_directory=True)
    longer = analyze_coverage(
        network, grid_stations(), grid_homes(), config=dataclasses.replace(CONFIG, walk_minutes=2.5)
    )
    write_outputs(longer, link, overwrite=True, report=False)
    assert link.is_symlink()
    assert read_summary(written)["minutes"] == 2.5
    assert (written / "notes.txt").read_text("utf-8") == "mine"
    assert not (written / "rejected_stations.csv").exists()
    assert not (written / "report.html").exists()
    assert check_complete(link)["files"].keys() == check_complete(written)["files"].keys()
    assert leftovers(tmp_path) == []
