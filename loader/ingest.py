"""``load`` orchestration: discovery, exactly-once, transactions, the load log.

Every file is identified by the sha256 of its bytes. A file whose sha256 has a ``loaded`` row in
``loader.load_log`` is skipped. Hatch archives go through the insert lanes (:mod:`loader.lanes`):
each lane's transaction holds its archives' rows and their ``loaded`` log rows, committed every
``LANE_BYTES`` of member data. An archive that fails in a lane is loaded again alone
(:func:`load_one`: the fast path, then the safe one of :mod:`loader.ingest_hatch`), so a bad file
fails alone: its ``failed`` row (with the reason) is written in its own transaction, and a file is
always loaded whole or not at all. Document files (leads, HueChat, Texter) load in one transaction
per batch, one by one when the batch fails. All of it happens on a :func:`loader.warehouse.writer`
working copy, published atomically at the end, so a killed process leaves the published warehouse
untouched.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import fsspec

from loader import ingest_hatch, lanes, warehouse
from loader.config import Settings
from loader.errors import ConfigError, DataError, is_disk_full
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
    finished_at TIMESTAMPTZ NOT NULL,
    file_version VARCHAR
);
ALTER TABLE {LOAD_LOG_TABLE} ADD COLUMN IF NOT EXISTS file_version VARCHAR;
ALTER TABLE {LOAD_LOG_TABLE} ADD COLUMN IF NOT EXISTS warning VARCHAR;
"""

LocalOpener = Callable[[], AbstractContextManager[Path]]

BATCH_FILES = 256  # files opened (fetched, for remote stores) and hashed at a time
BATCH_BYTES = 1 << 30  # file bytes (as stored) opened at a time
LANE_BYTES = 1 << 30  # member bytes a lane inserts per transaction (a commit costs a checkpoint)
MAX_LANES = 8  # lanes when LOADER_LANES is 0 (auto): one per core, at most this many
# every connection that inserts: statements stay on their lane's thread (see loader.lanes)
SESSION_SETUP = ("SET TimeZone='UTC'", "SET threads=1")


@dataclass(frozen=True)
class Candidate:
    """A file to load: where it is, what it is, and how to get a local copy of it."""

    file_name: str
    url: str
    system: str
    dataset: str
    open_local: LocalOpener
    version: str | None = None  # the landing store's size and modification tag, when it has one


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
    warnings: list[str] = field(default_factory=list)  # "file: warning" of files loaded now

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
        for rel, version in sorted(store.versions(f"{system}/").items()):
            name = rel.rsplit("/", 1)[-1]
            dataset = _dataset_for(system, name)
            if dataset is None:
                log.debug("ignoring %s (not a %s file)", rel, system)
                continue
            opener = _store_opener(store, rel)
            found.append(Candidate(name, store.url_of(rel), system, dataset, opener, version))
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
    local: Path | None = None,
) -> None:
    """One load-log row; a loaded Hatch archive (``local``) gets its schema warning, if any."""
    warning = None
    if local is not None and cand.system == "hatch":
        warning = ingest_hatch.missing_columns_warning(local)
    # literals, not parameters: DuckDB tries (and fails) to import pandas for every parameter;
    # the texts (any characters) stay parameters
    values = [sha, cand.file_name, cand.url, cand.system, cand.dataset, status, rows]
    stamps = ", ".join(f"{_sql_value(t.isoformat())}::TIMESTAMPTZ" for t in (started, _now()))
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


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        con.rollback()


@dataclass(frozen=True)
class _Item:
    """A candidate with its local copy and sha256, ready to load."""

    cand: Candidate
    local: Path
    sha: str
    settings: Settings


_FAILURES = (DataError, duckdb.Error, OSError, UnicodeError)


def _in_transaction(
    con: duckdb.DuckDBPyConnection, items: Sequence[_Item], loaded_at: datetime, fast: bool
) -> list[tuple[int, float]]:
    """Insert items with their ``loaded`` rows in one transaction: (rows, seconds) per item."""
    done = []
    con.begin()
    try:
        for it in items:
            t0 = time.perf_counter()
            rows = _insert_file(con, it.cand, it.local, it.sha, loaded_at, it.settings, fast)
            _log_row(con, it.cand, it.sha, "loaded", rows, None, loaded_at, it.local)
            done.append((rows, time.perf_counter() - t0))
        con.commit()
    except BaseException:
        _rollback(con)
        raise
    return done


def _loaded(item: _Item, rows: int, seconds: float) -> FileResult:
    cand = item.cand
    result = FileResult(cand.file_name, cand.system, cand.dataset, "loaded", rows, seconds)
    log.info("%s", result)
    return result


def load_one(con: duckdb.DuckDBPyConnection, item: _Item, loaded_at: datetime) -> FileResult:
    """Load one file in one transaction with its log row; a failure is rolled back and logged.

    The fast path first; when it misses, the safe path (drift columns, line-precise errors).
    """
    cand = item.cand
    try:
        try:
            ((rows, secs),) = _in_transaction(con, [item], loaded_at, fast=True)
        except ingest_hatch.FastPathMiss as miss:
            log.debug("%s: safe path (%s)", cand.file_name, miss)
            ((rows, secs),) = _in_transaction(con, [item], loaded_at, fast=False)
    except _FAILURES as exc:
        if is_disk_full(exc):  # not the file's fault: stop the load (see warehouse.writer)
            raise
        error = str(exc) if isinstance(exc, DataError) else f"{cand.file_name}: {exc}"
        con.begin()
        _log_row(con, cand, item.sha, "failed", 0, error, loaded_at)
        con.commit()
        log.error("failed %s", error)
        return FileResult(cand.file_name, cand.system, cand.dataset, "failed", error=error)
    return _loaded(item, rows, secs)


def _load_serial(
    con: duckdb.DuckDBPyConnection, items: Sequence[_Item], loaded_at: datetime
) -> list[FileResult]:
    """Load items in one transaction; if anything fails, roll back and load them one by one."""
    if len(items) == 1:
        return [load_one(con, items[0], loaded_at)]
    try:
        done = _in_transaction(con, items, loaded_at, fast=True)
    except (*_FAILURES, ingest_hatch.FastPathMiss) as exc:
        if is_disk_full(exc):
            raise
        log.debug("batch of %d rolled back (%s): one file at a time", len(items), exc)
        return [load_one(con, it, loaded_at) for it in items]
    return [_loaded(it, rows, secs) for it, (rows, secs) in zip(items, done, strict=True)]


def _lanes_for(settings: Settings, count: int) -> int:
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
    write-ahead log for the closing checkpoint to compress on one core (:mod:`loader.lanes`).
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


def _load_hatch(
    con: duckdb.DuckDBPyConnection, items: Sequence[_Item], loaded_at: datetime
) -> list[FileResult]:
    """Load Hatch archives through the insert lanes (:mod:`loader.lanes`).

    An archive that fails in a lane is loaded alone afterwards (``load_one``: the safe path adds
    drift columns and names the bad line); archives rolled back with it go through the lanes again.
    """
    results: dict[int, FileResult] = {}

    def prepare(i: int, folder: Path) -> ingest_hatch.Member:
        it = items[i]
        return ingest_hatch.prepare_archive(
            it.local, it.cand.file_name, it.settings.max_member_bytes, folder
        )

    def insert(cur: duckdb.DuckDBPyConnection, i: int, member: ingest_hatch.Member) -> int:
        it = items[i]
        rows = ingest_hatch.load_member(
            cur, member, file_name=it.cand.file_name, sha256=it.sha, loaded_at=loaded_at
        )
        _log_row(cur, it.cand, it.sha, "loaded", rows, None, loaded_at, it.local)
        return rows

    weights = [(it.cand.dataset, it.local.stat().st_size) for it in items]
    pending = list(range(len(items)))
    while len(pending) > 1:
        count = _lanes_for(items[0].settings, len(pending))
        order, pins = lane_plan(pending, weights, count)
        outcome = lanes.run(
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
            results[i] = _loaded(items[i], rows, secs)
        for i in sorted(outcome.offenders):
            results[i] = load_one(con, items[i], loaded_at)
        pending = sorted(outcome.collateral)
    for i in pending:
        results[i] = load_one(con, items[i], loaded_at)
    return [results[i] for i in range(len(items))]


def load_batch(
    con: duckdb.DuckDBPyConnection, items: Sequence[_Item], loaded_at: datetime
) -> list[FileResult]:
    """Load items (no two with the same sha256): Hatch archives in lanes, documents serially."""
    hatch = [it for it in items if it.cand.system == "hatch"]
    other = [it for it in items if it.cand.system != "hatch"]
    done = dict(zip(map(id, hatch), _load_hatch(con, hatch, loaded_at), strict=True))
    if other:
        done.update(zip(map(id, other), _load_serial(con, other, loaded_at), strict=True))
    return [done[id(it)] for it in items]


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
    unchanged: set[tuple[str, str]],
    settings: Settings,
    loaded_at: datetime,
) -> list[FileResult]:
    """Open, hash and load a group of candidates, in batches of at most BATCH_BYTES."""
    results: list[FileResult] = []
    with contextlib.ExitStack() as stack:
        items: list[_Item] = []
        to_read = [c for c in group if (c.url, c.version) not in unchanged]
        locals_ = [stack.enter_context(c.open_local()) for c in to_read]
        shas = _hashes(locals_)
        hashed = {id(c): (locals_[i], shas[i]) for i, c in enumerate(to_read)}
        for cand in group:
            if id(cand) not in hashed:  # loaded, not replaced since: no read
                results.append(FileResult(cand.file_name, cand.system, cand.dataset, "skipped"))
                continue
            local, sha = hashed[id(cand)]
            if any(it.sha == sha for it in items):  # a copy: decide after the first one
                results += _flush(con, items, done, loaded_at)
                items = []
            if sha in done:
                log.debug("skipping %s: already loaded", cand.file_name)
                results.append(FileResult(cand.file_name, cand.system, cand.dataset, "skipped"))
                continue
            items.append(_Item(cand, local, sha, settings))
            if sum(it.local.stat().st_size for it in items) >= BATCH_BYTES:
                results += _flush(con, items, done, loaded_at)
                items = []
        results += _flush(con, items, done, loaded_at)
    return results


def _hashes(paths: Sequence[Path]) -> list[str]:
    """sha256 of each file, one thread per core (hashlib releases the GIL): hashing is all that
    runs before the lanes start."""
    if len(paths) < 2:
        return [sha256_file(p) for p in paths]
    with ThreadPoolExecutor(min(len(paths), os.cpu_count() or 1)) as pool:
        return list(pool.map(sha256_file, paths))


def _flush(
    con: duckdb.DuckDBPyConnection, items: list[_Item], done: set[str], loaded_at: datetime
) -> list[FileResult]:
    results = load_batch(con, items, loaded_at) if items else []
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
        for statement in SESSION_SETUP:
            con.execute(statement)
        ensure_load_log(con)
        ensure_raw_tables(con)
        done, unchanged = loaded_hashes(con), loaded_versions(con)
        loaded_at = _now()  # one _loaded_at per run: lanes must not decide dedup tie-breaks
        for group in _batches(candidates):
            summary.results += _load_group(con, group, done, unchanged, settings, loaded_at)
        summary.warnings = run_warnings(con, loaded_at)
        for warning in summary.warnings:
            log.warning("%s", warning)
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
    settings: Settings,
    targets: Sequence[str] = (),
    system: str | None = None,
    after: Callable[[Path], None] | None = None,
) -> LoadSummary:
    """``load``: the named files, or everything in the landing store; one publish at the end.

    ``after`` runs on the working file after the load, before the publish (``load --build``);
    when it raises, nothing is published.
    """
    if system is not None and system not in DOCUMENT_TABLES:
        raise ConfigError(f"--system must be one of {', '.join(DOCUMENT_TABLES)}")
    if targets:
        candidates = named_candidates(targets, system)
    else:
        candidates = discover(LandingStore(settings.landing_url))
    log.info("load: %d file(s) to consider", len(candidates))
    with warehouse.writer(settings.warehouse_path, settings.warehouse_publish) as work:
        summary = load_candidates(work, candidates, settings)
        if after is not None:
            after(work)
        return summary


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
