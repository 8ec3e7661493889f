"""The ``lnnotebook`` command line: ``demo`` (in ``lnnotebook.demo``), ``decode``, ``decode-file``,
``history``, ``export``, ``reconcile``, ``sandbox``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the command line loads pandas and the decoder only for the commands that need them
    import pandas as pd

    from lnnotebook.bolt11 import Invoice


def decode_command(texts: Sequence[str], verify: bool, strict: bool, as_json: bool = False) -> int:
    """Each invoice as a person reads it (or, with ``--json``, a JSON list for programs); errors on stderr."""
    import json

    from lnnotebook.bolt11 import InvoiceError, decode

    status = 0
    records = []
    for text in texts:
        try:
            invoice = decode(text, verify=verify, strict=strict)
        except InvoiceError as error:
            print(f"{_short(text)}: {type(error).__name__}: {error}", file=sys.stderr)
            status = 1
            continue
        if as_json:
            records.append(invoice_record(invoice))
        else:
            print(invoice_text(invoice))
    if as_json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    return status


def _short(text: str, keep: int = 24) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-8:]}"


def invoice_text(invoice: Invoice) -> str:
    """An invoice in lines a person reads: amount in sat, expiry and whether expired, names, not reprs."""
    from lnnotebook.display import NETWORK_NAMES, amount_hint, format_amount, format_duration, time_left

    rows = [("invoice", _short(invoice.bolt11)), ("amount", format_amount(invoice.amount_msat))]
    hint = amount_hint(invoice.amount_msat)
    if hint:
        rows.append(("", hint))
    rows.append(("network", f"{invoice.network} ({NETWORK_NAMES.get(invoice.network, 'unknown')})"))
    if invoice.description is not None:
        rows.append(("description", invoice.description or "(empty)"))
    if invoice.description_hash is not None:
        rows.append(("description hash", invoice.description_hash))
    rows.append(("payee", invoice.payee or "not verified (--no-verify and no n field)"))
    if invoice.created_at is not None:
        rows.append(("created", f"{invoice.created_at:%Y-%m-%d %H:%M:%S} UTC"))
    until = "" if invoice.expires_at is None else f", until {invoice.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    rows.append(("expiry", f"{format_duration(invoice.expiry)}{until}: {time_left(invoice)}"))
    rows.append(("payment hash", invoice.payment_hash))
    if invoice.features:
        rows.append(("features", ", ".join(map(str, invoice.features))))
    for number, route in enumerate(invoice.route_hints):
        path = " -> ".join(f"{hop.pubkey[:12]}… ({hop.short_channel_id})" for hop in route)
        rows.append((f"route hint {number + 1}", path))
    if invoice.fallback_addresses:
        rows.append(("fallback addresses", ", ".join(invoice.fallback_addresses)))
    rows.append(("min final CLTV", f"{invoice.min_final_cltv_expiry} blocks"))
    for warning in invoice.warnings:
        rows.append(("warning", warning))
    return "\n".join(f"{name:>18}{':' if name else ' '} {value}" for name, value in rows) + "\n"


def invoice_record(invoice: Invoice) -> dict[str, Any]:
    """An invoice as JSON-ready values: ISO 8601 times, hints as objects, feature names, ``is_expired``."""
    record: dict[str, Any] = {}
    for name in invoice.__dataclass_fields__:
        value = getattr(invoice, name)
        if name == "route_hints":
            value = [[hop._asdict() for hop in route] for route in value]
        elif name == "features":
            value = [{"bit": feature.bit, "name": feature.name} for feature in value]
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        record[name] = value
    record["amount_sat"] = invoice.amount_sat
    record["is_expired"] = invoice.is_expired
    return record


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
    if getattr(args, "limit", None) is not None and args.limit < 1:
        print(f"--limit must be a positive number of invoices, not {args.limit}", file=sys.stderr)
        return 2
    filters = {
        "provider": args.provider,
        "status": args.status,
        "since": args.since,
        "until": args.until,
        "failures": not args.no_failures,
    }
    from lnnotebook.service import FilterError

    with Ledger(path) as ledger:
        if getattr(args, "refresh", False):
            changes = ledger.refresh()
            print(f"refreshed {len(changes)} pending invoice(s), {int(changes['changed'].sum())} changed")
        try:
            frame = history(ledger, **filters)
        except FilterError as error:
            print(f"lnnotebook {args.command}: {error}", file=sys.stderr)
            return 2
    if args.command == "export":
        to_csv(frame, args.path, safe=not args.unsafe, raw=args.raw)
        print(f"wrote {len(frame)} invoice(s) to {args.path}")
        return 0
    if frame.empty:
        print("no invoices match")
        return 0
    print(history_text(frame, args.limit))
    return 0


def history_text(frame: pd.DataFrame, limit: int | None) -> str:
    """The ledger's rows for a terminal: the last ``limit`` (all when None), times in UTC to the second."""
    import pandas as pd

    shown = frame.tail(limit) if limit is not None else frame
    table = shown[["id", "provider", "status", "amount_sat", "fee_sat", "memo", "created_at", "error_type"]]
    table = table.assign(
        created_at=table["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S UTC"),
        amount_sat=table["amount_sat"].map(lambda value: f"{value:,}", na_action="ignore"),
    ).rename(columns={"created_at": "created (UTC)", "amount_sat": "amount (sat)", "fee_sat": "fee (sat)"})
    table["created (UTC)"] = table["created (UTC)"].str.removesuffix(" UTC")
    with pd.option_context("display.width", 160, "display.max_colwidth", 40):
        text = table.to_string(index=False, na_rep="—")
    if limit is not None and len(frame) > limit:
        text += f"\n(the last {limit} of {len(frame)} invoices; --limit shows more)"
    return text


def _add_decode_command(commands: Any) -> None:
    decode_parser = commands.add_parser("decode", help="decode invoices given as arguments or on stdin")
    decode_parser.add_argument("invoices", nargs="*", help="invoices (default: one per line on stdin)")
    decode_parser.add_argument("--no-verify", action="store_true", help="skip signature verification")
    decode_parser.add_argument("--lenient", action="store_true", help="accept payability-rule violations")
    decode_parser.add_argument(
        "--json", action="store_true", help="a JSON list of the invoices, for programs"
    )


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
        "--sample", type=Path, help="invoices to decode too (default: the sample shipped with lnnotebook)"
    )

    _add_decode_command(commands)
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
    history_parser.add_argument("--limit", type=int, help="show only the most recent N invoices")
    export_parser = commands.add_parser("export", help="write the ledger's invoices to a CSV file")
    export_parser.add_argument("path", type=Path, help="CSV file to write")
    add_filters(export_parser)
    export_parser.add_argument("--unsafe", action="store_true", help="do not neutralise formula-like cells")
    export_parser.add_argument("--raw", action="store_true", help="keep the providers' raw JSON answers")

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
        return decode_command(texts, verify=not args.no_verify, strict=not args.lenient, as_json=args.json)
    if args.command == "decode-file":
        return decode_file_command(args)
    if args.command in ("history", "export", "reconcile"):
        return reconcile_command(args) if args.command == "reconcile" else ledger_command(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
