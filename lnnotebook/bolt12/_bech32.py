"""Bech32 characters to bytes and back, without a checksum (BOLT 12 strings have none).

Private to ``lnnotebook.bolt12`` for now: the shared bech32 module of ``lnnotebook.bolt11`` is meant to
take this over. The conversion uses Python's own base-32 integer parser (the alphabet translated to
``0-9a-v``), which is linear for a power-of-two base and runs in C.
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_DIGITS = "0123456789abcdefghijklmnopqrstuv"
_TO_DIGITS = str.maketrans(CHARSET, _DIGITS)
_FROM_DIGITS = str.maketrans(_DIGITS, CHARSET)


class PaddingError(ValueError):
    """The last character carries more than 4 padding bits, or padding bits that are not zero."""


def to_bytes(data: str) -> bytes:
    """Bytes of a bech32 data part (lowercase, already checked to be in ``CHARSET``).

    The spec's conversion without padding: at most 4 leftover bits, and they must be zero.
    """
    if not data:
        return b""
    bits = 5 * len(data)
    size, pad = divmod(bits, 8)
    value = int(data.translate(_TO_DIGITS), 32)
    if pad > 4:
        raise PaddingError(f"the last character leaves {pad} padding bits; at most 4 are allowed")
    if value & ((1 << pad) - 1):
        raise PaddingError("the padding bits of the last character are not zero")
    return (value >> pad).to_bytes(size, "big")


def from_bytes(data: bytes) -> str:
    """The bech32 characters of ``data``, zero-padded to a whole character (the inverse of ``to_bytes``)."""
    if not data:
        return ""
    bits = 8 * len(data)
    count = -(-bits // 5)
    value = int.from_bytes(data, "big") << (5 * count - bits)
    digits = _to_base32(value)
    return digits.rjust(count, "0").translate(_FROM_DIGITS)


def _to_base32(value: int) -> str:
    # Python has no base-32 formatter: format in binary (in C), then 5 bits per output digit.
    if value == 0:
        return "0"
    binary = format(value, "b")
    binary = binary.rjust(-(-len(binary) // 5) * 5, "0")
    return "".join(_DIGITS[int(binary[i : i + 5], 2)] for i in range(0, len(binary), 5))
