"""Every HTTP status path of the fetch, against a real export server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from loader.errors import (
    AuthError,
    BadRequestError,
    PayloadTooLargeError,
    RateBudgetError,
    ServerError,
)
from loader.fetch.exports import run_fetch
from loader.fetch.fetch_log import FetchLog
from loader.fetch.rate_ledger import RateLedger
from loader.landing import LandingStore

TODAY = datetime.now(timezone.utc).date()
D1 = TODAY - timedelta(days=10)
D4 = TODAY - timedelta(days=7)
FAST = {"backoff_initial_s": 0.05}


def fetch(settings, start=D1, end=D1, fmt="json", sources=("contact_history",), **kw):
    return run_fetch(settings, list(sources), start, end, fmt, False, **FAST, **kw)


def test_200_archives_zip_then_records_sha(server, make_settings, tmp_path: Path) -> None:
    settings = make_settings(server)
    summary = fetch(settings, D1, D4, fmt="csv")
    rel = f"hatch/contact_history/contact_history_{D1}_{D4}.zip"
    assert summary.fetched == 1 and summary.files == [rel]
    archive = tmp_path / "landing" / rel
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == [f"contact_history_{D1}_{D4}.csv"]
        assert "🎉" in zf.read(zf.namelist()[0]).decode()
    [rec] = FetchLog(settings.state_db).windows("contact_history")
    assert (rec.status, rec.start_date, rec.end_date) == ("fetched", D1, D4)
    assert rec.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert rec.size_bytes == archive.stat().st_size == summary.bytes
    assert LandingStore(settings.landing_url).list() == [rel]


def test_204_recorded_empty_and_not_asked_again(make_server, make_settings, tiny) -> None:
    server = make_server(tiny(empty_days={D1}))
    settings = make_settings(server)
    assert fetch(settings).empty == 1
    [rec] = FetchLog(settings.state_db).windows("contact_history")
    assert (rec.status, rec.file_name, rec.sha256) == ("empty", None, None)
    assert LandingStore(settings.landing_url).list() == []
    again = fetch(settings)
    assert (again.empty, again.skipped, server.request_count) == (0, 1, 1)


def test_400_stops_with_server_reason(make_server, make_settings, tiny) -> None:
    server = make_server(tiny(), retention_days=5)
    settings = make_settings(server)
    with pytest.raises(BadRequestError, match=r"HTTP 400.*retention") as err:
        fetch(settings)
    assert err.value.exit_code == 5
    assert server.request_count == 1  # not retried
    assert FetchLog(settings.state_db).windows("contact_history") == []


def test_401_stops_without_echoing_key(server, make_settings, api_key) -> None:
    settings = make_settings(server, api_key="wrong-key-0123456789")
    with pytest.raises(AuthError) as err:
        fetch(settings)
    assert err.value.exit_code == 3
    assert "wrong-key" not in str(err.value) and api_key not in str(err.value)
    assert server.request_count == 1


def test_413_splits_down_to_single_days(make_server, make_settings, tiny) -> None:
    data = tiny(rows_per_day=20)
    day_bytes = sum(len(str(r)) for r in data.rows("contact_history", D1, D1))
    # allow one day's member, refuse two
    server = make_server(data, max_uncompressed_bytes=int(day_bytes * 1.5))
    settings = make_settings(server)
    summary = fetch(settings, D1, D4)
    days = [D1 + timedelta(days=n) for n in range(4)]
    assert summary.fetched == 4
    assert summary.files == [f"hatch/contact_history/contact_history_{d}_{d}.zip" for d in days]
    statuses = [r.status for r in server.requests]
    assert statuses == [413, 413, 200, 200, 413, 200, 200]
    recs = FetchLog(settings.state_db).windows("contact_history")
    assert [(r.start_date, r.end_date) for r in recs] == [(d, d) for d in days]


def test_413_on_a_single_day_names_the_day(make_server, make_settings, tiny) -> None:
    big = D1 + timedelta(days=1)
    server = make_server(tiny(big_days={big}), max_uncompressed_bytes=50_000)
    settings = make_settings(server)
    with pytest.raises(PayloadTooLargeError, match=f"contact_history {big}") as err:
        fetch(settings, D1, D4)
    assert err.value.exit_code == 5
    # the day before the big one was archived; nothing from the big day on
    recs = FetchLog(settings.state_db).windows("contact_history")
    assert [(r.start_date, r.end_date) for r in recs] == [(D1, D1)]


def test_429_with_retry_after_waits_that_long(server, make_settings) -> None:
    server.inject(429, retry_after="1")
    summary = fetch(make_settings(server))
    first, second = server.requests
    assert (first.status, second.status, summary.fetched) == (429, 200, 1)
    assert second.at - first.at >= 0.95


@pytest.mark.parametrize("retry_after", [None, "0", "-5", "soon"])
def test_429_without_usable_retry_after_waits_for_ledger_slot(
    server, make_settings, retry_after
) -> None:
    if retry_after is None:
        server.inject(429)
    else:
        server.inject(429, retry_after=retry_after)
    settings = make_settings(server, min_interval_s=0.6)
    assert fetch(settings).fetched == 1
    first, second = server.requests
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.5


def test_429_retry_after_beyond_max_wait_is_rate_budget_error(server, make_settings) -> None:
    server.inject(429, retry_after="3600")
    with pytest.raises(RateBudgetError, match="run again") as err:
        fetch(make_settings(server, max_wait_s=10))
    assert err.value.exit_code == 4 and err.value.retry_at is not None


def test_server_rate_limit_429_is_respected(make_server, make_settings, tiny) -> None:
    """The server's own limit (1.5 s) is stricter than the client's: 429, then success."""
    server = make_server(tiny(), min_interval_s=1.5)
    settings = make_settings(server, min_interval_s=0.1)
    summary = fetch(settings, sources=("contact_history", "conversation_items"))
    assert summary.fetched == 2
    assert [r.status for r in server.requests] == [200, 429, 200]


@pytest.mark.parametrize("failure", [500, 502, 503, 504, "drop", "truncate"])
def test_transient_failure_then_success(server, make_settings, failure) -> None:
    server.inject(failure)
    settings = make_settings(server)
    summary = fetch(settings)
    assert summary.fetched == 1
    assert len(server.requests) == 2 and server.requests[-1].status == 200
    # every attempt, the failed one included, went through the ledger
    ledger = RateLedger(settings.state_db, 0.05, 1000)
    assert len(ledger.slots()) == 2


def test_500_exhausted_stops_and_window_stays_unfetched(server, make_settings) -> None:
    server.fail_next(10, 500)
    settings = make_settings(server, max_retries=2)
    started = time.monotonic()
    with pytest.raises(ServerError, match="after 3 attempts") as err:
        fetch(settings)
    assert err.value.exit_code == 5
    assert time.monotonic() - started < 20
    assert [r.status for r in server.requests] == [500, 500, 500]
    assert FetchLog(settings.state_db).windows("contact_history") == []
    assert LandingStore(settings.landing_url).list() == []
    assert len(RateLedger(settings.state_db, 0.05, 1000).slots()) == 3


def test_server_validates_parameters(server, api_key) -> None:
    auth = {"Authorization": f"Bearer {api_key}"}
    url = f"{server.base_url}/export-data"
    ok = {"data_source": "contact_history", "start_date": str(D1), "end_date": str(D1)}
    cases = [
        ({**ok, "data_source": "contacts"}, "data_source"),
        ({**ok, "start_date": "2025/01/01"}, "YYYY-MM-DD"),
        ({**ok, "end_date": "2025-02-30"}, "not a valid date"),
        ({**ok, "start_date": str(D4), "end_date": str(D1)}, "on or after"),
        ({**ok, "start_date": str(D1 - timedelta(days=180))}, "exceeds 180 days"),
        ({**ok, "end_date": str(TODAY)}, "before today"),
        ({**ok, "output_format": "xml"}, "output_format"),
    ]
    for params, reason in cases:
        resp = requests.get(url, params=params, headers=auth, timeout=10)
        assert resp.status_code == 400, params
        assert reason in resp.json()["error"], (params, resp.text)
    assert requests.get(url, params=ok, timeout=10).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert requests.get(url, params=ok, headers=bad, timeout=10).status_code == 401
    full = {**ok, "start_date": str(TODAY - timedelta(days=180)), "end_date": str(D1)}
    assert requests.get(url, params=full, headers=auth, timeout=10).status_code == 200
    assert not any(r.counted for r in server.requests[:-1])
