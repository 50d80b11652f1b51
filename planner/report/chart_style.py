"""The charts' matplotlib style, and the warning about glyphs that the fonts lack kept quiet.

The report's charts keep their text as SVG ``<text>`` (the browser draws Chinese names with
its own fonts), so matplotlib's "Glyph ... missing from font(s)" warning, which it gives
while laying the text out with its own fonts, says nothing worth telling a user.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from matplotlib import rc_context

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

CHART_STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: searchable, and drawn with the reader's fonts
    "svg.hashsalt": "planner",  # fixed clip-path ids: the same chart gives the same SVG
    "text.parse_math": False,  # a "$" in a station name is a dollar sign, not TeX
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10.0,
}


@contextmanager
def quiet_glyphs() -> Iterator[None]:
    """No warning for glyphs (e.g. Chinese) that matplotlib's fonts lack.

    ``warnings.catch_warnings`` swaps the filters of the whole process, and a thread that
    leaves its own (pyogrio's writer does) puts back the filters it found. Code that runs
    charts beside such threads enters this before starting them, so that every thread
    finds, and puts back, filters with this one in them.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from", UserWarning)
        yield


@contextmanager
def chart_style() -> Iterator[None]:
    """Our chart style (:data:`CHART_STYLE`), and no warning for glyphs the browser draws."""
    with rc_context(CHART_STYLE), quiet_glyphs():
        yield
