"""Tests of walk.scores: a three-home example by hand, then Helsinki against PySAL ``access``."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from planner.config import AnalysisConfig
from planner.errors import InputDataError
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.walk.access import snap_points
from planner.walk.network import WalkNetwork
from planner.walk.reach import reach_matrix
from planner.walk.scores import (
    AccessSettings,
    access_scores,
    access_summary,
    parse_methods,
    parse_step_weights,
    scores_from_reach,
    station_supply,
    weighted_gini,
    weighted_quantile,
)

#: 4.5 km/h: 75 m per minute; a 15-minute limit of 1,125 m.
CONFIG = AnalysisConfig()
MPM = 75.0

# ----------------------------------------------------------------- by hand: three homes
#
# Station A (supply 2) and station B (supply 1); homes h1 (100 people), h2 (200), h3 (300).
# Walk times: A-h1 2 min, A-h2 8 min, B-h2 4 min, B-h3 12 min (A-h3, B-h1 beyond 15 min).
SUPPLY = np.array([2.0, 1.0])
POP = np.array([100.0, 200.0, 300.0])
MINUTES = {(0, 0): 2.0, (0, 1): 8.0, (1, 1): 4.0, (1, 2): 12.0}


def _reach() -> sparse.csr_array:
    rows, cols = zip(*MINUTES, strict=True)
    metres = [MINUTES[k] * MPM for k in MINUTES]
    return sparse.csr_array((metres, (rows, cols)), shape=(2, 3))


def _scores(method: str, settings: AccessSettings | None = None) -> tuple[np.ndarray, np.ndarray]:
    return scores_from_reach(
        _reach(), SUPPLY, POP, method=method, settings=settings or AccessSettings(), config=CONFIG
    )


def test_2sfca_by_hand() -> None:
    # Step 1: R_A = 2 / (100 + 200), R_B = 1 / (200 + 300).
    # Step 2: A_1 = R_A, A_2 = R_A + R_B, A_3 = R_B.
    access, ratio = _scores("2sfca")
    assert ratio == pytest.approx([2 / 300, 1 / 500])
    assert access == pytest.approx([2 / 300, 2 / 300 + 1 / 500, 1 / 500])
    # All supply is handed out: sum_i P_i A_i = sum_j S_j.
    assert (POP * access).sum() == pytest.approx(3.0)


def test_e2sfca_by_hand_with_the_default_bands() -> None:
    # Weights: 2 min -> 1 (0-5), 8 min -> 0.68 (5-10), 4 min -> 1, 12 min -> 0.22 (10-15).
    d_a = 100 * 1 + 200 * 0.68  # 236
    d_b = 200 * 1 + 300 * 0.22  # 266
    access, ratio = _scores("e2sfca")
    assert ratio == pytest.approx([2 / d_a, 1 / d_b])
    assert access == pytest.approx([2 / d_a, 0.68 * 2 / d_a + 1 / d_b, 0.22 * 1 / d_b])


def test_e2sfca_weights_are_configurable() -> None:
    # Two bands: 0-10 min weight 1, 10-12 min weight 0.5.
    settings = AccessSettings(step_weights=parse_step_weights("10:1,12:0.5"))
    access, ratio = _scores("e2sfca", settings)
    assert ratio == pytest.approx([2 / 300, 1 / (200 + 150)])
    assert access[2] == pytest.approx(0.5 / 350)
    # Beyond the last band (but within the limit) the weight is 0.
    short = AccessSettings(step_weights=((10.0, 1.0),))
    access, _ = _scores("e2sfca", short)
    assert access[2] == 0.0


def test_gaussian_and_gravity_by_hand() -> None:
    def gauss(t: float) -> float:
        return math.exp(-(t**2) / (2 * 7.5**2))  # sigma = half of 15 minutes

    d_a, d_b = 100 * gauss(2) + 200 * gauss(8), 200 * gauss(4) + 300 * gauss(12)
    access, _ = _scores("g2sfca")
    assert access == pytest.approx(
        [2 * gauss(2) / d_a, 2 * gauss(8) / d_a + gauss(4) / d_b, gauss(12) / d_b]
    )

    def grav(t: float) -> float:
        return t**-2.0

    settings = AccessSettings(gravity_beta=2.0)
    d_a, d_b = 100 * grav(2) + 200 * grav(8), 200 * grav(4) + 300 * grav(12)
    access, ratio = _scores("gravity", settings)
    assert ratio == pytest.approx([2 / d_a, 1 / d_b])
    assert access == pytest.approx(
        [2 * grav(2) / d_a, 2 * grav(8) / d_a + grav(4) / d_b, grav(12) / d_b]
    )


def test_gravity_floors_short_walks() -> None:
    # A home on the station's doorstep (a stored 0 m pair) counts as 1 minute away.
    reach = sparse.csr_array(([1e-9, 150.0], ([0, 0], [0, 1])), shape=(1, 2))
    pop = np.array([10.0, 10.0])
    access, ratio = scores_from_reach(
        reach, np.ones(1), pop, method="gravity", settings=AccessSettings(), config=CONFIG
    )
    assert np.isfinite(access).all()
    assert ratio[0] == pytest.approx(1 / (10 * 1.0 + 10 * 2.0**-1.5))


def test_a_station_nobody_reaches_has_no_ratio_and_adds_nothing() -> None:
    reach = sparse.csr_array(([MPM], ([0], [0])), shape=(2, 1))
    pop = np.array([50.0])
    settings = AccessSettings()
    access, ratio = scores_from_reach(
        reach, np.ones(2), pop, method="2sfca", settings=settings, config=CONFIG
    )
    assert ratio[0] == pytest.approx(1 / 50)
    assert math.isnan(ratio[1])
    assert access == pytest.approx([1 / 50])


def test_summary_figures_by_hand() -> None:
    access = np.array([0.0, 1.0, 2.0, 3.0])
    pop = np.array([1.0, 1.0, 1.0, 1.0])
    # Gini of (0, 1, 2, 3) with equal weights: sum |xi - xj| / (2 n^2 mean) = 20 / 48.
    assert weighted_gini(access, pop) == pytest.approx(20 / 48)
    assert weighted_quantile(access, pop, 0.5) == 1.0
    assert weighted_quantile(access, np.array([1.0, 1.0, 1.0, 7.0]), 0.5) == 3.0
    out = access_summary(access, pop, threshold=1.5)
    assert out["mean"] == pytest.approx(1.5)
    assert out["share_below_threshold"] == pytest.approx(0.5)
    assert out["share_no_access"] == pytest.approx(0.25)
    assert weighted_gini(np.ones(3), np.ones(3)) == pytest.approx(0.0)


def test_settings_and_names_are_checked() -> None:
    assert parse_methods("gravity, 2SFCA") == ("2sfca", "gravity")
    with pytest.raises(InputDataError, match="2sfca"):
        parse_methods("3sfca")
    with pytest.raises(InputDataError, match="ascend"):
        AccessSettings(step_weights=((10.0, 1.0), (5.0, 0.5)))
    with pytest.raises(InputDataError, match="gravity_beta"):
        AccessSettings(gravity_beta=-1.0)
    with pytest.raises(InputDataError, match="minutes:weight"):
        parse_step_weights("5=1")
    table = pd.DataFrame({"capacity": [3.0, None]})
    assert station_supply(table).tolist() == [3.0, 1.0]
    assert station_supply(pd.DataFrame(index=[0, 1])).tolist() == [1.0, 1.0]
    with pytest.raises(InputDataError, match="capacity"):
        station_supply(pd.DataFrame({"capacity": [-1.0]}))


# ------------------------------------------------------------------ Helsinki vs PySAL

#: A 7-minute limit leaves some homes out and gives stations overlapping catchments.
HELSINKI_CONFIG = AnalysisConfig(walk_minutes=7.0)
STATION_TAGS = {"amenity": ["library", "community_centre", "social_facility", "clinic"]}


@pytest.fixture(scope="module")
def helsinki_inputs(
    helsinki_network: WalkNetwork,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, sparse.csr_array]:
    path = demo_extract_path()
    stations = stations_from_osm(path, tags=STATION_TAGS).reset_index(drop=True)
    stations["capacity"] = 1.0 + np.arange(len(stations)) % 3  # 1, 2, 3, 1, ...
    homes = homes_from_osm(path).reset_index(drop=True)
    cfg = HELSINKI_CONFIG
    reach = reach_matrix(
        helsinki_network,
        snap_points(helsinki_network, stations.geometry, max_snap_m=cfg.max_snap_m),
        snap_points(helsinki_network, homes.geometry, max_snap_m=cfg.max_snap_m),
        limit_m=cfg.walk_limit_m,
    )
    return stations, homes, reach


def _pysal_cost_table(reach: sparse.csr_array) -> pd.DataFrame:
    coo = reach.tocoo()
    return pd.DataFrame(
        {"origin": coo.col, "dest": coo.row, "cost": coo.data / HELSINKI_CONFIG.metres_per_minute}
    )


# PySAL access 1.1 calls DataFrame.set_index(inplace=True), which pandas deprecates: not ours.
@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_helsinki_scores_equal_pysal_access(
    helsinki_network: WalkNetwork,
    helsinki_inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, sparse.csr_array],
) -> None:
    access_lib = pytest.importorskip("access")
    from access import fca, weights

    stations, homes, reach = helsinki_inputs
    settings = AccessSettings(gravity_beta=1.5)
    ours = access_scores(
        helsinki_network,
        stations,
        homes,
        methods="2sfca,e2sfca,g2sfca,gravity",
        settings=settings,
        config=HELSINKI_CONFIG,
    )
    # The same relation, whether passed in or computed inside.
    given = access_scores(
        helsinki_network, stations, homes, settings=settings, config=HELSINKI_CONFIG, reach_m=reach
    )
    np.testing.assert_array_equal(given.demand["access_2sfca"], ours.demand["access_2sfca"])

    cost = _pysal_cost_table(reach)
    demand_df = pd.DataFrame({"geoid": homes.index, "pop": homes["population"].to_numpy()})
    supply_df = pd.DataFrame({"geoid": stations.index, "cap": stations["capacity"].to_numpy()})
    acc = access_lib.Access(
        demand_df=demand_df,
        demand_index="geoid",
        demand_value="pop",
        supply_df=supply_df,
        supply_index="geoid",
        supply_value="cap",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    steps = dict(settings.step_weights)
    pysal_fns = {
        "2sfca": None,
        "e2sfca": weights.step_fn(steps),
        "g2sfca": weights.gaussian(HELSINKI_CONFIG.walk_minutes / 2),
        "gravity": weights.gravity(scale=1.0, alpha=-1.5, min_dist=1.0),
    }
    reached = np.unique(cost["origin"])
    assert 0 < reached.size < len(homes)  # some homes are beyond 7 minutes
    for method, fn in pysal_fns.items():
        if method == "e2sfca":
            theirs = acc.enhanced_two_stage_fca(name=method, weight_fn=fn)[f"{method}_cap"]
        else:
            theirs = acc.two_stage_fca(name=method, weight_fn=fn)[f"{method}_cap"]
        mine = ours.demand[f"access_{method}"].to_numpy()
        np.testing.assert_allclose(mine[reached], theirs.loc[reached].to_numpy(), rtol=1e-9)
        # Homes no station reaches: PySAL leaves them out (NaN); here they score 0.
        assert theirs.drop(index=reached).isna().all()
        assert (np.delete(mine, reached) == 0).all()
        # Per station: supply / the weighted catchment population (PySAL's first step).
        catchment = fca.weighted_catchment(
            demand_df,
            cost,
            None,
            cost_source="origin",
            cost_dest="dest",
            cost_cost="cost",
            loc_index="geoid",
            loc_value="pop",
            weight_fn=fn,
        )
        ratio = ours.stations[f"ratio_{method}"]
        expected = stations["capacity"].loc[catchment.index] / catchment
        np.testing.assert_allclose(ratio.loc[catchment.index], expected, rtol=1e-9)
    # Supply is handed out in full (every station here has people in reach).
    pop = homes["population"].to_numpy()
    used = ours.stations["ratio_2sfca"].notna()
    assert (pop * ours.demand["access_2sfca"]).sum() == pytest.approx(
        stations.loc[used, "capacity"].sum()
    )


def test_helsinki_summary_block(
    helsinki_network: WalkNetwork,
    helsinki_inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, sparse.csr_array],
) -> None:
    stations, homes, reach = helsinki_inputs
    scores = access_scores(
        helsinki_network,
        stations,
        homes,
        methods=("e2sfca", "2sfca"),
        settings=AccessSettings(threshold=0.001),
        config=HELSINKI_CONFIG,
        reach_m=reach,
    )
    block = scores.summary()
    assert block["methods"] == ["2sfca", "e2sfca"]
    fig = block["by_method"]["2sfca"]
    assert fig["p10"] <= fig["median"] <= fig["p90"]
    assert 0 < fig["gini"] < 1
    assert 0 < fig["share_no_access"] <= fig["share_below_threshold"] < 1
    # Inputs are untouched; outputs keep their index.
    assert "access_2sfca" not in homes.columns
    assert scores.demand.index.equals(homes.index)
    assert list(scores.stations.columns[-3:]) == ["supply", "ratio_2sfca", "ratio_e2sfca"]
