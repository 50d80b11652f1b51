"""The ``planner`` command line: a thin shell over :mod:`planner.pipeline`.

Exit codes: 0 success, 1 bad input or refused overwrite (the message says what to fix),
2 wrong command-line usage.

The modules: :mod:`~planner.cli.parser` builds the commands and their options,
:mod:`~planner.cli.inputs` the input options shared by the commands that read stations,
:mod:`~planner.cli.commands` runs a command through the pipeline and
:mod:`~planner.cli.printing` prints its summary. Only the parser is imported to parse the
command line, so that ``planner --help`` answers at once; the pipeline (osmnx, geopandas,
folium, matplotlib) is imported when a command runs.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Sequence

from planner.cli.parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Dask distributed logs its cluster's life at INFO (read when it is imported, and
        # by the worker processes it starts): only warnings unless --verbose.
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    from planner.cli.commands import run_command  # the pipeline: imported only to run

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        return run_command(args)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """Print a warning for a person, not a developer: no class, file name or source line."""
    print(f"planner: warning: {message}", file=sys.stderr)
