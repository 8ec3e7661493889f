"""A pure, fast, spec-exact BOLT11 decoder (no I/O, no display code).

Why hand-written: the ``bolt11`` package spends >85 % of its ~3 ms per invoice in bitstring and gets several
fields wrong (see the project notes). Here the checksum runs vectorised over a batch and 5-bit unpacking in
Python's integer parser (``lnnotebook.bolt11.bech32``); what is left per invoice is a short loop over the
tagged fields (``fields``, then ``rules``) and the elliptic-curve work (libsecp256k1 through coincurve),
which is the physical floor.

Signature: with ``n`` present the signature is verified against ``n`` (ECDSA verify, which demands low-S,
and ignores the recovery id as the spec says); without ``n`` the payee is recovered, high-S accepted.
The spec's example "fields which must be ignored" predates bolts #1243 and is rejected in strict mode
(bolts#1358 / PR #1357 move it to the invalid examples); ``strict=False`` decodes it with warnings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import cast

from coincurve import PublicKey

from lnnotebook.bolt11 import bech32, rules
from lnnotebook.bolt11.constants import (
    CHECKSUM_GROUPS,
    DEFAULT_EXPIRY,
    DEFAULT_MIN_FINAL_CLTV_EXPIRY,
    HALF_CURVE_ORDER,
    SIGNATURE_GROUPS,
    TIMESTAMP_GROUPS,
)
from lnnotebook.bolt11.errors import ChecksumError, InvoiceError, SignatureError, TruncatedError
from lnnotebook.bolt11.fields import READERS, read_hrp
from lnnotebook.bolt11.invoice import Invoice
from lnnotebook.bolt11.text import split


def decode(text: str, *, verify: bool = True, strict: bool = True) -> Invoice:
    """Decode one BOLT11 invoice as people paste it.

    Accepts any case, surrounding whitespace or quotes, a ``lightning:`` prefix or a BIP-21
    ``bitcoin:...?lightning=...`` URI. Raises an ``InvoiceError`` subclass, and nothing else,
    for any input string. ``verify=False`` skips the elliptic-curve work (the payee is then taken
    from ``n`` when present, else None). ``strict=False`` accepts invoices that break only
    payability rules and lists what was wrong in ``Invoice.warnings``.
    """
    result = decode_rows([text], verify=verify, strict=strict)[0]
    if isinstance(result, InvoiceError):
        raise result
    return Invoice._from_row(result)


def decode_rows(texts: Sequence[object], *, verify: bool = True, strict: bool = True) -> list:
    """Decode many invoices; each result is a row tuple (``ROW_FIELDS`` order) or the InvoiceError.

    The building block of ``decode_frame``: checksums are checked for the whole batch at once.
    """
    results: list = [None] * len(texts)
    pending: list[tuple[int, str, str, str]] = []
    for index, text in enumerate(texts):
        try:
            pending.append((index, *split(text)))
        except InvoiceError as error:
            results[index] = error
    for start in range(0, len(pending), bech32.CHECKSUM_BATCH):
        chunk = pending[start : start + bech32.CHECKSUM_BATCH]
        valid = bech32.checksums_valid([item[2] for item in chunk], [item[3] for item in chunk])
        for (index, bolt11, hrp, data), ok in zip(chunk, valid.tolist()):
            if not ok:
                results[index] = checksum_error()
                continue
            try:
                results[index] = _decode_row(bolt11, hrp, data, verify, strict)
            except InvoiceError as error:
                results[index] = error
    return results


def checksum_error() -> ChecksumError:
    return ChecksumError(
        "the bech32 checksum does not match: a character is wrong or missing "
        "(check that the whole invoice was copied)",
        field="checksum",
    )


def _read_fields(
    digits: str, data: str, end: int, network: str
) -> tuple[list[tuple[str, object]], TruncatedError | None]:
    """(tag, value) of every tagged field between the timestamp and the signature at ``end``, and the
    ``TruncatedError`` of a field cut off by the signature (then the list holds the fields before it)."""
    fields: list[tuple[str, object]] = []
    position = TIMESTAMP_GROUPS
    while position < end:
        if position + 3 > end:
            message = f"a field header at group {position} is cut off by the signature"
            return fields, TruncatedError(message, field="fields")
        tag = data[position]
        start = position + 3
        position = start + int(digits[position + 1 : start], 32)
        if position > end:
            message = (
                f"field '{tag}' says it has {position - start} groups but only {end - start} remain "
                "before the signature"
            )
            return fields, TruncatedError(message, field=tag)
        reader = READERS.get(tag)
        if reader is not None:  # any other tag is unknown and skipped, as the spec requires
            fields.append((tag, reader(digits[start:position], network)))
    return fields, None


def _decode_row(bolt11: str, hrp: str, data: str, verify: bool, strict: bool) -> tuple:
    network, amount_msat, hrp_issues = read_hrp(hrp)
    warnings: list[str] = []
    if hrp_issues:
        rules.settle(hrp_issues, "amount", strict, warnings)
    signature_start = len(data) - CHECKSUM_GROUPS - SIGNATURE_GROUPS
    digits = bech32.to_digits(data[: len(data) - CHECKSUM_GROUPS])
    fields, cut = _read_fields(digits, data, signature_start, network)
    if cut is not None:
        # A rule broken before the cut is reported first, as by a reader going left to right.
        rules.apply(fields, strict, [], complete=False)
        raise cut
    first, fallbacks, routes = rules.apply(fields, strict, warnings)

    signature = int(digits[signature_start:], 32).to_bytes(65, "big")
    if signature[64] > 3:
        raise SignatureError(
            f"the signature's recovery id is {signature[64]}; it must be 0 to 3", field="signature"
        )
    payee = cast("str | None", first.get("n"))  # the n reader gives hex text
    if verify:
        payee = _verify(hrp, digits[:signature_start], signature, payee)
    get = first.get
    return (
        bolt11,
        network,
        amount_msat,
        int(digits[:TIMESTAMP_GROUPS], 32),
        get("x", DEFAULT_EXPIRY),
        first["p"],
        get("s"),
        get("d"),
        get("h"),
        payee,
        get("c", DEFAULT_MIN_FINAL_CLTV_EXPIRY),
        tuple(fallbacks),
        tuple(routes),
        get("9", ()),
        get("m"),
        signature.hex(),
        tuple(warnings),
    )


def _der_signature(compact: bytes) -> bytes:
    def integer(raw: bytes) -> bytes:
        raw = raw.lstrip(b"\0") or b"\0"
        if raw[0] & 0x80:
            raw = b"\0" + raw
        return b"\x02" + bytes([len(raw)]) + raw

    body = integer(compact[:32]) + integer(compact[32:64])
    return b"\x30" + bytes([len(body)]) + body


def _verify(hrp: str, signed_digits: str, signature: bytes, payee_key: str | None) -> str:
    """Check the signature; return the payee's public key (hex)."""
    bits = 5 * len(signed_digits)
    size = (bits + 7) // 8
    message = hrp.encode("ascii") + (int(signed_digits, 32) << (8 * size - bits)).to_bytes(size, "big")
    digest = hashlib.sha256(message).digest()
    if payee_key is not None:
        return _verify_against(payee_key, signature, digest)
    try:
        recovered = PublicKey.from_signature_and_message(signature, digest, hasher=None)
    except Exception:
        raise SignatureError(
            "the signature is not valid: no public key can be recovered from it", field="signature"
        ) from None
    return recovered.format(compressed=True).hex()


def _verify_against(payee_key: str, signature: bytes, digest: bytes) -> str:
    if int.from_bytes(signature[32:64], "big") > HALF_CURVE_ORDER:
        raise SignatureError(
            "the signature is high-S, which the spec forbids when the payee key (n) is given",
            field="signature",
        )
    try:
        key = PublicKey(bytes.fromhex(payee_key))
    except Exception:  # coincurve raises ValueError or its own errors for a point off the curve
        raise SignatureError("the payee key (field 'n') is not a valid public key", field="n") from None
    try:
        valid = key.verify(_der_signature(signature), digest, hasher=None)
    except Exception:
        valid = False
    if not valid:
        raise SignatureError("the signature was not made by the payee key in field 'n'", field="signature")
    return payee_key
