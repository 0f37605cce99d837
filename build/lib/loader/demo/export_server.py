"""A Hatch-compatible Bulk Export server for the demo and the tests.

Implements ``GET /api/v1/export-data`` as documented: Bearer auth (401), parameter checks (400),
its own rate limits (429), 413 over ``max_uncompressed_bytes``, 204 for no rows, else 200 with a
ZIP holding exactly one member ``{ds}_{start}_{end}.json|csv``. Decisions where the document is
silent: ``end_date`` must be before today (the data holds the previous day at the latest); a
window spans at most 180 days, both ends included; ``start_date`` may be at most
``retention_days`` back; requests rejected with 400/401/429 do not count against the limits,
every other request does (5xx included).

Test knobs: :meth:`ExportServer.inject` queues responses (500/502/503/504, 429 with any
``Retry-After``, ``"drop"`` = close without answering, ``"truncate"`` = half a body);
``fail_rate`` answers a random share with 500; ``chunk_size``/``chunk_delay_s`` slow the body;
``requests`` logs every request.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import random
import re
import shutil
import socket
import tempfile
import threading
import time
import zipfile
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DATASETS = ("contact_history", "conversation_items")
FORMATS = ("json", "csv")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MISSING = object()


class DataProvider(Protocol):
    """Writes the export member for a window to ``dest``; returns the number of rows."""

    def __call__(self, data_source: str, start: date, end: date, fmt: str, dest: Path) -> int: ...


@dataclass
class RequestRecord:
    """One request as the server saw it (never the Authorization header)."""

    at: float
    params: dict[str, str]
    status: int = 0
    counted: bool = False
    bytes_sent: int = 0
    body_size: int = 0


@dataclass(frozen=True)
class _Injected:
    status: int | str
    retry_after: Any = _MISSING


class _Reply(Exception):
    """Ends request handling with an error status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def default_provider(seed: int, end_date: date) -> DataProvider:
    """The sample-data generator (imported lazily; it builds its data on first use)."""
    from loader.demo.sample_data import SampleData

    return SampleData(seed=seed, end_date=end_date)


class ExportServer:
    """Threaded HTTP export server on 127.0.0.1 (port 0 = any free port)."""

    def __init__(
        self,
        api_key: str,
        data: DataProvider | None = None,
        *,
        min_interval_s: float = 300,
        daily_cap: int = 100,
        max_uncompressed_bytes: int = 100 * 1024 * 1024,
        retention_days: int = 180,
        max_range_days: int = 180,
        today: date | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 42,
        fail_rate: float = 0.0,
        chunk_size: int = 64 * 1024,
        chunk_delay_s: float = 0.0,
        rate_tolerance_s: float = 0.2,
        send_retry_after: bool = True,
    ) -> None:
        self._api_key = api_key
        self._data = data
        self.min_interval_s = min_interval_s
        self.daily_cap = daily_cap
        self.max_uncompressed_bytes = max_uncompressed_bytes
        self.retention_days = retention_days
        self.max_range_days = max_range_days
        self.fixed_today = today
        self.host, self.port = host, port
        self.seed = seed
        self.fail_rate = fail_rate
        self.chunk_size = chunk_size
        self.chunk_delay_s = chunk_delay_s
        self.rate_tolerance_s = rate_tolerance_s
        self.send_retry_after = send_retry_after
        self.requests: list[RequestRecord] = []
        self._accepted: deque[float] = deque()
        self._injected: deque[_Injected] = deque()
        self._lock = threading.Lock()
        self._data_lock = threading.Lock()
        self._rng = random.Random(seed)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None

    def __repr__(self) -> str:
        return f"ExportServer(url={self.base_url!r}, api_key='***')"

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        """Start serving in a background thread; return the base URL ending in ``/api/v1``."""
        self._tmp = Path(tempfile.mkdtemp(prefix="export-server-"))
        self._httpd = _QuietServer((self.host, self.port), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and remove temporary files."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> ExportServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port/api/v1`` (port known once started)."""
        port = self._httpd.server_address[1] if self._httpd else self.port
        return f"http://{self.host}:{port}{API_PREFIX}"

    # knobs -----------------------------------------------------------------------------------
    def inject(self, status: int | str, count: int = 1, retry_after: Any = _MISSING) -> None:
        """Answer the next ``count`` valid requests with ``status`` (or "drop"/"truncate").

        For 429, ``retry_after`` is the literal header value; leave it out to omit the header.
        """
        with self._lock:
            self._injected.extend(_Injected(status, retry_after) for _ in range(count))

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` valid requests with ``status`` (a 5xx by default)."""
        self.inject(status, count)

    def reset_limits(self) -> None:
        """Forget the requests counted against the rate limits."""
        with self._lock:
            self._accepted.clear()

    @property
    def request_count(self) -> int:
        """Requests received so far."""
        return len(self.requests)

    def counted_times(self) -> list[float]:
        """Arrival times of requests that counted against the limits."""
        return [r.at for r in self.requests if r.counted]

    def today(self) -> date:
        """The server's notion of today (UTC unless fixed)."""
        return self.fixed_today or datetime.now(timezone.utc).date()

    # request handling ------------------------------------------------------------------------
    def _provider(self) -> DataProvider:
        with self._data_lock:
            if self._data is None:
                self._data = default_provider(self.seed, self.today() - timedelta(days=1))
            return self._data

    def authorize(self, header: str | None) -> None:
        """401 unless the header is ``Bearer <api_key>``."""
        expected = f"Bearer {self._api_key}".encode()
        if not header or not hmac.compare_digest(header.encode(), expected):
            raise _Reply(401, "missing or invalid API key")

    def validate(self, params: dict[str, str]) -> tuple[str, date, date, str]:
        """Parameters as documented, else 400."""
        ds = params.get("data_source", "")
        if ds not in DATASETS:
            raise _Reply(400, f"data_source must be one of {', '.join(DATASETS)}")
        fmt = params.get("output_format", "json") or "json"
        if fmt not in FORMATS:
            raise _Reply(400, "output_format must be json or csv")
        start, end = _parse_date(params, "start_date"), _parse_date(params, "end_date")
        today = self.today()
        if end < start:
            raise _Reply(400, "end_date must be on or after start_date")
        if (end - start).days + 1 > self.max_range_days:
            raise _Reply(400, f"date range exceeds {self.max_range_days} days")
        if start < today - timedelta(days=self.retention_days):
            raise _Reply(400, f"start_date is older than the {self.retention_days}-day retention")
        if end >= today:
            raise _Reply(400, "end_date must be before today (data holds the previous day)")
        return ds, start, end, fmt

    def admit(self, record: RequestRecord) -> _Injected | None:
        """Apply injected responses and the rate limits; count the request when admitted."""
        with self._lock:
            injected = self._injected.popleft() if self._injected else None
            if injected is not None and injected.status == 429:
                return injected
            if injected is None:
                self._check_rate(record.at)
            self._accepted.append(record.at)
            record.counted = True
            return injected

    def _check_rate(self, now: float) -> None:
        while self._accepted and self._accepted[0] <= now - 86_400:
            self._accepted.popleft()
        wait = 0.0
        if self._accepted:
            wait = self._accepted[-1] + self.min_interval_s - self.rate_tolerance_s - now
        if len(self._accepted) >= self.daily_cap:
            wait = max(wait, self._accepted[-self.daily_cap] + 86_400 - now)
        if wait > 0:
            headers = {"Retry-After": str(math.ceil(wait))} if self.send_retry_after else {}
            raise _Reply(429, "rate limit exceeded", headers)

    def random_failure(self) -> bool:
        """Whether this request fails at random (``fail_rate``)."""
        with self._lock:
            return self.fail_rate > 0 and self._rng.random() < self.fail_rate

    def build_archive(self, ds: str, start: date, end: date, fmt: str) -> Path | None:
        """The ZIP for a window; None for no rows; 413 when the member is too large."""
        assert self._tmp is not None
        work = Path(tempfile.mkdtemp(dir=self._tmp))
        stem = f"{ds}_{start.isoformat()}_{end.isoformat()}"
        member = work / f"{stem}.{fmt}"
        rows = self._provider()(ds, start, end, fmt, member)
        if rows == 0:
            shutil.rmtree(work, ignore_errors=True)
            return None
        if member.stat().st_size > self.max_uncompressed_bytes:
            shutil.rmtree(work, ignore_errors=True)
            raise _Reply(413, "result exceeds the size limit; narrow the date range")
        archive = work / f"{stem}.zip"
        info = zipfile.ZipInfo(member.name, date_time=(start.year, start.month, start.day, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with (
            zipfile.ZipFile(archive, "w") as zf,
            member.open("rb") as src,
            zf.open(info, "w", force_zip64=True) as out,
        ):
            shutil.copyfileobj(src, out, 1 << 20)
        member.unlink()
        return archive


def _parse_date(params: dict[str, str], name: str) -> date:
    value = params.get(name, "")
    if not _DATE_RE.match(value):
        raise _Reply(400, f"{name} must be a date in YYYY-MM-DD format")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Reply(400, f"{name} is not a valid date: {value}") from None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that go away mid-request (killed fetches) are expected, not tracebacks."""
        log.debug("connection from %s ended abruptly", client_address, exc_info=True)


def _handler_for(server: ExportServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_ExportHandler):
        export = server

    return Handler


class _ExportHandler(BaseHTTPRequestHandler):
    export: ExportServer
    protocol_version = "HTTP/1.1"
    server_version = "HatchExportLocal/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        record = RequestRecord(time.time(), params)
        self.export.requests.append(record)
        try:
            if url.path.rstrip("/") != f"{API_PREFIX}/export-data":
                raise _Reply(404, "not found")
            self.export.authorize(self.headers.get("Authorization"))
            ds, start, end, fmt = self.export.validate(params)
            injected = self.export.admit(record)
            if injected is not None:
                self._injected(record, injected)
                return
            if self.export.random_failure():
                raise _Reply(500, "random failure (fail_rate)")
            archive = self.export.build_archive(ds, start, end, fmt)
            if archive is None:
                record.status = 204
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send_file(record, archive)
        except _Reply as reply:
            self._error(record, reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _injected(self, record: RequestRecord, injected: _Injected) -> None:
        status = injected.status
        if status == "drop":
            record.status = -1
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if status == "truncate":
            self._send_truncated(record)
            return
        headers = {}
        if status == 429 and injected.retry_after is not _MISSING:
            headers["Retry-After"] = str(injected.retry_after)
        self._error(record, _Reply(int(status), f"injected HTTP {status}", headers))

    def _error(self, record: RequestRecord, reply: _Reply) -> None:
        record.status = reply.status
        body = json.dumps({"error": str(reply)}).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, record: RequestRecord, archive: Path) -> None:
        size = archive.stat().st_size
        record.status, record.body_size = 200, size
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Disposition", f'attachment; filename="{archive.name}"')
        self.end_headers()
        chunk_size, delay = self.export.chunk_size, self.export.chunk_delay_s
        try:
            with archive.open("rb") as fh:
                while chunk := fh.read(chunk_size):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    record.bytes_sent += len(chunk)
                    if delay:
                        time.sleep(delay)
        finally:
            shutil.rmtree(archive.parent, ignore_errors=True)

    def _send_truncated(self, record: RequestRecord) -> None:
        record.status = -2
        body = b"PK\x03\x04" + b"\0" * 4096
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        record.bytes_sent = len(body) // 2
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)
