"""The map and report of a result whose band polygons are still being built: polygons last.

:func:`planner.walk.coverage.analyze_coverage` returns while the walk-time band polygons
are built in a thread of their own (GEOS releases the GIL). Everything of the map and the
report that does not need them is rendered while they are built; when they arrive, only
their parts are made and put in place:

- :func:`pending_map` is :func:`~planner.report.maps.coverage_map` of the result with
  stand-in bands (:func:`stand_in_bands`: the same bands, no outline yet). The map has the
  same elements, so the same element ids (:func:`~planner.report.map_render.stable_ids`
  numbers them by their place in the tree). It is rendered with a marker in place of each
  band layer and of the element that fits the view to the bands. :func:`polygon_parts`
  builds the real band layers and view, gives them the stand-ins' ids, renders each alone
  and returns its part of the page's script. branca renders a page's script as the parts
  of its elements one after the other, each after the same line break and indent, so an
  element's part is the same whether the page is rendered whole or the element alone;
  :func:`fill_markers` puts each part where its marker is.
- :func:`pending_report` is :func:`~planner.report.report.coverage_report` with a marker
  for the map and one for the printed overview map, which is drawn but for its bands and
  size (:func:`~planner.report.charts.overview_canvas`); :func:`finish_report` fills the
  bands, turns the overview into SVG and puts the finished map, HTML-escaped, in its
  ``srcdoc``. :mod:`planner.report.forked_report` makes the page in a forked copy of the
  process at city scale.

The files are byte for byte those of the one-shot ``coverage_map(...).get_root().render()``
and ``coverage_report(...)`` (``tests/report/test_deferred.py``). Markers hold a random
token drawn for each map and must each be found exactly once, so no text from the data can
stand for one (nor hold a ``<`` in the map: :func:`~planner.report.maps.map_text`). Text
from the data stays data: the real layers are rendered as folium renders them (their text
went through :func:`~planner.report.maps.to_geojson`) and spliced in as text, never
compiled as a template.
"""

from __future__ import annotations

import dataclasses
import html
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
from branca.element import Element, Figure
from folium.map import FitBounds

from planner.errors import InputDataError
from planner.report.charts import OverviewCanvas, overview_canvas
from planner.report.map_render import RenderedText, elements_in_order
from planner.report.maps import BandGroup, band_layers, coverage_map, map_bounds
from planner.report.page import Words
from planner.report.report import coverage_report
from planner.report.sections import overview_svg
from planner.texts import Language, check_language
from planner.walk.coverage import CoverageResult


@dataclass(frozen=True)
class PendingMap:
    """A coverage map rendered but for the parts that show the band polygons.

    Attributes
    ----------
    text
        The map's HTML with a marker in place of each polygon part.
    result
        The result mapped (its polygons may still be being built).
    language
        Language of the map.
    token
        The random token of this map's markers.
    stand_ins
        The stand-in elements whose parts are marked: the band layers, widest first, then
        the view's bounds.
    markers
        Each stand-in's marker as it stands in ``text`` (with branca's line break and
        indent before it).
    """

    text: str
    result: CoverageResult
    language: Language
    token: str
    stand_ins: tuple[Element, ...]
    markers: tuple[str, ...]


@dataclass(frozen=True)
class PendingReport:
    """A coverage report rendered but for its map and the bands of its overview map.

    Attributes
    ----------
    text
        The page with :attr:`map_marker` in place of the map (in the ``srcdoc``) and
        :attr:`overview_marker` in place of the printed overview map.
    result
        The result reported (its polygons may still be being built).
    language
        Language of the page.
    canvas
        The overview map drawn but for its bands and size.
    map_marker, overview_marker
        The markers in ``text``.
    """

    text: str
    result: CoverageResult
    language: Language
    canvas: OverviewCanvas
    map_marker: str
    overview_marker: str


def stand_in_bands(result: CoverageResult) -> gpd.GeoDataFrame:
    """The bands of ``result`` without outlines, read without waiting for the polygons.

    One row per configured band while the polygons are being built
    (:func:`~planner.walk.coverage.analyze_coverage` makes one per band), else one per
    row of the built layer.
    """
    layer = result.area_layer
    if isinstance(layer, gpd.GeoDataFrame):
        bands = [float(b) for b in layer["band_min"]]
    else:
        bands = list(result.config.bands)
    return gpd.GeoDataFrame({"band_min": bands}, geometry=[None] * len(bands), crs=4326)


def pending_map(
    result: CoverageResult,
    *,
    streets: gpd.GeoDataFrame | None = None,
    language: Language = "en",
    extra_layers: Sequence[Element] = (),
) -> PendingMap:
    """:func:`~planner.report.maps.coverage_map` rendered without waiting for the polygons.

    The arguments are those of ``coverage_map`` (with tiles, without per-station
    isochrones or suggested sites). :func:`polygon_parts` makes the missing parts.
    """
    lang = check_language(language)
    stand_in = dataclasses.replace(result, area_layer=stand_in_bands(result))
    fmap = coverage_map(stand_in, streets=streets, language=lang, extra_layers=extra_layers)
    stand_ins = (*_only(fmap, BandGroup)._children.values(), _only(fmap, FitBounds))
    token = secrets.token_hex(16)
    markers = [f"<planner-pending {token} {i}>" for i in range(len(stand_ins))]
    root = fmap.get_root()
    holes = [
        _Marker(marker, name=element.get_name())
        for marker, element in zip(markers, stand_ins, strict=True)
    ]
    for element, hole in zip(stand_ins, holes, strict=True):
        _put_in_place(element, hole)
    try:
        text = root.render()
    finally:
        for element, hole in zip(stand_ins, holes, strict=True):
            _put_in_place(hole, element)
    return PendingMap(
        text=text,
        result=result,
        language=lang,
        token=token,
        stand_ins=stand_ins,
        markers=tuple(_as_rendered(marker) for marker in markers),
    )


def polygon_parts(pending: PendingMap) -> dict[str, str]:
    """The map's parts that show the polygons, keyed by their markers; waits for them.

    Call it once per pending map: the real elements take the stand-ins' places.

    Raises
    ------
    InputDataError
        When the polygons, once built, have another number of bands than the stand-ins
        (a result not made by :func:`~planner.walk.coverage.analyze_coverage`).
    """
    result = pending.result
    bands = band_layers(result.coverage_area, pending.language)
    if len(bands) != len(pending.stand_ins) - 1:
        msg = (
            f"The result's band polygon layer has {len(bands)} rows for "
            f"{len(pending.stand_ins) - 1} configured bands ({list(result.config.bands)}): "
            "make the result with analyze_coverage, which builds one per band."
        )
        raise InputDataError(msg)
    real = (*bands, FitBounds(map_bounds(result)))  # as fmap.fit_bounds(...) makes it
    return {
        marker: _rendered_alone(element, stand_in)
        for marker, element, stand_in in zip(pending.markers, real, pending.stand_ins, strict=True)
    }


def pending_report(
    result: CoverageResult,
    *,
    language: Language = "en",
    summary: Mapping[str, Any] | None = None,
    streets: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    district_name_column: str = "name",
) -> PendingReport:
    """:func:`~planner.report.report.coverage_report` of ``result`` but for its map.

    The arguments are those of ``coverage_report`` (with tiles, without a baseline or
    suggested sites); ``streets`` are those the map is made with. Reads no band polygon:
    the printed overview map is drawn but for its bands (:func:`report_overview` draws it
    when they are built) and the map is left out; :func:`finish_report` completes it.
    """
    lang = check_language(language)
    token = secrets.token_hex(16)
    map_marker = f"planner-pending-{token}-map"
    overview_marker = f"<planner-pending {token} overview>"
    bands = len(stand_in_bands(result))
    canvas = overview_canvas(result, bands=bands, streets=streets)
    text = coverage_report(
        result,
        summary=summary,
        language=lang,
        streets=streets,
        districts=districts,
        district_name_column=district_name_column,
        map_html=map_marker,
        overview=overview_marker,
    )
    return PendingReport(
        text=text,
        result=result,
        language=lang,
        canvas=canvas,
        map_marker=map_marker,
        overview_marker=overview_marker,
    )


def finish_map(pending: PendingMap, parts: Mapping[str, str]) -> str:
    """The map's HTML, its polygon ``parts`` (:func:`polygon_parts`) put in place."""
    return fill_markers(pending.text, parts)


def report_overview(pending: PendingReport) -> str:
    """The report's printed overview map, drawn with the band polygons (waits for them)."""
    return overview_svg(Words(pending.language), pending.result, pending.canvas)


def finish_report(pending: PendingReport, map_html: str, *, overview: str | None = None) -> str:
    """The report page with its map (``map_html``, e.g. :func:`finish_map`) and overview map.

    ``overview`` is the overview already drawn (:func:`report_overview`); None draws it.
    """
    fills = {
        pending.map_marker: html.escape(map_html, quote=True),
        pending.overview_marker: report_overview(pending) if overview is None else overview,
    }
    return fill_markers(pending.text, fills)


def fill_markers(text: str, fills: Mapping[str, str]) -> str:
    """``text`` with each key of ``fills``, found exactly once, replaced by its value.

    Raises
    ------
    RuntimeError
        When a key is missing, found twice, or overlaps another (a bug, not bad input).
    """
    found = []
    for key, value in fills.items():
        at = text.find(key)
        if at < 0 or text.find(key, at + 1) >= 0:
            msg = f"Marker {key!r} is not found exactly once in the page: a bug in planner."
            raise RuntimeError(msg)
        found.append((at, key, value))
    found.sort()
    pieces, pos = [], 0
    for at, key, value in found:
        if at < pos:
            msg = f"Marker {key!r} overlaps another: a bug in planner."
            raise RuntimeError(msg)
        pieces += [text[pos:at], value]
        pos = at + len(key)
    pieces.append(text[pos:])
    return "".join(pieces)


class _Marker(Element):
    """Stands for an element in a page rendered whole: its script part is a marker."""

    def __init__(self, marker: str, *, name: str) -> None:
        super().__init__()
        self._marker = marker
        self._key = name

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement's
        """Add the marker to the page's script, under the name of the element it stands for."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = "A marker is rendered outside its map: a bug in planner."
            raise RuntimeError(msg)
        figure.script.add_child(RenderedText(self._marker), name=self._key)


def _only(fmap: Element, kind: type[Element]) -> Any:
    """The one child of ``fmap`` of class ``kind``."""
    found = [child for child in fmap._children.values() if isinstance(child, kind)]
    if len(found) != 1:
        msg = f"A coverage map has one {kind.__name__}, this one {len(found)}: a bug in planner."
        raise RuntimeError(msg)
    return found[0]


def _put_in_place(old: Element, new: Element) -> None:
    """Put ``new`` where ``old`` is among its parent's children (same name, same place)."""
    parent = old._parent
    if parent is None:
        msg = "A stand-in is not in a map: a bug in planner."
        raise RuntimeError(msg)
    keys = [k for k, child in parent._children.items() if child is old]
    if not keys:
        msg = "A stand-in was replaced already: a pending map is finished once."
        raise RuntimeError(msg)
    key = keys[0]
    parent._children[key] = new
    new._parent = parent


def _as_rendered(marker: str) -> str:
    """A marker as it stands in a rendered page: after branca's line break and indent."""
    part = Element()
    part.add_child(RenderedText(marker))
    text: str = part.render()
    return text


def _rendered_alone(element: Element, stand_in: Element) -> str:
    """``element`` in ``stand_in``'s place, with its ids: its script part, as a whole page has it.

    ``element`` must be made as the stand-in was (the same kinds of element, in the same
    order), and add only script: nothing to the page's head or body, and no part under a
    name the page has already (a whole page would keep one of each name).
    """
    mine, theirs = list(elements_in_order(element)), list(elements_in_order(stand_in))
    if [type(e) for e in mine] != [type(e) for e in theirs]:
        msg = "A polygon layer is not made as its stand-in was: a bug in planner."
        raise RuntimeError(msg)
    for new, old in zip(mine, theirs, strict=True):
        new._id = old._id
    _put_in_place(stand_in, element)
    own = element.get_name()  # the name its marker was added under
    figure = element.get_root()
    if not isinstance(figure, Figure):
        msg = "The stand-in is no longer in its map: a bug in planner."
        raise RuntimeError(msg)
    page = (figure.header, figure.html, figure.script)
    alone = (Element(), Element(), Element())
    figure.header, figure.html, figure.script = alone
    try:
        element.render()
    finally:
        figure.header, figure.html, figure.script = page
    shared = (set(alone[2]._children) & set(page[2]._children)) - {own}
    if alone[0]._children or alone[1]._children or shared:
        msg = "A polygon layer adds more than script to its page: a bug in planner."
        raise RuntimeError(msg)
    text: str = alone[2].render()
    return text
