"""decode_file's memory: peak RSS growth of decoding 300,000 invoices from a text file into Parquet.

Run by hand, not as a test:

    python benchmarks/decode_file_memory.py                 # 300,000 invoices, default chunk size
    python benchmarks/decode_file_memory.py --count 50000   # a quick run

The measurement runs in a fresh interpreter: its peak RSS (``VmHWM``) after decode_file less its peak
once lnnotebook, pandas and pyarrow are imported. Target: growth <= 250 MB. With ``--compare`` it also
measures ``decode_frame`` over the whole file, then ``to_parquet``, for contrast.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from dask_scaling import cached_invoices  # noqa: E402

TARGET_MB = 250.0

CHILD = """
import json, resource, sys, time
from pathlib import Path
import pandas, pyarrow.parquet
import lnnotebook as ln, lnnotebook.streaming, lnnotebook.frames
def peak_mb():
    # VmHWM starts afresh at exec; ru_maxrss does not (it would begin at the forking parent's size)
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
source, target, mode, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
before = peak_mb()
started = time.perf_counter()
if mode == "decode_file":
    written = ln.decode_file(source, target, chunk_size=chunk, progress=False)
    rows = written.rows
else:
    frame = ln.decode_frame(Path(source).read_text(encoding="ascii").splitlines(), errors="coerce")
    frame.to_parquet(target)
    rows = len(frame)
print(json.dumps({"growth_mb": peak_mb() - before, "seconds": time.perf_counter() - started, "rows": rows}))
"""


def measure(source: Path, mode: str, chunk: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
        command = [
            sys.executable,
            "-c",
            CHILD,
            str(source),
            str(Path(folder) / "out.parquet"),
            mode,
            str(chunk),
        ]
        result = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    return json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    from lnnotebook.streaming import DEFAULT_CHUNK_SIZE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--compare", action="store_true", help="also decode_frame over the whole file")
    args = parser.parse_args(argv)
    cached_invoices(args.count, args.seed)
    source = Path(__file__).resolve().parent / ".cache" / f"invoices-n{args.count}-seed{args.seed}.txt"
    print(
        f"{args.count:,} invoices, {source.stat().st_size / 2**20:.0f} MB of text, "
        f"chunk size {args.chunk_size:,}"
    )
    streamed = measure(source, "decode_file", args.chunk_size)
    verdict = "meets" if streamed["growth_mb"] <= TARGET_MB else "ABOVE"
    print(
        f"decode_file: peak RSS growth {streamed['growth_mb']:.0f} MB "
        f"({verdict} the {TARGET_MB:.0f} MB target), "
        f"{streamed['seconds']:.1f} s, {args.count / streamed['seconds']:,.0f} invoices/s"
    )
    if args.compare:
        whole = measure(source, "decode_frame", args.chunk_size)
        print(
            f"decode_frame + to_parquet over the whole file: peak RSS growth {whole['growth_mb']:.0f} MB, "
            f"{whole['seconds']:.1f} s "
            f"({whole['growth_mb'] / max(streamed['growth_mb'], 1):.1f}x decode_file's)"
        )
    return 0 if streamed["growth_mb"] <= TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
