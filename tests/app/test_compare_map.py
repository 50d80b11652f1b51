"""Homes that gain or lose coverage between two plans, on the hand-checked 3x3 grid."""

from __future__ import annotations

import json

import folium
import pytest

from planner.app.compare_map import change_layer, coverage_change
from planner.app.edits import remove_station
from planner.app.plan import build_plan
from planner.app.study_area import StudyArea
from planner.config import AnalysisConfig
from planner.errors import InputDataError
from tests.helpers import SPEED_KMH

EVIL = "{{ 7*7 }}<script>x</script>"


@pytest.fixture
def plans(grid_area: StudyArea):  # type: ignore[no-untyped-def]
    # 100 m per minute; 2 minutes = 200 m (see the distances in tests/helpers.py)
    base = build_plan(grid_area, config=AnalysisConfig(speed_kmh=SPEED_KMH, walk_minutes=2))
    return base, remove_station(base, "B")


def test_removing_b_loses_the_homes_only_b_reached(plans) -> None:  # type: ignore[no-untyped-def]
    base, without_b = plans
    change = coverage_change(base, without_b)
    homes = change.homes
    # H3 (B 80 m, A 320 m), H4 (B 40 m, A 300 m), H6 (B 120 m, A 220 m) lose coverage;
    # H5 (B 220 m, A 240 m) was never within 200 m; H1, H2, H7 keep A.
    assert homes["id"].tolist() == ["H3", "H4", "H6"]
    assert set(homes["change"]) == {"lost"}
    assert change.people_lost == 30 + 40 + 60
    assert change.people_gained == 0
    assert homes["walk_min_base"].tolist() == pytest.approx([0.8, 0.4, 1.2])
    assert homes["walk_min_other"].tolist() == pytest.approx([3.2, 3.0, 2.2])
    # the same from the plans' own per-home tables (another path through the code)
    a = base.demand_out.set_index("id")["covered"]
    b = without_b.demand_out.set_index("id")["covered"]
    assert sorted(a.index[a & ~b]) == homes["id"].tolist()
    # and back: the same homes gain it
    back = coverage_change(without_b, base)
    assert back.homes["id"].tolist() == ["H3", "H4", "H6"]
    assert set(back.homes["change"]) == {"gained"}
    assert back.people_gained == 130
    assert coverage_change(base, base).homes.empty


def test_each_plan_judged_under_its_own_walk_limit(plans) -> None:  # type: ignore[no-untyped-def]
    base, _ = plans
    longer = build_plan(base.area, base.stations, config=AnalysisConfig(speed_kmh=SPEED_KMH))
    change = coverage_change(base, longer)  # 15 minutes: everyone
    assert change.homes["id"].tolist() == ["H5"]
    assert change.people_gained == 50


def test_the_layer_shows_the_changes_in_the_readers_language(plans) -> None:  # type: ignore[no-untyped-def]
    base, without_b = plans
    fmap = folium.Map()
    change_layer(coverage_change(base, without_b), language="zh").add_to(fmap)
    html = fmap.get_root().render()

    def shown(word: str) -> bool:  # as text, or escaped inside the layer's GeoJSON
        return word in html or json.dumps(word)[1:-1] in html

    assert shown("失去覆盖")
    assert shown("第一方案步行（分钟）")
    assert not shown("新增覆盖")  # nothing gained: no ring of that kind
    assert "#c51b7d" in html


def test_plans_of_different_areas_are_refused(plans, helsinki_area: StudyArea) -> None:  # type: ignore[no-untyped-def]
    base, _ = plans
    with pytest.raises(InputDataError, match="different study areas"):
        coverage_change(base, build_plan(helsinki_area))
