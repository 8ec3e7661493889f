"""The one bech32 of lnnotebook (BIP-173, and BIP-350's bech32m for addresses).

Speed matters on the decoding side, so two costly steps run in C:

* the checksum is a GF(2)-linear function of the input symbols, so it is computed for a whole batch at
  once with numpy from a table of per-position contributions (``checksums_valid``);
* 5-bit unpacking uses Python's own base-32 integer parser: the bech32 alphabet is translated to
  ``0-9a-v`` (``to_digits``) and ``int(digits, 32)`` yields the bits, which ``digits_to_bytes`` and
  ``format`` slice into fields.

The encoder uses the same table for one sequence at a time (``create_checksum``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from lnnotebook.bolt11.constants import BECH32_CHARSET, BECH32_CONST, MAX_INVOICE_LENGTH

CHARSET = BECH32_CHARSET
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
BASE32_DIGITS = "0123456789abcdefghijklmnopqrstuv"
_TO_BASE32_DIGITS = str.maketrans(BECH32_CHARSET, BASE32_DIGITS)
_TO_VALUES = bytes.maketrans(BECH32_CHARSET.encode(), bytes(range(32)))
DATA_PART = re.compile(f"[{BECH32_CHARSET}]*")

CHECKSUM_BATCH = 8192
# Rows the shared table may grow to: enough for the longest invoice a decoder accepts (hrp counted twice by
# the hrp expansion). Longer sequences, which only an encoder can ask for, are checksummed without it.
_TABLE_LIMIT = 2 * MAX_INVOICE_LENGTH + 2
_HRP_HIGH = bytes.maketrans(bytes(range(128)), bytes(c >> 5 for c in range(128)))
_HRP_LOW = bytes.maketrans(bytes(range(128)), bytes(c & 31 for c in range(128)))
_CACHED_HRP_LENGTH = 32  # real prefixes are short; a long junk one is not worth a cache slot


# --- characters, 5-bit groups and bytes ---------------------------------------------------------------


def to_digits(text: str) -> str:
    """Bech32 characters as base-32 digits (``int(digits, 32)`` reads them)."""
    return text.translate(_TO_BASE32_DIGITS)


def groups_to_text(groups: Sequence[int]) -> str:
    return "".join([BECH32_CHARSET[group] for group in groups])


def text_to_groups(text: str) -> list[int]:
    return list(text.encode("ascii").translate(_TO_VALUES))


def digits_to_bytes(digits: str) -> bytes:
    """Bytes of a field given as base-32 digits; trailing padding bits (< 8) are dropped."""
    if not digits:
        return b""
    bits = 5 * len(digits)
    size = bits // 8
    return (int(digits, 32) >> (bits - 8 * size)).to_bytes(size, "big")


def bytes_to_groups(data: bytes) -> list[int]:
    """Big-endian 5-bit groups of ``data``, zero-padded at the end (BOLT11 "pad field data to 5 bits")."""
    bit_count = len(data) * 8
    group_count = -(-bit_count // 5)
    value = int.from_bytes(data, "big") << (group_count * 5 - bit_count)
    return int_to_groups(value, group_count)


def int_to_groups(value: int, count: int | None = None) -> list[int]:
    """Big-endian 5-bit groups of a non-negative integer; minimal (no leading zero groups, 0 -> []) unless
    ``count`` is given."""
    if count is None:
        count = -(-value.bit_length() // 5)
    if not count:
        return []
    return [(value >> shift) & 31 for shift in range(count * 5 - 5, -1, -5)]


def groups_to_padded_bytes(groups: Sequence[int]) -> bytes:
    """Groups concatenated, then zero bits up to a byte boundary (how the signed data is hashed)."""
    value = 0
    for group in groups:
        value = (value << 5) | group
    bit_count = len(groups) * 5
    byte_count = -(-bit_count // 8)
    return (value << (byte_count * 8 - bit_count)).to_bytes(byte_count, "big")


class PaddingError(ValueError):
    """The last character carries more than 4 padding bits, or padding bits that are not zero."""


def text_to_bytes(text: str) -> bytes:
    """Bytes of a bech32 data part without a checksum (BOLT 12), checked as BIP-173 demands: at most 4
    padding bits, all zero (else ``PaddingError``). ``text`` is lowercase and in ``CHARSET``."""
    if not text:
        return b""
    bits = 5 * len(text)
    size, pad = divmod(bits, 8)
    if pad > 4:
        raise PaddingError(f"the last character leaves {pad} padding bits; at most 4 are allowed")
    value = int(to_digits(text), 32)
    if value & ((1 << pad) - 1):
        raise PaddingError("the padding bits of the last character are not zero")
    return (value >> pad).to_bytes(size, "big")


def bytes_to_text(data: bytes) -> str:
    """The bech32 characters of ``data``, zero-padded to a whole character (inverse of ``text_to_bytes``)."""
    return groups_to_text(bytes_to_groups(data))


def groups_to_bytes(groups: Sequence[int]) -> bytes | None:
    """The bytes of 5-bit groups whose padding is under 5 bits and zero (BIP-173 strictness), else None."""
    bit_count = len(groups) * 5
    pad = bit_count % 8
    value = 0
    for group in groups:
        value = (value << 5) | group
    if pad >= 5 or value & ((1 << pad) - 1):
        return None
    return (value >> pad).to_bytes(bit_count // 8, "big")


# --- the checksum ---------------------------------------------------------------------------------------


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
                    self._grow(min(max(count, 2 * len(self.table), 1024), max(count, _TABLE_LIMIT)))
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


def expand_hrp(hrp: str) -> bytes:
    """BIP-173's hrp expansion: high bits, a zero, low bits (ASCII prefixes only)."""
    if len(hrp) <= _CACHED_HRP_LENGTH:
        return _expand_short_hrp(hrp)
    raw = hrp.encode("ascii")
    return raw.translate(_HRP_HIGH) + b"\0" + raw.translate(_HRP_LOW)


@lru_cache(maxsize=256)
def _expand_short_hrp(hrp: str) -> bytes:
    raw = hrp.encode("ascii")
    return raw.translate(_HRP_HIGH) + b"\0" + raw.translate(_HRP_LOW)


def checksums_valid(hrps: list[str], datas: list[str]) -> np.ndarray:
    """One boolean per invoice: does its bech32 checksum hold? ``datas`` are lowercase bech32 text."""
    if not hrps:
        return np.zeros(0, dtype=bool)
    sequences = [
        expand_hrp(hrp) + data.encode("ascii").translate(_TO_VALUES) for hrp, data in zip(hrps, datas)
    ]
    return _polymods(sequences) == BECH32_CONST


def _polymods(sequences: Sequence[bytes]) -> np.ndarray:
    """BIP-173's polymod of each sequence of 5-bit symbols (none empty), for all at once."""
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    symbols = np.frombuffer(b"".join(sequences), dtype=np.uint8)
    ends = np.cumsum(lengths)
    table = _TABLE.rows(int(lengths.max()) + 1)
    steps_after = np.repeat(ends - 1, lengths) - np.arange(len(symbols), dtype=np.int64)
    contributions = table.ravel()[steps_after * 32 + symbols]
    return np.bitwise_xor.reduceat(contributions, ends - lengths) ^ table[lengths, 1]


def polymod(symbols: bytes) -> int:
    """BIP-173's polymod of one sequence of 5-bit symbols."""
    count = len(symbols)
    if count + 1 > _TABLE_LIMIT:
        state = 1
        for symbol in symbols:
            state = _polymod_step(state, symbol)
        return state
    table = _TABLE.rows(count + 1)
    values = np.frombuffer(symbols, dtype=np.uint8)
    steps_after = np.arange(count - 1, -1, -1, dtype=np.int64)
    contributions = table.ravel()[steps_after * 32 + values]
    return int(np.bitwise_xor.reduce(contributions)) ^ int(table[count, 1])


def residue(hrp: str, groups: Sequence[int]) -> int:
    """The polymod of a whole bech32 string (checksum included): 1 for bech32, BECH32M_CONST for bech32m."""
    return polymod(expand_hrp(hrp) + bytes(groups))


def create_checksum(hrp: str, groups: Sequence[int], constant: int = BECH32_CONST) -> list[int]:
    state = polymod(expand_hrp(hrp) + bytes(groups) + bytes(6)) ^ constant
    return [(state >> 5 * (5 - i)) & 31 for i in range(6)]


def encode_many(hrps: Sequence[str], sequences: Sequence[bytes], constants: Sequence[int]) -> list[str]:
    """``encode`` of many short sequences (each of 5-bit values as bytes, e.g. addresses) at once: the
    checksums come from one numpy pass over the shared table instead of a Python loop per symbol."""
    if not sequences:
        return []
    states = _polymods([expand_hrp(hrp) + groups + bytes(6) for hrp, groups in zip(hrps, sequences)])
    states ^= np.asarray(constants, dtype=np.uint32)
    checksums = (states[:, None] >> np.arange(25, -1, -5, dtype=np.uint32)) & 31
    tails = checksums.astype(np.uint8).tobytes()
    return [
        hrp + "1" + (groups + tails[6 * number : 6 * number + 6]).translate(_TO_CHARSET).decode("ascii")
        for number, (hrp, groups) in enumerate(zip(hrps, sequences))
    ]


_TO_CHARSET = bytes.maketrans(bytes(range(32)), BECH32_CHARSET.encode())


def encode(hrp: str, groups: Sequence[int], constant: int = BECH32_CONST) -> str:
    """``hrp`` + ``1`` + the groups and their checksum as bech32 text (no length limit)."""
    return hrp + "1" + groups_to_text([*groups, *create_checksum(hrp, groups, constant)])
