"""barkd REST API emulator (bark 0.6.0 routes the client uses), signet invoices (``lntbs``).

Contract: ``barkd-create-invoice.md`` (OpenAPI) and FACTS.md section 1. Where they disagree the code wins:

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
import os
import re
from typing import Any

from lnnotebook.bolt11 import decode
from lnnotebook.sandbox.emulator import (
    Emulator,
    FeeSchedule,
    MintedInvoice,
    Reply,
    Request,
    now_iso,
    register,
    route,
)

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
UNKNOWN_RECEIVE = (
    "Failed to get lightning receive status: no pending lightning receive found for this payment hash"
)


@register("barkd")
class BarkdEmulator(Emulator):
    network = "tbs"
    write_expiry = False
    default_expiry = 3600
    default_fees = FeeSchedule(base_msat=0, proportional_millionths=1000)
    server_header = "barkd"
    block_height = 270_000  # signet
    routes = (
        route("GET", "/ping", "ping", auth=False),
        route("POST", "/api/v1/lightning/receives/invoice", "create_invoice"),
        route("GET", "/api/v1/lightning/receives", "list_receives"),
        route("GET", "/api/v1/lightning/receives/{identifier}", "receive_status"),
        route("GET", "/api/v1/fees/lightning/receive", "receive_fee"),
    )

    def __init__(self, **common: Any) -> None:
        super().__init__(**common)
        secret = hashlib.sha256(f"{self.seed}:barkd:auth".encode()).digest()
        self.token = base64.urlsafe_b64encode(b"\x00" + secret).decode().rstrip("=")

    def credentials(self) -> dict[str, str]:
        return {"token": self.token}

    def authenticate(self, request: Request) -> Reply | None:
        headers = request.headers.get_all("Authorization") or []
        if len(headers) > 1:
            return self.error(401, "invalid auth token")
        bearer = [h[len("Bearer ") :] for h in headers if h.startswith("Bearer ")]  # case-sensitive prefix
        if not bearer:
            return self.error(401, "missing auth token")
        if not self.same_secret(bearer[0].strip(), self.token):
            return self.error(401, "invalid auth token")
        return None

    def fault_reply(self, fault: str) -> Reply:
        if fault == "401":
            return self.error(401, "invalid auth token")
        return super().fault_reply(fault)

    def not_found(self, request: Request) -> Reply:
        return Reply(404, b"", content_type="text/plain")  # axum's fallback: empty 404

    # --- routes --------------------------------------------------------------------------------

    def ping(self, request: Request) -> Reply:
        return Reply(200, "pong", content_type="text/plain; charset=utf-8")

    def create_invoice(self, request: Request) -> Reply:
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
            return self.error(500, "Failed to create invoice: zero-amount invoices are not supported")
        invoice = self.mint(provider_id=None, amount_sat=amount, description=description or "")
        invoice.extra["state"] = "awaiting-payment"
        return Reply(200, {"invoice": invoice.bolt11})

    def list_receives(self, request: Request) -> Reply:
        with self.lock:
            pending = [inv for inv in self.invoices.values() if inv.paid_at is None]
        pending.sort(key=lambda inv: inv.created_at)
        return Reply(200, [self._receive_info(inv) for inv in pending])

    def receive_status(self, request: Request, identifier: str) -> Reply:
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
                return self.error(400, "identifier is not a valid payment hash, invoice or preimage")
            invoice = self.by_hash.get(payment_hash)
        else:
            return self.error(400, "identifier is not a valid payment hash, invoice or preimage")
        if invoice is None:
            return self.error(500, UNKNOWN_RECEIVE)
        return Reply(200, self._receive_info(invoice))

    def receive_fee(self, request: Request) -> Reply:
        text = request.query_value("amount_sat")
        if text is None or not text.isdigit() or int(text) >= 2**63:
            return self.error(400, "Invalid amount")
        amount = int(text)
        fee_sat = -(-self.fees.fee_msat(amount * 1000) // 1000)  # the server charges whole sats, rounded up
        return Reply(
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
        invoice.extra["state"] = "settled"
        invoice.extra["htlc_vtxo_ids"] = [f"{os.urandom(32).hex()}:0"]

    def _receive_info(self, invoice: MintedInvoice) -> dict[str, Any]:
        settled = invoice.paid_at is not None
        settled_at = now_iso(invoice.paid_at) if settled else None
        return {
            "payment_hash": invoice.payment_hash,
            "state": invoice.extra.get("state", "awaiting-payment"),
            "invoice": invoice.bolt11,
            "amount_sat": invoice.amount_sat or 0,
            "htlc_vtxo_ids": list(invoice.extra.get("htlc_vtxo_ids", [])),
            "payment_preimage": invoice.preimage if settled else None,
            "settled_at": settled_at,
            "htlc_vtxos": [],
            "preimage_revealed_at": None,  # deprecated, always null since 0.4
            "finished_at": settled_at,  # deprecated alias of settled_at
        }

    def _axum_json(self, request: Request) -> tuple[dict[str, Any], Reply | None]:
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            return {}, self._rejection(
                415, "Expected request with `Content-Type: application/json`", raw=True
            )
        import json

        try:
            body = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            return {}, self._rejection(400, f"Failed to parse the request body as JSON: {exc}", syntax=True)
        if not isinstance(body, dict):
            return {}, self._rejection(422, "invalid type: expected struct LightningInvoiceRequest")
        if "amount_sat" not in body:
            return {}, self._rejection(422, "missing field `amount_sat`")
        amount = body["amount_sat"]
        if not self.is_int(amount) or not 0 <= amount < 2**63:
            return {}, self._rejection(422, f"amount_sat: invalid value: {json.dumps(amount)}, expected u64")
        return body, None

    @staticmethod
    def _rejection(status: int, detail: str, *, raw: bool = False, syntax: bool = False) -> Reply:
        if raw or syntax:
            text = detail
        else:
            text = f"Failed to deserialize the JSON body into the target type: {detail}"
        return Reply(status, text, content_type="text/plain; charset=utf-8")
