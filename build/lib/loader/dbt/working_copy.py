"""dbt-duckdb plugin: a plain ``dbt build`` writes a working copy of the warehouse and publishes it.

BI tools hold ``WAREHOUSE_PATH`` open read-only, and DuckDB lets a process write a file only when no
other process has it open. So dbt never opens the published file: the profile's ``duckdb`` target
lists this plugin, which takes the loader's writer lock (:func:`loader.warehouse.writer`, the same
lock, copy and atomic publish as ``python -m loader load``) and points dbt at the working copy. The
project's ``on-run-end`` hook (macro ``record_run_outcome``) records in that copy whether the run
succeeded; when the dbt process ends, a successful run's copy replaces the published file, and any
other is discarded. Readers see the new marts after reconnecting.

Inside the loader (``python -m loader build``, ``load --build``), which already holds the writer
for the same file, dbt simply writes the loader's working copy and the loader publishes it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from loader import warehouse
from loader.config import load_settings
from loader.errors import LoaderError

log = logging.getLogger(__name__)

# written by the on-run-end hook (macro record_run_outcome): did the dbt command succeed
OUTCOME_TABLE = "loader.dbt_run_outcome"


class RunNotPublished(Exception):
    """The dbt run did not record success: its working copy is discarded."""


class _Session:
    """One dbt process's hold on the warehouse: the writer lock and the working copy, from the
    first connection until the process ends."""

    def __init__(self, published: Path, publish_mode: str) -> None:
        self.published = published
        self.started_at = datetime.now(timezone.utc)
        self._stack = contextlib.ExitStack()
        self.work = self._stack.enter_context(warehouse.writer(published, publish_mode))

    def succeeded(self) -> bool:
        """Whether this session's run recorded success in the working copy."""
        con = duckdb.connect(str(self.work))
        try:
            if not warehouse.has_table(con, OUTCOME_TABLE):
                return False
            row = con.execute(
                f"SELECT bool_and(succeeded) FROM {OUTCOME_TABLE} WHERE finished_at >= ?",
                [self.started_at],
            ).fetchone()
        finally:
            con.close()
        return bool(row and row[0])

    def finish(self) -> None:
        """Publish the working copy when the run succeeded, else discard it; release the lock."""
        try:
            ok = self.succeeded()
        except duckdb.Error as exc:
            log.error("cannot read the outcome of the dbt run: %s", exc)
            ok = False
        try:
            if ok:
                self._stack.close()
                print(f"published {self.published}", file=sys.stderr)
            else:
                self._stack.__exit__(RunNotPublished, RunNotPublished(), None)
                print(f"not published: {self.published} is unchanged", file=sys.stderr)
        except LoaderError as exc:
            print(f"error: {exc}", file=sys.stderr)


class Plugin(BasePlugin):
    """Points dbt at a working copy of the profile's ``path`` (see the module's docstring)."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        if self.creds is None or self.creds.path in ("", ":memory:"):
            return
        published = warehouse.resolve(self.creds.path)
        work = warehouse.held_work_path(published)
        if work is None:  # a plain dbt command: hold the warehouse until the process ends
            session = _Session(published, load_settings().warehouse_publish)
            atexit.register(session.finish)
            work = session.work
        self.creds.path = str(work)
