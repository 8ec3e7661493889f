"""Sample invoices that ship with the package, so notebooks and examples run in any folder, offline.

``examples/sample_invoices.txt``: the 16 "valid" examples of the BOLT 11 specification (row 13 fails the
current reader rules, bolts#1358), then 300 generated invoices with realistic amounts, networks, route
hints and fallback addresses (``make sample`` regenerates it with a fixed seed). One invoice a line;
``#`` lines are comments.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

import pandas as pd

_RESOURCE = "examples/sample_invoices.txt"


def sample_invoices_text() -> str:
    """The sample file as text (comments included)."""
    return (files("lnnotebook") / _RESOURCE).read_text(encoding="utf-8")


def sample_invoices() -> pd.Series:
    """The sample invoices as a Series named ``bolt11`` (index 0, 1, ...): the spec's examples first."""
    lines = (line.strip() for line in sample_invoices_text().splitlines())
    return pd.Series(
        [line for line in lines if line and not line.startswith("#")], name="bolt11", dtype=object
    )


def sample_invoices_path() -> Path:
    """Where the sample file is on disk (the installed package's copy)."""
    with as_file(files("lnnotebook") / _RESOURCE) as path:  # a real file for a normal install
        return Path(path)


__all__ = ["sample_invoices", "sample_invoices_path", "sample_invoices_text"]
