"""The transport against real misbehaving HTTP servers on loopback: redirects off the origin, huge and
dripping bodies, long Retry-After, absurdly deep JSON. Every server here is a real socket server."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import lnnotebook as ln
from lnnotebook.transport import (
    MAX_BODY_BYTES,
    MAX_RETRY_AFTER_S,
    Transport,
    json_depth_exceeds,
    redact_data,
)

Handler = Callable[[BaseHTTPRequestHandler], None]


class Server:
    """A loopback HTTP server answering every request with ``handler``; ``seen`` lists what came in."""

    def __init__(self, handler: Handler) -> None:
        self.seen: list[dict] = []
        outer = self

        class Recording(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.seen.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                handler(self)

            do_GET = do_POST = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(request: BaseHTTPRequestHandler, status: int, body: bytes = b"{}", **headers: str) -> None:
    request.send_response(status)
    for name, value in {"Content-Type": "application/json", **headers}.items():
        request.send_header(name.replace("_", "-"), value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


@pytest.fixture()
def serve() -> Iterator[Callable[[Handler], Server]]:
    servers: list[Server] = []

    def start(handler: Handler) -> Server:
        servers.append(Server(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def transport(url: str, **options) -> Transport:
    settings = {
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "retries": 2,
        "backoff": 0.0,
        "retry_statuses": (429, 503),
        "retry_post": False,
        "secrets": ["sekrit-key-123"],
        **options,
    }
    return Transport("test", url, **settings)


def test_a_redirect_to_another_host_is_not_followed_and_gets_nothing(serve) -> None:
    elsewhere = serve(lambda request: reply(request, 200, b'{"stolen": true}'))
    origin = serve(lambda request: reply(request, 307, Location=elsewhere.url + "/steal"))
    client = transport(origin.url)
    for method in ("POST", "GET"):
        with pytest.raises(
            ln.UnexpectedResponseError, match="redirected \\(HTTP 307\\) to another origin"
        ) as caught:
            client.request(
                method,
                "/create",
                action="create invoice",
                json_body={"amount": 1},
                headers={"X-Api-Key": "sekrit-key-123"},
            )
        assert "not followed" in str(caught.value) and caught.value.status == 307
    assert elsewhere.seen == [], "neither the body nor the X-Api-Key may reach another host"
    assert [seen["method"] for seen in origin.seen] == ["POST", "GET"]
    client.close()


def test_a_redirect_on_create_is_an_error_even_on_the_same_origin(serve) -> None:
    def handler(request: BaseHTTPRequestHandler) -> None:
        if request.path == "/old":
            reply(request, 308, Location="/new")
        else:
            reply(request, 200, b'{"where": "new"}')

    server = serve(handler)
    client = transport(server.url)
    with pytest.raises(ln.UnexpectedResponseError, match="only GET requests follow redirects"):
        client.request("POST", "/old", action="create invoice", json_body={"amount": 1})
    assert [seen["path"] for seen in server.seen] == ["/old"]
    _, body = client.request("GET", "/old", action="invoice status")  # a GET within the origin follows
    assert body == {"where": "new"} and [seen["path"] for seen in server.seen][-2:] == ["/old", "/new"]
    client.close()


def test_a_body_over_the_cap_after_decompression_is_refused(serve) -> None:
    bomb = gzip.compress(b"[" + b"0," * MAX_BODY_BYTES + b"0]")  # about 2 MB inflated, a few kB sent
    assert len(bomb) < 20_000
    server = serve(lambda request: reply(request, 200, bomb, Content_Encoding="gzip"))
    client = transport(server.url)
    with pytest.raises(
        ln.UnexpectedResponseError, match=f"a body over {MAX_BODY_BYTES} bytes \\(after decompression\\)"
    ):
        client.request("GET", "/big", action="invoice status")
    small = gzip.compress(json.dumps({"ok": True}).encode())
    server_ok = serve(lambda request: reply(request, 200, small, Content_Encoding="gzip"))
    assert transport(server_ok.url).request("GET", "/small", action="status")[1] == {"ok": True}
    client.close()


def test_a_body_dripping_a_byte_at_a_time_does_not_hold_the_call(serve) -> None:
    def drip(request: BaseHTTPRequestHandler) -> None:
        body = b'{"status": "' + b"x" * 200 + b'"}'
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        try:
            for byte in body:  # each byte well within the read timeout: the socket timeout never fires
                request.wfile.write(bytes([byte]))
                request.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the client hung up, as it should

    server = serve(drip)
    client = transport(server.url, read_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(
        ln.ProviderUnavailableError, match="the body did not arrive within 1 s \\(read timeout\\)"
    ):
        client.request("GET", "/slow", action="invoice status")
    assert time.monotonic() - started < 3.0, "the 20 s body must be cut at about one read timeout"
    client.close()


def test_retry_after_is_capped(serve) -> None:
    assert MAX_RETRY_AFTER_S == 5.0
    answers = iter([(503, b'{"message": "busy"}'), (200, b'{"ok": true}')])

    def handler(request: BaseHTTPRequestHandler) -> None:
        status, body = next(answers)
        reply(request, status, body, Retry_After="3600")

    server = serve(handler)
    client = transport(server.url, max_retry_after=0.5)
    started = time.monotonic()
    _, body = client.request("GET", "/status", action="invoice status")
    assert body == {"ok": True} and len(server.seen) == 2
    assert time.monotonic() - started < 3.0, "a Retry-After of an hour must not hold the call"
    client.close()


def test_json_nested_100k_deep_is_a_provider_error(serve) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    for status, error in ((200, ln.UnexpectedResponseError), (400, ln.InvalidRequestError)):
        server = serve(lambda request, status=status: reply(request, status, deep))
        client = transport(server.url)
        with pytest.raises(error) as caught:
            client.request("GET", "/deep", action="invoice status")
        assert isinstance(caught.value, ln.ProviderError)
        client.close()
    assert "nested deeper than 64 levels" in str(_raise_deep(serve))


def _raise_deep(serve) -> ln.ProviderError:
    shallow_enough_for_json = b"[" * 500 + b"]" * 500  # decodes, but is deeper than any answer
    server = serve(lambda request: reply(request, 200, shallow_enough_for_json))
    with pytest.raises(ln.UnexpectedResponseError) as caught:
        transport(server.url).request("GET", "/deep", action="invoice status")
    return caught.value


def test_redaction_walks_any_depth_without_recursion() -> None:
    value: list = ["sekrit-key-123"]
    for _ in range(100_000):
        value = [value]
    assert json_depth_exceeds(value)
    copy = redact_data(value, ["sekrit-key-123"])
    for _ in range(100_000):
        copy = copy[0]
    assert copy == ["***"]
    assert redact_data(
        {"token": "t", "a": [{"b": "x sekrit-key-123"}]}, ["sekrit-key-123"], frozenset({"token"})
    ) == {
        "token": "***",
        "a": [{"b": "x ***"}],
    }
