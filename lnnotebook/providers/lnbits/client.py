"""LNbits wallet API client (``POST /api/v1/payments``, ``GET /api/v1/payments/{payment_hash}``).

Options: ``url`` (the LNbits server, no default: LNbits is self-hosted) and ``api_key`` (a wallet's
invoice key, or its admin key; the invoice key is enough and is the safer one to hand out) --
``LNNOTEBOOK_LNBITS_URL``, ``LNNOTEBOOK_LNBITS_API_KEY``. The key is sent as ``X-Api-Key``.

Tested against a real LNbits 1.6.2 (FakeWallet funding source; ``tests/test_providers_lnbits.py``).
Choices where the docs (this folder's NOTES.md, the OpenAPI descriptions) and LNbits' code disagree or are
silent, following what the server does:

* ``"out": false`` is always sent: ``CreateInvoice.out`` defaults to **true** (pay), and without it an
  invoice key gets 403 and an admin key 400 "Missing BOLT11 invoice". ``"unit": "sat"`` is sent too, so
  a server whose default unit changed cannot turn the amount into fiat.
* Success is **201**. The amount in the response is in **msat**; the client checks it, and the signed
  invoice's amount and payment hash, against the request (a mismatch is an ``UnexpectedResponseError``).
* The BOLT11 string is ``bolt11``; ``payment_request`` (the pre-1.0 response's only field for it, and in
  1.x the same string unless the invoice is fiat) is the fallback.
* Amount 0: the model says ``ge=0`` but the server refuses it with **520** "Amountless invoices not
  supported.", so the client refuses amounts below 1 sat before sending. The server's maximum
  (``lnbits_max_incoming_payment_amount_sats``, default 10,000,000) is a server setting, so it is left to
  the server (520, raised as ``InvalidRequestError``).
* Memo: the model allows 640 **characters**, but 640 ASCII characters already fail inside LNbits'
  BOLT11 encoder (400 "32 is too large an unsigned integer..."), and the limit of what encodes is 639
  UTF-8 **bytes**. The client's shared check (at most 639 UTF-8 bytes) matches what the server can do. An
  empty memo makes LNbits use its site title; ``note`` says when the invoice's memo differs from the one
  asked for.
* Errors: ``detail`` is a string, or a list of pydantic errors for validation failures (reported as
  ``field: message``); rate limiting answers ``{"error": ...}``. Request validation errors are **400**
  (not FastAPI's usual 422). An unknown key is **404** "Wallet not found." and is raised as
  ``AuthenticationError`` (like 401 "No Api Key provided." and 403); any other 404 (an unknown payment
  hash: "Payment does not exist.") is ``NotFoundError``. **520** (InvoiceError/PaymentError) is
  ``InvalidRequestError``, not a server failure; other 5xx are ``ProviderUnavailableError``.
* Status. ``GET /api/v1/payments/{hash}`` (the docs say the key is optional; in 1.6.2 what comes back
  depends on it). A valid key looks the hash up **within its own wallet** (another wallet's invoice is
  404, ``NotFoundError``) and gets ``details`` (plus, unless paid, a top-level ``status``). No key or an
  **unknown** key is not refused: it gets the public shape (``paid``, ``preimage``, ``status`` only once
  failed) of any wallet's payment. Mapping:

  - ``paid: true`` -> ``paid`` (a paid response has no top-level ``status``);
  - ``status`` (top-level, else ``details.status``) ``failed`` -> ``expired`` when ``details`` show the
    invoice's expiry has passed or carry LNbits' ``expired`` label (LNbits marks an expired invoice
    failed the first time it is checked), otherwise ``failed``;
  - otherwise ``pending``, or ``expired`` when ``details`` show the expiry has passed.

  When ``details`` are missing the client checks the key with ``GET /api/v1/wallet``: an unknown key
  raises ``AuthenticationError`` (so a wrong key fails here as it does on create). A valid key without
  ``details`` (a wallet shared with this one, which sees the source wallet's payments) gets the public
  answer, which cannot tell expired from failed, and reads ``pending`` on the check that marks it failed.
* ``fee_sat`` is the created payment's ``fee`` (msat, rounded up to whole sats): 0 for most funding
  sources, the backend's receive fee for those that report one (e.g. Breez Liquid). LNbits has no
  receive-fee estimate endpoint (its service fee applies to outgoing payments), so ``receive_fee``
  returns None.
* ``raw`` is the ``Payment`` object without its ``preimage``: 1.6.2 returns the preimage of the still
  unpaid invoice in the create response.
* ``description_hash=`` (bytes, hex or base64; 32 bytes) is sent as **hex**, as LNbits' model expects.
  LNbits then drops the memo, so the client does not send it and ``note`` says so.
* ``provider_id`` is the payment hash.

A create is never retried after the request was sent (LNbits has no idempotency key). Instead it carries
the client reference in ``extra`` (``{"lnnotebook_reference": ...}``; LNbits stores ``extra`` and returns it
with the payment), and a create whose answer is lost is looked up in ``GET /api/v1/payments`` (the wallet's
payments, filtered by ``amount`` in msat, newest first) by that reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from lnnotebook.options import Option
from lnnotebook.providers.base import (
    CreatedInvoice,
    Provider,
    hex_or_bytes_to_hex,
    now_utc,
    parse_time,
)
from lnnotebook.providers.errors import (
    AuthenticationError,
    InvalidRequestError,
    ProviderError,
    SuspectInvoiceError,
    UnexpectedResponseError,
)
from lnnotebook.providers.lnbits.wire import (
    API_KEY_HEADER,
    CREATED_STATES,
    CREATED_STATUS,
    EXPIRED_LABEL,
    LNBITS_ERROR_STATUS,
    NAME,
    PAYMENTS_PATH,
    REFERENCE_FIELD,
    STATUS_PATH,
    UNKNOWN_KEY_MESSAGE,
    WALLET_PATH,
)


class LnbitsProvider(Provider):
    name = NAME
    options = (Option("api_key", str, required=True, secret=True, help="wallet invoice key (or admin key)"),)
    create_arguments = frozenset({"description_hash"})

    def _authenticate(self, session: requests.Session) -> None:
        session.headers[API_KEY_HEADER] = self.config["api_key"]

    def _error_message(self, body: Any, text: str) -> str:
        if isinstance(body, Mapping) and isinstance(body.get("detail"), list):
            return "; ".join(_validation_problem(item) for item in body["detail"]) or text.strip()[:300]
        return super()._error_message(body, text)

    def _error_class(self, status: int, message: str, action: str) -> type[ProviderError]:
        if status == 404 and message.startswith(UNKNOWN_KEY_MESSAGE):
            return AuthenticationError
        if status == LNBITS_ERROR_STATUS:
            return InvalidRequestError
        return super()._error_class(status, message, action)

    def _create(
        self, amount_sat: int, memo: str | None, expiry: int | None, **provider_specific: Any
    ) -> CreatedInvoice:
        action = "create invoice"
        payload: dict[str, Any] = {"out": False, "amount": amount_sat, "unit": "sat"}
        if provider_specific.get("description_hash") is not None:
            payload["description_hash"] = hex_or_bytes_to_hex(
                provider_specific["description_hash"], length=32, provider=self.name, field="description_hash"
            )
        elif memo is not None:
            payload["memo"] = memo  # LNbits drops the memo when a description hash is given
        if expiry is not None:
            payload["expiry"] = expiry
        reference = self.reference()
        if reference is not None:
            payload["extra"] = {REFERENCE_FIELD: reference}  # found again by it if the answer is lost
        _, body = self._request("POST", PAYMENTS_PATH, action=action, json_body=payload, ok=(CREATED_STATUS,))
        return self._payment(body, action, amount_sat, memo, expiry, "description_hash" in payload)

    def _payment(
        self, body: Any, action: str, amount_sat: int, memo: str | None, expiry: int | None, hashed: bool
    ) -> CreatedInvoice:
        """The record of a created ``Payment`` object (a create's answer, or one found in the list)."""
        bolt11 = self._field(body, "bolt11", str, action, optional=True) or self._field(
            body, "payment_request", str, action
        )
        payment_hash = self._field(body, "payment_hash", str, action)
        known = {"provider_id": payment_hash, "amount_sat": amount_sat, "memo": memo, "raw": body}
        decoded = self._decode_returned(bolt11, action, "bolt11", expiry=expiry, **known)
        notes: list[str] = []
        fee_msat = self._side_int(body, "fee", notes)
        state = body.get("status")
        if state is not None and state not in CREATED_STATES:
            notes.append(f"field 'status' {str(state)[:40]!r} is not an LNbits status; read as pending")
        record = {
            **known,
            "bolt11": bolt11,
            "expiry": decoded.expiry,
            "fee_sat": None if fee_msat is None else -(-abs(fee_msat) // 1000),
            "status": CREATED_STATES.get(state, "pending") if isinstance(state, str) else "pending",
            "created_at": parse_time(body.get("time")) or decoded.created_at or now_utc(),
        }
        amount_msat = self._side_int(body, "amount", notes)
        for field, what, value, expected in (
            ("amount", "response amount (msat)", amount_msat, amount_sat * 1000),
            ("bolt11", "invoice amount (msat)", decoded.amount_msat, amount_sat * 1000),
            ("payment_hash", "invoice payment hash", decoded.payment_hash, payment_hash),
        ):
            if value is not None and value != expected:
                raise self._suspect(
                    f"{action}: {what} is {value!r}, expected {expected!r}", field=field, **record
                )
        note = "; ".join(filter(None, [_differences(memo, expiry, decoded, hashed), *notes])) or None
        return self._record(note=note, **record)

    def _lookup(self, match: Mapping[str, Any]) -> list[CreatedInvoice]:
        action = "look up a lost invoice"
        params = {"amount": match["amount_sat"] * 1000, "sortby": "time", "direction": "desc", "limit": 500}
        _, body = self._request("GET", PAYMENTS_PATH, action=action, params=params)
        if not isinstance(body, list):
            raise UnexpectedResponseError(
                f"{action}: the payment list is not a JSON array", provider=self.name
            )
        hashed = match.get("arguments", {}).get("description_hash") is not None
        found = []
        for payment in body:
            extra = payment.get("extra") if isinstance(payment, Mapping) else None
            if isinstance(extra, Mapping) and extra.get(REFERENCE_FIELD) == match["reference"]:
                try:
                    found.append(
                        self._payment(
                            payment, action, match["amount_sat"], match["memo"], match["expiry"], hashed
                        )
                    )
                except SuspectInvoiceError as error:
                    found.append(error.invoice)
        return found

    def _status(self, provider_id: str) -> str:
        action = "invoice status"
        _, body = self._request("GET", STATUS_PATH.format(payment_hash=provider_id), action=action)
        paid = body.get("paid") if isinstance(body, Mapping) else None
        if not isinstance(paid, bool):
            raise UnexpectedResponseError(
                f"{action}: response field 'paid' is missing or not a boolean",
                provider=self.name,
                field="paid",
            )
        details = body.get("details")
        details = details if isinstance(details, Mapping) else None
        if details is None:
            # The public shape: the key is unknown (LNbits does not say so on this endpoint) or it is a
            # shared wallet's key. Only the first is an error.
            self._request("GET", WALLET_PATH, action=f"{action} (checking the api_key)")
        if paid:
            return "paid"
        state = body.get("status") or (details or {}).get("status")
        if state == "success":
            return "paid"
        if state not in (None, "pending", "failed"):
            raise UnexpectedResponseError(
                f"{action}: unknown payment status {state!r}", provider=self.name, field="status"
            )
        if _expired(details):
            return "expired"
        return "failed" if state == "failed" else "pending"

    def receive_fee(self, amount_sat: int) -> int | None:
        """None: LNbits has no receive-fee estimate (a backend's fee shows in ``fee_sat`` once created)."""
        return super().receive_fee(amount_sat)


def _validation_problem(item: Any) -> str:
    if not isinstance(item, Mapping):
        return str(item)
    location = item.get("loc")
    where = ".".join(str(part) for part in location if part != "body") if isinstance(location, list) else ""
    message = str(item.get("msg", item))
    return f"{where}: {message}" if where else message


def _expired(details: Mapping[str, Any] | None) -> bool:
    if details is None:
        return False
    labels = details.get("labels")
    if isinstance(labels, list) and EXPIRED_LABEL in labels:
        return True
    expires_at = parse_time(details.get("expiry"))
    return expires_at is not None and expires_at <= now_utc()


def _differences(memo: str | None, expiry: int | None, decoded: Any, hashed: bool) -> str | None:
    """What the signed invoice says differently from what was asked, for ``CreatedInvoice.note``."""
    notes = []
    if memo is not None and hashed:
        notes.append("memo not sent: the invoice commits to description_hash instead")
    elif memo is not None and decoded.description != memo:
        notes.append(f"LNbits set the description to {decoded.description!r}")
    if expiry is not None and decoded.expiry != expiry:
        notes.append(f"LNbits set the expiry to {decoded.expiry} s")
    return "; ".join(notes) or None


__all__ = ["LnbitsProvider"]
