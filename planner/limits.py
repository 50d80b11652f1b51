"""Limits on input files, stated up front: sizes, rows, columns, stations and homes.

A planner reads files that people make by hand or export from other systems, and the app
reads files that anyone uploads. Each limit below has a default that keeps city-scale data
working (millions of homes, thousands of stations) and refuses files that would exhaust the
machine (a zip holding gigabytes, a table of ten thousand columns), with a message saying
which limit was passed and how to raise it, before the work starts.

Raise a limit with ``InputLimits(max_rows=20_000_000)`` in Python or
``--limit max_rows=20000000`` on the command line.

=========================== ============== =================================================
Limit                       Default        What it bounds
=========================== ============== =================================================
``max_file_mb``             500            size of a table file (CSV, Excel, GIS) on disk
``max_network_file_mb``     4000           size of a street-network file (PBF, OSM, GraphML)
``max_decompressed_mb``     2000           content of a ``.zip``, ``.gz`` or ``.bz2`` file
``max_compression_ratio``   100            content / compressed size of an archive holding
                                           more than 1 MB (zip bombs reach 400 and more)
``max_rows``                5,000,000      data rows of a table
``max_columns``             1000           columns of a table
``max_stations``            100,000        stations per run (one city had 2,751)
``max_homes``               5,000,000      homes or demand points per run
``max_population_per_point`` 10,000,000    head count of one demand point
``max_capacity_per_station`` 10,000,000    capacity of one station (people)
=========================== ============== =================================================
"""

from __future__ import annotations

import bz2
import gzip
import math
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Protocol

from planner.errors import InputDataError, Term
from planner.texts import text, word

#: How many row numbers a message lists before it only counts the rest.
ROWS_SHOWN = 20
_MB = 1_000_000
_CHUNK = 1 << 20
#: Archives whose content is at most this many bytes are not checked for their ratio.
_RATIO_FLOOR_BYTES = 1 * _MB


class InputLimitError(InputDataError):
    """An input is larger than a limit of :class:`InputLimits` (file size, rows, ...)."""


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Limits on what a run reads; see the module's table for what each one bounds.

    Parameters
    ----------
    max_file_mb
        Largest table file on disk (CSV, Excel, GeoJSON, GeoPackage, ...), megabytes.
    max_network_file_mb
        Largest street-network file on disk (``.osm.pbf``, ``.osm``, ``.graphml``),
        megabytes.
    max_decompressed_mb
        Largest content of a compressed file (``.zip``, ``.gz``, ``.bz2``), megabytes,
        measured by streaming without holding it in memory.
    max_compression_ratio
        Largest ratio of content to compressed size of an archive that holds more than
        1 MB; ordinary tables and shapefiles compress 3 to 20 times, zip bombs hundreds.
    max_rows
        Most data rows in one table.
    max_columns
        Most columns in one table.
    max_stations
        Most stations in one run.
    max_homes
        Most homes or demand points in one run (after areas are given to homes).
    max_population_per_point
        Largest head count of one demand point (people).
    max_capacity_per_station
        Largest capacity of one station (people).
    """

    max_file_mb: float = 500.0
    max_network_file_mb: float = 4000.0
    max_decompressed_mb: float = 2000.0
    max_compression_ratio: float = 100.0
    max_rows: int = 5_000_000
    max_columns: int = 1000
    max_stations: int = 100_000
    max_homes: int = 5_000_000
    max_population_per_point: float = 1e7
    max_capacity_per_station: float = 1e7

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                msg = f"InputLimits: {f.name} must be a number, got {value!r}."
                raise InputDataError(msg)
            if not (math.isfinite(value) and value > 0):
                msg = f"InputLimits: {f.name} must be a positive number, got {value!r}."
                raise InputDataError(msg)
            if f.type == "int" and value != int(value):
                msg = f"InputLimits: {f.name} must be a whole number, got {value!r}."
                raise InputDataError(msg)


#: The limits used when none are given.
DEFAULT_LIMITS = InputLimits()


def limit_names() -> tuple[str, ...]:
    """The names of the limits, in the order of :class:`InputLimits`."""
    return tuple(f.name for f in fields(InputLimits))


def parse_limits(items: Iterable[str], base: InputLimits | None = None) -> InputLimits:
    """Limits from ``NAME=VALUE`` texts (the ``--limit`` option), over ``base``.

    Parameters
    ----------
    items
        E.g. ``["max_rows=20000000", "max_file_mb=2000"]``; ``_`` in numbers is allowed.
    base
        The limits to change; :data:`DEFAULT_LIMITS` when None.

    Raises
    ------
    InputDataError
        For an unknown name or a value that is not a positive number.
    """
    names = limit_names()
    types = {f.name: f.type for f in fields(InputLimits)}
    changes: dict[str, float | int] = {}
    for item in items:
        name, sep, text = (part.strip() for part in item.partition("="))
        name = name.replace("-", "_")
        if not sep or name not in names:
            msg = (
                f"--limit {item!r}: expected NAME=VALUE with NAME one of {', '.join(names)}; "
                "e.g. --limit max_rows=20000000."
            )
            raise InputDataError(msg)
        try:
            value = float(text.replace("_", "").replace(",", ""))
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            msg = f"--limit {item!r}: the value must be a positive number."
            raise InputDataError(msg)
        changes[name] = int(value) if types[name] == "int" and value == int(value) else value
    return replace(base or DEFAULT_LIMITS, **changes)  # type: ignore[arg-type]


def how_to_raise(name: str, value: float) -> str:
    """The sentence saying how to raise limit ``name`` above ``value``."""
    term = how_to_raise_term(name, value)
    return text("how_to_raise", "en", **dict(term.values))


def how_to_raise_term(name: str, value: float) -> Term:
    """:func:`how_to_raise` as a catalogue term, shown in an error's language."""
    shown = f"{int(value)}" if float(value).is_integer() else f"{value:g}"
    return Term("how_to_raise", (("name", name), ("shown", shown)))


def describe_rows(rows: Iterable[object], *, shown: int = ROWS_SHOWN) -> str:
    """``"rows [2, 3, 7]"``, or ``"rows [2, 3, ...] (and 9,199,980 more)"``: at most ``shown``.

    Every message that lists rows uses this, so that no message grows with the file.

    Parameters
    ----------
    rows
        Row numbers (or other labels) in the order to show them.
    shown
        How many to list; the rest are only counted.
    """
    items = rows if isinstance(rows, list | tuple) else list(rows)
    more = len(items) - shown
    head = ", ".join(str(r) for r in items[:shown])
    if more > 0:
        return f"rows [{head}, ...] (and {more:,} more)"
    return f"rows [{head}]"


def check_file_size(
    path: str | Path, size_bytes: int, *, limit_mb: float, what: str, name: str = "max_file_mb"
) -> None:
    """Raise :class:`InputLimitError` when a file is larger than ``limit_mb`` megabytes.

    Parameters
    ----------
    path
        The file as the user named it.
    size_bytes
        Its size in bytes.
    limit_mb
        The limit, megabytes.
    what
        What the file holds, for the message (``"station"``, ``"table"``).
    name
        The :class:`InputLimits` field of the limit, for the message.
    """
    if size_bytes > limit_mb * _MB:
        raise InputLimitError(
            key="err_file_too_large",
            file=str(path),
            size_mb=size_bytes / _MB,
            what=word(what),
            limit_mb=limit_mb,
            how=how_to_raise_term(name, limit_mb),
        )


def check_network_file(path: Path, limits: InputLimits, *, what: str = "street network") -> None:
    """Refuse a network file too large to read, before it is read.

    Its size against ``max_network_file_mb``, and a compressed file's content against the
    decompression limits (:func:`check_compressed`).
    """
    check_file_size(
        path,
        path.stat().st_size,
        limit_mb=limits.max_network_file_mb,
        what=what,
        name="max_network_file_mb",
    )
    check_compressed(path, limits)


def check_count(source: object, count: int, *, limit: int, what: str, name: str) -> None:
    """Raise :class:`InputLimitError` when ``count`` items exceed ``limit``.

    Parameters
    ----------
    source
        The file (or run) the items come from.
    count
        How many there are (or a lower bound: the count when reading stopped).
    limit
        The limit.
    what
        What is counted, plural (``"rows"``, ``"columns"``, ``"stations"``).
    name
        The :class:`InputLimits` field of the limit.
    """
    if count > limit:
        raise InputLimitError(
            key="err_too_many",
            source=str(source),
            limit=limit,
            what=word(what),
            how=how_to_raise_term(name, limit),
        )


def check_compressed(path: str | Path, limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Refuse a ``.zip``, ``.gz`` or ``.bz2`` file whose content is too large.

    The content is measured by streaming decompression in 1 MB chunks, stopping as soon
    as it passes the limit, so a zip bomb costs at most the limit's worth of work and no
    memory; a zip's declared sizes are checked first (and not trusted alone).

    Parameters
    ----------
    path
        The file; other file types are left alone.
    limits
        ``max_decompressed_mb`` and ``max_compression_ratio`` apply.

    Raises
    ------
    InputLimitError
        Naming the file, its size, the content size reached and how to raise the limit.
    InputDataError
        For a damaged archive.
    """
    p = Path(path)
    name = p.name.lower()
    if not name.endswith((".zip", ".gz", ".bz2")):
        return
    packed = p.stat().st_size
    cap = _content_cap(packed, limits)
    try:
        if name.endswith(".zip"):
            total = _zip_content(p, cap)
        else:
            opener = gzip.open if name.endswith(".gz") else bz2.open
            with opener(p, "rb") as stream:
                total = _stream_length(stream, cap)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        msg = f"{p}: a damaged compressed file ({type(err).__name__}: {err}). Make it again."
        raise InputDataError(msg) from err
    if total > cap:
        _refuse_content(p, packed, total, limits)


def _content_cap(packed: int, limits: InputLimits) -> int:
    by_ratio = max(packed * limits.max_compression_ratio, _RATIO_FLOOR_BYTES)
    return int(min(limits.max_decompressed_mb * _MB, by_ratio))


def _refuse_content(p: Path, packed: int, total: int, limits: InputLimits) -> None:
    absolute = limits.max_decompressed_mb * _MB
    if total > absolute:
        reason = f"the limit is {limits.max_decompressed_mb:g} MB"
        raise_name, value = "max_decompressed_mb", limits.max_decompressed_mb
    else:
        reason = (
            f"more than {limits.max_compression_ratio:g} times its compressed size, as in a "
            "zip bomb"
        )
        raise_name, value = "max_compression_ratio", limits.max_compression_ratio
    msg = (
        f"{p}: the compressed file ({packed / _MB:.1f} MB) holds more than "
        f"{total / _MB:,.1f} MB ({reason}); refused before reading it. "
        f"{how_to_raise(raise_name, value)}"
    )
    raise InputLimitError(msg)


def _zip_content(p: Path, cap: int) -> int:
    with zipfile.ZipFile(p) as archive:
        infos = archive.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > cap:
            return declared
        total = 0
        for info in infos:
            with archive.open(info) as member:
                total += _stream_length(member, cap - total)
            if total > cap:
                break
        return total


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _stream_length(stream: _Readable, cap: int) -> int:
    """Bytes read from ``stream``, stopping once past ``cap``."""
    total = 0
    for chunk in _chunks(stream):
        total += len(chunk)
        if total > cap:
            break
    return total


def _chunks(stream: _Readable) -> Iterator[bytes]:
    while chunk := stream.read(_CHUNK):
        yield chunk
