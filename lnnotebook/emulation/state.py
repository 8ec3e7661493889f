"""What an emulator remembers: its receive-fee schedule and the invoices it minted.

``MintedInvoice`` holds what every provider's invoice has. A provider whose API shows more (a receive
state, metadata, a memo that differs from the description) subclasses it with typed fields and names the
subclass in its emulator's ``invoice_class``; ``Emulator.mint(..., **fields)`` fills them in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class FeeSchedule:
    """Receive fee: ``base_msat + amount_msat * proportional_millionths / 1e6`` (rounded down)."""

    base_msat: int = 0
    proportional_millionths: int = 0

    def fee_msat(self, amount_msat: int) -> int:
        return self.base_msat + amount_msat * self.proportional_millionths // 1_000_000


@dataclass
class MintedInvoice:
    """An invoice an emulator minted, with the fields every provider's API reports."""

    provider_id: str
    bolt11: str
    payment_hash: str
    preimage: str
    amount_sat: int | None
    description: str | None
    description_hash: str | None
    expiry: int  # effective seconds
    created_at: int  # unix seconds (the invoice timestamp)
    fee_msat: int
    owner: str = ""  # which credential created it
    paid_at: int | None = None

    @property
    def expires_at(self) -> int:
        return self.created_at + self.expiry

    def state(self, now: float | None = None) -> str:
        """``paid``, ``expired`` or ``pending``."""
        if self.paid_at is not None:
            return "paid"
        return "expired" if (time.time() if now is None else now) >= self.expires_at else "pending"


def now_iso(seconds: float | None = None) -> str:
    """ISO 8601 UTC with a ``Z``, to the second (``seconds`` since the epoch; default now)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if seconds is None else seconds))


__all__ = ["FeeSchedule", "MintedInvoice", "now_iso"]
