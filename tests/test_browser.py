"""The invoice form and the decoder in a real JupyterLab, driven by a real headless Chromium (Debian's,
through Playwright).

One JupyterLab server (``tests/jupyter_server.py``) serves a temp copy of ``notebooks/`` on 127.0.0.1
with its own ``LNNOTEBOOK_HOME``. Chromium opens ``04_invoice_form.ipynb`` and runs all cells from the Run
menu. Then, as a person would:

1. types ``1.5`` as the amount and clicks *Create invoice*: no invoice, a clear red message;
2. fills in the form (provider, amount, memo), clicks *Create invoice* and waits for the invoice, its QR
   code and its sandbox badge; *Copy invoice* puts the invoice on the clipboard;
3. pastes that invoice into the decoder: its card shows, the amount visible without scrolling sideways;
4. pastes junk: the pasted text and its error are visible, no table of ``<NA>``.

A screenshot of each state goes to the test's temp folder and is copied to ``data/out/browser_*.png``.
Then the ledger in that ``LNNOTEBOOK_HOME`` must hold exactly the one invoice the browser created.

The browser cannot reach anything but loopback (``--host-resolver-rules``), and every request it makes
is recorded: any to another host fails the test. Chromium and JupyterLab are always stopped, also on
failure (``finally``), each by its own handle.

Skipped, with the reason, when ``/usr/bin/chromium`` (or ``$LNNOTEBOOK_CHROMIUM``) or the ``playwright``
package is missing, unless ``LNNOTEBOOK_REQUIRE_BROWSER`` is set (``.ci/run`` sets it): then it fails.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jupyter_server import running_jupyterlab

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("LNNOTEBOOK_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_VARIABLE = "LNNOTEBOOK_REQUIRE_BROWSER"
SCREENSHOTS = ROOT / "data" / "out"  # copies of browser_*.png for people to look at
NOTEBOOK = "04_invoice_form.ipynb"
CHROMIUM_ARGS = [
    "--no-sandbox",  # needed as root (CI); the page is our own loopback server
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
WAIT_MS = 60_000  # any single wait: page load, kernel start, widget render, invoice
PROVIDER = "lnpay"  # not the first in the list, so choosing it is part of the test
AMOUNT_SAT = 4242
MEMO = "paid from a headless browser"
JUNK = "hello world, this is not an invoice"


def _required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def _unavailable() -> str | None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the playwright package is missing ({exc}; make test installs it)"
    return None


def require_browser() -> None:
    reason = _unavailable()
    if reason is not None:
        if _required():
            pytest.fail(f"{REQUIRE_VARIABLE} is set, but {reason}")
        pytest.skip(f"{reason}; set {REQUIRE_VARIABLE}=1 to make this a failure")


def horizontal_scroll(locator) -> int:
    """How far every scrolling ancestor of the element is scrolled sideways (0: nothing scrolled)."""
    return locator.evaluate(
        "el => { let total = 0; for (let node = el; node; node = node.parentElement) "
        "total += node.scrollLeft; return total + window.scrollX; }"
    )


def visible_within(locator, panel) -> bool:
    """The element is on screen, inside the notebook panel's width (no sideways scrolling needed)."""
    box, frame = locator.bounding_box(), panel.bounding_box()
    return bool(
        box
        and frame
        and box["width"] > 0
        and frame["x"] <= box["x"]
        and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
    )


def test_invoice_form_and_decoder_in_jupyterlab(tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    root = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", root)
    home = tmp_path / "lnnotebook-home"
    shots: list[Path] = []
    outside: list[str] = []

    def screenshot(page, name: str) -> None:
        shots.append(tmp_path / f"browser_{name}.png")
        page.screenshot(path=str(shots[-1]))

    with running_jupyterlab(root, {"LNNOTEBOOK_HOME": str(home)}) as lab, sync_playwright() as playwright:
        browser_home = tmp_path / "browser-home"  # Chromium's crash-report folder and the like, not ~
        browser_home.mkdir()
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            env={**os.environ, "HOME": str(browser_home), "XDG_CONFIG_HOME": str(browser_home / ".config")},
            timeout=WAIT_MS,
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.on(
                "request",
                lambda request: (
                    outside.append(request.url)
                    if urlsplit(request.url).hostname not in ("127.0.0.1", None)
                    and not request.url.startswith(("data:", "blob:"))
                    else None
                ),
            )
            try:
                open_and_run_all(page, lab.lab_url(NOTEBOOK))
                panel = page.locator(".jp-NotebookPanel").first
                form = page.locator(".lnnotebook-form")
                form.wait_for()
                bolt11 = drive_form(page, form, screenshot)
                drive_decoder(page, panel, bolt11, screenshot)
            except Exception:
                page.screenshot(path=str(tmp_path / "failed.png"))  # what the page showed, for the log
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                shutil.copy2(tmp_path / "failed.png", SCREENSHOTS / "browser_failed.png")
                raise
        finally:
            browser.close()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        assert shot.stat().st_size > 20_000, shot.name
        shutil.copy2(shot, SCREENSHOTS / shot.name)
    assert [shot.name for shot in shots] == [
        "browser_form_fraction.png",
        "browser_invoice_form.png",
        "browser_decoder_one.png",
        "browser_decoder_junk.png",
    ]
    assert not outside, f"the browser tried to reach other hosts: {outside[:10]}"

    # What the browser created went through the kernel's provider client into its ledger; 1.5 made nothing.
    with sqlite3.connect(home / "ledger.sqlite") as ledger:
        rows = ledger.execute("SELECT provider, amount_sat, memo, bolt11, error FROM invoices").fetchall()
    assert [row[:3] for row in rows] == [(PROVIDER, AMOUNT_SAT, MEMO)]
    assert rows[0][3] == bolt11 and rows[0][3].startswith("lnbc") and rows[0][4] is None


def open_and_run_all(page, url: str) -> None:
    page.goto(url)
    # The notebook is open and its kernel has started and is idle.
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for()
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for()
    # The left sidebar (file browser) off, so the notebook has the width: Ctrl+B, as a user would.
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
    page.keyboard.press("Control+b")
    page.locator("#jp-left-stack").wait_for(state="hidden")
    # Run > Run All Cells; a click that lands while JupyterLab is still settling can be lost, so the
    # first cell's prompt must show it ran (or runs), else the menu is used again (bounded).
    first_prompt = page.locator(".jp-CodeCell .jp-InputArea-prompt").first
    for _attempt in range(3):
        page.locator(".lm-MenuBar-item", has_text="Run").click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        try:
            page.wait_for_function(
                "el => /\\[(\\d+|\\*)\\]/.test(el.textContent)",
                arg=first_prompt.element_handle(),
                timeout=15_000,
            )
            return
        except Exception:  # Playwright's TimeoutError: try the menu again
            continue
    raise AssertionError("Run All Cells did not start the notebook's cells")


def drive_form(page, form, screenshot) -> str:
    """1.5 is refused with a message and creates nothing; then a real invoice. Returns its BOLT11."""
    form.locator(".lnnotebook-provider select").select_option(PROVIDER)
    amount = form.locator(".lnnotebook-amount input")
    amount.fill("1.5")
    amount.press("Tab")
    form.locator("button.lnnotebook-create").click()
    error = form.locator(".lnnotebook-result .lnnotebook-error")
    error.wait_for()
    message = error.inner_text()
    assert "whole number of sat" in message and "1.5" in message and "fraction" in message, message
    assert form.locator(".lnnotebook-result .lnnotebook-qr").count() == 0
    assert form.locator(".lnnotebook-amount-hint .lnnotebook-error").is_visible()
    error.scroll_into_view_if_needed()
    screenshot(page, "form_fraction")

    amount.fill(f"{AMOUNT_SAT:,}")  # thousands separators are fine: 4,242
    amount.press("Tab")
    form.locator(".lnnotebook-memo input").fill(MEMO)
    form.locator("button.lnnotebook-create").click()
    qr = form.locator(".lnnotebook-result .lnnotebook-qr")
    qr.wait_for()
    result = form.locator(".lnnotebook-result")
    text = result.inner_text()
    assert text.startswith(PROVIDER), text
    assert MEMO in text and f"{AMOUNT_SAT:,} sat" in text, text
    assert form.locator(".lnnotebook-result .lnnotebook-error").count() == 0
    assert form.locator(".lnnotebook-result .lnnotebook-sandbox").is_visible(), "the sandbox badge"
    # The QR code is a real, decoded image of some size, not a broken <img>.
    width = qr.evaluate("img => img.complete ? img.naturalWidth : 0")
    assert width >= 100, f"QR image natural width {width}"
    assert form.locator("button.lnnotebook-create").is_enabled()
    copy = form.locator(".lnnotebook-result button.lnnotebook-copy")
    bolt11 = copy.get_attribute("data-text")
    assert bolt11 and bolt11.startswith("lnbc")
    copy.click()
    page.wait_for_function(
        "() => document.querySelector('.lnnotebook-result .lnnotebook-copy').textContent !== 'Copy invoice'"
    )
    assert page.evaluate("() => navigator.clipboard.readText()") == bolt11, "Copy invoice copies it"
    result.scroll_into_view_if_needed()
    screenshot(page, "invoice_form")
    return bolt11


def drive_decoder(page, panel, bolt11: str, screenshot) -> None:
    """One pasted invoice: its card, amount visible without sideways scrolling; junk: text and error."""
    # Scrolled down to the decoder's cell, as a person would: JupyterLab may leave cells out of view
    # unrendered; and the cell must have run (its prompt shows a number), else the wait says so.
    cell = panel.locator(".jp-CodeCell").last
    cell.scroll_into_view_if_needed()
    prompt = cell.locator(".jp-InputArea-prompt")
    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle())
    box = page.locator(".lnnotebook-decoder")
    box.scroll_into_view_if_needed()
    pasted = box.locator(".lnnotebook-decoder-input textarea")
    pasted.fill(f'"{bolt11}"')  # quoted, as pasted from a chat
    pasted.press("Tab")
    box.locator("button.lnnotebook-decode").click()
    card = box.locator(".lnnotebook-decoded .lnnotebook-invoice")
    card.wait_for()
    amount = card.locator(".lnnotebook-amount")
    assert amount.inner_text() == f"{AMOUNT_SAT:,} sat"
    amount.scroll_into_view_if_needed()
    assert visible_within(amount, panel) and horizontal_scroll(amount) == 0
    assert box.evaluate("el => el.scrollWidth - el.clientWidth") <= 1, (
        "the decoder is not wider than the page"
    )
    assert card.locator(".lnnotebook-qr").is_visible() and MEMO in card.inner_text()
    assert "0 rows" not in box.inner_text() and "<NA>" not in box.inner_text()
    screenshot(page, "decoder_one")

    pasted.fill(JUNK)
    pasted.press("Tab")
    box.locator("button.lnnotebook-decode").click()
    failed = box.locator(".lnnotebook-decoded .lnnotebook-failed")
    failed.wait_for()
    error = failed.locator(".lnnotebook-error")
    assert "FormatError" in error.inner_text() and JUNK in failed.inner_text()
    for part in (error, failed.locator("code")):
        part.scroll_into_view_if_needed()
        assert visible_within(part, panel) and horizontal_scroll(part) == 0
    assert error.bounding_box()["height"] < 60, "the error reads as a line, not one word per line"
    assert "<NA>" not in box.inner_text() and "7 invoices" not in box.inner_text()
    screenshot(page, "decoder_junk")
