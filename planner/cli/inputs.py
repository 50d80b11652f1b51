"""The options that say where the network, stations and demand come from, and ``--limit``.

:func:`add_input_arguments` adds them to a command; :func:`input_specs` turns the parsed
options into the pipeline's inputs. The readers (osmnx, geopandas) are imported when
:func:`input_specs` runs, not when the options are added, so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.errors import InputDataError
from planner.limits import DEFAULT_LIMITS, limit_names, parse_limits

if TYPE_CHECKING:
    from planner.pipeline.inputs import InputOptions
    from planner.sources.download import NetworkQuery
    from planner.sources.tables import TableSpec


#: What ``--cache-dir`` holds (every command that reads a network takes it).
CACHE_DIR_HELP = (
    "cache folder: downloaded and built networks, band polygons (default: the user cache "
    "folder, or $PLANNER_CACHE_DIR)"
)


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that say where the network, stations and demand come from."""
    net = parser.add_argument_group("street network (one of)")
    source = net.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--network",
        metavar="FILE",
        help=".osm.pbf, .osm, .osm.bz2, .osm.gz or .graphml file, or a road line layer "
        "(.shp, .zip, .gpkg, .gdb, .dxf, .geojson, ...; any CRS)",
    )
    source.add_argument(
        "--place", metavar="NAME", help="download the area of a place, e.g. 'Kotka, Finland'"
    )
    source.add_argument(
        "--bbox", metavar="W,S,E,N", help="download a bounding box in WGS84 degrees"
    )
    source.add_argument(
        "--point", metavar="LON,LAT", help="download the square around a point (--radius-m)"
    )
    source.add_argument(
        "--polygon", metavar="FILE", help="download the area of a polygon file (GeoJSON, GPKG, ...)"
    )
    net.add_argument(
        "--radius-m", type=float, default=1500.0, help="half-side for --point (default 1500)"
    )
    add_road_arguments(net)
    net.add_argument(
        "--study-area", metavar="FILE", help="polygon file: analyse only the streets inside it"
    )
    net.add_argument("--cache-dir", help=CACHE_DIR_HELP)
    net.add_argument(
        "--refresh-download", action="store_true", help="download again even when cached"
    )
    tables = parser.add_argument_group("stations and demand")
    tables.add_argument(
        "--stations",
        required=True,
        metavar="FILE",
        help="stations: CSV/Excel with lon, lat (or 经度, 纬度) or a GIS file of points; "
        "optional id, name, category, capacity",
    )
    tables.add_argument("--stations-layer", help="layer or Excel sheet of the stations")
    tables.add_argument(
        "--demand",
        metavar="FILE",
        help="people: points with a population column (communities, grid centroids) or "
        "areas (population grid); default: the residential buildings of the extract or of "
        "the downloaded area",
    )
    tables.add_argument("--demand-layer", help="layer or Excel sheet of the demand")
    tables.add_argument(
        "--population-column", default="population", help="head-count column of --demand"
    )
    tables.add_argument(
        "--demand-onto",
        choices=("auto", "homes", "nodes", "cells"),
        default="auto",
        help="where the people of demand areas go: homes (by floor area), street nodes, or "
        "a point in each cell (default: homes; nodes for a .graphml network)",
    )
    tables.add_argument(
        "--crs", help="CRS of coordinate columns (default EPSG:4326), e.g. EPSG:4547"
    )
    tables.add_argument(
        "--coord-system",
        default="wgs84",
        help="wgs84, gcj02 (AMap/Gaode, Tencent) or bd09 (Baidu) for lon/lat from web maps",
    )
    tables.add_argument("--lon-column", help="longitude (or x) column, when not found by name")
    tables.add_argument("--lat-column", help="latitude (or y) column, when not found by name")
    tables.add_argument("--encoding", help="text encoding of CSV files, when not detected")
    tables.add_argument(
        "--decimal",
        choices=(".", ","),
        default=".",
        help="decimal mark of numbers in CSV files: '.' (default) or ',' for European files "
        "(their fields are then separated by ';')",
    )
    add_limit_argument(parser)
    homes = parser.add_argument_group("homes from buildings")
    homes.add_argument(
        "--floor-m2-per-person",
        type=float,
        default=40.0,
        help="residential floor area per resident (default 40)",
    )
    homes.add_argument(
        "--people-per-dwelling",
        type=float,
        help="household size for buildings tagged with building:flats (default: unused)",
    )


def add_road_arguments(group: argparse._ArgumentGroup) -> None:
    """Add the options of a road line layer given as ``--network``."""
    group.add_argument(
        "--network-layer",
        help="road layers: the layer of a file with several (GeoPackage, .gdb, .zip); for a "
        "DXF file, the CAD layer of the road lines",
    )
    group.add_argument(
        "--node-tolerance-m",
        type=float,
        default=0.5,
        help="road layers: join line ends that nearly meet within this distance (default 0.5)",
    )
    group.add_argument(
        "--walkable",
        metavar="EXPR",
        help='road layers: keep only lines matching "<column> in (a, b)" (or "not in")',
    )
    group.add_argument(
        "--road-mapping",
        metavar="FILE",
        help="road layers: TOML file naming the walkable classes, a 'no pedestrians' "
        "flag column and the lines' own walking speeds (see the README)",
    )
    group.add_argument(
        "--network-crs",
        metavar="CRS",
        help="road layers: the layer's CRS when the file states none (DXF always), e.g. "
        "EPSG:4547 (CGCS2000 Gauss-Kruger); overrides a wrong one",
    )
    group.add_argument(
        "--network-coord-system",
        default="wgs84",
        help="road layers: gcj02 or bd09 for lon/lat lines traced from Chinese web maps",
    )
    group.add_argument(
        "--add-osm-paths",
        metavar="FILE",
        help="road layers: merge the footways, paths and steps of this OSM extract in",
    )
    group.add_argument(
        "--osm-join-m",
        type=float,
        default=5.0,
        help="road layers: join OSM path ends to a road line within this distance (default 5)",
    )


def road_option_values(args: argparse.Namespace) -> dict[str, Any]:
    """The road-layer fields of :class:`~planner.pipeline.inputs.InputOptions` from ``args``."""
    from planner.sources.coords import parse_coord_system

    return {
        "network_layer": getattr(args, "network_layer", None),
        "node_tolerance_m": getattr(args, "node_tolerance_m", 0.5),
        "walkable": getattr(args, "walkable", None),
        "road_mapping": getattr(args, "road_mapping", None),
        "network_crs": getattr(args, "network_crs", None),
        "network_coord_system": parse_coord_system(getattr(args, "network_coord_system", "wgs84")),
        "add_osm_paths": getattr(args, "add_osm_paths", None),
        "osm_join_m": getattr(args, "osm_join_m", 5.0),
    }


def input_specs(
    args: argparse.Namespace,
) -> tuple[Path | NetworkQuery, TableSpec, TableSpec | None, InputOptions]:
    """The network, station and demand sources and options given on the command line."""
    from planner.pipeline.inputs import InputOptions
    from planner.sources.areas import study_area_from_file
    from planner.sources.coords import parse_coord_system
    from planner.sources.download import bbox_query, place_query, point_query, polygon_query
    from planner.sources.population import PopulationRule
    from planner.sources.tables import TableSpec

    limits = parse_limits(args.limit)
    network: Path | NetworkQuery
    if args.network:
        network = Path(args.network)
    elif args.place:
        network = place_query(args.place)
    elif args.bbox:
        network = bbox_query(_numbers(args.bbox, 4, "--bbox", "W,S,E,N"))  # type: ignore[arg-type]
    elif args.point:
        lon, lat = _numbers(args.point, 2, "--point", "LON,LAT")
        network = point_query((lon, lat), radius_m=args.radius_m)
    else:
        network = polygon_query(study_area_from_file(args.polygon, limits=limits))
    common = {
        "lon_column": args.lon_column,
        "lat_column": args.lat_column,
        "crs": args.crs,
        "coord_system": parse_coord_system(args.coord_system),
        "encoding": args.encoding,
        "decimal": args.decimal,
    }
    stations = TableSpec(Path(args.stations), layer=args.stations_layer, **common)
    demand = (
        TableSpec(Path(args.demand), layer=args.demand_layer, **common) if args.demand else None
    )
    options = InputOptions(
        study_area=args.study_area,
        demand_onto=args.demand_onto,
        population_column=args.population_column,
        rule=PopulationRule(
            floor_m2_per_person=args.floor_m2_per_person,
            people_per_dwelling=args.people_per_dwelling,
        ),
        cache_dir=args.cache_dir,
        refresh_download=args.refresh_download,
        limits=limits,
        **road_option_values(args),
    )
    return network, stations, demand, options


def add_limit_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--limit NAME=VALUE`` (repeatable): the input limits of :mod:`planner.limits`."""
    limits = parser.add_argument_group("input limits")
    defaults = ", ".join(f"{n}={_limit_text(getattr(DEFAULT_LIMITS, n))}" for n in limit_names())
    limits.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="raise (or lower) an input limit; repeat for several. Inputs past a limit are "
        f"refused before work starts. Limits and defaults: {defaults}. Sizes are in MB "
        "(decompressed: content of .zip/.gz/.bz2 files; compression ratio: content / "
        "compressed size); per_point/per_station in people",
    )


def _limit_text(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def _numbers(text: str, count: int, option: str, form: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        values = ()
    if len(values) != count:
        msg = f"{option} {text!r}: expected {form} (numbers separated by commas)."
        raise InputDataError(msg)
    return values
