"""Fixtures for the fetch suite: a small data provider, a real export server, settings, CLI runs."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from loader.config import Settings, load_settings
from loader.demo.export_server import ExportServer

REPO = Path(__file__).resolve().parents[3]
API_KEY = "sk-test-7f3a9c1e5b2d4a60-SECRET"  # distinctive, so a leak is easy to grep
TODAY = datetime.now(timezone.utc).date()
YESTERDAY = TODAY - timedelta(days=1)

BODIES = [
    'Hi {name}, thanks for reaching out! Reply "YES" to confirm, or STOP to opt out.',
    "Can we move it to 3pm, Tuesday?\nAlso: bring the invoice, please.",
    "Great news 🎉 your appointment is set — see you soon 😀",
    'She said: "that\'s fine, thanks" , then hung up',
    "Line one\r\nline two, with a comma\nline three 🙏",
]


class TinyData:
    """Deterministic rows per day; bodies with quotes, commas, newlines and emoji.

    ``rows_per_day`` rows on every day except ``empty_days``; ``big_days`` get ``big_rows``.
    """

    def __init__(
        self,
        rows_per_day: int = 5,
        empty_days: set[date] | None = None,
        big_days: set[date] | None = None,
        big_rows: int = 2000,
    ) -> None:
        self.rows_per_day = rows_per_day
        self.empty_days = empty_days or set()
        self.big_days = big_days or set()
        self.big_rows = big_rows
        self.calls: list[tuple[str, date, date, str]] = []

    def rows(self, data_source: str, start: date, end: date) -> list[dict[str, object]]:
        """All rows whose updated_at falls in [start, end]."""
        out: list[dict[str, object]] = []
        day = start
        while day <= end:
            if day not in self.empty_days:
                count = self.big_rows if day in self.big_days else self.rows_per_day
                out.extend(self._row(data_source, day, n) for n in range(count))
            day += timedelta(days=1)
        return out

    def _row(self, data_source: str, day: date, n: int) -> dict[str, object]:
        rnd = random.Random(f"{data_source}{day}{n}")
        body = BODIES[n % len(BODIES)].format(name="Zoë O'Brien") + f" #{rnd.getrandbits(64):x}"
        return {
            "organization_id": "org_1",
            "organization_name": 'Acme "Dental", Inc.',
            "workspace_id": "ws_1",
            "id": f"{data_source[:2]}_{day:%Y%m%d}_{n}",
            "contact_id": f"ct_{rnd.randint(1, 999)}",
            "direction": rnd.choice(["inbound", "outbound"]),
            "body": body,
            "updated_at": f"{day}T{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:00Z",
        }

    def __call__(self, data_source: str, start: date, end: date, fmt: str, dest: Path) -> int:
        self.calls.append((data_source, start, end, fmt))
        rows = self.rows(data_source, start, end)
        if not rows:
            return 0
        with open(dest, "w", encoding="utf-8", newline="") as fh:
            if fmt == "csv":
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            else:
                fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return len(rows)


@pytest.fixture
def data() -> TinyData:
    return TinyData()


@pytest.fixture
def make_server() -> Iterator[Callable[..., ExportServer]]:
    """Start export servers (min interval 0 unless given); all stopped at teardown."""
    servers: list[ExportServer] = []

    def start(data: object = None, **kwargs: object) -> ExportServer:
        kwargs.setdefault("min_interval_s", 0)
        server = ExportServer(API_KEY, data or TinyData(), **kwargs)  # type: ignore[arg-type]
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., ExportServer], data: TinyData) -> ExportServer:
    return make_server(data)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a server, all state under tmp_path; overrides by field name."""

    def build(server: ExportServer, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "api_key": API_KEY,
            "api_url": server.base_url,
            "landing_url": str(tmp_path / "landing"),
            "state_dir": str(tmp_path / "state"),
            "min_interval_s": 0.05,
            "daily_cap": 1000,
            "max_wait_s": 30,
            "max_retries": 3,
            "http_timeout_s": 20,
        }
        values.update(overrides)
        return load_settings(values, env={})

    return build


def cli_env(server: ExportServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for ``python -m loader fetch`` against ``server``, state under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HATCH_", "LOADER_"))}
    env.update(
        PYTHONPATH=str(REPO),
        HATCH_API_KEY=API_KEY,
        HATCH_API_URL=server.base_url,
        LANDING_URL=str(tmp_path / "landing"),
        LOADER_STATE_DIR=str(tmp_path / "state"),
        HATCH_MIN_INTERVAL_S="0.05",
        HATCH_MAX_WAIT_S="30",
        HATCH_MAX_RETRIES="2",
    )
    env.update(extra)
    return env


def cli_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "loader", "fetch", "-v", *args]


def run_cli(
    server: ExportServer, tmp_path: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m loader fetch -v ARGS`` in tmp_path and capture its output."""
    return subprocess.run(
        cli_cmd(*args),
        cwd=tmp_path,
        env=cli_env(server, tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def all_file_bytes(root: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file under root with its bytes (ZIP members decompressed too)."""
    import zipfile

    for path in root.rglob("*"):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        yield path, raw
        if path.suffix == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    yield path / name, zf.read(name)


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def tiny() -> type[TinyData]:
    """The TinyData class (test modules cannot import conftest under importlib mode)."""
    return TinyData


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli(server, *args, **env)`` runs ``python -m loader fetch -v ARGS`` in tmp_path."""

    def call(server: ExportServer, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_cli(server, tmp_path, *args, **env)

    return call


@pytest.fixture
def cli_popen(tmp_path: Path) -> Callable[..., subprocess.Popen[str]]:
    """Start ``python -m loader fetch -v ARGS`` in the background (stderr to a file)."""

    def start(server: ExportServer, *args: str, log_name: str = "cli.log", **env: str):
        log = open(tmp_path / log_name, "w")  # noqa: SIM115 - closed when the process ends
        return subprocess.Popen(
            cli_cmd(*args),
            cwd=tmp_path,
            env=cli_env(server, tmp_path, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    return start


@pytest.fixture
def files_bytes() -> Callable[[Path], Iterator[tuple[Path, bytes]]]:
    return all_file_bytes
