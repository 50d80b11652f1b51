"""Walking networks built from files, and the on-disk cache that skips rebuilding them.

:func:`network_from_file` reads an extract's street tables
(:mod:`planner.sources.street_tables`) and compiles them
(:func:`planner.walk.compile.network_from_tables`). The built network is stored under
``<cache_dir>/built-networks/`` (the cache folder of downloads,
:func:`planner.sources.download.default_cache_dir`, or ``--cache-dir``) as one ``.npz``
of plain arrays (no pickles) and a small ``.json``, named by a hash of the file's content
(size and a hash of its bytes: a copy or a new upload of the same file finds it), the
build options, the package version and the cache format. A second build of the same file
loads the arrays instead of parsing and compiling. An entry that cannot be read or does
not match its key is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse

from planner._version import __version__
from planner.limits import DEFAULT_LIMITS, InputLimits, check_network_file
from planner.sources.areas import Area
from planner.sources.download import default_cache_dir
from planner.sources.road_files import RoadOptions, is_road_layer, path_fingerprint, road_source
from planner.sources.road_layers import RoadLayerReport, road_tables_from_file
from planner.sources.street_tables import PROFILE_TAGS, clip_tables, street_tables_from_file
from planner.sources.tableio import existing_file
from planner.walk.compile import network_from_tables
from planner.walk.network import (
    LINE_FACTOR_COLUMN,
    LINE_SPEED_COLUMN,
    IslandReport,
    WalkNetwork,
    frozen,
)

logger = logging.getLogger(__name__)

#: Bump when a cached network would no longer match what a fresh build gives.
CACHE_FORMAT = 3
#: Folder of built networks under the cache folder.
CACHE_SUBDIR = "built-networks"
_CHUNK = 1 << 20


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Size, modification time (ns) and BLAKE2b hash of the bytes of a file, streamed."""
    stat = path.stat()
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "blake2b": digest.hexdigest()}


def network_from_file(
    path: str | Path,
    *,
    study_area: Area | None = None,
    crs: str | pyproj.CRS | None = None,
    keep_islands: bool = False,
    limits: InputLimits | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    road: RoadOptions | None = None,
) -> WalkNetwork:
    """The walking network of a local OSM extract, GraphML file or road layer, cached.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.graphml``, or a road line
        layer (:data:`planner.sources.road_files.ROAD_LAYER_SUFFIXES`; a File
        Geodatabase is a ``.gdb`` folder).
    study_area
        Keep only the streets whose two ends lie inside this polygon (WGS84).
    crs, keep_islands
        As in :func:`planner.walk.compile.network_from_tables`.
    limits
        File limits (:class:`~planner.limits.InputLimits` defaults when None).
    cache_dir
        Cache folder; :func:`planner.sources.download.default_cache_dir` when None.
    use_cache
        Read and write the built-network cache (False: always build, store nothing).
    road
        For road layers only: layer, node tolerance, walkable lines, mapping file, CRS,
        OSM paths (:class:`planner.sources.road_files.RoadOptions`; its defaults when
        None); part of the cache key, files by their content.

    Returns
    -------
    WalkNetwork
        ``from_cache`` says whether it came from the cache; ``islands`` counts every part
        of the file's network left out, whoever would have dropped it.

    Raises
    ------
    InputFileNotFoundError, UnsupportedFormatError, NetworkBuildError, InputLimitError
        As :func:`planner.sources.streets.graph_from_file`.
    """
    is_road = is_road_layer(path)
    p = road_source(path) if is_road else existing_file(path)
    lim = limits or DEFAULT_LIMITS
    road_opts = road or RoadOptions()
    if not is_road:
        check_network_file(p, lim)
    if not use_cache:
        return _build(p, study_area, crs, keep_islands, lim, road_opts)
    key = {
        "file": _content(path_fingerprint(p) if is_road else file_fingerprint(p)),
        "study_area": None if study_area is None else shapely.normalize(study_area).wkt,
        "crs": None if crs is None else pyproj.CRS.from_user_input(crs).to_wkt(),
        "keep_islands": keep_islands,
        "road_layer": road_opts.key() if is_road else None,
        "planner": __version__,
        "format": CACHE_FORMAT,
    }
    text = json.dumps(key, sort_keys=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    stem = folder / CACHE_SUBDIR / digest
    cached = load_cached_network(stem, key, source=str(p))
    if cached is not None:
        logger.info("%s: network loaded from the cache (%s.npz).", p, stem)
        return cached
    network = _build(p, study_area, crs, keep_islands, lim, road_opts)
    try:
        save_network(network, stem, key)
    except OSError as err:
        logger.warning("%s: could not store the built network in %s (%s).", p, stem, err)
    return network


def _content(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """A file's fingerprint without its modification time: the key is the content.

    The same extract uploaded twice to the app lands in a new temporary file (a new
    modification time each time); its size and hash still find the built network.
    """
    return {k: v for k, v in fingerprint.items() if k != "mtime_ns"}


def _build(
    p: Path,
    area: Area | None,
    crs: str | pyproj.CRS | None,
    keep_islands: bool,
    limits: InputLimits,
    road: RoadOptions,
) -> WalkNetwork:
    if not is_road_layer(p):
        tables = street_tables_from_file(p, limits=limits)
        if area is not None:
            tables = clip_tables(tables, area)
        return network_from_tables(tables, crs=crs, keep_islands=keep_islands)
    tables, report = road_tables_from_file(p, options=road, limits=limits)
    if area is not None:
        tables = clip_tables(tables, area)
    network = network_from_tables(tables, crs=crs, keep_islands=keep_islands)
    return replace(network, road_report=report)


def save_network(network: WalkNetwork, stem: Path, key: dict[str, Any]) -> None:
    """Write ``network`` as ``<stem>.npz`` and ``<stem>.json``, each atomically."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    edges = network.edges
    wkb = shapely.to_wkb(edges.geometry.to_numpy())
    sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    arrays: dict[str, Any] = {
        "node_ids": np.asarray(network.node_ids),
        "node_xy": np.asarray(network.node_xy),
        "csr_data": network.csr.data,
        "csr_indices": network.csr.indices,
        "csr_indptr": network.csr.indptr,
        "wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8),
        "wkb_offsets": np.concatenate([[0], np.cumsum(sizes)]),
    }
    for col in ("u", "v", "u_idx", "v_idx", "length_m", "snappable"):
        arrays[f"edge_{col}"] = edges[col].to_numpy()
    for tag in PROFILE_TAGS:
        codes, uniques = pd.factorize(edges[tag].astype(str))
        arrays[f"tag_{tag}_codes"] = codes.astype(np.int32)
        arrays[f"tag_{tag}_values"] = np.asarray(uniques, dtype=str)
    for own in (LINE_SPEED_COLUMN, LINE_FACTOR_COLUMN):
        if own in edges.columns:
            arrays[f"edge_{own}"] = edges[own].to_numpy(dtype=np.float64)
    tmp = stem.with_name(f"{stem.name}.{os.getpid()}.tmp.npz")
    with tmp.open("wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, stem.with_suffix(".npz"))
    isl = network.islands
    meta = {
        "key": key,
        "crs": network.crs.to_wkt(),
        "islands": [isl.components, isl.nodes_dropped, isl.street_m_dropped, isl.parts_dropped],
        "nodes": network.n_nodes,
        "streets": len(edges),
        "road_report": None if network.road_report is None else asdict(network.road_report),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp_json = stem.with_name(f"{stem.name}.{os.getpid()}.tmp.json")
    tmp_json.write_text(json.dumps(meta, indent=1), "utf-8")
    os.replace(tmp_json, stem.with_suffix(".json"))


def load_cached_network(stem: Path, key: dict[str, Any], *, source: str) -> WalkNetwork | None:
    """The network stored at ``stem`` when it is whole and was built for ``key``; else None.

    A missing entry gives None quietly; a corrupt or mismatched one is logged (and will be
    overwritten by the rebuilt network).
    """
    npz, meta_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
    if not npz.exists() or not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta.get("key") != key:
            msg = "its key does not match the file and options"
            raise ValueError(msg)
        with npz.open("rb") as f, np.load(f, allow_pickle=False) as data:
            return _network_from_arrays(data, meta, source)
    except Exception as err:  # a broken cache entry of any kind is rebuilt
        logger.warning("Cached network %s is unusable (%s); rebuilding it.", npz, err)
        return None


def _network_from_arrays(data: Any, meta: dict[str, Any], source: str) -> WalkNetwork:
    node_ids = np.asarray(data["node_ids"], dtype=np.int64)
    node_xy = np.asarray(data["node_xy"], dtype=np.float64)
    n = len(node_ids)
    indptr, indices = data["csr_indptr"], data["csr_indices"]
    m = len(data["edge_u"])
    ok = (
        n == meta["nodes"]
        and m == meta["streets"]
        and node_xy.shape == (n, 2)
        and len(indptr) == n + 1
        and indptr[-1] == len(indices) == len(data["csr_data"])
        and (len(indices) == 0 or 0 <= indices.min() <= indices.max() < n)
        and len(data["wkb_offsets"]) == m + 1
        and data["wkb_offsets"][-1] == len(data["wkb"])
    )
    if not ok:
        msg = "its arrays are inconsistent"
        raise ValueError(msg)
    csr = sparse.csr_array((data["csr_data"], indices, indptr), shape=(n, n))
    csr.indices = csr.indices.astype(np.int32)
    csr.indptr = csr.indptr.astype(np.int32)
    raw = data["wkb"].tobytes()
    offsets = data["wkb_offsets"]
    geoms = shapely.from_wkb([raw[offsets[i] : offsets[i + 1]] for i in range(m)])
    columns: dict[str, Any] = {}
    for col in ("u", "v", "u_idx", "v_idx", "length_m", "snappable"):
        values = data[f"edge_{col}"]
        if len(values) != m:
            msg = f"edge column {col} has {len(values)} rows, not {m}"
            raise ValueError(msg)
        columns[col] = values
    if (m and not (min(columns["u_idx"].min(), columns["v_idx"].min()) >= 0)) or (
        m and max(columns["u_idx"].max(), columns["v_idx"].max()) >= n
    ):
        msg = "its edges name nodes it does not have"
        raise ValueError(msg)
    for tag in PROFILE_TAGS:
        values = data[f"tag_{tag}_values"].astype(object)
        columns[tag] = values[data[f"tag_{tag}_codes"]] if m else np.array([], dtype=object)
    for own in (LINE_SPEED_COLUMN, LINE_FACTOR_COLUMN):
        if f"edge_{own}" in data:
            values = np.asarray(data[f"edge_{own}"], dtype=np.float64)
            if len(values) != m:
                msg = f"edge column {own} has {len(values)} rows, not {m}"
                raise ValueError(msg)
            columns[own] = values
    crs = pyproj.CRS.from_wkt(meta["crs"])
    components, nodes_dropped, street_m, parts = meta["islands"]
    road = meta.get("road_report")
    return WalkNetwork(
        crs=crs,
        node_ids=frozen(node_ids),
        node_xy=frozen(node_xy),
        csr=csr,
        edges=gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geoms, crs=crs)),
        islands=IslandReport(
            components=int(components),
            nodes_dropped=int(nodes_dropped),
            street_m_dropped=float(street_m),
            parts_dropped=int(parts),
        ),
        source=source,
        from_cache=True,
        road_report=None if road is None else RoadLayerReport(**road),
    )
