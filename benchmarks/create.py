"""Create 400 invoices across the four sandbox emulators at 50 ms latency: workers=1 against workers=8.

    python benchmarks/create.py [--count 400] [--latency 0.05] [--workers 8]

Prints both wall times and the ratio (target: at least 5x). Every invoice is a real signed BOLT11
string; the run fails if any row has an error or the emulators minted a different number.
"""

from __future__ import annotations

import argparse
import sys
import time

import lnnotebook as ln


def run(sb, count: int, workers: int) -> tuple[float, int]:
    providers = sb.providers()
    repeat = count // len(providers)
    before = sum(sb.minted(name) for name in sb.names())
    started = time.perf_counter()
    frame = ln.create_invoices(providers, 1_000, "benchmark", repeat=repeat, workers=workers, progress=False)
    elapsed = time.perf_counter() - started
    for client in providers:
        client.close()
    failures = int(frame["error"].notna().sum() + frame["decode_error"].notna().sum())
    minted = sum(sb.minted(name) for name in sb.names()) - before
    if failures or minted != len(frame):
        raise SystemExit(f"workers={workers}: {failures} failed rows, {minted} minted for {len(frame)} rows")
    return elapsed, len(frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    with ln.sandbox(latency=args.latency, seed="benchmark") as sb:
        run(sb, 8, args.workers)  # warm up imports, connections and decoder tables
        serial, rows = run(sb, args.count, 1)
        parallel, _ = run(sb, args.count, args.workers)
    ratio = serial / parallel
    print(f"{rows} invoices across {', '.join(sb.names())} at latency={args.latency:g} s")
    print(f"workers=1:  {serial:7.2f} s  ({rows / serial:6.1f} invoices/s)")
    print(f"workers={args.workers}:  {parallel:7.2f} s  ({rows / parallel:6.1f} invoices/s)")
    print(f"ratio:      {ratio:7.2f}x  (target >= 5x)")
    return 0 if ratio >= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
