"""A small fixture warehouse: raw Hatch tables from CSV plus every document fixture, loaded."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from loader.load.documents import load_file
from loader.schemas import HATCH_COLUMNS, HATCH_TABLES, HATCH_WINDOW_COLUMNS, LINEAGE_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"
LOADED_AT = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
DOCUMENTS = {
    "leads": ["leads_array.json", "leads.ndjson", "leads_timestamps.ndjson"],
    "huechat": ["huechat_pages.jsonl", "huechat_array.json"],
    "texter": ["texter_search.json", "texter_webhooks.jsonl"],
}


def build(path: Path) -> None:
    """Create the DuckDB file ``path`` with the raw tables the document models read."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for dataset, columns in HATCH_COLUMNS.items():
            all_columns = {**columns, **HATCH_WINDOW_COLUMNS, **LINEAGE_COLUMNS}
            ddl = ", ".join(f"{c} {t}" for c, t in all_columns.items())
            con.execute(f"CREATE TABLE {HATCH_TABLES[dataset]} ({ddl})")
            con.execute(
                f"""
                INSERT INTO {HATCH_TABLES[dataset]} BY NAME
                SELECT *, DATE '2024-05-01' AS _export_start_date,
                    DATE '2024-05-01' AS _export_end_date, 'hatch_{dataset}.csv' AS _file_name,
                    'h' AS _file_sha256, 1::BIGINT AS _record_number, ?::TIMESTAMPTZ AS _loaded_at
                FROM read_csv(?, header = true, all_varchar = true)
                """,
                [LOADED_AT, str(FIXTURES / f"hatch_{dataset}.csv")],
            )
        for system, names in DOCUMENTS.items():
            for name in names:
                data = (FIXTURES / name).read_bytes()
                sha = hashlib.sha256(data).hexdigest()
                load_file(
                    con,
                    FIXTURES / name,
                    system=system,
                    file_name=name,
                    sha256=sha,
                    loaded_at=LOADED_AT,
                )
    finally:
        con.close()
