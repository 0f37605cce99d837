"""The spark target's tests: pyspark in-process through dbt-spark (method session), and a Spark
Thrift Server on 127.0.0.1 started from pyspark's own jars. Java 17 is needed: without it (or
without the spark extra) these tests are skipped, saying so; on CI (CI=true) they fail instead."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return 'pyspark is not installed: pip install -e ".[spark]"'
    if shutil.which("java") is None:
        return "no java on PATH: Spark needs Java 17 (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark_ready() -> None:
    """Skip (fail on CI) when Spark cannot run here."""
    reason = _missing()
    if reason and os.environ.get("CI"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def loader_env():
    """``loader_env(base, **extra)``: the environment of a loader run under ``base``."""
    return _loader_env


@pytest.fixture(scope="session")
def loader():
    """``loader(env, *args, cwd=...)``: run ``python -m loader``; fails the test on error."""
    return _loader


def _loader_env(base: Path, **extra: str) -> dict[str, str]:
    """A private warehouse, state, lake, Spark metastore and dbt output under ``base``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "SPARK_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        LANDING_URL=str(base / "landing"),
        WAREHOUSE_PATH=str(base / "warehouse.duckdb"),
        LOADER_STATE_DIR=str(base / "state"),
        LAKE_URL=str(base / "lake"),
        SPARK_WAREHOUSE_DIR=str(base / "spark-warehouse"),
        SPARK_METASTORE_DIR=str(base / "metastore_db"),
        DBT_TARGET_PATH=str(base / "target"),
        DBT_LOG_PATH=str(base / "logs"),
    )
    env.update(extra)
    return env


def _loader(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m loader ARGS`` (cwd: where Spark's derby.log goes); fails the test on error."""
    done = subprocess.run(
        [sys.executable, "-m", "loader", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, (
        f"loader {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )
    return done
