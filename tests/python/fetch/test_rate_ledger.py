"""The rate ledger: spacing and a rolling daily cap, durable and shared between processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from loader.errors import RateBudgetError
from loader.fetch.fetch_log import FetchLog
from loader.fetch.rate_ledger import DAY_S, RateLedger

YESTERDAY = datetime.now(timezone.utc).date() - timedelta(days=1)


def test_next_slot_respects_spacing_and_cap(tmp_path: Path) -> None:
    ledger = RateLedger(tmp_path / "s.sqlite", min_interval_s=300, daily_cap=3)
    t0 = 1_000_000.0
    assert ledger.next_slot_at(t0) == t0
    slots = [ledger.reserve(10 * DAY_S, now=t0) for _ in range(3)]
    assert slots == [t0, t0 + 300, t0 + 600]
    # the 4th slot waits until the 1st leaves the rolling 24 h window
    assert ledger.next_slot_at(t0 + 900) == t0 + DAY_S
    assert ledger.reserve(10 * DAY_S, now=t0 + 900) == t0 + DAY_S
    assert ledger.next_slot_at(t0 + 901) == t0 + DAY_S + 300


def test_rate_budget_error_says_when(tmp_path: Path) -> None:
    ledger = RateLedger(tmp_path / "s.sqlite", min_interval_s=300, daily_cap=100)
    t0 = time.time()
    ledger.reserve(0, now=t0)
    with pytest.raises(RateBudgetError, match="run again after") as err:
        ledger.reserve(60, now=t0)
    assert err.value.retry_at == pytest.approx(t0 + 300)
    assert len(ledger.slots()) == 1  # a refused reservation is not recorded


def test_acquire_sleeps_until_slot_and_reports_wait(tmp_path: Path) -> None:
    ledger = RateLedger(tmp_path / "s.sqlite", min_interval_s=0.5, daily_cap=10)
    waits: list[float] = []
    ledger.acquire(5)
    started = time.monotonic()
    ledger.acquire(5, on_wait=lambda secs, slot: waits.append(secs))
    assert time.monotonic() - started >= 0.45
    assert len(waits) == 1 and 0.3 < waits[0] <= 0.5


def test_ledger_survives_reopen(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    RateLedger(db, 300, 100).reserve(0)
    assert RateLedger(db, 300, 100).next_slot_at() > time.time() + 250


_together: Barrier | None = None


def _share_barrier(barrier: Barrier) -> None:
    global _together
    _together = barrier


def _open_state(path: str) -> str | None:
    """Open a state file at the same moment as the other worker: the error, if any."""
    assert _together is not None
    _together.wait(timeout=30)
    try:
        FetchLog(Path(path))
        RateLedger(Path(path), 1, 3, scope="host#key").reserve(DAY_S)
    except sqlite3.OperationalError as exc:
        return repr(exc)
    return None


def test_processes_opening_a_new_state_file_together(tmp_path: Path) -> None:
    """Creating the tables and switching to WAL must not fail in whichever process loses."""
    ctx = multiprocessing.get_context("fork")  # the workers reuse this module as imported
    barrier = ctx.Barrier(2)
    paths = [str(tmp_path / f"s{n}" / "state.sqlite") for n in range(30)]
    with ctx.Pool(2, initializer=_share_barrier, initargs=(barrier,)) as pool:
        errors = pool.map(_open_state, [p for p in paths for _ in range(2)], chunksize=1)
    assert [e for e in errors if e] == []
    assert all(len(RateLedger(Path(p), 1, 3).slots()) == 2 for p in paths)


def test_two_processes_share_spacing_and_daily_cap(make_server, tiny, cli_popen, tmp_path) -> None:
    """Two concurrent fetch processes, 4 requests wanted, interval 1 s and cap 3 per 24 h."""
    server = make_server(tiny(), min_interval_s=1.0, daily_cap=3, rate_tolerance_s=0.5)
    limits = {"HATCH_MIN_INTERVAL_S": "1", "HATCH_DAILY_CAP": "3", "HATCH_MAX_WAIT_S": "20"}
    days = [YESTERDAY - timedelta(days=n) for n in (1, 3)]
    procs = [
        cli_popen(server, "--start", str(d), "--end", str(d), log_name=f"p{i}.log", **limits)
        for i, d in enumerate(days)
    ]
    codes = sorted(p.wait(timeout=90) for p in procs)
    logs = [(tmp_path / f"p{i}.log").read_text() for i in range(2)]
    assert codes == [0, 4], logs
    assert any("run again after" in text for text in logs)
    assert [r.status for r in server.requests] == [200, 200, 200]  # never a 429
    times = server.counted_times()
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) >= 0.5, gaps  # arrival times jitter; the ledger's slots are exact
    slots = RateLedger(tmp_path / "state" / "state.sqlite", 1, 3).slots()
    assert len(slots) == 3
    assert min(b - a for a, b in pairwise(slots)) >= 1.0
