"""``planner analyze`` at metro and prefecture scale: the whole process, each stage, peak memory.

Run from the repository (one command)::

    python bench/bench_scale.py                  # (a) Porto metro, 3,000 stations, 100,000 homes
    python bench/bench_scale.py --case prefecture  # (b) Porto tiled 2 x 2, 10,000 / 1,000,000
    python bench/bench_scale.py --case both

Not a timed test. Each case writes seeded random stations and homes (numpy
``default_rng(seed)``: random walk-network nodes of the extract, moved up to ~30 m) as CSV,
then runs, each in its own process so that peak memory is its own:

1. ``planner analyze`` as a whole process (``/usr/bin/time``-style peak RSS from
   ``resource.getrusage(RUSAGE_CHILDREN)``), its stages timed from the stage lines the
   command prints when its output is not a terminal;
2. the lean reference: pyrosm read, edges to arrays projected in one pyproj call, CSR,
   points snapped to the nearest edge (shapely STRtree), scipy multi-source Dijkstra
   (``min_only``), share of people within the limit.

and prints the two side by side with their ratio. The prefecture extract is built by
``bench/tile_extract.py`` (pyosmium) on first use. Skipped with a note when
``../shared/data/osm/porto-metro-roads.osm.pbf`` is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PORTO = ROOT.parent / "shared/data/osm/porto-metro-roads.osm.pbf"
CASES = {
    "metro": {"stations": 3_000, "homes": 100_000},
    "prefecture": {"stations": 10_000, "homes": 1_000_000},
}
STAGE = re.compile(r"^planner: \[(\d+)/(\d+)\] (.*) \(([\d.]+) s\)$")

LEAN = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd, pyproj, pyrosm, shapely
from scipy import sparse
from scipy.sparse import csgraph
pbf, stations_csv, homes_csv, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
t0 = time.perf_counter()
nodes, edges = pyrosm.OSM(pbf).get_network(network_type="walking", nodes=True)
t_read = time.perf_counter() - t0
lon0, lat0 = float(nodes["lon"].mean()), float(nodes["lat"].mean())
utm = pyproj.CRS.from_dict({"proj": "utm", "zone": int((lon0 + 180) // 6) + 1, "south": lat0 < 0})
fwd = pyproj.Transformer.from_crs(4326, utm, always_xy=True)
ids = nodes["id"].to_numpy()
pos = pd.Series(np.arange(len(ids)), index=ids)
u = pos.reindex(edges["u"].to_numpy()).to_numpy(); v = pos.reindex(edges["v"].to_numpy()).to_numpy()
ok = ~(np.isnan(u) | np.isnan(v)); u = u[ok].astype(np.int64); v = v[ok].astype(np.int64)
length = np.maximum(edges["length"].to_numpy(dtype=float)[ok], 1e-9)
x, y = fwd.transform(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
n = len(ids)
csr = sparse.csr_array((np.r_[length, length], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
lines = shapely.linestrings(np.stack([np.c_[x[u], y[u]], np.c_[x[v], y[v]]], axis=1))
tree = shapely.STRtree(lines)
def snap(csv):
    t = pd.read_csv(csv)
    px, py = fwd.transform(t["lon"].to_numpy(), t["lat"].to_numpy())
    pts = shapely.points(px, py)
    i, e = tree.query_nearest(pts, max_distance=300.0, all_matches=False)
    return t.iloc[i], pts[i], e  # points farther than 300 m from every street left out
t1 = time.perf_counter()
st, spts, se = snap(stations_csv)
hm, hpts, he = snap(homes_csv)
# stations: virtual nodes on their edges
frac = shapely.line_locate_point(lines[se], spts) / np.maximum(shapely.length(lines[se]), 1e-9)
k = len(se)
sv = n + np.arange(k)
rows = np.r_[sv, sv]
cols = np.r_[u[se], v[se]]
w = np.maximum(np.r_[frac * length[se], (1 - frac) * length[se]], 1e-9)
coo = csr.tocoo()
big = sparse.csr_array(
    (np.r_[coo.data, w, w], (np.r_[coo.row, rows, cols], np.r_[coo.col, cols, rows])),
    shape=(n + k, n + k),
)
t_snap = time.perf_counter() - t1
t2 = time.perf_counter()
dist = csgraph.dijkstra(big, indices=sv, min_only=True, limit=limit * 1.5)
hoff = shapely.line_locate_point(lines[he], hpts) / np.maximum(shapely.length(lines[he]), 1e-9)
d = np.minimum(dist[u[he]] + hoff * length[he], dist[v[he]] + (1 - hoff) * length[he])
pop = hm["population"].to_numpy(dtype=float)
share = float(pop[d <= limit].sum() / pop.sum())
t_search = time.perf_counter() - t2
print(json.dumps({"read_s": t_read, "arrays_snap_s": t_snap, "search_s": t_search,
                  "nodes": n, "share": share}))
"""


def points_csv(
    pbf: Path, n_stations: int, n_homes: int, folder: Path, seed: int
) -> tuple[Path, Path]:
    """Seeded random stations and homes near random walk-network nodes, as CSV."""
    import pandas as pd
    import pyrosm

    nodes, _ = pyrosm.OSM(str(pbf)).get_network(network_type="walking", nodes=True)
    rng = np.random.default_rng(seed)
    lon, lat = nodes["lon"].to_numpy(), nodes["lat"].to_numpy()
    scale = 30.0 / 111_000.0

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        i = rng.integers(0, len(lon), n)
        return (
            lon[i] + rng.uniform(-scale, scale, n) / np.cos(np.radians(lat[i])),
            lat[i] + rng.uniform(-scale, scale, n),
        )

    sx, sy = sample(n_stations)
    hx, hy = sample(n_homes)
    stations = folder / "stations.csv"
    homes = folder / "homes.csv"
    pd.DataFrame({"id": [f"S{i}" for i in range(n_stations)], "lon": sx, "lat": sy}).to_csv(
        stations, index=False
    )
    pd.DataFrame({"lon": hx, "lat": hy, "population": rng.integers(1, 201, n_homes)}).to_csv(
        homes, index=False
    )
    return stations, homes


def run_child(argv: list[str]) -> tuple[float, float, str]:
    """Run a process; its wall time, its peak RSS in MB and its standard output.

    Peak RSS from ``/usr/bin/time -f %M`` when present (the child's own peak); otherwise
    ``getrusage(RUSAGE_CHILDREN)``, the largest of all children so far.
    """
    timer = Path("/usr/bin/time")
    wrapped = [str(timer), "-f", "MAXRSS_KB %M", *argv] if timer.exists() else argv
    t0 = time.perf_counter()
    proc = subprocess.run(wrapped, capture_output=True, text=True, check=False, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}")
    found = re.findall(r"MAXRSS_KB (\d+)", proc.stderr)
    kb = int(found[-1]) if found else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, kb / 1024.0, proc.stdout


def stage_times(stdout: str) -> list[tuple[str, float]]:
    """Each stage's duration, from the stage lines ``planner analyze`` prints."""
    return [(m.group(3), float(m.group(4))) for m in map(STAGE.match, stdout.splitlines()) if m]


def bench_case(name: str, pbf: Path, args: argparse.Namespace) -> dict[str, object]:
    sizes = CASES[name]
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{name}-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        stations, homes = points_csv(pbf, sizes["stations"], sizes["homes"], folder, args.seed)
        print(f"[{name}] inputs written in {time.perf_counter() - t0:.1f} s", flush=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        os.environ.update(env)
        cmd = [sys.executable, "-m", "planner.cli", "analyze", "--network", str(pbf)]
        cmd += ["--stations", str(stations), "--demand", str(homes), "--out", str(folder / "out")]
        if args.fresh_cache:  # the network's first build, not a load from the cache
            cmd += ["--cache-dir", str(folder / "cache")]
        wall, rss, out = run_child(cmd)
        stages = stage_times(out)
        summary = json.loads((folder / "out" / "summary.json").read_text())
        share = summary["share_covered"]
        network = summary["network"]
        sizes_mb = {p.name: p.stat().st_size / 1e6 for p in (folder / "out").iterdir()}
        lean_wall, lean_rss, lean_out = run_child(
            [sys.executable, "-c", LEAN, str(pbf), str(stations), str(homes), "1125"]
        )
        lean = json.loads(lean_out.strip().splitlines()[-1])
    print(f"\n[{name}] {sizes['stations']:,} stations, {sizes['homes']:,} homes, {pbf.name}")
    print(f"  {'':<52} {'planner':>10} {'lean':>10} {'ratio':>7}")
    print(f"  {'whole process (s)':<52} {wall:>10.1f} {lean_wall:>10.1f} {wall / lean_wall:>6.1f}x")
    print(f"  {'peak memory (MB)':<52} {rss:>10.0f} {lean_rss:>10.0f}")
    print(f"  {'share covered':<52} {share:>10.4f} {lean['share']:>10.4f}")
    left = (
        f"{network['island_nodes_left_out']:,} nodes in {network['island_parts_left_out']:,} parts"
    )
    print(f"  {'network nodes (left out as islands)':<52} {network['nodes']:>10,} ({left})")
    if abs(share - lean["share"]) > 0.02:
        print(
            f"  WARNING: covered shares differ by {abs(share - lean['share']):.3f}; the lean "
            "reference keeps every part of the network, the planner the largest: is the "
            "extract one connected network?"
        )
    for stage, secs in stages:
        print(f"  stage: {stage:<45} {secs:>10.1f}")
    lean_parts = ("read_s", "arrays_snap_s", "search_s")
    print("  lean: " + ", ".join(f"{k[:-2]} {lean[k]:.1f} s" for k in lean_parts))
    print("  files (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(sizes_mb.items())))
    return {
        "case": name,
        "planner_s": wall,
        "lean_s": lean_wall,
        "planner_rss_mb": rss,
        "lean_rss_mb": lean_rss,
        "stages": stages,
        "lean": lean,
        "files_mb": sizes_mb,
        "network": network,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("metro", "prefecture", "both"), default="metro")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "planner-bench"))
    parser.add_argument(
        "--fresh-cache",
        action="store_true",
        help="give planner analyze an empty --cache-dir, so that it builds the network",
    )
    args = parser.parse_args(argv)
    if not PORTO.exists():
        print(f"skipped: {PORTO} not found")
        return 0
    print(f"load average at start: {os.getloadavg()}")
    results = []
    if args.case in ("metro", "both"):
        results.append(bench_case("metro", PORTO, args))
    if args.case in ("prefecture", "both"):
        from tile_extract import tile_extract  # bench/ is on sys.path when run as a script

        tiled = Path(args.work) / "porto-2x2.osm.pbf"
        if not tiled.exists():
            tiled.parent.mkdir(parents=True, exist_ok=True)
            tile_extract(PORTO, tiled, nx=2, ny=2)
        results.append(bench_case("prefecture", tiled, args))
    print(f"load average at end: {os.getloadavg()}")
    out = ROOT / "bench" / "results" / "scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
