"""Jupyter widgets (ipywidgets): an invoice form, a decoder, and a provider comparison dashboard.

    >>> import lnnotebook as ln
    >>> form = ln.widgets.invoice_form()       # its own sandbox of every provider
    >>> form                                    # shows it; fill it in and click "Create invoice"
    >>> ln.widgets.decoder()
    >>> ln.widgets.dashboard(["lnpay", "barkd"])  # real providers, credentials from LNNOTEBOOK_* variables

``providers`` (all three builders that create invoices accept it):

* ``None``: the widget starts a sandbox of every emulator (local HTTP servers minting real signed
  invoices) and owns it; ``widget.close()`` stops it, and ``widget.sandbox`` is the running Sandbox;
* a ``Sandbox`` you started: its providers, left running when the widget closes;
* provider clients from ``ln.connect``/``sb.connect``, or provider names. A name is connected from
  ``LNNOTEBOOK_<PROVIDER>_*`` variables on first use, so a missing credential is a red message in the
  widget, not an exception when building it.

Every invoice is written to the clients' ledger, as with ``create_invoices``. Buttons are disabled while
their request runs. Errors show as a short red message (provider name and message, secrets redacted),
never a traceback; unexpected ones are also logged at DEBUG level on the ``lnnotebook.widgets`` logger
with their traceback.

Each builder returns the top-level ``VBox`` with its parts as attributes (see each class), so code and
tests can drive it: set ``form.amount.value = 2100`` and call ``form.create_button.click()``. Widgets
carry stable CSS classes for browser tests (the class is on the widget's outer element; for text
inputs the ``<input>`` is inside it, e.g. ``.lnnotebook-amount input``):

* form: ``lnnotebook-form``, ``lnnotebook-provider``, ``lnnotebook-amount``, ``lnnotebook-amount-hint``,
  ``lnnotebook-memo``, ``lnnotebook-expiry``, ``lnnotebook-expiry-hint``, ``lnnotebook-create``,
  ``lnnotebook-result``; inside the result, ``lnnotebook-invoice`` (with ``lnnotebook-amount``,
  ``lnnotebook-copy``, ``lnnotebook-sandbox``), ``lnnotebook-qr`` (the QR ``<img>``) or ``lnnotebook-error``;
* decoder: ``lnnotebook-decoder``, ``lnnotebook-decoder-input``, ``lnnotebook-decode``,
  ``lnnotebook-summary``, ``lnnotebook-decoded`` (holding ``lnnotebook-invoice``, ``lnnotebook-failed``
  or ``lnnotebook-summary-table``), ``lnnotebook-hops``;
* dashboard: ``lnnotebook-dashboard``, ``lnnotebook-providers``, ``lnnotebook-amount``, ``lnnotebook-memo``,
  ``lnnotebook-repeat``, ``lnnotebook-create``, ``lnnotebook-clear``, ``lnnotebook-progress``,
  ``lnnotebook-message``, ``lnnotebook-output``.

What a provider can take is a fact of its client class (``supports_expiry``, ``min_amount_sat``,
``max_amount_sat``), read without connecting; this module names no provider.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, NamedTuple

import ipywidgets as widgets
import pandas as pd
import traitlets

from lnnotebook.bolt11 import Invoice, InvoiceError, decode_rows
from lnnotebook.comparison import compare, comparison_html, comparison_view
from lnnotebook.display import (
    amount_hint,
    code_chip,
    created_invoice_html,
    error_html,
    format_amount,
    invoice_html,
    shorten,
    time_left,
)
from lnnotebook.emulation.sandbox import Sandbox
from lnnotebook.errors import LnnotebookError
from lnnotebook.frames import decode_frame, hops_frame
from lnnotebook.ledger import LedgerError
from lnnotebook.providers.base import CreatedInvoice, Provider
from lnnotebook.providers.errors import ProviderError
from lnnotebook.service import create_invoices
from lnnotebook.transport import redact

ProvidersSpec = None | Sandbox | Provider | str | Iterable[Provider | str]

_log = logging.getLogger(__name__)
_MAX_MESSAGE = 300  # characters of an error message shown in a widget
_LABEL_STYLE = {"description_width": "110px"}
_DASHBOARD_WORKERS = 4  # concurrent create requests, as create_invoices' default
_BUSY_HTML = '<div class="lnnotebook-busy" style="color:#666">{}</div>'


# --- shared pieces ---------------------------------------------------------------------------------


class ProviderPool:
    """The provider clients a widget offers, by label; starts (and owns) a sandbox for ``None``."""

    def __init__(self, providers: ProvidersSpec) -> None:
        self.sandbox: Sandbox | None = None
        self._owns_sandbox = False
        if providers is None:
            self.sandbox = Sandbox().start()
            self._owns_sandbox = True
            try:
                items: list[Any] = self.sandbox.providers()
            except BaseException:
                self.sandbox.close()
                raise
        elif isinstance(providers, Sandbox):
            self.sandbox = providers
            items = providers.providers()  # closed by the sandbox when it closes
        elif isinstance(providers, (Provider, str)):
            items = [providers]
        else:
            items = list(providers)
        self._clients: dict[str, Provider] = {}
        self._names: dict[str, str] = {}
        self._opened: list[Provider] = []
        for item in items:
            if isinstance(item, Provider):
                self._clients[self._label(item.name)] = item
            elif isinstance(item, str):
                self._names[self._label(item)] = item
            else:
                raise TypeError(f"providers must be Provider clients or names, got {type(item).__name__}")
        if not self.labels:
            raise ValueError("the widget needs at least one provider")

    @property
    def labels(self) -> list[str]:
        return [*self._clients, *(label for label in self._names if label not in self._clients)]

    def client(self, label: str) -> Provider:
        """The client behind ``label``, connecting a provider given by name on first use."""
        client = self._clients.get(label)
        if client is None:
            from lnnotebook.service import connect

            client = connect(self._names[label])
            self._opened.append(client)
            self._clients[label] = client
        return client

    def provider_type(self, label: str) -> type | None:
        """The client class behind ``label`` without connecting (None when its name is not registered):
        what a provider can take (``supports_expiry``, amount limits) is a fact of its class."""
        client = self._clients.get(label)
        if client is not None:
            return type(client)
        from lnnotebook.providers import provider_class

        try:
            return provider_class(self._names[label])
        except (KeyError, LnnotebookError):
            return None

    def close(self) -> None:
        for client in self._opened:
            client.close()
        self._opened.clear()
        if self._owns_sandbox and self.sandbox is not None:
            self.sandbox.close()

    def _label(self, name: str) -> str:
        """``name``, or ``name (2)``, ... when two clients of one provider are offered."""
        taken = set(self._clients) | set(self._names)
        label, number = name, 1
        while label in taken:
            number += 1
            label = f"{name} ({number})"
        return label


def error_message(exc: BaseException, provider: str | None = None) -> str:
    """One short line for a red message: provider name and message, secrets redacted."""
    if isinstance(exc, (ProviderError, FormInputError)):
        text = str(exc)  # a ProviderError reads "provider: message"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if provider:
            text = f"{provider}: {text}"
    lines = redact(text).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _report(exc: Exception, provider: str | None = None) -> str:
    if not isinstance(exc, (ProviderError, ValueError)):
        _log.debug("unexpected error in a widget", exc_info=True)
    return error_message(exc, provider)


def _button(description: str, **options: Any) -> widgets.Button:
    # A width that fits the label: the default 148 px cuts "Create and compare".
    return widgets.Button(
        description=description, layout=widgets.Layout(width="auto", min_width="120px"), **options
    )


def _styled(widget: widgets.Widget, css_class: str) -> widgets.Widget:
    widget.add_class(css_class)
    return widget


class FormInputError(LnnotebookError, ValueError):
    """A field of a widget holds something that cannot be sent; shown as its message alone."""


# A money field never changes the number typed: digits, optionally grouped by thousands separators.
_GROUPED = re.compile(r"[0-9]{1,3}(?:([,_ \u00a0\u202f'])[0-9]{3})?(?:\1[0-9]{3})*")
_MAX_SAT = 21_000_000 * 100_000_000  # every bitcoin there will ever be


def parse_amount(text: str | int, minimum: int = 1, maximum: int = _MAX_SAT) -> int:
    """A whole number of sat from a form field: ``21000``, ``21,000``, ``21 000`` or ``21_000``.

    Refuses (``FormInputError``) anything else, a fraction above all (``1.5`` is never 15), and amounts
    outside ``minimum``..``maximum``, in words a person reads.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        number = text
    else:
        typed = str(text).strip()
        if not typed:
            raise FormInputError("enter an amount in sat, e.g. 21,000")
        digits = typed.replace("\u00a0", " ")
        if re.fullmatch(r"[0-9]+", digits) is None and _GROUPED.fullmatch(digits) is None:
            shown = typed if len(typed) <= 40 else typed[:39] + "…"
            if re.fullmatch(r"[0-9,_ ']*[.][0-9]*", digits):
                raise FormInputError(
                    f"amount must be a whole number of sat: {shown!r} has a fraction "
                    "(1 sat is the smallest amount here)"
                )
            raise FormInputError(f"amount must be a whole number of sat (digits only), not {shown!r}")
        number = int(re.sub(r"[^0-9]", "", digits))
    if not minimum <= number <= maximum:
        raise FormInputError(f"amount must be between {minimum:,} and {maximum:,} sat; {number:,} is not")
    return number


class AmountText(widgets.Text):
    """A text field for an amount in sat (``parse_amount`` reads it); code may set an int."""

    value = traitlets.Union(
        [traitlets.Unicode(), traitlets.Int()], default_value="", help="the amount as typed"
    ).tag(sync=True)

    @traitlets.validate("value")
    def _as_text(self, proposal: Any) -> str:
        value = proposal["value"]
        return f"{value:,}" if isinstance(value, int) else value


def _parse_expiry(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]+", text):
        raise FormInputError(
            f"expiry must be a whole number of seconds, or empty for the default; got {text[:40]!r}"
        )
    return int(text)


def _hint(text: str, *, error: bool = False) -> str:
    color, kind = ("#c62828", "lnnotebook-error") if error else ("#666", "lnnotebook-hint")
    return (
        f'<div class="{kind}" style="color:{color};font-size:0.9em;margin:0 0 4px 114px">'
        f"{html.escape(text)}</div>"
    )


# --- invoice form ----------------------------------------------------------------------------------


class InvoiceForm(widgets.VBox):
    """Create one invoice and see it with its QR code. Built by ``invoice_form``.

    Parts: ``provider`` (Dropdown of provider labels), ``amount`` (``AmountText``: whole sat, thousands
    separators allowed, never a fraction), ``amount_hint`` (HTML: the amount read, or what is wrong with
    it), ``memo`` (Text), ``expiry`` (Text: whole seconds, empty for the provider's default; disabled,
    with ``expiry_hint`` saying why, for a provider whose client has ``supports_expiry = False``),
    ``create_button``, ``result`` (HTML: the created invoice, or a red ``lnnotebook-error`` message).
    After a click, ``invoice`` is the ``CreatedInvoice`` (None after an error) and ``error`` the
    message shown (None after success); an invoice created but not saved to the ledger
    (``LedgerError``) sets both and shows both. ``sandbox`` is the sandbox the form started or was
    given, else None.
    """

    def __init__(self, providers: ProvidersSpec = None) -> None:
        pool = ProviderPool(providers)
        self._pool = pool
        self.sandbox: Sandbox | None = pool.sandbox
        self.invoice: CreatedInvoice | None = None
        self.error: str | None = None
        self.provider = _styled(
            widgets.Dropdown(options=pool.labels, description="Provider", style=_LABEL_STYLE),
            "lnnotebook-provider",
        )
        self.amount = _styled(
            AmountText(
                value=1_000, placeholder="e.g. 21,000", description="Amount (sat)", style=_LABEL_STYLE
            ),
            "lnnotebook-amount",
        )
        self.amount_hint = _styled(widgets.HTML(), "lnnotebook-amount-hint")
        self.memo = _styled(
            widgets.Text(value="", placeholder="what it is for", description="Memo", style=_LABEL_STYLE),
            "lnnotebook-memo",
        )
        self.expiry = _styled(
            widgets.Text(
                value="", placeholder="provider default", description="Expiry (s)", style=_LABEL_STYLE
            ),
            "lnnotebook-expiry",
        )
        self.expiry_hint = _styled(widgets.HTML(), "lnnotebook-expiry-hint")
        self.create_button = _styled(
            _button("Create invoice", button_style="primary", icon="bolt"),
            "lnnotebook-create",
        )
        self.result = _styled(widgets.HTML(value=""), "lnnotebook-result")
        self.create_button.on_click(lambda _button: self.create())
        self.amount.observe(lambda _change: self._check_amount(), "value")
        self.provider.observe(lambda _change: self._provider_changed(), "value")
        super().__init__(
            [
                self.provider,
                self.amount,
                self.amount_hint,
                self.memo,
                self.expiry,
                self.expiry_hint,
                self.create_button,
                self.result,
            ]
        )
        self.add_class("lnnotebook-form")
        self._provider_changed()

    def create(self) -> CreatedInvoice | None:
        """What a click does: create the invoice from the fields and show it (or the error)."""
        label = self.provider.value
        self.create_button.disabled = True
        self.result.value = _BUSY_HTML.format(html.escape(f"Creating an invoice at {label}…"))
        try:
            try:
                amount = self._amount()
                expiry = None if self.expiry.disabled else _parse_expiry(self.expiry.value)
                client = self._pool.client(label)
                invoice = client.create_invoice(amount, self.memo.value or None, expiry)
            except Exception as exc:  # every failure becomes a message in the form
                # Created but not saved to the ledger: say so, and still show the invoice (it exists).
                unsaved = exc.invoice if isinstance(exc, LedgerError) else None
                self.invoice, self.error = unsaved, _report(exc, label)
                self.result.value = error_html(self.error) + (
                    created_invoice_html(unsaved) if unsaved is not None else ""
                )
                return unsaved
            self.invoice, self.error = invoice, None
            self.result.value = created_invoice_html(invoice)
            return invoice
        finally:
            self.create_button.disabled = False

    def _amount(self) -> int:
        kind = self._pool.provider_type(self.provider.value)
        low = getattr(kind, "min_amount_sat", 1)
        high = getattr(kind, "max_amount_sat", _MAX_SAT)
        return parse_amount(self.amount.value, low, high)

    def _check_amount(self) -> None:
        """Say under the field what the amount reads as, or what is wrong, while it is typed."""
        try:
            amount = self._amount()
        except FormInputError as error:
            self.amount_hint.value = _hint(str(error), error=True) if str(self.amount.value).strip() else ""
        else:
            self.amount_hint.value = _hint(f"{amount:,} sat")

    def _provider_changed(self) -> None:
        """Fields the chosen provider's client cannot take are disabled, with the reason."""
        kind = self._pool.provider_type(self.provider.value)
        takes_expiry = getattr(kind, "supports_expiry", True)
        self.expiry.disabled = not takes_expiry
        self.expiry.placeholder = "provider default" if takes_expiry else "not available"
        self.expiry_hint.value = (
            ""
            if takes_expiry
            else _hint(f"{self.provider.value} cannot set an expiry: its invoices use the provider's default")
        )
        self._check_amount()

    def close(self) -> None:
        """Close the widget and whatever it opened (its own sandbox, clients connected by name)."""
        pool = getattr(self, "_pool", None)  # absent when __init__ failed (ipywidgets closes on __del__)
        if pool is not None:
            pool.close()
        super().close()


def invoice_form(providers: ProvidersSpec = None) -> InvoiceForm:
    """A form to create one invoice: provider, amount in sat, memo, expiry and a Create button.

    The result shows the decoded invoice with its QR code; errors show as a short red message. The
    button is disabled while the request runs. ``providers=None`` starts a sandbox owned by the form
    (see the module docstring for the other choices). Returns the ``InvoiceForm`` (a ``VBox``).
    """
    return InvoiceForm(providers)


# --- decoder ---------------------------------------------------------------------------------------


class Decoder(widgets.VBox):
    """Paste invoices, see them decoded. Built by ``decoder``.

    Parts: ``text`` (Textarea), ``decode_button``, ``summary`` (HTML: counts, and what was ignored),
    ``invoices`` (HTML: one invoice's card, as ``ln.decode`` shows it, or a compact table of several in
    its own scrolling box, never wider than the notebook; a failed row shows the text as pasted and its
    error first), ``hops`` (HTML: the route hints, only when there are some). How pasted text becomes
    candidates: see ``find_invoices``. After a click, ``candidates`` holds the texts decoded, ``frame``
    their ``decode_frame(errors="coerce")`` and ``hops_frame`` their ``hops_frame``.
    """

    def __init__(self) -> None:
        self.frame: pd.DataFrame | None = None
        self.hops_frame: pd.DataFrame | None = None
        self.candidates: list[str] = []
        self.text = _styled(
            widgets.Textarea(
                value="",
                placeholder="Paste one or more BOLT11 invoices (lnbc…), separated by spaces, commas or lines",
                layout=widgets.Layout(width="auto", height="120px"),  # stretches; 100% + margins overflows
            ),
            "lnnotebook-decoder-input",
        )
        self.decode_button = _styled(
            _button("Decode", button_style="primary", icon="search"), "lnnotebook-decode"
        )
        self.summary = _styled(widgets.HTML(), "lnnotebook-summary")
        self.invoices = _styled(widgets.HTML(layout=widgets.Layout(max_width="100%")), "lnnotebook-decoded")
        self.hops = _styled(widgets.HTML(layout=widgets.Layout(max_width="100%")), "lnnotebook-hops")
        self.decode_button.on_click(lambda _button: self.decode())
        super().__init__(
            [self.text, self.decode_button, self.summary, self.invoices, self.hops],
            layout=widgets.Layout(max_width="100%", overflow="hidden"),
        )
        self.add_class("lnnotebook-decoder")

    def decode(self) -> pd.DataFrame | None:
        """What a click does: decode the pasted invoices and show them."""
        self.decode_button.disabled = True
        try:
            found = find_invoices(self.text.value)
            if not found.candidates:
                self._clear(error_html("Paste at least one invoice."))
                return None
            texts = found.candidates
            frame = decode_frame(texts, errors="coerce")
            hops = hops_frame(texts, errors="coerce")
            results = decode_rows(texts)
        except Exception as exc:  # decoding with errors="coerce" should not raise; show it if it does
            self._clear(error_html(_report(exc)))
            return None
        finally:
            self.decode_button.disabled = False
        self.candidates, self.frame, self.hops_frame = texts, frame, hops
        decoded = [
            None if isinstance(result, InvoiceError) else Invoice._from_row(result) for result in results
        ]
        errors = [result if isinstance(result, InvoiceError) else None for result in results]
        self.summary.value = _decode_summary(found, errors)
        if len(texts) == 1:
            invoice = decoded[0]
            self.invoices.value = invoice_html(invoice) if invoice else failed_html(texts[0], errors[0])
        else:
            self.invoices.value = candidates_html(texts, decoded, errors)
        hop_rows = hops[hops["pubkey"].notna()]
        self.hops.value = hops_html(hop_rows) if len(hop_rows) else ""
        return frame

    def _clear(self, message: str) -> None:
        self.frame = self.hops_frame = None
        self.candidates = []
        self.summary.value = message
        self.invoices.value = self.hops.value = ""


class FoundInvoices(NamedTuple):
    """What ``find_invoices`` found in pasted text: the texts to decode, and the words left out."""

    candidates: list[str]
    ignored: list[str]
    looked_like_none: bool  # nothing looked like an invoice: the whole paste is the one candidate


_SEPARATORS = re.compile(r"[\s,;]+")
_QUOTE_CHARS = "\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb"
_INVOICE_START = ("ln", "lightning:", "bitcoin:")
_LONG_TOKEN = 40  # a token this long is an attempt at an invoice (say a mangled one), not a word


def find_invoices(text: str) -> FoundInvoices:
    """The invoice candidates in pasted text.

    Split on whitespace, commas and semicolons; lines starting with ``#`` are comments (as in the
    sample file). A candidate is a token that starts like an invoice (``ln...``, ``lightning:``,
    ``bitcoin:``, quotes around it allowed) or is long enough to be a damaged one; other words are
    ignored and reported, so "pay lnbc1... thanks" is one invoice and a sentence is not seven. When no
    token looks like an invoice, the whole paste is the one candidate, so its error is shown. Each
    candidate is kept as pasted: ``ln.decode`` itself accepts the quotes and URIs.
    """
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    tokens = [token for line in lines for token in _SEPARATORS.split(line) if token]
    candidates = [token for token in tokens if _looks_like_invoice(token)]
    ignored = [token for token in tokens if not _looks_like_invoice(token)]
    if not candidates and tokens:
        return FoundInvoices([" ".join(" ".join(lines).split())], [], True)
    return FoundInvoices(candidates, ignored, False)


def _looks_like_invoice(token: str) -> bool:
    bare = token.strip(_QUOTE_CHARS).lower()
    return bare.startswith(_INVOICE_START) or len(bare) >= _LONG_TOKEN


def split_invoices(text: str) -> list[str]:
    """The candidates of ``find_invoices`` (the texts the decoder widget decodes)."""
    return find_invoices(text).candidates


def _decode_summary(found: FoundInvoices, errors: list[InvoiceError | None]) -> str:
    count, failed = len(errors), sum(error is not None for error in errors)
    if count == 1:
        text = "1 invoice decoded" if not failed else "Could not decode what was pasted"
    else:
        text = f"{count} invoices: {count - failed} decoded, {failed} with an error"
    parts = [f"<b>{html.escape(text)}</b>"]
    if found.looked_like_none:
        parts.append(
            _note(
                "Nothing in it looks like an invoice: a BOLT11 invoice starts with ln (lnbc…, lntb…) "
                "and has no spaces."
            )
        )
    if found.ignored:
        words = ", ".join(shorten(word, 12, 4) for word in found.ignored[:5])
        more = f" and {len(found.ignored) - 5} more" if len(found.ignored) > 5 else ""
        parts.append(
            _note(f"Left out {len(found.ignored)} word(s) that do not look like invoices: {words}{more}")
        )
    return "".join(parts)


def _note(text: str) -> str:
    return f'<div class="lnnotebook-note" style="color:#555">{html.escape(text)}</div>'


_TABLE = "border-collapse:collapse;width:100%;font-size:0.95em"
_TH = "text-align:left;padding:3px 8px;border-bottom:1px solid rgba(127,127,127,0.4);white-space:nowrap"
_TD = "text-align:left;padding:3px 8px;vertical-align:top;border:none;max-width:22em;overflow-wrap:anywhere"
_SCROLL_BOX = "max-width:100%;max-height:420px;overflow:auto;margin-top:6px"
_ROW_LIMIT = 500  # rows drawn in the widget; ``frame`` has them all


def failed_html(text: str, error: InvoiceError | None) -> str:
    """One pasted text that did not decode: the text (shortened) and the error, readable."""
    message = f"{type(error).__name__}: {error}" if error is not None else "not decoded"
    return (
        '<div class="lnnotebook-failed" style="margin-top:6px;max-width:100%;overflow-wrap:anywhere">'
        + error_html(message)
        + f'<div style="margin-top:4px">Pasted: {code_chip(shorten(text, 40, 12), title=text)}</div></div>'
    )


def candidates_html(texts: list[str], invoices: list[Invoice | None], errors: list) -> str:
    """Several pasted invoices as a compact table in its own scrolling box (``lnnotebook-summary-table``)."""
    e = html.escape
    heads = ["#", "Invoice", "Network", "Amount", "Description", "Expiry", "Payee"]
    rows = []
    for position, (text, invoice, error) in enumerate(zip(texts[:_ROW_LIMIT], invoices, errors)):
        zebra = "background:rgba(127,127,127,0.08);" if position % 2 else ""
        chip = code_chip(shorten(text, 14, 6), title=text)
        first = f'<td style="{_TD}">{position + 1}</td><td style="{_TD}">{chip}</td>'
        if invoice is None:
            message = f"{type(error).__name__}: {error}"
            cells = (
                f'<td colspan="{len(heads) - 2}" class="lnnotebook-error" style="{_TD}max-width:none;'
                f'color:#c62828;font-weight:600">{e(message)}</td>'
            )
        else:
            cells = "".join(f'<td style="{_TD}">{value}</td>' for value in _invoice_cells(invoice))
        rows.append(f'<tr style="{zebra}">{first}{cells}</tr>')
    more = ""
    if len(texts) > _ROW_LIMIT:
        more = _note(f"The first {_ROW_LIMIT:,} of {len(texts):,} are shown; decoder.frame has them all.")
    header = "".join(f'<th style="{_TH}">{e(head)}</th>' for head in heads)
    return (
        f'<div class="lnnotebook-summary-table" style="{_SCROLL_BOX}"><table style="{_TABLE}">'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def _invoice_cells(invoice: Invoice) -> list[str]:
    e = html.escape
    amount = e(format_amount(invoice.amount_msat))
    hint = amount_hint(invoice.amount_msat)
    if hint is not None:
        amount += f'<br><span style="color:#c62828">{e(hint)}</span>'
    if invoice.description is not None:
        description = e(shorten(invoice.description, 60, 0)) if invoice.description else "<i>(empty)</i>"
    else:
        description = "<i>hash</i>" if invoice.description_hash else "<i>none</i>"
    payee = code_chip(shorten(invoice.payee, 8, 4), title=invoice.payee) if invoice.payee else "<i>—</i>"
    return [e(invoice.network), f"<b>{amount}</b>", description, e(time_left(invoice)), payee]


def hops_html(hops: pd.DataFrame) -> str:
    """The route-hint hops (rows of ``hops_frame`` that are hops) as a compact scrolling table."""
    e = html.escape
    heads = ["Invoice", "Route", "Hop", "Node", "Channel", "Base fee (msat)", "Fee (ppm)", "CLTV delta"]
    rows = []
    for position, (key, hop) in enumerate(hops.head(_ROW_LIMIT).iterrows()):
        invoice, route, number = key[0] + 1 if isinstance(key[0], int) else key[0], key[-2], key[-1]
        zebra = "background:rgba(127,127,127,0.08);" if position % 2 else ""
        values = [
            e(str(invoice)),
            e(str(route)),
            e(str(number)),
            code_chip(shorten(hop["pubkey"], 8, 4), title=hop["pubkey"]),
            e(hop["short_channel_id"]),
            e(f"{hop['fee_base_msat']:,}"),
            e(f"{hop['fee_proportional_millionths']:,}"),
            e(f"{hop['cltv_expiry_delta']:,}"),
        ]
        rows.append(
            f'<tr style="{zebra}">' + "".join(f'<td style="{_TD}">{v}</td>' for v in values) + "</tr>"
        )
    header = "".join(f'<th style="{_TH}">{e(head)}</th>' for head in heads)
    return (
        f'<div style="margin-top:8px"><b>Route hints</b> ({len(hops):,} hop{"s" if len(hops) != 1 else ""})'
        f'<div style="{_SCROLL_BOX}"><table style="{_TABLE}"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></div>"
    )


def frame_html(frame: pd.DataFrame, title: str) -> str:
    """A DataFrame as an escaped, horizontally scrollable HTML table under a heading."""
    max_rows = pd.get_option("display.max_rows")
    table = frame.to_html(escape=True, max_rows=max_rows, show_dimensions=True, na_rep="<NA>", border=0)
    return (
        f'<div style="margin-top:8px"><b>{html.escape(title)}</b>'
        f'<div style="overflow-x:auto;max-width:100%">{table}</div></div>'
    )


def decoder() -> Decoder:
    """Paste one or many invoices and click Decode: one shows as its card (QR code, amount, expiry,
    payee, hints), several as a compact table; what failed shows its pasted text and its error.

    Returns the ``Decoder`` (a ``VBox``); ``decoder.frame`` is the ``decode_frame`` of what was pasted.
    """
    return Decoder()


# --- dashboard -------------------------------------------------------------------------------------


class Dashboard(widgets.VBox):
    """Create invoices at several providers and compare them. Built by ``dashboard``.

    Parts: ``providers`` (SelectMultiple, all selected at first; ``providers_hint`` says how to pick
    several), ``amount`` (``AmountText``, whole sat as in the form), ``memo`` (Text, the invoices'
    description), ``repeat`` (BoundedIntText, invoices per provider), ``create_button``, ``clear_button``,
    ``progress`` (IntProgress, one step per invoice), ``message`` (HTML: summary or red error),
    ``output`` (Output: the ``compare`` table and the ``plot.dashboard`` chart). Every click adds its
    invoices to ``frame`` (all invoices so far, a ``create_invoices``-style frame); ``table`` is the
    last ``compare(frame)`` and ``figure`` the last chart. ``sandbox`` as in ``InvoiceForm``.
    """

    def __init__(self, providers: ProvidersSpec = None) -> None:
        pool = ProviderPool(providers)
        self._pool = pool
        self.sandbox: Sandbox | None = pool.sandbox
        self.frame: pd.DataFrame | None = None
        self.table: pd.DataFrame | None = None
        self.figure: Any = None  # a matplotlib Figure once drawn (matplotlib loads on first draw)
        self.providers = _styled(
            widgets.SelectMultiple(
                options=pool.labels,
                value=pool.labels,
                rows=min(len(pool.labels), 6),
                description="Providers",
                style=_LABEL_STYLE,
            ),
            "lnnotebook-providers",
        )
        self.providers_hint = widgets.HTML(
            _hint("Ctrl-click (⌘-click on a Mac) to pick several providers, Shift-click for a range")
        )
        self.amount = _styled(
            AmountText(
                value=1_000, placeholder="e.g. 21,000", description="Amount (sat)", style=_LABEL_STYLE
            ),
            "lnnotebook-amount",
        )
        self.memo = _styled(
            widgets.Text(value="", placeholder="what they are for", description="Memo", style=_LABEL_STYLE),
            "lnnotebook-memo",
        )
        self.repeat = _styled(
            widgets.BoundedIntText(value=3, min=1, max=100, description="Repeat", style=_LABEL_STYLE),
            "lnnotebook-repeat",
        )
        self.create_button = _styled(
            _button("Create and compare", button_style="primary", icon="bolt"),
            "lnnotebook-create",
        )
        self.clear_button = _styled(_button("Clear", icon="trash"), "lnnotebook-clear")
        self.progress = _styled(
            widgets.IntProgress(value=0, min=0, max=1, description="0/0", style=_LABEL_STYLE),
            "lnnotebook-progress",
        )
        self.message = _styled(widgets.HTML(), "lnnotebook-message")
        self.output = _styled(widgets.Output(), "lnnotebook-output")
        self.create_button.on_click(lambda _button: self.create())
        self.clear_button.on_click(lambda _button: self.clear())
        super().__init__(
            [
                self.providers,
                self.providers_hint,
                self.amount,
                self.memo,
                self.repeat,
                widgets.HBox([self.create_button, self.clear_button]),
                self.progress,
                self.message,
                self.output,
            ]
        )
        self.add_class("lnnotebook-dashboard")

    def create(self) -> pd.DataFrame | None:
        """What a click does: create the invoices, add them to ``frame`` and redraw; returns this batch."""
        chosen = list(self.providers.value)
        if not chosen:
            self.message.value = error_html("Pick at least one provider.")
            return None
        try:
            amount = parse_amount(self.amount.value)  # each provider's own limits are its answer
        except FormInputError as error:
            self.message.value = error_html(str(error))
            return None
        self._busy(True)
        label: str | None = None
        try:
            clients = []
            for label in chosen:
                clients.append((label, self._pool.client(label)))
            label = None
            batch = self._create_batch(clients, amount, self.memo.value or None, self.repeat.value)
            self.frame = batch if self.frame is None else pd.concat([self.frame, batch], ignore_index=True)
            self._redraw()
        except Exception as exc:  # a broken provider or chart must not leave a traceback in the widget
            self.progress.bar_style = "danger"
            self.message.value = error_html(_report(exc, label))
            return None
        finally:
            self._busy(False)
        failed = batch[batch["error"].notna()]
        text = f"Created {len(batch) - len(failed)} of {len(batch)} invoices"
        self.message.value = f"<b>{html.escape(text)}</b>" + "".join(
            error_html(message) for message in pd.unique(failed["error"].astype(object))[:5]
        )
        self.progress.bar_style = "success" if failed.empty else "warning"
        return batch

    def clear(self) -> None:
        """Forget the invoices collected so far (they stay in the ledger)."""
        self.frame = self.table = self.figure = None
        self.output.outputs = ()
        self.message.value = ""
        self.progress.value, self.progress.description, self.progress.bar_style = 0, "0/0", ""

    def close(self) -> None:
        """Close the widget and whatever it opened (its own sandbox, clients connected by name)."""
        pool = getattr(self, "_pool", None)  # absent when __init__ failed (ipywidgets closes on __del__)
        if pool is not None:
            pool.close()
        super().close()

    def _busy(self, busy: bool) -> None:
        self.create_button.disabled = self.clear_button.disabled = busy

    def _create_batch(
        self, clients: list[tuple[str, Provider]], amount_sat: int, memo: str | None, repeat: int
    ) -> pd.DataFrame:
        """``create_invoices`` one invoice at a time over a thread pool, so the bar moves per invoice."""
        jobs = [
            (round_, position, client)
            for round_ in range(repeat)
            for position, (_, client) in enumerate(clients)
        ]
        self.progress.bar_style = "info"
        self.progress.max = max(1, len(jobs))
        self.progress.value = 0
        self.progress.description = f"0/{len(jobs)}"
        frames: dict[tuple[int, int], pd.DataFrame] = {}
        with ThreadPoolExecutor(max_workers=min(_DASHBOARD_WORKERS, len(jobs))) as pool:
            futures = {
                pool.submit(create_invoices, client, amount_sat, memo, None, progress=False): (
                    round_,
                    position,
                )
                for round_, position, client in jobs
            }
            # Widget updates stay on this (the kernel's) thread; workers only make requests.
            for future in as_completed(futures):
                frames[futures[future]] = future.result()
                self.progress.value = len(frames)
                self.progress.description = f"{len(frames)}/{len(jobs)}"
        ordered = [frames[key].assign(repeat=key[0]) for key in sorted(frames)]  # create_invoices' order
        batch = pd.concat(ordered, ignore_index=True)
        batch["repeat"] = batch["repeat"].astype("Int64")
        return batch

    def _redraw(self) -> None:
        from lnnotebook import plot

        assert self.frame is not None
        self.table = compare(self.frame)
        self.figure = plot.dashboard(self.frame)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        table_text = comparison_view(self.table)
        self.output.outputs = (
            {
                "output_type": "display_data",
                "data": {
                    "text/html": comparison_html(self.table),
                    "text/plain": table_text.to_string(),
                },
                "metadata": {},
            },
            {
                "output_type": "display_data",
                "data": {
                    "image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                    "text/plain": "<comparison chart>",
                },
                "metadata": {},
            },
        )


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """The ``compare`` table for reading (``lnnotebook.comparison.comparison_view``): one column per
    provider, numbers formatted, ``—`` for missing."""
    return comparison_view(table)


def dashboard(providers: ProvidersSpec = None) -> Dashboard:
    """Pick providers, an amount and a repeat count; Create makes the invoices with a progress bar
    and redraws the ``compare`` table and the ``plot.dashboard`` chart below.

    ``providers=None`` starts a sandbox owned by the dashboard (see the module docstring). Invoices
    accumulate across clicks (``Clear`` forgets them). Returns the ``Dashboard`` (a ``VBox``).
    """
    return Dashboard(providers)


__all__ = [
    "AmountText",
    "Dashboard",
    "Decoder",
    "FormInputError",
    "FoundInvoices",
    "InvoiceForm",
    "ProviderPool",
    "candidates_html",
    "comparison_table",
    "dashboard",
    "decoder",
    "error_message",
    "failed_html",
    "find_invoices",
    "frame_html",
    "hops_html",
    "invoice_form",
    "parse_amount",
    "split_invoices",
]
