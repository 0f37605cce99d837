"""``load`` orchestration: discovery, exactly-once, batched transactions, the load log.

Every file is identified by the sha256 of its bytes. A file whose sha256 has a ``loaded`` row in
``loader.load_log`` is skipped. Files are inserted in batches (up to ``BATCH_FILES`` files or
``BATCH_BYTES`` bytes): one DuckDB transaction holds the batch's rows and its ``loaded`` log rows.
When anything in a batch fails, the batch is rolled back and its files are loaded again one per
transaction, so a bad file fails alone: its ``failed`` row (with the reason) is written in its own
transaction, and a file is always loaded whole or not at all. Hatch archives take the fast path of
:mod:`loader.ingest_hatch` first and its safe path when the fast one misses. All of it happens on a
:func:`loader.warehouse.writer` working copy, published atomically at the end, so a killed process
leaves the published warehouse untouched.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import fsspec

from loader import ingest_hatch, warehouse
from loader.config import Settings
from loader.errors import ConfigError, DataError
from loader.landing import LandingStore, sha256_file
from loader.schemas import DOCUMENT_TABLES, HATCH_DATASETS, LOAD_LOG_TABLE, LOADER_SCHEMA
from loader.sql import quote_literal

log = logging.getLogger(__name__)

SYSTEMS = ("hatch", *DOCUMENT_TABLES)
DOCUMENT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")

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
    finished_at TIMESTAMPTZ NOT NULL
);
"""

LocalOpener = Callable[[], AbstractContextManager[Path]]

BATCH_FILES = 32  # files per transaction
BATCH_BYTES = 256 << 20  # file bytes (as stored) per transaction
PREFETCH = 2  # archives inflated ahead of the insert (fast path)


@dataclass(frozen=True)
class Candidate:
    """A file to load: where it is, what it is, and how to get a local copy of it."""

    file_name: str
    url: str
    system: str
    dataset: str
    open_local: LocalOpener


@dataclass
class FileResult:
    """What happened to one file."""

    file_name: str
    system: str
    dataset: str
    status: str  # loaded | skipped | failed
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None

    def __str__(self) -> str:
        if self.status == "failed":
            return f"FAILED  {self.error}"
        rate = f", {self.rows / self.seconds:,.0f} rows/s" if self.seconds > 0 else ""
        if self.status == "skipped":
            return f"skipped {self.file_name} (already loaded)"
        return f"loaded  {self.file_name}: {self.rows:,} rows in {self.seconds:.2f}s{rate}"


@dataclass
class LoadSummary:
    """Every file considered by one ``load`` run."""

    results: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.results if r.status == "loaded")

    def __str__(self) -> str:
        return (
            f"{self.count('loaded')} loaded ({self.rows:,} rows), {self.count('skipped')} "
            f"already loaded, {self.count('failed')} failed"
        )


# --- discovery -----------------------------------------------------------------------------------


def discover(store: LandingStore) -> list[Candidate]:
    """Every loadable file in the landing store, Hatch archives first, in name order."""
    found: list[Candidate] = []
    for system in SYSTEMS:
        for rel in store.list(f"{system}/"):
            name = rel.rsplit("/", 1)[-1]
            dataset = _dataset_for(system, name)
            if dataset is None:
                log.debug("ignoring %s (not a %s file)", rel, system)
                continue
            found.append(
                Candidate(name, store.url_of(rel), system, dataset, _store_opener(store, rel))
            )
    return found


def _dataset_for(system: str, name: str) -> str | None:
    if system == "hatch":
        # a bad archive name under hatch/ still gets tried, so it is recorded as failed
        if not name.endswith(".zip"):
            return None
        return next((ds for ds in HATCH_DATASETS if name.startswith(ds + "_")), "unknown")
    return system if name.lower().endswith(DOCUMENT_SUFFIXES) else None


def _store_opener(store: LandingStore, rel: str) -> LocalOpener:
    return lambda: store.get_local(rel)


@contextlib.contextmanager
def _fetch_url(url: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        local = Path(tmp) / url.rstrip("/").rsplit("/", 1)[-1]
        with fsspec.open(url, "rb") as src, local.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        yield local


def _local_opener(path: Path) -> LocalOpener:
    return lambda: contextlib.nullcontext(path)


def named_candidates(targets: Sequence[str], system: str | None = None) -> list[Candidate]:
    """Candidates for files named on the command line (local paths or fsspec URLs)."""
    found = []
    for target in targets:
        is_url = "://" in target and not target.startswith("file://")
        local = Path(target.removeprefix("file://"))
        if not is_url and not local.is_file():
            raise ConfigError(f"no such file: {target}")
        name = target.rstrip("/").rsplit("/", 1)[-1]
        sys_name = system or ("hatch" if ingest_hatch.is_archive_name(name) else None)
        if sys_name is None:
            raise ConfigError(
                f"{name}: not a Hatch archive name ({{data_source}}_{{start}}_{{end}}.zip); "
                "name the document system with --system leads|huechat|texter"
            )
        dataset = _dataset_for(sys_name, name) or sys_name
        url = target if is_url else str(local.absolute())
        opener = (lambda u=target: _fetch_url(u)) if is_url else _local_opener(local)
        found.append(Candidate(name, url, sys_name, dataset, opener))
    return found


# --- loading -------------------------------------------------------------------------------------


def ensure_load_log(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``loader.load_log`` when missing."""
    con.execute(_LOAD_LOG_DDL)


def loaded_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """sha256 of every file with a ``loaded`` row."""
    rows = con.execute(
        f"SELECT DISTINCT file_sha256 FROM {LOAD_LOG_TABLE} WHERE status = 'loaded'"
    ).fetchall()
    return {r[0] for r in rows}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _insert_file(
    con: duckdb.DuckDBPyConnection,
    cand: Candidate,
    local: Path,
    sha: str,
    loaded_at: datetime,
    settings: Settings,
    fast: bool = False,
) -> int:
    if cand.system == "hatch":
        return ingest_hatch.load_archive(
            con,
            local,
            file_name=cand.file_name,
            sha256=sha,
            loaded_at=loaded_at,
            max_member_bytes=settings.max_member_bytes,
            fast=fast,
        )
    documents = importlib.import_module("loader.ingest_documents")
    return documents.load_file(
        con, local, system=cand.system, file_name=cand.file_name, sha256=sha, loaded_at=loaded_at
    )


def _sql_value(value: str | int | None) -> str:
    """A SQL literal for a log value."""
    if value is None:
        return "NULL"
    return str(int(value)) if isinstance(value, int) else quote_literal(value)


def _log_row(
    con: duckdb.DuckDBPyConnection,
    cand: Candidate,
    sha: str,
    status: str,
    rows: int | None,
    error: str | None,
    started: datetime,
) -> None:
    # literals, not parameters: DuckDB tries (and fails) to import pandas for every parameter;
    # the error text (any characters) stays a parameter
    values = [sha, cand.file_name, cand.url, cand.system, cand.dataset, status, rows]
    stamps = ", ".join(f"{_sql_value(t.isoformat())}::TIMESTAMPTZ" for t in (started, _now()))
    con.execute(
        f"INSERT INTO {LOAD_LOG_TABLE} VALUES ({', '.join(map(_sql_value, values))}, ?, {stamps})",
        [error],
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        con.rollback()


@dataclass(frozen=True)
class _Item:
    """A candidate with its local copy and sha256, ready to load."""

    cand: Candidate
    local: Path
    sha: str


_FAILURES = (DataError, duckdb.Error, OSError, UnicodeError)


def _insert_prepared(
    con: duckdb.DuckDBPyConnection,
    it: _Item,
    member: Future[ingest_hatch.Member],
    loaded_at: datetime,
    settings: Settings,
) -> int:
    """Insert a fast-path member; a miss found before any write takes the safe path in place."""
    try:
        return ingest_hatch.load_member(
            con, member.result(), file_name=it.cand.file_name, sha256=it.sha, loaded_at=loaded_at
        )
    except ingest_hatch.FastPathSkip as skip:
        log.debug("%s: safe path (%s)", it.cand.file_name, skip)
        return _insert_file(con, it.cand, it.local, it.sha, loaded_at, settings, fast=False)


def _prepare_later(
    con: duckdb.DuckDBPyConnection,
    pool: ThreadPoolExecutor,
    it: _Item,
    dest: Path,
    settings: Settings,
) -> Future[ingest_hatch.Member]:
    """Inflate, check and key-scan one archive into ``dest`` on the worker thread."""
    dest.mkdir()
    return pool.submit(
        ingest_hatch.prepare_archive,
        con.cursor(),
        it.local,
        it.cand.file_name,
        settings.max_member_bytes,
        dest,
    )


def _transaction(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[_Item],
    started: datetime,
    settings: Settings,
    fast: bool,
) -> list[tuple[int, float]]:
    """Insert items with their ``loaded`` rows in one transaction: (rows, seconds) per item.

    On the fast path a worker thread inflates, checks and key-scans the next Hatch archives (up
    to ``PREFETCH`` ahead, one plain member each on disk) while DuckDB inserts the current one.
    """
    done = []
    with (
        tempfile.TemporaryDirectory(prefix="hatch-load-") as tmp,
        ThreadPoolExecutor(1, thread_name_prefix="hatch-inflate") as pool,
    ):
        ahead: dict[int, Future[ingest_hatch.Member]] = {}
        queued = 0
        con.begin()
        try:
            for i, it in enumerate(items):
                while fast and queued < min(i + 1 + PREFETCH, len(items)):
                    if items[queued].cand.system == "hatch":
                        dest = Path(tmp) / str(queued)
                        ahead[queued] = _prepare_later(con, pool, items[queued], dest, settings)
                    queued += 1
                t0 = time.perf_counter()
                if i in ahead:
                    rows = _insert_prepared(con, it, ahead[i], started, settings)
                    shutil.rmtree(Path(tmp) / str(i), ignore_errors=True)
                else:
                    rows = _insert_file(con, it.cand, it.local, it.sha, started, settings, fast)
                _log_row(con, it.cand, it.sha, "loaded", rows, None, started)
                done.append((rows, time.perf_counter() - t0))
            con.commit()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            _rollback(con)
            raise
    return done


def _loaded(item: _Item, rows: int, seconds: float) -> FileResult:
    cand = item.cand
    result = FileResult(cand.file_name, cand.system, cand.dataset, "loaded", rows, seconds)
    log.info("%s", result)
    return result


def load_one(
    con: duckdb.DuckDBPyConnection, cand: Candidate, local: Path, sha: str, settings: Settings
) -> FileResult:
    """Load one file in one transaction with its log row; a failure is rolled back and logged."""
    started, item = _now(), _Item(cand, local, sha)
    try:
        try:
            ((rows, secs),) = _transaction(con, [item], started, settings, fast=True)
        except ingest_hatch.FastPathMiss as miss:
            log.debug("%s: safe path (%s)", cand.file_name, miss)
            ((rows, secs),) = _transaction(con, [item], started, settings, fast=False)
    except _FAILURES as exc:
        error = str(exc) if isinstance(exc, DataError) else f"{cand.file_name}: {exc}"
        con.begin()
        _log_row(con, cand, sha, "failed", 0, error, started)
        con.commit()
        log.error("failed %s", error)
        return FileResult(cand.file_name, cand.system, cand.dataset, "failed", error=error)
    return _loaded(item, rows, secs)


def load_batch(
    con: duckdb.DuckDBPyConnection, items: Sequence[_Item], settings: Settings
) -> list[FileResult]:
    """Load items in one transaction; if anything fails, roll back and load them one by one."""
    if len(items) == 1:
        it = items[0]
        return [load_one(con, it.cand, it.local, it.sha, settings)]
    try:
        done = _transaction(con, items, _now(), settings, fast=True)
    except (*_FAILURES, ingest_hatch.FastPathMiss) as exc:
        log.debug("batch of %d rolled back (%s): one file at a time", len(items), exc)
        return [load_one(con, it.cand, it.local, it.sha, settings) for it in items]
    return [_loaded(it, rows, secs) for it, (rows, secs) in zip(items, done, strict=True)]


def _batches(candidates: Sequence[Candidate]) -> Iterator[list[Candidate]]:
    batch: list[Candidate] = []
    for cand in candidates:
        batch.append(cand)
        if len(batch) >= BATCH_FILES:
            yield batch
            batch = []
    if batch:
        yield batch


def _load_group(
    con: duckdb.DuckDBPyConnection,
    group: Sequence[Candidate],
    done: set[str],
    settings: Settings,
) -> list[FileResult]:
    """Open, hash and load a group of candidates, in transactions of at most BATCH_BYTES."""
    results: list[FileResult] = []
    with contextlib.ExitStack() as stack:
        items: list[_Item] = []
        for cand in group:
            local = stack.enter_context(cand.open_local())
            sha = sha256_file(local)
            if any(it.sha == sha for it in items):  # a copy: decide after the first one
                results += _flush(con, items, done, settings)
                items = []
            if sha in done:
                log.debug("skipping %s: already loaded", cand.file_name)
                results.append(FileResult(cand.file_name, cand.system, cand.dataset, "skipped"))
                continue
            items.append(_Item(cand, local, sha))
            if sum(it.local.stat().st_size for it in items) >= BATCH_BYTES:
                results += _flush(con, items, done, settings)
                items = []
        results += _flush(con, items, done, settings)
    return results


def _flush(
    con: duckdb.DuckDBPyConnection, items: list[_Item], done: set[str], settings: Settings
) -> list[FileResult]:
    results = load_batch(con, items, settings) if items else []
    done.update(it.sha for res, it in zip(results, items, strict=True) if res.status == "loaded")
    return results


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table that is still missing, so dbt builds on a warehouse that has
    only some systems (a Hatch-only user has no HueChat, Texter or lead files)."""
    from loader import ingest_documents

    for dataset in HATCH_DATASETS:
        ingest_hatch.ensure_table(con, dataset)
    for system in DOCUMENT_TABLES:
        ingest_documents.ensure_table(con, system)


def load_candidates(
    work_path: Path, candidates: Sequence[Candidate], settings: Settings
) -> LoadSummary:
    """Load candidates not loaded yet into the working file ``work_path``."""
    summary = LoadSummary()
    con = warehouse.connect(work_path)
    try:
        # DuckDB caches written blocks up to 80% of RAM by default; a bounded buffer pool keeps
        # a long backfill's footprint flat (it evicts or spills, it does not fail).
        con.execute(f"SET memory_limit = '{settings.memory_limit}'")
        ensure_load_log(con)
        ensure_raw_tables(con)
        done = loaded_hashes(con)
        for group in _batches(candidates):
            summary.results += _load_group(con, group, done, settings)
    finally:
        con.close()
    return summary


def load_archives(
    work_path: Path, local_paths: Sequence[Path], settings: Settings | None = None
) -> LoadSummary:
    """Benchmark hook: load local Hatch archives (or ``--system``-less named files)."""
    cands = named_candidates([str(p) for p in local_paths])
    return load_candidates(Path(work_path), cands, settings or Settings())


def run_load(
    settings: Settings, targets: Sequence[str] = (), system: str | None = None
) -> LoadSummary:
    """``load``: the named files, or everything in the landing store; one publish at the end."""
    if system is not None and system not in DOCUMENT_TABLES:
        raise ConfigError(f"--system must be one of {', '.join(DOCUMENT_TABLES)}")
    if targets:
        candidates = named_candidates(targets, system)
    else:
        candidates = discover(LandingStore(settings.landing_url))
    log.info("load: %d file(s) to consider", len(candidates))
    with warehouse.writer(settings.warehouse_path) as work:
        return load_candidates(work, candidates, settings)


# --- benchmark: python -m loader.ingest ARCHIVE.zip|DIR ... -------------------------------------

_BASELINE = """
import json, sys, time, duckdb
from loader.ingest_hatch import _columns_spec
from loader.sql import quote_literal
from loader.schemas import HATCH_COLUMNS
members, db = json.loads(sys.argv[1]), sys.argv[2]
con = duckdb.connect(db)
con.execute("SET TimeZone='UTC'")
con.execute("SET enable_progress_bar=false")
t0, rows = time.perf_counter(), 0
for key, paths in members.items():
    dataset, ext = key.split()
    spec = _columns_spec(HATCH_COLUMNS[dataset])
    reader = "read_json" if ext == "json" else "read_csv"
    opts = "format='newline_delimited'" if ext == "json" else "header=true"
    files = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
    src = f"{reader}({files}, {opts}, columns={spec})"
    con.execute(f"CREATE TABLE {dataset}_{ext} AS SELECT * FROM {src}")
con.execute("CHECKPOINT")
for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
    rows += con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
print(time.perf_counter() - t0, rows)
"""

_OURS = """
import sys, time
from pathlib import Path
from loader import warehouse
from loader.ingest import load_archives
t0 = time.perf_counter()
with warehouse.writer(Path(sys.argv[1])) as work:
    summary = load_archives(work, [Path(p) for p in sys.argv[2:]])
assert not summary.failed, summary.failed
print(time.perf_counter() - t0, summary.rows)
"""


def _timed_child(code: str, *args: str) -> tuple[float, int, float]:
    """Run code in a child; return (seconds, rows, peak RSS MiB of that child)."""
    import os
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"benchmark child failed ({proc.returncode})")
    secs, rows = out.splitlines()[-1].split()
    return float(secs), int(rows), usage.ru_maxrss / 1024


def _archives(target: Path) -> list[Path]:
    return sorted(target.rglob("*.zip")) if target.is_dir() else [target]


def benchmark(archives: Sequence[Path]) -> dict[str, float]:
    """Our load of the archives (extraction included) vs DuckDB's reader on extracted members."""
    import json

    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        members: dict[str, list[str]] = {}
        size = 0
        with contextlib.ExitStack() as stack:
            for i, archive in enumerate(archives):
                where = Path(tmp) / str(i)
                where.mkdir()
                member = stack.enter_context(
                    ingest_hatch.extract_member(archive, archive.name, 1 << 40, where)
                )
                size += member.path.stat().st_size
                key = f"{member.name.dataset} {member.name.ext}"
                members.setdefault(key, []).append(str(member.path))
            base_s, base_rows, base_rss = _timed_child(
                _BASELINE, json.dumps(members), f"{tmp}/baseline.duckdb"
            )
        ours_s, rows, rss = _timed_child(_OURS, f"{tmp}/ours.duckdb", *map(str, archives))
    assert rows == base_rows, (rows, base_rows)
    return {
        "archives": len(archives),
        "member_mib": size / 2**20,
        "rows": rows,
        "duckdb_rows_per_s": base_rows / base_s,
        "load_rows_per_s": rows / ours_s,
        "ratio": base_s / ours_s,
        "load_peak_rss_mib": rss,
        "duckdb_peak_rss_mib": base_rss,
    }


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:]:  # an archive, or a folder: all its archives in one load
        result = benchmark(_archives(Path(arg)))
        print(Path(arg).name, " ".join(f"{k}={v:,.2f}" for k, v in result.items()))
        print(
            "targets: ratio >= 0.8:",
            result["ratio"] >= 0.8,
            "| peak RSS < 1024 MiB:",
            result["load_peak_rss_mib"] < 1024,
        )
