"""A real LNbits server (PyPI ``lnbits``, installed by ``make lnbits`` into ``.venv-lnbits``) on loopback,
for the tests and ``make demo``.

``start_lnbits()`` runs ONE ``uvicorn lnbits.__main__:app`` process on a free loopback port with the
FakeWallet funding source, a fresh data folder and every outside fetch switched off, then sets it up
over its own HTTP API: the superuser (first install), a receiving wallet and a paying wallet funded by
the superuser. ``LnbitsServer.stop()`` ends that process by its id (SIGTERM, then SIGKILL).

Why it is started this way (LNbits 1.6.2):

* not the ``lnbits`` console script: it runs uvicorn in a child process, hangs if the child dies and
  leaves the child serving when the parent gets SIGTERM;
* from a run folder holding ``lnbits/static``: the app mounts that path relative to the working
  directory, and reads ``./.env`` and writes ``./data`` there too;
* every outside fetch off (extension manifests, price aggregator, exchange-rate providers) and a
  high rate limit (the default 200 requests/minute per IP would fail the 300-invoice test). As a
  tripwire, the process gets ``HTTP(S)_PROXY`` pointing at a local listener that records every
  connection it receives: a fetch through an HTTP client that honours those variables (httpx by
  default, which is what LNbits' price and extension fetches use) shows up in ``outside_fetches``.
  It cannot see DNS lookups or clients built with ``trust_env=False`` (LNbits' webhook sender); the
  tests set no webhooks.

Run it by hand: ``python -m lnnotebook.providers.lnbits.server`` prints the ``LNNOTEBOOK_LNBITS_*``
variables of the receiving wallet and serves until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from lnnotebook.providers.lnbits.wire import (
    ACCOUNT_PATH,
    API_KEY_HEADER,
    BALANCE_PATH,
    FIRST_INSTALL_PATH,
    HEALTH_PATH,
    PAGINATED_PATH,
    PAYMENTS_PATH,
    WALLET_PATH,
)

LNBITS_VERSION = "1.6.2"
REPO = Path(__file__).resolve().parents[3]  # lnnotebook/providers/lnbits/server.py
DEFAULT_VENV = REPO / ".venv-lnbits"
VENV_VARIABLE = "LNNOTEBOOK_LNBITS_VENV"  # another install of LNbits to use instead of .venv-lnbits
REQUIRE_VARIABLE = "LNNOTEBOOK_REQUIRE_LNBITS"
STARTUP_SECONDS = 90.0  # first start runs ~50 migrations; ~4 s here, slower on a busy 2-core CI box
STOP_SECONDS = 10.0
PAYER_FUNDS_SAT = 10_000_000
REQUEST_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1


class LnbitsUnavailable(RuntimeError):
    """LNbits is not installed (or not the pinned version) in the expected virtual environment."""


@dataclass(frozen=True)
class Wallet:
    """An LNbits wallet and its two keys (keys hidden from repr)."""

    name: str
    id: str
    user: str = field(repr=False)
    adminkey: str = field(repr=False)
    inkey: str = field(repr=False)


class OutsideFetchDetector:
    """A loopback listener used as the server's HTTP(S) proxy: records whatever connects to it.

    Nothing should connect. Each connection's first line (``CONNECT host:443 ...`` or ``GET http://...``)
    is kept so a failing check can say what LNbits tried to reach.
    """

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.attempts: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="lnbits-outside-fetches", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                connection.settimeout(1.0)
                try:
                    first_line = connection.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first_line = "(connected, sent nothing)"
            with self._lock:
                self.attempts.append(first_line or "(connected, sent nothing)")

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.attempts)

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self._socket.close()


@dataclass
class LnbitsServer:
    """A running LNbits: its URL, the prepared wallets, and helpers that talk to it directly."""

    url: str
    version: str
    process: subprocess.Popen = field(repr=False)
    run_dir: Path = field(repr=False)
    log_path: Path = field(repr=False)
    detector: OutsideFetchDetector = field(repr=False)
    admin_token: str = field(default="", repr=False)
    receiver: Wallet | None = None
    payer: Wallet | None = None
    started_in_s: float = 0.0
    http: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.http.trust_env = False  # talk to loopback directly, whatever the test machine's proxies

    # --- raw HTTP, for setup and for checking what the server itself says ----------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        token: str | None = None,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        headers = {}
        if key is not None:
            headers[API_KEY_HEADER] = key
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(
            method,
            self.url + path,
            headers=headers,
            json=json_body,
            params=params,
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
        )

    def expect(self, response: requests.Response, *statuses: int) -> Any:
        if response.status_code not in statuses:
            raise AssertionError(
                f"LNbits {response.request.method} {response.request.path_url} returned "
                f"HTTP {response.status_code} (expected {statuses}): {response.text[:500]}"
            )
        return response.json()

    def new_wallet(self, name: str) -> Wallet:
        """A new user with one wallet (``POST /api/v1/account`` needs no authentication)."""
        body = self.expect(self.request("POST", ACCOUNT_PATH, json_body={"name": name}), 200, 201)
        return Wallet(
            name=name, id=body["id"], user=body["user"], adminkey=body["adminkey"], inkey=body["inkey"]
        )

    def fund(self, wallet: Wallet, amount_sat: int) -> None:
        """Credit imaginary FakeWallet sats to ``wallet`` (superuser only)."""
        body = {"id": wallet.id, "amount": amount_sat}
        self.expect(self.request("PUT", BALANCE_PATH, token=self.admin_token, json_body=body), 200)

    def balance_msat(self, wallet: Wallet) -> int:
        return self.expect(self.request("GET", WALLET_PATH, key=wallet.inkey), 200)["balance"]

    def pay(self, bolt11: str, wallet: Wallet | None = None) -> requests.Response:
        """Pay ``bolt11`` from ``wallet`` (default: the funded payer) with its admin key."""
        payer = wallet or self.payer
        assert payer is not None
        return self.request(
            "POST", PAYMENTS_PATH, key=payer.adminkey, json_body={"out": True, "bolt11": bolt11}
        )

    def payments(self, wallet: Wallet) -> list[dict[str, Any]]:
        """Every payment of ``wallet`` as the server lists it (paged, newest first)."""
        found: list[dict[str, Any]] = []
        page_size = 500
        while True:
            params = {"limit": page_size, "offset": len(found)}
            page = self.expect(self.request("GET", PAGINATED_PATH, key=wallet.inkey, params=params), 200)
            found.extend(page["data"])
            if len(found) >= page["total"] or not page["data"]:
                return found

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def outside_fetches(self) -> list[str]:
        return self.detector.snapshot()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """End the server process by its id: SIGTERM, then SIGKILL if it has not exited."""
        stop_process(self.process)
        self.http.close()
        self.detector.close()


# --- installation ------------------------------------------------------------------------------


def venv_dir() -> Path:
    return Path(os.environ.get(VENV_VARIABLE) or DEFAULT_VENV)


def installed_python(venv: Path | None = None) -> tuple[Path, str]:
    """The LNbits venv's interpreter and LNbits version; LnbitsUnavailable with the reason if unusable."""
    venv = venv or venv_dir()
    python = venv / "bin" / "python"
    if not python.exists():
        raise LnbitsUnavailable(f"LNbits is not installed: {python} does not exist (run `make lnbits`)")
    probe = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({n: m.version(n) for n in ('lnbits', 'bitstring', 'uvicorn')}))"
    )
    try:
        result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LnbitsUnavailable(f"cannot run {python}: {exc}") from None
    if result.returncode != 0:
        raise LnbitsUnavailable(f"LNbits is not installed in {venv}: {result.stderr.strip()[-300:]}")
    versions = json.loads(result.stdout)
    if versions["lnbits"] != LNBITS_VERSION:
        raise LnbitsUnavailable(
            f"{venv} holds lnbits {versions['lnbits']}, the tests pin {LNBITS_VERSION} (run `make lnbits`)"
        )
    if int(versions["bitstring"].split(".")[0]) >= 5:
        raise LnbitsUnavailable(f"{venv} holds bitstring {versions['bitstring']}; LNbits needs bitstring<5")
    return python, versions["lnbits"]


def lnbits_package_dir(python: Path) -> Path:
    code = "import importlib.util as u, pathlib as p; print(p.Path(u.find_spec('lnbits').origin).parent)"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return Path(result.stdout.strip())


# --- process control ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it if the test process dies without stopping it (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def server_environment(
    data_dir: Path, proxy_url: str, *, rate_limit_per_minute: int, admin_ui: bool
) -> dict[str, str]:
    """The server's environment: FakeWallet, a fresh data folder, nothing fetched from outside."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        {
            "HOME": str(data_dir),
            "LNBITS_DATA_FOLDER": str(data_dir),
            "LNBITS_BACKEND_WALLET_CLASS": "FakeWallet",
            # The admin UI brings the superuser, the only one who can fund a wallet. Without it no
            # first-install step is needed, but also no wallet can be funded.
            "LNBITS_ADMIN_UI": "true" if admin_ui else "false",
            "LNBITS_RATE_LIMIT_NO": str(rate_limit_per_minute),
            "LNBITS_RATE_LIMIT_UNIT": "minute",
            "LNBITS_EXTENSIONS_MANIFESTS": "[]",
            "LNBITS_WASM_EXTENSIONS_MANIFESTS": "[]",
            "LNBITS_EXCHANGE_RATE_PROVIDERS": "[]",
            "LNBITS_PRICE_AGGREGATOR_ENABLED": "false",
            "LNBITS_PRICE_AGGREGATOR_URL": proxy_url,  # if it were used after all, it lands on the detector
            "DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
            # Belt and braces: anything still fetching over HTTP(S) goes to the detector, not outside.
            "HTTP_PROXY": proxy_url,
            "HTTPS_PROXY": proxy_url,
            "ALL_PROXY": proxy_url,
            "http_proxy": proxy_url,
            "https_proxy": proxy_url,
            "all_proxy": proxy_url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


def wait_until_answering(server: LnbitsServer, deadline: float) -> None:
    """Bounded poll: any HTTP answer counts (before first install every path is a 307)."""
    while True:
        if not server.alive():
            raise RuntimeError(
                f"LNbits exited with code {server.process.returncode} while starting; log tail:\n"
                f"{server.log_text()[-3000:]}"
            )
        try:
            server.http.get(server.url + HEALTH_PATH, timeout=2, allow_redirects=False)
            return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"LNbits did not answer on {server.url} within {STARTUP_SECONDS:g} s; log tail:\n"
                f"{server.log_text()[-3000:]}"
            )
        time.sleep(0.2)


def start_lnbits(
    venv: Path | None = None, *, rate_limit_per_minute: int = 1_000_000, admin_ui: bool = True
) -> LnbitsServer:
    """Start and set up a server (see the module docstring). The caller must call ``stop()``.

    ``admin_ui=False`` starts a server with no superuser and no prepared wallets (``new_wallet`` works).
    """
    python, version = installed_python(venv)
    package = lnbits_package_dir(python)
    run_dir = Path(tempfile.mkdtemp(prefix="lnnotebook-lnbits-"))
    detector = OutsideFetchDetector()
    process: subprocess.Popen | None = None
    server: LnbitsServer | None = None
    try:
        (run_dir / "lnbits").mkdir()
        (run_dir / "lnbits" / "static").symlink_to(package / "static", target_is_directory=True)
        data_dir = run_dir / "data"
        data_dir.mkdir()
        log_path = run_dir / "server.log"
        port = free_port()
        started = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    str(python),
                    "-m",
                    "uvicorn",
                    "lnbits.__main__:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                cwd=run_dir,
                env=server_environment(
                    data_dir, detector.url, rate_limit_per_minute=rate_limit_per_minute, admin_ui=admin_ui
                ),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        server = LnbitsServer(
            url=f"http://127.0.0.1:{port}",
            version=version,
            process=process,
            run_dir=run_dir,
            log_path=log_path,
            detector=detector,
        )
        wait_until_answering(server, started + STARTUP_SECONDS)
        server.started_in_s = time.monotonic() - started
        if admin_ui:
            set_up(server)
        return server
    except BaseException:
        if process is not None:
            stop_process(process)
        detector.close()
        if server is not None:
            server.http.close()
        shutil.rmtree(run_dir, ignore_errors=True)
        raise


def set_up(server: LnbitsServer) -> None:
    """Superuser (first install), then a receiving wallet and a funded paying wallet."""
    password = secrets.token_urlsafe(16)
    credentials = {"username": "lnnotebook", "password": password, "password_repeat": password}
    body = server.expect(server.request("PUT", FIRST_INSTALL_PATH, json_body=credentials), 200)
    server.admin_token = body["access_token"]
    server.receiver = server.new_wallet("receiver")
    server.payer = server.new_wallet("payer")
    server.fund(server.payer, PAYER_FUNDS_SAT)
    balance = server.balance_msat(server.payer)
    if balance != PAYER_FUNDS_SAT * 1000:
        raise RuntimeError(
            f"funding the payer wallet left it with {balance} msat, not {PAYER_FUNDS_SAT * 1000}"
        )


@contextlib.contextmanager
def running_lnbits(venv: Path | None = None, **options: Any) -> Iterator[LnbitsServer]:
    """``start_lnbits`` as a context manager: the server is stopped and its folder removed at the end."""
    server = start_lnbits(venv, **options)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.run_dir, ignore_errors=True)


def main() -> int:
    try:
        with running_lnbits() as server:
            assert server.receiver is not None
            print(f"LNbits {server.version} on {server.url} (FakeWallet, up in {server.started_in_s:.1f} s)")
            print(f"export LNNOTEBOOK_LNBITS_URL={server.url}")
            print(f"export LNNOTEBOOK_LNBITS_API_KEY={server.receiver.inkey}")
            print("Ctrl-C stops it.", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while server.alive():
                    time.sleep(0.5)
    except LnbitsUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
