"""Tests of planner.export: summary.json, coverage.gpkg, rejected rows, no silent overwrite."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
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
from planner.coverage import CoverageResult, analyze_coverage
from planner.errors import InputFileNotFoundError, OutputExistsError, PdfEngineError
from planner.export import (
    GENERATOR,
    LAYERS,
    find_pdf_engine,
    is_planner_output,
    pdf_from_html,
    read_outputs,
    summary_dict,
    write_outputs,
    write_report,
)
from planner.network import WalkNetwork, build_walk_network

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

    from planner.report import report_data

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
