"""Folium layers that render large data without compiling it as a Jinja2 template.

branca's ``MacroElement.render`` renders an element's ``header``, ``html`` and ``script``
macros and wraps each result in a new ``Element(text)``, which compiles the *rendered* text
as a Jinja2 template so that the page template can render it again (the second pass the
notes of :mod:`planner.report.maps` describe). For a layer with a city's homes or outlines
that text is megabytes of GeoJSON: lexing it cost about 1.1 s of the 1.8 s that rendering
the Porto metro map took, to give back the same text.

:class:`RenderedText` gives exactly what that ``Element(text)`` would render: when the
text holds no Jinja2 syntax (``{{``, ``{%``, ``{#``), the template is the text itself with
newlines written as line feeds and without one trailing newline (Jinja2's defaults,
``keep_trailing_newline=False``), so it is returned as such with no compilation; any other
text is compiled and rendered as branca does. :class:`GeoJson` and :class:`ImageOverlay`
are folium's classes with that one change, so the HTML is byte-identical to theirs (and a
``{{ }}`` that reached a script unescaped is still evaluated as folium would: text from
the data must still go through :func:`planner.report.maps.map_text`).

A layer whose data is a :class:`~planner.report.map_geometry.GeoJsonData` (polygon rings as
numpy arrays) is written by orjson instead of :func:`json.dumps` (:func:`template_json`):
the same values, compactly, five times faster and without a Python list per vertex
(0.6 s of the Porto metro's band layers). Any other data is written as before.

:func:`stable_ids` makes the HTML of a map the same from run to run, and
:func:`leaflet_assets` embeds Leaflet itself, so that a map opens offline.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
import json
import re
from collections.abc import Iterator
from typing import Any

import folium
import orjson
from branca.element import Element, Figure, MacroElement
from folium.features import GeoJsonStyleMapper
from folium.utilities import get_obj_in_upper_tree

from planner.report.map_geometry import GeoJsonData

_JINJA_MARKERS = ("{{", "{%", "{#")
_NEWLINES = re.compile(r"\r\n|\r")


def template_json(obj: Any, **kwargs: Any) -> str:
    """JSON for Jinja2's ``tojson`` in folium's templates: orjson for :class:`GeoJsonData`.

    Jinja2 then makes it safe in a script (``<``, ``>``, ``&`` and ``'`` as unicode escapes)
    as it does :func:`json.dumps`' text. Anything else is written as before: by the JSON
    writer the environment had (:func:`json.dumps` unless someone set another).
    """
    if isinstance(obj, GeoJsonData):
        keys = orjson.OPT_SORT_KEYS if kwargs.get("sort_keys") else 0
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY | keys).decode()
    text: str = (_OTHER_JSON or json.dumps)(obj, **kwargs)
    return text


# folium's templates share one Jinja2 environment; its ``tojson`` writes with this.
_POLICIES = folium.GeoJson._template.environment.policies
_OTHER_JSON = _POLICIES.get("json.dumps_function")
if getattr(_OTHER_JSON, "__module__", None) == __name__:
    _OTHER_JSON = None  # this module's own, from an earlier import (a reload)
_POLICIES["json.dumps_function"] = template_json


def as_jinja_renders(text: str) -> str | None:
    """What ``jinja2.Template(text).render()`` returns when ``text`` holds no Jinja syntax.

    Returns None when it does (then only compiling it tells).
    """
    if any(marker in text for marker in _JINJA_MARKERS):
        return None
    out = _NEWLINES.sub("\n", text) if "\r" in text else text
    return out[:-1] if out.endswith("\n") else out


class RenderedText(Element):
    """Already rendered text, rendered again as branca's ``Element(text)`` would render it.

    Compiled as a Jinja2 template only when it holds Jinja syntax (see the module notes).
    """

    def __init__(self, text: str) -> None:
        plain = as_jinja_renders(text)
        super().__init__(None if plain is not None else text)
        self._plain = plain

    def render(self, **kwargs: Any) -> str:
        """The text, as ``Element(text).render()`` gives it."""
        if self._plain is not None:
            return self._plain
        out: str = super().render(**kwargs)
        return out


class _RenderOnce(MacroElement):
    """``MacroElement.render`` (branca 0.8) with :class:`RenderedText` for ``Element``."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as branca's
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = "You cannot render this Element if it is not in a Figure."
            raise TypeError(msg)
        macros = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = macros.get(part)
            if macro is not None:
                getattr(figure, part).add_child(
                    RenderedText(macro(self, kwargs)),
                    name=self.get_name(),
                )
        for element in self._children.values():
            element.render(**kwargs)


class GeoJson(folium.GeoJson, _RenderOnce):
    """:class:`folium.GeoJson` whose rendered script is not compiled again (same HTML).

    With ``uniform_style=True`` the caller says that ``style_function`` gives every feature
    the same style (it ignores the feature): folium calls it on every feature and keys the
    result as JSON only to find that one style (0.2 s for the 25,000 features of the Porto
    metro map); here it is called once, for the same style map and the same HTML.
    """

    def __init__(self, *args: Any, uniform_style: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._uniform_style = uniform_style

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as folium's
        """As :meth:`folium.GeoJson.render`, the style styled once when it is uniform."""
        features = self.data.get("features") if isinstance(self.data, dict) else None
        if not (self._uniform_style and self.style and not self.highlight and features):
            super().render(**kwargs)  # type: ignore[no-untyped-call]
            return
        content = self.style_function(features[0])
        if any(isinstance(v, MacroElement) for v in content.values()):
            # objects in the style: folium's own way renders them
            super().render(**kwargs)  # type: ignore[no-untyped-call]
            return
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)  # type: ignore[assignment]
        # What GeoJsonStyleMapper.get_style_map gives when every feature has this style.
        self.style_map = {"default": GeoJsonStyleMapper._to_key(content)}
        super(folium.GeoJson, self).render(**kwargs)  # type: ignore[no-untyped-call]


class ImageOverlay(folium.raster_layers.ImageOverlay, _RenderOnce):
    """:class:`folium.raster_layers.ImageOverlay`, its ``data:`` URL not compiled again."""


def leaflet_assets() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Leaflet's JavaScript and CSS as ``data:`` URIs, from the installed package.

    Returns
    -------
    js, css
        Lists of ``(name, url)`` in the form of ``folium.Map.default_js`` / ``default_css``.
    """
    root = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    js = (root / "leaflet.js").read_bytes()
    css = (root / "leaflet.css").read_bytes()
    return (
        [("leaflet", "data:text/javascript;base64," + base64.b64encode(js).decode())],
        [("leaflet_css", "data:text/css;base64," + base64.b64encode(css).decode())],
    )


def stable_ids(root: Element, *, prefix: str) -> None:
    """Give ``root`` and every element under it an id that depends only on its position.

    Folium names each element ``<kind>_<uuid4>``, so two runs on the same data give
    different HTML. Ids become a hash of ``prefix`` and the element's place in the tree
    (:func:`elements_in_order`; 32 hexadecimal digits, like folium's), so the same map
    renders byte-identical. Elements are changed in place: call it on a map you have just
    built.
    """
    for n, element in enumerate(elements_in_order(root)):
        digest = hashlib.blake2s(f"{prefix}:{n}".encode(), digest_size=16).hexdigest()
        element._id = digest


def elements_in_order(root: Element) -> Iterator[Element]:
    """``root`` and every element under it, depth first, children in the order added."""
    stack = [root]
    while stack:
        element = stack.pop()
        yield element
        stack.extend(reversed(list(element._children.values())))
