"""The app's Service circles page: profile selector, category limits, complete circle."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.app.plan import build_plan
from planner.app.workspace import Workspace, start_workspace

APP = str(Path(__file__).resolve().parent.parent / "app.py")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_circles_page_profiles_categories_and_complete_share() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/circles.py").run()
    assert not at.exception, at.exception
    adult = metrics(at)
    assert adult["People within the circle"] == "81.8%"  # the demo's figure
    assert "Complete circle" not in adult
    assert any("fewer than two categories" in c.value for c in at.caption)
    at.selectbox(key="circle_profile").set_value("wheelchair").run()
    assert not at.exception, at.exception
    wheel = float(metrics(at)["People within the circle"].rstrip("%"))
    assert wheel < 81.8

    # Give one station another category (the stations page's table), then come back.
    at.switch_page("app_pages/stations.py").run()
    ws: Workspace = at.session_state["workspace"]
    at.session_state[f"station_editor_{ws.revision}"] = {
        "edited_rows": {"0": {"category": "<script>x</script>"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="FormSubmitter:station_table_form-Apply changes to the plan").click().run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/circles.py").run()
    at.selectbox(key="circle_profile").set_value("adult").run()
    assert not at.exception, at.exception
    figures = metrics(at)
    complete = float(figures["Complete circle"].rstrip("%"))
    assert complete <= 81.8
    table = at.dataframe[0].value
    assert "<script>x</script>" in set(table["category"])
    assert at.number_input(key="circle_minutes_0").value == 15.0
    at.number_input(key="circle_minutes_0").set_value(3.0).run()
    assert not at.exception, at.exception
    assert float(metrics(at)["Complete circle"].rstrip("%")) < complete
    at.selectbox(key="circle_layer").set_value(1).run()  # the first category's layer
    assert not at.exception, at.exception
    comps = list(at.get("component_instance"))
    assert "Within the \\\\u0026lt;script\\\\u0026gt;x" in comps[0].proto.json_args
    assert "<script>x</script>" not in comps[0].proto.json_args
    at.multiselect(key="circle_require").set_value([]).run()  # none chosen: all required
    assert not at.exception, at.exception


def test_circles_page_groups_table() -> None:
    """Head counts of two groups, 20 % and 10 % of each home's people, and a group of
    nobody: the groups' shares equal the people's shares (within rounding), 0 for nobody.
    """
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    ws: Workspace = at.session_state["workspace"]
    area = ws.plan.area
    pop = area.demand["population"].to_numpy(dtype=float)
    demand = area.demand.assign(elderly=pop * 0.2, children=pop * 0.1, nobody=0.0)
    cats = ["clinic", "<b>x</b>"] * len(ws.plan.stations)
    stations = ws.plan.stations.assign(category=cats[: len(ws.plan.stations)])
    plan = build_plan(dataclasses.replace(area, demand=demand), stations, config=ws.plan.config)
    at.session_state["workspace"] = start_workspace(plan)
    at.switch_page("app_pages/circles.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="circle_groups").value == ["elderly", "children", "nobody"]
    figures = metrics(at)
    share = float(figures["People within the circle"].rstrip("%"))
    complete = float(figures["Complete circle"].rstrip("%"))
    assert complete < share
    table = at.dataframe[1].value
    assert list(table["group"]) == ["elderly", "children", "nobody"]
    assert table["people"].tolist() == pytest.approx([pop.sum() * 0.2, pop.sum() * 0.1, 0.0])
    for row in (0, 1):
        assert table["share_covered"][row] == pytest.approx(share, abs=0.051)
        assert table["share_complete"][row] == pytest.approx(complete, abs=0.051)
    assert (
        table.loc[2, ["share_covered", "share_complete", "share_0", "share_1"]].tolist()
        == [0.0] * 4
    )
    # Each category's share: the categories' own rows of the category table (both in %).
    per_cat = at.dataframe[0].value
    for i in range(2):
        assert table[f"share_{i}"][0] == pytest.approx(per_cat["share_covered"][i])
    at.multiselect(key="circle_groups").set_value(["children"]).run()
    assert not at.exception, at.exception
    assert list(at.dataframe[1].value["group"]) == ["children"]
    at.multiselect(key="circle_groups").set_value([]).run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == 1  # the category table only
