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

* form: ``lnnotebook-form``, ``lnnotebook-provider``, ``lnnotebook-amount``, ``lnnotebook-memo``,
  ``lnnotebook-expiry``, ``lnnotebook-create``, ``lnnotebook-result``; inside the result,
  ``lnnotebook-invoice``, ``lnnotebook-qr`` (the QR ``<img>``) or ``lnnotebook-error``;
* decoder: ``lnnotebook-decoder``, ``lnnotebook-decoder-input``, ``lnnotebook-decode``,
  ``lnnotebook-summary``, ``lnnotebook-decoded``, ``lnnotebook-hops``;
* dashboard: ``lnnotebook-dashboard``, ``lnnotebook-providers``, ``lnnotebook-amount``,
  ``lnnotebook-repeat``, ``lnnotebook-create``, ``lnnotebook-clear``, ``lnnotebook-progress``,
  ``lnnotebook-message``, ``lnnotebook-output``.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import ipywidgets as widgets
import pandas as pd

from lnnotebook.comparison import compare
from lnnotebook.display import created_invoice_html, error_html
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


def _parse_expiry(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]+", text):
        raise FormInputError(
            f"expiry must be a whole number of seconds, or empty for the default; got {text[:40]!r}"
        )
    return int(text)


# --- invoice form ----------------------------------------------------------------------------------


class InvoiceForm(widgets.VBox):
    """Create one invoice and see it with its QR code. Built by ``invoice_form``.

    Parts: ``provider`` (Dropdown of provider labels), ``amount`` (IntText, sat), ``memo`` (Text),
    ``expiry`` (Text: whole seconds, empty for the provider's default), ``create_button``, ``result``
    (HTML: the created invoice, or a red ``lnnotebook-error`` message). After a click, ``invoice`` is
    the ``CreatedInvoice`` (None after an error) and ``error`` the message shown (None after success);
    an invoice created but not saved to the ledger (``LedgerError``) sets both and shows both.
    ``sandbox`` is the sandbox the form started or was given, else None.
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
            widgets.IntText(value=1_000, description="Amount (sat)", style=_LABEL_STYLE), "lnnotebook-amount"
        )
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
        self.create_button = _styled(
            _button("Create invoice", button_style="primary", icon="bolt"),
            "lnnotebook-create",
        )
        self.result = _styled(widgets.HTML(value=""), "lnnotebook-result")
        self.create_button.on_click(lambda _button: self.create())
        super().__init__(
            [self.provider, self.amount, self.memo, self.expiry, self.create_button, self.result]
        )
        self.add_class("lnnotebook-form")

    def create(self) -> CreatedInvoice | None:
        """What a click does: create the invoice from the fields and show it (or the error)."""
        label = self.provider.value
        self.create_button.disabled = True
        self.result.value = _BUSY_HTML.format(html.escape(f"Creating an invoice at {label}…"))
        try:
            try:
                expiry = _parse_expiry(self.expiry.value)
                client = self._pool.client(label)
                invoice = client.create_invoice(self.amount.value, self.memo.value or None, expiry)
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

    Parts: ``text`` (Textarea; invoices separated by whitespace, newlines or commas, ``lightning:``
    and ``bitcoin:`` URIs accepted), ``decode_button``, ``summary`` (HTML), ``invoices`` (HTML: the
    ``decode_frame(errors="coerce")`` table), ``hops`` (HTML: the ``hops_frame`` table). After a
    click, ``frame`` and ``hops_frame`` hold those DataFrames.
    """

    def __init__(self) -> None:
        self.frame: pd.DataFrame | None = None
        self.hops_frame: pd.DataFrame | None = None
        self.text = _styled(
            widgets.Textarea(
                value="",
                placeholder="Paste one or more BOLT11 invoices, one per line",
                layout=widgets.Layout(width="100%", height="120px"),
            ),
            "lnnotebook-decoder-input",
        )
        self.decode_button = _styled(
            _button("Decode", button_style="primary", icon="search"), "lnnotebook-decode"
        )
        self.summary = _styled(widgets.HTML(), "lnnotebook-summary")
        self.invoices = _styled(widgets.HTML(), "lnnotebook-decoded")
        self.hops = _styled(widgets.HTML(), "lnnotebook-hops")
        self.decode_button.on_click(lambda _button: self.decode())
        super().__init__([self.text, self.decode_button, self.summary, self.invoices, self.hops])
        self.add_class("lnnotebook-decoder")

    def decode(self) -> pd.DataFrame | None:
        """What a click does: decode the pasted invoices and show both tables."""
        self.decode_button.disabled = True
        try:
            texts = split_invoices(self.text.value)
            if not texts:
                self._clear(error_html("Paste at least one invoice."))
                return None
            frame = decode_frame(texts, errors="coerce")
            hops = hops_frame(texts, errors="coerce")
        except Exception as exc:  # decode_frame with errors="coerce" should not raise; show it if it does
            self._clear(error_html(_report(exc)))
            return None
        finally:
            self.decode_button.disabled = False
        self.frame, self.hops_frame = frame, hops
        failed = int(frame["error"].notna().sum())
        hop_rows = int(hops["pubkey"].notna().sum())
        summary = (
            f"{len(frame)} invoice{'s' if len(frame) != 1 else ''}: {len(frame) - failed} decoded, "
            f"{failed} with an error; {hop_rows} route-hint hop{'s' if hop_rows != 1 else ''}"
        )
        self.summary.value = f"<b>{html.escape(summary)}</b>" + (
            error_html(f"{failed} could not be decoded: see the error column") if failed else ""
        )
        self.invoices.value = frame_html(frame, "Invoices")
        self.hops.value = frame_html(hops, "Route hints (one row per hop)")
        return frame

    def _clear(self, message: str) -> None:
        self.frame = self.hops_frame = None
        self.summary.value = message
        self.invoices.value = self.hops.value = ""


def split_invoices(text: str) -> list[str]:
    """The invoices in pasted text: split on whitespace and commas, surrounding quotes dropped,
    lines starting with ``#`` skipped (as in ``data/sample_invoices.txt``)."""
    lines = (line for line in text.splitlines() if not line.lstrip().startswith("#"))
    tokens = (token.strip("\"'`;") for line in lines for token in re.split(r"[\s,]+", line))
    return [token for token in tokens if token]


def frame_html(frame: pd.DataFrame, title: str) -> str:
    """A DataFrame as an escaped, horizontally scrollable HTML table under a heading."""
    max_rows = pd.get_option("display.max_rows")
    table = frame.to_html(escape=True, max_rows=max_rows, show_dimensions=True, na_rep="<NA>", border=0)
    return (
        f'<div style="margin-top:8px"><b>{html.escape(title)}</b>'
        f'<div style="overflow-x:auto;max-width:100%">{table}</div></div>'
    )


def decoder() -> Decoder:
    """Paste one or many invoices, click Decode, see the ``decode_frame`` table and the hops table.

    Returns the ``Decoder`` (a ``VBox``); invalid lines show in the table's ``error`` column.
    """
    return Decoder()


# --- dashboard -------------------------------------------------------------------------------------


class Dashboard(widgets.VBox):
    """Create invoices at several providers and compare them. Built by ``dashboard``.

    Parts: ``providers`` (SelectMultiple, all selected at first), ``amount`` (IntText, sat),
    ``repeat`` (BoundedIntText, invoices per provider), ``create_button``, ``clear_button``,
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
        self.amount = _styled(
            widgets.IntText(value=1_000, description="Amount (sat)", style=_LABEL_STYLE), "lnnotebook-amount"
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
                self.amount,
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
        self._busy(True)
        label: str | None = None
        try:
            clients = []
            for label in chosen:
                clients.append((label, self._pool.client(label)))
            label = None
            batch = self._create_batch(clients, self.amount.value, self.repeat.value)
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
        self, clients: list[tuple[str, Provider]], amount_sat: int, repeat: int
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
                pool.submit(create_invoices, client, amount_sat, None, None, progress=False): (
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
        table_text = comparison_table(self.table)
        self.output.outputs = (
            {
                "output_type": "display_data",
                "data": {
                    "text/html": table_text.to_html(escape=True, border=0),
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
    """The ``compare`` table for reading: one column per provider, numbers formatted, ``—`` for missing."""
    formatted = pd.DataFrame(
        {column: [_format_number(value) for value in table[column].tolist()] for column in table.columns},
        index=table.index.astype(object),
    )
    return formatted.T


def _format_number(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) >= 0.001 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def dashboard(providers: ProvidersSpec = None) -> Dashboard:
    """Pick providers, an amount and a repeat count; Create makes the invoices with a progress bar
    and redraws the ``compare`` table and the ``plot.dashboard`` chart below.

    ``providers=None`` starts a sandbox owned by the dashboard (see the module docstring). Invoices
    accumulate across clicks (``Clear`` forgets them). Returns the ``Dashboard`` (a ``VBox``).
    """
    return Dashboard(providers)


__all__ = [
    "Dashboard",
    "Decoder",
    "InvoiceForm",
    "ProviderPool",
    "comparison_table",
    "dashboard",
    "decoder",
    "error_message",
    "frame_html",
    "invoice_form",
    "split_invoices",
]
