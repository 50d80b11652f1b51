"""How ``planner`` shows the stages of long work: a bar on a terminal, plain lines otherwise.

The pipeline announces its stages through a callback
(:class:`planner.pipeline.progress.Stage`); this module renders them. On a terminal
(standard error is a TTY) a tqdm bar counts the stages on standard error and shows the one
running; otherwise each stage is one plain line on standard output once it has finished,
with its duration (``planner: [2/3] analysing coverage (38.0 s)``), so that logs of
scheduled runs say where a run spent its time; a run stopped by bad input in its first
stage prints no stage line. ``--quiet`` shows nothing.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from planner.pipeline.progress import Stage


class StageDisplay:
    """A progress callback for the pipeline (call it with each stage); close it at the end.

    Parameters
    ----------
    quiet
        Show nothing.
    bar
        Draw a tqdm bar on ``sys.stderr``; None draws one when standard error is a terminal.
    out
        Where plain stage lines go (standard output when None).
    """

    def __init__(self, *, quiet: bool = False, bar: bool | None = None, out: TextIO | None = None):
        self._quiet = quiet
        self._bar_wanted = sys.stderr.isatty() if bar is None else bar
        self._out = out
        self._bar: Any = None
        self._pending: tuple[Stage, float] | None = None

    def __call__(self, stage: Stage) -> None:
        """Show that ``stage`` starts (or, past the last stage, that all are done)."""
        if self._quiet:
            return
        if self._bar_wanted:
            self._show_bar(stage)
            return
        now = time.perf_counter()
        if self._pending is not None:
            done, started = self._pending
            out = self._out or sys.stdout
            print(
                f"planner: [{done.index}/{done.total}] {done.name} ({now - started:.1f} s)",
                file=out,
            )
            out.flush()
        self._pending = (stage, now) if stage.index <= stage.total else None

    def close(self) -> None:
        """Close the bar, if one was drawn."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _show_bar(self, stage: Stage) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(
                total=stage.total,
                file=sys.stderr,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} stages [{elapsed}]",
                leave=False,
            )
        done = min(stage.index, stage.total + 1) - 1
        self._bar.update(done - self._bar.n)
        self._bar.set_description_str(stage.name if stage.index <= stage.total else "done")
        if stage.index > stage.total:
            self.close()
