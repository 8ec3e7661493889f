"""CSV export that is safe to open in a spreadsheet, and a reader that restores the dtypes.

``to_csv`` writes atomically (a temporary file in the same folder, fsync, then rename), in UTF-8,
with ISO-8601 UTC timestamps. With ``safe=True`` (the default) a text cell that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is neutralised
by a leading apostrophe, as OWASP recommends: memos and descriptions come from strangers. Triggers
count after leading invisible characters (spaces, NBSP, U+3000, zero-width space, BOM, VT, FF, NUL,
LF) and in their fullwidth and small forms (``＝`` U+FF1D, ``﹦`` U+FE66, ...). A cell that itself
starts with an apostrophe (or with an invisible character) gets one more, the empty string is written
as a lone apostrophe (an empty cell is a missing value), and text index labels that read as integers
are marked the same way, so ``read_csv`` undoes it exactly. A file written with ``safe=False`` holds
every cell as it is: read it with ``read_csv(..., safe=False)``. There the empty string and a missing
value are the same empty cell (CSV has no other way to write either, and no reader tells a quoted
``""`` from an empty field), so both read back as missing: keep ``safe=True`` for an exact round trip.

``read_csv`` gives an lnnotebook frame its dtypes and index back. Which kind of frame a file holds
(``lnnotebook.schema.FRAMES``: ``decode_frame``, ``hops_frame``, ``create_invoices``, ``history``,
``compare``...) is given as ``schema=``, or, by default, told from the header: it must be exactly the
header ``to_csv`` writes for one kind (its index columns, then its columns). A header that matches no
kind, or several, is an error naming its columns; ``schema=False`` reads any CSV with every column's
dtype inferred (integers, then numbers, else text).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import pandas_dtype

from lnnotebook.errors import LnnotebookError
from lnnotebook.schema import FRAMES, FrameSchema

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Look-alikes a spreadsheet may read as the same trigger (fullwidth and small forms).
_FORMULA_LOOKALIKES = ("\uff1d", "\ufe66", "\uff0b", "\ufe62", "\uff0d", "\ufe63", "\uff20", "\ufe6b")
# What may come before a trigger and be skipped by a spreadsheet: whitespace, NBSP, ideographic space,
# zero-width space/joiners, BOM, VT, FF, NUL, LF.
_INVISIBLE = " \t\r\n\x0b\x0c\x00\u00a0\u2007\u202f\u3000\u200b\u200c\u200d\u2060\ufeff"
_QUOTE = "'"
_DEFAULT_INDEX_LABEL = "row"
RAW_COLUMN = "raw"  # the provider's answer in create_invoices/history frames


class SchemaError(LnnotebookError, ValueError):
    """A CSV is not (exactly) the frame ``read_csv`` was asked for, or could be several."""


def to_csv(df: pd.DataFrame, path: str | os.PathLike, *, safe: bool = True, raw: bool = False) -> Path:
    """Write ``df`` to ``path`` atomically; returns the path.

    The index comes first, as in ``DataFrame.to_csv``; an unnamed index is labelled ``row``. The
    provider's answer (a ``raw`` column of JSON) is left out unless ``raw=True``: it is long, and it is
    for debugging, not for a spreadsheet (``read_csv`` reads a file with or without it).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not raw and RAW_COLUMN in df.columns:
        df = df.drop(columns=RAW_COLUMN)
    frame = _for_csv(df, safe=safe)
    labels = [
        name if name is not None else (_DEFAULT_INDEX_LABEL if df.index.nlevels == 1 else f"level_{i}")
        for i, name in enumerate(df.index.names)
    ]
    handle, temporary = _create_temporary(target)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            # CRLF as RFC 4180 says; it also makes the csv module quote cells holding a bare \r.
            frame.to_csv(stream, index_label=labels, lineterminator="\r\n")
            stream.flush()
            os.fsync(stream.fileno())
        with contextlib.suppress(FileNotFoundError):  # rewriting keeps the file's own mode
            os.chmod(temporary, target.stat().st_mode & 0o777)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_csv(
    path: str | os.PathLike,
    schema: str | FrameSchema | Literal[False] | None = None,
    *,
    safe: bool = True,
    **options: Any,
) -> pd.DataFrame:
    """Read a CSV written by ``to_csv``, restoring the dtypes and index of lnnotebook's frames.

    ``schema``: the kind of frame (a name in ``lnnotebook.schema.FRAMES`` or a ``FrameSchema``); its
    columns get their dtypes, other columns are inferred. None: the kind whose header the file has
    exactly (``SchemaError`` when none or several). False: no kind, every column inferred, the first
    column the index. ``safe``: as the file was written (``to_csv(safe=False)``: cells are read as they
    are, a leading apostrophe kept). ``options`` go to ``pandas.read_csv``.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", **options)
    header = [str(column) for column in frame.columns]
    kind = _frame_schema(schema, header, path)
    dtypes = kind.dtypes() if kind is not None else {}
    width = _index_width(kind, header, path)
    index_columns = header[:width]
    for column in frame.columns:
        if column in index_columns and column not in dtypes:
            frame[column] = _index_labels(frame[column], safe=safe)
        else:
            frame[column] = _restore(frame[column], dtypes.get(column), safe=safe)
    frame = frame.set_index(index_columns)
    if frame.index.nlevels == 1 and frame.index.name == _DEFAULT_INDEX_LABEL:
        frame.index.name = None
        if frame.index.dtype == np.int64 and frame.index.equals(pd.RangeIndex(len(frame))):
            frame.index = pd.RangeIndex(len(frame))
    return frame


# --- writing ------------------------------------------------------------------------------------


def _create_temporary(target: Path) -> tuple[int, str]:
    """A new file next to ``target`` with the mode a plain ``open()`` gives: 0666 less the umask.

    Unlike ``mkstemp`` (0600), and without reading the umask, which means setting it process-wide.
    """
    while True:
        temporary = target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), str(temporary)
        except FileExistsError:
            continue


def neutralise(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs; reversible (see module docstring).

    A formula trigger (or a look-alike such as fullwidth ``＝``) counts after leading invisible
    characters too; the empty string becomes a lone apostrophe, so it is not read back as missing.
    """
    if not text:
        return _QUOTE
    visible = text.lstrip(_INVISIBLE)
    if (
        text.startswith(_QUOTE)
        or text[0] in _INVISIBLE
        or visible.startswith(_FORMULA_STARTS)
        or visible.startswith(_FORMULA_LOOKALIKES)
        or (visible[:1].isspace())
    ):
        return _QUOTE + text
    return text


def _for_csv(df: pd.DataFrame, *, safe: bool) -> pd.DataFrame:
    columns: dict[Hashable, Any] = {}
    for name, series in df.items():
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
            columns[name] = _iso_utc(series)
        elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            values = series.astype(object)
            values = values.map(_json_if_container)
            if safe:
                values = values.map(lambda value: neutralise(value) if isinstance(value, str) else value)
            columns[name] = values
        else:
            columns[name] = series
    frame = pd.DataFrame(columns, index=df.index)
    if safe:
        frame.index = _neutralised_index(df.index)
    return frame


def _neutralised_index(index: pd.Index) -> pd.Index:
    """Text labels neutralised; text that reads as an integer is marked (an apostrophe) so that
    ``read_csv`` keeps it text: a label ``"1"`` is not the integer 1."""
    if isinstance(index, pd.MultiIndex):
        levels = [_neutralised_index(index.get_level_values(i)) for i in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(levels, names=index.names)
    if index.dtype == object or isinstance(index.dtype, pd.StringDtype):
        return pd.Index([_label(v) if isinstance(v, str) else v for v in index], name=index.name)
    return index


def _label(text: str) -> str:
    marked = neutralise(text)
    if marked == text and _looks_integer(text):
        return _QUOTE + text
    return marked


def _looks_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _json_if_container(value: Any) -> Any:
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return value


def _iso_utc(series: pd.Series) -> pd.Series:
    values = series
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        values = series.dt.tz_convert("UTC").dt.tz_localize(None)
    text = np.datetime_as_string(
        values.to_numpy(dtype="datetime64[us]"), unit="s" if _whole_seconds(values) else "us"
    )
    return pd.Series(
        [None if stamp == "NaT" else stamp + "Z" for stamp in text], index=series.index, dtype=object
    )


def _whole_seconds(values: pd.Series) -> bool:
    present = values.dropna()
    return bool((present.dt.microsecond == 0).all() and (present.dt.nanosecond == 0).all())


# --- reading ------------------------------------------------------------------------------------


def _frame_schema(
    schema: str | FrameSchema | Literal[False] | None, header: Sequence[str], path: str | os.PathLike
) -> FrameSchema | None:
    """The kind of frame to read ``header`` as (None: none, infer every column)."""
    if schema is False:
        return None
    if isinstance(schema, FrameSchema):
        return schema
    if isinstance(schema, str):
        if schema not in FRAMES:
            raise SchemaError(f"read_csv: unknown schema {schema!r}; known: {', '.join(FRAMES)}")
        return FRAMES[schema]
    if schema is not None:
        raise TypeError(
            f"read_csv: schema must be a frame kind's name, a FrameSchema, None or False, got {schema!r}"
        )
    matches = [kind for kind in FRAMES.values() if kind.matches(header)]
    if len(matches) == 1:
        return matches[0]
    columns = ", ".join(header)
    if matches:
        names = " and ".join(repr(kind.name) for kind in matches)
        raise SchemaError(
            f"read_csv({str(path)!r}): the header could be a {names} frame ({columns}); "
            "pass schema= to say which"
        )
    raise SchemaError(
        f"read_csv({str(path)!r}): the header ({columns}) is not the header of any lnnotebook frame "
        f"({', '.join(FRAMES)}); pass schema='<kind>' to read it as one (its other columns inferred), "
        "or schema=False to infer every column"
    )


def _index_width(kind: FrameSchema | None, header: list[str], path: str | os.PathLike) -> int:
    """How many leading columns ``to_csv`` wrote from the index (one when there is no kind)."""
    if kind is None:
        return min(1, len(header))
    width = kind.index_width(header)
    if width is None:
        wanted = ", ".join([*(["<index>"] if kind.free_levels != 0 else []), *kind.index])
        raise SchemaError(
            f"read_csv({str(path)!r}): a {kind.name!r} frame starts with its index ({wanted}); "
            f"this header does not: {', '.join(header)}"
        )
    return width


def _restore(values: pd.Series, dtype: str | None, *, safe: bool = True) -> pd.Series:
    text = values.map(_unneutralise, na_action="ignore") if safe else values
    if dtype is None:
        return _infer(text)
    if dtype.startswith("datetime64"):
        return pd.to_datetime(text, utc=True, format="ISO8601").astype(pandas_dtype(dtype))
    if dtype == "object":  # JSON containers (the providers' raw responses)
        return text.map(json.loads, na_action="ignore").astype(object)
    if dtype == "boolean":
        return text.map({"True": True, "False": False}, na_action="ignore").astype("boolean")
    if dtype == "Float64":  # Python's float() rounds correctly; pandas 2's to_numeric can be off by an ulp
        return text.map(float, na_action="ignore").astype(pandas_dtype(dtype))
    if dtype == "Int64":
        return pd.to_numeric(text).astype(pandas_dtype(dtype))
    return text.astype(pandas_dtype(dtype))


def _unneutralise(text: str) -> str:
    return text[1:] if text.startswith(_QUOTE) else text


def _index_labels(text: pd.Series, *, safe: bool = True) -> pd.Series:
    """Index labels as pandas would hold them: int64 when all are integers (and none was marked as
    text by ``to_csv``), else text."""
    marked = safe and bool(text.str.startswith(_QUOTE, na=False).any())
    labels = text.map(_unneutralise, na_action="ignore") if safe else text
    if not marked:
        try:
            return labels.astype(np.int64)
        except (ValueError, TypeError):
            pass
    return pd.Series(pd.Index(labels.tolist()), index=labels.index)


def _infer(text: pd.Series) -> pd.Series:
    """Columns we do not know: integers, then numbers, else strings."""
    present = text.dropna()
    if present.empty:
        return text.astype("string")
    try:
        numbers = pd.to_numeric(present)
    except (ValueError, TypeError):
        return text.astype("string")
    if pd.api.types.is_integer_dtype(numbers.dtype):
        return pd.to_numeric(text).astype("Int64")
    return pd.to_numeric(text).astype("Float64")
