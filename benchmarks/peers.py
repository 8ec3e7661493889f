"""lnnotebook against the other BOLT11 decoders one can install, on the same invoices, in one run.

Run by hand, not as a test:

    python benchmarks/peers.py                 # 2,000 distinct mainnet invoices
    python benchmarks/peers.py --count 5000

The peers live in their own environments under ``benchmarks/.cache/`` (git-ignored), installed on first
use with the ordinary clients: a venv with ``bolt11``, ``pyln-proto`` and ``breez-sdk`` from PyPI (each
skipped when it does not install), and, where ``node`` and ``npm`` are on PATH, the npm packages
``bolt11`` and ``light-bolt11-decoder``. Each decoder's amount and payee are checked against lnnotebook's
on every invoice (a decoder that does not check signatures reports the payee only where ``n`` gives it),
and the table prints each one's time per invoice as a multiple of ``decode_frame(verify=True)`` and of the
floor, bare public-key recovery of the same signatures through libsecp256k1.

Invoices: the benchmarks' cached synthetic set (``benchmarks/decode.py``), mainnet only and amounts
within 21 million BTC, so that every peer can read every invoice.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from decode import alternating_rounds, load_invoices, recover_all, signing_inputs  # noqa: E402

from lnnotebook import decode_frame  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
VENV = CACHE / "peers-venv"
NPM = CACHE / "peers-npm"
# What pip installs for each peer: bolt11 2.2.0 does not import with bitstring 5.
PYPI_PEERS = {
    "bolt11": ["bolt11", "bitstring>=4,<5"],
    "pyln-proto": ["pyln-proto"],
    "breez-sdk": ["breez-sdk"],
}
NPM_PEERS = ("bolt11", "light-bolt11-decoder")
MAX_MSAT = 21_000_000 * 10**11

# Runs in the peers' venv: times each installed decoder, prints JSON {name: {us, results | error}}.
PYTHON_RUNNER = r"""
import json, sys, time
invoices = open(sys.argv[1]).read().split()
repeat = int(sys.argv[2])
def peers():
    try:
        import bolt11
        yield "bolt11 (PyPI)", lambda s: (bolt11.decode(s), )[0], lambda i: (i.amount_msat, i.payee)
    except Exception as error:
        print(f"bolt11: {error}", file=sys.stderr)
    try:
        from pyln.proto import Invoice
        def pyln_fields(i):
            amount = i.amount
            return (None if amount is None else int(amount), i.pubkey.serializeCompressed().hex())
        yield "pyln-proto", Invoice.decode, pyln_fields
    except Exception as error:
        print(f"pyln-proto: {error}", file=sys.stderr)
    try:
        import breez_sdk
        yield "breez-sdk parse_invoice", breez_sdk.parse_invoice, lambda i: (i.amount_msat, i.payee_pubkey)
    except Exception as error:
        print(f"breez-sdk: {error}", file=sys.stderr)
report = {}
for name, decode, fields in peers():
    sample = invoices if name.startswith("breez") else invoices[: max(200, len(invoices) // 5)]
    results = []
    for text in sample:
        try:
            results.append(fields(decode(text)))
        except Exception as error:
            results.append(f"{type(error).__name__}: {error}"[:200])
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in sample:
            try:
                decode(text)
            except Exception:
                pass
        best = min(best, time.perf_counter() - start)
    report[name] = {"us": best / len(sample) * 1e6, "results": results}
print(json.dumps(report))
"""

# Runs in node: the npm peers, same report shape.
NODE_RUNNER = r"""
const fs = require("fs");
const invoices = fs.readFileSync(process.argv[2], "ascii").split(/\s+/).filter(Boolean);
const repeat = Number(process.argv[3]);
const report = {};
function run(name, decode, fields) {
  const results = invoices.map((text) => {
    try { return fields(decode(text)); } catch (e) { return String(e).slice(0, 200); }
  });
  let best = Infinity;
  for (let r = 0; r < repeat; r++) {
    const start = process.hrtime.bigint();
    for (const text of invoices) { try { decode(text); } catch (e) {} }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3);
  }
  report[name] = { us: best / invoices.length, results };
}
try {
  const bolt11 = require("bolt11");
  const amount = (i) => (i.millisatoshis == null ? null : Number(i.millisatoshis));
  run("npm bolt11", bolt11.decode, (i) => [amount(i), i.payeeNodeKey]);
} catch (e) { console.error("npm bolt11: " + e); }
try {
  const light = require("light-bolt11-decoder");
  const fields = (i) => {
    const amount = i.sections.find((s) => s.name === "amount");
    const payee = i.sections.find((s) => s.name === "payee");
    return [amount ? Number(amount.value) : null, payee ? payee.value : "(not checked)"];
  };
  run("npm light-bolt11-decoder (no signature check)", light.decode, fields);
} catch (e) { console.error("light-bolt11-decoder: " + e); }
console.log(JSON.stringify(report));
"""


def ensure_python_peers() -> Path | None:
    """The peers' venv (created and filled on first use); None when no venv can be made."""
    python = VENV / "bin" / "python"
    if not python.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        if subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False).returncode:
            return None
    for package, requirements in PYPI_PEERS.items():
        module = {"bolt11": "bolt11", "pyln-proto": "pyln.proto", "breez-sdk": "breez_sdk"}[package]
        present = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, check=False)
        if present.returncode:
            installed = subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *requirements],
                capture_output=True,
                check=False,
            )
            if installed.returncode:
                print(f"({package} does not install here: skipped)", file=sys.stderr)
    return python


def ensure_npm_peers() -> bool:
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("(node/npm not on PATH: the npm peers are skipped)", file=sys.stderr)
        return False
    missing = [name for name in NPM_PEERS if not (NPM / "node_modules" / name).exists()]
    if missing:
        NPM.mkdir(parents=True, exist_ok=True)
        command = ["npm", "install", "--silent", "--no-audit", "--no-fund", *missing]
        if subprocess.run(command, cwd=NPM, check=False).returncode:
            print(f"(npm install {' '.join(missing)} failed: skipped)", file=sys.stderr)
    return True


def run_peers(path: Path, repeat: int) -> dict:
    report: dict = {}
    python = ensure_python_peers()
    if python is not None:
        runner = CACHE / "peers_runner.py"
        runner.write_text(PYTHON_RUNNER, encoding="utf-8")
        done = subprocess.run(
            [str(python), str(runner), str(path), str(repeat)], capture_output=True, text=True
        )
        sys.stderr.write(done.stderr)
        if done.returncode == 0:
            report.update(json.loads(done.stdout.strip().splitlines()[-1]))
    if ensure_npm_peers():
        runner = NPM / "peers_runner.js"
        runner.write_text(NODE_RUNNER, encoding="utf-8")
        done = subprocess.run(
            ["node", str(runner), str(path), str(repeat)], capture_output=True, text=True, cwd=NPM
        )
        sys.stderr.write(done.stderr)
        if done.returncode == 0:
            report.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return report


def check(results: list, expected: list) -> str:
    """How a peer's (amount, payee) compare with lnnotebook's on the invoices it decoded."""
    wrong = failed = 0
    for got, (amount, payee) in zip(results, expected):
        if isinstance(got, str):
            failed += 1
        elif got[0] != amount or (got[1] != "(not checked)" and got[1] != payee):
            wrong += 1
    parts = [f"{len(results) - wrong - failed}/{len(results)} agree"]
    if wrong:
        parts.append(f"{wrong} differ")
    if failed:
        parts.append(f"{failed} fail")
    if failed == len(results):
        first = next(iter(results), "")
        return f"does not decode here: {first[:80]}"
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="distinct mainnet invoices (default 2,000)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    pool, _ = load_invoices(max(10_000, 4 * args.count), 0, 2)
    frame = decode_frame(pool, errors="coerce")
    usable = (
        frame["network"].eq("bc") & frame["error"].isna() & ~(frame["amount_msat"] > MAX_MSAT).fillna(False)
    )
    invoices = [text for text, keep in zip(pool, usable.to_numpy(dtype=bool)) if keep][: args.count]
    mine = decode_frame(invoices)
    expected = list(
        zip(mine["amount_msat"].astype(object).where(mine["amount_msat"].notna(), None), mine["payee"])
    )
    path = CACHE / f"peers-invoices-{len(invoices)}.txt"
    path.write_text("\n".join(invoices) + "\n", encoding="ascii")
    mean = sum(map(len, invoices)) / len(invoices)
    print(f"{len(invoices):,} distinct mainnet invoices, mean {mean:.0f} characters; best of {args.repeat}")

    pairs = signing_inputs(invoices)
    # lnnotebook's rows and the floor alternate round by round (the peers run in their own processes).
    ours = {
        "decode_frame(verify=True)": lambda: decode_frame(invoices),
        "decode_frame(verify=False)": lambda: decode_frame(invoices, verify=False),
        "libsecp256k1 recovery alone (coincurve), the floor": lambda: recover_all(pairs),
    }
    rows = [(name, min(seconds), "-") for name, seconds in alternating_rounds(ours, args.repeat).items()]
    rows = [(name, seconds / len(invoices) * 1e6, note) for name, seconds, note in rows]
    started = time.perf_counter()
    for name, entry in run_peers(path, args.repeat).items():
        rows.append((name, entry["us"], check(entry["results"], expected)))
    ours, floor = rows[0][1], rows[2][1]
    print(f"(peers measured in {time.perf_counter() - started:.0f} s)\n")
    print("| decoder | us/invoice | x lnnotebook | x floor | amount and payee |")
    print("|---|---|---|---|---|")
    for name, us, note in rows:
        print(f"| {name} | {us:,.1f} | {us / ours:.2f} | {us / floor:.2f} | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
