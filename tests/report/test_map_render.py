"""Folium layers whose rendered script is not compiled again: the same HTML as folium's."""

from __future__ import annotations

import base64

import folium
import pytest
from branca.element import Element

from planner.report.map_render import GeoJson, ImageOverlay, RenderedText, as_jinja_renders
from planner.report.maps import stable_ids

TEXTS = [
    "",
    "plain",
    "line\n",
    "two trailing\n\n",
    "windows\r\nlines\r\n",
    "old mac\rline\r",
    "mixed\r\n\n\r",
    "\n",
    "braces { } and {'a': 1} but no tag",
    "%} and #} and }} alone",
    "{{ 7 * 7 }}",
    "before {# a comment #} after\n",
    "{% if true %}yes{% endif %}",
    "{{ this._name }}",
]


@pytest.mark.parametrize("text", TEXTS)
def test_rendered_text_renders_as_brancas_element(text: str) -> None:
    assert RenderedText(text).render() == Element(text).render()


def test_plain_text_is_not_compiled() -> None:
    assert as_jinja_renders("a\r\nb\n") == "a\nb"
    assert as_jinja_renders("a {{ b }}") is None
    assert RenderedText("x {# y #}")._plain is None
    assert RenderedText("x { y }\n")._plain == "x { y }"


def _features(names: list[str]) -> dict[str, object]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name, "n": i},
                "geometry": {"type": "Point", "coordinates": [24.94 + i / 1000, 60.17]},
            }
            for i, name in enumerate(names)
        ],
    }


def _render(geojson: type[folium.GeoJson], overlay: type[folium.raster_layers.ImageOverlay]) -> str:
    fmap = folium.Map(tiles=None, prefer_canvas=True)
    group = folium.FeatureGroup(name="homes").add_to(fmap)
    # Raw names on purpose: a "{{ }}" that reaches the script must come out as folium's.
    data = _features(["plain", "a\r\nb", "<b>&", "{{ 6 * 7 }}", "{# c #}", "}} %}"])
    geojson(
        data,
        marker=folium.CircleMarker(radius=3, fill=True),
        style_function=lambda f: {"color": "#ff0000" if f["properties"]["n"] % 2 else "#00f"},
        tooltip=folium.GeoJsonTooltip(["name", "n"]),
        popup=folium.GeoJsonPopup(["name"]),
    ).add_to(group)
    geojson(_features(["only", "plain"]), name="points").add_to(fmap)
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    overlay(image=png, bounds=[[60.16, 24.93], [60.18, 24.96]], opacity=0.8, name="streets").add_to(
        fmap
    )
    folium.LayerControl().add_to(fmap)
    stable_ids(fmap.get_root(), prefix="test")
    html: str = fmap.get_root().render()
    return html


def test_layers_render_the_same_html_as_folium() -> None:
    ours = _render(GeoJson, ImageOverlay)
    theirs = _render(folium.GeoJson, folium.raster_layers.ImageOverlay)
    assert ours == theirs
    assert "42" in ours  # folium's second pass evaluated the raw "{{ 6 * 7 }}": ours too
    assert "data:image/png;base64," in ours


def _uniform_map(layer: type[folium.GeoJson], **options: object) -> str:
    fmap = folium.Map(location=[60.17, 24.94], zoom_start=13, tiles=None)
    layer(
        _features(["a", "b", "c", "{{ 6 * 7 }}"]),
        marker=folium.CircleMarker(radius=3, fill=True),
        style_function=lambda _: {"fillColor": "#ff0000", "color": "#ff0000", "weight": 0},
        tooltip=folium.GeoJsonTooltip(["name", "n"]),
        **options,
    ).add_to(fmap)
    layer(_features(["none"]), **options).add_to(fmap)  # no style at all
    stable_ids(fmap.get_root(), prefix="uniform")
    html: str = fmap.get_root().render()
    return html


def test_a_uniform_style_styled_once_gives_folium_s_html() -> None:
    calls: list[object] = []

    class Counted(GeoJson):
        def __init__(self, *args: object, **kwargs: object) -> None:
            style = kwargs.pop("style_function", None)
            if style is not None:
                kwargs["style_function"] = lambda f: calls.append(f) or style(f)
            super().__init__(*args, **kwargs)

    ours = _uniform_map(Counted, uniform_style=True)
    once = len(calls)  # folium checks the function once when the layer is made; then once
    calls.clear()
    assert _uniform_map(Counted) == ours
    assert (once, len(calls)) == (2, 1 + 4)  # folium's own way: once per feature
    assert ours == _uniform_map(folium.GeoJson)
    assert "#ff0000" in ours
