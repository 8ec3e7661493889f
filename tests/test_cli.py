"""The command line, run as a user would: a real subprocess on the committed sample file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "tests" / "data" / "spec_vectors.json").read_text())


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lnnotebook.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_demo_decodes_the_sample_and_writes_both_tables(tmp_path: Path) -> None:
    sample = ROOT / "data" / "sample_invoices.txt"
    lines = [line for line in sample.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) >= 316, "the sample holds the 16 spec examples and at least 300 generated invoices"

    result = run_cli("demo", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"of {len(lines)} invoices" in result.stdout
    for network in ("bc", "tb", "tbs", "bcrt"):
        assert f"\n{network} " in result.stdout
    # The one spec example that current reader rules reject is reported by row, with its reason.
    assert "FieldLengthError: field 'p' has 51 groups" in result.stdout

    invoices = pd.read_csv(tmp_path / "invoices.csv")
    hops = pd.read_csv(tmp_path / "route_hints.csv")
    assert len(invoices) == len(lines)
    assert invoices["error"].notna().sum() == 1
    assert len(hops) == invoices["hop_count"].sum()
    assert {"invoice", "route", "hop", "pubkey", "short_channel_id"} <= set(hops.columns)


def test_demo_names_a_missing_sample(tmp_path: Path) -> None:
    result = run_cli("demo", "--sample", str(tmp_path / "nope.txt"), "--out", str(tmp_path))
    assert result.returncode == 2
    assert "nope.txt not found" in result.stderr


def test_decode_command_prints_fields_and_reports_errors() -> None:
    good = SPEC["valid"][1]["invoice"]
    bad = SPEC["invalid"][1]["invoice"]
    result = run_cli("decode", good, bad)
    assert result.returncode == 1
    assert "amount_msat: 250000000" in result.stdout
    assert "description: 1 cup coffee" in result.stdout
    assert "ChecksumError" in result.stderr

    from_stdin = run_cli("decode", stdin=good.upper() + "\n")
    assert from_stdin.returncode == 0
    assert "network: bc" in from_stdin.stdout


def test_import_stays_light() -> None:
    code = (
        "import sys, lnnotebook\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'jupyter_client', 'IPython', 'requests') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
