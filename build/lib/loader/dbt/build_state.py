"""What the last whole-project build saw, so that the next build runs only what new loads reach.

After a successful ``dbt build`` of the whole project, the loader records in the warehouse it
publishes (table ``loader.build_state``, in the same working copy, so the record and the models it
describes are published together) a fingerprint of the dbt project and one of each raw table: its
row count and newest ``_loaded_at``. A later build without dbt arguments compares:

- the project changed (any file dbt reads, the dbt versions, the target), or nothing was recorded:
  the whole project is built (incrementally, as always);
- otherwise only the raw tables whose fingerprint changed are followed: ``--select
  source:*.<table>+`` for each; the models, seeds and tests that no new load reaches are neither
  rebuilt nor re-tested, since their inputs and code are those of the recorded, passing build;
- nothing changed: dbt does not run.

Loads are serialised with builds (the writer lock), and every load appends rows with a new
``_loaded_at`` (a replaced file's rows too), so a table whose rows changed always has a new
fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

from loader.schemas import LOADER_SCHEMA, RAW_SCHEMA
from loader.warehouse import has_table

BUILD_STATE_TABLE = f"{LOADER_SCHEMA}.build_state"

# what dbt reads from the project directory (tests/: only dbt's files, not the Python suite)
PROJECT_FILES = ("dbt_project.yml", "packages.yml", "selectors.yml")
PROJECT_DIRS = ("models", "macros", "seeds", "snapshots", "analyses")
DBT_SUFFIXES = (".sql", ".yml", ".yaml", ".md", ".csv")
DBT_PACKAGES = ("dbt-core", "dbt-duckdb", "dbt-adapters", "duckdb")


@dataclass(frozen=True)
class Fingerprint:
    """The dbt project's digest and each raw table's ``rows|newest load``."""

    project: str
    tables: dict[str, str]


def _project_paths(project_dir: Path, profiles_dir: Path) -> Iterator[tuple[str, Path]]:
    """(name, path) of each file dbt reads; names are relative, so a moved checkout matches."""
    files = [project_dir / name for name in PROJECT_FILES]
    for name in PROJECT_DIRS:
        files += sorted((project_dir / name).rglob("*"))
    files += sorted(p for p in (project_dir / "tests").rglob("*") if p.suffix in DBT_SUFFIXES)
    for path in files:
        if path.is_file():
            yield str(path.relative_to(project_dir)), path
    if (profiles_dir / "profiles.yml").is_file():
        yield "<profiles>/profiles.yml", profiles_dir / "profiles.yml"


def project_digest(project_dir: Path, profiles_dir: Path) -> str:
    """sha256 over the project files dbt reads, the dbt package versions and the dbt target."""
    digest = hashlib.sha256()
    for name, path in _project_paths(project_dir, profiles_dir):
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for package in DBT_PACKAGES:
        try:
            digest.update(f"{package}={version(package)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{package}=-\0".encode())
    digest.update(f"target={os.environ.get('DBT_TARGET', '')}".encode())
    return digest.hexdigest()


def table_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``rows|newest _loaded_at`` of every table in the raw schema (one query)."""
    tables = con.execute(
        "SELECT t.table_name, count(c.column_name) FROM duckdb_tables() t "
        "LEFT JOIN duckdb_columns() c "
        "ON c.table_oid = t.table_oid AND c.column_name = '_loaded_at' "
        "WHERE t.schema_name = ? AND t.database_name = current_database() "
        "GROUP BY t.table_name ORDER BY t.table_name",
        [RAW_SCHEMA],
    ).fetchall()
    if not tables:
        return {}
    parts = [
        f"SELECT {_literal(name)} AS t, count(*) AS n, "
        + ("max(_loaded_at)::VARCHAR" if has_loaded_at else "NULL")
        + f" AS newest FROM {RAW_SCHEMA}.{_identifier(name)}"
        for name, has_loaded_at in tables
    ]
    rows = con.execute(" UNION ALL ".join(parts)).fetchall()
    return {name: f"{n}|{newest}" for name, n, newest in rows}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def current(con: duckdb.DuckDBPyConnection, project_dir: Path, profiles_dir: Path) -> Fingerprint:
    """The fingerprint of what a build now would see."""
    return Fingerprint(project_digest(project_dir, profiles_dir), table_fingerprints(con))


def last_recorded(con: duckdb.DuckDBPyConnection) -> Fingerprint | None:
    """The newest recorded fingerprint, or None when no build was recorded."""
    if not has_table(con, BUILD_STATE_TABLE):
        return None
    row = con.execute(
        f"SELECT project_digest, tables FROM {BUILD_STATE_TABLE} "
        "ORDER BY recorded_at DESC, rowid DESC LIMIT 1"
    ).fetchone()
    return Fingerprint(row[0], json.loads(row[1])) if row else None


def record(con: duckdb.DuckDBPyConnection, fingerprint: Fingerprint) -> None:
    """Append ``fingerprint`` as the newest whole-project build."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {LOADER_SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BUILD_STATE_TABLE} ("
        "recorded_at TIMESTAMPTZ NOT NULL, project_digest VARCHAR NOT NULL, tables JSON NOT NULL)"
    )
    con.execute(
        f"INSERT INTO {BUILD_STATE_TABLE} VALUES (current_timestamp, ?, ?)",
        [fingerprint.project, json.dumps(fingerprint.tables, sort_keys=True)],
    )


def changed_tables(previous: Fingerprint | None, now: Fingerprint) -> list[str] | None:
    """The raw tables whose fingerprint changed since ``previous``; None when the whole project
    must be built (no record, another project, a raw table dropped)."""
    if previous is None or previous.project != now.project:
        return None
    if any(t not in now.tables for t in previous.tables):  # a raw table was dropped
        return None
    return sorted(t for t, fp in now.tables.items() if previous.tables.get(t) != fp)


def selection(previous: Fingerprint | None, now: Fingerprint) -> list[str] | None:
    """dbt ``--select`` values for a build that follows ``previous``: None for the whole project,
    an empty list when nothing changed."""
    changed = changed_tables(previous, now)
    return None if changed is None else [f"source:*.{t}+" for t in changed]
