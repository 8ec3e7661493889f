"""Properties of ``decode`` and ``decode_frame`` under random input (hypothesis).

* Whatever the text, ``decode`` returns an ``Invoice`` or raises an ``InvoiceError``, in every mode.
  Mutations come in two kinds: on the raw text (mostly caught by the checksum), and on the 5-bit groups or
  the prefix under a recomputed checksum, which reach the field parser.
* Case: the whole invoice in upper case decodes identically; mixed case is a ``FormatError``.
* The order of the tagged fields does not change what an invoice decodes to.
* ``decode_frame(errors="coerce")`` keeps every row, in order, with the caller's index.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bech32_reference import CHARSET, bech32_encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lnnotebook as ln
from lnnotebook import FormatError, InvoiceError
from lnnotebook.bolt11 import encode_invoice
from lnnotebook.synthetic import generate_invoices, random_invoice_params

SPEC = json.loads(
    (Path(__file__).resolve().parent / "data" / "spec_vectors.json").read_text(encoding="utf-8")
)
VALID = [vector["invoice"] for vector in SPEC["valid"]] + generate_invoices(40, seed=11)
INVALID = [vector["invoice"] for vector in SPEC["invalid"]]
# Not in the bech32 alphabet; the last ones change length when case-mapped (U+0130 lowers to 2 characters).
OUTSIDE = "bio1BIO -_:?&=/%.\n\t\x00\u00e9\u00df\u20ac\U0001f642\u0130\u212a\ufb00"
MODES = [(verify, strict) for verify in (True, False) for strict in (True, False)]
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(text: object, verify: bool = True, strict: bool = True) -> ln.Invoice | InvoiceError:
    """The decoded invoice or the InvoiceError; any other exception propagates and fails the test."""
    try:
        invoice = ln.decode(text, verify=verify, strict=strict)  # type: ignore[arg-type]
    except InvoiceError as error:
        assert str(error), "an error without a message"
        return error
    assert repr(invoice)
    assert invoice.bolt11 == invoice.bolt11.lower() and invoice.network in ("bc", "tb", "tbs", "bcrt")
    assert len(invoice.payment_hash) == 64 and len(invoice.signature) == 130
    assert not any("; " in warning for warning in invoice.warnings)  # decode_frame joins them with "; "
    return invoice


def check_every_mode(text: object) -> None:
    for verify, strict in MODES:
        outcome(text, verify, strict)


# --- strategies ----------------------------------------------------------------------------------------

JUNK = ["lightning:", "bitcoin:?lightning=", "ln", "lnbc1", "\ufeff", "\u200b"]
WRAPPERS = ["lightning:{}", "bitcoin:x?LIGHTNING={}&a=b", " {}\n", "{}?", "{}1", "lightning://{}"]
characters = st.sampled_from(CHARSET) | st.sampled_from(CHARSET.upper()) | st.sampled_from(OUTSIDE)


@st.composite
def text_mutations(draw) -> str:
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["substitute", "insert", "delete", "truncate", "case", "junk", "wrap"]))
        position = draw(st.integers(0, max(len(text) - 1, 0)))
        if kind == "substitute" and text:
            text = text[:position] + draw(characters) + text[position + 1 :]
        elif kind == "insert":
            text = text[:position] + draw(characters) + text[position:]
        elif kind == "delete":
            text = text[:position] + text[position + 1 :]
        elif kind == "truncate":
            text = text[:position]
        elif kind == "case":
            text = draw(st.sampled_from([str.upper, str.lower, str.swapcase, str.title]))(text)
        elif kind == "junk":
            text = draw(st.text(max_size=12) | st.sampled_from(JUNK)) + text
        else:
            text = draw(st.sampled_from(WRAPPERS)).format(text)
    return text


def split(invoice: str) -> tuple[str, list[int]]:
    hrp, _, data = invoice.lower().rpartition("1")
    return hrp, [CHARSET.index(char) for char in data[:-6]]


@st.composite
def group_mutations(draw) -> str:
    """Changes to the 5-bit groups (field tags, lengths, contents) or the prefix, under a valid checksum."""
    hrp, data = split(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["set", "insert", "delete", "cut", "splice", "prefix"]))
        position = draw(st.integers(0, len(data)))
        group = draw(st.integers(0, 31))
        if kind == "set" and position < len(data):
            data[position] = group
        elif kind == "insert":
            data.insert(position, group)
        elif kind == "delete" and position < len(data):
            del data[position]
        elif kind == "cut":
            data = data[:position]
        elif kind == "splice":  # a field of another invoice in the middle of this one
            _, other = split(draw(st.sampled_from(VALID)))
            start = draw(st.integers(0, len(other)))
            data[position:position] = other[start : start + draw(st.integers(0, 120))]
        else:
            hrp = "ln" + draw(st.sampled_from(["bc", "tb", "tbs", "bcrt", "sb", "b", ""]))
            hrp += draw(st.text(alphabet="0123456789munpx._-", max_size=30))
    return bech32_encode(hrp, data)


# --- decode never raises anything but InvoiceError ----------------------------------------------------


@PROPERTY
@given(text_mutations())
def test_text_mutations_raise_only_invoice_errors(text: str) -> None:
    check_every_mode(text)


@PROPERTY
@given(group_mutations())
def test_mutations_under_a_valid_checksum_raise_only_invoice_errors(text: str) -> None:
    check_every_mode(text)


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet=CHARSET + "1ln", min_size=100, max_size=400).map(lambda s: "lnbc1" + s))
def test_arbitrary_text_raises_only_invoice_errors(text: str) -> None:
    check_every_mode(text)


def test_truncations_of_valid_invoices_raise_only_invoice_errors() -> None:
    for text in VALID[::4]:
        for end in range(len(text)):
            assert isinstance(outcome(text[:end], verify=False, strict=False), InvoiceError)


# --- field order --------------------------------------------------------------------------------------


@PROPERTY
@given(st.integers(0, 2**64), st.permutations("psdhnxcfr9m"), st.booleans())
def test_field_order_does_not_matter(seed: int, order: list[str], verify: bool) -> None:
    params = random_invoice_params(random.Random(seed))
    reference = ln.decode(encode_invoice(**params), verify=verify)
    shuffled = ln.decode(encode_invoice(**params, field_order="".join(order)), verify=verify)
    assert replace(shuffled, bolt11=reference.bolt11, signature=reference.signature) == reference


# --- case -----------------------------------------------------------------------------------------------


@PROPERTY
@given(st.sampled_from(VALID), st.sampled_from([str.upper, str.lower, lambda s: s.upper().lower()]))
def test_whole_string_case_does_not_matter(text: str, change) -> None:
    assert outcome(change(text), strict=False) == outcome(text, strict=False)


@PROPERTY
@given(st.sampled_from(VALID), st.data())
def test_mixed_case_is_a_format_error(text: str, data) -> None:
    letters = [i for i, char in enumerate(text) if char.isalpha()]
    flips = data.draw(st.sets(st.sampled_from(letters), min_size=1, max_size=len(letters) - 1))
    mixed = "".join(char.swapcase() if i in flips else char for i, char in enumerate(text))
    result = outcome(mixed, strict=False)
    assert type(result) is FormatError and "case" in str(result)


# --- decode_frame(errors="coerce") --------------------------------------------------------------------

FIELD_COLUMNS = [
    "bolt11", "network", "amount_msat", "amount_sat", "timestamp", "created_at", "expires_at", "expiry",
    "payment_hash", "payment_secret", "description", "description_hash", "payee", "min_final_cltv_expiry",
    "fallback_addresses", "route_hint_count", "hop_count", "features", "feature_bits", "metadata",
    "signature", "warnings",
]  # fmt: skip

cells = st.one_of(
    st.sampled_from(VALID),
    st.sampled_from(VALID).map(lambda s: f"  {s.upper()}\n"),
    st.sampled_from(VALID).map(lambda s: "lightning:" + s),
    st.sampled_from(INVALID),
    text_mutations(),
    st.text(max_size=20),
    st.none(),
    st.just(float("nan")),
    st.just(pd.NA),
    st.just(np.nan),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.binary(max_size=8),
)


@st.composite
def indexes(draw, size: int) -> pd.Index | None:
    kind = draw(st.sampled_from(["none", "strings", "shuffled ints", "named", "dates"]))
    if kind == "none":
        return None
    if kind == "strings":
        labels = draw(st.lists(st.text(min_size=1, max_size=5), min_size=size, max_size=size, unique=True))
        return pd.Index(labels, dtype="string")
    if kind == "shuffled ints":
        order = draw(st.permutations(range(size)))
        return pd.Index([10 * i - 7 for i in order], dtype="int64")
    if kind == "named":
        return pd.RangeIndex(100, 100 + 3 * size, 3, name="row")
    return pd.date_range("2024-01-01", periods=size, freq="h", tz="UTC", name="when")


def is_missing(value: object) -> bool:
    return (
        value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cells, max_size=25), st.data(), st.booleans(), st.booleans())
def test_decode_frame_coerce_keeps_every_row_in_place(items: list, data, verify: bool, strict: bool) -> None:
    index = data.draw(indexes(len(items)))
    source = items if index is None else pd.Series(items, index=index, dtype=object)
    frame = ln.decode_frame(source, errors="coerce", verify=verify, strict=strict)

    assert len(frame) == len(items)
    expected_index = pd.RangeIndex(len(items)) if index is None else index
    pd.testing.assert_index_equal(frame.index, expected_index, exact=True)
    assert frame.index.name == expected_index.name

    for position, item in enumerate(items):
        row = frame.iloc[position]
        result = outcome(item, verify, strict)
        if isinstance(result, InvoiceError):
            assert row["error_type"] == type(result).__name__ and row["error"] == str(result)
            assert all(is_missing(row[column]) for column in FIELD_COLUMNS), row
        else:
            assert is_missing(row["error"]) and is_missing(row["error_type"])
            assert row["bolt11"] == result.bolt11 and row["payment_hash"] == result.payment_hash
            assert row["timestamp"] == result.timestamp and row["signature"] == result.signature
            if result.amount_msat is None or result.amount_msat >= 2**63:
                assert is_missing(row["amount_msat"])
            else:
                assert row["amount_msat"] == result.amount_msat
            assert row["route_hint_count"] == len(result.route_hints)

    positions: dict[object, list[int]] = {}
    for position, item in enumerate(items):
        if isinstance(item, str):
            positions.setdefault(item, []).append(position)
    for same in positions.values():
        for other in same[1:]:
            assert frame.iloc[other].equals(frame.iloc[same[0]])


@pytest.mark.parametrize("errors", ["raise", "coerce"])
def test_decode_frame_of_duplicates_gives_identical_rows(errors: str) -> None:
    texts = [VALID[1], VALID[5], VALID[1], VALID[1], VALID[5]]
    frame = ln.decode_frame(pd.Series(texts, index=list("abcde")), errors=errors)
    first = frame.loc[["a"] * 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(frame.loc[["a", "c", "d"]].reset_index(drop=True), first)
    assert frame.loc["b"].equals(frame.loc["e"])
