"""From text as people paste it to (invoice, human-readable part, data part)."""

from __future__ import annotations

from urllib.parse import unquote

from lnnotebook.bolt11.bech32 import DATA_PART
from lnnotebook.bolt11.constants import BECH32_CHARSET, MAX_INVOICE_LENGTH, MAX_URI_OVERHEAD, MIN_DATA_GROUPS
from lnnotebook.bolt11.errors import FormatError, TooLongError, TruncatedError

# Pasted from web pages and chats: byte-order mark, zero-width spaces and joiners, word joiner.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
# Opening quote -> its closing one: straight, typographic (as editors turn them) and code backticks.
_QUOTES = {'"': '"', "'": "'", "`": "`", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb"}


def split(text: object) -> tuple[str, str, str]:
    """Normalise pasted text and split it into (lowercase invoice, hrp, data part)."""
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and text != text) or type(text).__name__ == "NAType":
            raise FormatError("the value is missing (None/NaN/NA) instead of an invoice")
        raise FormatError(f"expected the invoice as a string, got {type(text).__name__}")
    invoice = _unquoted(text.strip().strip(_INVISIBLE).strip())
    head = invoice[:10].lower()
    if head.startswith("bitcoin:"):
        if len(invoice) > MAX_INVOICE_LENGTH + MAX_URI_OVERHEAD:  # before parsing: a huge paste costs nothing
            raise TooLongError(
                f"the bitcoin: URI is {len(invoice)} characters long; an invoice has at most "
                f"{MAX_INVOICE_LENGTH}, and the URI around it at most {MAX_URI_OVERHEAD} more"
            )
        invoice = _lightning_from_bip21(invoice)
    elif head.startswith("lightning:"):
        invoice = invoice[10:].removeprefix("//").strip()
    if not invoice:
        raise FormatError("the invoice is empty")
    if len(invoice) > MAX_INVOICE_LENGTH:
        raise TooLongError(
            f"the invoice is {len(invoice)} characters long; at most {MAX_INVOICE_LENGTH} are accepted"
        )
    if not invoice.isascii():  # before case mapping: U+212A KELVIN SIGN lowers to an ASCII 'k'
        position, bad = next((i, ch) for i, ch in enumerate(invoice) if not ch.isascii())
        raise FormatError(
            f"character {bad!r} (U+{ord(bad):04X}) at position {position} is not ASCII; "
            "an invoice is written in the bech32 alphabet only"
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


def _unquoted(text: str) -> str:
    """Without one pair of quotes around it, as invoices are quoted in chats and code: "lnbc..." """
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def _lightning_from_bip21(uri: str) -> str:
    """The first non-empty ``lightning=`` parameter (any case) of a BIP-21 URI."""
    _, _, query = uri.partition("?")
    found = False
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key.lower() == "lightning":
            found = True
            invoice = unquote(value).strip()
            if invoice:
                return invoice
    if found:
        raise FormatError("the bitcoin: URI's lightning= parameter is empty")
    raise FormatError("the bitcoin: URI has no lightning= parameter")
