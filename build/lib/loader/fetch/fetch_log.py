"""Which export windows were fetched (SQLite, same state file as the rate ledger)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from loader.fetch.rate_ledger import connect_state

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fetch_log (
    data_source TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('fetched', 'empty')),
    file_name TEXT,
    sha256 TEXT,
    size_bytes INTEGER NOT NULL DEFAULT 0,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (data_source, start_date, end_date)
);
"""


@dataclass(frozen=True)
class WindowRecord:
    """One fetched window: 'fetched' (archived ZIP) or 'empty' (HTTP 204)."""

    data_source: str
    start_date: date
    end_date: date
    status: str
    file_name: str | None
    sha256: str | None
    size_bytes: int
    fetched_at: datetime


class FetchLog:
    """Durable record of fetched windows, keyed by (data_source, start_date, end_date)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        con = connect_state(self.db_path)
        try:
            con.executescript(_SCHEMA)
        finally:
            con.close()

    def __repr__(self) -> str:
        return f"FetchLog({str(self.db_path)!r})"

    def record(
        self,
        data_source: str,
        start_date: date,
        end_date: date,
        status: str,
        file_name: str | None = None,
        sha256: str | None = None,
        size_bytes: int = 0,
    ) -> WindowRecord:
        """Insert or replace the record of one window; return it."""
        rec = WindowRecord(
            data_source,
            start_date,
            end_date,
            status,
            file_name,
            sha256,
            size_bytes,
            datetime.now(timezone.utc).replace(microsecond=0),
        )
        con = connect_state(self.db_path)
        try:
            con.execute(
                "INSERT OR REPLACE INTO fetch_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    data_source,
                    start_date.isoformat(),
                    end_date.isoformat(),
                    status,
                    file_name,
                    sha256,
                    size_bytes,
                    rec.fetched_at.isoformat(),
                ),
            )
        finally:
            con.close()
        return rec

    def windows(self, data_source: str) -> list[WindowRecord]:
        """All recorded windows of a dataset, oldest first."""
        con = connect_state(self.db_path)
        try:
            rows = con.execute(
                "SELECT * FROM fetch_log WHERE data_source = ? ORDER BY start_date, end_date",
                (data_source,),
            ).fetchall()
        finally:
            con.close()
        return [_to_record(row) for row in rows]

    def last_fetched_day(self, data_source: str) -> date | None:
        """The latest end date of any recorded window (fetched or empty)."""
        ends = [w.end_date for w in self.windows(data_source)]
        return max(ends) if ends else None

    def covered_days(self, data_source: str) -> set[date]:
        """Every day inside a recorded window."""
        days: set[date] = set()
        for w in self.windows(data_source):
            days.update(
                w.start_date + timedelta(n) for n in range((w.end_date - w.start_date).days + 1)
            )
        return days


def _to_record(row: tuple) -> WindowRecord:
    ds, start, end, status, name, sha, size, fetched_at = row
    return WindowRecord(
        ds,
        date.fromisoformat(start),
        date.fromisoformat(end),
        status,
        name,
        sha,
        int(size),
        datetime.fromisoformat(fetched_at),
    )
