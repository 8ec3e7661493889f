"""LNPay v1 wallet API emulator (lnpay-core behaviour), mainnet invoices (``lnbc``).

Contract: ``lnpay-v1-generate-invoice.md`` and FACTS.md section 3. Where docs and code disagree the code wins:

* ``description_hash`` is **hex** (core runs ``hex2bin`` on it; LNbits sends hex), not base64 as the docs
  say. Anything that is not 64 hex characters is a 400.
* Success is **201** with an LnTx object (``WalletController::actionInvoice``).
* A missing or foreign LnTx on ``GET /v1/lntx/{id}`` is **401** "LnTx not found"
  (``UnauthorizedHttpException``), not 404.
* Auth is Yii2 ``CompositeAuth``: ``X-Api-Key`` header, ``?access-token=`` query, or HTTP Basic with the
  key as user and an empty password. Failure: 401 "Your request was made with invalid credentials."
* Errors use the Yii2 body ``{"name", "message", "code": 0, "status", "type"}``.
* ``num_satoshis`` may be an integer or a string of digits (LNbits sends a string); core's default is 0.
* ``memo`` defaults to "LNPay Invoice"; with ``lnpay_free_tier=True`` core's " (via LNPAY.co)" suffix is
  appended. ``expiry`` defaults to 86400. ``passThru`` (object or JSON text) is stored under
  ``userDefined`` next to ``wallet_id``, as in the documented LnTx example; invalid JSON is a 400
  "passThru data must be valid json".

Not documented, chosen here: an unknown wallet key on the create path is 401 "Wallet not found" (by
analogy with the LnTx rule); ``c`` is 40 (lnd's default, as in the docs' example invoice); the LnTx
``fee_msat`` comes from the sandbox's fee schedule.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, ClassVar
from urllib.parse import parse_qs

from lnnotebook.sandbox.emulator import Emulator, FeeSchedule, MintedInvoice, Reply, Request, register, route

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_YII_TYPES = {
    400: ("Bad Request", "BadRequestHttpException"),
    401: ("Unauthorized", "UnauthorizedHttpException"),
    404: ("Not Found", "NotFoundHttpException"),
    405: ("Method Not Allowed", "MethodNotAllowedHttpException"),
    429: ("Too Many Requests", "TooManyRequestsHttpException"),
    500: ("Internal Server Error", "InternalServerErrorException"),
    503: ("Service Unavailable", "ServiceUnavailableHttpException"),
}
INVALID_CREDENTIALS = "Your request was made with invalid credentials."


class LnpayCoreEmulator(Emulator):
    """What both LNPay APIs share: Yii2 auth and errors, the LnTx object and its retrieve endpoint."""

    network = "bc"
    default_expiry = 86400
    min_final_cltv_expiry = 40
    base_path = "/v1"
    server_header = "nginx"
    wallet_key_option: ClassVar[str] = "wallet_key"
    lntx_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, free_tier: bool = False, **common: Any) -> None:
        super().__init__(**common)
        self.free_tier = free_tier
        self.api_key, self.wallet_key = self.make_keys(
            hashlib.sha256(f"{self.seed}:{self.name}:keys".encode())
        )

    def make_keys(self, digest: Any) -> tuple[str, str]:
        raise NotImplementedError

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, self.wallet_key_option: self.wallet_key}

    def error(self, status: int, message: str, **extra: Any) -> Reply:
        name, kind = _YII_TYPES.get(status, ("Error", "HttpException"))
        return Reply(status, {"name": name, "message": message, "code": 0, "status": status, "type": kind})

    def authenticate(self, request: Request) -> Reply | None:
        header_key = request.headers.get("X-Api-Key")
        query_key = request.query_value("access-token")
        basic = request.basic_auth()
        for candidate in (header_key, query_key, basic[0] if basic else None):  # CompositeAuth order
            if candidate is not None and self.same_secret(candidate, self.api_key):
                return None
        return self.error(401, INVALID_CREDENTIALS)

    def fault_reply(self, fault: str) -> Reply:
        if fault == "401":
            return self.error(401, INVALID_CREDENTIALS)
        if fault == "429":
            reply = self.error(429, "Rate limit exceeded.")
            reply.headers["Retry-After"] = str(self.retry_after)
            return reply
        return super().fault_reply(fault)

    # --- shared routes -------------------------------------------------------------------------

    def create_for_wallet(self, request: Request, key: str) -> Reply:
        if not self.same_secret(key, self.wallet_key):
            return self.error(401, "Wallet not found")
        body, problem = self.yii_body(request)
        if problem is not None:
            return problem
        amount = body.get("num_satoshis", 0)
        if isinstance(amount, str) and amount.strip().isdigit():
            amount = int(amount.strip())
        if not self.is_int(amount) or amount < 0 or amount >= 2**63 // 1000:
            return self.error(400, "num_satoshis must be a non-negative integer")
        memo = body.get("memo")
        if memo is not None and not isinstance(memo, str):
            return self.error(400, "memo must be a string")
        memo = memo if memo else "LNPay Invoice"
        if self.free_tier:
            memo += " (via LNPAY.co)"
        if len(memo.encode()) > 639:
            return self.error(400, "memo is too long")
        expiry = body.get("expiry")
        if isinstance(expiry, str) and expiry.strip().isdigit():
            expiry = int(expiry.strip())
        if expiry is not None and (not self.is_int(expiry) or expiry <= 0):
            return self.error(400, "expiry must be a positive integer number of seconds")
        description_hash, pass_thru, problem = self.extra_fields(body)
        if problem is not None:
            return problem
        invoice = self.mint(
            provider_id=None,
            id_prefix="lntx_",
            amount_sat=amount,
            description=None if description_hash else memo,
            description_hash=description_hash,
            expiry=expiry,
            owner=self.api_key,
        )
        invoice.extra.update(memo=memo, pass_thru=pass_thru, updated_at=invoice.created_at)
        return Reply(201, self.lntx(invoice))

    def extra_fields(self, body: dict[str, Any]) -> tuple[str | None, Any, Reply | None]:
        """(description_hash, passThru, error) for the API's optional fields."""
        return None, None, None

    def retrieve_lntx(self, request: Request, lntx_id: str) -> Reply:
        invoice = self.invoices.get(lntx_id)
        if invoice is None or invoice.owner != self.api_key:
            return self.error(401, "LnTx not found")
        data = self.lntx(invoice)
        fields = request.query_value("fields")
        if fields:
            wanted = {name.strip() for name in fields.split(",")}
            data = {key: value for key, value in data.items() if key in wanted}
        return Reply(200, data)

    def yii_body(self, request: Request) -> tuple[dict[str, Any], Reply | None]:
        """Yii2 request parsing: JSON with a JSON content type, else form fields."""
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        text = request.body.decode("utf-8", "replace")
        if content_type == "application/json":
            try:
                body = json.loads(text) if text.strip() else {}
            except ValueError:
                return {}, self.error(400, "Invalid JSON data in request body: Syntax error.")
            if not isinstance(body, dict):
                return {}, self.error(400, "Invalid JSON data in request body: Syntax error.")
            return body, None
        return {key: values[0] for key, values in parse_qs(text).items()}, None

    def on_paid(self, invoice: MintedInvoice) -> None:
        invoice.extra["updated_at"] = invoice.paid_at

    def lntx(self, invoice: MintedInvoice) -> dict[str, Any]:
        settled = invoice.paid_at is not None
        full = {
            "id": invoice.provider_id,
            "created_at": invoice.created_at,
            "updated_at": invoice.extra.get("updated_at", invoice.created_at),
            "ln_node_id": "lnod_" + self.node_pubkey[2:14],
            "dest_pubkey": self.node_pubkey,
            "payment_request": invoice.bolt11,
            "r_hash_decoded": invoice.payment_hash,
            "memo": invoice.extra.get("memo"),
            "description_hash": invoice.description_hash,
            "num_satoshis": invoice.amount_sat or 0,
            "fee_msat": invoice.fee_msat,
            "expiry": invoice.expiry,
            "expires_at": invoice.expires_at,
            "payment_preimage": invoice.preimage if settled else None,
            "settled": 1 if settled else 0,
            "settled_at": invoice.paid_at,
            "is_keysend": None,
            "custom_records": None,
            "passThru": invoice.extra.get("pass_thru"),
        }
        return {name: full[name] for name in self.lntx_fields}


@register("lnpay")
class LnpayEmulator(LnpayCoreEmulator):
    default_fees = FeeSchedule(base_msat=0, proportional_millionths=0)
    routes = (
        route("POST", "/v1/wallet/{wallet_key}/invoice", "create_invoice"),
        route("GET", "/v1/lntx/{lntx_id}", "retrieve_lntx"),
    )
    lntx_fields = (
        "id",
        "created_at",
        "ln_node_id",
        "dest_pubkey",
        "payment_request",
        "r_hash_decoded",
        "memo",
        "description_hash",
        "num_satoshis",
        "fee_msat",
        "expiry",
        "expires_at",
        "payment_preimage",
        "settled",
        "settled_at",
        "is_keysend",
        "custom_records",
        "passThru",
    )

    def make_keys(self, digest: Any) -> tuple[str, str]:
        text = digest.hexdigest()
        return "sak_" + text[:30], "wal_" + text[30:44]

    def create_invoice(self, request: Request, wallet_key: str) -> Reply:
        return self.create_for_wallet(request, wallet_key)

    def extra_fields(self, body: dict[str, Any]) -> tuple[str | None, Any, Reply | None]:
        description_hash = body.get("description_hash")
        if description_hash is not None:
            if not isinstance(description_hash, str) or not _HEX64.match(description_hash):
                return None, None, self.error(400, "description_hash must be a hex-encoded 32-byte hash")
            description_hash = description_hash.lower()
        pass_thru = body.get("passThru")
        if isinstance(pass_thru, str):
            try:
                pass_thru = json.loads(pass_thru)
            except ValueError:
                return None, None, self.error(400, "passThru data must be valid json")
        if pass_thru is not None and not isinstance(pass_thru, dict):
            return None, None, self.error(400, "passThru data must be valid json")
        stored: dict[str, Any] = {"wallet_id": self.wallet_key}  # core echoes the wallet id (= the wal_ key)
        if pass_thru:
            stored["userDefined"] = pass_thru
        return description_hash or None, stored, None
