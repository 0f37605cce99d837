"""The dbt process that `load --build` starts before the load: real dbt, real child processes."""

from __future__ import annotations

from pathlib import Path

import pytest

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
