"""The service layer owns persistence: clients report to an injected recorder, ``connect`` injects the
ledger, and every error lnnotebook raises shares one root."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import lnnotebook as ln
from lnnotebook.ledger import LedgerError, LedgerStore, default_ledger_path
from lnnotebook.providers import provider_class
from lnnotebook.providers.base import CreatedInvoice
from lnnotebook.schema import CREATED_FIELDS
from lnnotebook.service import Ledger, connect


@pytest.fixture(scope="module")
def sb():
    with ln.sandbox(seed="service") as sandbox:
        yield sandbox


class ListRecorder:
    """A recorder that keeps calls in memory, and what the provider had minted at each call."""

    def __init__(self, sb: Any, name: str) -> None:
        self.sb, self.name = sb, name
        self.calls: list[tuple[str, Any, int]] = []

    def record(self, invoice: CreatedInvoice, *, error: BaseException | None = None) -> None:
        self.calls.append(("record", invoice, self.sb.minted(self.name)))

    def record_failure(self, provider: str, error: BaseException, **attempt: Any) -> None:
        self.calls.append(("record_failure", type(error).__name__, self.sb.minted(self.name)))

    def note_status(self, provider: str, provider_id: str, status: str) -> None:
        self.calls.append(("note_status", status, self.sb.minted(self.name)))


def test_a_client_built_without_a_recorder_writes_nothing(sb, tmp_path: Path) -> None:
    home = Path(os.environ["LNNOTEBOOK_HOME"])
    client = provider_class("lnpay")(**sb.options("lnpay"))
    assert client.recorder is None
    invoice = client.create_invoice(1_000, "not recorded")
    sb.pay(invoice.bolt11)
    assert client.invoice_status(invoice) == "paid"
    sb.inject("lnpay", "401")
    with pytest.raises(ln.AuthenticationError):
        client.create_invoice(1_000)
    client.close()
    assert not default_ledger_path().exists() and not any(home.iterdir()), "nothing may be written"


def test_a_client_reports_to_the_recorder_it_is_given(sb) -> None:
    recorder = ListRecorder(sb, "barkd")
    client = provider_class("barkd")(recorder=recorder, **sb.options("barkd"), retries=0)
    before = sb.minted("barkd")
    invoice = client.create_invoice(500, "recorded")
    assert recorder.calls == [("record", invoice, before + 1)]
    sb.inject("barkd", "500")
    with pytest.raises(ln.ProviderUnavailableError):
        client.create_invoice(501)
    assert recorder.calls[-1][:2] == ("record_failure", "ProviderUnavailableError")
    sb.pay(invoice.bolt11)
    client.invoice_status(invoice)
    assert recorder.calls[-1][:2] == ("note_status", "paid")
    client.close()


def test_a_client_built_directly_refuses_ledger(sb) -> None:
    with pytest.raises(ln.ConfigurationError, match="ledger= is an option of lnnotebook.connect"):
        provider_class("barkd")(ledger=False, **sb.options("barkd"))


def test_connect_commits_to_the_ledger_before_create_invoice_returns(sb, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    client = ln.connect("tazapay", ledger=path, **sb.options("tazapay"))
    assert isinstance(client.recorder, Ledger) and client.recorder.path == path
    assert ln.connect is connect and ln.Ledger is Ledger
    invoice = client.create_invoice(2_100, "kept")
    with sqlite3.connect(path) as other:  # another connection, as another process would see it
        rows = other.execute("SELECT provider, provider_id, amount_sat FROM invoices").fetchall()
    assert rows == [("tazapay", invoice.provider_id, 2_100)]
    client.close()


def test_connect_defaults_to_the_default_ledger_and_false_to_none(sb) -> None:
    client = ln.connect("lnpay", **sb.options("lnpay"))
    assert isinstance(client.recorder, Ledger) and client.recorder.path == default_ledger_path()
    assert ln.connect("lnpay", ledger=False, **sb.options("lnpay")).recorder is None
    store = LedgerStore(default_ledger_path().with_name("store.sqlite"))
    assert ln.connect("lnpay", ledger=store, **sb.options("lnpay")).recorder is store
    with pytest.raises(TypeError, match="ledger must be a Ledger, a path, or False; got int"):
        ln.connect("lnpay", ledger=3, **sb.options("lnpay"))


def test_every_error_has_one_root() -> None:
    from lnnotebook.export import SchemaError

    for error in (
        ln.InvoiceError,
        ln.ChecksumError,
        ln.ProviderError,
        ln.ConfigurationError,
        ln.SuspectInvoiceError,
        ln.LedgerError,
        SchemaError,
    ):
        assert issubclass(error, ln.LnnotebookError), error
    assert issubclass(LedgerError, RuntimeError) and issubclass(ln.ConfigurationError, ValueError)
    assert ln.LnnotebookError.__doc__ == "The root of every error lnnotebook raises."


def test_the_created_columns_are_the_created_invoice_fields() -> None:
    fields = tuple(f.name for f in dataclasses.fields(CreatedInvoice) if f.name != "provider")
    assert fields == CREATED_FIELDS
