"""create_invoices: one row per invoice or failure, CreatedInvoice fields joined with decoded columns."""

from __future__ import annotations

import pandas as pd
import pytest

import lnnotebook as ln


@pytest.fixture(scope="module")
def sb():
    with ln.sandbox(seed="batch") as box:
        yield box


def test_rows_line_up_across_providers(sb):
    frame = ln.create_invoices(sb.providers(), 2_000, "batch", repeat=3, workers=4, progress=False)
    count = len(sb.names())
    assert len(frame) == 3 * count and frame["error"].isna().all() and frame["decode_error"].isna().all()
    assert list(frame["provider"][:count]) == sb.names()
    assert list(frame["repeat"]) == [0] * count + [1] * count + [2] * count
    assert (frame["amount_sat"] == 2_000).all() and (frame["invoice_amount_sat"] == 2_000).all()
    # LNURL-pay invoices commit to the service's metadata by hash (LUD-06); the memo went as a comment.
    hashed = frame["description_hash"].notna()
    assert set(frame.loc[hashed, "provider"]) == {"lnurl"} and frame.loc[hashed, "description"].isna().all()
    assert (frame.loc[~hashed, "description"] == "batch").all()
    assert frame["bolt11"].is_unique and frame["payment_hash"].is_unique
    assert set(frame["network"]) == {"tbs", "tb", "bc"}
    assert frame.loc[frame["provider"] == "barkd", "fee_sat"].notna().all()
    assert frame.loc[frame["provider"] == "tazapay", "fee_sat"].isna().all()
    assert str(frame["created_at"].dtype).startswith("datetime64") and frame["amount_sat"].dtype == "Int64"
    assert {"invoice_expiry", "invoice_created_at", "raw", "elapsed_s"} <= set(frame.columns)
    for name in sb.names():
        assert sb.minted(name) >= 3


def test_failures_become_rows(sb):
    bad = sb.connect("barkd", token="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g")
    frame = ln.create_invoices([bad, sb.connect("lnpay")], 500, expiry=60, progress=False)
    assert list(frame["error_type"]) == ["InvalidRequestError", pd.NA]  # barkd has no expiry field
    frame = ln.create_invoices([bad, sb.connect("lnpay")], 500, progress=False)
    first = frame.iloc[0]
    assert first["error_type"] == "AuthenticationError" and "invalid auth token" in first["error"]
    assert first["amount_sat"] == 500 and pd.isna(first["bolt11"]) and pd.isna(first["network"])
    assert pd.isna(frame.iloc[1]["error"]) and frame.iloc[1]["network"] == "bc"


def test_bad_arguments(sb):
    with pytest.raises(ValueError, match="workers"):
        ln.create_invoices(sb.providers(), 1, workers=0)
    with pytest.raises(ValueError, match="repeat"):
        ln.create_invoices(sb.providers(), 1, repeat=0)
    with pytest.raises(ValueError, match="at least one provider"):
        ln.create_invoices([], 1)


def test_names_are_connected_from_the_environment(sb, monkeypatch):
    for variable, value in sb.env().items():
        monkeypatch.setenv(variable, value)
    frame = ln.create_invoices(["lnpay", "tazapay"], 10, progress=False)
    assert list(frame["provider"]) == ["lnpay", "tazapay"] and frame["error"].isna().all()


def test_progress_bar_runs(sb, capsys):
    frame = ln.create_invoices(sb.connect("lnpay"), 10, repeat=3, progress=True)
    assert len(frame) == 3
    assert "creating invoices" in capsys.readouterr().err
