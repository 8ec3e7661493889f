"""Tazapay v3 Lightning invoice emulator, testnet invoices (``lntb``).

Contract: ``tazapay-create-invoice.md`` (its OpenAPI document is ``openapi.yaml``) and ``NOTES.md``, both in
this folder. Choices where the sources are silent or disagree:

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
from dataclasses import dataclass
from typing import Any

from lnnotebook.emulation.emulator import Emulator
from lnnotebook.emulation.state import MintedInvoice, now_iso
from lnnotebook.emulation.web import Request, Response, basic_credentials, json_body, reply, route
from lnnotebook.providers.base import MAX_DESCRIPTION_BYTES
from lnnotebook.providers.tazapay.wire import (
    BOLT11_FIELDS,
    CODE_BAD_JSON,
    CODE_EMPTY_BASIC_AUTH,
    CODE_INVALID_API_KEY,
    CODE_INVALID_BASIC_AUTH,
    CODE_NOT_FOUND,
    CODE_RATE_LIMITED,
    CODE_VALIDATION,
    CREATE_PATH,
    ENVELOPE_ERROR,
    ENVELOPE_SUCCESS,
    FETCH_PATH,
    ID_PREFIX,
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_MAX,
    IDEMPOTENCY_TTL,
    NAME,
    OBJECT,
    PAYMENT_PAID,
    PAYMENT_UNPAID,
    STATUS_ACTIVE,
    STATUS_EXPIRED,
)

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_DEFAULT_CODES = {
    401: CODE_INVALID_BASIC_AUTH,
    404: CODE_NOT_FOUND,
    429: CODE_RATE_LIMITED,
    400: CODE_VALIDATION,
}
_SUMMARIES = {400: "Bad Request : Your request is invalid", 404: "Not Found", 429: "Too Many Requests"}


@dataclass
class LightningInvoice(MintedInvoice):
    """A ``lightning_invoice_bolt11`` object's own fields."""

    d_tag_memo: str | None = None
    h_tag_memo: str | None = None
    metadata: dict[str, Any] | None = None
    collect: str | None = None  # the collect id once paid
    updated_at: int | None = None

    def last_update(self) -> int:
        return self.updated_at if self.updated_at is not None else self.created_at


class TazapayEmulator(Emulator[LightningInvoice]):
    name = NAME
    network = "tb"
    default_expiry = 3600
    server_header = NAME
    block_height = 4_200_000  # testnet3 heights
    invoice_class = LightningInvoice
    routes = (
        route("POST", CREATE_PATH, "create_invoice"),
        route("GET", FETCH_PATH, "fetch_invoice"),
        route("PUT", FETCH_PATH, "update_invoice"),
    )

    def __init__(
        self, *, bolt11_field: str | None = BOLT11_FIELDS[0], data_format: str = "string", **common: Any
    ) -> None:
        super().__init__(**common)
        if data_format not in ("string", "object"):
            raise ValueError(f"tazapay_data_format must be 'string' or 'object', got {data_format!r}")
        self.bolt11_field = bolt11_field
        self.data_format = data_format
        digest = hashlib.sha256(f"{self.seed}:{NAME}:keys".encode()).hexdigest()
        self.api_key = "ak_test_" + digest[:24]
        self.api_secret = "sk_test_" + digest[24:64]
        self._idempotent: dict[tuple[str, str], tuple[float, Response]] = {}

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, "api_secret": self.api_secret}

    def error(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        remarks: str | None = None,
        **details: Any,
    ) -> Response:
        detail: dict[str, Any] = {"code": code if code is not None else _DEFAULT_CODES.get(status, 0)}
        detail["message"] = message
        if remarks is not None:
            detail["remarks"] = remarks
        summary = message if status == 401 else _SUMMARIES.get(status, message)
        return reply(status, {"status": ENVELOPE_ERROR, "message": summary, "errors": [detail]})

    def authenticate(self, request: Request) -> Response | None:
        if not request.headers.get("Authorization"):
            return self.error(401, "Empty basic auth", code=CODE_EMPTY_BASIC_AUTH)
        credentials = basic_credentials(request)
        if credentials is None:
            return self.error(401, "Invalid basic auth", code=CODE_INVALID_BASIC_AUTH)
        key, secret = credentials
        if not (self.same_secret(key, self.api_key) and self.same_secret(secret, self.api_secret)):
            return self.error(401, "Invalid API key", code=CODE_INVALID_API_KEY)
        return None

    def fault_reply(self, fault: str) -> Response:
        if fault == "401":
            return self.error(401, "Invalid API key", code=CODE_INVALID_API_KEY)
        return super().fault_reply(fault)

    # --- routes --------------------------------------------------------------------------------

    def create_invoice(self, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None:
            if not key or len(key) > IDEMPOTENCY_KEY_MAX:
                return self.error(
                    400,
                    f"{IDEMPOTENCY_HEADER} must be 1 to {IDEMPOTENCY_KEY_MAX} characters",
                    remarks=IDEMPOTENCY_HEADER,
                )
            with self.lock:
                stored = self._idempotent.get((self.api_key, key))
                if stored and time.time() - stored[0] < IDEMPOTENCY_TTL:
                    return _copy(stored[1])
        response = self._create(request)
        if key is not None and 200 <= response.status_code < 300:
            with self.lock:
                # Two concurrent requests with one key: the first stored reply wins, later ones replay it.
                response = self._idempotent.setdefault((self.api_key, key), (time.time(), response))[1]
            response = _copy(response)
        return response

    def _create(self, request: Request) -> Response:
        body, problem = json_body(request, default=None)
        if problem is not None:
            return self.error(400, f"Invalid JSON in request body: {problem}", code=CODE_BAD_JSON)
        if not isinstance(body, dict):
            return self.error(400, "request body must be a JSON object", code=CODE_BAD_JSON)
        fields, refusal = self._create_fields(body)
        if refusal is not None:
            return refusal
        h_tag = fields["h_tag_memo"]
        invoice = self.mint(
            id_prefix=ID_PREFIX,
            amount_sat=fields["amount"],
            description=None if h_tag else (fields["d_tag_memo"] or ""),
            description_hash=h_tag.lower() if h_tag else None,
            expiry=fields["expiry_interval"],
            owner=self.api_key,
            d_tag_memo=fields["d_tag_memo"],
            h_tag_memo=h_tag,
            metadata=fields["metadata"],
        )
        return self._envelope(invoice)

    def _create_fields(self, body: dict[str, Any]) -> tuple[dict[str, Any], Response | None]:
        """The create request's fields, validated, or the 400 that refuses them."""
        amount = body.get("amount")
        if amount is None:
            return {}, self.error(400, "amount is required", remarks="amount")
        if not self.is_int(amount) or amount <= 0 or amount >= 2**63:
            return {}, self.error(400, "amount must be a positive integer (smallest unit)", remarks="amount")
        d_tag, h_tag = body.get("d_tag_memo"), body.get("h_tag_memo")
        if d_tag is not None and not isinstance(d_tag, str):
            return {}, self.error(400, "d_tag_memo must be a string", remarks="d_tag_memo")
        if h_tag is not None and (not isinstance(h_tag, str) or not _HEX64.match(h_tag)):
            return {}, self.error(400, "h_tag_memo must be a hex SHA-256 hash", remarks="h_tag_memo")
        if d_tag is not None and len(d_tag.encode()) > MAX_DESCRIPTION_BYTES:
            return {}, self.error(
                400, "d_tag_memo is too long for a BOLT11 description", remarks="d_tag_memo"
            )
        expiry = body.get("expiry_interval")
        if expiry is not None and (not self.is_int(expiry) or expiry <= 0):
            return {}, self.error(
                400, "expiry_interval must be a positive integer", remarks="expiry_interval"
            )
        metadata, ok = _metadata(body.get("metadata"))
        if not ok:
            return {}, self.error(400, "metadata must be valid JSON", remarks="metadata")
        if metadata is not None and not isinstance(metadata, dict):
            return {}, self.error(
                400, "metadata must be a JSON object of key-value pairs", remarks="metadata"
            )
        fields = {"amount": amount, "d_tag_memo": d_tag, "h_tag_memo": h_tag, "expiry_interval": expiry}
        return {**fields, "metadata": metadata}, None

    def fetch_invoice(self, request: Request, id: str) -> Response:  # noqa: A002 (the path's name)
        invoice = self.invoices.get(id)
        if invoice is None:
            return self.error(404, f"{OBJECT} {id} not found", remarks="id")
        return self._envelope(invoice)

    def update_invoice(self, request: Request, id: str) -> Response:  # noqa: A002
        invoice = self.invoices.get(id)
        if invoice is None:
            return self.error(404, f"{OBJECT} {id} not found", remarks="id")
        assert isinstance(invoice, LightningInvoice)
        body, problem = json_body(request, default=None)
        if problem is not None or not isinstance(body, dict):
            return self.error(400, "Invalid JSON in request body", code=CODE_BAD_JSON)
        metadata, _ = _metadata(body.get("metadata"))
        if not isinstance(metadata, dict):
            return self.error(400, "metadata must be a JSON object of key-value pairs", remarks="metadata")
        with self.lock:
            invoice.metadata = metadata
            invoice.updated_at = int(time.time())
        return self._envelope(invoice)

    # --- helpers -------------------------------------------------------------------------------

    def on_paid(self, invoice: MintedInvoice) -> None:
        assert isinstance(invoice, LightningInvoice)
        invoice.collect = "col_" + self.random_token(10).hex()
        invoice.updated_at = invoice.paid_at

    def _envelope(self, invoice: LightningInvoice) -> Response:
        state = invoice.state()
        data: dict[str, Any] = {
            "id": invoice.provider_id,
            "object": OBJECT,
            "amount": invoice.amount_sat,
            "d_tag_memo": invoice.d_tag_memo,
            "h_tag_memo": invoice.h_tag_memo,
            "expiry_interval": invoice.expiry,
            "collect": invoice.collect,
            "metadata": invoice.metadata,
            "status": STATUS_EXPIRED if state == "expired" else STATUS_ACTIVE,
            "payment_status": PAYMENT_PAID if state == "paid" else PAYMENT_UNPAID,
            "created_at": now_iso(invoice.created_at),
            "updated_at": now_iso(invoice.last_update()),
        }
        if self.bolt11_field:
            data[self.bolt11_field] = invoice.bolt11
        payload = json.dumps(data) if self.data_format == "string" else data
        return reply(200, {"status": ENVELOPE_SUCCESS, "message": "", "data": payload})


def _metadata(value: Any) -> tuple[Any, bool]:
    """(metadata, ok): the schema sends metadata as JSON text; the examples send an object."""
    if isinstance(value, str):
        try:
            return json.loads(value), True
        except ValueError:
            return None, False
    return value, True


def _copy(response: Response) -> Response:
    """A fresh Response with the same status, headers and body (a replayed idempotent answer)."""
    return Response(response.get_data(), status=response.status_code, headers=response.headers.copy())
