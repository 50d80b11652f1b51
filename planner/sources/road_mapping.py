"""Which lines of a road layer people may walk: the ``--walkable`` filter and a mapping file.

A mapping file is TOML, for layers whose classes need more than one ``--walkable`` line::

    [walkable]                 # keep lines of these classes (or: exclude = [...])
    column = "道路等级"
    classes = ["主干路", "次干路", "支路", "人行道", "台阶"]

    [no_pedestrians]           # drop lines flagged closed to people on foot
    column = "禁止行人"
    values = ["1", "是", "yes"]

Both tables are optional. Values are compared as text, stripped of spaces at the ends.
Every mistake (unknown key, wrong type, a column the layer lacks) is an error naming the
file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputDataError
from planner.sources.tableio import existing_file

_WALKABLE = re.compile(r"^\s*(?P<col>.+?)\s+(?P<neg>not\s+)?in\s*\((?P<vals>.*)\)\s*$", re.I)
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
    source: str = ""


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
    unknown = sorted(set(data) - {"walkable", "no_pedestrians"})
    if unknown:
        msg = (
            f"{p}: unknown key {unknown[0]!r}; a mapping file has [walkable] and [no_pedestrians]."
        )
        raise InputDataError(msg)
    walk = data.get("walkable")
    flag = data.get("no_pedestrians")
    return RoadMapping(
        walkable=None if walk is None else _walkable_rule(p, walk),
        no_pedestrians=None if flag is None else _flag_rule(p, flag),
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
