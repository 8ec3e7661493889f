"""Injected faults: the right error class, retries only where safe, and reported invoices == minted ones."""

from __future__ import annotations

import itertools
import time

import pytest

import lnnotebook as ln
from lnnotebook.emulation.faults import FAULTS
from lnnotebook.providers.errors import (
    AuthenticationError,
    InvoiceMayExistError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    UnexpectedResponseError,
)

NAMES = ("barkd", "tazapay", "lnpay", "lnpay-legacy")
# read_timeout: long enough for a loaded CI machine, well short of the injected stall
FAST = {"read_timeout": 1.0, "connect_timeout": 1.0, "retries": 2, "backoff": 0}

# What a create under each fault ends in when the provider has no idempotency key (None = success).
NON_IDEMPOTENT = {
    "timeout": ProviderUnavailableError,
    "reset": ProviderUnavailableError,
    "500": ProviderUnavailableError,
    "503": ProviderUnavailableError,
    "429": RateLimitError,
    "401": AuthenticationError,
    "malformed": UnexpectedResponseError,
}
# Tazapay sends an Idempotency-Key, so transient faults are retried into one invoice.
IDEMPOTENT = {**NON_IDEMPOTENT, "timeout": None, "reset": None, "500": None, "503": None, "429": None}


@pytest.fixture(scope="module")
def sb():
    with ln.sandbox(seed="faults", stall_seconds=2.5, retry_after=0) as box:
        yield box


@pytest.fixture(autouse=True)
def no_leftover_faults(sb):
    yield
    for name in NAMES:
        sb.emulator(name).clear_faults()


_amounts = itertools.count(1000)


def create(sb, name):
    """(reported invoices, error) for one create_invoice call.

    Each call asks for its own amount: barkd's lost answers are matched on amount, description and time
    (it takes no client reference), and a sandbox shared by many tests makes equal invoices.
    """
    client = sb.connect(name, **FAST)
    try:
        client.create_invoice(next(_amounts), "fault test")
    except ProviderError as exc:
        return 0, exc
    return 1, None


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", NAMES)
def test_create_under_fault_reports_exactly_what_was_minted(sb, name, fault):
    expected = (IDEMPOTENT if name == "tazapay" else NON_IDEMPOTENT)[fault]
    before = sb.minted(name)
    sb.inject(name, fault)
    reported, error = create(sb, name)
    assert sb.minted(name) - before == reported, "no duplicates, none lost"
    if expected is None:
        assert error is None
    else:
        assert isinstance(error, expected), repr(error)
        assert error.provider == name and name in str(error)
    # The fault was consumed: the next create works and mints exactly one.
    before = sb.minted(name)
    assert create(sb, name) == (1, None)
    assert sb.minted(name) == before + 1


@pytest.mark.parametrize("fault", ["timeout", "reset", "500", "503"])
def test_tazapay_lost_response_is_replayed_not_minted_twice(sb, fault):
    before = sb.minted("tazapay")
    sb.inject("tazapay", fault, stage="after")  # the invoice is minted, then the response is lost
    reported, error = create(sb, "tazapay")
    assert error is None and reported == 1
    assert sb.minted("tazapay") == before + 1


@pytest.mark.parametrize("name", ["barkd", "lnpay", "lnpay-legacy"])
def test_lost_response_without_idempotency_is_not_retried(sb, name):
    # Without an idempotency key a create is never sent twice: no second invoice. barkd finds the lost
    # one in its list of pending receives; LNPay lists only settled transactions, so an unpaid invoice
    # cannot be found yet and the error says it may exist.
    before = sb.minted(name)
    sb.inject(name, "timeout", stage="after")
    reported, error = create(sb, name)
    assert sb.minted(name) - before == 1
    if name == "barkd":
        assert error is None and reported == 1
    else:
        assert isinstance(error, InvoiceMayExistError) and "read timeout" in str(error)
        assert "may exist" in str(error) and "reconcile" in str(error) and reported == 0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fault", ["timeout", "reset", "503", "429"])
def test_status_requests_are_retried_through_transient_faults(sb, name, fault):
    client = sb.connect(name, **FAST)
    invoice = client.create_invoice(10)
    sb.inject(name, fault, times=2)
    assert client.invoice_status(invoice) == "pending"


@pytest.mark.parametrize("name", NAMES)
def test_status_gives_up_after_the_retry_budget(sb, name):
    client = sb.connect(name, **FAST)
    invoice = client.create_invoice(10)
    sb.inject(name, "503", times=3)  # retries=2: three attempts, all 503
    with pytest.raises(ProviderUnavailableError) as caught:
        client.invoice_status(invoice)
    assert caught.value.status == 503


def test_barkd_500_is_not_retried_because_barkd_uses_it_for_plain_errors(sb):
    client = sb.connect("barkd", **FAST)
    invoice = client.create_invoice(10)
    seen = sb.emulator("barkd").requests_seen
    sb.inject("barkd", "500")
    with pytest.raises(ProviderUnavailableError) as caught:
        client.invoice_status(invoice)
    assert caught.value.status == 500 and "injected" in caught.value.provider_message
    assert sb.emulator("barkd").requests_seen == seen + 1
    assert client.invoice_status(invoice) == "pending"


def test_rate_limit_error_carries_retry_after_and_retries_honour_it():
    with ln.sandbox(providers=["barkd", "tazapay"], retry_after=1) as box:
        box.inject("barkd", "429")
        with pytest.raises(RateLimitError) as caught:
            box.connect("barkd", **FAST).create_invoice(10)
        assert caught.value.retry_after == 1.0 and caught.value.status == 429
        box.inject("tazapay", "429")
        started = time.monotonic()
        box.connect("tazapay", **FAST).create_invoice(10)
        assert time.monotonic() - started >= 1.0  # waited as told before the (idempotent) retry
        assert box.minted("tazapay") == 1
