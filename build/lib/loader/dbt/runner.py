"""dbt in this process, through dbt's documented programmatic entry point (``dbtRunner``).

The profile's ``duckdb`` target writes through the working-copy plugin
(:mod:`loader.dbt.working_copy`): run inside a :func:`loader.warehouse.writer` of the same file,
dbt writes that writer's working copy, which the writer publishes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from loader.progress import DbtProgress

log = logging.getLogger(__name__)

# the dbt project of a source checkout (or an editable install): the checkout's root
CHECKOUT_PROJECT_DIR = Path(__file__).resolve().parents[2]
# the copy shipped inside an installed package (pyproject.toml: "loader.dbt.project")
INSTALLED_PROJECT_DIR = Path(__file__).resolve().parent / "project"


def project_dir() -> Path:
    """The dbt project: ``DBT_PROJECT_DIR`` when set (dbt's own variable), else the checkout's,
    else the copy installed with the package."""
    if os.environ.get("DBT_PROJECT_DIR"):
        return Path(os.environ["DBT_PROJECT_DIR"])
    if (CHECKOUT_PROJECT_DIR / "dbt_project.yml").is_file():
        return CHECKOUT_PROJECT_DIR
    return INSTALLED_PROJECT_DIR


def _output_dir(variable: str, name: str) -> Path:
    """Where dbt writes ``target/`` or ``logs/``: dbt's variable, else the project's folder, or the
    working directory for the installed copy (never inside the installed package)."""
    if os.environ.get(variable):
        return Path(os.environ[variable])
    project = project_dir()
    return (Path.cwd() if project == INSTALLED_PROJECT_DIR else project) / name


def target_dir() -> Path:
    """dbt's ``target/`` (artifacts such as ``run_results.json``)."""
    return _output_dir("DBT_TARGET_PATH", "target")


def profiles_dir() -> Path:
    """The folder of the ``profiles.yml`` dbt reads: ``DBT_PROFILES_DIR``, else the project's."""
    return Path(os.environ.get("DBT_PROFILES_DIR") or project_dir())


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Environment variables the profile reads, set for the block only."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def log_file() -> Path:
    """Where dbt writes its full log: ``DBT_LOG_PATH``, else the project's ``logs/``."""
    return _output_dir("DBT_LOG_PATH", "logs") / "dbt.log"


def run(args: Sequence[str], warehouse_path: Path, lake: str | None = None) -> int:
    """``dbt <args>`` on the project with ``WAREHOUSE_PATH=warehouse_path``; the exit code the
    ``dbt`` command would give: 0 success, 1 failed nodes, 2 an error before or around them.
    ``lake``: the raw lake the spark target's sources read (``LAKE_URL``).

    At the default verbosity dbt prints only its errors, under one progress line and a summary
    (:class:`loader.progress.DbtProgress`); with ``-v`` its own output; dbt's full log is in
    :func:`log_file` either way. No colour codes unless stdout is a terminal.
    """
    from dbt.cli.main import dbtRunner  # a slow import: only when dbt runs

    command, *rest = args
    full = [command, "--project-dir", str(project_dir()), "--profiles-dir", str(profiles_dir())]
    full += ["--target-path", str(target_dir()), "--log-path", str(log_file().parent)]
    if not sys.stdout.isatty():
        full.append("--no-use-colors")
    progress = DbtProgress()
    detailed = log.isEnabledFor(logging.DEBUG)
    if not detailed:
        full.append("--quiet")
    log.info("running dbt %s", " ".join([command, *rest]))
    lake_env = {"LAKE_URL": lake} if lake else {}
    with _environ(WAREHOUSE_PATH=str(warehouse_path), **lake_env):
        result = dbtRunner(callbacks=[] if detailed else [progress]).invoke([*full, *rest])
    if not detailed:
        log.info("%s; dbt's log: %s", progress.summary(), _shown(log_file()))
        for problem in progress.problems:
            log.warning("dbt: %s", problem)
    if result.success:
        return 0
    return 1 if result.exception is None else 2


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
