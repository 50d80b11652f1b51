"""The columns a coverage analysis adds to its inputs: the station and demand layers.

Owns the output-column bookkeeping of a :class:`~planner.walk.coverage.CoverageResult`: the
names of the columns added to the stations and the demand points, the values of the demand
layer's ``status`` column, and the renaming of input columns that an added column would
overwrite (kept as ``input_<name>``). :func:`demand_layer` and :func:`station_layer` build
the layers from per-point search results, for :func:`~planner.walk.coverage.analyze_coverage`
and for the app's incremental plan (:mod:`planner.app.plan`) alike.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.config import AnalysisConfig
from planner.errors import InputWarning
from planner.walk.access import Snapped

#: Values of the demand layer's ``status`` column.
STATUS_COVERED = "covered"
STATUS_BEYOND = "beyond_limit"
STATUS_UNREACHABLE = "unreachable"
STATUS_OFF_NETWORK = "off_network"

#: Columns :func:`station_layer` adds to the input stations.
STATION_COLUMNS = (
    "snap_m",
    "on_network",
    "homes_served",
    "population_served",
    "population_only_here",
)
#: Columns :func:`demand_layer` adds to the input demand.
DEMAND_COLUMNS = ("walk_min", "nearest_station", "covered", "stations_within", "status", "snap_m")
#: Prefix of input columns kept under a new name because an output column has theirs.
INPUT_PREFIX = "input_"


def demand_layer(
    demand: gpd.GeoDataFrame,
    snapped: Snapped,
    dist_m: np.ndarray,
    nearest: np.ndarray,
    within_count: np.ndarray,
    station_ids: np.ndarray,
    *,
    config: AnalysisConfig,
) -> gpd.GeoDataFrame:
    """The demand layer of a coverage result from per-point search results.

    A building block shared by :func:`~planner.walk.coverage.analyze_coverage` and
    :mod:`planner.app.plan`.

    Parameters
    ----------
    demand
        Validated demand points (WGS84) with ``population``.
    snapped
        The demand points snapped to the network.
    dist_m, nearest
        Walk distance to the nearest station (``inf`` when none) and that station's
        position (``-1`` when none), per point.
    within_count
        Number of stations within the walk limit, per point.
    station_ids
        Station ids by position.
    config
        The analysis settings.

    Returns
    -------
    geopandas.GeoDataFrame
        As :attr:`~planner.walk.coverage.CoverageResult.demand`.
    """
    covered = dist_m <= config.walk_limit_m
    status = np.where(
        ~snapped.on_network,
        STATUS_OFF_NETWORK,
        np.where(
            covered,
            STATUS_COVERED,
            np.where(np.isfinite(dist_m), STATUS_BEYOND, STATUS_UNREACHABLE),
        ),
    )
    ids = station_ids if len(station_ids) else np.array([""], dtype=object)
    demand = keep_input_columns(demand, DEMAND_COLUMNS, what="demand")
    return demand.assign(
        walk_min=np.where(np.isfinite(dist_m), dist_m / config.metres_per_minute, np.nan),
        nearest_station=pd.Series(
            ids[np.maximum(nearest, 0)], index=demand.index, dtype="string"
        ).where(nearest >= 0),
        covered=covered,
        stations_within=within_count,
        status=status,
        snap_m=snapped.snap_m,
    )


def station_layer(
    stations: gpd.GeoDataFrame,
    snapped: Snapped,
    homes_served: np.ndarray,
    population_served: np.ndarray,
    population_only_here: np.ndarray,
) -> gpd.GeoDataFrame:
    """The station layer of a coverage result (input columns plus figures).

    Input columns named like the added ones are kept under a prefixed name
    (:func:`keep_input_columns`).
    """
    stations = keep_input_columns(stations, STATION_COLUMNS, what="stations")
    return stations.assign(
        snap_m=snapped.snap_m,
        on_network=snapped.on_network,
        homes_served=homes_served,
        population_served=population_served,
        population_only_here=population_only_here,
    )


def keep_input_columns(
    table: gpd.GeoDataFrame, added: Sequence[str], *, what: str
) -> gpd.GeoDataFrame:
    """Rename input columns that an output column would overwrite or collide with.

    Parameters
    ----------
    table
        Input stations or demand; not modified.
    added
        Names of the columns the planner adds (:data:`STATION_COLUMNS`,
        :data:`DEMAND_COLUMNS`). The index's name (the loaders' ``row``, written as a column
        of the GeoPackage) and ``geometry`` (when the geometry column has another name)
        count too.
    what
        How to name the table in the warning.

    Returns
    -------
    geopandas.GeoDataFrame
        ``table`` itself when nothing clashes; otherwise a copy in which each clashing
        column ``c`` is named ``input_c`` (``input_c_2``, ... when that is taken too), with
        an :class:`~planner.errors.InputWarning` naming each column and its new name.
    """
    geom = table.geometry.name
    reserved = set(added)
    if table.index.name is not None:
        reserved.add(str(table.index.name))
    if geom != "geometry":
        reserved.add("geometry")
    clashes = [c for c in table.columns if c != geom and str(c) in reserved]
    if not clashes:
        return table
    taken = {str(c) for c in table.columns} | reserved
    renamed: dict[str, str] = {}
    for col in clashes:
        new = free_name(f"{INPUT_PREFIX}{col}", taken)
        taken.add(new)
        renamed[str(col)] = new
    warn_renamed(renamed, what=what)
    return table.rename(columns=renamed)


def free_name(name: str, taken: Iterable[object]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... : the first that is not in ``taken``."""
    used = {str(t) for t in taken}
    if name not in used:
        return name
    n = 2
    while f"{name}_{n}" in used:
        n += 1
    return f"{name}_{n}"


def warn_renamed(renamed: Mapping[str, str], *, what: str) -> None:
    """Warn that input columns are kept under new names (they clash with output columns)."""
    listed = ", ".join(f"{old!r} as {new!r}" for old, new in renamed.items())
    warnings.warn(
        f"{what}: input column(s) named like the planner's own output columns are kept "
        f"under new names: {listed}.",
        InputWarning,
        stacklevel=3,
    )
