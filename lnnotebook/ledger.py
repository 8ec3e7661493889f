"""The SQLite storage of every invoice a provider created, and of every failed attempt.

An invoice the user cannot find again is lost money, so each invoice is written here (committed, WAL
mode, ``synchronous=FULL``) before ``create_invoice`` returns it: ``lnnotebook.service.connect`` gives
each client the ledger as its recorder (``LedgerStore`` is a ``providers.base.Recorder``). Kernels die and two
notebooks may write at once: every write is one short ``BEGIN IMMEDIATE`` transaction with a busy
timeout and retries, and a connection is never carried across ``fork``.

The default ledger is ``$LNNOTEBOOK_HOME/ledger.sqlite`` (``LNNOTEBOOK_HOME`` defaults to
``~/.lnnotebook``).

This module is storage only: it imports nothing of the providers or the service. The public
``lnnotebook.Ledger`` (``lnnotebook.service``) is this class with ``refresh()``, which asks providers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from pandas.api.types import pandas_dtype

from lnnotebook.errors import LnnotebookError
from lnnotebook.schema import HISTORY_COLUMNS as HISTORY_COLUMNS  # re-exported for existing imports
from lnnotebook.schema import STATUS_CHANGE_COLUMNS

if TYPE_CHECKING:
    from lnnotebook.providers.base import CreatedInvoice

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    provider_id TEXT,
    bolt11 TEXT,
    amount_sat INTEGER,
    memo TEXT,
    expiry INTEGER,
    fee_sat INTEGER,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    raw TEXT,
    note TEXT,
    error TEXT,
    error_type TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS invoices_by_provider_id
    ON invoices (provider, provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS invoices_by_status ON invoices (status);
CREATE TABLE IF NOT EXISTS status_changes (
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
"""

# Columns added after the first release: (name, type), added to an older file when it is opened.
_ADDED_COLUMNS = (("reference", "TEXT"), ("attempt", "TEXT"))
_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS invoices_by_reference
    ON invoices (provider, reference) WHERE reference IS NOT NULL;
CREATE INDEX IF NOT EXISTS invoices_unknown ON invoices (status) WHERE status = 'unknown';
"""
UNKNOWN = "unknown"  # an attempt whose answer was lost: the invoice may exist
MAX_RAW_CHARS = 65_536  # `raw` beyond this is stored as its head, marked truncated

_Store = TypeVar("_Store", bound="LedgerStore")
_BUSY_RETRIES = 8
_BUSY_TIMEOUT_S = 30.0


class LedgerError(LnnotebookError, RuntimeError):
    """The ledger could not be written. ``invoice`` holds the record that was not saved, if any."""

    def __init__(self, message: str, invoice: CreatedInvoice | None = None) -> None:
        super().__init__(message)
        self.invoice = invoice


def lnnotebook_home() -> Path:
    return Path(os.environ.get("LNNOTEBOOK_HOME") or Path.home() / ".lnnotebook").expanduser()


def default_ledger_path() -> Path:
    return lnnotebook_home() / "ledger.sqlite"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _iso(value: datetime | None) -> str:
    if value is None:
        return _now()
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


class LedgerStore:
    """The invoices a provider returned, and failed attempts, in one SQLite file.

    One object may be shared by threads (writes are serialised by a lock); other processes open
    their own ``Ledger`` on the same path.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, timeout: float = _BUSY_TIMEOUT_S) -> None:
        self.path = Path(path).expanduser() if path is not None else default_ledger_path()
        self.timeout = timeout
        self._lock = threading.RLock()
        self._connection_: sqlite3.Connection | None = None
        self._inherited: list[sqlite3.Connection] = []  # the parent's, after a fork (see _connection)
        self._pid: int | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._with_retries(_create_tables, transaction=False)
            # Under the write lock: processes opening a new ledger at once would otherwise each see the
            # added columns missing, and the second ALTER would fail ("duplicate column name").
            self._with_retries(_add_columns)
            self._with_retries(_create_indexes, transaction=False)
        except (OSError, sqlite3.Error) as error:
            self.close()
            raise LedgerError(
                f"cannot open the ledger {self.path} for writing ({type(error).__name__}: {error}). Make "
                "its folder writable, set LNNOTEBOOK_HOME to a writable folder, or pass ledger= a "
                "writable path (ledger=False records nothing)"
            ) from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self.path)!r}>"

    # --- connection and writes -------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._connection_ is None or self._pid != os.getpid():
            # A connection inherited through fork must not be used, nor closed by the child: dropping
            # the last reference would close it, so the child keeps it, unused, until it exits.
            if self._connection_ is not None:
                self._inherited.append(self._connection_)
            connection = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")  # committed means on disk
            connection.execute("PRAGMA foreign_keys = ON")
            self._connection_, self._pid = connection, os.getpid()
        return self._connection_

    def _with_retries(self, work: Callable[[sqlite3.Connection], _T], *, transaction: bool = True) -> _T:
        """Run ``work(connection)`` (in one IMMEDIATE transaction) retrying while the file is busy."""
        delay = 0.01
        for attempt in range(_BUSY_RETRIES):
            try:
                with self._lock:
                    connection = self._connection()
                    if not transaction:
                        return work(connection)
                    connection.execute("BEGIN IMMEDIATE")
                    try:
                        result = work(connection)
                    except BaseException:
                        connection.execute("ROLLBACK")
                        raise
                    connection.execute("COMMIT")
                    return result
            except sqlite3.OperationalError as error:
                busy = "locked" in str(error) or "busy" in str(error)
                if not busy or attempt == _BUSY_RETRIES - 1:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._connection_ is not None and self._pid == os.getpid():
                self._connection_.close()
            self._connection_ = None

    def __enter__(self: _Store) -> _Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- recording -----------------------------------------------------------------------------

    def record(
        self, invoice: CreatedInvoice, *, error: BaseException | None = None, attempt: int | None = None
    ) -> int:
        """Save a created invoice (committed when this returns); returns its ledger id.

        ``error``: what is wrong with an invoice the provider did create (kept with it). ``attempt``:
        the row ``record_attempt`` made for this create, which becomes the invoice's row. Recording the
        same (provider, provider_id) again updates that row instead of adding one (an attempt row
        that turns out to repeat a known invoice is folded into it).
        """
        values = _invoice_values(invoice, error)

        def insert(connection: sqlite3.Connection) -> int:
            if attempt is not None:
                held = _held_elsewhere(connection, invoice, attempt)
                if held is None:
                    return _fill_attempt(connection, attempt, values)
                connection.execute("DELETE FROM invoices WHERE id = ? AND status = ?", (attempt, UNKNOWN))
            return _upsert(connection, values)

        try:
            return self._with_retries(insert)
        except sqlite3.Error as error:
            raise LedgerError(
                f"could not save the {invoice.provider} invoice {invoice.provider_id} to the ledger "
                f"{self.path}: {error}. The invoice exists at the provider; it is attached to this error "
                "as .invoice",
                invoice,
            ) from error

    def record_failure(
        self,
        provider: str,
        error: BaseException,
        *,
        amount_sat: Any = None,
        memo: Any = None,
        expiry: Any = None,
        attempt: int | None = None,
    ) -> int:
        """Save a failed create attempt with its error (no secret: provider errors are redacted).

        ``attempt``: the row ``record_attempt`` made, which becomes the failure's row. A failed write
        raises ``LedgerError`` (without an invoice: none was created).
        """
        now = _now()
        values = (
            provider,
            _as_int(amount_sat),
            memo if isinstance(memo, str) else None,
            _as_int(expiry),
            now,
            now,
            str(error),
            type(error).__name__,
        )

        def write(connection: sqlite3.Connection) -> int:
            if attempt is not None:
                connection.execute(
                    "UPDATE invoices SET status = 'failed', updated_at = ?, error = ?, error_type = ? "
                    "WHERE id = ?",
                    (now, str(error), type(error).__name__, attempt),
                )
                return attempt
            row = connection.execute(
                """
                INSERT INTO invoices (provider, amount_sat, memo, expiry, status, created_at,
                                      updated_at, error, error_type)
                VALUES (?, ?, ?, ?, 'failed', ?, ?, ?, ?)
                RETURNING id
                """,
                values,
            ).fetchone()
            return int(row[0])

        try:
            return self._with_retries(write)
        except sqlite3.Error as failure:
            raise LedgerError(
                f"could not save the failed {provider} attempt to the ledger {self.path}: {failure}"
            ) from failure

    # --- attempts (exactly-once creation) ---------------------------------------------------------

    def record_attempt(
        self,
        provider: str,
        reference: str,
        *,
        amount_sat: Any = None,
        memo: Any = None,
        expiry: Any = None,
        match: Mapping[str, Any] | None = None,
    ) -> int:
        """Save a create attempt before its request is sent (status ``unknown`` until it is settled).

        ``reference`` is the client reference the request carries; ``match`` what is needed to find
        the invoice later if the answer is lost. Returns the attempt's ledger id.
        """
        now = _now()
        values = (
            provider,
            reference,
            json.dumps(dict(match or {}), default=str, ensure_ascii=False),
            _as_int(amount_sat),
            memo if isinstance(memo, str) else None,
            _as_int(expiry),
            UNKNOWN,
            now,
            now,
            "request being sent; no answer yet",
        )
        try:
            return self._with_retries(
                lambda connection: int(
                    connection.execute(
                        """
                        INSERT INTO invoices (provider, reference, attempt, amount_sat, memo, expiry,
                                              status, created_at, updated_at, note)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        RETURNING id
                        """,
                        values,
                    ).fetchone()[0]
                )
            )
        except sqlite3.Error as error:
            raise LedgerError(
                f"could not save the {provider} create attempt to the ledger {self.path} ({error}); "
                "nothing was sent, so nothing can be lost"
            ) from None

    def mark_unknown(self, attempt: int, error: BaseException) -> None:
        """Keep an attempt whose answer was lost as ``unknown``, with the error that lost it."""
        now = _now()
        try:
            self._with_retries(
                lambda connection: connection.execute(
                    "UPDATE invoices SET status = ?, updated_at = ?, error = ?, error_type = ?, note = ? "
                    "WHERE id = ?",
                    (UNKNOWN, now, str(error), type(error).__name__, _MAY_EXIST, attempt),
                )
            )
        except sqlite3.Error as failure:
            raise LedgerError(
                f"could not keep the unknown attempt {attempt} in the ledger {self.path}: {failure}"
            ) from None

    def claim(self, attempt: int, invoice: CreatedInvoice) -> bool:
        """Make ``invoice`` (found at the provider) the attempt's row, unless another row holds it.

        Returns False when the ledger already has that invoice: it belongs to another attempt.
        """
        values = _invoice_values(invoice, None)

        def write(connection: sqlite3.Connection) -> bool:
            if _held_elsewhere(connection, invoice, attempt) is not None:
                return False
            _fill_attempt(connection, attempt, values)
            return True

        try:
            return self._with_retries(write)
        except sqlite3.Error as error:
            raise LedgerError(
                f"could not save the recovered {invoice.provider} invoice {invoice.provider_id} to the "
                f"ledger {self.path}: {error}. The invoice exists at the provider; it is attached to this "
                "error as .invoice",
                invoice,
            ) from None

    def held(self, provider: str, provider_ids: Iterable[str]) -> set[str]:
        """Which of ``provider_ids`` the ledger already holds for ``provider``."""
        wanted = [value for value in provider_ids if value]
        if not wanted:
            return set()
        found = self._query(
            f"SELECT provider_id FROM invoices WHERE provider = ? AND provider_id IN "
            f"({', '.join('?' * len(wanted))})",
            [provider, *wanted],
        )
        return set(found["provider_id"]) if len(found) else set()

    def unknown_attempts(self, provider: str | None = None) -> pd.DataFrame:
        """The attempts still ``unknown``: ``id``, ``provider``, ``reference``, ``attempt`` (a dict)."""
        sql = "SELECT id, provider, reference, attempt, created_at FROM invoices WHERE status = ?"
        parameters: list[Any] = [UNKNOWN]
        if provider is not None:
            sql += " AND provider = ?"
            parameters.append(provider)
        frame = self._query(sql + " ORDER BY id", parameters)
        frame["attempt"] = [json.loads(text) if text else {} for text in frame["attempt"]]
        return frame

    def resolve_not_created(self, attempt: int, reason: str, *, kind: str = "NotCreated") -> None:
        """Settle an unknown attempt that left no invoice to keep (``failed``; ``error_type`` ``kind``:
        ``NotCreated``, or ``NeverPaid`` where a provider lists only paid invoices)."""
        now = _now()
        self._with_retries(
            lambda connection: connection.execute(
                "UPDATE invoices SET status = 'failed', updated_at = ?, error = ?, error_type = ?, note = ? "
                "WHERE id = ? AND status = ?",
                (now, reason, kind, reason, attempt, UNKNOWN),
            )
        )

    def set_status(self, invoice_id: int, status: str) -> bool:
        """Record a status; returns True when it changed (the change and its time are kept)."""
        now = _now()

        def update(connection: sqlite3.Connection) -> bool:
            row = connection.execute("SELECT status FROM invoices WHERE id = ?", (invoice_id,)).fetchone()
            if row is None:
                raise KeyError(f"no invoice with ledger id {invoice_id} in {self.path}")
            if row[0] == status:
                return False
            connection.execute(
                "UPDATE invoices SET status = ?, updated_at = ? WHERE id = ?", (status, now, invoice_id)
            )
            connection.execute(
                "INSERT INTO status_changes (invoice_id, old_status, new_status, changed_at) "
                "VALUES (?, ?, ?, ?)",
                (invoice_id, row[0], status, now),
            )
            return True

        return self._with_retries(update)

    def note_status(self, provider: str, provider_id: str, status: str) -> bool:
        """Record a status a provider reported for one of its invoices, if the ledger has it.

        A failed write raises ``LedgerError``.
        """
        try:
            found = self._query(
                "SELECT id FROM invoices WHERE provider = ? AND provider_id = ?", (provider, provider_id)
            )
            return bool(len(found)) and self.set_status(int(found["id"].iloc[0]), status)
        except sqlite3.Error as error:
            raise LedgerError(
                f"{provider}: could not note status {status!r} of invoice {provider_id} in the ledger "
                f"{self.path}: {error}"
            ) from error

    # --- reading -------------------------------------------------------------------------------

    def _query(self, sql: str, parameters: Iterable[Any] = ()) -> pd.DataFrame:
        def read(connection: sqlite3.Connection) -> pd.DataFrame:
            cursor = connection.execute(sql, tuple(parameters))
            names = [column[0] for column in cursor.description]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=names)

        return self._with_retries(read, transaction=False)

    def invoices(
        self,
        *,
        provider: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        failures: bool = True,
    ) -> pd.DataFrame:
        """The ledger's rows as a typed DataFrame (without decoded columns), oldest first."""
        where: list[str] = []
        parameters: list[Any] = []
        for column, wanted in (("provider", provider), ("status", status)):
            if wanted is not None:
                values = [wanted] if isinstance(wanted, str) else list(wanted)
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                parameters.extend(values)
        for operator_, bound in ((">=", since), ("<", until)):
            if bound is not None:
                stamp = pd.Timestamp(bound)
                stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
                where.append(f"created_at {operator_} ?")
                parameters.append(stamp.isoformat(timespec="microseconds"))
        if not failures:
            where.append("error IS NULL")
        sql = f"SELECT {', '.join(HISTORY_COLUMNS)} FROM invoices"
        if where:
            sql += " WHERE " + " AND ".join(where)
        frame = self._query(sql + " ORDER BY id", parameters)
        return _typed(frame)

    def status_changes(self) -> pd.DataFrame:
        frame = self._query(
            "SELECT invoice_id, old_status, new_status, changed_at FROM status_changes ORDER BY rowid"
        )
        for column, dtype in STATUS_CHANGE_COLUMNS.items():
            if dtype.startswith("datetime"):
                frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").astype(
                    pandas_dtype(dtype)
                )
            else:
                frame[column] = frame[column].astype(pandas_dtype(dtype))
        return frame

    def integrity_check(self) -> str:
        return self._with_retries(
            lambda connection: connection.execute("PRAGMA integrity_check").fetchone()[0], transaction=False
        )


_MAY_EXIST = (
    "the answer was lost after the request was sent: the invoice may exist; "
    "lnnotebook.Ledger().reconcile() settles it"
)
_INVOICE_COLUMNS = (
    "provider, provider_id, bolt11, amount_sat, memo, expiry, fee_sat, status, created_at, updated_at, raw, "
    "note, error, error_type"
)


def _create_tables(connection: sqlite3.Connection) -> None:
    connection.executescript(_SCHEMA)


def _add_columns(connection: sqlite3.Connection) -> None:
    present = {row[1] for row in connection.execute("PRAGMA table_info(invoices)")}
    for name, kind in _ADDED_COLUMNS:
        if name not in present:  # a ledger written by an older lnnotebook
            connection.execute(f"ALTER TABLE invoices ADD COLUMN {name} {kind}")


def _create_indexes(connection: sqlite3.Connection) -> None:
    connection.executescript(_INDEXES)


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def bounded_raw(raw: Any, limit: int = MAX_RAW_CHARS) -> str:
    """``raw`` as JSON text of at most about ``limit`` characters (a huge answer keeps its head)."""
    text = json.dumps(dict(raw), default=str, ensure_ascii=False)
    if len(text) <= limit:
        return text
    return json.dumps({"truncated": True, "chars": len(text), "head": text[:limit]}, ensure_ascii=False)


def _invoice_values(invoice: CreatedInvoice, error: BaseException | None) -> tuple[Any, ...]:
    return (
        invoice.provider,
        invoice.provider_id,
        invoice.bolt11,
        invoice.amount_sat,
        invoice.memo,
        invoice.expiry,
        invoice.fee_sat,
        invoice.status,
        _iso(invoice.created_at),
        _now(),
        bounded_raw(invoice.raw),
        invoice.note,
        None if error is None else str(error),
        None if error is None else type(error).__name__,
    )


def _upsert(connection: sqlite3.Connection, values: tuple[Any, ...]) -> int:
    row = connection.execute(
        f"""
        INSERT INTO invoices ({_INVOICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (provider, provider_id) WHERE provider_id IS NOT NULL DO UPDATE SET
            bolt11 = excluded.bolt11, status = excluded.status, fee_sat = excluded.fee_sat,
            updated_at = excluded.updated_at, raw = excluded.raw, note = excluded.note,
            error = excluded.error, error_type = excluded.error_type
        RETURNING id
        """,
        values,
    ).fetchone()
    return int(row[0])


def _held_elsewhere(connection: sqlite3.Connection, invoice: CreatedInvoice, attempt: int) -> int | None:
    if invoice.provider_id is None:
        return None
    row = connection.execute(
        "SELECT id FROM invoices WHERE provider = ? AND provider_id = ? AND id != ?",
        (invoice.provider, invoice.provider_id, attempt),
    ).fetchone()
    return None if row is None else int(row[0])


def _fill_attempt(connection: sqlite3.Connection, attempt: int, values: tuple[Any, ...]) -> int:
    """The attempt row becomes the invoice (its reference and match information stay)."""
    assignments = ", ".join(f"{name.strip()} = ?" for name in _INVOICE_COLUMNS.split(","))
    cursor = connection.execute(f"UPDATE invoices SET {assignments} WHERE id = ?", (*values, attempt))
    if cursor.rowcount == 0:  # the attempt row is gone (another process settled it): add the invoice
        return _upsert(connection, values)
    return attempt


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for column, dtype in HISTORY_COLUMNS.items():
        if dtype.startswith("datetime"):
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").astype(
                pandas_dtype(dtype)
            )
        elif dtype == "object":
            frame[column] = frame[column].map(json.loads, na_action="ignore").astype(object)
        else:
            frame[column] = frame[column].astype(pandas_dtype(dtype))
    return frame
