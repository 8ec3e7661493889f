"""barkd (Second's Ark wallet daemon) REST client.

Options: ``url`` (default ``http://127.0.0.1:3000``, barkd's default bind; ``LNNOTEBOOK_BARKD_URL``) and
``token`` (``LNNOTEBOOK_BARKD_TOKEN``; ``barkd secret show`` prints it).

Choices where the docs and barkd's code disagree (this folder's NOTES.md), following the code:

* Auth is ``Authorization: Bearer <token>`` only (``bark-rest/src/auth.rs``), not the CHANGELOG's
  ``auth-token`` header or ``AuthToken`` scheme.
* Error bodies are ``{"message": ...}`` (``bark-rest/src/error.rs``), not ``{"error": ...}``; axum's
  plain-text rejections (400/415/422) are reported verbatim.
* An unknown payment hash on ``GET /api/v1/lightning/receives/{id}`` is a 500 whose message says "no
  pending lightning receive found"; it is raised as ``NotFoundError``, not ``ProviderUnavailableError``.
  Because barkd answers such deterministic failures with 500, 500 is not retried for barkd.
* The create request has no expiry field: ``expiry`` must be None (the invoice carries the BOLT11 default).
* barkd has no ``expired`` state (``awaiting-payment`` stays until settled or cancelled), so ``expired``
  is derived from the invoice's own expiry; ``htlcs-ready``/``preimage-revealed``/``delivering`` are
  ``pending`` (money in flight, not yet ours).
* ``fee_sat`` comes from ``GET /api/v1/fees/lightning/receive`` after the invoice is created; if that
  call fails the invoice is still returned, with ``fee_sat=None`` and a ``note``.
* ``provider_id`` is the payment hash (barkd's receive identifier).
* barkd's create takes no client reference. A create whose answer is lost is looked up in ``GET
  /api/v1/lightning/receives`` (pending receives, oldest first), matching the amount, the description
  and an invoice timestamp within the attempt's time window; invoices the ledger already holds are
  skipped, so equal lost attempts each get their own receive. Without a reference this is a heuristic:
  a receive with the same amount and description made in the same seconds by someone else (another
  ledger) is indistinguishable from ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests

from lnnotebook.bolt11 import InvoiceError, decode
from lnnotebook.options import Option
from lnnotebook.providers.barkd.wire import (
    AUTH_HEADER,
    AUTH_SCHEME,
    AWAITING_PAYMENT,
    CREATE_PATH,
    FEE_PATH,
    LIST_PATH,
    NAME,
    PENDING_STATES,
    SETTLED,
    STATUS_PATH,
    UNKNOWN_RECEIVE_MARKER,
)
from lnnotebook.providers.base import LOOKUP_SLACK_S, CreatedInvoice, Provider, now_utc
from lnnotebook.providers.errors import NotFoundError, ProviderError, UnexpectedResponseError


class BarkdProvider(Provider):
    name = NAME
    default_url = "http://127.0.0.1:3000"
    options = (Option("token", str, required=True, secret=True, help="barkd auth token"),)
    create_arguments = frozenset({"receive_token"})
    supports_expiry = False
    retry_statuses = frozenset({429, 502, 503, 504})

    def _authenticate(self, session: requests.Session) -> None:
        session.headers[AUTH_HEADER] = f"{AUTH_SCHEME} {self.config['token']}"

    def _error_class(self, status: int, message: str, action: str) -> type[ProviderError]:
        if status == 500 and UNKNOWN_RECEIVE_MARKER in message:
            return NotFoundError
        return super()._error_class(status, message, action)

    def _create(
        self, amount_sat: int, memo: str | None, expiry: int | None, **provider_specific: Any
    ) -> CreatedInvoice:
        action = "create invoice"
        payload: dict[str, Any] = {"amount_sat": amount_sat, "description": memo}
        if provider_specific.get("receive_token") is not None:
            payload["token"] = provider_specific["receive_token"]  # barkd's "lightning receive token"
        _, body = self._request("POST", CREATE_PATH, action=action, json_body=payload)
        bolt11 = self._field(body, "invoice", str, action)
        decoded = self._decode_returned(
            bolt11, action, "invoice", amount_sat=amount_sat, memo=memo, expiry=None, raw=body
        )
        note = None
        try:
            fee_sat = self.receive_fee(amount_sat)
        except ProviderError as exc:
            fee_sat, note = None, f"fee estimate unavailable: {exc}"
        return self._record(
            provider_id=decoded.payment_hash,
            bolt11=bolt11,
            amount_sat=amount_sat,
            memo=memo,
            expiry=decoded.expiry,
            fee_sat=fee_sat,
            status="pending",
            created_at=decoded.created_at or now_utc(),
            raw=body,
            note=note,
        )

    def _lookup(self, match: Mapping[str, Any]) -> list[CreatedInvoice]:
        action = "look up a lost invoice"
        _, body = self._request("GET", LIST_PATH, action=action)
        if not isinstance(body, list):
            raise UnexpectedResponseError(
                f"{action}: the receive list is not a JSON array", provider=self.name
            )
        # barkd is the user's own wallet daemon, on the user's clock: its invoice is signed after the
        # request arrived, in the same second or later (timestamps are whole seconds).
        earliest = int(datetime.fromisoformat(match["sent_at"]).timestamp())
        latest = datetime.fromisoformat(match["settle_after"]).timestamp() + LOOKUP_SLACK_S
        found = []
        for receive in body:
            bolt11 = receive.get("invoice") if isinstance(receive, Mapping) else None
            if not isinstance(bolt11, str):
                continue
            try:
                decoded = decode(bolt11)
            except InvoiceError:
                continue
            fits = (
                decoded.amount_msat == match["amount_sat"] * 1000
                and (decoded.description or "") == (match["memo"] or "")
                and earliest <= decoded.timestamp <= latest
            )
            if fits:
                found.append(
                    self._record(
                        provider_id=decoded.payment_hash,
                        bolt11=bolt11,
                        amount_sat=match["amount_sat"],
                        memo=match["memo"],
                        expiry=decoded.expiry,
                        fee_sat=None,
                        status="pending",
                        created_at=decoded.created_at or now_utc(),
                        raw=receive,
                    )
                )
        return found

    def _status(self, provider_id: str) -> str:
        action = "invoice status"
        _, body = self._request("GET", STATUS_PATH.format(identifier=provider_id), action=action)
        state = self._field(body, "state", str, action)
        if state == SETTLED:
            return "paid"
        if state not in PENDING_STATES:
            raise UnexpectedResponseError(
                f"{action}: unknown receive state {state!r}", provider=self.name, field="state"
            )
        if state == AWAITING_PAYMENT:
            invoice = self._field(body, "invoice", str, action)
            try:
                if decode(invoice).is_expired:
                    return "expired"
            except InvoiceError:
                pass  # an undecodable invoice cannot tell us its expiry; the state says pending
        return "pending"

    def receive_fee(self, amount_sat: int) -> int | None:
        """barkd's estimate of the Ark server's fee for receiving ``amount_sat`` over Lightning."""
        self._ensure_open()
        amount = self._check_amount(amount_sat)
        action = "receive fee estimate"
        _, body = self._request("GET", FEE_PATH, action=action, params={"amount_sat": amount})
        return self._field(body, "fee_sat", int, action)
