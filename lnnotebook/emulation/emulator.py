"""The provider-neutral emulator: one provider's API as a WSGI app on a real loopback HTTP server.

A provider's ``emulator.py`` subclasses ``Emulator``, declares its ``routes`` (``web.route`` with the
paths of its ``wire.py``), its typed ``invoice_class``, and implements authentication, request fields,
response shapes and error bodies. Everything here knows no provider: serving (``emulation.server``),
dispatch (werkzeug routing), fault injection (``emulation.faults``), minting (``emulation.minting``) and
paying.
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from typing import Any, ClassVar, Generic, TypeVar

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Rule

from lnnotebook.emulation.faults import (
    FAULT_MESSAGES,
    MALFORMED_BODY,
    RETRY_AFTER_FAULTS,
    FaultQueue,
    drop_connection,
)
from lnnotebook.emulation.minting import Mint
from lnnotebook.emulation.server import BackgroundServer
from lnnotebook.emulation.state import FeeSchedule, MintedInvoice
from lnnotebook.emulation.web import Endpoint, Request, Response, reply, url_map

InvoiceT = TypeVar("InvoiceT", bound=MintedInvoice)


class Emulator(Generic[InvoiceT]):
    """One provider's API on a real HTTP server (subclasses fill in the provider specifics).

    ``InvoiceT`` is the provider's typed invoice state (``invoice_class``), e.g. ``Emulator[Receive]``.
    """

    name: ClassVar[str]
    network: ClassVar[str]  # BOLT11 currency prefix: bc, tb, tbs
    default_expiry: int = 3600  # per class; an instance may override it
    write_expiry: bool = True  # False: leave `x` out (readers assume 3600)
    min_final_cltv_expiry: ClassVar[int | None] = None
    default_fees: ClassVar[FeeSchedule] = FeeSchedule()
    routes: ClassVar[tuple[Rule, ...]] = ()
    base_path: ClassVar[str] = ""  # what sb.url() appends to the origin (e.g. "/v1")
    server_header: ClassVar[str] = "emulator"
    block_height: ClassVar[int] = 850_000  # for realistic short channel ids in route hints
    invoice_class: type[InvoiceT]  # set by each subclass (not a ClassVar: it holds the type variable)

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
        self.mint_node = Mint(seed, self.name, network=self.network, block_height=self.block_height)
        self.node_key = self.mint_node.node_key
        self.node_pubkey = self.mint_node.node_pubkey
        self.lock = threading.RLock()
        self.invoices: dict[str, InvoiceT] = {}  # by provider_id
        self.by_hash: dict[str, InvoiceT] = {}
        self._minted = 0
        self.faults = FaultQueue()
        self._map = url_map(self.routes)
        self._stopping = threading.Event()  # set by stop(): latency waits and stalls end early
        self._server: BackgroundServer | None = None
        self.requests_seen = 0

    # --- provider-specific hooks ---------------------------------------------------------------

    def credentials(self) -> dict[str, str]:
        """connect() options (besides url) that authenticate against this emulator."""
        return {}

    def connect_options(self) -> dict[str, str]:
        """Every connect() option that reaches this emulator (``Sandbox.options``/``env``): by default its
        url and credentials; a provider found by something else (an address) says so here."""
        return {"url": self.url, **self.credentials()}

    def authenticate(self, request: Request) -> Response | None:
        """None when the request is authenticated, else the provider's 401 reply."""
        return None

    def error(self, status: int, message: str, **details: Any) -> Response:
        """The provider's error body for ``status``."""
        return reply(status, {"message": message})

    def fault_reply(self, fault: str) -> Response:
        """The provider's answer to an injected status fault (``500``, ``503``, ``429``, ``401``)."""
        response = self.error(int(fault), f"{FAULT_MESSAGES[fault]} (injected by the sandbox)")
        if fault in RETRY_AFTER_FAULTS:
            response.headers["Retry-After"] = str(self.retry_after)
        return response

    def not_found(self, request: Request) -> Response:
        return self.error(404, f"no route for {request.method} {request.path}")

    def method_not_allowed(self, request: Request) -> Response:
        return self.error(405, f"method {request.method} not allowed on {request.path}")

    def on_paid(self, invoice: InvoiceT) -> None:
        """Hook: provider-specific bookkeeping when an invoice is settled."""

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()  # set by a previous stop()
        self._server = BackgroundServer(self, name=f"sandbox-{self.name}", server_header=self.server_header)

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} emulator is not running (start the sandbox first)")
        return self._server.origin

    @property
    def url(self) -> str:
        return self.origin + self.base_path

    # --- faults, counting, paying --------------------------------------------------------------

    def inject(self, fault: str, times: int = 1, stage: str = "before") -> None:
        self.faults.add(fault, times, stage)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def minted(self) -> int:
        with self.lock:
            return self._minted

    def find(self, bolt11_or_hash: str) -> InvoiceT | None:
        text = bolt11_or_hash.strip().lower().removeprefix("lightning:")
        with self.lock:
            if text in self.by_hash:
                return self.by_hash[text]
            for invoice in self.invoices.values():
                if invoice.bolt11 == text:
                    return invoice
        return None

    def pay(self, invoice: InvoiceT) -> None:
        with self.lock:
            if invoice.paid_at is not None:
                raise ValueError(f"{self.name}: invoice {invoice.provider_id} is already paid")
            if invoice.state() == "expired":
                raise ValueError(f"{self.name}: invoice {invoice.provider_id} has expired and cannot be paid")
            invoice.paid_at = int(time.time())
            self.on_paid(invoice)

    # --- minting -------------------------------------------------------------------------------

    def random_token(self, nbytes: int = 16) -> bytes:
        return self.mint_node.random_token(nbytes)

    def mint(
        self,
        *,
        amount_sat: int | None,
        description: str | None = None,
        description_hash: str | None = None,
        expiry: int | None = None,
        owner: str = "",
        id_prefix: str = "",
        provider_id: str | None = None,
        **fields: Any,
    ) -> InvoiceT:
        """Sign a real invoice with this emulator's node key and remember it as an ``invoice_class``.

        ``fields`` are the provider's own fields of ``invoice_class``.
        """
        effective_expiry = expiry or self.default_expiry
        if description is None and description_hash is None:
            description = ""
        amount_msat = amount_sat * 1000 if amount_sat else None
        signed = self.mint_node.sign(
            amount_msat=amount_msat,
            description=description if description_hash is None else None,
            description_hash=description_hash,
            expiry=effective_expiry if (expiry is not None or self.write_expiry) else None,
            min_final_cltv_expiry=self.min_final_cltv_expiry,
        )
        invoice = self.invoice_class(
            provider_id=provider_id or id_prefix + base64.b32encode(self.random_token(15)).decode().lower(),
            bolt11=signed.bolt11,
            payment_hash=signed.payment_hash,
            preimage=signed.preimage,
            amount_sat=amount_sat or None,
            description=description if description_hash is None else None,
            description_hash=description_hash,
            expiry=effective_expiry,
            created_at=signed.timestamp,
            fee_msat=self.fees.fee_msat(amount_msat or 0),
            owner=owner,
            **fields,
        )
        with self.lock:
            self.invoices[invoice.provider_id] = invoice
            self.by_hash[invoice.payment_hash] = invoice
            self._minted += 1
        return invoice

    # --- request handling ----------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The WSGI app."""
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Serve one request: faults first or last, latency, dispatch."""
        with self.lock:
            self.requests_seen += 1
        fault, stage = self.faults.next()
        if fault is not None and stage == "before":
            return self._apply_fault(request, fault)
        if self.latency:
            self._stopping.wait(self.latency)
        try:
            response = self.dispatch(request)
        except Exception as exc:  # a bug in the emulator must surface as a 500, not a hung client
            response = self.error(500, f"emulator error: {type(exc).__name__}: {exc}")
        if fault is not None:
            return self._apply_fault(request, fault)
        return response

    def dispatch(self, request: Request) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, arguments = adapter.match(return_rule=False)
        except MethodNotAllowed:
            return self.method_not_allowed(request)
        except NotFound:
            return self.not_found(request)
        assert isinstance(endpoint, Endpoint)
        if endpoint.auth:
            refusal = self.authenticate(request)
            if refusal is not None:
                return refusal
        return getattr(self, endpoint.handler)(request, **arguments)

    def _apply_fault(self, request: Request, fault: str) -> Response:
        if fault == "timeout":
            self._stopping.wait(self.stall_seconds)  # the client's read timeout fires first
            drop_connection(request.environ, reset=False)
        if fault == "reset":
            drop_connection(request.environ, reset=True)
        if fault == "malformed":
            return reply(200, MALFORMED_BODY)
        return self.fault_reply(fault)

    # --- small helpers for subclasses ----------------------------------------------------------

    @staticmethod
    def same_secret(given: str | None, expected: str) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())

    @staticmethod
    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)


__all__ = ["Emulator"]
