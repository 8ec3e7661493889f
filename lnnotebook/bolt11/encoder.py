"""Writing signed BOLT11 invoices: our own encoder (bech32, every tagged field, libsecp256k1 signing).

Two levels:

* ``encode_invoice(**fields)``: an invoice from named values, fields written in ``field_order``;
* ``encode_fields(fields, ...)``: an invoice from ``(tag, value)`` pairs written exactly in the given order,
  with ``Raw`` groups for anything the named API refuses (wrong lengths, unknown tags); and below that
  ``invoice_hrp`` + ``encode_data`` (the signed data) and ``sign_invoice``.

Signatures are made by libsecp256k1 through coincurve: recoverable, RFC6979 deterministic and low-S, over
SHA-256 of the hrp and the data part padded to bytes. So equal inputs give equal invoices, and the spec's
examples re-encode byte for byte when their field order is kept.

Compared with the ``bolt11`` package 2.2.0 this encoder writes 1000 BTC multiples correctly, writes P2TR
(bech32m) fallbacks and signet/regtest ones, keeps expiry/cltv above 60 bits, keeps both bits of a feature
pair, checks field and hop limits, and packs route hints as unsigned big-endian numbers.
"""

from __future__ import annotations

import hashlib
import operator
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from coincurve import PrivateKey, PublicKey

from lnnotebook.bolt11 import bech32
from lnnotebook.bolt11.addresses import fallback_field_data
from lnnotebook.bolt11.constants import (
    CURVE_ORDER,
    KNOWN_TAGS,
    MAX_FIELD_BYTES,
    MAX_FIELD_GROUPS,
    MAX_HOPS_PER_ROUTE,
    MAX_HRP_LENGTH,
    MAX_TIMESTAMP,
    MAX_UINT64,
    NETWORKS,
    TIMESTAMP_GROUPS,
)

DEFAULT_FIELD_ORDER = KNOWN_TAGS  # "psdhnxcfr9m"
_HEX = re.compile(r"[0-9a-fA-F]*")
_HOP_KEYS = frozenset(
    {"pubkey", "short_channel_id", "fee_base_msat", "fee_proportional_millionths", "cltv_expiry_delta"}
)


class Raw(NamedTuple):
    """A field's 5-bit groups written as given, unchecked: for test invoices that break a rule on purpose
    (wrong lengths, unknown tags, unknown fallback versions)."""

    groups: tuple[int, ...]


# --- small conversions -----------------------------------------------------------------------------------


def _as_int(value: Any, name: str) -> int:
    # bool is an int subclass but never a meaningful amount; floats would silently lose precision.
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not a bool")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None


_SECRET_NAMES = frozenset({"private_key", "payment_secret"})  # never echoed in messages


def _hex_to_bytes(value: Any, name: str, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a hex string, got {type(value).__name__}")
    if not _HEX.fullmatch(value) or len(value) % 2:
        shown = "" if name in _SECRET_NAMES else f": {value!r}"
        raise ValueError(f"{name} is not valid hex (even number of 0-9a-f characters){shown}")
    if length is not None and len(value) != 2 * length:
        raise ValueError(f"{name} must be {2 * length} hex characters ({length} bytes), got {len(value)}")
    return bytes.fromhex(value)


def hrp_amount(amount_msat: int) -> str:
    """The shortest exact amount text of the human-readable part, e.g. 250000000 -> ``"2500u"``.

    Uses the largest multiplier that keeps the number an integer; ``p`` always ends in 0 because one
    millisatoshi is 10 pico-bitcoin.
    """
    amount_msat = _as_int(amount_msat, "amount_msat")
    if amount_msat <= 0:
        raise ValueError(
            f"amount_msat must be positive (use None for an amountless invoice), got {amount_msat}"
        )
    pico_btc = amount_msat * 10
    for divisor, multiplier in ((10**12, ""), (10**9, "m"), (10**6, "u"), (10**3, "n")):
        if pico_btc % divisor == 0:
            return f"{pico_btc // divisor}{multiplier}"
    return f"{pico_btc}p"


def invoice_hrp(network: str, amount_msat: int | None = None) -> str:
    """The human-readable part: ``ln`` + network + amount, e.g. ``lnbc2500u``."""
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; expected one of {sorted(NETWORKS)}")
    hrp = "ln" + network
    if amount_msat is not None:
        hrp += hrp_amount(amount_msat)
        if len(hrp) > MAX_HRP_LENGTH:
            raise ValueError(
                f"amount_msat {amount_msat} makes the hrp longer than {MAX_HRP_LENGTH} characters"
            )
    return hrp


# --- keys ---------------------------------------------------------------------------------------------


def _private_key_hex(private_key: Any) -> str:
    if isinstance(private_key, (bytes, bytearray)):
        if len(private_key) != 32:
            raise ValueError(f"private_key must be 32 bytes, got {len(private_key)}")
        return bytes(private_key).hex()
    return _hex_to_bytes(private_key, "private_key", 32).hex()


@lru_cache(maxsize=256)
def _signing_key(private_key_hex: str) -> PrivateKey:
    """A validated secret key (cached: node keys repeat). Errors never show the key."""
    secret = int(private_key_hex, 16)
    if not 0 < secret < CURVE_ORDER:
        raise ValueError("private_key is not a valid secp256k1 secret (must be in 1..n-1)")
    return PrivateKey(bytes.fromhex(private_key_hex))


@lru_cache(maxsize=256)
def _public_key(private_key_hex: str) -> bytes:
    return _signing_key(private_key_hex).public_key.format(compressed=True)


@lru_cache(maxsize=8192)
def _checked_node_id(pubkey: str) -> bytes:
    node_id = _hex_to_bytes(pubkey, "route hint pubkey", 33)
    try:
        PublicKey(node_id)
    except ValueError:
        raise ValueError(f"route hint pubkey {pubkey} is not a valid compressed secp256k1 point") from None
    return node_id


# --- field data: one writer per tag --------------------------------------------------------------------


def _hash_data(value: Any, network: str, where: str) -> list[int]:
    return bech32.bytes_to_groups(_hex_to_bytes(value, where, 32))


def _description_data(value: Any, network: str, where: str) -> list[int]:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a str, got {type(value).__name__}")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{where} is not encodable as UTF-8: {exc}") from None
    if len(raw) > MAX_FIELD_BYTES:
        raise ValueError(
            f"{where} is {len(raw)} UTF-8 bytes; the d field holds at most "
            f"{MAX_FIELD_BYTES} (use description_hash for longer ones)"
        )
    return bech32.bytes_to_groups(raw)


def _payee_data(value: Any, network: str, where: str) -> list[int]:
    raw = bytes(value) if isinstance(value, (bytes, bytearray)) else _hex_to_bytes(value, where, 33)
    if len(raw) != 33:
        raise ValueError(f"{where} must be a 33-byte compressed public key, got {len(raw)} bytes")
    return bech32.bytes_to_groups(raw)


def _uint_data(value: Any, network: str, where: str) -> list[int]:
    number = _as_int(value, where)
    if not 0 <= number <= MAX_UINT64:
        raise ValueError(f"{where} must be in 0..2**64-1, got {number}")
    return bech32.int_to_groups(number)


def _fallback_data(value: Any, network: str, where: str) -> list[int]:
    return list(fallback_field_data(value, network))


def _feature_data(value: Any, network: str, where: str) -> list[int]:
    vector = 0
    for bit in value:
        bit = _as_int(bit, f"{where} bit")
        if not 0 <= bit < MAX_FIELD_GROUPS * 5:
            raise ValueError(f"{where} bit must be in 0..{MAX_FIELD_GROUPS * 5 - 1}, got {bit}")
        vector |= 1 << bit
    return bech32.int_to_groups(vector)


def _metadata_data(value: Any, network: str, where: str) -> list[int]:
    raw = _hex_to_bytes(value, where)
    if not raw:
        raise ValueError(f"{where} must not be empty (use None to omit the m field)")
    return bech32.bytes_to_groups(raw)


def _short_channel_id(value: Any, where: str) -> int:
    if isinstance(value, str):
        parts = value.split("x")
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            raise ValueError(f"{where} short_channel_id must look like 'BLOCKxTXxOUT', got {value!r}")
        block, transaction, output = (int(part) for part in parts)
        if block >= 2**24 or transaction >= 2**24 or output >= 2**16:
            raise ValueError(f"{where} short_channel_id {value!r} out of range (24/24/16 bits)")
        return (block << 40) | (transaction << 16) | output
    number = _as_int(value, f"{where} short_channel_id")
    if not 0 <= number <= MAX_UINT64:
        raise ValueError(f"{where} short_channel_id {number} is not a u64")
    return number


def _hop_bytes(hop: Any, where: str) -> bytes:
    if not isinstance(hop, Mapping):
        raise ValueError(f"{where} must be a mapping, got {type(hop).__name__}")
    missing = _HOP_KEYS - hop.keys()
    unknown = hop.keys() - _HOP_KEYS
    if missing or unknown:
        raise ValueError(f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    numbers = []
    for name, limit in (
        ("fee_base_msat", 0xFFFFFFFF),
        ("fee_proportional_millionths", 0xFFFFFFFF),
        ("cltv_expiry_delta", 0xFFFF),
    ):
        number = _as_int(hop[name], f"{where} {name}")
        if not 0 <= number <= limit:
            raise ValueError(f"{where} {name} must be in 0..{limit} (unsigned), got {number}")
        numbers.append(number)
    fee_base, fee_proportional, cltv_delta = numbers
    return (
        _checked_node_id(hop["pubkey"])
        + _short_channel_id(hop["short_channel_id"], where).to_bytes(8, "big")
        + fee_base.to_bytes(4, "big")
        + fee_proportional.to_bytes(4, "big")
        + cltv_delta.to_bytes(2, "big")
    )


def _route_data(route: Any, network: str, where: str) -> list[int]:
    if isinstance(route, Mapping) or not isinstance(route, Sequence) or not route:
        raise ValueError(f"{where} must be a non-empty sequence of hop mappings")
    if len(route) > MAX_HOPS_PER_ROUTE:
        raise ValueError(f"{where} has {len(route)} hops; one r field holds at most {MAX_HOPS_PER_ROUTE}")
    packed = b"".join(_hop_bytes(hop, f"{where}[{index}]") for index, hop in enumerate(route))
    return bech32.bytes_to_groups(packed)


Writer = Callable[[Any, str, str], list[int]]
# Tag -> writer of its data (value, invoice network, name for messages) as 5-bit groups.
WRITERS: dict[str, Writer] = {
    "p": _hash_data,
    "s": _hash_data,
    "d": _description_data,
    "h": _hash_data,
    "n": _payee_data,
    "x": _uint_data,
    "c": _uint_data,
    "f": _fallback_data,
    "r": _route_data,
    "9": _feature_data,
    "m": _metadata_data,
}
_NAMES = {
    "p": "payment_hash",
    "s": "payment_secret",
    "d": "description",
    "h": "description_hash",
    "n": "payee",
    "x": "expiry",
    "c": "min_final_cltv_expiry",
    "f": "fallback",
    "r": "route hint",
    "9": "features",
    "m": "metadata",
}


def tagged_field(tag: str, data: Sequence[int], where: str | None = None) -> list[int]:
    """Tag, 10-bit length and data of one field, as 5-bit groups."""
    if len(tag) != 1 or tag not in bech32.CHARSET:
        raise ValueError(f"field tag must be one bech32 character, got {tag!r}")
    if len(data) > MAX_FIELD_GROUPS:
        name = where or _NAMES.get(tag, f"field '{tag}'")
        raise ValueError(f"{name} needs {len(data)} 5-bit groups; a field holds at most {MAX_FIELD_GROUPS}")
    return [bech32.CHARSET.index(tag), len(data) >> 5, len(data) & 31, *data]


def field_groups(tag: str, value: Any, network: str = "bc", where: str | None = None) -> list[int]:
    """One whole tagged field for a value (as ``encode_invoice`` takes it), or for ``Raw`` groups."""
    if isinstance(value, Raw):
        if not all(isinstance(group, int) and 0 <= group < 32 for group in value.groups):
            raise ValueError(f"Raw groups of field '{tag}' must be integers 0..31")
        return tagged_field(tag, value.groups, where)
    writer = WRITERS.get(tag)
    if writer is None:
        raise ValueError(f"no writer for tag {tag!r} (known: {KNOWN_TAGS!r}); give its data as Raw groups")
    name = where or _NAMES[tag]
    return tagged_field(tag, writer(value, network, name), name)


# --- the invoice ------------------------------------------------------------------------------------------


def _checked_timestamp(timestamp: Any) -> int:
    if timestamp is None:
        timestamp = int(time.time())
    timestamp = _as_int(timestamp, "timestamp")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp must be in 0..2**35-1 (35 bits), got {timestamp}")
    return timestamp


def encode_data(timestamp: int | None, fields: Iterable[tuple[str, Any]], network: str = "bc") -> list[int]:
    """The data part before the signature: the timestamp (now when None), then each ``(tag, value)``
    field in this order.

    Values are as ``encode_invoice`` takes them (``"p"``: 64 hex, ``"d"``: text, ``"9"``: bit numbers,
    ``"r"``: one route, ``"f"``: one address, ...) or ``Raw`` groups. ``network`` is the invoice's, for
    fallback addresses.
    """
    data = bech32.int_to_groups(_checked_timestamp(timestamp), TIMESTAMP_GROUPS)
    for index, (tag, value) in enumerate(fields):
        where = None if isinstance(value, Raw) else f"field {index} ({_NAMES.get(tag, tag)})"
        data += field_groups(tag, value, network, where)
    return data


def sign_invoice(hrp: str, data: Sequence[int], private_key: str | bytes) -> str:
    """The invoice: ``hrp``, the data part and its recoverable, low-S, RFC6979 signature, in bech32."""
    key = _signing_key(_private_key_hex(private_key))
    digest = hashlib.sha256(hrp.encode("ascii") + bech32.groups_to_padded_bytes(data)).digest()
    signature = key.sign_recoverable(digest, hasher=None)  # r || s || recovery id; libsecp256k1 is low-S
    return bech32.encode(hrp, [*data, *bech32.bytes_to_groups(signature)])


def encode_fields(
    fields: Iterable[tuple[str, Any]],
    *,
    private_key: str | bytes,
    network: str = "bc",
    amount_msat: int | None = None,
    timestamp: int | None = None,
) -> str:
    """A signed invoice of exactly these ``(tag, value)`` fields in this order (see ``encode_data``).

    Nothing is added or checked across fields: no ``n`` unless given, duplicates and missing fields as
    given. That is what reproducing the spec's examples, or building invalid ones, needs.
    """
    hrp = invoice_hrp(network, amount_msat)
    return sign_invoice(hrp, encode_data(timestamp, fields, network), private_key)


def _ordered_fields(fields: dict[str, list[list[int]]], field_order: Iterable[str]) -> list[int]:
    """Concatenates fields in the order of the tag letters.

    Each occurrence of a letter places the next field of that type; its last occurrence places all remaining
    ones (so "f" once puts every fallback there, "frf" interleaves). Letters of absent fields are skipped.
    """
    letters = list(field_order)
    unknown = [letter for letter in letters if letter not in WRITERS]
    if unknown:
        raise ValueError(f"field_order has unknown tag letters {unknown}; known: {DEFAULT_FIELD_ORDER!r}")
    unplaced = [letter for letter, values in fields.items() if values and letter not in letters]
    if unplaced:
        raise ValueError(f"field_order {''.join(letters)!r} does not place the present fields {unplaced}")
    remaining_occurrences = {letter: letters.count(letter) for letter in set(letters)}
    pending = {letter: list(values) for letter, values in fields.items()}
    ordered: list[int] = []
    for letter in letters:
        remaining_occurrences[letter] -= 1
        queue = pending.get(letter, [])
        take = len(queue) if remaining_occurrences[letter] == 0 else min(1, len(queue))
        for field in queue[:take]:
            ordered.extend(field)
        del queue[:take]
    return ordered


def _named_fields(
    network: str, payee: bytes | None, values: dict[str, Any], fallbacks: Any, routes: Any, features: Any
) -> dict[str, list[list[int]]]:
    """The tagged fields of ``encode_invoice``'s arguments, grouped by tag (each list in argument order)."""
    if (values["d"] is None) == (values["h"] is None):
        raise ValueError("give exactly one of description or description_hash")
    fields: dict[str, list[list[int]]] = {tag: [] for tag in WRITERS}
    for tag, value in values.items():
        if value is not None or tag == "p":  # p is required: None is reported as not being hex
            fields[tag].append(field_groups(tag, value, network))
    if payee is not None:
        fields["n"].append(field_groups("n", payee, network))
    if isinstance(fallbacks, str):
        raise ValueError("fallback_addresses must be a sequence of addresses, not one string")
    fields["f"] = [field_groups("f", address, network) for address in fallbacks]
    if isinstance(routes, Mapping) or not isinstance(routes, Sequence):
        raise ValueError("route_hints must be a sequence of routes (each a sequence of hop mappings)")
    fields["r"] = [field_groups("r", route, network, f"route_hints[{i}]") for i, route in enumerate(routes)]
    feature_data = _feature_data(features, network, "features")
    if feature_data:
        fields["9"].append(tagged_field("9", feature_data, "features"))
    return fields


def encode_invoice(
    *,
    private_key: str | bytes,
    payment_hash: str,
    payment_secret: str | None,
    network: str = "bc",
    amount_msat: int | None = None,
    timestamp: int | None = None,
    description: str | None = None,
    description_hash: str | None = None,
    expiry: int | None = None,
    min_final_cltv_expiry: int | None = None,
    fallback_addresses: Sequence[str] = (),
    route_hints: Sequence[Sequence[Mapping[str, Any]]] = (),
    features: Iterable[int] = (8, 14),
    metadata: str | None = None,
    include_payee: bool = False,
    field_order: Sequence[str] | None = None,
) -> str:
    """A signed BOLT11 invoice string (lowercase).

    ``private_key``: 32-byte secret (hex or bytes). ``payment_hash`` / ``payment_secret`` /
    ``description_hash``: 64 hex characters; ``payment_secret=None`` omits ``s`` (legacy/odd invoices only).
    Exactly one of ``description`` (UTF-8, at most 639 bytes) or ``description_hash``. ``network``: "bc",
    "tb", "tbs" or "bcrt". ``amount_msat=None`` is amountless. ``expiry`` / ``min_final_cltv_expiry`` of None
    omit ``x`` / ``c`` (readers then assume 3600 s / 18). ``fallback_addresses``: on-chain addresses of the
    invoice's network (P2PKH, P2SH, P2WPKH, P2WSH, P2TR and later witness versions). ``route_hints``: routes,
    one ``r`` field each, of hops with pubkey, short_channel_id ("BLOCKxTXxOUT" or u64),
    fee_base_msat, fee_proportional_millionths (u32) and cltv_expiry_delta (u16). ``features``: BOLT 9 bit
    numbers (empty omits ``9``). ``metadata``: hex ``m`` field. ``include_payee`` writes ``n``.
    ``field_order``: tag letters, default ``"psdhnxcfr9m"``.

    Signatures are RFC6979 deterministic, so equal inputs give equal invoices. Raises ValueError naming the
    offending argument. Note lnd and rust-lightning refuse invoices over 7089 characters; this is not checked.
    """
    hrp = invoice_hrp(network, amount_msat)
    key_hex = _private_key_hex(private_key)
    public_key = _public_key(key_hex)  # also validates the key before any field is built
    payee = public_key if include_payee else None
    timestamp = _checked_timestamp(timestamp)
    values = {
        "p": payment_hash,
        "s": payment_secret,
        "d": description,
        "h": description_hash,
        "x": expiry,
        "c": min_final_cltv_expiry,
        "m": metadata,
    }
    fields = _named_fields(network, payee, values, fallback_addresses, route_hints, features)
    order = DEFAULT_FIELD_ORDER if field_order is None else field_order
    data = bech32.int_to_groups(timestamp, TIMESTAMP_GROUPS) + _ordered_fields(fields, order)
    return sign_invoice(hrp, data, key_hex)
