"""Build a synthetic prefecture: an OSM extract tiled nx x ny times, joined at its edges.

Run from the repository::

    python bench/tile_extract.py ../shared/data/osm/porto-metro-roads.osm.pbf porto-2x2.osm.pbf

Each copy is shifted by the extract's width (east) and height (north) times its column and
row, and every node, way and relation id gets an offset per copy, so the copies never share
an id. Where a copy's edge meets the next copy, the nodes nearest to each other across the
seam are joined by a short footway (``highway=footway``), so the tiled network is one
connected street network, not four islands. Written with pyosmium (``osmium``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import osmium

#: Nodes this close (degrees) to a side of the extract are candidates for seam footways.
SEAM_DEG = 0.002


def _extent(path: Path) -> tuple[float, float, float, float, int]:
    """Bounds of the extract's way nodes, and the largest id of any object (for offsets)."""
    lons: list[float] = []
    lats: list[float] = []
    top = 0
    for obj in osmium.FileProcessor(str(path)):
        top = max(top, obj.id)
        if obj.is_node():
            lons.append(obj.location.lon)
            lats.append(obj.location.lat)
    x, y = np.asarray(lons), np.asarray(lats)
    return float(x.min()), float(y.min()), float(x.max()), float(y.max()), top


def tile_extract(source: Path, target: Path, *, nx: int = 2, ny: int = 2) -> Path:
    """Write ``nx * ny`` shifted copies of ``source`` (and seam footways) to ``target``."""
    x0, y0, x1, y1, top = _extent(source)
    dx, dy = x1 - x0, y1 - y0
    step = 10 ** len(str(top))  # id offset per copy: larger than every id in the file
    target.unlink(missing_ok=True)
    edge_nodes: dict[tuple[int, int, str], list[tuple[int, float, float]]] = {}
    with osmium.SimpleWriter(str(target)) as writer:
        for kind in ("n", "w", "r"):  # nodes first, then ways, then relations (sorted file)
            for c in range(nx * ny):
                col, row = c % nx, c // nx
                off = (c + 1) * step
                for obj in osmium.FileProcessor(str(source)):
                    if obj.type_str() != kind:
                        continue
                    if kind == "n":
                        lon = obj.location.lon + col * dx
                        lat = obj.location.lat + row * dy
                        writer.add_node(obj.replace(id=obj.id + off, location=(lon, lat)))
                        lon0, lat0 = obj.location.lon, obj.location.lat
                        for side, gap in (
                            ("east", x1 - lon0),
                            ("west", lon0 - x0),
                            ("north", y1 - lat0),
                            ("south", lat0 - y0),
                        ):
                            if gap < SEAM_DEG:
                                edge_nodes.setdefault((col, row, side), []).append(
                                    (obj.id + off, lon, lat)
                                )
                    elif kind == "w":
                        nodes = [n.ref + off for n in obj.nodes]
                        writer.add_way(obj.replace(id=obj.id + off, nodes=nodes))
                    else:
                        members = [(m.type, m.ref + off, m.role) for m in obj.members]
                        writer.add_relation(obj.replace(id=obj.id + off, members=members))
        # Seams: join each copy's east edge to its east neighbour's west edge, and its north
        # edge to its north neighbour's south edge, at the nearest node pairs.
        way_id = (nx * ny + 1) * step
        for col in range(nx):
            for row in range(ny):
                for side, other in (
                    ("east", (col + 1, row, "west")),
                    ("north", (col, row + 1, "south")),
                ):
                    mine = edge_nodes.get((col, row, side))
                    theirs = edge_nodes.get(other)
                    if not mine or not theirs:
                        continue
                    way_id = _join(writer, mine, theirs, way_id)
    return target


def _join(
    writer: osmium.SimpleWriter,
    mine: list[tuple[int, float, float]],
    theirs: list[tuple[int, float, float]],
    way_id: int,
) -> int:
    """Footways from about 200 nodes along one side of a seam to the nearest on the other."""
    a = np.array([(lon, lat) for _, lon, lat in mine])
    b = np.array([(lon, lat) for _, lon, lat in theirs])
    for i in range(0, len(a), max(1, len(a) // 200)):
        j = int(np.argmin(((b - a[i]) ** 2).sum(axis=1)))
        if ((b[j] - a[i]) ** 2).sum() ** 0.5 > 0.01:
            continue
        way_id += 1
        writer.add_way(
            osmium.osm.mutable.Way(
                id=way_id, nodes=[mine[i][0], theirs[j][0]], tags={"highway": "footway"}
            )
        )
    return way_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--nx", type=int, default=2)
    parser.add_argument("--ny", type=int, default=2)
    args = parser.parse_args(argv)
    out = tile_extract(args.source, args.target, nx=args.nx, ny=args.ny)
    print(f"written {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
