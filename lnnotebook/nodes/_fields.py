"""Parsing the fields of node and wallet-server exports, with errors that say which invoice and field.

Shared by every reader (``lnd``, ``cln`` and the wallet-server readers that live with their provider):
exports print numbers as JSON numbers or as strings (lnd's int64), amounts as ``"1000msat"`` (older
Core Lightning), hashes as hex or base64 (lnd's REST), times as unix seconds or ISO 8601 text.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lnnotebook.errors import LnnotebookError

_INTEGER = re.compile(r"-?[0-9]+")
_MSAT_TEXT = re.compile(r"([0-9]+)msat")
_HEX = re.compile(r"[0-9a-fA-F]*")
# Seconds that fit in pandas' nanosecond timestamps (year 2262); a node never prints later ones.
_MAX_SECONDS = pd.Timestamp.max.value // 10**9


class InvoiceExportError(LnnotebookError, ValueError):
    """An invoice export cannot be read: not a shape lnnotebook knows, or a field of the wrong type.

    ``source`` is the export's format (``"lnd"``, ``"cln"``, ...) when known, ``position`` the invoice's
    place in the export (from 0) and ``field`` the field at fault, when the error is about one.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        position: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.position = position
        self.field = field


@dataclass(frozen=True)
class Where:
    """One invoice of an export, to name it in errors: "lnd export, invoice 3 (add_index '4')"."""

    source: str
    position: int
    label: str | None = None

    def error(self, field: str, problem: str) -> InvoiceExportError:
        named = "" if self.label is None else f" ({self.label})"
        return InvoiceExportError(
            f"{self.source} export, invoice {self.position}{named}: {field!r} {problem}",
            source=self.source,
            position=self.position,
            field=field,
        )


def records(obj: Any, source: str, key: str) -> list[dict[str, Any]]:
    """The invoice objects of an export: ``obj[key]`` when ``obj`` is the whole answer, or ``obj`` itself
    when it is already the list; every item must be a JSON object."""
    items = obj.get(key) if isinstance(obj, dict) else obj
    if not isinstance(items, list):
        raise InvoiceExportError(
            f"{source} export: expected a list of invoices under {key!r}, found {type(items).__name__}",
            source=source,
        )
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvoiceExportError(
                f"{source} export, invoice {position}: expected a JSON object, found {type(item).__name__}",
                source=source,
                position=position,
            )
    return items


def items_have(obj: Any, key: str, required: frozenset[str], *, empty_ok: bool) -> bool:
    """Whether ``obj`` (the answer, or its list under ``key``) holds objects that all have ``required``."""
    items = obj.get(key) if isinstance(obj, dict) else obj
    if not isinstance(items, list):
        return False
    if not items:
        return empty_ok
    return all(isinstance(item, dict) and required <= item.keys() for item in items)


def integer(value: Any, where: Where, field: str) -> int | None:
    """An integer printed as a JSON number or as a string of digits (lnd's int64); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise where.error(field, f"should be a whole number, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise where.error(field, f"should be a whole number, not {_shown(value)}")


def msat(value: Any, where: Where, field: str) -> int | None:
    """Millisatoshis: a JSON integer, or the ``"1000msat"`` strings older Core Lightning prints."""
    if isinstance(value, str):
        match = _MSAT_TEXT.fullmatch(value.strip())
        if match:
            return int(match.group(1))
    amount = integer(value, where, field)
    if amount is not None and amount < 0:
        raise where.error(field, f"should not be negative, got {amount}")
    return amount


def unix_time(value: Any, where: Where, field: str, *, zero_is_missing: bool = True) -> pd.Timestamp | None:
    """Unix seconds (number or digit string) as a UTC timestamp; 0 means "not set" in lnd and LNbits."""
    if isinstance(value, float) and not value.is_integer():
        seconds: float | int | None = value
    else:
        seconds = integer(value, where, field)
    if seconds is None or (zero_is_missing and seconds == 0):
        return None
    if not 0 <= seconds <= _MAX_SECONDS:
        raise where.error(field, f"is not a time lnnotebook can represent: {seconds} s since 1970")
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def any_time(value: Any, where: Where, field: str) -> pd.Timestamp | None:
    """ISO 8601 text (a time without offset is UTC) or unix seconds, as a UTC timestamp."""
    if isinstance(value, str) and not _INTEGER.fullmatch(value.strip()):
        try:
            stamp = pd.Timestamp(value)
        except ValueError:
            raise where.error(field, f"is not a time: {_shown(value)}") from None
        if pd.isna(stamp):
            return None
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return unix_time(value, where, field)


def hash_hex(value: Any, where: Where, field: str) -> str | None:
    """A 32-byte hash as lowercase hex, from hex (``lncli``, Core Lightning) or base64 (lnd's REST)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise where.error(field, f"should be a hex or base64 string, not {_shown(value)}")
    if len(value) == 64 and _HEX.fullmatch(value):
        return value.lower()
    try:
        raw = base64.b64decode(
            value, altchars=b"-_" if ("-" in value or "_" in value) else None, validate=True
        )
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise where.error(field, f"should be 32 bytes as 64 hex digits or base64, not {_shown(value)}")
    return raw.hex()


def text(value: Any, where: Where, field: str) -> str | None:
    """A string field; empty strings are missing (protobuf JSON prints unset strings as "")."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise where.error(field, f"should be text, not {_shown(value)}")
    return value


def flag(value: Any, where: Where, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise where.error(field, f"should be true or false, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
