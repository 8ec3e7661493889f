"""``import lnnotebook`` stays light: the optional engines load only with the modules that use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
ENGINES = ("dask", "distributed", "polars", "pyarrow")

CHILD = """
import json, sys
def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in {engines})
# pandas imports some of pyarrow itself when it is installed (also for a frame of strings): not ours
import pandas
pandas.DataFrame({{"text": pandas.array(["a", None], dtype="string")}})
by_pandas = loaded()
import lnnotebook as ln
ln.decode_frame(["junk"], errors="coerce")
ln.decode_file, ln.to_parquet, ln.read_parquet  # the lazy names resolve without importing the engines
print(json.dumps({{"by_pandas": by_pandas, "by_lnnotebook": loaded()}}))
"""


def run(code: str) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120, check=True
    )
    return json.loads(result.stdout)


def test_import_lnnotebook_imports_no_engine() -> None:
    modules = run(CHILD.format(engines=set(ENGINES)))
    added = sorted(set(modules["by_lnnotebook"]) - set(modules["by_pandas"]))
    assert added == [], f"import lnnotebook (and decode_frame, the lazy names) imported {added}"
    assert not {m.split(".")[0] for m in modules["by_lnnotebook"]} & {"dask", "distributed", "polars"}


def test_lnnotebook_works_where_no_engine_is_installed() -> None:
    """With the engines made unimportable, lnnotebook decodes, and the engine modules say what to install."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {set(ENGINES)!r}:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import json, lnnotebook as ln\n"
        "frame = ln.decode_frame(['junk'], errors='coerce')\n"
        "messages = {}\n"
        "for call in (lambda: ln.decode_frame(['junk'], errors='coerce', dtype_backend='pyarrow'),\n"
        "             lambda: ln.to_parquet(frame, 'never.parquet')):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as error:\n"
        "        messages[len(messages)] = str(error)\n"
        "print(json.dumps({'error_type': frame['error_type'][0], 'messages': messages}))\n"
    )
    result = run(code)
    assert result["error_type"] == "FormatError"
    assert result["messages"] == {
        "0": "dtype_backend='pyarrow' needs pyarrow: pip install 'lnnotebook[parquet]'",
        "1": "Parquet files need pyarrow: pip install 'lnnotebook[parquet]'",
    }
