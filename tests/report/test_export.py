"""Tests of report.export: summary.json, coverage.gpkg, CSV tables and rejected rows."""

from __future__ import annotations

import dataclasses
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
from helpers import (
    HOSTILE,
    REJECTED,
    RUN_CONFIG,
    grid_homes,
    grid_stations,
    leftovers,
    read_summary,
    xy,
)

from planner import __version__
from planner.errors import (
    InputDataError,
    InputWarning,
    OutputExistsError,
)
from planner.report.export import (
    csv_table,
    for_geopackage,
    osm_attribution,
    summary_dict,
    write_outputs,
    write_report,
)
from planner.report.output_folder import GENERATOR, LAYERS
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork

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
        result = analyze_coverage(network, stations, homes, config=RUN_CONFIG)
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


def test_every_csv_of_a_run_is_spreadsheet_safe_unless_raw_text(
    tmp_path: Path, network: WalkNetwork
) -> None:
    stations = grid_stations().assign(name=HOSTILE[:2], note=HOSTILE[2:4], level=[-1, -2])
    result = analyze_coverage(network, stations, grid_homes(), config=RUN_CONFIG)
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


# ------------------------------------------------------------------- non-finite totals


def test_totals_that_overflow_stop_the_write(
    tmp_path: Path, result: CoverageResult, network: WalkNetwork
) -> None:
    homes = grid_homes().assign(population=1e308)
    with pytest.raises(InputDataError, match=r"total overflows \(largest 1e\+308\), on rows"):
        analyze_coverage(network, grid_stations(), homes, config=RUN_CONFIG)
    nan_home = grid_homes().assign(population=[1.0, np.nan, 2, 3, 4, 5, np.inf])
    with pytest.raises(InputDataError, match=r"\[1, 6\]"):
        analyze_coverage(network, grid_stations(), nan_home, config=RUN_CONFIG)
    # A result built otherwise (e.g. read back, or a plan) is stopped by the writer.
    demand = result.demand.assign(population=1e308)
    broken = dataclasses.replace(result, demand=demand)
    with np.errstate(all="ignore"), pytest.raises(InputDataError, match="not finite"):
        write_outputs(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_gc_paused_restores_the_collector_when_the_last_pause_ends() -> None:
    import gc
    import threading

    from planner.report.export import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

    # Two threads: the first to finish must not switch it on under the other.
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=other)
    with gc_paused():
        worker.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread still writes
    release.set()
    worker.join(10)
    assert gc.isenabled()

    # Off before: stays off.
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_csv_coordinates_are_the_points_or_a_point_inside() -> None:
    """Points give themselves, other shapes ``representative_point`` (duplicate labels too);
    no shape gives no coordinates."""
    import shapely

    from planner.report.export import csv_table

    geoms = [
        shapely.Point(24.9, 60.1),
        shapely.box(24.0, 60.0, 24.2, 60.3),
        None,
        shapely.LineString([(25.0, 61.0), (25.2, 61.0)]),
        shapely.Point(24.95, 60.15),
    ]
    layer = gpd.GeoDataFrame({"n": range(5)}, geometry=geoms, crs=4326, index=[0, 0, 1, 1, 2])
    table = csv_table(layer)
    expected = gpd.GeoSeries(geoms, crs=4326)
    expected = expected.where(expected.geom_type == "Point", expected.representative_point())
    lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
    np.testing.assert_array_equal(lon, np.round(expected.x.to_numpy(dtype=float), 7))
    np.testing.assert_array_equal(lat, np.round(expected.y.to_numpy(dtype=float), 7))
    assert lon[0] == 24.9
    assert np.isnan(lon[2])
    assert np.isnan(lat[2])


@pytest.mark.parametrize(
    ("osm_data", "credit"),
    [
        (("streets", "buildings"), "Street and building data"),
        (("buildings", "streets"), "Street and building data"),
        (("streets",), "Street data"),
        (("buildings",), "Building data"),
        (("stations", "streets", "buildings"), "Street, building and station data"),
    ],
)
def test_osm_attribution_names_what_came_from_osm(osm_data: tuple[str, ...], credit: str) -> None:
    assert osm_attribution(osm_data) == f"{credit} (c) OpenStreetMap contributors, ODbL 1.0"


def test_no_osm_credit_without_osm_data_and_unknown_kinds_refused() -> None:
    assert osm_attribution(()) is None
    with pytest.raises(InputDataError, match=r"osm_data: unknown kind.*'roads'"):
        osm_attribution(("roads",))
