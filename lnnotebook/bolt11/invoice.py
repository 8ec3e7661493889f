"""What a decoded invoice is: ``Invoice``, its route-hint ``Hop`` and ``Feature`` bits, and the row layout
``decode_rows`` returns. Pure data: rich display is plugged in from outside (``set_html_renderer``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple


class Hop(NamedTuple):
    """One hop of a route hint: the channel from ``pubkey`` towards the payee."""

    pubkey: str
    short_channel_id: str  # BLOCKxTXxOUT
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int


class Feature(NamedTuple):
    """A set feature bit; ``name`` is the BOLT 9 name, or None for an unassigned bit."""

    bit: int
    name: str | None

    @property
    def required(self) -> bool:
        return self.bit % 2 == 0

    def __str__(self) -> str:
        return self.name or f"unknown_{self.bit}"


def feature_names(features: Iterable[Feature]) -> str:
    """Comma-separated names, ``unknown_<bit>`` for unassigned bits."""
    return ",".join(map(str, features))


# The function Jupyter's rich display of an Invoice calls; lnnotebook installs one that renders with
# lnnotebook.display. The decoder never imports display code itself.
_html_renderer: Callable[[Invoice], str] | None = None


def set_html_renderer(renderer: Callable[[Invoice], str] | None) -> None:
    """Install the function ``Invoice._repr_html_`` calls (None: no HTML, Jupyter then shows the repr)."""
    global _html_renderer
    _html_renderer = renderer


@dataclass(frozen=True, slots=True)
class Invoice:
    """A decoded BOLT11 invoice. Hashes, keys and metadata are lowercase hex."""

    bolt11: str  # normalised: lowercase, without URI prefixes
    network: str  # bc, tb, tbs, bcrt
    amount_msat: int | None  # None for an amountless invoice
    timestamp: int
    created_at: datetime | None  # tz-aware UTC; None only where Python cannot represent it
    expires_at: datetime | None
    expiry: int  # effective, in seconds (default 3600)
    payment_hash: str
    payment_secret: str | None
    description: str | None
    description_hash: str | None
    payee: str | None  # from n, or recovered from the signature; None with verify=False and no n
    min_final_cltv_expiry: int  # effective (default 18)
    fallback_addresses: tuple[str, ...]
    route_hints: tuple[tuple[Hop, ...], ...]
    features: tuple[Feature, ...]
    metadata: str | None
    signature: str  # 65 bytes: r || s || recovery id
    warnings: tuple[str, ...] = ()

    @property
    def amount_sat(self) -> float | None:
        return None if self.amount_msat is None else self.amount_msat / 1000

    @property
    def feature_bits(self) -> tuple[int, ...]:
        return tuple(feature.bit for feature in self.features)

    @property
    def is_expired(self) -> bool:
        """Whether the invoice has expired by the clock now (``is_expired_at`` for another time)."""
        return self.is_expired_at()

    def is_expired_at(self, now: datetime | None = None) -> bool:
        """Whether the invoice has expired at ``now`` (default: the clock); never, beyond year 9999."""
        if self.expires_at is None:
            return False
        return (now or datetime.now(timezone.utc)) >= self.expires_at

    def _repr_html_(self) -> str | None:
        """Jupyter's rich display: key fields, time left, a QR code (installed by ``set_html_renderer``)."""
        renderer = _html_renderer
        return None if renderer is None else renderer(self)

    @classmethod
    def _from_row(cls, row: tuple) -> Invoice:
        timestamp, expiry = row[_TIMESTAMP_INDEX], row[_EXPIRY_INDEX]
        created_at = _utc_datetime(timestamp)
        expires_at = _utc_datetime(timestamp + expiry)
        fields = (*row[: _TIMESTAMP_INDEX + 1], created_at, expires_at, *row[_TIMESTAMP_INDEX + 1 :])
        return cls(*fields)  # a row is the fields in order (ROW_FIELDS)


# A decoded row is the Invoice's fields without the two datetimes (frames derive those vectorised).
ROW_FIELDS = tuple(name for name in Invoice.__dataclass_fields__ if name not in ("created_at", "expires_at"))
_TIMESTAMP_INDEX = ROW_FIELDS.index("timestamp")
_EXPIRY_INDEX = ROW_FIELDS.index("expiry")


def _utc_datetime(seconds: int) -> datetime | None:
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    except OverflowError:
        return None
