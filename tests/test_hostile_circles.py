"""Hostile category names on the per-category map layers of ``map.html`` and the report.

Category names come from the user's station table. On the map they name layers, fill the
category legend and the stations' tooltips: they must stay text (escaped, never a Jinja
template for folium's second rendering pass, never HTML), and read back as written.
"""

from __future__ import annotations

import html
import json
import re
import warnings
from pathlib import Path

import pytest

from planner.config import AnalysisConfig
from planner.report.export import write_outputs
from planner.sources.osm import demo_extract_path, homes_from_osm, stations_from_osm
from planner.walk.categories import analyze_circles
from planner.walk.network import WalkNetwork

TAGS = {"amenity": ["library", "pharmacy", "clinic", "doctors"]}
#: Template, shell, HTML, formula and plain payloads used as category names.
PAYLOADS = (
    "{{ 7*7 }}",
    "{{ lipsum.__globals__.os.popen('touch MARKER').read() }}",
    "<script>alert(1)</script>",
    "Room {#12}",
    "Discount {% 50",
    '"><img src=x onerror=alert(1)>',
    "=1+1",
    "就业 服务站",
)


def overlay_names(page: str) -> list[str]:
    """The layer control's overlay names as a person reads them (JSON, then HTML decoded)."""
    control = re.search(r"overlays\s*:\s*\{(.*?)\}", page, re.S)
    assert control is not None
    raw = re.findall(r'"((?:[^"\\]|\\.)+)"\s*:', control.group(1))
    return [html.unescape(json.loads(f'"{n}"')) for n in raw]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_hostile_category_names_on_the_map_layers(
    helsinki_network: WalkNetwork,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = demo_extract_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stations, homes = stations_from_osm(path, tags=TAGS), homes_from_osm(path)
    assert len(stations) >= len(PAYLOADS)
    cats = [PAYLOADS[i % len(PAYLOADS)] for i in range(len(stations))]
    stations = stations.assign(category=cats, name=cats)
    circle = analyze_circles(
        helsinki_network,
        stations,
        homes,
        config=AnalysisConfig(walk_minutes=5.0),
        category_minutes={PAYLOADS[0]: 4.0, PAYLOADS[2]: 6.0},
    )
    assert [c.name for c in circle.categories] == list(PAYLOADS)
    out = tmp_path / "out"
    write_outputs(circle.result, out, circle=circle, language=language)  # type: ignore[arg-type]
    assert not (tmp_path / "MARKER").exists(), "a shell command from a category name ran"
    for name in ("map.html", "report.html"):
        page = (out / name).read_text("utf-8")
        assert "<script>alert(1)</script>" not in page
        assert "<img src=x" not in page
        assert "uid=" not in page
    page = (out / "map.html").read_text("utf-8")
    for payload in PAYLOADS[:5]:
        assert payload not in page  # braces only as character references in the map
    names = overlay_names(page)
    for payload, minutes in zip(PAYLOADS, ["4", "5", "6", "5", "5", "5", "5", "5"], strict=True):
        if language == "en":
            expected = f"{payload}: stations, area and homes within {minutes} min"
        else:
            expected = f"{payload}：服务站、{minutes} 分钟内范围与住宅"
        assert names.count(expected) == 1, expected
    # The category legend holds each name as escaped HTML, read back as written.
    legends = [json.loads(s) for s in re.findall(r"div\.innerHTML = (\".*?\");", page)]
    assert len(legends) == 2
    texts = [html.unescape(re.sub(r"<[^>]+>", "\n", legend)) for legend in legends]
    (text_of_legend,) = [t for t in texts if "Station categories" in t or "服务站类别" in t]
    for payload in PAYLOADS:
        assert payload in text_of_legend
    assert "49" not in text_of_legend
