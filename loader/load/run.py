"""``load``: the files not loaded yet, in batches, into a working copy of the warehouse, published
once at the end (:func:`loader.warehouse.writer`), so a killed process leaves the published
warehouse untouched. Every file is identified by the sha256 of its bytes: a file whose sha256 has a
``loaded`` row is skipped. Hatch archives go through the insert lanes (:mod:`loader.load.lanes`),
document files one transaction per batch (:mod:`loader.load.transactions`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import duckdb

from loader import warehouse
from loader.config import Settings
from loader.errors import ConfigError
from loader.landing import LandingStore, sha256_file
from loader.load import hatch_archives
from loader.load.candidates import Candidate, discover, named_candidates
from loader.load.lake import lake_is_level, write_lake
from loader.load.lanes import SESSION_SETUP, load_hatch
from loader.load.load_log import (
    ensure_load_log,
    forget_failures,
    loaded_hashes,
    loaded_versions,
    now,
    run_warnings,
)
from loader.load.results import FileResult, LoadSummary
from loader.load.transactions import Item, load_serial
from loader.progress import LoadProgress
from loader.schemas import DOCUMENT_TABLES, HATCH_DATASETS, LOAD_LOG_TABLE

log = logging.getLogger(__name__)

BATCH_FILES = 256  # files opened (fetched, for remote stores) and hashed at a time


def load_batch(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[Item],
    loaded_at: datetime,
    progress: LoadProgress,
) -> list[FileResult]:
    """Load items (no two with the same sha256): Hatch archives in lanes, documents serially."""
    hatch = [it for it in items if it.cand.system == "hatch"]
    other = [it for it in items if it.cand.system != "hatch"]
    done = dict(zip(map(id, hatch), load_hatch(con, hatch, loaded_at, progress), strict=True))
    if other:
        loaded = load_serial(con, other, loaded_at, progress)
        done.update(zip(map(id, other), loaded, strict=True))
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
    progress: LoadProgress,
) -> list[FileResult]:
    """Open, hash and load one batch of candidates; the results in the batch's order.

    A file loaded before (its sha256, or its unchanged landing-store version) is skipped. Of
    several copies in the batch the first is loaded; the others are then skipped, or, when the
    first failed, tried under their own names."""
    results: dict[int, FileResult] = {}
    with contextlib.ExitStack() as stack:
        to_read = [c for c in group if (c.url, c.version) not in unchanged]
        locals_ = [stack.enter_context(c.open_local()) for c in to_read]
        items: list[Item] = []
        copies: list[Item] = []
        for cand, local, sha in zip(to_read, locals_, _hashes(locals_), strict=True):
            item = Item(cand, local, sha, settings)
            if sha in done:
                log.debug("skipping %s: already loaded", cand.file_name)
            elif any(it.sha == sha for it in items):
                copies.append(item)
            else:
                items.append(item)
        for batch in (items, copies):
            batch = [it for it in batch if it.sha not in done]  # a copy of a file just loaded
            loaded = load_batch(con, batch, loaded_at, progress)
            for item, result in zip(batch, loaded, strict=True):
                results[id(item.cand)] = result
                if result.status == "loaded":
                    done.add(item.sha)
    if skipped := len(group) - len(results):
        progress.advance(files=skipped)
    return [results.get(id(c)) or _skipped(c) for c in group]


def _skipped(cand: Candidate) -> FileResult:
    return FileResult(cand.file_name, cand.system, cand.dataset, "skipped")


def _hashes(paths: Sequence[Path]) -> list[str]:
    """sha256 of each file, one thread per core (hashlib releases the GIL): hashing is all that
    runs before the lanes start."""
    if len(paths) < 2:
        return [sha256_file(p) for p in paths]
    with ThreadPoolExecutor(min(len(paths), os.cpu_count() or 1)) as pool:
        return list(pool.map(sha256_file, paths))


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table that is still missing, so dbt builds on a warehouse that has
    only some systems (a Hatch-only user has no HueChat, Texter or lead files)."""
    from loader.load import documents as ingest_documents

    for dataset in HATCH_DATASETS:
        hatch_archives.ensure_table(con, dataset)
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
        loaded_at = now()  # one _loaded_at per run: lanes must not decide dedup tie-breaks
        with LoadProgress(len(candidates)) as progress:
            for group in _batches(candidates):
                summary.results += _load_group(
                    con, group, done, unchanged, settings, loaded_at, progress
                )
        summary.warnings = run_warnings(con, loaded_at)
        for warning in summary.warnings:
            log.warning("%s", warning)
    finally:
        con.close()
    return summary


def _nothing_new(settings: Settings, candidates: Sequence[Candidate]) -> bool:
    """Whether every candidate is a landing-store file loaded before and unchanged since (its URL
    and version tag), read from the published warehouse, and the lake (if any) holds every loaded
    file: then a load copies and publishes nothing."""
    path = settings.warehouse_path
    if not Path(path).exists() or any(c.version is None for c in candidates):
        return False
    try:
        con = warehouse.connect_readonly(path)
    except duckdb.Error:  # held in place by a writer, or not a warehouse yet: the writer decides
        return False
    try:
        if not warehouse.has_table(con, LOAD_LOG_TABLE):
            return False
        unchanged = loaded_versions(con)
    finally:
        con.close()
    if not all((c.url, c.version) in unchanged for c in candidates):
        return False
    return not settings.lake or lake_is_level(Path(path), settings.lake)


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
        store = LandingStore(settings.landing_url)
        store.require_bucket()
        candidates = discover(store)
    log.info("load: %d file(s) to consider", len(candidates))
    if after is None and _nothing_new(settings, candidates):
        log.info("load: nothing new; %s left as it is", settings.warehouse_path)
        return LoadSummary(results=[_skipped(c) for c in candidates])
    with warehouse.writer(settings.warehouse_path, settings.warehouse_publish) as work:
        summary = load_candidates(work, candidates, settings)
        if settings.lake:  # before the build: the spark target reads the lake
            write_lake(work, settings.lake, settings.memory_limit)
        if after is not None:
            after(work)
        return summary


def forget_failed(settings: Settings, names: Sequence[str] = ()) -> list[str]:
    """``status --forget-failed``: stop listing the failures of files never loaded (the named
    ones, else all), published like a load; the file names forgotten."""
    if not Path(settings.warehouse_path).exists():
        return []
    with warehouse.writer(settings.warehouse_path, settings.warehouse_publish) as work:
        con = warehouse.connect(work)
        try:
            ensure_load_log(con)
            return forget_failures(con, names)
        finally:
            con.close()
