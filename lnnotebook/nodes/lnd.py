"""lnd's invoices: ``lncli listinvoices`` or the REST answer of ``GET /v1/invoices``.

Both print lnrpc's ``ListInvoiceResponse`` as protobuf JSON with the proto field names and every field,
set or not: int64/uint64 as strings (``"value_msat": "250000"``), enums by name (``"state": "SETTLED"``),
unset strings as ``""`` and unset numbers as ``"0"``. Bytes differ: ``lncli`` prints them as hex, REST as
base64, so ``r_hash`` is read either way.

What the fields mean here:

* ``state``: OPEN (unpaid), SETTLED (paid), CANCELED (cancelled by hand, or by lnd once the invoice
  expired: lnd does not say which), ACCEPTED (a hold invoice whose HTLCs are held, not yet settled:
  pending). Very old lnd printed only ``settled``.
* Keysend and AMP payments that arrived without an invoice create one in lnd with no
  ``payment_request`` (``is_keysend`` / ``is_amp``); their ``value_msat`` is what was sent. An AMP
  invoice can be paid several times and stays OPEN: ``amt_paid_msat`` adds up the settled sets and
  ``amp_invoice_state`` has each set's ``settle_time``.
* ``amt_paid_msat`` is set once settled; ``settle_date`` and ``creation_date`` are unix seconds and
  ``expiry`` seconds after creation (0: none).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lnnotebook.nodes._fields import (
    Where,
    flag,
    hash_hex,
    integer,
    items_have,
    records,
    text,
    unix_time,
)

SOURCE = "lnd"

# ACCEPTED is "held": pending, but not expired by its invoice expiry (lnd can still settle it).
_STATES = {"OPEN": "pending", "SETTLED": "paid", "CANCELED": "canceled", "ACCEPTED": "held"}
_STATE_NUMBERS = {0: "OPEN", 1: "SETTLED", 2: "CANCELED", 3: "ACCEPTED"}  # a gRPC dump without enum names
_AMP_SETTLED = ("SETTLED", 1)
# Fields every lnd since 0.5 prints for an invoice; one that Core Lightning or LNbits never prints.
_SHAPE = frozenset({"r_hash", "creation_date", "add_index"})


def looks_like(obj: Any) -> bool:
    """A ``ListInvoiceResponse`` (``invoices`` and the index offsets) or a list of lnd invoices."""
    if isinstance(obj, dict) and "invoices" in obj and "last_index_offset" in obj:
        return items_have(obj, "invoices", _SHAPE, empty_ok=True)
    return isinstance(obj, list) and items_have(obj, "invoices", _SHAPE, empty_ok=False)


def read(obj: Any) -> list[dict[str, Any]]:
    """One row of the common columns (see ``lnnotebook.nodes``) per invoice, in the export's order."""
    return [_row(invoice, position) for position, invoice in enumerate(records(obj, SOURCE, "invoices"))]


def _row(invoice: dict[str, Any], position: int) -> dict[str, Any]:
    add_index = invoice.get("add_index")
    where = Where(SOURCE, position, None if add_index is None else f"add_index {add_index!r}")
    state = _state(invoice, where)
    keysend = flag(invoice.get("is_keysend"), where, "is_keysend")
    amp = flag(invoice.get("is_amp"), where, "is_amp")
    created = unix_time(invoice.get("creation_date"), where, "creation_date")
    expiry = integer(invoice.get("expiry"), where, "expiry")
    value_msat = integer(invoice.get("value_msat"), where, "value_msat")
    if not value_msat:  # "0": amountless, or an lnd from before value_msat printed only value (sat)
        value_sat = integer(invoice.get("value"), where, "value")
        value_msat = value_sat * 1000 if value_sat else None
    paid_msat = integer(invoice.get("amt_paid_msat"), where, "amt_paid_msat")
    if not paid_msat:
        paid_sat = integer(invoice.get("amt_paid_sat"), where, "amt_paid_sat")
        paid_msat = paid_sat * 1000 if paid_sat else None
    paid_at = unix_time(invoice.get("settle_date"), where, "settle_date")
    status = _STATES[state]
    if amp and state == "OPEN" and paid_msat:
        status = "paid"  # AMP invoices stay OPEN to be paid again; a settled set is a payment
        paid_at = paid_at or _last_amp_settlement(invoice.get("amp_invoice_state"), where)
    return {
        "label": None if add_index is None else str(integer(add_index, where, "add_index")),
        "kind": "keysend" if keysend else "amp" if amp else "bolt11",
        "status": status,
        "node_status": state,
        "amount_msat": value_msat,
        "amount_received_msat": paid_msat if status == "paid" else None,
        "fee_msat": None,
        "created_at": created,
        "paid_at": paid_at if status == "paid" else None,
        "expires_at": created + pd.Timedelta(seconds=expiry) if created is not None and expiry else None,
        "payment_hash": hash_hex(invoice.get("r_hash"), where, "r_hash"),
        "bolt11": text(invoice.get("payment_request"), where, "payment_request"),
        "bolt12": None,
        "memo": text(invoice.get("memo"), where, "memo"),
    }


def _state(invoice: dict[str, Any], where: Where) -> str:
    state = invoice.get("state")
    if state is None:  # lnd before 0.5 had only the boolean
        return "SETTLED" if flag(invoice.get("settled"), where, "settled") else "OPEN"
    if isinstance(state, int) and not isinstance(state, bool):
        state = _STATE_NUMBERS.get(state, state)
    if state not in _STATES:
        raise where.error("state", f"should be one of OPEN, SETTLED, CANCELED, ACCEPTED, not {state!r}")
    return state


def _last_amp_settlement(sets: Any, where: Where) -> Any:
    if not isinstance(sets, dict):
        return None
    times = [
        unix_time(entry.get("settle_time"), where, "amp_invoice_state.settle_time")
        for entry in sets.values()
        if isinstance(entry, dict) and entry.get("state") in _AMP_SETTLED
    ]
    settled = [time for time in times if time is not None]
    return max(settled) if settled else None
