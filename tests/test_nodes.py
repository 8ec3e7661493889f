"""ln.read_invoices on lnd, Core Lightning and LNbits exports in the shapes those programs print.

The exports come from tests/node_exports.py: each program's documented fields and types, with invoices
signed by lnnotebook's encoder. The real LNbits server's own output is read in tests/test_nodes_lnbits.py.
"""

from __future__ import annotations

import copy
import importlib.resources
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from node_exports import (
    EXAMPLE_FILES,
    EXAMPLES,
    Spec,
    cln_export,
    example_texts,
    lnbits_export,
    lnbits_old_payment,
    lnd_export,
)

import lnnotebook as ln
from lnnotebook.nodes import DECODED_COLUMNS, NODE_INVOICE_COLUMNS, InvoiceExportError

T0 = 1_750_000_000  # 2025-06-15T15:06:40Z
AS_OF = pd.Timestamp(T0 + 86_400, unit="s", tz="UTC")  # a day later: 1 h invoices left unpaid are over


def utc(seconds: int) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


# The lnrpc.Invoice fields as lightning.proto defines them (lnd 0.18), and which are 64-bit integers
# (printed as JSON strings by protobuf JSON) or bytes (hex from lncli, base64 from REST).
LND_FIELDS = {
    "memo", "r_preimage", "r_hash", "value", "value_msat", "settled", "creation_date", "settle_date",
    "payment_request", "description_hash", "expiry", "fallback_addr", "cltv_expiry", "route_hints",
    "private", "add_index", "settle_index", "amt_paid", "amt_paid_sat", "amt_paid_msat", "state", "htlcs",
    "features", "is_keysend", "payment_addr", "is_amp", "amp_invoice_state", "is_blinded",
    "blinded_path_config",
}  # fmt: skip
LND_INT64 = {
    "value", "value_msat", "creation_date", "settle_date", "expiry", "cltv_expiry", "add_index",
    "settle_index", "amt_paid", "amt_paid_sat", "amt_paid_msat",
}  # fmt: skip
LND_BYTES = {"r_preimage", "r_hash", "description_hash", "payment_addr"}
CLN_FIELDS = {
    "label", "description", "payment_hash", "status", "expires_at", "amount_msat", "bolt11", "bolt12",
    "local_offer_id", "invreq_payer_note", "created_index", "updated_index", "pay_index",
    "amount_received_msat", "paid_at", "paid_outpoint", "payment_preimage", "msatoshi", "msatoshi_received",
}  # fmt: skip


def lnd_specs() -> list[Spec]:
    """One invoice in each lnd state, a keysend and a spontaneous AMP payment, an amountless invoice."""
    return [
        Spec("open", 150_000_000, "open, paid later or never", T0, 3 * 86_400),
        Spec("open-over", 2_000, "open past its expiry", T0, 3600),
        Spec("settled", 21_000_000, "settled", T0, 3600, T0 + 95),
        Spec("overpaid", 1_000_000, "paid more than asked", T0, 3600, T0 + 30, received_msat=1_200_000),
        Spec("canceled", 5_000_000, "canceled", T0, 600, closed=True),
        Spec("held", 9_000_000, "a held HTLC", T0, 3600, T0 + 10, held=True),
        Spec("any", None, "any amount", T0, 3600, T0 + 60, received_msat=777_000),
        Spec("keysend", 50_000, "", T0 + 5, 0, T0 + 5, kind="keysend"),
        Spec("amp", 42_000, "", T0 + 7, 0, T0 + 8, kind="amp"),
    ]


@pytest.fixture(scope="module")
def lnd_frame() -> pd.DataFrame:
    """Indexed by the spec's seed (lnd's memo is empty for keysend and AMP rows)."""
    df = ln.read_invoices(lnd_export(lnd_specs()), as_of=AS_OF)
    return df.set_index(pd.Index([spec.seed for spec in lnd_specs()], name="spec"))


def test_lnd_export_has_exactly_the_fields_and_types_lnd_prints() -> None:
    for rest in (False, True):
        for invoice in lnd_export(lnd_specs(), rest=rest)["invoices"]:
            assert set(invoice) == LND_FIELDS
            for name in LND_INT64:
                assert isinstance(invoice[name], str) and invoice[name].isdigit(), (name, invoice[name])
            assert invoice["state"] in ("OPEN", "SETTLED", "CANCELED", "ACCEPTED")
            for name in LND_BYTES:
                value = invoice[name]
                if rest and value:
                    assert len(value) == 44 and value.endswith("="), (name, value)
                elif value:
                    assert len(value) == 64 and int(value, 16) >= 0, (name, value)


def test_lnd_states_amounts_and_times(lnd_frame: pd.DataFrame) -> None:
    assert lnd_frame["status"].to_dict() == {
        "open": "pending",
        "open-over": "expired",  # OPEN in the export, but over at as_of
        "settled": "paid",
        "overpaid": "paid",
        "canceled": "canceled",
        "held": "pending",  # ACCEPTED: the money is held, not received
        "any": "paid",
        "keysend": "paid",
        "amp": "paid",
    }
    df = lnd_frame.rename(index={spec.seed: spec.memo or spec.seed for spec in lnd_specs()})
    assert (
        df.loc["settled", "node_status"] == "SETTLED" and df.loc["a held HTLC", "node_status"] == "ACCEPTED"
    )
    assert df.loc["settled", "amount_msat"] == 21_000_000 == df.loc["settled", "amount_received_msat"]
    assert df.loc["paid more than asked", "amount_received_msat"] == 1_200_000
    assert (
        pd.isna(df.loc["any amount", "amount_msat"])
        and df.loc["any amount", "amount_received_msat"] == 777_000
    )
    assert pd.isna(df.loc["open, paid later or never", "amount_received_msat"])
    assert pd.isna(df.loc["a held HTLC", "paid_at"]) and pd.isna(
        df.loc["a held HTLC", "amount_received_msat"]
    )
    assert df.loc["settled", "created_at"] == utc(T0) and df.loc["settled", "paid_at"] == utc(T0 + 95)
    assert df.loc["settled", "expires_at"] == utc(T0 + 3600)
    assert df.loc["canceled", "expires_at"] == utc(T0 + 600) and pd.isna(df.loc["canceled", "paid_at"])
    assert list(df["label"]) == [str(n) for n in range(1, 10)]  # add_index
    assert (df["source"] == "lnd").all()
    decoded = df[df["bolt11"].notna()]
    assert decoded["error"].isna().all() and (decoded["payee"].str.len() == 66).all()
    assert (decoded["description"] == decoded["memo"]).all()


def test_lnd_keysend_and_amp_rows_have_no_invoice_and_no_error(lnd_frame: pd.DataFrame) -> None:
    rows = lnd_frame.reset_index(drop=True)
    keysend = rows[rows["kind"] == "keysend"].iloc[0]
    amp = rows[rows["kind"] == "amp"].iloc[0]
    for row in (keysend, amp):
        assert pd.isna(row["bolt11"]) and pd.isna(row["error"]) and pd.isna(row["network"])
        assert row["status"] == "paid" and pd.isna(row["expires_at"]) and pd.isna(row["memo"])
    assert keysend["amount_received_msat"] == 50_000 and keysend["paid_at"] == utc(T0 + 5)
    assert keysend["node_status"] == "SETTLED"
    # An AMP invoice stays OPEN in lnd; its settled set is the payment, dated by the set's settle_time.
    assert amp["node_status"] == "OPEN" and amp["amount_received_msat"] == 42_000
    assert amp["paid_at"] == utc(T0 + 8)
    assert sorted(rows["kind"].unique()) == ["amp", "bolt11", "keysend"]


def test_lnd_rest_base64_and_lncli_hex_read_the_same() -> None:
    lncli = ln.read_invoices(lnd_export(lnd_specs()), as_of=AS_OF)
    rest = ln.read_invoices(lnd_export(lnd_specs(), rest=True), as_of=AS_OF)
    pd.testing.assert_frame_equal(lncli, rest)
    spec = lnd_specs()[2]
    assert lncli.loc[2, "payment_hash"] == spec.payment_hash.hex()


def test_lnd_before_state_and_value_msat_existed() -> None:
    """lnd < 0.5 printed ``settled`` and ``value`` (sat) only; unset int64 fields are absent or "0"."""
    export = lnd_export(lnd_specs()[1:3])
    for invoice in export["invoices"]:
        del invoice["state"], invoice["value_msat"], invoice["amt_paid_msat"]
    df = ln.read_invoices(export, as_of=AS_OF)
    assert list(df["status"]) == ["expired", "paid"]
    assert list(df["amount_msat"]) == [2_000, 21_000_000]
    assert list(df["amount_received_msat"].astype(object).fillna(-1)) == [-1, 21_000_000]


def cln_specs() -> list[Spec]:
    return [
        Spec("c-paid", 100_000, "coffee", T0, 604_800, T0 + 42),
        Spec("c-over", 100_000, "tip, overpaid", T0, 604_800, T0 + 7, received_msat=100_500),
        Spec("c-unpaid", 2_500_000, "lunch", T0, 3 * 86_400),
        Spec("c-expired", 7_000, "tiny", T0, 60, closed=True),
        Spec("c-any", None, "donation, any amount", T0, 604_800, T0 + 300, received_msat=12_345_000),
        Spec("c-offer", 64_000, "from an offer", T0, 7200, T0 + 9, kind="bolt12"),
    ]


@pytest.mark.parametrize("old", [False, True], ids=["integer-msat", "msat-strings"])
def test_cln_statuses_amounts_and_times(old: bool) -> None:
    export = cln_export(cln_specs(), old=old)
    assert all(set(entry) <= CLN_FIELDS for entry in export["invoices"])
    if old:
        assert export["invoices"][0]["amount_msat"] == "100000msat"
        assert export["invoices"][0]["amount_received_msat"] == "100000msat"
    df = ln.read_invoices(export, as_of=AS_OF).set_index("label")
    assert df["status"].to_dict() == {
        "c-paid": "paid",
        "c-over": "paid",
        "c-unpaid": "pending",
        "c-expired": "expired",
        "c-any": "paid",
        "c-offer": "paid",
    }
    assert df["node_status"].to_dict()["c-unpaid"] == "unpaid"
    assert df.loc["c-paid", "amount_msat"] == 100_000 == df.loc["c-paid", "amount_received_msat"]
    assert df.loc["c-over", "amount_received_msat"] == 100_500
    assert pd.isna(df.loc["c-any", "amount_msat"]) and df.loc["c-any", "amount_received_msat"] == 12_345_000
    assert pd.isna(df.loc["c-unpaid", "amount_received_msat"]) and pd.isna(df.loc["c-unpaid", "paid_at"])
    assert df.loc["c-paid", "paid_at"] == utc(T0 + 42) and df.loc["c-paid", "expires_at"] == utc(T0 + 604_800)
    # Core Lightning prints no creation time: it is the decoded invoice's timestamp.
    assert df.loc["c-paid", "created_at"] == utc(T0) == df.loc["c-expired", "created_at"]
    offer = df.loc["c-offer"]
    assert offer["kind"] == "bolt12" and offer["bolt12"].startswith("lni1") and pd.isna(offer["bolt11"])
    assert pd.isna(offer["error"]) and pd.isna(offer["created_at"]) and offer["amount_msat"] == 64_000
    assert df.loc[df["kind"] == "bolt11", "error"].isna().all()


def test_cln_old_and_new_read_the_same() -> None:
    new = ln.read_invoices(cln_export(cln_specs()), as_of=AS_OF)
    old = ln.read_invoices(cln_export(cln_specs(), old=True), as_of=AS_OF)
    pd.testing.assert_frame_equal(new, old)


def lnbits_specs() -> list[Spec]:
    return [
        Spec("b-paid", 100_000, "coffee", T0, 600, T0 + 12),
        Spec("b-pending", 2_500_000, "lunch", T0 + 60, 2 * 86_400),
        Spec("b-over", 7_000, "expired, still pending", T0, 60),
        Spec("b-failed", 9_000, "failed at expiry", T0, 60, closed=True),
        Spec("b-fee", 1_000_000, "with a fee", T0, 3600, T0 + 3, extra={"fee_msat": 5_000}),
    ]


def test_lnbits_incoming_payments_are_the_invoices() -> None:
    spent = Spec("b-out", 3_000_000, "paid by this wallet", T0, 3600, T0 + 1)
    df = ln.read_invoices(lnbits_export(lnbits_specs(), outgoing=(spent,)), as_of=AS_OF).set_index("memo")
    assert "paid by this wallet" not in df.index  # outgoing: not an invoice of this wallet
    assert df["status"].to_dict() == {
        "lunch": "pending",
        "coffee": "paid",
        "expired, still pending": "expired",
        "failed at expiry": "expired",
        "with a fee": "paid",
    }
    assert df.loc["coffee", "node_status"] == "success"
    assert df.loc["coffee", "amount_received_msat"] == 100_000 and df.loc["with a fee", "fee_msat"] == 5_000
    assert df.loc["coffee", "fee_msat"] == 0 and pd.isna(df.loc["lunch", "amount_received_msat"])
    assert df.loc["coffee", "paid_at"].floor("s") == utc(T0 + 12)
    assert df.loc["coffee", "created_at"].floor("s") == utc(T0) and df.loc["coffee", "expires_at"] == utc(
        T0 + 600
    )
    assert df["error"].isna().all() and (df["source"] == "lnbits").all()


def test_lnbits_failed_before_its_expiry_is_canceled() -> None:
    export = lnbits_export([Spec("b-gone", 9_000, "failed early", T0, 3600, closed=True)])
    export[0]["updated_at"] = "2025-06-15T15:10:00+00:00"  # four minutes in, long before the hour
    assert ln.read_invoices(export, as_of=AS_OF)["status"].tolist() == ["canceled"]


def test_lnbits_before_1_0_with_pending_and_unix_times() -> None:
    old = [lnbits_old_payment(spec) for spec in lnbits_specs()[:3]]
    df = ln.read_invoices(old, as_of=AS_OF).set_index("memo")
    assert df["status"].to_dict() == {
        "coffee": "paid",
        "lunch": "pending",
        "expired, still pending": "expired",
    }
    assert df.loc["coffee", "created_at"] == utc(T0) and df.loc["coffee", "expires_at"] == utc(T0 + 600)
    assert pd.isna(df.loc["coffee", "paid_at"])  # not recorded by old LNbits
    assert df.loc["lunch", "node_status"] == "pending=true"


def test_lnbits_paginated_answer_is_read_too() -> None:
    rows = lnbits_export(lnbits_specs())
    paged = ln.read_invoices({"data": rows, "total": len(rows)}, as_of=AS_OF)
    pd.testing.assert_frame_equal(paged, ln.read_invoices(rows, as_of=AS_OF))


# --- detection and inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(EXAMPLE_FILES))
def test_each_example_export_is_detected_and_read(source: str) -> None:
    path = EXAMPLES / EXAMPLE_FILES[source]
    df = ln.read_invoices(path)
    assert (df["source"] == source).all() and len(df) >= 30
    assert df["status"].isin(["pending", "paid", "expired", "canceled"]).all()
    assert (df["status"] == "paid").sum() >= 10 and (df["status"] != "paid").sum() >= 5
    assert df["error"].isna().all() and df["warnings"].isna().all()
    paid = df[df["status"] == "paid"]
    assert paid["paid_at"].notna().all() and paid["amount_received_msat"].notna().all()
    assert (paid["paid_at"] >= paid["created_at"]).all()
    assert list(df.columns) == [*NODE_INVOICE_COLUMNS, *DECODED_COLUMNS]
    assert {name: str(dtype) for name, dtype in df.dtypes.items()} == {
        **NODE_INVOICE_COLUMNS,
        **DECODED_COLUMNS,
    }
    assert ln.read_invoices(path, source=source).equals(df)


def test_example_exports_are_the_ones_the_builder_makes() -> None:
    """The package data is tests/node_exports.py's output: `python tests/node_exports.py` rewrites it."""
    for name, content in example_texts().items():
        assert (EXAMPLES / name).read_text(encoding="utf-8") == content, f"{name} is stale"


def test_lnd_example_has_keysend_and_amp_rows() -> None:
    df = ln.read_invoices(EXAMPLES / EXAMPLE_FILES["lnd"])
    assert set(df["kind"]) == {"bolt11", "keysend", "amp"}
    assert set(df["status"]) == {"paid", "canceled"}


def test_inputs_path_text_bytes_object_and_package_resource(tmp_path: Path) -> None:
    export = cln_export(cln_specs())
    text = json.dumps(export)
    path = tmp_path / "listinvoices.json"
    path.write_text(text, encoding="utf-8")
    expected = ln.read_invoices(export, as_of=AS_OF)
    for data in (str(path), path, text, text.encode(), "\n  " + text):
        pd.testing.assert_frame_equal(ln.read_invoices(data, as_of=AS_OF), expected)
    resource = importlib.resources.files("lnnotebook.nodes") / "examples" / EXAMPLE_FILES["cln"]
    assert (ln.read_invoices(resource)["source"] == "cln").all()


def test_the_export_object_is_not_changed() -> None:
    export = lnd_export(lnd_specs())
    before = copy.deepcopy(export)
    ln.read_invoices(export)
    assert export == before


def test_an_empty_export_is_an_empty_frame_with_the_columns() -> None:
    for export in ({"invoices": []}, lnd_export([]), {"data": [], "total": 0}):
        df = ln.read_invoices(export)
        assert df.empty and list(df.columns) == [*NODE_INVOICE_COLUMNS, *DECODED_COLUMNS]
    assert ln.read_invoices(lnd_export([]))["source"].dtype == "string"


def test_unknown_shape_says_what_it_saw_and_what_it_expected() -> None:
    with pytest.raises(InvoiceExportError, match=r"cannot tell .*keys 'payments'.*lnd, cln, lnbits.*source="):
        ln.read_invoices({"payments": []})
    with pytest.raises(InvoiceExportError, match="cannot tell"):
        ln.read_invoices([{"bolt11": "lnbc1..."}])
    with pytest.raises(
        ValueError, match=r"source must be one of 'lnd', 'cln', 'lnbits' or None, not 'eclair'"
    ):
        ln.read_invoices({"invoices": []}, source="eclair")


def test_forcing_the_wrong_source_fails_naming_the_field() -> None:
    with pytest.raises(
        InvoiceExportError, match=r"cln export, invoice 0: 'status' should be one of unpaid, paid"
    ):
        ln.read_invoices(lnd_export(lnd_specs()), source="cln")


def test_bad_json_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvoiceExportError, match=r"the JSON text is not JSON: .* line 1, column \d+"):
        ln.read_invoices('{"invoices": [}')
    broken = tmp_path / "broken.json"
    broken.write_text('{\n "invoices": [\n  {"label": 1,}\n ]\n}', encoding="utf-8")
    with pytest.raises(InvoiceExportError, match=r"broken.json is not JSON: .* line 3"):
        ln.read_invoices(broken)
    with pytest.raises(FileNotFoundError, match=r"no invoice export at '.*nowhere.json'"):
        ln.read_invoices(tmp_path / "nowhere.json")
    with pytest.raises(TypeError, match="path, JSON text or the parsed JSON"):
        ln.read_invoices(42)


@pytest.mark.parametrize(
    ("source", "field", "value", "message"),
    [
        (
            "lnd",
            "value_msat",
            "12abc",
            r"lnd export, invoice 2 \(add_index '3'\): 'value_msat' should be a whole",
        ),
        ("lnd", "state", "PAID", r"'state' should be one of OPEN, SETTLED, CANCELED, ACCEPTED, not 'PAID'"),
        ("lnd", "r_hash", "beef", r"'r_hash' should be 32 bytes as 64 hex digits or base64, not 'beef'"),
        ("lnd", "creation_date", "99999999999999", r"'creation_date' is not a time lnnotebook can represent"),
        (
            "cln",
            "amount_msat",
            "12sat",
            r"cln export, invoice 2 \(label 'c-unpaid'\): 'amount_msat' should be",
        ),
        ("cln", "status", "settled", r"'status' should be one of unpaid, paid, expired, not 'settled'"),
        ("lnbits", "status", "done", r"lnbits export, invoice 2 \(checking_id '.{16}'\): 'status' should be"),
        ("lnbits", "expiry", "soon", r"'expiry' is not a time: 'soon'"),
    ],
)
def test_a_bad_field_names_the_invoice_and_the_field(source, field, value, message) -> None:
    export = {
        "lnd": lambda: lnd_export(lnd_specs()),
        "cln": lambda: cln_export(cln_specs()),
        "lnbits": lambda: lnbits_export(lnbits_specs()),
    }[source]()
    items = export if isinstance(export, list) else export["invoices"]
    items[2][field] = value
    with pytest.raises(InvoiceExportError, match=message) as caught:
        ln.read_invoices(export)
    assert caught.value.source == source and caught.value.position == 2 and caught.value.field == field
    assert isinstance(caught.value, ln.InvoiceExportError) and isinstance(caught.value, ValueError)


def test_a_broken_invoice_string_is_an_error_row_not_a_failure() -> None:
    export = cln_export(cln_specs())
    good = export["invoices"][0]["bolt11"]
    export["invoices"][0]["bolt11"] = good[:-8] + ("q" if good[-8] != "q" else "p") + good[-7:]
    df = ln.read_invoices(export, as_of=AS_OF)
    assert df.loc[0, "error_type"] == "ChecksumError" and "checksum" in df.loc[0, "error"].lower()
    assert df.loc[0, "status"] == "paid" and df.loc[0, "amount_received_msat"] == 100_000  # node facts kept
    assert pd.isna(df.loc[0, "created_at"])  # nothing to take it from
    assert df.loc[1:, "error"].isna().all()


def test_node_and_invoice_disagreeing_is_a_warning() -> None:
    export = cln_export(cln_specs())
    export["invoices"][0]["payment_hash"] = "00" * 32
    export["invoices"][1]["amount_msat"] = 99_999
    df = ln.read_invoices(export, as_of=AS_OF)
    assert df.loc[0, "warnings"] == "the node's payment_hash is not the invoice's"
    assert df.loc[1, "warnings"] == "the node's amount_msat is not the invoice's"
    assert df.loc[0, "payment_hash"] == "00" * 32  # the node's own record is shown, not replaced
    assert df.loc[2:, "warnings"].isna().all()


def test_read_invoices_is_lazy_and_import_stays_cheap() -> None:
    code = (
        "import sys, lnnotebook as ln\n"
        "assert 'lnnotebook.nodes' not in sys.modules\n"
        "assert callable(ln.read_invoices) and callable(ln.with_fiat)\n"
        "assert 'matplotlib' not in sys.modules and 'requests' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_wallet_server_readers_are_declared_by_their_provider_folder() -> None:
    """A provider folder's PROVIDES names its export reader; read_invoices finds it in the registry."""
    from lnnotebook.providers import EXPORT_READERS, export_readers

    readers = export_readers()
    assert readers and all(entry.startswith("lnnotebook.providers.") for entry in readers)
    for entry in readers:  # each declared reader is there, with the reader interface
        module = importlib.import_module(entry.split(":")[0])
        assert callable(getattr(module, entry.split(":")[1]))
        assert callable(module.looks_like) and isinstance(module.SOURCE, str)
    assert sorted(readers) == sorted(EXPORT_READERS.values())
