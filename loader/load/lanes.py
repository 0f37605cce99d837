"""Insert lanes: archives inflated on one thread, inserted by several DuckDB transactions at once.

A member's records are numbered with ``row_number() OVER ()``, which DuckDB computes on one thread,
and a DuckDB statement on a small file pays for parallelism it cannot use. So the loader runs
DuckDB with ``threads=1`` and gets its parallelism from *lanes* instead: each lane is a DuckDB
connection of its own, inserting one member at a time in its own transaction, while one worker
thread inflates the next archives (ISA-L and DuckDB both release the GIL).

A lane commits its members together with their ``loaded`` log rows every ``lane_bytes`` of member
data and at the end. An archive may be *pinned* to one lane (``pins``). DuckDB writes a committed
transaction's rows of a table straight into compressed row groups only when they fill at least one
row group (122,880 rows); fewer go to the write-ahead log uncompressed, and a checkpoint compresses
them on one core at the end of the load (in the last commit, or on closing). A small dataset split
over every lane can fall under that bar in each; pinned to one lane, it stays over it whenever it
holds a row group.
When a member fails in a lane, the lane rolls back: the failing archive is an *offender* (the caller
loads it alone, where the safe path can explain or absorb the surprise), the members rolled back
with it are *collateral* (the caller sends them through the lanes again).
Nothing is ever half-loaded: each archive commits whole, with its log row, or not at all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from loader.config import Settings
from loader.errors import DataError, is_disk_full
from loader.load import hatch_archives
from loader.load.hatch_archives import Member, NeedsSafePath
from loader.load.load_log import log_row
from loader.load.results import FileResult
from loader.load.transactions import Item, load_one, loaded_result, report, schema_warning
from loader.progress import LoadProgress

# prepare(index, folder): inflate and check archive ``index`` into ``folder`` (worker thread)
Prepare = Callable[[int, Path], Member]
# insert(cursor, index, member): insert the member and its log row; returns the row count, or
# NeedsSafePath when the fast path cannot load it
Insert = Callable[[duckdb.DuckDBPyConnection, int, Member], int | NeedsSafePath]

# failures of one archive (anything else stops the load)
_ARCHIVE_FAILURES = (DataError, duckdb.Error, OSError, UnicodeError)


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
    lane: int | None = None  # the only lane that may take it (None: any)


class _Jobs:
    """The bounded job queue of the lanes: each lane takes the first job it may take."""

    def __init__(self, capacity: int) -> None:
        self.items: deque[_Job] = deque()
        self.capacity = capacity
        self.closed = False  # no more jobs will come
        self.cond = threading.Condition()

    def put(self, job: _Job) -> None:
        """Add a job; waits while the queue is full."""
        with self.cond:
            while len(self.items) >= self.capacity:
                self.cond.wait()
            self.items.append(job)
            self.cond.notify_all()

    def close(self) -> None:
        """No more jobs: each lane's ``get`` returns None once none is left for it."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def get(self, lane: int) -> _Job | None:
        """The oldest job pinned to ``lane``, else the oldest unpinned one, waiting for one; None
        when closed and none is left for it."""
        with self.cond:
            while (job := self._first(lane)) is None and not self.closed:
                self.cond.wait()
            if job is not None:
                self.items.remove(job)
                self.cond.notify_all()
            return job

    def _first(self, lane: int) -> _Job | None:
        mine = (job for job in self.items if job.lane == lane)
        return next(mine, None) or next((job for job in self.items if job.lane is None), None)


class _Lane:
    """One DuckDB connection inserting jobs from the queue in its own transactions."""

    def __init__(
        self,
        number: int,
        cursor: duckdb.DuckDBPyConnection,
        insert: Insert,
        lane_bytes: int,
        shared: _Shared,
    ) -> None:
        self.number, self.cursor, self.insert = number, cursor, insert
        self.lane_bytes, self.shared = lane_bytes, shared
        self.open: list[tuple[int, int, float]] = []  # inserted, not committed yet
        self.size = 0

    def run(self) -> None:
        try:
            while (job := self.shared.jobs.get(self.number)) is not None:
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
            while self.shared.jobs.get(self.number) is not None:  # drain: the feeder never blocks
                pass
        finally:
            self.cursor.close()

    def _take(self, job: _Job) -> None:
        started = time.perf_counter()
        try:
            member = job.member.result()
        except _ARCHIVE_FAILURES as exc:  # unreadable archive: nothing was written
            if is_disk_full(exc):  # not the archive's fault: stop the load
                raise
            self.shared.add(offenders=[job.index])
            return
        if not self.open:
            self.cursor.begin()
        try:
            rows = self.insert(self.cursor, job.index, member)
        except _ARCHIVE_FAILURES as exc:
            if is_disk_full(exc):
                raise
            rows = NeedsSafePath(str(exc), aborted=True)
        if isinstance(rows, NeedsSafePath):
            self._set_aside(job.index, rows.aborted)
            return
        self.open.append((job.index, rows, time.perf_counter() - started))
        self.size += member.path.stat().st_size
        if self.size >= self.lane_bytes:
            self._commit()

    def _set_aside(self, index: int, aborted: bool) -> None:
        """The archive goes to the safe path; when its failure aborted the transaction, the
        members inserted with it are rolled back and sent through the lanes again."""
        if aborted:
            self.cursor.rollback()
            self.shared.add(offenders=[index], collateral=[i for i, _, _ in self.open])
            self.open, self.size = [], 0
            return
        self.shared.add(offenders=[index])
        if not self.open:
            self.cursor.rollback()

    def _commit(self) -> None:
        if not self.open:
            return
        self.cursor.commit()
        self.shared.add(loaded={i: (rows, secs) for i, rows, secs in self.open})
        self.open, self.size = [], 0


class _Shared:
    """The job queue and the outcome, shared by the lanes."""

    def __init__(self, capacity: int) -> None:
        self.jobs = _Jobs(capacity)
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
    pins: Mapping[int, int] | None = None,
) -> Outcome:
    """Load the archives ``indexes``, in that order, through ``lanes`` concurrent transactions.

    ``setup`` statements run on each lane's connection first (session settings). ``pins`` maps an
    archive to the lane (0 to ``lanes - 1``) that must insert it. Raises what stopped a lane
    (anything that is not one archive's failure) after every lane has stopped.
    """
    count = max(1, lanes)
    pins = {i: lane for i, lane in (pins or {}).items() if lane < count}
    # room for a run of pinned jobs besides a job for every lane: the other lanes never wait
    # behind jobs that only one lane may take
    shared = _Shared(capacity=2 * (count + 1) if pins else count + 1)
    workers = []
    for number in range(count):
        cursor = con.cursor()
        for statement in setup:
            cursor.execute(statement)
        lane = _Lane(number, cursor, insert, lane_bytes, shared)
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
                member = inflater.submit(prepare, index, folder)
                shared.jobs.put(_Job(index, member, folder, pins.get(index)))
        finally:
            shared.jobs.close()
            for worker in workers:
                worker.join()
    if shared.outcome.error is not None:
        raise shared.outcome.error
    return shared.outcome


# --- the plan: which lane inserts what, and the Hatch load through the lanes -------------------

# every connection that inserts: statements stay on their lane's thread
SESSION_SETUP = ("SET TimeZone='UTC'", "SET threads=1")

LANE_BYTES = 1 << 30  # member bytes a lane inserts per transaction (a commit costs a checkpoint)


MAX_LANES = 8  # lanes when LOADER_LANES is 0 (auto): one per core, at most this many


def lanes_for(settings: Settings, count: int) -> int:
    wanted = settings.load_lanes or min(os.cpu_count() or 1, MAX_LANES)
    return max(1, min(wanted, count))


def lane_plan(
    indexes: Sequence[int], weights: Sequence[tuple[str, int]], lanes: int
) -> tuple[list[int], dict[int, int]]:
    """The order in which the lanes get the archives ``indexes`` and the lane each small
    dataset's archives are pinned to, from each archive's (dataset, bytes).

    A dataset with at most a lane's share of the bytes, and not the largest, is pinned to one lane
    (the k-th such dataset to lane k modulo ``lanes``): its rows then fill whole row groups in
    one transaction instead of a partial one in each lane, which DuckDB would send through the
    write-ahead log for the closing checkpoint to compress on one core (:mod:`loader.load.lanes`).
    Each dataset keeps its own order, and the datasets are interleaved by their share of the
    bytes, so the lane a dataset is pinned to meets it all along the load, never a queue of it.
    """
    groups: dict[str, list[int]] = {}
    for i in indexes:
        groups.setdefault(weights[i][0], []).append(i)
    totals = {ds: sum(weights[i][1] for i in group) for ds, group in groups.items()}
    share = sum(totals.values()) / max(1, lanes)
    ranked = sorted(totals, key=lambda ds: -totals[ds])
    small = [ds for ds in ranked[1:] if lanes > 1 and totals[ds] <= share]
    pins = {i: k % lanes for k, ds in enumerate(small) for i in groups[ds]}
    position: dict[int, float] = {}
    for ds, group in groups.items():
        done = 0
        for i in group:
            position[i] = (done + weights[i][1] / 2) / max(1, totals[ds])
            done += weights[i][1]
    return sorted(indexes, key=lambda i: position[i]), pins


def load_hatch(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[Item],
    loaded_at: datetime,
    progress: LoadProgress,
) -> list[FileResult]:
    """Load Hatch archives through the insert lanes (:mod:`loader.load.lanes`).

    An archive that fails in a lane is loaded alone afterwards (``load_one``: the safe path adds
    drift columns and names the bad line); archives rolled back with it go through the lanes again.
    """
    results: dict[int, FileResult] = {}
    reported: set[int] = set()  # on the progress: a member inserted again after a rollback once

    def prepare(i: int, folder: Path) -> hatch_archives.Member:
        it = items[i]
        return hatch_archives.prepare_archive(
            it.local, it.cand.file_name, it.settings.max_member_bytes, folder
        )

    def insert(
        cur: duckdb.DuckDBPyConnection, i: int, member: hatch_archives.Member
    ) -> int | NeedsSafePath:
        it = items[i]
        rows = hatch_archives.load_member(
            cur, member, file_name=it.cand.file_name, sha256=it.sha, loaded_at=loaded_at
        )
        if isinstance(rows, NeedsSafePath):
            return rows
        log_row(cur, it.cand, it.sha, "loaded", rows, None, loaded_at, schema_warning(it))
        if i not in reported:
            reported.add(i)
            progress.advance(rows=rows, size=it.local.stat().st_size)
        return rows

    def alone(i: int) -> FileResult:
        result = load_one(con, items[i], loaded_at)
        if i not in reported:
            reported.add(i)
            report(progress, items[i], result)
        return result

    weights = [(it.cand.dataset, it.local.stat().st_size) for it in items]
    pending = list(range(len(items)))
    while len(pending) > 1:
        count = lanes_for(items[0].settings, len(pending))
        order, pins = lane_plan(pending, weights, count)
        outcome = run(
            con,
            order,
            prepare,
            insert,
            lanes=count,
            lane_bytes=LANE_BYTES,
            setup=SESSION_SETUP,
            pins=pins,
        )
        for i, (rows, secs) in outcome.loaded.items():
            results[i] = loaded_result(items[i], rows, secs)
        for i in sorted(outcome.offenders):
            results[i] = alone(i)
        pending = sorted(outcome.collateral)
    for i in pending:
        results[i] = alone(i)
    return [results[i] for i in range(len(items))]
