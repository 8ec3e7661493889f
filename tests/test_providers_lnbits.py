"""The LNbits client against a real LNbits 1.6.2 server (``make lnbits``; see
lnnotebook/providers/lnbits/server.py).

One server for the module (FakeWallet: real signed invoices, imaginary money). Without the server these
tests skip, unless ``LNNOTEBOOK_REQUIRE_LNBITS`` is set (``.ci/run`` sets it): then they fail.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import traceback
from collections.abc import Iterator

import pytest

import lnnotebook as ln
from lnnotebook.ledger import default_ledger_path
from lnnotebook.providers.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from lnnotebook.providers.lnbits.client import LnbitsProvider
from lnnotebook.providers.lnbits.server import (
    REQUIRE_VARIABLE,
    LnbitsServer,
    LnbitsUnavailable,
    Wallet,
    start_lnbits,
)

EXPIRY_WAIT_S = 15.0  # bounded wait for a 1 s invoice to read expired


def _required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def _start(**options) -> LnbitsServer:
    """A started server, or a skip (a failure under LNNOTEBOOK_REQUIRE_LNBITS) if none is installed."""
    try:
        return start_lnbits(**options)
    except LnbitsUnavailable as exc:
        if _required():
            pytest.fail(f"{REQUIRE_VARIABLE} is set, but: {exc}")
        pytest.skip(f"{exc}; set {REQUIRE_VARIABLE}=1 to make this a failure")


def _stop(server: LnbitsServer) -> None:
    server.stop()
    shutil.rmtree(server.run_dir, ignore_errors=True)
    assert not server.alive(), f"LNbits process {server.process.pid} still running after stop()"


@pytest.fixture(scope="module")
def lnbits() -> Iterator[LnbitsServer]:
    server = _start()
    try:
        yield server
    finally:
        _stop(server)


def _connect(server: LnbitsServer, key: str, **options) -> LnbitsProvider:
    client = ln.connect("lnbits", url=server.url, api_key=key, **options)
    assert isinstance(client, LnbitsProvider)
    return client


@pytest.fixture(scope="module")
def receiver(lnbits: LnbitsServer) -> Wallet:
    assert lnbits.receiver is not None
    return lnbits.receiver


@pytest.fixture(scope="module")
def private_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module-scoped clients are built before the per-test LNNOTEBOOK_HOME (conftest) is set: give them
    one of their own, so their ledger is never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LNNOTEBOOK_HOME", str(tmp_path_factory.mktemp("lnbits-module-home")))
        yield


@pytest.fixture(scope="module")
def client(lnbits: LnbitsServer, receiver: Wallet, private_home: None) -> Iterator[LnbitsProvider]:
    with _connect(lnbits, receiver.inkey) as connected:
        assert isinstance(connected.recorder, ln.Ledger) and str(connected.recorder.path).startswith(
            os.environ["LNNOTEBOOK_HOME"]
        )
        yield connected


def _server_status(server: LnbitsServer, wallet: Wallet, payment_hash: str) -> dict:
    return server.expect(server.request("GET", f"/api/v1/payments/{payment_hash}", key=wallet.inkey), 200)


def _payment_count(server: LnbitsServer, wallet: Wallet) -> int:
    params = {"limit": 1}
    return server.expect(
        server.request("GET", "/api/v1/payments/paginated", key=wallet.inkey, params=params), 200
    )["total"]


# --- creating ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount_sat", "memo", "expiry"),
    [
        (1, "one sat", 60),
        (2_500, "lunch at the café ☕", 600),
        (1_000_000, "x" * 639, None),  # 639 ASCII bytes: the most a BOLT11 description holds
        (777, "é" * 319 + "a", 86_400),  # 639 UTF-8 bytes in 320 characters
    ],
)
def test_amount_memo_and_expiry_round_trip_through_the_signed_invoice(
    lnbits, receiver, client, amount_sat, memo, expiry
):
    invoice = client.create_invoice(amount_sat, memo, expiry)
    decoded = ln.decode(invoice.bolt11)  # verifies the signature
    assert decoded.amount_msat == amount_sat * 1000 == invoice.raw["amount"]
    assert decoded.description == memo == invoice.memo
    assert decoded.expiry == (expiry or 3600) == invoice.expiry  # LNbits' default lightning_invoice_expiry
    assert decoded.payment_hash == invoice.provider_id == invoice.raw["payment_hash"]
    assert decoded.network == "bc"  # FakeWallet signs mainnet invoices
    assert invoice.provider == "lnbits" and invoice.status == "pending" and invoice.note is None
    assert invoice.amount_sat == amount_sat and invoice.fee_sat == 0
    # The invoice's timestamp is whole seconds, LNbits' created_at is taken a moment later, with microseconds.
    assert abs((invoice.created_at - decoded.created_at).total_seconds()) < 2
    assert invoice.raw["preimage"] == "***"  # LNbits returns the unpaid invoice's preimage
    # What the server itself recorded for the receiving wallet.
    details = _server_status(lnbits, receiver, invoice.provider_id)["details"]
    assert (
        details["memo"] == memo
        and details["amount"] == amount_sat * 1000
        and details["bolt11"] == invoice.bolt11
    )
    assert client.invoice_status(invoice) == "pending"


def test_no_memo_and_an_empty_memo_get_the_site_title(client):
    without = client.create_invoice(10)
    assert ln.decode(without.bolt11).description == "LNbits" and without.memo is None and without.note is None
    empty = client.create_invoice(10, "")
    assert ln.decode(empty.bolt11).description == "LNbits"
    assert empty.memo == "" and empty.note == "LNbits set the description to 'LNbits'"


def test_description_hash_is_committed_to_instead_of_the_memo(client):
    digest = hashlib.sha256(b'[["text/plain","lnnotebook"]]').digest()
    invoice = client.create_invoice(42, "dropped", description_hash=digest)
    decoded = ln.decode(invoice.bolt11)
    assert decoded.description_hash == digest.hex() and decoded.description is None
    assert "memo not sent" in invoice.note
    with pytest.raises(InvalidRequestError, match="32 bytes"):
        client.create_invoice(42, description_hash=b"short")


def test_out_false_is_what_makes_it_an_invoice(lnbits, receiver):
    """LNbits' ``out`` defaults to paying: the client always sends false, with either key."""
    with _connect(lnbits, receiver.adminkey) as admin_client:
        invoice = admin_client.create_invoice(5, "admin key")
    assert ln.decode(invoice.bolt11).amount_msat == 5000
    without_out = {"amount": 5, "memo": "no out"}
    as_invoice_key = lnbits.request("POST", "/api/v1/payments", key=receiver.inkey, json_body=without_out)
    assert as_invoice_key.status_code == 403
    as_admin_key = lnbits.request("POST", "/api/v1/payments", key=receiver.adminkey, json_body=without_out)
    assert as_admin_key.status_code == 400 and as_admin_key.json()["detail"] == "Missing BOLT11 invoice"


def test_receive_fee(client):
    assert client.receive_fee(1_000) is None  # LNbits has no receive-fee estimate
    with pytest.raises(InvalidRequestError):
        client.receive_fee(0)


# --- status: paid, expired, public shapes -------------------------------------------------------


def test_paying_the_invoice_turns_its_status_paid(lnbits, receiver, client):
    invoice = client.create_invoice(1_234, "settle me")
    before = lnbits.balance_msat(receiver)
    paid = lnbits.pay(invoice.bolt11)
    assert paid.status_code == 201 and paid.json()["status"] == "success"
    assert client.invoice_status(invoice) == "paid"
    assert client.invoice_status(invoice.provider_id) == "paid"  # by id string too
    assert lnbits.balance_msat(receiver) == before + 1_234_000
    # No key at all: LNbits' public shape, with the preimage that proves payment.
    public = lnbits.expect(lnbits.request("GET", f"/api/v1/payments/{invoice.provider_id}"), 200)
    assert public["paid"] is True and "details" not in public
    assert hashlib.sha256(bytes.fromhex(public["preimage"])).hexdigest() == invoice.provider_id
    again = lnbits.pay(invoice.bolt11)
    assert again.status_code == 520 and again.json()["detail"] == "Internal invoice already paid."


def test_another_wallets_key_does_not_find_the_invoice(lnbits, client):
    """A valid key looks payment hashes up within its own wallet only."""
    assert lnbits.payer is not None
    invoice = client.create_invoice(50, "not yours")
    with _connect(lnbits, lnbits.payer.inkey) as other_wallet, pytest.raises(NotFoundError):
        other_wallet.invoice_status(invoice.provider_id)


def test_an_invoice_left_to_expire_reads_expired_and_cannot_be_paid(lnbits, receiver, client):
    invoice = client.create_invoice(99, "expire me", expiry=1)
    decoded = ln.decode(invoice.bolt11)
    assert decoded.expiry == 1 == invoice.expiry
    deadline = time.monotonic() + EXPIRY_WAIT_S
    seen = []
    while time.monotonic() < deadline:
        seen.append(client.invoice_status(invoice))
        if seen[-1] != "pending":
            break
        time.sleep(0.25)
    assert seen[-1] == "expired", f"statuses seen in {EXPIRY_WAIT_S:g} s: {seen}"
    assert decoded.is_expired
    details = _server_status(lnbits, receiver, invoice.provider_id)
    assert details["status"] == "failed" and "expired" in details["details"]["labels"]
    # LNbits quirk: paying an expired internal invoice answers 201, with the receiver's failed record.
    assert lnbits.payer is not None
    payer_before = lnbits.balance_msat(lnbits.payer)
    attempt = lnbits.pay(invoice.bolt11)
    assert attempt.status_code == 201 and attempt.json()["status"] == "failed"
    assert lnbits.balance_msat(lnbits.payer) == payer_before
    assert client.invoice_status(invoice) == "expired"
    public = lnbits.expect(lnbits.request("GET", f"/api/v1/payments/{invoice.provider_id}"), 200)
    assert public == {"paid": False, "status": "failed"}  # no key: the public shape shows no expiry


def test_unknown_payment_hash_is_not_found(client):
    with pytest.raises(NotFoundError) as caught:
        client.invoice_status("00" * 32)
    assert caught.value.status == 404 and caught.value.provider_message == "Payment does not exist."


# --- errors ------------------------------------------------------------------------------------


def test_wrong_key_is_an_authentication_error(lnbits, client):
    invoice = client.create_invoice(10, "for the wrong key")
    with _connect(lnbits, "0" * 32) as wrong:
        with pytest.raises(AuthenticationError) as created:
            wrong.create_invoice(10)
        # LNbits' status endpoint answers any key; the client checks the key when no details come back.
        with pytest.raises(AuthenticationError) as status:
            wrong.invoice_status(invoice)
    for caught in (created, status):
        assert caught.value.status == 404 and caught.value.provider_message == "Wallet not found."
        assert "0" * 32 not in str(caught.value) + repr(caught.value)


def test_amount_zero_is_refused_before_sending_and_by_the_server(lnbits, receiver, client):
    before = _payment_count(lnbits, receiver)
    for amount in (0, -5):
        with pytest.raises(InvalidRequestError) as caught:
            client.create_invoice(amount)
        assert caught.value.status is None and caught.value.field == "amount_sat"
    assert _payment_count(lnbits, receiver) == before  # nothing reached the server
    raw = lnbits.request(
        "POST", "/api/v1/payments", key=receiver.inkey, json_body={"out": False, "amount": 0}
    )
    assert raw.status_code == 520
    assert raw.json() == {"detail": "Amountless invoices not supported.", "status": "failed"}


def test_520_is_an_invalid_request_with_lnbits_detail(client):
    with pytest.raises(InvalidRequestError) as caught:
        client.create_invoice(10_000_001)  # over LNbits' default maximum (a server setting)
    error = caught.value
    assert error.status == 520 and not isinstance(error, ProviderUnavailableError)
    assert error.provider_message == "Invoice amount 10000001 sats is too high. Max allowed: 10000000 sats."


def test_memo_too_long_is_refused_before_sending_and_by_the_server(lnbits, receiver, client):
    before = _payment_count(lnbits, receiver)
    for memo in ("m" * 640, "é" * 320, "m" * 100_000):
        with pytest.raises(InvalidRequestError) as caught:
            client.create_invoice(10, memo)
        assert caught.value.status is None and caught.value.field == "memo"
    assert _payment_count(lnbits, receiver) == before
    for memo, detail in (
        ("m" * 641, "ensure this value has at most 640 characters"),
        (
            "m" * 640,
            "too large an unsigned integer for a bitstring",
        ),  # the model allows 640; encoding does not
        ("é" * 320, "too large an unsigned integer for a bitstring"),
    ):
        body = {"out": False, "amount": 10, "memo": memo}
        raw = lnbits.request("POST", "/api/v1/payments", key=receiver.inkey, json_body=body)
        assert raw.status_code == 400 and detail in str(raw.json()["detail"])


def test_error_mapping_of_real_responses_the_client_never_asks_for(lnbits, receiver):
    """400 with a pydantic error list and 500, sent through the client's own request path."""
    with _connect(lnbits, receiver.inkey, retries=0) as raw_client:
        with pytest.raises(InvalidRequestError) as invalid:
            raw_client._request(
                "POST", "/api/v1/payments", action="create invoice", ok=(201,),
                json_body={"out": False, "amount": 10, "memo": "m" * 641},
            )  # fmt: skip
        assert invalid.value.status == 400
        assert invalid.value.provider_message == "memo: ensure this value has at most 640 characters"
        with pytest.raises(ProviderUnavailableError) as crashed:
            raw_client._request(
                "POST", "/api/v1/payments", action="create invoice", ok=(201,), json_body={"out": False}
            )  # no amount: a TypeError inside LNbits
        assert crashed.value.status == 500 and crashed.value.provider_message.startswith(
            "Unexpected error! ID: "
        )


def test_rate_limit_and_an_unreachable_server():
    """A second, throwaway server with LNbits' rate limit at 5 requests/minute, then stopped."""
    server = _start(rate_limit_per_minute=5, admin_ui=False)
    try:
        wallet = server.new_wallet("limited")
        created = 0
        with _connect(server, wallet.inkey, retries=0) as limited:
            with pytest.raises(RateLimitError) as caught:
                for _ in range(10):
                    limited.create_invoice(1)
                    created += 1
            assert 1 <= created <= 5
            assert (
                caught.value.status == 429
                and "Rate limit exceeded: 5 per 1 minute" in caught.value.provider_message
            )
            server.stop()
            with pytest.raises(ProviderUnavailableError, match="connection failed") as down:
                limited.create_invoice(1)
            assert down.value.status is None
            with pytest.raises(ProviderUnavailableError):
                limited.invoice_status("00" * 32)
    finally:
        _stop(server)


# --- batches and configuration -----------------------------------------------------------------


def test_300_invoices_with_8_workers_none_lost(lnbits):
    wallet = lnbits.new_wallet("batch")  # a wallet of its own, so the server's list is exactly ours
    with _connect(lnbits, wallet.inkey) as batch_client:
        started = time.perf_counter()
        frame = ln.create_invoices(batch_client, 21, "batch", repeat=300, workers=8, progress=False)
        elapsed = time.perf_counter() - started
    assert len(frame) == 300 and frame["error"].isna().all(), frame["error"].dropna().head().tolist()
    assert frame["decode_error"].isna().all()
    assert sorted(frame["repeat"]) == list(range(300))
    assert frame["provider_id"].is_unique and frame["bolt11"].is_unique
    assert (frame["invoice_amount_sat"] == 21).all() and (frame["description"] == "batch").all()
    assert (frame["provider_id"] == frame["payment_hash"]).all()
    listed = lnbits.payments(wallet)
    assert len(listed) == 300
    assert {p["payment_hash"] for p in listed} == set(frame["provider_id"])
    assert {p["bolt11"] for p in listed} == set(frame["bolt11"])
    assert all(p["amount"] == 21_000 and p["memo"] == "batch" and p["status"] == "pending" for p in listed)
    assert elapsed < 120, f"300 invoices took {elapsed:.1f} s"


def test_connect_and_create_invoices_from_environment_variables(lnbits, receiver, monkeypatch):
    monkeypatch.setenv("LNNOTEBOOK_LNBITS_URL", lnbits.url)
    monkeypatch.setenv("LNNOTEBOOK_LNBITS_API_KEY", receiver.inkey)
    frame = ln.create_invoices("lnbits", 7, "from env", repeat=2, progress=False)
    assert frame["error"].isna().all() and list(frame["invoice_amount_sat"]) == [7, 7]
    with ln.connect("lnbits") as from_env:
        assert from_env.url == lnbits.url and from_env.invoice_status(frame["provider_id"][0]) == "pending"
    monkeypatch.delenv("LNNOTEBOOK_LNBITS_URL")
    with pytest.raises(ln.ProviderError, match="LNNOTEBOOK_LNBITS_URL"):
        ln.connect("lnbits")


def test_secrets_never_leak(lnbits, receiver, caplog):
    caplog.set_level(logging.DEBUG)  # urllib3 logs requests at DEBUG
    assert lnbits.payer is not None
    wrong_key = "f" * 32
    keys = [receiver.inkey, receiver.adminkey, lnbits.payer.inkey, lnbits.payer.adminkey, wrong_key]
    texts: list[str] = []
    errors: list[ProviderError] = []
    for key in (receiver.inkey, receiver.adminkey):
        with _connect(lnbits, key) as each:
            texts += [repr(each), str(each)]
            invoice = each.create_invoice(3, "secret scan")
            texts += [repr(invoice), str(invoice.raw)]
            assert lnbits.pay(invoice.bolt11).status_code == 201
            each.invoice_status(invoice)
            frame = ln.create_invoices(each, 3, "frame", repeat=2, progress=False)
            texts.append(frame.to_csv())
            for call in (lambda c=each: c.invoice_status("00" * 32), lambda c=each: c.create_invoice(0)):
                try:
                    call()
                except ProviderError as exc:
                    errors.append(exc)
    with _connect(lnbits, wrong_key) as wrong:
        texts.append(repr(wrong))
        for call in (lambda: wrong.create_invoice(5), lambda: wrong.invoice_status("00" * 32)):
            try:
                call()
            except ProviderError as exc:
                errors.append(exc)
    with ln.connect("lnbits", url="http://127.0.0.1:9", api_key=receiver.inkey, retries=0) as unreachable:
        try:  # nothing listens on the discard port
            unreachable.create_invoice(5)
        except ProviderError as exc:
            errors.append(exc)
    assert len(errors) == 7
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts.append(caplog.text)
    ledger_files = list(default_ledger_path().parent.glob("ledger.sqlite*"))  # what these clients wrote
    assert ledger_files
    texts += [path.read_bytes().decode("latin-1") for path in ledger_files]
    blob = "\n".join(texts)
    for key in keys:
        assert key not in blob


# --- the server itself -------------------------------------------------------------------------


def test_nothing_was_fetched_from_outside(lnbits):
    """Runs last in this module: the proxy tripwire saw no connection, LNbits logged no failed fetch."""
    assert lnbits.alive()
    assert lnbits.outside_fetches() == []
    log = lnbits.log_text()
    for sign in ("Failed to fetch", "Could not fetch extension", "ConnectError", "ProxyError"):
        assert sign not in log
