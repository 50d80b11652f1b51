"""Move a station by dragging it on the map.

The map component (streamlit-folium) reports clicks on objects, not drag ends. In the
"drag" mode the map gets :func:`drag_layer`: one draggable Leaflet marker per station,
whose tooltip is the station's label; when a drag ends, the marker reports itself as
clicked at its new place. The component then returns ``last_object_clicked`` (the new
place) and ``last_object_clicked_tooltip`` (the label), and :func:`drag_move` turns them
into the station to move and where. A plain click on a marker reports the station's own
place and moves nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template
from pyproj import Geod

from planner.app.plan import Plan
from planner.report.maps import stable_ids, to_geojson
from planner.sources.coords import WGS84
from planner.texts import Language, text

#: A drop closer than this to the station's place (metres) is a click, not a move.
MIN_MOVE_M = 1.0
_GEOD = Geod(ellps="WGS84")


def drag_labels(plan: Plan, language: Language) -> dict[str, str]:
    """Each station's marker label (its tooltip) → the station's id."""
    ids = plan.stations["id"].astype(str)
    return {text("drag_label", language, id=i): i for i in ids}


def drag_layer(plan: Plan, *, language: Language = "en") -> folium.FeatureGroup:
    """A layer of draggable markers, one per station, labelled with :func:`drag_labels`."""
    group = folium.FeatureGroup(name=text("map_layer_drag", language), show=True)
    labels = {i: label for label, i in drag_labels(plan, language).items()}
    table = gpd.GeoDataFrame(
        {"label": [labels[i] for i in plan.stations["id"].astype(str)]},
        geometry=plan.stations.geometry.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )
    _DragMarkers(to_geojson(table)).add_to(group)
    stable_ids(group, prefix="drag-layer")
    return group


def drag_move(
    plan: Plan, value: Mapping[str, Any] | None, labels: Mapping[str, str]
) -> tuple[str, float, float] | None:
    """The station a drag moved and its new place, from the map component's value.

    Parameters
    ----------
    plan
        The plan the markers were drawn for.
    value
        The component's value (``last_object_clicked`` and
        ``last_object_clicked_tooltip``), or None.
    labels
        :func:`drag_labels` of the plan.

    Returns
    -------
    (station id, lon, lat) or None
        None when the object is not a station marker, the place is not a finite point,
        or it is within :data:`MIN_MOVE_M` of the station (a click, not a drag).
    """
    if not value:
        return None
    sid = labels.get(str(value.get("last_object_clicked_tooltip") or "").strip())
    where = value.get("last_object_clicked")
    if sid is None or not isinstance(where, Mapping):
        return None
    try:
        lat, lon = float(where["lat"]), float(where["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not -180.0 <= lon <= 180.0:  # Leaflet lets longitudes run past 180
        lon = (lon + 180.0) % 360.0 - 180.0
    ids = plan.stations["id"].astype(str)
    if sid not in set(ids):
        return None
    now = plan.stations.geometry.to_crs(WGS84).iloc[int((ids == sid).to_numpy().argmax())]
    _, _, metres = _GEOD.inv(now.x, now.y, lon, lat)
    if metres < MIN_MOVE_M:
        return None
    return sid, lon, lat


class _DragMarkers(MacroElement):
    """Draggable markers from GeoJSON points (labels already escaped by ``to_geojson``)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }};
            var data = {{ this.data|tojson }};
            var icon = L.divIcon({
                className: "",
                iconSize: [18, 18],
                html: '<div style="width:12px;height:12px;border-radius:50%;' +
                    'background:#ffffff;border:3px solid #252525;cursor:move"></div>'
            });
            data.features.forEach(function (f) {
                var c = f.geometry.coordinates;
                var m = L.marker([c[1], c[0]], {draggable: true, autoPan: true, icon: icon});
                m.bindTooltip(f.properties.label);
                m.on("dragend", function () { m.fire("click", {latlng: m.getLatLng()}); });
                m.addTo(group);
            });
        })();
        {% endmacro %}"""
    )

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "DragMarkers"
        self.data = data
