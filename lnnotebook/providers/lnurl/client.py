"""LNURL-pay client: invoices from any Lightning Address or LNURL-pay link (this folder's NOTES.md).

Options: ``address`` (``LNNOTEBOOK_LNURL_ADDRESS``): a Lightning Address ``name@domain``, a bech32
``lnurl1...`` string, an ``lnurlp://`` URL or an ``https://`` URL (``lud01``). ``url`` is accepted as
another way to give the URL; when both are set, one given as an argument beats one from the environment,
and ``address`` beats ``url`` from the same source. ``same_origin_only`` refuses callback and verify URLs on
another origin than the address's; ``cache_seconds`` is how long a payRequest answer is reused.

Choices:

* ``create_invoice`` fetches the payRequest (reused for ``cache_seconds``), refuses an amount outside
  ``minSendable``..``maxSendable`` (in whole sats) before calling the callback, sends ``memo`` as the LUD-12
  ``comment`` (too long, or a service that takes none: an error, never dropped), and refuses ``expiry``
  (LNURL-pay has none). ``payerdata={...}`` sends LUD-18 payer data (name, pubkey, identifier, email).
* The invoice is checked as LUD-06 requires: its description hash is sha256 of the metadata string as
  received (plus the payer data sent), its amount the amount asked. Otherwise ``SuspectInvoiceError``
  carrying the invoice (the ledger keeps it). LNURL gives no fee figure: ``fee_sat`` is None.
* Callbacks on another host than the address's are accepted (LUD-06 allows any; Wallet of Satoshi's
  is one): lnurl sends no credentials anywhere, each origin gets its own ``Transport`` with the same
  timeouts, body caps and redirect policy (never off that origin), and the URL must pass ``lud01``'s
  policy (https, or http to .onion; loopback only when the address is on loopback).
  ``same_origin_only=True`` refuses them.
* The callback mints an invoice, so it is a GET that is retried only when the connection failed before the
  request was sent, never after a read error or an error status (that could mint a second invoice).
* ``provider_id`` is the LUD-21 ``verify`` URL when the service gives one (so ``invoice_status`` and
  ``Ledger.refresh`` work in a later session), else the payment hash, for which there is no status.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from lnnotebook.bolt11 import Invoice, InvoiceError, decode
from lnnotebook.options import Option
from lnnotebook.providers.base import CreatedInvoice, Provider, Recorder, now_utc
from lnnotebook.providers.errors import (
    ConfigurationError,
    InvalidRequestError,
    ProviderError,
    UnexpectedResponseError,
)
from lnnotebook.providers.lnurl.lud01 import Target, parse_target, url_problem
from lnnotebook.providers.lnurl.payrequest import (
    CallbackAnswer,
    PayRequest,
    parse_callback,
    parse_pay_request,
    parse_verify,
    service_refusal,
)
from lnnotebook.providers.lnurl.wire import (
    AMOUNT_PARAM,
    COMMENT_PARAM,
    NAME,
    PAYER_DATA_KINDS,
    PAYERDATA_PARAM,
)
from lnnotebook.transport import Transport, default_error_message, is_loopback

_Origin = tuple[str, str, int | None]


def _origin(url: str) -> _Origin:
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or {"http": 80, "https": 443}[parts.scheme],
    )


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class LnurlProvider(Provider):
    name = NAME
    default_url = ""  # the endpoint comes from `address` (or `url`): _setup
    options = (
        Option("address", str, help="Lightning Address, lnurl1... string, lnurlp:// or https:// URL"),
        Option("same_origin_only", bool, False, help="refuse callbacks/verify URLs on another origin"),
        Option("cache_seconds", float, 60.0, help="seconds a payRequest answer is reused"),
    )
    create_arguments = frozenset({"payerdata"})
    supports_expiry = False
    memo_is_description = False  # the memo is the LUD-12 comment; the invoice commits to the metadata

    def __init__(self, *, recorder: Recorder | None = None, **options: Any) -> None:
        # Which of address/url the caller passed (they beat the environment): _choose_target.
        self._explicit = frozenset(key for key in ("address", "url") if options.get(key) is not None)
        super().__init__(recorder=recorder, **options)

    # --- setup and HTTP --------------------------------------------------------------------------

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._transports: dict[tuple[_Origin, bool], Transport] = {}
        self._cached: PayRequest | None = None
        self._verify_hashes: dict[str, str] = {}  # verify URL -> payment hash, for this session's invoices
        self.target: Target = self._choose_target()
        self.url = self.target.url
        self.config["url"] = self.target.url
        self.config["address"] = self.target.address or self.target.url
        self.transport = self._transport_for(self.url, mints=False)
        self.session: requests.Session = self.transport.session
        self.timeout = self.transport.timeout

    def _choose_target(self) -> Target:
        address, url = self.config["address"], self.config["url"]
        chosen = address if "address" in self._explicit or ("url" not in self._explicit and address) else url
        if not chosen:
            raise ConfigurationError(
                "missing option 'address': pass address=... (a Lightning Address name@domain, an lnurl1... "
                "string, an lnurlp:// or https:// URL) to connect() or set LNNOTEBOOK_LNURL_ADDRESS",
                provider=self.name,
                field="address",
            )
        return parse_target(chosen, allow_insecure=self.config["allow_insecure"])

    def _authenticate(self, session: requests.Session) -> None:
        """LNURL-pay has no credentials."""

    def _error_message(self, body: Any, text: str) -> str:
        if isinstance(body, Mapping) and isinstance(body.get("reason"), str) and body["reason"]:
            return body["reason"]  # {"status": "ERROR", "reason": ...} with a 4xx/5xx status
        return default_error_message(body, text)

    def _transport_for(self, url: str, *, mints: bool) -> Transport:
        """The transport of ``url``'s origin; ``mints``: the callback's (no retry once a request was sent)."""
        key = (_origin(url), mints)
        with self._lock:
            transport = self._transports.get(key)
            if transport is not None:
                return transport
            scheme, host, port = key[0]
            transport = Transport(
                self.name,
                f"{scheme}://{host if ':' not in host else f'[{host}]'}:{port}",
                connect_timeout=self.config["connect_timeout"],
                read_timeout=self.config["read_timeout"],
                retries=self.config["retries"],
                backoff=self.config["backoff"],
                retry_statuses=frozenset() if mints else self.retry_statuses,
                retry_post=False,
                allow_insecure=scheme == "http",  # lud01's policy has vetted the URL: http only where allowed
                error_class=self._error_class,
                error_message=self._error_message,
            )
            if mints:
                for adapter in transport.session.adapters.values():
                    adapter.max_retries = adapter.max_retries.new(read=0, status=0)  # type: ignore[attr-defined]
            self._transports[key] = transport
            return transport

    def _get(
        self, url: str, action: str, *, params: Mapping[str, Any] | None = None, mints: bool = False
    ) -> Any:
        """GET ``url`` (an LNURL step); the decoded body, or the error the service's answer means."""
        transport = self._transport_for(url, mints=mints)
        if transport is self.transport:
            _, body = self._request("GET", _path(url), action=action, ok=range(200, 300), params=params)
        else:
            _, body = transport.request("GET", _path(url), action=action, ok=range(200, 300), params=params)
        refusal = service_refusal(body, action, self.target.label)
        if refusal is not None:
            raise refusal
        return body

    def _service_url(self, url: str, what: str) -> str:
        """``url`` from the service (callback, verify), if lnnotebook may call it; else the error why."""
        same = urlsplit(url).scheme in ("http", "https") and _origin(url) == _origin(self.url)
        problem = url_problem(
            url,
            allow_insecure=same and self.config["allow_insecure"],
            allow_loopback=is_loopback(self.target.host),
        )
        if problem is None and self.config["same_origin_only"] and not same:
            problem = f"{url!r} is on another origin than {self.url!r} (same_origin_only=True)"
        if problem:
            raise UnexpectedResponseError(
                f"{self.target.label}: the {what} URL is refused: {problem}", provider=self.name, field=what
            )
        return url

    def close(self) -> None:
        if not self._closed and hasattr(self, "_transports"):
            with self._lock:
                others = [t for t in self._transports.values() if t is not getattr(self, "transport", None)]
                self._transports.clear()
            for transport in others:
                transport.close()
        super().close()

    # --- the payRequest ------------------------------------------------------------------------

    def pay_request(self, *, fresh: bool = False) -> PayRequest:
        """The service's payRequest (LUD-06 first answer), reused for ``cache_seconds`` unless ``fresh``."""
        self._ensure_open()
        with self._lock:
            cached = self._cached
        if (
            cached is not None
            and not fresh
            and time.monotonic() - cached.fetched_at < self.config["cache_seconds"]
        ):
            return cached
        action = "fetch payRequest"
        body = self._get(self.url, action)
        request = parse_pay_request(body, url=self.url, action=action, where=self.target.label)
        self._service_url(request.callback, "callback")
        with self._lock:
            self._cached = request
        return request

    # --- create ---------------------------------------------------------------------------------

    def _create(
        self, amount_sat: int, memo: str | None, expiry: int | None, **provider_specific: Any
    ) -> CreatedInvoice:
        request = self.pay_request()
        self._check_limits(request, amount_sat)
        params: dict[str, Any] = {AMOUNT_PARAM: amount_sat * 1000}
        if memo is not None:
            params[COMMENT_PARAM] = self._comment(request, memo)
        payerdata = self._payerdata(request, provider_specific.get("payerdata"))
        if payerdata is not None:
            params[PAYERDATA_PARAM] = payerdata
        action = "create invoice (callback)"
        body = self._get(request.callback, action, params=params, mints=True)
        answer = parse_callback(body, callback=request.callback, action=action, where=self.target.label)
        if answer.verify is not None:
            self._service_url(answer.verify, "verify")
        raw = self._raw(request, answer, memo, payerdata)
        record: dict[str, Any] = {"amount_sat": amount_sat, "memo": memo, "expiry": None, "raw": raw}
        decoded = self._decode_returned(answer.pr, action, "pr", provider_id=answer.verify, **record)
        record.update(
            provider_id=answer.verify or decoded.payment_hash,
            bolt11=answer.pr,
            expiry=decoded.expiry,
            fee_sat=None,  # LNURL-pay reports no fee
            status="pending",
            created_at=decoded.created_at or now_utc(),
        )
        self._check_invoice(decoded, request, amount_sat, payerdata, record)
        if answer.verify is not None:
            with self._lock:
                self._verify_hashes[answer.verify] = decoded.payment_hash
        note = "; ".join(answer.problems) or None
        return self._record(note=note, **record)

    def _check_limits(self, request: PayRequest, amount_sat: int) -> None:
        if request.min_sat > request.max_sat:
            raise InvalidRequestError(
                f"{self.target.label} takes {request.min_sendable_msat}..{request.max_sendable_msat} msat: "
                "no whole number of satoshis fits",
                provider=self.name,
                field="amount_sat",
            )
        if not request.min_sat <= amount_sat <= request.max_sat:
            raise InvalidRequestError(
                f"{self.target.label} takes {request.min_sat:,} to {request.max_sat:,} sat "
                f"(minSendable/maxSendable), not {amount_sat:,} sat",
                provider=self.name,
                field="amount_sat",
            )

    def _comment(self, request: PayRequest, memo: str) -> str:
        if request.comment_allowed <= 0:
            raise InvalidRequestError(
                f"{self.target.label} takes no comment (LUD-12 commentAllowed is 0), so memo cannot be "
                f"sent; its invoices describe themselves as {request.description[:80]!r}. Leave memo=None",
                provider=self.name,
                field="memo",
            )
        if len(memo) > request.comment_allowed:
            raise InvalidRequestError(
                f"memo is {len(memo)} characters; {self.target.label} takes comments of at most "
                f"{request.comment_allowed} (LUD-12 commentAllowed)",
                provider=self.name,
                field="memo",
            )
        return memo

    def _payerdata(self, request: PayRequest, given: Any) -> str | None:
        """The LUD-18 payer data as the JSON text sent (and hashed), or None; refuses what cannot work."""
        mandatory = request.mandatory_payer_data()
        if given is None:
            if mandatory:
                raise InvalidRequestError(
                    f"{self.target.label} requires payer data {', '.join(mandatory)} (LUD-18); pass "
                    "payerdata={...} to create_invoice",
                    provider=self.name,
                    field="payerdata",
                )
            return None
        if not isinstance(given, Mapping) or not all(isinstance(v, str) for v in given.values()):
            raise InvalidRequestError(
                "payerdata must be a dict of strings", provider=self.name, field="payerdata"
            )
        unsendable = sorted(set(given) - PAYER_DATA_KINDS) + sorted(set(mandatory) - PAYER_DATA_KINDS)
        unasked = sorted(set(given) - set(request.payer_data))
        missing = sorted(set(mandatory) - set(given))
        problem = (
            f"lnnotebook sends only {', '.join(sorted(PAYER_DATA_KINDS))}, not {', '.join(unsendable)}"
            if unsendable
            else f"{self.target.label} does not ask for {', '.join(unasked)} (LUD-18 payerData)"
            if unasked
            else f"{self.target.label} requires {', '.join(missing)} too"
            if missing
            else None
        )
        if problem:
            raise InvalidRequestError(f"payerdata: {problem}", provider=self.name, field="payerdata")
        return json.dumps(dict(given), separators=(",", ":"), ensure_ascii=False)

    def _raw(
        self, request: PayRequest, answer: CallbackAnswer, comment: str | None, payerdata: str | None
    ) -> dict[str, Any]:
        return {
            "address": self.target.address,
            **request.summary(),
            "comment": comment,
            "payerdata": payerdata,
            "successAction": answer.success_action,
            "verify": answer.verify,
            "routes": answer.routes,
            "disposable": answer.disposable,
        }

    def _check_invoice(
        self,
        decoded: Invoice,
        request: PayRequest,
        amount_sat: int,
        payerdata: str | None,
        record: dict[str, Any],
    ) -> None:
        """LUD-06 steps 6 and 7: the invoice commits to the metadata and asks the amount asked."""
        expected = request.description_hash(payerdata)
        if decoded.description_hash != expected:
            found = f"description hash {decoded.description_hash}" if decoded.description_hash else "no hash"
            raise self._suspect(
                f"{self.target.label} returned an invoice with {found}, not sha256 of its metadata "
                f"({expected}); LUD-06: a wallet must not pay it",
                field="pr",
                **record,
            )
        if decoded.amount_msat != amount_sat * 1000:
            found = "no amount" if decoded.amount_msat is None else f"{decoded.amount_msat} msat"
            raise self._suspect(
                f"{self.target.label} returned an invoice for {found}, not the {amount_sat * 1000} msat "
                "asked (LUD-06)",
                field="pr",
                **record,
            )

    # --- status ---------------------------------------------------------------------------------

    def _status(self, provider_id: str) -> str:
        if not provider_id.lower().startswith(("https://", "http://")):
            raise ProviderError(
                f"{self.target.label} offers no invoice status: its callback answer carried no LUD-21 "
                f"verify URL for invoice {provider_id[:16]}...",
                provider=self.name,
                field="invoice_or_id",
            )
        action = "verify invoice (LUD-21)"
        body = self._get(self._service_url(provider_id, "verify"), action)
        answer = parse_verify(body, action=action, where=self.target.label)
        invoice = self._verified_invoice(answer.pr, action)
        with self._lock:
            expected = self._verify_hashes.get(provider_id)
        if expected is not None and invoice is not None and invoice.payment_hash != expected:
            raise UnexpectedResponseError(
                f"{action}: {self.target.label} answered about another invoice (payment hash "
                f"{invoice.payment_hash}, not {expected})",
                provider=self.name,
                field="pr",
            )
        if answer.settled:
            self._check_preimage(answer.preimage, invoice or None, expected, action)
            return "paid"
        return "expired" if invoice is not None and invoice.is_expired else "pending"

    def _verified_invoice(self, pr: str | None, action: str) -> Invoice | None:
        if pr is None:
            return None
        try:
            return decode(pr)
        except InvoiceError as exc:
            raise UnexpectedResponseError(
                f"{action}: {self.target.label} answered with a 'pr' that is not a valid invoice: {exc}",
                provider=self.name,
                field="pr",
            ) from None

    def _check_preimage(
        self, preimage: str | None, invoice: Invoice | None, expected: str | None, action: str
    ) -> None:
        """LUD-21: a settled invoice's preimage hashes to its payment hash (when both are known)."""
        payment_hash = invoice.payment_hash if invoice is not None else expected
        if preimage is None or payment_hash is None:
            return
        try:
            digest = hashlib.sha256(bytes.fromhex(preimage)).hexdigest()
        except ValueError:
            digest = None
        if digest != payment_hash:
            raise UnexpectedResponseError(
                f"{action}: {self.target.label} says the invoice is settled, but its preimage does not hash "
                "to the payment hash",
                provider=self.name,
                field="preimage",
            )
