"""compare(): per-provider statistics from hand-built frames with known numbers and real sandbox frames."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import pandas as pd
import pytest

import lnnotebook as ln
from lnnotebook.bolt11 import Hop, encode_invoice
from lnnotebook.comparison import COMPARE_COLUMNS, cheapest_route_fee_msat, route_fee_msat
from lnnotebook.providers import provider_class

KEY_A = "11" * 32
KEY_B = "22" * 32
# Valid curve points: the generator G and 2G.
NODE_1 = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
NODE_2 = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"


def hop(base: int, ppm: int, pubkey: str = NODE_1, scid: str = "800000x1x0") -> dict:
    return {
        "pubkey": pubkey,
        "short_channel_id": scid,
        "fee_base_msat": base,
        "fee_proportional_millionths": ppm,
        "cltv_expiry_delta": 40,
    }


def invoice(key: str, amount_msat: int | None, *, routes=(), expiry=None, network="bc", tag="x") -> str:
    digest = hashlib.sha256(f"{key}{amount_msat}{tag}".encode()).hexdigest()
    return encode_invoice(
        private_key=key,
        payment_hash=digest,
        payment_secret=digest[::-1],
        network=network,
        amount_msat=amount_msat,
        timestamp=int(time.time()),
        description=f"invoice {tag}",
        expiry=expiry,
        route_hints=list(routes),
    )


def as_hops(route: list[dict]) -> tuple[Hop, ...]:
    return tuple(
        Hop(h["pubkey"], h["short_channel_id"], h["fee_base_msat"], h["fee_proportional_millionths"], 40)
        for h in route
    )


# --- the route-fee arithmetic ------------------------------------------------------------------


def test_route_fee_accumulates_from_the_payee_backwards():
    # The last hop forwards the invoice amount: 1_000_000 msat base. The first hop then forwards
    # 2_000_000 msat and takes 1000 ppm of that (2000), not of the invoice amount (1000).
    route = as_hops([hop(0, 1000), hop(1_000_000, 0, NODE_2)])
    assert route_fee_msat(route, 1_000_000) == 1_002_000
    # Reversed order: 1000 ppm of 1_000_000 first, then a flat 1_000_000.
    assert route_fee_msat(route[::-1], 1_000_000) == 1_001_000


def test_route_fee_rounds_each_hop_down():
    assert route_fee_msat(as_hops([hop(0, 1)]), 999_999) == 0  # 0.999999 msat
    assert route_fee_msat(as_hops([hop(5, 1)]), 1_000_000) == 6
    # Two hops of 2500 ppm on 1_000_001 msat: 2500 (2500.0025 down), then 2506 (on 1_002_501).
    assert route_fee_msat(as_hops([hop(0, 2500), hop(0, 2500, NODE_2)]), 1_000_001) == 2500 + 2506


def test_cheapest_route_wins_and_no_route_is_none():
    cheap, dear = as_hops([hop(1000, 0)]), as_hops([hop(0, 5000)])
    assert cheapest_route_fee_msat([dear, cheap], 1_000_000) == 1000
    assert cheapest_route_fee_msat([dear, cheap], 100_000) == 500
    assert cheapest_route_fee_msat([], 1_000_000) is None


# --- hand-built frames -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def known() -> pd.DataFrame:
    """Three providers with numbers worked out by hand in the tests below."""
    alpha_1 = invoice(KEY_A, 1_000_000, routes=[[hop(1000, 100)], [hop(0, 5000)]], expiry=600, tag="a1")
    alpha_2 = invoice(KEY_A, 3_000_000, routes=[[hop(0, 1000), hop(1_000, 0, NODE_2)]], expiry=1800, tag="a2")
    beta_1 = invoice(KEY_B, 2_000_000, network="tb", tag="b1")  # no route hints, default expiry
    rows = [
        # provider, bolt11, amount_sat, fee_sat, error, elapsed_s
        ("alpha", alpha_1, 1000, 2, None, 0.5),
        ("alpha", alpha_2, 3000, 3, None, 1.5),
        ("beta", beta_1, 2000, None, None, 0.2),
        ("beta", None, 2000, None, "beta: amount too large", 0.01),
        ("gamma", None, 500, None, None, 0.3),  # created, but no BOLT11 (Tazapay without the field)
        ("gamma", "lnbc1notaninvoice", 500, None, None, 0.4),
    ]
    frame = pd.DataFrame(rows, columns=["provider", "bolt11", "amount_sat", "fee_sat", "error", "elapsed_s"])
    return frame.astype(
        {
            "provider": "string",
            "bolt11": "string",
            "amount_sat": "Int64",
            "fee_sat": "Int64",
            "error": "string",
        }
    )


def test_known_numbers(known):
    table = ln.compare(known)
    assert list(table.index) == ["alpha", "beta", "gamma"] and table.index.name == "provider"
    assert list(table.columns) == list(COMPARE_COLUMNS)
    assert {column: str(dtype) for column, dtype in table.dtypes.items()} == COMPARE_COLUMNS

    alpha = table.loc["alpha"]
    assert (alpha["invoices"], alpha["failures"], alpha["failure_rate"], alpha["undecodable"]) == (
        2,
        0,
        0.0,
        0,
    )
    assert (alpha["amount_sat_mean"], alpha["amount_sat_min"], alpha["amount_sat_max"]) == (
        2000.0,
        1000,
        3000,
    )
    assert alpha["fee_sat_mean"] == 2.5
    assert alpha["fee_ppm_mean"] == pytest.approx((2000 + 1000) / 2)  # 2/1000 and 3/3000 sat
    # a1: routes cost 1000 + 100 = 1100 and 5000 msat -> 1100. a2: the last hop takes 1000 msat base,
    # the first 1000 ppm of 3_001_000 = 3001 -> 4001. In sat: 1.1 and 4.001; in ppm 1100 and 1333.67.
    assert alpha["route_hinted"] == 2
    assert alpha["route_fee_sat_mean"] == pytest.approx((1.1 + 4.001) / 2)
    assert alpha["route_fee_sat_median"] == pytest.approx((1.1 + 4.001) / 2)
    assert alpha["route_fee_ppm_mean"] == pytest.approx((1100 + 4001 / 3) / 2)
    assert (alpha["expiry_s_min"], alpha["expiry_s_median"], alpha["expiry_s_max"]) == (600, 1200.0, 1800)
    assert alpha["network"] == "bc" and alpha["payees"] == 1
    assert alpha["latency_s_median"] == 1.0

    beta = table.loc["beta"]
    assert (beta["invoices"], beta["failures"], beta["failure_rate"]) == (1, 1, 0.5)
    assert beta["amount_sat_mean"] == 2000.0  # the failed attempt's amount does not count
    assert pd.isna(beta["fee_sat_mean"]) and pd.isna(beta["fee_ppm_mean"])  # no fee reported: missing
    # No route hints: missing route fees, not zero.
    assert (
        beta["route_hinted"] == 0
        and pd.isna(beta["route_fee_sat_mean"])
        and pd.isna(beta["route_fee_ppm_median"])
    )
    assert (beta["expiry_s_min"], beta["expiry_s_max"]) == (3600, 3600)  # the default of an invoice without x
    assert beta["network"] == "tb" and beta["latency_s_median"] == pytest.approx(0.2)

    gamma = table.loc["gamma"]
    assert (gamma["invoices"], gamma["failures"], gamma["undecodable"]) == (2, 0, 2)
    assert gamma["amount_sat_mean"] == 500.0
    assert pd.isna(gamma["expiry_s_median"]) and pd.isna(gamma["network"]) and gamma["payees"] == 0


def test_route_fee_medians_and_several_payees(known):
    extra = invoice(KEY_B, 1_000_000, routes=[[hop(0, 10)]], tag="a3")  # 10 ppm -> 10 msat
    frame = pd.concat(
        [
            known,
            pd.DataFrame({"provider": ["alpha"], "bolt11": [extra], "amount_sat": [1000], "fee_sat": [0]}),
        ],
        ignore_index=True,
    )
    alpha = ln.compare(frame).loc["alpha"]
    assert alpha["route_hinted"] == 3 and alpha["payees"] == 2
    assert alpha["route_fee_sat_median"] == pytest.approx(1.1)
    assert alpha["route_fee_ppm_median"] == pytest.approx(1100)
    assert alpha["fee_sat_mean"] == pytest.approx(5 / 3)


def test_amountless_invoice_uses_the_requested_amount():
    bolt11 = invoice(KEY_A, None, routes=[[hop(0, 1000)]], tag="open")
    frame = pd.DataFrame({"provider": ["p"], "bolt11": [bolt11], "amount_sat": [2000]})
    row = ln.compare(frame).loc["p"]
    assert row["route_fee_sat_mean"] == pytest.approx(2.0) and row["route_fee_ppm_mean"] == pytest.approx(
        1000
    )


def test_empty_and_all_failed_frames(known):
    empty = ln.compare(known.iloc[:0])
    assert empty.empty and list(empty.columns) == list(COMPARE_COLUMNS) and empty.index.name == "provider"
    assert {column: str(dtype) for column, dtype in empty.dtypes.items()} == COMPARE_COLUMNS
    failed = ln.compare(known[known["error"].notna()])
    row = failed.loc["beta"]
    assert (row["invoices"], row["failures"], row["failure_rate"], row["route_hinted"]) == (0, 1, 1.0, 0)
    assert (
        row[["amount_sat_mean", "fee_sat_mean", "expiry_s_min", "network", "latency_s_median"]].isna().all()
    )


def test_wrong_input():
    with pytest.raises(TypeError, match="DataFrame"):
        ln.compare(["lnbc1..."])
    with pytest.raises(ValueError, match="'provider'"):
        ln.compare(pd.DataFrame({"bolt11": ["x"]}))


# --- real frames ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_frame(tmp_path_factory):
    ledger = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    with ln.sandbox(seed="compare") as sb:
        clients = sb.providers(ledger=ledger)
        first = ln.create_invoices(clients, 1_000, "compare", repeat=3, progress=False)
        # barkd (and any provider without an expiry field) fails this attempt; the others honour 600 s.
        second = ln.create_invoices(clients, 25_000, "compare", expiry=600, progress=False)
        history = ln.history(ledger)
        names = sb.names()
    return pd.concat([first, second], ignore_index=True), history, names


def test_sandbox_batch(sandbox_frame):
    frame, _, names = sandbox_frame
    table = ln.compare(frame)
    assert list(table.index) == names
    assert table.loc["barkd", "failures"] == 1 and table.loc["barkd", "invoices"] == 3
    assert table.loc["barkd", "failure_rate"] == pytest.approx(0.25)
    # Every provider without an expiry field (barkd, lnurl) fails the expiry=600 attempt alike.
    no_expiry = [name for name in names if not provider_class(name).supports_expiry]
    assert "barkd" in no_expiry and len(no_expiry) < len(names)
    assert (table.loc[no_expiry, "failures"] == 1).all() and (table.loc[no_expiry, "invoices"] == 3).all()
    assert (table.loc[no_expiry, "amount_sat_max"] == 1_000).all()  # a failed attempt is not an invoice
    others = [name for name in names if name not in no_expiry]
    assert (table.loc[others, "invoices"] == 4).all() and (table.loc[others, "failures"] == 0).all()
    assert (table.loc[others, "expiry_s_min"] == 600).all()
    assert (table.loc[others, "amount_sat_max"] == 25_000).all()
    assert table.loc["barkd", "fee_sat_mean"] == pytest.approx(
        frame.loc[frame["provider"].eq("barkd") & frame["error"].isna(), "fee_sat"].mean()
    )
    assert pd.isna(table.loc["tazapay", "fee_sat_mean"])
    for name in names:
        decoded = frame[frame["provider"].eq(name) & frame["error"].isna()]
        assert table.loc[name, "network"] == ", ".join(sorted(set(decoded["network"])))
        assert table.loc[name, "payees"] == decoded["payee"].nunique()
        assert table.loc[name, "latency_s_median"] == pytest.approx(decoded["elapsed_s"].median())
    assert (table["route_hinted"] == table["invoices"]).all()  # every emulator invoice has a hint


def test_sandbox_route_fees_match_the_hops_table(sandbox_frame):
    """An independent computation from hops_frame (single-hop hints: fee = base + amount * ppm / 1e6)."""
    frame, _, names = sandbox_frame
    ok = frame[frame["error"].isna()]
    hops = ln.hops_frame(ok["bolt11"])
    assert hops.groupby(level=["invoice", "route"]).size().max() == 1  # the formula below assumes it
    amount_msat = ok["amount_msat"].reindex(hops.index.get_level_values("invoice")).to_numpy()
    hops["fee_msat"] = (
        hops["fee_base_msat"].to_numpy()
        + amount_msat * hops["fee_proportional_millionths"].to_numpy() // 1_000_000
    )
    cheapest = hops["fee_msat"].groupby(level="invoice").min()
    expected_ppm = cheapest * 1_000_000 / ok.loc[cheapest.index, "amount_msat"]
    table = ln.compare(frame)
    for name in names:
        mine = ok.index[ok["provider"] == name]
        assert table.loc[name, "route_fee_sat_mean"] == pytest.approx(cheapest[mine].mean() / 1000)
        assert table.loc[name, "route_fee_sat_median"] == pytest.approx(cheapest[mine].median() / 1000)
        assert table.loc[name, "route_fee_ppm_mean"] == pytest.approx(expected_ppm[mine].mean())


def test_history_frame_compares_like_the_batch(sandbox_frame):
    frame, history, names = sandbox_frame
    assert "elapsed_s" not in history.columns
    from_history = ln.compare(history)
    from_batch = ln.compare(frame)
    assert sorted(from_history.index) == sorted(names)
    ok = frame["error"].isna().groupby(frame["provider"]).sum()
    for name in names:
        assert from_history.loc[name, "invoices"] == ok[name]
        assert pd.isna(from_history.loc[name, "latency_s_median"])
    shared = ["invoices", "amount_sat_mean", "route_fee_sat_mean", "expiry_s_median", "network", "payees"]
    pd.testing.assert_frame_equal(from_history.loc[from_batch.index, shared], from_batch[shared])


def test_csv_round_trip_compares_alike(sandbox_frame, tmp_path):
    frame, _, _ = sandbox_frame
    path = tmp_path / "invoices.csv"
    frame.drop(columns=["raw"]).to_csv(path, index=False)
    again = pd.read_csv(path)  # plain pandas: object and float columns, NaN for missing
    pd.testing.assert_frame_equal(ln.compare(again), ln.compare(frame), check_dtype=True)


def test_import_cost():
    code = (
        "import sys, lnnotebook as ln\n"
        "ln.compare\n"
        "import lnnotebook.comparison\n"
        "import pandas as pd\n"
        "table = ln.compare(pd.DataFrame({'provider': ['p'], 'bolt11': [None]}))\n"
        "assert table.loc['p', 'undecodable'] == 1, table\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "heavy = roots & {'matplotlib', 'ipywidgets', 'IPython', 'segno'}\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
