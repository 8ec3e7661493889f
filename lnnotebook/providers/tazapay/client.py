"""Tazapay v3 Lightning invoice client.

Options: ``url`` (default ``https://service-sandbox.tazapay.com``, the only server in the OpenAPI; the
live host is ``https://service.tazapay.com``), ``api_key`` and ``api_secret`` (HTTP Basic, key as user)
-- ``LNNOTEBOOK_TAZAPAY_URL``, ``LNNOTEBOOK_TAZAPAY_API_KEY``, ``LNNOTEBOOK_TAZAPAY_API_SECRET``.

Choices where the sources are unclear or disagree (this folder's NOTES.md):

* ``amount`` is sent in the smallest unit, i.e. satoshis ("BTC, 8 decimal places" on an int64 field).
* The response's ``data`` is a JSON string per the OpenAPI schema but an object in the examples: both
  are accepted.
* No documented field carries the BOLT11 string. The client looks under the names in ``BOLT11_FIELDS``,
  then at every string in ``data`` that decodes as a BOLT11 invoice. If there is none, ``bolt11`` is
  None and ``note`` says so (the invoice exists at Tazapay, but cannot be paid from this record).
* ``memo`` goes to ``d_tag_memo``; ``description_hash=`` (bytes, hex or base64) goes to ``h_tag_memo`` as
  hex. ``expiry`` goes to ``expiry_interval`` (Tazapay's default: 3600 s per the field text).
* Every create sends an ``Idempotency-Key`` (the attempt's client reference, or a fresh UUID, unless
  ``idempotency_key=`` is given), so a create is retried like a GET: a replay returns the stored response
  instead of a second invoice. ``metadata`` carries the reference too (``lnnotebook_reference``). A create
  whose answer stays lost is settled later by replaying it with the same key (``Ledger.reconcile``).
* A string under a BOLT11 field name that does not decode (bad checksum or signature) is a
  ``SuspectInvoiceError`` carrying it; wrongly typed side fields (``id: 12345``) are coerced or noted.
* Status: ``payment_status == "paid"`` -> paid; ``status == "expired"`` -> expired; else pending.
* ``fee_sat`` is None: Tazapay reports no receive fee.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import requests

from lnnotebook.bolt11 import InvoiceError, decode
from lnnotebook.options import Option
from lnnotebook.providers.base import (
    CreatedInvoice,
    Provider,
    basic_auth_blob,
    hex_or_bytes_to_hex,
    now_utc,
    parse_time,
)
from lnnotebook.providers.errors import InvalidRequestError, UnexpectedResponseError
from lnnotebook.providers.tazapay.wire import (
    BOLT11_FIELDS,
    CREATE_PATH,
    ENVELOPE_SUCCESS,
    FETCH_PATH,
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_MAX,
    NAME,
    PAYMENT_PAID,
    PAYMENT_UNPAID,
    REFERENCE_FIELD,
    STATUS_ACTIVE,
    STATUS_EXPIRED,
)


class TazapayProvider(Provider):
    name = NAME
    default_url = "https://service-sandbox.tazapay.com"
    options = (
        Option("api_key", str, required=True, secret=True, help="Tazapay API key (Basic auth user)"),
        Option(
            "api_secret", str, required=True, secret=True, help="Tazapay API secret (Basic auth password)"
        ),
    )
    create_arguments = frozenset({"description_hash", "metadata", "idempotency_key"})
    attempt_arguments = frozenset({"description_hash", "metadata", "idempotency_key"})
    idempotent_create = True

    def _authenticate(self, session: requests.Session) -> None:
        session.auth = (self.config["api_key"], self.config["api_secret"])

    def _derived_secrets(self):
        return (basic_auth_blob(self.config["api_key"], self.config["api_secret"]),)

    def _error_message(self, body: Any, text: str) -> str:
        if isinstance(body, Mapping) and isinstance(body.get("errors"), list) and body["errors"]:
            details = []
            for item in body["errors"]:
                if isinstance(item, Mapping):
                    detail = str(item.get("message", ""))
                    if item.get("remarks"):
                        detail += f" (field {item['remarks']})"
                    if item.get("code") is not None:
                        detail += f" [code {item['code']}]"
                    details.append(detail)
            summary = str(body.get("message") or "")
            return "; ".join(filter(None, [summary, *details]))
        return super()._error_message(body, text)

    def _create(
        self, amount_sat: int, memo: str | None, expiry: int | None, **provider_specific: Any
    ) -> CreatedInvoice:
        reference = self.reference()
        key = provider_specific.get("idempotency_key") or reference or str(uuid.uuid4())
        return self._send_create(amount_sat, memo, expiry, key, reference, provider_specific)

    def _send_create(
        self,
        amount_sat: int,
        memo: str | None,
        expiry: int | None,
        key: Any,
        reference: str | None,
        provider_specific: Mapping[str, Any],
    ) -> CreatedInvoice:
        """POST the create with Idempotency-Key ``key`` (a replay of it returns the stored answer)."""
        action = "create invoice"
        payload: dict[str, Any] = {"amount": amount_sat}
        if memo is not None:
            payload["d_tag_memo"] = memo
        if provider_specific.get("description_hash") is not None:
            payload["h_tag_memo"] = hex_or_bytes_to_hex(
                provider_specific["description_hash"], length=32, provider=self.name, field="description_hash"
            )
        if expiry is not None:
            payload["expiry_interval"] = expiry
        metadata = provider_specific.get("metadata")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise InvalidRequestError(
                "metadata must be a mapping of key-value pairs", provider=self.name, field="metadata"
            )
        if reference is not None:
            metadata = {**(metadata or {}), REFERENCE_FIELD: reference}
        if metadata is not None:
            payload["metadata"] = json.dumps(dict(metadata))  # the schema says: a string in JSON format
        if not isinstance(key, str) or len(key) > IDEMPOTENCY_KEY_MAX:
            raise InvalidRequestError(
                f"idempotency_key must be a string of at most {IDEMPOTENCY_KEY_MAX} characters",
                provider=self.name,
                field="idempotency_key",
            )
        _, body = self._request(
            "POST", CREATE_PATH, action=action, json_body=payload, headers={IDEMPOTENCY_HEADER: key}
        )
        return self._created(body, action, amount_sat, memo, expiry)

    def _created(
        self, body: Any, action: str, amount_sat: int, memo: str | None, expiry: int | None
    ) -> CreatedInvoice:
        data = self._data(body, action)
        bolt11, where, problem = self._find_bolt11(data)
        notes: list[str] = []
        if bolt11 is None:
            notes.append(
                "Tazapay's response has no BOLT11 invoice: no field named "
                f"{'/'.join(BOLT11_FIELDS[:4])}/... and no string in data decodes as BOLT11"
            )
        elif where not in BOLT11_FIELDS:
            notes.append(f"BOLT11 invoice found in data field {where!r}")
        identifier = data.get("id")
        if self._is_int(identifier):
            identifier = str(identifier)
            notes.append("field 'id' was a number; kept as text")
        elif not isinstance(identifier, str) or not identifier:
            notes.append(f"field 'id' is {type(identifier).__name__}: the status cannot be asked")
            identifier = None
        record = {
            "provider_id": identifier,
            "bolt11": bolt11,
            "amount_sat": amount_sat,
            "memo": memo,
            "expiry": self._expiry(data, expiry, bolt11 if problem is None else None),
            "fee_sat": None,
            "status": self._created_status(data, notes),
            "created_at": parse_time(data.get("created_at")) or now_utc(),
            "raw": {**body, "data": data},
        }
        if problem is not None:  # an invoice came back, but it is not a valid one: keep it, say so
            raise self._suspect(f"{action}: {problem}", field=where or "data", **record)
        amount = data.get("amount")
        if self._is_int(amount) and amount != amount_sat:
            message = f"{action}: Tazapay echoed amount {amount}, we asked for {amount_sat}"
            raise self._suspect(message, field="amount", **record)
        return self._record(note="; ".join(notes) or None, **record)

    def _created_status(self, data: Mapping[str, Any], notes: list[str]) -> str:
        try:
            return self._map_status(data, "create invoice")
        except UnexpectedResponseError as exc:
            notes.append(f"{exc.message}; read as pending")
            return "pending"

    def _lookup(self, match: Mapping[str, Any]) -> list[CreatedInvoice]:
        """Replay the create with its Idempotency-Key: Tazapay returns the stored answer for 24 hours
        and mints nothing new (if the first request never arrived, this one creates the invoice)."""
        arguments = dict(match.get("arguments") or {})
        key = arguments.pop("idempotency_key", None) or match["reference"]
        created = self._send_create(
            match["amount_sat"], match["memo"], match["expiry"], key, match["reference"], arguments
        )
        return [created]

    def _expiry(self, data: Mapping[str, Any], asked: int | None, bolt11: str | None) -> int | None:
        """The echoed expiry_interval, else what was asked, else what the invoice itself states."""
        if self._is_int(data.get("expiry_interval")):
            return data["expiry_interval"]
        if asked is not None or bolt11 is None:
            return asked
        return decode(bolt11).expiry  # _find_bolt11 only returns strings that decode

    def _status(self, provider_id: str) -> str:
        action = "invoice status"
        _, body = self._request("GET", FETCH_PATH.format(id=provider_id), action=action)
        return self._map_status(self._data(body, action), action)

    def _map_status(self, data: Mapping[str, Any], action: str) -> str:
        payment_status = self._field(data, "payment_status", str, action)
        status = self._field(data, "status", str, action)
        if payment_status == PAYMENT_PAID:
            return "paid"
        if status == STATUS_EXPIRED:
            return "expired"
        if status == STATUS_ACTIVE and payment_status == PAYMENT_UNPAID:
            return "pending"
        raise UnexpectedResponseError(
            f"{action}: unknown status/payment_status {status!r}/{payment_status!r}",
            provider=self.name,
            field="status",
        )

    def _data(self, body: Any, action: str) -> dict[str, Any]:
        """The envelope's ``data`` object (sent as an object or as JSON text)."""
        if isinstance(body, Mapping) and body.get("status") not in (None, ENVELOPE_SUCCESS):
            message = self._redact(str(body.get("message") or body.get("status")))
            raise UnexpectedResponseError(
                f"{action}: Tazapay answered 2xx with status {body.get('status')!r}: {message}",
                provider=self.name,
                provider_message=message,
            )
        data = self._field(body, "data", (str, dict), action)
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise UnexpectedResponseError(
                    f"{action}: field 'data' is a string but not JSON", provider=self.name, field="data"
                ) from None
        if not isinstance(data, dict):
            raise UnexpectedResponseError(
                f"{action}: field 'data' is not an object", provider=self.name, field="data"
            )
        return data

    @staticmethod
    def _find_bolt11(data: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
        """(invoice, field, problem): under a known name first, then any string that decodes as
        BOLT11. A string under a known name that looks like an invoice but does not decode is
        returned with the problem (it is the provider's invoice, and must not be dropped)."""
        candidates: list[tuple[str, str]] = [
            (name, data[name]) for name in BOLT11_FIELDS if isinstance(data.get(name), str)
        ]
        named = len(candidates)

        def walk(value: Any, path: str) -> None:
            if isinstance(value, str):
                candidates.append((path, value))
            elif isinstance(value, Mapping):
                for key, item in value.items():
                    walk(item, f"{path}.{key}" if path else str(key))
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(item, f"{path}[{index}]")

        walk(data, "")
        invalid: tuple[str, str, str] | None = None
        for index, (where, text) in enumerate(candidates):
            stripped = text.strip()
            if not stripped.lower().removeprefix("lightning:").startswith("ln"):
                continue
            try:
                return decode(stripped).bolt11, where, None
            except InvoiceError as exc:
                if index < named and invalid is None:
                    invalid = (stripped, where, f"field {where!r} is not a valid BOLT11 invoice: {exc}")
        if invalid is not None:
            return invalid
        return None, None, None

    @staticmethod
    def _is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)
