"""offers_frame and offer_paths_frame: typed columns, the input's index, failed rows, overflow."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from coincurve import PrivateKey

import lnnotebook as ln
from lnnotebook.bolt12 import OFFER_COLUMNS, OFFER_PATH_COLUMNS, OfferRuleError
from lnnotebook.bolt12.encode import blinded_path, encode, offer_records

DATA = Path(__file__).resolve().parent / "data" / "bolt12"
VECTORS = {vector["description"]: vector for vector in json.loads((DATA / "offers-test.json").read_text())}
KEYS = [PrivateKey(bytes([number]) * 32).public_key.format() for number in range(1, 5)]
TWO_PATHS = VECTORS["... and with second blinded path via 1x2x3 (direction 1), path_key 020202..."]["bolt12"]
CURRENCY = VECTORS["with currency"]["bolt12"]
AMOUNT = VECTORS["with amount"]["bolt12"]
NO_ISSUER = VECTORS["Missing offer_issuer_id and no offer_path"]["bolt12"]


def test_columns_and_dtypes():
    frame = ln.offers_frame([AMOUNT, CURRENCY, "nonsense"], errors="coerce")
    assert list(frame.columns) == list(OFFER_COLUMNS)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == OFFER_COLUMNS
    assert isinstance(frame.index, pd.RangeIndex) and len(frame) == 3
    empty = ln.offers_frame([])
    assert len(empty) == 0 and {name: str(dtype) for name, dtype in empty.dtypes.items()} == OFFER_COLUMNS


def test_values():
    expiry = VECTORS["with expiry"]["bolt12"]
    unlimited = VECTORS["with unlimited (or unknown) quantity"]["bolt12"]
    feature = VECTORS["with feature"]["bolt12"]
    odd = VECTORS["unknown odd experimental field"]["bolt12"]
    liquid = VECTORS["for bitcoin or liquidv1"]["bolt12"]
    frame = ln.offers_frame([AMOUNT, CURRENCY, expiry, unlimited, feature, odd, liquid, TWO_PATHS])
    assert frame["amount"].tolist() == [10_000, 10_000] + [pd.NA] * 6
    assert frame["amount_msat"].tolist()[:2] == [10_000, pd.NA] and frame["amount_sat"][0] == 10.0
    assert frame["currency"].tolist()[:2] == [pd.NA, "USD"]
    assert frame["expires_at"][2] == pd.Timestamp("2034-12-31 13:30", tz="UTC")
    assert frame["quantity_max"][3] == 0 and bool(frame["quantity_unlimited"][3])
    assert frame["quantity_unlimited"].tolist()[:3] == [False, False, False]
    assert frame["features"][4] == "unknown_99" and frame["feature_bits"][4] == "99"
    assert frame["unknown_types"][5] == "1000000033" and pd.isna(frame["unknown_types"][0])
    assert frame["networks"][6] == "liquidv1,bitcoin" and frame["chains"][6].count(",") == 1
    assert frame["networks"][0] == "bitcoin" and pd.isna(frame["chains"][0])
    assert frame["path_count"].tolist() == [0] * 7 + [2] and frame["hop_count"][7] == 4
    assert frame["record_count"][1] == 4
    assert frame["offer_id"][0] == ln.decode_offer(AMOUNT).offer_id
    assert frame["error"].isna().all() and frame["input"].isna().all() and frame["warnings"].isna().all()


def test_series_index_is_kept_and_failed_rows_say_why():
    series = pd.Series([AMOUNT, NO_ISSUER, None, 7, AMOUNT], index=pd.Index([10, 20, 30, 40, 50], name="id"))
    frame = ln.offers_frame(series, errors="coerce")
    assert frame.index.equals(series.index) and frame.index.name == "id"
    assert frame["error_type"].tolist() == [
        pd.NA,
        "OfferRuleError",
        "OfferFormatError",
        "OfferFormatError",
        pd.NA,
    ]
    assert frame["input"].tolist() == [pd.NA, NO_ISSUER, pd.NA, "7", pd.NA]
    assert "neither an issuer id" in frame.loc[20, "error"]
    assert frame.loc[20].drop(["error", "error_type", "input"]).isna().all()
    lenient = ln.offers_frame(series, errors="coerce", strict=False)
    assert pd.isna(lenient.loc[20, "error"]) and "neither an issuer id" in lenient.loc[20, "warnings"]


def test_raise_names_the_row():
    with pytest.raises(OfferRuleError, match=r"^row 'b': the offer has neither") as caught:
        ln.offers_frame(pd.Series([AMOUNT, NO_ISSUER], index=["a", "b"]))
    assert caught.value.field == "offer_issuer_id"
    with pytest.raises(ValueError, match="errors must be 'raise' or 'coerce'"):
        ln.offers_frame([AMOUNT], errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a DataFrame"):
        ln.offers_frame(pd.DataFrame({"offer": [AMOUNT]}))


def test_a_single_string_is_one_row():
    assert ln.offers_frame(AMOUNT)["bolt12"].tolist() == [AMOUNT]


def test_values_beyond_int64_are_missing_with_a_warning():
    text = encode(offer_records(amount=2**64 - 1, description="x", absolute_expiry=2**63, issuer_id=KEYS[0]))
    frame = ln.offers_frame([text])
    assert (
        pd.isna(frame["amount"][0])
        and pd.isna(frame["absolute_expiry"][0])
        and pd.isna(frame["expires_at"][0])
    )
    assert "amount of 18446744073709551615 is beyond int64" in frame["warnings"][0]
    assert "absolute_expiry of 9223372036854775808 is beyond int64" in frame["warnings"][0]
    late = ln.offers_frame([encode(offer_records(absolute_expiry=10**12, issuer_id=KEYS[0]))])
    assert late["absolute_expiry"][0] == 10**12 and pd.isna(late["expires_at"][0])  # after year 2262


def test_paths_frame():
    frame = ln.offer_paths_frame(
        pd.Series([TWO_PATHS, AMOUNT, "lno1"], index=["two", "none", "bad"]), errors="coerce"
    )
    assert list(frame.columns) == list(OFFER_PATH_COLUMNS)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == OFFER_PATH_COLUMNS
    assert frame.index.names == ["offer", "path", "hop"]
    assert frame.index.tolist()[:4] == [("two", 0, 0), ("two", 0, 1), ("two", 1, 0), ("two", 1, 1)]
    two = frame.loc["two"]
    assert two["short_channel_id"].tolist() == [pd.NA, pd.NA, "1x2x3", "1x2x3"]
    assert two["direction"].tolist() == [pd.NA, pd.NA, 1, 1]
    assert two["introduction_node_id"].iloc[0].startswith("0324653e")
    assert two["encrypted_recipient_data"].tolist() == ["00" * 16, "11" * 8, "00" * 16, "22" * 8]
    assert (two["blinded_node_id"] == "02" * 33).all() and (two["path_key"] == "02" * 33).all()
    bad = frame.loc["bad"]
    assert (
        len(bad) == 1 and bad["error_type"].iloc[0] == "OfferStreamError" and bad["input"].iloc[0] == "lno1"
    )
    assert "none" not in frame.index.get_level_values("offer")


def test_paths_frame_with_a_multiindex_and_scid_introduction():
    path = blinded_path(b"\x00" + (5 << 40 | 6 << 16 | 7).to_bytes(8, "big"), KEYS[1], [(KEYS[2], b"\x09")])
    text = encode(offer_records(paths=[path]))
    series = pd.Series(
        [text, TWO_PATHS], index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["x", "y"])
    )
    frame = ln.offer_paths_frame(series)
    assert frame.index.names == ["x", "y", "path", "hop"]
    assert (
        frame.loc[("a", 1, 0, 0), "short_channel_id"] == "5x6x7"
        and frame.loc[("a", 1, 0, 0), "direction"] == 0
    )
    assert len(frame) == 5


def test_identical_offers_are_decoded_once_but_all_rows_stay():
    frame = ln.offers_frame([AMOUNT] * 3 + [CURRENCY] + [AMOUNT.upper()])
    assert frame["bolt12"].tolist() == [AMOUNT] * 3 + [CURRENCY, AMOUNT]
