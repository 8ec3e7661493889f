"""BOLT 12 offers (``lno1...``) decoded into a frozen ``Offer``: one reader per TLV type.

Spec decisions (BOLT #12 as in the project's copy, tests/data/bolt12/):

* Always fatal (``strict`` or not): anything that makes the text unreadable or a field's value
  malformed: bech32 text rules, padding, the TLV stream rules of BOLT 1 (minimal BigSize, strictly
  increasing types, nothing cut off), wrong fixed lengths, ``tu64`` values that are not minimal or
  longer than 8 bytes, public keys that are not on the curve, cut-off blinded paths.
* The reader rules that say MUST NOT respond to the offer raise ``OfferRuleError`` with
  ``strict=True`` and become ``warnings`` with ``strict=False`` (like the BOLT 11 decoder's
  payability rules): unknown even TLV types, types outside 1-79 and 1000000000-1999999999, unknown
  even feature bits, ``offer_amount`` without ``offer_description``, a zero amount, ``offer_currency``
  without ``offer_amount``, neither ``offer_issuer_id`` nor ``offer_paths``, a blinded path without
  hops, an empty ``offer_chains`` or ``offer_paths``. Invalid UTF-8 text fields also fail in strict
  mode; ``strict=False`` replaces the undecodable bytes and warns.
* Expiry is not checked while decoding (the result would depend on the clock): see
  ``Offer.is_expired`` (``is_expired_at(now)``). Chains are not checked against what some node supports:
  ``networks`` names them.
* A currency that is not three upper-case letters is kept as written, with a warning (ISO 4217 codes
  are; the spec has no reader rule for it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, NamedTuple

from lnnotebook.bolt11.bech32 import PaddingError
from lnnotebook.bolt11.bech32 import text_to_bytes as to_bytes
from lnnotebook.bolt11.errors import InvoiceError
from lnnotebook.bolt12.errors import (
    OfferError,
    OfferFieldError,
    OfferFormatError,
    OfferRuleError,
    OfferStreamError,
)
from lnnotebook.bolt12.merkle import SIGNATURE_TYPES, merkle_root
from lnnotebook.bolt12.text import normalise
from lnnotebook.bolt12.tlv import Record, read_stream

# Chain hashes as they appear on the wire: the genesis block hash in internal (little-endian) byte order.
CHAIN_NAMES: dict[str, str] = {
    bytes.fromhex(genesis)[::-1].hex(): name
    for name, genesis in (
        ("bitcoin", "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"),
        ("testnet", "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"),
        ("testnet4", "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043"),
        ("signet", "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6"),
        ("regtest", "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"),
    )
}
CHAIN_NAMES["1466275836220db2944ca059a3a10ef6fd2ea684b0688d2c379296888a206003"] = "liquidv1"
BITCOIN_CHAIN = next(chain for chain, name in CHAIN_NAMES.items() if name == "bitcoin")

# BOLT 9 assigns no offer features yet; names go here when it does (bit -> name, both bits of a pair).
OFFER_FEATURE_NAMES: dict[int, str] = {}

# ISO 4217 minor units where they are not 2 (offer amounts in a currency count its minor units).
_CURRENCY_EXPONENTS = {
    code: exponent
    for exponent, codes in (
        (0, "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"),
        (3, "BHD IQD JOD KWD LYD OMR TND"),
        (4, "CLF UYW"),
    )
    for code in codes.split()
}

OFFER_TYPES = {
    2: "offer_chains",
    4: "offer_metadata",
    6: "offer_currency",
    8: "offer_amount",
    10: "offer_description",
    12: "offer_features",
    14: "offer_absolute_expiry",
    16: "offer_paths",
    18: "offer_issuer",
    20: "offer_quantity_max",
    22: "offer_issuer_id",
}


class OfferFeature(NamedTuple):
    """A set feature bit; ``name`` is its BOLT 9 name, or None for an unassigned bit."""

    bit: int
    name: str | None

    @property
    def required(self) -> bool:
        return self.bit % 2 == 0

    def __str__(self) -> str:
        return self.name or f"unknown_{self.bit}"


class BlindedHop(NamedTuple):
    """One hop of a blinded path: its blinded node id and the encrypted data for it (hex)."""

    blinded_node_id: str
    encrypted_recipient_data: str


class BlindedPath(NamedTuple):
    """A blinded path to the issuer. The introduction node is a public key, or a short channel id
    (``BLOCKxTXxOUT``) with the ``direction`` (0 or 1) of the channel's end to start from."""

    introduction_node_id: str | None
    short_channel_id: str | None
    direction: int | None
    path_key: str  # the first blinding point
    hops: tuple[BlindedHop, ...]

    @property
    def introduction(self) -> str:
        """The introduction node id, or ``<scid>/<direction>``."""
        return self.introduction_node_id or f"{self.short_channel_id}/{self.direction}"

    @property
    def final_node_id(self) -> str | None:
        """The last hop's blinded node id: the key to send the invoice request to on this path."""
        return self.hops[-1].blinded_node_id if self.hops else None


@dataclass(frozen=True, slots=True)
class Offer:
    """A decoded BOLT 12 offer. Bytes, keys and hashes are lowercase hex."""

    bolt12: str  # normalised: lower case, without '+' joins or URI
    records: tuple[tuple[int, str], ...]  # the TLV stream as (type, value hex), in order, as encoded
    chains: tuple[str, ...]  # offer_chains as encoded; empty when absent
    networks: tuple[str, ...]  # names of the chains ("bitcoin" when offer_chains is absent); "unknown"
    metadata: str | None
    currency: str | None  # ISO 4217 code, None for the chain's own currency
    amount: int | None  # raw offer_amount: msat without a currency, else the currency's minor units
    amount_msat: int | None  # only when there is no currency
    description: str | None
    features: tuple[OfferFeature, ...]
    absolute_expiry: int | None  # seconds since 1970
    expires_at: datetime | None  # tz-aware UTC; None when absent or beyond what datetime represents
    paths: tuple[BlindedPath, ...]
    issuer: str | None
    quantity_max: int | None  # None: one item per invoice; 0: any quantity
    issuer_id: str | None
    offer_id: str | None  # the merkle root of the TLV stream; None only for a (lenient) offer of
    # nothing but signature-range records (240-1000), which has no leaves
    warnings: tuple[str, ...] = ()

    @property
    def feature_bits(self) -> tuple[int, ...]:
        return tuple(feature.bit for feature in self.features)

    @property
    def amount_sat(self) -> float | None:
        return None if self.amount_msat is None else self.amount_msat / 1000

    @property
    def currency_exponent(self) -> int | None:
        """Decimal places of ``currency`` (ISO 4217 minor units; 2 when unknown), None without a currency."""
        return None if self.currency is None else _CURRENCY_EXPONENTS.get(self.currency, 2)

    @property
    def quantity_unlimited(self) -> bool:
        return self.quantity_max == 0

    @property
    def is_expired(self) -> bool:
        """Whether the offer has expired by the clock now (``is_expired_at`` for another time)."""
        return self.is_expired_at()

    def is_expired_at(self, now: datetime | None = None) -> bool:
        """Whether ``now`` (default: the clock) is past ``offer_absolute_expiry``."""
        if self.absolute_expiry is None:
            return False
        if self.expires_at is None:
            return False  # beyond year 9999
        return (now or datetime.now(timezone.utc)) > self.expires_at

    def _repr_html_(self) -> str:
        """Jupyter's rich display: a card with the key fields and a QR code (``lnnotebook.display``)."""
        from lnnotebook.display import offer_html  # display code stays out of the decoder

        return offer_html(self)


# --- public entry points ---------------------------------------------------------------------


def decode_offer(text: str, *, strict: bool = True) -> Offer:
    """Decode one BOLT 12 offer as people paste it.

    Accepts any case (not mixed), ``+`` joins followed by optional whitespace, surrounding whitespace,
    ``lightning:`` and ``bitcoin:?lno=`` URIs. Raises an ``OfferError`` (an ``InvoiceError``), and
    nothing else, for any input string; bolt12 invoices and invoice requests are refused with
    ``NotAnOfferError``. ``strict=False`` accepts offers that break only reader rules (MUST NOT respond)
    and lists them in ``Offer.warnings``.
    """
    bolt12, data = normalise(text)
    try:
        stream = to_bytes(data)
    except PaddingError as error:
        raise OfferFormatError(
            f"the offer's bech32 data does not end on a whole byte ({error}): it may be cut off or mistyped",
            field="bolt12",
        ) from None
    records = read_stream(stream)
    if not records:
        raise OfferStreamError("the offer is empty: it has no fields at all", field="tlv")
    problems = _Problems(strict)
    values: dict[str, Any] = {}
    for record in records:
        name = OFFER_TYPES.get(record.type)
        if name is None:
            _check_unknown_type(record.type, problems)
        else:
            values[name] = _READERS[record.type](record.value, problems)
    _check_rules(values, problems)
    return _offer(bolt12, records, values, problems)


def decode_offers(texts: Sequence[object], *, strict: bool = True) -> list[Offer | InvoiceError]:
    """Decode many offers; each result is the ``Offer`` or the ``InvoiceError`` it raised."""
    results: list[Offer | InvoiceError] = []
    for text in texts:
        try:
            results.append(decode_offer(text, strict=strict))  # type: ignore[arg-type]
        except InvoiceError as error:
            results.append(error)
    return results


class _Problems:
    """Where the reader rules go: raised with ``strict``, else collected as warnings."""

    __slots__ = ("strict", "warnings")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.warnings: list[str] = []

    def rule(self, message: str, field: str) -> None:
        if self.strict:
            raise OfferRuleError(message, field=field)
        self.warnings.append(message)


# --- readers, one per TLV type --------------------------------------------------------------------


def _read_chains(value: bytes, problems: _Problems) -> tuple[str, ...]:
    if len(value) % 32:
        raise OfferFieldError(
            f"offer_chains is {len(value)} bytes, not a whole number of 32-byte chain hashes",
            field="offer_chains",
        )
    if not value:
        problems.rule(
            "offer_chains is present but lists no chain, so no invoice can be requested", "offer_chains"
        )
    return tuple(value[start : start + 32].hex() for start in range(0, len(value), 32))


def _read_hex(value: bytes, problems: _Problems) -> str:
    return value.hex()


def _utf8_reader(name: str) -> Callable[[bytes, _Problems], str]:
    def read(value: bytes, problems: _Problems) -> str:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"{name} is not valid UTF-8 (byte {error.start} of {len(value)})"
            if problems.strict:
                raise OfferFieldError(message, field=name) from None
            problems.warnings.append(message + "; undecodable bytes were replaced")
            return value.decode("utf-8", errors="replace")

    return read


def _tu64_reader(name: str) -> Callable[[bytes, _Problems], int]:
    def read(value: bytes, problems: _Problems) -> int:
        if len(value) > 8:
            raise OfferFieldError(f"{name} is {len(value)} bytes; a tu64 has at most 8", field=name)
        if value[:1] == b"\0":
            raise OfferFieldError(f"{name} has a leading zero byte: a tu64 must be minimal", field=name)
        return int.from_bytes(value, "big")

    return read


def _point_reader(name: str) -> Callable[[bytes, _Problems], str]:
    def read(value: bytes, problems: _Problems) -> str:
        return _point(value, name)

    return read


@lru_cache(maxsize=4096)
def _point(value: bytes, name: str, field: str | None = None) -> str:
    """``value`` as hex if it is a compressed secp256k1 public key on the curve; errors name ``name``
    and carry ``field`` (default: ``name``)."""
    field = field or name
    if len(value) != 33 or value[0] not in (2, 3):
        raise OfferFieldError(
            f"{name} is not a compressed public key (33 bytes starting 02 or 03): {len(value)} bytes"
            + (f" starting {value[0]:02x}" if value else ""),
            field=field,
        )
    from coincurve import PublicKey  # a C library, loaded with the first offer

    try:
        PublicKey(value)
    except Exception:  # coincurve raises ValueError or its own error types for a point off the curve
        raise OfferFieldError(
            f"{name} is not a valid public key: the point is not on the curve", field=field
        ) from None
    return value.hex()


def _read_features(value: bytes, problems: _Problems) -> tuple[OfferFeature, ...]:
    bits = int.from_bytes(value, "big")
    features = []
    unknown_required = []
    while bits:
        lowest = bits & -bits
        bit = lowest.bit_length() - 1
        bits ^= lowest
        name = OFFER_FEATURE_NAMES.get(bit)
        features.append(OfferFeature(bit, name))
        if name is None and bit % 2 == 0:
            unknown_required.append(bit)
    if unknown_required:
        listed = ", ".join(map(str, unknown_required))
        problems.rule(f"the offer requires unknown feature bit(s) {listed}", "offer_features")
    return tuple(features)


def _read_paths(value: bytes, problems: _Problems) -> tuple[BlindedPath, ...]:
    paths: list[BlindedPath] = []
    position = 0
    while position < len(value):
        path, position = _read_path(value, position, len(paths))
        if not path.hops:
            problems.rule(
                f"blinded path {len(paths)} in offer_paths has no hops (num_hops is 0)", "offer_paths"
            )
        paths.append(path)
    if not paths:
        problems.rule("offer_paths is present but holds no path", "offer_paths")
    return tuple(paths)


def _take(value: bytes, position: int, size: int, what: str) -> tuple[bytes, int]:
    end = position + size
    if end > len(value):
        raise OfferFieldError(
            f"offer_paths is cut off in {what}: {size} byte{'s' if size != 1 else ''} needed, "
            f"{len(value) - position} remain",
            field="offer_paths",
        )
    return value[position:end], end


def _read_path(value: bytes, position: int, index: int) -> tuple[BlindedPath, int]:
    where = f"blinded path {index}"
    first = value[position]
    node_id = scid = direction = None
    if first in (0, 1):
        raw, position = _take(value, position, 9, f"{where}'s short channel id")
        number = int.from_bytes(raw[1:], "big")
        direction, scid = first, f"{number >> 40}x{(number >> 16) & 0xFFFFFF}x{number & 0xFFFF}"
    elif first in (2, 3):
        raw, position = _take(value, position, 33, f"{where}'s introduction node id")
        node_id = _point(raw, f"{where}'s introduction node id", "offer_paths")
    else:
        raise OfferFieldError(
            f"{where} starts with byte {first:02x}: the introduction node must be a public key (02, 03) "
            "or a short channel id with a direction (00, 01)",
            field="offer_paths",
        )
    raw, position = _take(value, position, 33, f"{where}'s path key")
    path_key = _point(raw, f"{where}'s path key", "offer_paths")
    raw, position = _take(value, position, 1, f"{where}'s hop count")
    hops = []
    for hop in range(raw[0]):
        raw, position = _take(value, position, 35, f"{where}, hop {hop}")
        blinded_node_id = _point(raw[:33], f"{where}, hop {hop}'s blinded node id", "offer_paths")
        data, position = _take(value, position, int.from_bytes(raw[33:], "big"), f"{where}, hop {hop}'s data")
        hops.append(BlindedHop(blinded_node_id, data.hex()))
    return BlindedPath(node_id, scid, direction, path_key, tuple(hops)), position


_READERS: dict[int, Callable[[bytes, _Problems], Any]] = {
    2: _read_chains,
    4: _read_hex,
    6: _utf8_reader("offer_currency"),
    8: _tu64_reader("offer_amount"),
    10: _utf8_reader("offer_description"),
    12: _read_features,
    14: _tu64_reader("offer_absolute_expiry"),
    16: _read_paths,
    18: _utf8_reader("offer_issuer"),
    20: _tu64_reader("offer_quantity_max"),
    22: _point_reader("offer_issuer_id"),
}


# --- rules across fields ------------------------------------------------------------------------


def _check_unknown_type(kind: int, problems: _Problems) -> None:
    if not (1 <= kind <= 79 or 1_000_000_000 <= kind <= 1_999_999_999):
        problems.rule(
            f"TLV type {kind} is outside the offer ranges (1-79 and 1000000000-1999999999): "
            "a reader must not respond to such an offer",
            "tlv",
        )
    elif kind % 2 == 0:
        problems.rule(f"unknown even TLV type {kind}, which a reader must understand to use the offer", "tlv")


def _check_rules(values: dict[str, Any], problems: _Problems) -> None:
    amount = values.get("offer_amount")
    if amount is not None:
        if "offer_description" not in values:
            problems.rule(
                "the offer has an amount but no description (offer_description)", "offer_description"
            )
        if amount == 0:
            problems.rule("offer_amount is zero; it must be greater than zero when set", "offer_amount")
    currency = values.get("offer_currency")
    if currency is not None:
        if amount is None:
            problems.rule("the offer has a currency but no amount (offer_amount)", "offer_currency")
        if not (len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()):
            problems.warnings.append(f"offer_currency {currency!r} is not an ISO 4217 three-letter code")
    if "offer_issuer_id" not in values and "offer_paths" not in values:
        problems.rule(
            "the offer has neither an issuer id (offer_issuer_id) nor blinded paths (offer_paths): "
            "there is no one to request an invoice from",
            "offer_issuer_id",
        )


def _offer(bolt12: str, records: list[Record], values: dict[str, Any], problems: _Problems) -> Offer:
    chains = values.get("offer_chains")
    networks = (
        ("bitcoin",) if chains is None else tuple(CHAIN_NAMES.get(chain, "unknown") for chain in chains)
    )
    currency = values.get("offer_currency")
    amount = values.get("offer_amount")
    expiry = values.get("offer_absolute_expiry")
    return Offer(
        bolt12=bolt12,
        records=tuple((record.type, record.value.hex()) for record in records),
        chains=chains or (),
        networks=networks,
        metadata=values.get("offer_metadata"),
        currency=currency,
        amount=amount,
        amount_msat=amount if currency is None else None,
        description=values.get("offer_description"),
        features=values.get("offer_features", ()),
        absolute_expiry=expiry,
        expires_at=None if expiry is None else _utc_datetime(expiry),
        paths=values.get("offer_paths", ()),
        issuer=values.get("offer_issuer"),
        quantity_max=values.get("offer_quantity_max"),
        issuer_id=values.get("offer_issuer_id"),
        offer_id=_offer_id(records),
        warnings=tuple(problems.warnings),
    )


def _offer_id(records: list[Record]) -> str | None:
    if records[0].type in SIGNATURE_TYPES and records[-1].type in SIGNATURE_TYPES:
        return None  # types are strictly increasing, so every record is a signature-range one
    return merkle_root(records).hex()


def _utc_datetime(seconds: int) -> datetime | None:
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    except OverflowError:
        return None


__all__ = [
    "BITCOIN_CHAIN",
    "CHAIN_NAMES",
    "BlindedHop",
    "BlindedPath",
    "Offer",
    "OfferError",
    "OfferFeature",
    "decode_offer",
    "decode_offers",
]
