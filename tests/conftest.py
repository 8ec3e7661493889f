"""Shared fixtures of the decoder and frame tests: the spec vectors and seeded generated invoices."""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lnnotebook.bolt11 import encode_invoice
from lnnotebook.providers.lnbits.server import REQUIRE_VARIABLE, LnbitsServer, LnbitsUnavailable, start_lnbits
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


def pytest_configure(config: pytest.Config) -> None:
    """Provider clients write to the default ledger in $LNNOTEBOOK_HOME: never the user's own.

    Set here, before any fixture of any scope (module-scoped clients resolve the default ledger
    when they connect) and inherited by every subprocess and kernel the tests start.
    """
    home = tempfile.mkdtemp(prefix="lnnotebook-home-")
    config._lnnotebook_home = (home, os.environ.get("LNNOTEBOOK_HOME"))
    os.environ["LNNOTEBOOK_HOME"] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    home, previous = getattr(config, "_lnnotebook_home", (None, None))
    if home is None:
        return
    shutil.rmtree(home, ignore_errors=True)
    if previous is None:
        os.environ.pop("LNNOTEBOOK_HOME", None)
    else:
        os.environ["LNNOTEBOOK_HOME"] = previous


@pytest.fixture(autouse=True)
def _private_lnnotebook_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """And a fresh home per test, so one test's default-ledger rows never show up in another's."""
    monkeypatch.setenv("LNNOTEBOOK_HOME", str(tmp_path_factory.mktemp("lnnotebook-home")))


# A real LNbits for the test modules that ask for it (one server per module; see test_providers_lnbits).
@pytest.fixture(scope="module")
def lnbits() -> Iterator[LnbitsServer]:
    try:
        server = start_lnbits()
    except LnbitsUnavailable as exc:
        if os.environ.get(REQUIRE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{REQUIRE_VARIABLE} is set, but: {exc}")
        pytest.skip(f"{exc}; set {REQUIRE_VARIABLE}=1 to make this a failure")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.run_dir, ignore_errors=True)
