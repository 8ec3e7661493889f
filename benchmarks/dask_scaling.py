"""Dask scaling: decode invoices read from Parquet on a LocalCluster of 1, then 2 worker processes.

Run by hand, not as a test (figures depend on the machine and on what else runs on it):

    python benchmarks/dask_scaling.py                    # 1,000,000 invoices
    python benchmarks/dask_scaling.py --count 100000     # a quick run

The invoices (lnnotebook.synthetic, all distinct) are cached in benchmarks/.cache/ as text and as a
Parquet folder of ``--partitions`` files. Each cluster (one thread per worker, loopback, no dashboard)
reads the folder with ``dask.dataframe.read_parquet``, decodes ``bolt11`` with ``.ln.decode()`` and
computes a sum and an error count, so every partition is decoded on a worker and only small results come
back. Printed: invoices per second on each, and the ratio 2 workers / 1 worker (target >= 1.7x, which
needs two otherwise idle cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import lnnotebook.dask  # noqa: E402, F401  (registers .ln on dask Series)
from lnnotebook.synthetic import generate_invoices  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
TARGET_RATIO = 1.7


def cached_invoices(count: int, seed: int) -> list[str]:
    """Distinct invoices, cached as text (the same cache file as benchmarks/decode.py)."""
    path = CACHE / f"invoices-n{count}-seed{seed}.txt"
    if path.exists():
        invoices = path.read_text(encoding="ascii").split()
        if len(invoices) == count:
            return invoices
    started = time.perf_counter()
    invoices = generate_invoices(count, seed=seed, workers=os.cpu_count() or 1, progress=sys.stderr.isatty())
    print(f"generated {count:,} invoices in {time.perf_counter() - started:.0f} s")
    CACHE.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(invoices) + "\n", encoding="ascii")
    temporary.replace(path)
    return invoices


def parquet_folder(count: int, seed: int, partitions: int) -> Path:
    folder = CACHE / f"invoices-n{count}-seed{seed}-p{partitions}.parquet"
    if not (folder / "_done").exists():
        invoices = cached_invoices(count, seed)
        folder.mkdir(parents=True, exist_ok=True)
        size = -(-count // partitions)
        for part, start in enumerate(range(0, count, size)):
            piece = pd.DataFrame(
                {"bolt11": invoices[start : start + size]}, index=range(start, start + size)[:size]
            )
            piece.to_parquet(folder / f"part-{part:04d}.parquet")
        (folder / "_done").touch()
    return folder


def run(folder: Path, workers: int, verify: bool) -> tuple[float, int]:
    """Seconds to decode every invoice in ``folder`` on ``workers`` worker processes; rows decoded."""
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("lnnotebook.frames"))  # imports done before the clock starts
        decoded = dd.read_parquet(folder)["bolt11"].ln.decode(errors="coerce", verify=verify)
        started = time.perf_counter()
        rows, failed, _ = dask.compute(
            decoded["error"].size, decoded["error"].count(), decoded["amount_msat"].sum()
        )
        elapsed = time.perf_counter() - started
    if failed:
        raise SystemExit(f"{failed} generated invoices failed to decode")
    return elapsed, int(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="invoices (default 1,000,000)")
    parser.add_argument("--partitions", type=int, default=40, help="Parquet files, i.e. Dask partitions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-verify", action="store_true", help="skip signature verification")
    args = parser.parse_args(argv)
    folder = parquet_folder(args.count, args.seed, args.partitions)
    print(
        f"{args.count:,} invoices in {args.partitions} Parquet files; {os.cpu_count()} CPU(s) on this machine"
    )
    results = {}
    for workers in (1, 2):
        seconds, rows = run(folder, workers, verify=not args.no_verify)
        if rows != args.count:
            raise SystemExit(f"decoded {rows} rows, expected {args.count}")
        results[workers] = args.count / seconds
        print(f"{workers} worker(s): {seconds:6.1f} s, {results[workers]:,.0f} invoices/s")
    ratio = results[2] / results[1]
    verdict = "meets" if ratio >= TARGET_RATIO else "below"
    print(f"2 workers / 1 worker: {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
