"""The service layer: connect clients, create invoices in batches, and own the ledger.

Provider clients (``lnnotebook.providers``) talk HTTP and persist nothing; the ledger
(``lnnotebook.ledger``) stores and imports no provider code. This module joins them:

* ``connect(name, ledger=..., **options)`` builds the client from the registry and injects the ledger
  as its recorder, so every invoice a provider returns is committed before ``create_invoice`` returns;
* ``create_invoices(...)``: one call, many providers, one DataFrame (columns below);
* ``history(...)``: the ledger with the decoded invoice columns joined;
* ``refresh(...)`` / ``Ledger.refresh()``: ask providers for the status of pending invoices.

``create_invoices`` columns, in order (``lnnotebook.schema.CREATED_COLUMNS``, then decoded):

* ``provider``, ``repeat`` (0-based round), ``elapsed_s`` (seconds the create call took);
* the ``CreatedInvoice`` fields: ``provider_id``, ``bolt11``, ``amount_sat``, ``memo``, ``expiry``,
  ``fee_sat``, ``status``, ``created_at``, ``raw``, ``note``. On a failed row ``amount_sat``/``memo``/
  ``expiry`` are what was asked for and the rest is missing;
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

import os
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from lnnotebook.errors import LnnotebookError
from lnnotebook.ledger import LedgerError, LedgerStore, default_ledger_path
from lnnotebook.providers import provider_class
from lnnotebook.providers.base import STATUSES, Provider, Recorder, whole_number
from lnnotebook.providers.errors import ProviderError
from lnnotebook.schema import (
    CREATED_COLUMNS,
    CREATED_FIELDS,
    JOINED_DTYPES,
    RECONCILE_COLUMNS,
    REFRESH_COLUMNS,
    decoded_renames,
)

# None: the default ledger; False: none; a path; a Ledger (or any Recorder).
LedgerSpec: TypeAlias = LedgerStore | Recorder | str | os.PathLike | bool | None

_PROGRESS_THRESHOLD = 20  # progress=None shows a bar from this many invoices on


class Ledger(LedgerStore):
    """The invoices providers returned, and failed attempts, in one SQLite file (``lnnotebook.ledger``),
    plus ``refresh()``, which asks the providers about the pending ones."""

    def refresh(self, providers: Mapping[str, Provider] | Iterable[Provider] | None = None) -> pd.DataFrame:
        """Ask each provider for the status of the pending invoices and record what changed.

        ``providers``: clients to ask (a list, or a name -> client mapping); a provider not given is
        connected by name from ``LNNOTEBOOK_*`` environment variables. Returns one row per pending
        invoice asked about: ``id``, ``provider``, ``provider_id``, ``old_status``, ``status``,
        ``changed``, and ``error`` when the provider could not answer (the invoice stays pending).
        """
        return refresh(self, providers)

    def reconcile(self, providers: Mapping[str, Provider] | Iterable[Provider] | None = None) -> pd.DataFrame:
        """Settle every ``unknown`` attempt (a create whose answer was lost) by asking its provider.

        Each attempt becomes ``created`` (the invoice found at the provider, now in the ledger once),
        ``not created`` (the provider lists no such invoice, and enough time has passed), ``never
        paid`` (LNPay, which lists only settled invoices: none carries it and it would have expired),
        or stays ``unknown`` (the provider could not be asked, or it is too early to tell; ``error``
        says which). ``providers``: as for ``refresh``. Returns one row per attempt asked about.
        """
        return reconcile(self, providers)


_ledgers: dict[Path, Ledger] = {}
_ledgers_lock = threading.Lock()


def get_ledger(spec: LedgerSpec = None) -> Recorder | None:
    """The recorder a client gets: None -> the default ledger, False -> none, a path (one shared
    ``Ledger`` per file), or a ``Ledger``/any ``Recorder`` as it is."""
    if spec is False:
        return None
    if isinstance(spec, LedgerStore) or _is_recorder(spec):
        return spec  # type: ignore[return-value]  # narrowed by _is_recorder
    if spec is None or spec is True:
        path = default_ledger_path()
    elif isinstance(spec, (str, os.PathLike)):
        path = Path(spec).expanduser()
    else:
        raise TypeError(f"ledger must be a Ledger, a path, or False; got {type(spec).__name__}")
    key = path.resolve()
    with _ledgers_lock:
        ledger = _ledgers.get(key)
        if ledger is None:
            ledger = _ledgers[key] = Ledger(path)
        return ledger


def _is_recorder(value: Any) -> bool:
    return all(callable(getattr(value, name, None)) for name in ("record", "record_failure", "note_status"))


def connect(name: str, *, ledger: LedgerSpec = None, **options: Any) -> Provider:
    """A client for provider ``name``; options come from keywords or ``LNNOTEBOOK_<PROVIDER>_<OPTION>``.

    ``ledger``: where every invoice it creates is committed before ``create_invoice`` returns (None:
    the default ledger, ``$LNNOTEBOOK_HOME/ledger.sqlite``; a path; a ``Ledger``; False: nowhere).
    """
    cls = provider_class(name)
    return cls(recorder=get_ledger(ledger), **options)


# --- create_invoices ------------------------------------------------------------------------------


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
            results: Iterable[dict[str, Any]] = pool.map(run, jobs)
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
        row["elapsed_s"] = _seconds_since(started)
        created = getattr(exc, "invoice", None)  # SuspectInvoiceError, LedgerError: it exists, keep it
        if created is not None:
            row.update({name: getattr(created, name) for name in CREATED_FIELDS})
        else:
            row.update(amount_sat=whole_number(amount_sat), memo=memo, expiry=whole_number(expiry))
        row.update(error=str(exc), error_type=type(exc).__name__)
        return row
    row["elapsed_s"] = _seconds_since(started)
    row.update({name: getattr(invoice, name) for name in CREATED_FIELDS})
    return row


def _seconds_since(started: float) -> float:
    """Seconds to 0.1 ms: finer digits are timer noise (and would be float noise in a CSV)."""
    return round(time.perf_counter() - started, 4)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(CREATED_COLUMNS))
    for column, dtype in CREATED_COLUMNS.items():
        if dtype.startswith("datetime"):
            frame[column] = pd.to_datetime(frame[column], utc=True).astype(dtype)
        else:
            frame[column] = frame[column].astype(dtype)
    return join_decoded(frame)


def join_decoded(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the ``decode_frame`` columns of its ``bolt11`` column joined (see module doc)."""
    from lnnotebook.frames import decode_frame  # decoding loads on first use

    present = frame["bolt11"].dropna()
    decoded = decode_frame(present.astype(object), errors="coerce")
    decoded = decoded.drop(columns=["bolt11"], errors="ignore")
    msat = decoded["amount_msat"]
    whole = (msat % 1000 == 0).fillna(False).to_numpy(dtype=bool)
    # Whole sats as Int64, like the provider's amount_sat (JOINED_DTYPES); a fraction only in amount_msat.
    decoded["amount_sat"] = (msat // 1000).where(whole, pd.NA).astype(JOINED_DTYPES["amount_sat"])
    decoded = decoded.rename(columns=decoded_renames(list(frame.columns)))
    return frame.join(decoded.reindex(frame.index))


def _clients(
    providers: Provider | str | Iterable[Provider | str], ledger: LedgerSpec
) -> tuple[list[Provider], list[Provider]]:
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


# --- history and refresh --------------------------------------------------------------------------


def _store(ledger: LedgerSpec, what: str) -> LedgerStore:
    if ledger is False:
        raise ValueError(f"{what} reads a ledger: pass a Ledger, a path, or None for the default one")
    source = get_ledger(ledger)
    if not isinstance(source, LedgerStore):
        raise TypeError(f"{what} needs a Ledger or a path, got {type(ledger).__name__}")
    return source


class FilterError(LnnotebookError, ValueError):
    """A ``history()`` filter value that can match nothing (a misspelt provider or status, a date that
    is not one); the message lists what is valid."""


_FILTERS = ("provider", "status", "since", "until", "failures")


def history(ledger: LedgerSpec = None, **filters: Any) -> pd.DataFrame:
    """Every invoice in the ledger with the decoded invoice columns joined.

    Filters: ``provider``, ``status`` (a value or a list), ``since``, ``until`` (creation time: a
    datetime or ISO 8601 text, UTC when it has no offset), ``failures`` (False to leave out failed
    attempts). A value that cannot match (a status not in ``pending, paid, expired, failed``, a provider
    neither registered nor in the ledger, a date that does not parse) is a ``FilterError`` saying what
    is valid, not an empty table.
    """
    store = _store(ledger, "history()")
    check_filters(store, filters)
    return join_decoded(store.invoices(**filters))


def check_filters(store: LedgerStore, filters: Mapping[str, Any]) -> None:
    """Raise ``FilterError`` for a ``history()`` filter that is unknown or can match nothing."""
    unknown = sorted(set(filters) - set(_FILTERS))
    if unknown:
        raise FilterError(
            f"history() has no filter {', '.join(unknown)}; the filters are {', '.join(_FILTERS)}"
        )
    status = filters.get("status")
    for value in _values(status):
        if value not in STATUSES:
            hint = f" (did you mean {value.lower()!r}?)" if str(value).lower() in STATUSES else ""
            raise FilterError(f"status {value!r} is not one of {', '.join(STATUSES)}{hint}")
    wanted = _values(filters.get("provider"))
    if wanted:
        from lnnotebook.providers import provider_names

        recorded = store._query("SELECT DISTINCT provider FROM invoices")["provider"].dropna().tolist()
        known = list(dict.fromkeys([*recorded, *provider_names()]))
        for value in wanted:
            if value not in known:
                raise FilterError(
                    f"provider {value!r} is neither in the ledger nor registered; "
                    f"in the ledger: {', '.join(map(str, recorded)) or 'none yet'}; "
                    f"registered: {', '.join(provider_names())}"
                )
    for bound in ("since", "until"):
        value = filters.get(bound)
        if value is None:
            continue
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            stamp = None
        if stamp is None or stamp is pd.NaT:
            raise FilterError(
                f"{bound}={value!r} is not a date or time: give a datetime or ISO 8601 text, "
                "e.g. '2026-11-23' or '2026-11-23T12:00+01:00' (UTC when it has no offset)"
            )


def _values(wanted: Any) -> list[Any]:
    if wanted is None:
        return []
    return [wanted] if isinstance(wanted, str) else list(wanted)


def refresh(
    ledger: LedgerSpec = None, providers: Mapping[str, Provider] | Iterable[Provider] | None = None
) -> pd.DataFrame:
    """``Ledger.refresh()`` for ``ledger`` (None: the default one); see there."""
    store = _store(ledger, "refresh()")
    clients = _client_map(providers)
    pending = store._query(
        "SELECT id, provider, provider_id, status FROM invoices "
        "WHERE status = 'pending' AND provider_id IS NOT NULL ORDER BY id"
    )
    asker = _StatusAsker(store, clients)
    try:
        rows = [asker.ask(*row) for row in pending.itertuples(index=False)]
    finally:
        asker.close()
    frame = pd.DataFrame.from_records(rows, columns=list(REFRESH_COLUMNS))
    return frame.astype(REFRESH_COLUMNS)


def reconcile(
    ledger: LedgerSpec = None, providers: Mapping[str, Provider] | Iterable[Provider] | None = None
) -> pd.DataFrame:
    """``Ledger.reconcile()`` for ``ledger`` (None: the default one); see there."""
    store = _store(ledger, "reconcile()")
    asker = _StatusAsker(store, _client_map(providers))
    try:
        rows = [_settle(store, asker, *row) for row in store.unknown_attempts().itertuples(index=False)]
    finally:
        asker.close()
    frame = pd.DataFrame.from_records(rows, columns=list(RECONCILE_COLUMNS))
    return frame.astype(RECONCILE_COLUMNS)


def _settle(
    store: LedgerStore, asker: _StatusAsker, attempt: Any, provider: str, reference: Any, match: Any, _: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": attempt,
        "provider": provider,
        "reference": reference,
        "resolution": "unknown",
    }
    if not match or not reference:
        return {**row, "error": "the attempt has no client reference to look it up by"}
    try:
        client = asker.client(provider)
        candidates = client.lookup(match)
    except ProviderError as error:
        return {**row, "error": f"could not ask: {error}"}
    for candidate in candidates:
        found = replace(candidate, note="; ".join(filter(None, [candidate.note, "recovered by reconcile()"])))
        if store.claim(int(attempt), found):
            return {**row, "resolution": "created", "provider_id": found.provider_id, "bolt11": found.bolt11}
    decided = client.settled_by(match)
    if datetime.now(timezone.utc) < decided:
        return {
            **row,
            "error": f"nothing listed yet; too early to tell: reconcile again after {decided.isoformat()}",
        }
    if client.lookup_finds_unpaid:
        reason = f"{provider} lists no invoice with this attempt's reference or request: it was not created"
        store.resolve_not_created(int(attempt), reason)
        return {**row, "resolution": "not created", "error": reason}
    reason = (
        f"{provider} lists only paid invoices and none carries this attempt's reference; its expiry has "
        "passed, so if it was created it expired unpaid: no money arrived for it"
    )
    store.resolve_not_created(int(attempt), reason, kind="NeverPaid")
    return {**row, "resolution": "never paid", "error": reason}


def _client_map(providers: Mapping[str, Provider] | Iterable[Provider] | None) -> dict[str, Provider]:
    if providers is None:
        return {}
    if isinstance(providers, Mapping):
        return dict(providers)
    return {client.name: client for client in providers}


class _StatusAsker:
    """Asks the providers of one refresh; connects each missing one once (not once per invoice)."""

    def __init__(self, store: LedgerStore, clients: dict[str, Provider]) -> None:
        self.store = store
        self.clients = clients
        self.opened: list[Provider] = []
        self.unconnectable: dict[str, ProviderError] = {}

    def client(self, provider: str) -> Provider:
        client = self.clients.get(provider)
        if client is None and provider not in self.unconnectable:
            try:
                client = self.clients[provider] = connect(provider, ledger=self.store)
                self.opened.append(client)
            except ProviderError as error:
                self.unconnectable[provider] = error
        if client is None:
            raise self.unconnectable[provider]
        return client

    def ask(self, invoice_id: Any, provider: str, provider_id: str, old_status: str) -> dict[str, Any]:
        row = {"id": invoice_id, "provider": provider, "provider_id": provider_id, "old_status": old_status}
        try:
            status = self.client(provider).invoice_status(provider_id)
        except ProviderError as error:
            row.update(status=old_status, changed=False, error=str(error))
        else:
            # invoice_status() has already noted the change if the client records here too
            self.store.set_status(int(invoice_id), status)
            row.update(status=status, changed=status != old_status, error=None)
        return row

    def close(self) -> None:
        for client in self.opened:
            client.close()


__all__ = [
    "FilterError",
    "Ledger",
    "LedgerSpec",
    "check_filters",
    "connect",
    "create_invoices",
    "get_ledger",
    "history",
    "reconcile",
    "refresh",
]
