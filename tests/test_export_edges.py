"""CSV edge cases found by fuzzing: exact round trips and formula triggers hidden behind look-alikes."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pandas as pd
import pytest

import lnnotebook as ln
from lnnotebook.export import neutralise

HIDDEN = [
    "\uff1d1+1",  # fullwidth equals sign
    "\ufe66SUM(A1)",  # small equals sign
    "  =1+1",
    "\u00a0=1+1",  # NBSP
    "\u3000+1",  # ideographic space
    "\u200b-1",  # zero-width space
    "\ufeff@SUM(A1)",  # BOM
    "\x0b=1",  # VT
    "\x0c=1",  # FF
    "\x00=1",  # NUL
    "\n=1",  # LF
]


@pytest.mark.parametrize("text", HIDDEN)
def test_formula_triggers_behind_invisible_characters_or_look_alikes_are_neutralised(
    text: str, tmp_path: Path
) -> None:
    assert neutralise(text) == "'" + text
    if "\x00" in text and sys.version_info < (3, 11):
        pytest.skip(
            "Python 3.10's csv module cannot write a NUL character (3.11 can); neutralise is checked above"
        )
    frame = pd.DataFrame({"memo": pd.array([text], dtype="string")})
    path = ln.to_csv(frame, tmp_path / "x.csv")
    with path.open(encoding="utf-8", newline="") as stream:
        assert next(csv.DictReader(stream))["memo"] == "'" + text
    pd.testing.assert_frame_equal(ln.read_csv(path, schema=False), frame)


def test_the_empty_string_and_missing_values_stay_apart(tmp_path: Path) -> None:
    frame = pd.DataFrame({"memo": pd.array(["", None, "x", "'", "''"], dtype="string")})
    back = ln.read_csv(ln.to_csv(frame, tmp_path / "x.csv"), schema=False)
    assert back["memo"].tolist()[:2] == ["", pd.NA]
    pd.testing.assert_frame_equal(back, frame)


def test_string_index_labels_that_look_like_integers_stay_strings(tmp_path: Path) -> None:
    frame = pd.DataFrame({"n": pd.array([1, 2], dtype="Int64")}, index=pd.Index(["1", "2"], name="key"))
    back = ln.read_csv(ln.to_csv(frame, tmp_path / "x.csv"), schema=False)
    assert back.index.tolist() == ["1", "2"]
    pd.testing.assert_frame_equal(back, frame)
    numbers = frame.set_axis(pd.Index([1, 2], name="key"))  # while integer labels stay integers
    pd.testing.assert_frame_equal(ln.read_csv(ln.to_csv(numbers, tmp_path / "y.csv"), schema=False), numbers)


def test_an_unsafe_file_read_unsafe_keeps_leading_apostrophes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"memo": pd.array(["'quoted", "''", "=1+1", "plain"], dtype="string")})
    path = ln.to_csv(frame, tmp_path / "raw.csv", safe=False)
    pd.testing.assert_frame_equal(ln.read_csv(path, schema=False, safe=False), frame)
    assert ln.read_csv(path, schema=False)["memo"].tolist()[0] == "quoted"  # read as safe: one is undone
