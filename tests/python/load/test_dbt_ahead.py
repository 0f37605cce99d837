"""The dbt process that `load --build` starts before the load: real dbt, real child processes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from loader import build_state
from loader.commands.build import DbtAhead, dbt_ahead

pytestmark = pytest.mark.dbt


def test_runs_dbt_with_the_environment_it_is_given(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with dbt_ahead() as ahead:
        assert ahead is not None
        code = ahead.run(["debug", "--config-dir"], {"DBT_PROFILES_DIR": str(tmp_path)})
    assert code == 0
    assert str(tmp_path) in capfd.readouterr().out  # the environment reached dbt's CLI


def test_returns_dbt_exit_code_and_runs_once() -> None:
    ahead = DbtAhead()
    try:
        assert ahead.run(["no-such-command"], {}) == 2  # click's usage error, as from `dbt`
        with pytest.raises(RuntimeError):
            ahead.run(["--version"], {})
    finally:
        ahead.close()


def test_unused_process_exits_without_running_dbt(capfd: pytest.CaptureFixture[str]) -> None:
    with dbt_ahead() as ahead:
        assert ahead is not None
        proc = ahead._proc
    assert proc is not None and proc.returncode is not None  # ended and reaped at the block's end
    assert "Running with dbt" not in capfd.readouterr().out


def _tiny_project(root: Path, model_sql: str, profile_extra: str = "") -> dict[str, str]:
    """A one-model dbt project on DuckDB under ``root``; the environment that builds it."""
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: tiny\nversion: '1.0'\nprofile: tiny\nconfig-version: 2\n"
    )
    (root / "profiles.yml").write_text(
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('WAREHOUSE_PATH') }}\"\n      threads: 2\n" + profile_extra
    )
    (root / "models" / "one.sql").write_text(model_sql)
    return {
        "WAREHOUSE_PATH": str(root / "wh.duckdb"),
        "DBT_PROFILES_DIR": str(root),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
    }


def _recorded(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        if not build_state.last_recorded(con):
            return []
        return con.sql(
            f"select project_digest, tables from {build_state.BUILD_STATE_TABLE}"
        ).fetchall()


def test_records_a_successful_build_in_the_same_database(tmp_path: Path) -> None:
    """With ``record``, dbt's process writes the build record once dbt succeeded, and the file
    is left closed and whole (no WAL) with the model and the record in it."""
    env = _tiny_project(tmp_path, "select 42 as answer")
    fingerprint = build_state.Fingerprint("digest-1", {"hatch_conversation_items": "3|x"})
    ahead = DbtAhead()
    code = ahead.run(["build", "--project-dir", str(tmp_path)], env, record=fingerprint)
    assert code == 0
    wh = Path(env["WAREHOUSE_PATH"])
    assert not wh.with_name(wh.name + ".wal").exists()
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.sql("select answer from one").fetchone() == (42,)
        assert build_state.last_recorded(con) == fingerprint


def test_records_when_dbt_opens_the_file_with_options_of_its_own(tmp_path: Path) -> None:
    """A profile with DuckDB config options: the child's plain connection cannot share dbt's
    database, so the record is written through a connection opened after dbt's is closed."""
    env = _tiny_project(
        tmp_path, "select 1 as answer", "      config_options:\n        memory_limit: 1GB\n"
    )
    fingerprint = build_state.Fingerprint("digest-2", {})
    code = DbtAhead().run(["build", "--project-dir", str(tmp_path)], env, record=fingerprint)
    assert code == 0
    with duckdb.connect(str(env["WAREHOUSE_PATH"]), read_only=True) as con:
        assert build_state.last_recorded(con) == fingerprint


def test_records_nothing_when_the_build_fails(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A failed node: exit code 1, as from `dbt`, dbt's error on the output, and no record."""
    env = _tiny_project(
        tmp_path, "{{ config(materialized='table') }} select error('the model fails') as answer"
    )
    ahead = DbtAhead()
    code = ahead.run(
        ["build", "--project-dir", str(tmp_path)],
        env,
        record=build_state.Fingerprint("digest-1", {}),
    )
    assert code == 1
    assert "the model fails" in capfd.readouterr().out
    assert _recorded(Path(env["WAREHOUSE_PATH"])) == []


def test_a_dbt_error_with_record_exits_2(tmp_path: Path) -> None:
    """An error outside the nodes (here: no profile) is exit code 2, as from `dbt`."""
    env = _tiny_project(tmp_path, "select 1 as answer")
    (tmp_path / "profiles.yml").unlink()
    ahead = DbtAhead()
    code = ahead.run(
        ["build", "--project-dir", str(tmp_path)], env, record=build_state.Fingerprint("d", {})
    )
    assert code == 2
    assert not Path(env["WAREHOUSE_PATH"]).exists() or _recorded(Path(env["WAREHOUSE_PATH"])) == []
