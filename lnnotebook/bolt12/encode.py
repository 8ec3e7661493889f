"""Write bolt12 strings from TLV records: for tests, benchmarks and examples (offers are not signed).

The writer does what it is told, in the order given, so tests can build offers that break every rule;
``offer_records`` builds the records of a well-formed offer from its fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lnnotebook.bolt11.bech32 import bytes_to_text as from_bytes
from lnnotebook.bolt12.tlv import bigsize, tu64, write_stream


def encode(records: Iterable[tuple[int, bytes]], prefix: str = "lno") -> str:
    """The bolt12 string (lower case, no ``+`` joins) of ``(type, value)`` records, written as given."""
    return f"{prefix}1{from_bytes(write_stream(records))}"


def blinded_path(introduction: bytes, path_key: bytes, hops: Sequence[tuple[bytes, bytes]]) -> bytes:
    """A ``blinded_path``: introduction (33-byte key, or direction byte + 8-byte scid), path key, hops
    as ``(blinded_node_id, encrypted_recipient_data)``."""
    body = b"".join(node + len(data).to_bytes(2, "big") + data for node, data in hops)
    return introduction + path_key + bytes([len(hops)]) + body


def offer_records(
    *,
    chains: Sequence[bytes] | None = None,
    metadata: bytes | None = None,
    currency: str | None = None,
    amount: int | None = None,
    description: str | None = None,
    features: int | None = None,
    absolute_expiry: int | None = None,
    paths: Sequence[bytes] | None = None,
    issuer: str | None = None,
    quantity_max: int | None = None,
    issuer_id: bytes | None = None,
    extra: Iterable[tuple[int, bytes]] = (),
) -> list[tuple[int, bytes]]:
    """The records of an offer with these fields (None leaves a field out), sorted by type."""
    fields = {
        2: None if chains is None else b"".join(chains),
        4: metadata,
        6: None if currency is None else currency.encode("utf-8"),
        8: None if amount is None else tu64(amount),
        10: None if description is None else description.encode("utf-8"),
        12: None if features is None else tu64(features),
        14: None if absolute_expiry is None else tu64(absolute_expiry),
        16: None if paths is None else b"".join(paths),
        18: None if issuer is None else issuer.encode("utf-8"),
        20: None if quantity_max is None else tu64(quantity_max),
        22: issuer_id,
    }
    records = [(kind, value) for kind, value in fields.items() if value is not None]
    return sorted([*records, *extra])


__all__ = ["bigsize", "blinded_path", "encode", "offer_records"]
