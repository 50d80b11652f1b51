"""Demand, who must be served: population points or areas with head counts, from any format.

:func:`demand_from_file` reads a :class:`~planner.sources.tables.TableSpec`, finds the
head-count column (also by its Chinese names), rejects missing, negative or implausible
head counts by row, and gives the people of areas to points inside them (homes or street
nodes, :func:`~planner.sources.population.distribute_population`) or to one point inside
each area.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np

from planner.errors import InputDataError
from planner.limits import DEFAULT_LIMITS, InputLimits, check_count
from planner.sources.coords import CoordSystem
from planner.sources.locate import locate_areas
from planner.sources.population import distribute_population
from planner.sources.rawtable import RawTable, numbers_from_text
from planner.sources.rejected import rejected_table
from planner.sources.tables import (
    COLUMN_ALIASES,
    Loaded,
    TableSpec,
    canonical_columns,
    locate_spec,
    read_spec,
    rejected_amounts,
    require_rows,
    table_spec,
    with_ids,
)


def demand_from_file(
    path: str | Path | TableSpec,
    *,
    population_column: str = "population",
    onto: gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame] | None = None,
    weight_column: str | None = None,
    layer: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    crs: str | None = None,
    coord_system: CoordSystem | str | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    limits: InputLimits | None = None,
) -> Loaded:
    """Demand (who must be served) from population points or areas with head counts.

    Parameters
    ----------
    path
        A table of points (communities, villages, grid-cell centroids) with a head-count
        column, or a GIS file of areas (population-grid cells, residential compounds).
    population_column
        The head-count column (also found as ``pop``, ``人口``, ``人数``; any case).
    onto
        Points to give each area's people to, e.g. homes
        (:func:`~planner.sources.osm.homes_from_osm`) or street-network nodes: see
        :func:`planner.sources.population.distribute_population`; or a function returning
        them, called only when the file holds areas. Without it an area's people stand at
        a point inside the area.
    weight_column
        Column of ``onto`` that weights the split (e.g. ``floor_m2``); equal shares when
        None.
    layer, lon_column, lat_column, crs, coord_system, encoding, decimal
        How to read the file; see :class:`TableSpec`.
    limits
        Size, row, column and home limits and the largest head count of one point;
        :class:`~planner.limits.InputLimits` defaults when None.

    Returns
    -------
    Loaded
        Points with ``id`` (``D<row>`` when the file has none; ``<area id>/<target id>``
        for distributed areas) and a float ``population``; rows with a missing,
        negative, non-numeric, infinite or implausibly large head count (above
        ``limits.max_population_per_point``) are rejected.
    """
    spec = table_spec(
        path,
        layer=layer,
        lon_column=lon_column,
        lat_column=lat_column,
        crs=crs,
        coord_system=coord_system,
        encoding=encoding,
        decimal=decimal,
    )
    lim = limits or DEFAULT_LIMITS
    table = read_spec(spec, lim)
    check_count(
        table.source,
        len(table.frame),
        limit=lim.max_homes,
        what="demand points",
        name="max_homes",
    )
    table = canonical_columns(table, ("id",))
    table = _population_column(table, population_column)
    areas = table.geometry is not None and spec.lon_column is None and _mostly_areas(table)
    if areas:
        located, rejected = locate_areas(table, crs=spec.crs, coord_system=spec.coord_system)
    else:
        located, rejected = locate_spec(spec, table)
    pop = numbers_from_text(located["population"], decimal=table.decimal)
    extra, bad = rejected_amounts(
        located,
        pop,
        np.ones(len(located), dtype=bool),
        "population",
        limit=lim.max_population_per_point,
        limit_name="max_population_per_point",
        unit="people",
    )
    rejected = rejected_table([rejected, extra])
    located = located.loc[~bad].copy()
    require_rows(located, rejected, table.source, "demand")
    located["population"] = pop.loc[~bad].astype(float)
    located = with_ids(located, table.source, "D")
    if areas:
        if onto is not None:
            targets = onto() if callable(onto) else onto
            check_count(
                f"{table.source} (areas given to points)",
                len(targets),
                limit=lim.max_homes,
                what="homes or street nodes to give the areas' people to",
                name="max_homes",
            )
            located = distribute_population(located, targets, weight_column=weight_column)
        else:
            located = located.set_geometry(located.representative_point())
    return Loaded(data=located, rejected=rejected, source=table.source)


def demand_from_csv(
    path: str | Path,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
    population_column: str = "population",
    limits: InputLimits | None = None,
) -> Loaded:
    """Demand points with a head count from a CSV file in WGS84.

    Kept for scripts written before :func:`demand_from_file`, which reads every format.
    """
    return demand_from_file(
        path,
        lon_column=lon_column,
        lat_column=lat_column,
        population_column=population_column,
        limits=limits,
    )


def _population_column(table: RawTable, population_column: str) -> RawTable:
    frame = table.frame
    if population_column in frame.columns:
        col = population_column
    elif population_column == "population":
        lower = {str(c).lower(): str(c) for c in frame.columns}
        found = [lower[a.lower()] for a in COLUMN_ALIASES["population"] if a.lower() in lower]
        col = found[0] if found else ""
    else:
        col = ""
    if not col:
        msg = (
            f"{table.source}: no population column {population_column!r}. Columns found: "
            f"{[str(c) for c in frame.columns]}. Add a column of head counts or name it with "
            "--population-column."
        )
        raise InputDataError(msg)
    if col == "population":
        return table
    frame = frame.drop(columns=["population"], errors="ignore")
    return replace(table, frame=frame.rename(columns={col: "population"}))


def _mostly_areas(table: RawTable) -> bool:
    assert table.geometry is not None
    kinds = table.geometry.geom_type.dropna()
    return bool(len(kinds)) and bool(kinds.isin(["Polygon", "MultiPolygon"]).all())
