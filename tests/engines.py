"""The optional engines (pyarrow, dask, distributed, polars) in tests: skip when one is missing, unless
``LNNOTEBOOK_REQUIRE_ENGINES`` is set (``.ci/run`` sets it, and the dev extra installs them): then fail."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

REQUIRE_VARIABLE = "LNNOTEBOOK_REQUIRE_ENGINES"


def engines_required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def require(*modules: str) -> list[ModuleType]:
    """Import ``modules`` (at a test module's top: ``pa, = require("pyarrow")``), or skip that module."""
    imported = []
    for name in modules:
        try:
            imported.append(importlib.import_module(name))
        except ImportError as error:
            reason = f"{name} is not installed ({error}); pip install -e '.[dev]'"
            if engines_required():
                pytest.fail(f"{REQUIRE_VARIABLE} is set, but {reason}", pytrace=False)
            pytest.skip(f"{reason}; set {REQUIRE_VARIABLE}=1 to make this a failure", allow_module_level=True)
    return imported
