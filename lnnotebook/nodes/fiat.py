"""Fiat values of invoice amounts, from a table of BTC prices you provide (nothing is fetched).

    >>> rates = pd.read_csv("btc_prices.csv", index_col="time", parse_dates=True)   # time,USD,EUR
    >>> ln.with_fiat(df, rates)                  # amount_usd, amount_eur, ... and btc_usd, btc_eur
    >>> ln.with_fiat(df, rates["USD"])           # a Series: its name is the currency

Each row's amounts are valued at the row's time: when it was paid, or when it was created if it was not
paid. The price used is the last one at or before that time (``pandas.merge_asof``, backward), so a
value never uses a price from its future; before the first price, or with ``tolerance`` further back
than allowed, the value is missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

__all__ = ["AMOUNT_COLUMNS", "fiat_currencies", "with_fiat"]

# Amount column -> (its unit in sat, the stem of its fiat columns). msat columns are preferred: a frame
# with both amount_msat and amount_sat gets amount_<cur> from amount_msat.
AMOUNT_COLUMNS: dict[str, tuple[float, str]] = {
    "amount_msat": (1e-3, "amount"),
    "amount_received_msat": (1e-3, "amount_received"),
    "fee_msat": (1e-3, "fee"),
    "amount_sat": (1.0, "amount"),
    "fee_sat": (1.0, "fee"),
}
SAT_PER_BTC = 100_000_000
_CURRENCY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")
_RATE_PREFIX = "btc_"


def with_fiat(
    df: pd.DataFrame,
    rates: pd.Series | pd.DataFrame,
    *,
    currency: str | Sequence[str] | None = None,
    tolerance: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """A copy of ``df`` with the fiat value of each amount: ``<stem>_<cur>`` = sat x price / 1e8.

    ``rates``: the price of one BTC, indexed by time (UTC; a naive index is taken as UTC). A Series
    is one currency, named by ``currency`` or else by the Series' name; a DataFrame has a column per
    currency, all of them converted unless ``currency`` picks some. Missing prices are skipped (the
    previous one is used). ``tolerance`` (e.g. ``"1D"``): the oldest a price may be; older gives a
    missing value.

    Added per currency ``cur`` (lowercase): ``btc_<cur>`` (the price used) and, for each amount column
    present, ``amount_<cur>``, ``amount_received_<cur>`` and ``fee_<cur>`` (from ``amount_msat`` or
    ``amount_sat``, ``amount_received_msat``, ``fee_msat`` or ``fee_sat``), all ``Float64``.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"with_fiat takes the invoices as a DataFrame, not {type(df).__name__}")
    prices = _price_table(rates, currency)
    times = _row_times(df)
    amounts = _amount_columns(df)
    out = df.copy()
    for name in prices.columns:
        rate = _rates_at(times, prices[name].dropna(), tolerance)
        cur = name.lower()
        out[f"{_RATE_PREFIX}{cur}"] = rate
        for column, (sat_per_unit, stem) in amounts.items():
            sats = cast(Any, df[column].astype("Float64").array) * sat_per_unit  # NA stays NA
            out[f"{stem}_{cur}"] = pd.array(sats * rate.array / SAT_PER_BTC, dtype="Float64")
    return out


def fiat_currencies(df: pd.DataFrame) -> list[str]:
    """The currencies ``with_fiat`` added to ``df`` (lowercase, in column order)."""
    return [
        str(column)[len(_RATE_PREFIX) :]
        for column in df.columns
        if str(column).startswith(_RATE_PREFIX) and _CURRENCY.fullmatch(str(column)[len(_RATE_PREFIX) :])
    ]


# --- pieces -------------------------------------------------------------------------------------


def _price_table(rates: Any, currency: str | Sequence[str] | None) -> pd.DataFrame:
    if isinstance(rates, pd.Series):
        if currency is not None and not isinstance(currency, str):
            raise TypeError("for a Series of prices, currency is one name such as 'USD'")
        name = currency if currency is not None else rates.name
        if name is None:
            raise ValueError(
                "say which currency the prices are in: with_fiat(df, rates, currency='USD'), "
                "or name the Series (rates.rename('USD'))"
            )
        table = rates.to_frame(name=str(name))
    elif isinstance(rates, pd.DataFrame):
        table = rates.rename(columns=str)
        if currency is not None:
            wanted = [currency] if isinstance(currency, str) else list(currency)
            absent = [name for name in wanted if name not in table.columns]
            if absent:
                raise KeyError(
                    f"no price column {', '.join(map(repr, absent))} in the rates; "
                    f"it has {', '.join(map(repr, table.columns)) or 'none'}"
                )
            table = table[wanted]
    else:
        raise TypeError(
            "rates must be a Series of BTC prices indexed by time, or a DataFrame with one column per "
            f"currency, not {type(rates).__name__}"
        )
    for name in table.columns:
        if not _CURRENCY.fullmatch(name):
            raise ValueError(f"{name!r} is not a currency name for a column (letters, digits, _)")
    return _clean_prices(table)


def _clean_prices(table: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(table.index, pd.DatetimeIndex):
        raise TypeError(
            "the rates must be indexed by time (a DatetimeIndex), e.g. "
            "pd.read_csv(path, index_col='time', parse_dates=True); "
            f"this index is {type(table.index).__name__}"
        )
    index = table.index.tz_localize("UTC") if table.index.tz is None else table.index.tz_convert("UTC")
    prices = table.apply(pd.to_numeric, errors="coerce").astype(float)
    bad = prices.columns[(prices <= 0).any().to_numpy()]
    if len(bad):
        raise ValueError(f"prices must be positive; {', '.join(map(repr, bad))} has zero or negative ones")
    prices.index = index.as_unit("ns")
    return prices.sort_index(kind="stable")


def _row_times(df: pd.DataFrame) -> pd.Series:
    """When each row's amounts are valued: paid_at where there is one, else created_at."""
    if "created_at" not in df.columns:
        raise ValueError(
            "with_fiat needs a created_at column (the time of each invoice); the frame has "
            f"{', '.join(map(repr, df.columns[:12]))}"
        )
    times = pd.to_datetime(df["created_at"], utc=True)
    if "paid_at" in df.columns:
        times = pd.to_datetime(df["paid_at"], utc=True).fillna(times)
    return times.astype("datetime64[ns, UTC]")


def _amount_columns(df: pd.DataFrame) -> dict[str, tuple[float, str]]:
    chosen: dict[str, tuple[float, str]] = {}
    stems: set[str] = set()
    for column, (sat_per_unit, stem) in AMOUNT_COLUMNS.items():
        if column in df.columns and stem not in stems:
            chosen[column] = (sat_per_unit, stem)
            stems.add(stem)
    if not chosen:
        raise ValueError(f"the frame has no amount column to convert (one of {', '.join(AMOUNT_COLUMNS)})")
    return chosen


def _rates_at(times: pd.Series, prices: pd.Series, tolerance: str | pd.Timedelta | None) -> pd.Series:
    """The last price at or before each time (missing before the first, or beyond ``tolerance``)."""
    result = np.full(len(times), np.nan)
    known = times.notna().to_numpy(dtype=bool)
    if known.any() and len(prices):
        left = pd.DataFrame({"time": times[known].reset_index(drop=True), "position": np.flatnonzero(known)})
        left = left.sort_values("time", kind="stable")
        right = pd.DataFrame({"price": prices.to_numpy(dtype=float)}, index=prices.index)
        merged = pd.merge_asof(
            left,
            right,
            left_on="time",
            right_index=True,
            direction="backward",
            tolerance=None if tolerance is None else pd.Timedelta(tolerance),
        )
        result[merged["position"].to_numpy()] = merged["price"].to_numpy(dtype=float)
    return pd.Series(pd.array(result, dtype="Float64"), index=times.index)
