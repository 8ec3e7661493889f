"""HTML for Jupyter's rich display of invoices and BOLT 12 offers, and the QR codes in them.

``Invoice._repr_html_`` and ``CreatedInvoice._repr_html_`` call ``invoice_html`` and
``created_invoice_html``; the widgets reuse them. Every piece of text is HTML-escaped (descriptions and
provider notes come from strangers), and nothing secret is shown: not the payment secret, not the
provider's raw response. The invoice string itself is shown (in the QR code and a collapsed text
box): it is what a payer needs.

Elements carry CSS classes a browser test can find: ``lnnotebook-invoice`` (the block),
``lnnotebook-offer`` (an offer's block), ``lnnotebook-qr`` (the QR image), ``lnnotebook-created`` (a
provider record), ``lnnotebook-amount`` (the amount), ``lnnotebook-copy`` (the copy button),
``lnnotebook-sandbox`` (the badge of an invoice a sandbox emulator signed), ``lnnotebook-note`` and
``lnnotebook-error``.

One style everywhere: every rule is inline (row spacing, zebra rows, code chips), so a card looks the same
as a cell's output and inside a widget, where the notebook's own table styles do not apply.

The QR code holds ``LIGHTNING:`` and the invoice in upper case: BOLT 11 recommends upper case for QR
codes because it fits QR's compact alphanumeric mode, and URI schemes are case-insensitive.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from lnnotebook.bolt11 import Invoice, InvoiceError, decode

if TYPE_CHECKING:
    from lnnotebook.bolt12.offer import Offer
    from lnnotebook.providers.base import CreatedInvoice

NETWORK_NAMES = {"bc": "mainnet", "tb": "testnet", "tbs": "signet", "bcrt": "regtest"}
ERROR_COLOR = "#c62828"
MAX_SUPPLY_MSAT = 21_000_000 * 100_000_000 * 1000  # every bitcoin there will ever be
_QR_SCALE = 3  # pixels per module: a typical invoice's code is then about 200-250 px wide
_CELL = "padding:3px 12px 3px 6px;text-align:left;vertical-align:top;border:none;line-height:1.4;"
_ZEBRA = "background:rgba(127,127,127,0.08);"  # every other row, readable on light and dark themes
CODE_STYLE = (
    "font-family:var(--jp-code-font-family,monospace);font-size:0.9em;padding:1px 4px;border-radius:3px;"
    "background:rgba(127,127,127,0.14)"
)
_BADGE = (
    "display:inline-block;padding:2px 8px;border-radius:10px;background:#fff3cd;color:#6d4c00;"
    "border:1px solid #e0b000;font-weight:600;font-size:0.9em;margin-bottom:6px"
)
_BUTTON = "margin-top:6px;padding:2px 10px;cursor:pointer;font-size:0.9em"
# Clipboard API (a secure context: https or loopback); otherwise the text is selected for Ctrl+C.
_COPY_SCRIPT = (
    "(function(b){var t=b.getAttribute('data-text');"
    "var box=b.parentNode.querySelector('details');if(box){box.open=true;}"
    "function pick(){var c=b.parentNode.querySelector('code.lnnotebook-bolt11,code.lnnotebook-bolt12');"
    "if(c){var r=document.createRange();r.selectNodeContents(c);var s=window.getSelection();"
    "s.removeAllRanges();s.addRange(r);}b.textContent='Selected: press Ctrl+C';}"
    "if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(t).then("
    "function(){b.textContent='Copied';setTimeout(function(){b.textContent=b.getAttribute('data-label');},"
    "1500);},pick);}else{pick();}})(this)"
)


def qr_payload(bolt11: str) -> str:
    """The text a wallet scans: ``LIGHTNING:`` + the invoice in upper case."""
    text = bolt11.strip()
    if text[:10].lower() == "lightning:":
        text = text[10:]
    return "LIGHTNING:" + text.upper()


def qr_data_uri(bolt11: str, *, scale: int = _QR_SCALE) -> str:
    """A PNG ``data:`` URI of the invoice's QR code (see ``qr_payload``)."""
    import segno  # only displays need it

    return segno.make(qr_payload(bolt11), micro=False).png_data_uri(scale=scale)


def qr_img(bolt11: str, *, scale: int = _QR_SCALE, alt: str = "QR code of the Lightning invoice") -> str:
    """An ``<img class="lnnotebook-qr">`` of the invoice's (or offer's) QR code, inline as a data URI."""
    import segno

    code = segno.make(qr_payload(bolt11), micro=False)
    width, height = code.symbol_size(scale=scale)
    uri = code.png_data_uri(scale=scale)
    return (
        f'<img class="lnnotebook-qr" src="{uri}" width="{width}" height="{height}" '
        f'alt="{html.escape(alt)}" style="image-rendering:pixelated;flex:none;'
        'background:#fff;max-width:none">'
    )


def shorten(text: str, head: int = 10, tail: int = 6) -> str:
    """``0279be667e…f81798``: enough of a key or hash to recognise it."""
    return text if len(text) <= head + tail + 1 else f"{text[:head]}…{text[-tail:]}"


def format_duration(seconds: float) -> str:
    """A duration in its two largest units: ``45 s``, ``59 min 58 s``, ``2 h``, ``3 d 4 h``."""
    total = int(abs(seconds))
    units = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))
    for index, (unit, size) in enumerate(units):
        if total >= size or unit == "s":
            major, rest = divmod(total, size)
            text = f"{major} {unit}"
            if index + 1 < len(units):
                minor_unit, minor_size = units[index + 1]
                if rest // minor_size:
                    text += f" {rest // minor_size} {minor_unit}"
            return text
    raise AssertionError("unreachable: the seconds unit always matches")


def time_left(invoice: Invoice | Offer, now: datetime | None = None) -> str:
    """``expires in 59 min 58 s`` or ``expired 3 min ago``, as of ``now`` (default: the clock)."""
    if invoice.expires_at is None:
        return "expiry beyond the representable range"
    now = now or datetime.now(timezone.utc)
    remaining = (invoice.expires_at - now).total_seconds()
    if remaining > 0:
        return f"expires in {format_duration(remaining)}"
    return f"expired {format_duration(remaining)} ago"


def format_amount(amount_msat: int | None) -> str:
    """``1,000 sat``, ``0.5 sat`` (msat precision kept), or ``any amount`` for an amountless invoice."""
    if amount_msat is None:
        return "any amount"
    sat, msat = divmod(amount_msat, 1000)
    return f"{sat:,} sat" if not msat else f"{sat:,}.{msat:03d}".rstrip("0") + " sat"


def amount_hint(amount_msat: int | None) -> str | None:
    """What is odd about an amount a person should know: more bitcoin than exists; else None."""
    if amount_msat is not None and amount_msat > MAX_SUPPLY_MSAT:
        return "more than the 21 million BTC that will ever exist: no one can pay this"
    return None


def is_sandbox_invoice(invoice: Invoice) -> bool:
    """Whether an emulator of this process's sandbox signed the invoice (it is then not payable)."""
    from lnnotebook.emulation.minting import is_sandbox_node  # stdlib and coincurve only

    return is_sandbox_node(invoice.payee)


def code_chip(text: str, title: str | None = None) -> str:
    """``text`` as an inline code chip (escaped), with a tooltip when ``title`` is given."""
    e = html.escape
    tip = f' title="{e(title)}"' if title is not None else ""
    return f'<code{tip} style="{CODE_STYLE}">{e(text)}</code>'


def rows_table(rows: list[tuple[str, str]]) -> str:
    """A two-column table of (escaped name, HTML value) rows, zebra-striped with inline styles."""
    e = html.escape
    body = "".join(
        f'<tr style="{_ZEBRA if index % 2 else ""}"><th style="{_CELL}white-space:nowrap;font-weight:600">'
        f'{e(name)}</th><td style="{_CELL}">{value}</td></tr>'
        for index, (name, value) in enumerate(rows)
    )
    return f'<table style="border-collapse:collapse;margin:0;border:none">{body}</table>'


def copy_button(text: str, label: str) -> str:
    """A button that copies ``text`` to the clipboard (class ``lnnotebook-copy``)."""
    e = html.escape
    return (
        f'<button type="button" class="lnnotebook-copy" style="{_BUTTON}" data-text="{e(text)}" '
        f'data-label="{e(label)}" onclick="{e(_COPY_SCRIPT)}">{e(label)}</button>'
    )


def error_html(message: str) -> str:
    """A short red message (class ``lnnotebook-error``), escaped."""
    return (
        f'<div class="lnnotebook-error" style="color:{ERROR_COLOR};font-weight:600">'
        f"{html.escape(message)}</div>"
    )


def invoice_html(invoice: Invoice, *, now: datetime | None = None, qr: bool = True) -> str:
    """The rich display of a decoded invoice: key fields, time left to expiry and its QR code."""
    e = html.escape
    if invoice.description is not None:
        description = e(invoice.description) if invoice.description else "<i>(empty)</i>"
    elif invoice.description_hash is not None:
        description = "<i>hash</i> " + _code(invoice.description_hash)
    else:
        description = "<i>none</i>"
    expires_at = "" if invoice.expires_at is None else f" (until {invoice.expires_at:%Y-%m-%d %H:%M:%S} UTC)"
    left = time_left(invoice, now)
    expired = invoice.is_expired_at(now)
    amount = f'<b class="lnnotebook-amount">{e(format_amount(invoice.amount_msat))}</b>'
    hint = amount_hint(invoice.amount_msat)
    if hint is not None:
        amount += f'<br><span class="lnnotebook-amount-hint" style="color:{ERROR_COLOR}">{e(hint)}</span>'
    rows = [
        ("Amount", amount),
        ("Network", e(f"{invoice.network} ({NETWORK_NAMES.get(invoice.network, 'unknown')})")),
        ("Description", description),
        ("Payee", _code(invoice.payee) if invoice.payee else "<i>not verified</i>"),
        (
            "Expiry",
            e(f"{format_duration(invoice.expiry)}{expires_at}")
            + f'<br><span class="lnnotebook-time-left" style="{_expired_style(expired)}">{e(left)}</span>',
        ),
        ("Payment hash", _code(invoice.payment_hash)),
    ]
    if invoice.created_at is not None:
        rows.insert(4, ("Created", e(f"{invoice.created_at:%Y-%m-%d %H:%M:%S} UTC")))
    if invoice.route_hints:
        hops = sum(len(route) for route in invoice.route_hints)
        rows.append(("Route hints", e(f"{len(invoice.route_hints)} ({hops} hop{'s' if hops != 1 else ''})")))
    if invoice.warnings:
        rows.append(("Warnings", "<br>".join(e(warning) for warning in invoice.warnings)))
    badge = ""
    if is_sandbox_invoice(invoice):
        badge = (
            f'<div class="lnnotebook-sandbox" style="{_BADGE}">Sandbox: signed by a local emulator, '
            "not payable on the Lightning network</div>"
        )
    return _card("lnnotebook-invoice", invoice.bolt11, "lnnotebook-bolt11", "Invoice", badge, rows, qr)


def _card(css_class: str, text: str, text_class: str, noun: str, badge: str, rows: list, qr: bool) -> str:
    """The card layout of invoices and offers: QR code, then the fields, the text and a copy button."""
    e = html.escape
    details = (
        f'<details style="margin-top:4px"><summary>{e(noun)} text</summary>'
        f'<code class="{text_class}" style="{CODE_STYLE};display:block;word-break:break-all;'
        f'white-space:normal">{e(text)}</code></details>'
    )
    alt = "QR code of the Lightning invoice" if noun == "Invoice" else "QR code of the BOLT 12 offer"
    return (
        f'<div class="{css_class}" style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;'
        'max-width:100%">'
        + (qr_img(text, alt=alt) if qr else "")
        + '<div style="flex:1 1 320px;min-width:260px;max-width:640px;overflow-wrap:anywhere">'
        + f"{badge}{rows_table(rows)}{copy_button(text, f'Copy {noun.lower()}')}{details}</div></div>"
    )


def created_invoice_html(created: CreatedInvoice, *, now: datetime | None = None) -> str:
    """The rich display of a provider's record: who made it, and the invoice (or why there is none)."""
    e = html.escape
    facts = [f"<b>{e(created.provider)}</b>", e(created.status)]
    if created.provider_id:
        facts.append("id " + code_chip(shorten(created.provider_id, 12, 4), title=created.provider_id))
    facts.append("fee " + (e(f"{created.fee_sat:,} sat") if created.fee_sat is not None else "not reported"))
    header = f'<div style="margin-bottom:6px">{" · ".join(facts)}</div>'
    body = ""
    if created.bolt11:
        try:
            body = invoice_html(decode(created.bolt11), now=now)
        except InvoiceError as error:
            body = error_html(f"the provider's invoice does not decode: {error}")
    else:
        body = (
            '<div class="lnnotebook-note" style="font-style:italic">No BOLT11 invoice in the provider\'s '
            "response, so there is no QR code to show.</div>"
        )
    if created.note:
        from lnnotebook.transport import redact  # a note quoting a provider must not leak a credential

        body += f'<div class="lnnotebook-note" style="margin-top:4px">Note: {e(redact(created.note))}</div>'
    return f'<div class="lnnotebook-created">{header}{body}</div>'


def offer_html(offer: Offer, *, now: datetime | None = None, qr: bool = True) -> str:
    """The rich display of a decoded BOLT 12 offer: key fields, expiry, blinded paths and its QR code.

    Duck-typed on ``Offer``: this module does not import ``lnnotebook.bolt12`` (no import cycle)."""
    e = html.escape
    rows = [("Amount", f"<b>{e(offer_amount_text(offer))}</b>")]
    if offer.description is not None:
        rows.append(("Description", e(offer.description) if offer.description else "<i>(empty)</i>"))
    if offer.issuer is not None:
        rows.append(("Issuer", e(offer.issuer)))
    rows.append(("Networks", e(", ".join(offer.networks))))
    if offer.quantity_max is not None:
        quantity = "any quantity" if offer.quantity_max == 0 else f"up to {offer.quantity_max:,} per invoice"
        rows.append(("Quantity", e(quantity)))
    if offer.absolute_expiry is not None:
        until = (
            "beyond year 9999" if offer.expires_at is None else f"{offer.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        left = time_left(offer, now) if offer.expires_at is not None else ""
        style = _expired_style(offer.is_expired_at(now))
        rows.append(
            ("Expires", e(until) + f'<br><span class="lnnotebook-time-left" style="{style}">{e(left)}</span>')
        )
    rows.append(
        ("Issuer id", _code(offer.issuer_id) if offer.issuer_id else "<i>none: reached by its paths</i>")
    )
    for number, path in enumerate(offer.paths):
        hops = len(path.hops)
        where = path.introduction_node_id or f"channel {path.short_channel_id} (direction {path.direction})"
        rows.append(
            (f"Path {number}", f"via {_code(where)} " + e(f"({hops} blinded hop{'s' if hops != 1 else ''})"))
        )
    if offer.features:
        rows.append(("Features", e(", ".join(map(str, offer.features)))))
    rows.append(("Offer id", _code(offer.offer_id) if offer.offer_id else "<i>none</i>"))
    if offer.warnings:
        rows.append(("Warnings", "<br>".join(e(warning) for warning in offer.warnings)))
    return _card("lnnotebook-offer", offer.bolt12, "lnnotebook-bolt12", "Offer", "", rows, qr)


def offer_amount_text(offer: Offer) -> str:
    """``1,000 sat``, ``100.00 USD`` (the currency's minor units placed), or ``any amount``."""
    if offer.amount is None:
        return "any amount"
    if offer.currency is None:
        return format_amount(offer.amount)
    exponent = offer.currency_exponent or 0
    major, minor = divmod(offer.amount, 10**exponent)
    number = f"{major:,}.{minor:0{exponent}d}" if exponent else f"{major:,}"
    return f"{number} {offer.currency}"


def _code(value: str) -> str:
    return code_chip(shorten(value), title=value)


def _expired_style(expired: bool) -> str:
    return f"color:{ERROR_COLOR};font-weight:600" if expired else "font-weight:600"


__all__ = [
    "CODE_STYLE",
    "amount_hint",
    "code_chip",
    "copy_button",
    "created_invoice_html",
    "error_html",
    "format_amount",
    "is_sandbox_invoice",
    "format_duration",
    "invoice_html",
    "offer_amount_text",
    "offer_html",
    "qr_data_uri",
    "qr_img",
    "qr_payload",
    "rows_table",
    "shorten",
    "time_left",
]
