"""Shared fixtures of the decoder and frame tests: the spec vectors and seeded generated invoices."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from lnnotebook.encoding import encode_invoice
from lnnotebook.synthetic import random_invoice_params

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def spec_vectors() -> dict[str, Any]:
    """The spec vectors: ``_meta``, ``valid`` (with ``expected`` fields), ``invalid`` (with a ``reason``)."""
    return json.loads((DATA / "spec_vectors.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def generated() -> list[tuple[dict[str, Any], str]]:
    """3000 (params, invoice) pairs from a fixed seed: the params are the truth the invoice encodes."""
    rng = random.Random(20260323)
    pairs = []
    for _ in range(3000):
        params = random_invoice_params(rng)
        pairs.append((params, encode_invoice(**params)))
    return pairs


@pytest.fixture(autouse=True)
def _private_lnnotebook_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Provider clients write to the default ledger in $LNNOTEBOOK_HOME: never the user's own."""
    monkeypatch.setenv("LNNOTEBOOK_HOME", str(tmp_path_factory.mktemp("lnnotebook-home")))
