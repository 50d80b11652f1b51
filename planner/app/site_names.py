"""Readable places for proposed sites: the nearest named street and the coordinates.

A proposed site is a street node (``node/247335167``), which tells a planner nothing.
:func:`street_names_from_file` reads the named walkable ways of an OSM extract once;
:func:`with_places` gives each site a ``place`` ("near Mannerheimintie (lat 60.17650,
lon 24.94750)") and, when it has none, a ``name`` for the station it may become. Street
names come from OpenStreetMap: they are data, shown as text and never as markup.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from planner.sources.coords import WGS84
from planner.sources.osm import GRAPHML_SUFFIXES, as_pbf, forget_pyrosm_reads
from planner.texts import Language, text

logger = logging.getLogger(__name__)

#: A street farther than this from a site (metres) is not named as its place.
MAX_STREET_M = 150.0


def street_names_from_file(path: str | Path) -> gpd.GeoDataFrame:
    """The named walkable ways of an OSM extract: ``name`` and lines in WGS84.

    Empty (with a log message) for GraphML networks, which carry no names here, and for
    extracts pyrosm cannot read: sites are then placed by their coordinates only.
    """
    empty = gpd.GeoDataFrame({"name": []}, geometry=[], crs=WGS84)
    p = Path(path)
    if p.name.lower().endswith(GRAPHML_SUFFIXES):
        return empty
    try:
        from pyrosm import OSM

        with as_pbf(p) as pbf:
            ways = OSM(str(pbf)).get_network(network_type="walking")
    except Exception as err:  # pyrosm fails on some valid extracts: names are optional
        logger.warning("street names of %s not read (%s); sites get coordinates only", p, err)
        return empty
    if ways is None or "name" not in ways.columns or not len(ways):
        return empty
    names = ways["name"].where(ways["name"].notna(), "").astype(str).str.strip()
    keep = (names != "").to_numpy()
    return gpd.GeoDataFrame(
        {"name": names.to_numpy()[keep]},
        geometry=ways.geometry.to_numpy()[keep],
        crs=ways.crs or WGS84,
    ).to_crs(WGS84)


def street_names_from_bytes(filename: str, data: bytes) -> gpd.GeoDataFrame:
    """:func:`street_names_from_file` of an extract given as bytes (e.g. kept in the store)."""
    name = Path(filename).name or "extract.osm.pbf"
    with tempfile.TemporaryDirectory(prefix="planner-names-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            return street_names_from_file(path)
        finally:
            forget_pyrosm_reads(path)  # a temporary copy: its cached read is never read again


def coordinates_text(lon: float, lat: float, language: Language) -> str:
    """``lat 60.17650, lon 24.94750`` (WGS84 degrees) in the reader's language."""
    return text("coordinates", language, lat=f"{lat:.5f}", lon=f"{lon:.5f}")


def nearest_street_names(
    sites: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, *, max_m: float = MAX_STREET_M
) -> list[str]:
    """Per site, the name of the nearest named street within ``max_m`` metres, or ""."""
    if not len(sites):
        return []
    if not len(streets):
        return [""] * len(sites)
    metric = sites.to_crs(WGS84).estimate_utm_crs()
    points = sites.geometry.to_crs(metric).to_numpy()
    lines = streets.geometry.to_crs(metric).to_numpy()
    tree = shapely.STRtree(lines)
    (site_pos, line_pos), dist = tree.query_nearest(
        points, max_distance=max_m, return_distance=True, all_matches=False
    )
    out = [""] * len(sites)
    names = streets["name"].astype(str).to_numpy()
    for s, ln, d in zip(site_pos, line_pos, dist, strict=True):
        if np.isfinite(d):
            out[int(s)] = str(names[int(ln)])
    return out


def with_places(
    sites: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame | None,
    *,
    language: Language = "en",
    max_m: float = MAX_STREET_M,
) -> gpd.GeoDataFrame:
    """The sites with a readable ``place`` and, where they have none, a ``name``.

    Parameters
    ----------
    sites
        Proposed sites (points with a CRS); not modified.
    streets
        Named streets from :func:`street_names_from_file`; None or empty: coordinates only.
    language
        Language of the place texts.
    max_m
        Farthest street (metres) named as a site's place.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``place`` (e.g. "near Mannerheimintie (lat 60.17650, lon 24.94750)")
        and ``name`` ("New station near Mannerheimintie", or "New station" when no street
        is near).
    """
    out = sites.copy()
    wgs = sites.geometry.to_crs(WGS84)
    streets_ = streets if streets is not None else gpd.GeoDataFrame(geometry=[], crs=WGS84)
    near = nearest_street_names(sites, streets_, max_m=max_m)
    places, names = [], []
    for street, point in zip(near, wgs, strict=True):
        where = coordinates_text(float(point.x), float(point.y), language)
        if street:
            places.append(text("site_near", language, street=street, where=where))
            names.append(text("site_name_near", language, street=street))
        else:
            places.append(text("site_at", language, where=where))
            names.append(text("site_name", language))
    out["place"] = places
    given = (
        out["name"].fillna("").astype(str).str.strip()
        if "name" in out.columns
        else out["place"].map(lambda _: "")
    )
    out["name"] = [g if g else n for g, n in zip(given, names, strict=True)]
    return out


def site_field_words(language: Language, *, minutes: str) -> dict[str, str]:
    """A proposed site's fields as a planner reads them (map tooltips, tables)."""
    return {
        "name": text("name", language),
        "place": text("site_place", language),
        "id": text("id", language),
        "population_added": text("sites_people_added", language),
        "population_within": text("people_within", language, minutes=minutes),
        "population_only_here": text("only_here", language),
    }
