"""CSV export: atomic, UTF-8, ISO-8601 UTC, formula-safe, and read back with the exact dtypes."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd
import pytest

import lnnotebook as ln
from lnnotebook.bolt11 import encode_invoice
from lnnotebook.export import neutralise

DATA = Path(__file__).resolve().parent / "data"
SPEC = json.loads((DATA / "spec_vectors.json").read_text(encoding="utf-8"))
KEY = SPEC["_meta"]["signing_private_key"]
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)", "\tindent", "\rreturn", "'quoted", "''"]


def invoice_with(description: str, **extra) -> str:
    return encode_invoice(
        private_key=KEY, payment_hash="ab" * 32, payment_secret="cd" * 32, description=description, **extra
    )


def every_kind_of_input() -> list:
    texts = [vector["invoice"] for vector in SPEC["valid"]] + [
        vector["invoice"] for vector in SPEC["invalid"]
    ]
    texts += [
        invoice_with(text) for text in ["ナンセンス 1杯", "emoji 🎉⚡", 'comma, "quote"\nnewline', *HOSTILE]
    ]
    texts += [invoice_with("far future", timestamp=2**35 - 1), None, "not an invoice"]
    return texts


def roundtrip(frame: pd.DataFrame, path: Path, schema=None, **options) -> pd.DataFrame:
    ln.to_csv(frame, path, **options)
    return ln.read_csv(path, schema=schema)


def test_decode_frame_roundtrips_exactly(tmp_path: Path) -> None:
    frame = ln.decode_frame(every_kind_of_input(), errors="coerce", strict=False)
    assert frame["description"].isin(HOSTILE).sum() == len(HOSTILE)
    assert frame["created_at"].isna().sum() > frame["error"].notna().sum()  # the year-3058 one is NaT
    pd.testing.assert_frame_equal(roundtrip(frame, tmp_path / "invoices.csv"), frame)


def test_a_series_index_is_kept(tmp_path: Path) -> None:
    texts = every_kind_of_input()
    for index in (
        pd.Index([f"=label {i}" for i in range(len(texts))], name="source"),
        pd.Index(range(100, 100 + 2 * len(texts), 2)),
    ):
        frame = pd.Series(texts, index=index).ln.decode(errors="coerce")
        pd.testing.assert_frame_equal(roundtrip(frame, tmp_path / "series.csv"), frame)


def test_hops_frame_roundtrips_exactly(tmp_path: Path) -> None:
    hops = ln.hops_frame(every_kind_of_input(), errors="coerce")
    assert hops["pubkey"].notna().any() and hops["error"].notna().any()
    pd.testing.assert_frame_equal(roundtrip(hops, tmp_path / "hops.csv"), hops)


def test_provider_frames_roundtrip_exactly(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    with ln.sandbox() as sb:
        clients = [sb.connect(name, ledger=ledger) for name in sb.names()]
        sb.inject("tazapay", "401")
        frame = ln.create_invoices(clients, 2100, "=cmd|' /C calc'!A0", repeat=2)
    assert frame["error"].notna().any() and frame["bolt11"].notna().any()
    # raw=True keeps the providers' answers; by default they stay out and the rest reads back exactly.
    pd.testing.assert_frame_equal(roundtrip(frame, tmp_path / "created.csv", raw=True), frame)
    pd.testing.assert_frame_equal(roundtrip(frame, tmp_path / "plain.csv"), frame.drop(columns="raw"))
    history = ln.history(ledger)
    pd.testing.assert_frame_equal(roundtrip(history, tmp_path / "history.csv", raw=True), history)
    pd.testing.assert_frame_equal(roundtrip(history, tmp_path / "h.csv"), history.drop(columns="raw"))


def test_default_csv_has_no_raw_json_and_no_float_noise(tmp_path: Path) -> None:
    with ln.sandbox() as sb:
        frame = ln.create_invoices(sb.providers(ledger=False), 2100, "tea", repeat=2)
    path = ln.to_csv(frame, tmp_path / "created.csv")
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert "raw" not in rows[0] and "raw" in frame.columns
    for row in rows:
        # elapsed_s is kept to 0.1 ms: "0.0724", never "0.07235737800010611"
        assert len(row["elapsed_s"].partition(".")[2]) <= 4, row["elapsed_s"]
        assert row["amount_sat"] == row["invoice_amount_sat"] == "2100"  # both whole sats, no "2100.0"
    assert frame["invoice_amount_sat"].dtype == frame["amount_sat"].dtype == "Int64"


def test_formula_cells_are_neutralised_in_the_file(tmp_path: Path) -> None:
    frame = ln.decode_frame([invoice_with(text) for text in HOSTILE])
    path = ln.to_csv(frame, tmp_path / "safe.csv")
    with path.open(encoding="utf-8", newline="") as stream:
        cells = [row["description"] for row in csv.DictReader(stream)]
    assert cells == ["'" + text for text in HOSTILE]
    assert all(neutralise(cell) != cell for cell in HOSTILE)

    ln.to_csv(frame, tmp_path / "raw.csv", safe=False)
    with (tmp_path / "raw.csv").open(encoding="utf-8", newline="") as stream:
        assert [row["description"] for row in csv.DictReader(stream)] == HOSTILE


def test_timestamps_are_iso_8601_utc_and_text_is_utf8(tmp_path: Path) -> None:
    frame = ln.decode_frame([SPEC["valid"][2]["invoice"]])
    text = ln.to_csv(frame, tmp_path / "x.csv").read_bytes().decode("utf-8")
    assert "2017-06-01T10:57:38Z" in text and "2017-06-01T10:58:38Z" in text
    assert "ナンセンス 1杯" in text


def test_writes_are_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("previous contents\n", encoding="utf-8")

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot render")

    broken = pd.DataFrame({"a": pd.array([1, 2], dtype="Int64"), "b": [1.5, Unprintable()]})
    with pytest.raises(RuntimeError, match="cannot render"):
        ln.to_csv(broken, path)
    assert path.read_text(encoding="utf-8") == "previous contents\n"
    assert sorted(os.listdir(tmp_path)) == ["out.csv"], "no temporary file is left behind"


def test_unknown_columns_are_inferred(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"count": pd.array([1, None], dtype="Int64"), "ratio": pd.array([0.5, None], dtype="Float64")}
    )
    frame["note"] = pd.array(["-x", None], dtype="string")
    pd.testing.assert_frame_equal(roundtrip(frame, tmp_path / "other.csv", schema=False), frame)
    # Without schema=False a header that is no lnnotebook frame's is an error that names it.
    with pytest.raises(ln.SchemaError, match=r"the header \(row, count, ratio, note\) is not the header"):
        ln.read_csv(tmp_path / "other.csv")


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    frame = ln.decode_frame([SPEC["valid"][0]["invoice"]])
    mask = os.umask(0o022)
    try:
        path = ln.to_csv(frame, tmp_path / "new.csv")
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o640)
        ln.to_csv(frame, path)  # rewriting keeps the file's own mode
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(mask)


def test_writing_never_changes_the_process_umask(tmp_path: Path, monkeypatch) -> None:
    # Setting the umask (the only way to read it) would briefly apply to files other threads create.
    frame = ln.decode_frame([SPEC["valid"][0]["invoice"]])

    def refuse(mask: int) -> int:
        raise AssertionError("os.umask called")

    monkeypatch.setattr(os, "umask", refuse)
    ln.to_csv(frame, tmp_path / "new.csv")


def test_an_explicit_schema_types_its_columns_and_infers_the_others(tmp_path: Path) -> None:
    hops = ln.hops_frame(every_kind_of_input(), errors="coerce")
    with_provider = hops.assign(provider=pd.array(["lnpay"] * len(hops), dtype="string"), fee=1)
    ln.to_csv(with_provider, tmp_path / "hops.csv")
    with pytest.raises(ln.SchemaError, match="is not the header of any lnnotebook frame"):
        ln.read_csv(tmp_path / "hops.csv")  # not exactly a hops_frame: told, not guessed
    back = ln.read_csv(tmp_path / "hops.csv", schema="hops_frame")
    expected = with_provider.assign(fee=pd.array([1] * len(hops), dtype="Int64"))
    pd.testing.assert_frame_equal(back, expected)

    frame = ln.decode_frame(every_kind_of_input(), errors="coerce", strict=False)
    subset = frame[["bolt11", "amount_sat", "created_at"]]
    ln.to_csv(subset, tmp_path / "subset.csv")
    pd.testing.assert_frame_equal(ln.read_csv(tmp_path / "subset.csv", schema="decode_frame"), subset)
    with pytest.raises(ln.SchemaError, match="unknown schema 'decoded'; known: decode_frame, hops_frame"):
        ln.read_csv(tmp_path / "subset.csv", schema="decoded")
    with pytest.raises(ln.SchemaError, match="a 'compare' frame starts with its index \\(provider\\)"):
        ln.read_csv(tmp_path / "subset.csv", schema="compare")


def test_an_ambiguous_header_is_an_error_naming_the_kinds_and_columns(tmp_path: Path) -> None:
    from lnnotebook.schema import FRAMES, FrameSchema, register_frame, unregister_frame

    frame = ln.decode_frame(every_kind_of_input()[:3], errors="coerce", strict=False)
    path = ln.to_csv(frame, tmp_path / "invoices.csv")
    # A third-party kind with the very columns of decode_frame makes the header ambiguous.
    register_frame(FrameSchema("my_invoices", dict(FRAMES["decode_frame"].columns)))
    try:
        with pytest.raises(ln.SchemaError) as caught:
            ln.read_csv(path)
        message = str(caught.value)
        assert "could be a 'decode_frame' and 'my_invoices' frame" in message
        assert "(row, bolt11, network, amount_msat" in message and "pass schema= to say which" in message
        pd.testing.assert_frame_equal(ln.read_csv(path, schema="decode_frame"), frame)
    finally:
        unregister_frame("my_invoices")
    pd.testing.assert_frame_equal(ln.read_csv(path), frame)
    with pytest.raises(ValueError, match="one of lnnotebook's own frame schemas"):
        unregister_frame("decode_frame")


def test_a_compare_table_roundtrips_exactly(tmp_path: Path) -> None:
    with ln.sandbox(providers=["lnpay", "barkd"]) as sb:
        frame = ln.create_invoices(sb.providers(ledger=False), 1_000, "compare", repeat=2)
    table = ln.compare(frame)
    # The data round-trips exactly; compare's Comparison type only adds its formatted display.
    pd.testing.assert_frame_equal(roundtrip(table, tmp_path / "compare.csv"), pd.DataFrame(table))


@pytest.mark.parametrize("export", ["lnd_listinvoices.json", "cln_listinvoices.json", "lnbits_payments.json"])
def test_node_export_frames_roundtrip_exactly(export: str, tmp_path: Path) -> None:
    """read_invoices frames are a schema of their own: read_csv restores every dtype."""
    from importlib.resources import files

    frame = ln.read_invoices(files("lnnotebook.nodes") / "examples" / export)
    path = ln.to_csv(frame, tmp_path / "node.csv")
    pd.testing.assert_frame_equal(ln.read_csv(path), frame, check_index_type=False)


def test_offers_frame_roundtrips_exactly(tmp_path: Path) -> None:
    offer = "lno1pgx9getnwss8vetrw3hhyuckyypwa3eyt44h6txtxquqh7lz5djge4afgfjn7k4rgrkuag0jsd5xvxg"
    frame = ln.offers_frame(pd.Series([offer, "lno1junk"]), errors="coerce")
    path = ln.to_csv(frame, tmp_path / "offers.csv")
    restored = ln.read_csv(path)
    pd.testing.assert_frame_equal(restored, frame, check_index_type=False)
    assert restored["error"].isna().tolist() == [True, False]


def test_float_columns_roundtrip_to_the_last_bit(tmp_path: Path) -> None:
    """Float64 cells come back bit for bit (pandas 2's C parser can be an ulp off; we parse with float())."""
    with ln.sandbox() as sb:
        frame = ln.create_invoices(sb.providers(ledger=False), 1000, "tea")
    awkward = [0.1 + 0.2, 0.02231201649965442, 1e-300, 123456.789012345678]
    frame["elapsed_s"] = pd.array([awkward[i % len(awkward)] for i in range(len(frame))], dtype="Float64")
    restored = ln.read_csv(ln.to_csv(frame, tmp_path / "created.csv"))
    assert restored["elapsed_s"].tolist() == frame["elapsed_s"].tolist()
