"""A BI-tool stand-in: holds a read-only DuckDB connection and keeps querying it.

Usage: ``python reader_process.py WAREHOUSE``. Prints one JSON line when connected, then answers
commands read from stdin, one JSON line each:

- ``check``: polls made by the background thread since connecting, errors seen, and a snapshot
- ``snapshot``: the marts visible through the connection held since the start
- ``reconnect``: close, open a new read-only connection, and return its snapshot
- ``quit``
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import duckdb


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Row count of every table in schema ``marts`` and of the raw message table."""
    names = [
        n
        for (n,) in con.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'marts' order by table_name"
        ).fetchall()
    ]
    marts = {n: con.execute(f'select count(*) from marts."{n}"').fetchone()[0] for n in names}
    raw = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'raw' and table_name = 'hatch_conversation_items'"
    ).fetchone()[0]
    raw_rows = (
        con.execute("select count(*) from raw.hatch_conversation_items").fetchone()[0] if raw else 0
    )
    return {"marts": marts, "raw_rows": raw_rows}


def main(path: str) -> None:
    """Serve commands until ``quit`` or end of input."""
    con = duckdb.connect(path, read_only=True)
    lock = threading.Lock()
    state: dict[str, Any] = {"polls": 0, "errors": []}
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            with lock:
                try:
                    snapshot(con)
                    state["polls"] += 1
                except Exception as exc:  # record, keep polling
                    state["errors"].append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.05)

    def answer(payload: dict[str, Any]) -> None:
        print(json.dumps(payload), flush=True)

    with lock:
        answer({"event": "connected", **snapshot(con)})
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    for line in sys.stdin:
        command = line.strip()
        with lock:
            if command == "check":
                answer({"polls": state["polls"], "errors": state["errors"][:5], **snapshot(con)})
            elif command == "snapshot":
                answer(snapshot(con))
            elif command == "reconnect":
                con.close()
                con = duckdb.connect(path, read_only=True)
                answer(snapshot(con))
            elif command == "quit":
                break
    stop.set()
    thread.join(timeout=5)
    con.close()


if __name__ == "__main__":
    main(sys.argv[1])
