"""Every provider client against its emulator: success, status lifecycle, fees, quirks, errors, bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import time

import pytest

import lnnotebook as ln
from lnnotebook.emulation.state import FeeSchedule
from lnnotebook.providers.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    ProviderUnavailableError,
    UnexpectedResponseError,
)

NAMES = ("barkd", "tazapay", "lnpay", "lnpay-legacy")
NETWORK = {"barkd": "tbs", "tazapay": "tb", "lnpay": "bc", "lnpay-legacy": "bc"}
DEFAULT_EXPIRY = {"barkd": 3600, "tazapay": 3600, "lnpay": 86400, "lnpay-legacy": 86400}


@pytest.fixture(scope="module")
def sb():
    fees = {
        "barkd": FeeSchedule(base_msat=1000, proportional_millionths=5000),
        "lnpay": FeeSchedule(base_msat=1500, proportional_millionths=0),
    }
    with ln.sandbox(seed="clients", fees=fees) as box:
        yield box


@pytest.mark.parametrize("name", NAMES)
def test_create_returns_a_real_signed_invoice_matching_the_request(sb, name):
    client = sb.connect(name)
    before = sb.minted(name)
    invoice = client.create_invoice(2_500, "lunch at the café")
    assert sb.minted(name) == before + 1
    assert isinstance(invoice, ln.CreatedInvoice)
    assert invoice.provider == name and invoice.status == "pending" and invoice.memo == "lunch at the café"
    decoded = ln.decode(invoice.bolt11)  # verifies the signature
    assert decoded.network == NETWORK[name]
    assert decoded.amount_msat == 2_500_000
    assert decoded.description == "lunch at the café"
    assert decoded.expiry == DEFAULT_EXPIRY[name] == invoice.expiry
    assert decoded.payee == sb.emulator(name).node_pubkey
    assert decoded.route_hints, "emulators add LSP route hints"
    assert abs((invoice.created_at - decoded.created_at).total_seconds()) <= 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        invoice.amount_sat = 1  # type: ignore[misc]


@pytest.mark.parametrize("name", ["tazapay", "lnpay", "lnpay-legacy"])
def test_expiry_is_sent_and_expired_invoices_report_expired(sb, name):
    client = sb.connect(name)
    invoice = client.create_invoice(10, "short", expiry=2)
    decoded = ln.decode(invoice.bolt11)
    assert decoded.expiry == 2 == invoice.expiry
    assert client.invoice_status(invoice) == "pending"
    sleep_until_expired(decoded)
    assert client.invoice_status(invoice) == "expired"
    with pytest.raises(ValueError, match="expired"):
        sb.pay(invoice.bolt11)


def test_barkd_expired_is_derived_from_the_invoice():
    with ln.sandbox(providers=["barkd"], barkd_default_expiry=2) as box:
        client = box.connect("barkd")
        invoice = client.create_invoice(10)
        assert client.invoice_status(invoice) == "pending"
        sleep_until_expired(ln.decode(invoice.bolt11))
        assert client.invoice_status(invoice.provider_id) == "expired"


def sleep_until_expired(invoice: ln.Invoice) -> None:
    # Invoice timestamps are whole seconds, so "expiry" seconds after creation can be up to one second
    # short of the real expiry time: wait for the expiry the invoice itself states.
    time.sleep(max(0.0, invoice.expires_at.timestamp() - time.time()) + 0.05)


@pytest.mark.parametrize("name", NAMES)
def test_pay_moves_status_to_paid(sb, name):
    client = sb.connect(name)
    invoice = client.create_invoice(321)
    assert client.invoice_status(invoice) == "pending"
    assert sb.pay(invoice.bolt11) == name
    assert client.invoice_status(invoice) == "paid"
    assert client.invoice_status(invoice.provider_id) == "paid"
    with pytest.raises(ValueError, match="already paid"):
        sb.pay(invoice.bolt11)


def test_lnpay_settled_values_map_to_statuses(sb):
    client = sb.connect("lnpay")
    # The emulator never fails an invoice (LNbits maps settled -1 to failed); check the mapping itself.
    assert client._map_status({"settled": -1}, "invoice status") == "failed"
    assert client._map_status({"settled": 1}, "invoice status") == "paid"
    with pytest.raises(UnexpectedResponseError, match="settled"):
        client._map_status({"settled": 7}, "invoice status")


def test_fees(sb):
    barkd = sb.connect("barkd")
    # Schedule: 1000 msat + 5000 ppm -> 10_000 sat: 1 + 50 = 51 sat.
    assert barkd.receive_fee(10_000) == 51
    assert barkd.create_invoice(10_000).fee_sat == 51
    lnpay = sb.connect("lnpay")
    assert lnpay.create_invoice(10_000).fee_sat == 2  # fee_msat 1500 rounded up to whole sats
    assert lnpay.receive_fee(10_000) is None
    assert sb.connect("tazapay").create_invoice(10_000).fee_sat is None
    assert sb.connect("lnpay-legacy").create_invoice(10_000).fee_sat is None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount_sat": 0}, "amount_sat"),
        ({"amount_sat": -5}, "amount_sat"),
        ({"amount_sat": 1.5}, "amount_sat"),
        ({"amount_sat": "100"}, "amount_sat"),
        ({"amount_sat": True}, "amount_sat"),
        ({"amount_sat": 21_000_000 * 10**8 + 1}, "amount_sat"),
        ({"amount_sat": 10, "memo": "x" * 640}, "memo"),
        ({"amount_sat": 10, "memo": "é" * 320}, "memo"),
        ({"amount_sat": 10, "memo": 12}, "memo"),
        ({"amount_sat": 10, "expiry": 0}, "expiry"),
        ({"amount_sat": 10, "expiry": -1}, "expiry"),
        ({"amount_sat": 10, "expiry": 2.5}, "expiry"),
        ({"amount_sat": 10, "surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_refused_before_sending(sb, name, kwargs, field):
    client = sb.connect(name)
    seen = sb.emulator(name).requests_seen
    with pytest.raises(InvalidRequestError) as caught:
        client.create_invoice(**kwargs)
    assert caught.value.field == field and caught.value.provider == name and caught.value.status is None
    assert name in str(caught.value)
    assert sb.emulator(name).requests_seen == seen


def test_barkd_has_no_expiry_field(sb):
    with pytest.raises(InvalidRequestError, match="no expiry field") as caught:
        sb.connect("barkd").create_invoice(10, expiry=60)
    assert caught.value.field == "expiry"


def test_memo_at_the_bolt11_limit_is_accepted(sb):
    invoice = sb.connect("tazapay").create_invoice(10, "m" * 639)
    assert ln.decode(invoice.bolt11).description == "m" * 639


# --- provider quirks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected_note"),
    [
        ({"tazapay_bolt11_field": "bolt11"}, None),
        ({"tazapay_bolt11_field": "payment_request", "tazapay_data_format": "object"}, None),
        ({"tazapay_bolt11_field": "invoice"}, None),
        ({"tazapay_bolt11_field": "ln_pr_v2"}, "found in data field 'ln_pr_v2'"),
    ],
)
def test_tazapay_finds_the_undocumented_bolt11_field(options, expected_note):
    with ln.sandbox(providers=["tazapay"], **options) as box:
        invoice = box.connect("tazapay").create_invoice(777, "order 1")
        assert ln.decode(invoice.bolt11).amount_msat == 777_000
        assert invoice.provider_id.startswith("l11_")
        if expected_note is None:
            assert invoice.note is None
        else:
            assert expected_note in invoice.note
        assert isinstance(invoice.raw["data"], dict)


def test_tazapay_without_bolt11_gives_none_and_says_why():
    with ln.sandbox(providers=["tazapay"], tazapay_bolt11_field=None) as box:
        client = box.connect("tazapay")
        invoice = client.create_invoice(50, "no string")
        assert invoice.bolt11 is None
        assert "no BOLT11 invoice" in invoice.note
        assert box.minted("tazapay") == 1
        assert client.invoice_status(invoice) == "pending"
        frame = ln.create_invoices([client], 50, "no string")
        assert frame.loc[0, "bolt11"] is pd_na() and "no BOLT11 invoice" in frame.loc[0, "note"]


def pd_na():
    import pandas as pd

    return pd.NA


def test_tazapay_sends_satoshis_metadata_and_description_hash(sb):
    client = sb.connect("tazapay")
    digest = hashlib.sha256(b"terms of sale").digest()
    invoice = client.create_invoice(
        12_345_600, expiry=4800, description_hash=digest, metadata={"order": "7890"}
    )
    decoded = ln.decode(invoice.bolt11)
    assert decoded.amount_msat == 12_345_600_000  # amount is in sats (smallest unit)
    assert decoded.description_hash == digest.hex() and decoded.description is None
    metadata = invoice.raw["data"]["metadata"]  # the user's, plus the client reference of the attempt
    assert metadata.pop("lnnotebook_reference").startswith("lnnb-") and metadata == {"order": "7890"}
    assert invoice.raw["data"]["expiry_interval"] == 4800


def test_tazapay_idempotency_key_replays_instead_of_minting(sb):
    client = sb.connect("tazapay")
    before = sb.minted("tazapay")
    first = client.create_invoice(99, idempotency_key="order-42")
    second = client.create_invoice(99, idempotency_key="order-42")
    assert first.bolt11 == second.bolt11 and first.provider_id == second.provider_id
    assert sb.minted("tazapay") == before + 1
    with pytest.raises(InvalidRequestError, match="255"):
        client.create_invoice(99, idempotency_key="k" * 256)


def test_lnpay_description_hash_is_sent_as_hex_whatever_the_input_form(sb):
    client = sb.connect("lnpay")
    digest = hashlib.sha256(b"invoice terms").digest()
    import base64

    for form in (digest, digest.hex(), digest.hex().upper(), base64.b64encode(digest).decode()):
        invoice = client.create_invoice(100, "ignored", description_hash=form)
        assert ln.decode(invoice.bolt11).description_hash == digest.hex()
        assert invoice.raw["description_hash"] == digest.hex()
    with pytest.raises(InvalidRequestError) as caught:
        client.create_invoice(100, description_hash="abc")
    assert caught.value.field == "description_hash"


def test_lnpay_pass_thru_is_kept_and_wallet_id_hidden(sb):
    client = sb.connect("lnpay")
    invoice = client.create_invoice(100, pass_thru={"ticketId": "556"})
    user_defined = invoice.raw["passThru"]["userDefined"]  # the user's, plus the attempt's reference
    assert user_defined.pop("lnnotebook_reference").startswith("lnnb-") and user_defined == {
        "ticketId": "556"
    }
    assert invoice.raw["passThru"]["wallet_id"] == "***"


def test_lnpay_free_tier_memo_suffix_is_noted():
    with ln.sandbox(providers=["lnpay"], lnpay_free_tier=True) as box:
        invoice = box.connect("lnpay").create_invoice(10, "tip")
        assert ln.decode(invoice.bolt11).description == "tip (via LNPAY.co)"
        assert "changed the memo" in invoice.note and invoice.memo == "tip"


@pytest.mark.parametrize("name", ["lnpay", "lnpay-legacy"])
def test_lnpay_unknown_lntx_401_is_not_found_not_auth(sb, name):
    with pytest.raises(NotFoundError, match="LnTx not found") as caught:
        sb.connect(name).invoice_status("lntx_doesnotexist")
    assert caught.value.status == 401


def test_barkd_unknown_hash_500_is_not_found(sb):
    with pytest.raises(NotFoundError, match="no pending lightning receive found") as caught:
        sb.connect("barkd").invoice_status("00" * 32)
    assert caught.value.status == 500


def test_barkd_bad_identifier_is_invalid_request(sb):
    with pytest.raises(InvalidRequestError, match="not a valid payment hash") as caught:
        sb.connect("barkd").invoice_status("nothex")
    assert caught.value.status == 400


def test_tazapay_unknown_id_is_not_found(sb):
    with pytest.raises(NotFoundError, match="code 105") as caught:
        sb.connect("tazapay").invoice_status("l11_missing")
    assert caught.value.status == 404


def test_status_refuses_other_providers_invoices(sb):
    invoice = sb.connect("lnpay").create_invoice(10)
    with pytest.raises(InvalidRequestError, match="created by 'lnpay'"):
        sb.connect("barkd").invoice_status(invoice)


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_wrong_credentials_are_authentication_errors(sb, name):
    secret_option = {"barkd": "token", "tazapay": "api_secret", "lnpay": "api_key", "lnpay-legacy": "api_key"}
    wrong = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g" if name == "barkd" else "wrong_key_123"
    client = sb.connect(name, **{secret_option[name]: wrong})
    before = sb.minted(name)
    with pytest.raises(AuthenticationError) as caught:
        client.create_invoice(10)
    assert caught.value.status == 401 and caught.value.provider == name
    assert caught.value.provider_message
    assert sb.minted(name) == before


@pytest.mark.parametrize("name", ["lnpay", "lnpay-legacy"])
@pytest.mark.parametrize("auth", ["header", "query", "basic"])
def test_lnpay_every_auth_form_works(sb, name, auth):
    client = sb.connect(name, auth=auth)
    invoice = client.create_invoice(42)
    assert client.invoice_status(invoice) == "pending"


def test_lnpay_wrong_wallet_key_is_an_authentication_error(sb):
    with pytest.raises(AuthenticationError, match="Wallet not found"):
        sb.connect("lnpay", wallet_key="wal_nope").create_invoice(10)


def test_lnpay_unknown_auth_form_is_a_configuration_error(sb):
    with pytest.raises(ConfigurationError, match="header, query, basic"):
        sb.connect("lnpay", auth="cookie")


def test_unreachable_provider_is_unavailable():
    client = ln.connect(
        "barkd", url="http://127.0.0.1:9", token="t", retries=1, backoff=0, connect_timeout=0.5
    )
    with pytest.raises(ProviderUnavailableError, match="connection failed") as caught:
        client.create_invoice(10)
    assert caught.value.status is None and caught.value.provider == "barkd"
