"""Writing signed BOLT11 invoices.

Project policy: the ``bolt11`` PyPI package (2.2.0) is our encoder. Its pieces are used as follows:

* signing: ``bolt11.models.signature.Signature.from_private_key`` (coincurve ``sign_recoverable``, RFC6979
  deterministic, low-S), so spec vectors re-encode byte for byte;
* bech32: ``bech32.bech32_encode``, the package ``bolt11`` itself encodes with;
* tagged fields are built here as 5-bit groups instead of with ``bolt11.encode``, because that function spends
  over 80 % of its ~3 ms converting a ``bitstring`` back to 5-bit groups, and because of these defects of
  ``bolt11.encode`` 2.2.0 that we work around:

  - ``msat_to_amount`` divides once too often for multiples of 1000 BTC: 10**14 msat is written ``lnbc1``
    (1 BTC). An amount of 0 is silently written as amountless.
  - ``Fallback.from_address`` verifies only the bech32 checksum, so P2TR (bech32m) addresses fail; it has no
    signet or regtest support and does not check BIP-141/350 program lengths.
  - ``_tagged_int`` packs into a signed 64-bit integer and keeps 60 bits: an expiry or cltv >= 2**60 is
    silently truncated.
  - no length checks: a field over 1023 groups (description over 639 bytes, 13+ route hops) fails inside
    bitstring; hashes of the wrong length and route-hint short channel ids out of range are written as given.
  - ``Features`` keys the state by feature pair, so an even and odd bit of one pair (e.g. 8 and 9) cannot both
    be set; its names above bit 27 do not follow BOLT 9.
  - the payee ``n`` field is dropped unless ``keep_payee=True``.

Route hints are packed as unsigned big-endian integers here (the package's own packing is unsigned too; the
signed-number defect is in its decoder).
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import base58
from bech32 import CHARSET, bech32_encode, bech32_hrp_expand, bech32_polymod, convertbits
from bolt11.models.signature import Signature
from coincurve import PrivateKey, PublicKey

__all__ = [
    "DEFAULT_FIELD_ORDER",
    "NETWORKS",
    "decode_segwit_address",
    "encode_invoice",
    "encode_segwit_address",
    "fallback_field_data",
    "hrp_amount",
]

# Currency prefix of the invoice -> (segwit address hrp, P2PKH version byte, P2SH version byte).
NETWORKS: dict[str, tuple[str, int, int]] = {
    "bc": ("bc", 0, 5),
    "tb": ("tb", 111, 196),
    "tbs": ("tb", 111, 196),
    "bcrt": ("bcrt", 111, 196),
}

DEFAULT_FIELD_ORDER = "psdhnxcfr9m"

_TAG_CODES = {letter: CHARSET.index(letter) for letter in "psdhnxcfr9m"}
_MAX_FIELD_GROUPS = 1023  # data_length is 10 bits
_MAX_FIELD_BYTES = _MAX_FIELD_GROUPS * 5 // 8  # 639
_HOP_BYTES = 33 + 8 + 4 + 4 + 2
_MAX_HOPS_PER_ROUTE = _MAX_FIELD_GROUPS * 5 // (_HOP_BYTES * 8)  # 12
_MAX_TIMESTAMP = 2**35 - 1
_MAX_HRP_LENGTH = 83  # BIP-173: decoders look for the separator within the first 84 characters
_MAX_UINT64 = 2**64 - 1
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_HEX = re.compile(r"[0-9a-fA-F]*")
_HOP_KEYS = frozenset(
    {"pubkey", "short_channel_id", "fee_base_msat", "fee_proportional_millionths", "cltv_expiry_delta"}
)


# ----------------------------------------------------------------------------------------------------------
# Small conversions


def _bytes_to_groups(data: bytes) -> list[int]:
    """Big-endian 5-bit groups of ``data``, zero-padded at the end (BOLT11 "pad field data to 5 bits")."""
    bit_count = len(data) * 8
    group_count = -(-bit_count // 5)
    value = int.from_bytes(data, "big") << (group_count * 5 - bit_count)
    return [(value >> shift) & 31 for shift in range(group_count * 5 - 5, -1, -5)]


def _int_to_groups(value: int) -> list[int]:
    """Minimal big-endian 5-bit groups of a non-negative integer (no leading zero groups; 0 -> [])."""
    group_count = -(-value.bit_length() // 5)
    return [(value >> shift) & 31 for shift in range(group_count * 5 - 5, -1, -5)]


def _groups_to_padded_bytes(groups: Sequence[int]) -> bytes:
    """The data part as bytes for signing: groups concatenated, then zero bits up to a byte boundary."""
    value = 0
    for group in groups:
        value = (value << 5) | group
    bit_count = len(groups) * 5
    byte_count = -(-bit_count // 8)
    return (value << (byte_count * 8 - bit_count)).to_bytes(byte_count, "big")


def _as_int(value: Any, name: str) -> int:
    # bool is an int subclass but never a meaningful amount; floats would silently lose precision.
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not a bool")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None


def _hex_to_bytes(value: Any, name: str, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a hex string, got {type(value).__name__}")
    if not _HEX.fullmatch(value) or len(value) % 2:
        raise ValueError(f"{name} is not valid hex (even number of 0-9a-f characters): {value!r}")
    if length is not None and len(value) != 2 * length:
        raise ValueError(f"{name} must be {2 * length} hex characters ({length} bytes), got {len(value)}")
    return bytes.fromhex(value)


# ----------------------------------------------------------------------------------------------------------
# Amount


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


# ----------------------------------------------------------------------------------------------------------
# Addresses (BIP-173 bech32, BIP-350 bech32m, base58check)


def encode_segwit_address(hrp: str, witness_version: int, program: bytes) -> str:
    """A segwit address: bech32 for witness version 0, bech32m for versions 1-16 (BIP-350)."""
    if not 0 <= witness_version <= 16:
        raise ValueError(f"witness version must be 0..16, got {witness_version}")
    _check_witness_program(witness_version, len(program))
    data = [witness_version, *convertbits(program, 8, 5)]
    constant = _BECH32_CONST if witness_version == 0 else _BECH32M_CONST
    polymod = bech32_polymod(bech32_hrp_expand(hrp) + data + [0] * 6) ^ constant
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[group] for group in data + checksum)


def decode_segwit_address(hrp: str, address: str) -> tuple[int, bytes]:
    """(witness version, witness program) of a segwit address with the given hrp; ValueError if invalid.

    Enforces BIP-350: version 0 needs the bech32 checksum, versions 1-16 the bech32m checksum.
    """
    if address.lower() != address and address.upper() != address:
        raise ValueError(f"mixed-case address: {address!r}")
    if len(address) > 90:
        raise ValueError(f"address longer than 90 characters: {address!r}")
    lowered = address.lower()
    separator = lowered.rfind("1")
    if separator < 1 or lowered[:separator] != hrp:
        raise ValueError(f"address {address!r} does not have the hrp {hrp!r}")
    payload = lowered[separator + 1 :]
    if len(payload) < 7 or any(char not in CHARSET for char in payload):
        raise ValueError(f"invalid bech32 characters or too short: {address!r}")
    groups = [CHARSET.index(char) for char in payload]
    residue = bech32_polymod(bech32_hrp_expand(hrp) + groups)
    data = groups[:-6]
    witness_version = data[0]
    if witness_version > 16:
        raise ValueError(f"invalid witness version {witness_version} in {address!r}")
    expected = _BECH32_CONST if witness_version == 0 else _BECH32M_CONST
    if residue != expected:
        kind = "bech32" if witness_version == 0 else "bech32m"
        raise ValueError(f"bad checksum in {address!r} (witness version {witness_version} needs {kind})")
    program = convertbits(data[1:], 5, 8, False)
    if program is None:
        raise ValueError(f"invalid padding in {address!r}")
    _check_witness_program(witness_version, len(program))
    return witness_version, bytes(program)


def _check_witness_program(witness_version: int, length: int) -> None:
    if not 2 <= length <= 40:
        raise ValueError(f"witness program must be 2..40 bytes, got {length}")
    if witness_version == 0 and length not in (20, 32):
        raise ValueError(f"witness version 0 program must be 20 or 32 bytes, got {length}")


def fallback_field_data(address: str, network: str) -> tuple[int, ...]:
    """The 5-bit groups of an ``f`` field for an on-chain address of the invoice's network.

    Version 17 = P2PKH, 18 = P2SH (base58check), 0-16 = witness version followed by the program.
    """
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; expected one of {sorted(NETWORKS)}")
    if not isinstance(address, str) or not address:
        raise ValueError(f"fallback address must be a non-empty string, got {address!r}")
    return _fallback_field_data(address, network)


@lru_cache(maxsize=4096)
def _fallback_field_data(address: str, network: str) -> tuple[int, ...]:
    segwit_hrp, p2pkh_version, p2sh_version = NETWORKS[network]
    lowered = address.lower()
    separator = lowered.rfind("1")
    if separator > 0 and all(char in CHARSET for char in lowered[separator + 1 :]):
        address_hrp = lowered[:separator]
        if address_hrp in {hrp for hrp, _, _ in NETWORKS.values()}:
            if address_hrp != segwit_hrp:
                raise ValueError(
                    f"fallback address {address!r} is for hrp {address_hrp!r}, not network {network!r}"
                )
            witness_version, program = decode_segwit_address(segwit_hrp, address)
            return (witness_version, *_bytes_to_groups(program))
    try:
        payload = base58.b58decode_check(address)
    except ValueError as exc:
        raise ValueError(f"fallback address {address!r} is neither segwit nor base58check: {exc}") from None
    if len(payload) != 21:
        raise ValueError(f"fallback address {address!r} has a {len(payload) - 1}-byte hash, expected 20")
    if payload[0] == p2pkh_version:
        version = 17
    elif payload[0] == p2sh_version:
        version = 18
    else:
        raise ValueError(
            f"fallback address {address!r} has version byte {payload[0]}, "
            f"not P2PKH/P2SH of network {network!r}"
        )
    return (version, *_bytes_to_groups(payload[1:]))


# ----------------------------------------------------------------------------------------------------------
# Keys, route hints


@lru_cache(maxsize=256)
def _signing_key(private_key_hex: str) -> bytes:
    """Validates a secret key and returns its compressed public key (cached: node keys repeat)."""
    secret = int(private_key_hex, 16)
    if not 0 < secret < _SECP256K1_ORDER:
        raise ValueError("private_key is not a valid secp256k1 secret (must be in 1..n-1)")
    return PrivateKey(bytes.fromhex(private_key_hex)).public_key.format(compressed=True)


def _private_key_hex(private_key: Any) -> str:
    if isinstance(private_key, (bytes, bytearray)):
        if len(private_key) != 32:
            raise ValueError(f"private_key must be 32 bytes, got {len(private_key)}")
        return bytes(private_key).hex()
    return _hex_to_bytes(private_key, "private_key", 32).hex()


@lru_cache(maxsize=8192)
def _checked_node_id(pubkey: str) -> bytes:
    node_id = _hex_to_bytes(pubkey, "route hint pubkey", 33)
    try:
        PublicKey(node_id)
    except ValueError:
        raise ValueError(f"route hint pubkey {pubkey} is not a valid compressed secp256k1 point") from None
    return node_id


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
    if not 0 <= number <= _MAX_UINT64:
        raise ValueError(f"{where} short_channel_id {number} is not a u64")
    return number


def _route_field_data(route: Sequence[Mapping[str, Any]], route_index: int) -> list[int]:
    if isinstance(route, Mapping) or not isinstance(route, Sequence) or not route:
        raise ValueError(f"route_hints[{route_index}] must be a non-empty sequence of hop mappings")
    if len(route) > _MAX_HOPS_PER_ROUTE:
        raise ValueError(
            f"route_hints[{route_index}] has {len(route)} hops; "
            f"one r field holds at most {_MAX_HOPS_PER_ROUTE}"
        )
    packed = bytearray()
    for hop_index, hop in enumerate(route):
        where = f"route_hints[{route_index}][{hop_index}]"
        if not isinstance(hop, Mapping):
            raise ValueError(f"{where} must be a mapping, got {type(hop).__name__}")
        missing = _HOP_KEYS - hop.keys()
        unknown = hop.keys() - _HOP_KEYS
        if missing or unknown:
            raise ValueError(f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
        fee_base = _as_int(hop["fee_base_msat"], f"{where} fee_base_msat")
        fee_proportional = _as_int(hop["fee_proportional_millionths"], f"{where} fee_proportional_millionths")
        cltv_delta = _as_int(hop["cltv_expiry_delta"], f"{where} cltv_expiry_delta")
        for name, number, limit in (
            ("fee_base_msat", fee_base, 0xFFFFFFFF),
            ("fee_proportional_millionths", fee_proportional, 0xFFFFFFFF),
            ("cltv_expiry_delta", cltv_delta, 0xFFFF),
        ):
            if not 0 <= number <= limit:
                raise ValueError(f"{where} {name} must be in 0..{limit} (unsigned), got {number}")
        packed += _checked_node_id(hop["pubkey"])
        packed += _short_channel_id(hop["short_channel_id"], where).to_bytes(8, "big")
        packed += fee_base.to_bytes(4, "big") + fee_proportional.to_bytes(4, "big")
        packed += cltv_delta.to_bytes(2, "big")
    return _bytes_to_groups(bytes(packed))


# ----------------------------------------------------------------------------------------------------------
# The invoice


def _tagged_field(letter: str, data: Sequence[int], name: str) -> list[int]:
    if len(data) > _MAX_FIELD_GROUPS:
        raise ValueError(f"{name} needs {len(data)} 5-bit groups; a field holds at most {_MAX_FIELD_GROUPS}")
    return [_TAG_CODES[letter], len(data) >> 5, len(data) & 31, *data]


def _bounded_uint_field(value: Any, name: str, letter: str) -> list[int]:
    number = _as_int(value, name)
    if not 0 <= number <= _MAX_UINT64:
        raise ValueError(f"{name} must be in 0..2**64-1, got {number}")
    return _tagged_field(letter, _int_to_groups(number), name)


def _ordered_fields(fields: dict[str, list[list[int]]], field_order: Iterable[str]) -> list[int]:
    """Concatenates fields in the order of the tag letters.

    Each occurrence of a letter places the next field of that type; its last occurrence places all remaining
    ones (so "f" once puts every fallback there, "frf" interleaves). Letters of absent fields are skipped.
    """
    letters = list(field_order)
    unknown = [letter for letter in letters if letter not in _TAG_CODES]
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
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; expected one of {sorted(NETWORKS)}")
    key_hex = _private_key_hex(private_key)
    payee_pubkey = _signing_key(key_hex)

    hrp = "ln" + network
    if amount_msat is not None:
        hrp += hrp_amount(amount_msat)
        if len(hrp) > _MAX_HRP_LENGTH:
            raise ValueError(
                f"amount_msat {amount_msat} makes the hrp longer than {_MAX_HRP_LENGTH} characters"
            )

    if timestamp is None:
        timestamp = int(time.time())
    timestamp = _as_int(timestamp, "timestamp")
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError(f"timestamp must be in 0..2**35-1 (35 bits), got {timestamp}")

    fields: dict[str, list[list[int]]] = {letter: [] for letter in _TAG_CODES}
    hash_bytes = _hex_to_bytes(payment_hash, "payment_hash", 32)
    fields["p"].append(_tagged_field("p", _bytes_to_groups(hash_bytes), "payment_hash"))
    if payment_secret is not None:
        secret = _hex_to_bytes(payment_secret, "payment_secret", 32)
        fields["s"].append(_tagged_field("s", _bytes_to_groups(secret), "payment_secret"))

    if (description is None) == (description_hash is None):
        raise ValueError("give exactly one of description or description_hash")
    if description is not None:
        if not isinstance(description, str):
            raise ValueError(f"description must be a str, got {type(description).__name__}")
        try:
            description_bytes = description.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"description is not encodable as UTF-8: {exc}") from None
        if len(description_bytes) > _MAX_FIELD_BYTES:
            raise ValueError(
                f"description is {len(description_bytes)} UTF-8 bytes; the d field holds at most "
                f"{_MAX_FIELD_BYTES} (use description_hash for longer ones)"
            )
        fields["d"].append(_tagged_field("d", _bytes_to_groups(description_bytes), "description"))
    else:
        digest = _hex_to_bytes(description_hash, "description_hash", 32)
        fields["h"].append(_tagged_field("h", _bytes_to_groups(digest), "description_hash"))

    if include_payee:
        fields["n"].append(_tagged_field("n", _bytes_to_groups(payee_pubkey), "payee"))
    if expiry is not None:
        fields["x"].append(_bounded_uint_field(expiry, "expiry", "x"))
    if min_final_cltv_expiry is not None:
        fields["c"].append(_bounded_uint_field(min_final_cltv_expiry, "min_final_cltv_expiry", "c"))

    if isinstance(fallback_addresses, str):
        raise ValueError("fallback_addresses must be a sequence of addresses, not one string")
    for address in fallback_addresses:
        fields["f"].append(_tagged_field("f", fallback_field_data(address, network), "fallback"))

    if isinstance(route_hints, Mapping) or not isinstance(route_hints, Sequence):
        raise ValueError("route_hints must be a sequence of routes (each a sequence of hop mappings)")
    for route_index, route in enumerate(route_hints):
        fields["r"].append(_tagged_field("r", _route_field_data(route, route_index), "route hint"))

    feature_vector = 0
    for bit in features:
        bit = _as_int(bit, "features bit")
        if not 0 <= bit < _MAX_FIELD_GROUPS * 5:
            raise ValueError(f"features bit must be in 0..{_MAX_FIELD_GROUPS * 5 - 1}, got {bit}")
        feature_vector |= 1 << bit
    if feature_vector:
        fields["9"].append(_tagged_field("9", _int_to_groups(feature_vector), "features"))

    if metadata is not None:
        metadata_bytes = _hex_to_bytes(metadata, "metadata")
        if not metadata_bytes:
            raise ValueError("metadata must not be empty (use None to omit the m field)")
        fields["m"].append(_tagged_field("m", _bytes_to_groups(metadata_bytes), "metadata"))

    order = DEFAULT_FIELD_ORDER if field_order is None else field_order
    timestamp_groups = [(timestamp >> shift) & 31 for shift in range(30, -1, -5)]
    data = timestamp_groups + _ordered_fields(fields, order)

    signature = Signature.from_private_key(
        hrp=hrp, private_key=key_hex, signing_data=_groups_to_padded_bytes(data)
    ).signature_data
    return bech32_encode(hrp, data + _bytes_to_groups(signature))
