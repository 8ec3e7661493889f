"""BOLT 11 conformance of ``lnnotebook.decode``: the spec's examples, then one focused test per reader rule.

Invoices that break exactly one rule are built here by hand (reference bech32 from the ``bech32`` package,
RFC6979 signatures from coincurve), so that the checksum and the signature stay valid and only the rule under
test can fail. Expected values are computed independently of the decoder (base58check, a local BIP-173/350
segwit encoder, struct packing of route hints).
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import base58
import pytest
from bech32_reference import CHARSET, bech32_encode, bech32_hrp_expand, bech32_polymod, convertbits
from coincurve import PrivateKey

import lnnotebook as ln
from lnnotebook import (
    AmountError,
    ChecksumError,
    FeatureError,
    FieldLengthError,
    FormatError,
    InvoiceError,
    MissingFieldError,
    NetworkError,
    SignatureError,
    TooLongError,
    TruncatedError,
)
from lnnotebook.bolt11 import Feature, Hop, encode_invoice

SPEC = json.loads(
    (Path(__file__).resolve().parent / "data" / "spec_vectors.json").read_text(encoding="utf-8")
)
VALID = SPEC["valid"]
INVALID = SPEC["invalid"]
SPEC_KEY = SPEC["_meta"]["signing_private_key"]
SPEC_PUBKEY = SPEC["_meta"]["signing_public_key"]
OTHER_KEY = hashlib.sha256(b"lnnotebook tests: another node").hexdigest()
OTHER_PUBKEY = PrivateKey(bytes.fromhex(OTHER_KEY)).public_key.format(compressed=True).hex()
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

TIMESTAMP = 1496314658
PAYMENT_HASH = bytes(range(32))
SECRET = b"\x11" * 32
BOLT11_TAGS = "psdhnxcfr9m"  # every other tag code is unknown and must be skipped


# --- building invoices by hand -------------------------------------------------------------------------


def groups_of(data: bytes) -> list[int]:
    """8-bit bytes as 5-bit groups, zero-padded (BOLT 11: "pad field data to a multiple of 5 bits")."""
    return convertbits(data, 8, 5, True)


def int_groups(value: int, count: int | None = None) -> list[int]:
    count = -(-value.bit_length() // 5) if count is None else count
    return [(value >> 5 * (count - 1 - i)) & 31 for i in range(count)]


def tagged(tag: str | int, groups: list[int]) -> list[int]:
    code = CHARSET.index(tag) if isinstance(tag, str) else tag
    assert len(groups) < 1024
    return [code, len(groups) >> 5, len(groups) & 31, *groups]


def signing_bytes(data: list[int]) -> bytes:
    """The signed data part: 5-bit groups concatenated, then 0 bits up to a byte boundary."""
    return bytes(convertbits(data, 5, 8, True))


def sign(hrp: str, data: list[int], key: str = SPEC_KEY) -> bytes:
    digest = hashlib.sha256(hrp.encode() + signing_bytes(data)).digest()
    return PrivateKey(bytes.fromhex(key)).sign_recoverable(digest, hasher=None)


def high_s(signature: bytes) -> bytes:
    """The same signature with s -> n - s and the recovery id's parity flipped: recovers the same key."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (CURVE_ORDER - s).to_bytes(32, "big") + bytes([signature[64] ^ 1])


def build(hrp: str, *fields: list[int], timestamp: int = TIMESTAMP, key: str = SPEC_KEY, tweak=None) -> str:
    data = int_groups(timestamp, 7) + [group for field in fields for group in field]
    signature = sign(hrp, data, key)
    if tweak is not None:
        signature = tweak(signature)
    return bech32_encode(hrp, data + groups_of(signature))


def split(invoice: str) -> tuple[str, list[int]]:
    """(hrp, data groups without checksum) of a lowercase invoice, without bech32's 90-character limit."""
    hrp, _, data = invoice.rpartition("1")
    return hrp, [CHARSET.index(char) for char in data[:-6]]


def recode(invoice: str, hrp: str | None = None, data: list[int] | None = None) -> str:
    """The invoice with another hrp and/or data part, under a fresh valid checksum (signature untouched)."""
    old_hrp, old_data = split(invoice)
    return bech32_encode(hrp or old_hrp, old_data if data is None else data)


def with_signature_of(invoice: str, other: str) -> str:
    """``invoice`` carrying the signature of ``other``: a valid signature, but of different data."""
    return recode(invoice, data=split(invoice)[1][:-104] + split(other)[1][-104:])


def pubkey_of(key: str) -> bytes:
    return PrivateKey(bytes.fromhex(key)).public_key.format(compressed=True)


P = tagged("p", groups_of(PAYMENT_HASH))
S = tagged("s", groups_of(SECRET))
D = tagged("d", groups_of(b"coffee"))
H = tagged("h", groups_of(hashlib.sha256(b"coffee").digest()))
FEATURES = tagged("9", int_groups((1 << 8) | (1 << 14)))


def N(key: str = SPEC_KEY) -> list[int]:
    return tagged("n", groups_of(pubkey_of(key)))


def segwit_address(hrp: str, version: int, program: bytes) -> str:
    """BIP-173 (v0, bech32) / BIP-350 (v1+, bech32m) address, written from the BIPs."""
    data = [version, *convertbits(program, 8, 5, True)]
    constant = 1 if version == 0 else 0x2BC830A3
    polymod = bech32_polymod(bech32_hrp_expand(hrp) + data + [0] * 6) ^ constant
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[group] for group in data + checksum)


def bech32_constant(address: str) -> int:
    hrp, _, data = address.rpartition("1")
    return bech32_polymod(bech32_hrp_expand(hrp) + [CHARSET.index(char) for char in data])


def route_groups(*hops: tuple[bytes, int, int, int, int]) -> list[int]:
    return groups_of(b"".join(pubkey + struct.pack(">QIIH", *rest) for pubkey, *rest in hops))


def encode(**overrides) -> str:
    """``encode_invoice`` with the spec example's key, hash, secret and timestamp unless overridden."""
    params = {
        "private_key": SPEC_KEY,
        "payment_hash": PAYMENT_HASH.hex(),
        "payment_secret": SECRET.hex(),
        "description": "coffee",
        "timestamp": TIMESTAMP,
    }
    params.update(overrides)
    return encode_invoice(**params)


def same_content(invoice: ln.Invoice, reference: ln.Invoice, **changes) -> bool:
    """Equal but for the text and the signature (and any ``changes``), which differ with the fields."""
    return replace(invoice, bolt11=reference.bolt11, signature=reference.signature, **changes) == reference


def decoded_or_error(text: str, **options) -> ln.Invoice | InvoiceError:
    try:
        return ln.decode(text, **options)
    except InvoiceError as error:
        return error


# --- the helpers themselves ------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [i for i, v in enumerate(VALID) if not v["expected"].get("high_s")])
def test_hand_builder_reproduces_the_spec_signatures(index: int) -> None:
    """The signing helper matches the spec byte for byte: hand-built invoices are signed as the spec signs."""
    vector = VALID[index]
    hrp, data = split(vector["invoice"].lower())
    signed = data[:-104]
    assert (
        hashlib.sha256(hrp.encode() + signing_bytes(signed)).hexdigest()
        == vector["expected"]["signing_hash_sha256"]
    )
    assert bech32_encode(hrp, signed + groups_of(sign(hrp, signed))) == vector["invoice"].lower()


def test_segwit_helper_matches_bip173_and_bip350_examples() -> None:
    assert (
        segwit_address("bc", 0, bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6"))
        == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    )
    generator_x = bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert (
        segwit_address("bc", 1, generator_x)
        == "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
    )


# --- the spec's valid examples -------------------------------------------------------------------------


def assert_matches_expected(invoice: ln.Invoice, expected: dict) -> None:
    assert invoice.bolt11.startswith(expected["hrp"] + "1")
    assert invoice.network == expected["currency_prefix"]
    assert invoice.amount_msat == expected["amount_msat"]
    assert invoice.timestamp == expected["timestamp"]
    assert invoice.created_at == EPOCH + timedelta(seconds=expected["timestamp"])
    assert invoice.payment_hash == expected["payment_hash"]
    assert invoice.payment_secret == expected["payment_secret"]
    assert invoice.description == expected["description"]
    assert invoice.description_hash == expected["description_hash"]
    if "description_hash_preimage" in expected:
        preimage = expected["description_hash_preimage"].encode()
        assert hashlib.sha256(preimage).hexdigest() == invoice.description_hash
    assert invoice.expiry == expected["expiry_seconds_effective"]
    assert invoice.expires_at == invoice.created_at + timedelta(seconds=expected["expiry_seconds_effective"])
    assert invoice.min_final_cltv_expiry == expected["min_final_cltv_expiry_effective"]
    assert list(invoice.fallback_addresses) == expected["fallback_addresses"]
    assert [[hop._asdict() for hop in route] for route in invoice.route_hints] == expected["route_hints"]
    assert all(isinstance(hop, Hop) for route in invoice.route_hints for hop in route)
    assert sorted(invoice.feature_bits) == expected["feature_bits_set"]
    assert invoice.metadata == expected["payment_metadata"]
    assert invoice.payee == expected["payee_pubkey"]
    assert invoice.signature == expected["signature_rs_hex"] + f"{expected['recovery_flag']:02x}"


@pytest.mark.parametrize("index", [i for i in range(len(VALID)) if i != 13])
@pytest.mark.parametrize("verify", [True, False])
def test_valid_spec_example_decodes_to_its_expected_fields(index: int, verify: bool) -> None:
    vector = VALID[index]
    invoice = ln.decode(vector["invoice"], verify=verify)
    expected = dict(vector["expected"])
    if not verify:  # none of them has an n field: without verification no payee is recovered
        expected["payee_pubkey"] = None
    assert_matches_expected(invoice, expected)
    assert invoice.bolt11 == vector["invoice"].lower()
    assert invoice.warnings == ()


def test_spec_feature_names_follow_bolt9() -> None:
    assert ln.decode(VALID[11]["invoice"]).features == (
        Feature(8, "var_onion_optin"),
        Feature(14, "payment_secret"),
        Feature(99, None),
    )
    assert Feature(48, "option_payment_metadata") in ln.decode(VALID[14]["invoice"]).features


def test_example_with_wrong_length_fields_fails_strict_and_decodes_lenient() -> None:
    """valid[13] predates bolts#1243 (wrong-length p/h/s/n MUST fail); bolts#1358 moves it to invalid."""
    vector = VALID[13]
    assert vector["expected"]["valid_under_current_reader_rules"] is False
    with pytest.raises(FieldLengthError) as info:
        ln.decode(vector["invoice"])
    assert info.value.field == "p"

    invoice = ln.decode(vector["invoice"], strict=False)
    assert_matches_expected(invoice, vector["expected"])
    wrong_lengths = [
        item for item in vector["expected"]["fields_to_skip"]["ignored"] if item["tag"] in "pshn"
    ]
    assert len(wrong_lengths) == 8
    assert len(invoice.warnings) == len(wrong_lengths)
    for item, warning in zip(wrong_lengths, invoice.warnings):
        length = item["why"].removeprefix("wrong data_length ")
        assert f"'{item['tag']}'" in warning and length in warning


def test_high_s_example_without_n_recovers_with_the_transmitted_recovery_id() -> None:
    vector = VALID[15]
    invoice = ln.decode(vector["invoice"])
    assert int(invoice.signature[64:128], 16) > CURVE_ORDER // 2
    assert invoice.payee == "02d0139ce7427d6dfffd26a326c18be754ef1e64672b42694ba5b23ef6e6e7803d"
    assert invoice.payee == vector["expected"]["payee_pubkey"]


# --- the spec's invalid examples -----------------------------------------------------------------------

INVALID_KINDS = {
    "unknown feature 100": FeatureError,
    "checksum is invalid": ChecksumError,
    "(no 1)": FormatError,
    "(mixed case)": FormatError,
    "not recoverable": SignatureError,
    "too short": TruncatedError,
    "invalid multiplier": AmountError,
    "sub-millisatoshi": AmountError,
    "missing required `s`": MissingFieldError,
    "high-s": SignatureError,
}
# Failures of integrity stay failures with strict=False; these two only make an invoice unpayable.
LENIENT_ACCEPTS = (FeatureError, MissingFieldError)


def invalid_kind(reason: str) -> type[InvoiceError]:
    kinds = [kind for key, kind in INVALID_KINDS.items() if key in reason.lower()]
    assert len(kinds) == 1, f"reason {reason!r} matches {len(kinds)} kinds"
    return kinds[0]


def test_every_invalid_example_has_a_kind() -> None:
    assert sorted(invalid_kind(vector["reason"]).__name__ for vector in INVALID) == sorted(
        kind.__name__ for kind in INVALID_KINDS.values()
    )


@pytest.mark.parametrize("index", range(len(INVALID)), ids=[v["reason"][:40] for v in INVALID])
@pytest.mark.parametrize("verify", [True, False])
def test_invalid_spec_example_raises_its_own_kind(index: int, verify: bool) -> None:
    vector = INVALID[index]
    kind = invalid_kind(vector["reason"])
    if not verify and kind is SignatureError:  # the signature is exactly what verify=False does not check
        payee = SPEC_PUBKEY if "'n' field" in vector["reason"] else None
        assert ln.decode(vector["invoice"], verify=False).payee == payee
        return
    with pytest.raises(InvoiceError) as info:
        ln.decode(vector["invoice"], verify=verify)
    assert type(info.value) is kind, f"{vector['reason']}: got {type(info.value).__name__}: {info.value}"

    lenient = decoded_or_error(vector["invoice"], verify=verify, strict=False)
    if kind in LENIENT_ACCEPTS:
        assert isinstance(lenient, ln.Invoice) and lenient.warnings
    else:
        assert type(lenient) is kind


def test_bad_checksum_example_is_only_a_checksum_error() -> None:
    """It is a legacy invoice without s; with its last character restored only that shows."""
    vector = next(v for v in INVALID if "checksum" in v["reason"])
    assert vector["invoice"].endswith("t")
    restored = vector["invoice"][:-1] + "y"
    with pytest.raises(MissingFieldError):
        ln.decode(restored)
    invoice = ln.decode(restored, strict=False)
    assert invoice.amount_msat == 250_000_000 and invoice.payee == SPEC_PUBKEY


def test_no_separator_example_decodes_once_the_prefix_is_back() -> None:
    vector = next(v for v in INVALID if "(no 1)" in v["reason"])
    invoice = ln.decode("lnbc2500u1" + vector["invoice"], strict=False)
    assert invoice.payee == SPEC_PUBKEY and invoice.amount_msat == 250_000_000


def test_mixed_case_example_fails_on_case_not_on_its_missing_s() -> None:
    vector = next(v for v in INVALID if "mixed case" in v["reason"])
    with pytest.raises(FormatError, match="case"):
        ln.decode(vector["invoice"], strict=False)
    for text in (vector["invoice"].lower(), vector["invoice"].upper()):
        assert ln.decode(text, strict=False).payee == SPEC_PUBKEY


def test_unrecoverable_signature_example_is_otherwise_valid() -> None:
    vector = next(v for v in INVALID if "recoverable" in v["reason"])
    invoice = ln.decode(vector["invoice"], verify=False)
    assert invoice.warnings == () and invoice.payee is None
    assert invoice.signature.endswith("02")  # recovery id 2: x = r + n, beyond the field


@pytest.mark.parametrize(("reason", "good_hrp", "amount_msat"), [
    ("multiplier", "lnbc2500u", 250_000_000),
    ("sub-millisatoshi", "lnbc2500000000p", 250_000_000),
])  # fmt: skip
def test_bad_amount_examples_fail_only_on_the_amount(reason: str, good_hrp: str, amount_msat: int) -> None:
    vector = next(v for v in INVALID if reason in v["reason"])
    fixed = recode(vector["invoice"], hrp=good_hrp)  # the signature covers the old hrp: skip verification
    invoice = ln.decode(fixed, verify=False)
    assert invoice.amount_msat == amount_msat and invoice.warnings == ()


def test_missing_s_example_is_only_missing_s() -> None:
    vector = next(v for v in INVALID if "`s`" in v["reason"])
    with pytest.raises(MissingFieldError) as info:
        ln.decode(vector["invoice"])
    assert info.value.field == "s"
    invoice = ln.decode(vector["invoice"], strict=False)
    assert invoice.payment_secret is None
    assert len(invoice.warnings) == 1 and "'s'" in invoice.warnings[0]
    assert invoice.payee.startswith("0212cfa0")  # the note: a reused signature recovers an unrelated key


def test_unknown_even_feature_example_is_only_the_feature() -> None:
    vector = next(v for v in INVALID if "feature 100" in v["reason"])
    with pytest.raises(FeatureError, match="100") as info:
        ln.decode(vector["invoice"])
    assert info.value.field == "9"
    invoice = ln.decode(vector["invoice"], strict=False)
    assert Feature(100, None) in invoice.features and invoice.payee == SPEC_PUBKEY
    assert len(invoice.warnings) == 1 and "100" in invoice.warnings[0]


def test_high_s_with_n_example_fails_on_high_s_only() -> None:
    """Made low-S (same r, s -> n - s), the same invoice verifies against its n."""
    vector = next(v for v in INVALID if "high-S" in v["reason"])
    with pytest.raises(SignatureError, match="high-S"):
        ln.decode(vector["invoice"], strict=False)
    _, data = split(vector["invoice"])
    signature = bytes(convertbits(data[-104:], 5, 8, False))
    assert int.from_bytes(signature[32:64], "big") > CURVE_ORDER // 2
    low_s = recode(vector["invoice"], data=data[:-104] + groups_of(high_s(signature)))
    invoice = ln.decode(low_s)
    assert invoice.payee == SPEC_PUBKEY
    assert ln.decode(vector["invoice"], verify=False).payee == SPEC_PUBKEY


# --- input as people paste it -------------------------------------------------------------------------

ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


def escaped(text: str) -> str:
    return "".join(f"%{ord(char):02X}" if i % 3 == 0 else char for i, char in enumerate(text))


PASTED_FORMS = {
    "upper": lambda s: s.upper(),
    "spaces": lambda s: f"  {s}  ",
    "newlines": lambda s: f"\n\t{s}\r\n",
    "upper+newline": lambda s: f"{s.upper()}\n",
    "lightning:": lambda s: f"lightning:{s}",
    "LIGHTNING:": lambda s: f"LIGHTNING:{s.upper()}",
    "Lightning: mixed-case scheme": lambda s: f"Lightning:{s}",
    "lightning://": lambda s: f"lightning://{s}",
    "LIGHTNING:// padded": lambda s: f" LIGHTNING://{s.upper()} \n",
    "bip21": lambda s: f"bitcoin:{ADDRESS}?amount=0.0025&lightning={s}",
    "bip21 upper": lambda s: f"BITCOIN:{ADDRESS.upper()}?AMOUNT=0.0025&LIGHTNING={s.upper()}",
    "bip21 key case": lambda s: f"bitcoin:{ADDRESS}?Lightning={s}&label=coffee",
    "bip21 escaped": lambda s: f"bitcoin:{ADDRESS}?amount=1&lightning={escaped(s)}&message=hi%20there",
    "bip21 no address": lambda s: f"bitcoin:?lightning={s}",
    "bip21 padded": lambda s: f"  bitcoin:{ADDRESS}?lightning={s}\n",
}


@pytest.mark.parametrize("form", PASTED_FORMS)
@pytest.mark.parametrize("index", [1, 5, 14])
def test_pasted_forms_decode_identically(form: str, index: int) -> None:
    text = VALID[index]["invoice"]
    assert ln.decode(PASTED_FORMS[form](text)) == ln.decode(text)
    assert ln.decode(PASTED_FORMS[form](text)).bolt11 == text.lower()


@pytest.mark.parametrize("text", [
    "", "   ", "lightning:", "bitcoin:bc1qxyz?amount=1", "bitcoin:?lightning=", "LIGHTNING://",
    "lnbc", "lnbc1", "1" * 200, "lnbc2500u1 " + "q" * 200, "ln bc1" + "q" * 200,
])  # fmt: skip
def test_not_an_invoice_is_a_format_error(text: str) -> None:
    with pytest.raises(FormatError):
        ln.decode(text)


@pytest.mark.parametrize("value", [None, 12345, 3.5, b"lnbc1", float("nan"), ["lnbc"]])
def test_non_string_input_is_a_format_error(value: object) -> None:
    with pytest.raises(FormatError):
        ln.decode(value)  # type: ignore[arg-type]


def padded_invoice(length: int) -> str:
    """A valid signed invoice of exactly ``length`` characters, filled out with unknown ``v`` fields."""
    base = [P, S, D, FEATURES]
    fixed = len("lnbc") + 1 + 7 + sum(map(len, base)) + 104 + 6
    remaining = length - fixed
    fillers = []
    while remaining:
        size = min(remaining, 3 + 1023)
        if 0 < remaining - size < 3:
            size -= 3
        fillers.append(tagged("v", [7] * (size - 3)))
        remaining -= size
    invoice = build("lnbc", *base, *fillers)
    assert len(invoice) == length
    return invoice


def test_longest_accepted_invoice_is_7089_characters() -> None:
    longest = padded_invoice(7089)
    invoice = ln.decode(longest)
    assert invoice.payee == SPEC_PUBKEY and invoice.warnings == ()
    assert ln.decode(f"  lightning:{longest.upper()}\n") == invoice  # wrapping does not count
    with pytest.raises(TooLongError, match="7090"):
        ln.decode(padded_invoice(7090))
    with pytest.raises(TooLongError):
        ln.decode("lnbc1" + "q" * 100_000)


# --- reader rules, one at a time -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hrp", "network"), [("lnbc", "bc"), ("lntb", "tb"), ("lntbs", "tbs"), ("lnbcrt", "bcrt")]
)
def test_known_prefixes(hrp: str, network: str) -> None:
    for amount, amount_msat in (("", None), ("10u", 1_000_000), ("1", 10**11)):
        invoice = ln.decode(build(hrp + amount, P, S, D, FEATURES))
        assert (invoice.network, invoice.amount_msat, invoice.payee) == (network, amount_msat, SPEC_PUBKEY)


@pytest.mark.parametrize("hrp", ["lnsb10u", "lnxy", "lnltc1m", "lnbt", "bc", "lightning", "tb10u", "ln"])
def test_unknown_prefix_is_a_network_error(hrp: str) -> None:
    for strict in (True, False):
        with pytest.raises(NetworkError):
            ln.decode(build(hrp, P, S, D), strict=strict)


@pytest.mark.parametrize(("amount_msat", "amount_text"), [
    (1, "10p"), (123, "1230p"), (100, "1n"), (2_500, "25n"), (100_000, "1u"), (250_000_000, "2500u"),
    (10**8, "1m"), (2 * 10**9, "20m"), (10**11, "1"), (21_000_000 * 10**11, "21000000"),
])  # fmt: skip
def test_each_multiplier_via_the_encoder(amount_msat: int, amount_text: str) -> None:
    text = encode(amount_msat=amount_msat)
    assert text.startswith(f"lnbc{amount_text}1")
    invoice = ln.decode(text)
    assert invoice.amount_msat == amount_msat
    assert invoice.amount_sat == amount_msat / 1000


def test_no_amount_is_none() -> None:
    invoice = ln.decode(build("lnbc", P, S, D))
    assert invoice.amount_msat is None and invoice.amount_sat is None


@pytest.mark.parametrize(("amount_text", "amount_msat"), [
    ("2500000000p", 250_000_000), ("2500000n", 250_000_000), ("250000u", 25_000_000_000),
    ("1000m", 10**11), ("10p", 1), ("9678785340p", 967_878_534), ("1000000000000000n", 10**17),
    ("9" * 40, int("9" * 40) * 10**11),  # far beyond int64: kept exactly
])  # fmt: skip
def test_non_shortest_and_large_amounts(amount_text: str, amount_msat: int) -> None:
    assert ln.decode(build("lnbc" + amount_text, P, S, D)).amount_msat == amount_msat


@pytest.mark.parametrize("amount_text", ["1p", "15p", "2500000001p", "9999999999p"])
def test_pico_amount_must_end_in_zero(amount_text: str) -> None:
    for strict in (True, False):
        with pytest.raises(AmountError, match="millisatoshi"):
            ln.decode(build("lnbc" + amount_text, P, S, D), strict=strict)


@pytest.mark.parametrize("amount_text", ["2500x", "25.00u", "m", "1mm", "2500u1", "-5u", "5_u", "1e3", "u5"])
def test_malformed_amount_is_an_amount_error(amount_text: str) -> None:
    text = build("lnbc" + amount_text, P, S, D)
    for strict in (True, False):
        with pytest.raises(AmountError):
            ln.decode(text, strict=strict)


@pytest.mark.parametrize(
    ("amount_text", "amount_msat"), [("02500u", 250_000_000), ("0010p", 1), ("01", 10**11)]
)
def test_leading_zero_in_amount(amount_text: str, amount_msat: int) -> None:
    text = build("lnbc" + amount_text, P, S, D)
    with pytest.raises(AmountError, match="leading zero"):
        ln.decode(text)
    invoice = ln.decode(text, strict=False)
    assert invoice.amount_msat == amount_msat
    assert len(invoice.warnings) == 1 and "leading zero" in invoice.warnings[0]


@pytest.mark.parametrize("digits", [6000, 4400, 4295, 1000, 60])
def test_absurdly_long_amount_is_an_amount_error_not_a_bare_value_error(digits: int) -> None:
    """Python refuses int/str conversions beyond 4300 digits with a bare ValueError; decode must not leak it,
    and whatever it accepts must stay printable (repr of the Invoice)."""
    text = build("lnbc" + "9" * digits, P, S, D)
    for strict in (True, False):
        result = decoded_or_error(text, strict=strict)
        if isinstance(result, InvoiceError):
            assert type(result) is AmountError
        else:
            assert result.amount_msat == (10**digits - 1) * 10**11
            assert repr(result)
    assert digits < 4300 - 11 or isinstance(decoded_or_error(text), AmountError)


def test_missing_payment_secret() -> None:
    text = encode(payment_secret=None)
    with pytest.raises(MissingFieldError) as info:
        ln.decode(text)
    assert info.value.field == "s"
    invoice = ln.decode(text, strict=False)
    assert invoice.payment_secret is None and invoice.payee == SPEC_PUBKEY
    assert len(invoice.warnings) == 1 and "'s'" in invoice.warnings[0]


def test_missing_payment_hash_fails_even_lenient() -> None:
    for strict in (True, False):
        with pytest.raises(MissingFieldError) as info:
            ln.decode(build("lnbc", S, D), strict=strict)
        assert info.value.field == "p"


def test_neither_description_nor_hash() -> None:
    text = build("lnbc", P, S, FEATURES)
    with pytest.raises(MissingFieldError):
        ln.decode(text)
    invoice = ln.decode(text, strict=False)
    assert invoice.description is None and invoice.description_hash is None
    assert len(invoice.warnings) == 1 and "description" in invoice.warnings[0]


@pytest.mark.parametrize("order", ["dh", "hd"])
def test_both_description_and_hash(order: str) -> None:
    text = build("lnbc", P, S, *(D if tag == "d" else H for tag in order))
    with pytest.raises(FormatError, match="both"):
        ln.decode(text)
    invoice = ln.decode(text, strict=False)
    assert invoice.description == "coffee"
    assert invoice.description_hash == hashlib.sha256(b"coffee").hexdigest()
    assert len(invoice.warnings) == 1 and "both" in invoice.warnings[0]


@pytest.mark.parametrize("tag", "pshn")
@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_length_fixed_field(tag: str, delta: int) -> None:
    right = {"p": P, "s": S, "h": H, "n": N()}[tag]
    groups = right[3:]
    groups = groups[:-1] if delta < 0 else [*groups, 0]
    bad = tagged(tag, groups)
    fields = [P, S, H if tag == "h" else D, N()]
    # The bad field follows p (a second p for tag p, else before the good one): skipped, the good one counts.
    text = build("lnbc", P, bad, *fields[1:])
    with pytest.raises(FieldLengthError) as info:
        ln.decode(text)
    assert info.value.field == tag
    invoice = ln.decode(text, strict=False)
    assert (invoice.payment_hash, invoice.payment_secret, invoice.payee) == (
        PAYMENT_HASH.hex(),
        SECRET.hex(),
        SPEC_PUBKEY,
    )
    assert len(invoice.warnings) == 1 and f"'{tag}'" in invoice.warnings[0]


def test_unknown_odd_feature_is_kept_and_ignored() -> None:
    text = encode(features=[8, 14, 17, 99, 255])
    invoice = ln.decode(text)
    assert invoice.features == (
        Feature(8, "var_onion_optin"),
        Feature(14, "payment_secret"),
        Feature(17, "basic_mpp"),
        Feature(99, None),
        Feature(255, None),
    )
    assert invoice.warnings == ()
    assert [str(feature) for feature in invoice.features][-1] == "unknown_255"
    assert [feature.required for feature in invoice.features] == [True, True, False, False, False]


@pytest.mark.parametrize("unknown", [[100], [100, 102], [256], [5000]])
def test_unknown_even_feature(unknown: list[int]) -> None:
    text = encode(features=[8, 14, *unknown])
    with pytest.raises(FeatureError) as info:
        ln.decode(text)
    assert info.value.field == "9"
    assert all(str(bit) in str(info.value) for bit in unknown)
    invoice = ln.decode(text, strict=False)
    assert invoice.feature_bits == (8, 14, *unknown)
    assert len(invoice.warnings) == 1 and all(str(bit) in invoice.warnings[0] for bit in unknown)


def test_no_feature_field() -> None:
    assert ln.decode(build("lnbc", P, S, D)).features == ()


def test_n_field_present_and_correct() -> None:
    text = encode(private_key=OTHER_KEY, include_payee=True)
    assert ln.decode(text).payee == OTHER_PUBKEY
    assert ln.decode(text, verify=False).payee == OTHER_PUBKEY
    assert ln.decode(build("lnbc", P, S, D, N(OTHER_KEY), key=OTHER_KEY)).payee == OTHER_PUBKEY


def test_n_field_of_another_key_is_a_signature_error() -> None:
    text = build("lnbc", P, S, D, N(OTHER_KEY), key=SPEC_KEY)
    for strict in (True, False):
        with pytest.raises(SignatureError):
            ln.decode(text, strict=strict)
    assert ln.decode(text, verify=False).payee == OTHER_PUBKEY  # what it claims, unchecked


def test_n_field_off_the_curve_is_a_signature_error() -> None:
    not_a_point = bytes([2]) + b"\xff" * 32
    with pytest.raises(SignatureError) as info:
        ln.decode(build("lnbc", P, S, D, tagged("n", groups_of(not_a_point))))
    assert info.value.field == "n"


def test_high_s_signature() -> None:
    """High-S is accepted with recovery (same key), refused when n is given."""
    assert ln.decode(build("lnbc", P, S, D, tweak=high_s)).payee == SPEC_PUBKEY
    with_n = build("lnbc", P, S, D, N(), tweak=high_s)
    with pytest.raises(SignatureError, match="high-S"):
        ln.decode(with_n)
    assert ln.decode(build("lnbc", P, S, D, N())).payee == SPEC_PUBKEY


@pytest.mark.parametrize("recovery_id", [4, 31, 255])
def test_recovery_id_beyond_3_is_a_signature_error(recovery_id: int) -> None:
    text = build("lnbc", P, S, D, tweak=lambda sig: sig[:64] + bytes([recovery_id]))
    for verify in (True, False):
        with pytest.raises(SignatureError):
            ln.decode(text, verify=verify)


def test_verify_false_skips_the_signature() -> None:
    plain = build("lnbc", P, S, D)
    assert ln.decode(plain, verify=False).payee is None
    assert ln.decode(build("lnbc", P, S, D, N()), verify=False).payee == SPEC_PUBKEY
    zeroed = build("lnbc", P, S, D, tweak=lambda sig: bytes(65))
    with pytest.raises(SignatureError):
        ln.decode(zeroed)
    invoice = ln.decode(zeroed, verify=False)
    assert invoice.payee is None and invoice.signature == "00" * 65
    # Another valid signature, of other data: without n it recovers some other key; with n it fails.
    tea = tagged("d", groups_of(b"tea"))
    assert ln.decode(with_signature_of(plain, build("lnbc", P, S, tea))).payee != SPEC_PUBKEY
    forged = with_signature_of(build("lnbc", P, S, D, N()), build("lnbc", P, S, tea, N()))
    with pytest.raises(SignatureError):
        ln.decode(forged)
    assert ln.decode(forged, verify=False).payee == SPEC_PUBKEY


# --- fallback addresses --------------------------------------------------------------------------------

HASH20 = bytes(range(100, 120))
HASH32 = bytes(range(200, 232))
XONLY = bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
SEGWIT_HRP = {"bc": "bc", "tb": "tb", "tbs": "tb", "bcrt": "bcrt"}
BASE58_VERSIONS = {"bc": (0, 5), "tb": (111, 196), "tbs": (111, 196), "bcrt": (111, 196)}
PREFIXES = {  # what the rendered addresses of each kind start with
    "bc": {"p2pkh": ("1",), "p2sh": ("3",), "p2wpkh": ("bc1q",), "p2wsh": ("bc1q",), "p2tr": ("bc1p",)},
    "tb": {"p2pkh": ("m", "n"), "p2sh": ("2",), "p2wpkh": ("tb1q",), "p2wsh": ("tb1q",), "p2tr": ("tb1p",)},
    "bcrt": {
        "p2pkh": ("m", "n"),
        "p2sh": ("2",),
        "p2wpkh": ("bcrt1q",),
        "p2wsh": ("bcrt1q",),
        "p2tr": ("bcrt1p",),
    },
}
PREFIXES["tbs"] = PREFIXES["tb"]


def fallback(network: str, kind: str) -> tuple[list[int], str]:
    """(the f field, the address it must render as) for one kind of fallback."""
    p2pkh, p2sh = BASE58_VERSIONS[network]
    version, program, address = {
        "p2pkh": (17, HASH20, base58.b58encode_check(bytes([p2pkh]) + HASH20).decode()),
        "p2sh": (18, HASH20, base58.b58encode_check(bytes([p2sh]) + HASH20).decode()),
        "p2wpkh": (0, HASH20, segwit_address(SEGWIT_HRP[network], 0, HASH20)),
        "p2wsh": (0, HASH32, segwit_address(SEGWIT_HRP[network], 0, HASH32)),
        "p2tr": (1, XONLY, segwit_address(SEGWIT_HRP[network], 1, XONLY)),
    }[kind]
    return tagged("f", [version, *groups_of(program)]), address


@pytest.mark.parametrize("kind", ["p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr"])
@pytest.mark.parametrize("network", ["bc", "tb", "tbs", "bcrt"])
def test_fallback_address_on_every_network(network: str, kind: str) -> None:
    field, address = fallback(network, kind)
    invoice = ln.decode(build("ln" + network, P, S, D, field))
    assert invoice.fallback_addresses == (address,)
    assert address.startswith(PREFIXES[network][kind])
    if kind.startswith("p2w") or kind == "p2tr":
        assert bech32_constant(address) == (1 if kind != "p2tr" else 0x2BC830A3)


def test_p2tr_fallback_matches_the_spec_example() -> None:
    assert ln.decode(VALID[9]["invoice"]).fallback_addresses == (
        "bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm",
    )


@pytest.mark.parametrize("version", [2, 16])
def test_future_witness_versions_render_as_bech32m(version: int) -> None:
    program = bytes(range(2, 2 + 30))
    invoice = ln.decode(build("lnbc", P, S, D, tagged("f", [version, *groups_of(program)])))
    assert invoice.fallback_addresses == (segwit_address("bc", version, program),)


@pytest.mark.parametrize("version", [19, 20, 31])
def test_unknown_fallback_version_is_skipped(version: int) -> None:
    first, first_address = fallback("bc", "p2wpkh")
    last, last_address = fallback("bc", "p2pkh")
    unknown = tagged("f", [version, *groups_of(HASH20)])
    invoice = ln.decode(build("lnbc", P, S, D, first, unknown, last))
    assert invoice.fallback_addresses == (first_address, last_address)
    assert invoice.warnings == ()


def test_several_fallbacks_keep_their_order() -> None:
    fields, addresses = zip(*(fallback("tb", kind) for kind in ("p2tr", "p2sh", "p2wsh", "p2pkh", "p2wpkh")))
    assert ln.decode(build("lntb", P, S, D, *fields)).fallback_addresses == addresses


# --- route hints ---------------------------------------------------------------------------------------

ROUTE_NODE = pubkey_of(OTHER_KEY)
MAX_SCID = (0xFFFFFF << 40) | (0xFFFFFF << 16) | 0xFFFF


def test_route_hint_fields_are_unsigned() -> None:
    hops = [
        (ROUTE_NODE, MAX_SCID, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF),
        (pubkey_of(SPEC_KEY), (589390 << 40) | (3312 << 16) | 1, 2**31, 2**31, 2**15),
        (ROUTE_NODE, 0, 0, 0, 0),
    ]
    invoice = ln.decode(build("lnbc", P, S, D, tagged("r", route_groups(*hops))))
    assert invoice.route_hints == ((
        Hop(ROUTE_NODE.hex(), "16777215x16777215x65535", 4294967295, 4294967295, 65535),
        Hop(SPEC_PUBKEY, "589390x3312x1", 2**31, 2**31, 2**15),
        Hop(ROUTE_NODE.hex(), "0x0x0", 0, 0, 0),
    ),)  # fmt: skip


@pytest.mark.parametrize("hop_count", [1, 4, 5, 6, 10, 12])
def test_every_hop_of_a_route_is_kept(hop_count: int) -> None:
    hops = [(ROUTE_NODE, (700_000 + i << 40) | (i << 16) | i, i, 10 * i, 40 + i) for i in range(hop_count)]
    invoice = ln.decode(build("lnbc", P, S, D, tagged("r", route_groups(*hops))))
    assert len(invoice.route_hints) == 1
    assert [hop.short_channel_id for hop in invoice.route_hints[0]] == [
        f"{700_000 + i}x{i}x{i}" for i in range(hop_count)
    ]
    assert [hop.cltv_expiry_delta for hop in invoice.route_hints[0]] == [40 + i for i in range(hop_count)]


def test_several_route_hints_keep_their_order() -> None:
    routes = [[(ROUTE_NODE, route << 40, route, 0, 9)] * (route + 1) for route in range(3)]
    invoice = ln.decode(build("lnbc", P, S, D, *(tagged("r", route_groups(*route)) for route in routes)))
    assert [len(route) for route in invoice.route_hints] == [1, 2, 3]
    assert [route[0].fee_base_msat for route in invoice.route_hints] == [0, 1, 2]


@pytest.mark.parametrize("size", [0, 50, 52, 101])
def test_route_hint_of_a_partial_hop(size: int) -> None:
    text = build("lnbc", P, S, D, tagged("r", groups_of(bytes(size))))
    with pytest.raises(FieldLengthError) as info:
        ln.decode(text)
    assert info.value.field == "r"
    invoice = ln.decode(text, strict=False)
    assert invoice.route_hints == () and len(invoice.warnings) == 1


# --- defaults, unknown and odd fields --------------------------------------------------------------------


def test_defaults_for_expiry_and_min_final_cltv() -> None:
    invoice = ln.decode(encode())
    assert (invoice.expiry, invoice.min_final_cltv_expiry) == (3600, 18)
    assert invoice.expires_at - invoice.created_at == timedelta(seconds=3600)
    invoice = ln.decode(encode(expiry=86_400 * 365, min_final_cltv_expiry=144))
    assert (invoice.expiry, invoice.min_final_cltv_expiry) == (86_400 * 365, 144)
    assert invoice.expires_at == EPOCH + timedelta(seconds=TIMESTAMP + 86_400 * 365)
    invoice = ln.decode(encode(expiry=2**64 - 1))
    assert invoice.expiry == 2**64 - 1 and invoice.expires_at is None  # beyond datetime: None, no exception


def test_first_x_and_c_fields_count() -> None:
    twice = [
        tagged("x", int_groups(60)),
        tagged("x", int_groups(120)),
        tagged("c", int_groups(40)),
        tagged("c", [9]),
    ]
    invoice = ln.decode(build("lnbc", P, S, D, *twice))
    assert (invoice.expiry, invoice.min_final_cltv_expiry) == (60, 40)


@pytest.mark.parametrize("tag", "psh9md")
def test_of_several_single_valued_fields_the_first_counts(tag: str) -> None:
    """The spec's writer puts the preferred field first; a reader takes it, as for x and c above."""
    first, second = {
        "p": (P, tagged("p", groups_of(bytes(32)))),
        "s": (S, tagged("s", groups_of(bytes(32)))),
        "h": (H, tagged("h", groups_of(bytes(32)))),
        "9": (FEATURES, tagged("9", int_groups(1 << 17))),
        "m": (tagged("m", groups_of(b"\x01")), tagged("m", groups_of(b"\x02"))),
        "d": (D, tagged("d", groups_of(b"tea"))),
    }[tag]
    rest = [field for field in (P, S, D, FEATURES) if field[0] != first[0]]
    if tag == "h":
        rest.remove(D)
    invoice = ln.decode(build("lnbc", first, *rest, second))
    reference = ln.decode(build("lnbc", first, *rest))
    assert invoice.warnings == (f"more than one '{tag}' field, the first is used",)
    assert same_content(invoice, reference, warnings=())


def test_unknown_tags_are_skipped() -> None:
    unknown_codes = [code for code in range(32) if CHARSET[code] not in BOLT11_TAGS]
    assert len(unknown_codes) == 21
    fillers = [tagged(code, groups_of(bytes([code]) * (code + 1))) for code in unknown_codes]
    reference = ln.decode(build("lnbc25m", P, S, D, FEATURES))
    invoice = ln.decode(build("lnbc25m", fillers[0], P, *fillers[1:10], S, D, *fillers[10:], FEATURES))
    assert same_content(invoice, reference)
    # An empty unknown field, and one as long as a field can be.
    invoice = ln.decode(build("lnbc", P, tagged("v", []), S, D, tagged("5", [31] * 1023)))
    assert invoice.payee == SPEC_PUBKEY and invoice.warnings == ()


def test_field_cut_off_by_the_signature_is_truncated() -> None:
    data = int_groups(TIMESTAMP, 7) + P + S + D + [CHARSET.index("d"), 1, 0]  # says 32 groups, has none
    text = bech32_encode("lnbc", data + groups_of(sign("lnbc", data)))
    with pytest.raises(TruncatedError):
        ln.decode(text, strict=False)


def test_payment_metadata() -> None:
    invoice = ln.decode(build("lnbc", P, S, D, tagged("m", groups_of(bytes.fromhex("01fafaf0")))))
    assert invoice.metadata == "01fafaf0"
    assert ln.decode(build("lnbc", P, S, D)).metadata is None


def test_description_that_is_not_utf8() -> None:
    text = build("lnbc", P, S, tagged("d", groups_of(b"caf\xe9")))
    with pytest.raises(FormatError, match="UTF-8"):
        ln.decode(text)
    invoice = ln.decode(text, strict=False)
    assert invoice.description == "caf\ufffd" and len(invoice.warnings) == 1


def test_unicode_description() -> None:
    text = "ナンセンス 1杯 ☕ 🇸🇻 e\u0301"
    assert ln.decode(build("lnbc", P, S, tagged("d", groups_of(text.encode())))).description == text


@pytest.mark.parametrize("timestamp", [0, 1, 9_223_372_036, 9_223_372_037, 2**34, 2**35 - 1])
def test_every_35_bit_timestamp_decodes(timestamp: int) -> None:
    text = encode(timestamp=timestamp)
    invoice = ln.decode(text)
    assert invoice.timestamp == timestamp
    assert invoice.created_at in (None, EPOCH + timedelta(seconds=timestamp))
    assert invoice.expires_at in (None, EPOCH + timedelta(seconds=timestamp + 3600))
    if timestamp == 2**35 - 1:
        assert invoice.created_at is None or invoice.created_at.year == 3058


def test_bit_2_is_an_unknown_required_feature() -> None:
    # BOLT 9 assigns initial_routing_sync only to bit 3; bit 2 is unassigned, so it is compulsory-unknown.
    text = build("lnbc", P, S, D, tagged("9", int_groups((1 << 2) | (1 << 8) | (1 << 14))))
    with pytest.raises(FeatureError, match="bit\\(s\\) 2"):
        ln.decode(text)
    assert ln.decode(build("lnbc", P, S, D, tagged("9", int_groups(1 << 3)))).features == (
        Feature(3, "initial_routing_sync"),
    )


@pytest.mark.parametrize("tag", ["x", "c"])
def test_a_second_expiry_or_cltv_field_is_ignored_with_a_warning(tag: str) -> None:
    invoice = ln.decode(build("lnbc", P, S, D, tagged(tag, int_groups(60)), tagged(tag, int_groups(99))))
    assert (invoice.expiry if tag == "x" else invoice.min_final_cltv_expiry) == 60
    assert invoice.warnings == (f"more than one '{tag}' field, the first is used",)


def test_invisible_characters_pasted_around_an_invoice_are_stripped() -> None:
    text = VALID[1]["invoice"]
    for wrapped in (f"\ufeff{text}", f"\u200b{text}\u200b\n", f" lightning:{text}\u2060 "):
        assert ln.decode(wrapped).bolt11 == text
