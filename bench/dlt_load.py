"""dlt step: the same NDJSON records loaded into DuckDB the way dlt's docs show.

``python -m bench.dlt_load MANIFEST DB PIPELINES_DIR MAX_ROWS``: one ``dlt.pipeline`` with the
``duckdb`` destination and one ``pipeline.run(records, table_name=dataset)`` per dataset, with
dlt's defaults (schema inference, normalize, load). ``MAX_ROWS`` (0 = all) caps the records read,
shared across datasets in proportion to their size. Prints ``{"rows": N}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import dlt


def records(files: list[str], limit: int | None) -> Iterator[dict]:
    """Every line of ``files`` as a dict, at most ``limit`` of them."""
    count = 0
    for name in files:
        with open(name, encoding="utf-8") as fh:
            for line in fh:
                if limit is not None and count >= limit:
                    return
                if line.strip():
                    count += 1
                    yield json.loads(line)


def main(argv: list[str]) -> int:
    """Run the pipeline; print the number of rows dlt loaded."""
    manifest: dict[str, dict] = json.loads(Path(argv[0]).read_text())
    db, pipelines_dir, max_rows = argv[1], argv[2], int(argv[3])
    total = sum(entry["weight"] for entry in manifest.values())
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        pipelines_dir=pipelines_dir,
        destination=dlt.destinations.duckdb(db),
        dataset_name="raw",
    )
    for dataset, entry in manifest.items():
        limit = None if not max_rows or max_rows >= total else max_rows * entry["weight"] // total
        pipeline.run(records(entry["files"], limit), table_name=dataset)
    with pipeline.sql_client() as client:
        rows = sum(
            client.execute_sql(f"SELECT count(*) FROM {dataset}")[0][0] for dataset in manifest
        )
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
