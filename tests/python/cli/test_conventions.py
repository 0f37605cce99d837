"""The CLI as users of well-kept Python CLIs expect it: --version, global -v/-q, help per command,
the console script's own name, machine-readable status."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(sys.executable).with_name("hatch-loader")


def _run(*args: str, program: list[str] | None = None, **kw) -> subprocess.CompletedProcess[str]:
    cmd = [*(program or [sys.executable, "-m", "loader"]), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=kw.pop("cwd", ROOT), **kw)


def test_version() -> None:
    done = _run("--version")
    assert done.returncode == 0
    assert re.fullmatch(r"python -m loader \d+\.\d+\.\d+\n", done.stdout)


@pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed here")
def test_console_script_names_itself() -> None:
    done = _run("load", "--help", program=[str(SCRIPT)])
    assert done.returncode == 0
    assert done.stdout.startswith("usage: hatch-loader load")


@pytest.mark.parametrize(
    ("command", "absent"),
    [("load", "--api-key"), ("report", "--api-url"), ("build", "--landing-url")],
)
def test_each_command_lists_only_its_own_flags(command: str, absent: str) -> None:
    done = _run(command, "--help")
    assert done.returncode == 0
    assert absent not in done.stdout
    assert "--warehouse" in done.stdout or command == "fetch"


def test_global_flags_before_the_command(tmp_path: Path) -> None:
    args = ["status", "--warehouse", str(tmp_path / "w.duckdb"), "--state-dir", str(tmp_path)]
    assert _run("-q", *args).returncode == 0
    assert _run("-v", *args).returncode == 0
    assert _run(*args, "-v").returncode == 0
    assert _run("-v", "-q", *args).returncode == 2  # one or the other


def test_status_json_is_iso_or_null(tmp_path: Path) -> None:
    done = _run(
        "status", "--json", "--warehouse", str(tmp_path / "w.duckdb"), "--state-dir", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["next_export_at"] is None  # nothing requested yet: not prose
    text = _run("status", "--warehouse", str(tmp_path / "w.duckdb"), "--state-dir", str(tmp_path))
    assert "next export may be requested at: now" in text.stdout
