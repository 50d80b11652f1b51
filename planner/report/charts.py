"""Static charts of a coverage result: matplotlib figures and deterministic inline SVG.

Each ``*_figure`` function is pure: it builds and returns a new
:class:`matplotlib.figure.Figure` (no pyplot state, no backend to select), so notebooks can
show it and :func:`figure_svg` can turn it into SVG text for the HTML report. The SVG is
deterministic (fixed element ids, no date) and keeps its text as ``<text>`` elements
(escaped by matplotlib), so the browser draws Chinese names with its own fonts.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from planner.errors import InputDataError
from planner.report.chart_style import chart_style as _style
from planner.report.map_geometry import streets_share_image
from planner.report.maps import (
    BAND_COLOURS,
    COVERED_COLOUR,
    GAP_COLOUR,
    SITE_COLOUR,
    STATION_COLOUR,
    STREET_COLOUR,
    UNCOVERED_COLOUR,
)
from planner.texts import Language, text
from planner.walk.coverage import CoverageResult

if TYPE_CHECKING:
    pass

BEYOND_COLOUR = "#bdbdbd"
SERVED_COLOUR = "#b2abd2"
#: Chart width in inches: fits an A4 page with 15 mm margins.
WIDTH_IN = 7.0
#: Layers with more features (or an outline with more vertices) are drawn rasterised.
RASTER_ABOVE = 20_000


def figure_svg(fig: Figure, *, label: str = "", salt: str = "chart") -> str:
    """The figure as an ``<svg>`` element for inline use in HTML.

    Parameters
    ----------
    fig
        A figure (e.g. from :func:`walk_time_figure`).
    label
        Accessible name of the chart (``aria-label``); escaped here.
    salt
        Prefix and seed of the SVG's element ids; give each chart of a page its own so that
        ids stay unique in the page.

    Returns
    -------
    str
        The ``<svg>`` element, scaled to the width of its container; the same figure
        always gives the same text.
    """
    buf = io.StringIO()
    with _style(), rc_context({"svg.hashsalt": f"planner-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.DOTALL)
    attrs = (
        f'<svg class="chart" role="img" aria-label="{_attr(label)}" '
        'preserveAspectRatio="xMidYMid meet" '
    )
    svg = re.sub(r'<svg\s+([^>]*?)width="[^"]*"\s+height="[^"]*"\s*', attrs + r"\1", svg, count=1)
    # matplotlib numbers its elements (figure_1, patch_1, ...) afresh in every file: prefix
    # ids and references so that several charts in one page keep their ids unique.
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", salt) + "-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    return svg.strip()


def walk_time_figure(result: CoverageResult, *, language: Language = "en") -> Figure:
    """Population by walk time to the nearest station, in one-minute bins.

    Bin ``k`` holds homes with a walk time in ``(k - 1, k]`` minutes (0 in the first), so a
    home exactly at the limit is in the last bin within it. Bins are coloured by band and
    grey beyond the limit; homes beyond twice the limit are in the last bin. Homes with no
    walk time (off the network, unreachable) are not shown.
    """
    cfg = result.config
    walk = result.demand["walk_min"].to_numpy(dtype=float)
    pop = result.demand["population"].to_numpy(dtype=float)
    ok = np.isfinite(walk)
    top = max(1, math.ceil(min(float(walk[ok].max()) if ok.any() else 1.0, 2 * cfg.walk_minutes)))
    edges = np.arange(0, top + 1, dtype=float)
    idx = np.clip(np.searchsorted(edges, walk[ok] - 1e-9, side="left"), 1, top)
    people = np.bincount(idx, weights=pop[ok], minlength=top + 1)[1:]
    uppers = edges[1:]
    colours = [_band_colour(cfg.bands, u) for u in uppers]
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 2.8), layout="constrained")
        ax = fig.add_subplot()
        ax.bar(uppers - 0.5, people, width=0.9, color=colours, edgecolor="none")
        ax.axvline(cfg.walk_minutes, color="#333333", linestyle="--", linewidth=1)
        ax.set_xlim(0, top)
        ax.set_xlabel(text("axis_minutes", language))
        ax.set_ylabel(text("axis_people", language))
        handles = [
            Patch(
                color=BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)],
                label=text("map_band_range", language, low=f"{lo:g}", high=f"{hi:g}"),
            )
            for i, (lo, hi) in enumerate(zip((0.0, *cfg.bands[:-1]), cfg.bands, strict=True))
        ]
        handles.append(Patch(color=BEYOND_COLOUR, label=text("legend_beyond", language)))
        ax.legend(handles=handles, frameon=False, fontsize=8, loc="upper right")
    return fig


def station_figure(
    result: CoverageResult, *, language: Language = "en", top: int = 25
) -> tuple[Figure, int]:
    """People served per station (within the limit) and served by no other station.

    Returns the figure and how many stations it shows (the ``top`` serving most people).
    """
    st = result.stations
    table = pd.DataFrame(
        {
            "label": [_short(v) for v in station_labels(st)],
            "id": st["id"].astype(str).to_numpy(),
            "served": st["population_served"].to_numpy(dtype=float),
            "only": st["population_only_here"].to_numpy(dtype=float),
        }
    ).sort_values(["served", "id"], ascending=[False, True], kind="stable")
    shown = table.head(top).iloc[::-1]
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 0.9 + 0.28 * max(len(shown), 1)), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(shown))
        ax.barh(y, shown["served"], color=SERVED_COLOUR, label=text("legend_served", language))
        ax.barh(y, shown["only"], color=STATION_COLOUR, label=text("legend_only", language))
        ax.set_yticks(y, list(shown["label"]))
        ax.set_xlabel(text("axis_people", language))
        ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1), ncols=2)
    return fig, len(shown)


def district_figure(
    table: pd.DataFrame, *, language: Language = "en", top: int = 40
) -> tuple[Figure, int]:
    """Share covered per district, from :func:`planner.walk.coverage.coverage_by_district`.

    Returns the figure and how many districts it shows (the ``top`` most populous).
    """
    t = table.loc[table["population"] > 0]
    t = t.sort_values(["population", "district"], ascending=[False, True], kind="stable")
    shown = t.head(top).sort_values(["share_covered", "district"], kind="stable")
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 0.9 + 0.28 * max(len(shown), 1)), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(shown))
        share = shown["share_covered"].to_numpy(dtype=float)
        ax.barh(y, share, color=BAND_COLOURS[0])
        for yi, s in zip(y, share, strict=True):
            ax.text(min(s, 0.86) + 0.01, float(yi), f"{s:.0%}", va="center", fontsize=8)
        ax.set_yticks(y, [_short(str(v)) for v in shown["district"]])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel(text("axis_share", language))
    return fig, len(shown)


@dataclass(frozen=True)
class OverviewCanvas:
    """An overview map drawn by :func:`overview_canvas` but for its bands and size.

    Attributes
    ----------
    figure, axes
        The figure and its map axes.
    fills
        The band fills, widest band first: in place among the layers, empty until
        :func:`finish_overview` gives them their polygons (once).
    labels
        The axis labels before the band fills (a band sets them when they are empty, as
        geopandas' plot does).
    sites
        Whether suggested sites are drawn (the legend names them).
    """

    figure: Figure
    axes: Axes
    fills: tuple[PatchCollection, ...]
    labels: tuple[str, str]
    sites: bool


def overview_canvas(
    result: CoverageResult,
    *,
    bands: int,
    streets: gpd.GeoDataFrame | None = None,
    suggested_sites: gpd.GeoDataFrame | None = None,
) -> OverviewCanvas:
    """:func:`overview_figure` drawn but for what needs the band polygons.

    Streets, gap zones, homes, stations and suggested sites are drawn, with an empty fill
    in place of each of the ``bands`` bands; :func:`finish_overview` sizes the figure to
    the bands and fills them. Split so that the rest is drawn while the band polygons of
    ``result`` are still being built (:mod:`planner.report.deferred`).
    """
    big = RASTER_ABOVE
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.0), layout="constrained")
        ax = fig.add_subplot()
        # Large layers are drawn as one raster image inside the SVG: a city's streets and
        # homes as vectors make a chart of tens of megabytes that takes long to write.
        if streets is not None and len(streets) > big:
            _streets_picture(ax, streets.geometry)
        elif streets is not None and len(streets):
            lines = streets.geometry.to_crs(4326).simplify(0.00002)
            gpd.GeoSeries(lines).plot(ax=ax, color=STREET_COLOUR, linewidth=0.4)
        labels = (ax.get_xlabel(), ax.get_ylabel())
        colours = [BAND_COLOURS[min(bands - 1 - i, len(BAND_COLOURS) - 1)] for i in range(bands)]
        fills = tuple(_band_fill(ax, colour=colour, alpha=0.45) for colour in colours)
        if len(result.gaps):
            result.gaps.boundary.plot(
                ax=ax,
                color=GAP_COLOUR,
                linewidth=1.2,
                linestyle="--",
                rasterized=len(result.gaps) > big // 10,
            )
        d = result.demand
        cov = d["covered"].to_numpy(dtype=bool)
        for mask, colour in ((cov, COVERED_COLOUR), (~cov, UNCOVERED_COLOUR)):
            if mask.any():
                _dots(ax, d.geometry[mask], colour=colour, rasterized=len(d) > big)
        result.stations.plot(
            ax=ax, color=STATION_COLOUR, markersize=40, edgecolor="white", linewidth=1
        )
        sites = suggested_sites is not None and len(suggested_sites) > 0
        if suggested_sites is not None and sites:
            suggested_sites.to_crs(4326).plot(
                ax=ax, color=SITE_COLOUR, marker="*", markersize=120, edgecolor="black"
            )
    return OverviewCanvas(figure=fig, axes=ax, fills=fills, labels=labels, sites=sites)


def overview_figure(
    result: CoverageResult,
    *,
    streets: gpd.GeoDataFrame | None = None,
    suggested_sites: gpd.GeoDataFrame | None = None,
    language: Language = "en",
) -> Figure:
    """A static map: walk-time bands, gap zones, homes, stations (and suggested sites).

    The printed report shows it in place of the interactive map.
    """
    canvas = overview_canvas(
        result,
        bands=len(result.coverage_area),
        streets=streets,
        suggested_sites=suggested_sites,
    )
    return finish_overview(canvas, result, language=language)


def finish_overview(
    canvas: OverviewCanvas, result: CoverageResult, *, language: Language = "en"
) -> Figure:
    """:func:`overview_figure` from its ``canvas``: sized and its bands filled (use it once).

    Raises
    ------
    InputDataError
        When ``result`` has another number of bands than the canvas was drawn for.
    """
    areas = result.coverage_area.sort_values("band_min", ascending=False)
    if len(areas) != len(canvas.fills):
        msg = (
            f"The result's band polygon layer has {len(areas)} rows, the overview map was "
            f"begun for {len(canvas.fills)} bands."
        )
        raise InputDataError(msg)
    frames = [g for g in (areas, result.demand, result.stations) if len(g)]
    minx, miny, maxx, maxy = np.array([f.total_bounds for f in frames]).T
    x0, x1 = float(np.nanmin(minx)), float(np.nanmax(maxx))
    y0, y1 = float(np.nanmin(miny)), float(np.nanmax(maxy))
    aspect = 1.0 / max(math.cos(math.radians((y0 + y1) / 2)), 0.05)
    height = min(9.0, max(3.0, WIDTH_IN * (y1 - y0) * aspect / max(x1 - x0, 1e-9)))
    fig, ax = canvas.figure, canvas.axes
    with _style():
        fig.set_size_inches(WIDTH_IN, height)
        big = RASTER_ABOVE
        for fill, geom in zip(canvas.fills, areas.geometry, strict=True):
            _fill_band(
                fill,
                geom,
                rasterized=len(result.demand) > big or shapely.get_num_coordinates(geom) > big,
                labels=canvas.labels,
            )
        handles: list[Patch | Line2D] = [
            Patch(
                color=BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)],
                alpha=0.6,
                label=text("map_band_range", language, low=f"{lo:g}", high=f"{hi:g}"),
            )
            for i, (lo, hi) in enumerate(
                zip((0.0, *result.config.bands[:-1]), result.config.bands, strict=True)
            )
        ]
        handles += [
            _dot(STATION_COLOUR, text("map_station", language)),
            _dot(COVERED_COLOUR, text("map_home_in", language)),
            _dot(UNCOVERED_COLOUR, text("map_home_out", language)),
            Line2D([], [], color=GAP_COLOUR, linestyle="--", label=text("map_gap", language)),
        ]
        if canvas.sites:
            handles.append(_dot(SITE_COLOUR, text("map_site", language), marker="*"))
        pad_x, pad_y = (x1 - x0) * 0.03, (y1 - y0) * 0.03
        ax.set_xlim(x0 - pad_x, x1 + pad_x)
        ax.set_ylim(y0 - pad_y, y1 + pad_y)
        ax.set_aspect(aspect)
        ax.set_axis_off()
        ax.legend(handles=handles, fontsize=7, loc="upper left", framealpha=0.9)
        ax.text(
            0.995,
            0.005,
            "© OpenStreetMap contributors",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="#444444",
        )
        _fixed_layout(fig)
    return fig


def _fixed_layout(fig: Figure) -> None:
    """Place a map's axes where constrained layout would, without drawing the figure.

    The map has no decorations outside its axes (axis off; legend and credit inside), so
    constrained layout only keeps its pads around the axes; finding that out takes a
    whole draw (the streets image resampled, every home), which ``savefig`` would make
    before the real one.
    """
    pad = fig.get_layout_engine().get()  # type: ignore[union-attr]
    width, height = fig.get_size_inches()
    left, bottom = pad["w_pad"] / width, pad["h_pad"] / height
    fig.set_layout_engine(None)  # no engine: savefig draws once ("none" would still draw twice)
    for ax in fig.axes:
        ax.set_position((left, bottom, 1 - 2 * left, 1 - 2 * bottom))


def _dots(ax: Any, points: gpd.GeoSeries, *, colour: str, rasterized: bool) -> None:
    """Points drawn as ``GeoDataFrame.plot(color=..., markersize=3)`` draws them.

    The same ``scatter`` call as geopandas' plot, without its per-geometry normalising
    and exploding (a city has 100,000 homes).
    """
    geoms = points.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not len(geoms):
        return
    crs = points.crs
    if crs is not None:  # the axis labels geopandas' plot sets (hidden with the axes)
        names = [f"{a.name} [{a.unit_name}]" for a in crs.axis_info[:2]]
        if crs.axis_info[0].direction == "north":
            names.reverse()
    else:
        names = ["x", "y"]
    if not ax.get_xlabel():
        ax.set_xlabel(names[0], fontsize="small")
    if not ax.get_ylabel():
        ax.set_ylabel(names[1], fontsize="small")
    xy = shapely.get_coordinates(shapely.get_parts(geoms))
    ax.scatter(
        xy[:, 0], xy[:, 1], vmin=None, vmax=None, cmap=None, s=3, color=colour
    ).set_rasterized(rasterized)


class _GeoPandasPolyCollection(PatchCollection):
    """Named as geopandas' own: the SVG names a group after its collection's class."""


def _band_fill(ax: Any, *, colour: str, alpha: float) -> PatchCollection:
    """An empty fill, added where a band is drawn; :func:`_fill_band` gives it the band."""
    fill = _GeoPandasPolyCollection([], facecolor=colour, alpha=alpha, linewidth=0)
    ax.add_collection(fill, autolim=True)
    ax.autoscale_view()
    return fill


def _fill_band(
    fill: PatchCollection, geom: Any, *, rasterized: bool, labels: tuple[str, str]
) -> None:
    """A (Multi)Polygon filled as ``GeoSeries([geom]).plot(color=..., linewidth=0)`` does.

    The same path (rings normalised, one compound path with every ring closed) and the
    same collection as geopandas' plot, built with whole-array calls instead of a Python
    ``Path`` per ring (a city's band has thousands of holes). An empty ``geom`` draws
    nothing: its ``fill`` is removed. ``labels`` are the axis labels before the fills
    were put in place; those that were empty become the ones geopandas' plot sets.
    """
    if geom is None or shapely.is_empty(geom):
        fill.remove()
        return
    ax: Any = fill.axes
    if not labels[0]:  # the axis labels geopandas' plot sets (hidden on the overview)
        ax.set_xlabel("x", fontsize="small")
    if not labels[1]:
        ax.set_ylabel("y", fontsize="small")
    rings = shapely.get_rings(shapely.get_parts(shapely.normalize(geom)))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
    first = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    codes[first] = Path.MOVETO
    codes[np.r_[first[1:] - 1, len(xy) - 1]] = Path.CLOSEPOLY
    fill.set_paths([PathPatch(Path(xy, codes))])
    fill.set_rasterized(rasterized)


def _streets_picture(ax: Any, streets: gpd.GeoSeries) -> None:
    """A city's streets as one image on a map in degrees (:func:`streets_share_image`)."""
    rgba, extent = streets_share_image(streets, rgb=to_rgb(STREET_COLOUR), alpha=0.8)
    ax.imshow(rgba, extent=extent, interpolation="nearest", zorder=0.5)


def coverage_curve_figure(curve: pd.DataFrame, *, language: Language = "en") -> Figure:
    """Share covered against the walk limit, one line per walking speed.

    ``curve`` is the table of :func:`planner.walk.coverage.coverage_curve`.
    """
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.2), layout="constrained")
        ax = fig.add_subplot()
        for speed, part in curve.groupby("speed_kmh", sort=True):
            part = part.sort_values("minutes")
            ax.plot(
                part["minutes"],
                part["share_covered"],
                marker="o",
                markersize=3,
                label=text("unit_km_h", language, value=f"{float(str(speed)):g}"),
            )
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel(text("p_limit", language) + " (" + text("map_minutes", language) + ")")
        ax.set_ylabel(text("axis_share", language))
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, title=text("p_speed", language))
    return fig


def station_labels(stations: gpd.GeoDataFrame) -> list[str]:
    """Display names of stations: the ``name`` when given, else the ``id``."""
    ids = [str(i) for i in stations["id"]]
    if "name" not in stations.columns:
        return ids
    names = [str(n) for n in stations["name"].fillna("").astype(str).str.strip()]
    return [n or i for n, i in zip(names, ids, strict=True)]


def _dot(colour: str, label: str, *, marker: str = "o") -> Line2D:
    return Line2D([], [], color=colour, marker=marker, linestyle="none", markersize=5, label=label)


def _band_colour(bands: tuple[float, ...], upper: float) -> str:
    for i, band in enumerate(bands):
        if upper <= band + 1e-9:
            return BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)]
    return BEYOND_COLOUR


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _attr(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
