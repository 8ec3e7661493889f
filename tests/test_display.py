"""Rich display: Invoice and CreatedInvoice HTML, QR codes, escaping, time left, no secrets."""

from __future__ import annotations

import base64
import html
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
import segno
from PIL import Image

import lnnotebook as ln
from lnnotebook.bolt11 import encode_invoice
from lnnotebook.display import (
    created_invoice_html,
    format_amount,
    format_duration,
    invoice_html,
    qr_payload,
    shorten,
)
from lnnotebook.providers.base import CreatedInvoice

KEY = "33" * 32
HASH = "ab" * 32
SECRET = "5e" * 32
TIMESTAMP = 1_760_000_000
CREATED = datetime.fromtimestamp(TIMESTAMP, tz=timezone.utc)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'


def make(description: str | None = "coffee", **options) -> str:
    params = {
        "private_key": KEY,
        "payment_hash": HASH,
        "payment_secret": SECRET,
        "amount_msat": 1_234_000,
        "timestamp": TIMESTAMP,
        "description": description,
        "expiry": 600,
    }
    params.update(options)
    return encode_invoice(**params)


def visible_text(markup: str) -> str:
    """The markup without tags and attribute values: what a reader sees."""
    return re.sub(r"<[^>]*>", " ", markup)


def qr_images(markup: str) -> list[str]:
    return re.findall(r'<img class="lnnotebook-qr" src="data:image/png;base64,([^"]+)"', markup)


def test_key_fields_and_shortened_keys():
    invoice = ln.decode(make())
    markup = invoice._repr_html_()
    text = visible_text(markup)
    assert "1,234 sat" in text and "bc (mainnet)" in text and "coffee" in text
    assert shorten(invoice.payee) in text and invoice.payee not in text  # shortened, full key in a tooltip
    assert shorten(invoice.payment_hash) in text and invoice.payment_hash not in text
    assert f'title="{invoice.payee}"' in markup
    assert "10 min" in text and "2025-10-09 08:53:20 UTC" in text  # created; expiry 600 s
    assert 'class="lnnotebook-invoice"' in markup


def test_time_left_and_expired():
    invoice = ln.decode(make())
    soon = invoice_html(invoice, now=CREATED + timedelta(seconds=1))
    assert "expires in 9 min 59 s" in soon and "expired" not in visible_text(soon)
    late = invoice_html(invoice, now=CREATED + timedelta(seconds=600 + 185))
    assert "expired 3 min 5 s ago" in late
    assert re.search(r'lnnotebook-time-left" style="color:#c62828', late)  # expired is red
    # Without ``now`` the clock is used: this invoice expired in 2025.
    assert "expired" in visible_text(invoice._repr_html_())


def test_hostile_description_is_escaped():
    invoice = ln.decode(make(HOSTILE))
    markup = invoice._repr_html_()
    assert "<script" not in markup and "onerror=alert" not in markup.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in markup
    assert "&amp; &quot;quotes&quot;" in markup
    assert markup.count("<img") == 1  # only the QR code


def test_no_secret_in_the_display():
    invoice = ln.decode(make())
    markup = invoice._repr_html_()
    assert invoice.payment_secret == SECRET and SECRET not in markup
    assert invoice.signature not in markup


def test_description_hash_amountless_and_warnings():
    digest = "cd" * 32
    invoice = ln.decode(make(None, description_hash=digest, amount_msat=None, network="tbs"))
    text = visible_text(invoice._repr_html_())
    assert "any amount" in text and "tbs (signet)" in text and "hash" in text and shorten(digest) in text
    lenient = ln.decode(make(payment_secret=None), strict=False)
    assert "no payment secret" in visible_text(lenient._repr_html_())


def test_qr_code_holds_the_uppercase_lightning_uri():
    bolt11 = make()
    assert qr_payload(bolt11) == "LIGHTNING:" + bolt11.upper()
    assert qr_payload("lightning:" + bolt11) == "LIGHTNING:" + bolt11.upper()
    code = segno.make(qr_payload(bolt11), micro=False)
    assert code.mode == "alphanumeric"  # upper case is what makes the compact mode possible
    (data,) = qr_images(ln.decode(bolt11)._repr_html_())
    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("L")
    # Read the modules back from the PNG (3 px per module, 4-module quiet zone) and compare.
    size = len(code.matrix)
    assert image.size == ((size + 8) * 3,) * 2
    modules = [
        [image.getpixel(((4 + col) * 3 + 1, (4 + row) * 3 + 1)) < 128 for col in range(size)]
        for row in range(size)
    ]
    assert modules == [[bool(cell) for cell in row] for row in code.matrix]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (45, "45 s"), (60, "1 min"), (3599, "59 min 59 s"), (3600, "1 h"), (3660, "1 h 1 min"),
     (86_400 + 7200, "1 d 2 h"), (31 * 86_400, "31 d"), (-125, "2 min 5 s")],
)  # fmt: skip
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("msat", "text"),
    [
        (None, "any amount"),
        (1_000, "1 sat"),
        (1_234_567_000, "1,234,567 sat"),
        (500, "0.5 sat"),
        (1_001, "1.001 sat"),
    ],
)
def test_format_amount(msat, text):
    assert format_amount(msat) == text


@pytest.fixture(scope="module")
def sb(tmp_path_factory):
    with ln.sandbox(seed="display", tazapay_bolt11_field=None) as box:
        box.ledger = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
        yield box


def test_created_invoice_display(sb):
    client = sb.connect("lnpay", ledger=sb.ledger)
    created = client.create_invoice(2_100, HOSTILE)
    markup = created._repr_html_()
    text = visible_text(markup)
    assert "lnpay" in text and created.status in text and "fee 0 sat" in text
    assert "2,100 sat" in text and len(qr_images(markup)) == 1
    assert "<script" not in markup and "&lt;script&gt;" in markup
    for secret in sb.credentials("lnpay").values():
        assert secret not in markup
    assert ln.decode(created.bolt11).payment_secret not in markup


def test_created_invoice_without_bolt11_shows_the_note(sb):
    created = sb.connect("tazapay", ledger=sb.ledger).create_invoice(700, "no field")
    assert created.bolt11 is None and created.note
    markup = created._repr_html_()
    assert not qr_images(markup) and "lnnotebook-qr" not in markup
    assert 'class="lnnotebook-note"' in markup and html.escape(created.note) in markup
    assert "fee not reported" in visible_text(markup)
    for secret in sb.credentials("tazapay").values():
        assert secret not in markup


def test_created_invoice_with_a_broken_bolt11_and_hostile_note():
    record = CreatedInvoice(
        provider="x<b>",
        provider_id="id-1",
        bolt11="lnbc1qqqqqq",
        amount_sat=1,
        memo=None,
        expiry=None,
        fee_sat=None,
        status="pending",
        created_at=CREATED,
        raw={"payment_preimage": "f" * 64},
        note=HOSTILE,
    )
    markup = created_invoice_html(record)
    assert (
        'class="lnnotebook-error"' in markup and "does not decode" in markup and "lnnotebook-qr" not in markup
    )
    assert "<script" not in markup and "x&lt;b&gt;" in markup and "f" * 64 not in markup
