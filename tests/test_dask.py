"""lnnotebook.dask on a real distributed cluster: a scheduler and two worker processes on loopback.

Every computed result is compared with pandas' ``decode_frame``/``hops_frame`` on the same input:
index, columns, dtypes and error rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pandas as pd
import pytest
from engines import require

dd, distributed, _ = require("dask.dataframe", "distributed", "pyarrow")

import lnnotebook as ln  # noqa: E402
import lnnotebook.dask as lndask  # noqa: E402
from lnnotebook.synthetic import generate_invoices  # noqa: E402

JUNK = ["junk", "", "lnbc1qqqqqqqq", None, 42]


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_port=0,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def invoices() -> pd.Series:
    """Valid invoices (with duplicates) and junk, under a sorted index with gaps, as Dask keeps it."""
    texts = generate_invoices(240, seed=12)
    texts = texts + texts[:30] + JUNK
    return pd.Series(texts, index=pd.Index(range(7, 7 + 5 * len(texts), 5), name="n"), name="bolt11")


def on_workers(client: distributed.Client, compute) -> pd.DataFrame:
    """Run ``compute()`` and check that its tasks ran in the cluster's worker processes, not here."""
    with distributed.get_task_stream(client) as stream:
        result = compute()
    workers = {task["worker"] for task in stream.data}
    assert workers and workers <= set(client.scheduler_info()["workers"])
    assert os.getpid() not in client.run(os.getpid).values()
    return result


def test_decode_equals_pandas_on_the_cluster(client, invoices: pd.Series) -> None:
    series = dd.from_pandas(invoices, npartitions=6)
    decoded = series.ln.decode(errors="coerce")
    assert decoded.divisions == series.divisions  # every row keeps its label
    computed = on_workers(client, decoded.compute)
    expected = ln.decode_frame(series.compute(), errors="coerce")
    pd.testing.assert_frame_equal(computed, expected)
    assert computed["error"].notna().sum() == len(JUNK)
    assert (
        computed.loc[invoices.index[-len(JUNK) :], "error_type"].isin(["FormatError", "TruncatedError"]).all()
    )
    assert computed.index.name == "n"


def test_pyarrow_backend_and_options_reach_the_workers(client, invoices: pd.Series) -> None:
    series = dd.from_pandas(invoices, npartitions=3)
    decoded = lndask.decode_frame(series, errors="coerce", verify=False, dtype_backend="pyarrow")
    computed = on_workers(client, decoded.compute)
    expected = ln.decode_frame(series.compute(), errors="coerce", verify=False, dtype_backend="pyarrow")
    pd.testing.assert_frame_equal(computed, expected)
    assert str(computed["amount_msat"].dtype) == "int64[pyarrow]"


def test_hops_equal_pandas_on_the_cluster(client, invoices: pd.Series) -> None:
    series = dd.from_pandas(invoices, npartitions=4)
    hops = series.ln.hops(errors="coerce")
    computed = on_workers(client, hops.compute)
    expected = ln.hops_frame(series.compute(), errors="coerce")
    pd.testing.assert_frame_equal(computed, expected)
    assert list(computed.index.names) == ["n", "route", "hop"]
    assert len(computed) > len(JUNK)  # the generated invoices do have route hints


def test_meta_is_what_pandas_gives_and_nothing_is_decoded_until_computed(client) -> None:
    series = dd.from_pandas(pd.Series(["junk"] * 4), npartitions=2)
    decoded = series.ln.decode()  # errors="raise": would raise here if it decoded anything
    empty = ln.decode_frame(pd.Series([], dtype="string"))
    pd.testing.assert_frame_equal(decoded._meta, empty, check_index_type=False)
    assert decoded._meta.index.dtype == series._meta.index.dtype
    pd.testing.assert_frame_equal(
        series.ln.hops()._meta, ln.hops_frame(pd.Series([], dtype="string")), check_index_type=False
    )
    with pytest.raises(ln.FormatError, match="^row [02]: no '1' separator"):
        decoded.compute()


def test_a_bad_row_raises_on_compute_with_its_label(client, invoices: pd.Series) -> None:
    tail = invoices.iloc[-len(JUNK) - 3 :]
    series = dd.from_pandas(tail, npartitions=2)
    with pytest.raises(ln.InvoiceError, match=r"^row \d+: ") as raised:
        series.ln.decode().compute()
    # The first bad row of whichever partition failed first: a junk one, named by its label.
    label = int(str(raised.value).split(":")[0].removeprefix("row "))
    assert label in set(invoices.index[-len(JUNK) :])
    with pytest.raises(ln.FormatError, match=rf"^row {invoices.index[-len(JUNK)]}: no '1' separator"):
        dd.from_pandas(tail, npartitions=1).ln.decode().compute()  # one partition: the first, as pandas


def test_decoding_a_column_read_from_parquet(client, invoices: pd.Series, tmp_path) -> None:
    path = tmp_path / "invoices"
    dd.from_pandas(invoices.to_frame(), npartitions=3).to_parquet(path)
    column = dd.read_parquet(path)["bolt11"]
    computed = on_workers(client, column.ln.decode(errors="coerce").compute)
    pd.testing.assert_frame_equal(computed, ln.decode_frame(column.compute(), errors="coerce"))
    assert len(computed) == len(invoices)


def test_wrong_inputs_and_options_fail_when_the_graph_is_built(invoices: pd.Series) -> None:
    frame = dd.from_pandas(invoices.to_frame(), npartitions=2)
    with pytest.raises(TypeError, match=r"Dask Series, e.g. ddf\['bolt11'\], not a DataFrame"):
        lndask.decode_frame(frame)
    with pytest.raises(TypeError, match="for pandas or lists use lnnotebook.decode_frame"):
        lndask.decode_frame(invoices)
    with pytest.raises(TypeError, match="does not take workers=: Dask's workers decode"):
        frame["bolt11"].ln.decode(workers=2)
    with pytest.raises(TypeError, match="hops_frame: got an unexpected keyword argument 'dtype_backend'"):
        frame["bolt11"].ln.hops(dtype_backend="pyarrow")
    with pytest.raises(ValueError, match="errors must be 'raise' or 'coerce', not 'ignore'"):
        frame["bolt11"].ln.decode(errors="ignore")
    with pytest.raises(ValueError, match="dtype_backend must be 'numpy_nullable' or 'pyarrow'"):
        frame["bolt11"].ln.decode(dtype_backend="arrow")
