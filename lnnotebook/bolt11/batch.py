"""Many invoices at once, as columns: the path behind ``decode_frame``.

The work a verifying decoder cannot avoid is the curve arithmetic; everything else here runs across the
whole batch in numpy. The invoices' 5-bit groups are laid end to end in one buffer (each data part starting
on a multiple of 8 groups, so that the signed bytes of every invoice are one slice of the buffer read as
bytes, and every field's bytes a shift of the bytes it starts in); the checksum, the walk over the
tagged fields (one step of every invoice at a time) and the fixed-size fields (timestamp, hashes, payee,
signature) are computed for all rows in a few numpy passes.
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
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT
from numpy.lib.stride_tricks import sliding_window_view

from lnnotebook.bolt11 import bech32, decoder
from lnnotebook.bolt11.addresses import render_plain_fallbacks
from lnnotebook.bolt11.constants import (
    CHECKSUM_GROUPS,
    DEFAULT_EXPIRY,
    DEFAULT_MIN_FINAL_CLTV_EXPIRY,
    HOP_BYTES,
    MAX_INVOICE_LENGTH,
    MIN_DATA_GROUPS,
    MSAT_PER_UNIT,
    SIGNATURE_GROUPS,
    TIMESTAMP_GROUPS,
)
from lnnotebook.bolt11.errors import InvoiceError
from lnnotebook.bolt11.fields import (
    _CACHED_FEATURE_BITS,
    _cached_features,
    _features,
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
    are int64 with a mask of missing values; texts are object arrays of str or None (None: missing)."""

    size: int
    failed: dict[int, InvoiceError] = field(default_factory=dict)
    normalized: dict[int, str] = field(default_factory=dict)
    network: np.ndarray = field(default_factory=lambda: _texts(0))
    amount_msat: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    amount_missing: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    amount_overflow: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    timestamp: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    expiry: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    expiry_missing: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    cltv: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cltv_missing: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    hashes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    description: np.ndarray = field(default_factory=lambda: _texts(0))
    metadata: np.ndarray = field(default_factory=lambda: _texts(0))
    fallbacks: np.ndarray = field(default_factory=lambda: _texts(0))
    features: np.ndarray = field(default_factory=lambda: _texts(0))
    feature_bits: np.ndarray = field(default_factory=lambda: _texts(0))
    route_hints: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hops: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    warnings: np.ndarray = field(default_factory=lambda: _texts(0))

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
    if set(map(type, texts)) <= {str}:  # in C: no Python step per row
        rows, strings, not_text = np.arange(size), cast("list[str]", list(texts)), []
    else:
        is_text = np.fromiter((type(text) is str for text in texts), bool, count=size)
        rows, not_text = np.flatnonzero(is_text), np.flatnonzero(~is_text).tolist()
        strings = [cast(str, texts[at]) for at in rows.tolist()]
    not_plain = _decode_plain(rows, strings, columns, verify)
    # Not plain as written: normalised (quotes, case, a URI around it), it may be.
    others = sorted(not_text + not_plain)
    normalized_rows, normalized, remaining = [], [], []
    for at in others:
        try:
            invoice = split(texts[at])[0]
        except InvoiceError as error:
            columns.failed[at] = error
            continue
        if invoice == texts[at]:
            remaining.append(at)
        else:
            columns.normalized[at] = invoice
            normalized_rows.append(at)
            normalized.append(invoice)
    remaining += _decode_plain(np.asarray(normalized_rows, np.int64), normalized, columns, verify)
    # The decoder's own path, checksum included, for every row that is not plainly well formed.
    results = decoder.decode_rows([texts[at] for at in remaining], verify=verify, strict=strict)
    for at, result in zip(remaining, results):
        if isinstance(result, InvoiceError):
            columns.failed[at] = result
        else:
            _put_row(columns, at, result)
    return columns


def _texts(size: int) -> np.ndarray:
    """A text column of ``size`` missing values (an object array, so that rows are set in bulk)."""
    return np.full(size, None, dtype=object)


def _empty(size: int) -> Columns:
    return Columns(
        size=size,
        network=_texts(size),
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
        description=_texts(size),
        metadata=_texts(size),
        fallbacks=_texts(size),
        features=_texts(size),
        feature_bits=_texts(size),
        route_hints=np.zeros(size, np.int64),
        hops=np.zeros(size, np.int64),
        warnings=_texts(size),
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
            warnings.append(_beyond_int64("amount", amount, " msat"))
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
            warnings.append(_beyond_int64(label, value, unit))
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


def _beyond_int64(label: str, value: int, unit: str) -> str:
    return f"{label} of {value}{unit} is beyond int64 (left missing)"


# --- the vectorised path -----------------------------------------------------------------------------


@dataclass
class _Layout:
    """The 5-bit groups of every candidate's data part in one buffer, each starting on a multiple of 8."""

    symbols: np.ndarray  # uint8
    octets: np.ndarray  # uint8: ``symbols`` packed, 5 bytes for 8 groups, so each data part starts on a byte
    data_start: np.ndarray  # int64, a multiple of 8
    data_length: np.ndarray  # int64
    valid_checksum: np.ndarray  # bool: in the alphabet, and the checksum holds
    datas: list[str]  # each candidate's data part as text


# Text to 5-bit values in one ``bytes.translate``: the bech32 alphabet to 0-31, anything else to 255.
_VALUE_OF = bytearray([255]) * 256
for _value, _character in enumerate(bech32.CHARSET):
    _VALUE_OF[ord(_character)] = _value
_TO_SYMBOLS = bytes(_VALUE_OF)
_BAD = 255
_PADS = ["q" * pad for pad in range(8)]  # "q" is the value 0: zeros after a data part change no checksum


def _layout(prefixes: _Prefixes, datas: list[str]) -> _Layout:
    """Each data part padded to a multiple of 8 groups, end to end, and the checksums of all."""
    lengths = np.fromiter(map(len, datas), np.int64, count=len(datas))
    padded = (lengths + 7) & ~7
    starts = np.zeros(len(datas), np.int64)
    np.cumsum(padded[:-1], out=starts[1:])
    pads = [_PADS[pad] for pad in (padded - lengths).tolist()]
    text = "".join([piece for pair in zip(datas, pads) for piece in pair])
    # Anything not ASCII becomes "?", which is not in the alphabet.
    symbols = np.frombuffer(text.encode("ascii", "replace").translate(_TO_SYMBOLS), np.uint8)
    in_alphabet = np.maximum.reduceat(symbols, starts) != _BAD if len(symbols) else np.ones(0, bool)
    if not in_alphabet.all():
        symbols = np.where(symbols == _BAD, 0, symbols).astype(np.uint8)
    valid = _checksums(symbols, starts, lengths, prefixes) & in_alphabet
    octets = _blocks_to_bytes(symbols.reshape(-1, 8))
    return _Layout(symbols, octets, starts, lengths, valid, datas)


def _checksums(
    symbols: np.ndarray, starts: np.ndarray, lengths: np.ndarray, prefixes: _Prefixes
) -> np.ndarray:
    """Does each invoice's polymod (hrp expansion, then data part) equal bech32's constant? The polymod is
    linear apart from its initial 1 (``bech32._ChecksumTable``): the data part's symbols and the hrp's
    high and low bits (the expansion's zero adds nothing) are looked up by how many symbols follow them."""
    hrp_lengths = prefixes.lengths
    total = 2 * hrp_lengths + 1 + lengths
    table = bech32._TABLE.rows(int(total.max()) + 1)
    flat = table.ravel()
    polymod = np.concatenate(
        [
            _data_polymods(
                flat, symbols, starts[first : first + _CACHED_ROWS], lengths[first : first + _CACHED_ROWS]
            )
            for first in range(0, len(starts), _CACHED_ROWS)
        ]
    )
    owner, column, raw = prefixes.owner, prefixes.column, prefixes.raw
    high = flat[(total[owner] - 1 - column) * 32 + (raw >> 5)]
    low = flat[(lengths[owner] + hrp_lengths[owner] - 1 - column) * 32 + (raw & 31)]
    polymod ^= np.bitwise_xor.reduceat(np.append(high ^ low, np.uint32(0)), prefixes.offsets)
    return (polymod ^ table[total, 1]) == 1


_CACHED_ROWS = 256  # invoices per pass: their index arrays stay in cache (1.6x faster than one pass)


def _data_polymods(
    flat: np.ndarray, symbols: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """The data parts' share of each polymod: every symbol's table entry, by how many symbols follow it
    (entry ``32 * following + symbol``: the part's last index, less 32 per step back, plus the symbol)."""
    base = int(starts[0])
    ends = starts - base + lengths
    segment_starts = np.zeros(len(starts), np.int64)
    segment_starts[1:] = ends[:-1]  # a data part and the zero padding before it: zeros add nothing
    index = np.repeat((32 * (ends - 1)).astype(np.int32), ends - segment_starts)
    index -= _counting(len(index), 32)
    index += symbols[base : base + len(index)]
    return np.bitwise_xor.reduceat(np.take(flat, index), segment_starts)


def _decode_plain(rows: np.ndarray, texts: list[str], columns: Columns, verify: bool) -> list[int]:
    """Decode the plainly well-formed ``texts`` (rows ``rows`` of ``columns``) into ``columns``; return
    the rows of the others, for the rules' path."""
    # (hrp, "1", data) of each text at its last "1", with C loops only (no Python step per row).
    parts = list(map(_AT_LAST_ONE, texts))
    hrps, datas = list(map(_HRP, parts)), list(map(_DATA, parts))
    hrp_lengths = np.fromiter(map(len, hrps), np.int64, count=len(texts))
    data_lengths = np.fromiter(map(len, datas), np.int64, count=len(texts))
    # "ln" and more before the separator, room for the fixed fields, not too long.
    fits = (hrp_lengths >= 3) & (data_lengths >= MIN_DATA_GROUPS)
    fits &= hrp_lengths + 1 + data_lengths <= MAX_INVOICE_LENGTH
    refused: list[int] = []
    if not fits.all():
        kept = np.flatnonzero(fits).tolist()
        hrps, datas = [hrps[at] for at in kept], [datas[at] for at in kept]
        refused, rows = rows[~fits].tolist(), rows[fits]
    if not hrps:
        return refused
    prefixes = _read_prefixes(hrps)
    layout = _layout(prefixes, datas)
    plain = layout.valid_checksum & prefixes.plain
    walk = _walk(layout, plain)
    plain &= walk.plain
    _read_fixed(layout, walk, plain, columns, rows)
    _read_variable(layout, walk, plain, columns, rows, prefixes.networks)
    if verify:
        _verify(layout, walk, plain, columns, rows, hrps)
    else:
        payee, valid = columns.hashes["payee"]
        found = plain & walk.has[_N]
        payee[rows[found]] = _fixed_bytes(layout.octets, walk.start[_N][found], 33)
        valid[rows[found]] = True
    accepted = np.flatnonzero(plain)
    targets = rows[accepted]
    columns.network[targets] = prefixes.networks[accepted]
    columns.amount_msat[targets] = prefixes.amount_msat[accepted]
    columns.amount_missing[targets] = prefixes.amountless[accepted]
    for position, amount in prefixes.beyond_int64.items():
        if plain[position]:
            target = int(rows[position])
            columns.amount_msat[target], columns.amount_missing[target] = 0, True
            columns.amount_overflow[target] = True
            columns.warnings[target] = _beyond_int64("amount", amount, " msat")
    return refused + rows[~plain].tolist()


_AT_LAST_ONE = operator.methodcaller("rpartition", "1")
_HRP, _DATA = operator.itemgetter(0), operator.itemgetter(2)


@dataclass
class _Prefixes:
    """The human-readable parts of the candidates, read for all at once: their bytes end to end (``raw``;
    not ASCII is "?"), each byte's ``owner`` (candidate) and ``column`` in its prefix; ``plain``: a prefix
    ``fields.read_hrp`` reads without an issue, its network and amount given here."""

    raw: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    owner: np.ndarray
    column: np.ndarray
    plain: np.ndarray
    networks: np.ndarray  # object: the network's name, None where unknown
    amount_msat: np.ndarray
    amountless: np.ndarray
    beyond_int64: dict[int, int]  # candidate -> its amount in msat, where int64 cannot hold it


_NETWORK_NAMES = ("bcrt", "tbs", "bc", "tb")  # as fields.read_hrp tries them: the first that fits wins
_NETWORK_TEXTS = np.array([None, *_NETWORK_NAMES], dtype=object)
_MULTIPLIERS = {"m": MSAT_PER_UNIT["m"], "u": MSAT_PER_UNIT["u"], "n": MSAT_PER_UNIT["n"], "p": 0}
_PREFIX_WIDTH = 40  # longer prefixes (none real) take the rules' path
_AMOUNT_DIGITS = 18  # at most this many digits are read here (int64 holds them)
_PREFIX_CHARACTERS = np.zeros(256, bool)
_PREFIX_CHARACTERS[list(b"abcdefghijklmnopqrstuvwxyz0123456789")] = True
_UNIT = np.zeros(256, np.int64)  # msat per unit by the last character; 0: not a multiplier
for _name, _unit in _MULTIPLIERS.items():
    _UNIT[ord(_name)] = _unit
_POWERS_OF_TEN = 10 ** np.arange(_AMOUNT_DIGITS, dtype=np.int64)


def _read_prefixes(hrps: list[str]) -> _Prefixes:
    """``fields.read_hrp`` for every plain prefix (``ln``, a network, an amount of digits and an optional
    multiplier, no leading zero); every other prefix is left to the rules (``plain`` False)."""
    count = len(hrps)
    raw = np.frombuffer("".join(hrps).encode("ascii", "replace"), np.uint8)
    lengths = np.fromiter(map(len, hrps), np.int64, count=count)
    offsets = np.zeros(count, np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    owner = np.repeat(np.arange(count), lengths)
    column = np.arange(len(raw)) - offsets[owner]
    # As wide as the longest prefix (most are some 10 characters), at least wide enough for the network.
    width = int(min(_PREFIX_WIDTH, max(8, lengths.max(initial=0))))
    matrix = np.zeros((count, width), np.uint8)
    inside = column < width
    matrix[owner[inside], column[inside]] = raw[inside]
    plain = (lengths <= _PREFIX_WIDTH) & (matrix[:, 0] == ord("l")) & (matrix[:, 1] == ord("n"))
    plain &= np.bincount(owner[~_PREFIX_CHARACTERS[raw]], minlength=count) == 0
    network = np.full(count, -1)
    amount_start = np.zeros(count, np.int64)
    for number in reversed(range(len(_NETWORK_NAMES))):
        name = _NETWORK_NAMES[number].encode()
        fits = lengths >= 2 + len(name)
        for offset, character in enumerate(name):
            fits &= matrix[:, 2 + offset] == character
        network[fits], amount_start[fits] = number, 2 + len(name)
    plain &= network >= 0
    last = matrix[np.arange(count), np.clip(lengths - 1, 0, width - 1)]
    amountless = lengths == amount_start
    multiplied = ~amountless & ((_UNIT[last] > 0) | (last == ord("p")))
    digits = lengths - amount_start - multiplied
    place = np.arange(width)
    in_digits = (place >= amount_start[:, None]) & (place < (amount_start + digits)[:, None])
    is_digit = (matrix >= ord("0")) & (matrix <= ord("9"))
    plain &= ~(in_digits & ~is_digit).any(axis=1) & (amountless | (digits >= 1))
    plain &= amountless | (matrix[np.arange(count), np.minimum(amount_start, width - 1)] != ord("0"))
    power = np.clip(amount_start[:, None] + digits[:, None] - 1 - place, 0, _AMOUNT_DIGITS - 1)
    value = (np.where(in_digits, matrix.astype(np.int64) - ord("0"), 0) * _POWERS_OF_TEN[power]).sum(axis=1)
    unit = np.where(multiplied, _UNIT[last], MSAT_PER_UNIT[""])
    pico = multiplied & (last == ord("p"))
    read = (digits <= _AMOUNT_DIGITS) & (pico | (value <= INT64_MAX // np.maximum(unit, 1)))
    plain &= ~read | ~pico | (value % 10 == 0)  # a fraction of a millisatoshi: the rules refuse it
    amount = np.where(pico, value // 10, value * np.where(pico, 1, unit))
    # Amounts beyond int64 (or too long to read here) are read by the rules; beyond int64 they are missing
    # with a warning, as for any row, so such a row stays plain.
    beyond: dict[int, int] = {}
    for position in np.flatnonzero(plain & ~read).tolist():
        try:
            _, exact, issues = read_hrp(hrps[position])
        except InvoiceError:
            issues, exact = (), None
        if issues or exact is None:
            plain[position] = False
        elif exact > INT64_MAX:
            beyond[position] = exact
        else:
            amount[position] = exact
    networks = _NETWORK_TEXTS[network + 1]
    return _Prefixes(raw, lengths, offsets, owner, column, plain, networks, amount, amountless, beyond)


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
        here, limit = position[active], end[active]
        body = here + 3
        tag = symbols[here]
        # The header's groups may lie past the signed part (the signature follows, so they can be read);
        # then the field runs past it too, which sends the row to the rules' path, which reports it.
        length = (symbols[here + 1].astype(np.int64) << 5) | symbols[here + 2]
        following = body + length
        over = following > limit
        if over.any():
            ok[active[over]] = False
            keep = ~over
            active, body, tag, length, following, limit = (
                active[keep], body[keep], tag[keep], length[keep], following[keep], limit[keep]
            )  # fmt: skip
        owners.append(active)
        tags.append(tag)
        starts.append(body)
        lengths.append(length)
        position[active] = following
        active = active[following < limit]
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


def _fixed_bytes(octets: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """``(len(starts), size)`` bytes of the fields whose groups begin at ``starts`` (group numbers), read
    from the packed groups: group ``g`` begins at bit ``5 g``, so a field's bytes are the ``size + 1``
    bytes from there shifted left by that bit's place in its byte. The byte after the field is read as
    well (every field asked for lies inside its data part, which the signature and checksum follow); its
    bits past the field are shifted out."""
    bits = 5 * starts
    shift = (bits & 7).astype(np.uint8)[:, None]
    window = sliding_window_view(octets, size + 1)[bits >> 3]  # one copy of the rows asked for
    values = window[:, :-1] << shift  # uint8: the bits shifted past the byte are dropped
    values |= window[:, 1:] >> (8 - shift)  # numpy shifts by 8 or more give 0
    return values


def _blocks_to_bytes(blocks: np.ndarray) -> np.ndarray:
    """Blocks of 8 groups (the last axis, uint8) as 5 bytes each, flattened into the last axis. Each block is
    read as one little-endian uint64 and its eight 5-bit groups packed in three steps of shifts and masks
    on whole words (pairs, then fours, then all eight), so every pass is over contiguous 64-bit words: half
    the time of working on the eight byte columns. No wider type per group, no BLAS."""
    words = np.ascontiguousarray(blocks).reshape(-1).view("<u8")
    pairs = (words & _LOW_GROUPS) << _FIVE  # 10 bits in each 16-bit lane: first group, then second
    pairs |= (words >> _EIGHT) & _LOW_GROUPS
    fours = (pairs & _LOW_PAIRS) << _TEN  # 20 bits in each 32-bit half
    fours |= (pairs >> _SIXTEEN) & _LOW_PAIRS
    packed = (fours & _LOW_FOURS) << _TWENTY  # the block's 40 bits
    packed |= fours >> _THIRTY_TWO
    packed <<= _TWENTY_FOUR  # to the top of the word, so that its first 5 bytes big-endian are the block's
    packed.byteswap(inplace=True)  # memory now holds each word big-endian
    first_five = np.ndarray((len(packed),), dtype="S5", buffer=packed, strides=(8,))
    octets = first_five.copy().view(np.uint8)
    return octets.reshape(*blocks.shape[:-2], blocks.shape[-2] * 5)


_LOW_GROUPS, _LOW_PAIRS, _LOW_FOURS = (
    np.uint64(0x001F001F001F001F),
    np.uint64(0x000003FF000003FF),
    np.uint64(0xFFFFF),
)
_FIVE, _EIGHT, _TEN, _SIXTEEN, _TWENTY, _TWENTY_FOUR, _THIRTY_TWO = map(np.uint64, (5, 8, 10, 16, 20, 24, 32))


def _ragged_bytes(octets: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[bytes, list, list]:
    """The bytes of fields of any length (trailing padding bits dropped, as ``bech32.digits_to_bytes``),
    read from the packed groups as ``_fixed_bytes`` reads them: one buffer, and where each field's bytes
    begin in it and how many there are."""
    sizes = 5 * lengths // 8
    begins = np.cumsum(sizes) - sizes
    total = int(sizes.sum())
    if not total:
        return b"", begins.tolist(), sizes.tolist()
    bits = 5 * starts
    index = np.repeat((bits >> 3) - begins, sizes)
    index += np.arange(total)
    shift = np.repeat((bits & 7).astype(np.uint8), sizes)
    values = octets[index] << shift
    index += 1
    np.minimum(index, len(octets) - 1, out=index)  # the byte after a field exists (the signature follows)
    values |= octets[index] >> (8 - shift)
    return values.tobytes(), begins.tolist(), sizes.tolist()


_COUNTING: dict[int, np.ndarray] = {}


def _counting(count: int, step: int = 1) -> np.ndarray:
    """``arange(0, count * step, step)`` as int32, from a cached array."""
    cached = _COUNTING.get(step)
    if cached is None or len(cached) < count:
        size = max(count, 0 if cached is None else 2 * len(cached))
        cached = _COUNTING[step] = np.arange(0, size * step, step, dtype=np.int32)
    return cached[:count]


def _uints(symbols: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Big-endian integers of at most ``_UINT_GROUPS`` groups (0 for none)."""
    index = (starts + lengths)[:, None] + _UINT_OFFSETS
    used = -lengths[:, None] <= _UINT_OFFSETS
    values = np.where(used, symbols[np.clip(index, 0, len(symbols) - 1)], 0).astype(np.int64)
    return (values << _UINT_SHIFTS).sum(axis=1)


_UINT_OFFSETS = np.arange(_UINT_GROUPS) - _UINT_GROUPS  # the last _UINT_GROUPS groups before a field's end
_UINT_SHIFTS = np.arange(5 * (_UINT_GROUPS - 1), -1, -5, dtype=np.int64)


def _read_fixed(layout: _Layout, walk: _Walk, plain: np.ndarray, columns: Columns, rows: np.ndarray) -> None:
    symbols = layout.symbols
    ends = layout.data_start + layout.data_length - _TAIL
    stamp_index = layout.data_start[:, None] + np.arange(TIMESTAMP_GROUPS)
    timestamps = (symbols[stamp_index].astype(np.int64) << np.arange(30, -1, -5)).sum(axis=1)
    signature = _fixed_bytes(layout.octets, ends, 65)
    plain &= signature[:, 64] <= 3  # the rules' path names a bad recovery id
    walk.signature = signature
    numbers = _numbers(symbols, walk, plain)
    features, bits = _features_of(layout, walk, plain, numbers[_9])
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
    hash_fields = (("payment_hash", _P), ("payment_secret", _S), ("description_hash", _H))
    found = [accepted[walk.has[tag][accepted]] for _, tag in hash_fields]  # one read for the three
    starts = np.concatenate([walk.start[tag][where] for (_, tag), where in zip(hash_fields, found)])
    hashes = _fixed_bytes(layout.octets, starts, 32)
    first = 0
    for (name, _), where in zip(hash_fields, found):
        values, valid = columns.hashes[name]
        values[rows[where]] = hashes[first : first + len(where)]
        valid[rows[where]] = True
        first += len(where)
    values, valid = columns.hashes["signature"]
    values[targets] = signature[accepted]
    valid[targets] = True
    columns.features[targets] = features[accepted]
    columns.feature_bits[targets] = bits[accepted]


def _numbers(symbols: np.ndarray, walk: _Walk, plain: np.ndarray) -> dict[int, np.ndarray]:
    """The integers of x, c and 9 (up to 60 bits; 0 where absent), read in one pass; rows where one is not
    minimal (a warning) or x or c is beyond 60 bits leave the plain path (the rules read them)."""
    tags = (_X, _C, _9)
    starts, lengths = [], []
    for tag in tags:
        has, length = walk.has[tag], walk.length[tag]
        first = symbols[np.minimum(walk.start[tag], len(symbols) - 1)]
        plain &= ~has | (length == 0) | (first != 0)
        if tag != _9:  # a 9 beyond 60 bits is a long feature vector, read in _features_of
            plain &= ~has | (length <= _UINT_GROUPS)
        short = has & (length <= _UINT_GROUPS)
        starts.append(walk.start[tag])
        lengths.append(np.where(short, length, 0))
    values = _uints(symbols, np.concatenate(starts), np.concatenate(lengths)).reshape(len(tags), -1)
    return {tag: np.where(plain, row, 0) for tag, row in zip(tags, values)}


_FEATURE_TEXTS: dict[int, tuple[Any, Any, bool]] = {}


def _features_of(
    layout: _Layout, walk: _Walk, plain: np.ndarray, short: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The ``features`` and ``feature_bits`` texts of each row's vector (read in numpy up to 60 bits, longer
    ones per row), as object arrays; rows requiring an unknown feature leave the plain path (the rules
    fail or warn). The texts are made once per distinct vector."""
    distinct, inverse = np.unique(short, return_inverse=True)
    vectors: list[int] = distinct.tolist()
    length = walk.length[_9]
    long_rows = np.flatnonzero(plain & walk.has[_9] & (length > _UINT_GROUPS))
    for position in long_rows.tolist():
        start = int(walk.start[_9][position] - layout.data_start[position])
        text = layout.datas[position][start : start + int(length[position])]
        vectors.append(int(bech32.to_digits(text), 32))
    inverse = inverse.reshape(-1).copy()
    inverse[long_rows] = np.arange(len(distinct), len(vectors))
    names, numbers, clean = (np.empty(len(vectors), dtype=object) for _ in range(3))
    for slot, value in enumerate(vectors):
        names[slot], numbers[slot], clean[slot] = _feature_texts(value)
    plain &= clean[inverse].astype(bool)
    return names[inverse], numbers[inverse]


def _feature_texts(value: int) -> tuple[Any, Any, bool]:
    """(``features``, ``feature_bits``, no unknown feature required) of one vector; short ones cached."""
    known = _FEATURE_TEXTS.get(value)
    if known is None:
        short = value.bit_length() <= _CACHED_FEATURE_BITS  # long junk vectors are not worth a slot
        features, unknown_required = (_cached_features if short else _features)(value)
        joined = ",".join(str(feature.bit) for feature in features) or None
        known = (feature_names(features) or None, joined, not unknown_required)
        if short and len(_FEATURE_TEXTS) < 4096:
            _FEATURE_TEXTS[value] = known
    return known


def _read_variable(
    layout: _Layout,
    walk: _Walk,
    plain: np.ndarray,
    columns: Columns,
    rows: np.ndarray,
    networks: np.ndarray,
) -> None:
    """Descriptions (UTF-8), metadata (hex) and fallback addresses (``addresses.render_plain_fallbacks``)."""
    symbols = layout.symbols
    for tag, target in ((_D, columns.description), (_M, columns.metadata)):
        found = np.flatnonzero(plain & walk.has[tag])
        if not len(found):
            continue
        data, begins, sizes = _ragged_bytes(layout.octets, walk.start[tag][found], walk.length[tag][found])
        targets = rows[found].tolist()
        if tag == _M:
            for target_row, begin, size in zip(targets, begins, sizes):
                target[target_row] = data[begin : begin + size].hex()
            continue
        for position, target_row, begin, size in zip(found.tolist(), targets, begins, sizes):
            try:
                target[target_row] = data[begin : begin + size].decode("utf-8")
            except UnicodeDecodeError:
                plain[position] = False  # the rules fail it, or warn and repair it
    fallbacks = np.flatnonzero((walk.tags == _F) & plain[walk.owners])
    owners = walk.owners[fallbacks].tolist()
    fields = [
        symbols[start : start + length].tobytes()
        for start, length in zip(walk.starts[fallbacks].tolist(), walk.lengths[fallbacks].tolist())
    ]
    rendered = render_plain_fallbacks(fields, [networks[position] for position in owners])
    addresses: dict[int, list[str]] = {}
    for position, address in zip(owners, rendered):
        if address is None:
            plain[position] = False  # skipped or flawed: the rules' path says which
        else:
            addresses.setdefault(position, []).append(address)
    for position, found_addresses in addresses.items():
        columns.fallbacks[rows[position]] = ",".join(found_addresses)


def _verify(
    layout: _Layout,
    walk: _Walk,
    plain: np.ndarray,
    columns: Columns,
    rows: np.ndarray,
    hrps: list[str],
) -> None:
    """The signature of every plain row, as the rules check it. Where ``n`` gives the payee, the signature
    is verified against that key (parsed once per distinct key in the chunk; libsecp256k1's verify demands
    low S, as the spec does, and ignores the recovery id): cheaper than a recovery, since it needs no square
    root and no inversion. Elsewhere the key is recovered with the transmitted recovery id. A row that
    fails either takes the rules' path, which names what is wrong."""
    signed = layout.octets.copy()  # its bytes past each signed part are zeroed below
    # Each data part starts on a block, so its signed groups are one slice; zero the bits after them.
    signed_groups = layout.data_length - _TAIL
    first = layout.data_start // 8 * 5
    last = first + (5 * signed_groups + 7) // 8
    spare = (8 * (last - first) - 5 * signed_groups).astype(np.uint8)
    signed[last - 1] &= (0xFF << spare).astype(np.uint8)
    message = signed.data  # sliced per row below, without copying the whole buffer first
    assert walk.signature is not None
    keys = np.zeros((len(plain), 33), np.uint8)
    given = plain & walk.has[_N]
    keys[given] = _fixed_bytes(layout.octets, walk.start[_N][given], 33)
    positions = np.flatnonzero(plain).tolist()
    sha256 = hashlib.sha256
    # Plain rows' prefixes are ASCII; each distinct one is encoded once.
    prefixes = {hrp: hrp.encode("ascii") for hrp in {hrps[position] for position in positions}}
    digests = [
        (position, sha256(prefixes[hrps[position]] + message[start:stop]).digest())
        for position, start, stop in zip(positions, first[plain].tolist(), last[plain].tolist())
    ]
    for position in _Signatures(walk.signature, keys).failures(digests, given.tolist()):
        plain[position] = False
    payee, valid = columns.hashes["payee"]
    payee[rows[plain]] = keys[plain]
    valid[rows[plain]] = True


class _Signatures:
    """Signature checks straight through coincurve's libsecp256k1 binding, row ``position`` of
    ``signatures`` (65 bytes: compact signature, recovery id) against row ``position`` of ``keys`` (33
    bytes, compressed): verified where the row gives its key, else recovered into it. The curve work and
    nothing around it."""

    def __init__(self, signatures: np.ndarray, keys: np.ndarray) -> None:
        self._lib, self._context = lib, GLOBAL_CONTEXT.ctx
        self._signatures = signatures  # kept alive: the pointers below point into them
        self._keys = keys
        self._signature_base = ffi.cast("unsigned char *", ffi.from_buffer(signatures))
        self._key_base = ffi.cast("unsigned char *", ffi.from_buffer(keys))
        self._recoverable = ffi.new("secp256k1_ecdsa_recoverable_signature *")
        self._plain = ffi.new("secp256k1_ecdsa_signature *")
        self._point = ffi.new("secp256k1_pubkey *")
        self._size = ffi.new("size_t *")
        self._compressed = lib.SECP256K1_EC_COMPRESSED
        self._parsed_keys: dict[bytes, Any] = {}  # a chunk's payees repeat: each is parsed once

    def failures(self, rows: list[tuple[int, bytes]], given: list[bool]) -> list[int]:
        """Check each (row, signing digest); the rows whose signature is not valid for the key they give,
        or, giving none, yields none."""
        context, point, size, compressed = self._context, self._point, self._size, self._compressed
        recoverable, plain = self._recoverable, self._plain
        parse_recoverable = self._lib.secp256k1_ecdsa_recoverable_signature_parse_compact
        recover = self._lib.secp256k1_ecdsa_recover
        serialize = self._lib.secp256k1_ec_pubkey_serialize
        parse, verify = self._lib.secp256k1_ecdsa_signature_parse_compact, self._lib.secp256k1_ecdsa_verify
        signature_base, key_base = self._signature_base, self._key_base
        recovery_ids = self._signatures[:, 64].tolist()
        failed = []
        for position, digest in rows:
            signature = signature_base + 65 * position
            if given[position]:
                key = self._parsed_key(position)
                if not (
                    key is not None
                    and parse(context, plain, signature)
                    and verify(context, plain, digest, key)
                ):
                    failed.append(position)
                continue
            if not (
                parse_recoverable(context, recoverable, signature, recovery_ids[position])
                and recover(context, point, recoverable, digest)
            ):
                failed.append(position)
                continue
            size[0] = 33
            serialize(context, key_base + 33 * position, size, point, compressed)
        return failed

    def _parsed_key(self, position: int) -> Any:
        """Row ``position``'s key parsed for libsecp256k1, None where it is not a point of the curve."""
        raw = self._keys[position].tobytes()
        parsed = self._parsed_keys.get(raw, False)
        if parsed is False:
            parsed = ffi.new("secp256k1_pubkey *")
            if not self._lib.secp256k1_ec_pubkey_parse(self._context, parsed, raw, 33):
                parsed = None
            self._parsed_keys[raw] = parsed
        return parsed
