"""``python -m loader status``: fetched windows, loaded and failed files, rows, freshness."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from loader.config import Settings
from loader.schemas import DOCUMENT_TABLES, HATCH_DATASETS, HATCH_TABLES, LOAD_LOG_TABLE
from loader.warehouse import has_table


@dataclass
class DatasetStatus:
    """What ``status`` shows for one dataset (a Hatch data source or a document system)."""

    dataset: str
    system: str
    windows_fetched: int = 0
    windows_empty: int = 0
    fetched_through: str | None = None
    files_loaded: int = 0
    files_failed: list[dict[str, str]] = field(default_factory=list)
    files_with_warnings: list[dict[str, str]] = field(default_factory=list)
    rows: int = 0
    newest_updated_at: str | None = None
    last_loaded_at: str | None = None


# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = ("landing_url", "warehouse_path", "state_dir", "min_interval_s", "daily_cap")


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``status`` command."""
    parser = subparsers.add_parser(
        "status",
        parents=parents,
        help="per dataset: windows fetched, files loaded/failed, rows, newest updated_at",
        description=(
            "Reads the fetch log and the published warehouse (read-only; never waits for a "
            "writer). Also shows the next moment an export may be requested."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--forget-failed",
        nargs="*",
        metavar="FILE",
        help="stop listing the failures of these files (names, or paths/URLs as loaded; none: "
        "every failed file) that never loaded, e.g. a file loaded by path and since removed; "
        "a failed file still in the landing store is tried again by the next load anyway",
    )
    parser.set_defaults(func=run)


def _fill_fetch(settings: Settings, out: dict[str, DatasetStatus]) -> None:
    if not settings.state_db.exists():
        return
    from loader.fetch.fetch_log import FetchLog

    fetch_log = FetchLog(settings.state_db)
    for ds in HATCH_DATASETS:
        windows = fetch_log.windows(ds)
        out[ds].windows_fetched = sum(w.status == "fetched" for w in windows)
        out[ds].windows_empty = sum(w.status == "empty" for w in windows)
        ends = [w.end_date for w in windows]
        out[ds].fetched_through = str(max(ends)) if ends else None


# the newest attempt of each file (sha256); a failure is listed until the file, or a later file
# loaded from the same path or URL (the fixed one), loads, or it is forgotten (--forget-failed)
_FILES_SQL = """
WITH attempts AS (
    SELECT *, coalesce(file_url, file_name) AS location FROM {log} WHERE {not_forgotten}
), last AS (
    SELECT *, row_number() OVER (PARTITION BY file_sha256 ORDER BY finished_at DESC) AS n,
           bool_or(status = 'loaded') OVER (PARTITION BY file_sha256) AS ever_loaded,
           max(CASE WHEN status = 'loaded' THEN finished_at END)
               OVER (PARTITION BY location) AS location_loaded_at
    FROM attempts
)
SELECT dataset, system, ever_loaded, file_name, error, strftime(finished_at, '%Y-%m-%dT%H:%M:%SZ'),
       {warning}
FROM last
WHERE n = 1 AND (ever_loaded OR location_loaded_at IS NULL OR location_loaded_at < finished_at)
ORDER BY finished_at
"""


def _fill_loads(con: duckdb.DuckDBPyConnection, out: dict[str, DatasetStatus]) -> None:
    if not has_table(con, LOAD_LOG_TABLE):
        return
    described = con.execute(f"SELECT * FROM {LOAD_LOG_TABLE} LIMIT 0").description or ()
    have = {d[0] for d in described}  # older warehouses lack the later columns
    sql = _FILES_SQL.format(
        log=LOAD_LOG_TABLE,
        warning="warning" if "warning" in have else "NULL",
        not_forgotten="forgotten_at IS NULL" if "forgotten_at" in have else "true",
    )
    for dataset, system, loaded, name, error, at, note in con.execute(sql).fetchall():
        entry = out.setdefault(dataset, DatasetStatus(dataset, system))
        if loaded:
            entry.files_loaded += 1
            entry.last_loaded_at = at
            if note:
                entry.files_with_warnings.append({"file": name, "warning": note, "at": at})
        else:
            entry.files_failed.append({"file": name, "error": error or "", "at": at})


def _fill_rows(con: duckdb.DuckDBPyConnection, out: dict[str, DatasetStatus]) -> None:
    tables = {**HATCH_TABLES, **DOCUMENT_TABLES}
    for dataset, table in tables.items():
        if not has_table(con, table):
            continue
        newest = "max(updated_at)" if dataset in HATCH_TABLES else "NULL"
        rows, top = con.execute(
            f"SELECT count(*), strftime({newest}, '%Y-%m-%dT%H:%M:%SZ') FROM {table}"
        ).fetchone() or (0, None)
        out[dataset].rows, out[dataset].newest_updated_at = int(rows), top


def next_build(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What a ``loader build`` without dbt arguments runs now (:mod:`loader.dbt.build_state`)."""
    from loader.dbt import build_state
    from loader.dbt import runner as dbt_runner

    previous = build_state.last_recorded(con)
    now = build_state.current(con, dbt_runner.project_dir(), dbt_runner.profiles_dir())
    tables = build_state.changed_tables(previous, now)
    if tables is None:
        why = "no build recorded" if previous is None else "the project changed"
        return {"runs": "whole project", "reason": why, "raw_tables": []}
    runs = "what the new loads reach" if tables else "nothing"
    return {"runs": runs, "reason": "", "raw_tables": tables}


def _iso(epoch: float) -> str:
    """An epoch as ISO 8601 in UTC, to the second (``2026-12-07T04:20:00Z``)."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def collect(settings: Settings) -> dict[str, Any]:
    """Everything ``status`` shows, as plain data."""
    from loader import warehouse
    from loader.fetch.exports import spacing_with_margin
    from loader.fetch.rate_ledger import RateLedger, ledger_scope

    out = {ds: DatasetStatus(ds, "hatch") for ds in HATCH_DATASETS}
    out.update({s: DatasetStatus(s, s) for s in DOCUMENT_TABLES})
    _fill_fetch(settings, out)
    path = Path(settings.warehouse_path)
    build = None
    if path.exists():
        con = warehouse.connect_readonly(path)
        try:
            _fill_loads(con, out)
            _fill_rows(con, out)
            build = next_build(con)
        finally:
            con.close()
    next_at = None  # no export requested yet: one may go now
    if settings.state_db.exists():
        # the same spacing the fetch client reserves with, so "next export" is when it will go
        spacing = spacing_with_margin(settings)
        scope = ledger_scope(settings.api_url, settings.api_key)
        ledger = RateLedger(settings.state_db, spacing, max(settings.daily_cap, 1), scope)
        next_at = _iso(ledger.next_slot_at())
    return {
        "warehouse": str(path),
        "warehouse_exists": path.exists(),
        "next_export_at": next_at,
        "next_build": build,
        "datasets": [asdict(d) for d in out.values()],
    }


def render(status: dict[str, Any]) -> str:
    """Human-readable text."""
    lines = [
        f"warehouse: {status['warehouse']}" + ("" if status["warehouse_exists"] else " (none yet)")
    ]
    for d in status["datasets"]:
        fetched = ""
        if d["system"] == "hatch":
            fetched = (
                f"windows fetched {d['windows_fetched']} (+{d['windows_empty']} empty)"
                f"{', through ' + d['fetched_through'] if d['fetched_through'] else ''}; "
            )
        newest = f"; newest updated_at {d['newest_updated_at']}" if d["newest_updated_at"] else ""
        lines.append(
            f"{d['dataset']}: {fetched}files loaded {d['files_loaded']}, "
            f"failed {len(d['files_failed'])}; rows {d['rows']:,}{newest}"
        )
        lines += [f"  FAILED {f['file']} ({f['at']}): {f['error']}" for f in d["files_failed"]]
        lines += [
            f"  WARNING {f['file']} ({f['at']}): {f['warning']}" for f in d["files_with_warnings"]
        ]
    next_at = status["next_export_at"]
    when = "now (no export requested yet)" if next_at is None else next_at.replace("T", " ")
    lines.append(f"next export may be requested at: {when}")
    build = status.get("next_build")
    if build:
        detail = build["reason"] or ", ".join(f"raw.{t}" for t in build["raw_tables"])
        lines.append(f"next build runs: {build['runs']}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the status (exit 0; failures are shown, not signalled)."""
    if args.forget_failed is not None:
        from loader.load.run import forget_failed

        forgotten = forget_failed(settings, args.forget_failed)
        lines = [f"forgot the failures of {len(forgotten)} file(s)", *forgotten]
        print("\n  ".join(lines), file=sys.stderr if args.json else sys.stdout)
    status = collect(settings)
    print(json.dumps(status, indent=2) if args.json else render(status))
    return 0
