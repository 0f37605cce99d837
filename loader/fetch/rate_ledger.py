"""Durable, multi-process rate ledger for the Hatch Bulk Export API (SQLite).

Every request reserves a slot here *before* it is sent, failed requests included. A slot is
reserved inside ``BEGIN IMMEDIATE`` so two processes sharing the state file never get slots
closer than ``min_interval_s`` nor more than ``daily_cap`` slots in any rolling 24 hours.

Slots are kept per *scope*: the API host and the key's fingerprint (never the key), since each
key of each host has limits of its own. A slot whose request was never sent is released: by the
process itself when it stops while waiting, or by the next reservation when that process died.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random

from loader.config import Secret
from loader.errors import RateBudgetError

DAY_S = 86_400.0
_BUSY_TIMEOUT_S = 60.0  # how long a process waits for another's write to the state file
WaitCallback = Callable[[float, float], None]  # (seconds to wait, slot epoch)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS rate_ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        slot_at REAL NOT NULL,
        reserved_at REAL NOT NULL,
        note TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS rate_ledger_slot ON rate_ledger (slot_at)",
)
# added later: ledgers written before them keep working ('' scope rows count for every scope)
_ADDED_COLUMNS = {
    "scope": "TEXT NOT NULL DEFAULT ''",
    "pid": "INTEGER",  # the reserving process, while its request is not sent
    "sent": "INTEGER NOT NULL DEFAULT 1",
}
# rows of the ledger's scope (every row for scope None; unscoped rows count for every scope)
_IN_SCOPE = "(? IS NULL OR scope IN (?, ''))"


def connect_state(db_path: Path) -> sqlite3.Connection:
    """Open the state database (autocommit mode; callers manage transactions explicitly)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db_path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    _use_wal(con)
    return con


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


# SQLite answers a journal-mode switch that meets another process's write at once with
# "database is locked" (waiting could deadlock), so the first opens of a new file retry it.
@retry(
    retry=retry_if_exception(_is_locked),
    wait=wait_random(0.01, 0.1),
    stop=stop_after_delay(_BUSY_TIMEOUT_S),
    reraise=True,
)
def _use_wal(con: sqlite3.Connection) -> None:
    con.execute("PRAGMA journal_mode=WAL")


@contextmanager
def _write_transaction(con: sqlite3.Connection) -> Iterator[None]:
    """A write transaction taken at once (``BEGIN IMMEDIATE``), so concurrent writers queue."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def format_epoch(ts: float) -> str:
    """Local wall-clock time of an epoch, for messages."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def ledger_scope(api_url: str, api_key: Secret) -> str:
    """The scope of an API host and key: ``host#fingerprint``."""
    return f"{urlsplit(api_url).netloc or api_url}#{api_key.fingerprint()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class RateLedger:
    """Reserve request slots so the API's spacing and daily cap hold across processes."""

    def __init__(
        self, db_path: Path, min_interval_s: float, daily_cap: int, scope: str | None = None
    ) -> None:
        """``scope``: :func:`ledger_scope`; None reads every scope (and reserves unscoped)."""
        if daily_cap < 1:
            raise ValueError("daily_cap must be at least 1")
        self.db_path = Path(db_path)
        self.min_interval_s = float(min_interval_s)
        self.daily_cap = int(daily_cap)
        self.scope = scope
        con = self._connect()
        try:
            self._create_or_upgrade(con)
        finally:
            con.close()

    def __repr__(self) -> str:
        return (
            f"RateLedger({str(self.db_path)!r}, min_interval_s={self.min_interval_s}, "
            f"daily_cap={self.daily_cap}, scope={self.scope!r})"
        )

    def _connect(self) -> sqlite3.Connection:
        return connect_state(self.db_path)

    @staticmethod
    def _create_or_upgrade(con: sqlite3.Connection) -> None:
        """Create the table, or add the columns it lacks, in one write transaction: processes
        starting together on a new state file must not both add the same column."""
        with _write_transaction(con):
            for statement in _SCHEMA:
                con.execute(statement)
            have = {row[1] for row in con.execute("PRAGMA table_info(rate_ledger)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in have:
                    con.execute(f"ALTER TABLE rate_ledger ADD COLUMN {column} {kind}")

    def _slot_after(self, con: sqlite3.Connection, now: float) -> float:
        """Earliest slot >= now that keeps spacing and the rolling daily cap."""
        recent = [
            row[0]
            for row in con.execute(
                f"SELECT slot_at FROM rate_ledger WHERE slot_at > ? AND {_IN_SCOPE} "
                "ORDER BY slot_at DESC LIMIT ?",
                (now - DAY_S - self.min_interval_s, self.scope, self.scope, self.daily_cap),
            )
        ]
        slot = now
        if recent:
            slot = max(slot, recent[0] + self.min_interval_s)
        if len(recent) >= self.daily_cap:
            slot = max(slot, recent[self.daily_cap - 1] + DAY_S)
        return slot

    def next_slot_at(self, now: float | None = None) -> float:
        """Epoch seconds of the earliest moment a request may be sent."""
        now = time.time() if now is None else now
        con = self._connect()
        try:
            return self._slot_after(con, now)
        finally:
            con.close()

    def reserve(self, max_wait_s: float, note: str = "", now: float | None = None) -> float:
        """Durably reserve the next slot (no sleeping); return its epoch seconds.

        The slot counts as unsent until :meth:`acquire` sends it: released once this process
        has ended without sending.
        """
        return self._reserve(max_wait_s, note, now)[1]

    def _reserve(self, max_wait_s: float, note: str, now: float | None) -> tuple[int, float]:
        """Reserve the next slot, after releasing the unsent slots of dead processes: its row id
        and epoch seconds."""
        now = time.time() if now is None else now
        con = self._connect()
        try:
            with _write_transaction(con):
                self._release_orphans(con)
                slot = self._slot_after(con, now)
                if slot - now > max_wait_s:
                    raise RateBudgetError(self._budget_message(slot, now), retry_at=slot)
                cur = con.execute(
                    "INSERT INTO rate_ledger (slot_at, reserved_at, note, scope, pid, sent) "
                    "VALUES (?, ?, ?, ?, ?, 0)",
                    (slot, now, note, self.scope or "", os.getpid()),
                )
                con.execute("DELETE FROM rate_ledger WHERE slot_at < ?", (now - 2 * DAY_S,))
            return int(cur.lastrowid or 0), slot
        finally:
            con.close()

    def _release_orphans(self, con: sqlite3.Connection) -> None:
        """Delete the unsent slots of processes that no longer run (killed while waiting)."""
        rows = con.execute("SELECT id, pid FROM rate_ledger WHERE sent = 0").fetchall()
        dead = [(rid,) for rid, pid in rows if pid is None or not _alive(int(pid))]
        con.executemany("DELETE FROM rate_ledger WHERE id = ?", dead)

    def _set(self, reservation: int, sql: str) -> None:
        con = self._connect()
        try:
            con.execute(sql, (reservation,))
        finally:
            con.close()

    def acquire(
        self, max_wait_s: float, on_wait: WaitCallback | None = None, note: str = ""
    ) -> None:
        """Reserve the next slot durably and sleep until it; RateBudgetError if too far away.

        On return the slot counts as sent (the caller sends now); stopped while waiting (an
        exception, Ctrl-C), it is released.
        """
        reservation, slot = self._reserve(max_wait_s, note, None)
        try:
            wait = slot - time.time()
            if wait > 0 and on_wait is not None:
                on_wait(wait, slot)
            while (remaining := slot - time.time()) > 0:
                time.sleep(min(remaining, 1.0))
        except BaseException:
            self._set(reservation, "DELETE FROM rate_ledger WHERE id = ?")
            raise
        self._set(reservation, "UPDATE rate_ledger SET sent = 1, pid = NULL WHERE id = ?")

    def slots(self, since: float = 0.0) -> list[float]:
        """Reserved slot times since ``since`` (oldest first), for status and tests."""
        con = self._connect()
        try:
            rows = con.execute(
                f"SELECT slot_at FROM rate_ledger WHERE slot_at >= ? AND {_IN_SCOPE} "
                "ORDER BY slot_at",
                (since, self.scope, self.scope),
            )
            return [row[0] for row in rows]
        finally:
            con.close()

    def _budget_message(self, slot: float, now: float) -> str:
        return (
            f"rate budget: the next request slot is in {slot - now:.0f}s "
            f"(at {format_epoch(slot)}), beyond the allowed wait; run again after then "
            f"(limits: 1 request per {self.min_interval_s:g}s, {self.daily_cap} per 24h)"
        )
