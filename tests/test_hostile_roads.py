"""Hostile road layers: payloads in attributes and names, broken files, through ``planner analyze``.

The station-table catalogue is :mod:`test_hostile`; this is its counterpart for the road
line layers of :mod:`planner.sources.road_files`: every case runs the command line on a
real network (Kotka's streets written as a layer) and checks the exit code, that the
message names the file or option, that no traceback is shown and that no text from the
file runs as a template or a shell command.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
from test_hostile import HTML_PAYLOADS, SITES, TEMPLATE_PAYLOADS

from planner.cli import main
from planner.sources.osm import homes_from_osm
from planner.walk.network_cache import network_from_file

PAYLOADS = (*TEMPLATE_PAYLOADS, *HTML_PAYLOADS, '=HYPERLINK("http://x.invalid")')


@pytest.fixture(scope="module")
def kotka_lines(tmp_path_factory: pytest.TempPathFactory) -> tuple[gpd.GeoDataFrame, Path, Path]:
    """Kotka's streets as lines in EPSG:3067, and station and demand tables on them."""
    folder = tmp_path_factory.mktemp("kotka-roads")
    path = pyrosm.get_data("test_pbf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        edges = network_from_file(path, use_cache=False).edges
        homes = homes_from_osm(path)
    lines = gpd.GeoDataFrame({"highway": edges["highway"]}, geometry=edges.geometry).to_crs(3067)
    pd.DataFrame(
        {"id": ["a", "b", "c"], "lon": [s[0] for s in SITES], "lat": [s[1] for s in SITES]}
    ).to_csv(folder / "stations.csv", index=False)
    pts = homes.to_crs(4326).head(200)
    pd.DataFrame({"lon": pts.geometry.x, "lat": pts.geometry.y, "population": 2}).to_csv(
        folder / "homes.csv", index=False
    )
    return lines, folder / "stations.csv", folder / "homes.csv"


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
    ):
        warnings.simplefilter("default")
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue()


def test_payloads_in_attributes_and_file_names_stay_text(
    kotka_lines: tuple[gpd.GeoDataFrame, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines, stations, homes = kotka_lines
    monkeypatch.chdir(tmp_path)  # where a payload's `touch MARKER` would land
    rng = np.random.default_rng(7)
    hostile = lines.assign(
        highway=rng.choice(np.array(PAYLOADS, dtype=object), len(lines)),
        level=rng.choice(np.array(["0", "{{ 7*7 }}"], dtype=object), len(lines)),
    )
    hostile["{{ 7*7 }} 名称"] = hostile["highway"]
    name = "道路 {{ 7*7 }} <b>.gpkg"
    hostile.to_file(tmp_path / name, engine="pyogrio")
    out = tmp_path / "out"
    dropped = int((hostile["highway"] == "{{ 7*7 }}").sum())
    argv = ["analyze", "--network", str(tmp_path / name), "--walkable"]
    argv += ["{{ 7*7 }} 名称 not in ({{ 7*7 }})", "--stations", str(stations)]
    code, printed = run([*argv, "--demand", str(homes), "--out", str(out)])
    assert code == 0, printed[-3000:]
    assert "Traceback" not in printed
    assert not (tmp_path / "MARKER").exists()
    facts = json.loads((out / "summary.json").read_text("utf-8"))["network"]["road_layer"]
    assert facts["dropped_not_walkable"] == dropped > 0
    assert facts["level_column"] == "level"
    report = (out / "report.html").read_text("utf-8")
    assert "道路 {{ 7*7 }} &lt;b&gt;.gpkg" in report
    assert "<b>.gpkg" not in report
    assert 'id="road-layer"' in report


def _zip_of(folder: Path, lines: gpd.GeoDataFrame) -> bytes:
    lines.to_file(folder / "r.shp", engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in folder.glob("r.*"):
            zf.write(f, f.name)
    return buf.getvalue()


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("roads.dbf", b"\0" * (40 << 20))
    return buf.getvalue()


def _points(folder: Path, lines: gpd.GeoDataFrame) -> bytes:
    pts = gpd.GeoDataFrame(geometry=lines.geometry.centroid.head(5), crs=lines.crs)
    pts.to_file(folder / "p.geojson", engine="pyogrio")
    return (folder / "p.geojson").read_bytes()


def _dxf(folder: Path, lines: gpd.GeoDataFrame) -> bytes:
    lines[["geometry"]].to_file(folder / "c.dxf", driver="DXF", engine="pyogrio")
    return (folder / "c.dxf").read_bytes()


Maker = Callable[[Path, gpd.GeoDataFrame], bytes]
BROKEN: list[tuple[str, str, Maker, tuple[str, ...], str]] = [
    ("cut-zip", "roads.zip", lambda f, g: _zip_of(f, g)[:300], (), r"roads\.zip"),
    ("zip-bomb", "roads.zip", lambda f, g: _bomb(), (), r"roads\.zip.*zip bomb"),
    ("not-a-gpkg", "roads.gpkg", lambda f, g: b"SQLite format 3\0xx", (), r"roads\.gpkg"),
    (
        "empty-geojson",
        "roads.geojson",
        lambda f, g: b'{"type": "FeatureCollection", "features": []}',
        (),
        r"roads\.geojson",
    ),
    ("points", "roads.geojson", _points, (), r"roads\.geojson: no line features"),
    ("dxf-no-crs", "roads.dxf", _dxf, (), r"roads\.dxf.*--network-crs EPSG"),
    (
        "unknown-crs",
        "roads.dxf",
        _dxf,
        ("--network-crs", "EPSG:999999"),
        r"--network-crs.*unknown coordinate reference system",
    ),
    (
        "coord-system",
        "roads.zip",
        _zip_of,
        ("--network-coord-system", "mars2"),
        r"Unknown coordinate system 'mars2'",
    ),
    (
        "walkable-column",
        "roads.zip",
        _zip_of,
        ("--walkable", "类别 in (a)"),
        r"roads\.zip.*'类别'.*highway",
    ),
    ("tolerance", "roads.zip", _zip_of, ("--node-tolerance-m", "nan"), r"--node-tolerance-m"),
]


@pytest.mark.parametrize(
    ("name", "file", "make", "options", "says"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_broken_road_layers_are_refused_with_the_file_named(
    kotka_lines: tuple[gpd.GeoDataFrame, Path, Path],
    tmp_path: Path,
    name: str,
    file: str,
    make: Maker,
    options: tuple[str, ...],
    says: str,
) -> None:
    lines, stations, homes = kotka_lines
    work = tmp_path / "work"
    work.mkdir()
    network = tmp_path / file
    network.write_bytes(make(work, lines))
    out = tmp_path / "out"
    argv = ["analyze", "--network", str(network), *options, "--stations", str(stations)]
    code, printed = run([*argv, "--demand", str(homes), "--out", str(out)])
    assert code == 1, printed[-3000:]
    assert "Traceback" not in printed
    assert "planner: error" in printed
    assert re.search(says, printed, re.DOTALL), printed[-3000:]
    assert not out.exists()


def test_a_broken_mapping_file_and_an_empty_gdb_are_named(
    kotka_lines: tuple[gpd.GeoDataFrame, Path, Path], tmp_path: Path
) -> None:
    lines, stations, homes = kotka_lines
    (tmp_path / "w").mkdir()
    network = tmp_path / "roads.zip"
    network.write_bytes(_zip_of(tmp_path / "w", lines))
    mapping = tmp_path / "映射.toml"
    mapping.write_text('[walkable]\ncolumn = "highway"\nclasses = ["x"]\nspeed = "{{ 7*7 }}"\n')
    tail = ["--stations", str(stations), "--demand", str(homes), "--out", str(tmp_path / "o")]
    code, printed = run(
        ["analyze", "--network", str(network), "--road-mapping", str(mapping), *tail]
    )
    assert code == 1
    assert re.search(r"映射\.toml: \[walkable\] has an unknown key 'speed'", printed), printed
    for option in ("--road-mapping", "--add-osm-paths"):
        argv = ["analyze", "--network", str(network), option, str(tmp_path / "gone.toml")]
        code, printed = run([*argv, *tail])
        assert code == 1
        assert f"gone.toml: no such file ({option})" in printed
        assert "Traceback" not in printed
    gdb = tmp_path / "empty.gdb"
    gdb.mkdir()
    code, printed = run(["analyze", "--network", str(gdb), *tail])
    assert code == 1
    assert "empty.gdb" in printed
    assert "Traceback" not in printed


def test_payloads_as_line_speeds_are_named_not_run(
    kotka_lines: tuple[gpd.GeoDataFrame, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A [speed] column of payloads stops the run naming rows and values, as text."""
    lines, stations, homes = kotka_lines
    monkeypatch.chdir(tmp_path)
    column = "<b>速度 {{ 7*7 }}"
    speeds = np.full(len(lines), "", dtype=object)
    speeds[[3, 10]] = PAYLOADS[0], '=HYPERLINK("http://x.invalid")'
    lines.assign(**{column: speeds}).to_file(tmp_path / "r.gpkg", engine="pyogrio")
    mapping = tmp_path / "m.toml"
    mapping.write_text(f"[speed]\ncolumn = {json.dumps(column)}\n", "utf-8")
    tail = ["--stations", str(stations), "--demand", str(homes), "--out", str(tmp_path / "o")]
    argv = ["analyze", "--network", str(tmp_path / "r.gpkg"), "--road-mapping", str(mapping)]
    code, printed = run([*argv, *tail])
    assert code == 1
    assert "Traceback" not in printed
    assert f"row 4: {PAYLOADS[0]!r}; row 11: '=HYPERLINK" in printed
    assert not (tmp_path / "MARKER").exists()
    assert not (tmp_path / "o").exists()
    # Valid speeds: the column's name reaches the report escaped.
    speeds[[3, 10]] = "3", "0"
    lines.assign(**{column: speeds}).to_file(tmp_path / "r.gpkg", engine="pyogrio")
    code, printed = run([*argv, *tail])
    assert code == 0, printed[-3000:]
    facts = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    road = facts["network"]["road_layer"]
    assert (road["lines_own_speed"], road["dropped_speed_zero"]) == (1, 1)
    assert road["speed_column"] == column
    report = (tmp_path / "o" / "report.html").read_text("utf-8")
    assert "&lt;b&gt;速度 {{ 7*7 }}" in report
    assert "<b>速度" not in report
