"""Tests of report.saved_run: a folder read back, and what an incomplete one lacks."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from helpers import read_summary

from planner.errors import IncompleteOutputError, InputFileNotFoundError
from planner.report.output_folder import LAYERS
from planner.report.saved_run import read_outputs
from planner.walk.coverage import CoverageResult


def test_outputs_read_back_into_the_same_result(written: Path, result: CoverageResult) -> None:
    saved = read_outputs(written)
    assert saved.summary == read_summary(written)
    assert saved.result.config.bands == result.config.bands
    assert saved.result.config.walk_limit_m == pytest.approx(result.config.walk_limit_m)
    again = saved.result.summary()
    for key, value in result.summary().items():
        if key == "network":
            continue
        if isinstance(value, float):
            assert again[key] == pytest.approx(value, nan_ok=True), key
        else:
            assert again[key] == value, key
    assert saved.result.demand["covered"].dtype == bool
    assert saved.result.stations["id"].tolist() == ["A", "B"]
    with pytest.raises(InputFileNotFoundError, match=r"no summary\.json written by the planner"):
        read_outputs(written / "missing")


# ---------------------------------------------------------------- completeness on read


def test_read_outputs_names_what_is_missing(written: Path) -> None:
    (written / "gaps.csv").unlink()
    (written / "map.html").write_text("", "utf-8")
    with pytest.raises(IncompleteOutputError, match=r"gaps\.csv is missing; map\.html is empty"):
        read_outputs(written)
    (written / "manifest.json").unlink()
    with pytest.raises(IncompleteOutputError, match=r"manifest\.json is missing"):
        read_outputs(written)


def test_read_outputs_names_a_missing_geopackage_layer(written: Path) -> None:
    gpkg = written / "coverage.gpkg"
    layers = {n: gpd.read_file(gpkg, layer=n) for n in LAYERS if n != "gaps"}
    gpkg.unlink()
    for name, layer in layers.items():
        layer.to_file(gpkg, layer=name, driver="GPKG")
    with pytest.raises(IncompleteOutputError, match=r"coverage\.gpkg has no layer 'gaps'"):
        read_outputs(written)
    with pytest.raises(IncompleteOutputError, match=r"coverage\.gpkg has no layer 'gaps'"):
        read_outputs(gpkg)  # the GeoPackage itself names its folder
    manifest = json.loads((written / "manifest.json").read_text("utf-8"))
    manifest["geopackage_layers"]["coverage.gpkg"].remove("gaps")
    (written / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IncompleteOutputError, match=r"coverage\.gpkg: layer\(s\) 'gaps' missing"):
        read_outputs(written)
