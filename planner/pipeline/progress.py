"""Stages of long work, announced to whoever listens: a log line and an optional callback.

The pipeline never prints. Each stage of :func:`~planner.pipeline.analysis.run_analysis`,
:func:`~planner.pipeline.analysis.run_demo` and :func:`~planner.pipeline.suggest.run_suggest`
is logged on the ``planner.pipeline`` logger (level INFO) and passed to the caller's
``progress`` callback, which the command line renders as a progress bar or plain lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("planner.pipeline")


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a run: ``index`` (1-based) of ``total``, and what it does."""

    index: int
    total: int
    name: str


#: A callback told of each stage as it starts, and once more with ``index > total`` at the end.
Progress = Callable[[Stage], None]


class Stages:
    """Announce the stages of one run, in order.

    Parameters
    ----------
    names
        The stages' descriptions, in the order they run.
    progress
        Called with each :class:`Stage` as it starts; None only logs.
    """

    def __init__(self, names: tuple[str, ...], progress: Progress | None) -> None:
        self._names = names
        self._progress = progress
        self._next = 0

    def start(self, name: str) -> None:
        """Announce the stage ``name`` (one of ``names``), logging it and calling back."""
        index = self._names.index(name) + 1
        self._next = index
        stage = Stage(index=index, total=len(self._names), name=name)
        logger.info("stage %d/%d: %s", stage.index, stage.total, stage.name)
        if self._progress is not None:
            self._progress(stage)

    def done(self) -> None:
        """Tell the callback that the last stage has finished."""
        total = len(self._names)
        logger.info("all %d stages done", total)
        if self._progress is not None:
            self._progress(Stage(index=total + 1, total=total, name="done"))
