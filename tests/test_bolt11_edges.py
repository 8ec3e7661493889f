"""Decoder edge cases: ASCII only, quotes, BIP-21 URIs (length limit first, first non-empty parameter),
and caches that stay bounded when every invoice is different and large."""

from __future__ import annotations

import gc
import hashlib
import re
import sys

import pytest

import lnnotebook as ln
from lnnotebook import FormatError, InvoiceError, TooLongError
from lnnotebook.bolt11 import MAX_INVOICE_LENGTH, Raw, encode_fields, encode_invoice
from lnnotebook.bolt11.constants import MAX_URI_OVERHEAD

KEY = hashlib.sha256(b"lnnotebook edge-case tests").hexdigest()
INVOICE = encode_invoice(
    private_key=KEY,
    payment_hash="ab" * 32,
    payment_secret="cd" * 32,
    description="edge",
    timestamp=1_700_000_000,
)
assert "k" in INVOICE.partition("1")[2], "the tests below replace a 'k' of the data part"


# --- ASCII only ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "character"),
    [
        (INVOICE.replace("k", "\u212a", 1), "U+212A"),  # KELVIN SIGN: lowercases to ASCII 'k'
        (INVOICE.upper().replace("K", "\u212a", 1), "U+212A"),  # all upper case but for it: not mixed case
        (INVOICE.upper().replace("S", "\u017f", 1), "U+017F"),  # LATIN SMALL LONG S: uppercases to 'S'
        (INVOICE.replace("l", "\u0130", 1), "U+0130"),  # lowercases to two characters
    ],
)
def test_only_ascii_invoices_are_accepted(text: str, character: str) -> None:
    if character != "U+0130":  # case mapping alone would turn these into the valid invoice
        assert INVOICE in (text.lower(), text.upper().lower())
    for strict in (True, False):
        with pytest.raises(FormatError, match=re.escape(character) + ".* is not ASCII"):
            ln.decode(text, strict=strict)


def test_the_non_ascii_error_names_the_position() -> None:
    position = INVOICE.index("k")
    with pytest.raises(FormatError, match=f"at position {position} "):
        ln.decode(INVOICE.replace("k", "\u212a", 1))


# --- quotes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        '"{}"',
        "'{}'",
        "`{}`",
        "\u201c{}\u201d",
        "\u2018{}\u2019",
        ' "{}"\n',
        '" {} "',
        '"lightning:{}"',
    ],
)
def test_an_invoice_in_quotes_is_accepted(form: str) -> None:
    assert ln.decode(form.format(INVOICE)) == ln.decode(INVOICE)
    assert ln.decode(form.format(INVOICE.upper())) == ln.decode(INVOICE)


@pytest.mark.parametrize("form", ['"{}', "{}'", "\"{}'", '""{}""'])
def test_unbalanced_or_doubled_quotes_are_not_stripped(form: str) -> None:
    with pytest.raises(InvoiceError):
        ln.decode(form.format(INVOICE))


# --- BIP-21 URIs ---------------------------------------------------------------------------------------


def test_the_first_non_empty_lightning_parameter_is_taken() -> None:
    expected = ln.decode(INVOICE)
    assert ln.decode(f"bitcoin:?lightning=&LIGHTNING={INVOICE}") == expected
    assert ln.decode(f"bitcoin:bc1q?lightning=%20&amount=1&Lightning={INVOICE.upper()}") == expected
    assert ln.decode(f"bitcoin:?lightning={INVOICE}&lightning=lnbc1bogus") == expected  # the first wins


@pytest.mark.parametrize(
    "uri", ["bitcoin:?lightning=", "bitcoin:?lightning=&LIGHTNING=", "BITCOIN:x?lightning= "]
)
def test_only_empty_lightning_parameters_is_a_format_error(uri: str) -> None:
    with pytest.raises(FormatError, match="lightning= parameter is empty"):
        ln.decode(uri)


def test_the_length_limit_applies_before_a_uri_is_parsed() -> None:
    limit = MAX_INVOICE_LENGTH + MAX_URI_OVERHEAD
    label = "&label=" + "x" * (limit - len(f"bitcoin:?lightning={INVOICE}&label="))
    fits = f"bitcoin:?lightning={INVOICE}{label}"
    assert len(fits) == limit and ln.decode(fits) == ln.decode(INVOICE)
    with pytest.raises(TooLongError, match=f"the bitcoin: URI is {limit + 1} characters long"):
        ln.decode(fits + "x")  # the invoice inside is fine: the paste as a whole is too long
    with pytest.raises(TooLongError, match="the bitcoin: URI is"):
        ln.decode("bitcoin:?" + "a=b&" * 2_000_000 + f"lightning={INVOICE}")


# --- bounded caches --------------------------------------------------------------------------------------


def test_caches_stay_small_for_many_distinct_huge_feature_vectors() -> None:
    """1,100 invoices, each with a different 1023-group '9' field (2556 odd feature bits): once decoded and
    dropped, they leave (almost) nothing behind. The old feature cache kept 1024 of them: ~538 MB."""
    all_odd = sum(1 << bit for bit in range(1, 5114, 2))
    invoices = []
    for index in range(1100):
        vector = all_odd ^ (1 << (2 * index + 1))  # distinct, still 1023 groups (the top bit stays set)
        groups = tuple((vector >> shift) & 31 for shift in range(5110, -1, -5))
        fields = [("p", "00" * 32), ("s", "11" * 32), ("d", "x"), ("9", Raw(groups))]
        invoices.append(encode_fields(fields, private_key=KEY, timestamp=1))
    assert len(set(invoices)) == 1100 and len(ln.decode(invoices[0]).features) == 2556

    gc.collect()
    before = sys.getallocatedblocks()  # cheap to read, unlike tracemalloc over millions of objects
    for invoice in invoices:
        ln.decode(invoice)
    ln.decode_frame(invoices[:100])
    gc.collect()
    retained = sys.getallocatedblocks() - before
    # Each decode makes 2556 Feature tuples: keeping them for even 1% of the invoices would be ~28,000.
    assert retained < 20_000, f"{retained} memory blocks retained after decoding"
