"""Tests of lnnotebook.synthetic: coverage of the parameter space, determinism, the sample file."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from lnnotebook.bolt11 import decode_segwit_address, encode_invoice, hrp_amount
from lnnotebook.synthetic import (
    MAX_TIMESTAMP,
    NODE_KEYS,
    PANDAS_NS_LIMIT,
    generate_invoices,
    main,
    random_invoice_params,
    sample_coverage_problems,
    write_sample_file,
)

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "tests" / "data" / "spec_vectors.json"
SAMPLE_PATH = ROOT / "lnnotebook" / "examples" / "sample_invoices.txt"
SEGWIT_HRPS = {"bc": "bc", "tb": "tb", "tbs": "tb", "bcrt": "bcrt"}


@pytest.fixture(scope="module")
def many_params() -> list[dict[str, Any]]:
    rng = random.Random(2024)
    return [random_invoice_params(rng) for _ in range(3000)]


def fallback_kind(address: str, network: str) -> str:
    hrp = SEGWIT_HRPS[network]
    if address.startswith(hrp + "1"):
        version, program = decode_segwit_address(hrp, address)
        return {(0, 20): "p2wpkh", (0, 32): "p2wsh", (1, 32): "p2tr"}[(version, len(program))]
    first = address[0]
    if network == "bc":
        return {"1": "p2pkh", "3": "p2sh"}[first]
    return {"m": "p2pkh", "n": "p2pkh", "2": "p2sh"}[first]


def test_params_cover_every_network_amount_and_description_kind(many_params: list[dict[str, Any]]) -> None:
    assert {p["network"] for p in many_params} == {"bc", "tb", "tbs", "bcrt"}
    amounts = [p["amount_msat"] for p in many_params]
    assert None in amounts
    multipliers = {hrp_amount(a)[-1] if hrp_amount(a)[-1] in "munp" else "" for a in amounts if a is not None}
    assert multipliers == {"", "m", "u", "n", "p"}
    assert any(a is not None and a % 10**14 == 0 for a in amounts)  # whole multiples of 1000 BTC
    assert any(a is not None and a >= 2**63 for a in amounts)  # beyond int64 msat
    descriptions = [p["description"] for p in many_params if p["description"] is not None]
    assert "" in descriptions
    assert any(p["description_hash"] for p in many_params)
    assert all((p["description"] is None) != (p["description_hash"] is None) for p in many_params)
    assert any(d.isascii() and d for d in descriptions)
    assert any("\u3040" <= c <= "\u9fff" for d in descriptions for c in d)  # CJK
    assert any(ord(c) >= 0x1F300 for d in descriptions for c in d)  # emoji
    sizes = [len(d.encode()) for d in descriptions]
    assert 550 <= max(sizes) <= 639


def test_params_cover_expiry_cltv_features_metadata_and_payee(many_params: list[dict[str, Any]]) -> None:
    expiries = [p["expiry"] for p in many_params]
    assert None in expiries and {60, 604_800} <= set(expiries)
    assert all(60 <= e <= 604_800 for e in expiries if e is not None)
    cltvs = [p["min_final_cltv_expiry"] for p in many_params]
    assert None in cltvs and {9, 144} <= set(cltvs)
    assert all(9 <= c <= 144 for c in cltvs if c is not None)
    feature_sets = [set(p["features"]) for p in many_params]
    assert all({8, 14} <= f for f in feature_sets)
    assert {8, 14} in feature_sets
    for bit in (9, 17, 99, 48):
        assert any(bit in f for f in feature_sets), bit
    assert all((48 in set(p["features"])) == (p["metadata"] is not None) for p in many_params)
    assert {p["include_payee"] for p in many_params} == {True, False}
    assert len({p["private_key"] for p in many_params}) == len(NODE_KEYS)  # payees repeat from a small pool


def test_params_cover_route_hints_and_fallbacks(many_params: list[dict[str, Any]]) -> None:
    route_counts = {len(p["route_hints"]) for p in many_params}
    assert route_counts == {0, 1, 2, 3}
    routes = [route for p in many_params for route in p["route_hints"]]
    assert {len(route) for route in routes} == {1, 2, 3, 4, 5}
    hops = [hop for route in routes for hop in route]
    assert any(hop["fee_base_msat"] >= 2**31 for hop in hops)
    assert any(hop["fee_proportional_millionths"] >= 2**31 for hop in hops)
    assert any(hop["cltv_expiry_delta"] >= 2**15 for hop in hops)
    assert max(hop["cltv_expiry_delta"] for hop in hops) <= 65535
    assert {len(p["fallback_addresses"]) for p in many_params} == {0, 1, 2}
    kinds = {
        (p["network"], fallback_kind(address, p["network"]))
        for p in many_params
        for address in p["fallback_addresses"]
    }
    expected = {(n, k) for n in SEGWIT_HRPS for k in ("p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr")}
    assert kinds == expected


def test_params_cover_timestamps_from_2017_to_the_35_bit_maximum(many_params: list[dict[str, Any]]) -> None:
    timestamps = [p["timestamp"] for p in many_params]
    assert min(timestamps) < 1_514_764_800  # 2018-01-01
    assert any(t > PANDAS_NS_LIMIT for t in timestamps)
    assert MAX_TIMESTAMP in timestamps
    assert max(timestamps) == MAX_TIMESTAMP


def test_network_argument() -> None:
    rng = random.Random(1)
    assert {random_invoice_params(rng, network="tbs")["network"] for _ in range(20)} == {"tbs"}
    with pytest.raises(ValueError, match="unknown network"):
        random_invoice_params(rng, network="ltc")


def test_every_generated_params_set_encodes(many_params: list[dict[str, Any]]) -> None:
    invoices = [encode_invoice(**p) for p in many_params[:400]]
    assert len(set(invoices)) == len(invoices)
    assert all(len(invoice) <= 7089 for invoice in invoices)  # lnd / rust-lightning length limit


def test_generate_invoices_is_distinct_and_deterministic() -> None:
    first = generate_invoices(300, seed=5)
    assert len(first) == 300 and len(set(first)) == 300
    assert generate_invoices(300, seed=5) == first
    assert generate_invoices(120, seed=5) == first[:120]
    assert set(generate_invoices(50, seed=6)).isdisjoint(first)
    prefixes = {invoice[: invoice.index("1", 4)].rstrip("0123456789munp") for invoice in first}
    assert prefixes == {"lnbc", "lntb", "lntbs", "lnbcrt"}


def test_generate_invoices_same_result_with_a_process_pool() -> None:
    assert generate_invoices(600, seed=3, workers=2) == generate_invoices(600, seed=3)


def test_generate_invoices_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n must be"):
        generate_invoices(-1)
    with pytest.raises(ValueError, match="workers must be"):
        generate_invoices(10, workers=0)
    assert generate_invoices(0) == []


def test_sample_file_layout(tmp_path: Path) -> None:
    target = tmp_path / "sample.txt"
    assert main(["--sample", str(target), "--spec", str(SPEC_PATH), "--count", "300", "--seed", "7"]) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    spec_invoices = [v["invoice"] for v in json.loads(SPEC_PATH.read_text(encoding="utf-8"))["valid"]]
    assert lines[0].startswith("# ")
    assert lines[1:17] == spec_invoices
    generated = lines[17:]
    assert len(generated) == 300 and len(set(lines[1:])) == len(lines) - 1
    assert all(line.startswith("ln") and not line.startswith("#") for line in generated)


def test_committed_sample_file_is_what_the_command_writes(tmp_path: Path) -> None:
    target = tmp_path / "sample.txt"
    write_sample_file(target, SPEC_PATH)  # the defaults `make sample` uses
    assert SAMPLE_PATH.read_text(encoding="utf-8") == target.read_text(encoding="utf-8")


def test_sample_coverage_check_reports_gaps(tmp_path: Path) -> None:
    params = [random_invoice_params(random.Random(0), network="bc")]
    params[0].update(amount_msat=1000, route_hints=[], fallback_addresses=[])
    problems = sample_coverage_problems(params)
    assert problems == [
        "no tb invoice",
        "no tbs invoice",
        "no bcrt invoice",
        "no amountless invoice",
        "no route hints",
        "no fallback addresses",
    ]
    with pytest.raises(ValueError, match="does not cover"):
        write_sample_file(tmp_path / "never_written.txt", SPEC_PATH, count=1)
    assert not (tmp_path / "never_written.txt").exists()
