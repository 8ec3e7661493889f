"""``decode_frame`` decodes in chunks and joins their columns: any chunking gives the same frame.

Each chunk's columns are built as soon as it is decoded (in the worker with ``workers > 1``) and the
chunks' arrays are joined at the end; duplicates fan out across chunk boundaries and ``errors="raise"``
names the first failing row of the whole input, whichever chunk holds it.
"""

from __future__ import annotations

import importlib.util
import os
import time

import numpy as np
import pandas as pd
import pytest
from engines import engines_required

import lnnotebook as ln
from lnnotebook import FeatureError, frames
from lnnotebook.bolt11 import encode_invoice
from lnnotebook.synthetic import generate_invoices

# Without pyarrow (pandas 2 keeps strings as Python objects) the default backend is still chunked.
arrow = pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is None and not engines_required(), reason="pyarrow is not installed"
)
BACKENDS = ["numpy_nullable", pytest.param("pyarrow", marks=arrow)]
KEY = "e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"


@pytest.fixture(scope="module")
def texts(spec_vectors) -> pd.Series:
    """Valid, invalid, non-text and repeated rows, non-ASCII descriptions among them, in a shuffled order
    under a string index."""
    valid = generate_invoices(60, seed=3)
    unicode = [
        encode_invoice(
            private_key=KEY,
            payment_hash=f"{n:02x}" * 32,
            payment_secret="cd" * 32,
            description=f"café ☕ nº{n}",
            amount_msat=1000 + n,
        )
        for n in range(5)
    ]
    invalid = [vector["invoice"] for vector in spec_vectors["invalid"]]
    rows = [*valid, *unicode, *invalid, None, 7, float("nan"), "", f" {valid[0]}\n", "lightning:" + valid[1]]
    rows += valid[::7] + invalid[::3] + [None, 7]  # repeats of rows in other chunks
    order = np.random.default_rng(5).permutation(len(rows))
    return pd.Series([rows[at] for at in order], index=[f"r{at}" for at in range(len(rows))])


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few invoices each, by text, and at most 5 rows."""
    monkeypatch.setattr(frames, "_CHUNK_CHARACTERS", 1500)
    monkeypatch.setattr(frames, "_CHUNK", 5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunks_give_the_frame_of_one_chunk(texts, backend, monkeypatch) -> None:
    monkeypatch.setattr(frames, "_CHUNK_CHARACTERS", 10**9)
    whole = ln.decode_frame(texts, errors="coerce", dtype_backend=backend)
    assert len(frames._chunk_starts(list(texts), workers=1)) == 1
    monkeypatch.setattr(frames, "_CHUNK_CHARACTERS", 1500)
    monkeypatch.setattr(frames, "_CHUNK", 5)
    assert len(frames._chunk_starts(list(texts), workers=1)) > 20
    chunked = ln.decode_frame(texts, errors="coerce", dtype_backend=backend)
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked.index is texts.index
    assert whole["description"].str.contains("☕").sum() == 5


@pytest.mark.parametrize("backend", BACKENDS)
def test_workers_join_the_same_chunks(texts, backend, small_chunks) -> None:
    one = ln.decode_frame(texts, errors="coerce", dtype_backend=backend)
    two = ln.decode_frame(texts, errors="coerce", dtype_backend=backend, workers=2)
    pd.testing.assert_frame_equal(two, one)


def test_the_first_failing_row_raises_whichever_chunk_holds_it(spec_vectors, small_chunks) -> None:
    valid = generate_invoices(30, seed=4)
    bad = spec_vectors["invalid"][0]["invoice"]  # unknown even feature 100
    rows = [*valid, bad, *valid[:3], bad]
    index = pd.Index(range(100, 100 + len(rows)), name="n")
    for workers in (1, 2):
        with pytest.raises(FeatureError, match=r"^row 130: .*100"):
            ln.decode_frame(pd.Series(rows, index=index), workers=workers)
    # The repeat decodes once, in the first chunk: the row named is still the first in row order.
    with pytest.raises(FeatureError, match=r"^row 2: "):
        ln.decode_frame([*valid[:2], bad, *valid, bad])


def test_progress_counts_rows_across_chunks(capsys, texts, small_chunks) -> None:
    ln.decode_frame(texts, errors="coerce", progress=True)
    assert f"{len(texts)}/{len(texts)}" in capsys.readouterr().err


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_input_is_an_empty_frame_with_the_columns(backend) -> None:
    empty = ln.decode_frame([], dtype_backend=backend)
    some = ln.decode_frame(generate_invoices(2, seed=1), dtype_backend=backend)
    assert list(empty.columns) == list(some.columns) and len(empty) == 0
    assert (empty.dtypes == some.dtypes).all()


def test_chunk_starts_bound_text_and_rows(monkeypatch) -> None:
    monkeypatch.setattr(frames, "_CHUNK_CHARACTERS", 100)
    monkeypatch.setattr(frames, "_CHUNK", 4)
    lengths = [30, 30, 30, 30, 250, 1, 1, 1, 1, 1, 1, 0]
    texts: list = ["x" * length for length in lengths] + [None, 7]
    starts = frames._chunk_starts(texts, workers=1)
    assert starts[0] == 0 and starts == sorted(set(starts))
    for start, stop in zip(starts, [*starts[1:], len(texts)]):
        chunk = texts[start:stop]
        assert 1 <= len(chunk) <= 4
        sizes = [len(item) if isinstance(item, str) else 0 for item in chunk]
        assert sum(sizes[1:]) <= 100  # past its first text, a chunk holds at most the budget
    assert frames._chunk_starts([], workers=1) == []


@arrow
@pytest.mark.parametrize("large", [False, True])
def test_exact_strings_equal_pyarrow_s_own(large: bool) -> None:
    import pyarrow as pa

    kind = pa.large_string() if large else pa.string()
    for values in (
        ["lnbc1", None, "", "café", None, "☕" * 3, "x"],
        ["a", "bc", ""],
        [None, None],
        [None, "é"],
        [],
    ):
        array = frames._exact_strings(pa, list(values), large)
        assert array.type == kind
        assert array.equals(pa.array(values, type=kind))
        array.validate(full=True)
    assert frames._exact_strings(pa, ["\ud800"], large) is None  # not UTF-8: pyarrow's error decides


def _pid_and_chunk(chunk: list[int]) -> tuple[int, list[int]]:
    time.sleep(0.01)  # as a chunk takes time: else this process could take back every chunk it sent
    return os.getpid(), list(chunk)


def test_workers_share_the_chunks_with_this_process_and_results_keep_their_order() -> None:
    """workers=2: this process and one other take the chunks in line; every chunk is done once, results
    come back in order, and ``done`` runs here for each."""
    chunks = [list(range(start, start + 10)) for start in range(0, 300, 10)]
    finished: list[int] = []

    def done(at: int, result: tuple[int, list[int]]) -> tuple[int, list[int]]:
        finished.append(at)
        return result

    results = frames._shared_decode(_pid_and_chunk, chunks, 2, done)
    assert [chunk for _, chunk in results] == chunks
    assert sorted(finished) == list(range(len(chunks)))
    pids = {pid for pid, _ in results}
    assert os.getpid() in pids and len(pids) == 2  # this process and one worker


def test_with_workers_the_last_chunks_are_cut_in_pieces() -> None:
    texts = ["x" * 500] * 40_000
    starts = frames._chunk_starts(texts, workers=2)
    sizes = np.diff([*starts, len(texts)])
    assert sizes.sum() == len(texts) and starts == sorted(set(starts))
    assert sizes[-1] * (frames._TAIL_PIECES - 1) < sizes[0] and len(sizes) > 2 * frames._TAIL_PIECES
    # the last two pieces again in quarters: a worker holding two of them at the end keeps nobody long
    assert max(sizes[-8:]) * 3 < min(sizes[-16:-8]) and min(sizes) >= frames._MIN_PIECE
    assert frames._chunk_starts(texts[:300], workers=2) == [0, 64, 128, 192, 256]  # no piece under 64 rows
