"""Properties of decode_offer and offers_frame under random input (hypothesis).

* mutations and truncations of valid offers never raise anything but ``InvoiceError``, strict or not;
* random TLV streams decode to exactly the records they were written from, or fail with ``InvoiceError``;
* ``offers_frame(errors="coerce")`` keeps every row, in order, with the input's index.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from coincurve import PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lnnotebook as ln
from lnnotebook.bolt11.bech32 import bytes_to_text as from_bytes
from lnnotebook.bolt11.errors import InvoiceError
from lnnotebook.bolt12.encode import blinded_path, encode, offer_records

DATA = Path(__file__).resolve().parent / "data" / "bolt12"
VECTORS = json.loads((DATA / "offers-test.json").read_text(encoding="utf-8"))
KEYS = [PrivateKey(bytes([number]) * 32).public_key.format() for number in range(1, 5)]
BUILT = [
    encode(offer_records(description="tip jar", issuer="example.com", issuer_id=KEYS[0])),
    encode(
        offer_records(
            currency="EUR",
            amount=999,
            description="Abo",
            absolute_expiry=2_000_000_000,
            paths=[blinded_path(KEYS[1], KEYS[2], [(KEYS[3], b"\x05" * 20), (KEYS[0], b"")])],
            quantity_max=0,
        )
    ),
]
VALID = [vector["bolt12"] for vector in VECTORS if vector["valid"]] + BUILT
ANY_TEXT = [vector["bolt12"] for vector in VECTORS] + BUILT
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NASTY = st.sampled_from(list("qpzry9x8gf2tvdw0s3jn54khce6mua7lQPZ1bio+ \n\t\u200b\u00e9\U0001f600:?=&"))


def decode_both(text: object) -> None:
    """Decode strictly and leniently; only InvoiceError may come out (anything else fails the test)."""
    for strict in (True, False):
        try:
            ln.decode_offer(text, strict=strict)  # type: ignore[arg-type]
        except InvoiceError as error:
            assert str(error)  # a message a person can read


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        position = draw(st.integers(0, len(text) - 1))
        kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "swap-case"]))
        if kind == "replace":
            text = text[:position] + draw(NASTY) + text[position + 1 :]
        elif kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 8)) :]
        elif kind == "insert":
            text = text[:position] + draw(st.text(NASTY, min_size=1, max_size=4)) + text[position:]
        elif kind == "truncate":
            text = text[:position]
        else:
            text = text[:position] + text[position:].upper()
    return text


@PROPERTY
@given(mutated())
def test_mutations_raise_only_invoice_errors(text):
    decode_both(text)


@PROPERTY
@given(st.sampled_from(VALID), st.data())
def test_every_truncation_raises_only_invoice_errors(text, data):
    cut = data.draw(st.integers(0, len(text)))
    decode_both(text[:cut])
    decode_both("lightning:" + text[:cut].upper())


@PROPERTY
@given(st.binary(max_size=300))
def test_random_bytes_as_a_stream(stream):
    text = "lno1" + from_bytes(stream)
    try:
        offer = ln.decode_offer(text, strict=False)
    except InvoiceError:
        return
    assert encode((kind, bytes.fromhex(value)) for kind, value in offer.records) == text


TYPES = st.one_of(
    st.sampled_from([0, 1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 33, 78, 80, 240, 253, 65_536]),
    st.integers(0, 2**64 - 1),
)
VALUES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([KEYS[0], b"\x02" + b"\x00" * 32, b"USD", b"\x00", b"\xff" * 8, b"\x00" * 32]),
    st.just(blinded_path(KEYS[1], KEYS[2], [(KEYS[3], b"x")])),
)


@PROPERTY
@given(st.dictionaries(TYPES, VALUES, min_size=1, max_size=8))
def test_structured_streams_keep_their_records(fields):
    records = sorted(fields.items())
    text = encode(records)
    for strict in (True, False):
        try:
            offer = ln.decode_offer(text, strict=strict)
        except InvoiceError:
            continue
        assert offer.records == tuple((kind, value.hex()) for kind, value in records)
        assert offer.bolt12 == text
        if all(240 <= kind <= 1000 for kind, _ in records):
            assert offer.offer_id is None and not strict  # no merkle leaves; strict refuses such types
        else:
            assert len(offer.offer_id) == 64


ROW = st.one_of(
    st.sampled_from(ANY_TEXT), mutated(), st.none(), st.integers(), st.just(float("nan")), st.text(max_size=5)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, max_size=25), st.booleans(), st.booleans())
def test_coerce_never_drops_or_reorders_rows(rows, strict, custom_index):
    series = pd.Series(rows, dtype=object, index=[f"r{n * 7 % 31}-{n}" for n in range(len(rows))])
    source = series if custom_index else rows
    frame = ln.offers_frame(source, errors="coerce", strict=strict)
    assert len(frame) == len(rows)
    expected_index = series.index if custom_index else pd.RangeIndex(len(rows))
    assert frame.index.equals(expected_index)
    for position, text in enumerate(rows):
        row = frame.iloc[position]
        try:
            offer = ln.decode_offer(text, strict=strict)  # type: ignore[arg-type]
        except InvoiceError as error:
            assert row["error"] == str(error) and row["error_type"] == type(error).__name__
            assert pd.isna(row["bolt12"])
            assert pd.isna(row["input"]) if text is None or text != text else row["input"] == str(text)
        else:
            assert row["bolt12"] == offer.bolt12 and row["offer_id"] == offer.offer_id
            assert pd.isna(row["error"]) and pd.isna(row["input"])
    paths = ln.offer_paths_frame(source, errors="coerce", strict=strict)
    failed = int(frame["error"].notna().sum())
    assert int(paths["error"].notna().sum()) == failed
    assert len(paths) == failed + int(frame["hop_count"].fillna(0).sum())
