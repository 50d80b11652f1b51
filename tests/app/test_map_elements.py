"""Map elements whose script carries data: rendered once, placed in the page as they are."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import pytest
import shapely
from jinja2 import Template, TemplateSyntaxError
from streamlit_folium import _get_feature_group_string

from planner.app.gaps_layer import CompactGaps
from planner.app.map_elements import DataScript, Verbatim


class Counted(DataScript):
    """A data script that counts how often its template is rendered."""

    _script = Template(
        """{% macro script(this, kwargs) %}
        (function (group) { group.options.data = {{ this.payload()|tojson }}; })(
            {{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, value: str) -> None:
        super().__init__()
        self._name = "Counted"
        self.value = value
        self.renders = 0

    def payload(self) -> str:
        self.renders += 1
        return self.value


def _without_ids(html: str) -> str:
    """The page without folium's random element ids (32 hex digits, may hold "49")."""
    return re.sub(r"[0-9a-f]{32}", "", html)


def _page(element: folium.Element) -> str:
    fmap = folium.Map(tiles=None)
    group = folium.FeatureGroup(name="g").add_to(fmap)
    element.add_to(group)
    return str(fmap.get_root().render())


def test_verbatim_text_is_not_a_template() -> None:
    code = "var a = '{{ 7*7 }}'; var b = '{% if x %}'; var c = '{#';"
    fmap = folium.Map(tiles=None)
    fmap.get_root().script.add_child(Verbatim(code))  # type: ignore[attr-defined]
    html = str(fmap.get_root().render())
    assert code in html
    assert "49" not in _without_ids(html)  # folium's element ids are random hex
    with pytest.raises(TemplateSyntaxError):
        folium.Element(code)  # what branca does with a rendered script


def test_a_data_script_is_rendered_once_for_the_page_and_for_st_folium() -> None:
    element = Counted("{{ 7*7 }} {% x")
    fmap = folium.Map(tiles=None)
    group = folium.FeatureGroup(name="g").add_to(fmap)
    element.add_to(group)
    string = _get_feature_group_string(group, fmap, 0)  # renders, then asks the macro again
    assert element.renders == 1
    # user-like text stays data: JSON inside the script, never evaluated as a template
    assert '"{{ 7*7 }} {% x"' in string
    assert "49" not in _without_ids(string)
    assert "feature_group_feature_group_0);" in string


def test_the_script_follows_its_parent() -> None:
    element = Counted("x")
    fmap = folium.Map(tiles=None)
    first = folium.FeatureGroup(name="a").add_to(fmap)
    element.add_to(first)
    assert first.get_name() in element.rendered_script()
    second = folium.FeatureGroup(name="b").add_to(fmap)
    element.add_to(second)
    assert second.get_name() in element.rendered_script()
    assert element.renders == 2


def test_gap_zones_render_as_their_template_did() -> None:
    gaps = gpd.GeoDataFrame(
        {
            "gap_id": [1, 2],
            "homes": [3, 4],
            "population": [10.4, 20.0],
            "walk_min_nearest": [16.0, float("nan")],
        },
        geometry=[
            shapely.box(24.94, 60.17, 24.95, 60.175),
            shapely.box(24.96, 60.16, 24.97, 60.165),
        ],
        crs=4326,
    )
    layer = CompactGaps(gaps, language="en")
    html = _page(layer)
    expected = CompactGaps._script.module.script(layer, {})  # type: ignore[attr-defined]
    assert str(expected) in html
    assert re.search(r"var zones = \[\[\[2495000, 6017000, ", html)  # (maxx, miny) first
