"""LNbits' payments of a wallet: the answer of ``GET /api/v1/payments`` (or ``/api/v1/payments/paginated``).

A list of payments, incoming (``amount`` > 0: the wallet's invoices) and outgoing (``amount`` < 0: what
it paid, which is not an invoice of this wallet and is left out). Amounts and fees are in msat. LNbits 1.x
prints ``status`` (``pending``, ``success``, ``failed``) and ISO 8601 times (``time``, ``created_at``,
``updated_at``, ``expiry``, some without an offset: UTC); LNbits before 1.0 printed ``pending``
(true/false) and unix seconds instead. Both are read.

``paid_at`` is ``updated_at`` of a successful payment (LNbits keeps no separate settlement time; the
last update of a paid invoice is its settlement); an old-style export has none. A ``failed`` incoming
payment is an invoice the funding source gave up on: ``expired`` when that happened at or after its
expiry, ``canceled`` before.
"""

from __future__ import annotations

from typing import Any

from lnnotebook.nodes._fields import (
    InvoiceExportError,
    Where,
    any_time,
    hash_hex,
    integer,
    records,
    text,
)

SOURCE = "lnbits"

_STATUSES = {"pending": "pending", "success": "paid", "failed": "failed"}
_SHAPE = frozenset({"checking_id", "payment_hash", "amount", "bolt11"})


def looks_like(obj: Any) -> bool:
    """A list of LNbits payments, or the paginated answer ``{"data": [...], "total": n}``."""
    if isinstance(obj, dict):
        if set(obj) != {"data", "total"} or not isinstance(obj["data"], list):
            return False
        obj = obj["data"]
        if not obj:
            return True
    if not isinstance(obj, list) or not obj:
        return False
    return all(isinstance(item, dict) and item.keys() >= _SHAPE and "wallet_id" in item for item in obj)


def read(obj: Any) -> list[dict[str, Any]]:
    """A row of the common columns (see ``lnnotebook.nodes``) per incoming payment, in the export's order."""
    if isinstance(obj, dict) and "data" in obj:
        obj = obj["data"]
    rows = []
    for position, payment in enumerate(records(obj, SOURCE, "data")):
        where = Where(SOURCE, position, _label(payment))
        amount = integer(payment.get("amount"), where, "amount")
        if amount is None:
            raise where.error("amount", "is missing")
        if amount > 0:
            rows.append(_row(payment, where, amount))
    return rows


def _row(payment: dict[str, Any], where: Where, amount: int) -> dict[str, Any]:
    status, word = _status(payment, where)
    created = any_time(payment.get("created_at", payment.get("time")), where, "created_at")
    updated = any_time(payment.get("updated_at"), where, "updated_at")
    expires = any_time(payment.get("expiry"), where, "expiry")
    if status == "failed":
        status = "expired" if expires is not None and (updated is None or updated >= expires) else "canceled"
    fee = integer(payment.get("fee"), where, "fee")
    paid = status == "paid"
    return {
        "label": text(payment.get("checking_id"), where, "checking_id"),
        "kind": "bolt11",
        "status": status,
        "node_status": word,
        "amount_msat": amount,
        "amount_received_msat": amount if paid else None,
        "fee_msat": None if fee is None else abs(fee),  # LNbits signs fees like the amount they go with
        "created_at": created,
        "paid_at": updated if paid else None,
        "expires_at": expires,
        "payment_hash": hash_hex(payment.get("payment_hash"), where, "payment_hash"),
        "bolt11": text(payment.get("bolt11") or payment.get("payment_request"), where, "bolt11"),
        "bolt12": None,
        "memo": text(payment.get("memo"), where, "memo"),
    }


def _status(payment: dict[str, Any], where: Where) -> tuple[str, str]:
    """The common status and LNbits' own word for it (``status``, or ``pending`` of LNbits < 1.0)."""
    if "status" in payment:
        word = payment["status"]
        if word not in _STATUSES:
            raise where.error("status", f"should be one of pending, success, failed, not {word!r}")
        return _STATUSES[word], word
    pending = payment.get("pending")
    if not isinstance(pending, bool):
        raise InvoiceExportError(
            f"{SOURCE} export, invoice {where.position}: has neither 'status' nor a true/false 'pending'",
            source=SOURCE,
            position=where.position,
            field="status",
        )
    # LNbits < 1.0 deleted incoming payments that failed: one that is not pending was paid.
    return ("pending", "pending=true") if pending else ("paid", "pending=false")


def _label(payment: dict[str, Any]) -> str | None:
    checking_id = payment.get("checking_id")
    return None if checking_id is None else f"checking_id {str(checking_id)[:16]!r}"
