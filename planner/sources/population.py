"""Who lives where: homes from building outlines, and area head counts given to homes.

Two estimates, both documented and configurable through :class:`PopulationRule`:

- **Footprint**: ``population = footprint_m2 * levels / floor_m2_per_person``.
- **Dwellings**: when ``people_per_dwelling`` is set, a building tagged with its number of
  dwellings (``building:flats``) houses ``flats * people_per_dwelling`` people; buildings
  without the tag fall back to the footprint estimate.

:func:`distribute_population` spreads the head count of areas (population-grid cells,
residential compounds) onto points inside them (homes or street-network nodes), in
proportion to a weight such as floor area, so that the total is kept exactly.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputDataError, InputWarning

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: ``building=*`` values counted as homes.
RESIDENTIAL_BUILDING_TYPES: frozenset[str] = frozenset(
    {
        "residential",
        "apartments",
        "house",
        "detached",
        "semidetached_house",
        "terrace",
        "dormitory",
        "bungalow",
        "cabin",
        "farm",
        "houseboat",
        "static_caravan",
    }
)


@dataclass(frozen=True, slots=True)
class PopulationRule:
    """How many people live in a building.

    ``population = footprint_m2 * levels / floor_m2_per_person``, where ``levels`` is the
    ``building:levels`` tag or ``default_levels`` when it is missing or not a number; or,
    when ``people_per_dwelling`` is set and the building has a ``building:flats`` tag,
    ``population = flats * people_per_dwelling``.

    Parameters
    ----------
    floor_m2_per_person
        Residential floor area per resident (about 40 m² in Nordic cities, 30-35 m² in
        Chinese cities).
    default_levels
        Storeys assumed when the building has no ``building:levels`` tag.
    include_unknown_use
        Count ``building=yes`` (use not tagged) without ``amenity``/``shop``/``office`` tags
        as homes. In much of OSM most homes are tagged only ``building=yes``.
    people_per_dwelling
        Average household size (e.g. 2.6 in Chinese cities, 1.8 in Helsinki); None to
        use the footprint estimate only.
    """

    floor_m2_per_person: float = 40.0
    default_levels: float = 3.0
    include_unknown_use: bool = True
    people_per_dwelling: float | None = None

    def __post_init__(self) -> None:
        values = {
            "floor_m2_per_person": self.floor_m2_per_person,
            "default_levels": self.default_levels,
        }
        if self.people_per_dwelling is not None:
            values["people_per_dwelling"] = self.people_per_dwelling
        for name, value in values.items():
            if not (np.isfinite(value) and value > 0):
                msg = f"PopulationRule: {name} must be a positive number, got {value!r}."
                raise InputDataError(msg)


def homes_from_buildings(
    buildings: gpd.GeoDataFrame, *, rule: PopulationRule | None = None
) -> gpd.GeoDataFrame:
    """Homes among building outlines, with their estimated population.

    Parameters
    ----------
    buildings
        Building polygons with a CRS and OSM tag columns: ``building`` (required),
        optionally ``building:levels``, ``building:flats``, ``amenity``, ``shop``,
        ``office``; ids from ``osm_type``/``id`` (pyrosm) or an ``element``/``id``
        index (osmnx features). Not modified.
    rule
        The population estimate; :class:`PopulationRule` defaults when None.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id`` (``way/123``), ``building``, ``levels``, ``floor_m2``,
        ``population`` and the building's representative point in WGS84, sorted by id;
        ``flats`` too when the dwelling estimate is used.
    """
    rule = rule or PopulationRule()
    cols = ["id", "building", "levels", "floor_m2", "population"]
    if len(buildings) == 0 or "building" not in buildings.columns:
        return _empty_points(cols)
    kind = buildings["building"].astype(str).str.lower()
    homes = kind.isin(RESIDENTIAL_BUILDING_TYPES)
    if rule.include_unknown_use:
        untagged = pd.Series(True, index=buildings.index)
        for key in ("amenity", "shop", "office"):
            if key in buildings.columns:
                untagged &= buildings[key].isna()
        homes |= (kind == "yes") & untagged
    b = buildings.loc[homes]
    polys = b.geometry.set_crs(buildings.crs or WGS84, allow_override=True).to_crs(WGS84)
    if len(b) == 0:
        return _empty_points(cols)
    footprint = polys.to_crs(polys.estimate_utm_crs()).area.to_numpy()
    levels = _tag_numbers(b, "building:levels")
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, rule.default_levels)
    floor = footprint * levels
    population = floor / rule.floor_m2_per_person
    data: dict[str, object] = {
        "id": _building_ids(b),
        "building": kind.loc[homes].to_numpy(),
        "levels": levels,
        "floor_m2": floor,
        "population": population,
    }
    if rule.people_per_dwelling is not None:
        flats = _tag_numbers(b, "building:flats")
        has = np.isfinite(flats) & (flats > 0)
        data["population"] = np.where(has, flats * rule.people_per_dwelling, population)
        data["flats"] = np.where(has, flats, np.nan)
    points = polys.where(polys.geom_type == "Point", polys.representative_point())
    out = gpd.GeoDataFrame(data, geometry=points.to_numpy(), crs=WGS84)
    return out.sort_values("id").reset_index(drop=True)


def _tag_numbers(frame: pd.DataFrame, key: str) -> npt.NDArray[np.float64]:
    if key not in frame.columns:
        return np.full(len(frame), np.nan)
    values: npt.NDArray[np.float64] = pd.to_numeric(frame[key], errors="coerce").to_numpy(
        dtype=float
    )
    return values


def _building_ids(b: gpd.GeoDataFrame) -> npt.NDArray[np.str_]:
    if "osm_type" in b.columns and "id" in b.columns:
        return np.asarray(b["osm_type"].astype(str) + "/" + b["id"].astype(str), dtype=str)
    if isinstance(b.index, pd.MultiIndex) and b.index.nlevels == 2:  # osmnx features
        return np.array([f"{t}/{i}" for t, i in b.index])
    return np.asarray(b.index.astype(str), dtype=str)


def _empty_points(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns}, geometry=[], crs=WGS84)


def distribute_population(
    areas: gpd.GeoDataFrame,
    onto: gpd.GeoDataFrame,
    *,
    weight_column: str | None = None,
) -> gpd.GeoDataFrame:
    r"""Give each area's people to the points inside it.

    Parameters
    ----------
    areas
        Polygons with ``id`` and ``population`` (population-grid cells, compounds).
    onto
        Points with ``id``: homes, or street-network nodes. Not modified.
    weight_column
        Column of ``onto`` weighting each point's share (e.g. ``floor_m2``); equal
        shares when None, and within an area whose weights sum to 0.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per (area, point inside it): ``id`` (``<area id>/<point id>``),
        ``area_id``, ``target_id``, ``population``, in WGS84. An area with no point
        inside keeps its people at a point inside the area (``target_id`` empty), with an
        :class:`~planner.errors.InputWarning` naming it. Points in no area are left out
        (no one lives there according to the areas).

    Notes
    -----
    Point :math:`j` in area :math:`a` receives :math:`P_a w_j / \sum_{k \in a} w_k`, so
    :math:`\sum_j` equals the areas' total exactly (up to floating point). A point in
    several overlapping areas belongs to the first of them.
    """
    for name, gdf, need in (("areas", areas, ("id", "population")), ("onto", onto, ("id",))):
        missing = [c for c in need if c not in gdf.columns]
        if missing or gdf.crs is None:
            msg = f"distribute_population: {name} needs a CRS and column(s) {list(need)}."
            raise InputDataError(msg)
    a = areas[["id", "population", areas.geometry.name]].to_crs(WGS84).reset_index(drop=True)
    a = a.rename_geometry("geometry") if a.geometry.name != "geometry" else a
    targets = onto.to_crs(WGS84).reset_index(drop=True)
    if weight_column is not None:
        if weight_column not in targets.columns:
            msg = f"distribute_population: onto has no weight column {weight_column!r}."
            raise InputDataError(msg)
        weights = pd.to_numeric(targets[weight_column], errors="coerce").to_numpy(dtype=float)
        weights = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    else:
        weights = np.ones(len(targets))
    joined = gpd.sjoin(
        targets[["id", "geometry"]].assign(_w=weights, _t=np.arange(len(targets))),
        a[["geometry"]].assign(_a=np.arange(len(a))),
        how="inner",
        predicate="intersects",
    ).sort_values(["_t", "_a"])
    if joined["_t"].duplicated().any():
        logger.info("%d points lie in more than one area.", int(joined["_t"].duplicated().sum()))
    joined = joined.drop_duplicates("_t", keep="first")
    area_pos = joined["_a"].to_numpy()
    w = joined["_w"].to_numpy()
    total_w = np.bincount(area_pos, weights=w, minlength=len(a))
    count = np.bincount(area_pos, minlength=len(a))
    equal = total_w[area_pos] <= 0
    share = np.where(
        equal, 1.0 / np.maximum(count[area_pos], 1), w / np.where(equal, 1, total_w[area_pos])
    )
    pop = a["population"].to_numpy(dtype=float)
    area_ids = a["id"].astype(str).to_numpy()
    target_ids = joined["id"].astype(str).to_numpy()
    out = gpd.GeoDataFrame(
        {
            "id": np.char.add(
                np.char.add(area_ids[area_pos].astype(str), "/"), target_ids.astype(str)
            ),
            "area_id": area_ids[area_pos],
            "target_id": target_ids,
            "population": pop[area_pos] * share,
        },
        geometry=targets.geometry.to_numpy()[joined["_t"].to_numpy()],
        crs=WGS84,
    )
    empty = np.flatnonzero(count == 0)
    if empty.size:
        names = list(area_ids[empty][:10])
        warnings.warn(
            f"{empty.size} area(s) hold no home or street node to give their people to "
            f"({pop[empty].sum():,.0f} people; ids {names}{' ...' if empty.size > 10 else ''}); "
            "their people are placed at a point inside each area.",
            InputWarning,
            stacklevel=2,
        )
        rest = gpd.GeoDataFrame(
            {
                "id": area_ids[empty],
                "area_id": area_ids[empty],
                "target_id": "",
                "population": pop[empty],
            },
            geometry=a.geometry.iloc[empty].representative_point().to_numpy(),
            crs=WGS84,
        )
        out = pd.concat([out, rest], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84).reset_index(drop=True)
