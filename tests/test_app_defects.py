"""The app's defects of issue 15, each as a planner met it: every test failed before its fix.

Kept apart from ``tests/test_app.py`` (which walks every page) so that each module stays
short; the helpers are the same.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import fresh, metrics, workspace

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def successes(at: AppTest) -> list[str]:
    return [s.value.replace("\\", "") for s in at.success]


def errors(at: AppTest) -> list[str]:
    return [e.value.replace("\\", "") for e in at.error]


def warning_texts(at: AppTest) -> list[str]:
    return [w.value.replace("\\", "") for w in at.warning]


# ------------------------------------------------------------------ 1. accept what was proposed


def test_accept_after_a_second_suggestion_adds_what_was_proposed_last() -> None:
    at = fresh("new_sites")
    at.radio(key="siting_method").set_value("greedy")
    at.number_input(key="n_sites").set_value(1).run()
    at.button(key="suggest_sites").click().run()
    assert len(workspace(at).proposed_sites) == 1
    at.number_input(key="n_sites").set_value(2).run()
    at.button(key="suggest_sites").click().run()
    assert metrics(at)["Share served: before → after"] == "81.8% → 100.0%"
    proposed = list(workspace(at).proposed_sites["id"].astype(str))
    assert len(proposed) == 2
    assert list(at.multiselect(key="accept_ids").value) == proposed
    at.button(key="accept_sites").click().run()
    assert not at.exception
    assert metrics(at)["Stations"] == "5"
    assert metrics(at)["People within the circle"] == "100.0%"
    assert "2 sites added to the plan." in successes(at)


# ------------------------------------------------------------------ 3. a deleted selection


@pytest.mark.parametrize("how", ["button", "table"])
def test_a_deleted_station_is_no_longer_selected(how: str) -> None:
    at = fresh()
    first = str(workspace(at).plan.stations["id"].iloc[0])
    at.selectbox(key="selected_station").set_value(first).run()
    if how == "button":
        at.button(key="delete_station").click().run()
    else:
        key = f"station_editor_{workspace(at).revision}"
        at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
        at.button(key="FormSubmitter:station_table_form-Apply changes to the plan").click().run()
    assert not at.exception
    assert first not in set(workspace(at).plan.stations["id"])
    box = at.selectbox(key="selected_station")
    assert box.value is None
    assert box.proto.set_value  # the browser is told to clear the box, not left showing it
