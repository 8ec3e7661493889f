"""decode_file: text, CSV, JSON lines and Parquet in; Parquet or CSV out, chunk by chunk, one row a line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from engines import require

pa, pq = require("pyarrow", "pyarrow.parquet")

import lnnotebook as ln  # noqa: E402
from lnnotebook.cli import main  # noqa: E402
from lnnotebook.synthetic import generate_invoices  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def invoices() -> list[str]:
    return generate_invoices(60, seed=31)


def expected(values: list, lines: list[int], **options) -> pd.DataFrame:
    index = pd.Index(lines, dtype="int64", name="line")
    return ln.decode_frame(pd.Series(values, index=index, dtype=object), errors="coerce", **options)


def test_text_file_with_junk_keeps_one_row_per_line_and_names_the_failed_lines(invoices, tmp_path) -> None:
    lines = [*invoices[:25], "not an invoice", "", invoices[3], "lnbc1\u00e9\u00e9", *invoices[25:]]
    source = tmp_path / "invoices.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written = ln.decode_file(source, tmp_path / "out.parquet", chunk_size=16)
    frame = pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(frame, expected(lines, list(range(1, len(lines) + 1))))
    assert pq.ParquetFile(tmp_path / "out.parquet").num_row_groups == -(-len(lines) // 16)  # chunk by chunk
    assert (written.rows, written.failed) == (len(lines), 3)
    assert [line for line, _ in written.failures] == [26, 27, 29]
    assert written.failures[1] == (27, "FormatError: the invoice is empty")
    assert "3 of them not invoices (line 26: FormatError: no '1' separator" in str(written)
    assert frame.loc[28, "bolt11"] == invoices[3] and frame.loc[28, "error"] is pd.NA


def test_csv_in_and_out_with_line_numbers_of_multiline_records(invoices, tmp_path) -> None:
    source = tmp_path / "zaps.csv"
    memo = ["one", "two\nlines", "=cmd()", "four"]
    pd.DataFrame({"memo": memo, "invoice": [invoices[0], invoices[1], "=HYPERLINK(1)", invoices[2]]}).to_csv(
        source, index=False
    )
    written = ln.decode_file(source, tmp_path / "out.csv", column="invoice", chunk_size=3)
    assert (written.rows, written.failed) == (4, 1)
    values = [invoices[0], invoices[1], "=HYPERLINK(1)", invoices[2]]
    want = expected(values, [2, 3, 5, 6])  # the header is line 1; record 2 spans lines 3 and 4
    pd.testing.assert_frame_equal(ln.read_csv(tmp_path / "out.csv"), want)
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert text.startswith("line,bolt11,network,") and text.count("\r\nline,") == 0  # one header


def test_json_lines_with_objects_strings_and_broken_lines(invoices, tmp_path) -> None:
    source = tmp_path / "events.jsonl"
    rows = [
        json.dumps({"bolt11": invoices[0], "kind": 9735}),
        "{broken",
        json.dumps({"other": 1}),
        json.dumps(invoices[1]),
        "",
        json.dumps([1, 2]),
    ]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ln.decode_file(source, tmp_path / "out.parquet")
    frame = pd.read_parquet(tmp_path / "out.parquet")
    assert frame.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert frame.loc[[1, 4], "bolt11"].tolist() == invoices[:2]
    assert frame.loc[2, "error"].startswith("not a JSON line (")
    assert frame.loc[3, "error"] == "the JSON object has no 'bolt11' key (it has 'other')"
    assert frame.loc[5, "error"] == "the invoice is empty"
    assert frame.loc[6, "error"] == "a JSON list, not an object with a 'bolt11' key"
    assert frame["error"].notna().tolist() == [False, True, True, False, True, True]


def test_parquet_column_in_pyarrow_backend_out(invoices, tmp_path) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"amount": range(len(invoices)), "request": invoices}).to_parquet(source)
    ln.decode_file(source, tmp_path / "out.parquet", column="request", chunk_size=25, dtype_backend="pyarrow")
    frame = pd.read_parquet(tmp_path / "out.parquet", dtype_backend="pyarrow")
    pd.testing.assert_frame_equal(
        frame, expected(invoices, list(range(1, 61)), dtype_backend="pyarrow"), check_index_type=False
    )
    assert str(frame["amount_msat"].dtype) == "int64[pyarrow]"


def test_errors_raise_names_the_line_and_leaves_no_file(invoices, tmp_path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("\n".join([*invoices[:5], "junk", *invoices[5:]]) + "\n", encoding="utf-8")
    with pytest.raises(ln.FormatError, match=r"in\.txt, line 6: no '1' separator"):
        ln.decode_file(source, tmp_path / "out.parquet", chunk_size=4, errors="raise")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.txt"]  # no partial or temporary file


def test_empty_input_gives_the_columns_and_no_rows(tmp_path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert ln.decode_file(tmp_path / "empty.txt", tmp_path / "out.parquet").rows == 0
    frame = pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(frame, expected([], []))


def test_wrong_arguments_say_what_is_wrong(invoices, tmp_path) -> None:
    text, table = tmp_path / "in.txt", tmp_path / "in.csv"
    text.write_text(invoices[0] + "\n", encoding="utf-8")
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(table, index=False)
    out = tmp_path / "out.parquet"
    with pytest.raises(
        ValueError, match="column= is for CSV, JSON lines and Parquet input; in.txt is read as"
    ):
        ln.decode_file(text, out, column="bolt11")
    with pytest.raises(ValueError, match=r"no 'bolt11' column \(its columns: 'a', 'b'\); name the invoices"):
        ln.decode_file(table, out)
    with pytest.raises(ValueError, match="has no column 'c'"):
        ln.decode_file(table, out, column="c")
    with pytest.raises(ValueError, match="writes .parquet or .csv files, not 'out.xlsx'"):
        ln.decode_file(text, tmp_path / "out.xlsx")
    with pytest.raises(ValueError, match="chunk_size must be a positive integer, got 0"):
        ln.decode_file(text, out, chunk_size=0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'verfiy'.*options go to decode_frame"):
        ln.decode_file(text, out, verfiy=False)
    with pytest.raises(FileNotFoundError, match="no input file"):
        ln.decode_file(tmp_path / "missing.txt", out)
    with pytest.raises(ValueError, match="would overwrite its input"):
        ln.decode_file(table, table)
    assert not out.exists()


def test_progress_bar(invoices, tmp_path, capsys) -> None:
    source = tmp_path / "in.txt"
    source.write_text("\n".join(invoices) + "\n", encoding="utf-8")
    ln.decode_file(source, tmp_path / "out.parquet", chunk_size=10, progress=True)
    assert "decoding" in capsys.readouterr().err


def test_cli_decode_file(invoices, tmp_path, capsys) -> None:
    source = tmp_path / "in.txt"
    source.write_text("\n".join([invoices[0], "junk", invoices[1]]) + "\n", encoding="utf-8")
    assert main(["decode-file", str(source), str(tmp_path / "out.parquet"), "--no-verify"]) == 0
    output = capsys.readouterr().out
    assert "wrote 3 row(s)" in output and "line 2: FormatError" in output
    assert pd.read_parquet(tmp_path / "out.parquet")["error"].notna().tolist() == [False, True, False]
    assert main(["decode-file", str(tmp_path / "nope.txt"), str(tmp_path / "x.parquet")]) == 2
    assert "lnnotebook decode-file: no input file" in capsys.readouterr().err


MEMORY_CHILD = textwrap.dedent(
    """
    import resource, sys
    import lnnotebook as ln, lnnotebook.streaming, pyarrow.parquet
    def peak_kb():  # VmHWM starts afresh at exec; ru_maxrss would begin at pytest's size
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    before = peak_kb()
    ln.decode_file(sys.argv[1], sys.argv[2], chunk_size=1000, progress=False)
    print((peak_kb() - before) / 1024)
    """
)


def test_memory_depends_on_the_chunk_not_the_file(invoices, tmp_path) -> None:
    """Twice the lines, about the same peak: decode_frame over all of them would need ~55 MB more."""
    growth = []
    for count in (20_000, 40_000):
        source = tmp_path / f"in-{count}.txt"
        source.write_text(
            "\n".join((invoices * (count // len(invoices) + 1))[:count]) + "\n", encoding="ascii"
        )
        environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
        child = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, str(source), str(tmp_path / "out.parquet")],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=True,
        )
        growth.append(float(child.stdout))
    assert growth[1] - growth[0] < 20, growth
