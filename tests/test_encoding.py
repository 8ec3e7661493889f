"""Tests of the encoder (lnnotebook.bolt11.encoder): spec vectors byte for byte, round trips through an
independent reader. The comparisons with the ``bolt11`` package are in test_encoding_oracle.py."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bech32_reference import CHARSET, bech32_decode, bech32_hrp_expand, bech32_polymod, convertbits
from coincurve import PrivateKey, PublicKey
from hypothesis import given
from hypothesis import strategies as st

from lnnotebook.bolt11 import (
    DEFAULT_FIELD_ORDER,
    decode_segwit_address,
    encode_invoice,
    encode_segwit_address,
    fallback_field_data,
    hrp_amount,
)
from lnnotebook.bolt11 import decode as ln_decode
from lnnotebook.synthetic import random_invoice_params

SPEC = json.loads((Path(__file__).parent / "data" / "spec_vectors.json").read_text(encoding="utf-8"))
SPEC_KEY = SPEC["_meta"]["signing_private_key"]
SPEC_PUBKEY = SPEC["_meta"]["signing_public_key"]
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
WRONG_LENGTH_FIELDS_VECTOR = 13
HIGH_S_VECTOR = 15


# ----------------------------------------------------------------------------------------------------------
# A deliberately small, independent reader of the bits, for what bolt11.decode gets wrong.


@dataclass
class ParsedInvoice:
    hrp: str
    timestamp: int
    fields: list[tuple[str, list[int]]]
    signature: bytes
    signing_data: bytes

    def all(self, letter: str) -> list[list[int]]:
        return [groups for tag, groups in self.fields if tag == letter]

    @property
    def order(self) -> str:
        return "".join(tag for tag, _ in self.fields)


def groups_to_bytes(groups: list[int]) -> bytes:
    data = convertbits(groups, 5, 8, False)
    assert data is not None, "non-zero padding bits"
    return bytes(data)


def parse_invoice(invoice: str) -> ParsedInvoice:
    hrp, groups = bech32_decode(invoice)
    assert hrp is not None and groups is not None, f"bad bech32: {invoice}"
    data, signature_groups = groups[:-104], groups[-104:]
    timestamp = 0
    for group in data[:7]:
        timestamp = timestamp * 32 + group
    fields = []
    position = 7
    while position < len(data):
        length = data[position + 1] * 32 + data[position + 2]
        fields.append((CHARSET[data[position]], data[position + 3 : position + 3 + length]))
        position += 3 + length
    assert position == len(data)
    return ParsedInvoice(
        hrp, timestamp, fields, groups_to_bytes(signature_groups), bytes(convertbits(data, 5, 8, True))
    )


def groups_to_int(groups: list[int]) -> int:
    value = 0
    for group in groups:
        value = value * 32 + group
    return value


def parse_route(groups: list[int]) -> list[dict[str, Any]]:
    raw = groups_to_bytes(groups)
    assert len(raw) % 51 == 0
    hops = []
    for offset in range(0, len(raw), 51):
        hop = raw[offset : offset + 51]
        scid = int.from_bytes(hop[33:41], "big")
        hops.append(
            {
                "pubkey": hop[:33].hex(),
                "short_channel_id": f"{scid >> 40}x{(scid >> 16) & 0xFFFFFF}x{scid & 0xFFFF}",
                "fee_base_msat": int.from_bytes(hop[41:45], "big"),
                "fee_proportional_millionths": int.from_bytes(hop[45:49], "big"),
                "cltv_expiry_delta": int.from_bytes(hop[49:51], "big"),
            }
        )
    return hops


def bech32m_checksum_ok(hrp: str, groups: list[int]) -> bool:
    return bech32_polymod(bech32_hrp_expand(hrp) + groups) == 0x2BC830A3


def render_fallback(groups: list[int], address_hrp: str, base58_versions: tuple[int, int]) -> str:
    """Address text of an f field, rebuilt independently of lnnotebook.bolt11."""
    import base58

    version, program = groups[0], groups[1:]
    if version in (17, 18):
        prefix = base58_versions[version - 17]
        return base58.b58encode_check(bytes([prefix]) + groups_to_bytes(program)).decode()
    constant = 1 if version == 0 else 0x2BC830A3
    values = [version, *program]
    polymod = bech32_polymod(bech32_hrp_expand(address_hrp) + values + [0] * 6) ^ constant
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return address_hrp + "1" + "".join(CHARSET[v] for v in values + checksum)


ADDRESS_FORMATS = {"bc": ("bc", (0, 5)), "tb": ("tb", (111, 196)), "tbs": ("tb", (111, 196))}
ADDRESS_FORMATS["bcrt"] = ("bcrt", (111, 196))


def recovered_payee(parsed: ParsedInvoice) -> str:
    digest = hashlib.sha256(parsed.hrp.encode() + parsed.signing_data).digest()
    key = PublicKey.from_signature_and_message(parsed.signature, digest, hasher=None)
    return key.format(compressed=True).hex()


def pubkey_of(private_key: str) -> str:
    return PrivateKey(bytes.fromhex(private_key)).public_key.format(compressed=True).hex()


def spec_kwargs(expected: dict[str, Any]) -> dict[str, Any]:
    return {
        "private_key": SPEC_KEY,
        "payment_hash": expected["payment_hash"],
        "payment_secret": expected["payment_secret"],
        "network": expected["currency_prefix"],
        "amount_msat": expected["amount_msat"],
        "timestamp": expected["timestamp"],
        "description": expected["description"],
        "description_hash": expected["description_hash"],
        "expiry": expected["expiry_seconds_explicit"],
        "min_final_cltv_expiry": expected["min_final_cltv_expiry_explicit"],
        "fallback_addresses": expected["fallback_addresses"],
        "route_hints": expected["route_hints"],
        "features": expected["feature_bits_set"],
        "metadata": expected["payment_metadata"],
    }


BASE = {
    "private_key": SPEC_KEY,
    "payment_hash": "00" * 32,
    "payment_secret": "11" * 32,
    "timestamp": 1_700_000_000,
    "description": "test",
}
HOP = {
    "pubkey": "029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255",
    "short_channel_id": "66051x263430x1800",
    "fee_base_msat": 1,
    "fee_proportional_millionths": 20,
    "cltv_expiry_delta": 3,
}


def synthetic_params(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [random_invoice_params(rng) for _ in range(count)]


# ----------------------------------------------------------------------------------------------------------
# Spec vectors


@pytest.mark.parametrize(
    "index", [i for i in range(len(SPEC["valid"])) if i not in (WRONG_LENGTH_FIELDS_VECTOR, HIGH_S_VECTOR)]
)
def test_spec_vector_reencodes_byte_for_byte(index: int) -> None:
    vector = SPEC["valid"][index]
    field_order = parse_invoice(vector["invoice"].lower()).order
    invoice = encode_invoice(**spec_kwargs(vector["expected"]), field_order=field_order)
    assert invoice == vector["invoice"].lower()  # valid[12] is the uppercase form of valid[11]


def test_high_s_vector_fields_encode_to_the_low_s_original() -> None:
    high_s = SPEC["valid"][HIGH_S_VECTOR]
    field_order = parse_invoice(high_s["invoice"]).order
    invoice = encode_invoice(**spec_kwargs(high_s["expected"]), field_order=field_order)
    assert invoice == SPEC["valid"][0]["invoice"]
    ours, theirs = parse_invoice(invoice).signature, parse_invoice(high_s["invoice"]).signature
    assert ours[:32] == theirs[:32]
    assert int.from_bytes(ours[32:64], "big") == SECP256K1_ORDER - int.from_bytes(theirs[32:64], "big")


def test_spec_key_signs_as_spec_pubkey_and_payee_field_is_written() -> None:
    invoice = encode_invoice(**BASE, include_payee=True)
    parsed = parse_invoice(invoice)
    assert [groups_to_bytes(n).hex() for n in parsed.all("n")] == [SPEC_PUBKEY]
    assert recovered_payee(parsed) == SPEC_PUBKEY
    assert ln_decode(invoice).payee == SPEC_PUBKEY  # verified against n when present


def test_private_key_as_bytes_or_hex_gives_the_same_invoice() -> None:
    kwargs = {**BASE, "private_key": bytes.fromhex(SPEC_KEY)}
    assert encode_invoice(**kwargs) == encode_invoice(**BASE)


def test_default_timestamp_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lnnotebook.bolt11.encoder.time.time", lambda: 1_234_567_890.7)
    kwargs = {**BASE, "timestamp": None}
    assert parse_invoice(encode_invoice(**kwargs)).timestamp == 1_234_567_890


# ----------------------------------------------------------------------------------------------------------
# Amounts


@pytest.mark.parametrize(
    ("amount_msat", "text"),
    [
        (1, "10p"),
        (967_878_534, "9678785340p"),
        (100, "1n"),
        (1_000, "10n"),
        (100_000, "1u"),
        (250_000_000, "2500u"),
        (100_000_000, "1m"),
        (2_000_000_000, "20m"),
        (2_500_000_000, "25m"),
        (10**11, "1"),
        (10**14, "1000"),  # bolt11 2.2.0 writes "1" here
        (21_000_000 * 10**11, "21000000"),
        (2**64 + 1, "184467440737095516170p"),
    ],
)
def test_hrp_amount_is_shortest_exact(amount_msat: int, text: str) -> None:
    assert hrp_amount(amount_msat) == text


MULTIPLIERS = {"": 10**12, "m": 10**9, "u": 10**6, "n": 10**3, "p": 1}


@given(st.integers(min_value=1, max_value=10**24))
def test_hrp_amount_round_trips_and_no_multiplier_is_shorter(amount_msat: int) -> None:
    text = hrp_amount(amount_msat)
    multiplier = text[-1] if text[-1] in "munp" else ""
    digits = text[: len(text) - len(multiplier)]
    assert digits[0] != "0" and int(digits) * MULTIPLIERS[multiplier] == amount_msat * 10
    if multiplier == "p":
        assert digits.endswith("0")
    for other, scale in MULTIPLIERS.items():
        if (amount_msat * 10) % scale == 0:
            assert len(text) <= len(str(amount_msat * 10 // scale) + other)


# ----------------------------------------------------------------------------------------------------------
# Addresses: BIP-173/350 vectors


BIP350_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "tb",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "bc",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "bc", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "bc", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "tb",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "tb",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "bc",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]
BIP350_INVALID = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
    "bc1gmk9yu",
]


@pytest.mark.parametrize(("address", "hrp", "script_pubkey"), BIP350_VALID)
def test_segwit_address_bip350_valid(address: str, hrp: str, script_pubkey: str) -> None:
    version, program = decode_segwit_address(hrp, address)
    script = bytes.fromhex(script_pubkey)
    assert (version, program) == ((script[0] - 0x50) if script[0] else 0, script[2:])
    assert encode_segwit_address(hrp, version, program) == address.lower()


@pytest.mark.parametrize("address", BIP350_INVALID)
def test_segwit_address_bip350_invalid(address: str) -> None:
    hrp = "tb" if address.lower().startswith("tb") else "bc"
    with pytest.raises(ValueError):
        decode_segwit_address(hrp, address)
    with pytest.raises(ValueError):
        fallback_field_data(address, hrp)


def test_encode_segwit_address_rejects_invalid_programs() -> None:
    with pytest.raises(ValueError, match="20 or 32"):
        encode_segwit_address("bc", 0, bytes(21))
    with pytest.raises(ValueError, match="2..40"):
        encode_segwit_address("bc", 1, bytes(41))
    with pytest.raises(ValueError, match="0..16"):
        encode_segwit_address("bc", 17, bytes(32))


@pytest.mark.parametrize(
    ("network", "kind", "version"),
    [
        (network, kind, version)
        for network in ("bc", "tb", "tbs", "bcrt")
        for kind, version in (("p2pkh", 17), ("p2sh", 18), ("p2wpkh", 0), ("p2wsh", 0), ("p2tr", 1))
    ],
)
def test_fallback_of_every_type_and_network_encodes_and_reads_back(
    network: str, kind: str, version: int
) -> None:
    from lnnotebook.synthetic import random_fallback_address

    address = random_fallback_address(random.Random(f"{network}{kind}"), network, kind)
    invoice = encode_invoice(**BASE, network=network, fallback_addresses=[address])
    (groups,) = parse_invoice(invoice).all("f")
    assert groups[0] == version
    assert render_fallback(groups, *ADDRESS_FORMATS[network]) == address
    if kind == "p2tr":  # the program groups checksum with bech32m, not bech32
        address_hrp = ADDRESS_FORMATS[network][0]
        assert bech32m_checksum_ok(address_hrp, [CHARSET.index(c) for c in address.split("1", 1)[1]])


def test_spec_p2tr_fallback_encodes_with_witness_version_1() -> None:
    address = "bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm"
    groups = list(fallback_field_data(address, "bc"))
    assert groups[0] == 1 and len(groups) == 53


# ----------------------------------------------------------------------------------------------------------
# Route hints, features, field order


def test_route_hint_values_are_unsigned() -> None:
    hop = {
        **HOP,
        "fee_base_msat": 0xFFFFFFFF,
        "fee_proportional_millionths": 2**31,
        "cltv_expiry_delta": 0xFFFF,
    }
    invoice = encode_invoice(**BASE, route_hints=[[hop]])
    (groups,) = parse_invoice(invoice).all("r")
    assert groups_to_bytes(groups)[41:] == bytes.fromhex("ffffffff80000000ffff")
    assert parse_route(groups) == [hop]


@pytest.mark.parametrize("hop_count", [1, 4, 5, 10, 12])
def test_route_hint_keeps_every_hop(hop_count: int) -> None:
    route = [
        {**HOP, "short_channel_id": f"{700_000 + i}x{i}x{i % 4}", "fee_base_msat": i}
        for i in range(hop_count)
    ]
    invoice = encode_invoice(**BASE, route_hints=[route, [HOP]])
    assert [parse_route(groups) for groups in parse_invoice(invoice).all("r")] == [route, [HOP]]


def test_short_channel_id_as_integer() -> None:
    as_text = encode_invoice(**BASE, route_hints=[[HOP]])
    as_number = encode_invoice(
        **BASE, route_hints=[[{**HOP, "short_channel_id": (66051 << 40) | (263430 << 16) | 1800}]]
    )
    assert as_text == as_number


@pytest.mark.parametrize(
    ("features", "groups"),
    [((8, 14), [16, 8, 0]), ((8, 9, 14, 17), [4, 16, 24, 0]), ((99,), [16] + [0] * 19), ((), None)],
)
def test_feature_field_is_minimal(features: tuple[int, ...], groups: list[int] | None) -> None:
    fields = parse_invoice(encode_invoice(**BASE, features=features)).all("9")
    assert fields == ([groups] if groups is not None else [])


def test_expiry_and_cltv_are_minimal_and_exact_beyond_60_bits() -> None:
    parsed = parse_invoice(encode_invoice(**BASE, expiry=60, min_final_cltv_expiry=2**64 - 1))
    (expiry,) = parsed.all("x")
    (cltv,) = parsed.all("c")
    assert expiry == [1, 28]
    assert len(cltv) == 13 and groups_to_int(cltv) == 2**64 - 1  # bolt11 2.2.0 keeps only 60 bits
    assert parse_invoice(encode_invoice(**BASE, expiry=0)).all("x") == [[]]


def test_default_and_custom_field_order() -> None:
    kwargs = {
        **BASE,
        "expiry": 60,
        "min_final_cltv_expiry": 18,
        "fallback_addresses": ["1RustyRX2oai4EYYDpQGWvEL62BBGqN9T", "3EktnHQD7RiAE6uzMj2ZifT9YgRrkSgzQX"],
        "route_hints": [[HOP], [HOP, HOP]],
        "features": (8, 14, 48),
        "metadata": "01fafaf0",
        "include_payee": True,
    }
    assert parse_invoice(encode_invoice(**kwargs)).order == "psdnxcffrr9m"
    assert DEFAULT_FIELD_ORDER == "psdhnxcfr9m"
    assert parse_invoice(encode_invoice(**kwargs, field_order="m9rfcxndsp")).order == "m9rrffcxndsp"
    # Repeated letters interleave: each takes one field, the last takes the rest.
    assert parse_invoice(encode_invoice(**kwargs, field_order=list("sfrfrpdnxc9m"))).order == "sfrfrpdnxc9m"


def test_empty_and_long_unicode_descriptions() -> None:
    assert parse_invoice(encode_invoice(**{**BASE, "description": ""})).all("d") == [[]]
    for text, group_count in (("⚡咖啡🍕" * 49, 1020), ("x" * 639, 1023)):  # 637 and 639 bytes
        (groups,) = parse_invoice(encode_invoice(**{**BASE, "description": text})).all("d")
        assert groups_to_bytes(groups).decode() == text and len(groups) == group_count


# ----------------------------------------------------------------------------------------------------------
# Generated invoices through an independent reader


ROUND_TRIP_PARAMS = synthetic_params(150, seed=11)


def decode_segwit_address_version(address: str) -> int | None:
    for hrp in ("bcrt", "bc", "tb"):
        if address.lower().startswith(hrp + "1"):
            return decode_segwit_address(hrp, address)[0]
    return None


def test_round_trip_of_what_bolt11_decode_gets_wrong_with_our_own_reader() -> None:
    covered = {"fee >= 2**31": False, "5-hop route": False, "p2tr": False, "second fallback": False}
    for params in ROUND_TRIP_PARAMS + synthetic_params(150, seed=12):
        invoice = encode_invoice(**params)
        parsed = parse_invoice(invoice)
        assert parsed.timestamp == params["timestamp"]
        assert recovered_payee(parsed) == pubkey_of(params["private_key"])
        routes = [parse_route(groups) for groups in parsed.all("r")]
        assert routes == params["route_hints"]
        addresses = [render_fallback(g, *ADDRESS_FORMATS[params["network"]]) for g in parsed.all("f")]
        assert addresses == params["fallback_addresses"]
        bits = groups_to_int(parsed.all("9")[0])
        assert {i for i in range(bits.bit_length()) if bits >> i & 1} == set(params["features"])
        hops = [hop for route in routes for hop in route]
        covered["fee >= 2**31"] |= any(h["fee_base_msat"] >= 2**31 for h in hops)
        covered["5-hop route"] |= any(len(route) == 5 for route in routes)
        covered["p2tr"] |= any(g[0] == 1 for g in parsed.all("f"))
        covered["second fallback"] |= len(addresses) > 1
    assert all(covered.values()), covered


# ----------------------------------------------------------------------------------------------------------
# Errors

P2TR_MAIN = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
P2WPKH_TEST = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"private_key": "zz" * 32}, "private_key is not valid hex"),
        ({"private_key": "00" * 31}, "private_key must be 64 hex"),
        ({"private_key": bytes(31)}, "private_key must be 32 bytes"),
        ({"private_key": "00" * 32}, "private_key is not a valid secp256k1"),
        ({"private_key": f"{SECP256K1_ORDER:064x}"}, "private_key is not a valid secp256k1"),
        ({"private_key": 12345}, "private_key must be a hex string"),
        ({"payment_hash": "0g" * 32}, "payment_hash is not valid hex"),
        ({"payment_hash": "00" * 33}, "payment_hash must be 64 hex"),
        ({"payment_hash": bytes(32)}, "payment_hash must be a hex string"),
        ({"payment_hash": "00 " * 21 + "0"}, "payment_hash is not valid hex"),
        ({"payment_secret": "11" * 31}, "payment_secret must be 64 hex"),
        ({"network": "lnbc"}, "unknown network"),
        ({"network": "btc"}, "unknown network"),
        ({"amount_msat": -1}, "amount_msat must be positive"),
        ({"amount_msat": 0}, "amount_msat must be positive"),
        ({"amount_msat": 1.5}, "amount_msat must be an integer"),
        ({"amount_msat": 1000.0}, "amount_msat must be an integer"),
        ({"amount_msat": "1000"}, "amount_msat must be an integer"),
        ({"amount_msat": True}, "amount_msat must be an integer"),
        ({"amount_msat": 10**80 + 1}, "amount_msat .* hrp longer"),
        ({"timestamp": -1}, "timestamp must be in 0..2\\*\\*35-1"),
        ({"timestamp": 2**35}, "timestamp must be in 0..2\\*\\*35-1"),
        ({"timestamp": 1.7e9}, "timestamp must be an integer"),
        ({"description": None}, "exactly one of description or description_hash"),
        ({"description_hash": "22" * 32}, "exactly one of description or description_hash"),
        ({"description": "x" * 640}, "description is 640 UTF-8 bytes"),
        ({"description": "⚡" * 214}, "description is 642 UTF-8 bytes"),
        ({"description": b"bytes"}, "description must be a str"),
        ({"description": "\ud800"}, "description is not encodable"),
        ({"description": None, "description_hash": "22" * 31}, "description_hash must be 64 hex"),
        ({"expiry": -1}, "expiry must be in 0..2\\*\\*64-1"),
        ({"expiry": 2**64}, "expiry must be in 0..2\\*\\*64-1"),
        ({"expiry": 3600.0}, "expiry must be an integer"),
        ({"min_final_cltv_expiry": -9}, "min_final_cltv_expiry must be in"),
        ({"fallback_addresses": [P2WPKH_TEST]}, "is for hrp 'tb', not network 'bc'"),
        ({"fallback_addresses": ["mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP"]}, "version byte 111, not P2PKH/P2SH"),
        ({"fallback_addresses": [P2TR_MAIN], "network": "bcrt"}, "is for hrp 'bc', not network 'bcrt'"),
        ({"fallback_addresses": ["1RustyRX2oai4EYYDpQGWvEL62BBGqN9U"]}, "neither segwit nor base58check"),
        ({"fallback_addresses": [P2TR_MAIN[:-1] + "q"]}, "bad checksum"),
        (
            {"fallback_addresses": ["bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd"]},
            "needs bech32m",
        ),
        ({"fallback_addresses": ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh"]}, "needs bech32"),
        ({"fallback_addresses": [""]}, "fallback address must be a non-empty string"),
        ({"fallback_addresses": P2TR_MAIN}, "fallback_addresses must be a sequence"),
        ({"route_hints": {"a": 1}}, "route_hints must be a sequence of routes"),
        ({"route_hints": [[]]}, "route_hints\\[0\\] must be a non-empty sequence"),
        ({"route_hints": [HOP]}, "route_hints\\[0\\] must be a non-empty sequence"),
        ({"route_hints": [[HOP] * 13]}, "route_hints\\[0\\] has 13 hops; one r field holds at most 12"),
        ({"route_hints": [[HOP], ["hop"]]}, "route_hints\\[1\\]\\[0\\] must be a mapping"),
        ({"route_hints": [[{**HOP, "fee": 1}]]}, "unknown keys \\['fee'\\]"),
        ({"route_hints": [[{k: v for k, v in HOP.items() if k != "pubkey"}]]}, "missing keys \\['pubkey'\\]"),
        ({"route_hints": [[{**HOP, "fee_base_msat": -1}]]}, "fee_base_msat must be in 0..4294967295"),
        (
            {"route_hints": [[{**HOP, "fee_proportional_millionths": 2**32}]]},
            "fee_proportional_millionths must",
        ),
        ({"route_hints": [[{**HOP, "cltv_expiry_delta": 2**16}]]}, "cltv_expiry_delta must be in 0..65535"),
        ({"route_hints": [[{**HOP, "short_channel_id": "1x2"}]]}, "short_channel_id must look like"),
        ({"route_hints": [[{**HOP, "short_channel_id": "16777216x0x0"}]]}, "out of range"),
        ({"route_hints": [[{**HOP, "short_channel_id": 2**64}]]}, "short_channel_id .* is not a u64"),
        ({"route_hints": [[{**HOP, "pubkey": "02" + "00" * 32}]]}, "not a valid compressed secp256k1 point"),
        ({"route_hints": [[{**HOP, "pubkey": "02" * 32}]]}, "route hint pubkey must be 66 hex"),
        ({"features": [-1]}, "features bit must be in 0..5114"),
        ({"features": [5115]}, "features bit must be in 0..5114"),
        ({"features": ["8"]}, "features bit must be an integer"),
        ({"metadata": "xyz"}, "metadata is not valid hex"),
        ({"metadata": ""}, "metadata must not be empty"),
        ({"field_order": "psdz"}, "unknown tag letters \\['z'\\]"),
        ({"field_order": "pd"}, "does not place the present fields \\['s', '9'\\]"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_invoice(**{**BASE, **changes})


def test_payment_secret_none_omits_the_s_field() -> None:
    parsed = parse_invoice(encode_invoice(**{**BASE, "payment_secret": None}))
    assert "s" not in parsed.order and parsed.order.startswith("pd")
