"""Decoding on Dask: ``decode_frame`` and ``hops_frame`` for ``dask.dataframe.Series`` (``lnnotebook[dask]``).

    >>> import dask.dataframe as dd
    >>> import lnnotebook.dask  # also registers ``.ln`` on dask Series
    >>> ddf = dd.read_parquet("invoices/*.parquet")
    >>> decoded = ddf["bolt11"].ln.decode(errors="coerce")  # lazy: nothing is decoded yet
    >>> decoded.groupby("network")["amount_sat"].sum().compute()

Each partition is decoded by pandas' ``lnnotebook.decode_frame`` on whichever worker holds it, so a
computed result equals ``decode_frame`` on the whole input: the same index, columns, dtypes and error
rows. The ``meta`` (the empty frame Dask plans with) comes from the column tables, so building the graph
decodes nothing. Works on any scheduler: threads, processes, or a ``distributed`` cluster of many
machines, each of whose workers needs ``lnnotebook[dask]`` installed.
"""

from __future__ import annotations

import inspect
from typing import Any

import dask.dataframe as dd
import pandas as pd
from dask.dataframe.extensions import register_series_accessor

from lnnotebook import frames

# Options of the pandas functions that make no sense per partition: Dask does the parallelism.
_NOT_PER_PARTITION = ("workers", "progress")


def decode_frame(series: dd.Series, **options: Any) -> dd.DataFrame:
    """``lnnotebook.decode_frame`` on every partition of ``series``: a lazy Dask DataFrame.

    Options as for ``lnnotebook.decode_frame`` (``errors``, ``verify``, ``strict``, ``dtype_backend``);
    with ``errors="raise"`` computing raises the error of a bad row, named by its label (the first bad row
    of whichever partition failed first; pandas' is the first of all). The divisions of
    ``series`` are kept, since every row keeps its index label.
    """
    _check(series, options, "decode_frame")
    backend = options.get("dtype_backend", "numpy_nullable")
    meta = frames.with_backend(_empty(_tables()[0], series._meta.index), backend)
    return series.map_partitions(frames.decode_frame, **options, meta=meta)


def hops_frame(series: dd.Series, **options: Any) -> dd.DataFrame:
    """``lnnotebook.hops_frame`` on every partition of ``series``: a lazy Dask DataFrame, one row per hop.

    Its index is (the series' index, ``route``, ``hop``) as in pandas, so Dask knows no divisions for it.
    """
    _check(series, options, "hops_frame")
    index = series._meta.index
    if isinstance(index, pd.MultiIndex):
        levels = [index.get_level_values(level) for level in range(index.nlevels)]
        names = list(index.names)
    else:
        levels, names = [index], ["invoice" if index.name is None else index.name]
    empty_int = pd.array([], dtype="Int64")
    meta_index = pd.MultiIndex.from_arrays([*levels, empty_int, empty_int], names=[*names, "route", "hop"])
    meta = _empty(_tables()[1], meta_index)
    return series.map_partitions(frames.hops_frame, **options, meta=meta, clear_divisions=True)


@register_series_accessor("ln")
class DaskLightningAccessor:
    """``series.ln.decode(...)`` and ``series.ln.hops(...)`` on a Dask Series of invoice strings."""

    def __init__(self, series: dd.Series) -> None:
        self._series = series

    def decode(self, **options: Any) -> dd.DataFrame:
        return decode_frame(self._series, **options)

    def hops(self, **options: Any) -> dd.DataFrame:
        return hops_frame(self._series, **options)


def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """The columns and dtypes of decode_frame and hops_frame (the one place that knows where they live)."""
    return frames.INVOICE_COLUMNS, frames.HOP_COLUMNS


def _empty(columns: dict[str, str], index: pd.Index) -> pd.DataFrame:
    data = {name: pd.Series([], dtype=dtype, index=index[:0]) for name, dtype in columns.items()}
    return pd.DataFrame(data, index=index[:0])


def _check(series: Any, options: dict[str, Any], function: str) -> None:
    if isinstance(series, dd.DataFrame):
        raise TypeError(
            f"lnnotebook.dask.{function} takes a Dask Series, e.g. ddf['bolt11'], not a DataFrame"
        )
    if not isinstance(series, dd.Series):
        raise TypeError(
            f"lnnotebook.dask.{function} takes a dask.dataframe.Series, got {type(series).__name__}; "
            f"for pandas or lists use lnnotebook.{function}"
        )
    for name in _NOT_PER_PARTITION:
        if name in options:
            raise TypeError(
                f"lnnotebook.dask.{function} does not take {name}=: Dask's workers decode the partitions "
                f"(and its dashboard or dask.diagnostics show progress)"
            )
    # Wrong options fail here, when the graph is built, not later on a worker.
    try:
        inspect.signature(getattr(frames, function)).bind([], **options)
    except TypeError as error:
        raise TypeError(f"lnnotebook.dask.{function}: {error}") from None
    if options.get("errors", "raise") not in ("raise", "coerce"):
        raise ValueError(f"errors must be 'raise' or 'coerce', not {options['errors']!r}")
