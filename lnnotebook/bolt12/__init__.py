"""BOLT 12 offers: decode ``lno1...`` strings into typed ``Offer`` objects and pandas frames.

    >>> import lnnotebook as ln
    >>> offer = ln.decode_offer("lno1...")
    >>> ln.offers_frame(series_of_offers, errors="coerce")

Modules: ``text`` (pasted strings), bech32 without a checksum (``lnnotebook.bolt11.bech32``), ``tlv`` (the TLV
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
from lnnotebook.bolt12.frames import offer_paths_frame, offers_frame
from lnnotebook.bolt12.offer import (
    BlindedHop,
    BlindedPath,
    Offer,
    OfferFeature,
    decode_offer,
    decode_offers,
)
from lnnotebook.schema import OFFER_COLUMNS, OFFER_PATH_COLUMNS

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
