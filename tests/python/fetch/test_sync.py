"""``python -m loader sync``: fetch through the real client, then load, in one command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from loader.demo.sample_data import SampleData

REPO = Path(__file__).resolve().parents[3]
YESTERDAY = datetime.now(timezone.utc).date() - timedelta(days=1)
START = YESTERDAY - timedelta(days=9)


def _env(server, tmp_path: Path, api_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HATCH_", "LOADER_"))}
    env.update(
        PYTHONPATH=str(REPO),
        HATCH_API_KEY=api_key,
        HATCH_API_URL=server.base_url,
        LANDING_URL=str(tmp_path / "landing"),
        LOADER_STATE_DIR=str(tmp_path / "state"),
        WAREHOUSE_PATH=str(tmp_path / "warehouse.duckdb"),
        HATCH_MIN_INTERVAL_S="0.05",
        HATCH_MAX_RETRIES="1",
    )
    return env


def _sync(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loader", "sync", "--start", str(START), "--end", str(YESTERDAY)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _raw_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            ds: con.sql(f"select count(*) from raw.hatch_{ds}").fetchone()[0]
            for ds in ("contact_history", "conversation_items")
        }


def test_sync_fetches_then_loads_and_a_rerun_changes_nothing(
    make_server, api_key: str, tmp_path: Path
) -> None:
    data = SampleData(seed=7, days=30, contacts=150)
    server = make_server(data)
    env = _env(server, tmp_path, api_key)
    first = _sync(env, tmp_path)
    assert first.returncode == 0, first.stderr
    expected = {
        ds: data.count(ds, START, YESTERDAY) for ds in ("contact_history", "conversation_items")
    }
    assert min(expected.values()) > 0
    assert _raw_counts(tmp_path / "warehouse.duckdb") == expected
    requests = server.request_count
    second = _sync(env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert server.request_count == requests  # nothing new to fetch
    assert "0 loaded" in second.stdout + second.stderr
    assert _raw_counts(tmp_path / "warehouse.duckdb") == expected


def test_sync_loads_what_is_landed_when_the_fetch_fails(
    make_server, api_key: str, tmp_path: Path
) -> None:
    data = SampleData(seed=7, days=30, contacts=150)
    server = make_server(data)
    env = _env(server, tmp_path, api_key)
    landed_end = YESTERDAY - timedelta(days=3)
    fetched = subprocess.run(
        [sys.executable, "-m", "loader", "fetch", "--start", str(START), "--end", str(landed_end)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert fetched.returncode == 0, fetched.stderr
    server.inject(503, count=50)  # every further export fails, past the retries
    failed = _sync(env, tmp_path)
    assert failed.returncode == 5, failed.stderr
    assert "error:" in failed.stderr and api_key not in failed.stderr + failed.stdout
    expected = {
        ds: data.count(ds, START, landed_end) for ds in ("contact_history", "conversation_items")
    }
    assert _raw_counts(tmp_path / "warehouse.duckdb") == expected
