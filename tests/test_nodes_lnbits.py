"""ln.read_invoices on a real LNbits 1.6.2 export: invoices created and paid on the server, then exported.

One server for the module (``make lnbits``; FakeWallet: real signed invoices, imaginary money). Without it
these tests skip, unless ``LNNOTEBOOK_REQUIRE_LNBITS`` is set: then they fail.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd
import pytest
from node_exports import EXAMPLE_FILES, EXAMPLES

import lnnotebook as ln
from lnnotebook.providers.lnbits.server import (
    LnbitsServer,
    Wallet,
)

# (amount in sat, memo, expiry in s, paid)
INVOICES = [
    (1_000, "coffee", 600, True),
    (21, "sticker", 3600, True),
    (2_500, "lunch, not paid yet", 86_400, False),
    (5, "over before it was paid", 1, False),
]


@pytest.fixture(scope="module")
def shop(lnbits: LnbitsServer) -> tuple[Wallet, dict[str, dict[str, Any]], pd.Timestamp, pd.Timestamp]:
    """A fresh wallet with INVOICES created (and some paid) on the server; (wallet, created, start, end)."""
    wallet = lnbits.new_wallet("shop")
    started = pd.Timestamp.now(tz="UTC").floor("s")
    created = {}
    for amount, memo, expiry, paid in INVOICES:
        body = {"out": False, "amount": amount, "memo": memo, "expiry": expiry}
        created[memo] = lnbits.expect(
            lnbits.request("POST", "/api/v1/payments", key=wallet.inkey, json_body=body), 201
        )
        if paid:
            lnbits.expect(lnbits.pay(created[memo]["bolt11"]), 201)
    time.sleep(1.5)  # the 1 s invoice is over
    return wallet, created, started, pd.Timestamp.now(tz="UTC").ceil("s")


def export(lnbits: LnbitsServer, wallet: Wallet) -> list[dict[str, Any]]:
    return lnbits.expect(lnbits.request("GET", "/api/v1/payments", key=wallet.inkey), 200)


def test_a_real_export_reads_with_the_right_statuses_amounts_and_times(lnbits, shop) -> None:
    wallet, created, started, ended = shop
    answer = export(lnbits, wallet)
    assert len(answer) == len(INVOICES)
    df = ln.read_invoices(answer)  # detected as LNbits from its shape
    assert (df["source"] == "lnbits").all() and df["error"].isna().all() and df["warnings"].isna().all()
    df = df.set_index("memo")
    assert df["status"].to_dict() == {
        "coffee": "paid",
        "sticker": "paid",
        "lunch, not paid yet": "pending",
        "over before it was paid": "expired",
    }
    assert df["node_status"].to_dict()["coffee"] == "success"
    for amount, memo, expiry, paid in INVOICES:
        row = df.loc[memo]
        assert row["amount_msat"] == amount * 1000
        assert (
            row["payment_hash"] == created[memo]["payment_hash"] and row["bolt11"] == created[memo]["bolt11"]
        )
        assert started <= row["created_at"] <= ended
        # LNbits keeps created_at to the microsecond and the expiry time to the second: up to 1 s apart,
        # and the two are taken a moment apart on the server, so allow just under 2 s.
        gap = row["expires_at"] - row["created_at"] - pd.Timedelta(seconds=expiry)
        assert abs(gap) < pd.Timedelta("2s")
        if paid:
            assert row["amount_received_msat"] == amount * 1000 and row["fee_msat"] == 0
            assert row["created_at"] <= row["paid_at"] <= ended
        else:
            assert pd.isna(row["amount_received_msat"]) and pd.isna(row["paid_at"])
        # The decoded invoice agrees with the server's record. Its whole-second timestamp and the record's
        # microsecond created_at are taken a moment apart on the server: just over 1 s on a loaded machine.
        assert row["description"] == memo and row["expiry"] == expiry and row["network"] == "bc"
        signed_at = pd.Timestamp(row["timestamp"], unit="s", tz="UTC")
        assert abs(row["created_at"] - signed_at) < pd.Timedelta("2s")


def test_paid_invoices_read_the_same_from_the_paginated_answer(lnbits, shop) -> None:
    wallet = shop[0]
    page = lnbits.expect(lnbits.request("GET", "/api/v1/payments/paginated", key=wallet.inkey), 200)
    as_of = pd.Timestamp.now(tz="UTC")
    paged = ln.read_invoices(page, as_of=as_of).sort_values("payment_hash", ignore_index=True)
    listed = ln.read_invoices(export(lnbits, wallet), as_of=as_of).sort_values(
        "payment_hash", ignore_index=True
    )
    pd.testing.assert_frame_equal(paged, listed)


def test_outgoing_payments_are_not_invoices(lnbits, shop) -> None:
    """The payer's export: its funding credit (an internal invoice LNbits records) and outgoing payments."""
    answer = export(lnbits, lnbits.payer)
    outgoing = [payment for payment in answer if payment["amount"] < 0]
    assert len(outgoing) >= 2  # the shop invoices it paid
    df = ln.read_invoices(answer)
    assert len(df) == len(answer) - len(outgoing)
    assert "coffee" not in set(df["memo"]) and (df["amount_msat"] > 0).all()


def test_the_shipped_example_has_the_real_servers_fields(lnbits, shop) -> None:
    real = export(lnbits, shop[0])[0]
    example = json.loads((EXAMPLES / EXAMPLE_FILES["lnbits"]).read_text(encoding="utf-8"))[0]
    assert set(example) == set(real)
    for key, value in real.items():
        shipped = example[key]
        assert type(shipped) is type(value) or value is None or shipped is None, (key, shipped, value)
