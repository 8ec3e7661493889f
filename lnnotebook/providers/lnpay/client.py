"""LNPay clients: the v1 wallet API (``lnpay``, ``POST /v1/wallet/{wallet_key}/invoice``) and the legacy
user-wallet API (``lnpay-legacy``, ``POST /v1/user/wallet/{access_key}/invoice``), on one base.

v1 options: ``url`` (default ``https://api.lnpay.co/v1``), ``api_key`` (``sak_``/``pak_``), ``wallet_key``
(``wal_``/``waki_``) and ``auth`` -- how the key is sent: ``header`` (``X-Api-Key``, default), ``query``
(``?access-token=``) or ``basic`` (key as user, empty password). Variables: ``LNNOTEBOOK_LNPAY_URL``,
``LNNOTEBOOK_LNPAY_API_KEY``, ``LNNOTEBOOK_LNPAY_WALLET_KEY``, ``LNNOTEBOOK_LNPAY_AUTH``.

Choices where LNPay's docs and lnpay-core disagree (this folder's NOTES.md), following the code:

* ``description_hash`` is sent as **hex** (core runs ``hex2bin``; LNbits sends hex), not base64 as the docs
  say. It may be given as bytes, hex or base64 and is converted to hex.
* Success is **201**; any other 2xx is treated as an unexpected response.
* On ``GET /v1/lntx/{id}`` a missing LnTx is **401** "LnTx not found": raised as ``NotFoundError``, not
  ``AuthenticationError``.
* Status: ``settled`` 1 -> paid, -1 -> failed (as LNbits maps it), 0 -> pending, or expired once
  ``expires_at`` has passed.
* ``fee_sat`` is the LnTx's ``fee_msat`` rounded up to whole sats. There is no fee estimate endpoint,
  so ``receive_fee`` returns None.
* ``raw`` hides ``passThru.wallet_id``: lnpay-core echoes the wallet id there, which is the ``wal_`` key.

A create is never retried after the request was sent (LNPay has no idempotency key). The v1 create carries
the client reference in ``passThru`` (``lnnotebook_reference``). A create whose answer is lost is looked up
in ``GET /v1/wallet/{wallet_key}/transactions``; that list holds only *settled* transactions (LNPay's docs),
so only an invoice that has been paid can be found: an unpaid one stays ``unknown`` until it is paid or has
expired (``Ledger.reconcile``). The legacy API has no passThru: it matches amount, memo and time on
``GET /v1/user/wallet/{access_key}/transactions`` (not in the legacy docs; chosen by analogy with v1).

Legacy options: ``url`` (default ``https://lnpay.co/v1``, the legacy host), ``api_key``, ``access_key`` (the
``wi_`` invoice key) and ``auth`` (``header``, ``query`` or ``basic``; the legacy docs use Basic).
Variables: ``LNNOTEBOOK_LNPAY_LEGACY_URL``, ``LNNOTEBOOK_LNPAY_LEGACY_API_KEY``,
``LNNOTEBOOK_LNPAY_LEGACY_ACCESS_KEY``, ``LNNOTEBOOK_LNPAY_LEGACY_AUTH``. Behaviour is shared with the v1
client: 201 success, Yii2 errors, 401 "LnTx not found". Request fields are only ``num_satoshis``, ``memo``
and ``expiry``. The legacy LnTx has no ``fee_msat``, so ``fee_sat`` is None. Status uses the documented
``GET /v1/lntx/{id}`` on the same host (the legacy docs name no status endpoint of their own).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

import requests

from lnnotebook.options import Option
from lnnotebook.providers.base import (
    LOOKUP_SLACK_S,
    CreatedInvoice,
    Provider,
    basic_auth_blob,
    hex_or_bytes_to_hex,
    lenient_int,
    now_utc,
    parse_time,
)
from lnnotebook.providers.errors import (
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    SuspectInvoiceError,
    UnexpectedResponseError,
)
from lnnotebook.providers.lnpay.wire import (
    ACCESS_TOKEN_PARAM,
    API_KEY_HEADER,
    AUTH_FORMS,
    BASE_PATH,
    CREATE_PATH,
    CREATED_STATUS,
    DEFAULT_EXPIRY,
    FREE_TIER_SUFFIX,
    LEGACY_CREATE_PATH,
    LEGACY_NAME,
    LEGACY_TRANSACTIONS_PATH,
    LNTX_NOT_FOUND,
    LNTX_PATH,
    NAME,
    REFERENCE_FIELD,
    SETTLED_FAILED,
    SETTLED_PAID,
    SETTLED_PENDING,
    TRANSACTIONS_PATH,
)


class LnpayBase(Provider):
    """What both LNPay APIs share: Yii2 errors, key auth forms, the LnTx object and its status."""

    create_path: ClassVar[str]
    transactions_path: ClassVar[str]
    wallet_option: ClassVar[str]
    network = "bc"  # LNPay runs on mainnet only
    lookup_finds_unpaid = False  # the wallet's transactions are the settled ones
    default_invoice_expiry = DEFAULT_EXPIRY
    lntx_path: ClassVar[str] = LNTX_PATH

    def _authenticate(self, session: requests.Session) -> None:
        form = self.config["auth"]
        if form not in AUTH_FORMS:
            raise ConfigurationError(
                f"option 'auth' must be one of {', '.join(AUTH_FORMS)}, got {form!r}",
                provider=self.name,
                field="auth",
            )
        key = self.config["api_key"]
        if form == "header":
            session.headers[API_KEY_HEADER] = key
        elif form == "query":
            session.params = {ACCESS_TOKEN_PARAM: key}
        else:
            session.auth = (key, "")

    def _derived_secrets(self):
        return (basic_auth_blob(self.config["api_key"], ""),)

    def _error_message(self, body: Any, text: str) -> str:
        if isinstance(body, Mapping) and isinstance(body.get("message"), str):
            name = body.get("name")
            return f"{body['message']} ({name})" if name else body["message"]
        return super()._error_message(body, text)

    def _error_class(self, status: int, message: str, action: str) -> type[ProviderError]:
        if status == 401 and message.startswith(LNTX_NOT_FOUND):
            return NotFoundError
        return super()._error_class(status, message, action)

    def _payload(
        self, amount_sat: int, memo: str | None, expiry: int | None, **provider_specific: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"num_satoshis": amount_sat}
        if memo is not None:
            payload["memo"] = memo
        if expiry is not None:
            payload["expiry"] = expiry
        return payload

    def _create(
        self, amount_sat: int, memo: str | None, expiry: int | None, **provider_specific: Any
    ) -> CreatedInvoice:
        action = "create invoice"
        path = self.create_path.format(key=self.config[self.wallet_option])
        payload = self._payload(amount_sat, memo, expiry, **provider_specific)
        _, body = self._request("POST", path, action=action, json_body=payload, ok=(CREATED_STATUS,))
        return self._lntx_record(body, action, amount_sat, memo, expiry)

    def _lntx_record(
        self, lntx: Any, action: str, amount_sat: int, memo: str | None, expiry: int | None
    ) -> CreatedInvoice:
        """The record of an LnTx (a create's answer, or one found in the wallet's transactions)."""
        bolt11 = self._field(lntx, "payment_request", str, action)
        notes: list[str] = []
        fee_msat = self._side_int(lntx, "fee_msat", notes)
        identifier = lntx.get("id")
        if isinstance(identifier, int) and not isinstance(identifier, bool):
            identifier = str(identifier)
            notes.append("field 'id' was a number; kept as text")
        record = {
            "provider_id": identifier if isinstance(identifier, str) and identifier else None,
            "amount_sat": amount_sat,
            "memo": memo,
            "expiry": self._side_int(lntx, "expiry", notes) or expiry,
            "fee_sat": None if fee_msat is None else -(-fee_msat // 1000),
            "status": self._created_status(lntx, notes),
            "created_at": parse_time(lntx.get("created_at")) or now_utc(),
            "raw": lntx,
        }
        if record["provider_id"] is None:
            notes.append(f"field 'id' is {type(identifier).__name__}: the status cannot be asked")
        self._decode_returned(bolt11, action, "payment_request", **record)
        record["bolt11"] = bolt11
        amount = self._side_int(lntx, "num_satoshis", notes)
        if amount is not None and amount != amount_sat:
            message = f"{action}: LNPay created {amount} sat, we asked for {amount_sat}"
            raise self._suspect(message, field="num_satoshis", **record)
        returned_memo = lntx.get("memo")
        if memo is not None and isinstance(returned_memo, str) and returned_memo != memo:
            notes.append(f"LNPay changed the memo to {returned_memo!r}")
        return self._record(note="; ".join(notes) or None, **record)

    def _created_status(self, lntx: Any, notes: list[str]) -> str:
        """A created LnTx's status; an unreadable ``settled`` is noted and read as pending."""
        try:
            return self._map_status(lntx, "create invoice")
        except UnexpectedResponseError as exc:
            notes.append(f"{exc.message}; read as pending")
            return "pending"

    def _expected_descriptions(self, memo: str) -> tuple[str, ...]:
        return (memo, memo + FREE_TIER_SUFFIX)  # core appends the suffix on non-paid tiers

    def _lookup(self, match: Mapping[str, Any]) -> list[CreatedInvoice]:
        """Settled wallet transactions whose LnTx fits ``match`` (LNPay lists only settled ones)."""
        action = "look up a lost invoice"
        path = self.transactions_path.format(key=self.config[self.wallet_option])
        _, body = self._request("GET", path, action=action)
        if not isinstance(body, list):
            raise UnexpectedResponseError(
                f"{action}: the transaction list is not a JSON array", provider=self.name
            )
        found = []
        for wtx in body:
            lntx = wtx.get("lnTx") if isinstance(wtx, Mapping) else None
            if isinstance(lntx, Mapping) and self._fits(wtx, lntx, match):
                try:
                    found.append(
                        self._lntx_record(lntx, action, match["amount_sat"], match["memo"], match["expiry"])
                    )
                except SuspectInvoiceError as error:
                    found.append(error.invoice)
        return found

    def _fits(self, wtx: Mapping[str, Any], lntx: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
        """v1: the reference in ``passThru``; legacy (no passThru): amount, memo and time."""
        return _carries(wtx.get("passThru"), match["reference"]) or _carries(
            lntx.get("passThru"), match["reference"]
        )

    def _status(self, provider_id: str) -> str:
        action = "invoice status"
        _, body = self._request("GET", self.lntx_path.format(id=provider_id), action=action)
        return self._map_status(body, action)

    def _map_status(self, lntx: Any, action: str) -> str:
        settled = self._field(lntx, "settled", int, action)
        if settled == SETTLED_PAID:
            return "paid"
        if settled == SETTLED_FAILED:
            return "failed"
        if settled != SETTLED_PENDING:
            raise UnexpectedResponseError(
                f"{action}: unknown settled value {settled!r}", provider=self.name, field="settled"
            )
        expires_at = self._field(lntx, "expires_at", int, action, optional=True)
        if expires_at is not None and datetime.now(timezone.utc).timestamp() >= expires_at:
            return "expired"
        return "pending"


class LnpayProvider(LnpayBase):
    name = NAME
    default_url = "https://api.lnpay.co" + BASE_PATH
    options = (
        Option("api_key", str, required=True, secret=True, help="LNPay API key (sak_ or pak_)"),
        Option("wallet_key", str, required=True, secret=True, help="wallet access key (wal_ or waki_)"),
        Option("auth", str, "header", help="how the key is sent: header, query or basic"),
    )
    create_arguments = frozenset({"description_hash", "pass_thru"})
    create_path = CREATE_PATH
    transactions_path = TRANSACTIONS_PATH
    wallet_option = "wallet_key"
    attempt_arguments = frozenset({"description_hash"})

    def _payload(
        self, amount_sat: int, memo: str | None, expiry: int | None, **provider_specific: Any
    ) -> dict[str, Any]:
        payload = super()._payload(amount_sat, memo, expiry)
        if provider_specific.get("description_hash") is not None:
            payload["description_hash"] = hex_or_bytes_to_hex(
                provider_specific["description_hash"], length=32, provider=self.name, field="description_hash"
            )
            payload.pop("memo", None)  # LNPay ignores memo when a description hash is given
        pass_thru = provider_specific.get("pass_thru")
        if pass_thru is not None:
            if not isinstance(pass_thru, Mapping):
                raise InvalidRequestError(
                    "pass_thru must be a mapping", provider=self.name, field="pass_thru"
                )
            try:
                json.dumps(dict(pass_thru))
            except (TypeError, ValueError):
                raise InvalidRequestError(
                    "pass_thru must be JSON-serialisable", provider=self.name, field="pass_thru"
                ) from None
            payload["passThru"] = dict(pass_thru)
        reference = self.reference()
        if reference is not None:  # found again by it in the wallet's transactions
            payload["passThru"] = {**payload.get("passThru", {}), REFERENCE_FIELD: reference}
        return payload


class LnpayLegacyProvider(LnpayBase):
    name = LEGACY_NAME
    default_url = "https://lnpay.co" + BASE_PATH
    options = (
        Option("api_key", str, required=True, secret=True, help="LNPay API key"),
        Option("access_key", str, required=True, secret=True, help="wallet access key (wi_...)"),
        Option("auth", str, "basic", help="how the key is sent: header, query or basic"),
    )
    create_path = LEGACY_CREATE_PATH
    transactions_path = LEGACY_TRANSACTIONS_PATH
    wallet_option = "access_key"

    def _fits(self, wtx: Mapping[str, Any], lntx: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
        created = parse_time(lntx.get("created_at"))
        if created is None:
            return False
        earliest = datetime.fromisoformat(match["sent_at"]).timestamp() - LOOKUP_SLACK_S
        latest = datetime.fromisoformat(match["settle_after"]).timestamp() + LOOKUP_SLACK_S
        memo = match["memo"]
        return (
            lenient_int(lntx.get("num_satoshis")) == match["amount_sat"]
            and (memo is None or lntx.get("memo") in self._expected_descriptions(memo))
            and earliest <= created.timestamp() <= latest
        )


def _carries(pass_thru: Any, reference: str) -> bool:
    """True when a passThru (as sent, or as core stores it under ``userDefined``) holds ``reference``."""
    if isinstance(pass_thru, str):
        try:
            pass_thru = json.loads(pass_thru)
        except ValueError:
            return False
    if not isinstance(pass_thru, Mapping):
        return False
    return pass_thru.get(REFERENCE_FIELD) == reference or _carries(pass_thru.get("userDefined"), reference)
