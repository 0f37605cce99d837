"""No lock-outs: builds and loads succeed while a BI tool holds the warehouse read-only."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
