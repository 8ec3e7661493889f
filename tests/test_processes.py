"""The kept worker pool behind ``workers=``: reused by the next call, shut down when idle, replaced when a
worker died, never used by a forked child; frames are the same whichever pool decodes them."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pandas as pd
import pytest

import lnnotebook as ln
from lnnotebook import frames, processes
from lnnotebook.synthetic import generate_invoices

INVOICES = generate_invoices(60, seed=21)


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    """Chunks of a few invoices (so that workers=2 uses its worker), and no pool before or after."""
    monkeypatch.setattr(frames, "_CHUNK_CHARACTERS", 3000)
    processes.shutdown()
    yield
    processes.shutdown()


def worker_pid() -> int:
    pool = processes.kept_pool()
    assert pool is not None
    return pool.submit(os.getpid).result(timeout=30)


def test_the_next_call_reuses_the_workers_of_the_last() -> None:
    one = ln.decode_frame(INVOICES)
    first = ln.decode_frame(INVOICES, workers=2)
    pool, pid = processes.kept_pool(), worker_pid()
    second = ln.decode_frame(INVOICES, workers=2)
    assert processes.kept_pool() is pool and worker_pid() == pid != os.getpid()
    pd.testing.assert_frame_equal(first, one)
    pd.testing.assert_frame_equal(second, one)


def test_an_idle_pool_is_shut_down(monkeypatch) -> None:
    monkeypatch.setattr(processes, "IDLE_SECONDS", 0.2)
    ln.decode_frame(INVOICES, workers=2)
    pid = worker_pid()
    deadline = time.monotonic() + 20
    while processes.kept_pool() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes.kept_pool() is None
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"worker {pid} still runs after its pool was shut down")


def test_a_pool_whose_worker_died_is_replaced() -> None:
    one = ln.decode_frame(INVOICES)
    ln.decode_frame(INVOICES, workers=2)
    pool, pid = processes.kept_pool(), worker_pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while not getattr(pool, "_broken", False) and time.monotonic() < deadline:
        time.sleep(0.05)  # the pool notices the death at once; this waits for that moment
    pd.testing.assert_frame_equal(ln.decode_frame(INVOICES, workers=2), one)
    assert processes.kept_pool() is not pool and worker_pid() != pid


def _child_sees_no_pool(answer) -> None:
    answer.put(processes.kept_pool() is None)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_does_not_use_its_parent_s_pool() -> None:
    ln.decode_frame(INVOICES, workers=2)
    assert processes.kept_pool() is not None
    context = multiprocessing.get_context("fork")
    answer = context.Queue()
    child = context.Process(target=_child_sees_no_pool, args=(answer,))
    child.start()
    assert answer.get(timeout=30) is True
    child.join(30)


def test_another_size_while_the_kept_pool_is_busy_gets_its_own(monkeypatch) -> None:
    one = ln.decode_frame(INVOICES)
    ln.decode_frame(INVOICES, workers=2)
    kept = processes.kept_pool()
    with processes.worker_pool(1) as busy:  # in use, as by another thread's call
        assert busy is kept
        pd.testing.assert_frame_equal(ln.decode_frame(INVOICES, workers=3), one)
        assert processes.kept_pool() is kept
    pd.testing.assert_frame_equal(ln.decode_frame(INVOICES, workers=3), one)
    assert processes.kept_pool() is not kept


_PARENT = os.getpid()


def _dies_in_a_worker(chunk: list[int]) -> list[int]:
    """Kills any worker process it runs in (as the out-of-memory killer would); here, the chunk itself."""
    time.sleep(0.005)
    if os.getpid() != _PARENT:
        os._exit(1)
    return list(chunk)


def test_when_a_worker_dies_mid_call_this_process_decodes_what_it_left() -> None:
    chunks = [list(range(start, start + 10)) for start in range(0, 200, 10)]
    finished: list[int] = []

    def done(at: int, result: list[int]) -> list[int]:
        finished.append(at)
        return result

    with pytest.warns(RuntimeWarning, match=r"a decoding worker process died .*this process decoded"):
        results = frames._shared_decode(_dies_in_a_worker, chunks, 2, done)
    assert results == chunks
    assert sorted(finished) == list(range(len(chunks)))  # each chunk finished once
    assert processes.kept_pool() is None  # the broken pool is not kept
    pd.testing.assert_frame_equal(ln.decode_frame(INVOICES, workers=2), ln.decode_frame(INVOICES))


def test_a_pool_dropped_while_in_use_leaves_the_next_one_its_own_count(monkeypatch) -> None:
    """``shutdown()`` while a call holds the pool: that call's release does not count against the next
    pool, which is still shut down once idle."""
    monkeypatch.setattr(processes, "IDLE_SECONDS", 0.2)
    ln.decode_frame(INVOICES, workers=2)
    with processes.worker_pool(1):
        processes.shutdown()
    ln.decode_frame(INVOICES, workers=2)
    assert processes.kept_pool() is not None
    deadline = time.monotonic() + 20
    while processes.kept_pool() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes.kept_pool() is None
