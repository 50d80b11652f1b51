"""Points given to the API as GeoDataFrames, checked where they enter.

The file loaders (:mod:`planner.sources.sites`, :mod:`planner.sources.demand`) validate
the rows they read; :func:`validate_points` does the same for GeoDataFrames a caller
builds: a CRS, point geometry, the required columns, head counts and unique ids.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputDataError
from planner.sources.coords import WGS84


def validate_points(
    gdf: gpd.GeoDataFrame, *, what: str, require: Sequence[str] = ()
) -> gpd.GeoDataFrame:
    """Check a GeoDataFrame of points given to the API; return it in WGS84.

    Parameters
    ----------
    gdf
        Points with a CRS. Not modified.
    what
        How to name the table in messages (``"stations"``, ``"demand"``).
    require
        Columns that must be present.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in WGS84.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}."
        raise InputDataError(msg)
    if gdf.crs is None:
        msg = f"{what}: the GeoDataFrame has no CRS. Set it, e.g. gdf.set_crs('EPSG:4326')."
        raise InputDataError(msg)
    missing = [c for c in require if c not in gdf.columns]
    if missing:
        msg = f"{what}: missing column(s) {missing}; columns present: {list(gdf.columns)}."
        raise InputDataError(msg)
    geom_type = gdf.geometry.geom_type
    bad = gdf.geometry.isna() | gdf.geometry.is_empty | (geom_type != "Point")
    if bad.any():
        rows = list(gdf.index[bad][:10])
        msg = (
            f"{what}: {int(bad.sum())} row(s) without a point geometry (index {rows}"
            f"{' ...' if bad.sum() > 10 else ''}). Use points, e.g. polygons' "
            "representative_point()."
        )
        raise InputDataError(msg)
    if "population" in require:
        pop = pd.to_numeric(gdf["population"], errors="coerce").to_numpy(dtype=float)
        bad_pop = ~(np.isfinite(pop) & (pop >= 0))
        if bad_pop.any():
            rows = list(gdf.index[bad_pop][:10])
            msg = f"{what}: population must be a number of 0 or more (index {rows})."
            raise InputDataError(msg)
    if "id" in gdf.columns and gdf["id"].duplicated().any():
        dup = sorted(set(gdf.loc[gdf["id"].duplicated(), "id"].astype(str)))[:10]
        msg = f"{what}: duplicate ids {dup}; every row needs its own id."
        raise InputDataError(msg)
    return gdf.to_crs(WGS84)
