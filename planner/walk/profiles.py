"""Walking profiles: how fast a kind of walker goes, which ways they use and what they cost.

A :class:`WalkProfile` sets a walking speed and rules on the OSM tags that every street of
a :class:`~planner.walk.network.WalkNetwork` carries (``highway``, ``wheelchair``,
``incline``, ``kerb``, ``step_count``, ``surface``): ways a walker cannot use, ways that
take longer (a factor on the walking time) and ways with a fixed delay (seconds, e.g. a
kerb to get over). :func:`profile_network` turns a network into the network of a profile,
whose street lengths are *walking costs* in metres at the profile's speed, so that the
whole engine (snapping, searches, isochrones, coverage) runs on it unchanged with
``speed_kmh`` set to the profile's speed.

Built-in profiles (:data:`BUILTIN_PROFILES`): ``adult`` (4.5 km/h, every way as it is),
``elderly`` (3.5 km/h, steps allowed but taking twice as long) and ``wheelchair``
(3.6 km/h; no steps, no ``wheelchair=no``, no raised kerbs, nothing steeper than 8 %;
rolled kerbs add 10 s, unpaved surfaces take 1.5 times as long). Any other profile comes
from a TOML file (:func:`profile_from_file`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputDataError, InputFileNotFoundError
from planner.sources.street_tables import PROFILE_TAGS
from planner.walk.compile import _compile_csr
from planner.walk.line_speeds import line_speed_network
from planner.walk.network import WalkNetwork

#: Upper bound of a profile's walking speed (km/h): faster is running, or a typo.
MAX_SPEED_KMH = 20.0
#: Largest factor or delay a profile may set (a larger one is as good as forbidding).
MAX_FACTOR = 100.0
MAX_PENALTY_S = 3600.0
#: Unpaved surfaces (OSM ``surface=*``) that slow a wheelchair down.
UNPAVED = ("unpaved", "gravel", "fine_gravel", "dirt", "earth", "ground", "grass", "sand",
           "mud", "pebblestone", "woodchips")  # fmt: skip


@dataclass(frozen=True, slots=True)
class WalkProfile:
    """How one kind of walker moves through the street network.

    Parameters
    ----------
    name
        Name of the profile (``adult``, ``elderly``, ``wheelchair`` or a file's own).
    speed_kmh
        Walking speed on a level, unobstructed way, km/h.
    forbid
        Ways the walker cannot use, as ``"tag=value"`` (``"highway=steps"``) or
        ``"tag=*"`` (any value). A way matches when one of its values (a merged chain of
        ways may carry several, joined by ``;``) is the value.
    time_factor
        ``"tag=value"`` to a factor (at least 1) on the time to walk a matching way.
    penalty_s
        ``"tag=value"`` to seconds added to each walk along a matching way.
    max_incline_percent
        Ways whose ``incline`` is steeper than this (in percent, either way; degrees are
        converted) cannot be used; None allows any slope. ``up``/``down`` give no number
        and are allowed.
    """

    name: str
    speed_kmh: float
    forbid: tuple[str, ...] = ()
    time_factor: Mapping[str, float] = field(default_factory=dict)
    penalty_s: Mapping[str, float] = field(default_factory=dict)
    max_incline_percent: float | None = None

    def __post_init__(self) -> None:
        where = f"walking profile {self.name!r}"
        check_speed(self.speed_kmh, where=f"{where}: speed_kmh")
        for rule in (*self.forbid, *self.time_factor, *self.penalty_s):
            _split_rule(rule, where=where)
        for rule, value in self.time_factor.items():
            _check_number(value, 1.0, MAX_FACTOR, where=f"{where}: time_factor {rule!r}")
        for rule, value in self.penalty_s.items():
            _check_number(value, 0.0, MAX_PENALTY_S, where=f"{where}: penalty_s {rule!r}")
        if self.max_incline_percent is not None:
            _check_number(
                self.max_incline_percent, 0.0, 1000.0, where=f"{where}: max_incline_percent"
            )

    @property
    def is_plain(self) -> bool:
        """True when the profile changes no way (only the speed)."""
        rules = self.forbid or self.time_factor or self.penalty_s
        return not rules and self.max_incline_percent is None

    def describe(self) -> dict[str, Any]:
        """The profile as JSON-ready values (for ``summary.json``)."""
        return {
            "name": self.name,
            "speed_kmh": self.speed_kmh,
            "forbid": list(self.forbid),
            "time_factor": dict(self.time_factor),
            "penalty_s": dict(self.penalty_s),
            "max_incline_percent": self.max_incline_percent,
        }


def check_speed(value: object, *, where: str) -> None:
    """Raise :class:`InputDataError` unless ``value`` is a walking speed in (0, 20] km/h."""
    _check_number(value, 0.0, MAX_SPEED_KMH, where=where, above_low=True)


def walk_profile(spec: str | Path | WalkProfile) -> WalkProfile:
    """A profile by built-in name (``adult``, ``elderly``, ``wheelchair``) or TOML file.

    Raises
    ------
    InputDataError
        When ``spec`` is neither a built-in name nor a ``.toml`` file, or the file is
        invalid (the message names the file and the key).
    """
    if isinstance(spec, WalkProfile):
        return spec
    text = str(spec).strip()
    if text in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[text]
    if text.lower().endswith(".toml"):
        return profile_from_file(text)
    msg = (
        f"Unknown walking profile {text!r}: use one of {', '.join(BUILTIN_PROFILES)} "
        "or the path of a profile file ending in .toml."
    )
    raise InputDataError(msg)


def walk_profiles(specs: str | Sequence[str | Path | WalkProfile]) -> tuple[WalkProfile, ...]:
    """Profiles from a comma-separated text (``"adult,wheelchair"``) or a list.

    Raises
    ------
    InputDataError
        On an unknown name, an invalid file, an empty list or a name given twice.
    """
    items = [s for s in specs.split(",") if s.strip()] if isinstance(specs, str) else specs
    profiles = tuple(walk_profile(s) for s in items)
    if not profiles:
        raise InputDataError("No walking profile given: name at least one (e.g. adult).")
    names = [p.name for p in profiles]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        msg = f"Walking profile(s) {', '.join(map(repr, twice))} given twice: name each once."
        raise InputDataError(msg)
    return profiles


def profile_from_file(path: str | Path) -> WalkProfile:
    """Read a walking profile from a TOML file.

    The file holds ``speed_kmh`` (required), optional ``name`` (the file's stem by
    default), ``forbid`` (a list of ``"tag=value"``), ``max_incline_percent``, and tables
    ``[time_factor]`` and ``[penalty_s]`` mapping ``"tag=value"`` to a number::

        name = "pushchair"
        speed_kmh = 4.0
        forbid = ["highway=steps"]
        [penalty_s]
        "kerb=raised" = 15

    Raises
    ------
    InputFileNotFoundError
        When the file does not exist.
    InputDataError
        When it is not TOML or a key is unknown, missing or of the wrong kind; the message
        names the file and the key.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{p}: walking profile file not found. Check the path given to --profile."
        raise InputFileNotFoundError(msg)
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"{p}: not a valid TOML walking profile ({err}). See README, Walking profiles."
        raise InputDataError(msg) from err
    known = {"name", "speed_kmh", "forbid", "time_factor", "penalty_s", "max_incline_percent"}
    unknown = sorted(set(data) - known)
    if unknown:
        msg = (
            f"{p}: unknown key(s) {', '.join(map(repr, unknown))} in the walking profile; "
            f"the keys are {', '.join(sorted(known))}."
        )
        raise InputDataError(msg)
    if "speed_kmh" not in data:
        msg = f"{p}: the walking profile has no speed_kmh; add e.g. speed_kmh = 4.0."
        raise InputDataError(msg)
    name = data.get("name", p.stem.removesuffix(".profile"))
    forbid = data.get("forbid", [])
    if not isinstance(name, str) or not name.strip():
        raise InputDataError(f"{p}: name must be a non-empty text, got {name!r}.")
    if not isinstance(forbid, list) or not all(isinstance(r, str) for r in forbid):
        msg = f'{p}: forbid must be a list of "tag=value" texts, got {forbid!r}.'
        raise InputDataError(msg)
    tables = {}
    for key in ("time_factor", "penalty_s"):
        table = data.get(key, {})
        if not isinstance(table, dict):
            msg = f'{p}: {key} must be a table of "tag=value" = number, got {table!r}.'
            raise InputDataError(msg)
        tables[key] = table
    try:
        return WalkProfile(
            name=name.strip(),
            speed_kmh=data["speed_kmh"],
            forbid=tuple(forbid),
            time_factor=tables["time_factor"],
            penalty_s=tables["penalty_s"],
            max_incline_percent=data.get("max_incline_percent"),
        )
    except InputDataError as err:
        raise InputDataError(f"{p}: {err}") from err


def profile_network(network: WalkNetwork, profile: WalkProfile) -> WalkNetwork:
    """The network as ``profile`` walks it: lengths become walking costs in metres.

    Parameters
    ----------
    network
        The walking network; not modified.
    profile
        The walking profile.

    Returns
    -------
    WalkNetwork
        ``network`` itself when the profile changes no way and no street has a speed of
        its own; otherwise a network with the
        same nodes, without the forbidden streets (points never snap to them), whose
        ``length_m`` (and CSR weights) is the cost ``length_m * factor + penalty_s * v``
        with ``v`` the profile's speed in metres per second. Walk times on it are costs
        divided by the profile's speed; ``street_length_m`` keeps each street's length.

    Notes
    -----
    Of the rules on one tag, the largest matching factor (or delay) counts, so a merged
    chain ``surface=gravel;unpaved`` is slowed once; rules on different tags multiply
    (factors) or add up (delays). A way with any forbidden tag
    value, or steeper than ``max_incline_percent``, is removed; nodes left without a
    usable street are unreachable (homes near them snap to the nearest usable street).

    A road layer's own line speeds (:mod:`planner.walk.line_speeds`) are applied first:
    the profile's speed is the speed of lines without one, and the profile's factors
    multiply (and delays add to) the time at the line's own speed.
    """
    network = line_speed_network(network, speed_kmh=profile.speed_kmh)
    if profile.is_plain:
        return network
    edges = network.edges
    tags = {t: edges[t].astype(str).to_numpy() for t in PROFILE_TAGS if t in edges.columns}
    n = len(edges)
    allowed = np.ones(n, dtype=bool)
    for rule in profile.forbid:
        allowed &= ~_matches(tags, rule, n)
    if profile.max_incline_percent is not None and "incline" in tags:
        steep = _incline_percent(tags["incline"]) > profile.max_incline_percent + 1e-9
        allowed &= ~steep
    factor = np.ones(n)
    for per_tag in _by_tag(profile.time_factor).values():
        worst = np.ones(n)
        for rule, f in per_tag.items():
            worst = np.where(_matches(tags, rule, n), np.maximum(worst, float(f)), worst)
        factor *= worst
    delay_s = np.zeros(n)
    for per_tag in _by_tag(profile.penalty_s).values():
        worst = np.zeros(n)
        for rule, s in per_tag.items():
            worst = np.where(_matches(tags, rule, n), np.maximum(worst, float(s)), worst)
        delay_s += worst
    length = network.edge_length_m
    cost = length * factor + delay_s * profile.speed_kmh / 3.6
    kept = edges.loc[allowed].copy()
    street = edges["street_length_m"] if "street_length_m" in edges.columns else length
    kept["street_length_m"] = np.asarray(street, dtype=np.float64)[allowed]
    kept["length_m"] = cost[allowed]
    kept = kept.reset_index(drop=True)
    csr = _compile_csr(
        kept["u_idx"].to_numpy(dtype=np.int64),
        kept["v_idx"].to_numpy(dtype=np.int64),
        kept["length_m"].to_numpy(dtype=np.float64),
        network.n_nodes,
    )
    return replace(network, csr=csr, edges=kept)


# --------------------------------------------------------------------------- internals


def _split_rule(rule: object, *, where: str) -> tuple[str, str]:
    if not isinstance(rule, str) or rule.count("=") != 1:
        msg = f'{where}: rule {rule!r} must be "tag=value" (e.g. "highway=steps").'
        raise InputDataError(msg)
    tag, value = (s.strip() for s in rule.split("="))
    if tag not in PROFILE_TAGS or not value:
        msg = (
            f"{where}: rule {rule!r} names no known tag and value; the tags kept on "
            f"streets are {', '.join(PROFILE_TAGS)}."
        )
        raise InputDataError(msg)
    return tag, value


def _by_tag(rules: Mapping[str, float]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for rule, value in rules.items():
        out.setdefault(_split_rule(rule, where="rule")[0], {})[rule] = float(value)
    return out


def _check_number(
    value: object, low: float, high: float, *, where: str, above_low: bool = False
) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (value > low if above_low else value >= low) and value <= high:  # type: ignore[operator]
        return
    lower = f"more than {low:g}" if above_low else f"at least {low:g}"
    msg = f"{where} must be a number {lower} and at most {high:g}, got {value!r}."
    raise InputDataError(msg)


def _matches(tags: Mapping[str, npt.NDArray[Any]], rule: str, n: int) -> npt.NDArray[np.bool_]:
    tag, value = _split_rule(rule, where="rule")
    values = tags.get(tag)
    if values is None:
        return np.zeros(n, dtype=bool)
    uniq, inverse = np.unique(values, return_inverse=True)
    hit = np.array(
        [
            bool(u.strip()) if value == "*" else value in (p.strip() for p in u.split(";"))
            for u in uniq
        ],
        dtype=bool,
    )
    return hit[inverse] if len(uniq) else np.zeros(n, dtype=bool)


def _incline_percent(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Steepest slope in percent of each ``incline`` text (0 when it gives no number)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    steep = np.array([max((_one_incline(p) for p in u.split(";")), default=0.0) for u in uniq])
    return steep[inverse] if len(uniq) else np.zeros(len(values))


def _one_incline(text: str) -> float:
    t = text.strip().lower().replace(",", ".")
    degrees = t.endswith(("°", "deg"))
    t = t.rstrip("%°").removesuffix("deg").strip()
    number = pd.to_numeric(t, errors="coerce")
    if not np.isfinite(number):
        return 0.0
    slope = abs(float(number))
    return math.tan(math.radians(min(slope, 89.0))) * 100.0 if degrees else slope


#: The built-in profiles, by name. Sources of the speeds: README, "Walking profiles".
BUILTIN_PROFILES: dict[str, WalkProfile] = {
    "adult": WalkProfile("adult", 4.5),
    "elderly": WalkProfile("elderly", 3.5, time_factor={"highway=steps": 2.0}),
    "wheelchair": WalkProfile(
        "wheelchair",
        3.6,
        forbid=("highway=steps", "wheelchair=no", "kerb=raised"),
        time_factor={f"surface={s}": 1.5 for s in UNPAVED},
        penalty_s={"kerb=rolled": 10.0},
        max_incline_percent=8.0,
    ),
}
