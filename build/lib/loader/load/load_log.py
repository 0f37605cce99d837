"""The load log, ``loader.load_log``: one row per attempt to load a file, loaded or failed.

A file whose sha256 has a ``loaded`` row is never loaded again; one whose landing-store URL and
version tag match a ``loaded`` row is skipped without being read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import duckdb

from loader.load.candidates import Candidate
from loader.schemas import LOAD_LOG_TABLE, LOADER_SCHEMA
from loader.sql import quote_literal

_LOAD_LOG_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {LOADER_SCHEMA};
CREATE TABLE IF NOT EXISTS {LOAD_LOG_TABLE} (
    file_sha256 VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    file_url VARCHAR,
    system VARCHAR NOT NULL,
    dataset VARCHAR,
    status VARCHAR NOT NULL,
    rows BIGINT,
    error VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    file_version VARCHAR
);
ALTER TABLE {LOAD_LOG_TABLE} ADD COLUMN IF NOT EXISTS file_version VARCHAR;
ALTER TABLE {LOAD_LOG_TABLE} ADD COLUMN IF NOT EXISTS warning VARCHAR;
ALTER TABLE {LOAD_LOG_TABLE} ADD COLUMN IF NOT EXISTS forgotten_at TIMESTAMPTZ;
"""


def ensure_load_log(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``loader.load_log`` when missing."""
    con.execute(_LOAD_LOG_DDL)


def loaded_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """sha256 of every file with a ``loaded`` row."""
    rows = con.execute(
        f"SELECT DISTINCT file_sha256 FROM {LOAD_LOG_TABLE} WHERE status = 'loaded'"
    ).fetchall()
    return {r[0] for r in rows}


def loaded_versions(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(URL, version tag) of every file loaded from the landing store, unchanged since."""
    rows = con.execute(
        f"SELECT DISTINCT file_url, file_version FROM {LOAD_LOG_TABLE} "
        "WHERE status = 'loaded' AND file_version IS NOT NULL"
    ).fetchall()
    return {(r[0], r[1]) for r in rows}


def run_warnings(con: duckdb.DuckDBPyConnection, loaded_at: datetime) -> list[str]:
    """The warnings of the files one run (``loaded_at``) loaded, as ``file: warning``."""
    rows = con.execute(
        f"SELECT file_name || ': ' || warning FROM {LOAD_LOG_TABLE} WHERE status = 'loaded' "
        "AND warning IS NOT NULL AND started_at = ?::TIMESTAMPTZ ORDER BY file_name",
        [loaded_at.isoformat()],
    ).fetchall()
    return [r[0] for r in rows]


def forget_failures(con: duckdb.DuckDBPyConnection, names: Sequence[str] = ()) -> list[str]:
    """Mark the failures of files never loaded as forgotten (``status`` stops listing them):
    those named (file names or paths/URLs as loaded), else all. Returns the file names."""
    where = "status = 'failed' AND forgotten_at IS NULL"
    where += f" AND file_sha256 NOT IN (SELECT file_sha256 FROM {LOAD_LOG_TABLE} "
    where += "WHERE status = 'loaded')"
    params: list[object] = []
    if names:
        where += " AND (file_name IN (SELECT unnest(?)) OR file_url IN (SELECT unnest(?)))"
        params = [list(names), list(names)]
    rows = con.execute(
        f"UPDATE {LOAD_LOG_TABLE} SET forgotten_at = now() WHERE {where} RETURNING file_name",
        params,
    ).fetchall()
    return sorted({r[0] for r in rows})


def now() -> datetime:
    return datetime.now(timezone.utc)


def _sql_value(value: str | int | None) -> str:
    """A SQL literal for a log value."""
    if value is None:
        return "NULL"
    return str(int(value)) if isinstance(value, int) else quote_literal(value)


def log_row(
    con: duckdb.DuckDBPyConnection,
    cand: Candidate,
    sha: str,
    status: str,
    rows: int | None,
    error: str | None,
    started: datetime,
    warning: str | None = None,
) -> None:
    """One load-log row (``warning``: a loaded file's schema warning, if any)."""
    # literals, not parameters: DuckDB tries (and fails) to import pandas for every parameter;
    # the texts (any characters) stay parameters
    values = [sha, cand.file_name, cand.url, cand.system, cand.dataset, status, rows]
    stamps = ", ".join(f"{_sql_value(t.isoformat())}::TIMESTAMPTZ" for t in (started, now()))
    literals = ", ".join(map(_sql_value, values))
    con.execute(
        f"INSERT INTO {LOAD_LOG_TABLE} ({_LOG_COLUMNS}) "
        f"VALUES ({literals}, ?, {stamps}, {_sql_value(cand.version)}, ?)",
        [error, warning],
    )


_LOG_COLUMNS = (
    "file_sha256, file_name, file_url, system, dataset, status, rows, error, started_at, "
    "finished_at, file_version, warning"
)
