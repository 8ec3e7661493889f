"""The encoder against the ``bolt11`` package 2.2.0 (a dev-only test oracle): where that package is right
our invoices decode there to the same values and are byte-identical to its own encoder's; where it is wrong
(NOTES.md) the defect is shown next to our answer."""

from __future__ import annotations

from typing import Any

import pytest

bolt11 = pytest.importorskip(
    "bolt11",
    reason="the bolt11 package (dev extra, Python < 3.13, with bitstring < 5) is the test oracle here",
)
from bitstring import Bits  # noqa: E402  (bolt11 depends on it)
from bolt11.models.fallback import Fallback  # noqa: E402
from bolt11.models.features import Features  # noqa: E402
from bolt11.models.routehint import Route, RouteHint  # noqa: E402
from bolt11.models.tags import TagChar, Tags  # noqa: E402
from bolt11.utils import msat_to_amount  # noqa: E402
from test_encoding import (  # noqa: E402
    BASE,
    ROUND_TRIP_PARAMS,
    decode_segwit_address_version,
    pubkey_of,
    synthetic_params,
)

from lnnotebook.bolt11 import encode_invoice, fallback_field_data  # noqa: E402


def test_spec_key_signs_as_spec_pubkey_for_bolt11_too() -> None:
    invoice = encode_invoice(**BASE, include_payee=True)
    assert bolt11.decode(invoice).payee == pubkey_of(BASE["private_key"])  # bolt11 verifies against n


def test_bolt11_package_amount_defect_is_worked_around() -> None:
    assert msat_to_amount(10**14) == "1"  # the package's defect: 1000 BTC written as 1 BTC
    invoice = encode_invoice(**BASE, amount_msat=10**14)
    assert invoice.startswith("lnbc10001")
    assert bolt11.decode(invoice).amount_msat == 10**14


def test_spec_p2tr_fallback_is_refused_by_bolt11_but_encoded_here() -> None:
    address = "bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm"
    assert fallback_field_data(address, "bc")[0] == 1
    with pytest.raises(ValueError):  # what bolt11 2.2.0 does with it
        Fallback.from_address(address, "bc")


def test_round_trip_through_bolt11_decode_for_what_it_decodes_correctly() -> None:
    for params in ROUND_TRIP_PARAMS:
        invoice = encode_invoice(**params)
        decoded = bolt11.decode(invoice)
        assert decoded.currency == params["network"]
        assert decoded.amount_msat == params["amount_msat"]
        assert decoded.date == params["timestamp"]
        assert decoded.payment_hash == params["payment_hash"]
        assert decoded.payment_secret == params["payment_secret"]
        assert decoded.description == params["description"]
        assert decoded.description_hash == params["description_hash"]
        assert decoded.expiry == (params["expiry"] if params["expiry"] is not None else 3600)
        cltv = params["min_final_cltv_expiry"]
        assert decoded.min_final_cltv_expiry == (cltv if cltv is not None else 18)
        assert decoded.metadata == params["metadata"]
        assert decoded.payee == pubkey_of(params["private_key"])
        feature_bits = decoded.features.data
        assert {len(feature_bits) - 1 - i for i in feature_bits.findall("0b1")} == set(params["features"])
        fallbacks = params["fallback_addresses"]
        if (
            fallbacks
            and params["network"] in ("bc", "tb")
            and decode_segwit_address_version(fallbacks[0]) != 1
        ):
            assert decoded.fallback.address == fallbacks[0]
        for route, hint in zip(params["route_hints"], decoded.route_hints, strict=True):
            readable = all(
                hop["fee_base_msat"] < 2**31 and hop["fee_proportional_millionths"] < 2**31 for hop in route
            ) and all(hop["cltv_expiry_delta"] < 2**15 for hop in route)
            if readable and len(route) % 5:
                assert [route_as_bolt11_dict(hop) for hop in route] == [h._asdict() for h in hint.routes]


def route_as_bolt11_dict(hop: dict[str, Any]) -> dict[str, Any]:
    return {
        "public_key": hop["pubkey"],
        "short_channel_id": hop["short_channel_id"],
        "base_fee": hop["fee_base_msat"],
        "ppm_fee": hop["fee_proportional_millionths"],
        "cltv_expiry_delta": hop["cltv_expiry_delta"],
    }


def bolt11_package_encode(params: dict[str, Any]) -> str:
    """The same invoice through bolt11.encode (only for inputs it handles), in our default field order."""
    tags = Tags()
    tags.add(TagChar.payment_hash, params["payment_hash"])
    tags.add(TagChar.payment_secret, params["payment_secret"])
    if params["description"] is not None:
        tags.add(TagChar.description, params["description"])
    else:
        tags.add(TagChar.description_hash, params["description_hash"])
    if params["include_payee"]:
        tags.add(TagChar.payee, pubkey_of(params["private_key"]))
    if params["expiry"] is not None:
        tags.add(TagChar.expire_time, params["expiry"])
    if params["min_final_cltv_expiry"] is not None:
        tags.add(TagChar.min_final_cltv_expiry, params["min_final_cltv_expiry"])
    for address in params["fallback_addresses"]:
        tags.add(TagChar.fallback, Fallback.from_address(address, params["network"]))
    for route in params["route_hints"]:
        tags.add(TagChar.route_hint, RouteHint([Route(**route_as_bolt11_dict(hop)) for hop in route]))
    vector = sum(1 << bit for bit in params["features"])
    # Raw bits: bolt11's Features cannot hold both bits of one pair (8 and 9).
    tags.add(TagChar.features, Features(Bits(uint=vector, length=-(-vector.bit_length() // 5) * 5), {}))
    if params["metadata"] is not None:
        tags.add(TagChar.metadata, params["metadata"])
    invoice = bolt11.Bolt11(
        currency=params["network"], date=params["timestamp"], tags=tags, amount_msat=params["amount_msat"]
    )
    return bolt11.encode(invoice, private_key=params["private_key"], keep_payee=True)


def bolt11_package_can_encode(params: dict[str, Any]) -> bool:
    amount = params["amount_msat"]
    return (
        (amount is None or amount % 10**14 != 0)
        and (not params["fallback_addresses"] or params["network"] in ("bc", "tb"))
        and all(decode_segwit_address_version(a) in (None, 0) for a in params["fallback_addresses"])
    )


def test_byte_identical_to_bolt11_encode_where_that_is_correct() -> None:
    candidates = [p for p in synthetic_params(200, seed=13) if bolt11_package_can_encode(p)]
    compared = candidates[:60]
    assert len(compared) == 60
    assert any(p["route_hints"] for p in compared) and any(p["fallback_addresses"] for p in compared)
    for params in compared:
        assert encode_invoice(**params) == bolt11_package_encode(params)
