"""Tazapay v3 Lightning invoice emulator, testnet invoices (``lntb``).

Contract: ``tazapay-create-invoice.md`` (OpenAPI) and FACTS.md section 2. Choices where the sources are
silent or disagree:

* The response envelope's ``data`` is declared ``type: string, format: json`` in the OpenAPI schema but
  shown as an object in the examples. The emulator follows the schema by default (``data`` is a JSON
  document in a string, so responses validate) and serves an object with ``tazapay_data_format="object"``.
  The client accepts both.
* No documented field carries the BOLT11 string. The emulator puts it under ``tazapay_bolt11_field``
  (default ``"bolt11"``); ``None`` leaves it out, as the documented object does.
* ``amount`` is an integer in the smallest unit (satoshis): "BTC, 8 decimal places" on an int64.
* Default expiry: 3600 s, as the field text says (the schema default shows 4800).
* ``h_tag_memo`` (hex SHA-256) wins over ``d_tag_memo`` when both are given.
* Auth: HTTP Basic, API key as user, secret as password. 401 bodies use the generic codes 108 ("Invalid
  basic auth"), 109 ("Empty basic auth") and 111 (invalid API key); 404 is code 105, 429 code 110, bad
  JSON code 100. The body shape ``{"status": "error", "message", "errors": [{"code", "message",
  "remarks"}]}`` is the recorded v1 shape (no v3 example exists).
* ``Idempotency-Key`` (POST, at most 255 characters): a repeated key replays the stored 2xx response for
  24 hours and mints nothing new; only 2xx responses are stored.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from lnnotebook.sandbox.emulator import (
    Emulator,
    MintedInvoice,
    Reply,
    Request,
    json_body,
    now_iso,
    register,
    route,
)

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
IDEMPOTENCY_TTL = 24 * 3600
VALIDATION_CODE = 2901  # the code of the recorded v1 missing-parameter error


@register("tazapay")
class TazapayEmulator(Emulator):
    network = "tb"
    default_expiry = 3600
    server_header = "tazapay"
    block_height = 4_200_000  # testnet3 heights
    routes = (
        route("POST", "/v3/lightning_invoice_bolt11", "create_invoice"),
        route("GET", "/v3/lightning_invoice_bolt11/{invoice_id}", "fetch_invoice"),
        route("PUT", "/v3/lightning_invoice_bolt11/{invoice_id}", "update_invoice"),
    )

    def __init__(
        self, *, bolt11_field: str | None = "bolt11", data_format: str = "string", **common: Any
    ) -> None:
        super().__init__(**common)
        if data_format not in ("string", "object"):
            raise ValueError(f"tazapay_data_format must be 'string' or 'object', got {data_format!r}")
        self.bolt11_field = bolt11_field
        self.data_format = data_format
        digest = hashlib.sha256(f"{self.seed}:tazapay:keys".encode()).hexdigest()
        self.api_key = "ak_test_" + digest[:24]
        self.api_secret = "sk_test_" + digest[24:64]
        self._idempotent: dict[tuple[str, str], tuple[float, Reply]] = {}

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, "api_secret": self.api_secret}

    def error(
        self, status: int, message: str, *, code: int | None = None, remarks: str | None = None, **extra: Any
    ) -> Reply:
        code = (
            code if code is not None else {401: 108, 404: 105, 429: 110, 400: VALIDATION_CODE}.get(status, 0)
        )
        detail: dict[str, Any] = {"code": code, "message": message}
        if remarks is not None:
            detail["remarks"] = remarks
        summary = {
            400: "Bad Request : Your request is invalid",
            401: message,
            404: "Not Found",
            429: "Too Many Requests",
        }.get(status, message)
        return Reply(status, {"status": "error", "message": summary, "errors": [detail]})

    def authenticate(self, request: Request) -> Reply | None:
        header = request.headers.get("Authorization")
        if not header:
            return self.error(401, "Empty basic auth", code=109)
        credentials = request.basic_auth()
        if credentials is None:
            return self.error(401, "Invalid basic auth", code=108)
        key, secret = credentials
        if not (self.same_secret(key, self.api_key) and self.same_secret(secret, self.api_secret)):
            return self.error(401, "Invalid API key", code=111)
        return None

    def fault_reply(self, fault: str) -> Reply:
        if fault == "401":
            return self.error(401, "Invalid API key", code=111)
        return super().fault_reply(fault)

    # --- routes --------------------------------------------------------------------------------

    def create_invoice(self, request: Request) -> Reply:
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            if not key or len(key) > 255:
                return self.error(
                    400, "Idempotency-Key must be 1 to 255 characters", remarks="Idempotency-Key"
                )
            with self.lock:
                stored = self._idempotent.get((self.api_key, key))
                if stored and time.time() - stored[0] < IDEMPOTENCY_TTL:
                    return stored[1]
        reply = self._create(request)
        if key is not None and 200 <= reply.status < 300:
            with self.lock:
                # Two concurrent requests with one key: the first stored reply wins, later ones replay it.
                existing = self._idempotent.setdefault((self.api_key, key), (time.time(), reply))
                reply = existing[1]
        return reply

    def _create(self, request: Request) -> Reply:
        body, problem = json_body(request)
        if problem is not None:
            return self.error(400, f"Invalid JSON in request body: {problem}", code=100)
        if not isinstance(body, dict):
            return self.error(400, "request body must be a JSON object", code=100)
        amount = body.get("amount")
        if amount is None:
            return self.error(400, "amount is required", remarks="amount")
        if not self.is_int(amount) or amount <= 0 or amount >= 2**63:
            return self.error(400, "amount must be a positive integer (smallest unit)", remarks="amount")
        d_tag, h_tag = body.get("d_tag_memo"), body.get("h_tag_memo")
        if d_tag is not None and not isinstance(d_tag, str):
            return self.error(400, "d_tag_memo must be a string", remarks="d_tag_memo")
        if h_tag is not None and (not isinstance(h_tag, str) or not _HEX64.match(h_tag)):
            return self.error(400, "h_tag_memo must be a hex SHA-256 hash", remarks="h_tag_memo")
        if d_tag is not None and len(d_tag.encode()) > 639:
            return self.error(400, "d_tag_memo is too long for a BOLT11 description", remarks="d_tag_memo")
        expiry = body.get("expiry_interval")
        if expiry is not None and (not self.is_int(expiry) or expiry <= 0):
            return self.error(400, "expiry_interval must be a positive integer", remarks="expiry_interval")
        metadata = body.get("metadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                return self.error(400, "metadata must be valid JSON", remarks="metadata")
        if metadata is not None and not isinstance(metadata, dict):
            return self.error(400, "metadata must be a JSON object of key-value pairs", remarks="metadata")
        invoice = self.mint(
            provider_id=None,
            id_prefix="l11_",
            amount_sat=amount,
            description=None if h_tag else (d_tag or ""),
            description_hash=h_tag.lower() if h_tag else None,
            expiry=expiry,
            owner=self.api_key,
        )
        invoice.extra.update(
            d_tag_memo=d_tag, h_tag_memo=h_tag, metadata=metadata, updated_at=invoice.created_at
        )
        return self._envelope(invoice)

    def fetch_invoice(self, request: Request, invoice_id: str) -> Reply:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return self.error(404, f"lightning_invoice_bolt11 {invoice_id} not found", remarks="id")
        return self._envelope(invoice)

    def update_invoice(self, request: Request, invoice_id: str) -> Reply:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return self.error(404, f"lightning_invoice_bolt11 {invoice_id} not found", remarks="id")
        body, problem = json_body(request)
        if problem is not None or not isinstance(body, dict):
            return self.error(400, "Invalid JSON in request body", code=100)
        metadata = body.get("metadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = None
        if not isinstance(metadata, dict):
            return self.error(400, "metadata must be a JSON object of key-value pairs", remarks="metadata")
        with self.lock:
            invoice.extra["metadata"] = metadata
            invoice.extra["updated_at"] = int(time.time())
        return self._envelope(invoice)

    # --- helpers -------------------------------------------------------------------------------

    def on_paid(self, invoice: MintedInvoice) -> None:
        invoice.extra["collect"] = "col_" + self.random_token(10).hex()
        invoice.extra["updated_at"] = invoice.paid_at

    def _envelope(self, invoice: MintedInvoice) -> Reply:
        state = invoice.state()
        extra = invoice.extra
        data: dict[str, Any] = {
            "id": invoice.provider_id,
            "object": "lightning_invoice_bolt11",
            "amount": invoice.amount_sat,
            "d_tag_memo": extra.get("d_tag_memo"),
            "h_tag_memo": extra.get("h_tag_memo"),
            "expiry_interval": invoice.expiry,
            "collect": extra.get("collect"),
            "metadata": extra.get("metadata"),
            "status": "expired" if state == "expired" else "active",
            "payment_status": "paid" if state == "paid" else "unpaid",
            "created_at": now_iso(invoice.created_at),
            "updated_at": now_iso(extra.get("updated_at", invoice.created_at)),
        }
        if self.bolt11_field:
            data[self.bolt11_field] = invoice.bolt11
        payload = json.dumps(data) if self.data_format == "string" else data
        return Reply(200, {"status": "success", "message": "", "data": payload})
