"""Hostile input: a catalogue of bad and malicious station tables, through the CLI and the app.

Each case is a station file (and options) a real user or an attacker could hand the planner.
Every case runs twice: through ``planner analyze`` (in-process, on a small real network, the
Kotka extract that ships with pyrosm saved as GraphML) and through the app's upload path
(:func:`planner.app.uploads.stations_from_upload`). For each we check:

- the exit code (0 when the file loads, possibly with rejected rows; 1 when it is refused);
- no traceback, and the message names the file (and the row or column where there is one);
- no row is lost: input rows = stations written + rows rejected;
- text is data: no template, format string or formula from a cell is evaluated, and the
  outputs hold the text as it was (CSV cells that start a formula get a leading ``'``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import osmnx as ox
import pandas as pd
import pyrosm
import pytest

from planner.app.plan import build_plan
from planner.app.projects import new_project, open_project
from planner.app.store import AreaRef
from planner.app.store_sql import ProjectStore
from planner.app.study_area import StudyArea
from planner.app.uploads import stations_from_upload
from planner.app.workspace import keep_scenario, start_workspace
from planner.cli import main
from planner.errors import PlannerError
from planner.sources.osm import homes_from_osm
from planner.sources.streets import graph_from_file
from tests.helpers import grid_stations

#: Three real places on Kotka's streets (lon, lat).
SITES = ((26.9450, 60.5280), (26.9550, 60.5300), (26.9380, 60.5240))
HEADER = "id,name,category,lon,lat"

#: Template payloads: Jinja evaluation, a shell command, syntax breakers, format strings.
TEMPLATE_PAYLOADS = (
    "{{ 7*7 }}",
    "{{ lipsum.__globals__.os.popen('touch MARKER').read() }}",
    "Community room {#12}",
    "Discount {% 50",
    "{% raw %}x{% endraw %}",
    "}}{{",
    "{0} {name!r} {__class__}",
    "%s %(x)s %n",
)
#: HTML and JavaScript payloads.
HTML_PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</textarea><svg onload=alert(1)>",
    "<planner-pending 0 0>",  # like the markers of the map's polygon parts (report/deferred.py)
)
#: Cells that a spreadsheet would run as a formula.
FORMULA_PAYLOADS = (
    '=HYPERLINK("http://example.invalid","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
)


@dataclass(frozen=True)
class Case:
    """One hostile station file and what the planner must do with it."""

    name: str
    content: bytes
    suffix: str = ".csv"
    options: tuple[str, ...] = ()
    #: Exit code of ``planner analyze``.
    code: int | None = 0
    #: Regular expressions the printed output must match (file name is always checked).
    says: tuple[str, ...] = ()
    #: Data rows in the file (for the row count); None when not a simple table.
    rows: int | None = None
    #: Stations expected to load, when the run succeeds.
    loaded: int | None = None
    #: Text cells that must come back unchanged in stations.csv (column, value).
    keeps: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    #: Whether the app's upload path must refuse the file as a whole.
    app_refuses: bool | None = None


def _csv(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def _row(i: int, name: str = "", category: str = "c", sid: str | None = None) -> str:
    lon, lat = SITES[i % len(SITES)]
    cells = [sid if sid is not None else f"s{i}", name, category, f"{lon}", f"{lat}"]
    return ",".join(_quote(c) for c in cells)


def _quote(cell: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([cell])  # quotes CR and LF as Excel does
    return buf.getvalue()[:-2]


def _text_cases() -> list[Case]:
    cases = []
    payloads = TEMPLATE_PAYLOADS + HTML_PAYLOADS
    for column in ("id", "name", "category"):
        for k, payload in enumerate(payloads):
            rows = []
            for i in range(3):
                cell = f"{payload} {i}"
                kw = {"sid": cell} if column == "id" else {column: cell}
                rows.append(_row(i, **kw))
            cases.append(
                Case(
                    f"{column}-payload-{k}",
                    _csv(*rows),
                    rows=3,
                    loaded=3,
                    keeps=tuple((column, f"{payload} {i}") for i in range(3)),
                )
            )
    return cases


def _formula_cases() -> list[Case]:
    cases = []
    for k, payload in enumerate(FORMULA_PAYLOADS):
        rows = [_row(0, name=payload), _row(1, category=payload), _row(2, sid=payload)]
        cases.append(
            Case(
                f"formula-{k}",
                _csv(*rows),
                rows=3,
                loaded=3,
                keeps=(("name", payload), ("category", payload), ("id", payload)),
            )
        )
    # Tab and carriage return at the start of a cell, and a real negative number.
    cases.append(
        Case(
            "formula-tab-cr",
            _csv(_row(0, name="\tx"), _row(1, name="\rcmd")),
            rows=2,
            loaded=2,
            keeps=(("name", "\tx"), ("name", "\rcmd")),
        )
    )
    return cases


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        body = HEADER + "\n" + (_row(0) + "\n") * 4_000_000
        zf.writestr("stations.csv", body)
    return buf.getvalue()


def _odd_cases() -> list[Case]:
    ok = [_row(0), _row(1), _row(2)]
    gbk_rows = "编号,名称,经度,纬度\n站一,社区服务站,26.945,60.528\n站二,零工市场,26.955,60.53\n"
    return [
        Case(
            "duplicate-header-after-trim",
            _csv(*ok, header="id,name,category,lon, lon,lat"),
            code=1,
            says=(r"lon",),
            app_refuses=True,
        ),
        Case(
            "duplicate-header",
            _csv(*ok, header="id,id,category,lon,lat"),
            code=1,
            says=(r"'id'",),
            app_refuses=True,
        ),
        Case("empty-header-name", _csv(*ok, header="id,,category,lon,lat"), rows=3, loaded=3),
        Case(
            "header-only",
            _csv(),
            code=1,
            says=(r"no (data )?rows|empty|no station",),
            app_refuses=True,
        ),
        Case(
            "empty-file", b"", code=1, says=(r"empty|no (data )?rows|no columns",), app_refuses=True
        ),
        Case(
            "no-coordinate-columns",
            _csv("a,b,c", header="id,name,category"),
            code=1,
            says=(r"lon|longitude|经度",),
            app_refuses=True,
        ),
        Case("upper-case-header", _csv(*ok, header="ID,NAME,CATEGORY,LON,LAT"), rows=3, loaded=3),
        Case(
            "spaces-in-header",
            _csv(*ok, header=" id , name , category , lon , lat "),
            rows=3,
            loaded=3,
        ),
        Case(
            "decimal-comma-row",
            _csv(_row(0), "s9,Luckan,c,26.9365,60,52", _row(1)),
            rows=3,
            loaded=2,
            says=(r"row 2\b.*6 fields.*header has 5",),
        ),
        Case(
            "short-row",
            _csv(_row(0), "s9,Luckan,c,26.9365", _row(1)),
            rows=3,
            loaded=2,
            says=(r"row 2\b.*4 fields.*header has 5",),
        ),
        Case(
            "semicolon-decimal-comma",
            b"id;name;category;lon;lat\ns1;A;c;26,945;60,528\ns2;B;c;26,955;60,53\n",
            options=("--decimal", ","),
            rows=2,
            loaded=2,
        ),
        Case("bom-utf8", b"\xef\xbb\xbf" + _csv(*ok), rows=3, loaded=3),
        Case(
            "bom-then-gbk",
            b"\xef\xbb\xbf" + gbk_rows.encode("gbk"),
            code=None,  # loads with the right ids, or is refused
            says=(r"站一|encoding",),
        ),
        Case(
            "gbk",
            gbk_rows.encode("gbk"),
            rows=2,
            loaded=2,
            keeps=(("id", "站一"), ("name", "零工市场")),
        ),
        Case("utf16", _csv(*ok, encoding="utf-16"), rows=3, loaded=3),
        Case(
            "latin1-undeclared",
            _csv(_row(0, name="Café Ålesund"), encoding="latin-1"),
            code=1,
            says=(r"--encoding",),
            app_refuses=True,
        ),
        Case(
            "latin1-declared",
            _csv(_row(0, name="Café Ålesund"), encoding="latin-1"),
            options=("--encoding", "latin-1"),
            rows=1,
            loaded=1,
            keeps=(("name", "Café Ålesund"),),
        ),
        Case(
            "null-bytes",
            _csv(_row(0), "s1,\x00\x00,c,26.955,60.53"),
            rows=2,
            loaded=1,
            says=(r"row 2.*NUL character",),
        ),
        Case("binary-garbage", bytes(range(256)) * 40, code=1, says=(r"\.csv",), app_refuses=True),
        Case(
            "unbalanced-quote",
            _csv(_row(0), 's1,"open quote,c,26.955,60.53', _row(2)),
            code=None,
            says=(r"row|quote",),
        ),
        Case(
            "huge-cell",
            _csv(_row(0, name="x" * 1_000_000), _row(1)),
            code=1,
            says=(r"line 2: .*field larger than field limit",),
            app_refuses=True,
        ),
        Case("all-empty-row", _csv(_row(0), ",,,,", _row(1)), rows=3, loaded=2, says=(r"row 2",)),
        Case(
            "lon-1e308",
            _csv(_row(0), "s1,x,c,1e308,60.53"),
            rows=2,
            loaded=1,
            says=(r"row 2.*lon",),
        ),
        Case("lat-nan", _csv(_row(0), "s1,x,c,26.95,nan"), rows=2, loaded=1, says=(r"row 2.*lat",)),
        Case("lon-inf", _csv(_row(0), "s1,x,c,inf,60.53"), rows=2, loaded=1, says=(r"row 2.*lon",)),
        Case(
            "swapped-lon-lat",
            _csv("s9,x,c,60.528,26.945", _row(1)),
            code=None,
            says=(r"row 1|swap|outside",),
        ),
        Case(
            "capacity-1e308",
            _csv(
                "s1,x,c,26.945,60.528,1e308", "s2,y,c,26.955,60.53,5", header=HEADER + ",capacity"
            ),
            rows=2,
            loaded=1,
            says=(r"row 1.*capacity",),
        ),
        Case(
            "duplicate-ids",
            _csv(_row(0, sid="x"), _row(1, sid="x")),
            code=1,
            says=(r"duplicate ids.*'x'",),
            app_refuses=True,
        ),
        Case(
            "column-named-row",
            _csv("s1,x,c,26.945,60.528,7", header=HEADER + ",row"),
            rows=1,
            loaded=1,
            says=(r"\brow\b",),
        ),
        Case(
            "column-named-geometry",
            _csv("s1,x,c,26.945,60.528,g", header=HEADER + ",geometry"),
            rows=1,
            loaded=1,
            says=(r"'geometry' is kept as 'input_geometry'",),
            keeps=(("input_geometry", "g"),),
        ),
        Case(
            "column-named-ours",
            _csv(
                "s1,x,c,26.945,60.528,1,2,3", header=HEADER + ",snap_m,on_network,population_served"
            ),
            rows=1,
            loaded=1,
            says=(r"snap_m|on_network|population_served",),
        ),
        Case(
            "ten-thousand-columns",
            _csv(_row(0) + "," * 9_995, header=HEADER + "".join(f",c{i}" for i in range(9_995))),
            code=1,
            says=(r"columns",),
            app_refuses=True,
        ),
        Case(
            "zip-bomb",
            _zip_bomb(),
            suffix=".zip",
            code=1,
            says=(r"(decompress|unpack|uncompress|MB)",),
            app_refuses=True,
        ),
        Case(
            "many-rows-over-limit",
            _csv(*([_row(0)] * 50)),
            options=("--limit", "max_rows=10"),
            code=1,
            says=(r"50|rows",),
        ),
        Case(
            "wrong-extension",
            _csv(*ok),
            suffix=".docx",
            code=1,
            says=(r"\.docx",),
            app_refuses=True,
        ),
        Case(
            "xlsx-disguised", _csv(*ok), suffix=".xlsx", code=1, says=(r"\.xlsx",), app_refuses=True
        ),
        Case(
            "geojson-garbage",
            b'{"type": "FeatureCollection", "features": [{]}',
            suffix=".geojson",
            code=1,
            says=(r"\.geojson",),
            app_refuses=True,
        ),
    ]


CASES = _text_cases() + _formula_cases() + _odd_cases()


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def kotka(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small real network (GraphML) and its homes (CSV of points with population)."""
    folder = tmp_path_factory.mktemp("kotka")
    path = pyrosm.get_data("test_pbf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = graph_from_file(path)
        homes = homes_from_osm(path)
    network = folder / "kotka.graphml"
    ox.save_graphml(graph, network)
    pts = homes.to_crs(4326)
    table = pd.DataFrame(
        {
            "id": [f"h{i}" for i in range(len(pts))],
            "lon": pts.geometry.x.round(7),
            "lat": pts.geometry.y.round(7),
            "population": pts["population"].round(1),
        }
    )
    table = table[table["population"] > 0].head(300)
    demand = folder / "homes.csv"
    table.to_csv(demand, index=False)
    return network, demand


def run(argv: list[str]) -> tuple[int, str]:
    """``planner`` in-process: exit code and everything printed (stdout and stderr)."""
    out = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
    ):
        warnings.simplefilter("default")
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue()


def _check_no_code_ran(folder: Path, marker: Path) -> None:
    assert not marker.exists(), "a shell command from a cell ran"
    for name in ("map.html", "report.html"):
        page = (folder / name).read_text("utf-8")
        assert "uid=" not in page


# ------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_station_file_through_the_cli(
    case: Case, kotka: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    network, demand = kotka
    monkeypatch.chdir(tmp_path)  # where a payload's `touch MARKER` would land
    marker = tmp_path / "MARKER"
    stations = tmp_path / f"stations{case.suffix}"
    stations.write_bytes(case.content)
    out = tmp_path / "out"
    if "--decimal" in case.options:  # both tables are read with the decimal comma
        european = tmp_path / "homes-eu.csv"
        table = pd.read_csv(demand, dtype=str)
        table.apply(lambda c: c.str.replace(".", ",", regex=False)).to_csv(
            european, sep=";", index=False
        )
        demand = european
    argv = ["analyze", "--network", str(network), "--demand", str(demand)]
    argv += ["--stations", str(stations), *case.options, "--out", str(out)]
    code, printed = run(argv)
    assert "Traceback" not in printed
    assert not marker.exists()
    if case.code is not None:
        assert code == case.code, printed[-3000:]
    else:
        assert code in (0, 1), printed[-3000:]
    for pattern in case.says:
        assert re.search(pattern, printed, re.IGNORECASE | re.DOTALL), (pattern, printed[-3000:])
    assert len(printed) < 20_000, "messages list at most 20 rows"
    if code != 0:
        assert "planner: error" in printed
        assert stations.name in printed
        assert not out.exists(), "a refused run leaves no output folder"
        return
    _check_no_code_ran(out, marker)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    written = pd.read_csv(out / "stations.csv", dtype=str, keep_default_na=False)
    rejected = summary.get("rejected_rows", {}).get("stations", 0)
    if case.rows is not None:
        assert len(written) + rejected == case.rows
    if case.loaded is not None:
        assert len(written) == case.loaded
    for column, value in case.keeps:
        shown = _as_written(value)
        assert shown in set(written[column]), (column, value, written[column].tolist())


def _as_written(value: str) -> str:
    """A text cell as our CSVs write it: a leading quote before a formula-like start."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_station_file_through_the_app_upload(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    filename = f"upload{case.suffix}"
    if {"--decimal", "--limit", "--encoding"} & set(case.options):
        pytest.skip("a command-line option; the app has its own setting")
    refused: PlannerError | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are the CLI test's business
            loaded = stations_from_upload(filename, case.content)
    except PlannerError as err:
        refused = err
    if refused is not None:
        assert filename in str(refused)
        assert case.app_refuses in (True, None) or case.code != 0, str(refused)
        return
    assert case.app_refuses is not True, "the app accepted a file the CLI refuses"
    rejected = loaded.rejected["row"].nunique() if len(loaded.rejected) else 0
    if case.rows is not None:
        assert len(loaded.data) + rejected == case.rows
    if case.loaded is not None:
        assert len(loaded.data) == case.loaded
    for column, value in case.keeps:
        assert value in set(loaded.data[column].astype(str))
    assert not (tmp_path / "MARKER").exists()


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


#: Category names used as column suffixes and CLI values (no commas: --require splits them).
CATEGORY_PAYLOADS = (
    "{{ 7*7 }}",
    "{{ lipsum.__globals__.os.popen('touch MARKER').read() }}",
    "<script>alert(1)</script>",
    "=1+1",
    "@SUM(1+1)",
    "a/b",
    "就业 服务站",
)


def test_hostile_category_names_in_columns_report_and_options(
    kotka: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Category names are data: safe column suffixes, escaped in the report, never run."""
    network, demand = kotka
    monkeypatch.chdir(tmp_path)
    rows = [_row(i, category=c) for i, c in enumerate(CATEGORY_PAYLOADS)]
    stations = tmp_path / "stations.csv"
    stations.write_bytes(_csv(*rows))
    out = tmp_path / "out"
    first, second = CATEGORY_PAYLOADS[0], CATEGORY_PAYLOADS[3]
    argv = ["analyze", "--network", str(network), "--demand", str(demand)]
    argv += ["--stations", str(stations), "--out", str(out), "--profile", "adult,elderly"]
    argv += ["--category-minutes", f"{first}=10,{second}=20", "--require", f"{first},{second}"]
    code, printed = run(argv)
    assert code == 0, printed[-3000:]
    assert "Traceback" not in printed
    _check_no_code_ran(out, tmp_path / "MARKER")
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert list(summary["categories"]) == list(CATEGORY_PAYLOADS)
    assert summary["categories"][second]["minutes"] == 20.0
    assert summary["require"] == [first, second]
    columns = pd.read_csv(out / "demand.csv", nrows=0).columns
    made = [c for c in columns if c.startswith(("walk_min_", "covered_"))]
    assert len(made) == 2 * len(CATEGORY_PAYLOADS)
    assert all(re.fullmatch(r"\w+", c) for c in made), made
    assert "complete" in columns
    page = (out / "report.html").read_text("utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page or "{{ 7*7 }}".replace("{", "&#123;") in page


def test_hostile_group_and_category_options_are_refused_clearly(
    kotka: tuple[Path, Path], tmp_path: Path
) -> None:
    network, demand = kotka
    stations = tmp_path / "stations.csv"
    stations.write_bytes(_csv(_row(0, category="a"), _row(1, category="b")))
    base = ["analyze", "--network", str(network), "--demand", str(demand)]
    base += ["--stations", str(stations)]
    for options, says in (
        (["--groups", "=cmd|' /C calc'!A0"], r"no column \"=cmd"),
        (["--category-minutes", "a=ten"], "not category=minutes"),
        (["--category-minutes", "{{ 7*7 }}=5"], r"'\{\{ 7\*7 \}\}', which no station has"),
        (["--require", "<b>c</b>"], "which no station has"),
        (["--profile", "{{ 7*7 }}"], "Unknown walking profile"),
    ):
        out = tmp_path / f"out{len(options[1])}"
        code, printed = run([*base, *options, "--out", str(out)])
        assert code == 1, printed[-2000:]
        assert "Traceback" not in printed
        assert re.search(says, printed), (says, printed[-2000:])
        assert not out.exists()


def test_hostile_text_round_trips_through_the_project_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grid_area: StudyArea
) -> None:
    """Station, scenario, project and area names are data in the project store too.

    SQLite here; ``tests/app/test_store.py`` runs the same round trip on PostGIS.
    """
    monkeypatch.chdir(tmp_path)  # where a payload's `touch MARKER` would land
    payloads = TEMPLATE_PAYLOADS + HTML_PAYLOADS + FORMULA_PAYLOADS + ("'; DROP TABLE x; --",)
    where = grid_stations().geometry.iloc[0]
    stations = gpd.GeoDataFrame(
        {
            "id": [f"{p} {k}" for k, p in enumerate(payloads)],
            "name": list(payloads),
            "category": list(reversed(payloads)),
        },
        geometry=[where] * len(payloads),
        crs="EPSG:4326",
    )
    ws = start_workspace(build_plan(grid_area, stations))
    for p in payloads[:5]:
        ws = keep_scenario(ws, p)
    store = ProjectStore.sqlite(tmp_path / "projects.sqlite")
    area = AreaRef(kind="demo", label=payloads[1])
    link = new_project(store, ws, area, name=payloads[0])
    [listed] = store.list_projects()
    assert (listed.name, listed.area_label) == (payloads[0], payloads[1])
    _, back = open_project(store, link.info.project_id, area_for=lambda _: grid_area)
    for column in ("id", "name", "category"):
        assert back.plan.stations[column].tolist() == stations[column].tolist()
    assert back.scenario_names == ["baseline", *payloads[:5]]
    assert not (tmp_path / "MARKER").exists()
