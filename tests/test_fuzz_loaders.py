"""Property-based fuzzing of every table loader with random tables of random unicode text.

Whatever the table holds, a loader either returns the rows it accepted plus every row it
rejected (so that no row is lost), or raises one of the planner's own errors naming the file.
Never another exception, never a silently dropped row.
"""

from __future__ import annotations

import csv
import io
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.app.uploads import demand_from_upload, stations_from_upload
from planner.errors import PlannerError
from planner.sources.areas import districts_from_file
from planner.sources.demand import demand_from_file
from planner.sources.sites import candidates_from_file, stations_from_file
from planner.sources.tables import Loaded

T = TypeVar("T")

#: Column names a loader looks for, mixed with random ones.
KNOWN = ("id", "name", "category", "capacity", "lon", "lat", "population", "经度", "纬度", "x")
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

cell_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e308", "-0", "=1+1", "{{ 7*7 }}", "{#"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-180, max_value=180).map(lambda v: f"{v:.6f}"),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header and rows of random cells; rows may have the wrong number of fields."""
    width = draw(st.integers(min_value=1, max_value=6))
    header = draw(
        st.lists(
            st.one_of(st.sampled_from(KNOWN), st.text(min_size=1, max_size=8)),
            min_size=width,
            max_size=width,
        )
    )
    n_rows = draw(st.integers(min_value=0, max_value=8))
    rows = []
    for _ in range(n_rows):
        n = draw(st.sampled_from([width, width, width, width - 1, width + 1]))
        rows.append(draw(st.lists(cell_text, min_size=max(n, 1), max_size=max(n, 1))))
    return header, rows


def _csv_bytes(header: list[str], rows: list[list[str]], encoding: str, sep: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding, errors="replace")


def _attempt(load: Callable[..., T], *args: object) -> tuple[T | None, str]:
    """The loader's result, or None and the message of the planner error it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are allowed: crashes are not
            return load(*args), ""
    except PlannerError as err:
        return None, str(err)


def _check(load: Callable[[Path], Loaded], path: Path, n_rows: int) -> None:
    loaded, message = _attempt(load, path)
    if loaded is None:
        assert path.name in message, message
        assert len(message) < 5_000, "messages list at most 20 rows"
        return
    rejected = loaded.rejected["row"].nunique() if len(loaded.rejected) else 0
    assert len(loaded.data) + rejected <= n_rows
    # Rows not accepted are rejected by number (blank lines excepted: they hold no data).
    assert set(loaded.data.index).isdisjoint(set(loaded.rejected["row"]))


LOADERS: dict[str, Callable[[Path], Loaded]] = {
    "stations": stations_from_file,
    "candidates": candidates_from_file,
    "demand": demand_from_file,
}


@pytest.mark.parametrize("kind", sorted(LOADERS))
@SETTINGS
@given(
    table=tables(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "latin-1", "utf-16"]),
    sep=st.sampled_from([",", ";", "\t"]),
)
def test_random_tables_never_crash_a_loader(
    kind: str, table: tuple[list[str], list[list[str]]], encoding: str, sep: str
) -> None:
    header, rows = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.csv"
        path.write_bytes(_csv_bytes(header, rows, encoding, sep))
        _check(LOADERS[kind], path, len(rows))


@SETTINGS
@given(table=tables(), sep=st.sampled_from([",", ";"]))
def test_random_tables_never_crash_the_app_uploads(
    table: tuple[list[str], list[list[str]]], sep: str
) -> None:
    header, rows = table
    data = _csv_bytes(header, rows, "utf-8", sep)
    for upload in (stations_from_upload, demand_from_upload):
        loaded, message = _attempt(upload, "upload.csv", data)
        if loaded is None:
            assert "upload.csv" in message
            continue
        rejected = loaded.rejected["row"].nunique() if len(loaded.rejected) else 0
        assert len(loaded.data) + rejected <= len(rows)


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".geojson", ".xlsx"]))
def test_random_bytes_are_refused_with_the_file_named(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"stations{suffix}"
        path.write_bytes(data)
        loaded, message = _attempt(stations_from_file, path)
        assert loaded is not None or path.name in message


@SETTINGS
@given(
    names=st.lists(
        # GDAL stores text as C strings: a NUL cannot be written to the file at all.
        st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=20),
        min_size=1,
        max_size=4,
    )
)
def test_random_district_names_never_crash(names: list[str]) -> None:
    import geopandas as gpd
    import shapely

    polys = [
        shapely.box(24.93 + 0.005 * i, 60.16, 24.935 + 0.005 * i, 60.17) for i in range(len(names))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "districts.geojson"
        gpd.GeoDataFrame({"name": names}, geometry=polys, crs=4326).to_file(path, engine="pyogrio")
        districts, message = _attempt(districts_from_file, path)
        if districts is None:
            assert path.name in message
            return
        assert len(districts) == len(names)
        assert sorted(districts["name"].astype(str)) == sorted(n.strip() for n in names)


@SETTINGS
@given(
    values=st.lists(cell_text, min_size=3, max_size=3),
    column=st.text(
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1, max_size=8
    ),
    walkable=st.one_of(st.none(), st.text(max_size=30), cell_text.map(lambda v: f"c in ({v})")),
    suffix=st.sampled_from([".geojson", ".gpkg"]),
)
def test_random_road_attributes_never_crash_the_road_loader(
    values: list[str], column: str, walkable: str | None, suffix: str
) -> None:
    import geopandas as gpd
    import shapely

    from planner.sources.road_files import RoadOptions
    from planner.sources.road_layers import road_tables_from_file

    lines = [shapely.LineString([(500_000 + 100 * i, 3_000_000), (500_100 + 100 * i, 3e6)])
             for i in range(3)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"roads{suffix}"
        try:
            frame = gpd.GeoDataFrame({column: values, "c": values}, geometry=lines, crs=4547)
            frame.to_file(path, engine="pyogrio")
        except Exception:  # a name GDAL cannot store is not a file anyone can hand us
            return
        result, message = _attempt(
            lambda p: road_tables_from_file(p, options=RoadOptions(walkable=walkable)), path
        )
        if result is None:
            assert path.name in message or "--walkable" in message, message
            return
        tables, report = result
        assert report.lines_read == 3
        assert len(tables.edge_u) + report.dropped_not_walkable == 3


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".geojson", ".gpkg", ".zip", ".dxf"]))
def test_random_bytes_as_a_road_layer_are_refused_with_the_file_named(
    data: bytes, suffix: str
) -> None:
    from planner.sources.road_files import RoadOptions
    from planner.sources.road_layers import road_tables_from_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"roads{suffix}"
        path.write_bytes(data)
        result, message = _attempt(
            lambda p: road_tables_from_file(p, options=RoadOptions(crs="EPSG:4547")), path
        )
        assert result is None
        assert path.name in message, message


def _reference_number(cell: object, low: float, high: float, *, zero: bool) -> float | None:
    """A road layer cell by a plain reading: NaN empty, None when not in range."""
    if cell is None or (isinstance(cell, float) and cell != cell) or str(cell).strip() == "":
        return float("nan")
    try:
        number = float(str(cell).strip())
    except ValueError:
        return None
    above = number >= low if zero else number > low
    return number if above and number <= high else None


@SETTINGS
@given(
    cells=st.lists(
        st.one_of(cell_text, st.none(), st.floats(allow_nan=True), st.integers(-5, 120)),
        min_size=1,
        max_size=8,
    ),
    kind=st.sampled_from(["speed", "factor"]),
)
def test_random_speed_cells_are_read_or_named_by_row(cells: list[object], kind: str) -> None:
    import math

    import numpy as np
    import pandas as pd

    from planner.sources.road_mapping import SpeedRule, line_factors, line_speeds

    frame = pd.DataFrame({"速度": pd.Series(cells, dtype=object)})
    if kind == "speed":
        rule, read = SpeedRule("速度"), line_speeds
        expected = [_reference_number(c, 0.0, 20.0, zero=True) for c in cells]
    else:
        rule, read = SpeedRule(None, factor="速度"), line_factors
        expected = [_reference_number(c, 0.0, 100.0, zero=False) for c in cells]
    bad = [i for i, e in enumerate(expected) if e is None]
    checked = np.ones(len(cells), dtype=bool)
    if bad:
        with pytest.raises(PlannerError) as err:
            read(frame, rule, "roads.gpkg", checked=checked)
        assert f"holds {len(bad)} value(s)" in str(err.value)
        assert f"row {bad[0] + 1}: {cells[bad[0]]!r}" in str(err.value)
        return
    numbers = read(frame, rule, "roads.gpkg", checked=checked)
    for got, want in zip(numbers, expected, strict=True):
        assert want is not None
        assert (math.isnan(got) and math.isnan(want)) or got == want
