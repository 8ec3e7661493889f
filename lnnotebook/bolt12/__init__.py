"""BOLT 12 offers: decode ``lno1...`` strings into typed ``Offer`` objects and pandas frames.

    >>> import lnnotebook as ln
    >>> offer = ln.decode_offer("lno1...")
    >>> ln.offers_frame(series_of_offers, errors="coerce")

Modules: ``text`` (pasted strings), ``_bech32`` (characters to bytes, no checksum), ``tlv`` (the TLV
stream), ``merkle`` (the offer id), ``offer`` (readers per TLV type, ``Offer``), ``frames``.
Invoices (``lni``) and invoice requests (``lnr``) are recognised and refused.
"""

from __future__ import annotations

from lnnotebook.bolt12.errors import (
    NotAnOfferError,
    OfferError,
    OfferFieldError,
    OfferFormatError,
    OfferRuleError,
    OfferStreamError,
)
from lnnotebook.bolt12.frames import OFFER_COLUMNS, OFFER_PATH_COLUMNS, offer_paths_frame, offers_frame
from lnnotebook.bolt12.offer import (
    BlindedHop,
    BlindedPath,
    Offer,
    OfferFeature,
    decode_offer,
    decode_offers,
)

__all__ = [
    "OFFER_COLUMNS",
    "OFFER_PATH_COLUMNS",
    "BlindedHop",
    "BlindedPath",
    "NotAnOfferError",
    "Offer",
    "OfferError",
    "OfferFeature",
    "OfferFieldError",
    "OfferFormatError",
    "OfferRuleError",
    "OfferStreamError",
    "decode_offer",
    "decode_offers",
    "offer_paths_frame",
    "offers_frame",
]
