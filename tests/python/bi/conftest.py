"""Shared fixtures for the BI-access tests (issue #6).

One session pipeline: ``generate`` sample exports, ``load`` them, then ``build`` (dbt) while another
process holds a read-only connection to the warehouse. Every test reads the built warehouse or a
copy of it; nothing touches the repository's own ``target/``, ``logs/`` or ``warehouse.duckdb``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bi_support import (
    READONLY_TARGET,
    REPO,
    SAMPLE_MESSAGES,
    BuildUnderReader,
    Reader,
    find_chromium,
    has_readonly_target,
    loader,
    run,
    tool_env,
)


@pytest.fixture(scope="session")
def bi_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session directory for landing files, state, warehouses and dbt output."""
    return tmp_path_factory.mktemp("bi")


@pytest.fixture(scope="session")
def loaded_warehouse(bi_base: Path) -> Path:
    """Sample exports generated into a landing folder and loaded (raw tables, no marts)."""
    warehouse = bi_base / "loaded.duckdb"
    env = tool_env(bi_base, warehouse)
    loader("generate", "--messages", str(SAMPLE_MESSAGES), env=env)
    loader("load", env=env)
    assert warehouse.is_file()
    return warehouse


@pytest.fixture(scope="session")
def build_under_reader(bi_base: Path, loaded_warehouse: Path) -> Iterator[BuildUnderReader]:
    """Copy the loaded warehouse, hold it read-only in another process, run ``build`` on it."""
    warehouse = bi_base / "warehouse.duckdb"
    shutil.copyfile(loaded_warehouse, warehouse)
    env = tool_env(bi_base, warehouse)
    reader = Reader(warehouse)
    try:
        before = reader.connected
        build = loader("build", env=env, check=False)
        during = reader.ask("check")
        old_after = reader.ask("snapshot")
        reconnected = reader.ask("reconnect")
    finally:
        reader.close()
    yield BuildUnderReader(warehouse, build, before, during, old_after, reconnected, env)


@pytest.fixture(scope="session")
def built_warehouse(build_under_reader: BuildUnderReader) -> Path:
    """The published warehouse after a successful build (treat as read-only; copy to change)."""
    result = build_under_reader.build
    if result.returncode != 0:
        pytest.fail(
            f"python -m loader build exited {result.returncode}\n{result.stdout[-3000:]}"
            f"\n{result.stderr[-3000:]}"
        )
    return build_under_reader.warehouse


@pytest.fixture(scope="session")
def chromium() -> str:
    """A headless-capable Chromium; installed by scripts/install-chromium.sh when missing."""
    found = find_chromium()
    if found:
        return found
    script = REPO / "scripts" / "install-chromium.sh"
    proc = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=900, check=False
    )
    found = find_chromium()
    if not found:
        pytest.skip(
            "Chromium is not installed and scripts/install-chromium.sh could not install it: "
            + (proc.stderr.strip().splitlines() or ["no output"])[-1]
        )
    return found


@pytest.fixture(scope="session")
def dbt_sandbox(bi_base: Path, built_warehouse: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A project directory of symlinks to the repository with its own ``target/`` and a copy
    of the built warehouse (``mf`` reads ``{project}/target/semantic_manifest.json`` whatever
    DBT_TARGET_PATH says). With a ``readonly`` profile target, dbt and mf use it while another
    process holds the warehouse read-only, as a BI tool would."""
    project = bi_base / "dbt-project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests"):
        if (REPO / name).exists():
            (project / name).symlink_to(REPO / name)
    warehouse = project / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, warehouse)
    env = tool_env(
        project,
        warehouse,
        DBT_PROJECT_DIR=str(project),
        DBT_PROFILES_DIR=str(project),
        DBT_TARGET_PATH=str(project / "target"),
        DBT_LOG_PATH=str(project / "logs"),
    )
    if not has_readonly_target():
        yield project, env
        return
    env["DBT_TARGET"] = READONLY_TARGET
    reader = Reader(warehouse)
    try:
        yield project, env
    finally:
        reader.close()


@pytest.fixture(scope="session")
def docs_target(dbt_sandbox: tuple[Path, dict[str, str]]) -> Path:
    """``dbt docs generate`` output (index.html, manifest.json, catalog.json)."""
    project, env = dbt_sandbox
    dbt = str(Path(sys.executable).with_name("dbt"))
    run([dbt, "docs", "generate", "--quiet"], env, cwd=project)
    target = project / "target"
    for name in ("index.html", "manifest.json", "catalog.json", "semantic_manifest.json"):
        assert (target / name).is_file(), name
    return target
