"""Bolt12 strings as people paste them, normalised to ``lno1`` and a bech32 data part.

Accepted, as the spec allows or wallets produce: all lower or all UPPER case; ``+`` followed by optional
whitespace between two bech32 characters (removed); surrounding whitespace and invisible characters
copied from web pages; ``lightning:`` and BIP-21 ``bitcoin:...?lno=...`` URIs. Refused with a message
that says what the text is instead: bolt12 invoices (``lni``) and invoice requests (``lnr``), BOLT 11
invoices, other prefixes.
"""

from __future__ import annotations

import re

from lnnotebook.bolt11.bech32 import CHARSET
from lnnotebook.bolt12.errors import NotAnOfferError, OfferFormatError

OFFER_PREFIX = "lno"

# Pasted from web pages and chats: byte-order mark, zero-width spaces and joiners, word joiner.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
# "+" then optional whitespace, between two bech32 characters (the prefix and the "1" count: "l+no1..." is
# one of the spec's valid examples).
_JOIN = re.compile(r"(?<=[0-9A-Za-z])\+\s*(?=[0-9A-Za-z])")
_WHITESPACE = re.compile(r"\s")
_DATA_PART = re.compile(f"[{CHARSET}]*")
_BOLT11_PREFIX = re.compile(r"ln(bcrt|tbs|bc|tb)[0-9]*[munp]?")

_OTHER_BOLT12 = {
    "lni": "a BOLT 12 invoice (lni...)",
    "lnr": "a BOLT 12 invoice request (lnr...)",
}


def normalise(text: object) -> tuple[str, str]:
    """``(bolt12, data)``: the offer in lower case without joins or URI, and its data part after ``lno1``.

    Raises ``OfferFormatError`` (``NotAnOfferError`` for other kinds of bech32 text) naming the problem.
    """
    offer = _unwrap(_as_text(text))
    if "+" in offer:
        offer = _JOIN.sub("", offer)
        if "+" in offer:
            position = offer.index("+")
            raise OfferFormatError(
                f"the '+' at position {position} is not between two bech32 characters (a '+' may only join "
                "two parts of the offer, optionally followed by whitespace)",
                field="bolt12",
            )
    space = _WHITESPACE.search(offer)
    if space is not None:
        raise OfferFormatError(
            f"whitespace at position {space.start()} inside the offer: parts may only be joined with '+'",
            field="bolt12",
        )
    lowered = offer.lower()
    if lowered != offer and offer.upper() != offer:
        raise OfferFormatError("the offer mixes upper and lower case, which bolt12 forbids", field="bolt12")
    separator = lowered.rfind("1")
    if separator < 0:
        raise OfferFormatError(
            "no '1' separator after the prefix: this is not a bolt12 string (offers start with 'lno1')",
            field="bolt12",
        )
    prefix, data = lowered[:separator], lowered[separator + 1 :]
    if prefix != OFFER_PREFIX:
        _refuse(prefix)
    if not _DATA_PART.fullmatch(data):
        bad = next(char for char in data if char not in CHARSET)
        raise OfferFormatError(
            f"character {bad!r} at position {separator + 1 + data.index(bad)} is not in the bech32 alphabet",
            field="bolt12",
        )
    return lowered, data


def _as_text(text: object) -> str:
    if isinstance(text, str):
        return text
    if text is None or (isinstance(text, float) and text != text) or type(text).__name__ == "NAType":
        raise OfferFormatError("the value is missing (None/NaN/NA) instead of an offer", field="bolt12")
    raise OfferFormatError(f"expected the offer as a string, got {type(text).__name__}", field="bolt12")


def _unwrap(text: str) -> str:
    offer = text.strip().strip(_INVISIBLE).strip()
    head = offer[:10].lower()
    if head.startswith("bitcoin:"):
        offer = _offer_from_bip21(offer)
    elif head.startswith("lightning:"):
        offer = offer[10:].removeprefix("//").strip()
    if not offer:
        raise OfferFormatError("the offer is empty", field="bolt12")
    return offer


def _offer_from_bip21(uri: str) -> str:
    _, _, query = uri.partition("?")
    keys = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        keys.append(key.lower())
        if key.lower() == "lno":
            from urllib.parse import unquote  # not unquote_plus: a '+' in an offer is a join, not a space

            return unquote(value).strip()
    hint = " (its lightning= parameter holds a BOLT 11 invoice: use ln.decode)" if "lightning" in keys else ""
    raise OfferFormatError(f"the bitcoin: URI has no lno= parameter{hint}", field="bolt12")


def _refuse(prefix: str) -> None:
    what = _OTHER_BOLT12.get(prefix)
    if what is not None:
        raise NotAnOfferError(
            f"this is {what}, not an offer: only offers (lno...) are decoded", field="bolt12"
        )
    if _BOLT11_PREFIX.fullmatch(prefix):
        raise NotAnOfferError(
            f"this looks like a BOLT 11 invoice (prefix {prefix[:12]!r}), not a BOLT 12 offer: "
            "decode it with ln.decode",
            field="bolt12",
        )
    shown = prefix if len(prefix) <= 12 else prefix[:12] + "..."
    raise NotAnOfferError(f"the prefix {shown!r} is not 'lno': this is not a BOLT 12 offer", field="bolt12")
