"""``decode_file``: decode a file of invoices into Parquet (or CSV) chunk by chunk, in bounded memory.

The input is read ``chunk_size`` invoices at a time, each chunk decoded by ``decode_frame`` and appended
to the output (a Parquet row group, or CSV rows), so memory depends on the chunk, not on the file.
The output has one row per input line, in order, indexed by ``line``: the 1-based line number in a text,
CSV or JSON lines file (where the record starts), the 1-based row number in a Parquet file. A line that
is not an invoice is a row with ``error`` and ``error_type`` filled, so you can see which line failed.
The output appears only when complete (written to a temporary file, then renamed).

Input, by file name: ``.parquet``/``.pq``, ``.csv``, ``.jsonl``/``.ndjson`` (one JSON object or string a
line); anything else is text, one invoice per line. Output: ``.parquet``/``.pq`` (needs pyarrow) or ``.csv``
(in ``lnnotebook.to_csv``'s format, so ``lnnotebook.read_csv`` restores its dtypes).
"""

from __future__ import annotations

import contextlib
import csv
import inspect
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np
import pandas as pd

DEFAULT_CHUNK_SIZE = 10_000  # about 45 MB of decoding at a time
_PROGRESS_BYTES = 16 * 2**20  # progress=None shows a bar for inputs from this size on
_PARQUET = (".parquet", ".pq")
_JSON_LINES = (".jsonl", ".ndjson")
_DEFAULT_COLUMN = "bolt11"
_SHOWN_FAILURES = 5


@dataclass(frozen=True)
class DecodedFile:
    """What ``decode_file`` wrote: ``rows`` rows to ``path``, ``failed`` of them errors, the first few
    as ``(line, "ErrorType: message")`` in ``failures``."""

    path: Path
    rows: int
    failed: int
    failures: tuple[tuple[int, str], ...] = field(default=())

    def __str__(self) -> str:
        text = f"wrote {self.rows} row(s) to {self.path}"
        if not self.failed:
            return text
        shown = "; ".join(f"line {line}: {problem}" for line, problem in self.failures)
        more = f"; and {self.failed - len(self.failures)} more" if self.failed > len(self.failures) else ""
        return f"{text}, {self.failed} of them not invoices ({shown}{more})"


@dataclass
class _Chunk:
    lines: list[int]
    values: list[Any]
    problems: dict[int, str]  # position in the chunk -> why its line gave no value (malformed JSON, ...)
    progress: int  # bytes (text, CSV, JSON lines) or rows (Parquet) read so far


def decode_file(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    column: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool | None = None,
    **decode_options: Any,
) -> DecodedFile:
    """Decode every invoice in ``src`` into ``dst`` (see the module docstring for the formats).

    ``column``: the invoice column of a CSV, JSON lines or Parquet input (default ``bolt11``, or the only
    column there is). ``progress``: a tqdm bar; None shows one for inputs of 16 MB or more.
    ``decode_options`` go to ``decode_frame`` (``verify``, ``strict``, ``workers``, ``dtype_backend``);
    ``errors`` is ``"coerce"`` here: ``errors="raise"`` stops at the first bad line, naming it, and writes
    nothing.
    """
    source, target = Path(src), Path(dst)
    errors = decode_options.pop("errors", "coerce")
    _check(source, target, column, chunk_size, errors, decode_options)
    kind, total = _input_kind(source)
    chunks = _CHUNKERS[kind](source, column, chunk_size)
    sink = _ParquetSink(target) if target.suffix.lower() in _PARQUET else _CsvSink(target)
    if sink.csv:
        decode_options["dtype_backend"] = "numpy_nullable"  # CSV is text: the backend changes nothing
    show = total >= _PROGRESS_BYTES if progress is None and kind != "parquet" else bool(progress)
    bar = _bar(total, kind) if show else None
    rows = failed = 0
    failures: list[tuple[int, str]] = []
    try:
        for chunk in chunks:
            frame = _decode_chunk(chunk, decode_options)
            bad = frame[frame["error"].notna()]
            if len(bad) and errors == "raise":
                raise _first_error(source, bad)
            shown = bad[["error_type", "error"]].head(_SHOWN_FAILURES)
            failures.extend((int(line), f"{name}: {message}") for line, name, message in shown.itertuples())
            rows, failed = rows + len(frame), failed + len(bad)
            sink.write(frame)
            if bar is not None:
                bar.update(chunk.progress - bar.n)
        if rows == 0:
            sink.write(_decode_chunk(_Chunk([], [], {}, 0), decode_options))  # the columns, no rows
        sink.commit()
    finally:
        sink.discard()
        if bar is not None:
            bar.close()
    return DecodedFile(target, rows, failed, tuple(failures[:_SHOWN_FAILURES]))


def _check(
    source: Path, target: Path, column: str | None, chunk_size: Any, errors: Any, options: dict
) -> None:
    from lnnotebook.frames import decode_frame

    if target.suffix.lower() not in (*_PARQUET, ".csv"):
        raise ValueError(f"decode_file writes .parquet or .csv files, not {target.name!r}")
    if target.resolve() == source.resolve():
        raise ValueError(f"decode_file would overwrite its input {source}: choose another destination")
    if not source.is_file():
        raise FileNotFoundError(f"no input file {str(source)!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if errors not in ("raise", "coerce"):
        raise ValueError(f"errors must be 'raise' or 'coerce', not {errors!r}")
    if "progress" in options:  # decode_frame's own bar would restart on every chunk
        raise TypeError("decode_file takes progress= for its own bar; it is not passed on to decode_frame")
    try:
        inspect.signature(decode_frame).bind([], **options)
    except TypeError as error:
        raise TypeError(f"decode_file: {error} (options go to decode_frame)") from None
    if column is not None and _input_kind(source)[0] == "text":
        raise ValueError(
            f"column= is for CSV, JSON lines and Parquet input; {source.name} is read as text, "
            "one invoice per line"
        )


def _input_kind(source: Path) -> tuple[str, int]:
    """``text``, ``csv``, ``jsonl`` or ``parquet``, and the total for progress (bytes, or rows)."""
    suffix = source.suffix.lower()
    if suffix in _PARQUET:
        return "parquet", _pyarrow_parquet().ParquetFile(source).metadata.num_rows
    kind = "csv" if suffix == ".csv" else "jsonl" if suffix in _JSON_LINES else "text"
    return kind, source.stat().st_size


def _decode_chunk(chunk: _Chunk, options: dict[str, Any]) -> pd.DataFrame:
    from lnnotebook.frames import decode_frame

    index = pd.Index(chunk.lines, dtype="int64", name="line")
    frame = decode_frame(pd.Series(chunk.values, index=index, dtype=object), errors="coerce", **options)
    for position, problem in chunk.problems.items():
        frame.iat[position, cast(int, frame.columns.get_loc("error"))] = problem
        frame.iat[position, cast(int, frame.columns.get_loc("error_type"))] = "FormatError"
    return frame


def _first_error(source: Path, bad: pd.DataFrame) -> Exception:
    import lnnotebook  # the public names of the error classes, wherever their module lives

    line, kind, message = next(bad[["error_type", "error"]].itertuples())
    error_class = getattr(lnnotebook, kind, lnnotebook.InvoiceError)
    if not (isinstance(error_class, type) and issubclass(error_class, lnnotebook.InvoiceError)):
        error_class = lnnotebook.InvoiceError
    return error_class(f"{source}, line {line}: {message}")


# --- reading ------------------------------------------------------------------------------------


def _text_chunks(source: Path, column: str | None, size: int) -> Iterator[_Chunk]:
    with open(source, "rb") as stream:
        yield from _line_chunks(stream, size, lambda raw: (raw.decode("utf-8", "replace").strip(), None))


def _jsonl_chunks(source: Path, column: str | None, size: int) -> Iterator[_Chunk]:
    wanted = column or _DEFAULT_COLUMN

    def value(raw: bytes) -> tuple[Any, str | None]:
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            return "", None  # an empty line: the decoder says "the invoice is empty"
        try:
            item = json.loads(text)
        except ValueError as error:
            return None, f"not a JSON line ({error})"
        if isinstance(item, str) and column is None:
            return item, None
        if not isinstance(item, dict):
            return None, f"a JSON {type(item).__name__}, not an object with a {wanted!r} key"
        if wanted not in item:
            return (
                None,
                f"the JSON object has no {wanted!r} key (it has {', '.join(map(repr, item)) or 'none'})",
            )
        return item[wanted], None

    with open(source, "rb") as stream:
        yield from _line_chunks(stream, size, value)


def _line_chunks(stream: BinaryIO, size: int, value: Any) -> Iterator[_Chunk]:
    chunk = _Chunk([], [], {}, 0)
    read = 0
    for number, raw in enumerate(stream, start=1):
        read += len(raw)
        item, problem = value(raw)
        if problem is not None:
            chunk.problems[len(chunk.lines)] = problem
        chunk.lines.append(number)
        chunk.values.append(item)
        if len(chunk.lines) == size:
            chunk.progress = read
            yield chunk
            chunk = _Chunk([], [], {}, 0)
    if chunk.lines:
        chunk.progress = read
        yield chunk


def _csv_chunks(source: Path, column: str | None, size: int) -> Iterator[_Chunk]:
    with open(source, encoding="utf-8", errors="replace", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader, None) or []
        position = _column_position(source, header, column)
        chunk = _Chunk([], [], {}, 0)
        start = reader.line_num + 1  # the line the next record starts on
        for record in reader:
            chunk.lines.append(start)
            chunk.values.append(record[position] if position < len(record) else None)
            start = reader.line_num + 1
            if len(chunk.lines) == size:
                chunk.progress = cast(BinaryIO, stream.buffer).tell()  # bytes read, for the bar
                yield chunk
                chunk = _Chunk([], [], {}, 0)
        if chunk.lines:
            chunk.progress = source.stat().st_size
            yield chunk


def _parquet_chunks(source: Path, column: str | None, size: int) -> Iterator[_Chunk]:
    parquet = _pyarrow_parquet().ParquetFile(source)
    names = [name for name in parquet.schema_arrow.names if not name.startswith("__index_level_")]
    name = names[_column_position(source, names, column)]
    done = 0
    for batch in parquet.iter_batches(batch_size=size, columns=[name]):
        values = batch.column(0).to_pylist()
        lines = list(range(done + 1, done + len(values) + 1))
        done += len(values)
        yield _Chunk(lines, values, {}, done)


def _column_position(source: Path, names: list[str], column: str | None) -> int:
    if column is not None and column in names:
        return names.index(column)
    if column is None and _DEFAULT_COLUMN in names:
        return names.index(_DEFAULT_COLUMN)
    if column is None and len(names) == 1:
        return 0
    listed = ", ".join(map(repr, names)) or "none"
    wanted = f"no column {column!r}" if column is not None else f"no {_DEFAULT_COLUMN!r} column"
    raise ValueError(f"{source} has {wanted} (its columns: {listed}); name the invoices' column with column=")


_CHUNKERS = {"text": _text_chunks, "csv": _csv_chunks, "jsonl": _jsonl_chunks, "parquet": _parquet_chunks}


# --- writing ------------------------------------------------------------------------------------


class _Sink:
    """A temporary file beside the target, renamed onto it by ``commit``, removed by ``discard``."""

    csv = False

    def __init__(self, target: Path) -> None:
        from lnnotebook.export import _create_temporary

        target.parent.mkdir(parents=True, exist_ok=True)
        self.target = target
        handle, self.temporary = _create_temporary(target)
        self.stream = os.fdopen(handle, "wb")

    def write(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def commit(self) -> None:
        self.finish()
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        with contextlib.suppress(FileNotFoundError):  # rewriting keeps the file's own mode
            os.chmod(self.temporary, self.target.stat().st_mode & 0o777)
        os.replace(self.temporary, self.target)

    def discard(self) -> None:
        """After ``commit`` nothing is left to do; before it, the partial file goes."""
        if not self.stream.closed:
            self.stream.close()
        Path(self.temporary).unlink(missing_ok=True)


class _ParquetSink(_Sink):
    def __init__(self, target: Path) -> None:
        from lnnotebook.parquet import _pyarrow

        self.pa, self.pq = _pyarrow()
        super().__init__(target)
        self.writer: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.writer is None:
            table = self.pa.Table.from_pandas(frame, preserve_index=True)
            self.writer = self.pq.ParquetWriter(self.stream, table.schema)
        else:  # the first chunk's schema (and pandas metadata) for every row group
            table = self.pa.Table.from_pandas(frame, schema=self.writer.schema, preserve_index=True)
        self.writer.write_table(table)

    def finish(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def discard(self) -> None:
        if self.writer is not None and self.writer.is_open:
            self.writer.close()
        super().discard()


class _CsvSink(_Sink):
    csv = True

    def __init__(self, target: Path) -> None:
        super().__init__(target)
        self.text = None
        self.header = True

    def write(self, frame: pd.DataFrame) -> None:
        from lnnotebook.export import _for_csv

        chunk = _for_csv(frame, safe=True).to_csv(
            header=self.header, index_label="line", lineterminator="\r\n"
        )
        self.stream.write(chunk.encode("utf-8"))
        self.header = False


def _bar(total: int, kind: str) -> Any:
    from tqdm.auto import tqdm

    if kind == "parquet":
        return tqdm(total=total, unit="invoice", desc="decoding")
    return tqdm(total=total, unit="B", unit_scale=True, desc="decoding")


def _pyarrow_parquet() -> Any:
    from lnnotebook.parquet import _pyarrow

    return _pyarrow()[1]
