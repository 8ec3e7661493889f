"""What a new user tries first (issue 10): df.ln, pasted forms, is_expired, history filters, the sample
invoices shipped in the package, one amount dtype in provider frames, and compare's readable view."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

import lnnotebook as ln
from lnnotebook.bolt11 import encode_invoice
from lnnotebook.comparison import Comparison, comparison_html, comparison_view, format_value
from lnnotebook.service import join_decoded

DATA = Path(__file__).resolve().parent / "data"
SPEC = json.loads((DATA / "spec_vectors.json").read_text(encoding="utf-8"))
COFFEE = SPEC["valid"][1]["invoice"]


def test_sample_invoices_ship_in_the_package() -> None:
    invoices = ln.sample_invoices()
    assert isinstance(invoices, pd.Series) and invoices.name == "bolt11" and len(invoices) == 316
    assert invoices[1] == COFFEE and not any(text.startswith("#") for text in invoices)
    frame = ln.decode_frame(invoices, errors="coerce")
    assert frame["error"].notna().sum() == 1  # spec row 13, as the notebooks say
    from lnnotebook.samples import sample_invoices_path

    assert sample_invoices_path().is_file()
    assert Path(ln.__file__).parent in sample_invoices_path().parents


def test_a_sample_invoice_read_outside_the_repository(tmp_path: Path) -> None:
    code = "import lnnotebook as ln; print(len(ln.sample_invoices()))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "316", result.stderr


def test_dataframe_accessor_decodes_a_column() -> None:
    df = pd.DataFrame({"bolt11": [COFFEE, "junk"], "note": ["a", "b"]}, index=["x", "y"])
    decoded = df.ln.decode(errors="coerce")
    pd.testing.assert_frame_equal(decoded, df["bolt11"].ln.decode(errors="coerce"))
    assert list(decoded.index) == ["x", "y"] and decoded.loc["x", "description"] == "1 cup coffee"
    other = df.rename(columns={"bolt11": "payment_request"})
    assert other.ln.decode(column="payment_request", errors="coerce").loc["x", "amount_msat"] == 250_000_000
    assert len(other.ln.hops(column="payment_request", errors="coerce")) == 1  # the failed row
    with pytest.raises(KeyError, match="no 'bolt11' column.*column="):
        other.ln.decode()


@pytest.mark.parametrize(
    "pasted",
    [f'"{COFFEE}"', f"'{COFFEE}'", f"`{COFFEE}`", f"\u201c{COFFEE}\u201d", f"  lightning:{COFFEE.upper()}\n"],
)
def test_decode_accepts_what_the_widget_accepts(pasted: str) -> None:
    from lnnotebook.widgets import split_invoices

    assert ln.decode(pasted).bolt11 == COFFEE
    assert split_invoices(pasted) == [pasted.strip()]


def test_is_expired_is_a_property_with_a_short_repr() -> None:
    invoice = ln.decode(COFFEE)
    assert invoice.is_expired is True and repr(invoice.is_expired) == "True"
    assert invoice.expires_at is not None
    assert not invoice.is_expired_at(invoice.expires_at - timedelta(seconds=1))
    assert invoice.is_expired_at(invoice.expires_at)


@pytest.fixture
def ledger(tmp_path: Path):
    path = tmp_path / "ledger.sqlite"
    with ln.sandbox(providers=["lnpay"]) as sb:
        sb.connect("lnpay", ledger=path).create_invoice(1_000, "one")
    return path


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            {"status": "Paid"},
            r"status 'Paid' is not one of pending, paid, expired, failed \(did you mean 'paid'\?\)",
        ),
        ({"status": ["pending", "settled"]}, "status 'settled' is not one of"),
        (
            {"provider": "lnpayy"},
            r"provider 'lnpayy' is neither in the ledger nor registered; in the ledger: lnpay",
        ),
        ({"since": "yesterday"}, r"since='yesterday' is not a date or time: .*ISO 8601"),
        ({"until": "soon"}, "until='soon' is not a date"),
        ({"stat": "paid"}, "history\\(\\) has no filter stat"),
    ],
)
def test_history_filters_say_what_is_valid(ledger: Path, filters: dict, message: str) -> None:
    with pytest.raises(ln.FilterError, match=message) as caught:
        ln.history(ledger, **filters)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ln.LnnotebookError)


def test_history_filters_that_can_match_still_work(ledger: Path) -> None:
    assert len(ln.history(ledger, status="pending", provider="lnpay", since="2020-01-01")) == 1
    assert ln.history(ledger, provider="barkd").empty  # registered, nothing recorded: empty, not an error
    assert ln.history(ledger, status="paid").empty


def test_provider_frames_have_one_amount_dtype() -> None:
    key = SPEC["_meta"]["signing_private_key"]
    invoices = [
        encode_invoice(
            private_key=key,
            payment_hash="ab" * 32,
            payment_secret="cd" * 32,
            description="x",
            amount_msat=msat,
        )
        for msat in (21_000_000, 1_500)  # 21,000 sat and 1.5 sat
    ]
    frame = pd.DataFrame(
        {"bolt11": pd.array(invoices, dtype="string"), "amount_sat": pd.array([21_000, 2], "Int64")}
    )
    joined = join_decoded(frame)
    assert joined["invoice_amount_sat"].dtype == joined["amount_sat"].dtype == "Int64"
    assert joined.loc[0, "invoice_amount_sat"] == 21_000  # shown as 21000, not 21000.0
    assert pd.isna(joined.loc[1, "invoice_amount_sat"]) and joined.loc[1, "amount_msat"] == 1_500


def test_compare_shows_itself_formatted_and_keeps_its_numbers() -> None:
    with ln.sandbox(seed="view") as sb:
        frame = ln.create_invoices(sb.providers(ledger=False), 21_000, "view", repeat=2)
    table = ln.compare(frame)
    assert isinstance(table, Comparison) and table["amount_sat_mean"].dtype == "Float64"
    assert type(table[["invoices"]]) is pd.DataFrame  # derived frames are plain
    view = comparison_view(table)
    assert list(view.columns) == list(table.index) and "expiry_s_median" in view.index
    assert view.loc["amount_sat_mean", "barkd"] == "21,000" and view.loc["failure_rate", "barkd"] == "0 %"
    assert view.loc["expiry_s_median", "barkd"] == "1 h" and view.loc["expiry_s_max", "lnpay"] == "1 d"
    assert view.loc["latency_s_median", "lnpay"].endswith(" ms")
    assert "—" in view.loc["fee_sat_mean"].tolist()  # tazapay reports no fee
    assert repr(table) == view.to_string() and "21,000" in repr(table)
    assert table._repr_html_() == comparison_html(table) and "<th" in table._repr_html_()
    assert "90666.666667" not in table._repr_html_() + repr(table)


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("invoices", 3, "3"),
        ("amount_sat_mean", 90_666.666667, "90,666.7"),
        ("expiry_s_median", 3600.0, "1 h"),
        ("failure_rate", 1 / 3, "33.3 %"),
        ("route_fee_ppm_mean", 12.3456, "12.346"),
        ("fee_sat_mean", None, "—"),
        ("latency_s_median", 1.5, "1.50 s"),
    ],
)
def test_compare_values_read_as_a_person_reads_them(column: str, value, shown: str) -> None:
    assert format_value(column, value) == shown
