"""Tests of limits: the limits themselves, parsing them, archives, row lists."""

from __future__ import annotations

import bz2
import gzip
import zipfile
from pathlib import Path

import pytest

from planner.errors import InputDataError
from planner.limits import (
    DEFAULT_LIMITS,
    InputLimitError,
    InputLimits,
    check_compressed,
    check_count,
    check_file_size,
    describe_rows,
    limit_names,
    parse_limits,
)


def test_defaults_keep_city_data_and_refuse_bombs() -> None:
    lim = InputLimits()
    assert lim.max_rows >= 2_000_000  # a city's demand points
    assert lim.max_stations >= 2_751  # the seed city's stations
    assert lim.max_columns < 10_000
    assert lim.max_population_per_point == 1e7
    assert lim.max_decompressed_mb * 1e6 > 200e6  # a real 200 MB table zipped is fine ...
    assert 0.5 * lim.max_compression_ratio < 200  # ... but not from a 0.5 MB zip


def test_parse_limits() -> None:
    lim = parse_limits(["max_rows=20_000_000", "max-file-mb = 1500", "max_columns=1e4"])
    assert lim.max_rows == 20_000_000
    assert isinstance(lim.max_rows, int)
    assert lim.max_file_mb == 1500
    assert lim.max_columns == 10_000
    assert lim.max_homes == DEFAULT_LIMITS.max_homes
    assert parse_limits([]) == DEFAULT_LIMITS
    with pytest.raises(InputDataError, match=r"--limit 'max_bananas=3': expected NAME=VALUE"):
        parse_limits(["max_bananas=3"])
    with pytest.raises(InputDataError, match="positive number"):
        parse_limits(["max_rows=-1"])
    with pytest.raises(InputDataError, match="positive number"):
        parse_limits(["max_rows=inf"])
    with pytest.raises(InputDataError, match="whole number"):
        InputLimits(max_rows=2.5)  # type: ignore[arg-type]
    assert "max_decompressed_mb" in limit_names()


def test_describe_rows_lists_at_most_twenty() -> None:
    assert describe_rows([3]) == "rows [3]"
    assert describe_rows(range(1, 4)) == "rows [1, 2, 3]"
    text = describe_rows(range(1, 9_200_001))
    assert text == (
        "rows [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, ...] "
        "(and 9,199,980 more)"
    )


def test_counts_and_sizes() -> None:
    check_count("f.csv", 10, limit=10, what="rows", name="max_rows")
    with pytest.raises(InputLimitError, match=r"f\.csv: more than 10 rows .*--limit max_rows="):
        check_count("f.csv", 11, limit=10, what="rows", name="max_rows")
    check_file_size("f.csv", 1_000_000, limit_mb=1, what="table")
    with pytest.raises(
        InputLimitError, match=r"f\.csv is 1\.5 MB; table files are limited to 1 MB"
    ):
        check_file_size("f.csv", 1_500_000, limit_mb=1, what="table")


def _zip_bomb(path: Path, size_mb: int) -> Path:
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z,
        z.open("big.csv", "w") as member,
    ):
        member.write(b"lon,lat\n")
        block = b"0,0\n" * 250_000  # 1 MB
        for _ in range(size_mb):
            member.write(block)
    return path


def test_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    bomb = _zip_bomb(tmp_path / "bomb.zip", 200)
    assert bomb.stat().st_size < 500_000
    with pytest.raises(InputLimitError, match=r"bomb\.zip: the compressed file .*zip bomb") as info:
        check_compressed(bomb)
    assert "--limit max_compression_ratio=" in str(info.value)
    # Raised limits let it through.
    check_compressed(bomb, InputLimits(max_compression_ratio=1e6))
    with pytest.raises(InputLimitError, match="the limit is 100 MB"):
        check_compressed(bomb, InputLimits(max_compression_ratio=1e6, max_decompressed_mb=100))


def test_zip_that_lies_about_its_size_is_measured(tmp_path: Path) -> None:
    bomb = _zip_bomb(tmp_path / "liar.zip", 20)
    data = bytearray(bomb.read_bytes())
    # Declare 1 KB in the central directory (uncompressed size field at offset 24).
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (1000).to_bytes(4, "little")
    liar = tmp_path / "liar2.zip"
    liar.write_bytes(bytes(data))
    # Reading stops at the declared size, so the lie shows as a damaged member: refused.
    with pytest.raises(InputDataError, match=r"liar2\.zip: a damaged compressed file"):
        check_compressed(liar, InputLimits(max_decompressed_mb=5, max_compression_ratio=1e6))


@pytest.mark.parametrize("suffix", [".osm.gz", ".osm.bz2"])
def test_gz_and_bz2_are_measured(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"x{suffix}"
    opener = gzip.open if suffix.endswith(".gz") else bz2.open
    with opener(path, "wb") as f:
        f.write(b"<osm>" + b" " * 5_000_000 + b"</osm>")
    with pytest.raises(InputLimitError, match=rf"x{suffix}: the compressed file"):
        check_compressed(path)
    check_compressed(path, InputLimits(max_compression_ratio=1e6))
    damaged = tmp_path / f"bad{suffix}"
    damaged.write_bytes(path.read_bytes()[:30])
    with pytest.raises(InputDataError, match=rf"bad{suffix}: a damaged compressed file"):
        check_compressed(damaged, InputLimits(max_compression_ratio=1e6))


def test_small_archives_and_other_files_pass(tmp_path: Path) -> None:
    small = _zip_bomb(tmp_path / "small.zip", 0)
    check_compressed(small)
    other = tmp_path / "t.csv"
    other.write_text("lon,lat\n", "utf-8")
    check_compressed(other)
