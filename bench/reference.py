"""Reference step: DuckDB's own reader loads every extracted member into a typed table.

``python -m bench.reference MANIFEST DB FORMAT``; MANIFEST is JSON ``{dataset: [files]}``. One
``CREATE TABLE ... AS SELECT * FROM read_json([...])`` (or ``read_csv``) per dataset, with the
column types of ``loader/schemas.py``. Prints ``{"rows": N}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from loader.schemas import HATCH_COLUMNS


def _struct(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


def reader_sql(dataset: str, files: list[str], fmt: str) -> str:
    """The one typed read of ``files`` for ``dataset``."""
    paths = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    columns = _struct(HATCH_COLUMNS[dataset])
    if fmt == "json":
        return f"read_json({paths}, format='newline_delimited', columns={columns})"
    return f"read_csv({paths}, header=true, columns={columns})"


def main(argv: list[str]) -> int:
    """Load each dataset of the manifest into ``DB``; print the total row count."""
    manifest, db, fmt = json.loads(Path(argv[0]).read_text()), argv[1], argv[2]
    con = duckdb.connect(db)
    con.execute("SET TimeZone='UTC'")
    rows = 0
    for dataset, files in manifest.items():
        if not files:
            continue
        con.execute(f"CREATE TABLE {dataset} AS SELECT * FROM {reader_sql(dataset, files, fmt)}")
        rows += con.execute(f"SELECT count(*) FROM {dataset}").fetchone()[0]
    con.close()
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
