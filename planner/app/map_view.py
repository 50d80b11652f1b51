"""The app map keeps its view (centre and zoom) when it has to be drawn again.

An edit changes only the plan's layers, and the browser keeps the map. A change of the
walk limit changes the legend (its bands) inside the base map, and the map component
then builds a new map, fitted to the whole study area: the planner's zoom was lost.
:class:`KeepView` remembers the view in the browser tab's ``sessionStorage`` after every
move, under the study area's key, and a new map of the same area opens at that view.
Nothing goes back to the server (no rerun on a pan or zoom).
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

#: Prefix of the ``sessionStorage`` key, followed by the study area's key.
STORAGE_PREFIX = "planner-map-view-"


class KeepView(MacroElement):
    """Open at the last view of this area in this tab; remember each new view.

    Add it after the map's ``fit_bounds``: the bounds are the first view, and a
    remembered view replaces them.

    Parameters
    ----------
    area_key
        The study area's key (:attr:`planner.app.study_area.StudyArea.key`); views of
        other areas are ignored.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var key = {{ this.storage_key|tojson }};
            var store = null;
            try { store = window.sessionStorage; } catch (e) { return; }
            try {
                var view = JSON.parse(store.getItem(key) || "null");
                if (view && isFinite(view.lat) && isFinite(view.lng) && isFinite(view.zoom)) {
                    map.setView([view.lat, view.lng], view.zoom, {animate: false});
                }
            } catch (e) { store.removeItem(key); }
            map.on("moveend zoomend", function () {
                var c = map.getCenter();
                var view = {lat: c.lat, lng: c.lng, zoom: map.getZoom()};
                try {
                    store.setItem(key, JSON.stringify(view));
                } catch (e) { /* storage full or refused: the view is simply not kept */ }
            });
        })();
        {% endmacro %}"""
    )

    def __init__(self, area_key: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "KeepView"
        self.storage_key = STORAGE_PREFIX + area_key
