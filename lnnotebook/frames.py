"""BOLT11 invoices as pandas DataFrames: one row per invoice, and the long table of route hints.

Conventions follow pandas: ``errors="raise"|"coerce"``, nullable dtypes (``Int64``, ``string``,
``boolean``), tz-aware UTC timestamps, the input's index kept, and a ``Series.ln`` accessor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from lnnotebook.bolt11 import ROW_FIELDS, InvoiceError, decode_rows, feature_names

# The columns and dtypes live in lnnotebook.schema (re-exported for existing imports).
from lnnotebook.schema import HOP_COLUMNS as HOP_COLUMNS
from lnnotebook.schema import INVOICE_COLUMNS as INVOICE_COLUMNS

Errors = Literal["raise", "coerce"]
DtypeBackend = Literal["numpy_nullable", "pyarrow"]

# Seconds that fit in pandas' nanosecond timestamps (year 2262); later ones become NaT.
_MAX_NS_SECONDS = pd.Timestamp.max.value // 10**9
_INT64_MAX = np.iinfo(np.int64).max
_CHUNK = 4096
_MIN_WORKER_CHUNK = 256  # below this, shipping work to a process costs more than it saves

_FIELD = {name: position for position, name in enumerate(ROW_FIELDS)}


def decode_frame(
    invoices: Iterable[Any] | pd.Series | str,
    *,
    errors: Errors = "raise",
    verify: bool = True,
    strict: bool = True,
    workers: int = 1,
    progress: bool = False,
    dtype_backend: DtypeBackend = "numpy_nullable",
) -> pd.DataFrame:
    """Decode invoices into a DataFrame, one row per input, the input's index kept.

    ``errors="raise"`` raises the first ``InvoiceError``, its message naming the row;
    ``errors="coerce"`` never raises for a bad row: its ``error`` and ``error_type`` are filled
    and its other fields are missing. ``workers>1`` decodes in that many processes;
    ``progress=True`` shows a tqdm bar. See ``lnnotebook.decode`` for ``verify`` and ``strict``.
    ``dtype_backend`` as in pandas: ``"numpy_nullable"`` (``Int64``, ``string``, ...) or ``"pyarrow"``
    (``int64[pyarrow]``, ``string[pyarrow]``, ...; needs pyarrow).
    """
    _check_backend(dtype_backend)
    index, results = _decode_all(invoices, errors, verify, strict, workers, progress)
    return with_backend(_invoice_table(index, results), dtype_backend)


def hops_frame(
    invoices: Iterable[Any] | pd.Series | str,
    *,
    errors: Errors = "raise",
    verify: bool = True,
    strict: bool = True,
    workers: int = 1,
    progress: bool = False,
) -> pd.DataFrame:
    """The route hints as a long table: one row per hop, indexed by (invoice, route, hop).

    The leading level(s) are the input's index (named ``invoice`` when unnamed; a MultiIndex keeps
    its levels), ``route`` and ``hop`` count from 0. ``workers>1`` only starts processes for more
    than a few hundred distinct invoices, where they pay off. With
    ``errors="coerce"`` an invoice that fails gets one row with missing route and hop and its
    ``error``, so no input disappears; invoices without route hints have no rows.
    """
    index, results = _decode_all(invoices, errors, verify, strict, workers, progress)
    return _hop_table(index, results)


@pd.api.extensions.register_series_accessor("ln")
class LightningAccessor:
    """``series.ln.decode(...)`` and ``series.ln.hops(...)`` on a Series of invoice strings."""

    def __init__(self, series: pd.Series) -> None:
        self._series = series

    def decode(self, **options: Any) -> pd.DataFrame:
        return decode_frame(self._series, **options)

    def hops(self, **options: Any) -> pd.DataFrame:
        return hops_frame(self._series, **options)


@pd.api.extensions.register_dataframe_accessor("ln")
class LightningFrameAccessor:
    """``df.ln.decode(column="bolt11", ...)`` and ``df.ln.hops(...)``: a frame's invoice column decoded,
    the frame's index kept (the column is ``bolt11`` unless ``column=`` names another)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def _column(self, column: str) -> pd.Series:
        if column not in self._frame.columns:
            names = ", ".join(map(str, self._frame.columns[:12]))
            raise KeyError(
                f"the frame has no {column!r} column to decode (its columns: {names}); "
                "pass column='...' to say which holds the invoices"
            )
        return self._frame[column]

    def decode(self, column: str = "bolt11", **options: Any) -> pd.DataFrame:
        return decode_frame(self._column(column).astype(object), **options)

    def hops(self, column: str = "bolt11", **options: Any) -> pd.DataFrame:
        return hops_frame(self._column(column).astype(object), **options)


def _check_backend(dtype_backend: str) -> None:
    if dtype_backend not in ("numpy_nullable", "pyarrow"):
        raise ValueError(f"dtype_backend must be 'numpy_nullable' or 'pyarrow', not {dtype_backend!r}")


def with_backend(frame: pd.DataFrame, dtype_backend: str) -> pd.DataFrame:
    """``frame`` (nullable dtypes) with its columns in ``dtype_backend``'s dtypes; the index is kept as is."""
    _check_backend(dtype_backend)
    if dtype_backend == "numpy_nullable":
        return frame
    try:
        import pyarrow as pa  # optional: only this backend needs it
    except ImportError:
        raise ImportError(
            "dtype_backend='pyarrow' needs pyarrow: pip install 'lnnotebook[parquet]'"
        ) from None
    types = {"string": pa.string(), "Int64": pa.int64(), "Float64": pa.float64(), "boolean": pa.bool_()}

    def arrow(dtype: Any) -> pd.ArrowDtype:
        if isinstance(dtype, pd.DatetimeTZDtype):
            return pd.ArrowDtype(pa.timestamp(dtype.unit, tz=str(dtype.tz)))
        return pd.ArrowDtype(types[str(dtype)])

    return frame.astype({name: arrow(dtype) for name, dtype in frame.dtypes.items()})


# --- decoding ---------------------------------------------------------------------------------


def _decode_all(
    invoices: Iterable[Any] | pd.Series | str,
    errors: str,
    verify: bool,
    strict: bool,
    workers: int,
    progress: bool,
) -> tuple[pd.Index, list]:
    if errors not in ("raise", "coerce"):
        raise ValueError(f"errors must be 'raise' or 'coerce', not {errors!r}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers!r}")
    if isinstance(invoices, str):
        invoices = [invoices]
    if isinstance(invoices, pd.Series):
        index, texts = invoices.index, invoices.tolist()
    elif isinstance(invoices, pd.DataFrame):
        raise TypeError("pass a Series or list of invoice strings, e.g. df['bolt11'], not a DataFrame")
    else:
        texts = list(invoices)
        index = pd.RangeIndex(len(texts))

    # Identical invoices are decoded once: position of each distinct text, then fan back out.
    distinct: dict[Any, int] = {}
    keys = [text if isinstance(text, str) else (_NOT_TEXT, position) for position, text in enumerate(texts)]
    for key in keys:
        distinct.setdefault(key, len(distinct))
    unique_texts = [key if isinstance(key, str) else texts[key[1]] for key in distinct]
    unique_results = _decode_unique(unique_texts, verify, strict, workers, progress)
    results = [unique_results[distinct[key]] for key in keys]

    if errors == "raise":
        for label, result in zip(index, results):
            if isinstance(result, InvoiceError):
                raise type(result)(f"row {label!r}: {result}", field=result.field) from result
    return index, results


_NOT_TEXT = object()


def _decode_unique(texts: Sequence[Any], verify: bool, strict: bool, workers: int, progress: bool) -> list:
    # Several chunks per worker keep processes busy; one process needs chunks only for progress.
    size = _CHUNK if workers == 1 else max(_MIN_WORKER_CHUNK, -(-len(texts) // (4 * workers)))
    chunks = [texts[start : start + size] for start in range(0, len(texts), size)]
    decode_chunk = partial(decode_rows, verify=verify, strict=strict)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), unit="invoice", desc="decoding")
    results: list = []
    try:
        if workers > 1 and len(chunks) > 1:
            with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
                for chunk, decoded in zip(chunks, pool.map(decode_chunk, chunks)):
                    results.extend(decoded)
                    if bar is not None:
                        bar.update(len(chunk))
        else:
            for chunk in chunks:
                results.extend(decode_chunk(chunk))
                if bar is not None:
                    bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    return results


# --- building columns ---------------------------------------------------------------------------


def _int_array(values: list) -> pd.arrays.IntegerArray:
    """Nullable Int64 from Python ints and None; values beyond int64 become missing."""
    size = len(values)
    mask = np.fromiter((value is None for value in values), dtype=bool, count=size)
    try:
        data = np.fromiter((0 if value is None else value for value in values), dtype=np.int64, count=size)
    except OverflowError:
        fits = [
            value if value is not None and -_INT64_MAX <= value <= _INT64_MAX else None for value in values
        ]
        return _int_array(fits)
    return pd.arrays.IntegerArray(data, mask)


def _string_array(values: list) -> pd.api.extensions.ExtensionArray:
    return pd.array(values, dtype="string")


def _utc_times(seconds: pd.arrays.IntegerArray) -> pd.DatetimeIndex:
    """Seconds since 1970 as UTC timestamps; missing or beyond year 2262 becomes NaT."""
    raw = seconds.to_numpy(dtype=np.int64, na_value=0)
    representable = ~seconds.isna() & (raw <= _MAX_NS_SECONDS) & (raw >= -_MAX_NS_SECONDS)
    nanoseconds = np.where(representable, raw, 0).astype(np.int64) * 10**9
    times = nanoseconds.view("datetime64[ns]").copy()
    times[~representable] = np.datetime64("NaT")
    return pd.DatetimeIndex(times).tz_localize("UTC")


def _invoice_table(index: pd.Index, results: list) -> pd.DataFrame:
    size = len(results)
    rows = [result if isinstance(result, tuple) else None for result in results]
    empty: tuple = (None,) * len(ROW_FIELDS)
    columns = list(zip(*(row or empty for row in rows))) if size else [()] * len(ROW_FIELDS)
    field = {name: list(columns[position]) for name, position in _FIELD.items()}

    routes = field["route_hints"]
    features = field["features"]
    warnings = field["warnings"]
    # Python ints are unbounded, Int64 columns are not: say so rather than fail or wrap around.
    limits = (
        ("amount_msat", "amount", " msat"),
        ("expiry", "expiry", " s"),
        ("min_final_cltv_expiry", "cltv", ""),
    )
    for name, label, unit in limits:
        values = field[name]
        for position, value in enumerate(values):
            if value is not None and value > _INT64_MAX:
                values[position] = None
                warning = f"{label} of {value}{unit} is beyond int64 (left missing)"
                warnings[position] = (*warnings[position], warning)
    amount_msat = field["amount_msat"]

    data: dict[str, Any] = {
        "bolt11": _string_array(field["bolt11"]),
        "network": _string_array(field["network"]),
        "amount_msat": _int_array(amount_msat),
    }
    data["amount_sat"] = pd.array(data["amount_msat"], dtype="Float64") / 1000
    timestamp = _int_array(field["timestamp"])
    expiry = _int_array(field["expiry"])
    data["timestamp"] = timestamp
    data["created_at"] = _utc_times(timestamp)
    # expires_at: only where timestamp + expiry cannot overflow int64
    headroom = expiry.fillna(0).to_numpy(np.int64) <= _INT64_MAX - timestamp.fillna(0).to_numpy(np.int64)
    expiry_in_range = expiry.copy()
    expiry_in_range[~headroom] = pd.NA
    data["expires_at"] = _utc_times(timestamp + expiry_in_range)
    data["expiry"] = expiry
    for name in ("payment_hash", "payment_secret", "description", "description_hash", "payee"):
        data[name] = _string_array(field[name])
    data["min_final_cltv_expiry"] = _int_array(field["min_final_cltv_expiry"])
    data["fallback_addresses"] = _string_array(
        [",".join(value) or None if value else None for value in field["fallback_addresses"]]
    )
    data["route_hint_count"] = _int_array([None if value is None else len(value) for value in routes])
    data["hop_count"] = _int_array([None if value is None else sum(map(len, value)) for value in routes])
    # Lists are comma-joined; an empty list is missing (NA), like the other optional fields.
    data["features"] = _string_array([feature_names(value) if value else None for value in features])
    data["feature_bits"] = _string_array(
        [",".join(str(feature.bit) for feature in value) if value else None for value in features]
    )
    data["metadata"] = _string_array(field["metadata"])
    data["signature"] = _string_array(field["signature"])
    data["warnings"] = _string_array([("; ".join(value) or None) if value else None for value in warnings])
    data["error"], data["error_type"] = _error_columns(results)
    frame = pd.DataFrame(data, index=index)
    frame.index = index  # keep the caller's index object (name, dtype) as is
    return frame


def _error_columns(results: list) -> tuple:
    messages = [None if isinstance(result, tuple) else str(result) for result in results]
    kinds = [None if isinstance(result, tuple) else type(result).__name__ for result in results]
    return _string_array(messages), _string_array(kinds)


def _hop_table(index: pd.Index, results: list) -> pd.DataFrame:
    positions: list[int] = []  # of each row's invoice in the input, to take its label from ``index``
    route_numbers: list = []
    hop_numbers: list = []
    hops: list = []
    failures: list = []
    routes_at = _FIELD["route_hints"]
    for position, result in enumerate(results):
        if not isinstance(result, tuple):
            positions.append(position)
            route_numbers.append(None)
            hop_numbers.append(None)
            hops.append((None,) * 5)
            failures.append(result)
            continue
        for route_number, route in enumerate(result[routes_at]):
            for hop_number, hop in enumerate(route):
                positions.append(position)
                route_numbers.append(route_number)
                hop_numbers.append(hop_number)
                hops.append(hop)
                failures.append(None)
    columns = list(zip(*hops)) if hops else [()] * 5
    data: dict[str, Any] = {
        "pubkey": _string_array(list(columns[0])),
        "short_channel_id": _string_array(list(columns[1])),
        "fee_base_msat": _int_array(list(columns[2])),
        "fee_proportional_millionths": _int_array(list(columns[3])),
        "cltv_expiry_delta": _int_array(list(columns[4])),
    }
    data["error"], data["error_type"] = _error_columns(
        [(0,) if failure is None else failure for failure in failures]
    )
    # Labels taken by position keep the index's dtype; a MultiIndex input keeps its levels (and names).
    labels = index.take(np.asarray(positions, dtype=np.intp))
    if isinstance(labels, pd.MultiIndex):
        levels = [labels.get_level_values(level) for level in range(labels.nlevels)]
        names = list(labels.names)
    else:
        levels, names = [labels], ["invoice" if index.name is None else index.name]
    multi_index = pd.MultiIndex.from_arrays(
        [*levels, _int_array(route_numbers), _int_array(hop_numbers)], names=[*names, "route", "hop"]
    )
    return pd.DataFrame(data, index=multi_index)
