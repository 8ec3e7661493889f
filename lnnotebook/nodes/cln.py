"""Core Lightning's invoices: the answer of ``lightning-cli listinvoices``.

``{"invoices": [...]}``, each with ``label``, ``payment_hash``, ``status`` (``unpaid``, ``paid`` or
``expired``), ``expires_at`` (unix seconds), ``bolt11`` or ``bolt12``, ``description``, and
``amount_msat`` unless the invoice is for any amount; a paid one also has ``amount_received_msat``,
``paid_at`` and ``pay_index``. Amounts are integers today; releases before 0.12 printed them as
``"1000msat"`` strings next to integer ``msatoshi`` / ``msatoshi_received``, and both are read.

Core Lightning does not print when an invoice was created: ``created_at`` comes from the decoded BOLT11
timestamp (and stays missing for BOLT12 invoices, which are not decoded).
"""

from __future__ import annotations

from typing import Any

from lnnotebook.nodes._fields import Where, hash_hex, items_have, msat, records, text, unix_time

SOURCE = "cln"

_STATUSES = {"unpaid": "pending", "paid": "paid", "expired": "expired"}
_SHAPE = frozenset({"label", "payment_hash", "status", "expires_at"})


def looks_like(obj: Any) -> bool:
    """``{"invoices": [...]}`` and nothing else at the top, or a list of Core Lightning invoices."""
    if isinstance(obj, dict):
        return set(obj) == {"invoices"} and items_have(obj, "invoices", _SHAPE, empty_ok=True)
    return isinstance(obj, list) and items_have(obj, "invoices", _SHAPE, empty_ok=False)


def read(obj: Any) -> list[dict[str, Any]]:
    """One row of the common columns (see ``lnnotebook.nodes``) per invoice, in the export's order."""
    return [_row(invoice, position) for position, invoice in enumerate(records(obj, SOURCE, "invoices"))]


def _row(invoice: dict[str, Any], position: int) -> dict[str, Any]:
    label = invoice.get("label")
    where = Where(SOURCE, position, None if label is None else f"label {label!r}")
    status = invoice.get("status")
    if status not in _STATUSES:
        raise where.error("status", f"should be one of unpaid, paid, expired, not {status!r}")
    bolt11 = text(invoice.get("bolt11"), where, "bolt11")
    bolt12 = text(invoice.get("bolt12"), where, "bolt12")
    paid = status == "paid"
    return {
        "label": None if label is None else str(label),  # labels may be numbers in older releases
        "kind": "bolt12" if bolt12 is not None and bolt11 is None else "bolt11",
        "status": _STATUSES[status],
        "node_status": status,
        "amount_msat": _amount(invoice, where, "amount_msat", "msatoshi"),
        "amount_received_msat": _amount(invoice, where, "amount_received_msat", "msatoshi_received")
        if paid
        else None,
        "fee_msat": None,
        "created_at": None,
        "paid_at": unix_time(invoice.get("paid_at"), where, "paid_at") if paid else None,
        "expires_at": unix_time(invoice.get("expires_at"), where, "expires_at"),
        "payment_hash": hash_hex(invoice.get("payment_hash"), where, "payment_hash"),
        "bolt11": bolt11,
        "bolt12": bolt12,
        "memo": text(invoice.get("description"), where, "description"),
    }


def _amount(invoice: dict[str, Any], where: Where, field: str, old_field: str) -> int | None:
    value = msat(invoice.get(field), where, field)
    return msat(invoice.get(old_field), where, old_field) if value is None else value
