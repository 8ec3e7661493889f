"""The invoice form in a real JupyterLab, driven by a real headless Chromium (Debian's, through Playwright).

One JupyterLab server (``tests/jupyter_server.py``) serves a temp copy of ``notebooks/`` on 127.0.0.1
with its own ``LNNOTEBOOK_HOME``. Chromium opens ``04_invoice_form.ipynb``, runs all cells from the Run
menu, fills in the form (provider, amount, memo), clicks *Create invoice* and waits for the invoice and
its QR code. The screenshot goes to the test's temp folder and is copied to
``data/out/browser_invoice_form.png``. Then the ledger in that ``LNNOTEBOOK_HOME`` must hold the invoice
the browser created.

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
SCREENSHOT_COPY = ROOT / "data" / "out" / "browser_invoice_form.png"
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


def test_invoice_form_creates_an_invoice_with_its_qr_code_in_jupyterlab(tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    root = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", root)
    home = tmp_path / "lnnotebook-home"
    screenshot = tmp_path / "browser_invoice_form.png"
    outside: list[str] = []

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
            page = browser.new_page(viewport={"width": 1280, "height": 900})
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
            page.goto(lab.lab_url(NOTEBOOK))
            # The notebook is open and its kernel has started and is idle.
            page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for()
            page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for()
            # The left sidebar (file browser) off, so the notebook has the width: Ctrl+B, as a user would.
            page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
            page.keyboard.press("Control+b")
            page.locator("#jp-left-stack").wait_for(state="hidden")

            page.locator(".lm-MenuBar-item", has_text="Run").click()
            page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

            form = page.locator(".lnnotebook-form")
            form.wait_for()
            form.locator(".lnnotebook-provider select").select_option(PROVIDER)
            amount = form.locator(".lnnotebook-amount input")
            amount.fill(str(AMOUNT_SAT))
            amount.press("Tab")  # IntText sends its value on change (blur), not on every key
            form.locator(".lnnotebook-memo input").fill(MEMO)
            form.locator("button.lnnotebook-create").click()

            qr = form.locator(".lnnotebook-result .lnnotebook-qr")
            qr.wait_for()
            result = form.locator(".lnnotebook-result")
            text = result.inner_text()
            assert text.startswith(PROVIDER), text
            assert MEMO in text, text
            assert f"{AMOUNT_SAT:,}" in text or str(AMOUNT_SAT) in text, text
            assert form.locator(".lnnotebook-result .lnnotebook-error").count() == 0
            # The QR code is a real, decoded image of some size, not a broken <img>.
            width = qr.evaluate("img => img.complete ? img.naturalWidth : 0")
            assert width >= 100, f"QR image natural width {width}"
            assert form.locator("button.lnnotebook-create").is_enabled()

            result.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()

    SCREENSHOT_COPY.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(screenshot, SCREENSHOT_COPY)
    assert screenshot.stat().st_size > 20_000
    assert not outside, f"the browser tried to reach other hosts: {outside[:10]}"

    # What the browser created went through the kernel's provider client into its ledger.
    with sqlite3.connect(home / "ledger.sqlite") as ledger:
        rows = ledger.execute("SELECT provider, amount_sat, memo, bolt11, error FROM invoices").fetchall()
    assert [row[:3] for row in rows] == [(PROVIDER, AMOUNT_SAT, MEMO)]
    assert rows[0][3].startswith("lnbc") and rows[0][4] is None
