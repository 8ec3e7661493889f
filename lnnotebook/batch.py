"""``create_invoices``: one call, many providers, one DataFrame.

Columns, in order:

* ``provider``, ``repeat`` (0-based round), ``elapsed_s`` (seconds the create call took);
* the ``CreatedInvoice`` fields: ``provider_id``, ``bolt11``, ``amount_sat``, ``memo``, ``expiry``,
  ``fee_sat``,
  ``status``, ``created_at``, ``note``, ``raw``. On a failed row ``amount_sat``/``memo``/``expiry`` are what
  was asked for and the rest is missing;
* ``error`` and ``error_type`` (the ``ProviderError`` subclass name), missing on success;
* the columns of ``decode_frame`` for the returned ``bolt11``. Decoded names that clash with the columns
  above are prefixed ``invoice_`` (``invoice_amount_sat``, ``invoice_expiry``, ``invoice_created_at``), the
  decoder's own ``error``/``error_type`` become ``decode_error``/``decode_error_type``, and its ``bolt11``
  column (identical) is dropped. So ``amount_sat`` is what the provider says it created and
  ``invoice_amount_sat`` is what the signed invoice says.

Only ``ProviderError`` (including validation errors) and ``LedgerError`` become failure rows; anything
else is a bug and propagates. Where the provider did create an invoice (``SuspectInvoiceError``: its answer
contradicts the request; ``LedgerError``: it could not be saved) the row keeps that invoice beside the error.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from typing import Any

import pandas as pd

from lnnotebook.ledger import HISTORY_COLUMNS, LedgerError, LedgerSpec
from lnnotebook.providers.base import CreatedInvoice, Provider, whole_number
from lnnotebook.providers.errors import ProviderError

CREATED_COLUMNS = tuple(f.name for f in fields(CreatedInvoice) if f.name != "provider")
# The record's columns have the ledger's dtypes; created_at and raw are converted on their own.
_DTYPES = {
    "provider": "string",
    "repeat": "Int64",
    "elapsed_s": "Float64",
    **{name: HISTORY_COLUMNS[name] for name in CREATED_COLUMNS if name not in ("created_at", "raw")},
    "error": HISTORY_COLUMNS["error"],
    "error_type": HISTORY_COLUMNS["error_type"],
}
_PROGRESS_THRESHOLD = 20  # progress=None shows a bar from this many invoices on


def create_invoices(
    providers: Provider | str | Iterable[Provider | str],
    amount_sat: int,
    memo: str | None = None,
    expiry: int | None = None,
    *,
    repeat: int = 1,
    workers: int = 4,
    progress: bool | None = None,
    ledger: LedgerSpec = None,
) -> pd.DataFrame:
    """Create ``repeat`` invoices at every provider, ``workers`` requests at a time; one row each.

    ``providers``: clients from ``connect``/``sandbox.connect``, or names (connected from environment
    variables and closed afterwards). ``progress``: True/False, or None for a bar on 20+ invoices.
    ``ledger``: where clients opened here by name record their invoices (the default ledger, a
    ``Ledger``, a path, or False); clients passed in keep the ledger they were connected with.
    """
    clients, opened = _clients(providers, ledger)
    try:
        repeat = _positive_int(repeat, "repeat")
        workers = _positive_int(workers, "workers")
        jobs = [(round_, client) for round_ in range(repeat) for client in clients]
        show = len(jobs) >= _PROGRESS_THRESHOLD if progress is None else bool(progress)

        def run(job: tuple[int, Provider]) -> dict[str, Any]:
            round_, client = job
            return _create_row(client, round_, amount_sat, memo, expiry)

        with ThreadPoolExecutor(max_workers=min(workers, max(1, len(jobs)))) as pool:
            results = pool.map(run, jobs)
            if show:
                from tqdm.auto import tqdm

                results = tqdm(results, total=len(jobs), desc="creating invoices", unit="invoice")
            rows = list(results)
    finally:
        for client in opened:
            client.close()
    return _frame(rows)


def _create_row(client: Provider, round_: int, amount_sat: Any, memo: Any, expiry: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"provider": client.name, "repeat": round_}
    started = time.perf_counter()
    try:
        invoice = client.create_invoice(amount_sat, memo, expiry)
    except (ProviderError, LedgerError) as exc:
        row["elapsed_s"] = time.perf_counter() - started
        created = getattr(exc, "invoice", None)  # SuspectInvoiceError, LedgerError: it exists, keep it
        if created is not None:
            row.update({name: getattr(created, name) for name in CREATED_COLUMNS})
        else:
            row.update(amount_sat=whole_number(amount_sat), memo=memo, expiry=whole_number(expiry))
        row.update(error=str(exc), error_type=type(exc).__name__)
        return row
    row["elapsed_s"] = time.perf_counter() - started
    row.update({name: getattr(invoice, name) for name in CREATED_COLUMNS})
    return row


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ["provider", "repeat", "elapsed_s", *CREATED_COLUMNS, "error", "error_type"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column, dtype in _DTYPES.items():
        frame[column] = frame[column].astype(dtype)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True).astype("datetime64[ns, UTC]")
    frame["raw"] = frame["raw"].astype(object)
    return join_decoded(frame)


def join_decoded(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the ``decode_frame`` columns of its ``bolt11`` column joined (see module doc)."""
    from lnnotebook.frames import decode_frame

    present = frame["bolt11"].dropna()
    decoded = decode_frame(present.astype(object), errors="coerce")
    decoded = decoded.drop(columns=["bolt11"], errors="ignore")
    decoded = decoded.rename(columns=_decoded_renames(frame.columns))
    return frame.join(decoded.reindex(frame.index))


def _decoded_renames(columns: Iterable[str]) -> dict[str, str]:
    from lnnotebook.frames import INVOICE_COLUMNS

    renames = {"error": "decode_error", "error_type": "decode_error_type"}
    renames.update({c: f"invoice_{c}" for c in INVOICE_COLUMNS if c in set(columns) and c not in renames})
    return renames


def provider_frame_dtypes() -> dict[str, str]:
    """Column dtypes of ``create_invoices`` and ``history`` frames (for ``lnnotebook.read_csv``)."""
    from lnnotebook.frames import INVOICE_COLUMNS

    own = {**_DTYPES, "created_at": "datetime64[ns, UTC]", "raw": "object", **HISTORY_COLUMNS}
    renames = _decoded_renames(own)
    decoded = {
        renames.get(column, column): dtype for column, dtype in INVOICE_COLUMNS.items() if column != "bolt11"
    }
    return {**decoded, **own}


def _clients(
    providers: Provider | str | Iterable[Provider | str], ledger: LedgerSpec
) -> tuple[list[Provider], list[Provider]]:
    from lnnotebook.providers import connect

    items = [providers] if isinstance(providers, (Provider, str)) else list(providers)
    if not items:
        raise ValueError("create_invoices needs at least one provider")
    clients: list[Provider] = []
    opened: list[Provider] = []
    try:
        for item in items:
            if isinstance(item, Provider):
                clients.append(item)
            elif isinstance(item, str):
                client = connect(item, ledger=ledger)
                opened.append(client)
                clients.append(client)
            else:
                raise TypeError(f"providers must be Provider clients or names, got {type(item).__name__}")
    except BaseException:
        for client in opened:
            client.close()
        raise
    return clients, opened


def _positive_int(value: Any, name: str) -> int:
    number = whole_number(value)
    if number is None or number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number
