"""The landing store and the lake on a real S3-compatible server on 127.0.0.1 (moto's server),
configured the way AWS tools are (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from loader.demo.sample_data import SampleData

from .conftest import cli_env

pytest.importorskip("s3fs", reason='the s3 extra is not installed: pip install -e ".[s3]"')
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

BUCKET = "hatch-landing"
DAY = (datetime.now(timezone.utc) - timedelta(days=3)).date()


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, str]]:
    """moto's S3 server on a free port; the AWS variables that point at it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test-key-id",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    client.create_bucket(Bucket=BUCKET)
    yield {**env, "_client": client}  # type: ignore[dict-item]
    server.stop()


def _keys(s3: dict, prefix: str) -> list[str]:
    found = s3["_client"].list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in found)


def _run(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loader", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _env(server, tmp_path: Path, s3: dict, **extra: str) -> dict[str, str]:
    aws = {k: v for k, v in s3.items() if not k.startswith("_")}
    values = {
        "LANDING_URL": f"s3://{BUCKET}/landing",
        "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        **aws,
        **extra,
    }
    return cli_env(server, tmp_path, **values)


def test_fetch_load_lake_and_export_on_s3(make_server, tmp_path: Path, s3: dict) -> None:
    server = make_server(SampleData(end_date=DAY, days=3, contacts=60))  # data dbt builds on
    env = _env(server, tmp_path, s3, LAKE_URL=f"s3://{BUCKET}/lake")
    fetched = _run(env, "fetch", "--start", str(DAY), "--end", str(DAY), cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stderr[-3000:]
    archives = _keys(s3, "landing/hatch/")
    assert len(archives) == 2 and all(k.endswith(f"_{DAY}_{DAY}.zip") for k in archives)
    assert not (tmp_path / "s3:").exists()
    loaded = _run(env, "load", "--build", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "2 loaded" in loaded.stdout
    lake = _keys(s3, "lake/raw/")
    assert len(lake) == 2 and all(k.endswith(".parquet") for k in lake)
    again = _run(env, "load", cwd=tmp_path)
    assert again.returncode == 0 and "0 loaded" in again.stdout, again.stderr[-2000:]
    assert _keys(s3, "lake/raw/") == lake  # exactly once
    exported = _run(env, "export-parquet", "--out", f"s3://{BUCKET}/marts", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr[-3000:]
    marts = _keys(s3, "marts/")
    assert "marts/fct_messages.parquet" in marts and "marts/views.sql" in marts
    assert not (tmp_path / "s3:").exists()


@pytest.mark.parametrize("command", ["fetch", "load"])
def test_a_missing_bucket_is_an_error_naming_it(server, tmp_path, s3, command) -> None:
    env = _env(server, tmp_path, s3, LANDING_URL="s3://no-such-bucket/landing")
    args = ["--start", str(DAY), "--end", str(DAY)] if command == "fetch" else []
    done = _run(env, command, *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "bucket 'no-such-bucket' does not exist" in done.stderr
    assert "0 file(s) to consider" not in done.stderr
    buckets = [b["Name"] for b in s3["_client"].list_buckets()["Buckets"]]
    assert "no-such-bucket" not in buckets  # never created


def test_demo_with_an_s3_landing_writes_to_s3(tmp_path: Path, s3: dict) -> None:
    aws = {k: v for k, v in s3.items() if not k.startswith("_")}
    env = cli_env_without_server(tmp_path, aws, LANDING_URL=f"s3://{BUCKET}/demo")
    done = _run(env, "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    keys = _keys(s3, "demo/")
    assert any(k.startswith("demo/hatch/") for k in keys)
    assert any(k.startswith("demo/huechat/") for k in keys)
    assert not (tmp_path / "s3:").exists()


def cli_env_without_server(tmp_path: Path, aws: dict[str, str], **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HATCH_", "LOADER_", "DBT_"))}
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parents[3]),
        WAREHOUSE_PATH=str(tmp_path / "warehouse.duckdb"),
        LOADER_STATE_DIR=str(tmp_path / "state"),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        **aws,
        **extra,
    )
    return env
