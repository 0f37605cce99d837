"""A fetch killed mid-download leaves no partial archive, and a rerun completes."""

from __future__ import annotations

import hashlib
import signal
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from loader.fetch.fetch_log import FetchLog

DAY = datetime.now(timezone.utc).date() - timedelta(days=5)


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_killed_mid_download_then_rerun(make_server, tiny, cli_popen, cli, tmp_path: Path) -> None:
    server = make_server(tiny(rows_per_day=400), chunk_size=1024, chunk_delay_s=0.05)
    args = ("--source", "conversation_items", "--start", str(DAY), "--end", str(DAY))
    proc = cli_popen(server, *args, log_name="killed.log")
    _wait_for(lambda: server.requests and server.requests[0].bytes_sent >= 4096)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    record = server.requests[0]
    assert 0 < record.bytes_sent < record.body_size  # really killed mid-body

    landing = tmp_path / "landing"
    assert not landing.exists() or not [p for p in landing.rglob("*") if p.is_file()]
    state = tmp_path / "state"
    assert FetchLog(state / "state.sqlite").windows("conversation_items") == []
    leftovers = [p for p in (state / "tmp").rglob("*") if p.is_file()]
    assert leftovers  # the killed process's partial download, outside the landing store

    server.chunk_delay_s = 0.0
    done = cli(server, *args)
    assert done.returncode == 0, done.stderr
    rel = f"hatch/conversation_items/conversation_items_{DAY}_{DAY}.zip"
    archive = landing / rel
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
    [rec] = FetchLog(state / "state.sqlite").windows("conversation_items")
    assert rec.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert not [p for p in (state / "tmp").rglob("*") if p.is_file()]  # stale parts removed
    assert [p.name for p in landing.rglob("*") if p.is_file()] == [archive.name]
