"""Readers of the human-readable part and of each tagged field, and nothing else.

A reader turns one field's data (base-32 digits, see ``bech32.to_digits``) into its value. It does not
decide anything: where the data breaks a rule it returns ``Flawed(value, issues)`` and
``lnnotebook.bolt11.rules`` decides, by mode, whether that fails the invoice or becomes a warning.
``SKIP`` as a value means "there is nothing to use". Readers are looked up in ``READERS`` by the field's
5-bit tag, written as its bech32 character (``"p"`` is 1): one dict lookup and one plain call per field.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from lnnotebook.bolt11.addresses import render_fallback
from lnnotebook.bolt11.bech32 import digits_to_bytes
from lnnotebook.bolt11.constants import FEATURE_NAMES, MAX_AMOUNT_DIGITS, MSAT_PER_UNIT
from lnnotebook.bolt11.errors import (
    AmountError,
    FeatureError,
    FieldLengthError,
    FormatError,
    InvoiceError,
    NetworkError,
)
from lnnotebook.bolt11.invoice import Feature, Hop

_new_tuple = tuple.__new__
SKIP = object()  # "this field holds nothing to use" (skipped, as the spec or leniency says)


class Issue(NamedTuple):
    """A broken rule. ``error`` is raised in strict mode (None: only ever a warning); lenient mode warns
    with ``lenient_message`` (default: ``message``)."""

    error: type[InvoiceError] | None
    message: str
    lenient_message: str | None = None


class Flawed(NamedTuple):
    """A field read despite ``issues``; ``value`` is what lenient decoding uses (``SKIP``: nothing)."""

    value: object
    issues: tuple[Issue, ...]


# --- the human-readable part -------------------------------------------------------------------------

_HRP = re.compile(r"ln(bcrt|tbs|bc|tb)(.*)", re.DOTALL)
_AMOUNT = re.compile(r"([0-9]+)([munp]?)")
_CACHED_HRP_LENGTH = 32  # real prefixes are short; caching long junk would only hold memory


def read_hrp(hrp: str) -> tuple[str, int | None, tuple[Issue, ...]]:
    """(network, amount in msat or None, issues) of a lowercase prefix such as ``lnbc2500u``."""
    return _read_short_hrp(hrp) if len(hrp) <= _CACHED_HRP_LENGTH else _read_hrp(hrp)


def _read_hrp(hrp: str) -> tuple[str, int | None, tuple[Issue, ...]]:
    match = _HRP.fullmatch(hrp)
    if match is None:
        if not hrp.startswith("ln"):
            raise NetworkError(f"prefix {hrp[:12]!r} is not a Lightning invoice prefix (lnbc, lntb, ...)")
        raise NetworkError(
            f"unknown currency in prefix {hrp[:12]!r}: expected lnbc, lntb, lntbs or lnbcrt",
            field="prefix",
        )
    network, amount_text = match.groups()
    if not amount_text:
        return network, None, ()
    amount = _AMOUNT.fullmatch(amount_text)
    if amount is None:
        raise AmountError(
            f"amount {amount_text!r} in the prefix must be digits optionally followed by m, u, n or p",
            field="amount",
        )
    digits, multiplier = amount.groups()
    if len(digits) > MAX_AMOUNT_DIGITS:
        raise AmountError(
            f"the amount has {len(digits)} digits; more than {MAX_AMOUNT_DIGITS} cannot be a real amount",
            field="amount",
        )
    if multiplier == "p":
        if not digits.endswith("0"):
            raise AmountError(
                f"amount {amount_text!r} is a fraction of a millisatoshi (with 'p' the last digit must be 0)",
                field="amount",
            )
        amount_msat = int(digits) // 10
    else:
        amount_msat = int(digits) * MSAT_PER_UNIT[multiplier]
    if digits.startswith("0"):
        return (
            network,
            amount_msat,
            (Issue(AmountError, f"amount {amount_text!r} has a leading zero or is zero"),),
        )
    return network, amount_msat, ()


_read_short_hrp = lru_cache(maxsize=4096)(_read_hrp)


# --- tagged fields -----------------------------------------------------------------------------------


def _wrong_length(tag: str, digits: str, expected: int) -> Flawed:
    message = f"field '{tag}' has {len(digits)} groups instead of {expected}"
    issue = Issue(FieldLengthError, message + " (the spec requires failing)", message + " (skipped)")
    return Flawed(SKIP, (issue,))


def read_payment_hash(digits: str, network: str) -> object:
    if len(digits) != 52:
        return _wrong_length("p", digits, 52)
    return format(int(digits, 32) >> 4, "064x")


def read_payment_secret(digits: str, network: str) -> object:
    if len(digits) != 52:
        return _wrong_length("s", digits, 52)
    return format(int(digits, 32) >> 4, "064x")


def read_description_hash(digits: str, network: str) -> object:
    if len(digits) != 52:
        return _wrong_length("h", digits, 52)
    return format(int(digits, 32) >> 4, "064x")


def read_payee(digits: str, network: str) -> object:
    if len(digits) != 53:
        return _wrong_length("n", digits, 53)
    return format(int(digits, 32) >> 1, "066x")


_BAD_UTF8 = Issue(
    FormatError,
    "the description (field 'd') is not valid UTF-8",
    "the description is not valid UTF-8 (undecodable bytes were replaced)",
)


def read_description(digits: str, network: str) -> object:
    raw = digits_to_bytes(digits)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return Flawed(raw.decode("utf-8", errors="replace"), (_BAD_UTF8,))


def _read_uint(digits: str, tag: str) -> object:
    value = int(digits, 32) if digits else 0
    if digits[:1] == "0":
        return Flawed(value, (Issue(None, f"field '{tag}' is not minimally encoded (leading zero groups)"),))
    return value


def read_expiry(digits: str, network: str) -> object:
    return _read_uint(digits, "x")


def read_min_final_cltv_expiry(digits: str, network: str) -> object:
    return _read_uint(digits, "c")


_NOT_MINIMAL_FEATURES = Issue(None, "field '9' is not minimally encoded (leading zero groups)")
_CACHED_FEATURE_BITS = 128  # real vectors are short; a 5115-bit one would hold ~2500 Features a slot


def read_features(digits: str, network: str) -> object:
    value = int(digits, 32) if digits else 0
    features, unknown_required = (
        _cached_features(value) if value.bit_length() <= _CACHED_FEATURE_BITS else _features(value)
    )
    if not unknown_required and digits[:1] != "0":
        return features
    issues = [_NOT_MINIMAL_FEATURES] if digits[:1] == "0" else []
    if unknown_required:
        message = "the invoice requires unknown feature bit(s) " + ", ".join(map(str, unknown_required))
        issues.append(Issue(FeatureError, message))
    return Flawed(features, tuple(issues))


def _features(value: int) -> tuple[tuple[Feature, ...], tuple[int, ...]]:
    """Set bits of a feature vector, and the unknown even (compulsory) ones among them."""
    if value.bit_length() <= 64:  # the usual size: peel off the set bits
        bits = []
        while value:
            lowest = value & -value
            bits.append(lowest.bit_length() - 1)
            value ^= lowest
    else:  # long vectors: one C-level pass over the binary digits instead of a step per bit
        bits = [bit for bit, digit in enumerate(format(value, "b")[::-1]) if digit == "1"]
    features = tuple([_new_tuple(Feature, (bit, FEATURE_NAMES.get(bit))) for bit in bits])
    return features, tuple([bit for bit in bits if not bit & 1 and bit not in FEATURE_NAMES])


_cached_features = lru_cache(maxsize=1024)(_features)


def read_route_hint(digits: str, network: str) -> object:
    data = digits_to_bytes(digits)
    if not data or len(data) % 51:
        message = (
            f"route hint (field 'r') of {5 * len(digits) // 8} bytes is not a whole number of 51-byte hops"
        )
        return Flawed(SKIP, (Issue(FieldLengthError, message, message + " (skipped)"),))
    # tuple.__new__ is NamedTuple construction without its Python-level __new__ (hops are many)
    return tuple(
        _new_tuple(
            Hop, (pubkey.hex(), f"{scid >> 40}x{(scid >> 16) & 0xFFFFFF}x{scid & 0xFFFF}", base, ppm, delta)
        )
        for pubkey, scid, base, ppm, delta in struct.iter_unpack(">33sQIIH", data)
    )


def read_fallback(digits: str, network: str) -> object:
    address, problem = render_fallback(digits, network)
    if address is not None:
        return address
    return SKIP if problem is None else Flawed(SKIP, (Issue(None, problem),))


def read_metadata(digits: str, network: str) -> object:
    return digits_to_bytes(digits).hex()


Reader = Callable[[str, str], object]
# Tag (as its bech32 character) -> reader. Any other tag is unknown and skipped, as the spec requires.
READERS: dict[str, Reader] = {
    "p": read_payment_hash,
    "s": read_payment_secret,
    "d": read_description,
    "h": read_description_hash,
    "n": read_payee,
    "x": read_expiry,
    "c": read_min_final_cltv_expiry,
    "f": read_fallback,
    "r": read_route_hint,
    "9": read_features,
    "m": read_metadata,
}
