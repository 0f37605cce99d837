"""A request that never reaches the API: what the log says, and the rate slots it holds."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest

from loader.config import Secret
from loader.errors import ServerError
from loader.fetch.api_client import HatchClient
from loader.fetch.rate_ledger import RateLedger, ledger_scope

KEY = Secret("sk-test-connection-0123456789")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_connection_names_host_cause_and_next_try(tmp_path: Path, caplog) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api/v1"
    ledger = RateLedger(tmp_path / "state.sqlite", 2.0, 100, ledger_scope(url, KEY))
    client = HatchClient(url, KEY, ledger, max_retries=1, backoff_initial_s=0.01)
    host = url.split("/")[2]
    with caplog.at_level(logging.WARNING), pytest.raises(ServerError) as err:
        client.export("contact_history", date(2026, 1, 1), date(2026, 1, 1), "json", tmp_path)
    warning = next(r.getMessage() for r in caplog.records if "attempt 1 of 2" in r.getMessage())
    assert f"connection refused by {host}" in warning
    # the backoff is 0.01 s, but the failed request used its slot: the next try waits for one
    assert "failed requests count against the limit of 1 request per 2s" in warning
    assert "next try at " in warning and warning.endswith(" UTC")
    assert f"connection refused by {host}" in str(err.value)
    assert len(ledger.slots()) == 2  # both attempts count


def test_stopping_while_waiting_releases_the_slot(tmp_path: Path) -> None:
    ledger = RateLedger(tmp_path / "state.sqlite", 60.0, 100, "host#a")
    ledger.acquire(5)

    def interrupted(seconds: float, slot: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ledger.acquire(120, on_wait=interrupted)
    assert len(ledger.slots()) == 1


def test_a_process_killed_while_waiting_does_not_hold_its_slot(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    ledger = RateLedger(db, 30.0, 100, "host#a")
    ledger.acquire(5)
    first = ledger.slots()[0]
    waiter = textwrap.dedent(
        f"""
        from loader.fetch.rate_ledger import RateLedger
        RateLedger({str(db)!r}, 30.0, 100, "host#a").acquire(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", waiter])
    try:
        deadline = time.monotonic() + 20
        while len(ledger.slots()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(ledger.slots()) == 2  # the waiter reserved first + 30 s and sleeps
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # its slot was never sent: the next reservation takes it, not the one after it
    assert ledger.reserve(60) == pytest.approx(first + 30.0)


def test_slots_are_kept_per_host_and_key(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    url = "https://api.example.test/api/v1"
    here = RateLedger(db, 300.0, 100, ledger_scope(url, KEY))
    here.acquire(5)
    now = time.time()
    assert here.next_slot_at(now) > now + 250
    other_key = RateLedger(db, 300.0, 100, ledger_scope(url, Secret("sk-another-key")))
    other_host = RateLedger(db, 300.0, 100, ledger_scope("http://127.0.0.1:9/v1", KEY))
    assert other_key.next_slot_at(now) == now
    assert other_host.next_slot_at(now) == now
    for path in tmp_path.iterdir():  # the database, its WAL and shared memory
        assert KEY.reveal().encode() not in path.read_bytes()
