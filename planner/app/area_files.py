"""Gap zones and snapped homes kept on disk: a study area opened again skips building them.

A plan built in full (the first plan of a study area: no station yet, every home unserved)
clusters its unserved homes into gap zones and outlines each by a union of buffers
(:func:`planner.walk.gaps.cluster_unserved`): about 6 s of CPU for 100,000 homes of a metro
area, the largest part of opening an area again in a new process. The zones are a pure
function of the homes' metric coordinates, which homes are unserved, the link distance,
the metric CRS and the geometry library, so :func:`gap_zones` stores them under
``<cache_dir>/gap-zones/`` (the cache folder of the built networks,
:func:`planner.sources.download.default_cache_dir`) as one ``.npz`` of plain arrays (no
pickles) named by a hash of all of these, and reads them back when the hash matches. The
unserved homes depend on the network, the stations, the snap distance, the walk limit and
the speed: any change to one of them that changes who is unserved changes the key.

The homes snapped to the streets (:func:`planner.walk.access.snap_points`, about 1-2 s
for 100,000 homes) are kept the same way by :func:`snapped_homes` under
``<cache_dir>/snapped-homes/``, keyed by the streets' vertices, lengths and snappable
flags, the homes' coordinates and the snap distance.

An entry that cannot be read, or that does not match its key or the homes, is rebuilt
(and overwritten), never trusted and never an error. Hashing, storing, reading and
pruning the entries is :mod:`planner.sources.cache_entries`, shared with the band
polygons' cache (:mod:`planner.walk.band_cache`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from planner._version import __version__
from planner.sources.cache_entries import (
    digest_arrays,
    entry_path,
    geoms_from_wkb,
    prune_entries,
    read_entry,
    wkb_arrays,
    write_entry,
)
from planner.sources.coords import coordinates_in
from planner.walk.access import Snapped, snap_points
from planner.walk.gaps import GapClusters, cluster_unserved, outlines_wgs84
from planner.walk.network import WalkNetwork

logger = logging.getLogger(__name__)

#: Bump when stored zones would no longer match what a fresh build gives.
GAP_CACHE_FORMAT = 1
#: Folder of stored gap zones under the cache folder.
GAP_CACHE_SUBDIR = "gap-zones"
#: Fewer unserved homes than this are clustered in a few milliseconds: not stored.
GAP_CACHE_MIN_HOMES = 2_000
#: The newest this many entries are kept; older ones are deleted when a new one is stored.
GAP_CACHE_KEEP = 16


def gap_zones_key(
    xy: npt.NDArray[np.float64],
    unserved: npt.NDArray[np.bool_],
    *,
    link_m: float,
    crs: pyproj.CRS | str,
) -> dict[str, Any]:
    """Everything the gap zones of ``xy`` and ``unserved`` depend on, as a JSON-able dict.

    Parameters
    ----------
    xy
        Home coordinates in the metric ``crs``, shape ``(n, 2)``.
    unserved
        Per home, True when it is unserved.
    link_m
        Link distance of the zones (metres).
    crs
        The metric CRS of ``xy`` (the outlines are also stored reprojected to WGS84).

    Returns
    -------
    dict
        Hashes of the coordinates and of the unserved flags, the homes' count, the link
        distance, the CRS, the geometry library's version, the package version and the
        cache format.
    """
    coords = np.ascontiguousarray(xy, dtype=np.float64)
    flags = np.packbits(np.asarray(unserved, dtype=bool))
    return {
        "homes": len(coords),
        "xy": digest_arrays(coords),
        "unserved": digest_arrays(flags),
        "link_m": float(link_m),
        "crs": pyproj.CRS.from_user_input(crs).to_wkt(),
        "geos": shapely.geos_version_string,
        "planner": __version__,
        "format": GAP_CACHE_FORMAT,
    }


def gap_zones(
    xy: npt.NDArray[np.float64],
    unserved: npt.NDArray[np.bool_],
    *,
    link_m: float,
    crs: pyproj.CRS | str,
    cache_dir: str | Path | None = None,
    min_homes: int | None = None,
) -> GapClusters:
    """The gap zones of the unserved homes, read from the cache or built and stored.

    Parameters
    ----------
    xy, unserved, link_m, crs
        As for :func:`gap_zones_key`; the zones are
        :func:`planner.walk.gaps.cluster_unserved` of ``xy``, ``unserved`` and ``link_m``.
    cache_dir
        Cache folder; :func:`planner.sources.download.default_cache_dir` when None.
    min_homes
        Fewer unserved homes than this are built and not stored;
        :data:`GAP_CACHE_MIN_HOMES` when None.

    Returns
    -------
    GapClusters
        The zones, with their outlines in WGS84 as ``outlines_wgs84`` (read back, or
        reprojected when built and stored).
    """
    limit = GAP_CACHE_MIN_HOMES if min_homes is None else min_homes
    if int(np.count_nonzero(unserved)) < limit:
        return cluster_unserved(xy, unserved, link_m=link_m)
    key = gap_zones_key(xy, unserved, link_m=link_m, crs=crs)
    path = entry_path(GAP_CACHE_SUBDIR, key, cache_dir)
    stored = load_gap_zones(path, key, unserved)
    if stored is not None:
        logger.info("Gap zones read from the cache (%s).", path)
        return stored
    built = cluster_unserved(xy, unserved, link_m=link_m)
    zones = GapClusters(
        zone_of=built.zone_of,
        outlines=built.outlines,
        next_label=built.next_label,
        outlines_wgs84=outlines_wgs84(built, crs),
    )
    try:
        save_gap_zones(zones, path, key)
        prune_entries(path.parent, keep=GAP_CACHE_KEEP)
    except OSError as err:
        logger.warning("Could not store the gap zones in %s (%s).", path, err)
    return zones


def save_gap_zones(zones: GapClusters, path: Path, key: dict[str, Any]) -> None:
    """Write ``zones`` (with their WGS84 outlines) and ``key`` to ``path`` atomically."""
    if zones.outlines_wgs84 is None:
        msg = "gap zones are stored with their outlines in WGS84"
        raise ValueError(msg)
    labels = np.fromiter(zones.outlines, dtype=np.int64, count=len(zones.outlines))
    wgs84 = zones.outlines_wgs84
    metric_raw, metric_offsets = wkb_arrays([zones.outlines[k] for k in labels.tolist()])
    wgs84_raw, wgs84_offsets = wkb_arrays([wgs84[k] for k in labels.tolist()])
    write_entry(
        path,
        key,
        zone_of=np.asarray(zones.zone_of, dtype=np.int64),
        labels=labels,
        next_label=np.array(zones.next_label, dtype=np.int64),
        metric_wkb=metric_raw,
        metric_offsets=metric_offsets,
        wgs84_wkb=wgs84_raw,
        wgs84_offsets=wgs84_offsets,
    )


def load_gap_zones(
    path: Path, key: dict[str, Any], unserved: npt.NDArray[np.bool_]
) -> GapClusters | None:
    """The zones stored at ``path`` when whole and stored for ``key``; else None.

    A missing file gives None quietly; an unreadable, inconsistent or mismatched one is
    logged (it is then rebuilt and overwritten).
    """
    if not path.exists():
        return None
    try:
        data = read_entry(path, key, what="the homes and settings")
        zone_of = np.asarray(data["zone_of"], dtype=np.int64)
        labels = np.asarray(data["labels"], dtype=np.int64)
        next_label = int(data["next_label"][()])
        metric = geoms_from_wkb(data["metric_wkb"], data["metric_offsets"], len(labels))
        wgs84 = geoms_from_wkb(data["wgs84_wkb"], data["wgs84_offsets"], len(labels))
        unique = np.unique(zone_of[zone_of >= 0])
        ok = (
            zone_of.shape == unserved.shape
            and np.array_equal(zone_of >= 0, unserved)
            and np.array_equal(unique, np.sort(labels))
            and len(unique) == len(labels)
            and (labels.size == 0 or int(labels.max()) < next_label)
            and bool(np.all(shapely.get_type_id(metric) == shapely.GeometryType.POLYGON))
        )
        if not ok:
            msg = "its zones do not match the unserved homes"
            raise ValueError(msg)
    except Exception as err:  # a broken cache entry of any kind is rebuilt
        logger.warning("Stored gap zones %s are unusable (%s); rebuilding them.", path, err)
        return None
    zone_of.setflags(write=False)
    keys = labels.tolist()
    return GapClusters(
        zone_of=zone_of,
        outlines=dict(zip(keys, metric, strict=True)),
        next_label=next_label,
        outlines_wgs84=dict(zip(keys, wgs84, strict=True)),
    )


# ------------------------------------------------------------------ snapped homes

#: Bump when stored snapped homes would no longer match what :func:`snap_points` gives.
SNAP_CACHE_FORMAT = 1
#: Folder of stored snapped homes under the cache folder.
SNAP_CACHE_SUBDIR = "snapped-homes"


def snap_key(
    network: WalkNetwork, xy: npt.NDArray[np.float64], *, max_snap_m: float
) -> dict[str, Any]:
    """Everything the homes snapped to ``network`` depend on, as a JSON-able dict.

    The streets' vertices, vertex counts, lengths and snappable flags, the network's CRS,
    the homes' coordinates in it (``xy``), the snap distance, the geometry library's
    version, the package version and the cache format.
    """
    edges = network.edges
    lines = edges.geometry.to_numpy()
    streets = digest_arrays(
        shapely.get_coordinates(lines),
        shapely.get_num_coordinates(lines).astype(np.int64),
        network.edge_length_m,
        edges["snappable"].to_numpy(dtype=bool),
    )
    coords = np.ascontiguousarray(xy, dtype=np.float64)
    return {
        "streets": len(edges),
        "network": streets,
        "crs": network.crs.to_wkt(),
        "homes": len(coords),
        "xy": digest_arrays(coords),
        "max_snap_m": float(max_snap_m),
        "geos": shapely.geos_version_string,
        "planner": __version__,
        "format": SNAP_CACHE_FORMAT,
    }


def snapped_homes(
    network: WalkNetwork,
    points: gpd.GeoSeries,
    *,
    max_snap_m: float,
    cache_dir: str | Path | None = None,
    min_points: int | None = None,
) -> Snapped:
    """:func:`planner.walk.access.snap_points` of the homes, read from the cache or stored.

    Parameters
    ----------
    network, points, max_snap_m
        As for :func:`~planner.walk.access.snap_points`.
    cache_dir
        Cache folder; :func:`planner.sources.download.default_cache_dir` when None.
    min_points
        Fewer points than this are snapped and not stored; :data:`GAP_CACHE_MIN_HOMES`
        when None.

    Returns
    -------
    Snapped
        The same arrays as :func:`~planner.walk.access.snap_points` gives, indexed by
        ``points.index``.
    """
    limit = GAP_CACHE_MIN_HOMES if min_points is None else min_points
    if len(points) < limit or points.crs is None:
        return snap_points(network, points, max_snap_m=max_snap_m)
    xy = coordinates_in(points, network.crs)
    if len(xy) != len(points):  # empty geometries: no coordinates to key them by
        return snap_points(network, points, max_snap_m=max_snap_m)
    key = snap_key(network, xy, max_snap_m=max_snap_m)
    path = entry_path(SNAP_CACHE_SUBDIR, key, cache_dir)
    stored = _load_snapped(path, key, points.index, len(network.edges))
    if stored is not None:
        logger.info("Snapped homes read from the cache (%s).", path)
        return stored
    snapped = snap_points(network, points, max_snap_m=max_snap_m)
    try:
        write_entry(
            path,
            key,
            edge=snapped.edge,
            offset_m=snapped.offset_m,
            snap_m=snapped.snap_m,
        )
        prune_entries(path.parent, keep=GAP_CACHE_KEEP)
    except OSError as err:
        logger.warning("Could not store the snapped homes in %s (%s).", path, err)
    return snapped


def _load_snapped(path: Path, key: dict[str, Any], index: pd.Index, streets: int) -> Snapped | None:
    """The snapped homes stored at ``path`` when whole and stored for ``key``; else None."""
    if not path.exists():
        return None
    try:
        data = read_entry(path, key, what="the network, homes and snap distance")
        edge = np.asarray(data["edge"], dtype=np.int64)
        offset = np.asarray(data["offset_m"], dtype=np.float64)
        snap = np.asarray(data["snap_m"], dtype=np.float64)
        on = edge >= 0
        ok = (
            edge.shape == offset.shape == snap.shape == (len(index),)
            and bool(np.all((edge >= -1) & (edge < streets)))
            and bool(np.all(np.isfinite(offset) & (offset >= 0)))
            and bool(np.all(np.isfinite(snap[on]) & (snap[on] >= 0)))
            and bool(np.all(np.isnan(snap[~on])))
        )
        if not ok:
            msg = "its arrays do not fit the homes and the network"
            raise ValueError(msg)
    except Exception as err:  # a broken cache entry of any kind is rebuilt
        logger.warning("Stored snapped homes %s are unusable (%s); snapping again.", path, err)
        return None
    for arr in (edge, offset, snap):
        arr.setflags(write=False)
    return Snapped(index=index, edge=edge, offset_m=offset, snap_m=snap)
