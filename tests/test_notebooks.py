"""The notebooks run from top to bottom (nbclient, a real kernel) and give sensible values.

They are committed without outputs; the kernel imports ``planner`` from this source tree.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def tagged(nb: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, tag
    return cells[0]


def result_text(cell: nbformat.NotebookNode) -> str:
    results = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert results, cell.source
    text: str = results[-1]["data"]["text/plain"]
    return text


def execute(name: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code), "strip outputs"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []
    return nb


def test_quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("quickstart.ipynb", tmp_path, monkeypatch)
    share = float(result_text(tagged(nb, "share")))
    assert 0.5 < share < 1.0
    assert share == pytest.approx(0.818, abs=0.001)  # the README's demo figure (81.8%)
    gaps = tagged(nb, "gaps").outputs[-1]["data"]["text/html"]
    assert "gap_id" in gaps
    assert "walk_min_nearest" in gaps
    report = tmp_path / "quickstart-report.html"
    assert report.stat().st_size > 100_000
    assert "Walking coverage of service stations" in report.read_text("utf-8")
    maps = [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert any("leaflet" in o["data"]["text/html"].lower() for o in maps)


def test_researcher_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("researcher_sweep.ipynb", tmp_path, monkeypatch)
    assert float(result_text(tagged(nb, "agreement"))) < 1e-9  # the loop and the curve agree
    table = tagged(nb, "sweep").outputs[-1]["data"]["text/plain"]
    shares = [float(v) for line in table.splitlines()[2:] for v in line.split()[1:]]
    assert len(shares) == 12
    assert all(0.0 <= v <= 1.0 for v in shares)
    minutes90 = result_text(tagged(nb, "minutes90")).splitlines()
    rows = [line.split() for line in minutes90 if re.fullmatch(r"[\d.]+\s+[\d.]+", line)]
    needed = {float(speed): float(limit) for speed, limit in rows}
    assert sorted(needed) == [3.6, 4.5, 5.4]
    assert needed[3.6] >= needed[4.5] >= needed[5.4]  # slower walkers need more minutes
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the coverage curve is drawn"


def test_siting_walkthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("siting_walkthrough.ipynb", tmp_path, monkeypatch)
    share_k1 = float(result_text(tagged(nb, "k1_share")))
    assert 0.818 < share_k1 <= 1.0  # one new station adds people to the demo's 81.8%
    assert int(result_text(tagged(nb, "cover_sites"))) >= 1
    assert float(result_text(tagged(nb, "after_share"))) == pytest.approx(share_k1, abs=1e-3)
    report = tmp_path / "siting-report.html"
    assert report.stat().st_size > 100_000


def test_region_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("region_sweep.ipynb", tmp_path, monkeypatch)
    pivot = result_text(tagged(nb, "pivot")).splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in pivot[2:]}
    assert sorted(rows) == ["north-east", "north-west", "south-east", "south-west"]
    for half, today in rows.values():  # columns in name order: half, today
        assert 0.0 <= float(half) <= float(today) <= 1.0  # fewer stations never cover more
    totals = result_text(tagged(nb, "totals")).splitlines()
    pairs = [line.split()[-2:] for line in totals if re.search(r"\d\.\d+\s+[\d.]+$", line)]
    values = [float(v) for pair in pairs for v in pair]
    assert len(values) == 12  # 3 limits x 2 speeds x 2 plans
    assert all(0.0 <= v <= 1.0 for v in values)
