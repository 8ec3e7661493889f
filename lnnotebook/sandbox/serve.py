"""``python -m lnnotebook.sandbox``: serve the emulators until interrupted.

Prints one ``export LNNOTEBOOK_<PROVIDER>_<OPTION>=...`` line per option, so
``eval "$(python -m lnnotebook.sandbox & sleep 1)"`` style setups (or copy-paste) point clients at it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import threading

from lnnotebook.sandbox import Sandbox, emulator_classes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lnnotebook sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--seed", default=None, help="fixed seed for node keys and credentials")
    parser.add_argument(
        "--provider",
        action="append",
        choices=sorted(emulator_classes()),
        help="emulator to start (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    with Sandbox(args.latency, providers=args.provider, seed=args.seed) as sb:
        for name in sb.names():
            print(f"# {name}: {sb.url(name)}")
        for variable, value in sb.env().items():
            print(f"export {variable}={shlex.quote(value)}")
        print("# serving; press Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("# stopped", file=sys.stderr)
    return 0
