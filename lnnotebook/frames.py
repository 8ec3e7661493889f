"""BOLT11 invoices as pandas DataFrames: one row per invoice, and the long table of route hints.

Conventions follow pandas: ``errors="raise"|"coerce"``, nullable dtypes (``Int64``, ``string``,
``boolean``), tz-aware UTC timestamps, the input's index kept, and a ``Series.ln`` accessor.
"""

from __future__ import annotations

import binascii
import operator
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from lnnotebook.bolt11 import ROW_FIELDS, InvoiceError, decode_rows
from lnnotebook.bolt11.batch import Columns, decode_columns
from lnnotebook.processes import worker_pool

# The columns and dtypes live in lnnotebook.schema (re-exported for existing imports).
from lnnotebook.schema import HOP_COLUMNS as HOP_COLUMNS
from lnnotebook.schema import INVOICE_COLUMNS as INVOICE_COLUMNS

Errors = Literal["raise", "coerce"]
DtypeBackend = Literal["numpy_nullable", "pyarrow"]

# Seconds that fit in pandas' nanosecond timestamps (year 2262); later ones become NaT.
_MAX_NS_SECONDS = pd.Timestamp.max.value // 10**9
_INT64_MAX = np.iinfo(np.int64).max
_CHUNK = 8192  # rows at most
_CHUNK_CHARACTERS = 2**21  # of text at most past a chunk's first: some 4,000 invoices of the usual length
# Chunks sent ahead to each worker. A chunk done is counted until this process, between chunks of its own,
# collects it; with two, a worker that finished both during one such chunk sat idle (60-80 ms gaps seen).
_IN_FLIGHT = 3
# The last chunks, with workers, in this many pieces, and the last two of those in quarters: a worker may
# hold two it has started or been sent when this process runs out, so the pieces bound that wait (eighths
# of 4,000 invoices, some 20 ms, left this process idle some 3% of a call's time at the end; with the last
# ones in quarters, half that). Each chunk costs some 2 ms whatever its size, hence no more of them.
_TAIL_PIECES = 8
_LAST_PIECES, _LAST_PARTS = 2, 4  # the last two pieces in quarters
_MIN_PIECE = 64  # rows: pieces are not cut smaller
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
    and its other fields are missing. ``workers>1`` decodes in that many processes, this one included
    (the others are kept for the next call: ``lnnotebook.processes``); ``progress=True`` shows a tqdm
    bar. See ``lnnotebook.decode`` for ``verify`` and ``strict``.
    ``dtype_backend`` as in pandas: ``"numpy_nullable"`` (``Int64``, ``string``, ...) or ``"pyarrow"``
    (``int64[pyarrow]``, ``string[pyarrow]``, ...; needs pyarrow).
    """
    _check_backend(dtype_backend)
    if dtype_backend == "pyarrow" and _arrow() is None:
        with_backend(pd.DataFrame(), dtype_backend)  # raises the ImportError that says what to install
    index, texts = _texts(invoices, errors, workers)
    unique, positions = _distinct(texts)
    decode_chunk = partial(_decode_part, verify=verify, strict=strict, dtype_backend=dtype_backend)
    finish = partial(_finish_part, dtype_backend=dtype_backend)
    parts = _run_chunks(decode_chunk, unique, workers, progress, positions, finish)
    parts = parts or [finish([], decode_chunk([]))]
    if errors == "raise":
        _raise_first(index, _failures(parts), positions)
    return _invoice_frame(_concat_parts(parts), positions, index)


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

    wanted = {
        name: arrow(dtype) for name, dtype in frame.dtypes.items() if not isinstance(dtype, pd.ArrowDtype)
    }  # columns built as Arrow already are kept as they are
    return frame.astype(wanted) if wanted else frame


# --- decoding ---------------------------------------------------------------------------------


def _texts(invoices: Iterable[Any] | pd.Series | str, errors: str, workers: int) -> tuple[pd.Index, list]:
    if errors not in ("raise", "coerce"):
        raise ValueError(f"errors must be 'raise' or 'coerce', not {errors!r}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers!r}")
    if isinstance(invoices, str):
        invoices = [invoices]
    if isinstance(invoices, pd.Series):
        return invoices.index, invoices.tolist()
    if isinstance(invoices, pd.DataFrame):
        raise TypeError("pass a Series or list of invoice strings, e.g. df['bolt11'], not a DataFrame")
    texts = list(invoices)
    return pd.RangeIndex(len(texts)), texts


def _distinct(texts: list) -> tuple[list, np.ndarray | None]:
    """The distinct texts (identical invoices are decoded once) and each row's position among them
    (None when every row is distinct). Anything but a string is its own entry."""
    distinct: dict[Any, int] = {}
    keys = [text if type(text) is str else (_NOT_TEXT, position) for position, text in enumerate(texts)]
    positions = np.fromiter((distinct.setdefault(key, len(distinct)) for key in keys), np.intp, len(keys))
    if len(distinct) == len(texts):
        return texts, None
    return [key if type(key) is str else texts[key[1]] for key in distinct], positions


_NOT_TEXT = object()


def _raise_first(index: pd.Index, failed: dict[int, InvoiceError], positions: np.ndarray | None) -> None:
    """errors="raise": the first failing row (in row order) raises, its message naming the row."""
    if not failed:
        return
    if positions is None:
        first = min(failed)
    else:
        is_failed = np.zeros(int(positions.max()) + 1 if len(positions) else 0, dtype=bool)
        is_failed[list(failed)] = True
        first = int(np.flatnonzero(is_failed[positions])[0])
    error = failed[first if positions is None else int(positions[first])]
    label = index[first]
    label = label.item() if isinstance(label, np.generic) else label  # 7, not np.int64(7)
    raise type(error)(f"row {label!r}: {error}", field=error.field) from error


def _decode_all(
    invoices: Iterable[Any] | pd.Series | str,
    errors: str,
    verify: bool,
    strict: bool,
    workers: int,
    progress: bool,
) -> tuple[pd.Index, list]:
    """Row tuples or errors of every row (``hops_frame``'s path; ``decode_frame`` uses columns)."""
    index, texts = _texts(invoices, errors, workers)
    unique, positions = _distinct(texts)
    decode_chunk = partial(decode_rows, verify=verify, strict=strict)
    parts = _run_chunks(decode_chunk, unique, workers, progress, positions)
    unique_results = [result for part in parts for result in part]
    results = unique_results if positions is None else [unique_results[at] for at in positions.tolist()]
    if errors == "raise":
        failed = {at: result for at, result in enumerate(results) if isinstance(result, InvoiceError)}
        _raise_first(index, failed, None)
    return index, results


def _run_chunks(
    decode_chunk: Callable[[Sequence[Any]], Any],
    texts: Sequence[Any],
    workers: int,
    progress: bool,
    positions: np.ndarray | None,
    finish: Callable[[Sequence[Any], Any], Any] | None = None,
) -> list:
    """``decode_chunk`` over chunks of ``texts``, in processes when ``workers > 1``, and ``finish(chunk,
    result)`` in this process as each result arrives; the progress bar counts input rows (a distinct text
    stands for every row that repeats it)."""
    starts = _chunk_starts(texts, workers)
    chunks = [texts[start:stop] for start, stop in zip(starts, [*starts[1:], len(texts)])]
    bar, rows = None, None
    if progress:
        from tqdm.auto import tqdm

        rows = np.bincount(positions, minlength=len(texts)) if positions is not None else None
        bar = tqdm(total=len(texts) if positions is None else len(positions), unit="invoice", desc="decoding")

    def done(at: int, result: Any) -> Any:
        """Chunk ``at``'s result, finished (in this process), the bar moved by its input rows."""
        if bar is not None:
            start = starts[at]
            bar.update(len(chunks[at]) if rows is None else int(rows[start : start + len(chunks[at])].sum()))
        return result if finish is None else finish(chunks[at], result)

    try:
        if workers > 1 and len(chunks) > 1:
            return _shared_decode(decode_chunk, chunks, workers, done)
        return [done(at, decode_chunk(chunk)) for at, chunk in enumerate(chunks)]
    finally:
        if bar is not None:
            bar.close()


def _shared_decode(
    decode_chunk: Callable[[Sequence[Any]], Any],
    chunks: list,
    workers: int,
    done: Callable[[int, Any], Any],
) -> list:
    """``done(i, decode_chunk(chunk i))`` of every chunk, in order, by this process and ``workers - 1``
    others, all taking the next chunk in line. The others have ``_IN_FLIGHT`` each in flight, so that none
    waits for this process to send the next while it decodes one of its own; this process decodes one
    itself whenever they are served (rather than idle while holding a share of a core) and calls ``done``
    on what is ready in between, so its share of the decoding adapts to what ``done`` costs. The last
    chunks are small (``_chunk_starts``), and at the end this process decodes those sent that no worker
    has started, so that nobody waits long for the others. The workers stay for the next call
    (``processes.worker_pool``): a fresh fork costs both processes a copy of every page they write. If a
    worker dies, this process decodes what it left, with a ``RuntimeWarning``."""
    results: list[Any] = [_PENDING] * len(chunks)
    processes = min(workers - 1, len(chunks) - 1)
    try:
        with worker_pool(workers - 1) as pool:  # kept for the next call (lnnotebook.processes)
            _share(pool, decode_chunk, chunks, processes, done, results)
    except BrokenProcessPool as error:
        # A worker died (killed, out of memory): this process decodes what it left, and says so.
        left = [at for at, result in enumerate(results) if result is _PENDING]
        warnings.warn(
            f"a decoding worker process died ({error}); this process decoded the {len(left)} chunk(s) it "
            "left (the next call starts a new worker)",
            RuntimeWarning,
            stacklevel=4,  # decode_frame's caller
        )
        for at in left:
            results[at] = done(at, decode_chunk(chunks[at]))
    return results


_PENDING = object()  # a chunk no process has finished yet


def _share(
    pool: Executor,
    decode_chunk: Callable[[Sequence[Any]], Any],
    chunks: list,
    processes: int,
    done: Callable[[int, Any], Any],
    results: list[Any],
) -> None:
    """``_shared_decode``'s loop over ``pool``: ``results[i]`` set as chunk ``i`` is done."""
    following = 0
    in_flight: dict[Future, int] = {}

    def gather(futures: Iterable[Future]) -> None:
        for future in futures:
            at = in_flight.pop(future)
            results[at] = done(at, future.result())

    try:
        while following < len(chunks):
            while len(in_flight) < _IN_FLIGHT * processes and following < len(chunks):
                in_flight[pool.submit(decode_chunk, chunks[following])] = following
                following += 1
            if following < len(chunks):
                results[following] = done(following, decode_chunk(chunks[following]))
                following += 1
            gather([future for future in in_flight if future.done()])
        # Nothing left to send: take back, latest first, what no worker has started, rather than wait.
        for future, at in sorted(in_flight.items(), key=lambda item: -item[1]):
            if future.cancel():
                del in_flight[future]
                results[at] = done(at, decode_chunk(chunks[at]))
        gather(as_completed(list(in_flight)))
    except BaseException:
        for future in in_flight:  # the kept pool must not go on with a failed call's chunks
            future.cancel()
        raise


def _chunk_starts(texts: Sequence[Any], workers: int) -> list[int]:
    """Where each chunk of ``texts`` starts. Past its first text a chunk holds at most ``_CHUNK_CHARACTERS``
    of text: that bounds the decoder's working arrays (some 17 bytes a character), and so the memory they
    leave behind as allocator slack. A chunk also ends after ``_CHUNK`` rows, or with workers after a
    share of the rows (for few texts: two chunks per worker, as each chunk shipped costs a little), and
    with workers the last chunks are cut in ``_TAIL_PIECES``."""
    rows = _CHUNK if workers == 1 else max(_MIN_WORKER_CHUNK, -(-len(texts) // (2 * workers)))
    lengths = np.fromiter((len(text) if type(text) is str else 0 for text in texts), np.int64, len(texts))
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    by_text = np.searchsorted(ends, np.arange(_CHUNK_CHARACTERS, total, _CHUNK_CHARACTERS), side="right")
    starts = sorted({*range(0, len(texts), rows), *by_text.tolist()} - {len(texts)})
    if workers > 1:  # the last 2 * workers chunks in pieces, and the last of those again: nobody waits long
        starts = _cut_last(starts, len(texts), 2 * workers, _TAIL_PIECES)
        starts = _cut_last(starts, len(texts), _LAST_PIECES, _LAST_PARTS)
    return starts


def _cut_last(starts: list[int], size: int, count: int, parts: int) -> list[int]:
    """``starts`` (of chunks of ``size`` rows) with the last ``count`` chunks cut in ``parts`` (fewer where
    a part would be under ``_MIN_PIECE`` rows)."""
    cut = max(0, len(starts) - count)
    pieces = []
    for start, stop in zip(starts[cut:], [*starts[cut + 1 :], size]):
        into = max(1, min(parts, (stop - start) // _MIN_PIECE))
        pieces += [start + (stop - start) * part // into for part in range(into)]
    return sorted({*starts[:cut], *pieces})


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


def _error_columns(results: list) -> tuple:
    messages = [None if isinstance(result, tuple) else str(result) for result in results]
    kinds = [None if isinstance(result, tuple) else type(result).__name__ for result in results]
    return _string_array(messages), _string_array(kinds)


# --- the invoice table, from columns -------------------------------------------------------------


def _arrow() -> Any:
    """pyarrow, or None where it is not installed (strings are then built from Python objects)."""
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow


def _arrow_strings(dtype_backend: str) -> Any:
    """pyarrow where it holds the backend's strings (``dtype_backend="pyarrow"``, and the default ``string``
    dtype on pandas 3 or with pyarrow storage), else None: strings are then Python objects."""
    pa = _arrow()
    if pa is not None and (dtype_backend == "pyarrow" or pd.StringDtype().storage == "pyarrow"):
        return pa
    return None


def _text_array(values: list[str | None], dtype_backend: str) -> pd.api.extensions.ExtensionArray:
    """Strings (None: missing) in the backend's string dtype."""
    pa = _arrow_strings(dtype_backend)
    if pa is None:
        return pd.array(values, dtype="string")
    large = dtype_backend != "pyarrow"  # pandas' own string dtype holds large_string
    array = _exact_strings(pa, values, large)
    if array is None:
        array = pa.array(values, type=pa.large_string() if large else pa.string())
    return pd.arrays.ArrowStringArray(array) if large else pd.arrays.ArrowExtensionArray(array)


def _exact_strings(pa: Any, values: list[str | None], large: bool) -> Any:
    """An Arrow string array of ``values`` on buffers of exactly their size. pyarrow's builder grows its
    buffer by doubling and keeps the slack, up to twice the text; for 100,000 invoices that is some 40 MB.
    None where the text does not fit 32-bit offsets or is not valid Unicode (pyarrow then decides)."""
    size = len(values)
    kind = pa.large_string() if large else pa.string()
    nones = values.count(None)
    if nones == size:  # a column of a chunk without errors, metadata, ...
        return pa.nulls(size, type=kind)
    missing = np.fromiter(map(operator.is_, values, repeat(None)), bool, count=size) if nones else None
    present = cast(list[str], [value for value in values if value is not None] if nones else values)
    joined = "".join(present)
    try:
        if joined.isascii():  # one byte a character: the lengths are the strings' own (isascii is O(1))
            data = joined.encode("ascii")
            present_lengths = np.fromiter(map(len, present), np.int64, count=len(present))
        else:
            encoded = [value.encode() for value in present]
            data = b"".join(encoded)
            present_lengths = np.fromiter(map(len, encoded), np.int64, count=len(encoded))
    except UnicodeEncodeError:  # lone surrogates: pyarrow raises its own error for them
        return None
    if not large and len(data) > np.iinfo(np.int32).max:
        return None
    if missing is None:
        lengths = present_lengths
    else:
        lengths = np.zeros(size, np.int64)
        lengths[~missing] = present_lengths
    offsets = np.zeros(size + 1, np.int64 if large else np.int32)
    np.cumsum(lengths, out=offsets[1:])
    validity = None if missing is None else pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(
        kind, size, [validity, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=nones
    )


def _hex_array(matrix: np.ndarray, valid: np.ndarray, dtype_backend: str) -> pd.api.extensions.ExtensionArray:
    """Each row of a byte matrix as lowercase hex text, built without a Python object per row where pyarrow
    holds the strings (default ``string`` storage with pyarrow installed, and ``dtype_backend="pyarrow"``)."""
    size, width = matrix.shape
    text = binascii.hexlify(np.ascontiguousarray(matrix).data)  # the rows' hex, end to end
    pa = _arrow_strings(dtype_backend)
    if pa is not None:
        large = dtype_backend != "pyarrow"  # pandas' own string dtype holds large_string
        offsets = np.arange(0, 2 * width * (size + 1), 2 * width, dtype=np.int64 if large else np.int32)
        validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if not valid.all() else None
        array = pa.Array.from_buffers(
            pa.large_string() if large else pa.string(),
            size,
            [validity, pa.py_buffer(offsets), pa.py_buffer(text)],
            null_count=int(size - valid.sum()),
        )
        return pd.arrays.ArrowStringArray(array) if large else pd.arrays.ArrowExtensionArray(array)
    objects = np.frombuffer(text, f"S{2 * width}").astype(f"U{2 * width}").astype(object)
    objects[~valid] = None
    return pd.array(objects, dtype="string")


# Fixed-width columns straight in the backend's dtype (missing where ``missing``): a chunk's columns are
# built by the hundred, so each skips pandas' astype of a whole frame.


def _ints(values: np.ndarray, missing: np.ndarray, backend: str) -> pd.api.extensions.ExtensionArray:
    if backend == "pyarrow":
        pa = _arrow()
        return pd.arrays.ArrowExtensionArray(pa.array(values, mask=missing, type=pa.int64()))
    return pd.arrays.IntegerArray(np.where(missing, 0, values), missing.copy())


def _floats(values: np.ndarray, missing: np.ndarray, backend: str) -> pd.api.extensions.ExtensionArray:
    if backend == "pyarrow":
        pa = _arrow()
        return pd.arrays.ArrowExtensionArray(pa.array(values, mask=missing, type=pa.float64()))
    return pd.arrays.FloatingArray(np.where(missing, 0.0, values), missing.copy())


def _bools(values: np.ndarray, missing: np.ndarray, backend: str) -> pd.api.extensions.ExtensionArray:
    if backend == "pyarrow":
        pa = _arrow()
        return pd.arrays.ArrowExtensionArray(pa.array(values, mask=missing, type=pa.bool_()))
    return pd.arrays.BooleanArray(values.copy(), missing.copy())


def _utc_times(seconds: np.ndarray, missing: np.ndarray, backend: str) -> pd.api.extensions.ExtensionArray:
    """Seconds since 1970 as UTC timestamps (ns); missing or beyond year 2262 becomes NaT."""
    representable = ~missing & (seconds <= _MAX_NS_SECONDS) & (seconds >= -_MAX_NS_SECONDS)
    nanoseconds = np.where(representable, seconds, 0).astype(np.int64) * 10**9
    if backend == "pyarrow":
        pa = _arrow()
        times = pa.array(nanoseconds, mask=~representable, type=pa.timestamp("ns", tz="UTC"))
        return pd.arrays.ArrowExtensionArray(times)
    naive = nanoseconds.view("datetime64[ns]")
    naive[~representable] = np.datetime64("NaT")
    return pd.DatetimeIndex(naive).tz_localize("UTC").array


@dataclass
class _Part:
    """One chunk of distinct texts decoded: its columns in the requested backend's dtypes, and its failures
    by row within the chunk (``errors="raise"`` reports the first). ``bolt11`` and the hex columns come
    last (``_finish_part``), from ``normalized`` and the bytes in ``hashes``: with workers they are built
    in the main process, which holds the texts already, so that half the bytes are shipped back."""

    size: int
    arrays: dict[str, Any]
    failed: dict[int, InvoiceError]
    normalized: dict[int, str]
    hashes: dict[str, tuple[np.ndarray, np.ndarray]]  # (bytes, valid)


def _decode_part(texts: Sequence[Any], *, verify: bool, strict: bool, dtype_backend: str) -> _Part:
    """Decode a chunk and build its columns at once: the chunk's Python objects (descriptions, warnings)
    die with it instead of piling up until the whole frame is assembled, and with ``workers > 1`` the
    building runs in the worker."""
    columns = decode_columns(texts, verify=verify, strict=strict)
    failed = ~columns.decoded
    arrays = _column_arrays(columns, texts, failed, dtype_backend)
    hashes = {name: (values, valid & ~failed) for name, (values, valid) in columns.hashes.items()}
    return _Part(columns.size, arrays, columns.failed, columns.normalized, hashes)


def _finish_part(texts: Sequence[Any], part: _Part, dtype_backend: str) -> _Part:
    """``part`` with its ``bolt11`` column (the input text, normalised where it had to be; missing where
    it failed) and its hex columns."""
    bolt11 = list(texts)
    for row in part.failed:
        bolt11[row] = None
    for row, normalized in part.normalized.items():
        if row not in part.failed:
            bolt11[row] = normalized
    part.arrays["bolt11"] = _text_array(bolt11, dtype_backend)
    for name, (values, valid) in part.hashes.items():
        part.arrays[name] = _hex_array(values, valid, dtype_backend)
    part.normalized, part.hashes = {}, {}
    return part


def _failures(parts: list[_Part]) -> dict[int, InvoiceError]:
    """The failures of all parts, by position among the distinct texts."""
    failed: dict[int, InvoiceError] = {}
    offset = 0
    for part in parts:
        failed.update((row + offset, error) for row, error in part.failed.items())
        offset += part.size
    return failed


def _concat_parts(parts: list[_Part]) -> dict[str, Any]:
    """Each column of the parts end to end; Arrow-held strings become chunked arrays, so their text is not
    copied again."""
    if len(parts) == 1:
        return parts[0].arrays
    arrays = {}
    for name in INVOICE_COLUMNS:
        pieces = [part.arrays.pop(name) for part in parts]  # popped: each piece is freed once joined
        arrays[name] = type(pieces[0])._concat_same_type(pieces)
    return arrays


def _invoice_frame(data: dict[str, Any], positions: np.ndarray | None, index: pd.Index) -> pd.DataFrame:
    """The ``decode_frame`` table of the columns of the distinct texts, fanned out to the rows by
    ``positions``, in the ``schema.INVOICE_COLUMNS`` order."""
    if positions is not None:
        data = {name: array.take(positions) for name, array in data.items()}
    frame = pd.DataFrame({name: data[name] for name in INVOICE_COLUMNS}, index=index, copy=False)
    frame.index = index  # keep the caller's index object (name, dtype) as is
    return frame


def _column_arrays(
    columns: Columns, texts: Sequence[Any], failed: np.ndarray, backend: str
) -> dict[str, Any]:
    """One chunk's ``decode_frame`` columns but ``bolt11`` and the hex ones (``_finish_part``), in
    ``backend``'s dtypes; ``texts`` are the chunk's inputs."""

    def text(values: list) -> Any:
        return _text_array(values, backend)

    amount_missing = columns.amount_missing | failed
    expiry_missing = columns.expiry_missing | failed
    # expires_at: only where timestamp + expiry cannot overflow int64 (both are at least 0)
    expiry_in_range = ~expiry_missing & (columns.expiry <= _INT64_MAX - columns.timestamp)
    data: dict[str, Any] = {
        "network": text(columns.network.tolist()),
        "amount_msat": _ints(columns.amount_msat, amount_missing, backend),
        "amount_sat": _floats(columns.amount_msat.astype(np.float64) / 1000, amount_missing, backend),
        "amount_overflow": _bools(columns.amount_overflow, failed, backend),
        "timestamp": _ints(columns.timestamp, failed, backend),
        "created_at": _utc_times(columns.timestamp, failed, backend),
        "expiry": _ints(columns.expiry, expiry_missing, backend),
        "expires_at": _utc_times(
            columns.timestamp + np.where(expiry_in_range, columns.expiry, 0), ~expiry_in_range, backend
        ),
    }
    data["min_final_cltv_expiry"] = _ints(columns.cltv, columns.cltv_missing | failed, backend)
    data["route_hint_count"] = _ints(columns.route_hints, failed, backend)
    data["hop_count"] = _ints(columns.hops, failed, backend)
    for name, texts_of in (
        ("description", columns.description),
        ("metadata", columns.metadata),
        ("fallback_addresses", columns.fallbacks),
        ("features", columns.features),
        ("feature_bits", columns.feature_bits),
        ("warnings", columns.warnings),
    ):
        values = texts_of.tolist()  # batch.Columns holds texts as object arrays
        for row in columns.failed:  # a row may have been read in part before the decoder refused it
            values[row] = None
        data[name] = text(values)
    errors: list[Any] = [None] * columns.size
    kinds: list[Any] = [None] * columns.size
    inputs: list[Any] = [None] * columns.size
    for row, error in columns.failed.items():
        errors[row], kinds[row], inputs[row] = str(error), type(error).__name__, _input_text(texts[row])
    data["error"], data["error_type"], data["input"] = text(errors), text(kinds), text(inputs)
    return data


def _input_text(value: object) -> str | None:
    """What a failed row was given, as text (None for a missing value)."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    return str(value)


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
    multi_index = long_index(
        index, positions, "invoice", {"route": _int_array(route_numbers), "hop": _int_array(hop_numbers)}
    )
    return pd.DataFrame(data, index=multi_index)


def long_index(
    index: pd.Index, positions: list[int], default_name: str, inner: dict[str, Any]
) -> pd.MultiIndex:
    """The index of a long table: the input's label of each row's item (taken by position, so it keeps its
    dtype; a MultiIndex keeps its levels and names; ``default_name`` names an unnamed one), then ``inner``."""
    labels = index.take(np.asarray(positions, dtype=np.intp))
    if isinstance(labels, pd.MultiIndex):
        levels = [labels.get_level_values(level) for level in range(labels.nlevels)]
        names = list(labels.names)
    else:
        levels, names = [labels], [default_name if index.name is None else index.name]
    return pd.MultiIndex.from_arrays([*levels, *inner.values()], names=[*names, *inner])
