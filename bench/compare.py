"""Compare the marts of two warehouse files: same tables, same rows (EXCEPT ALL both ways)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class TableDiff:
    """One mart table in both warehouses."""

    table: str
    rows_a: int
    rows_b: int
    only_a: int
    only_b: int

    @property
    def identical(self) -> bool:
        """Same multiset of rows."""
        return self.rows_a == self.rows_b and self.only_a == 0 and self.only_b == 0


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?"
            " ORDER BY table_name",
            [catalog, MARTS_SCHEMA],
        ).fetchall()
    ]


def compare_marts(a: Path, b: Path) -> tuple[list[TableDiff], list[str]]:
    """Per-table diff of ``marts.*`` in ``a`` and ``b``, plus tables present in only one."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    tables_a, tables_b = _tables(con, "a"), _tables(con, "b")
    missing = sorted(set(tables_a) ^ set(tables_b))
    diffs = []
    for table in sorted(set(tables_a) & set(tables_b)):
        ta, tb = f"a.{MARTS_SCHEMA}.{table}", f"b.{MARTS_SCHEMA}.{table}"
        described = con.execute(f"SELECT * FROM {ta} LIMIT 0").description or []
        cols = ", ".join(f'"{d[0]}"' for d in described)
        counts = con.execute(
            f"SELECT (SELECT count(*) FROM {ta}), (SELECT count(*) FROM {tb}),"
            f" (SELECT count(*) FROM (SELECT {cols} FROM {ta} EXCEPT ALL SELECT {cols} FROM {tb})),"
            f" (SELECT count(*) FROM (SELECT {cols} FROM {tb} EXCEPT ALL SELECT {cols} FROM {ta}))"
        ).fetchone()
        diffs.append(TableDiff(table, *counts))
    con.close()
    return diffs, missing
