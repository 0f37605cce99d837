"""One lead / HueChat / Texter document file -> ``raw.hatch_leads`` / ``raw.huechat_conversations``
/ ``raw.texter_chats`` (one row per record, kept whole as JSON, plus lineage).

Accepted shapes, detected from the content (never from the file name):

- a JSON array of records;
- newline-delimited records (or concatenated / pretty-printed JSON values);
- page objects ``{"data": [...], ...}`` (HueChat ``pagination``, Texter ``total``), alone, in an
  array, or one per line;
- Texter webhook payloads ``{"eventName": ..., "eventData": {"chat": {...}}}`` -> the chat
  (events that carry no ``eventData.chat`` are not chats and are skipped);
- any of the above gzip-compressed (detected by the magic bytes, whatever the file name).

All reading and splitting is done by DuckDB (``read_json_objects``, ``json_extract``, ``unnest``).
``_record_number`` is the 1-based position of the record in the file (pages and webhooks
unwrapped), so ``(_file_sha256, _record_number)`` is unique.

All-or-nothing: the caller (``loader.ingest``) owns the transaction. Any bad record fails the whole
file with a :class:`~loader.errors.DataError` naming the record, its line (or top-level value) and
the reason. Rejected: malformed JSON; a record that is not an object; a HueChat conversation
without ``id``; a Texter chat without ``_id``; a lead with neither ``phoneNumber`` nor ``email``,
or without ``source``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb

from loader.errors import DataError, is_disk_full
from loader.schemas import DOCUMENT_COLUMNS, DOCUMENT_TABLES, LINEAGE_COLUMNS, RAW_SCHEMA

GZIP_MAGIC = b"\x1f\x8b"
MAX_OBJECT_BYTES = 512 * 1024**2  # largest single top-level JSON value (e.g. one page)
_STAGE = "_h5_document_records"  # temp table, dropped before returning
_KINDS = "_h5_document_values"  # temp table: the top-level values and their kind

# SQL predicate (over `record`) -> rejection reason, per system; first failing record is reported.
_nonblank = "nullif(trim(record ->> '{key}'), '') IS NOT NULL"
RULES: dict[str, list[tuple[str, str]]] = {
    "leads": [
        (
            f"NOT ({_nonblank.format(key='phoneNumber')} OR {_nonblank.format(key='email')})",
            "lead has neither phoneNumber nor email (one of them is required)",
        ),
        (f"NOT {_nonblank.format(key='source')}", "lead has no source (required)"),
    ],
    "huechat": [(f"NOT {_nonblank.format(key='id')}", "conversation has no id (required)")],
    "texter": [(f"NOT {_nonblank.format(key='_id')}", "chat has no _id (required)")],
}


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def check_gzip(path: Path, file_name: str) -> None:
    """Stream through a gzip file so a truncated or corrupt one fails (DuckDB skips the trailer)."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (EOFError, OSError, gzip.BadGzipFile) as exc:
        raise DataError(f"bad gzip data: {exc}", file=file_name) from None


def ensure_table(con: duckdb.DuckDBPyConnection, system: str) -> str:
    """Create the raw table of ``system`` if missing; return its qualified name."""
    table = DOCUMENT_TABLES[system]
    cols = ", ".join(f"{c} {t}" for c, t in {**DOCUMENT_COLUMNS, **LINEAGE_COLUMNS}.items())
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
    return table


def _where(top_number: int, element: int | None, shape: str) -> str:
    where = [f"array element {top_number}"] if shape == "array" else []
    where += [f"data element {element}"] if element is not None else []
    return f" ({', '.join(where)})" if where else ""


def _read_error(exc: duckdb.Error, file_name: str, path: Path, gzipped: bool) -> DataError:
    """DuckDB's reader failed: name the physical line where the JSON breaks (error path only)."""
    found = _first_syntax_error(_text(path, gzipped))
    if found:
        return DataError(f"not valid JSON ({found[1]})", file=file_name, line=found[0])
    text = str(exc).split("Error: ", 1)[-1].strip()
    text = re.sub(r' in file "[^"]*"', "", text)
    return DataError(f"not valid JSON: {text.splitlines()[0]}", file=file_name)


def _text(path: Path, gzipped: bool) -> str:
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="replace")


def _values(text: str) -> Iterator[int]:
    """The offset where each top-level JSON value starts (elements, for an array); stops at the
    first one that does not parse (raising json.JSONDecodeError)."""
    decoder, pos = json.JSONDecoder(), 0
    in_array = text.lstrip().startswith("[")
    if in_array:
        pos = text.index("[") + 1
    while True:
        while pos < len(text) and (text[pos].isspace() or (in_array and text[pos] == ",")):
            pos += 1
        if pos >= len(text) or (in_array and text[pos] == "]"):
            return
        yield pos
        _, pos = decoder.raw_decode(text, pos)


def _first_syntax_error(text: str) -> tuple[int, str] | None:
    """Physical line and reason of the first place the text stops being JSON values."""
    starts = [0]
    try:
        starts.extend(_values(text))
    except json.JSONDecodeError as exc:  # reported on the line where the broken value starts
        line = text.count("\n", 0, starts[-1]) + 1
        at = f"line {exc.lineno}, column {exc.colno}"
        return line, f"{exc.msg} at {at.split(', ')[1] if exc.lineno == line else at}"
    return None


def _value_line(path: Path, gzipped: bool, top_number: int) -> int | None:
    """The physical line where the ``top_number``-th top-level value (array element) starts."""
    text = _text(path, gzipped)
    with contextlib.suppress(json.JSONDecodeError):
        for number, start in enumerate(_values(text), start=1):
            if number == top_number:
                return text.count("\n", 0, start) + 1
    return None


def _max_object_bytes(path: Path, compression: str) -> int:
    """The largest a top-level JSON value in the file can be: its uncompressed size (a gzip
    trailer's ISIZE), at least 1 MiB and at most MAX_OBJECT_BYTES. DuckDB reserves buffers in
    proportion, so sizing by the file keeps small files cheap under the loader's memory limit."""
    size = path.stat().st_size
    if compression == "gzip" and size >= 4:
        with path.open("rb") as fh:
            fh.seek(-4, 2)
            size = max(size, int.from_bytes(fh.read(4), "little"))  # ISIZE is modulo 2**32
    return min(max(size + 1, 1024**2), MAX_OBJECT_BYTES)


def _ensure_memory(con: duckdb.DuckDBPyConnection, need: int) -> None:
    """Raise the connection's memory_limit when a large document needs more than it allows."""
    current = con.execute(
        "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'"
    ).fetchone()
    match = re.fullmatch(r"([\d.]+)\s*([KMGT]i?B|bytes)", current[0].strip()) if current else None
    units = {
        "bytes": 1,
        "KiB": 2**10,
        "MiB": 2**20,
        "GiB": 2**30,
        "TiB": 2**40,
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
        "TB": 10**12,
    }
    if match and float(match[1]) * units[match[2]] >= need:
        return
    con.execute(f"SET memory_limit = '{need // 2**20 + 1}MiB'")


def _stage_records(con: duckdb.DuckDBPyConnection, path: Path, compression: str) -> None:
    """Read the file into the temp table ``_STAGE`` (top_number, element, record_number, record)."""
    max_object = _max_object_bytes(path, compression)
    _ensure_memory(con, 3 * max_object + 64 * 2**20)
    # the top-level values in a temp table of their own (it can spill): as a CTE read three
    # times below, DuckDB materializes them in memory and runs out under a small memory_limit
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_KINDS} AS
        WITH top AS (
            SELECT json AS v, ordinality AS top_number
            FROM read_json_objects(?, format = 'auto', compression = '{compression}',
                                   maximum_object_size = {max_object}) WITH ORDINALITY
        )
        SELECT top_number, v,
            CASE
                WHEN json_type(v) = 'OBJECT' AND json_type(v, '$.data') = 'ARRAY' THEN 'page'
                WHEN json_type(v) = 'OBJECT' AND json_exists(v, '$.eventName')
                     AND json_type(v, '$.eventData') = 'OBJECT' THEN 'webhook'
                ELSE 'record'
            END AS kind
        FROM top
        """,
        [str(path)],
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_STAGE} AS
        WITH kinds AS (SELECT * FROM {_KINDS}),
        pages AS (
            SELECT top_number, json_extract(v, '$.data[*]') AS elements
            FROM kinds WHERE kind = 'page'
        ),
        records AS (
            SELECT top_number, NULL::BIGINT AS element, v AS record FROM kinds WHERE kind = 'record'
            UNION ALL
            SELECT top_number, NULL, json_extract(v, '$.eventData.chat')
            FROM kinds WHERE kind = 'webhook'
            UNION ALL
            SELECT top_number, unnest(generate_series(1, len(elements))), unnest(elements)
            FROM pages
        )
        SELECT top_number, element,
               row_number() OVER (ORDER BY top_number, element NULLS FIRST) AS record_number,
               record
        FROM records
        WHERE record IS NOT NULL  -- a webhook event without a chat is not a chat: skipped
        """
    )
    con.execute(f"DROP TABLE {_KINDS}")


def load_file(
    con: duckdb.DuckDBPyConnection,
    local_path: Path,
    *,
    system: str,
    file_name: str,
    sha256: str,
    loaded_at: datetime,
) -> int:
    """Append every record of one document file to its raw table; return the rows inserted.

    Runs inside the caller's open transaction. Raises :class:`DataError` (naming the record and
    line) on malformed input; nothing is inserted then.
    """
    if system not in DOCUMENT_TABLES:
        raise DataError(
            f"unknown document system {system!r} (expected one of {', '.join(DOCUMENT_TABLES)})",
            file=file_name,
        )
    table = ensure_table(con, system)
    gzipped = is_gzip(Path(local_path))
    if gzipped:
        check_gzip(Path(local_path), file_name)
    compression = "gzip" if gzipped else "uncompressed"
    try:
        _stage_records(con, Path(local_path), compression)
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as exc:
        if is_disk_full(exc):
            raise
        raise _read_error(exc, file_name, Path(local_path), gzipped) from None
    try:
        return _validate_and_insert(
            con, table, system, local_path, gzipped, file_name, sha256, loaded_at
        )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_STAGE}")


def _shape(path: Path, gzipped: bool) -> str:
    """'array' when the first non-blank byte is '[', else 'lines' (to word error messages)."""
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:
        head = fh.read(4096).lstrip()
    return "array" if head.startswith(b"[") else "lines"


def _validate_and_insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    system: str,
    local_path: Path,
    gzipped: bool,
    file_name: str,
    sha256: str,
    loaded_at: datetime,
) -> int:
    checks = [("json_type(record) <> 'OBJECT'", "record is not a JSON object")]
    checks += RULES[system]
    cases = " ".join(f"WHEN {pred} THEN '{reason}'" for pred, reason in checks)
    bad = con.execute(
        f"""
        SELECT top_number, element, record_number, reason FROM (
            SELECT *, CASE {cases} END AS reason FROM {_STAGE}
        ) WHERE reason IS NOT NULL ORDER BY record_number LIMIT 1
        """
    ).fetchone()
    if bad:
        top_number, element, record_number, reason = bad
        shape = _shape(Path(local_path), gzipped)
        where = _where(top_number, element, shape)
        line = _value_line(Path(local_path), gzipped, top_number)
        raise DataError(f"record {record_number}{where}: {reason}", file=file_name, line=line)
    con.execute(
        f"""
        INSERT INTO {table} (record, _file_name, _file_sha256, _record_number, _loaded_at)
        SELECT json(record), ?, ?, record_number, ?::TIMESTAMPTZ FROM {_STAGE}
        ORDER BY record_number
        """,
        [file_name, sha256, loaded_at],
    )
    (rows,) = con.execute(f"SELECT count(*) FROM {_STAGE}").fetchone()
    return int(rows)
