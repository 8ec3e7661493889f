"""barkd REST API emulator (bark 0.6.0 routes the client uses), signet invoices (``lntbs``).

Contract: ``barkd-create-invoice.md`` (its OpenAPI document is ``openapi.yaml``) and ``NOTES.md``, both in
this folder. Where they disagree the code wins:

* Auth: only ``Authorization: Bearer <token>`` (``bark-rest/src/auth.rs``); the CHANGELOG's ``auth-token``
  header and ``AuthToken`` scheme are not accepted. Token: base64url, no padding, of ``0x00`` + 32 bytes
  (44 characters), surrounding whitespace trimmed. 401 ``{"message": "missing auth token"}`` /
  ``{"message": "invalid auth token"}``; more than one Authorization header is rejected as invalid.
* Error bodies are ``{"message": ...}`` (``bark-rest/src/error.rs``), not the mintlify page's
  ``{"error": ...}``.
* An unknown payment hash on the status endpoint is a **500** with ``"Failed to get lightning receive
  status: no pending lightning receive found for this payment hash"`` (plain errors map to 500), not 404.
* JSON body rejections are axum's defaults (plain text): 415 without a JSON content type, 400 for a syntax
  error, 422 for a type error such as a negative or missing ``amount_sat``.
* A zero amount fails inside the wallet ("zero-amount invoices are not supported"), a plain error: 500.

Not documented, chosen here: invoices carry no ``x`` field (BOLT11 default expiry 3600 s; the create request
has no expiry field) and no ``c`` field (default 18). The receive fee comes from the sandbox's fee schedule.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from lnnotebook.bolt11 import decode
from lnnotebook.emulation.emulator import Emulator
from lnnotebook.emulation.state import FeeSchedule, MintedInvoice, now_iso
from lnnotebook.emulation.web import Request, Response, is_json, json_body, reply, route
from lnnotebook.providers.barkd.wire import (
    AUTH_HEADER,
    AUTH_SCHEME,
    AWAITING_PAYMENT,
    CREATE_PATH,
    FEE_PATH,
    INVALID_AMOUNT,
    INVALID_IDENTIFIER,
    INVALID_TOKEN,
    LIST_PATH,
    MISSING_TOKEN,
    NAME,
    PING_PATH,
    SETTLED,
    STATUS_PATH,
    UNKNOWN_RECEIVE,
    ZERO_AMOUNT,
)

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_TEXT = "text/plain; charset=utf-8"


@dataclass
class Receive(MintedInvoice):
    """A lightning receive as barkd tracks it."""

    receive_state: str = AWAITING_PAYMENT
    htlc_vtxo_ids: list[str] = field(default_factory=list)


class BarkdEmulator(Emulator[Receive]):
    name = NAME
    network = "tbs"
    write_expiry = False
    default_expiry = 3600
    default_fees = FeeSchedule(base_msat=0, proportional_millionths=1000)
    server_header = NAME
    block_height = 270_000  # signet
    invoice_class = Receive
    routes = (
        route("GET", PING_PATH, "ping", auth=False),
        route("POST", CREATE_PATH, "create_invoice"),
        route("GET", LIST_PATH, "list_receives"),
        route("GET", STATUS_PATH, "receive_status"),
        route("GET", FEE_PATH, "receive_fee"),
    )

    def __init__(self, **common: Any) -> None:
        super().__init__(**common)
        secret = hashlib.sha256(f"{self.seed}:{NAME}:auth".encode()).digest()
        self.token = base64.urlsafe_b64encode(b"\x00" + secret).decode().rstrip("=")

    def credentials(self) -> dict[str, str]:
        return {"token": self.token}

    def authenticate(self, request: Request) -> Response | None:
        headers = request.headers.getlist(AUTH_HEADER)
        if len(headers) > 1:
            return self.error(401, INVALID_TOKEN)
        prefix = AUTH_SCHEME + " "
        bearer = [h[len(prefix) :] for h in headers if h.startswith(prefix)]  # case-sensitive prefix
        if not bearer:
            return self.error(401, MISSING_TOKEN)
        if not self.same_secret(bearer[0].strip(), self.token):
            return self.error(401, INVALID_TOKEN)
        return None

    def fault_reply(self, fault: str) -> Response:
        if fault == "401":
            return self.error(401, INVALID_TOKEN)
        return super().fault_reply(fault)

    def not_found(self, request: Request) -> Response:
        return reply(404, b"", content_type="text/plain")  # axum's fallback: empty 404

    # --- routes --------------------------------------------------------------------------------

    def ping(self, request: Request) -> Response:
        return reply(200, "pong", content_type=_TEXT)

    def create_invoice(self, request: Request) -> Response:
        body, problem = self._axum_json(request)
        if problem is not None:
            return problem
        amount = body.get("amount_sat")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            return self._rejection(
                422, f"description: invalid type: {type(description).__name__}, expected a string"
            )
        if body.get("token") is not None and not isinstance(body["token"], str):
            return self._rejection(422, "token: invalid type, expected a string")
        if amount == 0:
            return self.error(500, ZERO_AMOUNT)
        invoice = self.mint(amount_sat=amount, description=description or "")
        return reply(200, {"invoice": invoice.bolt11})

    def list_receives(self, request: Request) -> Response:
        with self.lock:
            pending = [inv for inv in self.invoices.values() if inv.paid_at is None]
        pending.sort(key=lambda inv: inv.created_at)
        return reply(200, [self._receive_info(inv) for inv in pending])

    def receive_status(self, request: Request, identifier: str) -> Response:
        invoice: MintedInvoice | None
        if _HEX64.match(identifier):
            key = identifier.lower()
            invoice = self.by_hash.get(key) or self.by_hash.get(
                hashlib.sha256(bytes.fromhex(key)).hexdigest()
            )
        elif identifier.lower().startswith("ln"):
            try:
                payment_hash = decode(identifier).payment_hash
            except ValueError:
                return self.error(400, INVALID_IDENTIFIER)
            invoice = self.by_hash.get(payment_hash)
        else:
            return self.error(400, INVALID_IDENTIFIER)
        if invoice is None:
            return self.error(500, UNKNOWN_RECEIVE)
        return reply(200, self._receive_info(invoice))

    def receive_fee(self, request: Request) -> Response:
        text = request.args.get("amount_sat")
        if text is None or not text.isdigit() or int(text) >= 2**63:
            return self.error(400, INVALID_AMOUNT)
        amount = int(text)
        fee_sat = -(-self.fees.fee_msat(amount * 1000) // 1000)  # the server charges whole sats, rounded up
        return reply(
            200,
            {
                "gross_amount_sat": amount,
                "fee_sat": fee_sat,
                "net_amount_sat": max(0, amount - fee_sat),
                "vtxos_spent": [],
            },
        )

    # --- helpers -------------------------------------------------------------------------------

    def on_paid(self, invoice: MintedInvoice) -> None:
        assert isinstance(invoice, Receive)
        invoice.receive_state = SETTLED
        invoice.htlc_vtxo_ids = [f"{os.urandom(32).hex()}:0"]

    def _receive_info(self, invoice: Receive) -> dict[str, Any]:
        settled = invoice.paid_at is not None
        settled_at = now_iso(invoice.paid_at) if settled else None
        return {
            "payment_hash": invoice.payment_hash,
            "state": invoice.receive_state,
            "invoice": invoice.bolt11,
            "amount_sat": invoice.amount_sat or 0,
            "htlc_vtxo_ids": list(invoice.htlc_vtxo_ids),
            "payment_preimage": invoice.preimage if settled else None,
            "settled_at": settled_at,
            "htlc_vtxos": [],
            "preimage_revealed_at": None,  # deprecated, always null since 0.4
            "finished_at": settled_at,  # deprecated alias of settled_at
        }

    def _axum_json(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        """axum's ``Json`` extractor: 415 without a JSON type, 400 on a syntax error, 422 on a type error."""
        if not is_json(request):
            return {}, self._rejection(
                415, "Expected request with `Content-Type: application/json`", raw=True
            )
        body, problem = json_body(request)
        if problem is not None:
            return {}, self._rejection(400, f"Failed to parse the request body as JSON: {problem}", raw=True)
        if not isinstance(body, dict):
            return {}, self._rejection(422, "invalid type: expected struct LightningInvoiceRequest")
        if "amount_sat" not in body:
            return {}, self._rejection(422, "missing field `amount_sat`")
        amount = body["amount_sat"]
        if not self.is_int(amount) or not 0 <= amount < 2**63:
            return {}, self._rejection(422, f"amount_sat: invalid value: {json.dumps(amount)}, expected u64")
        return body, None

    @staticmethod
    def _rejection(status: int, detail: str, *, raw: bool = False) -> Response:
        text = detail if raw else f"Failed to deserialize the JSON body into the target type: {detail}"
        return reply(status, text, content_type=_TEXT)
