"""Decoding for Polars (``lnnotebook[polars]``): ``import lnnotebook.polars`` registers ``Series.ln``.

    >>> import polars as pl
    >>> import lnnotebook.polars  # registers the namespace
    >>> pl.Series(["lnbc1..."]).ln.decode(errors="coerce")  # a polars.DataFrame

The columns and values are those of ``lnnotebook.decode_frame`` (one row per input, in order; Polars has
no index). The frame is decoded with pandas' ``dtype_backend="pyarrow"`` and handed to Polars as its Arrow
arrays, so the result is not converted row by row: ``Int64``, ``Float64``, ``String`` and
``Datetime("ns", "UTC")`` columns.
"""

from __future__ import annotations

from typing import Any, cast

import polars as pl
import pyarrow as pa

from lnnotebook import frames


def decode_frame(series: pl.Series, **options: Any) -> pl.DataFrame:
    """``lnnotebook.decode_frame`` of a Polars Series of invoice strings, as a Polars DataFrame.

    Options as for ``lnnotebook.decode_frame`` (``errors``, ``verify``, ``strict``, ``workers``,
    ``progress``), except ``dtype_backend``: Polars is given Arrow arrays.
    """
    if "dtype_backend" in options:
        raise TypeError("lnnotebook.polars.decode_frame takes no dtype_backend=: Polars frames are Arrow")
    decoded = frames.decode_frame(_texts(series), dtype_backend="pyarrow", **options)
    return cast(pl.DataFrame, pl.from_arrow(pa.Table.from_pandas(decoded, preserve_index=False)))


def hops_frame(series: pl.Series, **options: Any) -> pl.DataFrame:
    """``lnnotebook.hops_frame`` as a Polars DataFrame; the index levels ``invoice`` (the position in
    ``series``), ``route`` and ``hop`` become its first columns."""
    hops = frames.hops_frame(_texts(series), **options).reset_index()
    return cast(pl.DataFrame, pl.from_arrow(pa.Table.from_pandas(hops, preserve_index=False)))


@pl.api.register_series_namespace("ln")
class PolarsLightningNamespace:
    """``series.ln.decode(...)`` and ``series.ln.hops(...)`` on a Polars Series of invoice strings."""

    def __init__(self, series: pl.Series) -> None:
        self._series = series

    def decode(self, **options: Any) -> pl.DataFrame:
        return decode_frame(self._series, **options)

    def hops(self, **options: Any) -> pl.DataFrame:
        return hops_frame(self._series, **options)


def _texts(series: Any) -> list[Any]:
    if not isinstance(series, pl.Series):
        raise TypeError(
            f"lnnotebook.polars takes a polars.Series, got {type(series).__name__}; "
            "for pandas or lists use lnnotebook.decode_frame"
        )
    return series.to_list()  # the decoder reads Python strings; None stays None (an error row)
