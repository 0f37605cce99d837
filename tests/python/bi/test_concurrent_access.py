"""No lock-outs: builds and loads succeed while a BI tool holds the warehouse read-only."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from bi_support import MARTS, BuildUnderReader, Reader, loader, tool_env


def test_build_succeeds_while_a_reader_holds_the_warehouse(
    build_under_reader: BuildUnderReader,
) -> None:
    obs = build_under_reader
    assert obs.build.returncode == 0, obs.build.stderr[-3000:]
    # the reader connected before the build, to the loaded (not yet built) file
    assert obs.before["raw_rows"] > 0
    assert obs.before["marts"] == {}
    # it kept querying during the whole build, without a single error
    assert obs.during["polls"] > 0
    assert obs.during["errors"] == []
    # its old connection still works and still shows the old snapshot
    assert obs.old_connection_after == {"marts": {}, "raw_rows": obs.before["raw_rows"]}
    # after reconnecting it sees the new data
    assert set(MARTS) <= set(obs.reconnected["marts"])
    assert obs.reconnected["marts"]["fct_messages"] > 0
    assert obs.reconnected["raw_rows"] == obs.before["raw_rows"]


def test_load_succeeds_while_a_reader_holds_the_warehouse(
    built_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, warehouse)
    base = built_warehouse.parent
    env = tool_env(base, warehouse, DBT_TARGET_PATH=str(tmp_path / "t"))
    reader = Reader(warehouse)
    try:
        # control: without the working-file design a writer would be locked out
        direct = subprocess.run(
            [sys.executable, "-c", f"import duckdb; duckdb.connect({str(warehouse)!r})"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert direct.returncode != 0 and "lock" in direct.stderr.lower()
        result = loader("load", env=env, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        during = reader.ask("check")
        assert during["polls"] > 0 and during["errors"] == []
        assert during["marts"] == reader.connected["marts"]
        assert reader.ask("reconnect")["marts"] == reader.connected["marts"]
    finally:
        reader.close()


def _dbt(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The ``dbt`` command itself, as CI, dagster-dbt or Airflow run it (no loader involved)."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    return subprocess.run([dbt, *args], env=env, capture_output=True, text=True, check=False)


def test_plain_dbt_build_succeeds_while_a_reader_holds_the_warehouse(
    loaded_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(loaded_warehouse, warehouse)
    env = tool_env(tmp_path, warehouse)
    reader = Reader(warehouse)
    try:
        assert reader.connected["marts"] == {}
        build = _dbt("build", env=env)
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        assert f"published {warehouse}" in build.stderr
        during = reader.ask("check")
        assert during["polls"] > 0 and during["errors"] == []
        assert reader.ask("snapshot")["marts"] == {}  # the old connection: the old snapshot
        reconnected = reader.ask("reconnect")
        assert set(MARTS) <= set(reconnected["marts"])
        assert reconnected["marts"]["fct_messages"] > 0
    finally:
        reader.close()
    assert not (tmp_path / "warehouse.duckdb.work" / "warehouse.duckdb").exists()  # published


def test_plain_dbt_build_that_fails_publishes_nothing(
    built_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("DROP TABLE raw.texter_chats")  # stg_texter__chats cannot be built
    con.close()
    before = warehouse.read_bytes()
    failed = _dbt("build", env=tool_env(tmp_path, warehouse))
    assert failed.returncode == 1, failed.stdout[-3000:]
    assert f"not published: {warehouse} is unchanged" in failed.stderr
    assert warehouse.read_bytes() == before
    assert not (tmp_path / "warehouse.duckdb.work" / "warehouse.duckdb").exists()  # discarded
