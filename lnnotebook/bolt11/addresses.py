"""On-chain fallback addresses (the ``f`` field): BIP-173 bech32, BIP-350 bech32m, base58check.

Version 17 = P2PKH, 18 = P2SH (base58check), 0-16 = a witness version followed by the program.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

import base58
import numpy as np

from lnnotebook.bolt11 import bech32
from lnnotebook.bolt11.constants import BECH32_CHARSET, BECH32_CONST, BECH32M_CONST, NETWORKS

_SEGWIT_HRPS = frozenset(params.segwit_hrp for params in NETWORKS.values())
_MAX_ADDRESS_LENGTH = 90  # BIP-173; also bounds what the encoder's cache holds


def encode_segwit_address(hrp: str, witness_version: int, program: bytes) -> str:
    """A segwit address: bech32 for witness version 0, bech32m for versions 1-16 (BIP-350)."""
    if not 0 <= witness_version <= 16:
        raise ValueError(f"witness version must be 0..16, got {witness_version}")
    check_witness_program(witness_version, len(program))
    return _segwit_address(hrp, witness_version, program)


def _segwit_address(hrp: str, witness_version: int, program: bytes) -> str:
    constant = BECH32_CONST if witness_version == 0 else BECH32M_CONST
    return bech32.encode(hrp, [witness_version, *bech32.bytes_to_groups(program)], constant)


def decode_segwit_address(hrp: str, address: str) -> tuple[int, bytes]:
    """(witness version, witness program) of a segwit address with the given hrp; ValueError if invalid.

    Enforces BIP-350: version 0 needs the bech32 checksum, versions 1-16 the bech32m checksum.
    """
    if address.lower() != address and address.upper() != address:
        raise ValueError(f"mixed-case address: {address!r}")
    if len(address) > _MAX_ADDRESS_LENGTH:
        raise ValueError(f"address longer than {_MAX_ADDRESS_LENGTH} characters: {address!r}")
    lowered = address.lower()
    separator = lowered.rfind("1")
    if separator < 1 or lowered[:separator] != hrp:
        raise ValueError(f"address {address!r} does not have the hrp {hrp!r}")
    payload = lowered[separator + 1 :]
    if len(payload) < 7 or not bech32.DATA_PART.fullmatch(payload):
        raise ValueError(f"invalid bech32 characters or too short: {address!r}")
    groups = bech32.text_to_groups(payload)
    data = groups[:-6]
    witness_version = data[0]
    if witness_version > 16:
        raise ValueError(f"invalid witness version {witness_version} in {address!r}")
    expected = BECH32_CONST if witness_version == 0 else BECH32M_CONST
    if bech32.residue(hrp, groups) != expected:
        kind = "bech32" if witness_version == 0 else "bech32m"
        raise ValueError(f"bad checksum in {address!r} (witness version {witness_version} needs {kind})")
    program = bech32.groups_to_bytes(data[1:])
    if program is None:
        raise ValueError(f"invalid padding in {address!r}")
    check_witness_program(witness_version, len(program))
    return witness_version, program


def check_witness_program(witness_version: int, length: int) -> None:
    if not 2 <= length <= 40:
        raise ValueError(f"witness program must be 2..40 bytes, got {length}")
    if witness_version == 0 and length not in (20, 32):
        raise ValueError(f"witness version 0 program must be 20 or 32 bytes, got {length}")


# --- reading an f field ----------------------------------------------------------------------------------


def render_fallback(digits: str, network: str) -> tuple[str | None, str | None]:
    """The address of an ``f`` field given as base-32 digits: (address, None), (None, reason to warn),
    or (None, None) for a version the spec says to skip."""
    if not digits:
        return None, "an empty fallback field was skipped"
    version = int(digits[0], 32)
    program = bech32.digits_to_bytes(digits[1:])
    params = NETWORKS[network]
    if version in (17, 18):
        if len(program) != 20:
            return None, f"a version-{version} fallback with a {len(program)}-byte hash was skipped"
        prefix = params.p2pkh_version if version == 17 else params.p2sh_version
        return base58.b58encode_check(bytes([prefix]) + program).decode("ascii"), None
    if version <= 16:
        if not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
            return None, f"a witness v{version} fallback with a {len(program)}-byte program was skipped"
        return _segwit_address(params.segwit_hrp, version, program), None
    return None, None  # unknown versions: the spec says skip


def render_plain_fallbacks(fields: Sequence[bytes], networks: Sequence[str]) -> list[str | None]:
    """``render_fallback`` of many ``f`` fields at once, each given as its 5-bit groups (bytes of 0-31).

    The same addresses for the same fields, but only for fields it is sure of: a field that
    ``render_fallback`` would skip or warn about gives None, and its invoice is left to the per-row
    readers. Segwit checksums are computed for all fields in one pass (``bech32.encode_many``).
    """
    found: list[str | None] = [None] * len(fields)
    segwit: list[tuple[int, str, bytes, int]] = []
    base58: list[tuple[int, bytes]] = []
    for number, (groups, network) in enumerate(zip(fields, networks)):
        if not groups:
            continue
        version, size = groups[0], 5 * (len(groups) - 1) // 8
        params = NETWORKS[network]
        if version in (17, 18):
            if size == 20:
                digits = groups[1:].translate(_GROUPS_TO_DIGITS).decode("ascii")
                prefix = params.p2pkh_version if version == 17 else params.p2sh_version
                base58.append((number, bytes([prefix]) + bech32.digits_to_bytes(digits)))
        elif version <= 16 and 2 <= size <= 40 and (version or size in (20, 32)):
            # The address regroups the program's bytes: the field's groups up to the last whole byte,
            # the bits after it zeroed (as digits_to_bytes drops them and bytes_to_groups pads).
            count = -(-8 * size // 5)
            unused = 5 * count - 8 * size
            program = groups[1:count] + bytes([groups[count] >> unused << unused])
            segwit.append((number, params.segwit_hrp, bytes([version]) + program, version))
    addresses = bech32.encode_many(
        [hrp for _, hrp, _, _ in segwit],
        [groups for _, _, groups, _ in segwit],
        [BECH32_CONST if version == 0 else BECH32M_CONST for *_, version in segwit],
    )
    for (number, *_), address in zip(segwit, addresses):
        found[number] = address
    for (number, _), address in zip(base58, _base58check_many([payload for _, payload in base58])):
        found[number] = address
    return found


_GROUPS_TO_DIGITS = bytes.maketrans(bytes(range(32)), bech32.BASE32_DIGITS.encode())
_CHUNK_DIGITS = 10  # 58**10 < 2**63: a chunk of ten base-58 digits is one int64
_CHUNKS = 4  # a 25-byte Base58Check payload has at most 35 base-58 digits


def _base58check_many(payloads: Sequence[bytes]) -> list[str]:
    """Base58Check of 21-byte payloads, as ``base58.b58encode_check``: Python splits each number into
    chunks of ten digits, numpy spells all chunks at once, and each leading zero byte is a '1'."""
    if not payloads:
        return []
    chunks = np.zeros((len(payloads), _CHUNKS), np.int64)
    data = []
    for row, payload in enumerate(payloads):
        whole = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
        data.append(whole)
        value = int.from_bytes(whole, "big")
        for column in range(_CHUNKS - 1, -1, -1):
            value, chunks[row, column] = divmod(value, 58**_CHUNK_DIGITS)
    powers = 58 ** np.arange(_CHUNK_DIGITS - 1, -1, -1, dtype=np.int64)
    digits = (chunks[:, :, None] // powers) % 58
    spelled = np.frombuffer(base58.BITCOIN_ALPHABET, np.uint8)[digits.reshape(len(payloads), -1)].tobytes()
    width = _CHUNKS * _CHUNK_DIGITS
    return [
        "1" * (len(whole) - len(whole.lstrip(b"\0")))
        + spelled[row * width : (row + 1) * width].decode("ascii").lstrip("1")
        for row, whole in enumerate(data)
    ]


# --- writing an f field ----------------------------------------------------------------------------------


def fallback_field_data(address: str, network: str) -> tuple[int, ...]:
    """The 5-bit groups of an ``f`` field for an on-chain address of the invoice's network."""
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; expected one of {sorted(NETWORKS)}")
    if not isinstance(address, str) or not address:
        raise ValueError(f"fallback address must be a non-empty string, got {address!r}")
    if len(address) > _MAX_ADDRESS_LENGTH:  # no address is this long; and it keeps the cache small
        raise ValueError(f"fallback address is {len(address)} characters; addresses have at most 90")
    return _fallback_field_data(address, network)


@lru_cache(maxsize=4096)
def _fallback_field_data(address: str, network: str) -> tuple[int, ...]:
    params = NETWORKS[network]
    lowered = address.lower()
    separator = lowered.rfind("1")
    if separator > 0 and all(char in BECH32_CHARSET for char in lowered[separator + 1 :]):
        address_hrp = lowered[:separator]
        if address_hrp in _SEGWIT_HRPS:
            if address_hrp != params.segwit_hrp:
                raise ValueError(
                    f"fallback address {address!r} is for hrp {address_hrp!r}, not network {network!r}"
                )
            witness_version, program = decode_segwit_address(params.segwit_hrp, address)
            return (witness_version, *bech32.bytes_to_groups(program))
    try:
        payload = base58.b58decode_check(address)
    except ValueError as exc:
        raise ValueError(f"fallback address {address!r} is neither segwit nor base58check: {exc}") from None
    if len(payload) != 21:
        raise ValueError(f"fallback address {address!r} has a {len(payload) - 1}-byte hash, expected 20")
    if payload[0] == params.p2pkh_version:
        version = 17
    elif payload[0] == params.p2sh_version:
        version = 18
    else:
        raise ValueError(
            f"fallback address {address!r} has version byte {payload[0]}, "
            f"not P2PKH/P2SH of network {network!r}"
        )
    return (version, *bech32.bytes_to_groups(payload[1:]))
