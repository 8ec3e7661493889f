"""The ``lnnotebook`` command line: ``demo`` (in ``lnnotebook.demo``), ``decode``, ``decode-file``,
``history``, ``export``, ``reconcile``, ``sandbox``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def decode_command(texts: Sequence[str], verify: bool, strict: bool) -> int:
    from lnnotebook.bolt11 import InvoiceError, decode

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


def decode_file_command(args: argparse.Namespace) -> int:
    """``decode-file SRC DST`` (``lnnotebook.decode_file``): lines that are not invoices are rows, not
    failures; an input or output that cannot be used is (exit status 2)."""
    from lnnotebook.streaming import decode_file

    try:
        written = decode_file(
            args.src,
            args.dst,
            column=args.column,
            chunk_size=args.chunk_size,
            progress=False if args.no_progress else None,
            verify=not args.no_verify,
            strict=not args.lenient,
        )
    except (OSError, ValueError, ImportError) as error:
        print(f"lnnotebook decode-file: {error}", file=sys.stderr)
        return 2
    print(written)
    return 0


def ledger_command(args: argparse.Namespace) -> int:
    """``history`` prints the ledger (decoded columns joined); ``export`` writes it to CSV."""
    import pandas as pd

    from lnnotebook.export import to_csv
    from lnnotebook.ledger import default_ledger_path
    from lnnotebook.service import Ledger, history

    path = args.ledger or default_ledger_path()
    if not path.exists():
        print(f"no ledger at {path}: nothing has been recorded yet", file=sys.stderr)
        return 1
    for option in ("since", "until"):
        value = getattr(args, option)
        try:
            _ = value is None or pd.Timestamp(value)
        except ValueError:
            print(
                f"--{option}: {value!r} is not a date or time (ISO 8601, e.g. 2026-11-23T12:00)",
                file=sys.stderr,
            )
            return 2
    filters = {
        "provider": args.provider,
        "status": args.status,
        "since": args.since,
        "until": args.until,
        "failures": not args.no_failures,
    }
    with Ledger(path) as ledger:
        if getattr(args, "refresh", False):
            changes = ledger.refresh()
            print(f"refreshed {len(changes)} pending invoice(s), {int(changes['changed'].sum())} changed")
        frame = history(ledger, **filters)
    if args.command == "export":
        to_csv(frame, args.path, safe=not args.unsafe)
        print(f"wrote {len(frame)} invoice(s) to {args.path}")
        return 0
    if frame.empty:
        print("no invoices match")
        return 0
    shown = ["id", "provider", "status", "amount_sat", "fee_sat", "memo", "created_at", "error_type"]
    with pd.option_context("display.width", 160, "display.max_colwidth", 40):
        print(frame[shown].to_string(index=False))
    return 0


def reconcile_command(args: argparse.Namespace) -> int:
    """``lnnotebook reconcile``: settle the ledger's unknown attempts; exit 1 while any stays unknown."""
    import pandas as pd

    from lnnotebook.ledger import default_ledger_path
    from lnnotebook.service import Ledger

    path = args.ledger or default_ledger_path()
    if not path.exists():
        print(f"no ledger at {path}: nothing has been recorded yet", file=sys.stderr)
        return 1
    with Ledger(path) as ledger:
        frame = ledger.reconcile()
    if frame.empty:
        print("no unknown attempts")
        return 0
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(frame[["id", "provider", "resolution", "provider_id", "error"]].to_string(index=False))
    left = int((frame["resolution"] == "unknown").sum())
    print(f"{len(frame) - left} of {len(frame)} unknown attempt(s) settled")
    return 1 if left else 0


def _add_reconcile_and_sandbox(commands: argparse._SubParsersAction) -> None:
    reconcile_parser = commands.add_parser(
        "reconcile", help="ask providers about creates whose answers were lost (unknown attempts)"
    )
    reconcile_parser.add_argument(
        "--ledger", type=Path, help="ledger file (default: $LNNOTEBOOK_HOME/ledger.sqlite)"
    )
    # `sandbox` has its own options, parsed by lnnotebook.emulation.sandbox.main; listed here for --help only.
    commands.add_parser("sandbox", help="serve local emulators of the invoice providers until Ctrl-C")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lnnotebook", description="Lightning invoices for notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)

    demo_parser = commands.add_parser(
        "demo", help="create invoices at every provider (the sandbox unless configured), compare, export"
    )
    demo_parser.add_argument("--out", type=Path, default=Path("data/out"), help="output folder")
    demo_parser.add_argument(
        "--amount", type=int, action="append", help="amount in sat (repeatable; default 1000, 21000, 250000)"
    )
    demo_parser.add_argument("--repeat", type=int, default=2, help="invoices per provider and amount")
    demo_parser.add_argument(
        "--sample", type=Path, help="invoices to decode too (default: data/sample_invoices.txt if there)"
    )

    decode_parser = commands.add_parser("decode", help="decode invoices given as arguments or on stdin")
    decode_parser.add_argument("invoices", nargs="*", help="invoices (default: one per line on stdin)")
    decode_parser.add_argument("--no-verify", action="store_true", help="skip signature verification")
    decode_parser.add_argument("--lenient", action="store_true", help="accept payability-rule violations")

    file_parser = commands.add_parser(
        "decode-file", help="decode a file of invoices (text, CSV, JSON lines, Parquet) into Parquet or CSV"
    )
    file_parser.add_argument("src", type=Path, help="invoices: one a line (.txt), .csv, .jsonl or .parquet")
    file_parser.add_argument("dst", type=Path, help="output: .parquet or .csv, one row per input line")
    file_parser.add_argument("--column", help="the invoice column of a CSV, JSON lines or Parquet input")
    file_parser.add_argument(
        "--chunk-size", type=int, default=10_000, help="invoices decoded at a time (bounds the memory)"
    )
    file_parser.add_argument("--no-verify", action="store_true", help="skip signature verification")
    file_parser.add_argument("--lenient", action="store_true", help="accept payability-rule violations")
    file_parser.add_argument("--no-progress", action="store_true", help="no progress bar")

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

    _add_reconcile_and_sandbox(commands)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        from lnnotebook.emulation.sandbox import main as sandbox_main

        return sandbox_main(argv[1:])

    args = parser.parse_args(argv)
    if args.command == "demo":
        from lnnotebook import demo

        if args.repeat < 1 or any(amount < 1 for amount in args.amount or ()):
            parser.error("--repeat and --amount must be positive")
        amounts = args.amount or demo.DEFAULT_AMOUNTS
        return demo.main(args.out, args.sample, amounts=amounts, repeat=args.repeat)
    if args.command == "decode":
        texts = args.invoices or [line for line in sys.stdin.read().split() if line]
        return decode_command(texts, verify=not args.no_verify, strict=not args.lenient)
    if args.command == "decode-file":
        return decode_file_command(args)
    if args.command in ("history", "export", "reconcile"):
        return reconcile_command(args) if args.command == "reconcile" else ledger_command(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
