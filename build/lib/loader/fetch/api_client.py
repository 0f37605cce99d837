"""Hatch Bulk Export API client: one export window per call, within the API's rules.

Every attempt first reserves a slot in the :class:`~loader.fetch.rate_ledger.RateLedger`. Transient
failures (500/502/503/504, connection errors, timeouts, a truncated body) are retried with
exponential backoff and jitter; 429 waits for ``Retry-After`` (or the ledger's next slot). Both are
bounded by ``max_retries``. The body is streamed to a local file while its sha256 is computed.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from loader.config import Secret
from loader.errors import (
    AuthError,
    BadRequestError,
    DataError,
    LoaderError,
    RateBudgetError,
    ServerError,
)
from loader.fetch.rate_ledger import RateLedger, WaitCallback, format_epoch

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504})
_CHUNK = 64 * 1024
BytesCallback = Callable[[int, int | None], None]  # (bytes so far, total or None)


class TooLargeResponse(LoaderError):
    """HTTP 413 for one window (the caller splits the window)."""


class _Transient(Exception):
    """A retryable failure: 5xx or a connection problem."""


class _RateLimited(Exception):
    """HTTP 429; ``retry_after`` in seconds when the server gave a positive value."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("HTTP 429 rate limited")
        self.retry_after = retry_after


@dataclass(frozen=True)
class ExportResult:
    """Outcome of one window: ``path`` is None for 204 (no rows)."""

    status: int
    path: Path | None
    sha256: str | None
    size_bytes: int


def archive_name(data_source: str, start: date, end: date) -> str:
    """The API's ZIP name for a window."""
    return f"{data_source}_{start.isoformat()}_{end.isoformat()}.zip"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP date); None when missing, <= 0 or bad."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return seconds if seconds > 0 else None


class HatchClient:
    """Sends export requests through the rate ledger; never reveals the API key."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        ledger: RateLedger,
        *,
        timeout_s: float = 120.0,
        max_retries: int = 5,
        max_wait_s: float = 900.0,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        on_wait: WaitCallback | None = None,
        on_bytes: BytesCallback | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.ledger = ledger
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.max_wait_s = max_wait_s
        self.backoff = wait_exponential_jitter(
            multiplier=backoff_initial_s, max=backoff_max_s, jitter=backoff_initial_s
        )
        self.on_wait = on_wait
        self.on_bytes = on_bytes
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc credentials, no proxies from env

    def __repr__(self) -> str:
        return f"HatchClient({self.base_url!r}, api_key={self._key!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def export(
        self, data_source: str, start: date, end: date, fmt: str, dest_dir: Path
    ) -> ExportResult:
        """Fetch one window into ``dest_dir``; retries transient failures and 429, bounded."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type((_Transient, _RateLimited)),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        what = f"{data_source} {start}..{end}"
        try:
            return retrying(self._attempt, data_source, start, end, fmt, Path(dest_dir))
        except _Transient as exc:
            raise ServerError(
                f"{what}: the API kept failing after {self.max_retries + 1} attempts "
                f"(last: {exc}); the window stays not fetched, run again later"
            ) from None
        except _RateLimited:
            raise RateBudgetError(
                f"{what}: the API kept answering 429 (rate limited) after "
                f"{self.max_retries + 1} attempts; run again later",
                retry_at=self.ledger.next_slot_at(),
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RateLimited):
            # a missing / non-positive Retry-After: the ledger's next slot decides the wait
            wait = exc.retry_after or 0.0
            if wait > self.max_wait_s:
                retry_at = time.time() + wait
                raise RateBudgetError(
                    f"the API asks to retry in {wait:.0f}s (at {format_epoch(retry_at)}), "
                    f"beyond the allowed wait; run again after then",
                    retry_at=retry_at,
                )
            return wait
        return float(self.backoff(state))

    def _before_sleep(self, state: RetryCallState) -> None:
        """Say what failed and when the next try goes: the backoff, or the rate ledger's next slot
        when that is later (a failed request used its slot)."""
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        backoff_at = time.time() + wait
        next_at = max(backoff_at, self.ledger.next_slot_at(backoff_at))
        why = ""
        if next_at > backoff_at + 1:
            why = (
                f"; failed requests count against the limit of 1 request per "
                f"{self.ledger.min_interval_s:g}s"
            )
        log.warning(
            "attempt %d of %d failed: %s%s; next try at %s",
            state.attempt_number,
            self.max_retries + 1,
            exc,
            why,
            time.strftime("%H:%M:%S UTC", time.gmtime(next_at)),
        )

    def _attempt(
        self, data_source: str, start: date, end: date, fmt: str, dest_dir: Path
    ) -> ExportResult:
        note = f"{data_source} {start}..{end}"
        self.ledger.acquire(self.max_wait_s, on_wait=self.on_wait, note=note)
        params = {
            "data_source": data_source,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "output_format": fmt,
        }
        headers = {"Authorization": f"Bearer {self._key.reveal()}"}
        try:
            resp = self.session.get(
                f"{self.base_url}/export-data",
                params=params,
                headers=headers,
                stream=True,
                timeout=self.timeout_s,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(connection_problem(exc, self.base_url, self.timeout_s)) from None
        with resp:
            return self._handle(resp, data_source, start, end, fmt, dest_dir)

    def _handle(
        self,
        resp: requests.Response,
        data_source: str,
        start: date,
        end: date,
        fmt: str,
        dest_dir: Path,
    ) -> ExportResult:
        what = f"{data_source} {start}..{end}"
        code = resp.status_code
        if code == 200:
            name = archive_name(data_source, start, end)
            path, sha, size = self._download(resp, Path(dest_dir) / name)
            _check_archive(path, name.removesuffix(".zip") + f".{fmt}")
            return ExportResult(200, path, sha, size)
        if code == 204:
            return ExportResult(204, None, None, 0)
        if code == 401:
            raise AuthError("the API rejected the key (HTTP 401); check HATCH_API_KEY")
        if code == 400:
            raise BadRequestError(
                f"{what}: the API rejected the request (HTTP 400): {_reason(resp)}"
            )
        if code == 413:
            raise TooLargeResponse(f"{what}: HTTP 413, export larger than the API's size limit")
        if code == 429:
            raise _RateLimited(parse_retry_after(resp.headers.get("Retry-After")))
        if code in RETRY_STATUSES:
            raise _Transient(f"HTTP {code}")
        raise ServerError(f"{what}: unexpected HTTP {code}: {_reason(resp)}")

    def _download(self, resp: requests.Response, dest: Path) -> tuple[Path, str, int]:
        """Stream the body to ``dest`` (via ``.part``); return path, sha256 and size."""
        total = resp.headers.get("Content-Length")
        expected = int(total) if total and total.isdigit() else None
        part = dest.with_name(dest.name + ".part")
        digest, size = hashlib.sha256(), 0
        try:
            with open(part, "wb") as fh:
                for chunk in resp.iter_content(_CHUNK):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if self.on_bytes:
                        self.on_bytes(size, expected)
            if expected is not None and size != expected:
                raise _Transient(f"truncated body ({size} of {expected} bytes)")
            part.replace(dest)
        except (requests.ConnectionError, requests.Timeout, requests.RequestException) as exc:
            raise _Transient(f"download interrupted: {type(exc).__name__}") from None
        finally:
            part.unlink(missing_ok=True)
        return dest, digest.hexdigest(), size


def connection_problem(exc: requests.RequestException, base_url: str, timeout_s: float) -> str:
    """What went wrong on the way to the API's host, in words (never the request's headers)."""
    host = urlsplit(base_url).netloc or base_url
    text = str(exc).lower()
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection to {host} within {timeout_s:g}s"
    if isinstance(exc, requests.Timeout):
        return f"{host} sent nothing for {timeout_s:g}s"
    if "refused" in text:
        return f"connection refused by {host}"
    if "name or service not known" in text or "nodename nor servname" in text or "resolve" in text:
        return f"cannot resolve the host name {host}"
    if "reset" in text or "aborted" in text:
        return f"connection reset by {host}"
    return f"connection to {host} failed ({type(exc).__name__})"


def _reason(resp: requests.Response) -> str:
    """The server's error text, shortened (never contains request headers)."""
    try:
        body = resp.json()
        text = (
            str(body.get("error") or body.get("message") or body)
            if isinstance(body, dict)
            else str(body)
        )
    except ValueError:
        text = resp.text
    text = " ".join(text.split())
    return text[:300] or resp.reason or "no details"


def _check_archive(path: Path, member: str) -> None:
    """The ZIP must hold exactly the one member the API names."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            bad = zf.testzip()
    except zipfile.BadZipFile as exc:
        path.unlink(missing_ok=True)
        raise DataError(f"not a valid ZIP archive: {exc}", file=path.name) from None
    if names != [member] or bad is not None:
        path.unlink(missing_ok=True)
        raise DataError(f"expected exactly one member {member!r}, found {names}", file=path.name)
