"""LNPay emulators (lnpay-core behaviour), mainnet invoices (``lnbc``): the v1 wallet API and the legacy
user-wallet API, on one base (``LnpayCoreEmulator``).

v1 contract: ``lnpay-v1-generate-invoice.md`` and ``NOTES.md``, both in this folder. Where docs and code
disagree the code wins:

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

``GET /v1/wallet/{key}/transactions`` lists the wallet's *settled* transactions only (newest first), one
``ln_deposit`` WalletTransaction per paid invoice, its ``passThru`` the one given at creation
(``api/wallets/list-transactions.md``; core's ``actionTransactions`` queries WalletTransaction rows, which
exist only once money moved).

Not documented, chosen here: an unknown wallet key on the create path is 401 "Wallet not found" (by
analogy with the LnTx rule); ``c`` is 40 (lnd's default, as in the docs' example invoice); the LnTx
``fee_msat`` comes from the sandbox's fee schedule.

Legacy contract: ``lnpay-legacy-generate-invoice.md`` (docs dated 2020-01) and ``NOTES.md``. The legacy API
ran on the same Yii2 core as v1, so authentication (``X-Api-Key``, ``?access-token=``, Basic ``key:``),
error bodies and the 201 success are shared with the v1 emulator. Request fields: ``num_satoshis``,
``memo``, ``expiry`` (default 86400). The LnTx returned is the documented legacy shape (with
``updated_at``, without ``fee_msat``, ``description_hash`` or ``passThru``). Not documented, chosen here:
the status endpoint is the documented ``GET /v1/lntx/{id}`` on the legacy host; access keys look like the
docs' ``wi_`` invoice key; API keys are 32 random characters as in the docs' curl example; the wallet's
settled transactions are at ``GET /v1/user/wallet/{access_key}/transactions`` (by analogy with v1).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

from lnnotebook.emulation.emulator import Emulator
from lnnotebook.emulation.state import FeeSchedule, MintedInvoice
from lnnotebook.emulation.web import Request, Response, basic_credentials, json_body, reply, route
from lnnotebook.providers.base import MAX_DESCRIPTION_BYTES
from lnnotebook.providers.lnpay.wire import (
    ACCESS_TOKEN_PARAM,
    API_KEY_HEADER,
    BASE_PATH,
    CREATE_PATH,
    CREATED_STATUS,
    DEFAULT_EXPIRY,
    DEFAULT_MEMO,
    FREE_TIER_SUFFIX,
    INVALID_CREDENTIALS,
    LEGACY_CREATE_PATH,
    LEGACY_NAME,
    LEGACY_TRANSACTIONS_PATH,
    LNTX_NOT_FOUND,
    LNTX_PATH,
    NAME,
    PASS_THRU_INVALID,
    SETTLED_PAID,
    SETTLED_PENDING,
    TRANSACTIONS_PATH,
    WALLET_NOT_FOUND,
)

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
_BAD_JSON = "Invalid JSON data in request body: Syntax error."


@dataclass
class LnTx(MintedInvoice):
    """An LnTx's own fields: the memo as LNPay stored it, ``passThru``, the last update and, once
    settled, the id of its wallet transaction (``wtx_``)."""

    memo: str | None = None
    pass_thru: dict[str, Any] | None = None
    updated_at: int | None = None
    wtx_id: str | None = None


class LnpayCoreEmulator(Emulator[LnTx]):
    """What both LNPay APIs share: Yii2 auth and errors, the LnTx object and its retrieve endpoint."""

    network = "bc"
    default_expiry = DEFAULT_EXPIRY
    min_final_cltv_expiry = 40
    base_path = BASE_PATH
    server_header = "nginx"
    invoice_class = LnTx
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

    def error(self, status: int, message: str, **details: Any) -> Response:
        name, kind = _YII_TYPES.get(status, ("Error", "HttpException"))
        return reply(status, {"name": name, "message": message, "code": 0, "status": status, "type": kind})

    def authenticate(self, request: Request) -> Response | None:
        basic = basic_credentials(request)
        candidates = (
            request.headers.get(API_KEY_HEADER),
            request.args.get(ACCESS_TOKEN_PARAM),
            basic[0] if basic else None,
        )
        for candidate in candidates:  # CompositeAuth order
            if candidate is not None and self.same_secret(candidate, self.api_key):
                return None
        return self.error(401, INVALID_CREDENTIALS)

    def fault_reply(self, fault: str) -> Response:
        if fault == "401":
            return self.error(401, INVALID_CREDENTIALS)
        if fault == "429":
            response = self.error(429, "Rate limit exceeded.")
            response.headers["Retry-After"] = str(self.retry_after)
            return response
        return super().fault_reply(fault)

    # --- shared routes -------------------------------------------------------------------------

    def create_invoice(self, request: Request, key: str) -> Response:
        if not self.same_secret(key, self.wallet_key):
            return self.error(401, WALLET_NOT_FOUND)
        body, problem = self.yii_body(request)
        if problem is not None:
            return problem
        fields, problem = self._create_fields(body)
        if problem is not None:
            return problem
        description_hash, pass_thru, problem = self.extra_fields(body)
        if problem is not None:
            return problem
        memo = fields["memo"]
        invoice = self.mint(
            id_prefix="lntx_",
            amount_sat=fields["amount"],
            description=None if description_hash else memo,
            description_hash=description_hash,
            expiry=fields["expiry"],
            owner=self.api_key,
            memo=memo,
            pass_thru=pass_thru,
        )
        return reply(CREATED_STATUS, self.lntx(invoice))

    def _create_fields(self, body: dict[str, Any]) -> tuple[dict[str, Any], Response | None]:
        """``num_satoshis``, ``memo`` and ``expiry`` as core reads them, or the 400 that refuses them."""
        amount = _digits(body.get("num_satoshis", 0))  # LNbits sends a string of digits
        if not self.is_int(amount) or amount < 0 or amount >= 2**63 // 1000:
            return {}, self.error(400, "num_satoshis must be a non-negative integer")
        memo = body.get("memo")
        if memo is not None and not isinstance(memo, str):
            return {}, self.error(400, "memo must be a string")
        memo = (memo or DEFAULT_MEMO) + (FREE_TIER_SUFFIX if self.free_tier else "")
        if len(memo.encode()) > MAX_DESCRIPTION_BYTES:
            return {}, self.error(400, "memo is too long")
        expiry = _digits(body.get("expiry"))
        if expiry is not None and (not self.is_int(expiry) or expiry <= 0):
            return {}, self.error(400, "expiry must be a positive integer number of seconds")
        return {"amount": amount, "memo": memo, "expiry": expiry}, None

    def extra_fields(self, body: dict[str, Any]) -> tuple[str | None, Any, Response | None]:
        """(description_hash, passThru, error) for the API's optional fields."""
        return None, None, None

    def retrieve_lntx(self, request: Request, id: str) -> Response:  # noqa: A002 (the path's name)
        invoice = self.invoices.get(id)
        if invoice is None or invoice.owner != self.api_key:
            return self.error(401, LNTX_NOT_FOUND)
        data = self.lntx(invoice)
        fields = request.args.get("fields")
        if fields:
            wanted = {name.strip() for name in fields.split(",")}
            data = {key: value for key, value in data.items() if key in wanted}
        return reply(200, data)

    def yii_body(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        """Yii2 request parsing: JSON with a JSON content type (a blank body is {}), else form fields."""
        if request.mimetype.lower() == "application/json":
            body, problem = json_body(request, default={})
            if problem is not None or not isinstance(body, dict):
                return {}, self.error(400, _BAD_JSON)
            return body, None
        text = request.get_data(cache=True).decode("utf-8", "replace")
        return {key: values[0] for key, values in parse_qs(text).items()}, None

    def on_paid(self, invoice: MintedInvoice) -> None:
        assert isinstance(invoice, LnTx)
        invoice.updated_at = invoice.paid_at
        invoice.wtx_id = "wtx_" + base64.b32encode(self.random_token(15)).decode().lower()

    def wallet_transactions(self, request: Request, key: str) -> Response:
        """The wallet's transactions: only settled ones (an LN deposit per paid invoice), newest first."""
        if not self.same_secret(key, self.wallet_key):
            return self.error(401, WALLET_NOT_FOUND)
        with self.lock:
            settled = [inv for inv in self.invoices.values() if inv.wtx_id is not None]
        settled.sort(key=lambda inv: (inv.paid_at or 0, inv.created_at), reverse=True)
        return reply(200, [self.wtx(invoice) for invoice in settled])

    def wtx(self, invoice: LnTx) -> dict[str, Any]:
        """A WalletTransaction object (``api/wallets/list-transactions.md``) for a settled LnTx."""
        wallet = {
            "id": "w_" + hashlib.sha256(self.wallet_key.encode()).hexdigest()[:14],
            "created_at": invoice.created_at,
            "updated_at": invoice.paid_at,
            "user_label": "Sandbox Wallet",
            "balance": None,
            "balance_msat": None,
            "statusType": {"type": "wallet", "name": "active", "display_name": "Active"},
            "walletType": {"name": "generic_wallet", "display_name": "Generic Wallet"},
        }
        lntx = {key: value for key, value in self.lntx(invoice).items() if key != "passThru"}
        user_defined = (invoice.pass_thru or {}).get("userDefined")
        return {
            "id": invoice.wtx_id,
            "created_at": invoice.paid_at,
            "num_satoshis": invoice.amount_sat or 0,
            "user_label": f"LN Deposit: {invoice.provider_id}",
            "wal": wallet,
            "wtxType": {"layer": "ln", "name": "ln_deposit", "display_name": "LN Deposit"},
            "lnTx": lntx,
            "passThru": user_defined or {},
        }

    def lntx(self, invoice: LnTx) -> dict[str, Any]:
        settled = invoice.paid_at is not None
        full = {
            "id": invoice.provider_id,
            "created_at": invoice.created_at,
            "updated_at": invoice.updated_at if invoice.updated_at is not None else invoice.created_at,
            "ln_node_id": "lnod_" + self.node_pubkey[2:14],
            "dest_pubkey": self.node_pubkey,
            "payment_request": invoice.bolt11,
            "r_hash_decoded": invoice.payment_hash,
            "memo": invoice.memo,
            "description_hash": invoice.description_hash,
            "num_satoshis": invoice.amount_sat or 0,
            "fee_msat": invoice.fee_msat,
            "expiry": invoice.expiry,
            "expires_at": invoice.expires_at,
            "payment_preimage": invoice.preimage if settled else None,
            "settled": SETTLED_PAID if settled else SETTLED_PENDING,
            "settled_at": invoice.paid_at,
            "is_keysend": None,
            "custom_records": None,
            "passThru": invoice.pass_thru,
        }
        return {name: full[name] for name in self.lntx_fields}


class LnpayEmulator(LnpayCoreEmulator):
    name = NAME
    default_fees = FeeSchedule(base_msat=0, proportional_millionths=0)
    routes = (
        route("POST", BASE_PATH + CREATE_PATH, "create_invoice"),
        route("GET", BASE_PATH + LNTX_PATH, "retrieve_lntx"),
        route("GET", BASE_PATH + TRANSACTIONS_PATH, "wallet_transactions"),
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

    def extra_fields(self, body: dict[str, Any]) -> tuple[str | None, Any, Response | None]:
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
                return None, None, self.error(400, PASS_THRU_INVALID)
        if pass_thru is not None and not isinstance(pass_thru, dict):
            return None, None, self.error(400, PASS_THRU_INVALID)
        stored: dict[str, Any] = {"wallet_id": self.wallet_key}  # core echoes the wallet id (= the wal_ key)
        if pass_thru:
            stored["userDefined"] = pass_thru
        return description_hash or None, stored, None


class LnpayLegacyEmulator(LnpayCoreEmulator):
    name = LEGACY_NAME
    wallet_key_option = "access_key"
    routes = (
        route("POST", BASE_PATH + LEGACY_CREATE_PATH, "create_invoice"),
        route("GET", BASE_PATH + LNTX_PATH, "retrieve_lntx"),
        route("GET", BASE_PATH + LEGACY_TRANSACTIONS_PATH, "wallet_transactions"),
    )
    lntx_fields = (
        "id",
        "created_at",
        "updated_at",
        "dest_pubkey",
        "payment_request",
        "r_hash_decoded",
        "memo",
        "num_satoshis",
        "expiry",
        "expires_at",
        "payment_preimage",
        "settled",
        "settled_at",
    )

    def make_keys(self, digest: Any) -> tuple[str, str]:
        raw = digest.digest()
        api_key = base64.urlsafe_b64encode(raw[:24]).decode()[:32]
        return api_key, "wi_" + base64.urlsafe_b64encode(raw[24:]).decode().rstrip("=")[:21]


def _digits(value: Any) -> Any:
    """A string of digits as its integer (core accepts both); anything else unchanged."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value
