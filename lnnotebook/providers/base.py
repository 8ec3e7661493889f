"""The provider client base class, the CreatedInvoice record and the Recorder a client reports to.

A provider client is one module in ``lnnotebook/providers/`` with one ``Provider`` subclass that
declares its options and implements ``_create``, ``_status`` and (optionally) ``receive_fee``.
Everything shared lives here: option resolution (keyword arguments, then ``LNNOTEBOOK_<PROVIDER>_<OPTION>``)
and input validation; every HTTP concern (session, retries, error mapping, redaction) is the client's
``Transport`` (``lnnotebook.transport``).

A client persists nothing itself. It reports to an injected ``Recorder`` (``recorder=None``: nothing is
recorded): ``lnnotebook.connect`` (``lnnotebook.service``) injects the ledger, so that every invoice a
provider returns is committed before ``create_invoice`` returns it. ``_finalise`` is the single place
a created invoice passes through on its way out.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import operator
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Protocol

import requests

from lnnotebook.bolt11 import Invoice, InvoiceError, decode
from lnnotebook.errors import LnnotebookError
from lnnotebook.options import Option, resolve_options
from lnnotebook.providers.errors import (
    AnswerLostError,
    ConfigurationError,
    InvalidRequestError,
    InvoiceMayExistError,
    ProviderError,
    SuspectInvoiceError,
    UnexpectedResponseError,
)
from lnnotebook.transport import (
    REDACTED,
    Transport,
    default_error_class,
    default_error_message,
    redact,
    redact_data,
)

_log = logging.getLogger(__name__)

STATUSES = ("pending", "paid", "expired", "failed")
MAX_SUPPLY_SAT = 21_000_000 * 100_000_000
MAX_DESCRIPTION_BYTES = 639  # a BOLT11 `d` field holds at most 1023 5-bit groups
# Response fields that are secrets in every provider's vocabulary; hidden in `raw`.
SECRET_FIELDS = frozenset({"payment_preimage", "preimage", "token", "api_key", "api_secret", "access_key"})

COMMON_OPTIONS: tuple[Option, ...] = (
    Option("connect_timeout", float, 3.05, help="seconds to establish a connection"),
    Option("read_timeout", float, 20.0, help="seconds to wait for response data"),
    Option("retries", int, 3, help="retries for safe requests (see lnnotebook.transport)"),
    Option("backoff", float, 0.3, help="urllib3 backoff_factor between retries"),
    Option("allow_insecure", bool, False, help="allow plain http:// to non-loopback hosts"),
    Option("network", str, None, help="BOLT11 currency the provider's invoices must carry (bc, tb, ...)"),
)
REFERENCE_PREFIX = "lnnb-"  # client references: REFERENCE_PREFIX + 32 hex digits
LOOKUP_SLACK_S = 5.0  # seconds around an attempt in which a provider's invoice timestamp may fall


@dataclass(frozen=True)
class CreatedInvoice:
    """An invoice a provider created. ``raw`` is the provider's response with secrets removed.

    ``note`` explains anything surprising about the record, e.g. why ``bolt11`` is None.
    """

    provider: str
    provider_id: str | None
    bolt11: str | None
    amount_sat: int
    memo: str | None
    expiry: int | None
    fee_sat: int | None
    status: str
    created_at: datetime
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    note: str | None = None

    def _repr_html_(self) -> str:
        """Jupyter's rich display: provider, status, fee and the decoded invoice with its QR code,
        or the ``note`` when the provider returned no BOLT11 string (``lnnotebook.display``)."""
        from lnnotebook.display import created_invoice_html

        return created_invoice_html(self)


class Recorder(Protocol):
    """Where a client reports what happened (the ledger is one). A recorder that cannot save raises an
    ``LnnotebookError``; from ``record`` it must carry the invoice (``LedgerError.invoice``), because
    the invoice exists at the provider and must never be lost.

    A recorder that also has the ``AttemptRecorder`` methods (the ledger has) gets every create as an
    attempt *before* its request is sent, so an invoice whose answer is lost can be found again.
    """

    def record(self, invoice: CreatedInvoice, *, error: BaseException | None = None) -> object:
        """Keep an invoice the provider created (``error``: what is wrong with it), durably."""
        ...

    def record_failure(
        self,
        provider: str,
        error: BaseException,
        *,
        amount_sat: Any = None,
        memo: Any = None,
        expiry: Any = None,
    ) -> object:
        """Keep a failed create attempt with its (redacted) error."""
        ...

    def note_status(self, provider: str, provider_id: str, status: str) -> object:
        """Keep a status the provider reported for one of its invoices."""
        ...


class AttemptRecorder(Recorder, Protocol):
    """A recorder that keeps create attempts: ``record``/``record_failure`` then take ``attempt=``."""

    def record_attempt(
        self,
        provider: str,
        reference: str,
        *,
        amount_sat: Any = None,
        memo: Any = None,
        expiry: Any = None,
        match: Mapping[str, Any] | None = None,
    ) -> int:
        """Keep an attempt before its request is sent; returns its id (raises if it cannot)."""
        ...

    def mark_unknown(self, attempt: int, error: BaseException) -> object:
        """The attempt's answer was lost and the provider could not be asked: keep it ``unknown``."""
        ...

    def claim(self, attempt: int, invoice: CreatedInvoice) -> bool:
        """Make a found invoice the attempt's; False when another attempt already holds it."""
        ...


def keeps_attempts(recorder: object) -> bool:
    """True when ``recorder`` has the ``AttemptRecorder`` methods."""
    return all(
        callable(getattr(recorder, name, None)) for name in ("record_attempt", "mark_unknown", "claim")
    )


class Provider(ABC):
    """A client for one invoice provider. Create with ``lnnotebook.connect(name, **options)``.

    Built directly (``BarkdProvider(token=...)``) a client records nothing unless given a ``recorder``.
    """

    name: ClassVar[str]
    default_url: ClassVar[str | None] = None
    options: ClassVar[tuple[Option, ...]] = ()
    create_arguments: ClassVar[frozenset[str]] = frozenset()  # accepted **provider_specific names
    min_amount_sat: ClassVar[int] = 1
    max_amount_sat: ClassVar[int] = MAX_SUPPLY_SAT
    supports_expiry: ClassVar[bool] = True
    # False where the memo travels beside the invoice (an LNURL comment), not as its description
    memo_is_description: ClassVar[bool] = True
    idempotent_create: ClassVar[bool] = False  # True only with an idempotency key on every POST
    network: ClassVar[str | None] = None  # the BOLT11 currency every invoice carries, when fixed
    lookup_finds_unpaid: ClassVar[bool] = True  # False: the lookup lists only paid invoices (LNPay)
    default_invoice_expiry: ClassVar[int] = 3600  # seconds, when the create does not say
    # provider_specific arguments kept with an attempt (JSON-safe, no secret) for a later lookup
    attempt_arguments: ClassVar[frozenset[str]] = frozenset()
    retry_statuses: ClassVar[frozenset[int]] = frozenset({429, 500, 502, 503, 504})

    def __init__(self, *, recorder: Recorder | None = None, **options: Any) -> None:
        if "ledger" in options:
            raise ConfigurationError(
                "ledger= is an option of lnnotebook.connect(); a client built directly takes recorder= "
                "(e.g. a lnnotebook.Ledger), or records nothing",
                provider=self.name,
                field="ledger",
            )
        specs = (Option("url", str, self.default_url, required=True), *self.options, *COMMON_OPTIONS)
        self.config: dict[str, Any] = _Options(
            resolve_options(self.name, specs, options), secret=[spec.name for spec in specs if spec.secret]
        )
        self._secrets: tuple[str, ...] = tuple(
            str(self.config[spec.name]) for spec in specs if spec.secret and self.config[spec.name]
        )
        self._secrets += tuple(self._derived_secrets())
        self._closed = False
        self._attempt = threading.local()  # the create this thread is sending (reference, match)
        # Told about every invoice this client creates before create_invoice returns it.
        self.recorder: Recorder | None = recorder
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        self.url = self.config["url"].rstrip("/")
        self.transport = Transport(
            self.name,
            self.url,
            connect_timeout=self.config["connect_timeout"],
            read_timeout=self.config["read_timeout"],
            retries=self.config["retries"],
            backoff=self.config["backoff"],
            retry_statuses=self.retry_statuses,
            retry_post=self.idempotent_create,
            allow_insecure=self.config["allow_insecure"],
            secrets=self._secrets,
            # Bound methods: a subclass's overrides apply.
            error_class=self._error_class,
            error_message=self._error_message,
        )
        self.session: requests.Session = self.transport.session
        self.timeout = self.transport.timeout
        self._authenticate(self.session)

    # --- what a provider module implements -----------------------------------------------------

    @abstractmethod
    def _authenticate(self, session: requests.Session) -> None:
        """Attach credentials to the session (headers, auth or params)."""

    @abstractmethod
    def _create(
        self, amount_sat: int, memo: str | None, expiry: int | None, **provider_specific: Any
    ) -> CreatedInvoice:
        """Send the create request and build the record (inputs are already validated)."""

    @abstractmethod
    def _status(self, provider_id: str) -> str:
        """One of STATUSES, from the provider's status endpoint."""

    def _derived_secrets(self) -> Iterable[str]:
        """Encoded forms of the credentials (e.g. a Basic auth blob) that must be hidden too."""
        return ()

    def _error_message(self, body: Any, text: str) -> str:
        """The provider's own message from an error body (override for provider formats)."""
        return default_error_message(body, text)

    def _error_class(self, status: int, message: str, action: str) -> type[ProviderError]:
        """Which ProviderError subclass a failed HTTP status means (override for quirks)."""
        return default_error_class(status, message, action)

    def receive_fee(self, amount_sat: int) -> int | None:
        """The provider's receive-fee estimate in sats, or None when it offers none."""
        self._check_amount(amount_sat)
        return None

    def _lookup(self, match: Mapping[str, Any]) -> list[CreatedInvoice]:
        """The invoices at the provider that fit ``match`` (see ``lookup``); override where a list or
        replay endpoint exists."""
        raise NotImplementedError

    def _expected_descriptions(self, memo: str) -> tuple[str, ...]:
        """The descriptions an invoice asked for with ``memo`` may carry (a provider's own suffix...)."""
        return (memo,)

    # --- public API ----------------------------------------------------------------------------

    def create_invoice(
        self, amount_sat: int, memo: str | None = None, expiry: int | None = None, **provider_specific: Any
    ) -> CreatedInvoice:
        """Create an invoice; validates everything before sending anything.

        With a recorder that keeps attempts (the ledger) the attempt and its client reference are
        saved before the request is sent. If the answer is lost after sending (``AnswerLostError``)
        the client looks the invoice up at the provider and returns it (``note`` says "recovered");
        if it cannot tell now, the attempt stays ``unknown`` and ``InvoiceMayExistError`` is raised.
        """
        self._ensure_open()
        amount_sat = self._check_amount(amount_sat)
        memo = self._check_memo(memo)
        expiry = self._check_expiry(expiry)
        unknown = sorted(set(provider_specific) - self.create_arguments)
        if unknown:
            accepted = ", ".join(sorted(self.create_arguments)) or "none"
            raise InvalidRequestError(
                f"unknown argument(s) {', '.join(unknown)} for create_invoice (accepted here: {accepted})",
                provider=self.name,
                field=unknown[0],
            )
        match = self._match_info(amount_sat, memo, expiry, provider_specific)
        attempt = self._begin_attempt(match)
        self._attempt.match = match
        lost: AnswerLostError | None = None
        try:
            created = self._create(amount_sat, memo, expiry, **provider_specific)
            created = self._checked(created, match)
        except SuspectInvoiceError as error:  # created, yet wrong: keep it, with what is wrong
            self._keep(error.invoice, attempt, error=error)
            raise
        except AnswerLostError as error:
            lost = error
        except ProviderError as error:
            self._keep_failure(error, match, attempt)
            raise
        finally:
            self._attempt.match = None
        if lost is not None:  # outside the except block: no exception chain to carry
            return self._recover(lost, match, attempt)
        return self._finalise(created, attempt)

    def lookup(self, match: Mapping[str, Any]) -> list[CreatedInvoice]:
        """Invoices at the provider that fit a create attempt (``match``: what the ledger kept of it),
        best first; raises a ProviderError when the provider cannot be asked. ``[]``: none made."""
        self._ensure_open()
        if not self.can_look_up:
            raise ProviderError(
                "this provider offers no way to look an invoice up by what was asked", provider=self.name
            )
        found = []
        for invoice in self._lookup(match):
            try:
                found.append(self._checked(invoice, match))
            except SuspectInvoiceError as error:
                found.append(error.invoice)  # still the provider's invoice; its note says what is wrong
        return found

    def settled_by(self, match: Mapping[str, Any]) -> datetime:
        """From when a lookup that finds nothing for ``match`` means there is nothing to find: once the
        provider has answered or dropped the request, or (a lookup of paid invoices only) once the
        invoice, if it was made, has expired unpaid."""
        settle = datetime.fromisoformat(match["settle_after"])
        if self.lookup_finds_unpaid:
            return settle
        expiry = match.get("expiry") or self.default_invoice_expiry
        return settle + timedelta(seconds=expiry + LOOKUP_SLACK_S)

    @property
    def can_look_up(self) -> bool:
        return type(self)._lookup is not Provider._lookup

    def invoice_status(self, invoice_or_id: CreatedInvoice | str) -> str:
        """``pending``, ``paid``, ``expired`` or ``failed``, from the provider's status endpoint."""
        self._ensure_open()
        if isinstance(invoice_or_id, CreatedInvoice):
            if invoice_or_id.provider != self.name:
                raise InvalidRequestError(
                    f"invoice was created by {invoice_or_id.provider!r}, not {self.name!r}",
                    provider=self.name,
                    field="invoice_or_id",
                )
            identifier = invoice_or_id.provider_id
        else:
            identifier = invoice_or_id
        if not isinstance(identifier, str) or not identifier.strip():
            raise InvalidRequestError(
                "invoice_or_id must be a CreatedInvoice or a non-empty id string",
                provider=self.name,
                field="invoice_or_id",
            )
        status = self._status(identifier.strip())
        assert status in STATUSES, status
        if self.recorder is not None:
            try:
                self.recorder.note_status(self.name, identifier.strip(), status)
            except LnnotebookError as error:  # the provider answered; its answer matters more than our note
                _log.warning("%s", error)
        return status

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if hasattr(self, "transport"):
                self.transport.close()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown: nothing useful to do
            self.close()

    def __repr__(self) -> str:
        url = getattr(self, "url", None) or self.config.get("url")
        return f"<{type(self).__name__} {self.name!r} url={redact(str(url), self._secrets)!r}>"

    # --- helpers for provider modules ----------------------------------------------------------

    def _finalise(self, invoice: CreatedInvoice, attempt: int | None = None) -> CreatedInvoice:
        """The one place every created invoice passes through before it is returned: the recorder.

        A failed write raises (``LedgerError`` from the ledger) carrying the invoice, so it is never
        silently unrecorded.
        """
        self._keep(invoice, attempt)
        return invoice

    def _keep(
        self, invoice: CreatedInvoice, attempt: int | None, *, error: BaseException | None = None
    ) -> None:
        if self.recorder is None:
            return
        extra: dict[str, Any] = {} if error is None else {"error": error}  # a plain recorder: record(invoice)
        if attempt is not None:
            extra["attempt"] = attempt
        self.recorder.record(invoice, **extra)

    def _keep_failure(self, error: ProviderError, match: Mapping[str, Any], attempt: int | None) -> None:
        if self.recorder is None:
            return
        asked = {key: match.get(key) for key in ("amount_sat", "memo", "expiry")}
        if attempt is not None:
            asked["attempt"] = attempt
        try:
            self.recorder.record_failure(self.name, error, **asked)
        except LnnotebookError as unsaved:  # the provider's error is what the caller must see
            _log.warning("%s", unsaved)

    def reference(self) -> str | None:
        """The client reference of the create this thread is sending (for ``_create``), else None."""
        match = getattr(self._attempt, "match", None)
        return None if match is None else match["reference"]

    def _match_info(
        self, amount_sat: int, memo: str | None, expiry: int | None, provider_specific: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What the ledger keeps of an attempt to find its invoice later (no secret in it)."""
        sent_at = now_utc()
        kept = {}
        # description_hash always: the signed invoice is checked against it
        for name in sorted((self.attempt_arguments | {"description_hash"}) & set(provider_specific)):
            value = provider_specific[name]
            if name == "description_hash" and value is not None:
                value = hex_or_bytes_to_hex(value, length=32, provider=self.name, field=name)
            kept[name] = dict(value) if isinstance(value, Mapping) else value
        return {
            "reference": REFERENCE_PREFIX + uuid.uuid4().hex,
            "amount_sat": amount_sat,
            "memo": memo,
            "expiry": expiry,
            "arguments": kept,
            "sent_at": sent_at.isoformat(),
            # after this, a provider that had the request has answered or given up on it
            "settle_after": (sent_at + timedelta(seconds=self.config["read_timeout"] + 1)).isoformat(),
        }

    def _begin_attempt(self, match: Mapping[str, Any]) -> int | None:
        if self.recorder is None or not keeps_attempts(self.recorder):
            return None
        recorder: AttemptRecorder = self.recorder  # type: ignore[assignment]  # checked above
        return recorder.record_attempt(
            self.name,
            match["reference"],
            amount_sat=match["amount_sat"],
            memo=match["memo"],
            expiry=match["expiry"],
            match=match,
        )

    def _recover(
        self, lost: AnswerLostError, match: Mapping[str, Any], attempt: int | None
    ) -> CreatedInvoice:
        """After a lost answer: the invoice found at the provider, or ``InvoiceMayExistError``."""
        why = "this provider has no lookup" if not self.can_look_up else ""
        if self.can_look_up:
            try:
                for candidate in self.lookup(match):
                    recovered = replace(
                        candidate, note=_joined(candidate.note, f"recovered after: {lost.message}")
                    )
                    if self._claim(recovered, attempt):
                        return recovered
                why = "no invoice fitting the request is listed yet"
            except ProviderError as failure:
                why = f"the lookup failed: {failure.message}"
        message = (
            f"{lost.message}. The invoice may exist at {self.name} ({why}); the attempt is kept as unknown "
            f"with reference {match['reference']}: run lnnotebook.Ledger().reconcile() (CLI: lnnotebook "
            "reconcile) to settle it"
        )
        error = InvoiceMayExistError(
            message, provider=self.name, attempt=attempt, reference=match["reference"]
        )
        if attempt is not None:
            try:
                self.recorder.mark_unknown(attempt, error)  # type: ignore[union-attr]
            except LnnotebookError as unsaved:
                _log.warning("%s", unsaved)
        elif self.recorder is not None:
            self._keep_failure(error, match, None)
        raise error from None

    def _claim(self, invoice: CreatedInvoice, attempt: int | None) -> bool:
        """Record a found invoice as the attempt's; False when the ledger has it for another attempt."""
        if self.recorder is None:
            return True
        if attempt is None:
            self.recorder.record(invoice)
            return True
        return bool(self.recorder.claim(attempt, invoice))  # type: ignore[attr-defined]

    def _checked(self, invoice: CreatedInvoice, match: Mapping[str, Any]) -> CreatedInvoice:
        """``invoice`` if its signed BOLT11 fits the request, else a SuspectInvoiceError carrying it."""
        if invoice.bolt11 is None:
            return invoice
        problem: str | None
        try:
            decoded = decode(invoice.bolt11)
        except InvoiceError as exc:
            problem, field_name = f"the invoice does not decode: {exc}", "bolt11"
        else:
            problem, field_name = self._mismatch(decoded, match)
        if problem is None:
            return invoice
        message = f"create invoice: {problem}"
        suspect = replace(invoice, note=_joined(invoice.note, message))
        raise SuspectInvoiceError(message, provider=self.name, field=field_name, invoice=suspect)

    def _mismatch(self, decoded: Invoice, match: Mapping[str, Any]) -> tuple[str | None, str]:
        """(what differs between the signed invoice and the request, field) or (None, "")."""
        asked_msat = match["amount_sat"] * 1000
        if decoded.amount_msat != asked_msat:
            shown = "no amount" if decoded.amount_msat is None else f"{decoded.amount_msat} msat"
            return f"the signed invoice is for {shown}, {asked_msat} msat were asked for", "amount"
        wanted_hash = match.get("arguments", {}).get("description_hash")
        memo = match.get("memo")
        if wanted_hash is not None:
            if (decoded.description_hash or "").lower() != wanted_hash.lower():
                return (
                    "the signed invoice does not commit to the description_hash asked for",
                    "description_hash",
                )
        elif (
            memo and self.memo_is_description and decoded.description not in self._expected_descriptions(memo)
        ):
            return (
                f"the signed invoice's description is {decoded.description!r}, not the memo {memo!r}",
                "memo",
            )
        expiry = match.get("expiry")
        if expiry is not None and decoded.expiry != expiry:
            return f"the signed invoice expires after {decoded.expiry} s, {expiry} s were asked for", "expiry"
        network = self.config.get("network") or self.network
        if network and decoded.network != network:
            return f"the signed invoice is for network {decoded.network!r}, not {network!r}", "network"
        return None, ""

    def _record(self, *, raw: Any, **fields: Any) -> CreatedInvoice:
        """A CreatedInvoice for this provider with secrets scrubbed from ``raw``."""
        clean = redact_data(raw, self._secrets, SECRET_FIELDS)
        return CreatedInvoice(
            provider=self.name, raw=clean if isinstance(clean, Mapping) else {"body": clean}, **fields
        )

    def _suspect(self, message: str, *, field: str, **record: Any) -> SuspectInvoiceError:
        """The error for an invoice the provider created but got wrong, carrying the record of it."""
        invoice = self._record(note=message, **record)
        return SuspectInvoiceError(message, provider=self.name, field=field, invoice=invoice)

    def _decode_returned(self, bolt11: str, action: str, field: str, **record: Any) -> Invoice:
        """The provider's BOLT11 string decoded. An invalid one is the provider's fault: raised as a
        SuspectInvoiceError whose record (``record``: the CreatedInvoice fields known so far, with
        ``raw``) keeps the string."""
        try:
            return decode(bolt11)
        except InvoiceError as exc:
            message = f"{action}: field {field!r} is not a valid BOLT11 invoice: {exc}"
            defaults = {"provider_id": None, "fee_sat": None, "status": "pending", "created_at": now_utc()}
            raise self._suspect(message, field=field, bolt11=bolt11, **{**defaults, **record}) from None

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        ok: Iterable[int] = (200,),
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[requests.Response, Any]:
        """Send one request; return (response, decoded JSON body) or raise a ProviderError."""
        return self.transport.request(
            method, path, action=action, ok=ok, json_body=json_body, params=params, headers=headers
        )

    def _ensure_open(self) -> None:
        if self._closed:
            raise ProviderError("this client was closed; connect() again", provider=self.name)

    def _check_amount(self, amount_sat: Any) -> int:
        amount = whole_number(amount_sat)
        if amount is None:
            raise InvalidRequestError(
                f"amount_sat must be a whole number of satoshis, got {amount_sat!r}",
                provider=self.name,
                field="amount_sat",
            )
        if not self.min_amount_sat <= amount <= self.max_amount_sat:
            raise InvalidRequestError(
                f"amount_sat must be between {self.min_amount_sat} and {self.max_amount_sat} "
                f"for {self.name}, "
                f"got {amount}",
                provider=self.name,
                field="amount_sat",
            )
        return amount

    def _check_memo(self, memo: Any) -> str | None:
        if memo is None:
            return None
        if not isinstance(memo, str):
            raise InvalidRequestError(
                f"memo must be a string, got {type(memo).__name__}", provider=self.name, field="memo"
            )
        try:
            size = len(memo.encode("utf-8"))
        except UnicodeEncodeError:
            raise InvalidRequestError(
                "memo is not valid UTF-8 text", provider=self.name, field="memo"
            ) from None
        if size > MAX_DESCRIPTION_BYTES:
            raise InvalidRequestError(
                f"memo is {size} UTF-8 bytes; a BOLT11 description holds at most {MAX_DESCRIPTION_BYTES}",
                provider=self.name,
                field="memo",
            )
        return memo

    def _check_expiry(self, expiry: Any) -> int | None:
        if expiry is None:
            return None
        if not self.supports_expiry:
            raise InvalidRequestError(
                "the create endpoint has no expiry field; leave expiry=None",
                provider=self.name,
                field="expiry",
            )
        value = whole_number(expiry)
        if value is None or value <= 0:
            raise InvalidRequestError(
                f"expiry must be a positive whole number of seconds, got {expiry!r}",
                provider=self.name,
                field="expiry",
            )
        return value

    def _side_int(self, body: Any, key: str, notes: list[str]) -> int | None:
        """An optional integer side field, coerced from a string of digits; a value that cannot be
        read is noted (``notes``) and taken as missing: a side field never costs the invoice."""
        value = body.get(key) if isinstance(body, Mapping) else None
        number = lenient_int(value)
        if value is not None and number is None:
            notes.append(
                f"field {key!r} ignored: {type(value).__name__} {str(value)[:40]!r} is not an integer"
            )
        elif isinstance(value, str):
            notes.append(f"field {key!r} was the string {value!r}; read as {number}")
        return number

    def _field(
        self, body: Any, key: str, kinds: type | tuple[type, ...], action: str, *, optional: bool = False
    ):
        """``body[key]`` checked for type; a missing or mistyped field is an UnexpectedResponseError."""
        if isinstance(body, Mapping) and key in body:
            value = body[key]
            if (value is None and optional) or (isinstance(value, kinds) and not isinstance(value, bool)):
                return value
            problem = f"field {key!r} has type {type(value).__name__}"
        elif optional:
            return None
        else:
            problem = (
                f"field {key!r} is missing" if isinstance(body, Mapping) else "body is not a JSON object"
            )
        raise UnexpectedResponseError(f"{action}: response {problem}", provider=self.name, field=key)


def _joined(*notes: str | None) -> str | None:
    return "; ".join(note for note in notes if note) or None


def lenient_int(value: Any) -> int | None:
    """A side field's integer: an int, or a string of digits (``"0"``); None for anything else."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 40:
        return int(value.strip())
    return whole_number(value)


def whole_number(value: Any) -> int | None:
    """``value`` as an int if it is an integer (int, numpy integers; not bool, not float), else None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def basic_auth_blob(username: str, password: str) -> str:
    """The base64 text an ``Authorization: Basic`` header carries (a secret in its own right)."""
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def parse_time(value: Any) -> datetime | None:
    """A tz-aware UTC datetime from unix seconds or ISO 8601 text; None if it is neither."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


class _Options(dict):
    """A client's resolved options; its repr hides the secret ones (``client.config`` in a notebook)."""

    def __init__(self, values: Mapping[str, Any], *, secret: Iterable[str]) -> None:
        super().__init__(values)
        self._secret = frozenset(secret)

    def __repr__(self) -> str:
        shown = {key: REDACTED if key in self._secret and value else value for key, value in self.items()}
        return repr(shown)

    __str__ = __repr__


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def hex_or_bytes_to_hex(value: Any, *, length: int, provider: str, field: str) -> str:
    """Normalise bytes / hex / base64 of ``length`` bytes to lowercase hex, else InvalidRequestError."""
    raw: bytes | None = None
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raw = None
    if raw is None or len(raw) != length:
        raise InvalidRequestError(
            f"{field} must be {length} bytes given as bytes, {2 * length} hex characters or base64",
            provider=provider,
            field=field,
        )
    return raw.hex()
