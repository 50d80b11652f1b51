"""Work done by a forked copy of the process, and redone here when the copy fails.

:func:`planner.report.forked.in_a_copy` must give the same files whatever happens to the
copy: these tests let it succeed, fail, die and be stopped, and look at which process
wrote the file and that no copy is left behind.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from helpers import Children

from planner.report.forked import ForkedCopy, in_a_copy

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def writer(path: Path, *, fail_in_copy: str = "") -> tuple[int, object]:
    here = os.getpid()

    def work() -> None:
        if os.getpid() != here and fail_in_copy == "raise":
            msg = "simulated failure in the copy"
            raise RuntimeError(msg)
        if os.getpid() != here and fail_in_copy == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        path.write_text(f"written by {os.getpid()}", "utf-8")

    return here, work


def test_the_copy_writes_the_file(tmp_path: Path, children: Children) -> None:
    here, work = writer(tmp_path / "t.csv")
    job = in_a_copy(work, fork=True)
    assert job.forked
    job.wait()
    text = (tmp_path / "t.csv").read_text("utf-8")
    assert text.startswith("written by ")
    assert text != f"written by {here}"
    assert children() == []


@pytest.mark.parametrize("how", ["raise", "die"])
def test_a_copy_that_fails_leaves_the_work_to_this_process(
    tmp_path: Path, how: str, children: Children
) -> None:
    here, work = writer(tmp_path / "t.csv", fail_in_copy=how)
    job = in_a_copy(work, fork=True)
    job.wait()
    assert (tmp_path / "t.csv").read_text("utf-8") == f"written by {here}"
    assert children() == []


def test_without_fork_the_work_is_done_here_on_wait(tmp_path: Path) -> None:
    here, work = writer(tmp_path / "t.csv")
    job = in_a_copy(work, fork=False)
    assert not job.forked
    assert not (tmp_path / "t.csv").exists()
    job.wait()
    assert (tmp_path / "t.csv").read_text("utf-8") == f"written by {here}"
    (tmp_path / "t.csv").unlink()
    job.wait()  # done once
    assert not (tmp_path / "t.csv").exists()


def test_close_stops_a_copy_at_work(tmp_path: Path, children: Children) -> None:
    job = in_a_copy(lambda: time.sleep(600), fork=True)
    assert len(children()) == 1
    job.close()
    assert children() == []


def test_messages_go_both_ways_and_the_value_comes_back(children: Children) -> None:
    def work(conn: object) -> int:
        total = 0
        while (n := conn.recv()) is not None:  # type: ignore[attr-defined]
            total += n
        return total

    copy = ForkedCopy.start(work)
    for n in (1, 2, 39):
        assert copy.send(n)
    assert copy.send(None)
    assert copy.result() == (True, 42)
    assert not copy.alive
    assert not copy.send(1)  # gone: nothing sent
    assert children() == []


def test_the_copy_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    def work(_conn: object) -> None:
        print("from the copy")
        os.write(1, b"")  # the descriptor is there; only Python's streams are silenced

    copy = ForkedCopy.start(work)
    assert copy.result() == (True, None)
    assert "from the copy" not in capfd.readouterr().out


def test_a_process_with_threads_of_others_writes_its_outputs_itself() -> None:
    import threading

    from planner.report import forked

    before = forked.only_planner_threads()
    stop = threading.Event()
    ours = threading.Thread(target=stop.wait, name="planner-test", daemon=True)
    ours.start()
    try:
        assert forked.only_planner_threads() == before  # planner's own threads are fine
        other = threading.Thread(target=stop.wait, name="server-thread", daemon=True)
        other.start()
        assert not forked.only_planner_threads()  # e.g. Streamlit's, Jupyter's, Dask's
        assert not forked.worth_forking(10**7)
    finally:
        stop.set()
