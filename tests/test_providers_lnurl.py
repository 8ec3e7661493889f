"""The lnurl provider: Lightning Addresses and LNURL-pay against the sandbox's emulator (real HTTP on
loopback, real signed invoices), and LUD-01 bech32 LNURLs against the spec's own example."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pytest

import lnnotebook as ln
from lnnotebook.providers.errors import (
    ConfigurationError,
    InvalidRequestError,
    ProviderError,
    ProviderUnavailableError,
    SuspectInvoiceError,
    UnexpectedResponseError,
)
from lnnotebook.providers.lnurl.lud01 import decode_lnurl, encode_lnurl, parse_target, url_problem
from lnnotebook.providers.lnurl.payrequest import parse_pay_request
from lnnotebook.service import Ledger

DATA = Path(__file__).resolve().parent / "data" / "lnurl"


@pytest.fixture(scope="module")
def sb():
    with ln.sandbox(providers=["lnurl"], seed="lnurl") as box:
        yield box


@pytest.fixture(scope="module")
def emulator(sb):
    return sb.emulator("lnurl")


def address(emulator, name: str) -> str:
    return next(a for a in emulator.addresses() if a.startswith(name + "@"))


# --- LUD-01, LUD-16, LUD-17: where a service lives ------------------------------------------------


def lud01_example() -> tuple[str, str]:
    text = (DATA / "LUD-01.md").read_text(encoding="utf-8")
    url = re.search(r"> `(https://service\.com/api\?q=[0-9a-f]+)`", text).group(1)
    bech32 = re.search(r"> `(LNURL1[0-9A-Z]+)`", text).group(1)
    return url, bech32


def test_the_lud01_example_decodes_and_encodes():
    url, bech32 = lud01_example()
    assert decode_lnurl(bech32) == url
    assert decode_lnurl(bech32.lower()) == url
    assert decode_lnurl("lightning:" + bech32) == url
    assert encode_lnurl(url) == bech32
    assert encode_lnurl(url, upper=False) == bech32.lower()
    assert ln.decode_lnurl(ln.encode_lnurl("https://example.com/p?x=1")) == "https://example.com/p?x=1"


def test_bad_bech32_lnurls_are_refused_with_the_reason():
    _, bech32 = lud01_example()
    mixed = bech32[:20] + bech32[20:].lower()
    with pytest.raises(ConfigurationError, match="not mixed"):
        decode_lnurl(mixed)
    typo = bech32[:-1] + ("Q" if bech32[-1] != "Q" else "P")
    with pytest.raises(ConfigurationError, match="checksum"):
        decode_lnurl(typo)
    with pytest.raises(ConfigurationError, match="starts with lnurl1"):
        decode_lnurl("LNBC1" + bech32[6:])
    with pytest.raises(ConfigurationError, match="not bech32"):
        decode_lnurl(bech32[:30] + "B" + bech32[31:])  # b is not in the alphabet


def test_every_address_form_resolves_to_its_endpoint():
    assert parse_target("Satoshi@Bitcoin.org").url == "https://bitcoin.org/.well-known/lnurlp/satoshi"
    assert parse_target("satoshi@bitcoin.org").address == "satoshi@bitcoin.org"
    assert parse_target("lnurlp://domain.com/path?x=1").url == "https://domain.com/path?x=1"
    onion = "examplennnnnnnn.onion"
    assert parse_target(f"lnurlp://{onion}/path").url == f"http://{onion}/path"  # LUD-17
    assert parse_target(f"bob@{onion}").url == f"http://{onion}/.well-known/lnurlp/bob"  # LUD-16
    url, bech32 = lud01_example()
    assert parse_target(bech32).url == url and parse_target(bech32).form == "lnurl"
    assert parse_target("https://pay.example/lnurlp/x").form == "url"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("http://pay.example/x", "plain http"),
        ("sat oshi@bitcoin.org", "a-z, 0-9"),
        ("satoshi@bitcoin.org/path", "not a domain name"),
        ("ftp://pay.example/x", "not an http"),
        ("https://user:pw@pay.example/x", "credentials"),
        ("nothing-here", "not a Lightning Address"),
    ],
)
def test_unusable_addresses_are_refused_before_any_request(given, message):
    with pytest.raises(ConfigurationError, match=message):
        ln.connect("lnurl", address=given, ledger=False)


def test_service_urls_may_reach_loopback_only_from_a_loopback_service():
    assert url_problem("https://other.example/cb") is None
    assert url_problem("http://127.0.0.1:9/cb") is None
    assert "loopback" in url_problem("http://127.0.0.1:9/cb", allow_loopback=False)
    assert "loopback" in url_problem("https://localhost/cb", allow_loopback=False)
    assert "plain http" in url_problem("http://other.example/cb")
    assert url_problem("http://other.example/cb", allow_insecure=True) is None


def test_malformed_pay_requests_name_the_field():
    good = {"tag": "payRequest", "callback": "https://x/cb", "minSendable": 1000, "maxSendable": 2000}
    good["metadata"] = json.dumps([["text/plain", "hi"]])
    assert parse_pay_request(good, url="u", action="a", where="w").max_sat == 2
    cases = [
        ({"tag": "withdrawRequest"}, "tag"),
        ({"metadata": [["text/plain", "hi"]]}, "metadata"),
        ({"metadata": json.dumps([["text/long-desc", "no plain"]])}, "metadata"),
        ({"metadata": "{not json"}, "metadata"),
        ({"minSendable": 3000}, "minSendable"),
        ({"maxSendable": "2000"}, "maxSendable"),
        ({"commentAllowed": -1}, "commentAllowed"),
        ({"payerData": ["name"]}, "payerData"),
        ({"callback": ""}, "callback"),
    ]
    for change, field in cases:
        with pytest.raises(UnexpectedResponseError) as caught:
            parse_pay_request({**good, **change}, url="u", action="a", where="w")
        assert caught.value.field == field, change


# --- creating invoices ------------------------------------------------------------------------------


def test_sandbox_options_hold_the_default_address(sb, emulator):
    options = sb.options("lnurl")
    assert options["address"] == emulator.addresses()[0] and options["address"].startswith("alice@127.0.0.1:")
    assert len(emulator.addresses()) == 4
    assert sb.env()["LNNOTEBOOK_LNURL_ADDRESS"] == options["address"]


def test_amount_and_comment_round_trip_and_the_hash_is_the_metadatas(sb, emulator):
    client = sb.connect("lnurl", ledger=False)
    invoice = client.create_invoice(1234, "thanks for the coffee ☕")
    decoded = ln.decode(invoice.bolt11)
    assert decoded.amount_msat == 1_234_000 and invoice.amount_sat == 1234
    assert invoice.memo == "thanks for the coffee ☕" and invoice.fee_sat is None
    minted = emulator.find(invoice.bolt11)
    assert minted.comment == "thanks for the coffee ☕"
    metadata = emulator.metadata(emulator.accounts["alice"])
    assert decoded.description_hash == hashlib.sha256(metadata.encode()).hexdigest()
    raw = invoice.raw
    assert raw["description"] == "Pay alice" and raw["identifier"] == sb.options("lnurl")["address"]
    assert raw["image"] is False and raw["successAction"]["tag"] == "message"
    assert (raw["min_sat"], raw["max_sat"], raw["comment_allowed"]) == (1, 1_000_000, 255)
    assert invoice.provider_id == raw["verify"] and invoice.expiry == decoded.expiry


def test_pending_then_paid_through_verify(sb):
    client = sb.connect("lnurl", ledger=False)
    invoice = client.create_invoice(50)
    assert client.invoice_status(invoice) == "pending"
    sb.pay(invoice.bolt11)
    assert client.invoice_status(invoice) == "paid"
    # a later session knows the invoice by its verify URL only
    with ln.connect("lnurl", ledger=False, **sb.options("lnurl")) as other:
        assert other.invoice_status(invoice.provider_id) == "paid"


def test_expired_after_the_invoice_expiry():
    with ln.sandbox(providers=["lnurl"], lnurl_default_expiry=1) as box:
        client = box.connect("lnurl", ledger=False)
        invoice = client.create_invoice(10)
        time.sleep(1.2)
        assert client.invoice_status(invoice) == "expired"


@pytest.mark.parametrize(("amount", "message"), [(0, "between 1 and"), (1_000_001, "1 to 1,000,000 sat")])
def test_zero_and_over_limit_amounts_are_refused_before_any_callback(sb, emulator, amount, message):
    client = sb.connect("lnurl", ledger=False)
    before = emulator.minted
    with pytest.raises(InvalidRequestError, match=message) as caught:
        client.create_invoice(amount)
    assert caught.value.field == "amount_sat" and emulator.minted == before


def test_limits_of_another_address_are_its_own(sb, emulator):
    client = sb.connect("lnurl", address=address(emulator, "bob"), ledger=False)
    before = emulator.minted
    with pytest.raises(InvalidRequestError, match="1,000 to 50,000 sat"):
        client.create_invoice(999)
    assert client.create_invoice(1000).amount_sat == 1000 and emulator.minted == before + 1


def test_comments_too_long_or_not_taken_are_errors_not_dropped(sb, emulator):
    client = sb.connect("lnurl", ledger=False)
    before = emulator.minted
    with pytest.raises(InvalidRequestError, match="256 characters.*at most 255"):
        client.create_invoice(10, "x" * 256)
    assert client.create_invoice(10, "x" * 255).memo == "x" * 255
    bob = sb.connect("lnurl", address=address(emulator, "bob"), ledger=False)
    with pytest.raises(InvalidRequestError, match="takes no comment") as caught:
        bob.create_invoice(1000, "hi")
    assert caught.value.field == "memo" and emulator.minted == before + 1


def test_expiry_is_refused_like_barkd(sb):
    with pytest.raises(InvalidRequestError, match="no expiry field"):
        sb.connect("lnurl", ledger=False).create_invoice(10, expiry=600)


def test_no_verify_url_means_a_clear_no_status(sb, emulator):
    bob = sb.connect("lnurl", address=address(emulator, "bob"), ledger=False)
    invoice = bob.create_invoice(1000)
    assert invoice.provider_id == ln.decode(invoice.bolt11).payment_hash and invoice.raw["image"] is True
    with pytest.raises(ProviderError, match="offers no invoice status.*LUD-21"):
        bob.invoice_status(invoice)


def test_a_callback_on_another_host_is_accepted_unless_refused(sb, emulator):
    carol = sb.connect("lnurl", address=address(emulator, "carol"), ledger=False)
    invoice = carol.create_invoice(20, "order 7")
    assert invoice.raw["callback"].startswith("http://localhost:")
    assert invoice.raw["long_description"].startswith("Carol's shop") and invoice.note is None
    sb.pay(invoice.bolt11)
    assert carol.invoice_status(invoice) == "paid"
    strict = sb.connect("lnurl", address=address(emulator, "carol"), same_origin_only=True, ledger=False)
    with pytest.raises(UnexpectedResponseError, match="another origin"):
        strict.create_invoice(20)


def test_mandatory_payer_data_is_asked_for_and_committed(sb, emulator):
    dave = sb.connect("lnurl", address=address(emulator, "dave"), ledger=False)
    with pytest.raises(InvalidRequestError, match="requires payer data name"):
        dave.create_invoice(21)
    with pytest.raises(InvalidRequestError, match="does not ask for email"):
        dave.create_invoice(21, payerdata={"name": "Satoshi", "email": "s@example.com"})
    invoice = dave.create_invoice(21, payerdata={"name": "Satoshi"})
    committed = emulator.metadata(emulator.accounts["dave"]) + '{"name":"Satoshi"}'
    assert ln.decode(invoice.bolt11).description_hash == hashlib.sha256(committed.encode()).hexdigest()
    assert emulator.find(invoice.bolt11).payerdata == '{"name":"Satoshi"}'


def test_create_invoices_includes_lnurl():
    with ln.sandbox(providers=["barkd", "lnurl"]) as box:
        frame = ln.create_invoices(box.providers(ledger=False), 2_100, "batch", repeat=2, progress=False)
    rows = frame[frame["provider"] == "lnurl"]
    assert len(rows) == 2 and rows["error"].isna().all()
    assert (rows["invoice_amount_sat"] == 2_100).all() and rows["description_hash"].notna().all()


# --- misbehaving services ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "message"),
    [("lnurl_bad_hash", "not sha256 of its metadata"), ("lnurl_wrong_amount", "not the 7000 msat asked")],
)
def test_a_suspect_invoice_is_raised_and_kept_in_the_ledger(tmp_path, option, message):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ln.sandbox(providers=["lnurl"], **{option: True}) as box:
        client = box.connect("lnurl", ledger=ledger)
        with pytest.raises(SuspectInvoiceError, match=message) as caught:
            client.create_invoice(7, "suspect")
        kept = caught.value.invoice
        assert kept.bolt11 and kept.provider == "lnurl" and kept.raw["comment"] == "suspect"
        assert box.emulator("lnurl").find(kept.bolt11) is not None
    rows = ledger.invoices()
    assert list(rows["bolt11"]) == [kept.bolt11]
    assert message in rows["error"].iloc[0]


@pytest.mark.parametrize(("fault", "message"), [("500", "HTTP 500"), ("reset", "failed")])
def test_a_lost_callback_answer_is_not_retried(sb, emulator, fault, message):
    client = sb.connect("lnurl", ledger=False)
    client.pay_request()  # cached: the next request is the callback
    before = emulator.minted
    sb.inject("lnurl", fault, stage="after")  # minted, then the answer is spoilt or lost
    with pytest.raises(ProviderUnavailableError, match=message):
        client.create_invoice(5)
    assert emulator.minted == before + 1  # one invoice, not one per retry


def test_the_pay_request_is_retried_and_cached(sb, emulator):
    client = sb.connect("lnurl", ledger=False, backoff=0.0)
    sb.inject("lnurl", "503")
    first = client.pay_request()
    seen = emulator.requests_seen
    assert client.pay_request() is first and emulator.requests_seen == seen
    assert client.pay_request(fresh=True) is not first


def test_a_service_refusal_is_reported_with_its_reason(sb, emulator):
    with pytest.raises(ProviderError, match="Unable to find user nobody"):
        ln.connect(
            "lnurl", address=address(emulator, "alice").replace("alice", "nobody"), ledger=False
        ).create_invoice(1)


# --- options and lnurl_info -------------------------------------------------------------------------


def test_address_from_the_environment_and_explicit_options_win(sb, emulator, monkeypatch):
    monkeypatch.setenv("LNNOTEBOOK_LNURL_ADDRESS", address(emulator, "bob"))
    with ln.connect("lnurl", ledger=False) as client:
        assert client.target.address == address(emulator, "bob")
    with ln.connect("lnurl", url=sb.url("lnurl"), ledger=False) as client:
        assert client.url == sb.url("lnurl") and client.target.address is None
    monkeypatch.delenv("LNNOTEBOOK_LNURL_ADDRESS")
    with pytest.raises(ConfigurationError, match="LNNOTEBOOK_LNURL_ADDRESS"):
        ln.connect("lnurl", ledger=False)


def test_lnurl_info_compares_addresses_without_creating_invoices(emulator):
    before = emulator.minted
    frame = ln.lnurl_info([*emulator.addresses(), "nobody@127.0.0.1:9"])
    assert emulator.minted == before
    assert list(frame["min_sat"].iloc[:4]) == [1, 1000, 10, 21]
    assert list(frame["max_sat"].iloc[:4]) == [1_000_000, 50_000, 100_000, 21]
    assert list(frame["comment_allowed"].iloc[:4]) == [255, 0, 32, 0]
    dave = frame.iloc[3]
    assert dave["payer_data"] == "name" and dave["payer_data_mandatory"] == "name"
    assert frame.iloc[1]["image"] and frame.iloc[2]["callback_host"] == "localhost"
    assert frame["error"].iloc[:4].isna().all() and frame["error_type"].iloc[4] == "ProviderUnavailableError"
    assert str(frame["min_sat"].dtype) == "Int64" and str(frame["description"].dtype) == "string"


def test_an_unpaid_invoice_reads_expired_after_its_own_expiry() -> None:
    """verify says settled: false; past the invoice's expiry the client says expired, not pending."""
    import time

    with ln.sandbox(providers=["lnurl"], lnurl_default_expiry=1) as sb:
        client = sb.connect("lnurl", ledger=False)
        invoice = client.create_invoice(100)
        assert client.invoice_status(invoice) == "pending"
        time.sleep(ln.decode(invoice.bolt11).expiry + 1.1)
        assert client.invoice_status(invoice) == "expired"
