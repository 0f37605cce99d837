"""Helpers for the BI-access tests: subprocess runners, the reader process, Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from loader import warehouse

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
READER = HERE / "reader_process.py"
MARTS = (
    "dim_campaigns",
    "dim_workspaces",
    "fct_campaign_performance",
    "fct_contact_campaigns",
    "fct_conversations",
    "fct_message_delivery",
    "fct_messages",
    "fct_speed_to_lead",
    "fct_speed_to_lead_by_source",
)
READONLY_TARGET = "readonly"  # profiles.yml output opening the warehouse with access_mode READ_ONLY
SAMPLE_MESSAGES = int(os.environ.get("BI_TEST_MESSAGES", "3000"))
CHROMIUM_NAMES = (
    "chromium",
    "chromium-browser",
    "chrome-headless-shell",
    "google-chrome",
    "google-chrome-stable",
)


def tool_env(base: Path, warehouse: Path, **extra: str) -> dict[str, str]:
    """Environment for loader / dbt / mf subprocesses, every path under ``base``."""
    env = dict(os.environ)
    env.update(
        WAREHOUSE_PATH=str(warehouse),
        LANDING_URL=str(base / "landing"),
        LOADER_STATE_DIR=str(base / "state"),
        DBT_TARGET_PATH=str(base / "dbt-target"),
        DBT_LOG_PATH=str(base / "dbt-logs"),
        DBT_PROFILES_DIR=str(REPO),
        DBT_PROJECT_DIR=str(REPO),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run(
    cmd: list[str],
    env: dict[str, str],
    *,
    cwd: Path = REPO,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure (with ``check``) fail the test with its output."""
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
            f"\n--- stderr\n{proc.stderr[-4000:]}"
        )
    return proc


def loader(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m loader ARGS`` in a subprocess."""
    return run([sys.executable, "-m", "loader", *args], env, check=check)


class Reader:
    """Another process holding a read-only DuckDB connection (``reader_process.py``)."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(READER), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        self.connected = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"reader process ended: {err[-2000:]}")
        return json.loads(line)

    def ask(self, command: str) -> dict[str, Any]:
        """Send one command (``check``, ``reconnect``) and return the JSON answer."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Ask the reader to quit; kill it if it does not."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@dataclass
class BuildUnderReader:
    """What happened when ``python -m loader build`` ran while a reader held the warehouse."""

    warehouse: Path
    build: subprocess.CompletedProcess[str]
    before: dict[str, Any]
    during: dict[str, Any]
    old_connection_after: dict[str, Any]
    reconnected: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)


def find_chromium() -> str | None:
    """Path of a Chromium binary ($CHROMIUM or on PATH), or None."""
    explicit = os.environ.get("CHROMIUM")
    if explicit and os.access(explicit, os.X_OK):
        return explicit
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def chromium_run(
    chromium: str, profile: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with no network side traffic; ``args`` end with the URL."""
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def mart_counts(path: Path) -> dict[str, int]:
    """Row count of every mart, read with the project's DuckDB."""
    with warehouse.connect_readonly(path) as con:
        names = [
            n
            for (n,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {n: con.execute(f'select count(*) from marts."{n}"').fetchone()[0] for n in names}


def has_readonly_target() -> bool:
    """Whether profiles.yml defines the read-only output (for docs and mf beside BI readers)."""
    text = (REPO / "profiles.yml").read_text()
    return f"\n    {READONLY_TARGET}:" in text and "READ_ONLY" in text
