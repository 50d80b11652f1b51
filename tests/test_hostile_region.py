"""Hostile study-area files for ``planner region``: names are data, never paths, markup or code.

The companion of ``tests/test_hostile.py`` (station tables) for the region's areas file. A
name becomes a folder under ``DIR/areas/``, a row of ``areas.csv``, a cell of the region
report and a tooltip of its map; a failure reason (which may quote a name) is shown too.
For each we check that the folder name is a plain ``NNN-letters`` name inside ``areas/``,
that the page and the map hold the name escaped and run no template, and that a CSV cell
that would start a formula gets its leading ``'``. The end-to-end run with hostile names on
a real cluster is in ``tests/pipeline/test_region.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputDataError
from planner.pipeline.region import areas_from_file, safe_folder_name
from planner.pipeline.region_task import AREA_FIGURES
from planner.report.region import region_report
from planner.report.spreadsheet import write_csv

MARKER = "HOSTILE_REGION_MARKER"
NAMES = [
    "../x",
    "..\\..\\windows",
    "/etc/passwd",
    "<script>alert(1)</script>",
    "{{ lipsum.__globals__.os.popen('touch " + MARKER + "').read() }}",
    "{% for x in range(3) %}loop{% endfor %}",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "CON",
    "x" * 300,
    "东城区\u202egpj.exe",
    ".hidden",
]


@pytest.fixture
def hostile_areas(tmp_path: Path) -> Path:
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(len(NAMES))]
    path = tmp_path / "areas.geojson"
    gpd.GeoDataFrame({"name": NAMES}, geometry=boxes, crs=4326).to_file(path)
    return path


def test_hostile_names_become_plain_numbered_folders(hostile_areas: Path) -> None:
    areas = areas_from_file(hostile_areas)
    assert areas["name"].tolist() == NAMES  # kept as given
    folders = areas["folder"].tolist()
    assert len(set(folders)) == len(folders)
    for i, folder in enumerate(folders):
        assert re.fullmatch(r"\d{3}(-[\w-]+)?", folder), folder
        assert folder.startswith(f"{i + 1:03d}")
        assert len(folder) <= 64
        assert (Path("areas") / folder).resolve().parent == Path("areas").resolve()


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, 998), name=st.text(max_size=200))
def test_any_name_gives_a_plain_folder_name(position: int, name: str) -> None:
    folder = safe_folder_name(position, name)
    assert re.fullmatch(r"\d{3}(-[\w-]{1,60})?", folder), folder
    assert folder.startswith(f"{position + 1:03d}")
    assert "/" not in folder
    assert "\\" not in folder
    assert ".." not in folder


def test_duplicate_area_names_are_refused_with_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "dup.geojson"
    gpd.GeoDataFrame(
        {"name": ["a", "b", "a"]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)],
        crs=4326,
    ).to_file(path)
    with pytest.raises(InputDataError, match=r"names must be unique.*'a' on rows \[1, 3\]"):
        areas_from_file(path)


def test_hostile_names_in_the_report_map_and_csv(
    hostile_areas: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    areas = areas_from_file(hostile_areas)
    n = len(areas)
    figures = {k: [1.0] * n for k in AREA_FIGURES}
    layer = gpd.GeoDataFrame(
        {
            "name": areas["name"],
            "folder": areas["folder"],
            "status": ["done"] * (n - 1) + ["failed"],
            "reason": [""] * (n - 1) + ["area '<img src=x onerror=alert(2)>': {{ 7*7 }}"],
            "seconds": [0.1] * n,
            **figures,
        },
        geometry=areas.geometry,
        crs=4326,
    )
    summary = {
        "minutes": 15,
        "speed_kmh": 4.5,
        "share_covered": 1.0,
        "population_total": float(n),
        "population_covered": float(n),
        "areas_total": n,
        "failed": [{"name": NAMES[-1], "reason": layer["reason"].iloc[-1]}],
        "gap_zones": 0,
        "population_in_gap_zones": 0.0,
        "homes_outside_areas": 0,
        "areas": [{"name": name} for name in NAMES],
    }
    gaps = gpd.GeoDataFrame(
        {"area": [NAMES[4]], "population": [5.0], "homes": [2]},
        geometry=[shapely.box(4.2, 0.2, 4.4, 0.4)],
        crs=4326,
    )
    page = region_report(layer, summary, gaps=gaps, language="zh")
    assert not (tmp_path / MARKER).exists()  # no template ran
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "looploop" not in page  # the {% for %} did not run
    assert ">49<" not in page
    for folder in areas["folder"]:
        link = f'href="areas/{quote(folder)}/report.html"'
        assert link in page or folder == areas["folder"].iloc[-1]  # the failed one: no link
    table = pd.DataFrame(layer.drop(columns="geometry"))
    write_csv(table, tmp_path / "areas.csv")
    back = pd.read_csv(tmp_path / "areas.csv", encoding="utf-8-sig", keep_default_na=False)
    assert back.loc[6, "name"] == "'=cmd|' /C calc'!A0"
    assert back.loc[7, "name"] == "'+SUM(1,2)"
    assert back.loc[0, "name"] == "../x"
