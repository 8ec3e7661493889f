"""Reading LNURL-pay answers: the payRequest (LUD-06, 12, 16, 18), the callback's answer (LUD-06, 09, 21)
and the verify answer (LUD-21), each checked for the shape the LUDs give (this folder's NOTES.md).

Every reader raises ``UnexpectedResponseError`` naming the field that is wrong, or, for the services'
``{"status": "ERROR", "reason": ...}`` answers, the error ``service_refusal`` builds.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lnnotebook.providers.errors import (
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    UnexpectedResponseError,
)
from lnnotebook.providers.lnurl.wire import (
    EMAIL,
    ERROR_STATUS,
    IDENTIFIER,
    IMAGE_TYPES,
    LONG_DESC,
    NAME,
    NOT_FOUND_REASON,
    PAY_TAG,
    SUCCESS_ACTION_TAGS,
    SUCCESS_ACTION_TEXT_LIMIT,
    TEXT_PLAIN,
)


@dataclass(frozen=True)
class PayRequest:
    """A service's payRequest (the first answer), checked. Amounts are millisatoshi as sent."""

    url: str  # where it was fetched
    callback: str
    min_sendable_msat: int
    max_sendable_msat: int
    metadata: str  # exactly as received: its sha256 is the invoice's description hash (LUD-06)
    description: str  # the text/plain entry
    long_description: str | None
    identifier: str | None  # text/identifier or text/email (LUD-16)
    image_type: str | None  # image/png;base64 or image/jpeg;base64, when there is an image
    comment_allowed: int  # LUD-12: 0 when absent
    payer_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # LUD-18
    fetched_at: float = field(default_factory=time.monotonic, compare=False)

    @property
    def min_sat(self) -> int:
        """The smallest whole-sat amount the service takes (minSendable rounded up)."""
        return -(-self.min_sendable_msat // 1000)

    @property
    def max_sat(self) -> int:
        """The largest whole-sat amount the service takes (maxSendable rounded down)."""
        return self.max_sendable_msat // 1000

    def mandatory_payer_data(self) -> list[str]:
        return sorted(kind for kind, spec in self.payer_data.items() if spec.get("mandatory") is True)

    def description_hash(self, payerdata: str | None = None) -> str:
        """sha256 of the metadata (and the payer data sent, LUD-18) as hex: what the invoice must carry."""
        return hashlib.sha256((self.metadata + (payerdata or "")).encode("utf-8")).hexdigest()

    def summary(self) -> dict[str, Any]:
        """What ``CreatedInvoice.raw`` and ``lnurl_info`` keep (no image data)."""
        return {
            "pay_request_url": self.url,
            "callback": self.callback,
            "min_sendable_msat": self.min_sendable_msat,
            "max_sendable_msat": self.max_sendable_msat,
            "min_sat": self.min_sat,
            "max_sat": self.max_sat,
            "comment_allowed": self.comment_allowed,
            "description": self.description,
            "long_description": self.long_description,
            "identifier": self.identifier,
            "image": self.image_type is not None,
            "image_type": self.image_type,
            "payer_data": {kind: dict(spec) for kind, spec in self.payer_data.items()},
            "metadata_sha256": self.description_hash(),
        }


@dataclass(frozen=True)
class CallbackAnswer:
    """The callback's answer: the invoice, and what came with it."""

    pr: str
    success_action: Mapping[str, Any] | None
    verify: str | None
    routes: Any
    disposable: bool | None
    problems: tuple[str, ...]  # things a payer's wallet would object to (kept in the invoice's note)


def service_refusal(body: Any, action: str, where: str) -> ProviderError | None:
    """The error for a ``{"status": "ERROR", "reason": ...}`` answer, or None when it is not one."""
    if not isinstance(body, Mapping) or str(body.get("status", "")).upper() != ERROR_STATUS:
        return None
    reason = body.get("reason")
    reason = reason if isinstance(reason, str) and reason.strip() else "(no reason given)"
    cls = NotFoundError if NOT_FOUND_REASON.lower() in reason.lower() else InvalidRequestError
    return cls(f"{action}: {where} refused: {reason[:300]}", provider=NAME, provider_message=reason[:300])


def _bad(action: str, where: str, key: str, problem: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(f"{action}: {where} answered with {problem}", provider=NAME, field=key)


def _integer(body: Mapping[str, Any], key: str, action: str, where: str) -> int:
    value = body.get(key)
    # Some services send whole numbers as floats (1000.0); anything else is not an amount.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(action, where, key, f"no whole number in {key!r} (got {type(value).__name__})")
    return value


def parse_pay_request(body: Any, *, url: str, action: str, where: str) -> PayRequest:
    """The first answer (LUD-06 step 3) checked, or the error saying what is wrong with it."""
    if not isinstance(body, Mapping):
        raise _bad(action, where, "tag", "a body that is not a JSON object")
    if body.get("tag") != PAY_TAG:
        raise _bad(action, where, "tag", f"tag {body.get('tag')!r}, not {PAY_TAG!r}: it is no LNURL-pay link")
    callback = body.get("callback")
    if not isinstance(callback, str) or not callback.strip():
        raise _bad(action, where, "callback", "no callback URL")
    low = _integer(body, "minSendable", action, where)
    high = _integer(body, "maxSendable", action, where)
    if not 1 <= low <= high:
        raise _bad(action, where, "minSendable", f"limits minSendable={low}, maxSendable={high} msat")
    metadata = body.get("metadata")
    if not isinstance(metadata, str):
        raise _bad(action, where, "metadata", "metadata that is not a JSON string (LUD-06)")
    entries = _metadata_entries(metadata, action, where)
    comment_allowed = body.get("commentAllowed", 0)
    if comment_allowed is None:
        comment_allowed = 0
    if isinstance(comment_allowed, float) and comment_allowed.is_integer():
        comment_allowed = int(comment_allowed)
    if not isinstance(comment_allowed, int) or isinstance(comment_allowed, bool) or comment_allowed < 0:
        raise _bad(action, where, "commentAllowed", f"commentAllowed {comment_allowed!r}")
    return PayRequest(
        url=url,
        callback=callback.strip(),
        min_sendable_msat=low,
        max_sendable_msat=high,
        metadata=metadata,
        description=entries[TEXT_PLAIN],
        long_description=entries.get(LONG_DESC),
        identifier=entries.get(IDENTIFIER) or entries.get(EMAIL),
        image_type=next((kind for kind in IMAGE_TYPES if kind in entries), None),
        comment_allowed=comment_allowed,
        payer_data=_payer_data(body.get("payerData"), action, where),
    )


def _metadata_entries(metadata: str, action: str, where: str) -> dict[str, Any]:
    """type -> value of the metadata's entries (the first of each type); one text/plain is required."""
    try:
        parsed = json.loads(metadata)
    except ValueError:
        raise _bad(action, where, "metadata", "metadata that is not valid JSON") from None
    if not isinstance(parsed, list) or not all(
        isinstance(entry, list) and entry and isinstance(entry[0], str) for entry in parsed
    ):
        raise _bad(action, where, "metadata", "metadata that is not a list of [type, value] arrays")
    entries: dict[str, Any] = {}
    for entry in parsed:
        entries.setdefault(entry[0], entry[1] if len(entry) > 1 else None)
    plain = [entry for entry in parsed if entry[0] == TEXT_PLAIN]
    if len(plain) != 1 or not isinstance(entries[TEXT_PLAIN], str):
        raise _bad(action, where, "metadata", f"metadata without exactly one {TEXT_PLAIN} text (LUD-06)")
    if sum(entry[0] in IMAGE_TYPES for entry in parsed) > 1:
        raise _bad(action, where, "metadata", "metadata with more than one image (LUD-06)")
    return entries


def _payer_data(value: Any, action: str, where: str) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(spec, Mapping) for spec in value.values()):
        raise _bad(action, where, "payerData", "a payerData record that is not an object of objects (LUD-18)")
    return {str(kind): {"mandatory": spec.get("mandatory") is True} for kind, spec in value.items()}


def parse_callback(body: Any, *, callback: str, action: str, where: str) -> CallbackAnswer:
    """The callback's answer (LUD-06 step 5, LUD-09, LUD-21) checked."""
    if not isinstance(body, Mapping) or not isinstance(body.get("pr"), str) or not body["pr"].strip():
        raise _bad(action, where, "pr", "no invoice in 'pr'")
    verify = body.get("verify")
    if verify is not None and (not isinstance(verify, str) or not verify.strip()):
        raise _bad(action, where, "verify", f"a verify field that is not a URL ({type(verify).__name__})")
    disposable = body.get("disposable")
    action_body = body.get("successAction")
    problems = _success_action_problems(action_body, callback)
    return CallbackAnswer(
        pr=body["pr"].strip(),
        success_action=dict(action_body) if isinstance(action_body, Mapping) else None,
        verify=verify.strip() if isinstance(verify, str) else None,
        routes=body.get("routes"),
        disposable=disposable if isinstance(disposable, bool) else None,
        problems=problems,
    )


def _success_action_problems(value: Any, callback: str) -> tuple[str, ...]:
    """What LUD-09 says about a successAction that a paying wallet would refuse or distrust."""
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not isinstance(value.get("tag"), str):
        return ("successAction is not an object with a tag (LUD-09)",)
    tag = value["tag"]
    if tag not in SUCCESS_ACTION_TAGS:
        return (f"successAction tag {tag!r} is not one LUD-09 defines; a wallet must not pay it",)
    problems = []
    text = value.get("message" if tag == "message" else "description")
    if not isinstance(text, str):
        problems.append(f"successAction {tag!r} has no text")
    elif len(text) > SUCCESS_ACTION_TEXT_LIMIT:
        problems.append(f"successAction text is {len(text)} characters (LUD-09: up to 144)")
    if tag == "url":
        target = value.get("url")
        host = urlsplit(target).hostname if isinstance(target, str) else None
        if host is None or host.lower() != (urlsplit(callback).hostname or "").lower():
            problems.append("successAction url is not on the callback's domain (LUD-09)")
    return tuple(problems)


@dataclass(frozen=True)
class Verification:
    """A LUD-21 verify answer."""

    settled: bool
    preimage: str | None
    pr: str | None


def parse_verify(body: Any, *, action: str, where: str) -> Verification:
    if not isinstance(body, Mapping) or not isinstance(body.get("settled"), bool):
        raise _bad(action, where, "settled", "no true/false 'settled' (LUD-21)")
    preimage = body.get("preimage")
    if preimage is not None and not isinstance(preimage, str):
        raise _bad(action, where, "preimage", f"a preimage that is not hex text ({type(preimage).__name__})")
    pr = body.get("pr")
    return Verification(body["settled"], preimage or None, pr if isinstance(pr, str) and pr else None)


__all__ = [
    "CallbackAnswer",
    "PayRequest",
    "Verification",
    "parse_callback",
    "parse_pay_request",
    "parse_verify",
    "service_refusal",
]
