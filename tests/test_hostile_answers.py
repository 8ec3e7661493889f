"""Hostile or broken answers from every provider: a real HTTP server on loopback answers each create the
way a misbehaving provider would. A signed invoice that contradicts the request is a SuspectInvoiceError
carrying it (and in the ledger); side fields of the wrong type never cost the invoice.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from unprivileged import run_unprivileged

import lnnotebook as ln
from lnnotebook.bolt11 import encode_invoice
from lnnotebook.bolt11.bech32 import encode as bech32_encode
from lnnotebook.bolt11.bech32 import text_to_groups
from lnnotebook.ledger import MAX_RAW_CHARS, LedgerError
from lnnotebook.providers.errors import SuspectInvoiceError

KEY = "22" * 32
HASH = "ab" * 32
ASKED = {"amount_sat": 1000, "memo": "coffee", "expiry": 600}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = self.server.reply  # type: ignore[attr-defined]
        self._send(status, body)

    def do_GET(self) -> None:  # noqa: N802
        self._send(404, {"message": "not here"})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def invoice(**changes: Any) -> str:
    """An invoice signed for what ASKED asks (``changes`` spoil it)."""
    fields: dict[str, Any] = {
        "network": "bc",
        "amount_msat": ASKED["amount_sat"] * 1000,
        "description": ASKED["memo"],
        "expiry": ASKED["expiry"],
    }
    fields.update(changes)
    return encode_invoice(private_key=KEY, payment_hash=HASH, payment_secret="cd" * 32, **fields)


def lnpay_body(bolt11: str, **side: Any) -> tuple[int, dict]:
    return 201, {
        "id": "lntx_hostile",
        "payment_request": bolt11,
        "num_satoshis": ASKED["amount_sat"],
        "memo": ASKED["memo"],
        "fee_msat": 0,
        "expiry": ASKED["expiry"],
        "expires_at": int(time.time()) + 600,
        "settled": 0,
        "created_at": int(time.time()),
        **side,
    }


def lnbits_body(bolt11: str, **side: Any) -> tuple[int, dict]:
    body = {"payment_hash": HASH, "bolt11": bolt11, "amount": ASKED["amount_sat"] * 1000, "fee": 0}
    return 201, {**body, "status": "pending", "memo": ASKED["memo"], **side}


def barkd_body(bolt11: str, **side: Any) -> tuple[int, dict]:
    return 200, {"invoice": bolt11, **side}


def tazapay_body(bolt11: str, **side: Any) -> tuple[int, dict]:
    data = {
        "id": "l11_hostile",
        "object": "lightning_invoice_bolt11",
        "amount": ASKED["amount_sat"],
        "bolt11": bolt11,
        "status": "active",
        "payment_status": "unpaid",
        **side,
    }
    return 200, {"status": "success", "message": "", "data": data}


PROVIDERS: dict[str, tuple[Callable[..., tuple[int, dict]], dict[str, str], dict[str, Any]]] = {
    "lnpay": (lnpay_body, {"api_key": "sak_x", "wallet_key": "wal_x"}, {}),
    "lnpay-legacy": (lnpay_body, {"api_key": "k", "access_key": "wi_x"}, {}),
    "lnbits": (lnbits_body, {"api_key": "inkey"}, {}),
    "barkd": (barkd_body, {"token": "t" * 44}, {}),
    "tazapay": (tazapay_body, {"api_key": "ak", "api_secret": "sk"}, {}),
}


def connect(name: str, server: ThreadingHTTPServer, ledger: ln.Ledger, **options: Any) -> ln.Provider:
    _, credentials, _ = PROVIDERS[name]
    url = f"http://127.0.0.1:{server.server_address[1]}" + ("/v1" if name.startswith("lnpay") else "")
    return ln.connect(name, url=url, ledger=ledger, retries=0, **credentials, **options)


def asked(name: str) -> dict[str, Any]:
    return {**ASKED, "expiry": None} if name == "barkd" else dict(ASKED)  # barkd takes no expiry


def spoiled(name: str) -> list[tuple[str, dict[str, Any], str]]:
    """(what, invoice changes, field the error names) for every way a signed invoice can contradict."""
    cases = [
        ("twice the amount", {"amount_msat": 2 * ASKED["amount_sat"] * 1000}, "amount"),
        ("no amount", {"amount_msat": None}, "amount"),
        ("another description", {"description": "tea"}, "memo"),
        ("another network", {"network": "tb"}, "network"),
    ]
    if name != "barkd":
        cases.append(("another expiry", {"expiry": 60}, "expiry"))
    return cases


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_a_signed_invoice_that_contradicts_the_request_is_suspect_and_kept(
    name: str, server: ThreadingHTTPServer, tmp_path: Path
) -> None:
    build = PROVIDERS[name][0]
    ledger = ln.Ledger(tmp_path / "ledger.sqlite")
    # The network is known for LNPay (mainnet only); the others are told it (option `network`).
    client = connect(name, server, ledger, **({} if name.startswith("lnpay") else {"network": "bc"}))
    for what, changes, field in spoiled(name):
        bolt11 = invoice(**changes)
        server.reply = build(bolt11, **({"num_satoshis": None, "amount": None} if "amount" in what else {}))
        with pytest.raises(SuspectInvoiceError) as caught:
            client.create_invoice(**asked(name))
        assert caught.value.invoice.bolt11 == bolt11, what
        assert caught.value.field in (field, "amount", "num_satoshis", "bolt11"), (what, caught.value.field)
        row = ledger.invoices().iloc[-1]
        assert row["bolt11"] == bolt11 and row["error_type"] == "SuspectInvoiceError", what
    assert len(ledger.unknown_attempts()) == 0


@pytest.mark.parametrize(
    ("name", "side"),
    [
        ("lnpay", {"fee_msat": "0"}),
        ("lnpay", {"num_satoshis": "1000"}),
        ("lnpay", {"settled": None}),
        ("lnpay-legacy", {"num_satoshis": "1000", "settled": None}),
        ("lnbits", {"fee": "0"}),
        ("lnbits", {"fee": "lots", "status": 7}),
        ("tazapay", {"id": 12345}),
        ("tazapay", {"status": None, "payment_status": 3}),
        ("barkd", {"extra": {"unexpected": [1, 2]}}),
    ],
)
def test_side_fields_of_the_wrong_type_never_drop_a_valid_invoice(
    name: str, side: dict[str, Any], server: ThreadingHTTPServer, tmp_path: Path
) -> None:
    build = PROVIDERS[name][0]
    bolt11 = invoice(**({"expiry": None} if name == "barkd" else {}))
    server.reply = build(bolt11, **side)
    ledger = ln.Ledger(tmp_path / "ledger.sqlite")
    created = connect(name, server, ledger).create_invoice(**asked(name))
    assert created.bolt11 == bolt11 and created.status == "pending"
    if name != "barkd":
        assert created.note and any(key in created.note for key in side), created.note
    assert ledger.invoices().iloc[0]["bolt11"] == bolt11
    if name == "tazapay" and "id" in side:
        assert created.provider_id == "12345"


def bad_signature(bolt11: str) -> str:
    """``bolt11`` with one signature bit flipped and the checksum made valid again: it is well formed,
    but its signature does not verify."""
    hrp, data = bolt11[: bolt11.rindex("1")], bolt11[bolt11.rindex("1") + 1 : -6]
    groups = text_to_groups(data)
    groups[-20] ^= 1  # inside the 104-group signature (r || s || recovery id)
    return bech32_encode(hrp, groups)


def test_tazapay_keeps_an_invoice_whose_signature_fails(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    bad = bad_signature(invoice(include_payee=True))  # with `n`, the signature must match that key
    server.reply = tazapay_body(bad)
    ledger = ln.Ledger(tmp_path / "ledger.sqlite")
    with pytest.raises(SuspectInvoiceError, match="not a valid BOLT11 invoice") as caught:
        connect("tazapay", server, ledger).create_invoice(**ASKED)
    assert caught.value.invoice.bolt11 == bad and caught.value.invoice.provider_id == "l11_hostile"
    row = ledger.invoices().iloc[0]
    assert row["bolt11"] == bad and row["error_type"] == "SuspectInvoiceError"


def test_a_huge_answer_is_stored_bounded(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    server.reply = lnbits_body(invoice(), blob="x" * 500_000)  # well under the 1 MiB body cap
    ledger = ln.Ledger(tmp_path / "ledger.sqlite")
    connect("lnbits", server, ledger).create_invoice(**ASKED)
    raw = ledger.invoices().iloc[0]["raw"]
    assert raw["truncated"] is True and len(raw["head"]) == MAX_RAW_CHARS and raw["chars"] > 500_000


@pytest.mark.parametrize("where", ["/proc/lnnotebook-home", "a file"])
def test_a_home_that_cannot_hold_a_ledger_is_a_ledger_error_naming_the_path(
    where: str, tmp_path: Path, monkeypatch
) -> None:
    # Root writes through read-only permissions; /proc and a path through a file refuse everyone.
    home = Path(where) if where.startswith("/") else tmp_path / "file" / "home"
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("LNNOTEBOOK_HOME", str(home))
    with pytest.raises(LedgerError) as caught:
        ln.Ledger()
    assert str(home / "ledger.sqlite") in str(caught.value) and "LNNOTEBOOK_HOME" in str(caught.value)
    with pytest.raises(LedgerError):  # connect() opens the default ledger: the same clear error
        ln.connect("barkd", url="http://127.0.0.1:9", token="t" * 44)


def test_a_read_only_home_is_a_ledger_error_naming_the_path(monkeypatch) -> None:
    def check(folder: Path) -> None:
        home = folder / "home"
        home.mkdir()
        home.chmod(stat.S_IRUSR | stat.S_IXUSR)
        os.environ["LNNOTEBOOK_HOME"] = str(home)
        try:
            with pytest.raises(LedgerError) as caught:
                ln.Ledger()
        finally:
            home.chmod(stat.S_IRWXU)
        assert str(home / "ledger.sqlite") in str(caught.value) and "LNNOTEBOOK_HOME" in str(caught.value)

    monkeypatch.delenv("LNNOTEBOOK_HOME", raising=False)  # check() sets it (in a child, when root)
    run_unprivileged(check)


def test_a_read_only_ledger_file_is_a_ledger_error_naming_the_path() -> None:
    def check(folder: Path) -> None:
        path = folder / "ledger.sqlite"
        ln.Ledger(path).close()
        for item in folder.iterdir():
            item.chmod(stat.S_IRUSR)
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            with pytest.raises(LedgerError) as caught:
                ln.Ledger(path).record_failure("barkd", RuntimeError("x"))
        finally:
            folder.chmod(stat.S_IRWXU)
            for item in folder.iterdir():
                item.chmod(stat.S_IRUSR | stat.S_IWUSR)
        assert str(path) in str(caught.value)

    run_unprivileged(check)
