"""From text as people paste it to (invoice, human-readable part, data part)."""

from __future__ import annotations

from urllib.parse import unquote

from lnnotebook.bolt11.bech32 import DATA_PART
from lnnotebook.bolt11.constants import BECH32_CHARSET, MAX_INVOICE_LENGTH, MIN_DATA_GROUPS
from lnnotebook.bolt11.errors import FormatError, TooLongError, TruncatedError

# Pasted from web pages and chats: byte-order mark, zero-width spaces and joiners, word joiner.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def split(text: object) -> tuple[str, str, str]:
    """Normalise pasted text and split it into (lowercase invoice, hrp, data part)."""
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and text != text) or type(text).__name__ == "NAType":
            raise FormatError("the value is missing (None/NaN/NA) instead of an invoice")
        raise FormatError(f"expected the invoice as a string, got {type(text).__name__}")
    invoice = text.strip().strip(_INVISIBLE).strip()
    head = invoice[:10].lower()
    if head.startswith("bitcoin:"):
        invoice = _lightning_from_bip21(invoice)
    elif head.startswith("lightning:"):
        invoice = invoice[10:].removeprefix("//").strip()
    if not invoice:
        raise FormatError("the invoice is empty")
    if len(invoice) > MAX_INVOICE_LENGTH:
        raise TooLongError(
            f"the invoice is {len(invoice)} characters long; at most {MAX_INVOICE_LENGTH} are accepted"
        )
    lowered = invoice.lower()
    if lowered != invoice and invoice.upper() != invoice:
        raise FormatError("the invoice mixes upper and lower case, which bech32 forbids")
    separator = lowered.rfind("1")
    if separator < 0:
        raise FormatError("no '1' separator between the prefix and the data: this is not a bech32 invoice")
    hrp, data = lowered[:separator], lowered[separator + 1 :]
    if not hrp:
        raise FormatError("nothing before the '1' separator: the 'ln...' prefix is missing")
    if not (hrp.isascii() and hrp.isprintable()) or " " in hrp:
        raise FormatError(f"the prefix {hrp[:20]!r} contains characters bech32 does not allow")
    if not DATA_PART.fullmatch(data):
        bad = next(ch for ch in data if ch not in BECH32_CHARSET)
        raise FormatError(
            f"character {bad!r} at position {separator + 1 + data.index(bad)} is not in the bech32 alphabet"
        )
    if len(data) < MIN_DATA_GROUPS:
        raise TruncatedError(
            f"the data part is {len(data)} characters; at least {MIN_DATA_GROUPS} are needed for the "
            "timestamp, signature and checksum (the invoice may be cut off)"
        )
    return lowered, hrp, data


def _lightning_from_bip21(uri: str) -> str:
    _, _, query = uri.partition("?")
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key.lower() == "lightning":
            return unquote(value).strip()
    raise FormatError("the bitcoin: URI has no lightning= parameter")
