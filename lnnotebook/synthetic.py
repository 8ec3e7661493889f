"""Realistic random BOLT11 invoices for tests, benchmarks and the sample data file.

Everything is derived from a seed, so the same seed gives the same invoices on any machine and with any
number of worker processes. Timestamps run up to a fixed date (``LATEST_TIMESTAMP``) rather than "now" for
that reason.

    python -m lnnotebook.synthetic --sample lnnotebook/examples/sample_invoices.txt \
        [--spec tests/data/spec_vectors.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import base58
from coincurve import PrivateKey

from lnnotebook.bolt11 import NETWORKS, encode_invoice, encode_segwit_address

__all__ = [
    "EARLIEST_TIMESTAMP",
    "LATEST_TIMESTAMP",
    "MAX_TIMESTAMP",
    "NODE_KEYS",
    "generate_invoices",
    "random_invoice_params",
    "write_sample_file",
]

EARLIEST_TIMESTAMP = 1_496_275_200  # 2017-06-01, around the first BOLT11 invoices
LATEST_TIMESTAMP = 1_793_491_200  # 2026-11-01; fixed so that output does not depend on the clock
MAX_TIMESTAMP = 2**35 - 1  # year 3058, the largest 35-bit timestamp
PANDAS_NS_LIMIT = 9_223_372_036  # last second representable as datetime64[ns] (year 2262)

# A small pool of payee node keys, so that payees repeat as they do in real data.
NODE_KEYS: tuple[str, ...] = tuple(
    hashlib.sha256(f"lnnotebook synthetic payee node {index}".encode()).hexdigest() for index in range(8)
)

_NETWORK_WEIGHTS = {"bc": 60, "tb": 15, "tbs": 10, "bcrt": 15}
_CHUNK_SIZE = 250  # invoices per derived seed; fixed so that output does not depend on the worker count

_ASCII_DESCRIPTIONS = (
    "1 cup coffee",
    "Coffee",
    "Donation",
    "Tip for the podcast",
    "Order #{n} at The Bitcoin Shop",
    "Invoice {n}",
    "Payment for 2 x T-shirt (L), shipping included",
    "Monthly VPN subscription",
    "Top up account {n}",
    "Zap",
    "Channel rebalance",
    "Refund for order {n}",
    "Swap-in",
    "Test payment",
    "Pay to unlock article: Why Lightning Matters",
    'Order {n}: "Back In My Day" sticker x 2, "I Got Lightning Working" sticker x 1',
    "Line one\nLine two",
    "Tab\tseparated, comma, and semicolon; all in one",
    "<script>alert('xss')</script>",
    "Robert'); DROP TABLE invoices;--",
)
_UNICODE_DESCRIPTIONS = (
    "ナンセンス 1杯",
    "咖啡一杯",
    "커피 한 잔",
    "Чашка кофе",
    "قهوة",
    "Café crème, 2 croissants",
    "⚡ Zap ⚡",
    "☕🍕🍺",
    "Thanks! 🙏🏽",
    "👩‍💻 Freelance work, week {n}",
    "🇸🇻 Chivo",
    "Ωmega – em dash — ellipsis …",
    "e\u0301 combining accent",
    "Straße 12, München",
)
_LONG_TEXT_WORDS = (
    "lightning", "invoice", "payment", "channel", "satoshi", "node", "route", "fee", "order", "coffee",
    "ナンセンス", "咖啡", "⚡", "🍕", "Blockstream", "Ledger", "Nano", "USD", "x", "1", "and", "more",
    "items",
)  # fmt: skip


@cache
def _node_ids(count: int = 40) -> tuple[str, ...]:
    """Public keys of routing nodes that appear in route hints (LSPs and peers repeat in real data)."""
    keys = (hashlib.sha256(f"lnnotebook synthetic routing node {i}".encode()).digest() for i in range(count))
    return tuple(PrivateKey(key).public_key.format(compressed=True).hex() for key in keys)


def _random_point(rng: random.Random) -> bytes:
    return PrivateKey(rng.randbytes(32)).public_key.format(compressed=True)


def _random_amount_msat(rng: random.Random) -> int | None:
    """Amounts spread over every hrp multiplier, plus the unusual extremes decoders must survive."""
    kind = rng.choices(
        ("none", "p", "n", "u", "m", "btc", "kilo_btc", "huge"), weights=(12, 20, 25, 22, 12, 5, 2, 2)
    )[0]
    if kind == "none":
        return None
    if kind == "p":  # sub-satoshi precision: msat not a multiple of 100
        while (amount := rng.randint(1, 10**10)) % 100 == 0:
            pass
        return amount
    if kind == "n":  # satoshi-ish amounts: multiple of 100 msat, not of 100_000
        while (amount := rng.randint(1, 10**8) * 100) % 100_000 == 0:
            pass
        return amount
    if kind == "u":
        while (amount := rng.randint(1, 10**6) * 100_000) % 10**8 == 0:
            pass
        return amount
    if kind == "m":
        while (amount := rng.randint(1, 10**4) * 10**8) % 10**11 == 0:
            pass
        return amount
    if kind == "btc":
        return rng.randint(1, 21_000_000) * 10**11
    if kind == "kilo_btc":  # whole multiples of 1000 BTC: bolt11 2.2.0's msat_to_amount gets these wrong
        return rng.randint(1, 21_000) * 10**14
    # Beyond int64 msat (no upper bound in the format): 2**63 msat is about 92 million BTC.
    return rng.randint(2**63, 2**80)


def _long_text(rng: random.Random, max_bytes: int) -> str:
    target = rng.randint(max_bytes // 2, max_bytes)
    words: list[str] = []
    size = -1
    while True:
        word = rng.choice(_LONG_TEXT_WORDS)
        added = len(word.encode()) + 1
        if size + added > target:
            return " ".join(words)
        words.append(word)
        size += added


def _random_description(rng: random.Random) -> tuple[str | None, str | None]:
    """(description, description_hash): exactly one is set."""
    kind = rng.choices(("ascii", "unicode", "empty", "long", "hash"), weights=(45, 20, 5, 12, 18))[0]
    number = rng.randint(1, 99_999)
    if kind == "ascii":
        return rng.choice(_ASCII_DESCRIPTIONS).format(n=number), None
    if kind == "unicode":
        return rng.choice(_UNICODE_DESCRIPTIONS).format(n=number), None
    if kind == "empty":
        return "", None
    if kind == "long":
        return _long_text(rng, 620), None
    # LNURL-pay style: the invoice commits to the hash of a metadata document served elsewhere.
    metadata = json.dumps([["text/plain", f"Pay to user{number}@example.com"], ["text/identifier", "x"]])
    return None, hashlib.sha256(metadata.encode() + rng.randbytes(8)).hexdigest()


def _random_hop(rng: random.Random, network: str) -> dict[str, Any]:
    pubkey = rng.choice(_node_ids()) if rng.random() < 0.8 else _random_point(rng).hex()
    block = rng.randint(500_000, 880_000) if network == "bc" else rng.randint(100, 3_000_000)
    fee_base = rng.choice((0, 0, 1, 1000, 1000, rng.randint(0, 10_000)))
    fee_proportional = rng.choice((0, 1, 100, 500, 2500, rng.randint(0, 5_000)))
    cltv_delta = rng.choice((9, 18, 34, 40, 80, 144, rng.randint(9, 2016)))
    # Values a signed reader would misread: u32 fees >= 2**31 and u16 deltas near the top.
    if rng.random() < 0.08:
        fee_base = rng.choice((2**31, 0xFFFFFFFF, rng.randint(2**31, 0xFFFFFFFF)))
    if rng.random() < 0.08:
        fee_proportional = rng.choice((2**31, 0xFFFFFFFF, rng.randint(2**31, 0xFFFFFFFF)))
    if rng.random() < 0.05:
        cltv_delta = rng.choice((2**15, 0xFFFF, rng.randint(2**15, 0xFFFF)))
    return {
        "pubkey": pubkey,
        "short_channel_id": f"{block}x{rng.randint(0, 3_000)}x{rng.randint(0, 5)}",
        "fee_base_msat": fee_base,
        "fee_proportional_millionths": fee_proportional,
        "cltv_expiry_delta": cltv_delta,
    }


def _random_route_hints(rng: random.Random, network: str) -> list[list[dict[str, Any]]]:
    route_count = rng.choices((0, 1, 2, 3), weights=(55, 28, 11, 6))[0]
    return [
        [
            _random_hop(rng, network)
            for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(50, 20, 10, 8, 12))[0])
        ]
        for _ in range(route_count)
    ]


def random_fallback_address(rng: random.Random, network: str, kind: str) -> str:
    """A valid on-chain address of ``kind`` (p2pkh, p2sh, p2wpkh, p2wsh, p2tr) for the invoice network."""
    segwit_hrp, p2pkh_version, p2sh_version = NETWORKS[network]
    if kind == "p2pkh":
        return base58.b58encode_check(bytes([p2pkh_version]) + rng.randbytes(20)).decode()
    if kind == "p2sh":
        return base58.b58encode_check(bytes([p2sh_version]) + rng.randbytes(20)).decode()
    if kind == "p2wpkh":
        return encode_segwit_address(segwit_hrp, 0, rng.randbytes(20))
    if kind == "p2wsh":
        return encode_segwit_address(segwit_hrp, 0, rng.randbytes(32))
    if kind == "p2tr":  # an x-only key, as a real taproot output would have
        return encode_segwit_address(segwit_hrp, 1, _random_point(rng)[1:])
    raise ValueError(f"unknown fallback address kind {kind!r}")


FALLBACK_KINDS = ("p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr")


def _random_timestamp(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.01:
        return MAX_TIMESTAMP
    if roll < 0.03:  # beyond pandas' datetime64[ns] range
        return rng.randint(PANDAS_NS_LIMIT + 1, MAX_TIMESTAMP)
    return rng.randint(EARLIEST_TIMESTAMP, LATEST_TIMESTAMP)


def random_invoice_params(rng: random.Random, *, network: str | None = None) -> dict[str, Any]:
    """Keyword arguments for :func:`lnnotebook.bolt11.encode_invoice` describing one realistic invoice."""
    if network is None:
        network = rng.choices(tuple(_NETWORK_WEIGHTS), weights=tuple(_NETWORK_WEIGHTS.values()))[0]
    elif network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; expected one of {sorted(NETWORKS)}")
    description, description_hash = _random_description(rng)

    features = {8, 14}
    if rng.random() < 0.4:
        features.add(17)  # basic_mpp, optional
    if rng.random() < 0.1:
        features.add(9)  # var_onion_optin, optional bit of the same pair
    if rng.random() < 0.05:
        features.add(99)  # unknown odd bit: readers must ignore it
    metadata = None
    if rng.random() < 0.05:
        features.add(48)  # option_payment_metadata (compulsory) goes with an m field
        metadata = rng.randbytes(rng.randint(1, 64)).hex()

    fallback_count = rng.choices((0, 1, 2), weights=(80, 15, 5))[0]
    fallbacks = [
        random_fallback_address(rng, network, rng.choice(FALLBACK_KINDS)) for _ in range(fallback_count)
    ]

    return {
        "private_key": rng.choice(NODE_KEYS),
        "payment_hash": rng.randbytes(32).hex(),
        "payment_secret": rng.randbytes(32).hex(),
        "network": network,
        "amount_msat": _random_amount_msat(rng),
        "timestamp": _random_timestamp(rng),
        "description": description,
        "description_hash": description_hash,
        "expiry": None
        if rng.random() < 0.5
        else rng.choice((60, 300, 600, 900, 1800, 3600, 7200, 86_400, 604_800, rng.randint(60, 604_800))),
        "min_final_cltv_expiry": None
        if rng.random() < 0.4
        else rng.choice((9, 18, 40, 80, 144, rng.randint(9, 144))),
        "fallback_addresses": fallbacks,
        "route_hints": _random_route_hints(rng, network),
        "features": sorted(features),
        "metadata": metadata,
        "include_payee": rng.random() < 0.1,
    }


def _chunk_rng(seed: int, chunk_index: int) -> random.Random:
    # A string seed is hashed (SHA-512) by random.Random, so neighbouring chunks get unrelated streams.
    return random.Random(f"lnnotebook.synthetic:{seed}:{chunk_index}")


def _generate_chunk(seed: int, chunk_index: int, count: int) -> list[str]:
    rng = _chunk_rng(seed, chunk_index)
    return [encode_invoice(**random_invoice_params(rng)) for _ in range(count)]


def _chunks(seed: int, first_chunk: int, total: int) -> Iterator[tuple[int, int, int]]:
    index = first_chunk
    while total > 0:
        count = min(_CHUNK_SIZE, total)
        yield seed, index, count
        index += 1
        total -= count


def generate_invoices(n: int, *, seed: int = 0, workers: int = 1, progress: bool = False) -> list[str]:
    """``n`` distinct signed invoices, identical for a given seed whatever the number of ``workers``.

    The work is cut into fixed-size chunks, each with its own seed derived from ``seed``; with ``workers > 1``
    the chunks run in a process pool.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    invoices: list[str] = []
    seen: set[str] = set()
    next_chunk = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="generating invoices", unit="inv")
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 and n > _CHUNK_SIZE else None
    try:
        # Repeats only if duplicates were dropped (random 32-byte hashes make that practically never).
        while len(invoices) < n:
            jobs = list(_chunks(seed, next_chunk, n - len(invoices)))
            next_chunk += len(jobs)
            if pool is None:
                results: Iterator[list[str]] = (_generate_chunk(*job) for job in jobs)
            else:
                results = pool.map(_generate_chunk, *zip(*jobs))
            for chunk in results:
                for invoice in chunk:
                    if invoice not in seen and len(invoices) < n:
                        seen.add(invoice)
                        invoices.append(invoice)
                if bar is not None:
                    bar.update(len(chunk))
    finally:
        if pool is not None:
            pool.shutdown()
        if bar is not None:
            bar.close()
    return invoices


# ----------------------------------------------------------------------------------------------------------
# Sample file


def sample_coverage_problems(params: list[dict[str, Any]]) -> list[str]:
    """What the sample's generated part fails to cover (empty list when it covers everything required)."""
    problems = []
    for network in NETWORKS:
        if not any(p["network"] == network for p in params):
            problems.append(f"no {network} invoice")
    if not any(p["amount_msat"] is None for p in params):
        problems.append("no amountless invoice")
    if not any(p["route_hints"] for p in params):
        problems.append("no route hints")
    if not any(p["fallback_addresses"] for p in params):
        problems.append("no fallback addresses")
    return problems


def write_sample_file(sample_path: Path, spec_path: Path, *, count: int = 300, seed: int = 7) -> int:
    """Writes the spec's valid examples, then ``count`` generated invoices; returns the line count."""
    vectors = json.loads(spec_path.read_text(encoding="utf-8"))
    spec_invoices = [vector["invoice"] for vector in vectors["valid"]]
    rng = _chunk_rng(seed, 0)
    params = [random_invoice_params(rng) for _ in range(count)]
    problems = sample_coverage_problems(params)
    if problems:
        raise ValueError(f"seed {seed} with count {count} does not cover: {', '.join(problems)}")
    generated = [encode_invoice(**p) for p in params]
    if len(set(generated)) != len(generated):
        raise ValueError("generated invoices are not distinct")
    header = (
        f"# BOLT11 sample: the {len(spec_invoices)} 'valid' examples of the BOLT 11 spec (valid[13] fails "
        f"current reader rules, bolts#1358), then {count} synthetic invoices "
        f"(python -m lnnotebook.synthetic, seed {seed})"
    )
    lines = [header, *spec_invoices, *generated]
    sample_path.parent.mkdir(parents=True, exist_ok=True)
    sample_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lnnotebook.synthetic", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sample", type=Path, required=True, help="sample file to write")
    parser.add_argument(
        "--spec", type=Path, default=Path("tests/data/spec_vectors.json"), help="spec vectors JSON"
    )
    parser.add_argument("--count", type=int, default=300, help="generated invoices after the spec examples")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    lines = write_sample_file(args.sample, args.spec, count=args.count, seed=args.seed)
    print(f"wrote {lines} lines to {args.sample}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
