"""Our own encoder (lnnotebook.bolt11.encoder) against the spec's examples and across generated invoices.

* Each valid example: its fields, re-encoded in the example's own order with ``encode_data``, give exactly the
  example's signed data (hrp + data part before the signature); signing that with the spec's key gives an
  invoice that decodes to the example's fields. The fields are taken apart with the independent BIP-173
  reader of ``bech32_reference``, and encoded from the *expected values* of spec_vectors.json, not from the
  groups, except for the fields valid[13] contains to be skipped (unknown tag 2, fallback version 19, wrong
  lengths), which are written as ``Raw`` groups because no well-formed value describes them.
* Strict-rule exceptions, as README documents: valid[13] ("fields which must be ignored") is rejected by
  ``strict=True`` since bolts #1243 and decoded with ``strict=False`` (with a warning per skipped field);
  valid[15] (high-S) cannot be reproduced by a low-S signer: our signature is (r, n - s) of the original and
  recovers the spec key, while the original recovers 02d0139c... with its transmitted recovery id.
* ``decode(encode(fields)) == fields`` over 3000 synthetic invoices and hypothesis-generated ones.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from bech32_reference import CHARSET, bech32_decode
from coincurve import PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lnnotebook as ln
from lnnotebook.bolt11 import (
    DEFAULT_FIELD_ORDER,
    FEATURE_NAMES,
    FieldLengthError,
    Raw,
    encode_data,
    encode_fields,
    encode_invoice,
    invoice_hrp,
    sign_invoice,
)
from lnnotebook.synthetic import random_fallback_address

SPEC = json.loads((Path(__file__).parent / "data" / "spec_vectors.json").read_text(encoding="utf-8"))
SPEC_KEY = SPEC["_meta"]["signing_private_key"]
SPEC_PUBKEY = SPEC["_meta"]["signing_public_key"]
assert SPEC_KEY == "e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
FIELDS_TO_IGNORE = 13  # valid under the old reader rules only (bolts #1243, #1358)
HIGH_S = 15
FIXED_GROUPS = {"p": 52, "s": 52, "h": 52, "n": 53}
SIGNATURE_AND_CHECKSUM = 104 + 6


def spec_fields(invoice: str, expected: dict[str, Any]) -> list[tuple[str, Any]]:
    """The example's fields in order: (tag, value from ``expected``), or Raw groups for what is skipped."""
    _, groups = bech32_decode(invoice)
    assert groups is not None, "the spec example's checksum must hold"
    data = groups[7:-104]
    fallbacks = iter(expected["fallback_addresses"])
    routes = iter(expected["route_hints"])
    values = {
        "p": expected["payment_hash"],
        "s": expected["payment_secret"],
        "d": expected["description"],
        "h": expected["description_hash"],
        "n": expected["payee_pubkey"],
        "x": expected["expiry_seconds_explicit"],
        "c": expected["min_final_cltv_expiry_explicit"],
        "9": expected["feature_bits_set"],
        "m": expected["payment_metadata"],
    }
    fields = []
    position = 0
    while position < len(data):
        tag = CHARSET[data[position]]
        length = data[position + 1] * 32 + data[position + 2]
        raw = data[position + 3 : position + 3 + length]
        position += 3 + length
        if tag not in DEFAULT_FIELD_ORDER or length != FIXED_GROUPS.get(tag, length):
            fields.append((tag, Raw(tuple(raw))))  # unknown tag, or a wrong length the reader must skip
        elif tag == "f":
            fields.append((tag, next(fallbacks) if raw[0] <= 18 else Raw(tuple(raw))))
        elif tag == "r":
            fields.append((tag, next(routes)))
        else:
            fields.append((tag, values[tag]))
    assert next(fallbacks, None) is None and next(routes, None) is None, "every expected value was placed"
    return fields


def assert_decodes_to_expected(invoice: ln.Invoice, expected: dict[str, Any]) -> None:
    assert invoice.network == expected["currency_prefix"]
    assert invoice.amount_msat == expected["amount_msat"]
    assert invoice.timestamp == expected["timestamp"]
    assert invoice.payment_hash == expected["payment_hash"]
    assert invoice.payment_secret == expected["payment_secret"]
    assert invoice.description == expected["description"]
    assert invoice.description_hash == expected["description_hash"]
    assert invoice.expiry == expected["expiry_seconds_effective"]
    assert invoice.min_final_cltv_expiry == expected["min_final_cltv_expiry_effective"]
    assert list(invoice.fallback_addresses) == expected["fallback_addresses"]
    assert [[hop._asdict() for hop in route] for route in invoice.route_hints] == expected["route_hints"]
    assert sorted(invoice.feature_bits) == sorted(expected["feature_bits_set"])
    assert invoice.metadata == expected["payment_metadata"]


@pytest.mark.parametrize("index", range(len(SPEC["valid"])))
def test_spec_example_fields_reencode_to_its_signed_data_and_sign_to_an_equal_invoice(index: int) -> None:
    vector = SPEC["valid"][index]
    expected = vector["expected"]
    original = vector["invoice"].lower()  # valid[12] is valid[11] in upper case
    hrp = invoice_hrp(expected["currency_prefix"], expected["amount_msat"])
    data = encode_data(expected["timestamp"], spec_fields(original, expected), expected["currency_prefix"])
    assert hrp + "1" + "".join(CHARSET[group] for group in data) == original[:-SIGNATURE_AND_CHECKSUM]
    assert hashlib.sha256(hrp.encode() + bytes_of(data)).hexdigest() == expected["signing_hash_sha256"]

    signed = sign_invoice(hrp, data, SPEC_KEY)
    if index == HIGH_S:
        ours, theirs = signature_of(signed), signature_of(original)
        assert ours[:32] == theirs[:32]
        assert int.from_bytes(ours[32:64], "big") == CURVE_ORDER - int.from_bytes(theirs[32:64], "big")
        assert ln.decode(original).payee == expected["payee_pubkey"] != SPEC_PUBKEY
    else:
        assert signed == original  # RFC6979: the very same signature
    if index == FIELDS_TO_IGNORE:
        with pytest.raises(FieldLengthError, match="field 'p' has 51 groups instead of 52"):
            ln.decode(signed)
        decoded = ln.decode(signed, strict=False)
        skipped = [warning for warning in decoded.warnings if warning.endswith("(skipped)")]
        assert len(skipped) == len(expected["fields_to_skip"]["ignored"]) - 1  # the v19 fallback: silently
    else:
        decoded = ln.decode(signed)
        assert decoded.warnings == ()
    assert_decodes_to_expected(decoded, expected)
    assert decoded.payee == SPEC_PUBKEY


def bytes_of(groups: list[int]) -> bytes:
    bits = "".join(format(group, "05b") for group in groups)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def signature_of(invoice: str) -> bytes:
    _, groups = bech32_decode(invoice)
    assert groups is not None
    return bytes_of(groups[-104:])[:65]


def test_encode_fields_writes_exactly_the_fields_given() -> None:
    fields = [("d", "coffee"), ("p", "00" * 32), ("d", "tea"), ("v", Raw((1, 2, 3))), ("s", "11" * 32)]
    invoice = encode_fields(fields, private_key=SPEC_KEY, network="tb", amount_msat=1000, timestamp=1)
    _, groups = bech32_decode(invoice)
    assert invoice.startswith("lntb10n1") and groups is not None
    assert field_tags(groups) == "dpdvs"
    decoded = ln.decode(invoice, strict=False)
    assert (decoded.description, decoded.payee, decoded.timestamp) == ("coffee", SPEC_PUBKEY, 1)
    assert decoded.warnings == ("more than one 'd' field, the first is used",)


def field_tags(groups: list[int]) -> str:
    data, tags, position = groups[7:-104], [], 0
    while position < len(data):
        tags.append(CHARSET[data[position]])
        position += 3 + data[position + 1] * 32 + data[position + 2]
    return "".join(tags)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([("p", "00" * 31)], "field 0 \\(payment_hash\\) must be 64 hex"),
        ([("z", "00")], "no writer for tag 'z'"),
        ([("p", Raw((32,)))], "Raw groups of field 'p' must be integers 0..31"),
        ([("pp", Raw(()))], "field tag must be one bech32 character"),
        ([("d", Raw((0,) * 1024))], "needs 1024 5-bit groups; a field holds at most 1023"),
    ],
)
def test_encode_fields_refuses_what_it_cannot_write(fields: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_fields(fields, private_key=SPEC_KEY, timestamp=1)


@pytest.mark.parametrize("secret", [f"{CURVE_ORDER:064x}", SPEC_KEY[:-1] + "g", SPEC_KEY + "0"])
def test_a_refused_secret_key_never_appears_in_the_error(secret: str) -> None:
    for call in (
        lambda: sign_invoice("lnbc", [0] * 7, secret),
        lambda: encode_invoice(
            private_key=secret, payment_hash="00" * 32, payment_secret=None, description=""
        ),
    ):
        with pytest.raises(ValueError, match="private_key") as error:
            call()
        assert secret[:20] not in str(error.value) and secret[:20] not in repr(error.value)


def test_a_malformed_payment_secret_is_not_echoed() -> None:
    secret = "11" * 31 + "zz"
    with pytest.raises(ValueError, match="payment_secret is not valid hex") as error:
        encode_invoice(private_key=SPEC_KEY, payment_hash="00" * 32, payment_secret=secret, description="")
    assert secret[:20] not in str(error.value)


# --- decode(encode(fields)) == fields ----------------------------------------------------------------


def truth_of(params: dict[str, Any]) -> dict[str, Any]:
    """What an invoice made from ``encode_invoice(**params)`` must decode to."""
    payee = PrivateKey(bytes.fromhex(params["private_key"])).public_key.format(compressed=True).hex()
    return {
        "network": params["network"],
        "amount_msat": params["amount_msat"],
        "timestamp": params["timestamp"],
        "payment_hash": params["payment_hash"],
        "payment_secret": params["payment_secret"],
        "description": params["description"],
        "description_hash": params["description_hash"],
        "expiry": 3600 if params["expiry"] is None else params["expiry"],
        "min_final_cltv_expiry": 18
        if params["min_final_cltv_expiry"] is None
        else params["min_final_cltv_expiry"],
        "fallback_addresses": list(params["fallback_addresses"]),
        "route_hints": [list(route) for route in params["route_hints"]],
        "feature_bits": sorted(set(params["features"])),
        "metadata": params["metadata"],
        "payee": payee,
        "warnings": (),
    }


def decoded_fields(invoice: ln.Invoice) -> dict[str, Any]:
    return {
        "network": invoice.network,
        "amount_msat": invoice.amount_msat,
        "timestamp": invoice.timestamp,
        "payment_hash": invoice.payment_hash,
        "payment_secret": invoice.payment_secret,
        "description": invoice.description,
        "description_hash": invoice.description_hash,
        "expiry": invoice.expiry,
        "min_final_cltv_expiry": invoice.min_final_cltv_expiry,
        "fallback_addresses": list(invoice.fallback_addresses),
        "route_hints": [[hop._asdict() for hop in route] for route in invoice.route_hints],
        "feature_bits": sorted(invoice.feature_bits),
        "metadata": invoice.metadata,
        "payee": invoice.payee,
        "warnings": invoice.warnings,
    }


def test_three_thousand_synthetic_invoices_decode_to_their_fields(generated) -> None:
    frame = ln.decode_frame([invoice for _, invoice in generated])
    assert frame["error"].isna().all()
    for params, invoice in generated:
        assert decoded_fields(ln.decode(invoice)) == truth_of(params), invoice


NODE_KEYS = [hashlib.sha256(f"encoder test node {i}".encode()).hexdigest() for i in range(4)]
HOP_KEYS = [
    PrivateKey(hashlib.sha256(f"hop {i}".encode()).digest()).public_key.format().hex() for i in range(6)
]
KNOWN_ODD_BITS = sorted(bit for bit in FEATURE_NAMES if bit % 2)
hex32 = st.binary(min_size=32, max_size=32).map(bytes.hex)
u64 = st.integers(0, 2**64 - 1)
hops = st.fixed_dictionaries(
    {
        "pubkey": st.sampled_from(HOP_KEYS),
        "short_channel_id": st.tuples(
            st.integers(0, 2**24 - 1), st.integers(0, 2**24 - 1), st.integers(0, 2**16 - 1)
        ).map(lambda parts: "x".join(map(str, parts))),
        "fee_base_msat": st.integers(0, 2**32 - 1),
        "fee_proportional_millionths": st.integers(0, 2**32 - 1),
        "cltv_expiry_delta": st.integers(0, 2**16 - 1),
    }
)
descriptions = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200).filter(
    lambda text: len(text.encode()) <= 639
)


@st.composite
def invoice_params(draw) -> dict[str, Any]:
    network = draw(st.sampled_from(["bc", "tb", "tbs", "bcrt"]))
    described = draw(st.booleans())
    rng = random.Random(draw(st.integers(0, 2**32)))
    kinds = draw(st.lists(st.sampled_from(["p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr"]), max_size=3))
    return {
        "private_key": draw(st.sampled_from(NODE_KEYS)),
        "payment_hash": draw(hex32),
        "payment_secret": draw(hex32),
        "network": network,
        "amount_msat": draw(st.none() | st.integers(1, 21_000_000 * 10**11) | st.integers(1, 10**30)),
        "timestamp": draw(st.integers(0, 2**35 - 1)),
        "description": draw(descriptions) if described else None,
        "description_hash": None if described else draw(hex32),
        "expiry": draw(st.none() | u64),
        "min_final_cltv_expiry": draw(st.none() | u64),
        "fallback_addresses": [random_fallback_address(rng, network, kind) for kind in kinds],
        "route_hints": draw(st.lists(st.lists(hops, min_size=1, max_size=12), max_size=3)),
        "features": draw(
            st.sets(
                st.sampled_from([8, 14, 16, 48] + KNOWN_ODD_BITS)
                | st.integers(0, 2000).map(lambda b: 2 * b + 1)
            )
        ),
        "metadata": draw(st.none() | st.binary(min_size=1, max_size=100).map(bytes.hex)),
        "include_payee": draw(st.booleans()),
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invoice_params(), st.permutations(DEFAULT_FIELD_ORDER))
def test_hypothesis_invoices_decode_to_their_fields_in_any_field_order(
    params: dict[str, Any], order: list[str]
) -> None:
    invoice = encode_invoice(**params, field_order=order)
    decoded = ln.decode(invoice)
    assert decoded_fields(decoded) == truth_of(params)
    _, groups = bech32_decode(invoice)
    assert groups is not None and ("n" in field_tags(groups)) == params["include_payee"]
