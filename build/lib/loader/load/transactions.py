"""One transaction per file, or per batch of files: a file is loaded whole, with its load-log row,
or not at all. A failed batch is rolled back and its files loaded one by one, so a bad file fails
alone: its ``failed`` row (with the reason) is written in a transaction of its own.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from loader.config import Settings
from loader.errors import DataError, is_disk_full
from loader.load import documents, hatch_archives
from loader.load.candidates import Candidate
from loader.load.load_log import log_row
from loader.load.results import FileResult
from loader.progress import LoadProgress

log = logging.getLogger(__name__)


def insert_file(
    con: duckdb.DuckDBPyConnection,
    cand: Candidate,
    local: Path,
    sha: str,
    loaded_at: datetime,
    settings: Settings,
    fast: bool = False,
) -> int | hatch_archives.NeedsSafePath:
    """Insert one file's rows (caller's transaction). With ``fast``, a Hatch archive may come
    back as :class:`~loader.load.hatch_archives.NeedsSafePath`."""
    if cand.system == "hatch":
        return hatch_archives.load_archive(
            con,
            local,
            file_name=cand.file_name,
            sha256=sha,
            loaded_at=loaded_at,
            max_member_bytes=settings.max_member_bytes,
            fast=fast,
        )
    return documents.load_file(
        con, local, system=cand.system, file_name=cand.file_name, sha256=sha, loaded_at=loaded_at
    )


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        con.rollback()


@dataclass(frozen=True)
class Item:
    """A candidate with its local copy and sha256, ready to load."""

    cand: Candidate
    local: Path
    sha: str
    settings: Settings


FAILURES = (DataError, duckdb.Error, OSError, UnicodeError)


def schema_warning(item: Item) -> str | None:
    """A loaded Hatch CSV archive whose header lacks documented columns: the warning to log."""
    if item.cand.system != "hatch":
        return None
    return hatch_archives.missing_columns_warning(item.local)


def in_transaction(
    con: duckdb.DuckDBPyConnection, items: Sequence[Item], loaded_at: datetime, fast: bool
) -> list[tuple[int, float]] | None:
    """Insert items with their ``loaded`` rows in one transaction: (rows, seconds) per item.

    None (rolled back) when the fast path cannot load one of them: load them with ``fast=False``.
    """
    done = []
    con.begin()
    try:
        for it in items:
            t0 = time.perf_counter()
            rows = insert_file(con, it.cand, it.local, it.sha, loaded_at, it.settings, fast)
            if isinstance(rows, hatch_archives.NeedsSafePath):
                log.debug("%s: safe path (%s)", it.cand.file_name, rows.reason)
                rollback(con)
                return None
            log_row(con, it.cand, it.sha, "loaded", rows, None, loaded_at, schema_warning(it))
            done.append((rows, time.perf_counter() - t0))
        con.commit()
    except BaseException:
        rollback(con)
        raise
    return done


def loaded_result(item: Item, rows: int, seconds: float) -> FileResult:
    cand = item.cand
    result = FileResult(cand.file_name, cand.system, cand.dataset, "loaded", rows, seconds)
    log.debug("%s", result)
    return result


def report(progress: LoadProgress, item: Item, result: FileResult) -> None:
    """One file done, on the console's progress."""
    progress.advance(rows=result.rows, size=item.local.stat().st_size)


def load_one(con: duckdb.DuckDBPyConnection, item: Item, loaded_at: datetime) -> FileResult:
    """Load one file in one transaction with its log row; a failure is rolled back and logged.

    The fast path first; when it misses, the safe path (drift columns, line-precise errors).
    """
    cand = item.cand
    try:
        done = in_transaction(con, [item], loaded_at, fast=True)
        if done is None:  # the safe path absorbs new columns or names the bad line
            done = in_transaction(con, [item], loaded_at, fast=False)
        ((rows, secs),) = done or [(0, 0.0)]  # the safe path always returns its item
    except FAILURES as exc:
        if is_disk_full(exc):  # not the file's fault: stop the load (see warehouse.writer)
            raise
        error = str(exc) if isinstance(exc, DataError) else f"{cand.file_name}: {exc}"
        con.begin()
        log_row(con, cand, item.sha, "failed", 0, error, loaded_at)
        con.commit()
        log.error("failed %s", error)
        return FileResult(cand.file_name, cand.system, cand.dataset, "failed", error=error)
    return loaded_result(item, rows, secs)


def load_serial(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[Item],
    loaded_at: datetime,
    progress: LoadProgress,
) -> list[FileResult]:
    """Load items in one transaction; if anything fails, roll back and load them one by one."""
    results = _load_serial(con, items, loaded_at)
    for item, result in zip(items, results, strict=True):
        report(progress, item, result)
    return results


def _load_serial(
    con: duckdb.DuckDBPyConnection, items: Sequence[Item], loaded_at: datetime
) -> list[FileResult]:
    if len(items) == 1:
        return [load_one(con, items[0], loaded_at)]
    try:
        done = in_transaction(con, items, loaded_at, fast=True)
    except FAILURES as exc:
        if is_disk_full(exc):
            raise
        log.debug("batch of %d rolled back (%s): one file at a time", len(items), exc)
        done = None
    if done is None:
        return [load_one(con, it, loaded_at) for it in items]
    return [loaded_result(it, rows, secs) for it, (rows, secs) in zip(items, done, strict=True)]
