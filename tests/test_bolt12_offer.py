"""decode_offer on offers built for one purpose each: every reader rule, pasted forms, refusals.

Offers are written with lnnotebook.bolt12.encode (checked against every valid spec vector in
test_bolt12_encode below) and real secp256k1 keys from coincurve.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from coincurve import PrivateKey

import lnnotebook as ln
from lnnotebook.bolt11.errors import InvoiceError
from lnnotebook.bolt12 import (
    NotAnOfferError,
    OfferFieldError,
    OfferFormatError,
    OfferRuleError,
    OfferStreamError,
)
from lnnotebook.bolt12.encode import blinded_path, encode, offer_records
from lnnotebook.bolt12.offer import CHAIN_NAMES

DATA = Path(__file__).resolve().parent / "data" / "bolt12"
KEYS = [PrivateKey(bytes([number]) * 32).public_key.format() for number in range(1, 6)]
ISSUER = KEYS[0]
NOT_ON_CURVE = b"\x02" + b"\x00" * 32  # x = 0: 0^3 + 7 is not a square mod p
ISSUER_RECORD = b"\x16\x21" + ISSUER
PATH = blinded_path(KEYS[1], KEYS[2], [(KEYS[3], b"\x01" * 12), (KEYS[4], b"")])


def offer(**fields) -> str:
    fields.setdefault("issuer_id", ISSUER)
    return encode(offer_records(**fields))


def test_encoder_reproduces_every_valid_vector():
    for vector in json.loads((DATA / "offers-test.json").read_text(encoding="utf-8")):
        if vector["valid"]:
            records = [(field["type"], bytes.fromhex(field["hex"])) for field in vector["fields"]]
            assert encode(records) == vector["bolt12"]


def test_a_full_offer():
    expiry = int(datetime(2031, 5, 1, tzinfo=timezone.utc).timestamp())
    decoded = ln.decode_offer(
        offer(
            chains=[bytes.fromhex(next(iter(CHAIN_NAMES)))],
            metadata=b"\xab\xcd",
            currency="EUR",
            amount=1250,
            description="Kaffee ☕",
            features=1 << 9,
            absolute_expiry=expiry,
            paths=[PATH],
            issuer="bolt12.example shop",
            quantity_max=10,
        )
    )
    assert decoded.networks == ("bitcoin",) and decoded.metadata == "abcd"
    assert (decoded.currency, decoded.amount, decoded.amount_msat, decoded.amount_sat) == (
        "EUR",
        1250,
        None,
        None,
    )
    assert decoded.description == "Kaffee ☕" and decoded.issuer == "bolt12.example shop"
    assert decoded.feature_bits == (9,) and str(decoded.features[0]) == "unknown_9"
    assert decoded.expires_at == datetime(2031, 5, 1, tzinfo=timezone.utc)
    assert not decoded.is_expired_at(datetime(2031, 4, 30, tzinfo=timezone.utc))
    assert decoded.is_expired_at(datetime(2031, 5, 2, tzinfo=timezone.utc))
    (path,) = decoded.paths
    assert path.introduction_node_id == KEYS[1].hex() and path.introduction == KEYS[1].hex()
    assert path.path_key == KEYS[2].hex() and path.final_node_id == KEYS[4].hex()
    assert [tuple(hop) for hop in path.hops] == [(KEYS[3].hex(), "01" * 12), (KEYS[4].hex(), "")]
    assert decoded.quantity_max == 10 and decoded.issuer_id == ISSUER.hex()
    assert [kind for kind, _ in decoded.records] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]


def test_msat_amount_and_unknown_chain():
    decoded = ln.decode_offer(offer(amount=21_000, description="x", chains=[b"\x07" * 32]))
    assert decoded.amount_msat == 21_000 and decoded.amount_sat == 21.0 and decoded.currency is None
    assert decoded.chains == ("07" * 32,) and decoded.networks == ("unknown",)


def test_offer_id_is_the_merkle_root_and_tracks_every_record():
    base = offer(description="a")
    changed = offer(description="b")
    extra = encode(sorted([*offer_records(description="a", issuer_id=ISSUER), (33, b"")]))
    ids = {ln.decode_offer(text).offer_id for text in (base, changed, extra)}
    assert len(ids) == 3
    assert ln.decode_offer(base.upper()).offer_id == ln.decode_offer(base).offer_id


# --- pasted forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrap",
    [
        lambda text: f"  \n{text}\t ",
        lambda text: text.upper(),
        lambda text: f"lightning:{text}",
        lambda text: f"LIGHTNING:{text.upper()}",
        lambda text: f"bitcoin:?lno={text}",
        lambda text: f"bitcoin:bc1qexample?amount=0.001&lno={quote(text[:20] + '+' + text[20:])}",
        lambda text: f"\ufeff{text}\u200b",
        lambda text: text[:10] + "+\r\n  " + text[10:30] + "+" + text[30:],
    ],
)
def test_pasted_forms(wrap):
    text = offer(description="pasted")
    assert ln.decode_offer(wrap(text)).bolt12 == text


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ("", OfferFormatError, "empty"),
        ("   ", OfferFormatError, "empty"),
        ("lno1qqqq qqqq", OfferFormatError, "whitespace at position 8"),
        ("lno1qq+", OfferFormatError, "'+' at position 6"),
        ("lnoqqqq", OfferFormatError, "no '1' separator"),
        ("lno1qqbq", OfferFormatError, "character 'b' at position 6"),
        ("lni1qqqq", NotAnOfferError, "BOLT 12 invoice (lni...), not an offer"),
        ("LNR1QQQQ", NotAnOfferError, "invoice request (lnr...), not an offer"),
        ("lnbc2500u1pvjluez", NotAnOfferError, "BOLT 11 invoice"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", NotAnOfferError, "prefix 'bc' is not 'lno'"),
        ("bitcoin:bc1qexample?lightning=lnbc1x", OfferFormatError, "no lno= parameter (its lightning="),
    ],
)
def test_refused_text(text, kind, words):
    with pytest.raises(kind, match=words.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        ln.decode_offer(text)


@pytest.mark.parametrize("value", [None, float("nan"), 12, b"lno1", ["lno1"]])
def test_non_strings_raise_an_offer_error(value):
    with pytest.raises(OfferFormatError, match="missing|expected the offer as a string"):
        ln.decode_offer(value)


# --- the TLV stream --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "words"),
    [
        (b"\xfd\x00\x0a\x00" + ISSUER_RECORD, "type at byte 0 (10) is not minimally encoded"),
        (b"\x0a\xfd\x00\x01A" + ISSUER_RECORD, "length of type 10 at byte 1 (1) is not minimally encoded"),
        (b"\x0a\x01A\x0a\x01B" + ISSUER_RECORD, "TLV type 10 at byte 3 is repeated"),
        (ISSUER_RECORD + b"\x0a\x01A", "TLV type 10 at byte 35 is out of order (after type 22)"),
        (b"\x0a\x05AB", "says it has 5 bytes but only 2 remain"),
        (b"\xff\x00", "type at byte 0 is cut off"),
    ],
)
def test_stream_rules(stream, words):
    from lnnotebook.bolt11.bech32 import bytes_to_text as from_bytes

    with pytest.raises(OfferStreamError, match=words.replace("(", r"\(").replace(")", r"\)")):
        ln.decode_offer("lno1" + from_bytes(stream), strict=False)


def test_large_types_in_the_experimental_range():
    odd = encode([*offer_records(issuer_id=ISSUER), (1_999_999_999, b"ok")])
    assert ln.decode_offer(odd).records[-1] == (1_999_999_999, "6f6b")
    for kind, words in [
        (2_000_000_001, "outside the offer ranges"),
        (1_000_000_002, "unknown even TLV type"),
    ]:
        text = encode([*offer_records(issuer_id=ISSUER), (kind, b"")])
        with pytest.raises(OfferRuleError, match=words):
            ln.decode_offer(text)
        assert ln.decode_offer(text, strict=False).records[-1] == (kind, "")
    for kind in (0, 80, 240, 1000, 999_999_999):
        with pytest.raises(OfferRuleError, match="outside the offer ranges"):
            ln.decode_offer(encode(sorted([*offer_records(issuer_id=ISSUER), (kind, b"\x01")])))


# --- field values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "field", "words"),
    [
        ([(8, b"\x00\x05"), (10, b"x")], "offer_amount", "leading zero byte"),
        ([(8, b"\x01" * 9), (10, b"x")], "offer_amount", "9 bytes; a tu64 has at most 8"),
        ([(14, b"\x00\x01")], "offer_absolute_expiry", "leading zero byte"),
        ([(20, b"\x00")], "offer_quantity_max", "leading zero byte"),
        ([(2, b"\x00" * 33)], "offer_chains", "33 bytes"),
    ],
)
def test_malformed_values(records, field, words):
    with pytest.raises(OfferFieldError, match=words) as caught:
        ln.decode_offer(encode([*records, (22, ISSUER)]), strict=False)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (NOT_ON_CURVE, "not on the curve"),
        (b"\x04" + ISSUER[1:], "starting 04"),
        (ISSUER[:32], "32 bytes"),
        (b"", "0 bytes"),
    ],
)
def test_issuer_id_must_be_a_public_key(key, words):
    with pytest.raises(OfferFieldError, match=words) as caught:
        ln.decode_offer(encode([(10, b"x"), (22, key)]), strict=False)
    assert caught.value.field == "offer_issuer_id"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        (
            blinded_path(NOT_ON_CURVE, KEYS[2], [(KEYS[3], b"")]),
            "path 1's introduction node id is not a valid",
        ),
        (blinded_path(KEYS[1], NOT_ON_CURVE, [(KEYS[3], b"")]), "path 1's path key is not a valid"),
        (
            blinded_path(KEYS[1], KEYS[2], [(NOT_ON_CURVE, b"")]),
            "path 1, hop 0's blinded node id is not a valid",
        ),
        (b"\x05" + KEYS[1][1:] + KEYS[2] + b"\x01" + KEYS[3] + b"\x00\x00", "path 1 starts with byte 05"),
        (
            blinded_path(KEYS[1], KEYS[2], [(KEYS[3], b"data")])[:-1],
            "path 1, hop 0's data: 4 bytes needed, 3 remain",
        ),
        (blinded_path(KEYS[1], KEYS[2], [(KEYS[3], b"")])[:-2], "path 1, hop 0: 35 bytes needed, 33 remain"),
        (KEYS[1] + KEYS[2], "path 1's hop count: 1 byte needed, 0 remain"),
        (b"\x01" + b"\x00" * 5, "path 1's short channel id: 9 bytes needed, 6 remain"),
    ],
)
def test_malformed_blinded_paths(path, words):
    """The second path is broken: the error says which path, which part, and how."""
    with pytest.raises(OfferFieldError, match=words) as caught:
        ln.decode_offer(offer(paths=[PATH, path]), strict=False)
    assert caught.value.field == "offer_paths"


def test_short_channel_id_introduction():
    scid = (700_000 << 40) | (1234 << 16) | 1
    path = blinded_path(b"\x01" + scid.to_bytes(8, "big"), KEYS[2], [(KEYS[3], b"")])
    (decoded,) = ln.decode_offer(offer(paths=[path], issuer_id=None)).paths
    assert (decoded.short_channel_id, decoded.direction, decoded.introduction_node_id) == (
        "700000x1234x1",
        1,
        None,
    )
    assert decoded.introduction == "700000x1234x1/1"


# --- reader rules: strict raises, lenient warns --------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (
            {"paths": [PATH, KEYS[1] + KEYS[2] + b"\x00"]},
            "offer_paths",
            "blinded path 1 in offer_paths has no hops",
        ),
        ({"paths": [b""], "issuer_id": None}, "offer_paths", "offer_paths is present but holds no path"),
        ({"chains": []}, "offer_chains", "lists no chain"),
        ({"amount": 5}, "offer_description", "amount but no description"),
        ({"amount": 0, "description": "x"}, "offer_amount", "zero"),
        ({"currency": "USD", "description": "x"}, "offer_currency", "currency but no amount"),
        ({"features": 1 << 10}, "offer_features", "unknown feature bit(s) 10"),
        ({"features": (1 << 10) | (1 << 200) | (1 << 3)}, "offer_features", "bit(s) 10, 200"),
        ({"issuer_id": None, "description": "x"}, "offer_issuer_id", "neither an issuer id"),
    ],
)
def test_reader_rules(fields, field, words):
    text = offer(**fields)
    with pytest.raises(OfferRuleError, match=words.replace("(", r"\(").replace(")", r"\)")) as caught:
        ln.decode_offer(text)
    assert caught.value.field == field
    assert isinstance(caught.value, InvoiceError) and isinstance(caught.value, ValueError)
    lenient = ln.decode_offer(text, strict=False)
    assert any(words.split("(")[0] in warning for warning in lenient.warnings), lenient.warnings


def test_lenient_collects_every_broken_rule():
    text = encode([(6, b"USD"), (8, b""), (12, b"\x04\x00"), (78, b"")])
    decoded = ln.decode_offer(text, strict=False)
    assert len(decoded.warnings) == 5, (
        decoded.warnings
    )  # zero amount, no description, feature, type 78, no id
    assert decoded.amount == 0 and decoded.feature_bits == (10,) and decoded.issuer_id is None


def test_currency_that_is_not_iso_4217_is_kept_with_a_warning():
    decoded = ln.decode_offer(offer(currency="usd!", amount=5, description="x"))
    assert decoded.currency == "usd!" and decoded.amount_msat is None
    assert decoded.warnings == ("offer_currency 'usd!' is not an ISO 4217 three-letter code",)
    assert ln.decode_offer(offer(currency="JPY", amount=5, description="x")).currency_exponent == 0
    assert ln.decode_offer(offer(currency="KWD", amount=5, description="x")).currency_exponent == 3


def test_expiry_beyond_what_datetime_holds():
    decoded = ln.decode_offer(offer(absolute_expiry=2**64 - 1))
    assert decoded.absolute_expiry == 2**64 - 1 and decoded.expires_at is None and not decoded.is_expired
    soon = ln.decode_offer(offer(absolute_expiry=int(datetime.now(timezone.utc).timestamp()) - 5))
    assert soon.is_expired and not soon.is_expired_at(soon.expires_at - timedelta(seconds=1))


def test_offer_is_frozen_and_hashable():
    decoded = ln.decode_offer(offer(paths=[PATH]))
    with pytest.raises(AttributeError):
        decoded.amount = 5  # type: ignore[misc]
    assert hash(decoded) == hash(ln.decode_offer(offer(paths=[PATH])))
