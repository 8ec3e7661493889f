"""The TLV stream of BOLT 1 (type, length, value; BigSize numbers), read and written.

Reading enforces the stream rules every reader MUST apply: a type or length that is not minimally
encoded, a value cut off by the end of the data, types that are not strictly increasing (out of order
or repeated). What the types mean is ``offer.py``'s business.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from lnnotebook.bolt12.errors import OfferStreamError

_BIGSIZE_WIDTH = {0xFD: 2, 0xFE: 4, 0xFF: 8}
_BIGSIZE_MINIMUM = {0xFD: 0xFD, 0xFE: 0x1_0000, 0xFF: 0x1_0000_0000}


class Record(NamedTuple):
    """One TLV record: its type, its value, and its whole encoding (what the merkle leaves hash)."""

    type: int
    value: bytes
    encoded: bytes  # type || length || value, exactly as in the stream
    type_size: int  # bytes of the BigSize type at the start of ``encoded``


def read_bigsize(data: bytes, position: int, what: str) -> tuple[int, int]:
    """The BigSize number at ``position`` and the position after it."""
    if position >= len(data):
        raise OfferStreamError(f"the data ends where a {what} should start (byte {position})", field="tlv")
    first = data[position]
    width = _BIGSIZE_WIDTH.get(first)
    if width is None:
        return first, position + 1
    end = position + 1 + width
    if end > len(data):
        raise OfferStreamError(
            f"the {what} at byte {position} is cut off: it needs {width} more bytes, "
            f"{len(data) - position - 1} remain",
            field="tlv",
        )
    value = int.from_bytes(data[position + 1 : end], "big")
    if value < _BIGSIZE_MINIMUM[first]:
        raise OfferStreamError(
            f"the {what} at byte {position} ({value}) is not minimally encoded", field="tlv"
        )
    return value, end


def read_stream(data: bytes) -> list[Record]:
    """The records of a TLV stream, in order. Raises ``OfferStreamError`` when the stream is malformed."""
    records: list[Record] = []
    position = 0
    previous = -1
    size = len(data)
    while position < size:
        start = position
        if data[position] < 0xFD and position + 1 < size and data[position + 1] < 0xFD:
            kind, length = data[position], data[position + 1]  # the common case: one byte each
            type_end, position = position + 1, position + 2
        else:
            kind, type_end = read_bigsize(data, position, "type")
            length, position = read_bigsize(data, type_end, f"length of type {kind}")
        if kind <= previous:
            order = "repeated" if kind == previous else f"out of order (after type {previous})"
            raise OfferStreamError(f"TLV type {kind} at byte {start} is {order}", field="tlv")
        end = position + length
        if end > size:
            raise OfferStreamError(
                f"TLV type {kind} says it has {length} bytes but only {size - position} remain "
                "(the offer may be cut off)",
                field="tlv",
            )
        records.append(Record(kind, data[position:end], data[start:end], type_end - start))
        previous = kind
        position = end
    return records


def bigsize(value: int) -> bytes:
    """The minimal BigSize encoding of ``value``."""
    if value < 0xFD:
        return bytes([value])
    if value < 0x1_0000:
        return b"\xfd" + value.to_bytes(2, "big")
    if value < 0x1_0000_0000:
        return b"\xfe" + value.to_bytes(4, "big")
    return b"\xff" + value.to_bytes(8, "big")


def tu64(value: int) -> bytes:
    """A truncated u64: big-endian without leading zero bytes (zero is empty)."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def write_stream(records: Iterable[tuple[int, bytes]]) -> bytes:
    """The TLV stream of ``(type, value)`` pairs, written as given (the caller keeps them in order)."""
    return b"".join(bigsize(kind) + bigsize(len(value)) + value for kind, value in records)
