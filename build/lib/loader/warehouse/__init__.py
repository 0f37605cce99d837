"""The DuckDB warehouse file: creation, single-writer lock and atomic publish.

Readers (analysts, BI tools) open the *published* file read-only. By default (``copy``) writers
never touch it in place: :func:`writer` copies it to a working file, the caller writes there, and on
success the working file atomically replaces the published one. A reader that holds the old file
keeps reading its snapshot; after reconnecting it sees the new data. So readers never block writers
and are never broken by them (issue #6).

Copies are cheap after the first: each publish keeps the version it replaces in the working
folder, with block digests of both (:mod:`loader.warehouse.delta_copy`), and the next writer brings
that previous version up to date by copying only the blocks that changed; a full copy is made when
there is no usable previous version (first run, a file changed outside the writer, a reader still
holding it). ``in-place`` (``WAREHOUSE_PUBLISH=in-place``) skips the copy where nobody reads the
file while it is written (CI, a nightly job with BI on Parquet exports): the writer works on the
published file itself, so readers cannot connect meanwhile (DuckDB's own lock), and a killed run
leaves what it had committed (loads stay exactly-once; a killed build leaves some models rebuilt
until the next build).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from loader.errors import DiskFullError, WarehouseBusyError, is_disk_full
from loader.warehouse import delta_copy

log = logging.getLogger(__name__)

# Oldest DuckDB release whose storage format new files are written in. DuckDB >= 1.0 can open
# such a file; v1.0.0 (the first stable storage format) suits every DuckDB 1.x BI driver.
# Files created by DuckDB 1.4 without it use the newest format, which older 1.x readers reject.
STORAGE_COMPATIBILITY_VERSION = "v1.0.0"

WORK_SUFFIX = ".work"
PUBLISH_MODES = ("copy", "in-place")

# the file each writer of this process writes, by published path (see held_work_path)
_HELD: dict[Path, Path] = {}


def resolve(path: Path | str) -> Path:
    """The real file behind ``path``: a symlinked ``WAREHOUSE_PATH`` (``current -> releases/…``)
    is followed once, so its target is locked and replaced, and the link keeps pointing at it."""
    return Path(path).expanduser().resolve()


def lock_path(path: Path) -> Path:
    """The lock file guarding writes to ``path``."""
    return path.with_name(path.name + ".lock")


def work_path(path: Path) -> Path:
    """The working copy of ``path``: ``{name}.work/{name}``, the same every run and with the
    published file's name, so dbt sees one profile (same path, same database name) from run to
    run and parses only what changed (a per-process name made every build a full parse)."""
    return path.with_name(path.name + WORK_SUFFIX) / path.name


def _holder(lock_file: Path) -> str:
    try:
        text = lock_file.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "unknown process"


def _command_name(argv: list[str]) -> str:
    """The program and its subcommand, never the flags (``--api-key`` would leak the key)."""
    words = [Path(argv[0]).name] if argv else []
    for arg in argv[1:]:
        if arg.startswith("-"):
            break
        words.append(arg)
    return " ".join(words[:2]) or "unknown command"


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Non-blocking exclusive flock on ``{path}.lock``; records our pid and command in it.

    The file is readable by its owner only, and holds no flag values (they may be secrets)."""
    lock_file = lock_path(path)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a lock file left by an older version was world-readable
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusyError(
                f"warehouse {path} is busy: another writer holds {lock_file} "
                f"({_holder(lock_file)}); retry when it has finished"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}: {_command_name(sys.argv)}\n".encode())
        yield
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def wal_path(path: Path) -> Path:
    """The write-ahead log DuckDB keeps beside the database file ``path``."""
    return path.with_name(path.name + ".wal")


def _remove_db_files(path: Path) -> None:
    _drop(path, wal_path(path))


def _kept_paths(path: Path) -> tuple[Path, Path, Path]:
    """What the working folder keeps between writers: the previous published version, its block
    digests, and the digests of the published file (:mod:`loader.warehouse.delta_copy`)."""
    work_dir = work_path(path).parent
    previous = work_dir / (path.name + ".previous")
    return (
        previous,
        previous.with_name(previous.name + ".digests"),
        work_dir / (path.name + ".digests"),
    )


def _clean_stale_work_files(path: Path, keep: bool = True) -> None:
    """Delete working files left by killed writers (safe: we hold the lock), including those of
    earlier versions (``{name}.work-{pid}.duckdb``); the kept files too unless ``keep``."""
    work_dir = work_path(path).parent
    stale_files = [*path.parent.glob(path.name + WORK_SUFFIX + "-*")]
    kept = set(_kept_paths(path)) if keep else set()
    if work_dir.is_dir():
        stale_files += [f for f in work_dir.iterdir() if f not in kept]
    for stale in stale_files:
        log.info("removing stale working file %s", stale)
        if stale.is_dir() and not stale.is_symlink():  # DuckDB's spill folder, {name}.tmp
            shutil.rmtree(stale, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()


def _create_new(work: Path) -> None:
    con = duckdb.connect(
        str(work), config={"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}
    )
    con.close()


def _prepare_work_file(path: Path) -> Path:
    work = work_path(path)
    work.parent.mkdir(exist_ok=True)
    if not path.exists():
        _create_new(work)
        return work
    wal = wal_path(path)
    if wal.exists():  # written in place by someone else: keep its changes
        shutil.copyfile(path, work)
        shutil.copyfile(wal, wal_path(work))
    elif not _refresh_previous(path, work):
        shutil.copyfile(path, work)
    return work


def _refresh_previous(path: Path, work: Path) -> bool:
    """Make the kept previous version equal to ``path`` by copying the blocks that changed, and
    move it to ``work``; False (and the previous version dropped) when it cannot be trusted."""
    previous, previous_digests, published_digests = _kept_paths(path)
    if not previous.exists():
        return False
    have, want = delta_copy.load(previous_digests), delta_copy.load(published_digests)
    if (
        have is None
        or want is None
        or not have.matches(previous)
        or not want.matches(path)
        or delta_copy.is_open(previous)  # a reader's old snapshot: never write to it
    ):
        log.info("no usable previous version of %s: full copy", path)
        _drop(previous, previous_digests)
        return False
    copied = delta_copy.refresh(previous, path, have, want)
    os.replace(previous, work)
    _drop(previous_digests)
    log.info("working copy of %s: %d of %d bytes copied", path, copied, want.size)
    return True


def _drop(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _keep_previous(path: Path) -> None:
    """Before ``path`` is replaced: keep it (a hard link) as the previous version, with its
    digests, when they still describe it; otherwise keep nothing."""
    previous, previous_digests, published_digests = _kept_paths(path)
    _drop(previous, previous_digests)
    record = delta_copy.load(published_digests)
    if record is None or not record.matches(path):
        _drop(published_digests)
        return
    try:
        os.link(path, previous)
    except OSError as exc:  # no hard links here: the next writer makes a full copy
        log.info("cannot keep the previous version of %s (%s)", path, exc)
        _drop(published_digests)
        return
    os.replace(published_digests, previous_digests)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(work: Path, path: Path) -> None:
    if wal_path(work).exists():  # a writer that closed cleanly left none to apply
        con = duckdb.connect(str(work))
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()
    record = delta_copy.digest_file(work)
    _fsync(work)
    _keep_previous(path)
    published_digests = _kept_paths(path)[2]
    if record is not None:
        delta_copy.save(record, published_digests)
    os.replace(work, path)
    with contextlib.suppress(FileNotFoundError):  # a stale WAL must not replay onto new data
        wal_path(path).unlink()
    _fsync(path.parent)


def _claim_in_place(path: Path) -> None:
    """Create the file when missing, else check that no reader holds it (DuckDB's file lock)."""
    if not path.exists():
        _create_new(path)
        return
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as exc:
        raise WarehouseBusyError(
            f"warehouse {path} is open elsewhere ({str(exc).splitlines()[0]}); in-place writes "
            "need the file to themselves: close the readers or set WAREHOUSE_PUBLISH=copy"
        ) from None


@contextlib.contextmanager
def writer(path: Path | str, publish: str = "copy") -> Iterator[Path]:
    """Exclusive write access: yields the file to write, published atomically on success.

    ``copy`` yields a working copy that replaces the published file on success; ``in-place``
    yields the published file itself. Raises :class:`WarehouseBusyError` when another writer
    holds the lock (or, in place, a reader holds the file). The caller must close its
    connections to the yielded file before the block ends.
    """
    if publish not in PUBLISH_MODES:
        raise ValueError(f"publish must be one of {PUBLISH_MODES}, got {publish!r}")
    path = resolve(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(path):
        _clean_stale_work_files(path, keep=publish == "copy")
        if publish == "in-place":
            _claim_in_place(path)
            with _disk_full_as_error(path, path), _holding(path, path):
                yield path
            return
        work = work_path(path)
        try:
            with _disk_full_as_error(path, work.parent):
                work = _prepare_work_file(path)
                with _holding(path, work):
                    yield work
                _publish(work, path)
            log.debug("published %s", path)
        finally:
            _remove_db_files(work)  # no-op after a successful publish
            _clean_stale_work_files(path)  # DuckDB's spill folder, if it left one
            with contextlib.suppress(OSError):
                work.parent.rmdir()


@contextlib.contextmanager
def _holding(path: Path, work: Path) -> Iterator[None]:
    _HELD[path] = work
    try:
        yield
    finally:
        _HELD.pop(path, None)


def held_work_path(path: Path | str) -> Path | None:
    """The file a :func:`writer` of this process is writing for the published ``path``, if any:
    dbt run inside the loader (``loader build``) writes there instead of taking the lock again."""
    return _HELD.get(resolve(path))


@contextlib.contextmanager
def _disk_full_as_error(path: Path, written: Path) -> Iterator[None]:
    """Turn a full device into :class:`DiskFullError`: one line naming the folder that filled
    and the space the run needs (more than was free there when it started)."""
    free = {path.parent: shutil.disk_usage(path.parent).free}
    with contextlib.suppress(OSError):
        free[Path(tempfile.gettempdir())] = shutil.disk_usage(tempfile.gettempdir()).free
    try:
        yield
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        where = _path_in(exc) or written
        folder = next((f for f in free if where.is_relative_to(f)), path.parent)
        kept = (
            "what was committed before stays, nothing is half-loaded"
            if written == path
            else f"{path} is as before this run"
        )
        raise DiskFullError(
            f"no space left on the device of {folder}: this run needs more than the "
            f"{_mb(free.get(folder, 0))} that were free there when it started; {kept}. Free "
            "space or set WAREHOUSE_PATH (or TMPDIR) to a bigger disk, then run again"
        ) from None


def _path_in(exc: BaseException) -> Path | None:
    """The file a failed write named: an OSError's filename, or the path in DuckDB's message."""
    name = getattr(exc, "filename", None)
    if not name:
        found = re.search(r'file "([^"]+)"', str(exc))
        name = found.group(1) if found else None
    return Path(name) if name else None


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Read-write connection; naive timestamps are UTC. Use on a :func:`writer` working file."""
    path = Path(path)
    config = (
        {} if path.exists() else {"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}
    )
    con = duckdb.connect(str(path), config=config)
    con.execute("SET TimeZone='UTC'")
    con.execute("SET enable_progress_bar=false")
    return con


def connect_readonly(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the published file (never blocks and is never blocked)."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone='UTC'")
    return con


def storage_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The storage format tag of the connection's main database, e.g. ``'v1.0.0+'``."""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchone()
    return row[0] if row else None


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether ``schema.table`` exists in the connection's main database."""
    schema, table = qualified.split(".")
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?"
        " AND database_name = current_database()",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])
