"""Tests of sources.demand: population points and areas from every supported format."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.errors import InputDataError
from planner.limits import InputLimits
from planner.sources.demand import demand_from_csv, demand_from_file
from planner.sources.osm import (
    demo_extract_path,
    homes_from_osm,
)

#: Six real places in Beijing (WGS84 lon, lat) with head counts, for the Chinese formats.
BEIJING = pd.DataFrame(
    {
        "编号": ["BJ01", "BJ02", "BJ03", "BJ04", "BJ05", "BJ06"],
        "名称": ["天安门", "王府井", "国贸", "中关村", "望京", "亦庄"],
        "lon": [116.391263, 116.410886, 116.458801, 116.310316, 116.470293, 116.506377],
        "lat": [39.907723, 39.913823, 39.909306, 39.983582, 39.996457, 39.795240],
        "人口": [1200, 3400, 2800, 5100, 7600, 4300],
    }
)


def test_demand_points_from_geojson_with_a_chinese_head_count_column(tmp_path: Path) -> None:
    path = tmp_path / "communities.geojson"
    gpd.GeoDataFrame(
        BEIJING[["编号", "人口"]],
        geometry=gpd.points_from_xy(BEIJING["lon"], BEIJING["lat"]),
        crs=4326,
    ).to_file(path, engine="pyogrio")
    loaded = demand_from_file(path)
    assert loaded.data["id"].tolist() == BEIJING["编号"].tolist()
    assert loaded.data["population"].tolist() == [1200.0, 3400.0, 2800.0, 5100.0, 7600.0, 4300.0]
    with pytest.raises(InputDataError, match=r"no population column 'residents'"):
        demand_from_file(path, population_column="residents")


def test_demand_areas_without_targets_stand_at_a_point_inside(tmp_path: Path) -> None:
    cells = [shapely.box(24.94 + i * 0.01, 60.16, 24.95 + i * 0.01, 60.17) for i in range(3)]
    path = tmp_path / "grid.gpkg"
    gpd.GeoDataFrame({"pop": [10, 0, 25.5]}, geometry=cells, crs=4326).to_file(
        path, engine="pyogrio"
    )
    loaded = demand_from_file(path)
    assert loaded.data["id"].tolist() == ["D1", "D2", "D3"]
    assert loaded.data["population"].tolist() == [10.0, 0.0, 25.5]
    assert (loaded.data.geom_type == "Point").all()
    assert all(p.within(c) for p, c in zip(loaded.data.geometry, cells, strict=True))


def test_absurd_head_counts_are_rejected_by_row(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text(
        "id,lon,lat,population\n"
        "a,24.94,60.17,1e308\n"
        "b,24.94,60.17,1e308\n"
        "c,24.94,60.17,inf\n"
        "d,24.94,60.17,-5\n"
        "e,24.94,60.17,many\n"
        "f,24.94,60.17,1200\n"
        "g,24.94,60.17,10000000\n"
        "h,24.94,60.17,15000000\n",
        "utf-8",
    )
    loaded = demand_from_file(path)
    assert loaded.data["id"].tolist() == ["f", "g"]
    assert loaded.data["population"].sum() == 10_001_200
    rej = loaded.rejected
    assert rej["row"].tolist() == [1, 2, 3, 4, 5, 8]
    assert set(rej["column"]) == {"population"}
    assert "above 10,000,000 people for one point" in rej["reason"].iloc[0]
    assert "--limit max_population_per_point=" in rej["reason"].iloc[0]
    assert rej["reason"].iloc[2] == "population must be a number of 0 or more"  # inf
    assert len(loaded.data) + rej["row"].nunique() == 8
    # The limit can be raised.
    raised = demand_from_file(path, limits=InputLimits(max_population_per_point=2e7))
    assert raised.data["id"].tolist() == ["f", "g", "h"]


def test_demand_population_is_float_and_bad_values_are_rejected(tmp_path: Path) -> None:
    text = (
        "lon,lat,population\n"
        "24.91,60.11,120\n"  # 1
        "24.92,60.12,-5\n"  # 2 negative
        "24.93,60.13,nan\n"  # 3 NaN
        "24.94,60.14,\n"  # 4 empty
        "24.95,60.15,many\n"  # 5 not a number
        "24.96,60.16,0\n"  # 6 zero is fine
        "24.97,60.17,1e3\n"  # 7
        "999,60.18,10\n"  # 8 bad coordinate
        "24.99,60.19,inf\n"  # 9 infinite
    )
    loaded = demand_from_csv(write_csv(tmp_path, text))
    assert loaded.data["id"].tolist() == ["D1", "D6", "D7"]
    assert loaded.data["population"].tolist() == [120.0, 0.0, 1000.0]
    assert loaded.data["population"].dtype == np.float64
    assert coords(loaded.data) == [(24.91, 60.11), (24.96, 60.16), (24.97, 60.17)]
    bad_pop = "population must be a number of 0 or more"
    assert loaded.rejected["row"].tolist() == [2, 3, 4, 5, 8, 9]
    assert loaded.rejected["column"].tolist() == ["population"] * 4 + ["lon", "population"]
    assert loaded.rejected["value"].tolist() == ["-5", "nan", "", "many", "999", "inf"]
    assert loaded.rejected["reason"].tolist() == [bad_pop] * 4 + [
        "outside -180..180 (WGS84 degrees expected)",
        bad_pop,
    ]


def test_demand_custom_population_column_and_ids(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,x,y,居民\nc1,116.4,39.9,250\nc2,116.5,39.8,31.5\n")
    loaded = demand_from_csv(path, population_column="居民")
    assert loaded.data["id"].tolist() == ["c1", "c2"]
    assert loaded.data["population"].tolist() == [250.0, 31.5]


def test_demand_without_population_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "lon,lat,people\n24.9,60.1,3\n", name="homes.csv")
    with pytest.raises(InputDataError) as info:
        demand_from_csv(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: no population column 'population'")
    assert "['lon', 'lat', 'people']" in msg


def test_demand_with_no_usable_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "lon,lat,population\n24.9,60.1,-1\n24.9,60.1,x\n")
    with pytest.raises(InputDataError, match=r"no usable demand rows \(2 rejected"):
        demand_from_csv(path)


def test_demand_duplicate_ids(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,lon,lat,population\nh,24.9,60.1,1\nh,24.8,60.2,2\n")
    with pytest.raises(InputDataError, match=r"'h' on rows \[1, 2\]"):
        demand_from_csv(path)


def write_csv(
    folder: Path, text: str, *, name: str = "points.csv", encoding: str = "utf-8"
) -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def coords(gdf: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    return [(p.x, p.y) for p in gdf.geometry]


@pytest.fixture(scope="module")
def homes() -> gpd.GeoDataFrame:
    return homes_from_osm(demo_extract_path())
