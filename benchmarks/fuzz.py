"""Long fuzz campaigns of the decoder (lnnotebook.fuzz): run by hand, not as a test.

    python benchmarks/fuzz.py                      # 1,000,000 inputs, seed 1
    python benchmarks/fuzz.py --inputs 5000000 --seed 7 --batch 5000

Reports the inputs checked (by kind), escapes (an exception other than InvoiceError), row mismatches
(decode_frame against decode, re-signed invoices against what was signed), the slowest input, and memory
growth: the resident set after the first batch and at the end (a bounded decoder levels off). Exits 1 on
any escape or mismatch.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time

from lnnotebook.fuzz import Report, cases, check


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args(argv)
    total = Report()
    stream = cases(args.seed, args.inputs)
    started = time.perf_counter()
    first_rss = None
    while batch := list(itertools.islice(stream, args.batch)):
        total.merge(check(batch))
        if first_rss is None:
            first_rss = rss_mib()
        if total.inputs % (args.batch * 20) == 0:
            print(
                f"  {total.inputs:,} inputs, {time.perf_counter() - started:.0f} s, RSS {rss_mib():.0f} MiB",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    print(f"inputs: {total.inputs:,} ({', '.join(f'{k} {v:,}' for k, v in sorted(total.by_kind.items()))})")
    print(f"time: {elapsed:.0f} s ({total.inputs / elapsed:,.0f} inputs/s)")
    print(f"escapes: {len(total.escapes)}; row mismatches: {len(total.mismatches)}")
    for text, problem in (total.escapes + total.mismatches)[:10]:
        print(f"  {problem}: {text[:100]!r}")
    print(f"slowest input: {total.slowest_s * 1000:.1f} ms: {total.slowest_input[:80]!r}")
    print(f"memory: RSS {first_rss:.0f} MiB after the first batch, {rss_mib():.0f} MiB at the end")
    return 1 if total.escapes or total.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
