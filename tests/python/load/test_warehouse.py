"""Single writer, atomic publish, readers never blocked, killed loads leave no trace."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import xxhash

from loader import warehouse
from loader.config import load_settings
from loader.errors import ConfigError, WarehouseBusyError
from loader.load.run import run_load
from loader.warehouse import delta_copy

ROOT = Path(__file__).resolve().parents[3]
READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
q = "SELECT count(*) FROM raw.hatch_contact_history"
print(con.execute(q).fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute(q).fetchone()[0], flush=True)
con.close()
print(duckdb.connect(sys.argv[1], read_only=True).execute(q).fetchone()[0], flush=True)
"""


def _env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LANDING_URL": settings.landing_url,
        "WAREHOUSE_PATH": str(settings.warehouse_path),
        "LOADER_STATE_DIR": str(settings.state_dir),
    }


def _reader(path: Path) -> subprocess.Popen:
    """A process holding a read-only connection (see READER); it goes on at each stdin line."""
    return subprocess.Popen(
        [sys.executable, "-c", READER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_second_writer_gets_a_clear_message(kit, settings):
    kit.land("contact_history", "json")
    with warehouse.writer(settings.warehouse_path):
        with pytest.raises(WarehouseBusyError, match=rf"pid {os.getpid()}"):
            run_load(settings)
        proc = subprocess.run(
            [sys.executable, "-m", "loader", "load"],
            env=_env(settings),
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
    assert proc.returncode == 6
    assert "is busy" in proc.stderr and f"pid {os.getpid()}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert run_load(settings).count("loaded") == 1


def test_failed_writer_discards_and_stale_files_are_cleaned(settings):
    path = settings.warehouse_path
    with pytest.raises(RuntimeError), warehouse.writer(path) as work:
        con = warehouse.connect(work)
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
        con.close()
        raise RuntimeError("boom")
    assert not path.exists()
    assert list(path.parent.glob(path.name + ".work*")) == []
    legacy = path.with_name(path.name + ".work-999999.duckdb")  # an earlier version's name
    stale = warehouse.work_path(path)
    stale.parent.mkdir()
    for left in (legacy, stale, stale.with_name(stale.name + ".wal")):
        left.write_bytes(b"left by a killed run")
    with warehouse.writer(path) as work:
        assert work == stale and not legacy.exists()
        assert not work.with_name(work.name + ".wal").exists()
    assert path.exists()


def test_reader_keeps_working_during_load_and_sees_new_rows_after_reconnect(kit, settings):
    kit.land("contact_history", "json", date(2024, 3, 1), date(2024, 3, 5))
    first = run_load(settings).rows
    reader = _reader(settings.warehouse_path)
    try:
        assert int(reader.stdout.readline()) == first
        kit.land("contact_history", "csv", date(2024, 3, 6), date(2024, 3, 10))
        more = run_load(settings).rows  # the reader still holds the published file open
        assert more > 0
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert int(reader.stdout.readline()) == first  # old snapshot, still readable
        assert int(reader.stdout.readline()) == first + more  # reconnected: new rows
    finally:
        reader.kill()
        reader.wait()


def test_killed_load_then_rerun_equals_clean_load(kit, settings, tmp_path, conversation_rows):
    day = date(2024, 3, 1)
    while day <= date(2024, 3, 10):
        kit.land("conversation_items", "json" if day.day % 2 else "csv", day, day)
        day += timedelta(days=1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loader", "-v", "load"],  # -v: a line per file
        env=_env(settings),
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    seen = []
    for line in proc.stderr:  # kill in the middle: after some files committed to the work file
        seen.append(line)
        if sum("loaded  conversation_items" in s for s in seen) == 3:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not settings.warehouse_path.exists()  # nothing published
    assert list(settings.warehouse_path.parent.glob("*.work/*"))  # the killed run's leftovers
    summary = run_load(settings)
    assert summary.count("loaded") == 10 and not summary.failed
    work = warehouse.work_path(settings.warehouse_path)  # the leftovers are gone; only the
    assert not work.exists() and not list(work.parent.glob("*.duckdb.wal"))  # digests are kept
    clean = tmp_path / "clean.duckdb"
    run_load(settings.__class__(landing_url=settings.landing_url, warehouse_path=clean))
    assert conversation_rows(settings.warehouse_path) == conversation_rows(clean)


def test_in_place_writes_the_published_file_and_refuses_while_read(kit, settings):
    in_place = dataclasses.replace(settings, warehouse_publish="in-place")
    kit.land("contact_history", "json", date(2024, 3, 1), date(2024, 3, 5))
    first = run_load(in_place).rows
    inode = settings.warehouse_path.stat().st_ino
    assert first > 0 and not list(settings.warehouse_path.parent.glob("*.work*"))
    reader = _reader(settings.warehouse_path)
    try:
        assert int(reader.stdout.readline()) == first
        kit.land("contact_history", "csv", date(2024, 3, 6), date(2024, 3, 10))
        with pytest.raises(WarehouseBusyError, match="WAREHOUSE_PUBLISH=copy"):
            run_load(in_place)  # a reader holds the file: refused before anything is written
    finally:
        reader.kill()
        reader.wait()
    more = run_load(in_place).rows
    assert more > 0 and settings.warehouse_path.stat().st_ino == inode  # the same file
    con = warehouse.connect_readonly(settings.warehouse_path)
    try:
        assert con.execute("SELECT count(*) FROM raw.hatch_contact_history").fetchone() == (
            first + more,
        )
    finally:
        con.close()


def test_publish_mode_is_validated():
    with pytest.raises(ConfigError, match="WAREHOUSE_PUBLISH"):
        load_settings(env={"WAREHOUSE_PUBLISH": "sometimes"})


def _write(path: Path, sql: str, publish: str = "copy") -> Path:
    """One writer run that executes ``sql``; returns the working file it was given."""
    with warehouse.writer(path, publish) as work:
        con = warehouse.connect(work)
        con.execute(sql)
        con.close()
    return work


def _copied(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "bytes copied" in r.getMessage()]


def test_writer_copies_only_changed_blocks_of_the_previous_version(settings, caplog):
    """After two publishes the writer starts from the kept previous version, brought up to date
    block by block: byte-equal to the published file, written only where it changed."""
    path = settings.warehouse_path
    _write(
        path, "CREATE TABLE big AS SELECT range AS x, md5(range::VARCHAR) AS h FROM range(300000)"
    )
    _write(path, "CREATE TABLE small AS SELECT 1 AS x")  # full copy; keeps the first version
    caplog.set_level("INFO", logger="loader.warehouse")
    with warehouse.writer(path) as work:
        assert work.read_bytes() == path.read_bytes()  # the refreshed copy is the published file
        con = warehouse.connect(work)
        con.execute("INSERT INTO small VALUES (2)")
        con.close()
    (message,) = _copied(caplog)
    copied, size = (int(n) for n in message.split(": ")[1].split(" bytes")[0].split(" of "))
    assert 0 < copied < size / 4
    with warehouse.connect_readonly(path) as con:
        assert con.execute("SELECT count(*), sum(x) FROM small").fetchone() == (2, 3)
        assert con.execute("SELECT count(*) FROM big").fetchone() == (300000,)


def test_previous_version_held_by_a_reader_is_never_written(settings, caplog):
    path = settings.warehouse_path
    _write(path, "CREATE TABLE t AS SELECT range AS x FROM range(1000)")
    reader = subprocess.Popen(  # connects to this version and keeps it across two publishes
        [sys.executable, "-c", READER.replace("raw.hatch_contact_history", "t"), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert int(reader.stdout.readline()) == 1000
        _write(path, "INSERT INTO t SELECT range FROM range(500)")  # keeps the reader's version
        caplog.set_level("INFO", logger="loader.warehouse")
        _write(path, "INSERT INTO t SELECT range FROM range(250)")  # must not refresh it
        assert not _copied(caplog)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert int(reader.stdout.readline()) == 1000  # its snapshot is intact
        assert int(reader.stdout.readline()) == 1750
    finally:
        reader.kill()
        reader.wait()


def test_published_file_changed_outside_the_writer_is_copied_in_full(settings, caplog):
    path = settings.warehouse_path
    _write(path, "CREATE TABLE t AS SELECT range AS x FROM range(1000)")
    _write(path, "INSERT INTO t VALUES (-1)")
    _write(path, "INSERT INTO t VALUES (-2)", publish="in-place")  # the digests are stale now
    caplog.set_level("INFO", logger="loader.warehouse")
    _write(path, "INSERT INTO t VALUES (-3)")
    assert not _copied(caplog)
    _write(path, "INSERT INTO t VALUES (-4)")  # keeps a previous version again
    assert not _copied(caplog)
    _write(path, "INSERT INTO t VALUES (-5)")
    assert len(_copied(caplog)) == 1  # block copies again
    with warehouse.connect_readonly(path) as con:
        assert con.execute("SELECT count(*), sum(x) FROM t").fetchone() == (1005, 499500 - 15)


def test_block_digests_read_in_parallel_ranges_match_each_block(tmp_path):
    """The digests are those of each 256 KiB block in order, across the ranges read by
    separate threads and for a last, partial block."""
    size = 4 * delta_copy._READ_BYTES * delta_copy._THREADS + 3 * delta_copy.BLOCK_BYTES + 12_345
    data = random.Random(7).randbytes(size)
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    record = delta_copy.digest_file(path)
    block = delta_copy.BLOCK_BYTES
    expected = b"".join(
        xxhash.xxh3_128_digest(data[at : at + block]) for at in range(0, size, block)
    )
    assert record is not None and record.size == size
    assert record.digests == expected
    assert record.matches(path)


def test_publish_applies_a_wal_the_writer_left(tmp_path: Path) -> None:
    """A working file closed without its checkpoint (its WAL beside it) is checkpointed before it
    is published: the published file holds the writes and has no WAL."""
    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as work:
        con = duckdb.connect(str(work))
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
        con.execute("create table t as select 7 as x")
        con.close()
        assert work.with_name(work.name + ".wal").exists()
    assert not path.with_name(path.name + ".wal").exists()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.sql("select x from t").fetchone() == (7,)


def test_load_with_nothing_new_leaves_the_warehouse_alone(kit, settings, caplog):
    kit.land("contact_history", "json")
    assert run_load(settings).count("loaded") == 1
    before = settings.warehouse_path.stat()
    caplog.clear()
    summary = run_load(settings)
    assert summary.count("skipped") == 1 and summary.count("loaded") == 0
    after = settings.warehouse_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not any("bytes copied" in r.getMessage() for r in caplog.records)  # no working copy
    kit.land("contact_history", "csv", date(2024, 3, 1), date(2024, 3, 5))
    assert run_load(settings).count("loaded") == 1  # something new: copied and published
    assert settings.warehouse_path.stat().st_ino != before.st_ino
