"""The BOLT 12 merkle root of a TLV stream ("Signature Calculation" in the spec).

Leaves, in TLV order, for every record outside the signature range 240-1000: ``H("LnLeaf", tlv)`` paired
with ``H("LnNonce" || first-tlv, type)``; inner nodes ``H("LnBranch", lesser || greater)``; with an odd
count the last node of a level moves up unpaired, so the deepest part of the tree is on the first
leaves. ``H(tag, msg)`` is BIP-340's tagged hash ``SHA256(SHA256(tag) || SHA256(tag) || msg)``.

An offer has no signature; its ``offer_id`` is this root over all of its records, the value that
invoice requests and invoices for it repeat in their own trees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from lnnotebook.bolt12.tlv import Record

SIGNATURE_TYPES = range(240, 1001)


def _tagged(tag: bytes) -> hashlib._Hash:
    """A SHA256 state that has absorbed ``SHA256(tag) || SHA256(tag)``: copy it, then add the message."""
    tag_hash = hashlib.sha256(tag).digest()
    return hashlib.sha256(tag_hash + tag_hash)


_LEAF = _tagged(b"LnLeaf")
_BRANCH = _tagged(b"LnBranch")


def tagged_hash(tag: bytes, message: bytes) -> bytes:
    """BIP-340's ``H(tag, message)``."""
    state = _tagged(tag)
    state.update(message)
    return state.digest()


def _branch(left: bytes, right: bytes) -> bytes:
    state = _BRANCH.copy()
    state.update(left + right if left < right else right + left)
    return state.digest()


def merkle_root(records: Sequence[Record]) -> bytes:
    """The merkle root of ``records`` (a stream's records in order, as ``tlv.read_stream`` gives them)."""
    leaves = [record for record in records if record.type not in SIGNATURE_TYPES]
    if not leaves:
        raise ValueError("a merkle tree needs at least one non-signature TLV record")
    nonce_tag = _tagged(b"LnNonce" + leaves[0].encoded)
    level = []
    for record in leaves:
        leaf = _LEAF.copy()
        leaf.update(record.encoded)
        nonce = nonce_tag.copy()
        nonce.update(record.encoded[: record.type_size])
        level.append(_branch(leaf.digest(), nonce.digest()))
    while len(level) > 1:
        paired = [_branch(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
