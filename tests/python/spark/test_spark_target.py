"""The same models on Spark over the Parquet lake give the same numbers as on DuckDB, build after
build; a cluster is reached through a real Spark Thrift Server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

CUT = "2026-10-31"  # Hatch archives ending after this day arrive with the second load
MARTS = 9


def _split_landing(base: Path) -> Path:
    """Sample exports (daily archives and every document shape); the later archives held back."""
    everything = base / "generated"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "loader",
            "-q",
            "generate",
            "--landing-url",
            str(everything),
            "--messages",
            "20000",
            "--daily",
            "--end-date",
            "2026-11-30",
            "--days",
            "60",
        ],
        check=True,
    )
    shutil.copytree(everything, base / "landing")
    later = base / "later"
    for archive in sorted((base / "landing" / "hatch").rglob("*.zip")):
        if archive.stem.rsplit("_", 1)[1] > CUT:
            target = later / archive.relative_to(base / "landing")
            target.parent.mkdir(parents=True, exist_ok=True)
            archive.rename(target)
    return later


def _marts(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.glob("*.parquet"))}


def differences(expected: Path, actual: Path) -> dict[str, tuple[int, int, int]]:
    """Per mart whose rows differ: (rows, rows only in expected, rows only in actual). Floats are
    compared to 6 decimals, timestamps as UTC instants."""
    a, b = _marts(expected), _marts(actual)
    assert set(a) == set(b) and len(a) == MARTS, (sorted(a), sorted(b))
    out = {}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name in a:
        described = con.execute(f"describe select * from read_parquet('{a[name]}')").fetchall()
        columns = []
        for column, kind, *_ in described:
            ident = f'"{column}"'
            if kind in ("DOUBLE", "FLOAT") or kind.startswith("DECIMAL"):
                columns.append(f"round({ident}::DOUBLE, 6) AS {ident}")
            elif kind.startswith("TIMESTAMP"):
                columns.append(f"{ident}::TIMESTAMPTZ AS {ident}")
            else:
                columns.append(ident)
        select = ", ".join(columns)
        left = f"SELECT {select} FROM read_parquet('{a[name]}')"
        right = f"SELECT {select} FROM read_parquet('{b[name]}')"
        only_a = con.execute(f"SELECT count(*) FROM ({left} EXCEPT ALL {right})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM ({right} EXCEPT ALL {left})").fetchone()[0]
        rows = con.execute(f"SELECT count(*) FROM ({left})").fetchone()[0]
        assert rows > 0, name
        if only_a or only_b:
            out[name] = (rows, only_a, only_b)
    return out


@pytest.fixture(scope="module")
def project(spark_ready, loader, loader_env, tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("spark")

    def _export(env: dict[str, str], base: Path, name: str) -> Path:
        out = base / name
        loader(env, "export-parquet", "--out", str(out), cwd=base)
        return out

    later = _split_landing(base)
    duck = loader_env(base)
    spark = loader_env(base, DBT_TARGET="spark", SPARK_THREADS="2")
    # one load writes the DuckDB raw tables and the lake: both engines read the same rows
    loader(duck, "load", "--build", cwd=base)
    loader(spark, "build", cwd=base)
    first = (_export(duck, base, "duckdb_1"), _export(spark, base, "spark_1"))
    shutil.copytree(later, base / "landing", dirs_exist_ok=True)
    loader(spark, "load", cwd=base)  # the lake gets the new files
    loader(spark, "build", cwd=base)
    loader(spark, "build", cwd=base)  # nothing new: the same marts
    loader(duck, "build", "--full-refresh", cwd=base)
    second = (_export(duck, base, "duckdb_2"), _export(spark, base, "spark_2"))
    return {"base": base, "first": first, "second": second, "env": spark}


def test_spark_marts_equal_duckdb_marts(project: dict) -> None:
    assert differences(*project["first"]) == {}


def test_later_spark_builds_equal_a_full_refresh(project: dict) -> None:
    """Two more builds on Spark (new files, then nothing new) against DuckDB's full refresh of
    the same rows: every mart equal, and the new days reached them."""
    assert differences(*project["second"]) == {}
    con = duckdb.connect()
    first, second = (
        con.execute(
            f"SELECT count(*) FROM read_parquet('{run[1] / 'fct_messages.parquet'}')"
        ).fetchone()[0]
        for run in (project["first"], project["second"])
    )
    assert second > first


def test_the_lake_holds_one_file_per_loaded_file(project: dict) -> None:
    base: Path = project["base"]
    con = duckdb.connect(str(base / "warehouse.duckdb"), read_only=True)
    loaded = dict(
        con.execute(
            "SELECT file_sha256, system FROM loader.load_log WHERE status = 'loaded'"
        ).fetchall()
    )
    lake = {p.stem: p.parent.name for p in (base / "lake" / "raw").rglob("*.parquet")}
    assert set(lake) == set(loaded)
    raw = con.execute("SELECT count(*) FROM raw.hatch_conversation_items").fetchone()[0]
    lake_table = base / "lake" / "raw" / "hatch_conversation_items"
    in_lake = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake_table}/*.parquet')").fetchone()[
        0
    ]
    assert in_lake == raw
    assert not list((base / "lake").rglob(".tmp-*"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_cluster_through_the_thrift_server(project: dict, tmp_path: Path) -> None:
    """A Spark Thrift Server started from pyspark's jars on 127.0.0.1 (a stand-in for a
    cluster): plain `dbt build --target spark_thrift` builds the campaign mart over the lake and
    gives the same rows."""
    import pyspark

    home = Path(pyspark.__file__).parent
    port = _free_port()
    metastore = f"jdbc:derby:;databaseName={tmp_path / 'metastore_db'};create=true"
    server_env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(tmp_path / "logs"),
        "SPARK_NO_DAEMONIZE": "1",
    }
    server = subprocess.Popen(
        [
            str(home / "bin" / "spark-submit"),
            "--master",
            "local[2]",
            "--class",
            "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
            "--conf",
            f"spark.sql.warehouse.dir={tmp_path / 'warehouse'}",
            "--conf",
            "spark.sql.session.timeZone=UTC",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            f"spark.hadoop.javax.jdo.option.ConnectionURL={metastore}",
            "--hiveconf",
            f"hive.server2.thrift.port={port}",
            "--hiveconf",
            "hive.server2.thrift.bind.host=127.0.0.1",
            "spark-internal",
        ],
        cwd=tmp_path,
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, "the Thrift server exited"
            time.sleep(1)
        env = {**project["env"], "DBT_TARGET": "spark_thrift", "SPARK_PORT": str(port)}
        env["DBT_TARGET_PATH"] = str(tmp_path / "target")
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("dbt")),
                "build",
                "--select",
                "+fct_campaign_performance",
                "--indirect-selection",
                "cautious",  # not the relationship tests to marts left out
                "--exclude-resource-type",
                "unit_test",
            ],
            cwd=Path(__file__).resolve().parents[3],
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert done.returncode == 0, done.stdout[-5000:]
        assert "Completed successfully" in done.stdout or "PASS=" in done.stdout
        # the mart as the server holds it, read through the same Thrift connection
        from pyhive import hive

        cursor = hive.connect(host="127.0.0.1", port=port).cursor()
        cursor.execute("SELECT sum(contacts), count(*) FROM marts.fct_campaign_performance")
        contacts, rows = cursor.fetchone()
        campaigns = project["second"][0] / "fct_campaign_performance.parquet"
        expected = duckdb.sql(
            f"SELECT sum(contacts), count(*) FROM read_parquet('{campaigns}')"
        ).fetchone()
        assert (contacts, rows) == expected
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
