"""BIP-173's reference bech32, written out from the BIP for the tests.

Independent of ``lnnotebook.bolt11.bech32`` on purpose: tests build and take apart invoices with it, so
a mistake in the library's bech32 cannot hide behind the same mistake in the tests. (It replaces the
``bech32`` PyPI package, which is not a dependency.) No length limit: invoices are longer than 90.
"""

from __future__ import annotations

from collections.abc import Iterable

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def bech32_polymod(values: Iterable[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _GENERATOR[i] if (top >> i) & 1 else 0
    return chk


def bech32_hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def bech32_create_checksum(hrp: str, data: list[int], constant: int = 1) -> list[int]:
    polymod = bech32_polymod(bech32_hrp_expand(hrp) + list(data) + [0] * 6) ^ constant
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


def bech32_encode(hrp: str, data: Iterable[int]) -> str:
    data = list(data)
    return hrp + "1" + "".join(CHARSET[d] for d in data + bech32_create_checksum(hrp, data))


def bech32_decode(bech: str) -> tuple[str, list[int]] | tuple[None, None]:
    """(hrp, data without checksum) of a valid bech32 string, else (None, None)."""
    if any(ord(x) < 33 or ord(x) > 126 for x in bech) or (bech.lower() != bech and bech.upper() != bech):
        return None, None
    bech = bech.lower()
    pos = bech.rfind("1")
    if pos < 1 or pos + 7 > len(bech) or not all(x in CHARSET for x in bech[pos + 1 :]):
        return None, None
    hrp, data = bech[:pos], [CHARSET.find(x) for x in bech[pos + 1 :]]
    if bech32_polymod(bech32_hrp_expand(hrp) + data) != 1:
        return None, None
    return hrp, data[:-6]


def convertbits(data: Iterable[int], frombits: int, tobits: int, pad: bool = True) -> list[int] | None:
    """General power-of-2 base conversion (BIP-173); None on invalid input or non-zero padding."""
    acc = bits = 0
    ret = []
    maxv = (1 << tobits) - 1
    max_acc = (1 << (frombits + tobits - 1)) - 1
    for value in data:
        if value < 0 or (value >> frombits):
            return None
        acc = ((acc << frombits) | value) & max_acc
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad:
        if bits:
            ret.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return ret
