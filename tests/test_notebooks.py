"""Every notebook in notebooks/ runs top to bottom in a real IPython kernel (nbclient + ipykernel).

Each notebook is copied ALONE into an empty temp folder and runs there, that folder being the kernel's
working folder, as for someone who downloaded just that notebook: what it reads comes from the installed
package (``ln.sample_invoices()``, the example exports), and what it writes goes to that folder (and
only the files ``WRITES`` lists). The kernel gets ``LNNOTEBOOK_HOME`` in a temp folder (its ledger) and
no ``LNNOTEBOOK_*`` credentials: notebooks use the sandbox.

A cell that raises fails the test with the cell and the traceback. Beyond that, the outputs are checked:
the rendered DataFrames, the charts (PNG images), the rich invoice display with its QR code, widgets.

Secrets: the sandbox's credentials are random per run, so after the notebook has run, a probe cell runs in
the same kernel and collects, from every ``Sandbox`` the notebook left in its namespace, each credential
and the encoded forms the clients derive from them (Basic-auth blobs), by instantiating each provider's
client with them (no request is sent). No output of any cell may contain any of these, nor any 12
characters in a row of one. A notebook that starts a sandbox must leave it findable (as ``sb``), so the
probe cannot pass by finding nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from lnnotebook.providers import emulator_names

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell; whole notebooks take a few seconds each
STARTUP_TIMEOUT = 60
SECRET_WINDOW = 12

PROBE = """
import json as _json
import lnnotebook as _ln
from lnnotebook.emulation.sandbox import Sandbox as _Sandbox

_found, _sandboxes = [], {}
for _value in list(globals().values()):  # `sb` and IPython's output history (_, _4, ...)
    if isinstance(_value, _Sandbox) and id(_value) not in _sandboxes:
        _sandboxes[id(_value)] = _value
        for _name in _value.names():
            _credentials = _value.credentials(_name)
            _found += list(_credentials.values())
            # The client's own list of what to hide: the credentials and their encoded forms.
            _client = _ln.connect(_name, url="http://127.0.0.1:9", ledger=False, **_credentials)
            _found += list(_client._secrets)
            _client.close()
print(_json.dumps({"sandboxes": len(_sandboxes), "secrets": sorted(set(_found))}))
"""


def test_there_are_notebooks_for_each_part() -> None:
    names = [path.name for path in NOTEBOOKS]
    assert names[:5] == [
        "01_decode_and_explore.ipynb",
        "02_create_invoices.ipynb",
        "03_compare_and_export.ipynb",
        "04_invoice_form.ipynb",
        "05_node_invoices.ipynb",
    ], names


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_notebook_has_no_outputs(source: Path) -> None:
    notebook = nbformat.read(source, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{source.name}: clear the outputs"


def alone(source: Path, folder: Path) -> Path:
    """``source`` copied alone into the new, empty ``folder``; returns the copy."""
    folder.mkdir(parents=True)
    shutil.copy2(source, folder)
    return folder / source.name


# What each notebook writes into its working folder (nothing else may appear there).
WRITES = {"03_compare_and_export": ["notebook_hops.csv", "notebook_invoices.csv"]}


def kernel_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LNNOTEBOOK_")}
    env.pop("MPLBACKEND", None)  # the kernel's inline backend makes the charts PNG outputs
    env["LNNOTEBOOK_HOME"] = str(home)
    env["IPYTHONDIR"] = str(home / "ipython")  # nothing written to ~/.ipython
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's frozen-modules notice on stderr
    return env


def run_notebook(path: Path, home: Path) -> tuple[Any, dict[str, Any]]:
    """Execute ``path`` in a new kernel; returns the executed notebook and the probe's findings."""
    notebook = nbformat.read(path, as_version=4)
    # Over Unix sockets, not TCP: jupyter_client picks free ports before the kernel binds them, and in CI
    # (two suites at once) another process took one in between ("Address already in use", kernel died).
    # A short folder of its own: a socket's path is limited to some 100 characters.
    sockets = Path(tempfile.mkdtemp(prefix="lnnb-kernel-"))
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / "k"))
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT,
        startup_timeout=STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},  # the kernel's working folder
    )
    try:
        probe = _execute(client, notebook, path, home)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    stdout = "".join(output.get("text", "") for output in probe.outputs if output.output_type == "stream")
    return notebook, json.loads(stdout.strip().splitlines()[-1])


def _execute(client: NotebookClient, notebook: Any, path: Path, home: Path) -> Any:
    """Every cell of ``notebook`` in ``client``'s new kernel, then the probe; returns the probe cell."""
    with client.setup_kernel(env=kernel_env(home)):  # the kernel is shut down on leaving
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                pytest.fail(f"{path.name}, cell {index}:\n{cell.source}\n\n{exc}", pytrace=False)
        probe = nbformat.v4.new_code_cell(PROBE)
        notebook.cells.append(probe)  # nbclient stores a cell's outputs by its index
        try:
            client.execute_cell(probe, len(notebook.cells) - 1)
        finally:
            notebook.cells.pop()
    return probe


def outputs(notebook: Any, index: int | None = None) -> list[Any]:
    cells = notebook.cells if index is None else [notebook.cells[index]]
    return [output for cell in cells if cell.cell_type == "code" for output in cell.outputs]


def output_text(notebook: Any) -> str:
    """Every output of every cell, as the JSON the notebook file would hold."""
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells], ensure_ascii=False)


def cell_index(notebook: Any, fragment: str) -> int:
    matches = [
        i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and fragment in cell.source
    ]
    assert len(matches) == 1, f"{fragment!r} is in code cells {matches}"
    return matches[0]


def data_of(notebook: Any, fragment: str, mime: str) -> str:
    """The ``mime`` data the code cell holding ``fragment`` displayed (it must have displayed one)."""
    found = [
        output["data"][mime]
        for output in outputs(notebook, cell_index(notebook, fragment))
        if output.output_type in ("execute_result", "display_data") and mime in output.get("data", {})
    ]
    assert found, f"the cell with {fragment!r} displayed no {mime}"
    return found[-1]


def check_no_secrets(notebook: Any, probe: dict[str, Any]) -> None:
    text = output_text(notebook)
    for secret in probe["secrets"]:
        for start in range(max(1, len(secret) - SECRET_WINDOW + 1)):
            assert secret[start : start + SECRET_WINDOW] not in text, (
                "a sandbox credential (or part of one) is in the outputs"
            )


def check_decode_and_explore(notebook: Any, probe: dict[str, Any]) -> None:
    card = data_of(notebook, "invoice = ln.decode(invoices[1])", "text/html")
    assert "1 cup coffee" in card and "<img" in card, "the Invoice card with its QR code"
    frame_html = data_of(notebook, "df = ln.decode_frame(invoices", "text/html")
    assert "<table" in frame_html and "payment_hash" in frame_html
    errors = data_of(notebook, 'df.loc[df["error"].notna()', "text/plain")
    assert "FieldLengthError" in errors and errors.count("\n") == 1, "exactly row 13 fails"
    by_network = data_of(notebook, "by_network.sort_values", "text/plain")
    for network in ("bc", "tb", "tbs", "bcrt"):
        assert re.search(rf"^{network}\s+\d+", by_network, re.MULTILINE), by_network
    data_of(notebook, "fig, (left, right) = plt.subplots", "image/png")
    hops = data_of(notebook, "hops = ln.hops_frame(invoices", "text/html")
    assert "short_channel_id" in hops
    accessor = data_of(notebook, "some.ln.decode(", "text/html")
    assert accessor.split("<tbody>")[1].count("<tr") == 8, "one row per sampled invoice"
    data_of(notebook, "decoder = ln.widgets.decoder()", "application/vnd.jupyter.widget-view+json")
    offer_card = data_of(notebook, 'offer = ln.decode_offer(offers["two_paths"])', "text/html")
    assert "lnnotebook-offer" in offer_card and "<img" in offer_card, "the Offer card with its QR code"
    offer_table = data_of(notebook, "offer_table = ln.offers_frame(offers", "text/html")
    assert offer_table.split("<tbody>")[1].count("<tr") == 7 and "OfferStreamError" in offer_table
    assert "OfferFormatError" in offer_table, "the cut-off and the mixed-case offer keep their rows"
    offer_paths = data_of(notebook, "ln.offer_paths_frame(offers", "text/html")
    assert offer_paths.split("<tbody>")[1].count("<tr") == 6 and "1x2x3" in offer_paths
    refusal_cell = cell_index(notebook, "invoice_request = (")
    refused = "".join(output.get("text", "") for output in outputs(notebook, refusal_cell))
    assert refused.startswith("NotAnOfferError: this is a BOLT 12 invoice request"), refused
    assert probe["sandboxes"] == 0


def check_create_invoices(notebook: Any, probe: dict[str, Any]) -> None:
    coffee = data_of(notebook, "coffee = barkd.create_invoice(", "text/html")
    assert "coffee beans" in coffee and "<img" in coffee, "the CreatedInvoice card with its QR code"
    expiry_error = "".join(o.get("text", "") for o in outputs(notebook, cell_index(notebook, "expiry=600")))
    assert expiry_error.startswith("InvalidRequestError: barkd: the create endpoint has no expiry field")
    matches = "".join(
        o.get("text", "") for o in outputs(notebook, cell_index(notebook, "every signed amount"))
    )
    assert matches == "every signed amount matches what the provider reported: True\n"
    paid = "".join(
        o.get("text", "") for o in outputs(notebook, cell_index(notebook, "sb.pay(coffee.bolt11)"))
    )
    assert paid.split() == ["before:", "pending", "after:", "paid"]
    changes = data_of(notebook, "changes = ln.Ledger().refresh(", "text/plain")
    # the first batch invoice of each sandbox provider
    assert changes.count("paid") == len(emulator_names()), changes
    statuses = data_of(notebook, 'history.groupby(["provider", "status"])', "text/plain")
    assert "paid" in statuses and "pending" in statuses
    data_of(notebook, "form = ln.widgets.invoice_form(sb)", "application/vnd.jupyter.widget-view+json")
    scripted = data_of(notebook, "form.create_button.click()", "text/html")
    assert "set from code" in scripted and "<img" in scripted
    assert probe["sandboxes"] == 1 and len(probe["secrets"]) >= 8


def check_compare_and_export(notebook: Any, probe: dict[str, Any]) -> None:
    table = data_of(notebook, "table = ln.compare(frame)", "text/html")
    assert 'class="lnnotebook-comparison"' in table
    for provider in ("barkd", "tazapay", "lnpay", "lnpay-legacy"):
        assert f">{provider}</th>" in table
    assert "route_fee_ppm_median" in table and "90,666.7" in table  # formatted, not 90666.666667
    assert "90666.666667" not in table
    data_of(notebook, "fig = ln.plot.dashboard(frame)", "image/png")
    data_of(notebook, "fig, (small, large) = plt.subplots", "image/png")
    in_file = "".join(o.get("text", "") for o in outputs(notebook, cell_index(notebook, "memos_in_file = [")))
    assert in_file == '\'=HYPERLINK("http://example.invalid","click me")\n', "neutralised in the file"
    assert data_of(notebook, "ln.read_csv(ln.to_csv(hops", "text/plain") == "(True, True)"
    data_of(notebook, "ln.widgets.dashboard(sb)", "application/vnd.jupyter.widget-view+json")
    assert probe["sandboxes"] == 1


def check_invoice_form(notebook: Any, probe: dict[str, Any]) -> None:
    data_of(notebook, "ln.widgets.invoice_form(sb)", "application/vnd.jupyter.widget-view+json")
    data_of(notebook, "ln.widgets.decoder()", "application/vnd.jupyter.widget-view+json")
    assert probe["sandboxes"] == 1


def check_node_invoices(notebook: Any, probe: dict[str, Any]) -> None:
    statuses = data_of(notebook, 'df.groupby(["source", "status"])', "text/plain")
    for source in ("lnd", "cln", "lnbits"):
        assert re.search(rf"^{source}\s+\d+\s+\d+\s+\d+", statuses, re.MULTILINE), statuses
    unusual = data_of(notebook, 'df.loc[df["kind"] != "bolt11"', "text/plain")
    assert "keysend" in unusual and "amp" in unusual
    to_pay = "".join(o.get("text", "") for o in outputs(notebook, cell_index(notebook, "seconds_to_pay")))
    assert all(source in to_pay for source in ("lnd", "cln", "lnbits")), to_pay
    data_of(notebook, "seconds_to_pay", "image/png")
    assert "%</td>" in data_of(notebook, "share = decided.pivot_table", "text/html")
    money = data_of(notebook, "priced = ln.with_fiat(df, rates)", "text/plain")
    assert "amount_received_usd" in money and "amount_received_eur" in money
    data_of(notebook, "weekly = (", "image/png")
    data_of(notebook, 'unit="fiat", currency="USD"', "image/png")
    assert probe["sandboxes"] == 0


CHECKS = {
    "01_decode_and_explore": check_decode_and_explore,
    "02_create_invoices": check_create_invoices,
    "03_compare_and_export": check_compare_and_export,
    "04_invoice_form": check_invoice_form,
    "05_node_invoices": check_node_invoices,
}


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_top_to_bottom_alone_in_an_empty_folder(source: Path, tmp_path: Path) -> None:
    folder = tmp_path / "alone"
    home = tmp_path / "home"
    notebook, probe = run_notebook(alone(source, folder), home)

    for output in outputs(notebook):
        assert output.output_type != "error"
        if output.output_type == "stream" and output.name == "stderr":
            # Warnings or tracebacks printed to stderr mean something is off even if no cell raised.
            assert not output.text.strip(), f"{source.name} wrote to stderr:\n{output.text}"
    check_no_secrets(notebook, probe)
    CHECKS.get(source.stem, lambda *_: None)(notebook, probe)

    # Notebooks that create invoices record them in the kernel's LNNOTEBOOK_HOME, not anywhere else.
    if probe["sandboxes"]:
        assert (home / "ledger.sqlite").exists()
    # Outputs go to the working folder, and only the expected ones; nothing lands beside it.
    written = sorted(path.name for path in folder.iterdir() if path.name != ".ipynb_checkpoints")
    assert written == sorted([source.name, *WRITES.get(source.stem, [])]), written
    assert sorted(path.name for path in tmp_path.iterdir()) == ["alone", "home"]


def test_secret_scan_catches_a_leak(tmp_path: Path) -> None:
    """The scan itself: a notebook printing part of a token, or a Basic-auth blob, is caught."""
    notebooks = tmp_path / "empty"
    notebooks.mkdir()
    leaks = [
        "print(sb.credentials('barkd')['token'][:16] + '...')",
        "import base64\n"
        "c = sb.credentials('tazapay')\n"
        "print(base64.b64encode(f\"{c['api_key']}:{c['api_secret']}\".encode()).decode())",
    ]
    leaky = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    leaky.cells = [nbformat.v4.new_code_cell("import lnnotebook as ln\nsb = ln.sandbox().start()")]
    leaky.cells += [nbformat.v4.new_code_cell(source) for source in leaks]
    nbformat.write(leaky, notebooks / "leaky.ipynb")
    notebook, probe = run_notebook(notebooks / "leaky.ipynb", tmp_path / "home")
    assert probe["sandboxes"] == 1
    check_no_secrets(nbformat.v4.new_notebook(cells=notebook.cells[:1]), probe)  # starting one is fine
    for index in range(1, len(notebook.cells)):
        alone = nbformat.v4.new_notebook(cells=[notebook.cells[index]])
        assert outputs(alone), f"leak cell {index} printed nothing"
        with pytest.raises(AssertionError, match="sandbox credential"):
            check_no_secrets(alone, probe)
