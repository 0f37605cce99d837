"""Every command the README shows runs as written, after the demo, in a copy of the project.

Commands are read from the README's ``sh`` blocks and from inline code that starts with a command
(`python -m loader ...`, `python -c ...`, `dbt ...`, `make ...`). A few cannot run here, each for
a stated reason (``NOT_RUN``); a command that is neither run nor excused fails the test, so a new
README command is run from the day it is written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent

# command (or its start) -> why it does not run here
NOT_RUN = {
    "make demo": "it is this test's set-up (as `python -m loader demo`)",
    "make test": "this test is part of it",
    "make bench": "minutes to hours; tests/python/bench runs a small bench",
    "make serve-docs": "a server that runs until stopped; `make docs` builds the same site",
    "make install && . .venv/bin/activate": "this test runs inside that environment",
    "python -m loader fetch": "needs Hatch's API and a key (the demo fetches from its own server)",
    "python -m loader sync --build": "needs Hatch's API and a key",
    "python -m loader load PATH_OR_URL": "a placeholder for the user's files",
    "python -m loader load --system huechat F": "a placeholder for the user's file",
    "dbt build": "run as `python -m loader build` here (the same plugin and working copy)",
    'pip install -e ".[spark]"': "make test has installed the spark extra into this environment",
}
COMMAND = re.compile(r"^(python -m loader \S|python -c |dbt \S|make \S|hatch-loader \S)")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                found.append(line)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    found += [c.strip() for c in re.findall(r"`([^`\n]+)`", prose) if COMMAND.match(c.strip())]
    return list(dict.fromkeys(found))


def _excused(command: str) -> bool:
    return any(command == k or command.startswith(k + " ") for k in NOT_RUN)


@pytest.fixture(scope="module")
def demo_copy(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str], subprocess.CompletedProcess[str]]:
    """A copy of the project (its tracked files, the environment linked) after `make demo`."""
    copy = tmp_path_factory.mktemp("readme") / "project"
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    (copy / ".venv").symlink_to(VENV_BIN.parent)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    for var in (
        "WAREHOUSE_PATH",
        "LANDING_URL",
        "LOADER_STATE_DIR",
        "DBT_TARGET",
        "DBT_PROJECT_DIR",
        "DBT_PROFILES_DIR",
        "DBT_TARGET_PATH",
    ):
        env.pop(var, None)
    env["PYTHONPATH"] = str(copy)  # the copy's loader, as an installed checkout would have it
    demo = subprocess.run(
        [sys.executable, "-m", "loader", "demo"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    return copy, env, demo


def test_demo_output_is_plain_text_with_a_dbt_summary(demo_copy) -> None:
    """Not on a terminal: no colour codes, dbt's node lines replaced by a summary, its log kept."""
    copy, _, demo = demo_copy
    output = demo.stdout + demo.stderr
    assert "\x1b[" not in output
    assert re.search(r"dbt: \d+ passed, 2 warning\(s\), 0 error\(s\), 0 skipped", output)
    assert "dbt's log: logs/dbt.log" in output
    assert "OK created sql" not in output  # dbt's per-node lines stay in its log
    assert "OK created sql" in (copy / "logs" / "dbt.log").read_text()


def test_every_readme_command_is_run_or_excused() -> None:
    commands = readme_commands()
    assert "python -m loader status" in commands and "make demo" in commands
    unused = [k for k in NOT_RUN if not any(c == k or c.startswith(k + " ") for c in commands)]
    assert unused == [], f"NOT_RUN names commands the README no longer shows: {unused}"


@pytest.mark.parametrize("command", [c for c in readme_commands() if not _excused(c)])
def test_readme_command_runs(demo_copy: tuple[Path, dict[str, str]], command: str) -> None:
    copy, env, _ = demo_copy
    done = subprocess.run(
        ["bash", "-c", command], cwd=copy, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
