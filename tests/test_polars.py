"""lnnotebook.polars: ``pl.Series.ln.decode`` gives decode_frame's columns and values as a Polars frame."""

from __future__ import annotations

import pandas as pd
import pytest
from engines import require

pl, _ = require("polars", "pyarrow")

import lnnotebook as ln  # noqa: E402
import lnnotebook.polars as lnpolars  # noqa: E402
from lnnotebook.synthetic import generate_invoices  # noqa: E402

INVOICES = [*generate_invoices(80, seed=44), "junk", None, ""]


def python_values(column: pd.Series) -> list:
    return [None if value is pd.NA or value is pd.NaT else value for value in column.astype(object)]


def test_decode_has_the_columns_and_values_of_decode_frame() -> None:
    decoded = pl.Series("bolt11", INVOICES).ln.decode(errors="coerce")
    want = ln.decode_frame(INVOICES, errors="coerce")
    assert isinstance(decoded, pl.DataFrame)
    assert decoded.columns == list(want.columns) and decoded.height == len(INVOICES)
    for name in want.columns:
        assert decoded[name].to_list() == python_values(want[name]), name
    schema = decoded.schema
    assert schema["amount_msat"] == pl.Int64 and schema["amount_sat"] == pl.Float64
    assert schema["bolt11"] == pl.String and schema["created_at"] == pl.Datetime("ns", "UTC")
    assert decoded["error_type"].to_list()[-3:] == ["FormatError"] * 3


def test_options_reach_decode_frame_and_bad_rows_raise_by_default() -> None:
    unverified = lnpolars.decode_frame(pl.Series(INVOICES[:10]), verify=False)
    assert unverified["payee"].to_list() == python_values(
        ln.decode_frame(INVOICES[:10], verify=False)["payee"]
    )
    with pytest.raises(ln.FormatError, match="row 80: no '1' separator"):
        pl.Series(INVOICES).ln.decode()
    with pytest.raises(TypeError, match="no dtype_backend="):
        pl.Series(INVOICES).ln.decode(dtype_backend="pyarrow")
    with pytest.raises(TypeError, match="takes a polars.Series, got list"):
        lnpolars.decode_frame(INVOICES)


def test_hops_have_the_index_levels_as_columns() -> None:
    hops = pl.Series(INVOICES).ln.hops(errors="coerce")
    want = ln.hops_frame(INVOICES, errors="coerce").reset_index()
    assert hops.columns == list(want.columns)[:3] + list(want.columns)[3:]
    assert hops.columns[:3] == ["invoice", "route", "hop"]
    for name in want.columns:
        assert hops[name].to_list() == python_values(want[name]), name
