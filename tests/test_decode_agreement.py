"""``decode`` and ``decode_frame`` agree on every field of every row, for every input the tests know.

``decode`` reads one invoice field by field; ``decode_frame`` reads a whole batch in numpy and hands any row
that is not plainly well formed to the decoder's own path (``lnnotebook.bolt11.batch``). These tests put
valid, invalid and mutated invoices, and invoices built field by field to break one rule each, into
shared batches, so that plain and odd rows sit side by side, and compare every column of each row with
what ``decode`` says of that text, in all four modes.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_decode_properties import INVALID, MODES, VALID, group_mutations, text_mutations

import lnnotebook as ln
from lnnotebook import InvoiceError
from lnnotebook.bolt11 import Raw, encode_fields, encode_invoice, feature_names
from lnnotebook.schema import INVOICE_COLUMNS
from lnnotebook.synthetic import random_invoice_params

INT64_MAX = 2**63 - 1
KEY = "e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"
HASH = "0001020304050607080900010203040506070809000102030405060708090102"


def expected_row(text: object, result: ln.Invoice | InvoiceError) -> dict[str, Any]:
    """The decode_frame row that ``decode``'s result stands for (None: a missing cell)."""
    row: dict[str, Any] = dict.fromkeys(INVOICE_COLUMNS)
    if isinstance(result, InvoiceError):
        row["error"], row["error_type"] = str(result), type(result).__name__
        row["input"] = text if isinstance(text, str) else None if _missing(text) else str(text)
        return row
    warnings = list(result.warnings)
    amount = result.amount_msat
    row["amount_overflow"] = amount is not None and amount > INT64_MAX
    if row["amount_overflow"]:
        warnings.append(f"amount of {amount} msat is beyond int64 (left missing)")
        amount = None
    expiry, cltv = result.expiry, result.min_final_cltv_expiry
    if expiry > INT64_MAX:
        warnings.append(f"expiry of {expiry} s is beyond int64 (left missing)")
        expiry = None
    if cltv > INT64_MAX:
        warnings.append(f"cltv of {cltv} is beyond int64 (left missing)")
        cltv = None
    row.update(
        bolt11=result.bolt11,
        network=result.network,
        amount_msat=amount,
        amount_sat=None if amount is None else amount / 1000,
        timestamp=result.timestamp,
        expiry=expiry,
        payment_hash=result.payment_hash,
        payment_secret=result.payment_secret,
        description=result.description,
        description_hash=result.description_hash,
        payee=result.payee,
        min_final_cltv_expiry=cltv,
        fallback_addresses=",".join(result.fallback_addresses) or None,
        route_hint_count=len(result.route_hints),
        hop_count=sum(map(len, result.route_hints)),
        features=feature_names(result.features) or None,
        feature_bits=",".join(str(bit) for bit in result.feature_bits) or None,
        metadata=result.metadata,
        signature=result.signature,
        warnings="; ".join(warnings) or None,
    )
    return row


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _cell(value: object) -> object:
    return None if _missing(value) or value is pd.NaT else value


def assert_agree(texts: list, verify: bool, strict: bool) -> None:
    frame = ln.decode_frame(texts, errors="coerce", verify=verify, strict=strict)
    assert len(frame) == len(texts)
    for position, text in enumerate(texts):
        try:
            result: ln.Invoice | InvoiceError = ln.decode(text, verify=verify, strict=strict)
        except InvoiceError as error:
            result = error
        expected = expected_row(text, result)
        got = frame.iloc[position]
        for column in INVOICE_COLUMNS:
            if column in ("created_at", "expires_at"):
                continue  # derived from timestamp and expiry, checked in test_frames
            assert _cell(got[column]) == expected[column], (column, text, verify, strict)


@pytest.mark.parametrize(("verify", "strict"), MODES)
def test_spec_vectors_generated_and_odd_inputs_agree(spec_vectors, generated, verify, strict) -> None:
    texts: list[Any] = [vector["invoice"] for vector in spec_vectors["valid"]]
    texts += [vector["invoice"] for vector in spec_vectors["invalid"]]
    texts += [text for _, text in generated[:600]]
    texts += [f'  "{text.upper()}"\n' for _, text in generated[600:640]]
    texts += ["lightning:" + text for _, text in generated[640:660]]
    texts += [None, float("nan"), 42, b"lnbc", "", "hello world"]
    random.Random(7).shuffle(texts)
    assert_agree(texts, verify, strict)


def _odd_fields(rng: random.Random) -> list[tuple[str, Any]]:
    """A field list that breaks one rule or takes an unusual shape, picked at random."""
    fields: list[tuple[str, Any]] = [("p", HASH), ("s", HASH[::-1]), ("d", "coffee"), ("9", [8, 14])]
    kind = rng.choice(
        [
            "duplicate d", "duplicate p", "short p", "long s", "short h", "h and d", "no s", "no d",
            "x leading zero", "c leading zero", "huge x", "huge c", "unknown even feature", "long features",
            "bad utf8", "empty d", "bad route", "unknown tag", "empty x", "metadata", "empty metadata",
            "n field", "bad n", "unknown fallback version", "short fallback", "p2pkh fallback",
        ]
    )  # fmt: skip
    if kind == "duplicate d":
        fields.append(("d", "tea"))
    elif kind == "duplicate p":
        fields.append(("p", HASH[::-1]))
    elif kind == "short p":
        fields[0] = ("p", Raw(tuple(rng.randrange(32) for _ in range(51))))
    elif kind == "long s":
        fields[1] = ("s", Raw(tuple(rng.randrange(32) for _ in range(53))))
    elif kind == "short h":
        fields.append(("h", Raw((1,) * 50)))
    elif kind == "h and d":
        fields.append(("h", HASH))
    elif kind == "no s":
        del fields[1]
    elif kind == "no d":
        del fields[2]
    elif kind in ("x leading zero", "c leading zero"):
        fields.append((kind[0], Raw((0, 3, 17))))
    elif kind in ("huge x", "huge c"):
        fields.append((kind[5], Raw((31,) * rng.choice([12, 13, 20]))))
    elif kind == "unknown even feature":
        fields[3] = ("9", [8, 14, 100])
    elif kind == "long features":
        fields[3] = ("9", [8, 14, 99, 255])
    elif kind == "bad utf8":
        fields[2] = ("d", Raw((31, 31, 31, 31)))
    elif kind == "empty d":
        fields[2] = ("d", "")
    elif kind == "bad route":
        fields.append(("r", Raw(tuple(rng.randrange(32) for _ in range(rng.choice([0, 40, 90]))))))
    elif kind == "unknown tag":
        fields.insert(rng.randrange(len(fields) + 1), ("v", Raw((1, 2, 3))))
    elif kind == "empty x":
        fields.append(("x", Raw(())))
    elif kind in ("metadata", "empty metadata"):
        fields.append(("m", Raw(() if kind == "empty metadata" else (1, 2, 3, 4, 5))))
    elif kind in ("n field", "bad n"):
        key = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"
        fields.append(("n", key if kind == "n field" else "02" + "11" * 32))
    elif kind == "unknown fallback version":
        fields.append(("f", Raw((19, *(rng.randrange(32) for _ in range(32))))))
    elif kind == "short fallback":
        fields.append(("f", Raw((17, 1, 2, 3))))
    else:
        fields.append(("f", "1RustyRX2oai4EYYDpQGWvEL62BBGqN9T"))
    rng.shuffle(fields)
    return fields


ODD = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ODD
@given(st.integers(0, 2**32), st.sampled_from(MODES))
def test_invoices_breaking_one_rule_agree_in_a_batch(seed: int, mode: tuple[bool, bool]) -> None:
    rng = random.Random(seed)
    texts: list[Any] = []
    for _ in range(12):
        fields = _odd_fields(rng)
        amount = rng.choice([None, 1000, 2**63 - 1, 2**63 + 10, 21 * 10**24])
        try:
            texts.append(encode_fields(fields, private_key=KEY, amount_msat=amount, timestamp=1_700_000_000))
        except ValueError:
            continue  # a combination the encoder refuses to write
        params = random_invoice_params(rng)
        texts.append(encode_invoice(**params))
    assert_agree(texts, *mode)


@ODD
@given(st.lists(text_mutations() | group_mutations() | st.sampled_from(VALID + INVALID), max_size=30))
def test_mutated_invoices_agree_in_a_batch(texts: list[str]) -> None:
    for verify, strict in MODES:
        assert_agree(texts, verify, strict)


@pytest.fixture
def per_row_texts(monkeypatch) -> list[object]:
    """The texts decode_frame hands to the decoder's per-row path, as they are handed over."""
    from lnnotebook.bolt11 import batch

    handed_over: list[object] = []
    per_row = batch.decoder.decode_rows

    def counting(texts, **options):
        handed_over.extend(texts)
        return per_row(texts, **options)

    monkeypatch.setattr(batch.decoder, "decode_rows", counting)
    return handed_over


def test_well_formed_invoices_never_take_the_per_row_path(per_row_texts) -> None:
    """The speed of decode_frame rests on its batch path: a well-formed invoice (any network, amount,
    description, fallback address, route or feature vector the generator makes, amounts beyond int64
    included) is decoded there, and only odd rows reach the decoder's per-row readers."""
    from lnnotebook.synthetic import generate_invoices

    invoices = generate_invoices(600, seed=3, workers=1)
    frame = ln.decode_frame(invoices, errors="coerce")
    assert frame["error"].isna().all()
    clean = [text for text in per_row_texts if not ln.decode(text, strict=False).warnings]
    assert not clean, f"{len(clean)} clean invoices took the per-row path, e.g. {clean[0][:60]}..."
    quoted = ln.decode_frame([f'"{invoices[0].upper()}"'])  # normalised first, then the batch path
    assert quoted.loc[0, "bolt11"] == invoices[0]


def test_a_given_payee_key_is_verified_on_the_batch_path_as_the_decoder_verifies_it(per_row_texts) -> None:
    """With ``n``, the batch path verifies the signature against ``n`` (low S, any recovery id), as the
    decoder does; a high S, another node's key or a key off the curve go to the decoder's own path, so
    each row reads exactly as ``decode`` reads it."""
    from test_decode_spec import (
        OTHER_KEY,
        OTHER_PUBKEY,
        SPEC_PUBKEY,
        D,
        N,
        P,
        S,
        build,
        groups_of,
        high_s,
        tagged,
    )

    def other_recovery_id(signature: bytes) -> bytes:
        return signature[:64] + bytes([signature[64] ^ 1])  # still valid for n, recovers another key

    texts = {
        "plain": build("lnbc", P, S, D, N()),
        "other recovery id": build("lnbc", P, S, D, N(), tweak=other_recovery_id),
        "high S": build("lnbc", P, S, D, N(), tweak=high_s),
        "signed by another node": build("lnbc", P, S, D, N(OTHER_KEY)),
        "key off the curve": build("lnbc", P, S, D, tagged("n", groups_of(b"\x02" + b"\xff" * 32))),
        "another node, its own n": build("lnbc", P, S, D, N(OTHER_KEY), key=OTHER_KEY),
    }
    frame = ln.decode_frame(list(texts.values()), errors="coerce").set_axis(list(texts))
    assert frame.loc["plain", "payee"] == frame.loc["other recovery id", "payee"] == SPEC_PUBKEY
    assert frame.loc["another node, its own n", "payee"] == OTHER_PUBKEY
    assert frame.loc["high S", "error"].endswith(
        "the signature is high-S, which the spec forbids when the payee key (n) is given"
    )
    assert frame.loc["signed by another node", "error_type"] == "SignatureError"
    assert frame.loc["key off the curve", "error_type"] == "SignatureError"
    assert set(per_row_texts) == {
        texts[name] for name in texts if name not in ("plain", "other recovery id", "another node, its own n")
    }
    for verify, strict in MODES:
        assert_agree(list(texts.values()), verify, strict)
