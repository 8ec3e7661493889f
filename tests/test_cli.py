"""The command line, run as a user would: a real subprocess on the committed sample file."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import lnnotebook as ln
from lnnotebook.providers.lnbits.server import (
    REQUIRE_VARIABLE,
    VENV_VARIABLE,
    LnbitsUnavailable,
    installed_python,
)

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "tests" / "data" / "spec_vectors.json").read_text())


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lnnotebook.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=240,  # the demo may start LNbits (bounded by its own 90 s startup limit)
    )


# --- the demo (lnnotebook/demo.py): a real subprocess, its own LNNOTEBOOK_HOME and output folder ---------

SANDBOX_PROVIDERS = ["barkd", "tazapay", "lnpay", "lnpay-legacy", "lnurl"]
KEEP_VARIABLES = (VENV_VARIABLE, REQUIRE_VARIABLE)  # where LNbits is, whether it must be there


def demo_env(home: Path, **extra: str) -> dict[str, str]:
    """This environment without any LNNOTEBOOK_* setting (credentials, home), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LNNOTEBOOK_") or k in KEEP_VARIABLES}
    env.pop("MPLBACKEND", None)  # the demo must choose a file backend itself
    return {**env, "LNNOTEBOOK_HOME": str(home), **extra}


def lnbits_installed() -> bool:
    try:
        installed_python()
    except LnbitsUnavailable as exc:
        if os.environ.get(REQUIRE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{REQUIRE_VARIABLE} is set, but: {exc}")
        return False
    return True


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def check_demo_output(
    result: subprocess.CompletedProcess, out: Path, home: Path, providers: list[str], per_provider: int
) -> pd.DataFrame:
    """The files, the printed table and the ledger of a successful demo run; returns invoices.csv."""
    assert result.returncode == 0, result.stdout + result.stderr
    invoices = ln.read_csv(out / "invoices.csv")
    assert list(dict.fromkeys(invoices["provider"])) == providers
    assert (invoices.groupby("provider").size() == per_provider).all()
    assert invoices["error"].isna().all(), invoices["error"].dropna().tolist()
    assert invoices["decode_error"].isna().all()
    assert (invoices["invoice_amount_sat"] == invoices["amount_sat"]).all()
    assert invoices["description"].str.startswith("lnnotebook demo: ").all()

    hops = ln.read_csv(out / "hops.csv", schema="hops_frame")  # hops with a provider column added
    assert len(hops) == invoices["hop_count"].sum()
    assert set(hops["provider"]) <= set(providers)
    assert hops.index.names == ["invoice", "route", "hop"]
    # Each hop's provider is the provider of the invoice it came from.
    assert (
        hops["provider"].to_numpy()
        == invoices["provider"].reindex(hops.index.get_level_values("invoice")).to_numpy()
    ).all()

    width, height = png_size(out / "comparison.png")
    assert width >= 1200 and height >= 400, (width, height)

    # The table: a header row naming every provider, one column each, and the invoice counts.
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("provider "))
    assert header.split() == ["provider", *providers]
    counts = next(line for line in lines if line.startswith("invoices "))
    assert counts.split() == ["invoices", *[str(per_provider)] * len(providers)]
    assert next(line for line in lines if line.startswith("failures ")).split()[1:] == ["0"] * len(providers)

    # The ledger in this run's LNNOTEBOOK_HOME holds exactly these invoices.
    recorded = ln.history(ln.Ledger(home / "ledger.sqlite"))
    assert len(recorded) == len(invoices)
    assert sorted(zip(recorded["provider"], recorded["provider_id"])) == sorted(
        zip(invoices["provider"], invoices["provider_id"])
    )
    assert f"{len(invoices)} of the {len(invoices)} invoices created now are recorded" in result.stdout
    return invoices


def test_demo_without_credentials_uses_the_sandbox_and_lnbits_when_installed(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    result = run_cli("demo", "--out", str(out), "--amount", "1000", "--amount", "250000", env=demo_env(home))
    providers = SANDBOX_PROVIDERS + (["lnbits"] if lnbits_installed() else [])
    invoices = check_demo_output(result, out, home, providers, per_provider=2 * 2)
    assert sorted(set(invoices["amount_sat"])) == [1000, 250000]
    assert f"Providers: the sandbox: {', '.join(SANDBOX_PROVIDERS)}." in result.stdout
    if "lnbits" in providers:
        assert "+ LNbits 1.6.2: a real server" in result.stdout
    else:
        assert "`make lnbits` installs a real LNbits server" in result.stdout

    # The sample file is decoded too: the one spec example current reader rules reject, by row.
    sample = ROOT / "lnnotebook" / "examples" / "sample_invoices.txt"
    lines = [line for line in sample.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert f"decoded {len(lines) - 1} of {len(lines)} invoices" in result.stdout
    assert "row 13 rejected: FieldLengthError: field 'p' has 51 groups" in result.stdout


def test_demo_says_how_to_add_lnbits_when_it_is_missing(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    env = demo_env(home, **{VENV_VARIABLE: str(tmp_path / "no-such-venv")})
    result = run_cli("demo", "--out", str(out), "--amount", "1000", "--repeat", "1", env=env)
    check_demo_output(result, out, home, SANDBOX_PROVIDERS, per_provider=1)
    assert "LNbits: LNbits" not in result.stdout  # said once, not twice
    assert "LNbits is not installed: " in result.stdout and "no-such-venv" in result.stdout
    assert "`make lnbits` installs a real LNbits server into .venv-lnbits" in result.stdout


def test_demo_with_credentials_uses_exactly_those_providers(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    with ln.sandbox(providers=["barkd", "lnpay"]) as sb:
        env = demo_env(home, **sb.env())
        result = run_cli("demo", "--out", str(out), "--amount", "2100", "--repeat", "3", env=env)
        check_demo_output(result, out, home, ["barkd", "lnpay"], per_provider=3)
        # The invoices were minted by this sandbox's emulators, not by a sandbox of the demo's own.
        assert sb.minted("barkd") == 3 and sb.minted("lnpay") == 3
        secrets = [value for name in sb.names() for value in sb.credentials(name).values()]
    assert "Providers: barkd, lnpay, from LNNOTEBOOK_* variables" in result.stdout
    assert "sandbox" not in result.stdout and "LNbits" not in result.stdout
    for secret in secrets:
        assert secret not in result.stdout + result.stderr
        assert secret not in (out / "invoices.csv").read_text()


def test_demo_names_the_missing_variable_of_a_half_configured_provider(tmp_path: Path) -> None:
    env = demo_env(tmp_path / "home", LNNOTEBOOK_TAZAPAY_API_KEY="ak_only_half")
    result = run_cli("demo", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 2
    assert "LNNOTEBOOK_TAZAPAY_API_SECRET" in result.stderr
    assert "ak_only_half" not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def test_demo_names_a_missing_sample(tmp_path: Path) -> None:
    result = run_cli(
        "demo", "--sample", str(tmp_path / "nope.txt"), "--out", str(tmp_path), env=demo_env(tmp_path)
    )
    assert result.returncode == 2
    assert "nope.txt not found" in result.stderr


def test_demo_configured_providers_count_urls_and_credentials_only() -> None:
    from lnnotebook.demo import configured_providers

    assert configured_providers({}) == []
    assert configured_providers({"LNNOTEBOOK_BARKD_READ_TIMEOUT": "5", "LNNOTEBOOK_HOME": "/x"}) == []
    assert configured_providers({"LNNOTEBOOK_BARKD_TOKEN": "t", "LNNOTEBOOK_LNPAY_LEGACY_URL": "u"}) == [
        "barkd",
        "lnpay-legacy",
    ]
    assert configured_providers({"LNNOTEBOOK_LNPAY_API_KEY": " "}) == []
    # an option without a default says where to connect too (a Lightning Address)
    assert configured_providers({"LNNOTEBOOK_LNURL_ADDRESS": "alice@example.com"}) == ["lnurl"]
    assert configured_providers({"LNNOTEBOOK_LNURL_CACHE_SECONDS": "5"}) == []


def test_decode_command_prints_fields_and_reports_errors() -> None:
    good = SPEC["valid"][1]["invoice"]
    bad = SPEC["invalid"][1]["invoice"]
    result = run_cli("decode", good, bad)
    assert result.returncode == 1
    assert "amount: 250,000 sat" in result.stdout
    assert "description: 1 cup coffee" in result.stdout
    assert "expiry: 1 min, until 2017-06-01 10:58:38 UTC: expired" in result.stdout
    assert "features: var_onion_optin, payment_secret" in result.stdout
    for python_repr in ("Feature(", "fallback_addresses: ()", "Hop(", "datetime."):
        assert python_repr not in result.stdout
    assert "ChecksumError" in result.stderr and bad[:24] in result.stderr  # which one failed

    from_stdin = run_cli("decode", stdin=good.upper() + "\n")
    assert from_stdin.returncode == 0
    assert "network: bc (mainnet)" in from_stdin.stdout


def test_decode_command_json_is_for_programs() -> None:
    hinted = next(vector["invoice"] for vector in SPEC["valid"] if "route" in json.dumps(vector).lower())
    result = run_cli("decode", "--json", SPEC["valid"][1]["invoice"], hinted)
    assert result.returncode == 0, result.stderr
    first, second = json.loads(result.stdout)
    assert first["amount_msat"] == 250_000_000 and first["amount_sat"] == 250_000
    assert first["created_at"] == "2017-06-01T10:57:38+00:00" and first["is_expired"] is True
    assert first["features"][0] == {"bit": 8, "name": "var_onion_optin"} and first["fallback_addresses"] == []
    assert all(isinstance(route, list) for route in second["route_hints"])


def test_import_stays_light() -> None:
    code = (
        "import sys, lnnotebook\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'jupyter_client', 'IPython', 'requests',"
        " 'werkzeug') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- history and export: the ledger from the command line ------------------------------------------------


def test_history_and_export_commands_read_the_ledger(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with ln.sandbox(providers=["lnpay", "barkd"]) as sb:
        env = demo_env(home, **sb.env())
        ledger = home / "ledger.sqlite"
        lnpay = sb.connect("lnpay", ledger=ledger)
        paid = lnpay.create_invoice(111, "=1+1 paid one")
        lnpay.create_invoice(222, "still pending")
        sb.connect("barkd", ledger=ledger).create_invoice(333, "barkd")
        sb.inject("lnpay", "401")
        with pytest.raises(ln.AuthenticationError):
            lnpay.create_invoice(444)
        sb.pay(paid.bolt11)

        # --refresh asks the providers (connected from the LNNOTEBOOK_* variables) for pending statuses.
        shown = run_cli("history", "--refresh", env=env)
        assert shown.returncode == 0, shown.stderr
        assert "refreshed 3 pending invoice(s), 1 changed" in shown.stdout
        lines = shown.stdout.splitlines()
        assert sum(" paid " in line for line in lines) == 1
        assert sum("AuthenticationError" in line for line in lines) == 1

    only = run_cli("history", "--provider", "barkd", env=env)
    assert only.returncode == 0 and "barkd" in only.stdout and "lnpay" not in only.stdout
    assert "created (UTC)" in only.stdout and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", only.stdout)
    assert "+00:00" not in only.stdout and "." not in only.stdout.splitlines()[1].split("barkd")[1][:40]

    last = run_cli("history", "--limit", "2", env=env)
    assert last.returncode == 0, last.stderr
    rows = [line for line in last.stdout.splitlines()[1:] if line.strip() and not line.startswith("(")]
    assert len(rows) == 2 and "(the last 2 of 4 invoices; --limit shows more)" in last.stdout
    assert run_cli("history", "--limit", "0", env=env).returncode == 2

    misspelt = run_cli("history", "--status", "Paid", env=env)
    assert misspelt.returncode == 2 and "status 'Paid' is not one of" in misspelt.stderr
    assert "did you mean 'paid'" in misspelt.stderr and "Traceback" not in misspelt.stderr

    out = tmp_path / "export.csv"
    exported = run_cli("export", str(out), "--no-failures", env=env)
    assert exported.returncode == 0, exported.stderr
    assert "wrote 3 invoice(s)" in exported.stdout
    frame = ln.read_csv(out)
    assert sorted(frame["amount_sat"]) == [111, 222, 333]
    assert set(frame.loc[frame["amount_sat"] == 111, "status"]) == {"paid"}
    assert "'=1+1 paid one" in out.read_text(encoding="utf-8")  # formula neutralised in the file
    assert frame.loc[frame["amount_sat"] == 111, "memo"].item() == "=1+1 paid one"
    for secret in sb.credentials("lnpay").values():
        assert secret not in out.read_text(encoding="utf-8")


def test_history_without_a_ledger_says_so(tmp_path: Path) -> None:
    result = run_cli("history", env=demo_env(tmp_path / "empty-home"))
    assert result.returncode == 1
    assert "no ledger at" in result.stderr and "nothing has been recorded yet" in result.stderr


def test_history_names_a_bad_date(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ln.Ledger(home / "ledger.sqlite").close()
    result = run_cli("history", "--since", "last tuesday-ish", env=demo_env(home))
    assert result.returncode == 2
    assert "--since: 'last tuesday-ish' is not a date" in result.stderr and "Traceback" not in result.stderr
