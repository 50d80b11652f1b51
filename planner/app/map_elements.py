"""Leaflet elements of the app's base map: the street pane, the tile fallback, a plain background.

Split from :mod:`planner.app.plan_map`; each is a folium ``MacroElement`` whose script
is a fixed template fed only JSON values (``tojson``), never text from a user's file.
:class:`DataScript` is the base of the elements whose script carries much data (the gap
zones, the homes' colours): rendered once, never compiled as a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from planner.report.maps import OSM_ATTRIBUTION, STREET_COLOUR, to_geojson

#: Leaflet pane of the street network, drawn under every plan layer.
STREETS_PANE = "planner-streets"


class Verbatim(Element):
    """Script text placed in a figure as it is: never compiled as a Jinja template.

    branca's ``Element(text)`` compiles ``text`` as a template, which both costs time in
    proportion to its length and would run any ``{{ ... }}`` it holds.
    """

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.code = code

    def render(self, **kwargs: Any) -> str:
        """The text, unchanged."""
        return self.code


class DataScript(MacroElement):
    """A ``MacroElement`` whose script carries much data: rendered once, placed verbatim.

    Subclasses put their template in ``_script`` (a ``script`` macro, values through
    ``tojson`` as usual). branca's ``MacroElement.render`` puts the rendered script into the
    figure as ``Element(script)``, which compiles it as a Jinja template again: at metro
    scale the gap zones' 0.6 MB script was tokenised by Jinja on every rerun of the app
    (about 0.1 s of each click), and st_folium renders every element's ``script`` macro a
    second time for its own string. Here the script is rendered once per element (and per
    parent, whose name it holds) and both paths get that text as it is.
    """

    _script: Template
    _template = Template(
        "{% macro script(this, kwargs) %}{{ this.rendered_script() }}{% endmacro %}"
    )

    def rendered_script(self) -> str:
        """The element's script, rendered from ``_script`` the first time it is asked for."""
        parent = self._parent.get_name() if self._parent is not None else ""
        done: tuple[str, str] | None = self.__dict__.get("_rendered")
        if done is None or done[0] != parent:
            done = (parent, str(self._script.module.script(self, {})))  # type: ignore[attr-defined]
            self.__dict__["_rendered"] = done
        return done[1]

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement's
        """Put the rendered script into the figure's scripts, uncompiled."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"{self._name} can only be rendered inside a Figure")
        figure.script.add_child(Verbatim(self.rendered_script()), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class Streets(MacroElement):
    """The street network in a pane under every other layer, embedded or fetched."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
            var pane = map.createPane({{ this.pane|tojson }});
            pane.style.zIndex = 350;
            pane.style.pointerEvents = "none";
            function draw(data) {
                L.geoJSON(data, {
                    pane: {{ this.pane|tojson }},
                    renderer: L.canvas({pane: {{ this.pane|tojson }}}),
                    interactive: false,
                    style: {color: {{ this.colour|tojson }}, weight: 1, opacity: 0.8}
                }).addTo(map);
            }
            {% if this.url %}
            fetch({{ this.url|tojson }}).then(function (r) { return r.json(); }).then(draw);
            {% else %}
            draw({{ this.data|tojson }});
            {% endif %}
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, *, url: str | None = None, data: dict[str, Any] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Streets"
        self.url = url
        self.data = data
        self.pane = STREETS_PANE
        self.colour = STREET_COLOUR


class TileFallback(MacroElement):
    """Drop the online tile layer when its tiles fail and none has loaded: plain background."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            map.eachLayer(function (layer) {
                if (!(layer instanceof L.TileLayer)) { return; }
                var loaded = 0, failed = 0;
                layer.on("tileload", function () { loaded += 1; });
                layer.on("tileerror", function () {
                    failed += 1;
                    if (failed >= 2 && loaded === 0 && map.hasLayer(layer)) {
                        map.removeLayer(layer);
                        map.getContainer().style.background = {{ this.background|tojson }};
                        map.attributionControl.addAttribution({{ this.attribution|tojson }});
                    }
                });
            });
        })();
        {% endmacro %}"""
    )

    def __init__(self, background: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "TileFallback"
        self.background = background
        self.attribution = OSM_ATTRIBUTION


class PlainBackground(MacroElement):
    """No tiles: a plain background, and OSM credited in the attribution control."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
            map.attributionControl.addAttribution({{ this.attribution|tojson }});
            map.getContainer().style.background = {{ this.background|tojson }};
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, background: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "PlainBackground"
        self.background = background
        self.attribution = OSM_ATTRIBUTION


class ReleaseOldLayers(MacroElement):
    """Let the browser free the plan layers an edit replaced (put it in the first layer).

    ``st_folium`` (streamlit-folium 0.27) removes the previous feature groups and layer
    control from the map on each edit, but two references keep every replaced layer
    alive, so the tab grew by the plan's layers at each edit: its ``window.feature_group``
    list, to which it only appends, and the removed ``L.Control.Layers``, which still
    listens to the map's clicks (Leaflet 1.9 adds a map ``click`` listener for a
    collapsed control and does not remove it) and holds its layers. Its script runs after
    the old groups and control are removed and before the new ones are made: it empties
    the list and takes the old control's listener off the map.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var old = window.layer_control;
            if (old && window.map && typeof old.collapse === "function") {
                window.map.off("click", old.collapse, old);
            }
            window.feature_group = [];
        })();
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "ReleaseOldLayers"


def class_points(
    points: gpd.GeoDataFrame,
    colours: Sequence[str],
    *,
    fields: Sequence[str],
    aliases: Sequence[str],
) -> folium.GeoJson:
    """Homes as small dots coloured by their integer ``cls`` column (``colours[cls]``).

    ``points`` are in WGS84; their values reach the map only through
    :func:`~planner.report.maps.to_geojson`, and ``aliases`` must already be escaped
    (:func:`~planner.report.maps.map_text`).
    """
    palette = list(colours)
    return folium.GeoJson(
        to_geojson(points),
        marker=folium.CircleMarker(radius=4, weight=0, fill=True, fill_opacity=0.9),
        style_function=lambda f: {
            "fillColor": palette[int(f["properties"]["cls"])],
            "color": palette[int(f["properties"]["cls"])],
        },
        tooltip=folium.GeoJsonTooltip(list(fields), aliases=list(aliases)),
    )
