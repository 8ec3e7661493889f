"""The SQLite ledger: every invoice a provider returned is saved before the call returns, survives a
killed process, and concurrent writers lose nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

import lnnotebook as ln
from lnnotebook.ledger import LedgerError
from lnnotebook.service import Ledger

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LNNOTEBOOK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def sb():
    with ln.sandbox() as sandbox:
        yield sandbox


def test_created_invoices_are_committed_before_create_invoice_returns(sb, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    client = sb.connect("lnpay", ledger=path)
    invoice = client.create_invoice(1234, "coffee ☕", 600)
    # A separate connection (as another process would) sees the committed row at once.
    with sqlite3.connect(path) as other:
        rows = other.execute(
            "SELECT provider, provider_id, bolt11, amount_sat, memo, expiry, fee_sat, status, raw "
            "FROM invoices"
        ).fetchall()
    assert len(rows) == 1
    provider, provider_id, bolt11, amount, memo, expiry, fee, status, raw = rows[0]
    assert (provider, provider_id, bolt11) == ("lnpay", invoice.provider_id, invoice.bolt11)
    assert (amount, memo, expiry, fee, status) == (1234, "coffee ☕", 600, invoice.fee_sat, "pending")
    assert json.loads(raw) == json.loads(json.dumps(dict(invoice.raw), default=str))
    for secret in sb.credentials("lnpay").values():
        assert secret not in raw
    with sqlite3.connect(path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_failed_attempts_are_recorded_with_their_error(sb, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    client = sb.connect("barkd", ledger=ledger, retries=0)
    sb.inject("barkd", "500")
    with pytest.raises(ln.ProviderUnavailableError):
        client.create_invoice(500, "will fail")
    rows = ledger.invoices()
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["status"] == "failed" and pd.isna(row["bolt11"])
    assert row["error_type"] == "ProviderUnavailableError" and "500" in row["error"]
    assert (row["amount_sat"], row["memo"]) == (500, "will fail")
    # validation errors never reach the provider and are not attempts
    with pytest.raises(ln.InvalidRequestError):
        client.create_invoice(0)
    assert len(ledger.invoices()) == 1


def test_default_ledger_lives_in_lnnotebook_home_and_can_be_opted_out(sb, home: Path) -> None:
    sb.connect("tazapay").create_invoice(2000)
    assert (home / "ledger.sqlite").exists()
    assert len(ln.history()) == 1
    sb.connect("tazapay", ledger=False).create_invoice(2000)
    assert len(ln.history()) == 1
    frame = ln.create_invoices([sb.connect("barkd")], 10, repeat=3)
    assert frame["error"].isna().all()
    assert len(ln.history()) == 4


def test_create_invoices_by_name_uses_the_ledger_given(sb, tmp_path: Path, monkeypatch) -> None:
    for name, value in sb.env().items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "batch.sqlite"
    frame = ln.create_invoices(["barkd", "lnpay-legacy"], 100, repeat=2, ledger=path)
    history = ln.history(path)
    assert sorted(history["provider_id"]) == sorted(frame["provider_id"])


def test_history_joins_decoded_columns_and_filters(sb, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    frame = ln.create_invoices([sb.connect(n, ledger=path) for n in ("barkd", "lnpay")], 321, "tea", repeat=2)
    sb.inject("lnpay", "401")
    ln.create_invoices([sb.connect("lnpay", ledger=path)], 5)
    history = ln.history(path)
    assert len(history) == 5
    assert history["id"].is_monotonic_increasing
    done = history[history["error"].isna()]
    assert set(done["bolt11"]) == set(frame["bolt11"])
    assert (done["invoice_amount_sat"] == 321).all() and (done["description"] == "tea").all()
    assert set(done["network"]) == {"tbs", "bc"}
    assert str(history["created_at"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(done["raw"].iloc[0], dict)

    assert set(ln.history(path, provider="barkd")["provider"]) == {"barkd"}
    assert len(ln.history(path, provider=["barkd", "lnpay"], failures=False)) == 4
    assert len(ln.history(path, status="failed")) == 1
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert ln.history(path, since=future).empty
    assert len(ln.history(path, until=future)) == 5


def test_refresh_records_status_changes_with_their_time(sb, tmp_path: Path, monkeypatch) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    clients = [sb.connect(name, ledger=ledger) for name in ("barkd", "tazapay", "lnpay", "lnpay-legacy")]
    created = [client.create_invoice(50) for client in clients]
    sb.pay(created[0].bolt11)
    sb.pay(created[2].bolt11)
    before = datetime.now(timezone.utc)

    changes = ledger.refresh(clients)
    assert len(changes) == 4
    changed = changes[changes["changed"]]
    assert set(changed["provider"]) == {"barkd", "lnpay"} and set(changed["status"]) == {"paid"}
    log = ledger.status_changes()
    assert len(log) == 2 and (log["changed_at"] >= before).all()
    assert set(log["old_status"]) == {"pending"}

    # A second refresh asks only about what is still pending; providers connect from the environment.
    for name, value in sb.env().items():
        monkeypatch.setenv(name, value)
    sb.pay(created[1].bolt11)
    again = ledger.refresh()
    assert set(again["provider"]) == {"tazapay", "lnpay-legacy"}
    assert again.set_index("provider").loc["tazapay", "status"] == "paid"
    assert set(ledger.invoices(status="paid")["provider"]) == {"barkd", "lnpay", "tazapay"}


def test_refresh_keeps_pending_when_the_provider_cannot_answer(sb, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    client = sb.connect("lnpay", ledger=ledger, retries=0)
    client.create_invoice(70)
    sb.inject("lnpay", "503")
    changes = ledger.refresh([client])
    assert changes.loc[0, "status"] == "pending" and not changes.loc[0, "changed"]
    assert "503" in changes.loc[0, "error"]


def test_refresh_tries_an_unconfigured_provider_once(sb, tmp_path: Path, monkeypatch) -> None:
    import lnnotebook.service

    ledger = Ledger(tmp_path / "ledger.sqlite")
    client = sb.connect("barkd", ledger=ledger)
    client.create_invoice(71)
    client.create_invoice(72)
    for variable in list(os.environ):
        if variable.startswith("LNNOTEBOOK_BARKD_"):
            monkeypatch.delenv(variable)
    calls = []
    real_connect = lnnotebook.service.connect
    monkeypatch.setattr(
        lnnotebook.service, "connect", lambda *a, **k: calls.append(a) or real_connect(*a, **k)
    )
    changes = ledger.refresh([])  # barkd is not given and has no token in the environment
    assert calls == [("barkd",)]
    assert len(changes) == 2 and changes["error"].str.contains("LNNOTEBOOK_BARKD_TOKEN").all()
    assert (changes["status"] == "pending").all()


def test_invoice_status_calls_update_the_ledger(sb, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    client = sb.connect("lnpay-legacy", ledger=ledger)
    invoice = client.create_invoice(80)
    sb.pay(invoice.bolt11)
    assert client.invoice_status(invoice) == "paid"
    assert ledger.invoices()["status"].tolist() == ["paid"]


def test_threads_of_create_invoices_lose_nothing(sb, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    frame = ln.create_invoices([sb.connect(n, ledger=path) for n in sb.names()], 10, repeat=25, workers=8)
    assert frame["error"].isna().all() and len(frame) == 25 * len(sb.names())
    recorded = Ledger(path).invoices()
    assert sorted(recorded["provider_id"]) == sorted(frame["provider_id"])


def test_a_ledger_that_cannot_keep_the_attempt_sends_nothing(sb, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    client = sb.connect("barkd", ledger=path)
    with sqlite3.connect(path) as other:  # break the file under the client's feet
        other.execute("DROP TABLE status_changes")
        other.execute("DROP TABLE invoices")
    before = sb.minted("barkd")
    with pytest.raises(LedgerError, match="nothing was sent") as caught:
        client.create_invoice(90)
    assert caught.value.invoice is None and sb.minted("barkd") == before


def test_a_failed_ledger_write_hands_back_the_invoice(sb, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    client = sb.connect("barkd", ledger=path)
    with sqlite3.connect(path) as other:  # the attempt is written (INSERT), the invoice cannot be (UPDATE)
        other.execute(
            "CREATE TRIGGER no_updates BEFORE UPDATE ON invoices "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    with pytest.raises(LedgerError) as caught:
        client.create_invoice(90)
    assert caught.value.invoice is not None and caught.value.invoice.bolt11.startswith("lntbs")
    assert "exists at the provider" in str(caught.value)

    frame = ln.create_invoices([client], 91)  # in a batch the row keeps the invoice and says why
    assert frame.loc[0, "error_type"] == "LedgerError" and frame.loc[0, "bolt11"].startswith("lntbs")


CHILD = textwrap.dedent(
    """
    import sys
    import lnnotebook as ln
    with ln.sandbox() as sb:
        client = sb.connect("lnpay", ledger=sys.argv[1])
        for number in range(100000):
            invoice = client.create_invoice(1 + number, f"invoice {number}")
            print(invoice.bolt11, flush=True)
    """
)


def test_sigkill_mid_batch_loses_no_invoice_handed_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    handed_back: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while len(handed_back) < 40 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            handed_back.append(line.strip())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert len(handed_back) == 40, "the child stopped creating invoices before it was killed"

    with sqlite3.connect(path) as ledger:
        assert ledger.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        recorded = {row[0] for row in ledger.execute("SELECT bolt11 FROM invoices")}
    assert set(handed_back) <= recorded
    assert Ledger(path).integrity_check() == "ok"


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from lnnotebook.service import Ledger
    from lnnotebook.providers.base import CreatedInvoice
    from lnnotebook.synthetic import generate_invoices
    worker, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ledger = Ledger(path)
    for number, bolt11 in enumerate(generate_invoices(count, seed=1000 + worker)):
        ledger.record(CreatedInvoice(
            provider=f"writer{worker}", provider_id=f"{worker}-{number}", bolt11=bolt11,
            amount_sat=number + 1,
            memo=None, expiry=None, fee_sat=None, status="pending", created_at=datetime.now(timezone.utc),
            raw={"number": number},
        ))
    """
)


def test_four_processes_writing_500_each_lose_none(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(worker), "500", str(path)], cwd=ROOT)
        for worker in range(4)
    ]
    for writer in writers:
        assert writer.wait(timeout=300) == 0
    frame = Ledger(path).invoices()
    assert len(frame) == 2000
    assert frame.groupby("provider").size().to_dict() == {f"writer{w}": 500 for w in range(4)}
    assert frame["provider_id"].is_unique
    assert Ledger(path).integrity_check() == "ok"


def test_a_failed_ledger_write_of_a_failed_attempt_keeps_the_provider_error(
    sb, tmp_path: Path, caplog
) -> None:
    path = tmp_path / "ledger.sqlite"
    client = sb.connect("barkd", ledger=path, retries=0)
    with sqlite3.connect(path) as other:  # the attempt is written, its failure cannot be
        other.execute(
            "CREATE TRIGGER no_updates BEFORE UPDATE ON invoices "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    sb.inject("barkd", "500")
    with pytest.raises(ln.ProviderUnavailableError):  # not the ledger's sqlite3.OperationalError
        client.create_invoice(92)
    assert any("could not save the failed barkd attempt" in r.getMessage() for r in caplog.records)

    sb.inject("barkd", "500")
    frame = ln.create_invoices([client], 93)  # a batch gets its failure row instead of an exception
    assert frame.loc[0, "error_type"] == "ProviderUnavailableError"


def test_a_forked_child_writes_through_its_own_connection(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record_failure("barkd", RuntimeError("parent, before"))
    inherited = ledger._connection_
    pid = os.fork()
    if pid == 0:  # the child: a new connection; the parent's is neither used nor closed
        code = 1
        try:
            ledger.record_failure("barkd", RuntimeError("child"))
            code = 0 if ledger._connection_ is not inherited and ledger._inherited == [inherited] else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    ledger.record_failure("barkd", RuntimeError("parent, after"))
    assert ledger._connection_ is inherited
    assert ledger.invoices()["error"].tolist() == ["parent, before", "child", "parent, after"]
    assert ledger.integrity_check() == "ok"
