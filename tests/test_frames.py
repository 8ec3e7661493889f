"""``decode_frame``, ``hops_frame`` and the ``Series.ln`` accessor: columns, dtypes, values, errors."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from bech32_reference import CHARSET, bech32_encode
from coincurve import PrivateKey

import lnnotebook as ln
from lnnotebook import (
    AmountError,
    ChecksumError,
    FeatureError,
    FieldLengthError,
    InvoiceError,
    TruncatedError,
)
from lnnotebook.bolt11 import encode_invoice

KEY = hashlib.sha256(b"lnnotebook frame tests").hexdigest()
PAYEE = PrivateKey(bytes.fromhex(KEY)).public_key.format(compressed=True).hex()
PANDAS_LAST_SECOND = 9_223_372_036  # 2262-04-11T23:47:16Z, the last whole second of datetime64[ns]

STRING, INT, FLOAT, UTC = "string", "Int64", "Float64", "datetime64[ns, UTC]"
BOOL = "boolean"
INVOICE_DTYPES = {
    "bolt11": STRING,
    "network": STRING,
    "amount_msat": INT,
    "amount_sat": FLOAT,
    "amount_overflow": BOOL,
    "timestamp": INT,
    "created_at": UTC,
    "expires_at": UTC,
    "expiry": INT,
    "payment_hash": STRING,
    "payment_secret": STRING,
    "description": STRING,
    "description_hash": STRING,
    "payee": STRING,
    "min_final_cltv_expiry": INT,
    "fallback_addresses": STRING,
    "route_hint_count": INT,
    "hop_count": INT,
    "features": STRING,
    "feature_bits": STRING,
    "metadata": STRING,
    "signature": STRING,
    "warnings": STRING,
    "error": STRING,
    "error_type": STRING,
    "input": STRING,
}
HOP_DTYPES = {
    "pubkey": STRING,
    "short_channel_id": STRING,
    "fee_base_msat": INT,
    "fee_proportional_millionths": INT,
    "cltv_expiry_delta": INT,
    "error": STRING,
    "error_type": STRING,
}
HOP = {
    "pubkey": "03d06758583bb5154774a6eb221b1276c9e82d65bbaceca806d90e20c108f4b1c7",
    "short_channel_id": "589390x3312x1",
    "fee_base_msat": 1000,
    "fee_proportional_millionths": 2500,
    "cltv_expiry_delta": 40,
}


def encode(**overrides) -> str:
    params = {
        "private_key": KEY,
        "payment_hash": "ab" * 32,
        "payment_secret": "cd" * 32,
        "description": "frames",
        "timestamp": 1_700_000_000,
    }
    params.update(overrides)
    return encode_invoice(**params)


def same(cell: object, value: object) -> bool:
    """A frame cell equals a Python value, None standing for a missing cell."""
    return cell is pd.NA if value is None else cell == value


def assert_dtypes(frame: pd.DataFrame, expected: dict[str, str]) -> None:
    assert list(frame.columns) == list(expected)
    for column, kind in expected.items():
        dtype = frame[column].dtype
        if kind == STRING:
            assert isinstance(dtype, pd.StringDtype) and dtype.na_value is pd.NA, (column, dtype)
        elif kind == INT:
            assert dtype == pd.Int64Dtype(), (column, dtype)
        elif kind == FLOAT:
            assert dtype == pd.Float64Dtype(), (column, dtype)
        elif kind == BOOL:
            assert dtype == pd.BooleanDtype(), (column, dtype)
        else:
            assert dtype == pd.DatetimeTZDtype("ns", "UTC"), (column, dtype)


def with_amount_text(invoice: str, amount: str) -> str:
    """The invoice with another amount in its prefix under a fixed checksum (the signature no longer fits)."""
    hrp, _, data = invoice.rpartition("1")
    network = hrp[2:].rstrip("0123456789munp")
    return bech32_encode("ln" + network + amount, [CHARSET.index(char) for char in data[:-6]])


# --- columns, dtypes and values -----------------------------------------------------------------------


def test_dtypes_of_every_column(generated, spec_vectors) -> None:
    texts = [text for _, text in generated[:200]] + [v["invoice"] for v in spec_vectors["invalid"]]
    frame = ln.decode_frame(texts, errors="coerce")
    assert_dtypes(frame, INVOICE_DTYPES)
    assert frame["error"].notna().sum() == len(spec_vectors["invalid"])
    hops = ln.hops_frame(texts, errors="coerce")
    assert_dtypes(hops, HOP_DTYPES)
    assert hops.index.names == ["invoice", "route", "hop"]
    assert [str(dtype) for dtype in hops.index.dtypes] == ["int64", "Int64", "Int64"]


def test_values_match_the_generating_params(generated) -> None:
    sample = generated[:400]
    frame = ln.decode_frame([text for _, text in sample])
    for position, (params, _) in enumerate(sample):
        row = frame.iloc[position]
        amount = params["amount_msat"]
        warnings = None
        if amount is None or amount >= 2**63:
            assert row["amount_msat"] is pd.NA and row["amount_sat"] is pd.NA
            if amount is not None:
                warnings = f"amount of {amount} msat is beyond int64 (left missing)"
        else:
            assert row["amount_msat"] == amount
            assert row["amount_sat"] == pytest.approx(amount / 1000, rel=1e-15)
        assert row["timestamp"] == params["timestamp"]
        if params["timestamp"] <= PANDAS_LAST_SECOND:
            assert row["created_at"] == pd.Timestamp(params["timestamp"], unit="s", tz="UTC")
        else:
            assert row["created_at"] is pd.NaT
        expiry = 3600 if params["expiry"] is None else params["expiry"]
        assert row["expiry"] == expiry
        if params["timestamp"] + expiry <= PANDAS_LAST_SECOND:
            assert row["expires_at"] == pd.Timestamp(params["timestamp"] + expiry, unit="s", tz="UTC")
        else:
            assert row["expires_at"] is pd.NaT
        assert row["route_hint_count"] == len(params["route_hints"])
        assert row["hop_count"] == sum(map(len, params["route_hints"]))
        assert same(row["fallback_addresses"], ",".join(params["fallback_addresses"]) or None)
        assert row["feature_bits"] == ",".join(map(str, sorted(params["features"])))
        assert row["payment_hash"] == params["payment_hash"]
        assert row["payee"] == PrivateKey.from_hex(params["private_key"]).public_key.format().hex()
        assert same(row["description"], params["description"])
        assert same(row["description_hash"], params["description_hash"])
        assert same(row["metadata"], params["metadata"])
        assert same(row["warnings"], warnings)
        assert row["error"] is pd.NA and row["error_type"] is pd.NA


def test_feature_names_and_warnings_columns(spec_vectors) -> None:
    frame = ln.decode_frame([v["invoice"] for v in spec_vectors["valid"]], strict=False)
    assert frame.loc[11, "features"] == "var_onion_optin,payment_secret,unknown_99"
    assert frame.loc[14, "features"] == "var_onion_optin,payment_secret,option_payment_metadata"
    assert frame.loc[14, "feature_bits"] == "8,14,48"
    warnings = ln.decode(spec_vectors["valid"][13]["invoice"], strict=False).warnings
    assert len(warnings) == 8  # its eight wrong-length fields
    assert frame.loc[13, "warnings"].split("; ") == list(warnings)  # the column splits back
    assert frame["warnings"].drop(13).isna().all()


def test_hops_frame_rows(generated) -> None:
    sample = generated[:300]
    texts = pd.Series([text for _, text in sample], index=[f"inv{i}" for i in range(len(sample))])
    hops = ln.hops_frame(texts)
    expected = [
        (f"inv{i}", route_number, hop_number, *hop.values())
        for i, (params, _) in enumerate(sample)
        for route_number, route in enumerate(params["route_hints"])
        for hop_number, hop in enumerate(route)
    ]
    assert len(expected) > 100
    got = [(*label, *values) for label, values in zip(hops.index, hops.iloc[:, :5].itertuples(index=False))]
    assert got == expected
    assert hops["error"].isna().all()
    assert len(hops) == ln.decode_frame(texts)["hop_count"].sum()


def test_hops_frame_coerce_keeps_a_row_for_a_failed_invoice(spec_vectors) -> None:
    valid = spec_vectors["valid"]
    texts = pd.Series([valid[0]["invoice"], "garbage", valid[5]["invoice"]], index=["x", "y", "z"])
    hops = ln.hops_frame(texts, errors="coerce")
    assert list(hops.index) == [("y", pd.NA, pd.NA), ("z", 0, 0), ("z", 0, 1)]
    assert hops.loc["y", "error_type"].tolist() == ["FormatError"]
    assert hops.loc["y", "pubkey"].isna().all()
    assert hops.loc["z", "fee_base_msat"].tolist() == [1, 2]


def test_hops_frame_keeps_the_name_of_the_callers_index(spec_vectors) -> None:
    text = spec_vectors["valid"][5]["invoice"]
    assert ln.hops_frame(pd.Series([text], index=pd.Index(["only"], name="label"))).index.names == [
        "label",
        "route",
        "hop",
    ]
    assert ln.hops_frame(pd.Series([text], index=pd.Index([5], name=0))).index.names == [0, "route", "hop"]


@pytest.mark.parametrize("index", [
    pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["batch", "n"]),
    pd.CategoricalIndex(["x", "y", "z"]),
    pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-03"], tz="UTC"),
    pd.Index([2.5, -1.0, 0.0]),
    pd.Index([3, 3, 1]),  # duplicate labels
])  # fmt: skip
def test_hops_frame_takes_any_index(spec_vectors, index: pd.Index) -> None:
    """The hop rows carry the caller's labels with their dtype; a MultiIndex keeps its levels."""
    valid = spec_vectors["valid"]
    texts = pd.Series([valid[5]["invoice"], valid[10]["invoice"], "bad"], index=index)
    hops = ln.hops_frame(texts, errors="coerce")
    invoice_levels = index.nlevels
    labels = hops.index.droplevel(["route", "hop"])
    pd.testing.assert_index_equal(labels, index.take([0, 0, 1, 2]), check_names=False)
    expected_names = list(index.names) if invoice_levels > 1 else ["invoice"]
    assert list(hops.index.names) == [*expected_names, "route", "hop"]
    assert hops["error_type"].tolist()[-1] == "FormatError"
    assert ln.decode_frame(texts, errors="coerce").index.equals(index)


# --- errors -------------------------------------------------------------------------------------------


def test_errors_raise_names_the_row_and_keeps_the_kind(spec_vectors) -> None:
    good = spec_vectors["valid"][1]["invoice"]
    bad_checksum = next(v["invoice"] for v in spec_vectors["invalid"] if "checksum" in v["reason"])
    too_short = next(v["invoice"] for v in spec_vectors["invalid"] if "too short" in v["reason"])

    with pytest.raises(ChecksumError, match=r"^row 2: ") as info:
        ln.decode_frame([good, good, bad_checksum])
    assert info.value.field == "checksum"
    with pytest.raises(TruncatedError, match=r"^row 'b': ") as info:
        ln.decode_frame(pd.Series([good, too_short, bad_checksum], index=["a", "b", "c"]))
    assert type(info.value) is TruncatedError
    with pytest.raises(FieldLengthError, match=r"^row 7: "):
        ln.hops_frame(pd.Series([spec_vectors["valid"][13]["invoice"]], index=[7]))


def test_errors_coerce_fills_error_columns(spec_vectors) -> None:
    invalid = spec_vectors["invalid"]
    texts = [v["invoice"] for v in invalid] + [None, 42]
    frame = ln.decode_frame(texts, errors="coerce")
    kinds = frame["error_type"].tolist()
    assert kinds[-2:] == ["FormatError", "FormatError"]
    for text, kind in zip(texts, kinds):
        if isinstance(text, str):
            with pytest.raises(InvoiceError) as info:
                ln.decode(text)
            assert kind == type(info.value).__name__
    assert frame["error"].notna().all()
    assert frame.drop(columns=["error", "error_type", "input"]).isna().all().all()
    # The input column says what failed: the text as given, a non-text value as text, NA for a missing one.
    assert frame["input"].tolist()[:-2] == [v["invoice"] for v in invalid]
    assert frame["input"].iloc[-2] is pd.NA and frame["input"].iloc[-1] == "42"


@pytest.mark.parametrize("errors", ["bogus", "ignore", None, "RAISE"])
def test_unknown_errors_option_is_a_value_error(errors) -> None:
    for function in (ln.decode_frame, ln.hops_frame):
        with pytest.raises(ValueError, match="errors") as info:
            function(["lnbc1"], errors=errors)
        assert not isinstance(info.value, InvoiceError)


def test_workers_below_one_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="workers"):
        ln.decode_frame(["lnbc1"], workers=0)


def test_dataframe_input_is_a_type_error(spec_vectors) -> None:
    with pytest.raises(TypeError):
        ln.decode_frame(pd.DataFrame({"bolt11": [spec_vectors["valid"][0]["invoice"]]}))


# --- pandas limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("timestamp", "created", "expires"), [
    (PANDAS_LAST_SECOND - 3600, True, True),
    (PANDAS_LAST_SECOND, True, False),
    (PANDAS_LAST_SECOND + 1, False, False),
    (2**35 - 1, False, False),
])  # fmt: skip
def test_timestamps_beyond_2262_are_nat_with_the_raw_timestamp_kept(timestamp, created, expires) -> None:
    frame = ln.decode_frame([encode(timestamp=timestamp)])
    row = frame.iloc[0]
    assert row["timestamp"] == timestamp and row["error"] is pd.NA
    assert (row["created_at"] is not pd.NaT) == created
    assert (row["expires_at"] is not pd.NaT) == expires
    if created:
        assert row["created_at"] == pd.Timestamp(timestamp, unit="s", tz="UTC")


@pytest.mark.parametrize("amount_msat", [2**63, 2**64 + 10, 21 * 10**24])
def test_amounts_beyond_int64_are_missing_with_a_warning(amount_msat: int) -> None:
    text = encode(amount_msat=amount_msat)
    assert ln.decode(text).amount_msat == amount_msat
    row = ln.decode_frame([text]).iloc[0]
    assert row["amount_msat"] is pd.NA and row["amount_sat"] is pd.NA
    assert row["warnings"].split("; ") == [f"amount of {amount_msat} msat is beyond int64 (left missing)"]
    assert row["error"] is pd.NA and row["payment_hash"] == "ab" * 32 and row["payee"] == PAYEE
    assert row["amount_overflow"] is not pd.NA and bool(row["amount_overflow"])


def test_largest_int64_amount_is_kept() -> None:
    row = ln.decode_frame([encode(amount_msat=2**63 - 1)]).iloc[0]
    assert row["amount_msat"] == 2**63 - 1 and row["warnings"] is pd.NA


def test_amount_overflow_tells_too_large_amounts_from_amountless_ones() -> None:
    texts = [encode(amount_msat=2**64), encode(amount_msat=None), encode(amount_msat=1000), "junk"]
    frame = ln.decode_frame(texts, errors="coerce")
    assert frame["amount_msat"].isna().tolist() == [True, True, False, True]
    assert frame["amount_overflow"].tolist() == [True, False, False, pd.NA]
    assert frame["amount_overflow"].dtype == pd.BooleanDtype()


def test_expiry_beyond_int64_does_not_raise() -> None:
    row = ln.decode_frame([encode(expiry=2**64 - 1)]).iloc[0]
    assert row["expiry"] is pd.NA and row["expires_at"] is pd.NaT and row["error"] is pd.NA


@pytest.mark.parametrize("digits", [6000, 4295, 150])
def test_absurd_amount_digits_coerce_to_an_error_row(digits: int) -> None:
    """Python's 4300-digit int/str limit must not escape as a bare ValueError and crash the frame."""
    text = with_amount_text(encode(), "9" * digits)
    frame = ln.decode_frame(["x", text], errors="coerce")
    assert frame.loc[1, "error_type"] == "AmountError"
    with pytest.raises(AmountError, match="^row 1: "):
        ln.decode_frame([encode(), text])


# --- options ------------------------------------------------------------------------------------------


def test_workers_give_the_same_frame(generated, spec_vectors) -> None:
    """With 700 distinct texts (blank-padded copies stay distinct) the work is split into several chunks."""
    valid = [text for _, text in generated[:300]]
    texts = valid + [f" {text}\n" for text in valid] + [v["invoice"] for v in spec_vectors["invalid"]] * 3
    texts += [None, 7, "lightning:" + valid[0]] * 30
    series = pd.Series(texts, index=[f"r{i}" for i in range(len(texts))][::-1])
    one = ln.decode_frame(series, errors="coerce", workers=1)
    two = ln.decode_frame(series, errors="coerce", workers=2)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(
        ln.hops_frame(series, errors="coerce", workers=2), ln.hops_frame(series, errors="coerce")
    )
    first_bad = series.index[2 * len(valid)]  # invalid[0]: unknown even feature 100
    with pytest.raises(FeatureError, match=rf"^row '{first_bad}': .*100") as info:
        ln.decode_frame(series, workers=2)
    assert info.value.field == "9"  # errors keep their field across process boundaries


def test_progress_bar_goes_to_stderr_only(capsys, spec_vectors) -> None:
    texts = [v["invoice"] for v in spec_vectors["valid"]]
    quiet = ln.decode_frame(texts, errors="coerce", progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    loud = ln.decode_frame(texts, errors="coerce", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "decoding" in captured.err and f"{len(texts)}/{len(texts)}" in captured.err
    pd.testing.assert_frame_equal(quiet, loud)
    ln.hops_frame(texts, errors="coerce", progress=True)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("function", [ln.decode_frame, ln.hops_frame])
def test_progress_counts_rows_not_distinct_invoices(capsys, spec_vectors, function) -> None:
    distinct = [v["invoice"] for v in spec_vectors["valid"]]
    texts = distinct * 30 + ["junk", None, None]  # each repeat and each missing value is a row
    function(texts, errors="coerce", progress=True)
    err = capsys.readouterr().err
    assert f"{len(texts)}/{len(texts)}" in err and f"/{len(distinct)} " not in err


def test_series_accessor_equals_the_functions(generated, spec_vectors) -> None:
    texts = [text for _, text in generated[:50]] + [v["invoice"] for v in spec_vectors["invalid"]]
    series = pd.Series(texts, index=pd.Index(range(100, 100 + len(texts)), name="n"))
    pd.testing.assert_frame_equal(series.ln.decode(errors="coerce"), ln.decode_frame(series, errors="coerce"))
    pd.testing.assert_frame_equal(
        series.ln.decode(errors="coerce", verify=False, strict=False),
        ln.decode_frame(series, errors="coerce", verify=False, strict=False),
    )
    pd.testing.assert_frame_equal(series.ln.hops(errors="coerce"), ln.hops_frame(series, errors="coerce"))
    with pytest.raises(InvoiceError):
        series.ln.decode()


@pytest.mark.parametrize(
    "empty", [[], (), pd.Series([], dtype=object), pd.Series([], dtype="string"), iter([])]
)
def test_empty_input_gives_an_empty_typed_frame(empty) -> None:
    frame = ln.decode_frame(empty)
    assert frame.shape == (0, len(INVOICE_DTYPES))
    assert_dtypes(frame, INVOICE_DTYPES)


def test_empty_hops_frame() -> None:
    hops = ln.hops_frame([])
    assert hops.shape == (0, len(HOP_DTYPES))
    assert_dtypes(hops, HOP_DTYPES)
    assert hops.index.names == ["invoice", "route", "hop"]
    assert len(ln.hops_frame([encode()])) == 0  # no route hints: no rows


def test_single_string_input(spec_vectors) -> None:
    text = spec_vectors["valid"][5]["invoice"]
    frame = ln.decode_frame(text)
    pd.testing.assert_index_equal(frame.index, pd.RangeIndex(1))
    pd.testing.assert_frame_equal(frame, ln.decode_frame([text]))
    assert frame.loc[0, "bolt11"] == text and frame.loc[0, "hop_count"] == 2
    assert len(ln.hops_frame(text)) == 2


def test_generator_input(spec_vectors) -> None:
    texts = [v["invoice"] for v in spec_vectors["valid"][:5]]
    pd.testing.assert_frame_equal(ln.decode_frame(text for text in texts), ln.decode_frame(texts))


def test_expiry_and_cltv_beyond_int64_are_missing_with_a_warning(spec_vectors) -> None:
    key = spec_vectors["_meta"]["signing_private_key"]
    text = encode_invoice(
        private_key=key,
        payment_hash="11" * 32,
        payment_secret="22" * 32,
        description="huge",
        expiry=2**64 - 1,
        min_final_cltv_expiry=2**63,
    )
    assert ln.decode(text).expiry == 2**64 - 1  # the Invoice keeps the exact value
    row = ln.decode_frame([text]).iloc[0]
    assert pd.isna(row["expiry"]) and pd.isna(row["min_final_cltv_expiry"]) and pd.isna(row["expires_at"])
    assert row["warnings"].split("; ") == [
        f"expiry of {2**64 - 1} s is beyond int64 (left missing)",
        f"cltv of {2**63} is beyond int64 (left missing)",
    ]
