"""Fixtures for the dbt end-to-end tests: sample archives, loading, isolated dbt runs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loader import ingest, sample_data
from loader.config import Settings

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = Path(sys.executable).with_name("dbt")
MARTS = (
    "fct_campaign_performance",
    "fct_message_delivery",
    "fct_messages",
    "fct_contact_campaigns",
    "dim_campaigns",
    "dim_workspaces",
)


def write_archives(
    con: duckdb.DuckDBPyConnection, landing: Path, start: date, end: date, fmt: str = "json"
) -> list[Path]:
    """Daily export archives for ``[start, end]`` into the landing layout; the archive paths."""
    written: list[Path] = []
    day = start
    while day <= end:
        for ds in ("contact_history", "conversation_items"):
            path = sample_data.write_archive(con, ds, day, day, fmt, landing / "hatch" / ds)  # type: ignore[arg-type]
            if path is not None:
                written.append(path)
        day += timedelta(days=1)
    return written


def load(landing: Path, warehouse: Path, state_dir: Path) -> int:
    """Load everything new in ``landing`` into ``warehouse``; rows loaded."""
    settings = Settings(landing_url=str(landing), warehouse_path=warehouse, state_dir=state_dir)
    summary = ingest.run_load(settings)
    assert not summary.failed, [str(r) for r in summary.failed]
    return summary.rows


def dbt(
    args: list[str], warehouse: Path, work_dir: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run dbt on ``warehouse`` with private target and log paths under ``work_dir``."""
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [str(DBT), *args, "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr}")
    return proc


START, SPLIT, END = date(2024, 3, 1), date(2024, 3, 20), date(2024, 3, 30)
# this engineer's marts and their ancestors (other sources may have no raw tables here)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests taking ``mart`` run once per Hatch mart (one list, here)."""
    if "mart" in metafunc.fixturenames:
        metafunc.parametrize("mart", MARTS)


SELECT = ["--select", *(f"+{m}" for m in MARTS), "--indirect-selection", "cautious"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two warehouses over the same data: built incrementally in two loads, and in one go."""
    root = tmp_path_factory.mktemp("dbt_e2e")
    landing = root / "landing"
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    sample_data.build_hatch(con, seed=7, start_date=START, end_date=END, contacts=400)

    incremental = root / "incremental.duckdb"
    write_archives(con, landing, START, SPLIT)
    assert load(landing, incremental, root / "state_inc") > 0
    dbt(["build", *SELECT], incremental, root / "dbt_inc")
    with duckdb.connect(str(incremental), read_only=True) as wh:
        first_ids = {r[0] for r in wh.sql("select message_id from marts.fct_messages").fetchall()}

    write_archives(con, landing, SPLIT, END)  # the split day again: identical bytes, skipped
    assert load(landing, incremental, root / "state_inc") > 0
    dbt(["build", *SELECT], incremental, root / "dbt_inc")

    full = root / "full.duckdb"
    assert load(landing, full, root / "state_full") > 0
    dbt(["build", "--full-refresh", *SELECT], full, root / "dbt_full")
    con.close()
    return {
        "incremental": incremental,
        "full": full,
        "root": root,
        "first_ids": first_ids,
        "split": SPLIT,
    }
