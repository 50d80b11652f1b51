"""One station's share of a plan: its row of the reach matrix and its isochrone bands.

Plans share these between them for every station an edit does not touch (and a project's
plans share them through a :data:`StationMemo`), so a station is searched once and its
polygons are built at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from planner.app.study_area import StudyArea
from planner.config import AnalysisConfig
from planner.walk.access import Snapped, single_station_distances
from planner.walk.coverage import AREA_POLYGON_OPTIONS
from planner.walk.isochrones import isochrone_polygons
from planner.walk.network import WalkNetwork
from planner.walk.reach import station_search

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Reach:
    """One station's row of the stations x homes reach matrix.

    Attributes
    ----------
    homes
        Positions of the homes within the walk limit, ascending.
    dist_m
        Their walk distances in metres.
    population
        People in those homes.
    """

    homes: IntArray
    dist_m: FloatArray
    population: float


@dataclass(frozen=True, eq=False)
class StationBands:
    """One station's nested isochrone polygons, built on first use and then kept.

    A memo of a pure function of its fields; plans share it for stations an edit does not
    touch, so a station's polygons are built at most once.
    """

    network: WalkNetwork
    station: Snapped
    limits_m: tuple[float, ...]
    buffer_m: float

    @cached_property
    def polygons(self) -> tuple[shapely.Geometry, ...]:
        """One polygon per band limit (metric CRS), nested; empty when off-network."""
        if not self.station.on_network[0]:
            return tuple(shapely.Polygon() for _ in self.limits_m)
        dist = single_station_distances(self.network, self.station, 0, limit_m=self.limits_m[-1])
        return tuple(
            isochrone_polygons(
                self.network,
                dist,
                self.station,
                limits_m=self.limits_m,
                buffer_m=self.buffer_m,
                # as the analysis builds them (one station: no threads), so that the union
                # of the stations' bands is the analysis's coverage area
                **{**AREA_POLYGON_OPTIONS, "workers": 1},
            )
        )


#: Per station (lon, lat in WGS84, settings): its search and bands (see
#: :func:`planner.app.plan.build_plan`).
StationMemo = dict[tuple[float, float, AnalysisConfig], tuple[Reach, StationBands]]


def station_reach(area: StudyArea, config: AnalysisConfig, one: Snapped) -> Reach:
    """One station's bounded search: the homes within its walk limit, read-only."""
    found = station_search(area.network, one, area.demand_index, limit_m=config.walk_limit_m)
    return Reach(
        homes=read_only(found.points),
        dist_m=read_only(found.dist_m),
        population=float(area.population[found.points].sum()),
    )


def station_bands(network: WalkNetwork, config: AnalysisConfig, one: Snapped) -> StationBands:
    """One station's isochrone bands, built on first use."""
    limits = tuple(b * config.metres_per_minute for b in config.bands)
    return StationBands(
        network=network, station=one, limits_m=limits, buffer_m=config.isochrone_buffer_m
    )


def read_only(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``arr`` itself, made read-only (plans share their arrays)."""
    arr.setflags(write=False)
    return arr
