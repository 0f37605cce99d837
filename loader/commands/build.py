"""``python -m loader build [dbt args...]``: ``dbt build`` on a working copy of the warehouse.

dbt runs against the working file that :func:`loader.warehouse.writer` yields (``WAREHOUSE_PATH``
is pointed at it), so readers keep the published file until the build succeeds; a failed build
publishes nothing. Arguments after ``build`` go to dbt unchanged (``--full-refresh``,
``--select ...``).

Without dbt arguments the build follows the new loads (:mod:`loader.build_state`): the whole
project when the project changed since the last recorded build, else only what the raw tables
that got new loads reach, else nothing. ``--all`` builds the whole project regardless.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

from loader import build_state
from loader.config import Settings
from loader.errors import LoaderError, is_disk_full

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2]


class BuildFailedError(LoaderError):
    """dbt build failed (exit 5); the published warehouse is unchanged."""


class _PassThroughParser(argparse.ArgumentParser):
    """Keeps the arguments it does not know, in order, as ``dbt_args`` (never an error)."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        ns, extras = super().parse_known_args(args, namespace)
        ns.dbt_args = [a for a in extras if a != "--"]
        return ns, []


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``build`` command."""
    parser = subparsers.add_parser(
        "build",
        parents=parents,
        help="run dbt build on the warehouse (atomic publish on success)",
        description=(
            "Run `dbt build` (seeds, models, tests) on a working copy of the warehouse and "
            "publish it atomically when dbt succeeds. Extra arguments go to dbt, e.g. "
            "`build --full-refresh` or `build --select fct_messages+`."
        ),
        allow_abbrev=False,  # dbt's --state must not be read as --state-dir
        epilog="Any other argument is passed to `dbt build` unchanged.",
    )
    parser.add_argument(
        "--unit-tests",
        action="store_true",
        help="also run dbt's unit tests (left out by default: they test the SQL, not the data)",
    )
    parser.add_argument(
        "--all",
        dest="whole_project",
        action="store_true",
        help="build and test the whole project, not only what the new loads reach",
    )
    parser.__class__ = _PassThroughParser
    parser.set_defaults(func=run, dbt_args=[])


def dbt_executable() -> str:
    """The ``dbt`` next to the running Python (the project's virtualenv), else ``dbt`` on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


# Modules a `dbt build` on DuckDB imports after its command line is read.
_DBT_BUILD_MODULES = (
    "dbt.task.build",
    "dbt.parser.manifest",
    "dbt.adapters.duckdb",
    "dbt.adapters.duckdb.impl",
    "dbt_common.clients.agate_helper",
)

# The child's garbage-collection thresholds (Python's default: 700, 10, 10).
_GC_THRESHOLDS = (50_000, 20, 20)

# The child of :class:`DbtAhead`: imports dbt, then waits for one request on stdin, a JSON line
# ``{"args": [...], "env": {...}, "record": {"project": ..., "tables": {...}} | null}`` (an empty
# line or EOF: exit without running). Without ``record`` it runs dbt's own CLI entry point, so its
# exit codes and output are the `dbt` command's. With ``record`` it runs ``dbtRunner`` (exit codes
# as the CLI's: 0, 1 for failed nodes, 2 for errors) and records a successful build
# (loader.build_state) through a connection that joined dbt's database while dbt had it open: the
# record is then written by the close that checkpoints the build, where recording it afterwards
# opened the file again and checkpointed it once more (0.3 to 0.7 s at 5M messages).
_DBT_AHEAD = """
import contextlib, gc, importlib, json, os, sys
from dbt.cli.main import cli, dbtRunner
# what `dbt build` imports later on, while the load still runs (about 0.4 s here)
for name in _MODULES:
    with contextlib.suppress(ImportError):
        importlib.import_module(name)
# the imported modules live as long as the process: keep the collector off them, and collect
# less often (dbt allocates many short-lived objects per node; the collections cost about 1 s of a
# 5M incremental build, on the thread that holds the GIL)
gc.freeze()
gc.set_threshold(*_GC_THRESHOLDS)
line = sys.stdin.readline()
if not line.strip():
    sys.exit(0)
request = json.loads(line)
os.environ.update(request["env"])
record = request.get("record")
if record is None:
    sys.argv = ["dbt", *request["args"]]
    cli()
keeper = []


def join_database(event):
    # the first query: dbt's database is open. A plain connection to the same file shares it
    # (DuckDB's instance cache), unless dbt opens it with options of its own (config_options,
    # plugins): then dbt's own reopening would clash with it, so it is left alone
    if not keeper and event.info.name == "SQLQuery":
        keeper.append(None)
        with contextlib.suppress(Exception):
            import duckdb
            from dbt.adapters.factory import FACTORY
            creds = next(iter(FACTORY.adapters.values())).config.credentials
            if not creds.config_options and not creds.plugins:
                keeper[0] = duckdb.connect(os.environ["WAREHOUSE_PATH"])


result = dbtRunner(callbacks=[join_database]).invoke(request["args"])
code = 0 if result.success else 1 if result.exception is None else 2
con = keeper[0] if keeper else None
if code == 0:
    import duckdb
    from loader import build_state
    if con is None:  # dbt's options of its own: close dbt's database, then open it again
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
        from dbt.adapters.factory import reset_adapters
        reset_adapters()
        DuckDBConnectionManager.close_all_connections()
        con = duckdb.connect(os.environ["WAREHOUSE_PATH"])
    try:
        build_state.record(con, build_state.Fingerprint(record["project"], record["tables"]))
    except Exception as exc:
        print(f"recording the build failed: {exc}", file=sys.stderr)
        code = 2
    finally:
        con.close()
elif con is not None:
    con.close()
sys.exit(code)
"""


_PR_SET_PDEATHSIG = 1  # prctl(2) option: the signal a child gets when its parent dies


def _die_with_parent() -> None:
    """Run in a child before exec: on Linux, the kernel kills it when the loader dies (even by
    ``kill -9``), so dbt never keeps writing without the writer lock. Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class DbtAhead:
    """A dbt process started before the work it builds is ready (``load --build``, ``build``):
    importing dbt takes about 2 s, which then runs beside the load, or the preparation of the
    working copy, instead of after it."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"_MODULES = {_DBT_BUILD_MODULES!r}\n_GC_THRESHOLDS = {_GC_THRESHOLDS!r}\n"
                f"{_DBT_AHEAD}",
            ],
            stdin=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )

    def run(
        self,
        args: Sequence[str],
        env: dict[str, str],
        record: build_state.Fingerprint | None = None,
    ) -> int:
        """Run ``dbt <args>`` with ``env`` added to the environment; dbt's exit code. With
        ``record``, a successful run is recorded in the warehouse (``WAREHOUSE_PATH`` of ``env``)
        by the dbt process, which exits non-zero when it cannot record."""
        proc, self._proc = self._proc, None
        if proc is None:
            raise RuntimeError("this dbt process has already run")
        assert proc.stdin is not None
        fingerprint = None if record is None else vars(record)
        try:
            proc.stdin.write(json.dumps({"args": list(args), "env": env, "record": fingerprint}))
            proc.stdin.write("\n")
            proc.stdin.close()
        except BrokenPipeError:  # it died while importing: its exit code says so
            pass
        return proc.wait()

    def close(self) -> None:
        """End the process when it was not used: it has run nothing, so it is terminated rather
        than left to finish importing dbt (about 2 s) and exit on EOF."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def dbt_ahead() -> Iterator[DbtAhead | None]:
    """A :class:`DbtAhead` for the block, closed at its end; None when dbt is not importable by
    this Python (dbt then runs as the ``dbt`` command)."""
    if importlib.util.find_spec("dbt") is None:
        yield None
        return
    ahead = DbtAhead()
    try:
        yield ahead
    finally:
        ahead.close()


def run_dbt_build(
    work_path: Path,
    dbt_args: Sequence[str] = (),
    unit_tests: bool = False,
    ahead: DbtAhead | None = None,
    record: build_state.Fingerprint | None = None,
) -> int:
    """Run ``dbt build`` with ``WAREHOUSE_PATH=work_path`` (in ``ahead`` when given); dbt's exit
    code. ``record`` (only with ``ahead``): recorded by dbt's process after a successful build."""
    env = {"WAREHOUSE_PATH": str(work_path), "DBT_PROFILES_DIR": str(profiles_dir())}
    if not unit_tests and "DBT_EXCLUDE_RESOURCE_TYPES" not in os.environ:
        env["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
    args = ["build", "--project-dir", str(PROJECT_DIR), *dbt_args]
    log.info("running dbt %s", " ".join(args))
    if ahead is not None:
        return ahead.run(args, env, record)
    cmd = [dbt_executable(), *args]
    return subprocess.run(
        cmd, env={**os.environ, **env}, check=False, preexec_fn=_die_with_parent
    ).returncode


def profiles_dir() -> Path:
    """The directory of the profiles.yml dbt reads."""
    return Path(os.environ.get("DBT_PROFILES_DIR", PROJECT_DIR))


def plan(
    work_path: Path, dbt_args: Sequence[str], unit_tests: bool, whole_project: bool
) -> tuple[build_state.Fingerprint | None, list[str] | None]:
    """What to record after a successful build (None: this build is not of the whole project)
    and the ``--select`` values (None: no selection; empty: nothing to build)."""
    if list(dbt_args) not in ([], ["--full-refresh"]):
        return None, None
    con = duckdb.connect(str(work_path))
    try:
        now = build_state.current(con, PROJECT_DIR, profiles_dir())
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
    ahead: DbtAhead | None = None,
) -> None:
    """``dbt build`` on the writer's file ``work_path`` (only what new loads reach, when no dbt
    arguments are given; in ``ahead`` when given); raise when dbt fails."""
    work_path = Path(work_path)
    fingerprint, select = plan(work_path, dbt_args, unit_tests, whole_project)
    if select == []:
        log.info("build: no new loads and no project change since the last build; dbt not run")
        return
    if select is not None:
        log.info("build: only what the new loads reach: %s", " ".join(select))
        dbt_args = [*dbt_args, "--select", *select]
    started = time.time()
    code = run_dbt_build(work_path, dbt_args, unit_tests, ahead, fingerprint if ahead else None)
    if code == 0 and fingerprint is not None and ahead is None:
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
    path = Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target")) / "run_results.json"
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
    """Build the warehouse through :func:`loader.warehouse.writer`; raise when dbt fails. dbt is
    imported (:func:`dbt_ahead`) while the working copy is prepared and the build planned."""
    from loader import warehouse

    with (
        dbt_ahead() as ahead,
        warehouse.writer(settings.warehouse_path, settings.warehouse_publish) as work_path,
    ):
        build_work_file(settings, Path(work_path), dbt_args, unit_tests, whole_project, ahead)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build and report."""
    build(settings, args.dbt_args, args.unit_tests, args.whole_project)
    print(f"build: ok, published {settings.warehouse_path}")
    return 0
