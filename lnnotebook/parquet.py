"""Parquet files of lnnotebook's frames that read back with the same dtypes (needs pyarrow).

``decode_frame`` frames round-trip through plain pandas: ``df.to_parquet(path)`` and
``pd.read_parquet(path)`` (``pd.read_parquet(path, dtype_backend="pyarrow")`` for frames decoded with
``dtype_backend="pyarrow"``). Two things do not, and these functions handle them:

* ``hops_frame``'s ``route``/``hop`` index levels are ``Int64``: pyarrow rebuilds index levels without
  the dtypes pandas recorded, so they come back ``float64`` (or ``int64``). ``read_parquet`` restores
  the recorded dtype of every index level, also in files written by ``DataFrame.to_parquet``.
* ``create_invoices``/``history`` keep the provider's answer in ``raw`` as dicts, which pyarrow would
  store as one struct with every key of every row (and fails on mixed types). ``to_parquet`` stores
  every ``object`` column as JSON text (each value, ``None`` and ``NaN`` included) and notes them in the
  file, and ``read_parquet`` turns them back into the same Python values.

Columns of ``dtype_backend="pyarrow"`` frames are noted too and come back as the same Arrow types.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

# Key of lnnotebook's own entry in the Parquet file's key-value metadata.
METADATA_KEY = b"lnnotebook"
# Extension dtypes pandas records by name for an index level, which pyarrow does not re-apply.
_RESTORABLE = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}
_RESTORABLE |= {"Float32", "Float64", "boolean", "string"}


def to_parquet(frame: pd.DataFrame, path: str | os.PathLike, **options: Any) -> Path:
    """Write ``frame`` to ``path`` atomically (a temporary file, then rename); returns the path.

    ``options`` go to ``pyarrow.parquet.write_table`` (e.g. ``compression="zstd"``).
    """
    pa, pq = _pyarrow()
    from lnnotebook.export import _create_temporary

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    json_columns = [name for name in frame.columns if frame[name].dtype == object]
    arrow_columns = [name for name in frame.columns if isinstance(frame[name].dtype, pd.ArrowDtype)]
    stored = frame.copy(deep=False)
    for name in json_columns:
        # every value, not only the dicts: a text beside them comes back as text, None and NaN as themselves
        stored[name] = pd.array([_to_json(value) for value in frame[name]], dtype="string")
    table = pa.Table.from_pandas(stored, preserve_index=True)
    note = json.dumps({"json_columns": json_columns, "arrow_columns": arrow_columns}).encode()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: note})
    handle, temporary = _create_temporary(target)
    os.close(handle)
    try:
        pq.write_table(table, temporary, **options)
        with contextlib.suppress(FileNotFoundError):  # rewriting keeps the file's own mode
            os.chmod(temporary, target.stat().st_mode & 0o777)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_parquet(path: str | os.PathLike, **options: Any) -> pd.DataFrame:
    """Read a Parquet file of an lnnotebook frame (``to_parquet`` or ``DataFrame.to_parquet``) with its
    dtypes; ``options`` go to ``pandas.read_parquet``."""
    _, pq = _pyarrow()
    schema = pq.read_schema(path)
    frame = pd.read_parquet(path, engine="pyarrow", **options)
    note = json.loads((schema.metadata or {}).get(METADATA_KEY, b"{}"))
    for name in note.get("json_columns", []):
        frame[name] = pd.Series([json.loads(text) for text in frame[name]], index=frame.index, dtype=object)
    for name in note.get("arrow_columns", []):
        frame[name] = frame[name].astype(pd.ArrowDtype(schema.field(name).type))
    frame.index = _restored_index(frame.index, schema.pandas_metadata or {})
    return frame


def _restored_index(index: pd.Index, metadata: Mapping[str, Any]) -> pd.Index:
    recorded = {column.get("field_name"): column.get("numpy_type") for column in metadata.get("columns", [])}
    descriptors = metadata.get("index_columns", [])
    if isinstance(index, pd.MultiIndex):
        levels = [index.get_level_values(level) for level in range(index.nlevels)]
    else:
        levels = [index]
    if len(descriptors) != len(levels):  # a RangeIndex (stored as a description) or a changed file
        return index
    restored = []
    for level, descriptor in zip(levels, descriptors):
        dtype = recorded.get(descriptor) if isinstance(descriptor, str) else None
        restored.append(level.astype(dtype) if dtype in _RESTORABLE and str(level.dtype) != dtype else level)
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_arrays(restored, names=index.names)
    return restored[0]


def _to_json(value: Any) -> str:
    return json.dumps(None if value is pd.NA else value, ensure_ascii=False, default=str)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("Parquet files need pyarrow: pip install 'lnnotebook[parquet]'") from None
    return pa, pq
