"""Fetch Hatch exports: ranges, windows of at most 180 days, 413 splitting, archiving.

A window is marked fetched in the :class:`~loader.fetch.fetch_log.FetchLog` only after its ZIP is in
the landing store (``hatch/{ds}/{ds}_{start}_{end}.zip``); a 204 is recorded as ``empty``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

from loader.config import Settings
from loader.errors import ConfigError, PayloadTooLargeError
from loader.fetch.api_client import ExportResult, HatchClient, TooLargeResponse, archive_name
from loader.fetch.fetch_log import FetchLog
from loader.fetch.rate_ledger import RateLedger, format_epoch, ledger_scope
from loader.landing import LandingStore, sha256_file
from loader.schemas import HATCH_DATASETS

log = logging.getLogger(__name__)

MAX_WINDOW_DAYS = 180  # inclusive days per request
RETENTION_DAYS = 180  # the API serves start dates at most this many days back
FORMATS = ("json", "csv")


@dataclass
class FetchSummary:
    """What a fetch run did."""

    fetched: int = 0
    empty: int = 0
    skipped: int = 0
    bytes: int = 0
    files: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.fetched} window(s) fetched ({self.bytes} bytes), {self.empty} empty, "
            f"{self.skipped} already fetched"
        )


class Progress:
    """Shows the current window, bytes and waits: one updating line on a TTY, else sparse logs."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval_s = interval_s
        self._last = 0.0
        self._label = ""
        self._drawn = False

    def window(self, data_source: str, start: date, end: date) -> None:
        """A window request starts."""
        self._label = f"{data_source} {start}..{end}"
        self._last = time.monotonic()
        log.info("fetching %s", self._label)

    def bytes(self, done: int, total: int | None) -> None:
        """Bytes downloaded so far (rate-limited output)."""
        now = time.monotonic()
        if now - self._last < (0.2 if self.tty else self.interval_s):
            return
        self._last = now
        of = f" of {_mb(total)}" if total else ""
        if self.tty:
            self.stream.write(f"\r  {self._label}: {_mb(done)}{of} downloaded\x1b[K")
            self._drawn = True
            self.stream.flush()
        else:
            log.info("%s: %s%s downloaded", self._label, _mb(done), of)

    def wait(self, seconds: float, until: float) -> None:
        """Waiting for a request slot."""
        self._clear()
        log.log(
            logging.INFO if seconds >= 1 else logging.DEBUG,
            "waiting %s for the next request slot (at %s) before %s",
            _duration(seconds),
            format_epoch(until),
            self._label,
        )

    def done(self, label: str) -> None:
        """A window finished."""
        self._clear()
        log.info("%s", label)

    def _clear(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.1f} KB"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def utc_today() -> date:
    """Today's date in UTC (the API's nightly refresh holds up to yesterday)."""
    return datetime.now(timezone.utc).date()


def cut_windows(start: date, end: date, max_days: int = MAX_WINDOW_DAYS) -> list[tuple[date, date]]:
    """Consecutive windows of at most ``max_days`` days covering [start, end]."""
    windows = []
    while start <= end:
        stop = min(end, start + timedelta(days=max_days - 1))
        windows.append((start, stop))
        start = stop + timedelta(days=1)
    return windows


def missing_runs(start: date, end: date, covered: set[date]) -> list[tuple[date, date]]:
    """Maximal runs of days in [start, end] not in ``covered``."""
    runs: list[tuple[date, date]] = []
    day = start
    while day <= end:
        if day in covered:
            day += timedelta(days=1)
            continue
        run_start = day
        while day <= end and day not in covered:
            day += timedelta(days=1)
        runs.append((run_start, day - timedelta(days=1)))
    return runs


def plan_range(
    fetch_log: FetchLog,
    data_source: str,
    start: date | None,
    end: date | None,
    backfill_days: int,
    today: date,
) -> tuple[date, date]:
    """The range to fetch for a dataset: explicit dates, else incremental; end <= yesterday."""
    yesterday = today - timedelta(days=1)
    earliest = today - timedelta(days=RETENTION_DAYS)
    if end is not None and end > yesterday:
        log.warning(
            "%s: end %s is after yesterday; fetching through %s", data_source, end, yesterday
        )
    end = min(end or yesterday, yesterday)
    if start is None:
        last = fetch_log.last_fetched_day(data_source)
        start = last + timedelta(days=1) if last else today - timedelta(days=backfill_days)
        if start < earliest:
            log.warning(
                "%s: days before %s are past the API's retention; skipped", data_source, earliest
            )
            start = earliest
    elif start < earliest:
        raise ConfigError(
            f"--start {start} is more than {RETENTION_DAYS} days ago; "
            f"the API serves from {earliest}"
        )
    return start, end


def check_dates(start: date | None, end: date | None, fmt: str, sources: Iterable[str]) -> None:
    """Reject impossible arguments before any request is sent."""
    if start and end and end < start:
        raise ConfigError(f"--end {end} is before --start {start}")
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    unknown = [s for s in sources if s not in HATCH_DATASETS]
    if unknown:
        raise ConfigError(f"unknown source(s) {unknown}; expected {', '.join(HATCH_DATASETS)}")


class Fetcher:
    """Fetches windows of one run and archives them."""

    def __init__(
        self, settings: Settings, client: HatchClient, progress: Progress, fmt: str
    ) -> None:
        self.client = client
        self.progress = progress
        self.fmt = fmt
        self.landing = LandingStore(settings.landing_url)
        self.landing.require_bucket()
        self.fetch_log = FetchLog(settings.state_db)
        self.tmp_dir = settings.state_dir / "tmp" / f"fetch-{os.getpid()}"
        self.summary = FetchSummary()

    def fetch_window(self, data_source: str, start: date, end: date) -> None:
        """Fetch one window, halving it on 413 down to a single day."""
        self.progress.window(data_source, start, end)
        try:
            result = self.client.export(data_source, start, end, self.fmt, self.tmp_dir)
        except TooLargeResponse:
            if start == end:
                raise PayloadTooLargeError(
                    f"{data_source} {start}: the export of this single day exceeds the API's "
                    "size limit (HTTP 413) and cannot be split further"
                ) from None
            mid = start + timedelta(days=(end - start).days // 2)
            log.info("%s %s..%s too large (413); splitting at %s", data_source, start, end, mid)
            self.fetch_window(data_source, start, mid)
            self.fetch_window(data_source, mid + timedelta(days=1), end)
            return
        self._archive(data_source, start, end, result)

    def _archive(self, data_source: str, start: date, end: date, result: ExportResult) -> None:
        if result.path is None:
            self.fetch_log.record(data_source, start, end, "empty")
            self.summary.empty += 1
            self.progress.done(f"{data_source} {start}..{end}: no rows (204)")
            return
        name = archive_name(data_source, start, end)
        relpath = self._archive_path(data_source, name, result.path)
        try:
            sha = self.landing.put_atomic(relpath, result.path)
        finally:
            result.path.unlink(missing_ok=True)
        self.fetch_log.record(data_source, start, end, "fetched", name, sha, result.size_bytes)
        self.summary.fetched += 1
        self.summary.bytes += result.size_bytes
        self.summary.files.append(relpath)
        self.progress.done(
            f"{data_source} {start}..{end}: archived {relpath} ({_mb(result.size_bytes)})"
        )

    def _archive_path(self, data_source: str, name: str, local: Path) -> str:
        """Where to archive a download: the API's name, or, when a re-fetch (``--force``)
        brought different bytes for an archived window, a ``refetched/<UTC stamp>/`` folder
        beside it, so the store stays write-once and both versions are kept (and loaded)."""
        relpath = f"hatch/{data_source}/{name}"
        if not self.landing.exists(relpath) or self.landing.sha256(relpath) == sha256_file(local):
            return relpath
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        log.info("%s differs from the archived copy; keeping both (refetched/%s)", name, stamp)
        return f"hatch/{data_source}/refetched/{stamp}/{name}"


def _clean_stale_tmp(tmp_root: Path) -> None:
    """Remove download folders of fetch processes that are no longer running."""
    if not tmp_root.is_dir():
        return
    for folder in tmp_root.glob("fetch-*"):
        pid = folder.name.removeprefix("fetch-")
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _windows_for(
    fetch_log: FetchLog, data_source: str, start: date, end: date, force: bool
) -> tuple[list[tuple[date, date]], int]:
    """Windows to request and the number of recorded windows skipped."""
    if force:
        return cut_windows(start, end), 0
    covered = fetch_log.covered_days(data_source)
    skipped = sum(
        1 for w in fetch_log.windows(data_source) if w.start_date <= end and w.end_date >= start
    )
    runs = missing_runs(start, end, covered)
    return [w for run in runs for w in cut_windows(*run)], skipped


def spacing_with_margin(settings: Settings) -> float:
    """The ledger's spacing: HATCH_MIN_INTERVAL_S plus 1% (at most 2 s) for network jitter."""
    return settings.min_interval_s + min(2.0, 0.01 * settings.min_interval_s)


def build_client(settings: Settings, progress: Progress, **kwargs: float) -> HatchClient:
    """A HatchClient configured from settings, reporting to ``progress``."""
    settings.require_api_key()
    scope = ledger_scope(settings.api_url, settings.api_key)
    ledger = RateLedger(settings.state_db, spacing_with_margin(settings), settings.daily_cap, scope)
    return HatchClient(
        settings.api_url,
        settings.api_key,
        ledger,
        timeout_s=settings.http_timeout_s,
        max_retries=settings.max_retries,
        max_wait_s=settings.max_wait_s,
        on_wait=progress.wait,
        on_bytes=progress.bytes,
        **kwargs,
    )


def run_fetch(
    settings: Settings,
    sources: list[str],
    start: date | None,
    end: date | None,
    fmt: str = "json",
    force: bool = False,
    progress: Progress | None = None,
    *,
    today: date | None = None,
    backoff_initial_s: float = 1.0,
) -> FetchSummary:
    """Fetch ``sources`` for [start, end] (or incrementally) and archive every ZIP."""
    check_dates(start, end, fmt, sources)
    progress = progress or Progress()
    today = today or utc_today()
    client = build_client(settings, progress, backoff_initial_s=backoff_initial_s)
    _clean_stale_tmp(settings.state_dir / "tmp")
    fetcher = Fetcher(settings, client, progress, fmt)
    fetcher.tmp_dir.mkdir(parents=True, exist_ok=True)
    try:
        for data_source in sources:
            rng = plan_range(
                fetcher.fetch_log, data_source, start, end, settings.backfill_days, today
            )
            if rng[0] > rng[1]:
                log.info("%s: up to date through %s", data_source, rng[1])
                continue
            windows, skipped = _windows_for(fetcher.fetch_log, data_source, *rng, force)
            fetcher.summary.skipped += skipped
            for w_start, w_end in windows:
                fetcher.fetch_window(data_source, w_start, w_end)
    finally:
        client.close()
        shutil.rmtree(fetcher.tmp_dir, ignore_errors=True)
    return fetcher.summary
