"""The app map's gap zones in a compact form: rings as integer steps, decoded in the browser.

Gap zones are most of what an edit sends at metro scale (3,621 zones, 1.8 MB as GeoJSON).
:class:`CompactGaps` sends each zone's rings as integers on a 1e-5 degree grid (about
1 m; the outlines drawn past a few hundred zones are simplified by 5-20 m anyway), the
first vertex absolute and each next one as the step from the one before, and the tooltip
figures as plain arrays: about a third of the GeoJSON. Every value is a number computed
by the planner (no text from a user's file); the tooltip labels come from the text
catalogue through :func:`planner.report.maps.map_text`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from jinja2 import Template

from planner.app.map_elements import DataScript
from planner.report.map_geometry import drawing_tolerance, simplified_outlines
from planner.report.maps import GAP_COLOUR, map_text
from planner.texts import Language, text

#: Grid of the encoded coordinates, in degrees (about 1.1 m of latitude).
GRID_DEG = 1e-5


def encode_rings(geometry: shapely.Geometry) -> list[list[int]]:
    """Rings of a polygon or multipolygon as ``[x0, y0, dx1, dy1, ...]`` on :data:`GRID_DEG`.

    Rings are listed polygon by polygon, exterior first; a ring's orientation does not
    matter to the map (holes are drawn by the even-odd fill of each polygon's rings).
    """
    rings: list[list[int]] = []
    for poly in getattr(geometry, "geoms", [geometry]):
        if poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            q = np.round(np.asarray(ring.coords)[:, :2] / GRID_DEG).astype(np.int64)
            steps = np.vstack([q[:1], np.diff(q, axis=0)])
            rings.append(steps.ravel().tolist())
    return rings


def encode_zones(geometries: Any) -> list[list[list[int]]]:
    """:func:`encode_rings` of every geometry, in one vectorised pass (no loop per vertex).

    Thousands of gap zones at metro scale: this is the same encoding, built from all the
    zones' coordinates at once.
    """
    geoms = np.asarray(geometries, dtype=object)
    out: list[list[list[int]]] = [[] for _ in range(geoms.size)]
    if geoms.size == 0:
        return out
    polys, zone_of_poly = shapely.get_parts(geoms, return_index=True)
    keep = ~shapely.is_empty(polys)
    polys, zone_of_poly = polys[keep], zone_of_poly[keep]
    rings, poly_of_ring = shapely.get_rings(polys, return_index=True)
    if rings.size == 0:
        return out
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    q = np.round(coords / GRID_DEG).astype(np.int64)
    steps = np.empty_like(q)
    steps[1:] = np.diff(q, axis=0)
    starts = np.flatnonzero(np.r_[True, ring_of[1:] != ring_of[:-1]])
    steps[starts] = q[starts]  # each ring's first vertex absolute
    flat = steps.ravel().tolist()
    bounds = np.r_[starts, ring_of.size] * 2
    zone_of_ring = zone_of_poly[poly_of_ring]
    for r, (a, b) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        out[zone_of_ring[r]].append(flat[a:b])
    return out


class ZoneDrawings:
    """Gap zones as the app's map draws them, kept by outline: an edit encodes only its zones.

    The encoded outline of a zone (:func:`~planner.report.map_geometry.gap_outlines`'
    simplification, then :func:`encode_zones`) depends only on the outline and on the
    simplification, which depends on how many zones there are. A plan edited from another
    keeps the very outline objects of the zones the edit left alone
    (:attr:`planner.app.plan.Plan.gap_outlines`), so their encoding is looked up here
    instead of built again: at metro scale (3,600 zones) this was most of the server's
    work for the map on each click. Entries are keyed by the outline object (held here,
    so its id cannot be reused) and the tolerance; the newest ``size`` are kept. The
    values are pure functions of the key, so one instance may serve every session.

    Parameters
    ----------
    size
        Most zones kept (about two plans' worth at metro scale by default).
    """

    def __init__(self, *, size: int = 10_000) -> None:
        self.size = size
        self.built = 0  # zones encoded here (the others were found)
        self._kept: OrderedDict[tuple[int, float | None], tuple[Any, list[list[int]]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def encoded(self, gaps: gpd.GeoDataFrame) -> list[list[list[int]]]:
        """``encode_zones(gap_outlines(gaps).geometry)``, reusing the zones seen before.

        Parameters
        ----------
        gaps
            Gap zones (any CRS; in WGS84 the outline objects are the keys).

        Returns
        -------
        list
            Per zone, its rings as :func:`encode_rings` gives them.
        """
        geoms = gaps.to_crs(4326).geometry.to_numpy()
        tol = drawing_tolerance(len(geoms))
        out: list[list[list[int]] | None] = [None] * len(geoms)
        todo: list[int] = []
        with self._lock:
            for i, g in enumerate(geoms):
                hit = self._kept.get((id(g), tol))
                if hit is not None and hit[0] is g:
                    self._kept.move_to_end((id(g), tol))
                    out[i] = hit[1]
                else:
                    todo.append(i)
        if todo:
            fresh = geoms[todo]
            drawn = fresh if tol is None else simplified_outlines(fresh, tolerance=tol)
            made = encode_zones(drawn)
            with self._lock:
                for i, rings in zip(todo, made, strict=True):
                    out[i] = rings
                    self._kept[(id(geoms[i]), tol)] = (geoms[i], rings)
                self.built += len(todo)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return [rings if rings is not None else [] for rings in out]


def decode_rings(rings: list[list[int]]) -> list[np.ndarray]:
    """The inverse of :func:`encode_rings`: each ring's (lon, lat) vertices in degrees."""
    return [np.cumsum(np.asarray(r).reshape(-1, 2), axis=0) * GRID_DEG for r in rings]


class CompactGaps(DataScript):
    """Gap zones (in WGS84) drawn from :func:`encode_rings`, with a tooltip of their figures.

    Parameters
    ----------
    gaps
        Gap zones in WGS84 with ``gap_id``, ``homes``, ``population``, ``walk_min_nearest``.
    language
        ``"en"`` or ``"zh"``, for the tooltip's labels.
    zones
        The zones already encoded (:meth:`ZoneDrawings.encoded`), in the rows' order;
        None: encoded here from ``gaps``' outlines as they are.

    Notes
    -----
    The script (most of an edit's bytes at metro scale) is rendered once and never
    compiled as a template (:class:`~planner.app.map_elements.DataScript`).
    """

    _script = Template(
        """{% macro script(this, kwargs) %}
        (function (group) {
            var labels = {{ this.labels|tojson }};
            var zones = {{ this.zones|tojson }};
            var figures = {{ this.figures|tojson }};
            var grid = {{ this.grid|tojson }};
            zones.forEach(function (rings, k) {
                var latlngs = rings.map(function (r) {
                    var out = [], x = 0, y = 0;
                    for (var i = 0; i < r.length; i += 2) {
                        x += r[i]; y += r[i + 1];
                        out.push([y * grid, x * grid]);
                    }
                    return out;
                });
                var f = figures[k];
                L.polygon(latlngs, {
                    color: {{ this.colour|tojson }}, weight: 2, fillColor: {{ this.colour|tojson }},
                    fillOpacity: 0.12, dashArray: "6 3"
                }).bindTooltip(labels.map(function (label, i) {
                    return "<b>" + label + "</b> " + (f[i] === null ? "-" : f[i]);
                }).join("<br>"), {sticky: true}).addTo(group);
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(
        self,
        gaps: gpd.GeoDataFrame,
        *,
        language: Language,
        zones: list[list[list[int]]] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CompactGaps"
        self.zones = encode_zones(gaps.geometry.to_numpy()) if zones is None else zones
        rounded = [
            gaps["gap_id"].astype(int).to_numpy(),
            gaps["homes"].astype(int).to_numpy(),
            gaps["population"].round(0).to_numpy(),
            gaps["walk_min_nearest"].round(1).to_numpy(),
        ]
        self.figures: list[list[Any]] = [
            [_number(col[k]) for col in rounded] for k in range(len(gaps))
        ]
        self.labels = [
            map_text(text(k, language)) for k in ("gap", "homes", "people", "minutes_nearest")
        ]
        self.grid = GRID_DEG
        self.colour = GAP_COLOUR


def _number(value: Any) -> int | float | None:
    v = float(value)
    if not np.isfinite(v):
        return None
    return int(v) if v.is_integer() else v
