"""Which lines of a road layer people may walk: the ``--walkable`` filter and a mapping file.

A mapping file is TOML, for layers whose classes need more than one ``--walkable`` line::

    [walkable]                 # keep lines of these classes (or: exclude = [...])
    column = "道路等级"
    classes = ["主干路", "次干路", "支路", "人行道", "台阶"]

    [no_pedestrians]           # drop lines flagged closed to people on foot
    column = "禁止行人"
    values = ["1", "是", "yes"]

    [speed]                    # walking speed of lines, km/h (others: the run's speed)
    column = "步行速度"          # a column of km/h numbers, or with classes below:
    # column = "道路等级"
    # classes = { "人行道" = 4.5, "台阶" = 2.0, "施工便道" = 0 }
    factor = "坡度系数"          # optional: a column of factors on the walking time

A line's speed replaces the run's walking speed on that line, and its factor multiplies
the time to walk it (see :mod:`planner.walk.line_speeds`); an empty cell, or a class not
listed, walks at the run's speed (factor 1); a speed of 0 closes the line to people on
foot (counted in the quality report); a cell that is not a speed from 0 to 20 km/h, or a
factor above 0 and at most 100, is an error naming its rows and values.

All tables are optional. Values are compared as text, stripped of spaces at the ends.
Every mistake (unknown key, wrong type, a column the layer lacks) is an error naming the
file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputDataError
from planner.sources.tableio import existing_file

_WALKABLE = re.compile(r"^\s*(?P<col>.+?)\s+(?P<neg>not\s+)?in\s*\((?P<vals>.*)\)\s*$", re.I)
#: Highest walking speed a line may have (km/h): faster is a vehicle's speed limit or a typo.
MAX_LINE_SPEED_KMH = 20.0
#: Largest factor on a line's walking time.
MAX_LINE_FACTOR = 100.0
#: A mapping file larger than this is not a mapping file.
_MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class ClassRule:
    """Keep the lines whose ``column`` is among ``values`` (``exclude``: is not)."""

    column: str
    values: frozenset[str]
    exclude: bool = False
    where: str = "--walkable"


@dataclass(frozen=True, slots=True)
class RoadMapping:
    """What a mapping file says: the walkable classes and the "no pedestrians" flag."""

    walkable: ClassRule | None = None
    no_pedestrians: ClassRule | None = None
    speed: SpeedRule | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class SpeedRule:
    """The walking speed of each line and a factor on its walking time.

    The km/h in ``column``, or by class of ``column`` (``classes``); the factor in the
    ``factor`` column. Either column may be None (not given).
    """

    column: str | None
    classes: tuple[tuple[str, float], ...] | None = None
    where: str = "[speed]"
    factor: str | None = None


def parse_walkable(expr: str) -> ClassRule:
    """The rule of ``--walkable "<column> [not] in (a, b, ...)"``."""
    m = _WALKABLE.match(expr)
    if m is None:
        msg = f'--walkable {expr!r}: write it as "<column> in (a, b)" or "<column> not in (a)".'
        raise InputDataError(msg)
    col = m["col"].strip().strip("\"'")
    values = frozenset(v.strip().strip("\"'") for v in m["vals"].split(",") if v.strip())
    return ClassRule(col, values, exclude=bool(m["neg"]), where="--walkable")


def road_mapping_from_file(path: str | Path) -> RoadMapping:
    """Read and check a TOML mapping file (see the module's description).

    Raises
    ------
    InputFileNotFoundError, InputDataError
        Naming the file and the key that is wrong, and what to write instead.
    """
    p = existing_file(path)
    if p.stat().st_size > _MAX_BYTES:
        msg = f"{p}: a mapping file of {p.stat().st_size:,} bytes is not a mapping file."
        raise InputDataError(msg)
    try:
        data = tomllib.loads(p.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        msg = f"{p}: not a readable TOML mapping file ({err}); save it as UTF-8 TOML."
        raise InputDataError(msg) from err
    unknown = sorted(set(data) - {"walkable", "no_pedestrians", "speed"})
    if unknown:
        msg = (
            f"{p}: unknown key {unknown[0]!r}; a mapping file has [walkable], "
            "[no_pedestrians] and [speed]."
        )
        raise InputDataError(msg)
    walk = data.get("walkable")
    flag = data.get("no_pedestrians")
    speed = data.get("speed")
    return RoadMapping(
        walkable=None if walk is None else _walkable_rule(p, walk),
        no_pedestrians=None if flag is None else _flag_rule(p, flag),
        speed=None if speed is None else _speed_rule(p, speed),
        source=str(p),
    )


def _table(p: Path, name: str, value: Any, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        msg = f"{p}: {name} must be a table ([{name}] with its keys below)."
        raise InputDataError(msg)
    unknown = sorted(set(value) - keys)
    if unknown:
        msg = f"{p}: [{name}] has an unknown key {unknown[0]!r}; its keys are {sorted(keys)}."
        raise InputDataError(msg)
    column = value.get("column")
    if not isinstance(column, str) or not column.strip():
        msg = f'{p}: [{name}] needs column = "<name of the layer\'s column>".'
        raise InputDataError(msg)
    return value


def _texts(p: Path, key: str, value: Any) -> frozenset[str]:
    ok = isinstance(value, list) and value and all(isinstance(v, str | int) for v in value)
    if not ok:
        msg = f'{p}: {key} must be a list of class names, e.g. {key.split(".")[-1]} = ["a", "b"].'
        raise InputDataError(msg)
    return frozenset(str(v).strip() for v in value)


def _walkable_rule(p: Path, value: Any) -> ClassRule:
    table = _table(p, "walkable", value, {"column", "classes", "exclude"})
    if ("classes" in table) == ("exclude" in table):
        msg = f"{p}: [walkable] needs either classes = [...] (kept) or exclude = [...] (dropped)."
        raise InputDataError(msg)
    key = "classes" if "classes" in table else "exclude"
    values = _texts(p, f"walkable.{key}", table[key])
    where = f"{p} [walkable]"
    return ClassRule(table["column"].strip(), values, exclude=key == "exclude", where=where)


def _flag_rule(p: Path, value: Any) -> ClassRule:
    table = _table(p, "no_pedestrians", value, {"column", "values"})
    raw = table.get("values", ["1", "yes", "true", "是"])
    values = _texts(p, "no_pedestrians.values", raw)
    return ClassRule(table["column"].strip(), values, exclude=True, where=f"{p} [no_pedestrians]")


def _speed_rule(p: Path, value: Any) -> SpeedRule:
    keys = {"column", "classes", "factor"}
    if not isinstance(value, dict):
        msg = f"{p}: speed must be a table ([speed] with its keys below)."
        raise InputDataError(msg)
    unknown = sorted(set(value) - keys)
    if unknown:
        msg = f"{p}: [speed] has an unknown key {unknown[0]!r}; its keys are {sorted(keys)}."
        raise InputDataError(msg)
    names = {}
    for key in ("column", "factor"):
        name = value.get(key)
        if name is not None and (not isinstance(name, str) or not name.strip()):
            example = "步行速度" if key == "column" else "坡度系数"
            msg = f'{p}: speed.{key} must be the name of a column, e.g. {key} = "{example}".'
            raise InputDataError(msg)
        names[key] = None if name is None else name.strip()
    if names["column"] is None and (names["factor"] is None or "classes" in value):
        msg = (
            f'{p}: [speed] needs column = "<name of the layer\'s column>" (km/h, or the '
            'class of each line with classes = {...}), or factor = "<column of time factors>".'
        )
        raise InputDataError(msg)
    where = f"{p} [speed]"
    if "classes" not in value:
        return SpeedRule(names["column"], None, where=where, factor=names["factor"])
    classes = value["classes"]
    if not isinstance(classes, dict) or not classes:
        msg = f'{p}: speed.classes must be a table of class = km/h, e.g. {{ "人行道" = 4.5 }}.'
        raise InputDataError(msg)
    pairs = []
    for name, kmh in classes.items():
        if _speed(kmh) is None:
            msg = (
                f"{p}: speed.classes {name!r} = {kmh!r}: give a walking speed in km/h from 0 "
                f"to {MAX_LINE_SPEED_KMH:g} (0: closed to people on foot)."
            )
            raise InputDataError(msg)
        pairs.append((str(name).strip(), float(kmh)))
    return SpeedRule(names["column"], tuple(sorted(pairs)), where=where, factor=names["factor"])


def _number(value: object) -> float | None:
    """``value`` as a finite number (text too: ``float`` also reads full-width digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float | np.number):
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _speed(value: object) -> float | None:
    """``value`` as km/h when it is a number from 0 to :data:`MAX_LINE_SPEED_KMH`, else None."""
    kmh = _number(value)
    return kmh if kmh is not None and 0.0 <= kmh <= MAX_LINE_SPEED_KMH else None


def _factor(value: object) -> float | None:
    """``value`` as a time factor when it is a number above 0, at most ``MAX_LINE_FACTOR``."""
    number = _number(value)
    return number if number is not None and 0.0 < number <= MAX_LINE_FACTOR else None


def _cells(frame: pd.DataFrame, column: str, where: str, source: object) -> npt.NDArray[Any]:
    if column not in frame.columns:
        known = ", ".join(str(c) for c in frame.columns if c != "geometry")
        msg = f"{source}: {where} names column {column!r}, which the layer lacks (it has {known})."
        raise InputDataError(msg)
    return frame[column].to_numpy(dtype=object)


def _numbers(
    cells: npt.NDArray[Any],
    checked: npt.NDArray[np.bool_],
    read: Callable[[object], float | None],
    complaint: str,
) -> npt.NDArray[np.float64]:
    """Each checked cell read as a number (NaN when empty); an error naming the bad ones."""
    out = np.full(len(cells), np.nan)
    bad: list[int] = []
    for i in np.flatnonzero(checked):
        cell = cells[i]
        if cell is None or (isinstance(cell, float | np.floating) and np.isnan(cell)):
            continue
        if isinstance(cell, str) and not cell.strip():
            continue
        number = read(cell)
        if number is None:
            bad.append(int(i))
        else:
            out[i] = number
    if bad:
        shown = "; ".join(f"row {i + 1}: {cells[i]!r}" for i in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise InputDataError(complaint.format(n=len(bad), shown=shown + more))
    return out


def line_speeds(
    frame: pd.DataFrame,
    rule: SpeedRule | None,
    source: object,
    *,
    checked: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64]:
    """The walking speed of each row in km/h (NaN: none of its own, the run's speed).

    Parameters
    ----------
    frame
        The road layer's rows.
    rule
        The mapping file's ``[speed]``; all NaN when None or without ``column``.
    source
        The layer's file, for messages.
    checked
        Rows whose value must be a speed (the walkable ones); others give NaN.

    Raises
    ------
    InputDataError
        When the layer lacks the column, or a checked row's cell is not empty and not a
        speed from 0 to 20 km/h: naming up to five rows (1-based, in the layer's order)
        and their values.
    """
    out = np.full(len(frame), np.nan)
    if rule is None or rule.column is None:
        return out
    cells = _cells(frame, rule.column, rule.where, source)
    if rule.classes is not None:
        by_class = dict(rule.classes)
        text = pd.Series(cells, dtype=object).astype(str).str.strip().to_numpy()
        found = np.array([by_class.get(t, np.nan) for t in text], dtype=float)
        out[checked] = found[checked]
        return out
    complaint = (
        f"{source}: column {rule.column!r} ({rule.where}) holds {{n}} value(s) that are not "
        f"a walking speed in km/h from 0 to {MAX_LINE_SPEED_KMH:g} ({{shown}}). Correct "
        "them, or empty the cells (those lines walk at the run's speed)."
    )
    return _numbers(cells, checked, _speed, complaint)


def line_factors(
    frame: pd.DataFrame,
    rule: SpeedRule | None,
    source: object,
    *,
    checked: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64]:
    """The factor on each row's walking time (NaN: none, as 1), from ``[speed] factor``.

    Raises
    ------
    InputDataError
        When the layer lacks the column, or a checked row's cell is not empty and not a
        number above 0 and at most 100: naming up to five rows and their values.
    """
    if rule is None or rule.factor is None:
        return np.full(len(frame), np.nan)
    cells = _cells(frame, rule.factor, rule.where, source)
    complaint = (
        f"{source}: column {rule.factor!r} ({rule.where} factor) holds {{n}} value(s) that "
        f"are not a time factor above 0 and at most {MAX_LINE_FACTOR:g} ({{shown}}). "
        "Correct them, or empty the cells (a factor of 1); close a line with a speed of 0."
    )
    return _numbers(cells, checked, _factor, complaint)


def rule_mask(frame: pd.DataFrame, rule: ClassRule | None, source: object) -> npt.NDArray[np.bool_]:
    """Rows the rule keeps (all rows when ``rule`` is None).

    Raises
    ------
    InputDataError
        When the layer lacks the rule's column: naming the rule, the layer and its columns.
    """
    if rule is None:
        return np.ones(len(frame), dtype=bool)
    if rule.column not in frame.columns:
        known = ", ".join(str(c) for c in frame.columns if c != "geometry")
        msg = (
            f"{source}: {rule.where} names column {rule.column!r}, which the layer lacks "
            f"(it has {known})."
        )
        raise InputDataError(msg)
    text = frame[rule.column].astype(str).str.strip()
    hit = text.isin(rule.values).to_numpy()
    return ~hit if rule.exclude else hit
