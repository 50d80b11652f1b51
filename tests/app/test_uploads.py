"""Uploaded files: size limits, formats, and the loaders' own errors passed on."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planner.app.plan import build_plan
from planner.app.study_area import StudyArea
from planner.app.uploads import (
    STATION_SUFFIXES,
    area_from_upload,
    check_size,
    decimal_mark,
    demand_from_upload,
    merge_stations,
    stations_from_upload,
)
from planner.errors import InputDataError, NetworkBuildError, UnsupportedFormatError
from planner.limits import InputLimitError, InputLimits
from planner.sources.sites import stations_from_file

GOOD = "id,name,category,lon,lat\nX1,<script>alert(1)</script>,lib,27.0,60.2\nX2,b,,999,60.2\n"


def test_station_csv_loads_with_its_rejected_rows() -> None:
    loaded = stations_from_upload("stations.csv", GOOD.encode())
    assert list(loaded.data["id"]) == ["X1"]
    assert loaded.data.loc[1, "name"] == "<script>alert(1)</script>"
    assert list(loaded.rejected["row"]) == [2]
    assert loaded.source == "stations.csv"


def test_size_limit_has_a_clear_message() -> None:
    with pytest.raises(
        InputDataError, match=r"big.csv is 6\.0 MB; station files are limited to 5 MB"
    ):
        stations_from_upload("big.csv", b"x" * 6_000_000)
    check_size("ok.csv", 10, limit_mb=1, what="station")


def _stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["X1", "X2"], "name": ["Library", "Hall"], "category": ["lib", "hall"]},
        geometry=[shapely.Point(24.9475, 60.1765), shapely.Point(24.94, 60.17)],
        crs="EPSG:4326",
    )


def _file_bytes(tmp: Path, fmt: str) -> tuple[str, bytes]:
    """The two stations written as a colleague would save them, as (file name, bytes)."""
    s = _stations()
    if fmt == "xlsx":
        table = pd.DataFrame(
            {
                "id": ["X1", "X2", "X3"],
                "name": ["Library", "Hall", "Broken"],
                "category": ["lib", "hall", "lib"],
                "lon": [24.9475, 24.94, "east"],  # row 3 is rejected
                "lat": [60.1765, 60.17, 60.17],
            }
        )
        buf = io.BytesIO()
        table.to_excel(buf, index=False, sheet_name="stations")
        return "stations.xlsx", buf.getvalue()
    if fmt == "zip":
        folder = tmp / "shp"
        folder.mkdir()
        s.to_file(folder / "stations.shp", engine="pyogrio")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for f in sorted(folder.iterdir()):
                z.write(f, f.name)
        return "stations.zip", buf.getvalue()
    path = tmp / f"stations.{fmt}"
    if fmt == "gpkg":
        s.to_crs(3067).to_file(path, layer="stations", engine="pyogrio")  # metric CRS
    else:
        s.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path.name, path.read_bytes()


@pytest.mark.parametrize("fmt", ["xlsx", "geojson", "gpkg", "zip"])
def test_station_files_of_every_format(tmp_path: Path, fmt: str) -> None:
    filename, data = _file_bytes(tmp_path, fmt)
    loaded = stations_from_upload(filename, data)
    assert list(loaded.data["id"]) == ["X1", "X2"]
    assert list(loaded.data["name"]) == ["Library", "Hall"]
    assert loaded.data.crs == "EPSG:4326"
    assert loaded.data.geometry.x.tolist() == pytest.approx([24.9475, 24.94], abs=1e-7)
    assert loaded.data.geometry.y.tolist() == pytest.approx([60.1765, 60.17], abs=1e-7)
    assert loaded.source == filename
    if fmt == "xlsx":
        assert list(loaded.rejected["row"]) == [3]
        assert list(loaded.rejected["column"]) == ["lon"]
    else:
        assert loaded.rejected.empty


def test_accepted_station_suffixes() -> None:
    for suffix in (".csv", ".txt", ".tsv", ".xlsx", ".geojson", ".json", ".gpkg", ".zip"):
        assert suffix in STATION_SUFFIXES
    assert ".shp" not in STATION_SUFFIXES  # its side files cannot come along: zip them


def test_wrong_format_and_bad_content() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"stations\.shp: .*zipped"):
        stations_from_upload("stations.shp", b"\x00\x00\x27\x0a")
    with pytest.raises(UnsupportedFormatError, match=r"stations\.xls: station files are read"):
        stations_from_upload("stations.xls", b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputDataError, match=r"^s\.xlsx: not a readable Excel file"):
        stations_from_upload("s.xlsx", b"PK\x03\x04")
    # The loader's message names the upload, not the temporary file it was written to.
    with pytest.raises(InputDataError, match=r"^s\.csv: no coordinate column") as err:
        stations_from_upload("s.csv", b"a,b\n1,2\n")
    assert "planner-upload-" not in str(err.value)
    with pytest.raises(UnsupportedFormatError, match="street networks are read from"):
        area_from_upload("city.shp", b"x")
    with pytest.raises(InputDataError, match="population"):
        demand_from_upload("homes.csv", b"lon,lat\n27,60\n")


def test_upload_names_cannot_escape_the_temporary_folder() -> None:
    loaded = stations_from_upload("../../etc/stations.csv", GOOD.encode())
    assert len(loaded.data) == 1


def test_appending_stations_refuses_repeated_ids(grid_area: StudyArea) -> None:
    plan = build_plan(grid_area)
    new = stations_from_upload("s.csv", GOOD.encode()).data
    both = merge_stations(plan, new)
    assert list(both["id"]) == ["A", "B", "X1"]
    with pytest.raises(InputDataError, match="ids A are already in the plan"):
        merge_stations(plan, new.assign(id="A"))


# ------------------------------------------------------------------ hostile uploads (issue 9)


def test_uploads_apply_the_input_limits_with_the_same_messages(tmp_path: Path) -> None:
    bomb = io.BytesIO()
    with (
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z,
        z.open("stations.csv", "w") as member,
    ):
        member.write(b"lon,lat\n")
        for _ in range(200):
            member.write(b"24.9,60.1\n" * 100_000)  # 1 MB
    data = bomb.getvalue()
    assert len(data) < 500_000
    with pytest.raises(InputLimitError, match=r"^stations\.zip: the compressed file") as info:
        stations_from_upload("stations.zip", data)
    assert "planner-upload-" not in str(info.value)
    # The same message as the command line's loader gives for a file of that name.
    path = tmp_path / "stations.zip"
    path.write_bytes(data)
    with pytest.raises(InputLimitError) as cli_info:
        stations_from_file(path)
    assert str(cli_info.value).replace(str(path), "stations.zip") == str(info.value)
    wide = ",".join(f"c{i}" for i in range(10_000)) + "\n" + ",".join(["1"] * 10_000) + "\n"
    with pytest.raises(InputLimitError, match=r"^wide\.csv: more than 1,000 columns"):
        stations_from_upload("wide.csv", wide.encode())
    many = "lon,lat,population\n" + "24.94,60.17,1\n" * 11
    with pytest.raises(InputLimitError, match=r"^homes\.csv: more than 10 demand points"):
        demand_from_upload("homes.csv", many.encode(), limits=InputLimits(max_homes=10))
    with pytest.raises(InputLimitError, match=r"^s\.csv: more than 10 stations"):
        stations_from_upload("s.csv", many.encode(), limits=InputLimits(max_stations=10))


def test_uploaded_rows_are_rejected_like_the_command_lines() -> None:
    text = "id,name,lon,lat\nS1,Luckan,24.9365,60,17\nS2,Kamppi,24.93,60.16\n"
    loaded = stations_from_upload("s.csv", text.encode())
    assert loaded.data["id"].tolist() == ["S2"]
    assert loaded.rejected["row"].tolist() == [1]
    assert "5 fields, header has 4: a decimal comma?" in loaded.rejected["reason"].iloc[0]
    demand = "lon,lat,population\n24.94,60.17,1e308\n24.94,60.17,12\n"
    homes = demand_from_upload("homes.csv", demand.encode())
    assert homes.data["population"].tolist() == [12.0]
    assert homes.rejected["row"].tolist() == [1]
    with pytest.raises(InputDataError, match=r"^dup\.csv: duplicated column names"):
        stations_from_upload("dup.csv", b"lon, lon,lat\n1,2,3\n")
    with pytest.raises(InputDataError, match=r"^dup\.csv: duplicated column names"):
        demand_from_upload("dup.csv", b"lon, lon,lat\n1,2,3\n")


def test_a_cut_off_extract_upload_is_named(tmp_path: Path) -> None:
    import pyrosm

    data = Path(pyrosm.get_data("test_pbf")).read_bytes()[:100]
    with pytest.raises(NetworkBuildError, match=r"^kotka\.osm\.pbf: not a readable OSM PBF file"):
        area_from_upload("kotka.osm.pbf", data)


def test_a_zipped_road_layer_builds_a_study_area(tmp_path: Path) -> None:
    from planner.sources.osm import demo_extract_path, homes_from_osm
    from planner.walk.network_cache import network_from_file

    pbf = network_from_file(demo_extract_path(), use_cache=False)
    lines = gpd.GeoDataFrame({"class": pbf.edges["highway"]}, geometry=pbf.edges.geometry)
    lines.to_crs(3067).to_file(tmp_path / "roads.shp", engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in tmp_path.glob("roads.*"):
            zf.write(f, f.name)
    homes = homes_from_osm(demo_extract_path()).head(50)
    with pytest.raises(InputDataError, match=r"^道路\.zip: a road layer carries no buildings"):
        area_from_upload("道路.zip", buf.getvalue())
    area = area_from_upload("道路.zip", buf.getvalue(), demand=homes)
    assert area.network.road_report is not None
    # Default tolerance 0.5 m: the extract's network, a few near ends joined.
    assert area.network.n_nodes == pytest.approx(pbf.n_nodes, rel=0.01)
    assert area.network.street_m == pytest.approx(pbf.street_m, rel=0.01)
    with pytest.raises(UnsupportedFormatError, match=r"^bad\.gpkg: cannot be read as a line"):
        area_from_upload("bad.gpkg", b"not a geopackage")


#: The usual Excel export in much of Europe: ';' between fields, decimal commas, a BOM.
EXCEL_EU = "\ufeffid;name;lon;lat\nA;Eka, talo;24,9475;60,1765\nB;Toka;-0,5;51,25\n"


def test_a_semicolon_table_with_decimal_commas_is_read_as_such() -> None:
    loaded = stations_from_upload("asemat.csv", EXCEL_EU.encode())
    assert loaded.rejected.empty
    xy = [(p.x, p.y) for p in loaded.data.geometry]
    assert xy == [(24.9475, 60.1765), (-0.5, 51.25)]
    assert loaded.data["name"].tolist() == ["Eka, talo", "Toka"]
    homes = demand_from_upload("kodit.txt", b"lon;lat;population\n24,94;60,17;3,5\n")
    assert homes.data["population"].tolist() == [3.5]
    assert homes.data.geometry.iloc[0].x == 24.94


@pytest.mark.parametrize(
    ("name", "text", "mark"),
    [
        ("a.csv", EXCEL_EU, ","),
        ("a.tsv", "lon\tlat\n24,9\t60,1\n", ","),
        ("a.csv", "id;lon;lat\nA;24.9475;60.1765\n", None),  # decimal points
        ("a.csv", "id;lon;lat\nA;24,9;60.1\n", None),  # mixed: left to the loader
        ("a.csv", 'id,lon,lat\nA,"24,9",60.1\n', None),  # comma-separated header
        ("a.csv", "id;lon;lat\nA;24;60\n", None),  # whole numbers: nothing to tell
        ("a.xlsx", EXCEL_EU, None),
        ("a.csv", "id;lon;lat\n", None),
    ],
)
def test_decimal_mark_is_told_from_the_rows(name: str, text: str, mark: str | None) -> None:
    assert decimal_mark(name, text.encode()) == mark


@pytest.mark.parametrize("forget", [True, False])
def test_an_uploaded_extract_leaves_no_pyrosm_reads_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forget: bool
) -> None:
    import tempfile

    import pyrosm

    import planner.app.uploads as uploads

    # pyrosm caches its reads under the temporary folder, keyed by the file's path: for an
    # upload's temporary copy they could never be read again, so they are removed.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    if not forget:  # shows that the reads are cached at all, so the check below can fail
        monkeypatch.setattr(uploads, "forget_pyrosm_reads", lambda path: None)
    data = Path(pyrosm.get_data("test_pbf")).read_bytes()
    area = area_from_upload("kotka.osm.pbf", data)
    assert len(area.demand) > 1000
    left = sorted((tmp_path / "pyrosm" / "cache").glob("result_*"))
    assert (left == []) is forget, left
