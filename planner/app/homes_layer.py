"""The app map's homes: drawn once with the base map, recoloured by each edit.

An edit changes which homes are served and how far they walk, never where they are.
:class:`HomesBase` (part of the base map, sent once per study area) draws the homes
with their ids and people as one canvas layer; :class:`HomesState` (in the plan's homes
feature group, sent with every edit) carries only a served flag and the minutes of each
drawn home, and recolours the markers in place. At metro scale (8,000 homes drawn) an
edit sends about 50 kB for the homes instead of 1.4 MB of GeoJSON. The homes themselves
are served as a file (:func:`write_homes_file`, like the streets) and fetched once per
map; Streamlit re-sends the whole map component when any of its arguments changes, so
data inside the base map's script would travel with every edit too.

Both sides pick the same homes (:func:`drawn_homes`, from the study area alone) and the
state names the area and the count it was made for: a state that does not match the
drawn homes leaves them uncoloured rather than colouring the wrong ones. Ids come from
a user's file and reach the map only through :func:`planner.report.maps.to_geojson`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from branca.element import MacroElement
from jinja2 import Template

from planner.app.map_elements import DataScript
from planner.app.plan import Plan
from planner.app.study_area import StudyArea
from planner.report.maps import COVERED_COLOUR, UNCOVERED_COLOUR, map_text, to_geojson
from planner.sources.coords import WGS84
from planner.texts import Language, text

#: Homes drawn at most (evenly thinned past it; the figures count every home).
MAX_HOMES = 8_000


def drawn_homes(area: StudyArea, max_homes: int = MAX_HOMES) -> np.ndarray:
    """Positions (row numbers in ``area.demand``) of the homes the map draws."""
    n = len(area.demand)
    if n <= max_homes:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_homes).astype(int))


def homes_geojson(area: StudyArea, max_homes: int = MAX_HOMES) -> dict[str, Any]:
    """The drawn homes (:func:`drawn_homes`) with their ids and people, as map GeoJSON."""
    homes = area.demand.iloc[drawn_homes(area, max_homes)]
    table = gpd.GeoDataFrame(
        {"id": homes["id"].astype(str), "people": homes["population"].round(0)},
        geometry=homes.geometry,
        crs=area.demand.crs,
    ).to_crs(WGS84)
    return to_geojson(table)


def write_homes_file(
    area: StudyArea, folder: str | Path, max_homes: int = MAX_HOMES
) -> Path | None:
    """Write :func:`homes_geojson` to ``folder/homes-<area key>-<count>.geojson`` (once).

    Served as a static file, the homes are fetched by the browser once per map instead
    of being sent inside the map's script. Returns None when the folder cannot be written.
    """
    path = Path(folder) / f"homes-{area.key}-{len(drawn_homes(area, max_homes))}.geojson"
    if path.exists():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        data = homes_geojson(area, max_homes)
        tmp.write_text(json.dumps(data, separators=(",", ":")), "utf-8")
        tmp.replace(path)
    except OSError:
        return None
    return path


class HomesBase(MacroElement):
    """The homes of a study area as one canvas layer, uncoloured until a state arrives.

    Parameters
    ----------
    area
        The study area whose homes are drawn.
    language
        ``"en"`` or ``"zh"``, for the tooltip's labels.
    max_homes
        Homes drawn at most (see :func:`drawn_homes`).
    url
        URL of the file :func:`write_homes_file` wrote, fetched by the browser; None
        embeds the homes in the map.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
            var labels = {{ this.labels|tojson }};
            var minutes = [];
            var markers = [];
            var state = null, painted = "";
            var layer = L.geoJSON(null, {
                pointToLayer: function (feature, latlng) {
                    var m = L.circleMarker(latlng, {
                        radius: 3, weight: 0, fill: true, fillOpacity: 0.85,
                        fillColor: "#888888", color: "#888888"
                    });
                    m._plannerHome = markers.length;
                    markers.push(m);
                    return m;
                }
            });
            layer.bindTooltip(function (m) {
                var p = m.feature.properties, t = minutes[m._plannerHome];
                return "<b>" + labels[0] + "</b> " + p.id + "<br><b>" + labels[1] + "</b> " +
                    p.people + "<br><b>" + labels[2] + "</b> " +
                    (t === null || t === undefined ? "-" : t);
            }, {sticky: true});
            function paint() {
                if (state === null) { return; }
                for (var i = 0; i < markers.length; i++) {
                    var served = state.charAt(i);
                    if (served === painted.charAt(i)) { continue; }  // only what changed
                    var c = served === "1" ? {{ this.covered|tojson }}
                        : {{ this.uncovered|tojson }};
                    markers[i].setStyle({fillColor: c, color: c});
                }
                painted = markers.length ? state : "";
            }
            window.plannerHomes = {
                key: {{ this.key|tojson }},
                layer: layer,
                show: function (served, walk) { state = served; minutes = walk; paint(); }
            };
            function draw(data) { layer.addData(data); painted = ""; paint(); }
            {% if this.url %}
            fetch({{ this.url|tojson }}).then(function (r) { return r.json(); }).then(draw);
            {% else %}
            draw({{ this.data|tojson }});
            {% endif %}
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(
        self, area: StudyArea, *, language: Language, max_homes: int, url: str | None = None
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "HomesBase"
        rows = drawn_homes(area, max_homes)
        self.url = url
        self.data = None if url is not None else homes_geojson(area, max_homes)
        self.labels = [map_text(text(k, language)) for k in ("home", "people", "minutes_nearest")]
        self.key = f"{area.key}:{len(rows)}"
        self.covered = COVERED_COLOUR
        self.uncovered = UNCOVERED_COLOUR


class HomesState(DataScript):
    """Served flags and minutes of the drawn homes; colours them and puts them in its group.

    Add it to the plan's homes feature group: when st_folium swaps the groups, the homes
    layer (drawn once by :class:`HomesBase`) moves into the new group, recoloured.

    Parameters
    ----------
    plan
        The plan whose coverage colours the homes.
    max_homes
        As given to :class:`HomesBase`.
    """

    _script = Template(
        """{% macro script(this, kwargs) %}
        (function (group) {
            var homes = window.plannerHomes;
            if (!homes || homes.key !== {{ this.key|tojson }}) { return; }
            homes.show({{ this.served|tojson }}, {{ this.minutes|tojson }});
            group.addLayer(homes.layer);
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, plan: Plan, *, max_homes: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "HomesState"
        rows = drawn_homes(plan.area, max_homes)
        covered = plan.covered[rows]  # the plan's arrays: no demand layer built
        walk = np.round(plan.walk_min[rows], 1)
        self.key = f"{plan.area.key}:{len(rows)}"
        self.served = "".join(np.where(covered, "1", "0"))
        self.minutes = [float(w) if np.isfinite(w) else None for w in walk]
        self.shown = len(rows)
