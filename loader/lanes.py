"""Insert lanes: archives inflated on one thread, inserted by several DuckDB transactions at once.

A member's records are numbered with ``row_number() OVER ()``, which DuckDB computes on one thread,
and a DuckDB statement on a small file pays for parallelism it cannot use. So the loader runs
DuckDB with ``threads=1`` and gets its parallelism from *lanes* instead: each lane is a DuckDB
connection of its own, inserting one member at a time in its own transaction, while one worker
thread inflates the next archives (ISA-L and DuckDB both release the GIL).

A lane commits its members together with their ``loaded`` log rows every ``lane_bytes`` of member
data and at the end. When a member fails in a lane, the lane rolls back: the failing archive is an
*offender* (the caller loads it alone, where the safe path can explain or absorb the surprise), the
members rolled back with it are *collateral* (the caller sends them through the lanes again).
Nothing is ever half-loaded: each archive commits whole, with its log row, or not at all.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loader.errors import DataError
from loader.ingest_hatch import FastPathMiss, FastPathSkip, Member

# prepare(index, folder): inflate and check archive ``index`` into ``folder`` (worker thread)
Prepare = Callable[[int, Path], Member]
# insert(cursor, index, member): insert the member and its log row; returns the row count
Insert = Callable[[duckdb.DuckDBPyConnection, int, Member], int]

# failures of one archive (anything else stops the load)
_ARCHIVE_FAILURES = (DataError, FastPathMiss, duckdb.Error, OSError, UnicodeError)


@dataclass
class Outcome:
    """What the lanes did with the archives they were given (by index)."""

    loaded: dict[int, tuple[int, float]] = field(default_factory=dict)  # rows, seconds
    offenders: list[int] = field(default_factory=list)
    collateral: list[int] = field(default_factory=list)
    error: BaseException | None = None


@dataclass
class _Job:
    index: int
    member: Future[Member]
    folder: Path


class _Lane:
    """One DuckDB connection inserting jobs from the queue in its own transactions."""

    def __init__(
        self, cursor: duckdb.DuckDBPyConnection, insert: Insert, lane_bytes: int, shared: _Shared
    ) -> None:
        self.cursor, self.insert, self.lane_bytes, self.shared = cursor, insert, lane_bytes, shared
        self.open: list[tuple[int, int, float]] = []  # inserted, not committed yet
        self.size = 0

    def run(self) -> None:
        try:
            while (job := self.shared.jobs.get()) is not None:
                try:
                    if self.shared.outcome.error is None:
                        self._take(job)
                finally:
                    shutil.rmtree(job.folder, ignore_errors=True)
            self._commit()
        except BaseException as exc:  # stop the load; the caller re-raises it
            with contextlib.suppress(duckdb.Error):
                self.cursor.rollback()
            self.shared.fail(exc)
            while self.shared.jobs.get() is not None:  # drain so the feeder never blocks
                pass
        finally:
            self.cursor.close()

    def _take(self, job: _Job) -> None:
        started = time.perf_counter()
        try:
            member = job.member.result()
        except _ARCHIVE_FAILURES:  # unreadable archive: nothing was written
            self.shared.add(offenders=[job.index])
            return
        if not self.open:
            self.cursor.begin()
        try:
            rows = self.insert(self.cursor, job.index, member)
        except FastPathSkip:  # found before this member wrote anything
            self.shared.add(offenders=[job.index])
            if not self.open:
                self.cursor.rollback()
            return
        except _ARCHIVE_FAILURES:
            self.cursor.rollback()
            self.shared.add(offenders=[job.index], collateral=[i for i, _, _ in self.open])
            self.open, self.size = [], 0
            return
        self.open.append((job.index, rows, time.perf_counter() - started))
        self.size += member.path.stat().st_size
        if self.size >= self.lane_bytes:
            self._commit()

    def _commit(self) -> None:
        if not self.open:
            return
        self.cursor.commit()
        self.shared.add(loaded={i: (rows, secs) for i, rows, secs in self.open})
        self.open, self.size = [], 0


class _Shared:
    """The job queue and the outcome, shared by the lanes."""

    def __init__(self, capacity: int) -> None:
        self.jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=capacity)
        self.outcome = Outcome()
        self.lock = threading.Lock()

    def add(
        self,
        loaded: dict[int, tuple[int, float]] | None = None,
        offenders: Sequence[int] = (),
        collateral: Sequence[int] = (),
    ) -> None:
        with self.lock:
            self.outcome.loaded.update(loaded or {})
            self.outcome.offenders += offenders
            self.outcome.collateral += collateral

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.outcome.error is None:
                self.outcome.error = exc


def run(
    con: duckdb.DuckDBPyConnection,
    indexes: Sequence[int],
    prepare: Prepare,
    insert: Insert,
    *,
    lanes: int,
    lane_bytes: int,
    setup: Sequence[str] = (),
) -> Outcome:
    """Load the archives ``indexes`` through ``lanes`` concurrent transactions.

    ``setup`` statements run on each lane's connection first (session settings). Raises what
    stopped a lane (anything that is not one archive's failure) after every lane has stopped.
    """
    shared = _Shared(capacity=lanes + 1)
    workers = []
    for _ in range(max(1, lanes)):
        cursor = con.cursor()
        for statement in setup:
            cursor.execute(statement)
        lane = _Lane(cursor, insert, lane_bytes, shared)
        workers.append(threading.Thread(target=lane.run, name="load-lane", daemon=True))
    with (
        tempfile.TemporaryDirectory(prefix="hatch-load-") as tmp,
        ThreadPoolExecutor(1, thread_name_prefix="hatch-inflate") as inflater,
    ):
        for worker in workers:
            worker.start()
        try:
            for index in indexes:
                if shared.outcome.error is not None:
                    break
                folder = Path(tmp) / str(index)
                folder.mkdir()
                shared.jobs.put(_Job(index, inflater.submit(prepare, index, folder), folder))
        finally:
            for _ in workers:
                shared.jobs.put(None)
            for worker in workers:
                worker.join()
    if shared.outcome.error is not None:
        raise shared.outcome.error
    return shared.outcome
