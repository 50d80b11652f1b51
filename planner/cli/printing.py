"""The summaries ``planner`` prints after a command: coverage, rejected rows, siting."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from planner.limits import ROWS_SHOWN
from planner.pipeline.suggest import relocation_summary
from planner.report.road_section import road_quality_items
from planner.texts import Language, text

if TYPE_CHECKING:
    import pandas as pd

    from planner.pipeline.analysis import Run
    from planner.pipeline.suggest import SuggestRun


def circle_lines(run: Run, language: Language = "en") -> list[str]:
    """Per category, the complete circle and per profile, when the run has them."""
    if not run.circles:
        return []
    first = run.circles[0]
    lines = [
        text(
            "cli_category",
            language,
            name=c.name,
            share=f"{c.result.share_covered:.1%}",
            minutes=f"{c.result.config.walk_minutes:g}",
            stations=len(c.result.stations),
        )
        for c in first.categories
    ]
    if first.categories:
        lines.append(
            text(
                "cli_complete",
                language,
                people=f"{first.population_complete:,.0f}",
                share=f"{first.share_complete:.1%}",
            )
        )
    if len(run.circles) > 1:
        lines += [
            text(
                "cli_profile",
                language,
                name=r.profile.name,
                speed=f"{r.profile.speed_kmh:g}",
                share=f"{r.result.share_covered:.1%}",
                complete=f"{r.share_complete:.1%}",
            )
            for r in run.circles
        ]
    return lines


def print_summary(run: Run, seconds: float, *, language: Language = "en") -> None:
    """Print the coverage of ``analyze`` or ``demo``, its rejected rows and its files.

    A road layer's quality report (:func:`planner.report.road_section.road_quality_items`)
    is printed in ``language``.
    """
    s = run.result.summary()
    cfg = run.result.config
    lines = [
        f"Coverage within {cfg.walk_minutes:g} minutes' walk at {cfg.speed_kmh:g} km/h "
        f"({cfg.walk_limit_m:,.0f} m):",
        f"  people within the circle : {s['population_covered']:,.0f} of "
        f"{s['population_total']:,.0f} ({s['share_covered']:.1%})",
        f"  stations                 : {s['stations']} ({s['stations_off_network']} off-network)",
        f"  homes / demand points    : {s['demand_points']} "
        f"({s['demand_points_off_network']} off-network, "
        f"{s['demand_points_unreachable']} unreachable)",
        f"  gap zones                : {s['gap_zones']} "
        f"({s['population_in_gap_zones']:,.0f} people)",
        f"  network                  : {s['network']['nodes']:,} nodes, "
        f"{s['network']['street_km']:,.1f} km of street"
        + (
            f"; {s['network']['components'] - 1} disconnected parts left out "
            f"({s['network']['island_nodes_left_out']} nodes)"
            if s["network"]["components"] > 1
            else ""
        ),
    ]
    road = s["network"].get("road_layer")
    if road:
        lines.append(f"  {text('rq_title', language)}:")
        lines.extend(f"    {label}: {value}" for label, value in road_quality_items(road, language))
    if run.access is not None:
        for method, fig in run.access.summary()["by_method"].items():
            lines.append(
                f"  access {method:<17} : mean {fig['mean']:.3g}, p10 {fig['p10']:.3g}, "
                f"Gini {fig['gini'] if fig['gini'] is not None else math.nan:.2f} "
                "(supply per person)"
            )
    lines.extend(circle_lines(run, language))
    for name, table in run.rejected.items():
        if len(table):
            lines.append(
                f"  rejected {name} rows    : {table['row'].nunique()} (see rejected_{name}.csv)"
            )
            lines.extend(rejected_lines(table, f"rejected_{name}.csv"))
    names = [run.paths.summary, run.paths.geopackage, *run.paths.csv, run.paths.map]
    if run.paths.report is not None:
        names.append(run.paths.report)
    if run.paths.manifest is not None:
        names.append(run.paths.manifest)
    lines += [
        f"Files written to {run.paths.folder.resolve()}/ in {seconds:.1f} s:",
        "  " + ", ".join(p.name for p in names),
    ]
    print("\n".join(lines))


def rejected_lines(table: pd.DataFrame, where: str) -> list[str]:
    """One line per rejected row problem, at most :data:`ROWS_SHOWN`, then the count."""
    lines = []
    for rec in table.head(ROWS_SHOWN).itertuples(index=False):
        column = f", column {rec.column!r}" if rec.column else ""
        value = str(rec.value)
        value = value if len(value) <= 80 else value[:80] + "..."
        lines.append(f"    row {rec.row}{column}: {rec.reason} ({value!r})")
    if len(table) > ROWS_SHOWN:
        lines.append(f"    ... and {len(table) - ROWS_SHOWN:,} more problems in {where}")
    return lines


def print_suggestion(run: SuggestRun, seconds: float) -> None:
    """Print the sites ``suggest`` proposes, before and after, its bound and its files."""
    r = run.result
    cfg = r.config
    s = r.summary()
    goal = (
        f"{r.k} new stations, most people served"
        if r.model == "maximal_covering"
        else "fewest new stations serving every reachable home"
    )
    if r.model == "maximal_covering":
        bound = f"upper bound {_fmt(r.bound)}"  # people
    else:
        bound = f"lower bound {_count(r.bound)}"  # sites: a whole number
    lines = [
        f"Siting ({goal}; {r.method}"
        + (f", capacity {r.capacity:,.0f} people" if r.capacity else "")
        + f") within {cfg.walk_minutes:g} minutes' walk ({cfg.walk_limit_m:,.0f} m):",
        f"  served before            : {r.population_covered_before:,.0f} of "
        f"{r.population_total:,.0f} ({r.share_before:.1%})",
        f"  served after             : {r.population_covered_after:,.0f} "
        f"({r.share_after:.1%}), +{r.population_added:,.0f} people",
        f"  sites proposed           : {len(r.sites)} from {r.candidates_total:,} candidates "
        f"({r.candidates_distinct:,} distinct)",
        f"  status                   : {_status(r.status, r.gap)}; {bound}, gap {_pct(r.gap)}"
        + (f"; a-priori guarantee {r.guarantee:.3f}" if r.guarantee is not None else ""),
    ]
    if r.sites_enough is not None:
        lines.append(
            f"  note                     : {r.sites_enough} sites are enough (asked for {r.k}): "
            "every reachable home is served, a further site would add nobody"
        )
    if len(r.unreachable):
        lines.append(
            f"  unreachable homes        : {len(r.unreachable)} "
            f"({s['unreachable_population']:,.0f} people) - no station or candidate within "
            "the limit, or off the network"
        )
    for row in s["sites"][:20]:
        lines.append(
            f"    {row['rank']:>3}. {row['id']:<24} ({row['lon']:.5f}, {row['lat']:.5f}) "
            f"+{row['population_added']:,.0f} people"
        )
    if len(s["sites"]) > 20:
        lines.append(f"    ... {len(s['sites']) - 20} more in {run.paths.summary.name}")
    least = relocation_summary(run.relocation, rows=3)["stations"]
    if least:
        lines.append("  stations serving the fewest people no other station serves:")
        for st in least:
            move = (
                f"; moving it to {st['best_site']} would gain {st['population_gain']:+,.0f}"
                if st["best_site"] is not None
                else ""
            )
            lines.append(
                f"    {st['id']}: {st['population_only_here']:,.0f} people only here{move}"
            )
    if run.access is not None:
        a = run.access
        lines.append(
            f"  access objective ({a.method}, worst {a.worst_share:.0%} of people, "
            f"capacity {a.capacity:g} per new station): mean access {a.objective_before:.3g} "
            f"-> {a.objective_after:.3g} (upper bound {a.upper_bound:.3g}, gap {_pct(a.gap)})"
        )
        for _, row in a.sites.head(20).iterrows():
            lines.append(f"    {row['rank']:>3}. {row['id']:<24} +{row['objective_gain']:.3g}")
    for name, table in run.rejected.items():
        if len(table):
            lines.append(f"  rejected {name} rows: {len(table)}")
    lines += [
        f"Files written to {run.paths.folder.resolve()}/ in {seconds:.1f} s:",
        f"  {run.paths.summary.name}, {run.paths.geopackage.name}",
    ]
    print("\n".join(lines))


def _status(status: str, gap: float) -> str:
    """The solver's status, or ``proven optimal`` when the bound meets the solution (gap 0).

    A greedy solution whose bound equals it is optimal, though the greedy says "heuristic".
    """
    return "proven optimal" if gap == 0 and status not in {"infeasible", "solver_error"} else status


def _count(x: float) -> str:
    """A lower bound on a number of sites, as a whole number: 8.97 sites means at least 9."""
    return "n/a" if x != x else f"{math.ceil(x - 1e-6):,}"


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:,.1f}"


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{x:.2%}"
