"""``dbt build`` of the warehouse inside a :func:`loader.warehouse.writer`: dbt writes the writer's
working copy (the profile's working-copy plugin), and the writer publishes it when dbt succeeds; a
failed build publishes nothing.

Without dbt arguments the build follows the new loads (:mod:`loader.dbt.build_state`): the whole
project when the project changed since the last recorded build, else only what the raw tables
that got new loads reach, else nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

from loader import warehouse
from loader.config import Settings
from loader.dbt import build_state
from loader.dbt import runner as dbt_runner
from loader.errors import LoaderError, is_disk_full

log = logging.getLogger(__name__)


class BuildFailedError(LoaderError):
    """dbt build failed (exit 5); the published warehouse is unchanged."""


def run_dbt_build(
    settings: Settings, dbt_args: Sequence[str] = (), unit_tests: bool = False
) -> int:
    """``dbt build`` of the warehouse in ``settings`` (inside a writer of it: its working copy);
    dbt's exit code. dbt's unit tests are left out unless asked for (they test SQL, not data)."""
    exclude = [] if unit_tests else ["--exclude-resource-type", "unit_test"]
    return dbt_runner.run(["build", *exclude, *dbt_args], settings.warehouse_path, settings.lake)


def _spark_build(settings: Settings, dbt_args: Sequence[str], unit_tests: bool) -> None:
    """``dbt build`` of the whole project on Spark (over the lake); raise when dbt fails."""
    code = run_dbt_build(settings, dbt_args, unit_tests)
    if code != 0:
        raise BuildFailedError(
            f"dbt build failed on Spark (exit {code}); see {dbt_runner.log_file()}"
        )


def plan(
    work_path: Path, dbt_args: Sequence[str], unit_tests: bool, whole_project: bool
) -> tuple[build_state.Fingerprint | None, list[str] | None]:
    """What to record after a successful build (None: this build is not of the whole project)
    and the ``--select`` values (None: no selection; empty: nothing to build)."""
    if list(dbt_args) not in ([], ["--full-refresh"]):
        return None, None
    con = duckdb.connect(str(work_path))
    try:
        now = build_state.current(con, dbt_runner.project_dir(), dbt_runner.profiles_dir())
        if dbt_args or unit_tests or whole_project:
            return now, None
        return now, build_state.selection(build_state.last_recorded(con), now)
    finally:
        con.close()


def build_work_file(
    settings: Settings,
    work_path: Path,
    dbt_args: Sequence[str] = (),
    unit_tests: bool = False,
    whole_project: bool = False,
) -> None:
    """``dbt build`` on the writer's file ``work_path`` (only what new loads reach, when no dbt
    arguments are given); raise when dbt fails."""
    if settings.on_spark:  # the load wrote the lake; Spark's tables are its own
        _spark_build(settings, dbt_args, unit_tests)
        return
    work_path = Path(work_path)
    fingerprint, select = plan(work_path, dbt_args, unit_tests, whole_project)
    if select == []:
        log.info("build: no new loads and no project change since the last build; dbt not run")
        return
    if select is not None:
        log.info("build: only what the new loads reach: %s", " ".join(select))
        dbt_args = [*dbt_args, "--select", *select]
    started = time.time()
    code = run_dbt_build(settings, dbt_args, unit_tests)
    if code == 0 and fingerprint is not None:
        con = duckdb.connect(str(work_path))
        try:
            build_state.record(con, fingerprint)
        finally:
            con.close()
    if code != 0:
        disk_full = _disk_full_message(started)
        if disk_full:  # warehouse.writer turns it into DiskFullError (exit 7)
            raise BuildFailedError(f"dbt build failed: {disk_full}")
        kept = (
            "models built before the failure stay in it (WAREHOUSE_PUBLISH=in-place)"
            if settings.warehouse_publish == "in-place"
            else "it is unchanged"
        )
        raise BuildFailedError(f"dbt build failed (exit {code}); {settings.warehouse_path}: {kept}")


def _disk_full_message(since: float) -> str | None:
    """The first node message of dbt's run (started at ``since``) that says a device is full,
    from dbt's documented ``run_results.json`` artifact; else None."""
    path = dbt_runner.target_dir() / "run_results.json"
    try:
        if path.stat().st_mtime < since:  # written by an earlier run
            return None
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    messages = (r.get("message") or "" for r in results.get("results", []))
    return next((m for m in messages if is_disk_full(OSError(m))), None)


def build(
    settings: Settings,
    dbt_args: Sequence[str] = (),
    unit_tests: bool = False,
    whole_project: bool = False,
) -> None:
    """Build the warehouse through :func:`loader.warehouse.writer` (on Spark: Spark's tables);
    raise when dbt fails."""
    if settings.on_spark:
        _spark_build(settings, dbt_args, unit_tests)
        return
    with warehouse.writer(settings.warehouse_path, settings.warehouse_publish) as work_path:
        build_work_file(settings, Path(work_path), dbt_args, unit_tests, whole_project)
