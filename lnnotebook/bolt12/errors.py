"""Errors raised when a BOLT 12 offer cannot be decoded.

Every error is an ``OfferError``, itself an ``InvoiceError`` (and so a ``ValueError``): code that catches
``ln.InvoiceError`` around the BOLT 11 decoder catches offers' errors too. ``field`` names the part at
fault in the spec's words (``offer_amount``, ``offer_paths``, ``tlv``, ``bolt12``...).
"""

from __future__ import annotations

from lnnotebook.bolt11.errors import InvoiceError


class OfferError(InvoiceError):
    """The text is not a valid BOLT 12 offer."""


class OfferFormatError(OfferError):
    """Not shaped like a bolt12 string: prefix, separator, characters, mixed case, a misplaced ``+``, or
    bech32 padding."""


class NotAnOfferError(OfferFormatError):
    """A bolt12 invoice (``lni``), invoice request (``lnr``), a BOLT 11 invoice or some other bech32 text:
    only offers (``lno``) are decoded here."""


class OfferStreamError(OfferError):
    """The TLV stream is malformed: cut off, types not strictly increasing, or a length or type that is
    not minimally encoded."""


class OfferFieldError(OfferError):
    """A known field's value is malformed: wrong length, not UTF-8, not a public key, a cut-off blinded
    path."""


class OfferRuleError(OfferError):
    """The offer is well formed but breaks a reader rule (the spec says MUST NOT respond): unknown even
    types or features, types outside the offer ranges, an amount without a description, a currency
    without an amount, a zero amount, no issuer id and no paths, an empty path or chain list.

    ``strict=False`` turns these into warnings."""


__all__ = [
    "NotAnOfferError",
    "OfferError",
    "OfferFieldError",
    "OfferFormatError",
    "OfferRuleError",
    "OfferStreamError",
]
