"""ln.plot.amounts and ln.plot.fees with unit="fiat": the values ln.with_fiat adds, on the Agg backend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import lnnotebook as ln  # noqa: E402
from lnnotebook import plot  # noqa: E402
from lnnotebook.comparison import invoice_metrics  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


@pytest.fixture(scope="module")
def frame(tmp_path_factory) -> pd.DataFrame:
    """Sandbox invoices of two providers (one with a receive fee) at a known price per provider time."""
    ledger = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    with ln.sandbox(seed="plot-fiat") as sb:
        clients = [client for client in sb.providers(ledger=ledger) if client.name in ("lnpay", "tazapay")]
        return ln.create_invoices(clients, 20_000, "fiat plot", repeat=2, progress=False)


def rates(frame: pd.DataFrame) -> pd.DataFrame:
    start = frame["created_at"].min() - pd.Timedelta("1h")
    return pd.DataFrame({"USD": [50_000.0], "EUR": [40_000.0]}, index=pd.DatetimeIndex([start]))


def scatter_values(ax) -> list[float]:
    return sorted(float(y) for collection in ax.collections for _, y in collection.get_offsets())


def test_amounts_in_fiat_are_the_with_fiat_values(frame) -> None:
    priced = ln.with_fiat(frame, rates(frame))
    ax = plot.amounts(priced, unit="fiat", currency="usd")
    assert ax.get_ylabel() == "amount (USD)"
    assert scatter_values(ax) == pytest.approx(sorted([20_000 * 50_000 / 1e8] * len(frame)))
    sat = plot.amounts(priced)
    assert sat.get_ylabel() == "amount (sat)" and scatter_values(sat) == pytest.approx(
        [20_000.0] * len(frame)
    )


def test_fees_in_fiat_use_the_price_per_row(frame) -> None:
    priced = ln.with_fiat(frame, rates(frame)[["EUR"]])
    ax = plot.fees(priced, unit="fiat")  # one currency: no need to name it
    assert ax.get_ylabel() == "fee (EUR)"
    heights = sorted(patch.get_height() for patch in ax.patches if patch.get_height() > 0)
    metrics = invoice_metrics(priced)
    receive = (priced["fee_eur"].astype(float)).groupby(priced["provider"]).mean()
    route = (metrics["route_fee_msat"].astype(float) * 40_000 / 1e11).groupby(metrics["provider"]).mean()
    expected = sorted(value for value in [*receive.dropna(), *route.dropna()] if value > 0)
    assert expected and np.allclose(heights, expected)


def test_fiat_needs_with_fiat_and_a_currency(frame) -> None:
    with pytest.raises(ValueError, match=r"needs the fiat columns ln.with_fiat\(df, rates\) adds"):
        plot.amounts(frame, unit="fiat")
    both = ln.with_fiat(frame, rates(frame))
    with pytest.raises(ValueError, match="prices in usd, eur: pass currency= to pick one"):
        plot.fees(both, unit="fiat")
    with pytest.raises(ValueError, match=r"no chf prices in the frame \(ln.with_fiat added usd, eur\)"):
        plot.amounts(both, unit="fiat", currency="CHF")
    with pytest.raises(ValueError, match="unit must be 'sat' or 'fiat', not 'btc'"):
        plot.amounts(both, unit="btc")
