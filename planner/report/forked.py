"""Work done by a forked copy of the process, on another core, redone here if the copy fails.

Writing a city's outputs is CPU work under one GIL (matplotlib, folium, pandas' CSV
writer all hold it), and a thread does not give it a second core. A forked copy does: it
has every input already (nothing pickled, nothing imported again) and writes its files
while this process writes others. :class:`ForkedCopy` runs one function in such a copy,
with a pipe both ways; the copy prints nothing (another thread of this process may hold
a stream's lock at the fork), takes no lock of another thread (it must read no future of
this process' threads: send it what it needs) and leaves with ``os._exit``.
:func:`in_a_copy` is the common case: files written by a function that needs nothing
more, written here after all when the copy fails or dies. So a copy can make writing
faster, never change what is written (``tests/report/test_forked.py``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection, Pipe
from typing import Any

log = logging.getLogger(__name__)

#: Outputs of runs with fewer demand points than this are written in this process: forking
#: costs more than it saves on a district-sized run.
FORK_MIN_DEMAND_POINTS = 20_000

#: The copy's last message when its function returned.
DONE = "done"


def can_fork() -> bool:
    """Whether this platform forks (Linux, macOS; not Windows)."""
    return hasattr(os, "fork")


def worth_forking(demand_points: int) -> bool:
    """Whether to write a run's outputs in forked copies.

    For a city-sized run (:data:`FORK_MIN_DEMAND_POINTS`), where the platform forks, in a
    process whose threads are all planner's own (:func:`only_planner_threads`): the
    command line, a script. A server's or notebook kernel's threads (Streamlit, Jupyter,
    Dask) may hold a lock the copy would need, so there the outputs are written in the
    process itself.
    """
    return can_fork() and demand_points >= FORK_MIN_DEMAND_POINTS and only_planner_threads()


#: Threads of other libraries that hold no lock a forked copy needs: tqdm's monitor of
#: the command line's progress bar sleeps, wakes and looks at its bars.
_HARMLESS_THREADS = ("TMonitor",)


def only_planner_threads() -> bool:
    """Whether the Python threads alive are the main thread and planner's own.

    planner names its threads ``planner-...`` (the band polygons, the GeoPackage writer,
    the snapping); a forked copy runs none of their work.
    """
    main = threading.main_thread()
    return all(
        t is main or t.name.startswith("planner-") or type(t).__name__ in _HARMLESS_THREADS
        for t in threading.enumerate()
    )


class ForkedCopy:
    """One function run in a forked copy of this process; see :meth:`start`.

    The copy's function gets its end of the pipe; its return value (picklable) comes back
    as ``("done", value)``, an error as ``("failed", traceback)``.
    """

    def __init__(self, pid: int, conn: Connection) -> None:
        self._pid: int | None = pid
        self._conn: Connection | None = conn

    @classmethod
    def start(cls, work: Callable[[Connection], object]) -> ForkedCopy:
        """Fork and run ``work`` in the copy; this process goes on at once."""
        ours, theirs = Pipe(duplex=True)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the copy ends in os._exit, unseen by coverage
            ours.close()
            _run_in_copy(work, theirs)
        theirs.close()
        return cls(pid, ours)

    @property
    def alive(self) -> bool:
        """Whether the copy may still answer (it has not failed to take a message)."""
        return self._conn is not None

    def send(self, message: object) -> bool:
        """Send ``message`` (waits while the pipe is full); False when the copy is gone."""
        if self._conn is None:
            return False
        try:
            self._conn.send(message)
        except OSError as err:
            log.debug("The forked copy is gone (%s).", err)
            self._reap(kill=False)
            return False
        return True

    def result(self) -> tuple[bool, Any]:
        """Wait for the copy's last word and reap it: ``(True, value)`` or ``(False, why)``."""
        if self._conn is None:
            return False, "the copy was gone"
        try:
            kind, value = self._conn.recv()
        except (EOFError, OSError) as err:
            kind, value = "failed", f"the copy ended without a word ({err!r})"
        self._reap(kill=False)
        if kind != DONE:
            log.debug("The forked copy failed: %s", value)
        return kind == DONE, value

    def close(self) -> None:
        """Stop the copy if it is still at work, and reap it."""
        self._reap(kill=True)

    def _reap(self, *, kill: bool) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._pid is not None:
            if kill:
                with suppress(OSError):
                    os.kill(self._pid, signal.SIGKILL)
            with suppress(OSError, ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


class InACopy:
    """Files written by a forked copy; :meth:`wait` writes them here if the copy failed."""

    def __init__(self, work: Callable[[], None], copy: ForkedCopy | None) -> None:
        self._work = work
        self._copy = copy
        self._done = False

    @property
    def forked(self) -> bool:
        """Whether a forked copy was started for the work."""
        return self._copy is not None

    def wait(self) -> None:
        """Wait for the copy; do the work here when there was no copy or it failed.

        The work is done once: a second call returns at once.
        """
        if self._done:
            return
        if self._copy is not None:
            done, _ = self._copy.result()
            self._copy = None
            self._done = done
        if not self._done:
            self._work()
            self._done = True

    def close(self) -> None:
        """Stop a copy still at work (e.g. after an error here)."""
        if self._copy is not None:
            self._copy.close()
            self._copy = None


def in_a_copy(work: Callable[[], None], *, fork: bool) -> InACopy:
    """Start ``work`` (which writes files and returns nothing) in a forked copy if ``fork``.

    ``work`` must be safe to run twice (e.g. it writes whole files): a copy that fails
    may have written part of them. Call :meth:`InACopy.wait` to have the files, and
    :meth:`InACopy.close` when giving up (e.g. in a ``finally``).
    """
    copy = ForkedCopy.start(lambda _conn: work()) if fork and can_fork() else None
    return InACopy(work, copy)


def _run_in_copy(
    work: Callable[[Connection], object], conn: Connection
) -> None:  # pragma: no cover - runs in the forked copy, which coverage does not follow
    """The copy's whole life: run ``work``, send its result or failure, leave."""
    code = 1
    try:
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115  # closed by _exit
        value = work(conn)
        conn.send((DONE, value))
        code = 0
    except BaseException:  # any failure: this process does the work itself
        with suppress(OSError):
            conn.send(("failed", traceback.format_exc()))
    finally:
        os._exit(code)
