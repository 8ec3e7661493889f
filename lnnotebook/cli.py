"""The ``lnnotebook`` command line: ``demo``, ``decode``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

DEFAULT_SAMPLE = Path("data/sample_invoices.txt")
DEFAULT_OUT = Path("data/out")


def read_invoice_lines(path: Path) -> list[str]:
    """Invoices from a text file: one per line; blank lines and ``#`` comments are ignored."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def demo(sample: Path = DEFAULT_SAMPLE, out_dir: Path = DEFAULT_OUT) -> int:
    """Decode the sample invoices, print a summary and write the two CSV tables."""
    from lnnotebook.frames import decode_frame, hops_frame

    if not sample.exists():
        print(f"error: {sample} not found (run from the repository root, or pass --sample)", file=sys.stderr)
        return 2
    invoices = read_invoice_lines(sample)
    started = time.perf_counter()
    frame = decode_frame(invoices, errors="coerce")
    elapsed = time.perf_counter() - started
    hops = hops_frame(invoices, errors="coerce").dropna(subset=["pubkey"])

    decoded = frame[frame["error"].isna()]
    failed = frame[frame["error"].notna()]
    print(f"Decoded {len(decoded)} of {len(frame)} invoices from {sample} in {elapsed * 1000:.0f} ms")
    print()
    print("By network:")
    summary = decoded.groupby("network").agg(
        invoices=("bolt11", "size"),
        amountless=("amount_msat", lambda amounts: int(amounts.isna().sum())),
        median_sat=("amount_sat", "median"),
        with_route_hints=("route_hint_count", lambda counts: int((counts > 0).sum())),
        with_fallbacks=("fallback_addresses", lambda addresses: int(addresses.notna().sum())),
        payees=("payee", "nunique"),
    )
    print(summary.to_string())
    print()
    print(
        f"Route hints: {len(hops)} hops in {int(decoded['route_hint_count'].sum())} routes; "
        f"median base fee {hops['fee_base_msat'].median():.0f} msat, "
        f"median proportional fee {hops['fee_proportional_millionths'].median():.0f} ppm"
    )
    print(f"Expiry: median {decoded['expiry'].median():.0f} s; latest created {decoded['created_at'].max()}")
    if len(failed):
        print()
        print(f"{len(failed)} invoice(s) could not be decoded:")
        for label, row in failed.iterrows():
            print(f"  row {label}: {row['error_type']}: {row['error']}")

    from lnnotebook.export import to_csv

    to_csv(frame, out_dir / "invoices.csv")
    to_csv(hops, out_dir / "route_hints.csv")
    print()
    print(f"Wrote {out_dir / 'invoices.csv'} ({len(frame)} rows)")
    print(f"  and {out_dir / 'route_hints.csv'} ({len(hops)} rows)")
    return 0


def decode_command(texts: Sequence[str], verify: bool, strict: bool) -> int:
    from lnnotebook.decoding import decode
    from lnnotebook.errors import InvoiceError

    status = 0
    for text in texts:
        try:
            invoice = decode(text, verify=verify, strict=strict)
        except InvoiceError as error:
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
            status = 1
            continue
        for name in invoice.__dataclass_fields__:
            print(f"{name:>22}: {getattr(invoice, name)}")
        print()
    return status


def ledger_command(args: argparse.Namespace) -> int:
    """``history`` prints the ledger (decoded columns joined); ``export`` writes it to CSV."""
    from lnnotebook.export import to_csv
    from lnnotebook.ledger import Ledger, default_ledger_path, history

    path = args.ledger or default_ledger_path()
    if not path.exists():
        print(f"no ledger at {path}: nothing has been recorded yet", file=sys.stderr)
        return 1
    ledger = Ledger(path)
    if getattr(args, "refresh", False):
        changes = ledger.refresh()
        print(f"refreshed {len(changes)} pending invoice(s), {int(changes['changed'].sum())} changed")
    filters = {
        "provider": args.provider,
        "status": args.status,
        "since": args.since,
        "until": args.until,
        "failures": not args.no_failures,
    }
    frame = history(ledger, **filters)
    if args.command == "export":
        to_csv(frame, args.path, safe=not args.unsafe)
        print(f"wrote {len(frame)} invoice(s) to {args.path}")
        return 0
    if frame.empty:
        print("no invoices match")
        return 0
    shown = ["id", "provider", "status", "amount_sat", "fee_sat", "memo", "created_at", "error_type"]
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_colwidth", 40):
        print(frame[shown].to_string(index=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lnnotebook", description="Lightning invoices for notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)

    demo_parser = commands.add_parser("demo", help="decode the sample invoices and write CSV tables")
    demo_parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    demo_parser.add_argument("--out", type=Path, default=DEFAULT_OUT)

    decode_parser = commands.add_parser("decode", help="decode invoices given as arguments or on stdin")
    decode_parser.add_argument("invoices", nargs="*", help="invoices (default: one per line on stdin)")
    decode_parser.add_argument("--no-verify", action="store_true", help="skip signature verification")
    decode_parser.add_argument("--lenient", action="store_true", help="accept payability-rule violations")

    def add_filters(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--ledger", type=Path, help="ledger file (default: $LNNOTEBOOK_HOME/ledger.sqlite)"
        )
        command.add_argument("--provider", action="append", help="only this provider (repeatable)")
        command.add_argument("--status", action="append", help="only this status (repeatable)")
        command.add_argument("--since", help="created at or after (ISO 8601, UTC if no offset)")
        command.add_argument("--until", help="created before (ISO 8601)")
        command.add_argument("--no-failures", action="store_true", help="leave out failed attempts")

    history_parser = commands.add_parser("history", help="list the invoices recorded in the ledger")
    add_filters(history_parser)
    history_parser.add_argument(
        "--refresh", action="store_true", help="ask providers for pending statuses first"
    )
    export_parser = commands.add_parser("export", help="write the ledger's invoices to a CSV file")
    export_parser.add_argument("path", type=Path, help="CSV file to write")
    add_filters(export_parser)
    export_parser.add_argument("--unsafe", action="store_true", help="do not neutralise formula-like cells")

    # `sandbox` has its own options, parsed by lnnotebook.sandbox.serve; listed here for --help only.
    commands.add_parser("sandbox", help="serve local emulators of the invoice providers until Ctrl-C")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        from lnnotebook.sandbox.serve import main as sandbox_main

        return sandbox_main(argv[1:])

    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.sample, args.out)
    if args.command == "decode":
        texts = args.invoices or [line for line in sys.stdin.read().split() if line]
        return decode_command(texts, verify=not args.no_verify, strict=not args.lenient)
    if args.command in ("history", "export"):
        return ledger_command(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
