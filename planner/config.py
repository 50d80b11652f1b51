"""Analysis settings, carried explicitly in one frozen object.

There are no module-level settings: every Streamlit session shares one process, so each
analysis receives its :class:`AnalysisConfig` as an argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from planner.errors import InputDataError

DEFAULT_BAND_MINUTES: tuple[float, ...] = (5.0, 10.0, 15.0)


@dataclass(frozen=True, slots=True)
class AnalysisConfig:
    """Parameters of a coverage analysis.

    Parameters
    ----------
    walk_minutes
        The service-circle standard: a home is covered when a station is within this many
        minutes' walk on the street network.
    speed_kmh
        Walking speed in km/h (4.5 km/h, 75 m per minute, is a common planning value for
        adults; use about 3.6 for older people).
    max_snap_m
        A station or home farther than this from every street (straight line, metres) is
        reported as off-network instead of being moved onto a distant street.
    band_minutes
        Upper bounds of the isochrone bands in minutes. Bands above ``walk_minutes`` are
        dropped and ``walk_minutes`` is always the last band.
    isochrone_buffer_m
        Half-width in metres of the strip drawn around each reached street when isochrone
        polygons are built.
    gap_link_m
        Unserved homes closer to each other than this (metres) form one gap zone.
    max_isochrone_stations
        Per-station (overlapping) isochrones are built for at most this many stations; for
        more, only the one-pass coverage area is built and the station layer is left empty.
    """

    walk_minutes: float = 15.0
    speed_kmh: float = 4.5
    max_snap_m: float = 300.0
    band_minutes: tuple[float, ...] = field(default=DEFAULT_BAND_MINUTES)
    isochrone_buffer_m: float = 40.0
    gap_link_m: float = 150.0
    max_isochrone_stations: int = 200

    def __post_init__(self) -> None:
        positive = {
            "walk_minutes": self.walk_minutes,
            "speed_kmh": self.speed_kmh,
            "max_snap_m": self.max_snap_m,
            "isochrone_buffer_m": self.isochrone_buffer_m,
            "gap_link_m": self.gap_link_m,
        }
        for name, value in positive.items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                msg = f"AnalysisConfig: {name} must be a positive number, got {value!r}."
                raise InputDataError(msg)
        if any(not (math.isfinite(b) and b > 0) for b in self.band_minutes):
            msg = (
                f"AnalysisConfig: band_minutes must be positive numbers, got {self.band_minutes!r}."
            )
            raise InputDataError(msg)
        if self.max_isochrone_stations < 0:
            msg = "AnalysisConfig: max_isochrone_stations must be 0 or more."
            raise InputDataError(msg)

    @property
    def metres_per_minute(self) -> float:
        """Walking speed in metres per minute."""
        return self.speed_kmh * 1000.0 / 60.0

    @property
    def walk_limit_m(self) -> float:
        """The service-circle limit as a walking distance in metres."""
        return self.walk_minutes * self.metres_per_minute

    @property
    def bands(self) -> tuple[float, ...]:
        """Band upper bounds in minutes, ascending, ending at ``walk_minutes``."""
        below = {float(b) for b in self.band_minutes if b < self.walk_minutes}
        return (*sorted(below), float(self.walk_minutes))
