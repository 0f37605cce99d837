"""Ranges, windows and incremental reruns."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest

from loader.errors import ConfigError
from loader.fetch.exports import cut_windows, missing_runs, run_fetch
from loader.fetch.fetch_log import FetchLog

TODAY = datetime.now(timezone.utc).date()
YESTERDAY = TODAY - timedelta(days=1)
BOTH = ["contact_history", "conversation_items"]


def test_cut_windows_at_most_180_days() -> None:
    start = date(2025, 1, 1)
    windows = cut_windows(start, start + timedelta(days=400))
    assert [(e - s).days + 1 for s, e in windows] == [180, 180, 41]
    assert all(b[0] - a[1] == timedelta(days=1) for a, b in pairwise(windows))
    assert cut_windows(start, start) == [(start, start)]
    assert cut_windows(start, start - timedelta(days=1)) == []


def test_missing_runs_skip_covered_days() -> None:
    d = date(2025, 1, 1)
    covered = {d + timedelta(days=n) for n in (2, 3, 7)}
    assert missing_runs(d, d + timedelta(days=8), covered) == [
        (d, d + timedelta(days=1)),
        (d + timedelta(days=4), d + timedelta(days=6)),
        (d + timedelta(days=8), d + timedelta(days=8)),
    ]


def test_first_run_backfills_then_reruns_fetch_nothing(server, make_settings) -> None:
    settings = make_settings(server, backfill_days=7)
    first = run_fetch(settings, BOTH, None, None, "json", False)
    assert first.fetched == 2
    starts = {(r.params["start_date"], r.params["end_date"]) for r in server.requests}
    assert starts == {(str(TODAY - timedelta(days=7)), str(YESTERDAY))}
    for ds in BOTH:
        assert FetchLog(settings.state_db).last_fetched_day(ds) == YESTERDAY
    count = server.request_count
    again = run_fetch(settings, BOTH, None, None, "json", False)
    assert (again.fetched, again.empty, server.request_count) == (0, 0, count)


def test_incremental_continues_after_last_fetched_day(server, make_settings) -> None:
    settings = make_settings(server)
    last = YESTERDAY - timedelta(days=4)
    FetchLog(settings.state_db).record("contact_history", last - timedelta(days=9), last, "empty")
    summary = run_fetch(settings, ["contact_history"], None, None, "json", False)
    assert summary.fetched == 1
    [req] = server.requests
    assert (req.params["start_date"], req.params["end_date"]) == (
        str(last + timedelta(days=1)),
        str(YESTERDAY),
    )


def test_explicit_range_skips_fetched_days_unless_forced(server, make_settings) -> None:
    settings = make_settings(server)
    a, b = YESTERDAY - timedelta(days=9), YESTERDAY - timedelta(days=5)
    run_fetch(settings, ["contact_history"], a, b, "json", False)
    wider = run_fetch(settings, ["contact_history"], a - timedelta(days=2), b, "json", False)
    assert (wider.fetched, wider.skipped) == (1, 1)
    last = server.requests[-1].params
    assert (last["start_date"], last["end_date"]) == (
        str(a - timedelta(days=2)),
        str(a - timedelta(days=1)),
    )
    count = server.request_count
    assert run_fetch(settings, ["contact_history"], a, b, "json", False).fetched == 0
    assert server.request_count == count
    forced = run_fetch(settings, ["contact_history"], a, b, "json", True)
    assert forced.fetched == 1 and server.request_count == count + 1  # same bytes: no-op


def test_end_is_clamped_to_yesterday(server, make_settings) -> None:
    settings = make_settings(server)
    run_fetch(
        settings,
        ["contact_history"],
        YESTERDAY - timedelta(days=1),
        TODAY + timedelta(days=5),
        "json",
        False,
    )
    [req] = server.requests
    assert req.params["end_date"] == str(YESTERDAY)


def test_bad_arguments_are_config_errors(server, make_settings) -> None:
    settings = make_settings(server)
    with pytest.raises(ConfigError, match="before --start"):
        run_fetch(
            settings, ["contact_history"], YESTERDAY, YESTERDAY - timedelta(days=3), "json", False
        )
    with pytest.raises(ConfigError, match="180 days ago"):
        run_fetch(settings, ["contact_history"], TODAY - timedelta(days=200), None, "json", False)
    with pytest.raises(ConfigError, match="HATCH_API_KEY"):
        run_fetch(make_settings(server, api_key=""), ["contact_history"], None, None, "json", False)
    assert server.request_count == 0


def test_forced_refetch_with_new_bytes_keeps_both_archives(server, make_settings, data) -> None:
    """The real API re-exports a window with updated records: different bytes, both kept."""
    settings = make_settings(server)
    day = YESTERDAY - timedelta(days=3)
    run_fetch(settings, ["contact_history"], day, day, "json", False)
    original = Path(settings.landing_url) / "hatch/contact_history"
    first = sorted(p.read_bytes() for p in original.rglob("*.zip"))
    data.rows_per_day += 2  # the vendor's data changed since the first export
    forced = run_fetch(settings, ["contact_history"], day, day, "json", True)
    archives = sorted(original.rglob("*.zip"))
    assert forced.fetched == 1 and len(archives) == 2
    original_archive, refetched = archives  # "contact_history_…" sorts before "refetched/…"
    assert refetched.parent.parent.name == "refetched"
    assert refetched.name == original_archive.name == f"contact_history_{day}_{day}.zip"
    assert [original_archive.read_bytes()] == first  # the original is untouched
    assert refetched.read_bytes() != first[0]
