"""The Streamlit app as a person uses it (AppTest: widgets set, metric values checked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_demo_page_shows_coverage_figures(app: AppTest) -> None:
    m = _metrics(app)
    assert m["Stations"] == "3"
    share = float(m["People within the circle"].rstrip("%")) / 100
    assert 0.5 < share < 1.0
    assert int(m["Gap zones"]) >= 1


def test_map_is_embedded_with_local_assets_only(app: AppTest) -> None:
    comps = list(app.get("component_instance"))
    assert comps, "the folium map component must be on the page"
    args = json.loads(comps[0].proto.json_args)
    links = args.get("js_links", []) + args.get("css_links", [])
    assert links
    assert all(not str(u).startswith(("http:", "https:")) for u in links)


def test_shorter_limit_lowers_coverage_and_adds_gaps(app: AppTest) -> None:
    before = _metrics(app)
    app.sidebar.slider(key="minutes").set_value(5).run()
    assert not app.exception
    after = _metrics(app)
    assert float(after["People within the circle"].rstrip("%")) < float(
        before["People within the circle"].rstrip("%")
    )
    assert int(after["Gap zones"]) >= int(before["Gap zones"])
    app.sidebar.slider(key="minutes").set_value(15).run()
    assert _metrics(app) == before


def test_tables_list_stations_and_gaps(app: AppTest) -> None:
    frames = [df.value for df in app.dataframe]
    stations, gaps = frames[0], frames[1]
    assert len(stations) == 3
    assert {"population_served", "population_only_here"} <= set(stations.columns)
    assert gaps["population"].is_monotonic_decreasing
