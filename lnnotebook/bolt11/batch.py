"""Many invoices at once, as columns: the path behind ``decode_frame``.

The work a verifying decoder cannot avoid is the curve arithmetic; everything else here runs across the
whole batch in numpy. The invoices' 5-bit groups are laid end to end in one buffer (each data part starting
on a multiple of 8 groups, so that the signed bytes of every invoice are one slice of the buffer read as
bytes); the checksum, the walk over the tagged fields (one step of every invoice at a time) and the
fixed-size fields (timestamp, hashes, payee, signature) are computed for all rows in a few numpy passes.
Per invoice, Python does only what has no vectorised form: the SHA-256 of the signed data, one call into
libsecp256k1, the UTF-8 of a description and the rare fallback address.

Rules live in one place. This module decides only whether a row is *plainly* well formed: each required
field once and of its length, no duplicates, minimal integers, known compulsory features, whole route
hints, a usable signature. Any row it is not sure of is decoded by ``decoder._decode_row``, whose readers
and rules are the decoder, and its result (value, warning or error) is what the row gets. So ``decode``
and ``decode_columns`` agree on every field by construction, which the tests check on every input.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from lnnotebook.bolt11 import bech32, decoder
from lnnotebook.bolt11.constants import (
    CHECKSUM_GROUPS,
    DEFAULT_EXPIRY,
    DEFAULT_MIN_FINAL_CLTV_EXPIRY,
    HOP_BYTES,
    MIN_DATA_GROUPS,
    SIGNATURE_GROUPS,
    TIMESTAMP_GROUPS,
)
from lnnotebook.bolt11.errors import InvoiceError
from lnnotebook.bolt11.fields import (
    _CACHED_FEATURE_BITS,
    SKIP,
    Flawed,
    _cached_features,
    _features,
    read_fallback,
    read_hrp,
)
from lnnotebook.bolt11.invoice import ROW_FIELDS, feature_names
from lnnotebook.bolt11.text import split

INT64_MAX = 2**63 - 1
_TAIL = SIGNATURE_GROUPS + CHECKSUM_GROUPS
_MAX_FIELD_STEPS = 64  # rows with more tagged fields than this (junk) take the per-row path
_UINT_GROUPS = 12  # 60 bits: integers this short are read in numpy, longer ones per row
_TAG = {character: value for value, character in enumerate(bech32.CHARSET)}
_P, _S, _D, _H, _N, _X, _C, _F, _R, _9, _M = (_TAG[tag] for tag in "psdhnxcfr9m")
_SINGLE = np.zeros(32, dtype=bool)
_SINGLE[[_P, _S, _D, _H, _N, _X, _C, _9, _M]] = True  # at most one each, or the row takes the rules' path
_ROW = {name: position for position, name in enumerate(ROW_FIELDS)}
_PLAIN_HRP = re.compile("ln[a-z0-9]+")


@dataclass
class Columns:
    """Decoded fields of ``size`` invoices as columns (row order). ``failed`` maps a row to its error (its
    other fields are then meaningless); ``normalized`` holds ``bolt11`` where it is not the input text
    itself (quotes, case, URI). Bytes fields are ``(size, width)`` uint8 with a validity mask; numbers
    are int64 with a mask of missing values."""

    size: int
    failed: dict[int, InvoiceError] = field(default_factory=dict)
    normalized: dict[int, str] = field(default_factory=dict)
    network: list[Any] = field(default_factory=list)
    amount_msat: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    amount_missing: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    amount_overflow: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    timestamp: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    expiry: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    expiry_missing: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    cltv: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cltv_missing: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    hashes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    description: list[Any] = field(default_factory=list)
    metadata: list[Any] = field(default_factory=list)
    fallbacks: list[Any] = field(default_factory=list)
    features: list[Any] = field(default_factory=list)
    feature_bits: list[Any] = field(default_factory=list)
    route_hints: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hops: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    warnings: list[Any] = field(default_factory=list)

    @property
    def decoded(self) -> np.ndarray:
        mask = np.ones(self.size, dtype=bool)
        if self.failed:
            mask[list(self.failed)] = False
        return mask


# The fixed-size hex fields: name -> bytes per value.
HEX_FIELDS = {"payment_hash": 32, "payment_secret": 32, "description_hash": 32, "payee": 33, "signature": 65}


def decode_columns(texts: Sequence[object], *, verify: bool = True, strict: bool = True) -> Columns:
    """Decode ``texts`` into ``Columns``: the values, warnings and errors ``decode`` gives row by row."""
    size = len(texts)
    columns = _empty(size)
    candidates: list[tuple[int, str, str, str]] = []
    for index, text in enumerate(texts):
        parts = _split_plain(text)
        if parts is None:
            try:
                parts = split(text)
            except InvoiceError as error:
                columns.failed[index] = error
                continue
            if parts[0] != text:
                columns.normalized[index] = parts[0]
        candidates.append((index, *parts))
    if candidates:
        slow = _decode_plain(candidates, columns, verify)
        # The decoder's own path, checksum included, for every row that is not plainly well formed.
        results = decoder.decode_rows([texts[item[0]] for item in slow], verify=verify, strict=strict)
        for (index, *_), result in zip(slow, results):
            if isinstance(result, InvoiceError):
                columns.failed[index] = result
            else:
                _put_row(columns, index, result)
    return columns


def _split_plain(text: object) -> tuple[str, str, str] | None:
    """(text, hrp, data) of an invoice pasted exactly as it is written (lowercase, nothing around it);
    None for anything else, which ``text.split`` normalises or refuses."""
    if type(text) is not str or not text.startswith("ln") or len(text) > 7089:
        return None
    separator = text.rfind("1")
    if len(text) - separator - 1 < MIN_DATA_GROUPS or not text.isascii():
        return None
    if not _PLAIN_HRP.fullmatch(text, 0, separator):
        return None
    # The data part's alphabet is checked for the whole batch in numpy (``_layout``).
    return text, text[:separator], text[separator + 1 :]


def _empty(size: int) -> Columns:
    none: list[Any] = [None] * size
    return Columns(
        size=size,
        network=list(none),
        amount_msat=np.zeros(size, np.int64),
        amount_missing=np.ones(size, bool),
        amount_overflow=np.zeros(size, bool),
        timestamp=np.zeros(size, np.int64),
        expiry=np.full(size, DEFAULT_EXPIRY, np.int64),
        expiry_missing=np.zeros(size, bool),
        cltv=np.full(size, DEFAULT_MIN_FINAL_CLTV_EXPIRY, np.int64),
        cltv_missing=np.zeros(size, bool),
        hashes={
            name: (np.zeros((size, width), np.uint8), np.zeros(size, bool))
            for name, width in HEX_FIELDS.items()
        },
        description=list(none),
        metadata=list(none),
        fallbacks=list(none),
        features=list(none),
        feature_bits=list(none),
        route_hints=np.zeros(size, np.int64),
        hops=np.zeros(size, np.int64),
        warnings=list(none),
    )


# --- one row from the per-row decoder ----------------------------------------------------------------


def _put_row(columns: Columns, index: int, row: tuple) -> None:
    """Store a row tuple of ``decoder._decode_row``; integers beyond int64 are left missing with a warning."""
    warnings = list(row[_ROW["warnings"]])
    columns.network[index] = row[_ROW["network"]]
    amount = row[_ROW["amount_msat"]]
    if amount is not None:
        if amount > INT64_MAX:
            columns.amount_overflow[index] = True
            warnings.append(f"amount of {amount} msat is beyond int64 (left missing)")
        else:
            columns.amount_msat[index] = amount
            columns.amount_missing[index] = False
    columns.timestamp[index] = row[_ROW["timestamp"]]
    for name, unit, label, values, missing in (
        ("expiry", " s", "expiry", columns.expiry, columns.expiry_missing),
        ("min_final_cltv_expiry", "", "cltv", columns.cltv, columns.cltv_missing),
    ):
        value = row[_ROW[name]]
        if value > INT64_MAX:
            missing[index] = True
            warnings.append(f"{label} of {value}{unit} is beyond int64 (left missing)")
        else:
            values[index] = value
    for name, (values, valid) in columns.hashes.items():
        text = row[_ROW[name]]
        if text is not None:
            values[index] = np.frombuffer(bytes.fromhex(text), np.uint8)
            valid[index] = True
    columns.description[index] = row[_ROW["description"]]
    columns.metadata[index] = row[_ROW["metadata"]]
    columns.fallbacks[index] = ",".join(row[_ROW["fallback_addresses"]]) or None
    features = row[_ROW["features"]]
    columns.features[index] = feature_names(features) or None
    columns.feature_bits[index] = ",".join(str(feature.bit) for feature in features) or None
    routes = row[_ROW["route_hints"]]
    columns.route_hints[index] = len(routes)
    columns.hops[index] = sum(map(len, routes))
    columns.warnings[index] = "; ".join(warnings) or None


# --- the vectorised path -----------------------------------------------------------------------------


@dataclass
class _Layout:
    """The 5-bit groups of every candidate in one buffer, and where each candidate's parts lie in it."""

    symbols: np.ndarray  # uint8
    data_start: np.ndarray  # int64, a multiple of 8
    data_length: np.ndarray  # int64
    valid_checksum: np.ndarray  # bool: in the alphabet, and the checksum holds
    datas: list[str]  # each candidate's data part as text


# Text to 5-bit values in one ``bytes.translate``: the bech32 alphabet to 0-31; characters U+0080 + v,
# which carry the hrp expansion and the padding, to v; anything else to 255 (not in the alphabet).
_VALUE_OF = bytearray([255]) * 256
for _value, _character in enumerate(bech32.CHARSET):
    _VALUE_OF[ord(_character)] = _value
    _VALUE_OF[0x80 + _value] = _value
_TO_SYMBOLS = bytes(_VALUE_OF)
_BAD = 255
_PADS = [chr(0x80) * pad for pad in range(8)]
_HIGH = bytes.maketrans(bytes(range(128)), bytes(0x80 + (c >> 5) for c in range(128)))
_LOW = bytes.maketrans(bytes(range(128)), bytes(0x80 + (c & 31) for c in range(128)))


def _expanded(hrp: str) -> str:
    """BIP-173's hrp expansion (high bits, zero, low bits) as characters U+0080 + value."""
    raw = hrp.encode("ascii")
    return (raw.translate(_HIGH) + b"\x80" + raw.translate(_LOW)).decode("latin-1")


def _layout(hrps: list[str], datas: list[str]) -> _Layout:
    pieces: list[str] = []
    starts = np.empty(len(hrps), np.int64)
    lengths = np.fromiter(map(len, datas), np.int64, count=len(datas))
    segment_starts = np.empty(len(hrps), np.int64)
    true_lengths = np.empty(len(hrps), np.int64)
    position = 0
    append = pieces.append
    for row, (hrp, data) in enumerate(zip(hrps, datas)):
        expanded = _expanded(hrp)
        pad = -(position + len(expanded)) % 8
        segment_starts[row] = position
        append(_PADS[pad])
        append(expanded)
        append(data)
        true_lengths[row] = len(expanded)
        position += pad + len(expanded)
        starts[row] = position
        position += len(data)
    symbols = np.frombuffer("".join(pieces).encode("latin-1").translate(_TO_SYMBOLS), np.uint8)
    ends = starts + lengths
    in_alphabet = np.maximum.reduceat(symbols, starts) != _BAD  # to the next row's data: all values there
    if not in_alphabet.all():
        symbols = np.where(symbols == _BAD, 0, symbols).astype(np.uint8)
    valid = _checksums(symbols, segment_starts, ends, true_lengths + lengths) & in_alphabet
    return _Layout(symbols, starts, lengths, valid, datas)


def _checksums(
    symbols: np.ndarray, segment_starts: np.ndarray, ends: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Does each segment's polymod equal bech32's constant? Leading zero padding of a segment adds
    nothing (the polymod is linear); the initial 1 counts ``lengths`` symbols (``bech32._ChecksumTable``)."""
    table = bech32._TABLE.rows(int(lengths.max()) + 9)
    flat = table.ravel()
    segment_lengths = ends - segment_starts
    index = np.repeat(((ends - 1) * 32).astype(np.int32), segment_lengths)
    index -= _scaled_range(len(symbols))
    index += symbols
    polymod = np.bitwise_xor.reduceat(flat[index], segment_starts) ^ table[lengths, 1]
    return polymod == 1


_RANGE = np.zeros(0, np.int32)


def _scaled_range(count: int) -> np.ndarray:
    """``32 * arange(count)`` as int32, from a cached array (it is the same for every batch)."""
    global _RANGE
    if len(_RANGE) < count:
        _RANGE = np.arange(max(count, 2 * len(_RANGE)), dtype=np.int32) * 32
    return _RANGE[:count]


def _decode_plain(
    candidates: list[tuple[int, str, str, str]], columns: Columns, verify: bool
) -> list[tuple[int, str, str, str]]:
    """Decode the plainly well-formed candidates into ``columns``; return the others for the per-row path."""
    rows = np.fromiter((item[0] for item in candidates), np.int64, count=len(candidates))
    layout = _layout([item[2] for item in candidates], [item[3] for item in candidates])
    plain = layout.valid_checksum.copy()
    networks: list[Any] = [None] * len(candidates)
    amounts = np.zeros(len(candidates), np.int64)
    amountless = np.zeros(len(candidates), bool)
    for position in np.flatnonzero(plain).tolist():
        try:
            network, amount, issues = read_hrp(candidates[position][2])
        except InvoiceError:
            plain[position] = False  # the per-row path raises it
            continue
        if issues or (amount is not None and amount > INT64_MAX):
            plain[position] = False
            continue
        networks[position] = network
        if amount is None:
            amountless[position] = True
        else:
            amounts[position] = amount
    walk = _walk(layout, plain)
    plain &= walk.plain
    _read_fixed(layout, walk, plain, columns, rows)
    _read_variable(layout, walk, plain, columns, rows, candidates, networks)
    if verify:
        _verify(layout, walk, plain, columns, rows, candidates)
    else:
        payee, valid = columns.hashes["payee"]
        found = plain & walk.has[_N]
        payee[rows[found]] = _fixed_bytes(layout.symbols, walk.start[_N][found], 53, 33)
        valid[rows[found]] = True
    accepted = np.flatnonzero(plain)
    targets = rows[accepted]
    for position, target in zip(accepted.tolist(), targets.tolist()):
        columns.network[target] = networks[position]
    columns.amount_msat[targets] = amounts[accepted]
    columns.amount_missing[targets] = amountless[accepted]
    return [candidates[position] for position in np.flatnonzero(~plain).tolist()]


@dataclass
class _Walk:
    """Every tagged field of every candidate: ``tags``/``starts``/``lengths``/``owners`` (candidate
    position) in order; per tag, its start (absolute group) in rows having it once; ``plain``: rows
    whose layout is plain."""

    owners: np.ndarray
    tags: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    has: dict[int, np.ndarray]
    start: dict[int, np.ndarray]
    length: dict[int, np.ndarray]
    plain: np.ndarray
    signature: np.ndarray | None = None  # (candidates, 65), set by _read_fixed


def _walk(layout: _Layout, plain: np.ndarray) -> _Walk:
    """One step of every candidate at a time: the tag, the 10-bit length, the next field."""
    symbols = layout.symbols
    count = len(plain)
    ok = plain.copy()
    position = layout.data_start + TIMESTAMP_GROUPS
    end = layout.data_start + layout.data_length - _TAIL
    owners, tags, starts, lengths = [], [], [], []
    active = np.flatnonzero(ok & (position < end))
    for _ in range(_MAX_FIELD_STEPS):
        if not len(active):
            break
        here = position[active]
        cut = here + 3 > end[active]
        if cut.any():  # a header cut off by the signature: the rules' path reports it
            ok[active[cut]] = False
            active, here = active[~cut], here[~cut]
        tag = symbols[here]
        length = symbols[here + 1].astype(np.int64) * 32 + symbols[here + 2]
        following = here + 3 + length
        over = following > end[active]
        if over.any():
            ok[active[over]] = False
            keep = ~over
            active, here, tag, length, following = (
                active[keep],
                here[keep],
                tag[keep],
                length[keep],
                following[keep],
            )
        owners.append(active)
        tags.append(tag)
        starts.append(here + 3)
        lengths.append(length)
        position[active] = following
        active = active[following < end[active]]
    ok[active] = False  # more fields than _MAX_FIELD_STEPS
    owner = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    tag_all = np.concatenate(tags).astype(np.int64) if tags else np.zeros(0, np.int64)
    start_all = np.concatenate(starts) if starts else np.zeros(0, np.int64)
    length_all = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    # Single-valued known tags at most once each (a second one is a warning, or a wrong-length first
    # one is skipped for it: the rules decide).
    single = _SINGLE[tag_all]
    counts = np.bincount(owner[single] * 32 + tag_all[single], minlength=count * 32).reshape(count, 32)
    ok &= ~(counts > 1).any(axis=1)
    has, start, length_of = {}, {}, {}
    for tag_value in (_P, _S, _D, _H, _N, _X, _C, _9, _M):
        has[tag_value] = counts[:, tag_value] == 1
        where = np.zeros(count, np.int64)
        size = np.zeros(count, np.int64)
        chosen = tag_all == tag_value
        where[owner[chosen]] = start_all[chosen]
        size[owner[chosen]] = length_all[chosen]
        start[tag_value], length_of[tag_value] = where, size
    # What the spec requires of a plain invoice: p and s of 52 groups, n of 53, h of 52, d xor h.
    ok &= has[_P] & has[_S] & (has[_D] ^ has[_H])
    for tag_value, groups in ((_P, 52), (_S, 52), (_H, 52), (_N, 53)):
        ok &= ~has[tag_value] | (length_of[tag_value] == groups)
    return _Walk(owner, tag_all, start_all, length_all, has, start, length_of, ok)


def _fixed_bytes(symbols: np.ndarray, starts: np.ndarray, groups: int, size: int) -> np.ndarray:
    """``(len(starts), size)`` bytes of the ``groups`` 5-bit groups from each start (padding dropped)."""
    padded = -(-groups // 8) * 8
    offsets = np.arange(padded)
    index = np.minimum(starts[:, None] + offsets, len(symbols) - 1)
    values = np.where(offsets < groups, symbols[index], 0)
    return _blocks_to_bytes(values.reshape(len(starts), padded // 8, 8))[:, :size]


_BLOCK_WEIGHTS = 2.0 ** np.arange(35, -1, -5)  # a block of 8 groups is a 40-bit number: exact in float64


def _blocks_to_bytes(blocks: np.ndarray) -> np.ndarray:
    """Blocks of 8 groups (the last axis) as 5 bytes each, flattened into the last axis. A matrix product
    (BLAS) is the fastest way numpy has to weigh and add eight small columns."""
    value = (blocks.astype(np.float64) @ _BLOCK_WEIGHTS).astype(">u8")
    octets = value.view(np.uint8).reshape(*value.shape, 8)[..., 3:]
    return octets.reshape(*blocks.shape[:-2], blocks.shape[-2] * 5)


def _ragged_bytes(symbols: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The bytes of fields of any length (trailing padding bits dropped, as ``bech32.digits_to_bytes``)
    end to end, and the ``len(starts) + 1`` offsets of each field in them."""
    padded = -(-lengths // 8) * 8
    sizes = 5 * lengths // 8
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    if not len(lengths) or not padded.sum():
        return b"", offsets
    base = np.cumsum(padded) - padded
    owner = np.repeat(np.arange(len(lengths)), padded)
    within = np.arange(int(padded.sum())) - base[owner]
    index = np.minimum(starts[owner] + within, len(symbols) - 1)
    values = np.where(within < lengths[owner], symbols[index], 0)
    octets = _blocks_to_bytes(values.reshape(-1, 8)[None])[0]
    byte_owner = np.repeat(np.arange(len(lengths)), padded // 8 * 5)
    keep = np.arange(len(octets)) - (base // 8 * 5)[byte_owner] < sizes[byte_owner]
    return octets[keep].tobytes(), offsets


def _uints(symbols: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Big-endian integers of at most ``_UINT_GROUPS`` groups (0 for none)."""
    offsets = np.arange(_UINT_GROUPS) - _UINT_GROUPS
    index = starts[:, None] + lengths[:, None] + offsets
    used = offsets >= -lengths[:, None]
    values = np.where(used, symbols[np.clip(index, 0, len(symbols) - 1)], 0).astype(np.int64)
    return (values << np.arange(5 * (_UINT_GROUPS - 1), -1, -5, dtype=np.int64)).sum(axis=1)


def _read_fixed(layout: _Layout, walk: _Walk, plain: np.ndarray, columns: Columns, rows: np.ndarray) -> None:
    symbols = layout.symbols
    ends = layout.data_start + layout.data_length - _TAIL
    stamp_index = layout.data_start[:, None] + np.arange(TIMESTAMP_GROUPS)
    timestamps = (symbols[stamp_index].astype(np.int64) << np.arange(30, -1, -5)).sum(axis=1)
    signature = _fixed_bytes(symbols, ends, SIGNATURE_GROUPS, 65)
    plain &= signature[:, 64] <= 3  # the rules' path names a bad recovery id
    walk.signature = signature
    numbers = {}
    for tag in (_X, _C, _9):
        has, length = walk.has[tag], walk.length[tag]
        first = symbols[np.minimum(walk.start[tag], len(symbols) - 1)]
        # Not minimal (a warning), or beyond 60 bits (an integer, not a feature vector): the rules' path.
        plain &= ~has | (length == 0) | (first != 0)
        if tag != _9:
            plain &= ~has | (length <= _UINT_GROUPS)
        short = has & (length <= _UINT_GROUPS)
        numbers[tag] = np.where(
            short & plain, _uints(symbols, walk.start[tag], np.where(short, length, 0)), 0
        )
    features, bits = _feature_texts(_feature_values(layout, walk, plain, numbers[_9]), plain)
    routes = walk.tags == _R
    route_bytes = 5 * walk.lengths[routes] // 8
    whole = (route_bytes > 0) & (route_bytes % HOP_BYTES == 0)
    plain[walk.owners[routes][~whole]] = False
    route_count = np.bincount(walk.owners[routes], minlength=len(plain))
    hop_count = np.bincount(walk.owners[routes], weights=route_bytes // HOP_BYTES, minlength=len(plain))

    accepted = np.flatnonzero(plain)
    targets = rows[accepted]
    columns.timestamp[targets] = timestamps[accepted]
    columns.expiry[targets] = np.where(walk.has[_X], numbers[_X], DEFAULT_EXPIRY)[accepted]
    columns.cltv[targets] = np.where(walk.has[_C], numbers[_C], DEFAULT_MIN_FINAL_CLTV_EXPIRY)[accepted]
    columns.route_hints[targets] = route_count[accepted]
    columns.hops[targets] = hop_count[accepted].astype(np.int64)
    for name, tag in (("payment_hash", _P), ("payment_secret", _S), ("description_hash", _H)):
        values, valid = columns.hashes[name]
        found = accepted[walk.has[tag][accepted]]
        values[rows[found]] = _fixed_bytes(symbols, walk.start[tag][found], 52, 32)
        valid[rows[found]] = True
    values, valid = columns.hashes["signature"]
    values[targets] = signature[accepted]
    valid[targets] = True
    for position, target in zip(accepted.tolist(), targets.tolist()):
        columns.features[target] = features[position]
        columns.feature_bits[target] = bits[position]


_FEATURE_TEXTS: dict[int, tuple[Any, Any, bool]] = {}


def _feature_values(layout: _Layout, walk: _Walk, plain: np.ndarray, short: np.ndarray) -> list[int]:
    """Each row's feature vector as an integer: read in numpy up to 60 bits, longer ones per row."""
    values = short.tolist()
    length = walk.length[_9]
    for position in np.flatnonzero(plain & walk.has[_9] & (length > _UINT_GROUPS)).tolist():
        start = int(walk.start[_9][position] - layout.data_start[position])
        text = layout.datas[position][start : start + int(length[position])]
        values[position] = int(bech32.to_digits(text), 32)
    return values


def _feature_texts(values: list[int], plain: np.ndarray) -> tuple[list[Any], list[Any]]:
    """The ``features`` and ``feature_bits`` texts of each row's vector; rows requiring an unknown feature
    leave the plain path (the rules fail or warn)."""
    names: list[Any] = [None] * len(values)
    numbers: list[Any] = [None] * len(values)
    distinct_values = list(dict.fromkeys(values))
    slot = {value: number for number, value in enumerate(distinct_values)}
    inverse = [slot[value] for value in values]
    texts = []
    for value in distinct_values:
        known = _FEATURE_TEXTS.get(value)
        if known is None:
            short = value.bit_length() <= _CACHED_FEATURE_BITS  # long junk vectors are not worth a slot
            features, unknown_required = (_cached_features if short else _features)(value)
            joined = ",".join(str(feature.bit) for feature in features) or None
            known = (feature_names(features) or None, joined, not unknown_required)
            if short and len(_FEATURE_TEXTS) < 4096:
                _FEATURE_TEXTS[value] = known
        texts.append(known)
    for position, which in enumerate(inverse):
        name, bits, clean = texts[which]
        if not clean:
            plain[position] = False
        names[position], numbers[position] = name, bits
    return names, numbers


def _read_variable(
    layout: _Layout,
    walk: _Walk,
    plain: np.ndarray,
    columns: Columns,
    rows: np.ndarray,
    candidates: list[tuple[int, str, str, str]],
    networks: list[Any],
) -> None:
    """Descriptions (UTF-8), metadata (hex) and fallback addresses (``fields.read_fallback``)."""
    symbols = layout.symbols
    for tag, target in ((_D, columns.description), (_M, columns.metadata)):
        found = np.flatnonzero(plain & walk.has[tag])
        if not len(found):
            continue
        data, offsets = _ragged_bytes(symbols, walk.start[tag][found], walk.length[tag][found])
        bounds = offsets.tolist()
        for number, position in enumerate(found.tolist()):
            raw = data[bounds[number] : bounds[number + 1]]
            if tag == _M:
                target[rows[position]] = raw.hex()
                continue
            try:
                target[rows[position]] = raw.decode("utf-8")
            except UnicodeDecodeError:
                plain[position] = False  # the rules fail it, or warn and repair it
    fallbacks = np.flatnonzero((walk.tags == _F) & plain[walk.owners])
    addresses: dict[int, list[str]] = {}
    for number in fallbacks.tolist():
        position = int(walk.owners[number])
        start = int(walk.starts[number] - layout.data_start[position])
        digits = bech32.to_digits(candidates[position][3][start : start + int(walk.lengths[number])])
        value = read_fallback(digits, networks[position])
        if type(value) is Flawed:
            plain[position] = False
        elif value is not SKIP:
            addresses.setdefault(position, []).append(value)  # type: ignore[arg-type]
    for position, found_addresses in addresses.items():
        columns.fallbacks[rows[position]] = ",".join(found_addresses)


def _verify(
    layout: _Layout,
    walk: _Walk,
    plain: np.ndarray,
    columns: Columns,
    rows: np.ndarray,
    candidates: list[tuple[int, str, str, str]],
) -> None:
    """The signature of every plain row: against ``n`` where given, else the payee is recovered."""
    symbols = layout.symbols
    whole = np.zeros(-(-len(symbols) // 8) * 8, np.uint8)
    whole[: len(symbols)] = symbols
    signed = _blocks_to_bytes(whole.reshape(1, -1, 8))[0]
    # Each data part starts on a block, so its signed groups are one slice; zero the bits after them.
    signed_groups = layout.data_length - _TAIL
    first = layout.data_start // 8 * 5
    last = first + (5 * signed_groups + 7) // 8
    spare = (8 * (last - first) - 5 * signed_groups).astype(np.uint8)
    signed[last - 1] &= (0xFF << spare).astype(np.uint8)
    message = signed.tobytes()
    assert walk.signature is not None
    signatures = walk.signature
    given = plain & walk.has[_N]
    payees = _fixed_bytes(symbols, walk.start[_N][given], 53, 33)
    given_keys = dict(zip(np.flatnonzero(given).tolist(), payees))
    recovered = np.zeros((len(plain), 33), np.uint8)
    recover = _Recovery(signatures, recovered)
    for position, start, stop in zip(
        np.flatnonzero(plain).tolist(), first[plain].tolist(), last[plain].tolist()
    ):
        digest = hashlib.sha256(candidates[position][2].encode("ascii") + message[start:stop]).digest()
        key = given_keys.get(position)
        if key is None:
            if not recover(position, digest):
                plain[position] = False
            continue
        try:
            decoder._verify_against(key.tobytes().hex(), signatures[position].tobytes(), digest)
        except InvoiceError:
            plain[position] = False
            continue
        recovered[position] = key
    payee, valid = columns.hashes["payee"]
    payee[rows[plain]] = recovered[plain]
    valid[rows[plain]] = True


class _Recovery:
    """Public-key recovery straight through coincurve's libsecp256k1 binding, writing each compressed key
    into row ``position`` of ``keys``: the curve work and nothing around it."""

    def __init__(self, signatures: np.ndarray, keys: np.ndarray) -> None:
        self._lib, self._context = lib, GLOBAL_CONTEXT.ctx
        self._signatures = signatures  # kept alive: the pointers below point into them
        self._keys = keys
        self._signature_base = ffi.cast("unsigned char *", ffi.from_buffer(signatures))
        self._key_base = ffi.cast("unsigned char *", ffi.from_buffer(keys))
        self._parsed = ffi.new("secp256k1_ecdsa_recoverable_signature *")
        self._point = ffi.new("secp256k1_pubkey *")
        self._size = ffi.new("size_t *")
        self._compressed = lib.SECP256K1_EC_COMPRESSED

    def __call__(self, position: int, digest: bytes) -> bool:
        lib, context = self._lib, self._context
        signature = self._signature_base + 65 * position
        if not lib.secp256k1_ecdsa_recoverable_signature_parse_compact(
            context, self._parsed, signature, int(self._signatures[position, 64])
        ):
            return False
        if not lib.secp256k1_ecdsa_recover(context, self._point, self._parsed, digest):
            return False
        self._size[0] = 33
        lib.secp256k1_ec_pubkey_serialize(
            context, self._key_base + 33 * position, self._size, self._point, self._compressed
        )
        return True


def concat_columns(parts: Sequence[Columns], size: int | None = None) -> Columns:
    """The ``Columns`` of consecutive batches as one (rows renumbered); ``size`` is for no batch at all."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return _empty(size or 0)
    whole = Columns(size=sum(part.size for part in parts))
    offset = 0
    for part in parts:
        whole.failed.update((row + offset, error) for row, error in part.failed.items())
        whole.normalized.update((row + offset, text) for row, text in part.normalized.items())
        offset += part.size
    for name in ("network", "description", "metadata", "fallbacks", "features", "feature_bits", "warnings"):
        setattr(whole, name, [value for part in parts for value in getattr(part, name)])
    for name in (
        "amount_msat", "amount_missing", "amount_overflow", "timestamp", "expiry", "expiry_missing",
        "cltv", "cltv_missing", "route_hints", "hops",
    ):  # fmt: skip
        setattr(whole, name, np.concatenate([getattr(part, name) for part in parts]))
    whole.hashes = {
        name: (
            np.concatenate([part.hashes[name][0] for part in parts]),
            np.concatenate([part.hashes[name][1] for part in parts]),
        )
        for name in HEX_FIELDS
    }
    return whole
