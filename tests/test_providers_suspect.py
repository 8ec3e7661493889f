"""A provider that created an invoice but answered wrongly: the invoice is kept, never lost.

The sandbox's emulators answer correctly by design, so these tests stand up a real HTTP server on
loopback that answers one create request the way a broken provider would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import lnnotebook as ln
from lnnotebook.bolt11 import encode_invoice
from lnnotebook.providers.errors import SuspectInvoiceError
from lnnotebook.service import Ledger

KEY = "11" * 32


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = self.server.reply  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def broken_provider() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def signed(amount_sat: int) -> str:
    return encode_invoice(
        private_key=KEY,
        payment_hash="ab" * 32,
        payment_secret="cd" * 32,
        amount_msat=amount_sat * 1000,
        description="tampered",
    )


def test_an_amount_mismatch_is_an_error_and_the_invoice_is_kept(broken_provider, tmp_path: Path) -> None:
    bolt11 = signed(999)
    broken_provider.reply = (
        201,
        {
            "id": "lntx_wrong",
            "payment_request": bolt11,
            "num_satoshis": 999,
            "settled": 0,
            "expires_at": int(time.time()) + 3600,
            "memo": "tampered",
        },
    )
    ledger = Ledger(tmp_path / "ledger.sqlite")
    client = ln.connect(
        "lnpay", url=url_of(broken_provider), api_key="sak_x", wallet_key="wal_x", ledger=ledger
    )
    with pytest.raises(SuspectInvoiceError, match="LNPay created 999 sat, we asked for 100") as caught:
        client.create_invoice(100, "tampered")
    assert isinstance(caught.value, ln.UnexpectedResponseError)
    assert caught.value.invoice.bolt11 == bolt11 and caught.value.invoice.provider_id == "lntx_wrong"

    row = ledger.invoices().iloc[0]
    assert (row["provider_id"], row["bolt11"], row["error_type"]) == (
        "lntx_wrong",
        bolt11,
        "SuspectInvoiceError",
    )
    assert "we asked for 100" in row["error"] and "we asked for 100" in row["note"]

    frame = ln.create_invoices([client], 100, "tampered")  # the batch row keeps the invoice too
    assert frame.loc[0, "bolt11"] == bolt11 and frame.loc[0, "error_type"] == "SuspectInvoiceError"
    assert frame.loc[0, "invoice_amount_sat"] == 999  # and its decoded columns show the truth


def test_an_undecodable_invoice_is_kept_as_returned(broken_provider, tmp_path: Path) -> None:
    garbage = signed(100)[:-3] + "qqq"  # checksum broken
    broken_provider.reply = (200, {"invoice": garbage})
    ledger = Ledger(tmp_path / "ledger.sqlite")
    client = ln.connect("barkd", url=url_of(broken_provider), token="t" * 44, ledger=ledger)
    with pytest.raises(SuspectInvoiceError, match="field 'invoice' is not a valid BOLT11 invoice"):
        client.create_invoice(100, "memo")
    row = ledger.invoices().iloc[0]
    assert (
        row["bolt11"] == garbage and row["amount_sat"] == 100 and row["error_type"] == "SuspectInvoiceError"
    )
