"""ln.with_fiat: amount x price / 1e8 with the price at or before each invoice's time."""

from __future__ import annotations

import bisect
import math
from pathlib import Path

import pandas as pd
import pytest
from node_exports import EXAMPLE_FILES, EXAMPLES, PRICES_FILE

import lnnotebook as ln
from lnnotebook.nodes.fiat import fiat_currencies

HOUR = pd.Timedelta("1h")
START = pd.Timestamp("2025-06-01T00:00:00Z")


def prices() -> pd.Series:
    times = [START + HOUR * n for n in range(0, 48, 6)]  # every 6 h for two days
    return pd.Series(
        [100_000 + 1_000 * n for n in range(len(times))], index=pd.DatetimeIndex(times), name="USD"
    )


def invoices() -> pd.DataFrame:
    created = [START - HOUR, START, START + HOUR * 5, START + HOUR * 6, START + HOUR * 13, START + HOUR * 100]
    paid = [pd.NaT, START + HOUR * 7, pd.NaT, START + HOUR * 6, START + HOUR * 30, pd.NaT]
    return pd.DataFrame(
        {
            "amount_msat": pd.array([1_000_000, 21_000, None, 5_500_000, 123_456_789, 1_000], dtype="Int64"),
            "amount_received_msat": pd.array(
                [None, 21_000, None, 5_500_000, 130_000_000, None], dtype="Int64"
            ),
            "fee_msat": pd.array([None, 0, None, 1_000, None, None], dtype="Int64"),
            "created_at": pd.Series(created, dtype="datetime64[ns, UTC]"),
            "paid_at": pd.Series(paid, dtype="datetime64[ns, UTC]"),
        }
    )


def price_at(series: pd.Series, when: pd.Timestamp) -> float | None:
    """The reference: the last price at or before ``when``, by bisection over the sorted times."""
    if pd.isna(when):
        return None
    times = list(series.index)
    position = bisect.bisect_right(times, when) - 1
    return None if position < 0 else float(series.iloc[position])


def test_values_are_amount_times_the_price_at_or_before_each_time() -> None:
    df, rates = invoices(), prices()
    out = ln.with_fiat(df, rates)
    for position in range(len(df)):
        row = df.iloc[position]
        when = row["paid_at"] if pd.notna(row["paid_at"]) else row["created_at"]
        rate = price_at(rates, when)
        assert (
            pd.isna(out["btc_usd"].iloc[position]) if rate is None else out["btc_usd"].iloc[position] == rate
        )
        for msat_column, fiat_column in (
            ("amount_msat", "amount_usd"),
            ("amount_received_msat", "amount_received_usd"),
            ("fee_msat", "fee_usd"),
        ):
            value = out[fiat_column].iloc[position]
            if rate is None or pd.isna(row[msat_column]):
                assert pd.isna(value), (position, fiat_column)
            else:
                assert math.isclose(value, row[msat_column] / 1000 * rate / 1e8, rel_tol=1e-12)
    # Spelled out: a price exactly at the time is used; before the first price there is none.
    assert out["btc_usd"].tolist()[:4] == [pd.NA, 101_000.0, 100_000.0, 101_000.0]
    assert out.loc[1, "amount_usd"] == pytest.approx(21 * 101_000 / 1e8)
    assert out.loc[5, "btc_usd"] == 107_000.0  # after the last price: the last one
    assert str(out["amount_usd"].dtype) == "Float64"


def test_the_frame_is_copied_not_changed() -> None:
    df = invoices()
    before = df.copy()
    out = ln.with_fiat(df, prices())
    pd.testing.assert_frame_equal(df, before)
    assert out is not df and list(out.columns[: len(df.columns)]) == list(df.columns)


def test_a_dataframe_gives_a_column_per_currency_and_currency_picks() -> None:
    usd = prices()
    table = pd.DataFrame({"USD": usd, "EUR": usd * 0.9})
    out = ln.with_fiat(invoices(), table)
    assert {"amount_usd", "amount_eur", "btc_usd", "btc_eur", "fee_eur"} <= set(out.columns)
    pd.testing.assert_series_equal(
        out["amount_eur"], (out["amount_usd"] * 0.9).rename("amount_eur"), check_exact=False, rtol=1e-12
    )
    only = ln.with_fiat(invoices(), table, currency="EUR")
    assert "amount_eur" in only.columns and "amount_usd" not in only.columns
    assert fiat_currencies(out) == ["usd", "eur"] and fiat_currencies(invoices()) == []
    with pytest.raises(KeyError, match=r"no price column 'GBP' in the rates; it has 'USD', 'EUR'"):
        ln.with_fiat(invoices(), table, currency="GBP")


def test_a_series_is_named_by_currency_or_its_name() -> None:
    unnamed = prices().rename(None)
    with pytest.raises(ValueError, match=r"say which currency .*currency='USD'"):
        ln.with_fiat(invoices(), unnamed)
    out = ln.with_fiat(invoices(), unnamed, currency="CHF")
    assert "amount_chf" in out.columns and "btc_chf" in out.columns


def test_the_rates_index_is_utc_time() -> None:
    naive = prices()
    naive.index = naive.index.tz_localize(None)
    pd.testing.assert_frame_equal(ln.with_fiat(invoices(), naive), ln.with_fiat(invoices(), prices()))
    zurich = prices()
    zurich.index = zurich.index.tz_convert("Europe/Zurich")
    pd.testing.assert_frame_equal(ln.with_fiat(invoices(), zurich), ln.with_fiat(invoices(), prices()))
    with pytest.raises(TypeError, match=r"indexed by time \(a DatetimeIndex\).*RangeIndex"):
        ln.with_fiat(invoices(), prices().reset_index(drop=True))


def test_unsorted_missing_and_bad_prices() -> None:
    shuffled = prices().sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(ln.with_fiat(invoices(), shuffled), ln.with_fiat(invoices(), prices()))
    gaps = prices().astype(float)
    gaps.iloc[1] = float("nan")  # 06:00 unknown: the 00:00 price is used for 06:00-11:59
    assert ln.with_fiat(invoices(), gaps).loc[1, "btc_usd"] == 100_000.0
    negative = prices()
    negative.iloc[2] = -5
    with pytest.raises(ValueError, match="prices must be positive; 'USD' has zero or negative ones"):
        ln.with_fiat(invoices(), negative)
    with pytest.raises(TypeError, match="rates must be a Series of BTC prices"):
        ln.with_fiat(invoices(), {"USD": 1})


def test_tolerance_leaves_stale_prices_out() -> None:
    out = ln.with_fiat(invoices(), prices(), tolerance="2h")
    assert out["btc_usd"].isna().tolist() == [True, False, True, False, False, True]  # 5 h, 58 h old: stale


def test_needs_a_time_and_an_amount() -> None:
    with pytest.raises(ValueError, match="needs a created_at column"):
        ln.with_fiat(invoices().drop(columns=["created_at"]), prices())
    with pytest.raises(ValueError, match="no amount column to convert"):
        ln.with_fiat(invoices()[["created_at"]], prices())


def test_a_history_frame_in_sat_works_too() -> None:
    history = pd.DataFrame(
        {
            "amount_sat": pd.array([1_000, None], dtype="Int64"),
            "fee_sat": pd.array([2, None], dtype="Int64"),
            "created_at": pd.Series([START + HOUR, START + HOUR * 7], dtype="datetime64[ns, UTC]"),
        }
    )
    out = ln.with_fiat(history, prices())
    assert out.loc[0, "amount_usd"] == pytest.approx(1_000 * 100_000 / 1e8)
    assert out.loc[0, "fee_usd"] == pytest.approx(2 * 100_000 / 1e8) and pd.isna(out.loc[1, "amount_usd"])


def test_the_readme_csv_example(tmp_path: Path) -> None:
    """As the README shows it: a CSV of prices read with pandas, an export read with read_invoices."""
    csv = tmp_path / "btc_prices.csv"
    csv.write_text("time,USD,EUR\n2025-06-01T00:00:00Z,104000,91500\n2025-06-02T00:00:00Z,105200,92400\n")
    rates = pd.read_csv(csv, index_col="time", parse_dates=True)
    export = {
        "invoices": [
            {"label": "a", "payment_hash": "00" * 32, "status": "unpaid", "expires_at": 1_748_822_400,
             "amount_msat": 50_000_000, "description": "x"},
        ]
    }  # fmt: skip
    df = ln.read_invoices(export, source="cln")
    df["created_at"] = pd.Timestamp("2025-06-01T12:00:00Z")
    out = ln.with_fiat(df, rates)
    assert out.loc[0, "amount_usd"] == pytest.approx(50_000 * 104_000 / 1e8)
    assert out.loc[0, "amount_eur"] == pytest.approx(50_000 * 91_500 / 1e8)


def test_the_shipped_prices_cover_the_example_exports() -> None:
    rates = pd.read_csv(EXAMPLES / PRICES_FILE, index_col="time", parse_dates=True)
    assert list(rates.columns) == ["USD", "EUR"] and rates.index.tz is not None
    for name in EXAMPLE_FILES.values():
        out = ln.with_fiat(ln.read_invoices(EXAMPLES / name), rates)
        assert out["btc_usd"].notna().all() and out["amount_eur"].notna().all()
