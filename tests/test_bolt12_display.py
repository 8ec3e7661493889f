"""The offer card (Offer._repr_html_ -> lnnotebook.display.offer_html) and import hygiene."""

from __future__ import annotations

import base64
import html
import io
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import segno
from coincurve import PrivateKey
from PIL import Image

import lnnotebook as ln
from lnnotebook.bolt12.encode import blinded_path, encode, offer_records
from lnnotebook.display import offer_amount_text, offer_html, qr_payload

ROOT = Path(__file__).resolve().parent.parent
KEYS = [PrivateKey(bytes([number]) * 32).public_key.format() for number in range(1, 5)]
EXPIRY = int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp())


def visible_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def make(**fields) -> ln.Offer:
    return ln.decode_offer(encode(offer_records(**fields)))


def test_card_shows_the_key_fields():
    offer = make(
        currency="USD",
        amount=1999,
        description="A Mathematical Treatise",
        issuer="bolt12.org",
        absolute_expiry=EXPIRY,
        quantity_max=3,
        paths=[blinded_path(KEYS[1], KEYS[2], [(KEYS[3], b"")])],
        issuer_id=KEYS[0],
    )
    markup = offer._repr_html_()
    assert markup.startswith('<div class="lnnotebook-offer"')
    text = visible_text(markup)
    expected_texts = ["19.99 USD", "A Mathematical Treatise", "bolt12.org", "bitcoin", "up to 3 per invoice"]
    expected_texts += ["2030-01-01 00:00:00 UTC", "1 blinded hop", offer.offer_id[:10], KEYS[0].hex()[:10]]
    for expected in expected_texts:
        assert expected in text, expected
    assert offer.bolt12 in markup  # the offer text, for copying
    assert "expired" in visible_text(
        offer_html(offer, now=datetime(2031, 1, 1, tzinfo=timezone.utc), qr=False)
    )
    assert "expires in 1 d" in visible_text(
        offer_html(offer, now=datetime(2029, 12, 31, tzinfo=timezone.utc))
    )


def test_amounts():
    assert offer_amount_text(make(amount=1_500, description="x", issuer_id=KEYS[0])) == "1.5 sat"
    assert offer_amount_text(make(issuer_id=KEYS[0])) == "any amount"
    assert offer_amount_text(make(currency="JPY", amount=1234567, description="x", issuer_id=KEYS[0])) == (
        "1,234,567 JPY"
    )
    assert (
        offer_amount_text(make(currency="KWD", amount=5, description="x", issuer_id=KEYS[0])) == "0.005 KWD"
    )


def test_hostile_text_is_escaped_and_warnings_are_shown():
    offer = ln.decode_offer(
        encode(offer_records(description="<script>alert(1)</script>", issuer="<b>me</b>", amount=0)),
        strict=False,
    )
    markup = offer_html(offer, qr=False)
    assert "<script>" not in markup and "&lt;script&gt;" in markup and "<b>me</b>" not in markup
    assert "offer_amount is zero" in visible_text(markup) and "none: reached by its paths" in visible_text(
        markup
    )


def test_qr_code_holds_the_uppercase_offer():
    offer = make(description="qr", issuer_id=KEYS[0])
    assert qr_payload(offer.bolt12) == "LIGHTNING:" + offer.bolt12.upper()
    code = segno.make(qr_payload(offer.bolt12), micro=False)
    assert code.mode == "alphanumeric"
    (data,) = re.findall(
        r'<img class="lnnotebook-qr" src="data:image/png;base64,([^"]+)"', offer._repr_html_()
    )
    assert 'alt="QR code of the BOLT 12 offer"' in offer._repr_html_()
    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("L")
    size = len(code.matrix)
    modules = [
        [image.getpixel(((4 + col) * 3 + 1, (4 + row) * 3 + 1)) < 128 for col in range(size)]
        for row in range(size)
    ]
    assert modules == [[bool(cell) for cell in row] for row in code.matrix]


def run_python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip


def test_imports_stay_cheap_and_acyclic():
    loaded = run_python(
        "import sys, lnnotebook, lnnotebook.display\n"
        "print('lnnotebook.bolt12' in sys.modules)\n"
        "import lnnotebook.bolt12\n"
        "heavy = ('matplotlib', 'ipywidgets', 'werkzeug', 'requests', 'polars', 'dask')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
        "print(lnnotebook.__file__)"
    ).split("\n")
    assert loaded[0] == "False", "lnnotebook and lnnotebook.display must not import lnnotebook.bolt12"
    assert loaded[1] == "[]"
    assert loaded[2] == str(ROOT / "lnnotebook" / "__init__.py")
