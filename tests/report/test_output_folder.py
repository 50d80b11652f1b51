"""Tests of report.output_folder: no silent overwrite, all files or none, the user's kept."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from helpers import (
    REJECTED,
    RUN_CONFIG,
    folder_bytes,
    grid_homes,
    grid_stations,
    leftovers,
    read_summary,
)

from planner.errors import InputFileNotFoundError, OutputExistsError
from planner.report import export, forked_report
from planner.report.export import write_outputs
from planner.report.output_folder import is_planner_output
from planner.report.saved_run import check_complete
from planner.walk.coverage import CoverageResult, analyze_coverage
from planner.walk.network import WalkNetwork


def test_existing_output_is_not_overwritten(
    written: Path, result: CoverageResult, network: WalkNetwork
) -> None:
    before = folder_bytes(written)
    with pytest.raises(OutputExistsError, match="--overwrite") as info:
        write_outputs(result, written, streets=network.edges)
    assert isinstance(info.value, FileExistsError)
    assert str(written) in str(info.value)
    assert folder_bytes(written) == before

    longer = analyze_coverage(
        network,
        grid_stations(),
        grid_homes(),
        config=dataclasses.replace(RUN_CONFIG, walk_minutes=2.5),
    )
    write_outputs(longer, written, overwrite=True)
    summary = read_summary(written)
    assert summary["minutes"] == 2.5
    assert summary["share_covered"] == 1.0
    assert summary["gap_zones"] == 0
    assert len(gpd.read_file(written / "coverage.gpkg", layer="gaps")) == 0


def test_a_users_file_stops_the_write_before_anything_is_written(
    tmp_path: Path, result: CoverageResult
) -> None:
    (tmp_path / "map.html").write_text("my own map", "utf-8")
    with pytest.raises(OutputExistsError, match=r"map\.html"):
        write_outputs(result, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
    assert (tmp_path / "map.html").read_text("utf-8") == "my own map"
    # A rejected-rows file of the same name also counts.
    other = tmp_path / "other"
    other.mkdir()
    (other / "rejected_stations.csv").write_text("mine", "utf-8")
    with pytest.raises(OutputExistsError, match=r"rejected_stations\.csv"):
        write_outputs(result, other, rejected={"stations": REJECTED})
    assert (other / "rejected_stations.csv").read_text("utf-8") == "mine"


def test_is_planner_output(tmp_path: Path, written: Path) -> None:
    assert is_planner_output(written)
    assert not is_planner_output(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_planner_output(empty)
    for name, text in {
        "broken": "{not json",
        "other": json.dumps({"generator": "someone-else", "share_covered": 1}),
        "list": "[1, 2]",
    }.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "summary.json").write_text(text, "utf-8")
        assert not is_planner_output(folder), name


# ---------------------------------------------------------------------- atomic outputs


def _fail(*args: object, **kwargs: object) -> None:
    raise RuntimeError("disk full (simulated)")


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failing_write_leaves_no_folder_and_no_temporary_files(
    tmp_path: Path, result: CoverageResult, monkeypatch: pytest.MonkeyPatch, error: type
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error("halfway")

    monkeypatch.setattr(export, "pending_map", fail)  # after the GeoPackage and CSVs
    with pytest.raises(error):
        write_outputs(result, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_a_failing_overwrite_keeps_the_old_folder_untouched(
    written: Path, result: CoverageResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = folder_bytes(written)
    monkeypatch.setattr(forked_report, "finish_report", _fail)  # the last file but the summary
    with pytest.raises(RuntimeError, match="simulated"):
        write_outputs(result, written, overwrite=True)
    assert folder_bytes(written) == before
    assert leftovers(written.parent) == []
    check_complete(written)


def test_overwrite_replaces_the_run_and_keeps_the_users_own_files(
    written: Path, network: WalkNetwork
) -> None:
    (written / "my notes.txt").write_text("mine", "utf-8")
    (written / "report.pdf").write_bytes(b"%PDF old run")
    longer = analyze_coverage(
        network,
        grid_stations(),
        grid_homes(),
        config=dataclasses.replace(RUN_CONFIG, walk_minutes=2.5),
    )
    paths = write_outputs(longer, written, overwrite=True, report=False)
    names = sorted(p.name for p in written.iterdir())
    assert names == [
        "coverage.gpkg",
        "demand.csv",
        "gaps.csv",
        "manifest.json",
        "map.html",
        "my notes.txt",  # the user's
        "stations.csv",
        "summary.json",
    ]  # the earlier run's rejected rows, report and PDF are gone with it
    assert (written / "my notes.txt").read_text("utf-8") == "mine"
    assert read_summary(written)["minutes"] == 2.5
    assert paths.folder == written
    assert leftovers(written.parent) == []
    manifest = check_complete(written)
    assert set(manifest["files"]) == set(names) - {"manifest.json", "my notes.txt"}


def test_an_existing_folder_of_the_users_gets_our_files_beside_theirs(
    tmp_path: Path, result: CoverageResult
) -> None:
    (tmp_path / "data.csv").write_text("x\n1\n", "utf-8")
    write_outputs(result, tmp_path, report=False)
    assert (tmp_path / "data.csv").read_text("utf-8") == "x\n1\n"
    assert (tmp_path / "manifest.json").exists()
    check_complete(tmp_path)
    # A user's file named like one of ours stops the write, the manifest included.
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text("my manifest", "utf-8")
    with pytest.raises(OutputExistsError, match=r"manifest\.json already exists"):
        write_outputs(result, other, report=False)
    assert (other / "manifest.json").read_text("utf-8") == "my manifest"


def test_a_file_is_never_replaced_by_the_output_folder(
    tmp_path: Path, result: CoverageResult
) -> None:
    target = tmp_path / "results"
    target.write_text("my file", "utf-8")
    for overwrite in (False, True):
        with pytest.raises(OutputExistsError, match="is a file, not a folder"):
            write_outputs(result, target, overwrite=overwrite)
    assert target.read_text("utf-8") == "my file"


KILLED_RUN = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import pandas as pd
from helpers import grid_homes, grid_stations, grid_streets
from planner.report import export
from planner.config import AnalysisConfig
from planner.walk.coverage import analyze_coverage
from planner.walk.network import build_walk_network

net = build_walk_network(grid_streets())
result = analyze_coverage(net, grid_stations(), grid_homes(), config=AnalysisConfig(speed_kmh=6))
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
export.pending_map = die
export.write_outputs(result, {out!r}, overwrite=True)
"""


def test_a_killed_run_never_leaves_a_folder_that_looks_finished(
    written: Path, tmp_path: Path
) -> None:
    before = folder_bytes(written)
    for target in (written, tmp_path / "new"):
        script = KILLED_RUN.format(tests=str(Path(__file__).parents[1]), out=str(target))
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, timeout=300, check=False
        )
        assert done.returncode == -signal.SIGKILL, done.stderr
    assert folder_bytes(written) == before  # the old run, whole
    assert not (tmp_path / "new").exists()
    check_complete(written)
    partial = leftovers(tmp_path)  # clearly named, beside their targets
    assert len(partial) == 2
    assert partial[0].startswith(".new.partial-")
    assert partial[1].startswith(".out.partial-")
    with pytest.raises(InputFileNotFoundError, match=r"did not finish: \.new\.partial-"):
        check_complete(tmp_path / "new")


def test_an_output_folder_behind_a_link_stays_linked(
    written: Path, tmp_path: Path, network: WalkNetwork
) -> None:
    (written / "notes.txt").write_text("mine", "utf-8")
    link = tmp_path / "link"
    link.symlink_to(written, target_is_directory=True)
    longer = analyze_coverage(
        network,
        grid_stations(),
        grid_homes(),
        config=dataclasses.replace(RUN_CONFIG, walk_minutes=2.5),
    )
    write_outputs(longer, link, overwrite=True, report=False)
    assert link.is_symlink()
    assert read_summary(written)["minutes"] == 2.5
    assert (written / "notes.txt").read_text("utf-8") == "mine"
    assert not (written / "rejected_stations.csv").exists()
    assert not (written / "report.html").exists()
    assert check_complete(link)["files"].keys() == check_complete(written)["files"].keys()
