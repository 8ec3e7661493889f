"""Shared machinery of the provider emulators: HTTP serving, faults, minting, paying.

An emulator module defines one ``Emulator`` subclass, decorated with ``@register("<provider>")``, that
declares its routes and implements the provider's authentication, request fields, response shapes and
error bodies. Everything here is provider-neutral.

Faults (``inject``): each queued fault is consumed by the next request to that emulator, whatever its
path. Stage "before" (default) fails the request before the emulator looks at it, so nothing is minted;
stage "after" lets the emulator process the request (and mint) and then spoils the response, which is
what a lost response looks like to a client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from coincurve import PrivateKey

FAULTS = ("timeout", "reset", "500", "503", "429", "401", "malformed")
EMULATORS: dict[str, type[Emulator]] = {}


def register(name: str) -> Callable[[type[Emulator]], type[Emulator]]:
    """Class decorator: make the emulator available to ``lnnotebook.sandbox`` under ``name``."""

    def decorate(cls: type[Emulator]) -> type[Emulator]:
        cls.name = name
        EMULATORS[name] = cls
        return cls

    return decorate


@dataclass(frozen=True)
class FeeSchedule:
    """Receive fee: ``base_msat + amount_msat * proportional_millionths / 1e6`` (rounded down)."""

    base_msat: int = 0
    proportional_millionths: int = 0

    def fee_msat(self, amount_msat: int) -> int:
        return self.base_msat + amount_msat * self.proportional_millionths // 1_000_000


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def basic_auth(self) -> tuple[str, str] | None:
        """(user, password) from an ``Authorization: Basic`` header, or None if absent/malformed."""
        header = self.headers.get("Authorization", "")
        scheme, _, blob = header.partition(" ")
        if scheme.lower() != "basic" or not blob.strip():
            return None
        try:
            user, sep, password = base64.b64decode(blob.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return (user, password) if sep else None


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-serialisable, or str/bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


@dataclass
class MintedInvoice:
    """What an emulator remembers about an invoice it minted."""

    provider_id: str
    bolt11: str
    payment_hash: str
    preimage: str
    amount_sat: int | None
    description: str | None
    description_hash: str | None
    expiry: int  # effective seconds
    created_at: int  # unix seconds (the invoice timestamp)
    fee_msat: int
    owner: str = ""  # which credential created it
    paid_at: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def expires_at(self) -> int:
        return self.created_at + self.expiry

    def state(self, now: float | None = None) -> str:
        if self.paid_at is not None:
            return "paid"
        return "expired" if (time.time() if now is None else now) >= self.expires_at else "pending"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: str  # method name on the emulator
    auth: bool = True


def route(method: str, path: str, handler: str, *, auth: bool = True) -> Route:
    """``path`` may hold ``{name}`` placeholders (one path segment each)."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{regex}$"), handler, auth)


class Emulator:
    """One provider's API on a real HTTP server (subclasses fill in the provider specifics)."""

    name: ClassVar[str]
    network: ClassVar[str]  # BOLT11 currency prefix: bc, tb, tbs
    default_expiry: ClassVar[int] = 3600
    write_expiry: ClassVar[bool] = True  # False: leave `x` out (readers assume 3600)
    min_final_cltv_expiry: ClassVar[int | None] = None
    default_fees: ClassVar[FeeSchedule] = FeeSchedule()
    routes: ClassVar[tuple[Route, ...]] = ()
    base_path: ClassVar[str] = ""  # what sb.url() appends to the origin (e.g. "/v1")
    server_header: ClassVar[str] = "emulator"
    block_height: ClassVar[int] = 850_000  # for realistic short channel ids in route hints

    def __init__(
        self,
        *,
        seed: str,
        latency: float = 0.0,
        fees: FeeSchedule | None = None,
        stall_seconds: float = 2.0,
        retry_after: int = 1,
        default_expiry: int | None = None,
    ) -> None:
        if default_expiry is not None:  # an override is always written into the invoice
            self.default_expiry = default_expiry
            self.write_expiry = True
        self.seed = seed
        self.latency = latency
        self.fees = fees or self.default_fees
        self.stall_seconds = stall_seconds
        self.retry_after = retry_after
        self._rng = random.Random(f"{seed}:{self.name}:rng")
        self._rng_lock = threading.Lock()
        self.node_key = hashlib.sha256(f"{seed}:{self.name}:node".encode()).hexdigest()
        self.node_pubkey = PrivateKey(bytes.fromhex(self.node_key)).public_key.format().hex()
        self._lsp_pubkeys = [
            PrivateKey(hashlib.sha256(f"{seed}:{self.name}:peer{i}".encode()).digest())
            .public_key.format()
            .hex()
            for i in range(3)
        ]
        self.lock = threading.RLock()
        self.invoices: dict[str, MintedInvoice] = {}  # by provider_id
        self.by_hash: dict[str, MintedInvoice] = {}
        self._minted = 0
        self._faults: deque[tuple[str, str]] = deque()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests_seen = 0

    # --- provider-specific hooks ---------------------------------------------------------------

    def credentials(self) -> dict[str, str]:
        """connect() options (besides url) that authenticate against this emulator."""
        return {}

    def authenticate(self, request: Request) -> Reply | None:
        """None when the request is authenticated, else the provider's 401 reply."""
        return None

    def error(self, status: int, message: str, **extra: Any) -> Reply:
        """The provider's error body for ``status``."""
        return Reply(status, {"message": message})

    def fault_reply(self, fault: str) -> Reply:
        messages = {
            "500": "Internal server error",
            "503": "Service unavailable",
            "429": "Too many requests",
            "401": "invalid credentials",
        }
        reply = self.error(int(fault), f"{messages[fault]} (injected by the sandbox)")
        if fault == "429":
            reply.headers["Retry-After"] = str(self.retry_after)
        if fault == "503":
            reply.headers["Retry-After"] = str(self.retry_after)
        return reply

    def not_found(self, request: Request) -> Reply:
        return self.error(404, f"no route for {request.method} {request.path}")

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()  # set by a previous stop(); latency and stalls wait on it
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        Handler.server_version = self.server_header
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        assert self._server is not None, "emulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.origin + self.base_path

    # --- faults, counting, paying --------------------------------------------------------------

    def inject(self, fault: str, times: int = 1, stage: str = "before") -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {', '.join(FAULTS)}")
        if stage not in ("before", "after"):
            raise ValueError(f"stage must be 'before' or 'after', got {stage!r}")
        if not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive integer, got {times!r}")
        with self.lock:
            self._faults.extend([(fault, stage)] * times)

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    @property
    def minted(self) -> int:
        with self.lock:
            return self._minted

    def find(self, bolt11_or_hash: str) -> MintedInvoice | None:
        text = bolt11_or_hash.strip().lower()
        text = text.removeprefix("lightning:")
        with self.lock:
            if text in self.by_hash:
                return self.by_hash[text]
            for invoice in self.invoices.values():
                if invoice.bolt11 == text:
                    return invoice
        return None

    def pay(self, invoice: MintedInvoice) -> None:
        with self.lock:
            if invoice.paid_at is not None:
                raise ValueError(f"{self.name}: invoice {invoice.provider_id} is already paid")
            if invoice.state() == "expired":
                raise ValueError(f"{self.name}: invoice {invoice.provider_id} has expired and cannot be paid")
            invoice.paid_at = int(time.time())
            self.on_paid(invoice)

    def on_paid(self, invoice: MintedInvoice) -> None:
        """Hook: provider-specific bookkeeping when an invoice is settled."""

    # --- minting -------------------------------------------------------------------------------

    def random_token(self, nbytes: int = 16) -> bytes:
        with self._rng_lock:
            return self._rng.randbytes(nbytes)

    def mint(
        self,
        *,
        provider_id: str | None,
        amount_sat: int | None,
        description: str | None = None,
        description_hash: str | None = None,
        expiry: int | None = None,
        owner: str = "",
        id_prefix: str = "",
    ) -> MintedInvoice:
        """Sign a real invoice with this emulator's node key and remember it."""
        from lnnotebook.bolt11 import encode_invoice  # late: the encoder is only needed when minting

        preimage = os.urandom(32)
        payment_hash = hashlib.sha256(preimage).hexdigest()
        effective_expiry = expiry or self.default_expiry
        timestamp = int(time.time())
        if description is None and description_hash is None:
            description = ""
        amount_msat = None if not amount_sat else amount_sat * 1000
        bolt11 = encode_invoice(
            private_key=self.node_key,
            payment_hash=payment_hash,
            payment_secret=os.urandom(32).hex(),
            network=self.network,
            amount_msat=amount_msat,
            timestamp=timestamp,
            description=description if description_hash is None else None,
            description_hash=description_hash,
            expiry=effective_expiry if (expiry is not None or self.write_expiry) else None,
            min_final_cltv_expiry=self.min_final_cltv_expiry,
            route_hints=self.route_hints(),
        )
        invoice = MintedInvoice(
            provider_id=provider_id or (id_prefix + base64.b32encode(self.random_token(15)).decode().lower()),
            bolt11=bolt11,
            payment_hash=payment_hash,
            preimage=preimage.hex(),
            amount_sat=amount_sat or None,
            description=description if description_hash is None else None,
            description_hash=description_hash,
            expiry=effective_expiry,
            created_at=timestamp,
            fee_msat=self.fees.fee_msat(amount_msat or 0),
            owner=owner,
        )
        with self.lock:
            self.invoices[invoice.provider_id] = invoice
            self.by_hash[payment_hash] = invoice
            self._minted += 1
        return invoice

    def route_hints(self) -> list[list[dict[str, Any]]]:
        """One or two private-channel hints from an LSP peer, as wallets behind LSPs produce."""
        with self._rng_lock:
            count = self._rng.choice((1, 1, 2))
            routes = []
            for index in range(count):
                block = self.block_height - self._rng.randrange(1, 50_000)
                routes.append(
                    [
                        {
                            "pubkey": self._lsp_pubkeys[index],
                            "short_channel_id": (
                                f"{block}x{self._rng.randrange(1, 3000)}x{self._rng.randrange(0, 4)}"
                            ),
                            "fee_base_msat": self._rng.choice((0, 1000)),
                            "fee_proportional_millionths": self._rng.choice((1, 100, 500, 2500)),
                            "cltv_expiry_delta": self._rng.choice((40, 80, 144)),
                        }
                    ]
                )
        return routes

    # --- request handling ----------------------------------------------------------------------

    def serve(self, handler: _Handler) -> None:
        request = handler.read_request()
        with self.lock:
            self.requests_seen += 1
            fault, stage = self._faults.popleft() if self._faults else (None, None)
        if fault is not None and stage == "before":
            handler.apply_fault(self, fault)
            return
        if self.latency:
            self._stopping.wait(self.latency)
        try:
            reply = self.dispatch(request)
        except Exception as exc:  # a bug in the emulator must surface as a 500, not a hung client
            reply = self.error(500, f"emulator error: {type(exc).__name__}: {exc}")
        if fault is not None:
            handler.apply_fault(self, fault)
            return
        handler.send_reply(reply)

    def dispatch(self, request: Request) -> Reply:
        path_matched = False
        for candidate in self.routes:
            match = candidate.pattern.match(request.path)
            if not match:
                continue
            path_matched = True
            if candidate.method != request.method:
                continue
            if candidate.auth:
                refusal = self.authenticate(request)
                if refusal is not None:
                    return refusal
            return getattr(self, candidate.handler)(request, **match.groupdict())
        if path_matched:
            return self.error(405, f"method {request.method} not allowed on {request.path}")
        return self.not_found(request)

    # --- small helpers for subclasses ----------------------------------------------------------

    @staticmethod
    def same_secret(given: str | None, expected: str) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())

    @staticmethod
    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up (timeouts, resets) are expected in fault tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: ClassVar[Emulator]
    timeout = 30  # idle keep-alive connections are closed after this

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self.emulator.serve(self)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # request lines hold credentials (path keys, access-token query); never log them

    def read_request(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        return Request(
            self.command, parts.path, parse_qs(parts.query, keep_blank_values=True), self.headers, body
        )

    def send_reply(self, reply: Reply) -> None:
        payload = reply.encoded()
        self.send_response(reply.status)
        if payload or reply.status not in (204, 304):
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def apply_fault(self, emulator: Emulator, fault: str) -> None:
        if fault == "timeout":
            emulator._stopping.wait(emulator.stall_seconds)  # the client's read timeout fires first
            self.close_connection = True
        elif fault == "reset":
            # SO_LINGER 0 makes close() send RST instead of FIN: a connection reset by peer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif fault == "malformed":
            self.send_reply(
                Reply(200, b'{"status": "success", "data": {"id": "tru', content_type="application/json")
            )
        else:
            self.send_reply(emulator.fault_reply(fault))


def json_body(request: Request) -> tuple[Any, str | None]:
    """(decoded body, None) or (None, parse error text)."""
    try:
        return json.loads(request.body.decode("utf-8") or "null"), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, str(exc)


def now_iso(seconds: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if seconds is None else seconds))


__all__ = [
    "EMULATORS",
    "FAULTS",
    "Emulator",
    "FeeSchedule",
    "MintedInvoice",
    "Reply",
    "Request",
    "Route",
    "json_body",
    "now_iso",
    "register",
    "route",
]
