"""The provider-neutral emulation package on its own: a tiny emulator defined here, raw HTTP and raw sockets.

Nothing here knows a provider: routing, JSON bodies, Basic credentials, faults (a real TCP RST, stalls,
spoiled answers after minting), latency, typed invoice state, paying, and quiet logs.
"""

from __future__ import annotations

import base64
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

import lnnotebook as ln
from lnnotebook.emulation.emulator import Emulator
from lnnotebook.emulation.faults import FAULTS, FaultQueue
from lnnotebook.emulation.state import MintedInvoice
from lnnotebook.emulation.web import (
    Request,
    Response,
    basic_credentials,
    is_json,
    json_body,
    reply,
    route,
)

ITEM_PATH = "/api/items/{item_id}"


@dataclass
class Ticket(MintedInvoice):
    note: str = ""
    history: list[str] = field(default_factory=list)


class TinyEmulator(Emulator):
    name = "tiny"
    network = "bcrt"
    server_header = "tiny/1.0"
    invoice_class = Ticket
    routes = (
        route("GET", "/health", "health", auth=False),
        route("POST", "/api/items", "create"),
        route("GET", ITEM_PATH, "fetch"),
    )

    def credentials(self) -> dict[str, str]:
        return {"user": "alice", "password": "s3cret"}

    def authenticate(self, request: Request) -> Response | None:
        if basic_credentials(request) != ("alice", "s3cret"):
            return self.error(401, "who are you?")
        return None

    def health(self, request: Request) -> Response:
        return reply(200, "ok", content_type="text/plain")

    def create(self, request: Request) -> Response:
        body, problem = json_body(request)
        if problem is not None:
            return self.error(400, f"bad JSON: {problem}")
        invoice = self.mint(amount_sat=body["amount"], description="tiny", id_prefix="t_", note=body["note"])
        return reply(201, {"id": invoice.provider_id, "bolt11": invoice.bolt11})

    def fetch(self, request: Request, item_id: str) -> Response:
        invoice = self.invoices.get(item_id)
        if invoice is None:
            return self.error(404, f"no item {item_id}")
        return reply(200, {"id": item_id, "state": invoice.state(), "note": invoice.note})

    def on_paid(self, invoice: MintedInvoice) -> None:
        assert isinstance(invoice, Ticket)
        invoice.history.append("paid")


@pytest.fixture()
def tiny() -> Iterator[TinyEmulator]:
    emulator = TinyEmulator(seed="tiny", stall_seconds=1.0, retry_after=7)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


AUTH = ("alice", "s3cret")


def create(tiny: TinyEmulator, **kwargs: Any) -> requests.Response:
    return requests.post(
        tiny.url + "/api/items", json={"amount": 21, "note": "n"}, auth=AUTH, timeout=5, **kwargs
    )


def raw_exchange(tiny: TinyEmulator, request: bytes, timeout: float = 5.0) -> bytes:
    """Send ``request`` on a fresh connection; everything the server sends until it closes."""
    host, port = tiny.origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_routes_placeholders_auth_and_typed_state(tiny):
    assert requests.get(tiny.url + "/health", timeout=5).text == "ok"
    assert requests.post(tiny.url + "/api/items", json={}, timeout=5).status_code == 401
    created = create(tiny)
    assert created.status_code == 201 and created.headers["Server"] == "tiny/1.0"
    item = created.json()["id"]
    assert item.startswith("t_") and tiny.minted == 1
    stored = tiny.invoices[item]
    assert isinstance(stored, Ticket) and stored.note == "n" and stored.history == []
    fetched = requests.get(tiny.url + ITEM_PATH.format(item_id=item), auth=AUTH, timeout=5).json()
    assert fetched == {"id": item, "state": "pending", "note": "n"}
    decoded = ln.decode(created.json()["bolt11"])
    assert decoded.network == "bcrt" and decoded.payee == tiny.node_pubkey and decoded.route_hints
    tiny.pay(tiny.find(decoded.payment_hash))
    assert stored.history == ["paid"] and stored.state() == "paid"
    with pytest.raises(ValueError, match="already paid"):
        tiny.pay(stored)


def test_unknown_paths_and_methods(tiny):
    missing = requests.get(tiny.url + "/nope", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"message": "no route for GET /nope"}
    wrong = requests.delete(tiny.url + "/api/items", auth=AUTH, timeout=5)
    assert wrong.status_code == 405 and "not allowed on /api/items" in wrong.json()["message"]


def test_json_body_errors_are_reported_in_the_parsers_words(tiny):
    broken = requests.post(
        tiny.url + "/api/items", data=b"{", headers={"Content-Type": "application/json"}, auth=AUTH, timeout=5
    )
    assert broken.status_code == 400 and broken.json()["message"].startswith("bad JSON: Expecting")
    not_utf8 = requests.post(tiny.url + "/api/items", data=b'{"a": "\xff"}', auth=AUTH, timeout=5)
    assert "not UTF-8" in not_utf8.json()["message"]


def test_request_helpers_on_werkzeug_requests():
    from werkzeug.test import EnvironBuilder

    def make(**kwargs: Any) -> Request:
        return Request(EnvironBuilder(**kwargs).get_environ())

    blank = make(method="POST", data=b"  ")
    assert json_body(blank, default={}) == ({}, None)
    assert json_body(blank)[1] is not None  # no default: a blank body is an error
    assert is_json(make(content_type="application/merge-patch+json"))
    assert not is_json(make(content_type="text/plain"))
    token = base64.b64encode(b"user:pa:ss").decode()
    assert basic_credentials(make(headers={"Authorization": f"Basic {token}"})) == ("user", "pa:ss")
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x", ""):
        assert basic_credentials(make(headers={"Authorization": header})) is None, header


def test_reset_is_a_real_tcp_reset(tiny):
    tiny.inject("reset")
    with pytest.raises(ConnectionResetError):
        raw_exchange(tiny, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw_exchange(tiny, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").endswith(b"ok")  # consumed


def test_timeout_stalls_then_closes_without_an_answer(tiny):
    tiny.inject("timeout")
    started = time.monotonic()
    assert raw_exchange(tiny, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n") == b""
    assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize("fault", ["500", "503", "429", "401", "malformed"])
def test_answer_faults(tiny, fault):
    tiny.inject(fault)
    response = requests.get(tiny.url + "/health", timeout=5)
    if fault == "malformed":
        assert response.status_code == 200
        with pytest.raises(ValueError):
            response.json()
        return
    assert response.status_code == int(fault) and "injected by the sandbox" in response.json()["message"]
    assert response.headers.get("Retry-After") == ("7" if fault in ("429", "503") else None)


def test_stage_after_mints_then_spoils_and_faults_queue_in_order(tiny):
    tiny.inject("500", times=2, stage="after")
    assert create(tiny).status_code == 500
    assert create(tiny).status_code == 500
    assert create(tiny).status_code == 201
    assert tiny.minted == 3  # the spoiled answers hid two real invoices
    tiny.inject("401")
    assert create(tiny).status_code == 401 and tiny.minted == 3  # "before": nothing minted


def test_fault_queue_refuses_nonsense():
    queue = FaultQueue()
    with pytest.raises(ValueError, match="unknown fault 'explode'"):
        queue.add("explode")
    with pytest.raises(ValueError, match="stage must be"):
        queue.add("500", stage="during")
    for times in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="times must be a positive integer"):
            queue.add("500", times=times)  # type: ignore[arg-type]
    queue.add("reset", 2)
    assert len(queue) == 2 and queue.next() == ("reset", "before")
    assert set(FAULTS) == {"timeout", "reset", "500", "503", "429", "401", "malformed"}


def test_latency_is_added_and_stop_cuts_it_short():
    emulator = TinyEmulator(seed="slow", latency=0.3)
    emulator.start()
    try:
        started = time.monotonic()
        requests.get(emulator.url + "/health", timeout=5)
        assert time.monotonic() - started >= 0.3
    finally:
        emulator.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.url


def test_an_emulator_bug_is_a_500_not_a_hung_client(tiny):
    response = requests.post(tiny.url + "/api/items", json={"note": "no amount"}, auth=AUTH, timeout=5)
    assert response.status_code == 500
    assert response.json()["message"] == "emulator error: KeyError: 'amount'"


def test_request_lines_are_never_logged(tiny, caplog):
    caplog.set_level(logging.DEBUG)
    secret_path = "/api/items/t_secret-key-in-path"
    requests.get(tiny.url + secret_path, params={"access-token": "hunter2"}, auth=AUTH, timeout=5)
    tiny.inject("reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(tiny.url + secret_path, timeout=5)
    # urllib3 is this test's raw client, not the server (lnnotebook's clients redact what it logs).
    server_side = [record for record in caplog.records if not record.name.startswith("urllib3")]
    assert not [record.name for record in server_side if record.name.startswith("werkzeug")]
    logged = "\n".join(record.getMessage() for record in server_side)
    assert "hunter2" not in logged and "secret-key-in-path" not in logged
