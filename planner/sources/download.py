"""Walking networks downloaded through osmnx: by place name, bounding box, point or polygon.

Two caches make a second run of the same area work without a connection and without
rebuilding anything:

- the **built network**: each query's walking graph is saved as GraphML under
  ``<cache_dir>/networks/``, named by a hash of the query, the network type and the osmnx
  version; the same query loads it and makes no request at all;
- **osmnx's own HTTP cache** (``<cache_dir>/osmnx-http/``): the Nominatim and Overpass
  responses, so a graph can be rebuilt (after an osmnx upgrade, say) without downloading.

Without a connection, a query that is in neither cache fails with a
:class:`~planner.errors.NetworkDownloadError` that names the offline options: a local
extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) or GraphML file.

osmnx keeps its settings in one module-level object; a download sets the cache folder for
its duration only (under a lock, so concurrent app sessions do not interleave) and then
restores the caller's settings.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputDataError, NetworkBuildError, NetworkDownloadError
from planner.sources.areas import Area

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
#: Environment variable that moves the default cache folder.
CACHE_ENV = "PLANNER_CACHE_DIR"
#: osmnx's network type for pedestrians.
NETWORK_TYPE = "walk"
#: Bump when the cached GraphML would no longer match what a fresh build gives.
CACHE_FORMAT = 1

_LOCK = threading.Lock()
_PREFLIGHT_TIMEOUT_S = 5.0

QueryKind = Literal["place", "bbox", "point", "polygon"]


@dataclass(frozen=True, slots=True)
class NetworkQuery:
    """The area whose walking network to download; build it with the ``*_query`` helpers.

    Attributes
    ----------
    kind
        ``"place"``, ``"bbox"``, ``"point"`` or ``"polygon"``.
    place
        Place name for Nominatim (``"Kotka, Finland"``, ``"朝阳区, 北京"``).
    bbox
        ``(west, south, east, north)`` in WGS84 degrees.
    point
        ``(lon, lat)`` in WGS84 degrees.
    radius_m
        Half the side of the square around ``point``, metres.
    polygon
        Area in WGS84.
    """

    kind: QueryKind
    place: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    point: tuple[float, float] | None = None
    radius_m: float | None = None
    polygon: Area | None = None

    def describe(self) -> str:
        """Short text for messages and ``graph["source"]``."""
        if self.kind == "place":
            return f"place {self.place!r}"
        if self.kind == "bbox":
            return f"bbox {','.join(f'{v:g}' for v in self.bbox or ())}"
        if self.kind == "point":
            lon, lat = self.point or (0.0, 0.0)
            return f"{self.radius_m:g} m around {lon:g},{lat:g}"
        assert self.polygon is not None
        w, s, e, n = self.polygon.bounds
        return f"polygon within {w:.5f},{s:.5f},{e:.5f},{n:.5f}"

    def key(self) -> str:
        """Stable text identifying the query, for the cache file name."""
        if self.kind == "place":
            value: Any = " ".join((self.place or "").split()).casefold()
        elif self.kind == "bbox":
            value = [round(v, 7) for v in self.bbox or ()]
        elif self.kind == "point":
            value = [*(round(v, 7) for v in self.point or ()), round(self.radius_m or 0, 3)]
        else:
            assert self.polygon is not None
            value = hashlib.sha256(self.polygon.normalize().wkb).hexdigest()
        return json.dumps(
            {
                "kind": self.kind,
                "value": value,
                "network_type": NETWORK_TYPE,
                "osmnx": importlib.metadata.version("osmnx"),
                "format": CACHE_FORMAT,
            },
            sort_keys=True,
            ensure_ascii=False,
        )


def place_query(place: str) -> NetworkQuery:
    """Query for a place name (city, district, street-committee area)."""
    if not place.strip():
        msg = "--place: give a place name, e.g. 'Kotka, Finland'."
        raise InputDataError(msg)
    return NetworkQuery(kind="place", place=" ".join(place.split()))


def bbox_query(bbox: tuple[float, float, float, float]) -> NetworkQuery:
    """Query for a bounding box ``(west, south, east, north)`` in WGS84 degrees."""
    west, south, east, north = (float(v) for v in bbox)
    ok = -180 <= west < east <= 180 and -90 <= south < north <= 90
    if not ok:
        msg = (
            f"--bbox {west:g},{south:g},{east:g},{north:g}: expected WEST,SOUTH,EAST,NORTH in "
            "WGS84 degrees with west < east and south < north, e.g. 26.90,60.45,26.98,60.50."
        )
        raise InputDataError(msg)
    return NetworkQuery(kind="bbox", bbox=(west, south, east, north))


def point_query(point: tuple[float, float], *, radius_m: float) -> NetworkQuery:
    """Query for the square of half-side ``radius_m`` around ``(lon, lat)``."""
    lon, lat = (float(v) for v in point)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"--point {lon:g},{lat:g}: expected LON,LAT in WGS84 degrees."
        raise InputDataError(msg)
    if not (radius_m > 0):
        msg = f"--radius-m must be a positive number of metres, got {radius_m!r}."
        raise InputDataError(msg)
    return NetworkQuery(kind="point", point=(lon, lat), radius_m=float(radius_m))


def polygon_query(polygon: Area) -> NetworkQuery:
    """Query for a polygon in WGS84 (from :func:`planner.sources.areas.study_area_from_file`)."""
    return NetworkQuery(kind="polygon", polygon=polygon)


def default_cache_dir() -> Path:
    """The cache folder: ``$PLANNER_CACHE_DIR``, else the user cache folder of the platform."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("service-circle-planner"))


def cached_network_path(query: NetworkQuery, *, cache_dir: str | Path | None = None) -> Path:
    """Where the built network of ``query`` is (or would be) cached."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(query.key().encode("utf-8")).hexdigest()[:16]
    return folder / "networks" / f"{query.kind}-{digest}.graphml"


def graph_from_query(
    query: NetworkQuery, *, cache_dir: str | Path | None = None, refresh: bool = False
) -> nx.MultiDiGraph:
    """The walking network of an area, from the cache or downloaded through osmnx.

    Parameters
    ----------
    query
        The area (:func:`place_query`, :func:`bbox_query`, :func:`point_query`,
        :func:`polygon_query`).
    cache_dir
        Cache folder; :func:`default_cache_dir` when None.
    refresh
        Download again even when the network is cached (osmnx's HTTP cache still
        answers repeated requests).

    Returns
    -------
    networkx.MultiDiGraph
        osmnx walking graph in WGS84, edge ``length`` in metres; ``graph["source"]``
        describes the query and ``graph["cache_file"]`` where it is cached.

    Raises
    ------
    NetworkDownloadError
        No connection (the message names the local-file options), a server error, or a
        place Nominatim does not know as an area.
    NetworkBuildError
        The area has no walkable street.
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cached_network_path(query, cache_dir=folder)
    if path.exists() and not refresh:
        logger.info("Loading the cached network of %s from %s.", query.describe(), path)
        import osmnx as ox  # slow to import (sklearn): only when used

        graph: nx.MultiDiGraph = ox.load_graphml(path)
    else:
        graph = _download(query, folder)
        _save_atomically(graph, path, query)
    graph.graph["source"] = f"OpenStreetMap via osmnx: {query.describe()}"
    graph.graph["cache_file"] = str(path)
    return graph


def graph_from_place(place: str, *, cache_dir: str | Path | None = None) -> nx.MultiDiGraph:
    """Walking network of a named place; see :func:`graph_from_query`."""
    return graph_from_query(place_query(place), cache_dir=cache_dir)


def graph_from_bbox(
    bbox: tuple[float, float, float, float], *, cache_dir: str | Path | None = None
) -> nx.MultiDiGraph:
    """Walking network in ``(west, south, east, north)``; see :func:`graph_from_query`."""
    return graph_from_query(bbox_query(bbox), cache_dir=cache_dir)


def graph_from_point(
    point: tuple[float, float], *, radius_m: float, cache_dir: str | Path | None = None
) -> nx.MultiDiGraph:
    """Walking network within ``radius_m`` of ``(lon, lat)``; see :func:`graph_from_query`."""
    return graph_from_query(point_query(point, radius_m=radius_m), cache_dir=cache_dir)


def graph_from_polygon(polygon: Area, *, cache_dir: str | Path | None = None) -> nx.MultiDiGraph:
    """Walking network inside a WGS84 polygon; see :func:`graph_from_query`."""
    return graph_from_query(polygon_query(polygon), cache_dir=cache_dir)


#: Building tags kept in the buildings cache (what :func:`homes_from_buildings` reads).
BUILDING_COLUMNS = ("building", "building:levels", "building:flats", "amenity", "shop", "office")


def cached_buildings_path(query: NetworkQuery, *, cache_dir: str | Path | None = None) -> Path:
    """Where the buildings of ``query``'s area are (or would be) cached."""
    network = cached_network_path(query, cache_dir=cache_dir)
    return network.parent.parent / "buildings" / network.with_suffix(".gpkg").name


def buildings_from_query(
    query: NetworkQuery, *, cache_dir: str | Path | None = None, refresh: bool = False
) -> gpd.GeoDataFrame:
    """Building outlines (``building=*``) of a queried area, from the cache or osmnx.

    Parameters
    ----------
    query, cache_dir, refresh
        As in :func:`graph_from_query`; cached as GeoPackage under ``buildings/``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``osm_type``, ``id``, the tags of :data:`BUILDING_COLUMNS` and the outline, in
        WGS84 (no rows when the area has no building), ready for
        :func:`planner.sources.population.homes_from_buildings`.

    Raises
    ------
    NetworkDownloadError
        As :func:`graph_from_query`.
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cached_buildings_path(query, cache_dir=folder)
    if path.exists() and not refresh:
        logger.info("Loading the cached buildings of %s from %s.", query.describe(), path)
        cached: gpd.GeoDataFrame = gpd.read_file(path, engine="pyogrio")
        return cached
    from osmnx._errors import InsufficientResponseError

    fetch = _features_fetcher(query, {"building": True})
    try:
        raw = _guarded(query, folder, fetch, what="buildings")
    except InsufficientResponseError:
        raw = gpd.GeoDataFrame({"building": []}, geometry=[], crs=WGS84)
    out = _building_table(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.gpkg")
    out.to_file(tmp, engine="pyogrio")
    os.replace(tmp, path)
    return out


def _features_fetcher(
    query: NetworkQuery, tags: dict[str, bool | str | list[str]]
) -> Callable[[], gpd.GeoDataFrame]:
    import osmnx as ox

    place, bbox, point, radius_m, polygon = (
        query.place,
        query.bbox,
        query.point,
        query.radius_m,
        query.polygon,
    )
    if place is not None:
        return lambda: ox.features_from_place(place, tags)
    if bbox is not None:
        return lambda: ox.features_from_bbox(bbox, tags)
    if point is not None and radius_m is not None:
        return lambda: ox.features_from_point((point[1], point[0]), tags, radius_m)
    return lambda: ox.features_from_polygon(polygon, tags)


def _building_table(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A plain table of osmnx features: element type and id as columns, scalar tags only."""
    if isinstance(raw.index, pd.MultiIndex) and len(raw):
        osm_type = raw.index.get_level_values(0).astype(str)
        ids = raw.index.get_level_values(1).astype("int64")
    else:
        osm_type, ids = pd.Index([], dtype=object), pd.Index([], dtype="int64")
    data = {"osm_type": np.asarray(osm_type, dtype=object), "id": np.asarray(ids)}
    for col in BUILDING_COLUMNS:
        values = raw[col] if col in raw.columns else pd.Series(None, index=raw.index)
        data[col] = np.asarray(values.map(lambda v: None if pd.isna(v) else str(v)), dtype=object)
    polygonal = raw.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy() if len(raw) else []
    table = gpd.GeoDataFrame(data, geometry=np.asarray(raw.geometry), crs=WGS84)
    return table.loc[np.asarray(polygonal, dtype=bool)].reset_index(drop=True)


# ------------------------------------------------------------------------------ helpers


def _fetcher(query: NetworkQuery) -> Callable[[], nx.MultiDiGraph]:
    opts: dict[str, Any] = {"network_type": NETWORK_TYPE, "simplify": True, "retain_all": False}
    import osmnx as ox

    place, bbox, point, radius_m, polygon = (
        query.place,
        query.bbox,
        query.point,
        query.radius_m,
        query.polygon,
    )
    if place is not None:
        return lambda: ox.graph_from_place(place, **opts)
    if bbox is not None:
        return lambda: ox.graph_from_bbox(bbox, **opts)
    if point is not None and radius_m is not None:
        lon, lat = point
        return lambda: ox.graph_from_point((lat, lon), dist=radius_m, **opts)
    return lambda: ox.graph_from_polygon(polygon, **opts)


def _download(query: NetworkQuery, folder: Path) -> nx.MultiDiGraph:
    from osmnx._errors import InsufficientResponseError

    try:
        graph: nx.MultiDiGraph = _guarded(query, folder, _fetcher(query), what="walking network")
    except InsufficientResponseError as err:
        if query.kind == "place":
            msg = (
                f"Nominatim found no place {query.place!r} ({err}). Check the spelling, "
                "add the country (e.g. 'Kotka, Finland'), or give the area with "
                "--bbox, --point/--radius-m or --polygon."
            )
            raise NetworkDownloadError(msg) from err
        raise _no_streets(query) from err
    except ValueError as err:
        if "no graph nodes" in str(err).lower() or "empty" in str(err).lower():
            raise _no_streets(query) from err
        raise
    if graph.number_of_edges() == 0:
        raise _no_streets(query)
    return graph


def _guarded(query: NetworkQuery, folder: Path, fetch: Callable[[], Any], *, what: str) -> Any:
    """Run an osmnx download with our cache folder; turn transport failures into our errors.

    osmnx's ``InsufficientResponseError`` (no such place, no data) is left to the caller.
    """
    import requests  # with osmnx: only a download needs them
    from osmnx._errors import ResponseStatusCodeError

    with _LOCK, _osmnx_settings(folder / "osmnx-http") as settings:
        settings.overpass_rate_limit = settings.overpass_rate_limit and _reachable(
            settings.overpass_url
        )
        logger.info("Downloading the %s of %s ...", what, query.describe())
        try:
            return fetch()
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
            raise _offline(query, folder, err, what) from err
        except requests.exceptions.RequestException as err:
            msg = f"Downloading the {what} of {query.describe()} failed: {err}."
            raise NetworkDownloadError(msg) from err
        except ResponseStatusCodeError as err:
            msg = (
                f"The OpenStreetMap server refused the query for {query.describe()} ({err}). "
                "Try again later, or use a local extract with --network FILE."
            )
            raise NetworkDownloadError(msg) from err
        except TypeError as err:
            if query.kind != "place":
                raise
            msg = (
                f"Nominatim knows {query.place!r} only as a point, not as an area with a "
                "boundary. Give the area with --point LON,LAT --radius-m, --bbox or --polygon."
            )
            raise NetworkDownloadError(msg) from err


@contextmanager
def _osmnx_settings(http_cache: Path) -> Iterator[Any]:
    """Set osmnx's HTTP cache folder for a download; restore its settings afterwards."""
    import osmnx as ox

    s = ox.settings
    saved = {
        "use_cache": s.use_cache,
        "cache_folder": s.cache_folder,
        "overpass_rate_limit": s.overpass_rate_limit,
    }
    s.use_cache = True
    s.cache_folder = str(http_cache)
    try:
        yield s
    finally:
        for name, value in saved.items():
            setattr(s, name, value)


def _reachable(overpass_url: str) -> bool:
    """Whether the Overpass status endpoint answers (osmnx waits 60 s when it does not)."""
    import requests

    try:
        requests.get(overpass_url.rstrip("/") + "/status", timeout=_PREFLIGHT_TIMEOUT_S)
    except requests.exceptions.RequestException as err:
        logger.info("Overpass status endpoint unreachable (%s); rate limiting off.", err)
        return False
    return True


def _offline(
    query: NetworkQuery, folder: Path, err: Exception, what: str = "walking network"
) -> NetworkDownloadError:
    return NetworkDownloadError(
        f"Could not download the {what} of {query.describe()}: no connection to "
        f"the OpenStreetMap servers ({type(err).__name__}). Offline, use a local file "
        "instead: --network city.osm.pbf (or .osm, .osm.bz2, .osm.gz, or a .graphml saved "
        "by osmnx), e.g. an extract from Geofabrik or BBBike. Areas downloaded before are "
        f"reused from the cache in {folder}."
    )


def _no_streets(query: NetworkQuery) -> NetworkBuildError:
    return NetworkBuildError(
        f"OpenStreetMap has no walkable streets in {query.describe()}; check the area "
        "(longitude before latitude) or choose a larger one."
    )


def _save_atomically(graph: nx.MultiDiGraph, path: Path, query: NetworkQuery) -> None:
    """Write the GraphML and its description next to it, never leaving a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    import osmnx as ox

    ox.save_graphml(graph, tmp)
    os.replace(tmp, path)
    meta = {
        "query": query.describe(),
        "key": json.loads(query.key()),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), "utf-8")
