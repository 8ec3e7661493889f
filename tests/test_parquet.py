"""Parquet round trips of decode_frame (both dtype backends), hops_frame, create_invoices and history."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from engines import require

pa, pq = require("pyarrow", "pyarrow.parquet")

import lnnotebook as ln  # noqa: E402
from lnnotebook.synthetic import generate_invoices  # noqa: E402

INVOICES = [*generate_invoices(120, seed=8), "junk", None, "lnbc1qqqq"]


@pytest.fixture(scope="module")
def sb():
    with ln.sandbox() as sandbox:
        yield sandbox


def test_decode_frame_round_trips_through_plain_pandas(tmp_path: Path) -> None:
    frame = ln.decode_frame(pd.Series(INVOICES, index=range(10, 10 + len(INVOICES))), errors="coerce")
    frame.to_parquet(tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), frame)
    pd.testing.assert_frame_equal(ln.read_parquet(tmp_path / "f.parquet"), frame)


def test_decode_frame_pyarrow_backend_round_trips(tmp_path: Path) -> None:
    frame = ln.decode_frame(INVOICES, errors="coerce", dtype_backend="pyarrow")
    assert {str(dtype) for dtype in frame.dtypes} == {
        "string[pyarrow]",
        "bool[pyarrow]",  # amount_overflow
        "int64[pyarrow]",
        "double[pyarrow]",
        "timestamp[ns, tz=UTC][pyarrow]",
    }
    assert all(isinstance(dtype, pd.ArrowDtype) for dtype in frame.dtypes)
    frame.to_parquet(tmp_path / "f.parquet")
    # pandas reads Arrow strings back as its own "string" unless asked for the pyarrow backend
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet", dtype_backend="pyarrow"), frame)
    ln.to_parquet(frame, tmp_path / "g.parquet")
    pd.testing.assert_frame_equal(ln.read_parquet(tmp_path / "g.parquet"), frame)


def test_pyarrow_backend_has_the_same_values(tmp_path: Path) -> None:
    nullable = ln.decode_frame(INVOICES, errors="coerce")
    arrow = ln.decode_frame(INVOICES, errors="coerce", dtype_backend="pyarrow")
    pd.testing.assert_frame_equal(arrow.astype(nullable.dtypes.to_dict()), nullable)
    with pytest.raises(ValueError, match="dtype_backend must be 'numpy_nullable' or 'pyarrow', not 'numpy'"):
        ln.decode_frame(INVOICES, dtype_backend="numpy")


def test_hops_frame_keeps_its_int64_index_levels(tmp_path: Path) -> None:
    hops = ln.hops_frame(INVOICES, errors="coerce")
    assert [str(dtype) for dtype in hops.index.dtypes] == ["int64", "Int64", "Int64"]
    hops.to_parquet(tmp_path / "plain.parquet")  # written by pandas: read_parquet restores the levels
    pd.testing.assert_frame_equal(ln.read_parquet(tmp_path / "plain.parquet"), hops)
    ln.to_parquet(hops, tmp_path / "h.parquet")
    pd.testing.assert_frame_equal(ln.read_parquet(tmp_path / "h.parquet"), hops)


def test_create_invoices_and_history_keep_raw_dicts(sb, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    created = ln.create_invoices(sb.providers(ledger=ledger), 2100, "coffee", repeat=2)
    sb.inject("lnpay", "401")
    failed = ln.create_invoices([sb.connect("lnpay", ledger=ledger)], 5)
    for name, frame in (("created", created), ("failed", failed), ("history", ln.history(ledger))):
        path = ln.to_parquet(frame, tmp_path / f"{name}.parquet")
        back = ln.read_parquet(path)
        pd.testing.assert_frame_equal(back, frame)
    shapes = {frozenset(raw) for raw in created["raw"]}
    assert len(shapes) > 1  # providers answer differently: no struct with every key of every row
    assert list(tmp_path.glob(".*.tmp")) == []


def test_to_parquet_replaces_a_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "f.parquet"
    ln.to_parquet(ln.decode_frame(INVOICES[:3]), target)
    ln.to_parquet(ln.decode_frame(INVOICES[:5]), target)
    assert len(ln.read_parquet(target)) == 5
    assert sorted(path.name for path in tmp_path.iterdir()) == ["f.parquet"]
