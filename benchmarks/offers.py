"""Decoding speed of BOLT 12 offers: ``offers_frame`` over 10,000 distinct offers.

Run by hand, not as a test:

    python benchmarks/offers.py                 # 10,000 offers, best of 3
    python benchmarks/offers.py --profile       # also the top functions of offers_frame

There is no Python BOLT 12 decoder to compare with, so the figures are absolute (us per offer), beside
the floor of the same work a decoder cannot skip: parsing each public key with libsecp256k1 (coincurve)
and the SHA-256 calls of the merkle root. Offers are generated here from a seed, realistic in shape:
mostly an issuer id with a description, some with amounts (msat or a currency), expiry, issuer,
quantity, and a third with one or two blinded paths of one to three hops.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import pstats
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Runs as a script from any directory: make the repository importable.
REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from coincurve import PrivateKey, PublicKey  # noqa: E402

from lnnotebook.bolt12 import decode_offer, offer_paths_frame, offers_frame  # noqa: E402
from lnnotebook.bolt12.encode import blinded_path, encode, offer_records  # noqa: E402

TARGET_US_PER_OFFER = 150.0  # offers_frame, one core of a shared CI machine


def generate_offers(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    keys = [PrivateKey(rng.randbytes(32)).public_key.format() for _ in range(max(64, count // 10))]
    offers = []
    for number in range(count):
        fields: dict = {"description": f"item {number} " + "x" * rng.randrange(0, 40)}
        if rng.random() < 0.6:
            if rng.random() < 0.3:
                fields.update(
                    currency=rng.choice(["USD", "EUR", "JPY", "CHF"]), amount=rng.randrange(1, 10**6)
                )
            else:
                fields["amount"] = rng.randrange(1, 10**11)
        if rng.random() < 0.3:
            fields["absolute_expiry"] = rng.randrange(1_700_000_000, 2_100_000_000)
        if rng.random() < 0.3:
            fields["issuer"] = rng.choice(["shop.example", "alice@example.com", "Bob's Bikes"])
        if rng.random() < 0.1:
            fields["quantity_max"] = rng.randrange(0, 100)
        if rng.random() < 0.35:
            fields["paths"] = [
                blinded_path(
                    rng.choice(keys),
                    rng.choice(keys),
                    [
                        (rng.choice(keys), rng.randbytes(rng.randrange(0, 60)))
                        for _ in range(rng.randint(1, 3))
                    ],
                )
                for _ in range(rng.randint(1, 2))
            ]
        if "paths" not in fields or rng.random() < 0.5:
            fields["issuer_id"] = rng.choice(keys)
        offers.append(encode(offer_records(**fields)))
    return offers


def floor_work(offers: list[str]) -> Callable[[], None]:
    """The unavoidable work, precomputed inputs: every public key parsed, two SHA-256s per record."""
    decoded = [decode_offer(text) for text in offers]
    keys = []
    for offer in decoded:
        keys += [bytes.fromhex(key) for key in [offer.issuer_id] if key]
        for path in offer.paths:
            keys += [bytes.fromhex(path.path_key)] + [bytes.fromhex(hop.blinded_node_id) for hop in path.hops]
            keys += [bytes.fromhex(path.introduction_node_id)] if path.introduction_node_id else []
    records = [bytes.fromhex(value) for offer in decoded for _, value in offer.records]

    def run() -> None:
        for key in keys:
            PublicKey(key)
        for value in records:
            hashlib.sha256(value).digest()
            hashlib.sha256(value).digest()

    return run


def best_time(function: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    offers = generate_offers(args.count, args.seed)
    if len(set(offers)) != len(offers):
        raise SystemExit("generated offers are not distinct")
    frame = offers_frame(offers)  # warm-up, and a correctness check (raises on any bad offer)
    mean_length = sum(map(len, offers)) / len(offers)
    with_paths = int((frame["path_count"] > 0).sum())
    print(
        f"{len(offers):,} distinct offers, seed {args.seed}, mean length {mean_length:.0f} characters, "
        f"{with_paths:,} with blinded paths"
    )
    rows = [
        ("offers_frame", best_time(lambda: offers_frame(offers), args.repeat)),
        ("offer_paths_frame", best_time(lambda: offer_paths_frame(offers), args.repeat)),
        ("decode_offer loop", best_time(lambda: [decode_offer(text) for text in offers], args.repeat)),
        ("floor: keys + sha256", best_time(floor_work(offers), args.repeat)),
    ]
    print(f"\nbest of {args.repeat}\n{'':22} {'total s':>9} {'us/offer':>9}")
    for name, seconds in rows:
        print(f"{name:22} {seconds:>9.3f} {seconds / len(offers) * 1e6:>9.1f}")
    per_offer = rows[0][1] / len(offers) * 1e6
    passed = per_offer <= TARGET_US_PER_OFFER
    print(
        f"\ntarget: offers_frame <= {TARGET_US_PER_OFFER:g} us/offer: {per_offer:.1f} "
        + ("PASS" if passed else "FAIL")
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        offers_frame(offers)
        profiler.disable()
        report = io.StringIO()
        pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(12)
        print("\n".join(line for line in report.getvalue().splitlines() if line.strip())[:5000])
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
