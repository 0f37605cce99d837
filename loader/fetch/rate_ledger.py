"""Durable, multi-process rate ledger for the Hatch Bulk Export API (SQLite).

Every request reserves a slot here *before* it is sent, failed requests included. A slot is
reserved inside ``BEGIN IMMEDIATE`` so two processes sharing the state file never get slots
closer than ``min_interval_s`` nor more than ``daily_cap`` slots in any rolling 24 hours.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from loader.errors import RateBudgetError

DAY_S = 86_400.0
WaitCallback = Callable[[float, float], None]  # (seconds to wait, slot epoch)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slot_at REAL NOT NULL,
    reserved_at REAL NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS rate_ledger_slot ON rate_ledger (slot_at);
"""


def connect_state(db_path: Path) -> sqlite3.Connection:
    """Open the state database (autocommit mode; callers manage transactions explicitly)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db_path, timeout=60.0, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA busy_timeout=60000")
    return con


def format_epoch(ts: float) -> str:
    """Local wall-clock time of an epoch, for messages."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


class RateLedger:
    """Reserve request slots so the API's spacing and daily cap hold across processes."""

    def __init__(self, db_path: Path, min_interval_s: float, daily_cap: int) -> None:
        if daily_cap < 1:
            raise ValueError("daily_cap must be at least 1")
        self.db_path = Path(db_path)
        self.min_interval_s = float(min_interval_s)
        self.daily_cap = int(daily_cap)
        con = self._connect()
        try:
            con.executescript(_SCHEMA)
        finally:
            con.close()

    def __repr__(self) -> str:
        return (
            f"RateLedger({str(self.db_path)!r}, min_interval_s={self.min_interval_s}, "
            f"daily_cap={self.daily_cap})"
        )

    def _connect(self) -> sqlite3.Connection:
        return connect_state(self.db_path)

    def _slot_after(self, con: sqlite3.Connection, now: float) -> float:
        """Earliest slot >= now that keeps spacing and the rolling daily cap."""
        recent = [
            row[0]
            for row in con.execute(
                "SELECT slot_at FROM rate_ledger WHERE slot_at > ? ORDER BY slot_at DESC LIMIT ?",
                (now - DAY_S - self.min_interval_s, self.daily_cap),
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
        """Durably reserve the next slot (no sleeping); return its epoch seconds."""
        now = time.time() if now is None else now
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                slot = self._slot_after(con, now)
                if slot - now > max_wait_s:
                    raise RateBudgetError(self._budget_message(slot, now), retry_at=slot)
                con.execute(
                    "INSERT INTO rate_ledger (slot_at, reserved_at, note) VALUES (?, ?, ?)",
                    (slot, now, note),
                )
                con.execute("DELETE FROM rate_ledger WHERE slot_at < ?", (now - 2 * DAY_S,))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            return slot
        finally:
            con.close()

    def acquire(
        self, max_wait_s: float, on_wait: WaitCallback | None = None, note: str = ""
    ) -> None:
        """Reserve the next slot durably and sleep until it; RateBudgetError if too far away."""
        slot = self.reserve(max_wait_s, note)
        wait = slot - time.time()
        if wait > 0 and on_wait is not None:
            on_wait(wait, slot)
        while (remaining := slot - time.time()) > 0:
            time.sleep(min(remaining, 1.0))

    def slots(self, since: float = 0.0) -> list[float]:
        """Reserved slot times since ``since`` (oldest first), for status and tests."""
        con = self._connect()
        try:
            rows = con.execute(
                "SELECT slot_at FROM rate_ledger WHERE slot_at >= ? ORDER BY slot_at", (since,)
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
