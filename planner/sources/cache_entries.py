"""Content-keyed entries in the cache folder: one ``.npz`` of plain arrays per key.

The app's gap zones and snapped homes (:mod:`planner.app.area_files`) and the walk-time
band polygons (:mod:`planner.walk.band_cache`) are kept the same way: under a subfolder
of the cache folder (:func:`planner.sources.download.default_cache_dir`, or
``--cache-dir``), one ``.npz`` (no pickles) named by a hash of everything the stored
result depends on, that key stored inside it as JSON, written atomically, only the
newest entries kept. Geometries are stored as their WKB bytes end to end with offsets.

A reader checks the stored key against its own and raises :class:`ValueError` when they
differ; callers treat any failure to read an entry as a miss (rebuild and overwrite),
never as an error and never trusting what they read.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from planner.sources.download import default_cache_dir

#: Size of the BLAKE2b digests of arrays (bytes).
DIGEST_SIZE = 20


def digest_arrays(*arrays: npt.ArrayLike) -> str:
    """BLAKE2b hex digest of the arrays' bytes (C order), one after the other.

    The dtype and shape are not hashed: a key that uses it also says what the arrays
    are and how many rows they have.
    """
    digest = hashlib.blake2b(digest_size=DIGEST_SIZE)
    for arr in arrays:
        digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.hexdigest()


def entry_path(subdir: str, key: dict[str, Any], cache_dir: str | Path | None) -> Path:
    """Where the entry of ``key`` is stored: ``<cache_dir>/<subdir>/<hash of key>.npz``.

    ``cache_dir`` None is :func:`planner.sources.download.default_cache_dir`.
    """
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:32]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / subdir / f"{digest}.npz"


def write_entry(path: Path, key: dict[str, Any], **arrays: npt.NDArray[Any]) -> None:
    """Write ``arrays`` and ``key`` to ``path`` as one ``.npz``, atomically.

    A reader never sees half an entry: the arrays go to a temporary file beside it,
    which then replaces ``path``. The key is stored as JSON under ``key``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
    try:
        with tmp.open("wb") as f:
            np.savez(f, allow_pickle=False, key=np.array(json.dumps(key, sort_keys=True)), **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_entry(path: Path, key: dict[str, Any], *, what: str) -> dict[str, np.ndarray]:
    """Every array of the entry at ``path`` (its key left out), read into memory.

    Raises
    ------
    ValueError
        When the entry was stored for another ``key`` (``what`` says what the key stands
        for, in the message).
    OSError, ValueError, KeyError, ...
        Whatever reading a missing, truncated or foreign file raises: callers treat any
        exception as a miss.
    """
    with path.open("rb") as f, np.load(f, allow_pickle=False) as data:
        if json.loads(str(data["key"][()])) != key:
            msg = f"its key does not match {what}"
            raise ValueError(msg)
        return {name: data[name] for name in data.files if name != "key"}


def prune_entries(folder: Path, *, keep: int, max_bytes: int | None = None) -> None:
    """Delete the older stored entries in ``folder`` (newest first by modification time).

    The newest ``keep`` entries are kept, and of those only as many as fit in
    ``max_bytes`` together (the newest is always kept, however large): a cap by size
    lets a folder keep many small entries (a province's areas) and few large ones (a
    metro area's).
    """
    entries = sorted(
        (p for p in folder.glob("*.npz") if ".tmp." not in p.name),
        key=lambda p: p.stat().st_mtime_ns,
        reverse=True,
    )
    total = 0
    for n, entry in enumerate(entries):
        total += entry.stat().st_size
        if n >= keep or (n > 0 and max_bytes is not None and total > max_bytes):
            entry.unlink(missing_ok=True)


def wkb_arrays(
    geoms: list[shapely.Geometry] | npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The geometries' WKB bytes end to end, and the offsets of each (``n + 1``)."""
    parts = shapely.to_wkb(np.asarray(geoms, dtype=object)) if len(geoms) else []
    sizes = np.fromiter((len(b) for b in parts), dtype=np.int64, count=len(parts))
    raw = np.frombuffer(b"".join(parts), dtype=np.uint8)
    return raw, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def geoms_from_wkb(
    raw: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.object_]:
    """The ``n`` geometries written by :func:`wkb_arrays`.

    Raises
    ------
    ValueError
        When the offsets do not cut ``raw`` into ``n`` non-empty pieces, or a piece is
        not valid WKB.
    """
    if len(offsets) != n + 1 or int(offsets[-1]) != len(raw) or np.any(np.diff(offsets) <= 0):
        msg = "its geometries are cut short"
        raise ValueError(msg)
    data = raw.tobytes()
    bounds = offsets.tolist()
    pieces = [data[bounds[i] : bounds[i + 1]] for i in range(n)]
    out: npt.NDArray[np.object_] = shapely.from_wkb(pieces, on_invalid="raise")
    return out
