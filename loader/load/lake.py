"""The raw lake: each loaded file's raw rows as one immutable Parquet file, for Spark.

``{LAKE_URL}/raw/<table>/<sha256>.parquet`` holds the rows that one file (a Hatch archive or a
document file) added to ``raw.<table>``: the same columns, types and lineage, timestamps as
UTC-adjusted Parquet timestamps and JSON as text (what Spark reads). After a load the lake is
brought level with the load: every file with rows in a raw table and no Parquet file yet is written
(this run's files, and those of an earlier run killed after it published or loaded before
``LAKE_URL`` was set), each to a temporary name and then committed
(:meth:`loader.landing.LandingStore.put_atomic`). A file in the lake is never written again.
The landing store stays the source of truth: a lost lake is rebuilt by a load into a fresh
warehouse.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import duckdb

from loader import warehouse
from loader.landing import LandingStore
from loader.schemas import DOCUMENT_TABLES, HATCH_TABLES
from loader.sql import quote_ident, quote_literal

log = logging.getLogger(__name__)

RAW_TABLES = sorted({*HATCH_TABLES.values(), *DOCUMENT_TABLES.values()})  # schema.table


def _folder(table: str) -> str:
    return f"raw/{table.split('.', 1)[1]}"


def missing(con: duckdb.DuckDBPyConnection, store: LandingStore) -> dict[str, list[str]]:
    """Per raw table, the sha256 of the files with rows there and no Parquet file in the lake."""
    out: dict[str, list[str]] = {}
    for table in RAW_TABLES:
        stored = store.list(_folder(table))
        have = {rel.rsplit("/", 1)[1].removesuffix(".parquet") for rel in stored}
        loaded = con.execute(f"SELECT DISTINCT _file_sha256 FROM {table}").fetchall()
        todo = sorted({sha for (sha,) in loaded} - have)
        if todo:
            out[table] = todo
    return out


def _select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The table's columns as the lake stores them: timestamps UTC-adjusted, JSON as text."""
    schema, name = table.split(".", 1)
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    casts = {"TIMESTAMP": "TIMESTAMPTZ", "JSON": "VARCHAR"}
    return ", ".join(
        f"CAST({quote_ident(c)} AS {casts[kind]}) AS {quote_ident(c)}"
        if kind in casts
        else quote_ident(c)
        for c, kind in columns
    )


def write_lake(warehouse_file: Path, lake_url: str, memory_limit: str = "400MB") -> int:
    """Write the Parquet file of every loaded file not in the lake yet; how many were written.

    ``memory_limit``: DuckDB's buffer pool for the copies (LOADER_MEMORY_LIMIT, as for the load).
    """
    store = LandingStore(lake_url)
    store.require_bucket()
    con = warehouse.connect_readonly(warehouse_file)
    written = 0
    try:
        con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
        todo = missing(con, store)
        with tempfile.TemporaryDirectory(prefix="hatch-lake-") as tmp:
            for table, shas in todo.items():
                select = _select(con, table)
                for sha in shas:
                    local = Path(tmp) / f"{sha}.parquet"
                    con.execute(
                        f"COPY (SELECT {select} FROM {table} WHERE _file_sha256 = ? "
                        f"ORDER BY _record_number) TO {quote_literal(str(local))} "
                        "(FORMAT parquet, COMPRESSION zstd)",
                        [sha],
                    )
                    store.put_atomic(f"{_folder(table)}/{sha}.parquet", local)
                    local.unlink()
                    written += 1
    finally:
        con.close()
    if written:
        log.info("lake: %d file(s) written to %s", written, store.url)
    return written


def lake_is_level(warehouse_file: Path, lake_url: str) -> bool:
    """Whether every loaded file of the (published) warehouse has its Parquet file in the lake."""
    con = warehouse.connect_readonly(warehouse_file)
    try:
        return not missing(con, LandingStore(lake_url))
    except duckdb.Error:  # a warehouse from before some raw table existed
        return False
    finally:
        con.close()
