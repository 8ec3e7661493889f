"""Widgets driven in-process against real sandboxes: set values, click, read what the user would see."""

from __future__ import annotations

import base64
import html
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import lnnotebook as ln  # noqa: E402
from lnnotebook import display, widgets  # noqa: E402
from lnnotebook.providers.base import CreatedInvoice  # noqa: E402

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def sb():
    with ln.sandbox(seed="widgets", tazapay_bolt11_field=None) as box:
        yield box


def shows_qr(markup: str) -> bool:
    return '<img class="lnnotebook-qr" src="data:image/png;base64,' in markup


def red_error(markup: str) -> bool:
    return 'class="lnnotebook-error"' in markup and "Traceback" not in markup


# --- invoice form ----------------------------------------------------------------------------------


def test_form_with_its_own_sandbox_creates_an_invoice_with_a_qr_code():
    form = ln.widgets.invoice_form()
    try:
        assert isinstance(form, widgets.InvoiceForm) and form.sandbox is not None
        assert list(form.provider.options) == form.sandbox.names()
        assert (
            "lnnotebook-form" in form._dom_classes and "lnnotebook-create" in form.create_button._dom_classes
        )
        form.provider.value = "lnpay"
        form.amount.value = 2_100
        form.memo.value = HOSTILE
        form.expiry.value = "600"
        form.create_button.click()
        assert form.error is None and isinstance(form.invoice, CreatedInvoice)
        markup = form.result.value
        assert shows_qr(markup) and "2,100 sat" in markup and "10 min" in markup
        assert "<script" not in markup and html.escape(HOSTILE) in markup
        assert not form.create_button.disabled
        history = ln.history()  # the private LNNOTEBOOK_HOME of this test
        assert form.invoice.provider_id in set(history["provider_id"])
    finally:
        form.close()
    assert "stopped" in repr(form.sandbox)  # the form owned its sandbox


def test_bad_amount_is_a_short_red_message(sb):
    form = ln.widgets.invoice_form(sb)
    form.provider.value = "barkd"
    form.amount.value = 0
    form.create_button.click()
    assert red_error(form.result.value) and not shows_qr(form.result.value)
    assert form.error == "amount must be between 1 and 2,100,000,000,000,000 sat; 0 is not"
    assert "\n" not in form.error and form.invoice is None and not form.create_button.disabled
    form.close()
    assert "running" in repr(sb)  # a sandbox passed in is left running


@pytest.mark.parametrize("typed", ["1.5", "1,5", "0.5", "21000.0", "1e3", "-5", "12 sat", "1,00"])
def test_amount_field_never_changes_the_number_typed(sb, typed):
    form = ln.widgets.invoice_form(sb)
    form.provider.value = "lnpay"
    form.amount.value = typed
    assert red_error(form.amount_hint.value), "said while typing, before any click"
    form.create_button.click()
    assert form.invoice is None and red_error(form.result.value) and not shows_qr(form.result.value)
    assert form.error.startswith("amount must be a whole number of sat"), form.error
    if "." in typed:
        assert "has a fraction" in form.error
    assert sb.minted("lnpay") == 0, "nothing was sent"


@pytest.mark.parametrize(
    ("typed", "sat"),
    [("21000", 21_000), ("21,000", 21_000), (" 2 100 000 ", 2_100_000), ("1_000", 1_000), (4242, 4242)],
)
def test_amount_field_takes_digits_with_thousands_separators(sb, typed, sat):
    form = ln.widgets.invoice_form(sb)
    form.provider.value = "lnpay"
    form.amount.value = typed
    assert f"{sat:,} sat" in form.amount_hint.value
    form.create_button.click()
    assert form.error is None and form.invoice.amount_sat == sat
    assert widgets.parse_amount(typed) == sat


def test_expiry_is_disabled_for_a_provider_whose_client_cannot_take_it(sb):
    form = ln.widgets.invoice_form(sb)
    form.provider.value = "barkd"
    assert type(form._pool.client("barkd")).supports_expiry is False
    assert form.expiry.disabled and "cannot set an expiry" in form.expiry_hint.value
    form.provider.value = "lnpay"
    assert not form.expiry.disabled and form.expiry_hint.value == ""
    form.provider.value = "barkd"
    form.expiry.value = "60"  # a disabled field is not sent
    form.create_button.click()
    assert form.error is None and form.invoice is not None


def test_a_provider_without_expiry_is_told_by_its_class_not_its_name(sb):
    from lnnotebook.providers import provider_class, register_provider, unregister_provider

    no_expiry = type("NoExpiryLnpay", (provider_class("lnpay"),), {"supports_expiry": False})
    register_provider("no-expiry", no_expiry)
    try:
        form = ln.widgets.invoice_form(["lnpay", "no-expiry"])  # by name: not connected yet
        form.provider.value = "no-expiry"
        assert form.expiry.disabled
        form.provider.value = "lnpay"
        assert not form.expiry.disabled
    finally:
        unregister_provider("no-expiry")


def test_bad_expiry_text_and_provider_rejections(sb):
    form = ln.widgets.invoice_form(sb)
    form.provider.value = "lnpay"  # barkd, the first, takes no expiry: its field is disabled
    form.expiry.value = "ten minutes"
    form.create_button.click()
    assert (
        form.error == "expiry must be a whole number of seconds, or empty for the default; got 'ten minutes'"
    )
    assert red_error(form.result.value)


def test_button_is_disabled_while_the_request_runs(monkeypatch):
    with ln.sandbox(latency=0.2, providers=["lnpay"]) as slow:
        client = slow.connect("lnpay")
        form = ln.widgets.invoice_form([client])
        seen = []
        create = client.create_invoice

        def observed(*args, **kwargs):
            seen.append((form.create_button.disabled, form.result.value))
            return create(*args, **kwargs)

        monkeypatch.setattr(client, "create_invoice", observed)
        form.create_button.click()
        assert len(seen) == 1
        disabled, busy_text = seen[0]
        assert disabled and "Creating an invoice at lnpay" in busy_text
        assert not form.create_button.disabled and shows_qr(form.result.value)

        def broken(*args, **kwargs):
            seen.append(form.create_button.disabled)
            raise RuntimeError("boom")

        monkeypatch.setattr(client, "create_invoice", broken)
        form.create_button.click()
        assert seen[-1] is True and not form.create_button.disabled
        assert form.error == "lnpay: RuntimeError: boom" and red_error(form.result.value)


def test_errors_never_show_a_credential(sb, monkeypatch):
    client = sb.connect("lnpay")
    secret = next(iter(sb.credentials("lnpay").values()))

    def leaky(*args, **kwargs):
        raise RuntimeError(f"upstream said: bad key {secret}\nand a second line")

    monkeypatch.setattr(client, "create_invoice", leaky)
    form = ln.widgets.invoice_form([client])
    form.create_button.click()
    assert secret not in form.result.value and "***" in form.error and "second line" not in form.error


def test_provider_names_connect_on_first_use(sb, monkeypatch):
    form = ln.widgets.invoice_form(["lnpay"])  # no credentials in the environment yet: still builds
    form.create_button.click()
    assert (
        form.error.startswith("lnpay: ") and "LNNOTEBOOK_LNPAY" in form.error and red_error(form.result.value)
    )
    for variable, value in sb.env().items():
        monkeypatch.setenv(variable, value)
    form.create_button.click()
    assert form.error is None and shows_qr(form.result.value)
    client = form._pool.client("lnpay")
    form.close()
    with pytest.raises(ln.ProviderError, match="closed"):
        client.create_invoice(1)


def test_invoice_created_but_not_saved_is_still_shown(sb, monkeypatch):
    client = sb.connect("lnpay")

    class FullDisk:
        def record(self, invoice):
            raise ln.LedgerError("could not save the invoice: disk I/O error", invoice)

    monkeypatch.setattr(client, "recorder", FullDisk())
    form = ln.widgets.invoice_form([client])
    form.create_button.click()
    assert form.error == "lnpay: LedgerError: could not save the invoice: disk I/O error"
    assert (
        isinstance(form.invoice, CreatedInvoice)
        and red_error(form.result.value)
        and shows_qr(form.result.value)
    )


def test_provider_without_bolt11_shows_its_note(sb):
    form = ln.widgets.invoice_form([sb.connect("tazapay")])
    form.create_button.click()
    assert form.error is None and form.invoice.bolt11 is None
    assert 'class="lnnotebook-note"' in form.result.value and not shows_qr(form.result.value)


def test_duplicate_providers_get_distinct_labels(sb):
    form = ln.widgets.invoice_form([sb.connect("lnpay"), sb.connect("lnpay"), "barkd"])
    assert list(form.provider.options) == ["lnpay", "lnpay (2)", "barkd"]
    with pytest.raises(ValueError, match="at least one provider"):
        ln.widgets.invoice_form([])
    with pytest.raises(TypeError, match="Provider clients or names"):
        ln.widgets.invoice_form([42])


# --- decoder ---------------------------------------------------------------------------------------


def test_decoder_with_valid_and_invalid_lines(sb):
    made = sb.connect("lnpay").create_invoice(1_500, HOSTILE)
    other = sb.connect("barkd").create_invoice(700, "second")
    pasted = "\n".join(
        [
            "# a comment line",
            made.bolt11,
            "",
            f"lightning:{other.bolt11.upper()},  not-an-invoice",
            f"  '{made.bolt11[:-1]}{'q' if made.bolt11[-1] != 'q' else 'p'}'  ",  # checksum broken
            HOSTILE,
        ]
    )
    box = ln.widgets.decoder()
    box.text.value = pasted
    box.decode_button.click()
    frame = box.frame
    # Words that do not look like invoices are left out, and said so; the damaged invoice is a row.
    assert len(frame) == 3 and not box.decode_button.disabled
    assert box.candidates[2].startswith("'") and box.candidates[1].startswith("lightning:")
    assert list(frame["error"].isna()) == [True, True, False]
    assert list(frame["amount_sat"][:2]) == [1_500, 700]
    assert frame.loc[2, "error_type"] == "ChecksumError"
    assert "3 invoices: 2 decoded, 1 with an error" in box.summary.value
    assert "Left out 2 word(s)" in box.summary.value and "not-an-invoice" in box.summary.value
    assert "<script" not in box.summary.value + box.invoices.value
    assert "&lt;script&gt;" in box.invoices.value  # the memo, escaped
    table = box.invoices.value
    assert 'class="lnnotebook-summary-table"' in table and "1,500 sat" in table and "700 sat" in table
    assert "ChecksumError: the bech32 checksum does not match" in table and red_error(table)
    assert html.escape(made.bolt11[:14]) in table  # the failed row's pasted text, shortened
    hops = box.hops_frame
    decoded = ln.decode(made.bolt11)
    assert list(hops.loc[0, "pubkey"]) == [hop.pubkey for route in decoded.route_hints for hop in route]
    assert decoded.route_hints[0][0].short_channel_id in box.hops.value
    assert hops.xs(2, level="invoice")["error_type"].tolist() == ["ChecksumError"]


def test_decoder_with_one_invoice_shows_its_card(sb):
    made = sb.connect("lnpay").create_invoice(21_000, "one coffee")
    box = ln.widgets.decoder()
    box.text.value = f'  "{made.bolt11}"\n'
    box.decode_button.click()
    card = box.invoices.value
    same = display.invoice_html(ln.decode(made.bolt11))  # the card ln.decode shows (up to the clock)
    assert card.split("lnnotebook-time-left")[0] == same.split("lnnotebook-time-left")[0]
    assert 'class="lnnotebook-invoice"' in card and shows_qr(card) and "21,000 sat" in card
    assert 'class="lnnotebook-sandbox"' in card and 'class="lnnotebook-copy"' in card
    assert "<table" in card and "0 rows" not in card + box.hops.value
    assert "1 invoice decoded" in box.summary.value and len(box.frame) == 1


def test_decoder_with_junk_shows_the_text_and_its_error():
    box = ln.widgets.decoder()
    box.text.value = "hello world, this is not an invoice"
    box.decode_button.click()
    assert len(box.frame) == 1 and box.candidates == ["hello world, this is not an invoice"]
    shown = box.invoices.value
    assert "hello world, this is not an invoice" in shown and red_error(shown)
    assert "FormatError: no &#x27;1&#x27; separator" in shown
    assert "Nothing in it looks like an invoice" in box.summary.value
    assert box.hops.value == ""


def test_decoder_amount_beyond_all_bitcoin_says_so():
    from lnnotebook.bolt11 import encode_invoice

    huge = encode_invoice(
        private_key="11" * 32,
        payment_hash="ab" * 32,
        payment_secret="cd" * 32,
        description="too much",
        amount_msat=10**19,  # beyond int64 msat too: the frame leaves it missing, the widget shows it
    )
    assert "21 million BTC" in display.invoice_html(ln.decode(huge))
    assert "21 million BTC" not in display.invoice_html(ln.decode(ln.sample_invoices()[1]))
    box = ln.widgets.decoder()
    box.text.value = f"{huge} {huge}"
    box.decode_button.click()
    assert "10,000,000,000,000,000 sat" in box.invoices.value and "21 million BTC" in box.invoices.value


def test_decoder_with_nothing_pasted():
    box = ln.widgets.decoder()
    box.text.value = "  \n# only a comment\n"
    box.decode_button.click()
    assert red_error(box.summary.value) and box.frame is None and box.invoices.value == ""


def test_split_invoices():
    long = "x" * 40
    text = f"pay lnbc1abc, LNTB1DEF;'lnbcrt1q'\n# lnbc1comment\n\"lightning:lnbc1z\" thanks {long}"
    assert widgets.split_invoices(text) == ["lnbc1abc", "LNTB1DEF", "'lnbcrt1q'", '"lightning:lnbc1z"', long]
    found = widgets.find_invoices(text)
    assert found.ignored == ["pay", "thanks"] and not found.looked_like_none
    assert widgets.find_invoices("a b, c").candidates == ["a b, c"]
    assert widgets.find_invoices("  \n# only\n").candidates == []


def test_what_the_decoder_accepts_ln_decode_accepts():
    """Every candidate is passed as pasted, so the widget and ln.decode agree by construction."""
    spec = ln.sample_invoices()[1]
    for pasted in (
        f'"{spec}"',
        f"'{spec}'",
        f"`{spec}`",
        f"\u201c{spec}\u201d",
        f"lightning:{spec.upper()}",
        f"bitcoin:bc1qexample?amount=0.001&lightning={spec}",
    ):
        (candidate,) = widgets.split_invoices(f"  {pasted},\n")
        assert candidate == pasted and ln.decode(candidate).bolt11 == spec


# --- dashboard -------------------------------------------------------------------------------------


def test_dashboard_end_to_end_with_two_providers(sb, monkeypatch):
    clients = [sb.connect("barkd"), sb.connect("lnpay")]
    board = ln.widgets.dashboard(clients)
    assert list(board.providers.value) == ["barkd", "lnpay"]
    steps, disabled = [], []
    board.progress.observe(lambda change: steps.append(change["new"]), "value")
    create = clients[0].create_invoice

    def observed(*args, **kwargs):
        disabled.append((board.create_button.disabled, board.clear_button.disabled))
        return create(*args, **kwargs)

    monkeypatch.setattr(clients[0], "create_invoice", observed)
    board.amount.value = 5_000
    board.repeat.value = 3
    board.create_button.click()

    assert board.progress.max == 6 and board.progress.value == 6 and board.progress.description == "6/6"
    assert steps[-6:] == [1, 2, 3, 4, 5, 6] and board.progress.bar_style == "success"
    assert disabled == [(True, True)] * 3 and not board.create_button.disabled
    frame = board.frame
    assert len(frame) == 6 and list(frame["provider"]) == ["barkd", "lnpay"] * 3
    assert list(frame["repeat"]) == [0, 0, 1, 1, 2, 2] and frame["repeat"].dtype == "Int64"
    assert frame["error"].isna().all() and (frame["invoice_amount_sat"] == 5_000).all()
    assert list(board.table.index) == ["barkd", "lnpay"] and (board.table["invoices"] == 3).all()
    pd.testing.assert_frame_equal(board.table, ln.compare(frame))
    table_output, chart_output = board.output.outputs
    assert (
        "route_fee_ppm_mean" in table_output["data"]["text/html"]
        and "barkd" in table_output["data"]["text/html"]
    )
    assert base64.b64decode(chart_output["data"]["image/png"]).startswith(b"\x89PNG")
    assert [text.get_text() for text in board.figure.legends[0].get_texts()] == ["barkd", "lnpay"]
    assert "Created 6 of 6 invoices" in board.message.value

    board.repeat.value = 1
    board.create_button.click()  # invoices accumulate
    assert len(board.frame) == 8 and (board.table["invoices"] == 4).all()
    board.clear()
    assert board.frame is None and board.output.outputs == () and board.progress.value == 0


def test_dashboard_failures_are_counted_and_shown(sb):
    board = ln.widgets.dashboard([sb.connect("barkd"), sb.connect("lnpay")])
    board.amount.value = "1.5"  # refused before anything is sent
    board.create_button.click()
    assert board.frame is None and "has a fraction" in board.message.value and red_error(board.message.value)
    board.amount.value = "2,000"
    board.memo.value = "batch memo"
    board.repeat.value = 2
    sb.inject("barkd", "401", times=2)
    sb.inject("lnpay", "401", times=2)
    board.create_button.click()
    assert (board.table["failures"] == 2).all() and (board.table["invoices"] == 0).all()
    assert red_error(board.message.value) and "barkd:" in board.message.value
    assert board.progress.bar_style == "warning" and len(board.output.outputs) == 2
    board.repeat.value = 1
    board.create_button.click()
    assert (board.frame["memo"].dropna() == "batch memo").all() and board.frame["error"].isna().sum() == 2
    assert "Ctrl-click" in board.providers_hint.value


def test_dashboard_with_its_own_sandbox_and_no_selection():
    board = ln.widgets.dashboard()
    try:
        assert list(board.providers.value) == board.sandbox.names()
        board.providers.value = ()
        board.create_button.click()
        assert red_error(board.message.value) and board.frame is None
        board.providers.value = ("lnpay-legacy",)
        board.repeat.value = 1
        board.create_button.click()
        assert (
            list(board.table.index) == ["lnpay-legacy"] and board.table.loc["lnpay-legacy", "invoices"] == 1
        )
    finally:
        board.close()
    assert "stopped" in repr(board.sandbox)


def test_comparison_table_formatting():
    table = pd.DataFrame(
        {"invoices": pd.array([3, None], dtype="Int64"), "fee": pd.array([1234.5, 0.25], dtype="Float64")},
        index=pd.Index(["a", "b"], name="provider"),
    )
    shown = widgets.comparison_table(table)
    assert shown.loc["invoices"].tolist() == ["3", "—"] and shown.loc["fee"].tolist() == ["1,234.5", "0.25"]


def test_widgets_are_imported_only_on_use():
    code = (
        "import sys, lnnotebook as ln\n"
        "assert not {'ipywidgets', 'IPython'} & {m.split('.')[0] for m in sys.modules}\n"
        "assert callable(ln.widgets.invoice_form) and 'ipywidgets' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_form_input_errors_share_the_root_and_stay_value_errors():
    assert issubclass(widgets.FormInputError, ln.LnnotebookError)
    assert issubclass(widgets.FormInputError, ValueError)
