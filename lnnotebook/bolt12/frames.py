"""BOLT 12 offers as pandas DataFrames: one row per offer, and the long table of blinded paths.

Conventions as ``lnnotebook.frames``: ``errors="raise"|"coerce"``, nullable dtypes (``Int64``,
``string``, ``boolean``), tz-aware UTC timestamps, the input Series' index kept (else a RangeIndex), and
for a failed row ``error``, ``error_type`` and ``input`` (the text that failed) with every other field
missing. Identical inputs are decoded once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd

from lnnotebook.bolt11.errors import InvoiceError
from lnnotebook.bolt12.offer import Offer, decode_offers
from lnnotebook.frames import long_index

Errors = Literal["raise", "coerce"]

_INT64_MAX = np.iinfo(np.int64).max
_MAX_NS_SECONDS = pd.Timestamp.max.value // 10**9  # later expiries (after year 2262) become NaT


_KNOWN_TYPES = frozenset(range(2, 23, 2))


def offers_frame(
    offers: Iterable[Any] | pd.Series | str, *, errors: Errors = "raise", strict: bool = True
) -> pd.DataFrame:
    """Decode offers into a DataFrame (columns ``OFFER_COLUMNS``), one row per input, in order.

    ``errors="raise"`` raises the first ``InvoiceError``, its message naming the row;
    ``errors="coerce"`` never raises for a bad row. See ``lnnotebook.decode_offer`` for ``strict``.
    """
    index, texts, results = _decode_all(offers, errors, strict)
    return _offer_table(index, texts, results)


def offer_paths_frame(
    offers: Iterable[Any] | pd.Series | str, *, errors: Errors = "raise", strict: bool = True
) -> pd.DataFrame:
    """The blinded paths as a long table: one row per hop, indexed by (offer, path, hop).

    The leading level(s) are the input's index (named ``offer`` when unnamed), ``path`` and ``hop``
    count from 0. With ``errors="coerce"`` an offer that fails has one row with missing path and hop and
    its error, so no input disappears; offers without paths have no rows.
    """
    index, texts, results = _decode_all(offers, errors, strict)
    return _path_table(index, texts, results)


def _decode_all(offers: Any, errors: str, strict: bool) -> tuple[pd.Index, list, list]:
    if errors not in ("raise", "coerce"):
        raise ValueError(f"errors must be 'raise' or 'coerce', not {errors!r}")
    if isinstance(offers, str):
        offers = [offers]
    if isinstance(offers, pd.DataFrame):
        raise TypeError("pass a Series or list of offer strings, e.g. df['offer'], not a DataFrame")
    if isinstance(offers, pd.Series):
        index, texts = offers.index, offers.tolist()
    else:
        texts = list(offers)
        index = pd.RangeIndex(len(texts))
    distinct: dict[str, int] = {}  # identical strings are decoded once
    for text in texts:
        if isinstance(text, str):
            distinct.setdefault(text, len(distinct))
    decoded = decode_offers(list(distinct), strict=strict)
    results = [
        decoded[distinct[text]] if isinstance(text, str) else decode_offers([text])[0] for text in texts
    ]
    if errors == "raise":
        for label, result in zip(index, results):
            if isinstance(result, InvoiceError):
                raise type(result)(f"row {label!r}: {result}", field=result.field) from result
    return index, texts, results


# --- columns ---------------------------------------------------------------------------------------


def _ints(values: list) -> pd.arrays.IntegerArray:
    mask = np.fromiter((value is None for value in values), dtype=bool, count=len(values))
    data = np.fromiter((0 if value is None else value for value in values), dtype=np.int64, count=len(values))
    return pd.arrays.IntegerArray(data, mask)


def _strings(values: list) -> pd.api.extensions.ExtensionArray:
    return pd.array(values, dtype="string")


def _joined(values: Iterable, separator: str = ",") -> str | None:
    text = separator.join(map(str, values))
    return text or None


def _utc_times(seconds: pd.arrays.IntegerArray) -> pd.DatetimeIndex:
    raw = seconds.to_numpy(dtype=np.int64, na_value=0)
    representable = ~seconds.isna() & (raw <= _MAX_NS_SECONDS)
    times = (np.where(representable, raw, 0).astype(np.int64) * 10**9).view("datetime64[ns]").copy()
    times[~representable] = np.datetime64("NaT")
    return pd.DatetimeIndex(times).tz_localize("UTC")


def _inputs(texts: list, results: list) -> pd.api.extensions.ExtensionArray:
    """The text of each failed row (``str()`` of a non-string value; NA for a missing one)."""
    shown: list[str | None] = []
    for text, result in zip(texts, results):
        missing = text is None or text is pd.NA or (isinstance(text, float) and text != text)
        if not isinstance(result, InvoiceError) or missing:
            shown.append(None)
        else:
            shown.append(text if isinstance(text, str) else str(text))
    return _strings(shown)


def _errors(results: list) -> tuple:
    """``error`` and ``error_type`` columns: filled where the result is an ``InvoiceError``."""
    failed = [result if isinstance(result, InvoiceError) else None for result in results]
    messages = [None if error is None else str(error) for error in failed]
    kinds = [None if error is None else type(error).__name__ for error in failed]
    return _strings(messages), _strings(kinds)


def _bounded(offers: list, name: str, warnings: list) -> list:
    """``name`` of each offer, with values beyond int64 left missing and a warning saying so."""
    values = []
    for position, offer in enumerate(offers):
        value = None if offer is None else getattr(offer, name)
        if value is not None and value > _INT64_MAX:
            warnings[position] = (*warnings[position], f"{name} of {value} is beyond int64 (left missing)")
            value = None
        values.append(value)
    return values


def _offer_table(index: pd.Index, texts: list, results: list) -> pd.DataFrame:
    offers = [result if isinstance(result, Offer) else None for result in results]

    def column(get: Any) -> list:
        return [None if offer is None else get(offer) for offer in offers]

    warnings = column(lambda offer: offer.warnings)
    amount, quantity_max, expiry = (
        _bounded(offers, name, warnings) for name in ("amount", "quantity_max", "absolute_expiry")
    )
    amount_msat = [
        value if offer is not None and offer.currency is None else None
        for value, offer in zip(amount, offers)
    ]
    data: dict[str, Any] = {
        "bolt12": _strings(column(lambda offer: offer.bolt12)),
        "offer_id": _strings(column(lambda offer: offer.offer_id)),
        "networks": _strings(column(lambda offer: _joined(offer.networks))),
        "chains": _strings(column(lambda offer: _joined(offer.chains))),
        "metadata": _strings(column(lambda offer: offer.metadata)),
        "currency": _strings(column(lambda offer: offer.currency)),
        "amount": _ints(amount),
        "amount_msat": _ints(amount_msat),
    }
    data["amount_sat"] = pd.array(data["amount_msat"], dtype="Float64") / 1000
    for name in ("description", "issuer", "issuer_id"):
        data[name] = _strings(column(lambda offer, name=name: getattr(offer, name)))
    data["quantity_max"] = _ints(quantity_max)
    data["quantity_unlimited"] = pd.array(column(lambda offer: offer.quantity_max == 0), dtype="boolean")
    data["absolute_expiry"] = _ints(expiry)
    data["expires_at"] = _utc_times(data["absolute_expiry"])
    data["features"] = _strings(column(lambda offer: _joined(offer.features)))
    data["feature_bits"] = _strings(column(lambda offer: _joined(offer.feature_bits)))
    data["path_count"] = _ints(column(lambda offer: len(offer.paths)))
    data["hop_count"] = _ints(column(lambda offer: sum(len(path.hops) for path in offer.paths)))
    data["record_count"] = _ints(column(lambda offer: len(offer.records)))
    data["unknown_types"] = _strings(
        column(lambda offer: _joined(kind for kind, _ in offer.records if kind not in _KNOWN_TYPES))
    )
    data["warnings"] = _strings([None if value is None else _joined(value, "; ") for value in warnings])
    data["error"], data["error_type"] = _errors(results)
    data["input"] = _inputs(texts, results)
    frame = pd.DataFrame(data, index=index)
    frame.index = index  # the caller's index object as is (name, dtype)
    return frame


def _path_table(index: pd.Index, texts: list, results: list) -> pd.DataFrame:
    positions: list[int] = []  # of each row's offer in the input, to take its label from ``index``
    path_numbers: list = []
    hop_numbers: list = []
    rows: list[tuple] = []
    failures: list = []
    for position, result in enumerate(results):
        if not isinstance(result, Offer):
            positions.append(position)
            path_numbers.append(None)
            hop_numbers.append(None)
            rows.append((None,) * 6)
            failures.append(result)
            continue
        for path_number, path in enumerate(result.paths):
            start = (path.introduction_node_id, path.short_channel_id, path.direction, path.path_key)
            for hop_number, hop in enumerate(path.hops):
                positions.append(position)
                path_numbers.append(path_number)
                hop_numbers.append(hop_number)
                rows.append((*start, hop.blinded_node_id, hop.encrypted_recipient_data))
                failures.append(None)
    columns = [list(values) for values in zip(*rows)] if rows else [[] for _ in range(6)]
    data: dict[str, Any] = {
        "introduction_node_id": _strings(columns[0]),
        "short_channel_id": _strings(columns[1]),
        "direction": _ints(columns[2]),
        "path_key": _strings(columns[3]),
        "blinded_node_id": _strings(columns[4]),
        "encrypted_recipient_data": _strings(columns[5]),
    }
    data["error"], data["error_type"] = _errors(failures)
    data["input"] = _inputs([texts[position] for position in positions], failures)
    multi_index = long_index(
        index, positions, "offer", {"path": _ints(path_numbers), "hop": _ints(hop_numbers)}
    )
    return pd.DataFrame(data, index=multi_index)
