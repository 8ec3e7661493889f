"""``lnnotebook demo`` (``make demo``): the whole product in one run, from a terminal.

Which providers:

* no ``LNNOTEBOOK_<PROVIDER>_*`` credentials in the environment: the sandbox (every emulated provider,
  local HTTP servers minting real signed invoices), plus a real LNbits server (FakeWallet) when
  ``make lnbits`` has installed one (started like the tests start it,
  ``lnnotebook/providers/lnbits/server.py``);
* otherwise exactly the providers whose URL or a credential is set in the environment
  (``configured_providers``), and no sandbox. A provider with only some of its options set is an error
  that names the missing variable.

Then: ``repeat`` invoices at every provider for each amount, decoded (signatures verified), the
comparison table (``lnnotebook.compare``) printed, ``invoices.csv``, ``hops.csv`` (``lnnotebook.to_csv``)
and ``comparison.png`` (``lnnotebook.plot.dashboard``) written to the output folder, and every invoice and
failed attempt recorded in the default ledger (``$LNNOTEBOOK_HOME/ledger.sqlite``) by the clients
themselves. Last, a short summary of decoding the sample file, when there is one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_SAMPLE = Path(__file__).resolve().parent / "examples" / "sample_invoices.txt"  # package data
DEFAULT_OUT = Path("data/out")
DEFAULT_AMOUNTS = (1_000, 21_000, 250_000)
DEFAULT_REPEAT = 2
MEMO = "lnnotebook demo"


def read_invoice_lines(path: Path) -> list[str]:
    """Invoices from a text file: one per line; blank lines and ``#`` comments are ignored."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def configured_providers(environ: Mapping[str, str] | None = None) -> list[str]:
    """Providers whose URL, a credential or another option without a default (one that says where to
    connect, such as an address) is set (non-empty) in ``LNNOTEBOOK_<PROVIDER>_*``.

    Tuning options alone (``..._READ_TIMEOUT``) do not count: they do not say where or who to connect as.
    """
    from lnnotebook.options import env_var
    from lnnotebook.providers import provider_class, provider_names

    environ = os.environ if environ is None else environ
    found = []
    for name in provider_names():
        specs = provider_class(name).options
        options = ["url", *(spec.name for spec in specs if spec.secret or spec.default is None)]
        if any(environ.get(env_var(name, option), "").strip() for option in options):
            found.append(name)
    return found


def main(
    out_dir: Path = DEFAULT_OUT,
    sample: Path | None = None,
    *,
    amounts: Sequence[int] = DEFAULT_AMOUNTS,
    repeat: int = DEFAULT_REPEAT,
) -> int:
    """Run the demo (see the module docstring); returns the exit status."""
    if sample is not None and not sample.exists():
        print(f"error: {sample} not found", file=sys.stderr)
        return 2
    from lnnotebook.providers.errors import ConfigurationError

    print("lnnotebook demo")
    print("===============")
    try:
        with _providers() as clients:
            status = _create_and_report(clients, out_dir, amounts, repeat)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LnbitsFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _sample_summary(sample if sample is not None else DEFAULT_SAMPLE, explicit=sample is not None)
    return status


class LnbitsFailed(RuntimeError):
    """LNbits is installed but did not start."""


@contextlib.contextmanager
def _providers() -> Iterator[list[Any]]:
    """Connected clients (see the module docstring); everything started here is stopped on exit."""
    from lnnotebook.service import connect

    configured = configured_providers()
    with contextlib.ExitStack() as stack:
        if configured:
            print(f"Providers: {', '.join(configured)}, from LNNOTEBOOK_* variables in the environment.")
            clients = []
            for name in configured:
                client = connect(name)
                stack.callback(client.close)
                clients.append(client)
            yield clients
            return

        import lnnotebook as ln

        sandbox = stack.enter_context(ln.sandbox())
        clients = sandbox.providers()
        print(f"Providers: the sandbox: {', '.join(sandbox.names())}.")
        print("  Local emulators of the providers' APIs, minting real signed invoices. To use real")
        print("  providers instead, set LNNOTEBOOK_<PROVIDER>_URL and the provider's credentials.")
        lnbits = _start_lnbits(stack)
        if lnbits is not None:
            server, client = lnbits
            clients.append(client)
            print(
                f"  + LNbits {server.version}: a real server (FakeWallet funding source) on {server.url}, "
                f"started in {server.started_in_s:.1f} s."
            )
        yield clients


def _start_lnbits(stack: contextlib.ExitStack) -> tuple[Any, Any] | None:
    """A running LNbits and a client of its receiving wallet, or None (saying how to add it)."""
    from lnnotebook.providers.lnbits.server import LnbitsUnavailable, running_lnbits

    try:
        server = stack.enter_context(running_lnbits())  # stopped and its folder removed on exit
    except LnbitsUnavailable as exc:
        print(f"  {exc}.")
        print("  `make lnbits` installs a real LNbits server into .venv-lnbits; the demo then includes it.")
        return None
    except Exception as exc:  # installed but broken (start-up, first install, wallet setup): say so
        raise LnbitsFailed(f"LNbits is installed but did not start: {type(exc).__name__}: {exc}") from None

    from lnnotebook.service import connect

    if server.receiver is None:  # set_up() makes it; a server without one cannot take invoices
        raise LnbitsFailed("LNbits started but has no receiving wallet")
    client = connect("lnbits", url=server.url, api_key=server.receiver.inkey)
    stack.callback(client.close)
    return server, client


def _create_and_report(clients: list[Any], out_dir: Path, amounts: Sequence[int], repeat: int) -> int:
    import pandas as pd

    import lnnotebook as ln

    print()
    amounts_text = " / ".join(f"{amount:,}" for amount in amounts)
    print(f"Creating {repeat} invoice(s) per provider for each of {amounts_text} sat:")
    frames = []
    for amount in amounts:
        started = time.perf_counter()
        frame = ln.create_invoices(clients, amount, f"{MEMO}: {amount:,} sat", repeat=repeat, progress=False)
        elapsed = time.perf_counter() - started
        failed = int(frame["error"].notna().sum())
        print(f"  {amount:>9,} sat: {len(frame) - failed} created, {failed} failed, in {elapsed:.2f} s")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)

    created = frame[frame["error"].isna()]
    failures = frame[frame["error"].notna()]
    for _, row in failures.iterrows():
        print(f"  failed at {row['provider']}: {row['error_type']}: {row['error']}")
    with_bolt11 = created[created["bolt11"].notna()]
    decoded = with_bolt11[with_bolt11["decode_error"].isna()]
    mismatched = decoded[decoded["invoice_amount_sat"] != decoded["amount_sat"]]
    hops = _hops(frame)
    print()
    print(f"Decoded {len(decoded)} of {len(with_bolt11)} invoices (signatures verified), {len(hops)} hops:")
    print(
        "  every signed amount matches what the provider reported."
        if mismatched.empty
        else f"  {len(mismatched)} signed amount(s) differ from what the provider reported!"
    )
    for _, row in with_bolt11[with_bolt11["decode_error"].notna()].iterrows():
        print(f"  {row['provider']} returned an invoice that does not decode: {row['decode_error']}")

    comparison = ln.compare(frame)
    print()
    print("Comparison (one column per provider; ln.compare(df) gives it as a DataFrame):")
    print(_table(comparison))

    out_dir.mkdir(parents=True, exist_ok=True)
    invoices_csv = ln.to_csv(frame, out_dir / "invoices.csv")
    hops_csv = ln.to_csv(hops, out_dir / "hops.csv")
    chart = _chart(frame, out_dir / "comparison.png")
    print()
    print("Wrote:")
    print(f"  {invoices_csv}  ({len(frame)} rows: one per attempt, decoded columns joined)")
    print(f"  {hops_csv}  ({len(hops)} rows: one per route-hint hop, with its provider)")
    print(f"  {chart}  (fees, expiries and amounts per provider)")

    _ledger_summary(frame)
    return 0 if len(created) else 1


def _hops(frame: Any) -> Any:
    """The route hints of every created invoice, one row per hop, with the provider in front."""
    import lnnotebook as ln

    bolt11 = frame["bolt11"][frame["decode_error"].isna() & frame["bolt11"].notna()]
    hops = ln.hops_frame(bolt11.astype(object))
    invoice_labels = hops.index.get_level_values("invoice")
    hops.insert(0, "provider", frame["provider"].reindex(invoice_labels).to_numpy())
    return hops


def _table(comparison: Any) -> str:
    """The comparison transposed (providers as columns fit a terminal), numbers rounded."""
    import pandas as pd

    shown = comparison.copy()
    for column in shown.columns:
        if str(shown[column].dtype) == "Float64":
            shown[column] = shown[column].round(3 if column.endswith("_s_median") else 1)
    table = shown.T.astype(object)
    table = table.where(table.notna(), "-")
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_rows", None):
        return table.to_string()


def _chart(frame: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # a file, not a window (before lnnotebook.plot imports pyplot)
    import matplotlib.pyplot as plt

    from lnnotebook import plot

    figure = plot.dashboard(frame)
    try:
        figure.savefig(path, dpi=110, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path


def _ledger_summary(frame: Any) -> None:
    import lnnotebook as ln
    from lnnotebook.ledger import default_ledger_path

    recorded = ln.history()
    keys = ["provider", "provider_id"]
    ours = frame[keys].dropna()
    found = ours.merge(recorded[keys].dropna().drop_duplicates(), on=keys, how="inner")
    failed_here = int(frame["error"].notna().sum())
    print()
    print(f"Ledger {default_ledger_path()}:")
    print(
        f"  {len(found)} of the {len(ours)} invoices created now are recorded"
        + (f", and the {failed_here} failed attempt(s)" if failed_here else "")
        + f"; {len(recorded)} row(s) in all."
    )
    print("  `lnnotebook history` lists them; `lnnotebook export FILE.csv` writes them out.")


def _sample_summary(sample: Path, *, explicit: bool) -> None:
    if not sample.exists():
        if not explicit:
            print()
            print(f"(No {sample} here: run from the repository root to decode the sample file too.)")
        return
    from lnnotebook.frames import decode_frame

    invoices = read_invoice_lines(sample)
    started = time.perf_counter()
    frame = decode_frame(invoices, errors="coerce")
    elapsed = time.perf_counter() - started
    failed = frame[frame["error"].notna()]
    networks = frame["network"].value_counts()
    print()
    print(
        f"Sample file {sample}: decoded {len(frame) - len(failed)} of {len(frame)} invoices in "
        f"{elapsed * 1000:.0f} ms ({', '.join(f'{count} {net}' for net, count in networks.items())})."
    )
    for label, row in failed.iterrows():
        print(f"  row {label} rejected: {row['error_type']}: {row['error']}")
