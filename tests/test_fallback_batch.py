"""The batch decoder's helpers against plain references: the batch renderer of fallback addresses gives
exactly what the per-field reader gives, or leaves the field to it (None), for random versions, lengths and
padding bits on every network; Base58Check equals the base58 package; 5-bit groups pack into their bytes."""

from __future__ import annotations

import random

import base58
import numpy as np
import pytest

from lnnotebook.bolt11 import batch, bech32
from lnnotebook.bolt11.addresses import _base58check_many, render_fallback, render_plain_fallbacks
from lnnotebook.bolt11.constants import NETWORKS

_TO_DIGITS = bytes.maketrans(bytes(range(32)), bech32.BASE32_DIGITS.encode())


@pytest.mark.parametrize("seed", range(3))
def test_batch_fallbacks_match_the_per_field_reader(seed: int) -> None:
    generator = random.Random(seed)
    fields, networks = [], []
    for _ in range(3000):
        version = generator.choice([0, 1, 16, 17, 18, 19, 31, generator.randrange(32)])
        count = generator.choice([0, 4, 32, 33, 52, 53, 64, generator.randrange(70)])
        fields.append(bytes([version] + [generator.randrange(32) for _ in range(count)]))
        networks.append(generator.choice(sorted(NETWORKS)))
    fields[:2] = [b"", bytes([17])]
    rendered = render_plain_fallbacks(fields, networks)
    kept = 0
    for groups, network, address in zip(fields, networks, rendered):
        expected, _ = render_fallback(groups.translate(_TO_DIGITS).decode(), network)
        if address is not None:
            assert address == expected
            kept += 1
        else:  # left to the reader, which then skips or warns: never an address the batch dropped
            assert expected is None
    assert kept > 1000


def test_base58check_of_many_matches_the_base58_package() -> None:
    generator = random.Random(7)
    payloads = [bytes(21), b"\0\0" + b"\xff" * 19, b"\x05" + bytes(20)]
    payloads += [bytes([generator.choice([0, 5, 111, 196])]) + generator.randbytes(20) for _ in range(2000)]
    for payload, text in zip(payloads, _base58check_many(payloads)):
        assert text == base58.b58encode_check(payload).decode()


@pytest.mark.parametrize("shape", [(0, 8), (1, 8), (3, 7, 8), (4_096, 8), (5, 0, 8)])
def test_blocks_of_eight_groups_pack_into_the_bytes_of_their_bits(shape: tuple[int, ...]) -> None:
    """``batch._blocks_to_bytes`` (word-wide shifts) against the groups' bits read one by one."""
    groups = np.random.default_rng(sum(shape)).integers(0, 32, shape).astype(np.uint8)
    packed = batch._blocks_to_bytes(groups)
    assert packed.shape == (*shape[:-2], shape[-2] * 5) and packed.flags.writeable
    for block, octets in zip(groups.reshape(-1, 8), packed.reshape(-1, 5)):
        bits = "".join(format(int(group), "05b") for group in block)
        assert bytes(octets) == int(bits, 2).to_bytes(5, "big")
    strided = np.random.default_rng(7).integers(0, 32, (50, 16)).astype(np.uint8)[:, :8]
    assert (batch._blocks_to_bytes(strided) == batch._blocks_to_bytes(strided.copy())).all()


def test_fields_read_from_the_packed_groups_are_their_bytes_at_every_offset() -> None:
    """``batch._fixed_bytes`` and ``batch._ragged_bytes`` (shifts of the packed buffer) against
    ``bech32.digits_to_bytes`` of the field's own groups, for fields starting at every bit place and of
    every length, random groups around them (the byte after a field is read and must not leak in)."""
    generator = np.random.default_rng(11)
    groups = generator.integers(0, 32, 8 * 400).astype(np.uint8)
    octets = batch._blocks_to_bytes(groups.reshape(-1, 8))
    last_start = len(groups) - 120
    starts = np.concatenate([np.arange(64), generator.integers(0, last_start, 300)]).astype(np.int64)

    def expected(start: int, count: int) -> bytes:
        return bech32.digits_to_bytes(groups[start : start + count].tobytes().translate(_TO_DIGITS).decode())

    for count, size in ((52, 32), (53, 33), (104, 65)):
        read = batch._fixed_bytes(octets, starts, size)
        assert read.shape == (len(starts), size)
        for start, row in zip(starts.tolist(), read):
            assert bytes(row) == expected(start, count)
    lengths = generator.integers(0, 110, len(starts)).astype(np.int64)
    lengths[:12] = np.arange(12)  # no byte, one byte with padding, ...
    data, begins, sizes = batch._ragged_bytes(octets, starts, lengths)
    for start, length, begin, size in zip(starts.tolist(), lengths.tolist(), begins, sizes):
        assert data[begin : begin + size] == expected(start, length)
    assert batch._ragged_bytes(octets, starts[:3], np.array([0, 1, 0])) == (b"", [0, 0, 0], [0, 0, 0])
