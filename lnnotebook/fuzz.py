"""Fuzzing the decoder: hostile inputs and the checks every one of them must pass.

Used by ``tests/test_fuzz.py`` (a few thousand inputs, seconds) and ``benchmarks/fuzz.py`` (long
campaigns). Three kinds of input, all from one seeded ``random.Random``:

* **mutated** valid invoices: characters replaced, deleted, inserted, case flipped, cut, segments
  repeated, Unicode look-alikes (KELVIN SIGN for ``k``...) spliced in;
* **re-signed** odd invoices: valid signatures over unusual fields (huge or zero expiry, empty or
  maximal descriptions, many route hints, unknown feature bits, metadata, fallback addresses);
* odd **URIs**: ``lightning:`` and BIP-21 ``bitcoin:`` forms with empty, repeated, percent-encoded,
  oversized or misplaced parameters.

The checks (``check``): ``decode`` raises nothing but ``InvoiceError``; a re-signed invoice decodes to
what was signed; and ``decode_frame(errors="coerce")`` gives one row per input that agrees with
``decode`` on every input (same payment hash, or an error where ``decode`` raised).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lnnotebook.bolt11 import InvoiceError, decode, encode_invoice
from lnnotebook.synthetic import random_invoice_params

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_ODD = [
    "\u212a",
    "\u0131",
    "\u017f",
    "\uff4c",
    "\u00a0",
    "\u200b",
    "\ufeff",
    "\x00",
    "\u0301",
    "1",
    "'",
    '"',
    " ",
]


@dataclass
class Case:
    """One fuzz input: its ``kind`` and, for re-signed ones, what was signed."""

    kind: str
    text: str
    signed: dict[str, Any] | None = None


@dataclass
class Report:
    """What ``check`` found: escapes (an exception other than InvoiceError), row mismatches, the
    slowest input and how many inputs of each kind were checked."""

    inputs: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    escapes: list[tuple[str, str]] = field(default_factory=list)  # (input, exception repr)
    mismatches: list[tuple[str, str]] = field(default_factory=list)  # (input, what differs)
    slowest_s: float = 0.0
    slowest_input: str = ""

    def merge(self, other: Report) -> None:
        self.inputs += other.inputs
        for kind, count in other.by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + count
        self.escapes += other.escapes
        self.mismatches += other.mismatches
        if other.slowest_s > self.slowest_s:
            self.slowest_s, self.slowest_input = other.slowest_s, other.slowest_input


def mutate(rng: random.Random, text: str) -> str:
    """``text`` with one to four random edits."""
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        if not chars:
            chars = list("lnbc")
        position = rng.randrange(len(chars))
        edit = rng.randrange(8)
        if edit == 0:
            chars[position] = rng.choice(_BECH32)
        elif edit == 1:
            del chars[position]
        elif edit == 2:
            chars.insert(position, rng.choice(_BECH32 + "".join(_ODD)))
        elif edit == 3:
            chars[position] = chars[position].swapcase()
        elif edit == 4:
            chars = chars[: rng.randrange(len(chars) + 1)]
        elif edit == 5:
            start = rng.randrange(len(chars))
            chars[start:start] = chars[start : start + rng.randint(1, 64)] * rng.randint(1, 20)
        elif edit == 6:
            chars[position] = rng.choice(_ODD)
        else:
            chars = list("".join(chars).upper())
    return "".join(chars)


def resigned(rng: random.Random) -> tuple[str, dict[str, Any]]:
    """A validly signed invoice with unusual fields, and the parameters it was signed with."""
    params = random_invoice_params(rng)
    choice = rng.randrange(6)
    if choice == 0:
        params["expiry"] = rng.choice([0, 1, 2**31 - 1, 2**40])
    elif choice == 1:
        params["description"], params["description_hash"] = rng.choice(["", "x" * 639, "é" * 319]), None
    elif choice == 2:
        params["features"] = sorted(
            {8, 14, *rng.sample(range(101, 600, 2), rng.randint(1, 6))}
        )  # odd: optional
    elif choice == 3:
        params["metadata"] = rng.randbytes(rng.randint(1, 200)).hex()
    elif choice == 4:
        params["min_final_cltv_expiry"] = rng.choice([0, 1, 2**20])
    else:
        params["amount_msat"] = rng.choice([None, 1, 10, 2_100_000_000_000_000_000])
    try:
        return encode_invoice(**params), params
    except (ValueError, InvoiceError):  # a combination the encoder refuses: use the plain one
        params = random_invoice_params(rng)
        return encode_invoice(**params), params


def odd_uri(rng: random.Random, valid: str) -> str:
    forms = [
        f"lightning:{valid}",
        f"LIGHTNING:{valid.upper()}",
        f"bitcoin:?lightning=&LIGHTNING={valid}",
        f"bitcoin:bc1q?amount=1&lightning={valid}&lightning=lnbc1bogus",
        f"bitcoin:?lightning={valid[: rng.randrange(len(valid))]}",
        f"bitcoin:?label={'x' * rng.choice([10, 7_000, 20_000])}&lightning={valid}",
        f"bitcoin:?lightning=%6C%6E{valid[2:]}",
        f"  '{valid}'  ",
        f'"lightning:{valid}"',
        "bitcoin:" + "?" * rng.randint(1, 50) + "lightning=" * rng.randint(1, 50),
    ]
    return rng.choice(forms)


def cases(seed: int, count: int, *, valid_pool: int = 200) -> Iterator[Case]:
    """``count`` fuzz inputs from ``seed``: mutated (60%), re-signed (20%) and URIs (20%)."""
    rng = random.Random(seed)
    pool = [encode_invoice(**random_invoice_params(rng)) for _ in range(valid_pool)]
    for _ in range(count):
        roll = rng.random()
        if roll < 0.6:
            yield Case("mutated", mutate(rng, rng.choice(pool)))
        elif roll < 0.8:
            text, params = resigned(rng)
            yield Case("resigned", text, params)
        else:
            yield Case("uri", odd_uri(rng, rng.choice(pool)))


def check(batch: list[Case]) -> Report:
    """Run every check on ``batch`` (see the module docstring)."""
    from lnnotebook.frames import decode_frame

    report = Report(inputs=len(batch))
    expected: list[str | None] = []
    for case in batch:
        report.by_kind[case.kind] = report.by_kind.get(case.kind, 0) + 1
        started = time.perf_counter()
        try:
            invoice = decode(case.text)
        except InvoiceError:
            invoice = None
        except Exception as exc:  # noqa: BLE001 (an escape is exactly what is being looked for)
            report.escapes.append((case.text[:300], repr(exc)[:300]))
            invoice = None
        elapsed = time.perf_counter() - started
        if elapsed > report.slowest_s:
            report.slowest_s, report.slowest_input = elapsed, case.text[:120]
        if case.signed is not None and _differs(invoice, case.signed):
            report.mismatches.append((case.text[:300], "re-signed invoice did not decode to what was signed"))
        expected.append(None if invoice is None else invoice.payment_hash)
    frame = decode_frame([case.text for case in batch], errors="coerce")
    if len(frame) != len(batch):
        report.mismatches.append(("", f"decode_frame gave {len(frame)} rows for {len(batch)} inputs"))
        return report
    for case, wanted, got, error in zip(batch, expected, frame["payment_hash"], frame["error"]):
        got = str(got) if isinstance(got, str) else None  # NA otherwise
        if wanted != got or (wanted is None) != isinstance(error, str):
            report.mismatches.append((case.text[:300], f"decode: {wanted}, decode_frame: {got} ({error})"))
    return report


def _differs(invoice: Any, params: dict[str, Any]) -> bool:
    if invoice is None:
        return True
    return bool(
        invoice.payment_hash != params["payment_hash"]
        or invoice.amount_msat != params.get("amount_msat")
        or invoice.network != params.get("network", "bc")
    )


__all__ = ["Case", "Report", "cases", "check", "mutate", "odd_uri", "resigned"]
