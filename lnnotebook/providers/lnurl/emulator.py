"""An LNURL-pay service serving several Lightning Addresses (LUD-06, 09, 12, 16, 18, 21 verify), mainnet
invoices (``lnbc``) whose description hash commits to each address's metadata.

Addresses (``<name>@127.0.0.1:<port>``; ``addresses()`` lists them, ``connect_options()`` gives the default):

* ``alice`` (the default): 1 to 1,000,000 sat, comments up to 255 characters, verify, a message
  successAction;
* ``bob``: 1,000 to 50,000 sat, no comments, no verify URL, an image, optional payer name (LUD-18);
* ``carol``: 10 to 100,000 sat, comments up to 32 characters, a long description, a url successAction,
  and a callback and verify URL on ``localhost`` (another origin than the address's ``127.0.0.1``);
* ``dave``: exactly 21 sat, requires a payer name (LUD-18 mandatory).

Errors are ``{"status": "ERROR", "reason": ...}``: at HTTP 200 for a refused callback (the convention),
404 for an unknown name (some services do that too). Misbehaviours for tests (sandbox options
``lnurl_bad_hash=True``, ``lnurl_wrong_amount=True``): invoices whose description hash is not the
metadata's, or whose amount is one sat more than asked. Fault injection is the emulation package's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from lnnotebook.emulation.emulator import Emulator
from lnnotebook.emulation.state import MintedInvoice
from lnnotebook.emulation.web import Request, Response, reply, route
from lnnotebook.providers.lnurl.wire import (
    AMOUNT_PARAM,
    COMMENT_PARAM,
    ERROR_STATUS,
    IDENTIFIER,
    IMAGE_TYPES,
    LONG_DESC,
    NAME,
    NOT_FOUND_REASON,
    OK_STATUS,
    PAY_TAG,
    PAYERDATA_PARAM,
    TEXT_PLAIN,
    WELL_KNOWN_PATH,
)

# The emulator's own paths: a client only ever uses the URLs the answers carry.
CALLBACK_PATH = "/lnurlp/{name}/callback"
VERIFY_PATH = "/lnurlp/{name}/verify/{payment_hash}"
DEFAULT_ADDRESS = "alice"
# A 1x1 transparent PNG, as metadata images are (base64, LUD-06)
_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


@dataclass(frozen=True)
class Account:
    """One Lightning Address the emulator serves."""

    name: str
    min_sendable_msat: int
    max_sendable_msat: int
    description: str
    comment_allowed: int = 0
    verify: bool = True
    long_description: str | None = None
    image: bool = False
    payer_data: dict[str, dict[str, bool]] = field(default_factory=dict)
    success_action: str | None = None  # "message", "url" or None
    other_host: bool = False  # callback and verify on localhost instead of 127.0.0.1


ACCOUNTS = (
    Account("alice", 1_000, 1_000_000_000, "Pay alice", comment_allowed=255, success_action="message"),
    Account(
        "bob", 1_000_000, 50_000_000, "Tips for bob", verify=False, image=True,
        payer_data={"name": {"mandatory": False}},
    ),
    Account(
        "carol", 10_000, 100_000_000, "Carol's shop", comment_allowed=32,
        long_description="Carol's shop sells\nsandbox goods.", success_action="url", other_host=True,
    ),
    Account("dave", 21_000, 21_000, "21 sat to dave", payer_data={"name": {"mandatory": True}}),
)  # fmt: skip


@dataclass
class Payment(MintedInvoice):
    """An invoice minted for one of the addresses."""

    comment: str | None = None
    payerdata: str | None = None


class LnurlEmulator(Emulator):
    name = NAME
    network = "bc"
    default_expiry = 3600
    server_header = "lnurl-emulator"
    invoice_class = Payment
    base_path = WELL_KNOWN_PATH.format(name=DEFAULT_ADDRESS)  # sb.url(): the default's payRequest URL
    routes = (
        route("GET", WELL_KNOWN_PATH, "pay_request", auth=False),
        route("GET", CALLBACK_PATH, "callback", auth=False),
        route("GET", VERIFY_PATH, "verify", auth=False),
    )

    def __init__(self, *, bad_hash: bool = False, wrong_amount: bool = False, **common: Any) -> None:
        super().__init__(**common)
        self.bad_hash = bad_hash
        self.wrong_amount = wrong_amount
        self.accounts = {account.name: account for account in ACCOUNTS}

    def connect_options(self) -> dict[str, str]:
        return {"address": self.address(DEFAULT_ADDRESS)}  # LNURL-pay has no credentials

    def address(self, name: str) -> str:
        return f"{name}@{self.origin.removeprefix('http://')}"

    def addresses(self) -> list[str]:
        """Every Lightning Address served, the default first."""
        return [self.address(name) for name in self.accounts]

    def error(self, status: int, message: str, **details: Any) -> Response:
        return reply(status, {"status": ERROR_STATUS, "reason": message})

    def metadata(self, account: Account) -> str:
        entries: list[list[str]] = [
            [TEXT_PLAIN, account.description],
            [IDENTIFIER, self.address(account.name)],
        ]
        if account.long_description:
            entries.append([LONG_DESC, account.long_description])
        if account.image:
            entries.append([IMAGE_TYPES[0], _PNG])
        return json.dumps(entries)

    def _service_origin(self, account: Account) -> str:
        return self.origin.replace("127.0.0.1", "localhost") if account.other_host else self.origin

    # --- routes --------------------------------------------------------------------------------

    def pay_request(self, request: Request, name: str) -> Response:
        account = self.accounts.get(name)
        if account is None:
            return self.error(404, f"Unable to find user {name}")
        body: dict[str, Any] = {
            "tag": PAY_TAG,
            "callback": self._service_origin(account) + CALLBACK_PATH.format(name=name),
            "minSendable": account.min_sendable_msat,
            "maxSendable": account.max_sendable_msat,
            "metadata": self.metadata(account),
        }
        if account.comment_allowed:
            body["commentAllowed"] = account.comment_allowed
        if account.payer_data:
            body["payerData"] = account.payer_data
        return reply(200, body)

    def callback(self, request: Request, name: str) -> Response:
        account = self.accounts.get(name)
        if account is None:
            return self.error(404, f"Unable to find user {name}")
        amount_text = request.args.get(AMOUNT_PARAM, "")
        if not amount_text.isdigit():
            return self.error(200, f"amount must be a whole number of millisatoshis, got {amount_text!r}")
        amount = int(amount_text)
        if not account.min_sendable_msat <= amount <= account.max_sendable_msat or amount % 1000:
            return self.error(
                200,
                f"Amount {amount} msat is not allowed: whole sats from {account.min_sendable_msat} "
                f"to {account.max_sendable_msat} msat",
            )
        comment = request.args.get(COMMENT_PARAM)
        if comment is not None and len(comment) > account.comment_allowed:
            return self.error(200, f"Comment is too long (at most {account.comment_allowed} characters)")
        payerdata, problem = self._payerdata(account, request.args.get(PAYERDATA_PARAM))
        if problem:
            return self.error(200, problem)
        committed = self.metadata(account) + (payerdata or "")
        if self.bad_hash:
            committed += " (not what was served)"
        invoice = self.mint(
            amount_sat=amount // 1000 + (1 if self.wrong_amount else 0),
            description_hash=hashlib.sha256(committed.encode("utf-8")).hexdigest(),
            owner=name,
            comment=comment,
            payerdata=payerdata,
        )
        return reply(200, self._callback_answer(account, invoice))

    def _payerdata(self, account: Account, text: str | None) -> tuple[str | None, str | None]:
        """(payer data to commit, None) or (None, the refusal); LUD-18: only when the service asks."""
        if not account.payer_data:
            return None, None  # a service without a payerData record appends nothing
        mandatory = [kind for kind, spec in account.payer_data.items() if spec.get("mandatory")]
        try:
            given = json.loads(text) if text is not None else {}
        except ValueError:
            return None, "payerdata is not valid JSON"
        if not isinstance(given, dict):
            return None, "payerdata must be a JSON object"
        missing = [kind for kind in mandatory if kind not in given]
        if missing:
            return None, f"Missing mandatory payer data: {', '.join(missing)}"
        return text, None

    def _callback_answer(self, account: Account, invoice: Payment) -> dict[str, Any]:
        origin = self._service_origin(account)
        answer: dict[str, Any] = {"pr": invoice.bolt11, "routes": []}
        if account.success_action == "message":
            answer["successAction"] = {"tag": "message", "message": f"Thanks, {account.name} got it"}
        elif account.success_action == "url":
            answer["successAction"] = {
                "tag": "url",
                "description": "Your order",
                "url": f"{origin}/orders/{invoice.provider_id}",
            }
        if account.verify:
            answer["verify"] = origin + VERIFY_PATH.format(
                name=account.name, payment_hash=invoice.payment_hash
            )
        return answer

    def verify(self, request: Request, name: str, payment_hash: str) -> Response:
        invoice = self.by_hash.get(payment_hash.lower())
        account = self.accounts.get(name)
        if invoice is None or invoice.owner != name or account is None or not account.verify:
            return self.error(200, NOT_FOUND_REASON)
        with self.lock:
            settled = invoice.paid_at is not None
        return reply(
            200,
            {
                "status": OK_STATUS,
                "settled": settled,
                "preimage": invoice.preimage if settled else None,
                "pr": invoice.bolt11,
            },
        )


__all__ = ["ACCOUNTS", "Account", "LnurlEmulator", "Payment"]
