"""Lost answers against a real LNbits: a small TCP proxy on loopback passes each create to LNbits, lets
LNbits make the invoice, then resets the client's connection (or holds it past the read timeout) instead
of relaying the answer. The client finds each invoice by the reference it sent in ``extra``; after
``reconcile()`` every invoice LNbits made is in ``ln.history()`` exactly once.

Skips without a real LNbits (a failure under ``LNNOTEBOOK_REQUIRE_LNBITS``), as
tests/test_providers_lnbits.py does.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import Counter
from pathlib import Path

import lnnotebook as ln
from lnnotebook.providers.errors import InvoiceMayExistError, ProviderError
from lnnotebook.providers.lnbits.server import LnbitsServer

FAST = {"read_timeout": 1.5, "connect_timeout": 2.0, "retries": 0, "backoff": 0}


def _read_message(stream: socket.socket, buffer: bytearray) -> bytes | None:
    """One HTTP/1.1 message (headers and a Content-Length body) from ``stream``; None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = stream.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head_end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:head_end]).decode("latin-1")
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        assert name.strip().lower() != "transfer-encoding", "the proxy relays Content-Length bodies only"
    while len(buffer) < head_end + length:
        chunk = stream.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    message = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return message


class LosingProxy:
    """Relays HTTP between a client and ``upstream``; ``lose(kind)`` spoils the next create's answer."""

    def __init__(self, upstream: tuple[str, int], hold_seconds: float) -> None:
        self.upstream = upstream
        self.hold_seconds = hold_seconds
        self.pending: list[str] = []  # "reset" / "timeout", one per create (POST /api/v1/payments)
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def lose(self, kind: str) -> None:
        with self.lock:
            self.pending.append(kind)

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        inbound, outbound = bytearray(), bytearray()
        try:
            while True:
                request = _read_message(client, inbound)
                if request is None:
                    return
                upstream.sendall(request)
                answer = _read_message(upstream, outbound)
                if answer is None:
                    return
                fault = None
                if request.startswith(b"POST /api/v1/payments "):
                    with self.lock:
                        fault = self.pending.pop(0) if self.pending else None
                if fault == "timeout":
                    self.stopping.wait(self.hold_seconds)
                    return
                if fault == "reset":
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                client.sendall(answer)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()


def _payments(server: LnbitsServer, key: str) -> list[dict]:
    return server.expect(server.request("GET", "/api/v1/payments", key=key, params={"limit": 500}), 200)


def test_lost_answers_from_a_real_lnbits_end_in_history_exactly_once(
    lnbits: LnbitsServer, tmp_path: Path
) -> None:
    assert lnbits.receiver is not None
    key = lnbits.receiver.inkey
    before = {payment["payment_hash"] for payment in _payments(lnbits, key)}
    host, port = lnbits.url.split("//")[1].split(":")
    proxy = LosingProxy((host, int(port)), hold_seconds=FAST["read_timeout"] + 2)
    ledger = ln.Ledger(tmp_path / "ledger.sqlite")
    try:
        client = ln.connect("lnbits", url=proxy.url, api_key=key, ledger=ledger, **FAST)
        outcomes = []
        for index, kind in enumerate(["reset", "timeout"] * 3):
            proxy.lose(kind)
            try:
                outcomes.append(client.create_invoice(900 + index, f"proxy {index}"))
            except ProviderError as error:
                outcomes.append(error)
        recovered = [item for item in outcomes if not isinstance(item, BaseException)]
        assert all("recovered" in (item.note or "") for item in recovered)
        assert all(isinstance(item, InvoiceMayExistError) for item in outcomes if item not in recovered)
        assert len(recovered) >= 3, outcomes  # resets at least: LNbits answered before the proxy reset
        report = ledger.reconcile([client])
        assert set(report["resolution"]) <= {"created"}, report.to_string()
        assert len(ledger.unknown_attempts()) == 0
    finally:
        proxy.close()
    made = [p["bolt11"] for p in _payments(lnbits, key) if p["payment_hash"] not in before]
    assert len(made) == 6, "one invoice per create: nothing was sent twice"
    counts = Counter(ln.history(ledger)["bolt11"].dropna())
    assert {bolt11: counts[bolt11] for bolt11 in made} == dict.fromkeys(made, 1)
