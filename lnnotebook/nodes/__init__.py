"""Invoices your node or wallet server already has, read from its export into one typed DataFrame.

    >>> import lnnotebook as ln
    >>> df = ln.read_invoices("listinvoices.json")          # lnd, Core Lightning or LNbits: detected
    >>> df.groupby("status")["amount_received_msat"].sum()
    >>> ln.with_fiat(df, btc_usd)                            # see lnnotebook.nodes.fiat

Each export is read by a reader module (``lnnotebook.nodes.lnd``, ``.cln``, and one beside each wallet
server's provider client) that says its ``SOURCE`` name, recognises its shape with ``looks_like(obj)`` and
turns it into rows of the common columns (``NODE_INVOICE_COLUMNS``). The node's own facts (status,
amounts, times) are joined with what the BOLT11 string itself says (``decode_frame``'s columns, errors
coerced into the ``error`` column). Example exports of each format ship in ``examples/`` of this package.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pandas as pd

from lnnotebook.frames import decode_frame
from lnnotebook.nodes._fields import InvoiceExportError
from lnnotebook.providers import export_readers
from lnnotebook.schema import NODE_DECODED_COLUMNS, NODE_INVOICE_COLUMNS

__all__ = ["DECODED_COLUMNS", "NODE_INVOICE_COLUMNS", "READERS", "InvoiceExportError", "read_invoices"]

# The columns every export gives, whatever its source (the decoded columns follow them).
STATUSES = ("pending", "paid", "expired", "canceled")

# Readers of node exports, as "module:function"; each module also has SOURCE and looks_like(obj).
# A wallet server's reader lives with its provider client, as lnnotebook/providers/<name>/payments.py
# with a read function, declared as the folder's "export_reader" (lnnotebook.providers.export_readers),
# so nothing here names a provider.
READERS: tuple[str, ...] = (
    "lnnotebook.nodes.lnd:read",
    "lnnotebook.nodes.cln:read",
)

# The decode_frame columns joined after the node's own (the node's values win; see _join_decoded).
DECODED_COLUMNS = NODE_DECODED_COLUMNS


def read_invoices(
    data: Any, *, source: str | None = None, as_of: datetime | pd.Timestamp | None = None
) -> pd.DataFrame:
    """One row per invoice of a node's or wallet server's export, the node's facts and the decoded invoice.

    ``data``: a path to the JSON file, the JSON text, or the parsed object (dict or list). ``source``:
    ``"lnd"`` (``lncli listinvoices`` / REST ``GET /v1/invoices``), ``"cln"`` (``lightning-cli
    listinvoices``) or ``"lnbits"`` (``GET /api/v1/payments``); detected from the shape when None.

    Columns: ``NODE_INVOICE_COLUMNS`` then ``DECODED_COLUMNS``. ``status`` is ``pending``, ``paid``,
    ``expired`` or ``canceled``; an unpaid invoice whose expiry is at or before ``as_of`` (default: now)
    is ``expired`` even if the node has not said so yet. Missing ``created_at``, ``expires_at`` and
    ``amount_msat`` (Core Lightning prints no creation time) are taken from the decoded invoice; where
    the node and the invoice disagree on the payment hash or amount, ``warnings`` says so. Invoices
    without a BOLT11 string (lnd keysend/AMP, BOLT12) have missing decoded columns and no error.
    Raises ``InvoiceExportError`` naming the invoice and field when the export cannot be read.
    """
    obj = _load(data)
    name, reader = _reader(obj, source)
    rows = reader(obj)
    frame = _frame(rows, name)
    _mark_expired(frame, _as_of(as_of))
    return _join_decoded(frame)


# --- reading the export --------------------------------------------------------------------------


def _load(data: Any) -> Any:
    if isinstance(data, (dict, list)):
        return data
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    if isinstance(data, str) and data.lstrip()[:1] in ("{", "["):
        return _parse(data, "the JSON text")
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        try:
            content = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(f"no invoice export at {str(path)!r}") from None
        return _parse(content, str(path))
    if hasattr(data, "read_text"):  # importlib.resources files
        return _parse(data.read_text(encoding="utf-8"), str(data))
    raise TypeError(
        f"read_invoices takes a path, JSON text or the parsed JSON (dict or list), not {type(data).__name__}"
    )


def _parse(content: str, where: str) -> Any:
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        raise InvoiceExportError(
            f"{where} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def _modules() -> list[tuple[Any, Callable[[Any], list[dict[str, Any]]]]]:
    found = []
    for entry in dict.fromkeys([*READERS, *export_readers()]):
        module_name, function = entry.split(":")
        module = importlib.import_module(module_name)
        found.append((module, getattr(module, function)))
    return found


def _reader(obj: Any, source: str | None) -> tuple[str, Callable[[Any], list[dict[str, Any]]]]:
    modules = _modules()
    names = [module.SOURCE for module, _ in modules]
    if source is not None:
        for module, read in modules:
            if source == module.SOURCE:
                return source, read
        raise ValueError(f"source must be one of {', '.join(map(repr, names))} or None, not {source!r}")
    matches = [(module.SOURCE, read) for module, read in modules if module.looks_like(obj)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        both = " and ".join(name for name, _ in matches)
        raise InvoiceExportError(f"the export could be {both}: pass source= to say which")
    raise InvoiceExportError(
        f"cannot tell which node or wallet server made this export ({_describe(obj)}); expected "
        f"{', '.join(names)} output, or pass source= to read it as one of those"
    )


def _describe(obj: Any) -> str:
    if isinstance(obj, dict):
        keys = ", ".join(map(repr, list(obj)[:6])) or "none"
        return f"an object with keys {keys}"
    if isinstance(obj, list):
        if obj and isinstance(obj[0], dict):
            return f"a list whose first item has keys {', '.join(map(repr, list(obj[0])[:8]))}"
        return f"a list of {len(obj)} items"
    return f"a JSON {type(obj).__name__}"


# --- building the frame ---------------------------------------------------------------------------


def _frame(rows: list[dict[str, Any]], source: str) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, dtype in NODE_INVOICE_COLUMNS.items():
        values = [source] * len(rows) if name == "source" else [row[name] for row in rows]
        if dtype.startswith("datetime"):
            data[name] = pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True), dtype=dtype)
        else:
            data[name] = pd.Series(pd.array(values, dtype=cast(Any, dtype)))
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def _as_of(as_of: datetime | pd.Timestamp | None) -> pd.Timestamp:
    if as_of is None:
        return pd.Timestamp.now(tz="UTC")
    stamp = pd.Timestamp(as_of)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _mark_expired(frame: pd.DataFrame, as_of: pd.Timestamp) -> None:
    """Unpaid and past its expiry: expired. A reader's "held" (payment held, not yet settled, as lnd's
    ACCEPTED hold invoices) is pending whatever the expiry says."""
    over = (frame["status"] == "pending") & (frame["expires_at"] <= as_of)
    frame.loc[over.fillna(False).to_numpy(dtype=bool), "status"] = "expired"
    frame.loc[(frame["status"] == "held").to_numpy(dtype=bool), "status"] = "pending"


def _join_decoded(frame: pd.DataFrame) -> pd.DataFrame:
    has_text = frame["bolt11"].notna().to_numpy(dtype=bool)
    decoded = decode_frame(frame.loc[has_text, "bolt11"].astype(object), errors="coerce")
    decoded = decoded.reindex(frame.index)  # rows without an invoice string: all missing, no error
    for name in ("created_at", "expires_at", "amount_msat"):
        frame[name] = frame[name].fillna(decoded[name]).astype(cast(Any, NODE_INVOICE_COLUMNS[name]))
    warnings = _disagreements(frame, decoded)
    joined = pd.concat([frame, decoded[list(DECODED_COLUMNS)]], axis=1)
    for name, dtype in DECODED_COLUMNS.items():
        joined[name] = joined[name].astype(dtype)
    joined["warnings"] = _joined_text(joined["warnings"], warnings)
    return joined


def _disagreements(frame: pd.DataFrame, decoded: pd.DataFrame) -> pd.Series:
    """A warning per row where the node's payment hash or amount is not the invoice's."""
    notes = pd.Series(pd.NA, index=frame.index, dtype="string")
    checks = (
        ("payment_hash", "the node's payment_hash is not the invoice's"),
        ("amount_msat", "the node's amount_msat is not the invoice's"),
    )
    for name, message in checks:
        differs = (frame[name] != decoded[name]).fillna(False).to_numpy(dtype=bool)
        notes[differs] = _joined_text(notes[differs], pd.Series(message, index=notes.index[differs]))
    return notes


def _joined_text(first: pd.Series, second: pd.Series) -> pd.Series:
    """Two optional "; "-separated texts joined, missing where both are."""
    first, second = first.astype("string"), second.astype("string")
    both = first.notna() & second.notna()
    return first.fillna(second).where(~both, first + "; " + second).astype("string")
