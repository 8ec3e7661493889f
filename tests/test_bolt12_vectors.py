"""The BOLT 12 test vectors (tests/data/bolt12/, copied from the spec): offers, format strings, merkle trees.

Every valid offer decodes to exactly its ``fields`` as ``records`` and to the semantic fields its
description states; every invalid one raises an ``InvoiceError``. A few invalid vectors are broken in
more ways than their description says (a TLV length or a BigSize prefix that does not match the intent,
so the stream fails before the rule they name is reached): for those only ``InvoiceError`` is asserted
here, and test_bolt12_offer.py builds well-formed offers that break exactly the named rule.
"""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone
from pathlib import Path

import pytest
from coincurve import PublicKeyXOnly

import lnnotebook as ln
from lnnotebook.bolt11.errors import InvoiceError
from lnnotebook.bolt12 import (
    NotAnOfferError,
    OfferError,
    OfferFieldError,
    OfferFormatError,
    OfferRuleError,
    OfferStreamError,
)
from lnnotebook.bolt12.merkle import merkle_root, tagged_hash
from lnnotebook.bolt12.offer import BlindedHop, OfferFeature
from lnnotebook.bolt12.tlv import Record, read_stream

DATA = Path(__file__).resolve().parent / "data" / "bolt12"
OFFERS = json.loads((DATA / "offers-test.json").read_text(encoding="utf-8"))
FORMATS = json.loads((DATA / "format-string-test.json").read_text(encoding="utf-8"))
SIGNATURES = json.loads((DATA / "signature-test.json").read_text(encoding="utf-8"))
VALID = [vector for vector in OFFERS if vector["valid"]]
INVALID = [vector for vector in OFFERS if not vector["valid"]]

ISSUER = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"
BOB = "0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c"
KEY_02 = "02" * 33
BITCOIN = "6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000"
TESTNET = "43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000"
LIQUID = "1466275836220db2944ca059a3a10ef6fd2ea684b0688d2c379296888a206003"
BOB_HOPS = (BlindedHop(KEY_02, "00" * 16), BlindedHop(KEY_02, "11" * 8))

# What each valid vector's description (and "field info") says, as Offer attributes.
EXPECTED: dict[str, dict] = {
    "Minimal bolt12 offer": {"issuer_id": ISSUER, "description": None, "paths": ()},
    "with description (but no amount)": {"description": "Test vectors", "amount": None},
    "for testnet": {"chains": (TESTNET,), "networks": ("testnet",)},
    "for bitcoin (redundant)": {"chains": (BITCOIN,), "networks": ("bitcoin",)},
    "for bitcoin or liquidv1": {"chains": (LIQUID, BITCOIN), "networks": ("liquidv1", "bitcoin")},
    "with metadata": {"metadata": "00" * 16},
    "with amount": {"amount": 10_000, "amount_msat": 10_000, "currency": None},
    "with currency": {"amount": 10_000, "amount_msat": None, "currency": "USD", "currency_exponent": 2},
    "with expiry": {
        "absolute_expiry": 0x7A4297D8,
        # 2035-01-01 in Adelaide, where the vector was written; in UTC:
        "expires_at": datetime(2034, 12, 31, 13, 30, tzinfo=timezone.utc),
    },
    "with issuer": {"issuer": "https://bolt12.org BOLT12 industries"},
    "with quantity": {"quantity_max": 5, "quantity_unlimited": False},
    "with unlimited (or unknown) quantity": {"quantity_max": 0, "quantity_unlimited": True},
    "with single quantity (weird but valid)": {"quantity_max": 1},
    "with feature": {"features": (OfferFeature(99, None),), "feature_bits": (99,)},
    "unknown odd field": {"description": "Test vectors"},
    "unknown odd experimental field": {"description": "Test vectors"},
}
PATH_VIA_BOB = (BOB, None, None, KEY_02, BOB_HOPS)
EXPECTED_PATHS: dict[str, tuple] = {
    "with blinded path via Bob (0x424242...), path_key 020202...": (PATH_VIA_BOB,),
    "same, with blinded path first_node_id using sciddir": ((None, "0x0x42", 0, KEY_02, BOB_HOPS),),
    "with no issuer_id and blinded path via Bob (0x424242...), path_key 020202...": (PATH_VIA_BOB,),
    "... and with second blinded path via 1x2x3 (direction 1), path_key 020202...": (
        PATH_VIA_BOB,
        (None, "1x2x3", 1, KEY_02, (BlindedHop(KEY_02, "00" * 16), BlindedHop(KEY_02, "22" * 8))),
    ),
}

# Invalid vectors whose failure is exactly the one they describe: (error class, field).
EXPECTED_ERRORS: dict[str, tuple[type, str]] = {
    "Malformed: fields out of order": (OfferStreamError, "tlv"),
    "Malformed: unknown even TLV type 78": (OfferRuleError, "tlv"),
    "Malformed: empty": (OfferStreamError, "tlv"),
    "Malformed: truncated at type": (OfferStreamError, "tlv"),
    "Malformed: truncated in length": (OfferStreamError, "tlv"),
    "Malformed: truncated after length": (OfferStreamError, "tlv"),
    "Malformed: truncated in description": (OfferStreamError, "tlv"),
    "Malformed: invalid offer_chains length": (OfferFieldError, "offer_chains"),
    "Malformed: truncated currency UTF-8": (OfferFieldError, "offer_currency"),
    "Malformed: invalid currency UTF-8": (OfferFieldError, "offer_currency"),
    "Malformed: truncated description UTF-8": (OfferFieldError, "offer_description"),
    "Malformed: invalid description UTF-8": (OfferFieldError, "offer_description"),
    "Malformed: truncated offer_paths": (OfferFieldError, "offer_paths"),
    "Malformed: truncated issuer UTF-8": (OfferFieldError, "offer_issuer"),
    "Malformed: invalid issuer UTF-8": (OfferFieldError, "offer_issuer"),
    "Malformed: invalid offer_issuer_id": (OfferFieldError, "offer_issuer_id"),
    "Contains type >= 80": (OfferRuleError, "tlv"),
    "Contains unknown feature 122": (OfferRuleError, "offer_features"),
    "Missing offer_description, but has offer_amount": (OfferRuleError, "offer_description"),
    "Missing offer_amount with offer_currency": (OfferRuleError, "offer_currency"),
    "Invalid: zero offer_amount": (OfferRuleError, "offer_amount"),
    "Invalid: zero offer_amount with currency": (OfferRuleError, "offer_amount"),
    "Missing offer_issuer_id and no offer_path": (OfferRuleError, "offer_issuer_id"),
    "Second offer_path is empty": (OfferRuleError, "offer_paths"),
    "offer_chains with zero entries": (OfferRuleError, "offer_chains"),
    "Bech32 padding exceeds 4-bit limit": (OfferFormatError, "bolt12"),
}
# Broken before the named rule is reached (see the module docstring).
GARBLED = {
    "Malformed: zero num_hops in blinded_path",
    "Malformed: truncated onionmsg_hop in blinded_path",
    "Malformed: bad first_node_id in blinded_path",
    "Malformed: bad path_key in blinded_path",
    "Malformed: bad blinded_node_id in onionmsg_hop",
    "Contains type > 1999999999",
    "Contains unknown even type (1000000002)",
}


def test_every_vector_is_classified():
    assert {vector["description"] for vector in VALID} == set(EXPECTED) | set(EXPECTED_PATHS)
    assert {vector["description"] for vector in INVALID} == set(EXPECTED_ERRORS) | GARBLED
    assert len(VALID) == 20 and len(INVALID) == 33


@pytest.mark.parametrize("vector", VALID, ids=lambda vector: vector["description"][:50])
def test_valid_offer(vector):
    offer = ln.decode_offer(vector["bolt12"])
    assert offer.records == tuple((field["type"], field["hex"]) for field in vector["fields"])
    assert all(
        len(value) == 2 * field["length"] for (_, value), field in zip(offer.records, vector["fields"])
    )
    assert offer.bolt12 == vector["bolt12"]
    assert offer.warnings == ()
    for name, value in EXPECTED.get(vector["description"], {}).items():
        assert getattr(offer, name) == value, name
    paths = EXPECTED_PATHS.get(vector["description"], ())
    assert [tuple(path) for path in offer.paths] == list(paths)
    by_type = dict(offer.records)
    assert offer.issuer_id == by_type.get(22)
    assert offer.description == (bytes.fromhex(by_type[10]).decode() if 10 in by_type else None)
    if 2 not in by_type:
        assert offer.chains == () and offer.networks == ("bitcoin",)
    assert offer.offer_id == merkle_root(read_stream(_stream(vector))).hex()
    # Lenient decoding of a valid offer is the same offer.
    assert ln.decode_offer(vector["bolt12"], strict=False) == offer


def _stream(vector: dict) -> bytes:
    return b"".join(
        _bigsize(field["type"]) + _bigsize(field["length"]) + bytes.fromhex(field["hex"])
        for field in vector["fields"]
    )


def _bigsize(value: int) -> bytes:
    if value < 0xFD:
        return bytes([value])
    if value < 0x10000:
        return b"\xfd" + value.to_bytes(2, "big")
    return b"\xfe" + value.to_bytes(4, "big") if value < 2**32 else b"\xff" + value.to_bytes(8, "big")


@pytest.mark.parametrize("vector", INVALID, ids=lambda vector: vector["description"][:50])
def test_invalid_offer(vector):
    with pytest.raises(InvoiceError) as caught:
        ln.decode_offer(vector["bolt12"])
    error = caught.value
    assert isinstance(error, OfferError) and str(error)
    expected = EXPECTED_ERRORS.get(vector["description"])
    if expected is not None:
        kind, field = expected
        assert type(error) is kind and error.field == field, (type(error), error.field, str(error))
    # Only the reader rules (MUST NOT respond) and invalid UTF-8 text become warnings with strict=False.
    if "UTF-8" in str(error):
        lenient = ln.decode_offer(vector["bolt12"], strict=False)
        (warning,) = [text for text in lenient.warnings if "UTF-8" in text]
        assert warning.startswith(str(error)) and "replaced" in warning
        value = {"offer_currency": lenient.currency, "offer_issuer": lenient.issuer}.get(error.field)
        assert "\ufffd" in (lenient.description if value is None else value)
    elif isinstance(error, OfferRuleError):
        lenient = ln.decode_offer(vector["bolt12"], strict=False)
        assert str(error) in lenient.warnings
        assert lenient.records == tuple(read_stream_pairs(vector["bolt12"]))
    else:
        with pytest.raises(type(error)):
            ln.decode_offer(vector["bolt12"], strict=False)


def read_stream_pairs(bolt12: str) -> list[tuple[int, str]]:
    from lnnotebook.bolt11.bech32 import text_to_bytes as to_bytes

    return [(record.type, record.value.hex()) for record in read_stream(to_bytes(bolt12[4:]))]


def test_lenient_values_of_rule_breaking_offers():
    vectors = {vector["description"]: vector["bolt12"] for vector in INVALID}
    zero = ln.decode_offer(vectors["Invalid: zero offer_amount with currency"], strict=False)
    assert zero.amount == 0 and zero.currency == "USD" and zero.amount_msat is None
    assert zero.description == ""
    features = ln.decode_offer(vectors["Contains unknown feature 122"], strict=False)
    assert features.feature_bits == (122,) and features.features[0].required
    nobody = ln.decode_offer(vectors["Missing offer_issuer_id and no offer_path"], strict=False)
    assert nobody.issuer_id is None and nobody.paths == () and len(nobody.warnings) == 1


@pytest.mark.parametrize("vector", FORMATS, ids=lambda vector: vector["comment"])
def test_format_strings(vector):
    canonical = FORMATS[0]["string"]
    if vector["valid"]:
        offer = ln.decode_offer(vector["string"])
        assert offer == ln.decode_offer(canonical)
        assert offer.bolt12 == canonical
    else:
        with pytest.raises(OfferFormatError) as caught:
            ln.decode_offer(vector["string"])
        assert caught.value.field == "bolt12"
        with pytest.raises(OfferFormatError):
            ln.decode_offer(vector["string"], strict=False)


# --- merkle trees (signature-test.json) ---------------------------------------------------------------


def _records_of(vector: dict) -> list[Record]:
    """The vector's TLV records, from the ``H(`LnLeaf`,<tlv>)`` keys of its leaves."""
    encoded = [next(key for key in leaf if key.startswith("H(`LnLeaf`"))[11:-1] for leaf in vector["leaves"]]
    return read_stream(bytes.fromhex("".join(encoded)))


@pytest.mark.parametrize("vector", SIGNATURES, ids=lambda vector: vector["comment"][:40])
def test_merkle_root(vector):
    records = _records_of(vector)
    assert records[0].encoded.hex() == vector["first-tlv"]
    assert merkle_root(records).hex() == vector["merkle"]
    nonce_tag = b"LnNonce" + bytes.fromhex(vector["first-tlv"])
    for record, leaf in zip(records, vector["leaves"]):
        leaf_hash, nonce_hash, branch = leaf.values()
        assert tagged_hash(b"LnLeaf", record.encoded).hex() == leaf_hash
        assert tagged_hash(nonce_tag, record.encoded[: record.type_size]).hex() == nonce_hash
        pair = sorted([bytes.fromhex(leaf_hash), bytes.fromhex(nonce_hash)])
        assert tagged_hash(b"LnBranch", pair[0] + pair[1]).hex() == branch


def test_invoice_request_vector_merkle_and_real_signature():
    """The lnr vector: our TLV reader and merkle root give the spec's root, and the BIP-340 signature in it
    verifies over H(tag, root) with the payer key: the tree is the one real signatures use."""
    (vector,) = [vector for vector in SIGNATURES if "bolt12" in vector]
    from lnnotebook.bolt11.bech32 import text_to_bytes as to_bytes

    records = read_stream(to_bytes(vector["bolt12"][4:]))
    assert merkle_root(records).hex() == vector["merkle"]  # the signature record (240) is left out
    digest = tagged_hash(vector["signature_tag"].encode(), bytes.fromhex(vector["merkle"]))
    assert digest.hex() == vector["H(signature_tag,merkle)"]
    by_type = {record.type: record.value for record in records}
    assert by_type[240].hex() == vector["signature"]
    payer = PublicKeyXOnly(by_type[88][1:])
    assert payer.verify(by_type[240], digest)
    assert not payer.verify(by_type[240], tagged_hash(b"lightninginvoice_requestsignature", digest))
    # And decode_offer refuses it, saying what it is.
    with pytest.raises(NotAnOfferError, match="invoice request"):
        ln.decode_offer(vector["bolt12"])


def test_errors_keep_their_field_across_pickling():
    (zero_chains,) = [
        vector for vector in INVALID if vector["description"] == "offer_chains with zero entries"
    ]
    with pytest.raises(OfferRuleError) as caught:
        ln.decode_offer(zero_chains["bolt12"])
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (
        type(copy) is OfferRuleError and copy.field == caught.value.field and str(copy) == str(caught.value)
    )
