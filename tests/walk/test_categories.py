"""Station categories, the complete circle and groups of people, on Helsinki and by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from helpers import SPEED_KMH, grid_homes, grid_stations

from planner.config import AnalysisConfig
from planner.errors import InputDataError, InputWarning
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.walk.categories import analyze_circles, column_suffix, parse_category_minutes
from planner.walk.coverage import analyze_coverage
from planner.walk.profiles import WalkProfile

TAGS = {"amenity": ["library", "pharmacy", "clinic"]}
MINUTES = {"library": 3.0, "pharmacy": 4.0, "clinic": 5.0}


@pytest.fixture(scope="module")
def helsinki_inputs() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    path = demo_extract_path()
    homes = homes_from_osm(path)
    pop = homes["population"].to_numpy(dtype=float)
    homes = homes.assign(elderly=np.round(pop * 0.2, 3), children=np.round(pop * 0.1, 3))
    return stations_from_osm(path, tags=TAGS), homes


def test_complete_circle_is_the_intersection_on_helsinki(helsinki_network, helsinki_inputs):
    stations, homes = helsinki_inputs
    cfg = AnalysisConfig(walk_minutes=15.0)
    circles = analyze_circles(
        helsinki_network, stations, homes, config=cfg, category_minutes=MINUTES
    )
    assert [c.name for c in circles.categories] == ["library", "pharmacy", "clinic"]
    pop = homes["population"].to_numpy(dtype=float)
    every = np.ones(len(homes), dtype=bool)
    for cat in circles.categories:
        # the category's own run, made independently on its stations alone
        alone = analyze_coverage(
            helsinki_network,
            stations[stations["category"] == cat.name],
            homes,
            config=AnalysisConfig(walk_minutes=MINUTES[cat.name], max_isochrone_stations=0),
        )
        covered = alone.demand["covered"].to_numpy(dtype=bool)
        assert 0.0 < alone.share_covered < 1.0
        d = circles.result.demand
        assert np.array_equal(d[f"covered_{cat.name}"].to_numpy(dtype=bool), covered)
        assert np.allclose(
            d[f"walk_min_{cat.name}"].to_numpy(dtype=float),
            alone.demand["walk_min"].to_numpy(dtype=float),
            equal_nan=True,
        )
        assert cat.result.share_covered == pytest.approx(alone.share_covered)
        mine = circles.result.stations[stations["category"].to_numpy() == cat.name]
        assert np.allclose(
            mine["population_served_in_category"].to_numpy(dtype=float),
            alone.stations["population_served"].to_numpy(dtype=float),
        )
        assert (mine["category_minutes"] == MINUTES[cat.name]).all()
        gaps = circles.category_gaps
        assert gaps is not None
        assert (gaps["category"] == cat.name).sum() == len(alone.gaps)
        every &= covered
    assert np.array_equal(circles.result.demand["complete"].to_numpy(dtype=bool), every)
    assert circles.share_complete == pytest.approx(pop[every].sum() / pop.sum())
    assert 0.0 < circles.share_complete < min(c.result.share_covered for c in circles.categories)
    summary = circles.summary()
    assert summary["share_complete"] == circles.share_complete
    assert summary["categories"]["pharmacy"]["minutes"] == 4.0
    assert summary["categories"]["clinic"]["stations"] == int(
        (stations["category"] == "clinic").sum()
    )
    assert summary["require"] == ["library", "pharmacy", "clinic"]
    # the whole set, at 15 minutes, is the plain analysis
    plain = analyze_coverage(helsinki_network, stations, homes, config=cfg)
    assert circles.result.share_covered == plain.share_covered


def test_require_and_groups_sum_to_totals(helsinki_network, helsinki_inputs):
    stations, homes = helsinki_inputs
    homes = homes.assign(rest=homes["population"] - homes["elderly"] - homes["children"])
    circles = analyze_circles(
        helsinki_network,
        stations,
        homes,
        category_minutes=MINUTES,
        require=["library", "clinic"],
        groups=["elderly", "children", "rest"],
    )
    d = circles.result.demand
    want = d["covered_library"].to_numpy(dtype=bool) & d["covered_clinic"].to_numpy(dtype=bool)
    assert np.array_equal(circles.complete, want)
    groups = circles.summary()["groups"]
    total = circles.result.population_total
    for key in ("population", "population_covered", "population_complete"):
        whole = {
            "population": total,
            "population_covered": circles.result.population_covered,
            "population_complete": circles.population_complete,
        }[key]
        assert sum(g[key] for g in groups.values()) == pytest.approx(whole, rel=1e-9)
    for name, cat in (("library", "library"), ("pharmacy", "pharmacy")):
        got = sum(g["categories"][name]["population_covered"] for g in groups.values())
        c = next(c for c in circles.categories if c.name == cat)
        assert got == pytest.approx(c.result.population_covered, rel=1e-9)
    # head counts in fixed proportion: the same shares as the whole population
    assert groups["elderly"]["share_complete"] == pytest.approx(circles.share_complete, abs=1e-3)


def test_grid_categories_by_hand():
    """Grid helpers: A is a 'market' (limit 1.5 min = 150 m), B a 'station' (2 min)."""
    stations = grid_stations().assign(category=["market", "station"])
    homes = grid_homes()
    cfg = AnalysisConfig(walk_minutes=2.0, speed_kmh=SPEED_KMH)
    fast = WalkProfile("grid", SPEED_KMH)
    circles = analyze_circles(
        _grid_network(),
        stations,
        homes,
        config=cfg,
        profile=fast,
        category_minutes={"market": 1.5},
    )
    d = circles.result.demand.set_index("id")
    # distances from helpers.GRID_HOMES: A (market) H1 120, H7 150; B (station) H3 80,
    # H4 40, H6 120, H7 190
    assert d["covered_market"].to_dict() == {
        "H1": True,
        "H2": False,
        "H3": False,
        "H4": False,
        "H5": False,
        "H6": False,
        "H7": True,
    }
    assert set(d.index[d["covered_station"]]) == {"H3", "H4", "H6", "H7"}
    assert set(d.index[d["complete"]]) == {"H7"}
    assert d.loc["H2", "walk_min_market"] == pytest.approx(1.8)


def _grid_network():
    from helpers import grid_streets

    from planner.walk.network import build_walk_network

    return build_walk_network(grid_streets())


def test_single_category_adds_nothing(helsinki_network, helsinki_inputs):
    stations, homes = helsinki_inputs
    one = stations[stations["category"] == "library"]
    circles = analyze_circles(helsinki_network, one, homes)
    plain = analyze_coverage(helsinki_network, one, homes)
    assert circles.categories == ()
    assert list(circles.result.demand.columns) == list(plain.demand.columns)
    assert set(circles.summary()) == {"profile"}


def test_a_category_without_station_here_is_reached_by_nobody(helsinki_network, helsinki_inputs):
    """A region's category with no station near this part: in the circle, reached by nobody."""
    stations, homes = helsinki_inputs
    here = stations[stations["category"] != "clinic"]
    circles = analyze_circles(
        helsinki_network,
        here,
        homes,
        category_minutes=MINUTES,
        categories=("library", "pharmacy", "clinic"),
    )
    assert [c.name for c in circles.categories] == ["library", "pharmacy", "clinic"]
    assert circles.require == ("library", "pharmacy", "clinic")
    clinic = circles.categories[2].result
    assert len(clinic.stations) == 0
    assert clinic.population_covered == 0.0
    d = circles.result.demand
    assert not d["covered_clinic"].any()
    assert not d["complete"].any()  # the complete circle still requires the clinic
    assert d["covered_library"].any()
    # without the region's list, the clinic is not a category of these stations at all
    minutes = {k: v for k, v in MINUTES.items() if k != "clinic"}
    alone = analyze_circles(helsinki_network, here, homes, category_minutes=minutes)
    assert "covered_clinic" not in alone.result.demand.columns


def test_category_errors(helsinki_network, helsinki_inputs):
    stations, homes = helsinki_inputs
    with pytest.raises(InputDataError, match="'school', which no station has"):
        analyze_circles(helsinki_network, stations, homes, category_minutes={"school": 5})
    with pytest.raises(InputDataError, match="--require"):
        analyze_circles(helsinki_network, stations, homes, require=["Library"])
    with pytest.raises(InputDataError, match="no column 'old'"):
        analyze_circles(helsinki_network, stations, homes, groups=["old"])
    bad = homes.assign(elderly=homes["elderly"].where(homes.index != homes.index[3], -1))
    with pytest.raises(InputDataError, match=f"rows {homes.index[3]}"):
        analyze_circles(helsinki_network, stations, bad, groups=["elderly"])
    mixed = stations.assign(category=stations["category"].where(stations.index != 0, ""))
    with pytest.warns(InputWarning, match="1 station"):
        analyze_circles(helsinki_network, mixed, homes)


def test_parse_category_minutes_and_suffixes():
    assert parse_category_minutes("service_station=15, gig_market=30") == {
        "service_station": 15.0,
        "gig_market": 30.0,
    }
    assert parse_category_minutes("a=b=2") == {"a=b": 2.0}
    for bad in ("x", "x=0", "x=-1", "=3", "x=nan", "x=1,x=2"):
        with pytest.raises(InputDataError, match="--category-minutes"):
            parse_category_minutes(bad)
    assert column_suffix('=HYPERLINK("x")', []) == "HYPERLINK_x"
    assert column_suffix("就业服务站", []) == "就业服务站"
    assert column_suffix("{{ 7*7 }}", []) == "7_7"
    assert column_suffix("!!!", []) == "category"
    assert column_suffix("a b", ["covered_a_b"]) == "a_b_2"
    assert len(column_suffix("x" * 500, [])) == 40
