"""The app's study area from an uploaded road layer (a zipped shapefile of lines), in AppTest."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyrosm
from test_app import fresh, metrics, workspace

from planner.sources.osm import homes_from_osm
from planner.walk.network_cache import network_from_file


def test_study_area_from_a_zipped_road_layer_and_a_demand_table(tmp_path: Path) -> None:
    path = pyrosm.get_data("test_pbf")
    edges = network_from_file(path, use_cache=False).edges
    lines = gpd.GeoDataFrame({"道路等级": edges["highway"]}, geometry=edges.geometry)
    lines.to_crs("EPSG:3067").to_file(tmp_path / "roads.shp", engine="pyogrio", encoding="GBK")
    (tmp_path / "roads.cpg").unlink(missing_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(tmp_path.glob("roads.*")):
            zf.write(f, f.name)
    homes = homes_from_osm(path).to_crs(4326).head(150)
    table = pd.DataFrame({"lon": homes.geometry.x, "lat": homes.geometry.y, "population": 3})
    at = fresh("study_area")
    at.radio(key="area_source").set_value("extract").run()
    at.file_uploader(key="extract_upload").set_value(
        ("道路.zip", buf.getvalue(), "application/zip")
    )
    at.file_uploader(key="demand_upload").set_value(
        ("homes.csv", table.to_csv(index=False).encode(), "text/csv")
    )
    at.run()
    at.button(key="build_area").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    area = workspace(at).plan.area
    assert area.name == "道路.zip"
    assert area.network.road_report is not None
    assert area.network.road_report.lines_read == len(lines)
    assert metrics(at)["Stations"] == "0"
    assert int(metrics(at)["Homes"].replace(",", "")) == 150
