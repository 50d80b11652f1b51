"""Folium layers whose rendered script is not compiled again: the same HTML as folium's."""

from __future__ import annotations

import base64
import json
import re

import folium
import geopandas as gpd
import pytest
from branca.element import Element

from planner.report.map_geometry import GeoJsonData
from planner.report.map_render import (
    GeoJson,
    ImageOverlay,
    RenderedText,
    as_jinja_renders,
    template_json,
)
from planner.report.maps import stable_ids, to_geojson

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


def _polygon_table() -> gpd.GeoDataFrame:
    import shapely

    square = shapely.Polygon(
        [(24.9, 60.1), (25.0, 60.1), (25.0, 60.2), (24.9, 60.2)],
        holes=[[(24.92, 60.12), (24.93, 60.12), (24.93, 60.13)]],
    )
    parts = shapely.MultiPolygon(
        [shapely.box(24.0, 60.0, 24.1, 60.05), shapely.box(24.2, 60.0, 24.25, 60.00001)]
    )
    return gpd.GeoDataFrame(
        {"band_min": [5.0, 10.0, 15.0], "name": ["</script><b>&'x'", "东", None]},
        geometry=[square, parts, None],
        crs=4326,
    )


def test_outlines_as_arrays_are_the_same_geojson() -> None:
    table = _polygon_table()
    plain = to_geojson(table)
    fast = to_geojson(table, arrays=True)
    assert isinstance(fast, GeoJsonData)
    assert not isinstance(plain, GeoJsonData)
    assert json.loads(template_json(fast, sort_keys=True)) == json.loads(json.dumps(plain))
    assert json.loads(json.dumps(plain)) == table_geo_dict(table)
    with pytest.raises(TypeError):
        json.dumps(fast)  # only this package's layers may carry arrays


def table_geo_dict(table: gpd.GeoDataFrame) -> dict[str, object]:
    """GeoPandas' own GeoJSON of the escaped, rounded table, for comparison."""
    from planner.report.maps import MAP_DECIMALS, escape_text_columns

    escaped = escape_text_columns(table)
    escaped = escaped.set_geometry(
        shapely_round(escaped.geometry.to_numpy(), MAP_DECIMALS), crs=4326
    )
    out: dict[str, object] = json.loads(json.dumps(escaped.to_geo_dict(show_bbox=False)))
    return out


def shapely_round(geoms: object, decimals: int) -> object:
    import numpy as np
    import shapely

    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def test_a_layer_of_arrays_renders_safe_compact_json_and_others_as_before() -> None:
    table = _polygon_table()
    fmap = folium.Map(location=[60.17, 24.94], zoom_start=13, tiles=None)
    GeoJson(to_geojson(table, arrays=True), name="fast").add_to(fmap)
    GeoJson(to_geojson(table), name="plain").add_to(fmap)
    stable_ids(fmap.get_root(), prefix="arrays")
    html = fmap.get_root().render()
    payloads = re.findall(r"_add\((\{.*?\})\);", html)
    assert len(payloads) == 2
    fast, plain = payloads
    assert json.loads(fast) == json.loads(plain)
    assert fast != plain
    assert ", " not in fast
    assert plain == json.dumps(json.loads(plain), sort_keys=True).replace("<", "\\u003c").replace(
        ">", "\\u003e"
    ).replace("&", "\\u0026").replace("'", "\\u0027")  # json.dumps' as before
    for text in (fast, plain):
        assert "<" not in text
        assert "'" not in text
        assert "&" not in text


def test_a_json_writer_set_before_planner_still_writes_other_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from planner.report import map_render

    def theirs(obj: object, **kwargs: object) -> str:
        return "theirs:" + json.dumps(obj)

    monkeypatch.setattr(map_render, "_OTHER_JSON", theirs)
    assert template_json({"a": 1}, sort_keys=True) == 'theirs:{"a": 1}'
    fast = to_geojson(_polygon_table(), arrays=True)
    assert json.loads(template_json(fast, sort_keys=True))["type"] == "FeatureCollection"
