"""Signing real invoices for an emulator: its node key, LSP peers and route hints, all from the seed.

The same seed gives the same node and peers (so tests can compare payees); payment hashes, secrets and
preimages are always fresh random bytes.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey

# Node keys of every emulator made in this process: an invoice they sign is a sandbox invoice, and its card
# says so (``lnnotebook.display``), whatever network its prefix names.
_SANDBOX_NODES: set[str] = set()


def is_sandbox_node(pubkey: str | None) -> bool:
    """Whether ``pubkey`` is the node key of an emulator made in this process."""
    return pubkey is not None and pubkey in _SANDBOX_NODES


@dataclass(frozen=True)
class Signed:
    """A freshly signed invoice and the secrets behind it."""

    bolt11: str
    payment_hash: str
    preimage: str
    timestamp: int


class Mint:
    """One emulator's signing node; ``sign`` makes a real BOLT11 invoice (``encode_invoice``)."""

    def __init__(self, seed: str, name: str, *, network: str, block_height: int) -> None:
        self.network = network
        self.block_height = block_height  # for realistic short channel ids in route hints
        self._rng = random.Random(f"{seed}:{name}:rng")
        self._rng_lock = threading.Lock()
        self.node_key = hashlib.sha256(f"{seed}:{name}:node".encode()).hexdigest()
        self.node_pubkey = PrivateKey(bytes.fromhex(self.node_key)).public_key.format().hex()
        _SANDBOX_NODES.add(self.node_pubkey)
        self._lsp_pubkeys = [
            PrivateKey(hashlib.sha256(f"{seed}:{name}:peer{i}".encode()).digest()).public_key.format().hex()
            for i in range(3)
        ]

    def random_token(self, nbytes: int = 16) -> bytes:
        """Seeded random bytes (ids, references): reproducible for one seed."""
        with self._rng_lock:
            return self._rng.randbytes(nbytes)

    def sign(
        self,
        *,
        amount_msat: int | None,
        description: str | None,
        description_hash: str | None,
        expiry: int | None,
        min_final_cltv_expiry: int | None,
    ) -> Signed:
        from lnnotebook.bolt11 import encode_invoice  # late: the encoder is only needed when minting

        preimage = os.urandom(32)
        payment_hash = hashlib.sha256(preimage).hexdigest()
        timestamp = int(time.time())
        bolt11 = encode_invoice(
            private_key=self.node_key,
            payment_hash=payment_hash,
            payment_secret=os.urandom(32).hex(),
            network=self.network,
            amount_msat=amount_msat,
            timestamp=timestamp,
            description=description,
            description_hash=description_hash,
            expiry=expiry,
            min_final_cltv_expiry=min_final_cltv_expiry,
            route_hints=self.route_hints(),
        )
        return Signed(bolt11, payment_hash, preimage.hex(), timestamp)

    def route_hints(self) -> list[list[dict[str, Any]]]:
        """One or two private-channel hints from an LSP peer, as wallets behind LSPs produce."""
        with self._rng_lock:
            rng = self._rng
            routes = []
            for index in range(rng.choice((1, 1, 2))):
                block = self.block_height - rng.randrange(1, 50_000)
                hop = {
                    "pubkey": self._lsp_pubkeys[index],
                    "short_channel_id": f"{block}x{rng.randrange(1, 3000)}x{rng.randrange(0, 4)}",
                    "fee_base_msat": rng.choice((0, 1000)),
                    "fee_proportional_millionths": rng.choice((1, 100, 500, 2500)),
                    "cltv_expiry_delta": rng.choice((40, 80, 144)),
                }
                routes.append([hop])
        return routes


__all__ = ["Mint", "Signed"]
