"""Reading a city's road line layer from whatever file it comes in.

:func:`read_road_frame` reads the lines of a Shapefile (also zipped, with its ``.dbf``
text in GBK when no ``.cpg`` says otherwise), GeoPackage, File Geodatabase (``.gdb``
folder, GDAL's OpenFileGDB driver), DXF from CAD (which states no CRS: give it),
GeoJSON, FlatGeobuf, ... into a GeoDataFrame with a CRS, coordinates copied from Chinese
web maps (GCJ-02, BD-09) converted to WGS84 like station points. The noding is
:mod:`planner.sources.road_layers`; the options of both travel in :class:`RoadOptions`.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj

from planner.errors import InputDataError, InputFileNotFoundError, UnsupportedFormatError
from planner.limits import InputLimits, check_compressed, check_count, check_file_size
from planner.sources.coords import CoordSystem, geometries_to_wgs84, resolve_crs
from planner.sources.encodings import redecode_dbf

#: File endings read as road line layers (everything else goes to the OSM readers).
ROAD_LAYER_SUFFIXES = (
    ".shp",
    ".zip",
    ".gpkg",
    ".gdb",
    ".dxf",
    ".geojson",
    ".json",
    ".fgb",
    ".sqlite",
    ".gml",
    ".kml",
)
#: The column of a DXF file naming each entity's CAD layer.
DXF_LAYER_COLUMN = "Layer"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class RoadOptions:
    """How a road line layer is read and noded into a walking network.

    Parameters
    ----------
    layer
        Layer of a file with several (GeoPackage, File Geodatabase, a zip of several
        shapefiles); for a DXF file, the CAD layer whose lines are kept.
    node_tolerance_m
        Line ends closer than this (metres) to another end or vertex are joined to it.
    walkable
        Keep only lines matching ``"<column> in (a, b)"`` or ``"<column> not in (a)"``.
    mapping
        A TOML mapping file (:mod:`planner.sources.road_mapping`): walkable classes, a
        "no pedestrians" flag column, the lines' own walking speeds. Part of the cache key
        by its content, so a changed speed builds the network again.
    crs
        The layer's CRS when the file states none (DXF always), or to override a wrong one.
    coord_system
        ``"gcj02"`` or ``"bd09"`` for lon/lat lines traced from Chinese web maps.
    osm_paths
        An OSM extract whose footways, paths, steps and alleys are merged into the layer
        (:mod:`planner.sources.road_paths`).
    osm_join_m
        OSM path ends within this distance of a road line are joined to it (metres).
    """

    layer: str | None = None
    node_tolerance_m: float = 0.5
    walkable: str | None = None
    mapping: str | Path | None = None
    crs: str | None = None
    coord_system: CoordSystem = "wgs84"
    osm_paths: str | Path | None = None
    osm_join_m: float = 5.0

    def key(self) -> dict[str, Any]:
        """The options as a cache key: files by their content, not only their names."""
        return {
            "layer": self.layer,
            "node_tolerance_m": self.node_tolerance_m,
            "walkable": self.walkable,
            "mapping": _given_file(self.mapping, "--road-mapping"),
            "crs": self.crs,
            "coord_system": self.coord_system,
            "osm_paths": _given_file(self.osm_paths, "--add-osm-paths"),
            "osm_join_m": self.osm_join_m,
        }

    def facts(self) -> dict[str, Any]:
        """The options as JSON-ready values (files by name), for ``summary.json``."""
        return {
            "layer": self.layer,
            "node_tolerance_m": self.node_tolerance_m,
            "walkable": self.walkable,
            "mapping": None if self.mapping is None else str(self.mapping),
            "crs": self.crs,
            "coord_system": self.coord_system,
            "osm_paths": None if self.osm_paths is None else str(self.osm_paths),
            "osm_join_m": self.osm_join_m,
        }


def _given_file(path: str | Path | None, option: str) -> dict[str, Any] | None:
    """The fingerprint of a file an option names (None when not given)."""
    if path is None:
        return None
    p = Path(path).expanduser()
    if not p.is_file():
        msg = (
            f"{p}: no such file ({option}). Check the path (relative paths start at {Path.cwd()})."
        )
        raise InputFileNotFoundError(msg)
    return path_fingerprint(p)


def is_road_layer(path: str | Path) -> bool:
    """Whether ``path`` is read as a road line layer (by its ending)."""
    return str(path).lower().rstrip("/\\").endswith(ROAD_LAYER_SUFFIXES)


def road_source(path: str | Path) -> Path:
    """The path of a road layer, checked to exist (a ``.gdb`` folder, else a file)."""
    p = Path(path).expanduser()
    if not p.exists():
        msg = f"{p}: no such file. Check the path (relative paths start at {Path.cwd()})."
        raise InputFileNotFoundError(msg)
    if p.is_dir() and not p.name.lower().endswith(".gdb"):
        msg = (
            f"{p}: is a folder; give the path of a line layer file (a File Geodatabase "
            "folder ends in .gdb)."
        )
        raise InputDataError(msg)
    return p


def path_size(p: Path) -> int:
    """Bytes of a file, or of every file in a folder (a File Geodatabase)."""
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size


def path_fingerprint(p: Path) -> dict[str, Any]:
    """Size, modification time and BLAKE2b hash of a file, or of every file of a folder."""
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    digest = hashlib.blake2b(digest_size=20)
    mtime = 0
    for f in files:
        digest.update(str(f.relative_to(p) if p.is_dir() else f.name).encode("utf-8"))
        mtime = max(mtime, f.stat().st_mtime_ns)
        with f.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    return {"size": path_size(p), "mtime_ns": mtime, "blake2b": digest.hexdigest()}


def check_road_file(p: Path, limits: InputLimits) -> None:
    """Refuse a road layer too large to read (and a zip bomb), before it is read."""
    check_file_size(
        p,
        path_size(p),
        limit_mb=limits.max_network_file_mb,
        what="road",
        name="max_network_file_mb",
    )
    check_compressed(p, limits)


def read_road_frame(p: Path, options: RoadOptions, limits: InputLimits) -> gpd.GeoDataFrame:
    """The features of a road layer, with a CRS, in WGS84 when given as GCJ-02/BD-09.

    Parameters
    ----------
    p
        A checked path (:func:`road_source`, :func:`check_road_file`).
    options
        ``layer``, ``crs`` and ``coord_system`` apply.
    limits
        ``max_rows`` and ``max_columns`` apply to the layer's declared size.

    Raises
    ------
    UnsupportedFormatError
        When GDAL cannot read the file as a layer.
    InputDataError
        For an unknown layer, a layer without a CRS (and none given), or a CRS given
        with ``coord_system`` that is not longitude/latitude.
    """
    import pyogrio

    layer = options.layer
    source = _gdal_path(p)
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(source)]
    except Exception as err:
        raise _unreadable(p, layer, err) from err
    is_dxf = p.name.lower().endswith(".dxf")
    gdal_layer = None if is_dxf else layer
    if gdal_layer is None and len(layers) > 1:
        msg = (
            f"{p}: holds {len(layers)} layers ({', '.join(layers)}); choose the road lines "
            "with --network-layer NAME."
        )
        raise InputDataError(msg)
    if gdal_layer is not None and gdal_layer not in layers:
        msg = f"{p}: no layer {gdal_layer!r}; its layers are {', '.join(layers)}."
        raise InputDataError(msg)
    try:
        info = pyogrio.read_info(source, layer=gdal_layer)
        check_count(
            p, len(info.get("fields", ())), limit=limits.max_columns, what="columns",
            name="max_columns",
        )  # fmt: skip
        features = int(info.get("features", -1) or -1)
        check_count(p, features, limit=limits.max_rows, what="rows", name="max_rows")
        frame = gpd.read_file(source, layer=gdal_layer, engine="pyogrio")
    except InputDataError:
        raise
    except Exception as err:
        raise _unreadable(p, layer, err) from err
    undeclared = info.get("driver") == "ESRI Shapefile" and info.get("encoding") == "ISO-8859-1"
    if undeclared or is_dxf:
        frame = _redecode(p, frame)
    if is_dxf and layer is not None:
        frame = _dxf_layer(p, frame, layer)
    return _with_crs(p, frame, options, is_dxf=is_dxf)


#: Single files or folders a zip may hold instead of a shapefile.
_ZIPPED = (".gdb", ".gpkg", ".geojson", ".json", ".fgb", ".dxf", ".sqlite", ".gml", ".kml")


def _gdal_path(p: Path) -> str | Path:
    """Where GDAL reads ``p``: inside a zip, the one File Geodatabase or layer file it holds.

    GDAL reads shapefiles in a zip by itself; a zipped ``.gdb`` folder or GeoPackage it
    reads in place through ``/vsizip/`` (nothing is extracted, so member names cannot
    write anywhere).
    """
    if not p.name.lower().endswith(".zip"):
        return p
    try:
        with zipfile.ZipFile(p) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return p  # GDAL's own message names the file
    lower = [n.lower() for n in names]
    if any(n.endswith(".shp") for n in lower):
        return p
    inner = {
        n[: low.index(".gdb/") + 4] if ".gdb/" in low else n
        for n, low in zip(names, lower, strict=True)
        if ".gdb/" in low or low.endswith(_ZIPPED)
    }
    if len(inner) == 1:
        return f"/vsizip/{p}/{next(iter(inner))}"
    return p


def _unreadable(p: Path, layer: str | None, err: Exception) -> UnsupportedFormatError:
    which = f" (layer {layer!r})" if layer else ""
    msg = (
        f"{p}{which}: cannot be read as a line layer ({type(err).__name__}: {err}). "
        "Give a Shapefile (or a .zip holding one), GeoPackage, File Geodatabase (.gdb "
        "folder), DXF, GeoJSON or another GDAL line layer."
    )
    return UnsupportedFormatError(msg)


def _redecode(p: Path, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Text and column names read as Latin-1: taken as UTF-8 or GBK when they read so.

    A ``.dbf`` without ``.cpg``, or a DXF file whose code page GDAL took as Latin-1:
    :func:`planner.sources.encodings.redecode_dbf` takes the values back to their bytes
    and decodes them as the station tables do. The column names get the same test, by
    themselves. Text that is not all Latin-1 was decoded already and stays as it is.
    """
    cells = [v for c in frame.columns if c != frame.geometry.name for v in frame[c]]
    texts = [*(v for v in cells if isinstance(v, str)), *(str(c) for c in frame.columns)]
    if any(max(t, default="\0") > "\xff" for t in texts):
        return frame
    out = redecode_dbf(p, None, frame)
    names = [str(c) for c in out.columns if c != out.geometry.name]
    as_frame = pd.DataFrame({"name": pd.Series(names, dtype=object)})
    decoded = redecode_dbf(p, None, as_frame)["name"].tolist()
    if decoded != names:
        out = out.rename(columns=dict(zip(names, decoded, strict=True)))
    return out


def _dxf_layer(p: Path, frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    if DXF_LAYER_COLUMN not in frame.columns:
        msg = f"{p}: the DXF file has no CAD layer names; leave out --network-layer."
        raise InputDataError(msg)
    names = frame[DXF_LAYER_COLUMN].astype(str)
    if not (names == layer).any():
        known = ", ".join(sorted(set(names))[:20])
        msg = f"{p}: no CAD layer {layer!r}; its layers are {known}."
        raise InputDataError(msg)
    return frame.loc[(names == layer).to_numpy()]


def _with_crs(
    p: Path, frame: gpd.GeoDataFrame, options: RoadOptions, *, is_dxf: bool
) -> gpd.GeoDataFrame:
    if options.crs is not None:
        crs = resolve_crs(options.crs, source="--network-crs")
        frame = frame.set_crs(crs, allow_override=True)
    elif frame.crs is None:
        if is_dxf:
            msg = (
                f"{p}: a DXF file states no coordinate reference system. Give the one its "
                "coordinates are in with --network-crs, e.g. --network-crs EPSG:4547 "
                "(CGCS2000 / 3-degree Gauss-Kruger CM 114E)."
            )
        else:
            msg = (
                f"{p}: the layer states no CRS; define it (e.g. a .prj file) or give it "
                "with --network-crs EPSG:xxxx."
            )
        raise InputDataError(msg)
    if options.coord_system == "wgs84":
        return frame
    crs = pyproj.CRS.from_user_input(frame.crs)
    if not crs.is_geographic:
        msg = (
            f"{p}: --network-coord-system {options.coord_system} applies to longitude/"
            f"latitude lines, but the layer is in {crs.name} (projected). Leave it out, or "
            "give the layer's CRS as EPSG:4326."
        )
        raise InputDataError(msg)
    converted = geometries_to_wgs84(frame.geometry, options.coord_system)
    return frame.set_geometry(converted.rename(frame.geometry.name), crs=converted.crs)
