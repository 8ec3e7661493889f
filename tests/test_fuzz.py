"""A short fuzz campaign in the suite (benchmarks/fuzz.py runs the long ones): 3,000 mutated, re-signed
and URI inputs; nothing but InvoiceError escapes and decode_frame agrees with decode on every row."""

from __future__ import annotations

from lnnotebook.bolt11 import InvoiceError, decode
from lnnotebook.fuzz import Case, cases, check


def test_three_thousand_fuzzed_inputs_hold() -> None:
    batch = list(cases(seed=20260411, count=3000))
    report = check(batch)
    assert report.inputs == 3000 and set(report.by_kind) == {"mutated", "resigned", "uri"}
    assert report.escapes == [], report.escapes[:3]
    assert report.mismatches == [], report.mismatches[:3]
    assert report.slowest_s < 1.0, report.slowest_input
    # The campaign is not vacuous: mutations mostly break invoices, re-signed ones all decode.
    decoded = [_decodes(case) for case in batch]
    mutated = [ok for case, ok in zip(batch, decoded) if case.kind == "mutated"]
    assert 0.05 < sum(mutated) / len(mutated) < 0.95
    assert all(ok for case, ok in zip(batch, decoded) if case.kind == "resigned")


def test_the_checks_catch_a_row_that_disagrees() -> None:
    good = next(case for case in cases(seed=1, count=50) if case.kind == "resigned")
    lying = Case("resigned", good.text, {**good.signed, "payment_hash": "00" * 32})
    assert check([lying]).mismatches


def _decodes(case: Case) -> bool:
    try:
        decode(case.text)
    except InvoiceError:
        return False
    return True
