r"""A road layer's own walking speeds (per line or per class) and time factors as costs.

A road layer read with a mapping file's ``[speed]`` table
(:mod:`planner.sources.road_mapping`) gives each street the walking speed of its line in
the ``line_speed_kmh`` edge column (NaN for lines without one).
:func:`line_speed_network` turns those speeds into *walking costs* in metres at the run's
speed, as :func:`planner.walk.profiles.profile_network` does for a profile: a street of
length :math:`L` walked at its own speed :math:`s` costs :math:`L \cdot v / s` at the run's
speed :math:`v`, so that it takes :math:`L / s` to walk; the engine then runs unchanged
with ``speed_kmh = v``. A line's time factor :math:`f` (``line_time_factor``) multiplies
its cost (:math:`L \cdot f`, or :math:`L \cdot f \cdot v / s` with a speed of its
own). ``street_length_m`` keeps every street's true length.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from planner.errors import InputDataError
from planner.walk.compile import _compile_csr
from planner.walk.network import LINE_FACTOR_COLUMN, LINE_SPEED_COLUMN, WalkNetwork


def has_line_speeds(network: WalkNetwork) -> bool:
    """Whether ``network``'s streets still carry speeds or time factors, not yet applied."""
    return bool({LINE_SPEED_COLUMN, LINE_FACTOR_COLUMN} & set(network.edges.columns))


def line_speed_network(network: WalkNetwork, *, speed_kmh: float) -> WalkNetwork:
    """The network with each street's own walking speed and time factor as walking costs.

    Parameters
    ----------
    network
        A walking network; not modified.
    speed_kmh
        The run's walking speed (a profile's, or ``--speed-kmh``), km/h: it applies to
        streets without a speed of their own, and costs are metres at this speed.

    Returns
    -------
    WalkNetwork
        ``network`` itself when its streets carry neither (or they were applied already);
        otherwise the same streets without the ``line_speed_kmh`` and
        ``line_time_factor`` columns, whose ``length_m`` (and CSR weights) is
        ``street_length_m * speed_kmh / line_speed_kmh * line_time_factor``, a missing
        speed counting as ``speed_kmh`` and a missing factor as 1.

    Raises
    ------
    InputDataError
        When ``speed_kmh`` is not a positive number.
    """
    if not has_line_speeds(network):
        return network
    if not (np.isfinite(speed_kmh) and speed_kmh > 0):
        msg = f"speed_kmh {speed_kmh!r}: give a walking speed in km/h, more than 0."
        raise InputDataError(msg)
    edges = network.edges
    n = len(edges)
    nan = np.full(n, np.nan)
    own = edges[LINE_SPEED_COLUMN].to_numpy(np.float64) if LINE_SPEED_COLUMN in edges else nan
    factor = edges[LINE_FACTOR_COLUMN].to_numpy(np.float64) if LINE_FACTOR_COLUMN in edges else nan
    length = network.edge_length_m
    ratio = np.ones(n)
    has_own = np.isfinite(own) & (own > 0)
    ratio[has_own] = float(speed_kmh) / own[has_own]
    has_factor = np.isfinite(factor) & (factor > 0)
    ratio[has_factor] *= factor[has_factor]
    out = edges.drop(columns=[c for c in (LINE_SPEED_COLUMN, LINE_FACTOR_COLUMN) if c in edges])
    if "street_length_m" not in out.columns:
        out["street_length_m"] = length
    out["length_m"] = length * ratio
    csr = _compile_csr(
        out["u_idx"].to_numpy(dtype=np.int64),
        out["v_idx"].to_numpy(dtype=np.int64),
        out["length_m"].to_numpy(dtype=np.float64),
        network.n_nodes,
    )
    return replace(network, csr=csr, edges=out)
