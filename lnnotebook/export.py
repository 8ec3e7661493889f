"""CSV export that is safe to open in a spreadsheet, and a reader that restores the dtypes.

``to_csv`` writes atomically (a temporary file in the same folder, fsync, then rename), in UTF-8,
with ISO-8601 UTC timestamps. With ``safe=True`` (the default) a text cell that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is neutralised
by a leading apostrophe, as OWASP recommends: memos and descriptions come from strangers. A cell
that itself starts with an apostrophe gets one more, so ``read_csv`` can undo it exactly.

``read_csv`` knows the columns of ``decode_frame``, ``hops_frame``, ``create_invoices`` and
``history`` frames and gives them back their dtypes; other columns are left to pandas.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"
_HOP_INDEX = ("route", "hop")
_DEFAULT_INDEX_LABEL = "row"


def to_csv(df: pd.DataFrame, path: str | os.PathLike, *, safe: bool = True) -> Path:
    """Write ``df`` to ``path`` atomically; returns the path.

    The index comes first, as in ``DataFrame.to_csv``; an unnamed index is labelled ``row``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
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


def read_csv(path: str | os.PathLike, **options: Any) -> pd.DataFrame:
    """Read a CSV written by ``to_csv``, restoring the dtypes of lnnotebook's frames."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", **options)
    schema = _schema_for(frame.columns)
    index_columns = _index_columns(frame.columns, schema)
    for column in frame.columns:
        if column in index_columns and column not in schema:
            frame[column] = _index_labels(frame[column])
        else:
            frame[column] = _restore(frame[column], schema.get(column))
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
    """A cell a spreadsheet shows as text, never runs; reversible (see module docstring)."""
    if text.startswith(_FORMULA_STARTS) or text.startswith(_QUOTE):
        return _QUOTE + text
    return text


def _for_csv(df: pd.DataFrame, *, safe: bool) -> pd.DataFrame:
    columns: dict[str, Any] = {}
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
    if isinstance(index, pd.MultiIndex):
        levels = [_neutralised_index(index.get_level_values(i)) for i in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(levels, names=index.names)
    if index.dtype == object or isinstance(index.dtype, pd.StringDtype):
        return pd.Index([neutralise(v) if isinstance(v, str) else v for v in index], name=index.name)
    return index


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


def _schema_for(columns: pd.Index) -> dict[str, str]:
    """Known dtypes for a frame with these columns."""
    from lnnotebook.frames import HOP_COLUMNS, INVOICE_COLUMNS

    names = set(columns)
    if {"pubkey", "short_channel_id"} <= names:
        return {**HOP_COLUMNS, "route": "Int64", "hop": "Int64"}
    if "provider" in names:
        from lnnotebook.batch import provider_frame_dtypes

        return provider_frame_dtypes()
    return dict(INVOICE_COLUMNS)


def _index_columns(columns: pd.Index, schema: Mapping[str, str]) -> list[str]:
    """The leading columns ``to_csv`` wrote from the index: (invoice, route, hop) for hops, else one."""
    names = list(columns)
    if {"pubkey", "short_channel_id"} <= set(names) and tuple(names[1:3]) == _HOP_INDEX:
        return names[:3]
    return names[:1]


def _restore(values: pd.Series, dtype: str | None) -> pd.Series:
    text = values.map(_unneutralise, na_action="ignore")
    if dtype is None:
        return _infer(text)
    if dtype.startswith("datetime64"):
        return pd.to_datetime(text, utc=True, format="ISO8601").astype(dtype)
    if dtype == "object":  # JSON containers (the providers' raw responses)
        return text.map(json.loads, na_action="ignore").astype(object)
    if dtype == "boolean":
        return text.map({"True": True, "False": False}, na_action="ignore").astype("boolean")
    if dtype in ("Int64", "Float64"):
        return pd.to_numeric(text).astype(dtype)
    return text.astype(dtype)


def _unneutralise(text: str) -> str:
    return text[1:] if text.startswith(_QUOTE) else text


def _index_labels(text: pd.Series) -> pd.Series:
    """Index labels as pandas would hold them: int64 when all are integers, else text."""
    labels = text.map(_unneutralise, na_action="ignore")
    try:
        return labels.astype(np.int64)
    except (ValueError, TypeError):
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
