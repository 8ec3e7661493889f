"""A pure, fast, spec-exact BOLT11 decoder (no I/O).

Why hand-written: the ``bolt11`` package spends >85 % of its ~3 ms per invoice in bitstring and
gets several fields wrong (see the project notes). Here the two costly steps are done in C:

* the bech32 checksum is a GF(2)-linear function of the input symbols, so it is computed for a
  whole batch at once with numpy from a table of per-position contributions;
* 5-bit unpacking uses Python's own base-32 integer parser: the bech32 alphabet is translated to
  ``0-9a-v`` and ``int(text, 32)`` yields the bits, which ``to_bytes``/``format`` slice into fields.

What is left per invoice is a short loop over the tagged fields and the elliptic-curve work
(libsecp256k1 through coincurve), which is the physical floor.

Spec decisions (BOLT #11, snapshot 2026-03-23):

* ``strict=True`` fails on every MUST-fail reader rule, including bolts #1243 (a ``p``, ``h``, ``s``
  or ``n`` field of the wrong length fails the invoice). The spec's example "fields which must be
  ignored" predates that rule and is therefore rejected in strict mode (bolts#1358 / PR #1357 move
  it to the invalid examples); ``strict=False`` skips such fields and reports them in ``warnings``.
* ``strict=False`` never accepts integrity failures: checksum, signature, truncated data, malformed
  amounts. It accepts what only makes an invoice unpayable: missing ``s``, missing or doubled
  ``d``/``h``, unknown even feature bits, wrong-length known fields, invalid UTF-8 descriptions,
  amounts with leading zeros, malformed route hints.
* With ``n`` present the signature is verified against ``n`` (ECDSA verify, which demands low-S, and
  ignores the recovery id as the spec says); without ``n`` the payee is recovered, high-S accepted.
"""

from __future__ import annotations

import hashlib
import re
import struct
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple

import base58
import numpy as np
from coincurve import PublicKey

from lnnotebook.errors import (
    AmountError,
    ChecksumError,
    FeatureError,
    FieldLengthError,
    FormatError,
    InvoiceError,
    MissingFieldError,
    NetworkError,
    SignatureError,
    TooLongError,
    TruncatedError,
)

MAX_INVOICE_LENGTH = 7089  # lnd's and rust-lightning's limit
DEFAULT_EXPIRY = 3600
DEFAULT_MIN_FINAL_CLTV_EXPIRY = 18
NETWORKS = ("bc", "tb", "tbs", "bcrt")

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BASE32_DIGITS = "0123456789abcdefghijklmnopqrstuv"
_TO_BASE32_DIGITS = str.maketrans(BECH32_CHARSET, _BASE32_DIGITS)
_TO_VALUES = bytes.maketrans(BECH32_CHARSET.encode(), bytes(range(32)))
_DATA_PART = re.compile(f"[{BECH32_CHARSET}]*")
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)

_SIGNATURE_GROUPS = 104  # 520 bits: r (32 bytes) || s (32 bytes) || recovery id
_TIMESTAMP_GROUPS = 7  # 35 bits
_CHECKSUM_GROUPS = 6
_MIN_DATA_GROUPS = _TIMESTAMP_GROUPS + _SIGNATURE_GROUPS + _CHECKSUM_GROUPS
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_CURVE_ORDER = _CURVE_ORDER // 2

_HRP = re.compile(r"ln(bcrt|tbs|bc|tb)(.*)", re.DOTALL)
_AMOUNT = re.compile(r"([0-9]+)([munp]?)")
# Far above any real amount (21 million BTC is 19 digits of msat) and far below Python's 4300-digit limit
# on int/str conversions, which would otherwise escape as a bare ValueError (and break repr()).
_MAX_AMOUNT_DIGITS = 100
_MSAT_PER_UNIT = {"": 100_000_000_000, "m": 100_000_000, "u": 100_000, "n": 100}

# Fallback address parameters per invoice network: segwit hrp, P2PKH and P2SH version bytes.
_ADDRESS_PARAMS = {
    "bc": ("bc", 0x00, 0x05),
    "tb": ("tb", 0x6F, 0xC4),
    "tbs": ("tb", 0x6F, 0xC4),
    "bcrt": ("bcrt", 0x6F, 0xC4),
}

# BOLT 9 names (current table plus earlier assignments still seen in the wild), by even bit.
_FEATURE_NAMES_BY_PAIR = {
    0: "option_data_loss_protect",
    4: "option_upfront_shutdown_script",
    6: "gossip_queries",
    8: "var_onion_optin",
    10: "gossip_queries_ex",
    12: "option_static_remotekey",
    14: "payment_secret",
    16: "basic_mpp",
    18: "option_support_large_channel",
    20: "option_anchor_outputs",
    22: "option_anchors",
    24: "option_route_blinding",
    26: "option_shutdown_anysegwit",
    28: "option_dual_fund",
    34: "option_quiesce",
    38: "option_onion_messages",
    44: "option_channel_type",
    46: "option_scid_alias",
    48: "option_payment_metadata",
    50: "option_zeroconf",
}
FEATURE_NAMES: dict[int, str] = {
    bit + offset: name for bit, name in _FEATURE_NAMES_BY_PAIR.items() for offset in (0, 1)
}
FEATURE_NAMES[3] = "initial_routing_sync"  # the one assignment without an even partner


class Hop(NamedTuple):
    """One hop of a route hint: the channel from ``pubkey`` towards the payee."""

    pubkey: str
    short_channel_id: str  # BLOCKxTXxOUT
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int


class Feature(NamedTuple):
    """A set feature bit; ``name`` is the BOLT 9 name, or None for an unassigned bit."""

    bit: int
    name: str | None

    @property
    def required(self) -> bool:
        return self.bit % 2 == 0

    def __str__(self) -> str:
        return self.name or f"unknown_{self.bit}"


@dataclass(frozen=True, slots=True)
class Invoice:
    """A decoded BOLT11 invoice. Hashes, keys and metadata are lowercase hex."""

    bolt11: str  # normalised: lowercase, without URI prefixes
    network: str  # bc, tb, tbs, bcrt
    amount_msat: int | None  # None for an amountless invoice
    timestamp: int
    created_at: datetime | None  # tz-aware UTC; None only where Python cannot represent it
    expires_at: datetime | None
    expiry: int  # effective, in seconds (default 3600)
    payment_hash: str
    payment_secret: str | None
    description: str | None
    description_hash: str | None
    payee: str | None  # from n, or recovered from the signature; None with verify=False and no n
    min_final_cltv_expiry: int  # effective (default 18)
    fallback_addresses: tuple[str, ...]
    route_hints: tuple[tuple[Hop, ...], ...]
    features: tuple[Feature, ...]
    metadata: str | None
    signature: str  # 65 bytes: r || s || recovery id
    warnings: tuple[str, ...] = ()

    @property
    def amount_sat(self) -> float | None:
        return None if self.amount_msat is None else self.amount_msat / 1000

    @property
    def feature_bits(self) -> tuple[int, ...]:
        return tuple(feature.bit for feature in self.features)

    def is_expired(self, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now or datetime.now(timezone.utc)) >= self.expires_at

    def _repr_html_(self) -> str:
        """Jupyter's rich display: key fields, time left to expiry and a QR code (``lnnotebook.display``)."""
        from lnnotebook.display import invoice_html  # the decoder itself stays free of display code

        return invoice_html(self)

    @classmethod
    def _from_row(cls, row: tuple) -> Invoice:
        timestamp, expiry = row[_TIMESTAMP_INDEX], row[_EXPIRY_INDEX]
        created_at = _utc_datetime(timestamp)
        expires_at = _utc_datetime(timestamp + expiry)
        return cls(*row[: _TIMESTAMP_INDEX + 1], created_at, expires_at, *row[_TIMESTAMP_INDEX + 1 :])


# A decoded row is the Invoice's fields without the two datetimes (frames derive those vectorised).
ROW_FIELDS = tuple(name for name in Invoice.__dataclass_fields__ if name not in ("created_at", "expires_at"))
_TIMESTAMP_INDEX = ROW_FIELDS.index("timestamp")
_EXPIRY_INDEX = ROW_FIELDS.index("expiry")


def _utc_datetime(seconds: int) -> datetime | None:
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    except OverflowError:
        return None


# --- public entry points ---------------------------------------------------------------------


def decode(text: str, *, verify: bool = True, strict: bool = True) -> Invoice:
    """Decode one BOLT11 invoice as people paste it.

    Accepts any case, surrounding whitespace, a ``lightning:`` prefix or a BIP-21
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
            pending.append((index, *_split(text)))
        except InvoiceError as error:
            results[index] = error
    for start in range(0, len(pending), _CHECKSUM_BATCH):
        chunk = pending[start : start + _CHECKSUM_BATCH]
        valid = _checksums_valid([item[2] for item in chunk], [item[3] for item in chunk])
        for (index, bolt11, hrp, data), ok in zip(chunk, valid.tolist()):
            if not ok:
                results[index] = ChecksumError(
                    "the bech32 checksum does not match: a character is wrong or missing "
                    "(check that the whole invoice was copied)",
                    field="checksum",
                )
                continue
            try:
                results[index] = _parse(bolt11, hrp, data, verify, strict)
            except InvoiceError as error:
                results[index] = error
    return results


# --- text handling -----------------------------------------------------------------------------


# Pasted from web pages and chats: byte-order mark, zero-width spaces and joiners, word joiner.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def _split(text: object) -> tuple[str, str, str]:
    """Normalise pasted text and split it into (invoice, hrp, data part)."""
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and text != text) or type(text).__name__ == "NAType":
            raise FormatError("the value is missing (None/NaN/NA) instead of an invoice")
        raise FormatError(f"expected the invoice as a string, got {type(text).__name__}")
    invoice = text.strip().strip(_INVISIBLE).strip()
    head = invoice[:10].lower()
    if head.startswith("bitcoin:"):
        invoice = _lightning_from_bip21(invoice)
    elif head.startswith("lightning:"):
        invoice = invoice[10:].removeprefix("//").strip()
    if not invoice:
        raise FormatError("the invoice is empty")
    if len(invoice) > MAX_INVOICE_LENGTH:
        raise TooLongError(
            f"the invoice is {len(invoice)} characters long; at most {MAX_INVOICE_LENGTH} are accepted"
        )
    lowered = invoice.lower()
    if lowered != invoice and invoice.upper() != invoice:
        raise FormatError("the invoice mixes upper and lower case, which bech32 forbids")
    separator = lowered.rfind("1")
    if separator < 0:
        raise FormatError("no '1' separator between the prefix and the data: this is not a bech32 invoice")
    hrp, data = lowered[:separator], lowered[separator + 1 :]
    if not hrp:
        raise FormatError("nothing before the '1' separator: the 'ln...' prefix is missing")
    if not (hrp.isascii() and hrp.isprintable()) or " " in hrp:
        raise FormatError(f"the prefix {hrp[:20]!r} contains characters bech32 does not allow")
    if not _DATA_PART.fullmatch(data):
        bad = next(ch for ch in data if ch not in BECH32_CHARSET)
        raise FormatError(
            f"character {bad!r} at position {separator + 1 + data.index(bad)} is not in the bech32 alphabet"
        )
    if len(data) < _MIN_DATA_GROUPS:
        raise TruncatedError(
            f"the data part is {len(data)} characters; at least {_MIN_DATA_GROUPS} are needed for the "
            "timestamp, signature and checksum (the invoice may be cut off)"
        )
    return lowered, hrp, data


def _lightning_from_bip21(uri: str) -> str:
    _, _, query = uri.partition("?")
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key.lower() == "lightning":
            from urllib.parse import unquote

            return unquote(value).strip()
    raise FormatError("the bitcoin: URI has no lightning= parameter")


# --- bech32 checksum, vectorised over a batch ----------------------------------------------------

_CHECKSUM_BATCH = 8192
_HRP_HIGH = bytes.maketrans(bytes(range(128)), bytes(c >> 5 for c in range(128)))
_HRP_LOW = bytes.maketrans(bytes(range(128)), bytes(c & 31 for c in range(128)))


class _ChecksumTable:
    """``table[k, v]``: the polymod contribution of symbol ``v`` followed by ``k`` more symbols.

    The polymod is linear over GF(2) apart from its initial 1, whose contribution after ``n``
    symbols is ``table[n, 1]``. So the checksum of a sequence is an XOR of table lookups, which
    numpy does for many invoices at once.
    """

    def __init__(self) -> None:
        self.table = np.zeros((0, 32), dtype=np.uint32)
        self._basis = [1 << bit for bit in range(5)]  # state of each basis symbol after k steps
        self._lock = threading.Lock()

    def rows(self, count: int) -> np.ndarray:
        """A table of at least ``count`` rows. Thread-safe: growth builds a new array under a lock
        and swaps it in whole, so a reader holding the old one still sees consistent rows."""
        table = self.table
        if count > len(table):
            with self._lock:
                if count > len(self.table):
                    self._grow(max(count, 2 * len(self.table), 1024))
                table = self.table
        return table

    def _grow(self, count: int) -> None:
        start = len(self.table)
        basis_rows = np.empty((count - start, 5), dtype=np.uint32)
        states = self._basis
        for k in range(count - start):
            basis_rows[k] = states
            states = [_polymod_step(state) for state in states]
        self._basis = states
        symbols = np.arange(32)
        new_rows = np.zeros((count - start, 32), dtype=np.uint32)
        for bit in range(5):
            new_rows ^= np.outer(basis_rows[:, bit], (symbols >> bit) & 1).astype(np.uint32)
        self.table = np.concatenate([self.table, new_rows])


def _polymod_step(state: int, symbol: int = 0) -> int:
    top = state >> 25
    state = ((state & 0x1FFFFFF) << 5) ^ symbol
    for bit in range(5):
        if (top >> bit) & 1:
            state ^= _GENERATOR[bit]
    return state


_TABLE = _ChecksumTable()


@lru_cache(maxsize=256)
def _expand_hrp(hrp: str) -> bytes:
    raw = hrp.encode("ascii")
    return raw.translate(_HRP_HIGH) + b"\0" + raw.translate(_HRP_LOW)


def _checksums_valid(hrps: list[str], datas: list[str]) -> np.ndarray:
    """One boolean per invoice: does its bech32 checksum hold?"""
    if not hrps:
        return np.zeros(0, dtype=bool)
    sequences = [
        _expand_hrp(hrp) + data.encode("ascii").translate(_TO_VALUES) for hrp, data in zip(hrps, datas)
    ]
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    symbols = np.frombuffer(b"".join(sequences), dtype=np.uint8)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    table = _TABLE.rows(int(lengths.max()) + 1)
    steps_after = np.repeat(ends - 1, lengths) - np.arange(len(symbols), dtype=np.int64)
    contributions = table.ravel()[steps_after * 32 + symbols]
    polymod = np.bitwise_xor.reduceat(contributions, starts) ^ table[lengths, 1]
    return polymod == _BECH32_CONST


# --- human-readable part -------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _parse_hrp(hrp: str, strict: bool) -> tuple[str, int | None, tuple[str, ...]]:
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
    if len(digits) > _MAX_AMOUNT_DIGITS:
        raise AmountError(
            f"the amount has {len(digits)} digits; more than {_MAX_AMOUNT_DIGITS} cannot be a real amount",
            field="amount",
        )
    problems: list[str] = []
    if digits.startswith("0"):
        problems.append(f"amount {amount_text!r} has a leading zero or is zero")
    if multiplier == "p":
        if not digits.endswith("0"):
            raise AmountError(
                f"amount {amount_text!r} is a fraction of a millisatoshi (with 'p' the last digit must be 0)",
                field="amount",
            )
        amount_msat = int(digits) // 10
    else:
        amount_msat = int(digits) * _MSAT_PER_UNIT[multiplier]
    if problems and strict:
        raise AmountError(problems[0], field="amount")
    return network, amount_msat, tuple(problems)


# --- tagged fields -------------------------------------------------------------------------------


def _field_bytes(groups: str) -> bytes:
    """Bytes of a field given as base-32 digits; trailing padding bits (< 8) are dropped."""
    if not groups:
        return b""
    bits = 5 * len(groups)
    size = bits // 8
    return (int(groups, 32) >> (bits - 8 * size)).to_bytes(size, "big")


@lru_cache(maxsize=1024)
def _parse_features(value: int) -> tuple[tuple[Feature, ...], tuple[int, ...]]:
    """Set bits of a feature vector, and the unknown even (compulsory) ones among them."""
    features = []
    unknown_required = []
    remaining = value
    while remaining:
        lowest = remaining & -remaining
        bit = lowest.bit_length() - 1
        remaining ^= lowest
        name = FEATURE_NAMES.get(bit)
        features.append(Feature(bit, name))
        if name is None and bit % 2 == 0:
            unknown_required.append(bit)
    return tuple(features), tuple(unknown_required)


def _route_hint(groups: str) -> tuple[Hop, ...] | None:
    data = _field_bytes(groups)
    if not data or len(data) % 51:
        return None
    return tuple(
        Hop(pubkey.hex(), f"{scid >> 40}x{(scid >> 16) & 0xFFFFFF}x{scid & 0xFFFF}", base, ppm, delta)
        for pubkey, scid, base, ppm, delta in struct.iter_unpack(">33sQIIH", data)
    )


def _fallback_address(groups: str, network: str) -> tuple[str | None, str | None]:
    """Render an ``f`` field: (address, None), (None, reason to warn), or (None, None) to skip."""
    if not groups:
        return None, "an empty fallback field was skipped"
    version = int(groups[0], 32)
    program = _field_bytes(groups[1:])
    segwit_hrp, p2pkh, p2sh = _ADDRESS_PARAMS[network]
    if version in (17, 18):
        if len(program) != 20:
            return None, f"a version-{version} fallback with a {len(program)}-byte hash was skipped"
        prefix = p2pkh if version == 17 else p2sh
        return base58.b58encode_check(bytes([prefix]) + program).decode("ascii"), None
    if version <= 16:
        if not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
            return None, f"a witness v{version} fallback with a {len(program)}-byte program was skipped"
        return _segwit_address(segwit_hrp, version, program), None
    return None, None  # unknown versions: the spec says skip


def _segwit_address(hrp: str, version: int, program: bytes) -> str:
    """BIP-173 (v0, bech32) or BIP-350 (v1+, bech32m) address."""
    bits = int.from_bytes(program, "big")
    pad = (-8 * len(program)) % 5
    groups = [version] + _to_groups(bits << pad, (8 * len(program) + pad) // 5)
    symbols = list(_expand_hrp(hrp)) + groups + [0] * 6
    table = _TABLE.rows(len(symbols) + 1)
    state = int(table[len(symbols), 1])  # the polymod's initial 1, shifted through every symbol
    last = len(symbols) - 1
    for position, symbol in enumerate(symbols):
        if symbol:
            state ^= int(table[last - position, symbol])
    state ^= _BECH32_CONST if version == 0 else _BECH32M_CONST
    checksum = [(state >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[g] for g in groups + checksum)


def _to_groups(value: int, count: int) -> list[int]:
    return [(value >> 5 * (count - 1 - i)) & 31 for i in range(count)]


def _der_signature(compact: bytes) -> bytes:
    def integer(raw: bytes) -> bytes:
        raw = raw.lstrip(b"\0") or b"\0"
        if raw[0] & 0x80:
            raw = b"\0" + raw
        return b"\x02" + bytes([len(raw)]) + raw

    body = integer(compact[:32]) + integer(compact[32:64])
    return b"\x30" + bytes([len(body)]) + body


def _parse(bolt11: str, hrp: str, data: str, verify: bool, strict: bool) -> tuple:
    network, amount_msat, hrp_warnings = _parse_hrp(hrp, strict)
    warnings = list(hrp_warnings)
    end = len(data) - _CHECKSUM_GROUPS
    signature_start = end - _SIGNATURE_GROUPS
    digits = data[:end].translate(_TO_BASE32_DIGITS)
    timestamp = int(digits[:_TIMESTAMP_GROUPS], 32)

    payment_hash = payment_secret = description = description_hash = payee_key = metadata = None
    expiry = min_final_cltv_expiry = None
    description_count = description_hash_count = 0
    fallbacks: list[str] = []
    routes: list[tuple[Hop, ...]] = []
    features: tuple[Feature, ...] = ()
    seen: set[str] = set()  # single-valued tags already read: later ones are skipped

    position = _TIMESTAMP_GROUPS
    while position < signature_start:
        if position + 3 > signature_start:
            raise TruncatedError(
                f"a field header at group {position} is cut off by the signature", field="fields"
            )
        tag = data[position]
        length = int(digits[position + 1 : position + 3], 32)
        start = position + 3
        position = start + length
        if position > signature_start:
            raise TruncatedError(
                f"field '{tag}' says it has {length} groups but only {signature_start - start} remain "
                "before the signature",
                field=tag,
            )
        groups = digits[start:position]
        if tag in "pshn":
            expected = 53 if tag == "n" else 52
            if length != expected:
                message = f"field '{tag}' has {length} groups instead of {expected}"
                if strict:
                    raise FieldLengthError(message + " (the spec requires failing)", field=tag)
                warnings.append(message + " (skipped)")
                continue
            if tag in seen:
                warnings.append(f"more than one '{tag}' field, the first is used")
                continue
            seen.add(tag)
            if tag == "p":
                payment_hash = format(int(groups, 32) >> 4, "064x")
            elif tag == "s":
                payment_secret = format(int(groups, 32) >> 4, "064x")
            elif tag == "h":
                description_hash = format(int(groups, 32) >> 4, "064x")
                description_hash_count += 1
            else:
                payee_key = format(int(groups, 32) >> 1, "066x")
        elif tag == "d":
            description_count += 1
            if description is not None:
                warnings.append("more than one 'd' field, the first is used")
                continue
            raw = _field_bytes(groups)
            try:
                description = raw.decode("utf-8")
            except UnicodeDecodeError:
                if strict:
                    raise FormatError("the description (field 'd') is not valid UTF-8", field="d") from None
                description = raw.decode("utf-8", errors="replace")
                warnings.append("the description is not valid UTF-8 (undecodable bytes were replaced)")
        elif tag == "x" or tag == "c":
            value = int(groups, 32) if groups else 0
            if groups.startswith("0"):
                warnings.append(f"field '{tag}' is not minimally encoded (leading zero groups)")
            if (expiry if tag == "x" else min_final_cltv_expiry) is not None:
                warnings.append(f"more than one '{tag}' field, the first is used")
            elif tag == "x":
                expiry = value
            else:
                min_final_cltv_expiry = value
        elif tag in "9m" and tag in seen:
            warnings.append(f"more than one '{tag}' field, the first is used")
        elif tag == "9":
            seen.add(tag)
            if groups.startswith("0"):
                warnings.append("field '9' is not minimally encoded (leading zero groups)")
            features, unknown_required = _parse_features(int(groups, 32) if groups else 0)
            if unknown_required:
                message = "the invoice requires unknown feature bit(s) " + ", ".join(
                    map(str, unknown_required)
                )
                if strict:
                    raise FeatureError(message, field="9")
                warnings.append(message)
        elif tag == "r":
            route = _route_hint(groups)
            if route is None:
                message = (
                    f"route hint (field 'r') of {5 * length // 8} bytes is not a whole number of 51-byte hops"
                )
                if strict:
                    raise FieldLengthError(message, field="r")
                warnings.append(message + " (skipped)")
            else:
                routes.append(route)
        elif tag == "f":
            address, problem = _fallback_address(groups, network)
            if address is not None:
                fallbacks.append(address)
            elif problem is not None:
                warnings.append(problem)
        elif tag == "m":
            seen.add(tag)
            metadata = _field_bytes(groups).hex()
        # any other tag is unknown and skipped, as the spec requires

    if payment_hash is None:
        raise MissingFieldError("the invoice has no payment hash (field 'p')", field="p")
    if payment_secret is None:
        message = "the invoice has no payment secret (field 's')"
        if strict:
            raise MissingFieldError(message + ", which the spec requires", field="s")
        warnings.append(message)
    if not description_count and not description_hash_count:
        message = "the invoice has neither a description (d) nor a description hash (h)"
        if strict:
            raise MissingFieldError(message + "; the spec requires one of them", field="d")
        warnings.append(message)
    elif description_count and description_hash_count:
        message = "the invoice has both a description (d) and a description hash (h)"
        if strict:
            raise FormatError(message + "; the spec requires exactly one of them", field="h")
        warnings.append(message)

    signature = int(digits[signature_start:], 32).to_bytes(65, "big")
    if signature[64] > 3:
        raise SignatureError(
            f"the signature's recovery id is {signature[64]}; it must be 0 to 3", field="signature"
        )
    payee = payee_key
    if verify:
        payee = _verify(hrp, digits[:signature_start], signature, payee_key)

    return (
        bolt11,
        network,
        amount_msat,
        timestamp,
        DEFAULT_EXPIRY if expiry is None else expiry,
        payment_hash,
        payment_secret,
        description,
        description_hash,
        payee,
        DEFAULT_MIN_FINAL_CLTV_EXPIRY if min_final_cltv_expiry is None else min_final_cltv_expiry,
        tuple(fallbacks),
        tuple(routes),
        features,
        metadata,
        signature.hex(),
        tuple(warnings),
    )


def _verify(hrp: str, signed_digits: str, signature: bytes, payee_key: str | None) -> str:
    """Check the signature; return the payee's public key (hex)."""
    bits = 5 * len(signed_digits)
    size = (bits + 7) // 8
    message = hrp.encode("ascii") + (int(signed_digits, 32) << (8 * size - bits)).to_bytes(size, "big")
    digest = hashlib.sha256(message).digest()
    if payee_key is not None:
        if int.from_bytes(signature[32:64], "big") > _HALF_CURVE_ORDER:
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
            raise SignatureError(
                "the signature was not made by the payee key in field 'n'", field="signature"
            )
        return payee_key
    try:
        recovered = PublicKey.from_signature_and_message(signature, digest, hasher=None)
    except Exception:
        raise SignatureError(
            "the signature is not valid: no public key can be recovered from it", field="signature"
        ) from None
    return recovered.format(compressed=True).hex()


def feature_names(features: Iterable[Feature]) -> str:
    """Comma-separated names, ``unknown_<bit>`` for unassigned bits."""
    return ",".join(map(str, features))
