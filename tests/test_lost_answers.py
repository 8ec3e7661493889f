"""Exactly-once creation over providers that are at most once: lost answers, recovery and reconcile.

A lost answer is the emulators' ``stage="after"`` fault: the emulator mints the invoice, then resets the
connection or holds it past the client's read timeout. Every create is a ledger attempt before it is sent;
afterwards every invoice an emulator minted must be in ``ln.history()`` exactly once and no attempt may
stay ``unknown``.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

import lnnotebook as ln
from lnnotebook.cli import main as cli_main
from lnnotebook.providers.errors import InvoiceMayExistError, ProviderError

NAMES = ("barkd", "tazapay", "lnpay", "lnpay-legacy")
# One attempt, no retry of a lookup: a queued fault meets exactly the request it is meant for.
FAST = {"read_timeout": 1.0, "connect_timeout": 1.0, "retries": 0, "backoff": 0}
PAID_ONLY = ("lnpay", "lnpay-legacy")  # their lookup lists settled transactions only


def _minted(sb: ln.Sandbox, name: str) -> list[str]:
    return [invoice.bolt11 for invoice in sb.emulator(name).invoices.values()]


def _wait_until_settled(ledger: ln.Ledger) -> None:
    """Sleep past every unknown attempt's settle_after (read timeout + 1 s after sending)."""
    attempts = ledger.unknown_attempts()
    if len(attempts):
        latest = max(datetime.fromisoformat(a["settle_after"]) for a in attempts["attempt"])
        time.sleep(max(0.0, (latest - datetime.now(timezone.utc)).total_seconds()) + 0.1)


def _lose_answers(sb: ln.Sandbox, name: str, client: ln.Provider) -> list[BaseException | None]:
    """Three resets and three timeouts after the emulator minted; on every other one the lookup fails
    too (the provider cannot be asked now), so those attempts stay unknown until reconcile."""
    outcomes: list[BaseException | None] = []
    for index, fault in enumerate(["reset", "timeout"] * 3):
        sb.inject(name, fault, stage="after")
        if index % 2:
            sb.inject(name, "503")  # meets the lookup (or, for Tazapay, the replay)
        try:
            invoice = client.create_invoice(700 + index, f"lost {index}")
        except ProviderError as error:
            outcomes.append(error)
        else:
            assert invoice.note is not None and "recovered" in invoice.note
            outcomes.append(None)
    return outcomes


@pytest.mark.parametrize("name", NAMES)
def test_three_lost_answers_of_each_kind_end_in_history_exactly_once(name: str, tmp_path: Path) -> None:
    ledger = ln.Ledger(tmp_path / "ledger.sqlite")
    with ln.sandbox(providers=[name], stall_seconds=2.5, retry_after=0) as sb:
        client = sb.connect(name, ledger=ledger, **FAST)
        outcomes = _lose_answers(sb, name, client)
        assert sb.minted(name) == 6, "one invoice per create: nothing was sent twice"
        for error in outcomes:
            if error is not None:
                assert isinstance(error, InvoiceMayExistError), repr(error)
                assert "may exist" in str(error) and error.reference.startswith("lnnb-")
        if name not in PAID_ONLY:
            assert outcomes[0::2] == [None] * 3, "where the provider could be asked, the invoice came back"
        unknown = ledger.unknown_attempts()
        assert len(unknown) == sum(error is not None for error in outcomes)
        assert set(ledger.invoices(status="unknown")["reference"]) == set(unknown["reference"])
        if name in PAID_ONLY:
            # LNPay lists settled transactions only: the payers pay, then the invoices can be found.
            for bolt11 in _minted(sb, name):
                sb.pay(bolt11)
        report = ledger.reconcile([client])
        assert set(report["resolution"]) <= {"created"}, report.to_string()
        assert len(ledger.unknown_attempts()) == 0
        counts = Counter(ln.history(ledger)["bolt11"].dropna())
        assert {bolt11: counts[bolt11] for bolt11 in _minted(sb, name)} == dict.fromkeys(_minted(sb, name), 1)
        assert len(ln.history(ledger)) == 6, "one ledger row per attempt"


@pytest.mark.parametrize("name", ["barkd", "lnpay"])
def test_an_attempt_that_never_reached_the_provider_is_settled_as_not_created(
    name: str, tmp_path: Path
) -> None:
    ledger = ln.Ledger(tmp_path / "ledger.sqlite")
    with ln.sandbox(providers=[name], stall_seconds=2.5) as sb:
        client = sb.connect(name, ledger=ledger, **FAST)
        sb.inject(name, "reset")  # before: nothing minted, but the client cannot know that
        with pytest.raises(InvoiceMayExistError):
            client.create_invoice(321, "never made", **({"expiry": 1} if name == "lnpay" else {}))
        assert sb.minted(name) == 0
        early = ledger.reconcile([client])
        assert list(early["resolution"]) == ["unknown"] and "too early" in early.loc[0, "error"]
        _wait_until_settled(ledger)
        if name == "lnpay":  # paid-only lookup: decided once the invoice would have expired
            time.sleep(1 + 5.5)  # expiry 1 s + the lookup slack
        report = ledger.reconcile([client])
        expected = "not created" if name == "barkd" else "never paid"
        assert list(report["resolution"]) == [expected], report.to_string()
        row = ledger.invoices().iloc[0]
        assert row["status"] == "failed" and row["error_type"] in ("NotCreated", "NeverPaid")
        assert len(ledger.unknown_attempts()) == 0


def test_the_cli_reconciles_the_default_ledger(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with ln.sandbox(providers=["barkd"], stall_seconds=2.5) as sb:
        client = sb.connect("barkd", **FAST)  # the default ledger, in $LNNOTEBOOK_HOME
        sb.inject("barkd", "reset", stage="after")
        sb.inject("barkd", "503")  # the lookup fails too
        with pytest.raises(InvoiceMayExistError):
            client.create_invoice(55, "cli")
        for variable, value in sb.env().items():
            monkeypatch.setenv(variable, value)  # reconcile connects by name, from the environment
        assert cli_main(["reconcile"]) == 0
        out = capsys.readouterr().out
        assert "created" in out and "1 of 1 unknown attempt(s) settled" in out
        assert ln.history()["bolt11"].tolist() == _minted(sb, "barkd")
        assert cli_main(["reconcile"]) == 0 and "no unknown attempts" in capsys.readouterr().out
