"""``planner analyze --network roads.shp``: a road line layer as the walking network."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.cli import main
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.walk.network_cache import network_from_file


def test_analyze_with_a_shapefile_network(tmp_path: Path) -> None:
    pbf = demo_extract_path()
    edges = network_from_file(pbf, use_cache=False).edges
    roads = gpd.GeoDataFrame({"class": edges["highway"]}, geometry=edges.geometry).to_crs(3067)
    roads.to_file(tmp_path / "roads.shp")
    st = stations_from_osm(pbf).head(3)
    pd.DataFrame({"lon": st.geometry.x, "lat": st.geometry.y}).to_csv(tmp_path / "s.csv")
    homes = homes_from_osm(pbf).head(200)
    pd.DataFrame(
        {"lon": homes.geometry.x, "lat": homes.geometry.y, "population": np.ones(len(homes))}
    ).to_csv(tmp_path / "d.csv")
    out = tmp_path / "out"
    argv = [
        "analyze",
        "--network",
        str(tmp_path / "roads.shp"),
        "--node-tolerance-m",
        "0.3",
        "--walkable",
        "class not in (steps)",
        "--stations",
        str(tmp_path / "s.csv"),
        "--demand",
        str(tmp_path / "d.csv"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(out),
    ]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    # Nothing of this run came from OpenStreetMap: no OSM credit for the data.
    assert summary["osm_data"] == []
    assert "attribution" not in summary
    page = (out / "report.html").read_text("utf-8")
    assert "are the user&#x27;s own data" in page
    assert "Map data and street network" not in page
    facts = summary["network"]
    layer = facts["road_layer"]
    assert layer["node_tolerance_m"] == 0.3
    assert layer["lines_read"] == len(roads)
    assert layer["dropped_not_walkable"] == int((roads["class"] == "steps").sum()) > 0
    assert facts["nodes"] > 2000


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
    ):
        warnings.simplefilter("always")
        code = main(argv)
    said = out.getvalue() + "".join(str(w.message) for w in caught)
    return code, said


def test_zipped_layer_with_a_mapping_through_analyze_report_and_suggest(tmp_path: Path) -> None:
    import zipfile

    pbf = demo_extract_path()
    edges = network_from_file(pbf, use_cache=False).edges
    roads = gpd.GeoDataFrame({"道路等级": edges["highway"]}, geometry=edges.geometry)
    roads.to_crs("EPSG:4547").to_file(tmp_path / "roads.shp", encoding="GBK")
    (tmp_path / "roads.cpg").unlink(missing_ok=True)
    packed = tmp_path / "roads.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        for f in tmp_path.glob("roads.*"):
            if f != packed:
                zf.write(f, f.name)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[walkable]\ncolumn = "道路等级"\nexclude = ["steps"]\n', "utf-8")
    st = stations_from_osm(pbf).head(3)
    pd.DataFrame({"lon": st.geometry.x, "lat": st.geometry.y}).to_csv(tmp_path / "s.csv")
    homes = homes_from_osm(pbf).head(200)
    pd.DataFrame(
        {"lon": homes.geometry.x, "lat": homes.geometry.y, "population": np.ones(len(homes))}
    ).to_csv(tmp_path / "d.csv")
    network = ["--network", str(packed), "--road-mapping", str(mapping)]
    tables = ["--stations", str(tmp_path / "s.csv"), "--demand", str(tmp_path / "d.csv")]
    out = tmp_path / "out"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    code, said = _run(["analyze", *network, *tables, *cache, "--lang", "zh", "--out", str(out)])
    assert code == 0, said
    steps = int((edges["highway"] == "steps").sum())
    assert "道路图层质量" in said
    assert f"{steps} 条不可步行" in said
    facts = json.loads((out / "summary.json").read_text("utf-8"))["network"]["road_layer"]
    assert facts["dropped_not_walkable"] == steps
    assert facts["options"]["file"] == str(packed)
    assert facts["options"]["mapping"] == str(mapping)
    # The report reads the same layer again, with the same mapping, for its street layer.
    code, said = _run(["report", str(out), "--out", str(tmp_path / "again.html")])
    assert code == 0, said
    assert "no street layer" not in said
    page = (tmp_path / "again.html").read_text("utf-8")
    assert 'id="road-layer"' in page
    assert "Road layer quality" in page
    # suggest takes the same options.
    sites = tmp_path / "sites"
    own = tmp_path / "suggest-cache"
    code, said = _run(
        ["suggest", *network, *tables, "--k", "1", "--cache-dir", str(own), "--out", str(sites)]
    )
    assert code == 0, said
    assert list((own / "built-networks").glob("*.npz"))  # its own --cache-dir
    chosen = json.loads((sites / "siting.json").read_text("utf-8"))
    assert chosen["inputs"]["network"] == str(packed)
    code, said = _run(
        ["suggest", *network, *tables, "--k", "1", "--candidate-tags", "amenity=school",
         "--out", str(tmp_path / "other")]
    )  # fmt: skip
    assert code == 1
    assert "roads.zip: a road layer has no OSM features" in said


def test_dxf_without_its_crs_is_refused_with_the_option_named(tmp_path: Path) -> None:
    import shapely

    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (100, 0)])], crs=3067)
    lines.to_file(tmp_path / "cad.dxf", driver="DXF", engine="pyogrio")
    pd.DataFrame({"lon": [24.94], "lat": [60.17]}).to_csv(tmp_path / "s.csv")
    pd.DataFrame({"lon": [24.94], "lat": [60.17], "population": [1]}).to_csv(tmp_path / "d.csv")
    argv = ["analyze", "--network", str(tmp_path / "cad.dxf"), "--stations"]
    argv += [str(tmp_path / "s.csv"), "--demand", str(tmp_path / "d.csv")]
    out = io.StringIO()
    with contextlib.redirect_stderr(out):
        code = main([*argv, "--out", str(tmp_path / "o")])
    assert code == 1
    assert "cad.dxf: a DXF file states no coordinate reference system" in out.getvalue()
    assert "--network-crs EPSG:" in out.getvalue()
