"""Walk-time band polygons kept in the cache folder: a rerun with the same stations skips them.

The nested band polygons of a whole city (:func:`planner.walk.isochrones.isochrone_polygons`,
5/10/15 minutes of every station) are the costliest part of a coverage run: about 8-9 s of
CPU for 3,000 stations on a metro extract, recomputed identically whenever the same
stations are analysed again (a report in another language, another output folder,
districts added). :func:`band_polygons` stores them under ``<cache_dir>/band-polygons/``
(the cache folder of the built networks, :func:`planner.sources.download.default_cache_dir`
or ``--cache-dir``) as one ``.npz`` of plain arrays with the polygons as WKB (no pickles),
named by a hash of everything they depend on (:func:`band_key`):

- the reached spans of the streets for each limit (edge positions and the stretch
  ``[a, b]`` reached along each, :func:`planner.walk.isochrones._spans`): cheap to compute,
  they hold the stations, their snapping, the walk distances and the limits;
- the streets' geometry and walking costs (their vertices, vertex counts and lengths) and
  the network's CRS;
- the buffer, the round ends' segments and the simplification;
- the geometry library's version, the package version and the cache format.

An entry that cannot be read, was stored for another key or whose polygons fail their
checksum is rebuilt and overwritten, never trusted and never an error. Only the newest
:data:`BAND_CACHE_KEEP` entries are kept, and of those as many as fit in
:data:`BAND_CACHE_MAX_BYTES`; small inputs (fewer than :data:`BAND_CACHE_MIN_SPANS` reached
spans, built in well under a second) are not stored.
Stored polygons are the very bytes of a fresh build: a hit gives equal polygons.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
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
from planner.sources.download import default_cache_dir
from planner.walk.access import Snapped
from planner.walk.isochrones import _spans, isochrone_polygons
from planner.walk.network import WalkNetwork

logger = logging.getLogger(__name__)

#: Bump when stored bands would no longer match what a fresh build gives.
BAND_CACHE_FORMAT = 1
#: Folder of stored band polygons under the cache folder.
BAND_CACHE_SUBDIR = "band-polygons"
#: Fewer reached spans (all limits together) than this are built, not stored.
BAND_CACHE_MIN_SPANS = 20_000
#: At most this many entries are kept, the newest first, and only as many as fit in
#: :data:`BAND_CACHE_MAX_BYTES` (older ones are deleted when a new one is stored): about 15 MB
#: an entry for a metro area of 3,000 stations, far less for a province's smaller areas.
BAND_CACHE_KEEP = 256
#: The stored band polygons take at most this much room together (the newest entry aside).
BAND_CACHE_MAX_BYTES = 1 << 30

Spans = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


def streets_digest(network: WalkNetwork) -> str:
    """Hash of the streets' vertices, vertex counts and walking costs (``length_m``)."""
    lines = network.edges.geometry.to_numpy()
    return digest_arrays(
        shapely.get_coordinates(lines),
        shapely.get_num_coordinates(lines).astype(np.int64),
        np.asarray(network.edge_length_m, dtype=np.float64),
    )


def band_cache_folder(cache_dir: str | Path | None, *, network_cache: bool) -> Path | None:
    """Where a run keeps its band polygons: the built networks' cache folder, or None.

    ``cache_dir`` (else :func:`planner.sources.download.default_cache_dir`) when the
    network cache is on; None (built every time, nothing stored) when it is off.
    """
    if not network_cache:
        return None
    return Path(cache_dir) if cache_dir is not None else default_cache_dir()


def band_key(
    network: WalkNetwork,
    spans: list[Spans],
    *,
    buffer_m: float,
    quad_segs: int,
    simplify_m: float,
    workers: int = 1,
) -> dict[str, Any]:
    """Everything the band polygons of ``spans`` depend on, as a JSON-able dict.

    Parameters
    ----------
    network
        The walking network the spans were reached on.
    spans
        Per limit, ascending: the reached spans (edge positions, start and end along the
        edge in metres) as :func:`planner.walk.isochrones._spans` gives them.
    buffer_m, quad_segs, simplify_m
        As for :func:`planner.walk.isochrones.isochrone_polygons`.
    workers
        As for ``isochrone_polygons``: only whether the last two of three or more bands
        are merged side by side (``workers > 1``) is kept, since that gives the same
        outlines (to 1e-6 m) with the vertices in another order.

    Returns
    -------
    dict
        The spans' count and hash per limit, the streets' count and hash
        (:func:`streets_digest`), the CRS, the options, how the bands are merged, the
        geometry library's version, the package version and the cache format.
    """
    return {
        "spans": [
            [
                len(e),
                digest_arrays(
                    np.asarray(e, dtype=np.int64),
                    np.asarray(a, dtype=np.float64),
                    np.asarray(b, dtype=np.float64),
                ),
            ]
            for e, a, b in spans
        ],
        "streets": len(network.edges),
        "network": streets_digest(network),
        "crs": network.crs.to_wkt(),
        "buffer_m": float(buffer_m),
        "quad_segs": int(quad_segs),
        "simplify_m": float(simplify_m),
        "side_by_side": workers > 1 and len(spans) >= 3,
        "geos": shapely.geos_version_string,
        "planner": __version__,
        "format": BAND_CACHE_FORMAT,
    }


def band_polygons(
    network: WalkNetwork,
    node_dist_m: npt.NDArray[np.float64],
    stations: Snapped,
    *,
    limits_m: tuple[float, ...],
    buffer_m: float,
    cache_dir: str | Path,
    quad_segs: int = 3,
    simplify_m: float = 0.0,
    workers: int = 1,
    min_spans: int | None = None,
) -> list[shapely.Geometry]:
    """:func:`~planner.walk.isochrones.isochrone_polygons`, read from the cache or stored.

    Parameters
    ----------
    network, node_dist_m, stations, limits_m, buffer_m, quad_segs, simplify_m, workers
        As for :func:`~planner.walk.isochrones.isochrone_polygons` (of ``workers``, only
        whether the last bands are merged side by side is part of the key: see
        :func:`band_key`).
    cache_dir
        Cache folder; the entries are under its ``band-polygons`` subfolder.
    min_spans
        Fewer reached spans than this (all limits together) are built and not stored;
        :data:`BAND_CACHE_MIN_SPANS` when None.

    Returns
    -------
    list of shapely geometries
        One (Multi)Polygon per limit, nested; equal to a fresh build.
    """
    spans = [_spans(network, node_dist_m, stations, limit_m=limit) for limit in limits_m]

    def build() -> list[shapely.Geometry]:
        return isochrone_polygons(
            network,
            node_dist_m,
            stations,
            limits_m=limits_m,
            buffer_m=buffer_m,
            quad_segs=quad_segs,
            simplify_m=simplify_m,
            workers=workers,
        )

    limit = BAND_CACHE_MIN_SPANS if min_spans is None else min_spans
    if sum(len(s[0]) for s in spans) < limit:
        return build()
    key = band_key(
        network,
        spans,
        buffer_m=buffer_m,
        quad_segs=quad_segs,
        simplify_m=simplify_m,
        workers=workers,
    )
    path = entry_path(BAND_CACHE_SUBDIR, key, cache_dir)
    stored = load_bands(path, key, len(limits_m))
    if stored is not None:
        logger.info("Band polygons read from the cache (%s).", path)
        return stored
    polygons = build()
    t0 = time.perf_counter()
    try:
        save_bands(polygons, path, key)
        prune_entries(path.parent, keep=BAND_CACHE_KEEP, max_bytes=BAND_CACHE_MAX_BYTES)
    except OSError as err:
        logger.warning("Could not store the band polygons in %s (%s).", path, err)
    else:
        logger.info("Band polygons stored in %.2f s (%s).", time.perf_counter() - t0, path)
    return polygons


def save_bands(polygons: list[shapely.Geometry], path: Path, key: dict[str, Any]) -> None:
    """Write the band ``polygons`` and ``key`` to ``path`` atomically, with a checksum."""
    raw, offsets = wkb_arrays(polygons)
    write_entry(path, key, wkb=raw, wkb_offsets=offsets, wkb_digest=np.array(digest_arrays(raw)))


def load_bands(path: Path, key: dict[str, Any], n: int) -> list[shapely.Geometry] | None:
    """The ``n`` band polygons stored at ``path`` when whole and stored for ``key``; else None.

    A missing file gives None quietly; an unreadable, mismatched or tampered one (its
    polygons' bytes fail their checksum, or are not ``n`` polygons) is logged (it is then
    rebuilt and overwritten).
    """
    if not path.exists():
        return None
    try:
        data = read_entry(path, key, what="the stations' reach, streets and options")
        raw = np.asarray(data["wkb"], dtype=np.uint8)
        if str(data["wkb_digest"][()]) != digest_arrays(raw):
            msg = "its polygons do not match their checksum"
            raise ValueError(msg)
        geoms = geoms_from_wkb(raw, np.asarray(data["wkb_offsets"], dtype=np.int64), n)
        kinds = shapely.get_type_id(geoms)
        polygonal = (kinds == shapely.GeometryType.POLYGON) | (
            kinds == shapely.GeometryType.MULTIPOLYGON
        )
        if not bool(np.all(polygonal)):
            msg = "it holds geometries that are not polygons"
            raise ValueError(msg)
    except Exception as err:  # a broken cache entry of any kind is rebuilt
        logger.warning("Stored band polygons %s are unusable (%s); rebuilding them.", path, err)
        return None
    return list(geoms)
