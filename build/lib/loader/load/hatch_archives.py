"""One Hatch export archive -> ``raw.hatch_{data_source}``, with DuckDB's own readers.

Loaded with one ``INSERT ... SELECT`` from ``read_json`` / ``read_csv``; the caller owns the
transaction. ``_record_number`` is the record's position in the member: the n-th JSON object (blank
lines are not records) or the n-th CSV data row. Two ways to get the member to DuckDB:

- fast (``fast=True``, deflate members; :func:`inflate_archive`): the deflate stream is inflated
  once by ISA-L (``isal``, which computes the CRC-32 on the way and releases the GIL, so the caller
  can inflate the next archive while DuckDB inserts this one) into a plain file, checking the CRC,
  completeness and the size limit. JSON is then read with DuckDB's auto-detection run on a one-line
  *schema file* (every documented and known drift column, all text) placed before the member, and
  cast to the documented types in SQL: in that mode DuckDB itself rejects a line with a key it does
  not know, so schema drift costs no extra pass. Any surprise returns :class:`NeedsSafePath`
  instead of a row count: the caller loads the archive again with ``fast=False``.
- safe (``fast=False``, or stored members): the member is stream-extracted to a plain temporary
  file (size limit checked during the copy), its keys are scanned first (new ones become VARCHAR
  columns), it is read with explicit column types, and errors are diagnosed to the line.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import struct
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from isal import igzip_lib

from loader.errors import DataError, is_disk_full
from loader.schemas import (
    HATCH_COLUMNS,
    HATCH_DATASETS,
    HATCH_TABLES,
    HATCH_WINDOW_COLUMNS,
    LINEAGE_COLUMNS,
    RAW_SCHEMA,
)
from loader.sql import quote_ident, quote_literal

_NAME_RE = re.compile(
    r"^(?P<ds>[a-z_]+?)_(?P<start>\d{4}-\d{2}-\d{2})_(?P<end>\d{4}-\d{2}-\d{2})\.(?P<ext>[a-z]+)$"
)
_CHUNK = 1 << 20
_RN = "__hatch_loader_record__"  # the record-number column of the insert's inner select
_SCHEMA_FILE = "__hatch_loader_schema__.json"  # the fast path's one-line schema, beside the member
# a row must name these columns (a CSV header without them is not an export header)
REQUIRED_COLUMNS = {"contact_history": ("contact_history_id",), "conversation_items": ("id",)}


@dataclass(frozen=True)
class ExportName:
    """A parsed ``{data_source}_{start}_{end}.{ext}`` name."""

    dataset: str
    start: date
    end: date
    ext: str

    @property
    def stem(self) -> str:
        return f"{self.dataset}_{self.start}_{self.end}"


def parse_name(name: str, exts: tuple[str, ...]) -> ExportName:
    """Parse an archive or member name; DataError when it does not follow the API naming."""
    match = _NAME_RE.match(name)
    if not match or match["ds"] not in HATCH_DATASETS or match["ext"] not in exts:
        expected = " or ".join(f".{e}" for e in exts)
        raise DataError(f"name does not match {{data_source}}_{{start}}_{{end}}{expected}", name)
    try:
        start, end = date.fromisoformat(match["start"]), date.fromisoformat(match["end"])
    except ValueError:
        raise DataError("name holds an invalid date", name) from None
    if start > end:
        raise DataError("window start is after its end", name)
    return ExportName(match["ds"], start, end, match["ext"])


def is_archive_name(name: str) -> bool:
    """True when ``name`` (no directories) is a Hatch export archive name."""
    try:
        parse_name(name, ("zip",))
    except DataError:
        return False
    return True


@dataclass(frozen=True)
class NeedsSafePath:
    """The fast path cannot load this archive as is: load it with ``fast=False``.

    ``aborted``: a failed statement aborted the caller's transaction, which must be rolled back;
    otherwise nothing was written and the transaction is intact.
    """

    reason: str
    aborted: bool


@dataclass(frozen=True)
class Deflated:
    """Where a member's raw deflate stream lies in its ZIP and what it must inflate to."""

    zip_path: Path
    offset: int
    length: int
    crc: int
    size: int
    limit: int
    where: str


@dataclass(frozen=True)
class Member:
    """The extracted export member."""

    path: Path
    name: ExportName
    where: str  # "archive.zip (member.json)", used in error messages
    stream: Deflated | None = None  # set when ``path`` was inflated and checked (fast path)


def _check_member(archive: ExportName, info: zipfile.ZipInfo, file_name: str) -> ExportName:
    raw = info.filename
    if (
        raw.startswith(("/", "\\"))
        or ".." in re.split(r"[/\\]", raw)
        or re.match(r"^[A-Za-z]:", raw)
    ):
        raise DataError(f"member path {raw!r} escapes the extraction folder", file_name)
    if "/" in raw or "\\" in raw:
        raise DataError(f"member {raw!r} is inside a folder; expected a bare file name", file_name)
    try:
        member = parse_name(raw, ("json", "csv"))
    except DataError as exc:
        raise DataError(f"member {raw!r}: {exc.reason}", file_name) from None
    if member.stem != archive.stem:
        raise DataError(f"member {raw!r} does not match the archive name", file_name)
    if info.flag_bits & 0x1:
        raise DataError(f"member {raw!r} is encrypted", file_name)
    return member


def _copy_member(src: zipfile.ZipExtFile, dst_path: Path, limit: int, where: str) -> None:
    copied = 0
    with dst_path.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            copied += len(chunk)
            if copied > limit:
                raise DataError(f"member is larger than the limit of {limit} bytes", where)
            dst.write(chunk)
            _check_no_nul(chunk, dst, where)


def _check_no_nul(chunk: bytes, dst: io.BufferedWriter, where: str) -> None:
    """Reject a raw NUL byte (text exports never hold one; DuckDB would load it into a value).

    ``chunk`` is the last one written to ``dst``; the line is counted only when one is found."""
    at = chunk.find(b"\x00")
    if at < 0:
        return
    dst.flush()
    offset = dst.tell() - len(chunk) + at
    line, column = _line_of_offset(Path(dst.name), offset)
    raise DataError(f"a NUL byte (0x00) at column {column}: not text", where, line)


def _line_of_offset(path: Path, offset: int) -> tuple[int, int]:
    """Physical line and column (1-based) of the byte at ``offset`` (error path only)."""
    line, line_start, done = 1, 0, 0
    with path.open("rb") as fh:
        while done < offset and (chunk := fh.read(min(_CHUNK, offset - done))):
            line += chunk.count(b"\n")
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                line_start = done + newline + 1
            done += len(chunk)
    return line, offset - line_start + 1


def _data_offset(fh: io.BufferedReader, info: zipfile.ZipInfo, where: str) -> int:
    fh.seek(info.header_offset)
    head = fh.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise DataError("cannot extract member: bad local file header", where)
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _deflated(zip_path: Path, info: zipfile.ZipInfo, where: str, limit: int) -> Deflated:
    """Where the member's deflate stream lies and what it must inflate to."""
    with zip_path.open("rb") as fh:
        offset = _data_offset(fh, info, where)
    return Deflated(zip_path, offset, info.compress_size, info.CRC, info.file_size, limit, where)


def inflate_stream(stream: Deflated, out: Path) -> None:
    """Inflate the member into ``out`` in bounded chunks; check CRC-32, completeness and size.

    ISA-L's raw-deflate decompressor with the gzip flag computes the CRC while it inflates.
    """
    inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP_NO_HDR)
    size, left = 0, stream.length
    with stream.zip_path.open("rb") as fh, out.open("wb") as dst:
        fh.seek(stream.offset)
        while not inflater.eof:
            data = b""
            if inflater.needs_input:
                if not left:
                    break
                data = fh.read(min(left, _CHUNK))
                left -= len(data)
                if not data:
                    break
            try:
                chunk = inflater.decompress(data, 4 * _CHUNK)
            except igzip_lib.IsalError as exc:
                raise DataError(f"cannot extract member: {exc}", stream.where) from None
            size += len(chunk)
            if size > stream.limit:
                raise DataError(
                    f"member is larger than the limit of {stream.limit} bytes", stream.where
                )
            dst.write(chunk)
            _check_no_nul(chunk, dst, stream.where)
    if not inflater.eof:
        raise DataError("cannot extract member: compressed data is truncated", stream.where)
    if inflater.crc != stream.crc or size != stream.size:
        raise DataError("cannot extract member: bad CRC-32 or size", stream.where)


def _member_info(zf: zipfile.ZipFile, file_name: str) -> zipfile.ZipInfo:
    infos = zf.infolist()
    if len(infos) != 1:
        raise DataError(f"expected exactly one member, found {len(infos)}", file_name)
    return infos[0]


def inflate_archive(
    zip_path: Path, file_name: str, max_bytes: int, dest: Path, *, fast: bool = False
) -> Member:
    """Validate the archive and write its only member into the folder ``dest``.

    With ``fast``, a deflate member is inflated and checked by :func:`inflate_stream`;
    otherwise (or for a stored member) it takes the safe extraction.
    """
    archive = parse_name(file_name, ("zip",))
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"not a ZIP archive ({exc})", file_name) from None
    with zf:
        info = _member_info(zf, file_name)
        member = _check_member(archive, info, file_name)
        where = f"{file_name} ({info.filename})"
        if info.file_size > max_bytes:
            raise DataError(
                f"member declares {info.file_size} bytes, over the limit of {max_bytes}", where
            )
        out = dest / info.filename
        if fast and info.compress_type == zipfile.ZIP_DEFLATED:
            stream = _deflated(zip_path, info, where, max_bytes)
            inflate_stream(stream, out)
            return Member(out, member, where, stream)
        try:
            with zf.open(info) as src:
                _copy_member(src, out, max_bytes, where)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
            raise DataError(f"cannot extract member: {exc}", where) from None
        return Member(out, member, where)


@contextlib.contextmanager
def extract_member(
    zip_path: Path,
    file_name: str,
    max_bytes: int,
    tmp_dir: Path | None = None,
    *,
    fast: bool = False,
) -> Iterator[Member]:
    """:func:`inflate_archive` into a temporary folder that lives as long as the context."""
    with tempfile.TemporaryDirectory(prefix="hatch-load-", dir=tmp_dir) as tmp:
        yield inflate_archive(zip_path, file_name, max_bytes, Path(tmp), fast=fast)


def ensure_table(con: duckdb.DuckDBPyConnection, dataset: str) -> list[str]:
    """Create ``raw.hatch_{dataset}`` when missing; return its column names."""
    cols = {**HATCH_COLUMNS[dataset], **HATCH_WINDOW_COLUMNS, **LINEAGE_COLUMNS}
    body = ", ".join(f"{quote_ident(c)} {t}" for c, t in cols.items())
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {HATCH_TABLES[dataset]} ({body})")
    return table_columns(con, dataset)


def table_columns(con: duckdb.DuckDBPyConnection, dataset: str) -> list[str]:
    """The column names of ``raw.hatch_{dataset}`` (which must exist)."""
    # the result's description: ~5x cheaper than a duckdb_columns() query, once per file
    described = con.execute(f"SELECT * FROM {HATCH_TABLES[dataset]} LIMIT 0").description
    return [d[0] for d in described or ()]


def _json_source(path: Path) -> str:
    return f"read_json_objects({quote_literal(str(path))}, format='newline_delimited')"


def _json_keys(con: duckdb.DuckDBPyConnection, member: Member) -> list[str]:
    """Top-level keys that are not documented columns, in order of first appearance."""
    known = list(HATCH_COLUMNS[member.name.dataset])
    keys = f"SELECT unnest(json_keys(json)) AS k FROM {_json_source(member.path)}"
    drift = {
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT k FROM ({keys}) WHERE k NOT IN (SELECT unnest(?))", [known]
        ).fetchall()
    }
    if not drift:
        return []
    ordered: list[str] = []  # streamed in file order; stops once every new key was seen
    result = con.execute(f"SELECT k FROM ({keys}) WHERE k IN (SELECT unnest(?))", [list(drift)])
    while len(ordered) < len(drift) and (batch := result.fetchmany(4096)):
        ordered += [k for (k,) in batch if k not in ordered]
    return ordered


def _csv_header(member: Member) -> list[str]:
    with member.path.open(newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh), None)
    if header is None:
        return []
    names = [h.removeprefix("\ufeff") for h in header]
    required = REQUIRED_COLUMNS[member.name.dataset]
    if len(set(names)) != len(names) or "" in names or not set(required) <= set(names):
        raise DataError(
            f"CSV header is not an export header (needs unique names incl. {', '.join(required)}): "
            f"{','.join(header)[:200]!r}",
            member.where,
            1,
        )
    return names


def missing_columns_warning(zip_path: Path) -> str | None:
    """For a CSV archive whose header lacks documented columns: a warning naming them (they load
    as NULL; an upstream schema change is news). None for JSON, where absent keys are normal."""
    with (
        contextlib.suppress(zipfile.BadZipFile, OSError, IndexError),
        zipfile.ZipFile(zip_path) as zf,
    ):
        info = zf.infolist()[0]
        if not info.filename.endswith(".csv"):
            return None
        with zf.open(info) as fh:
            first = fh.readline().decode("utf-8", errors="replace")
        header = {h.removeprefix("\ufeff").strip().lower() for h in next(csv.reader([first]), [])}
        dataset = parse_name(info.filename, ("csv",)).dataset
        missing = [c for c in HATCH_COLUMNS[dataset] if c.lower() not in header]
        if missing:
            return f"CSV header lacks documented column(s) {', '.join(missing)}: loaded as NULL"
    return None


def _columns_spec(columns: dict[str, str]) -> str:
    return (
        "{" + ", ".join(f"{quote_literal(c)}: {quote_literal(t)}" for c, t in columns.items()) + "}"
    )


def _reader(member: Member, columns: dict[str, str]) -> str:
    path, spec = quote_literal(str(member.path)), _columns_spec(columns)
    if member.name.ext == "json":
        return f"read_json({path}, format='newline_delimited', records=true, columns={spec})"
    return (
        f"read_csv({path}, header=true, auto_detect=false, columns={spec}, delim=',', "
        "quote='\"', escape='\"', strict_mode=true, allow_quoted_nulls=false, "
        "null_padding=false)"
    )


def _source_columns(con: duckdb.DuckDBPyConnection, member: Member) -> dict[str, str] | None:
    """Column name -> type as the reader must see them; None for an empty member."""
    typed = HATCH_COLUMNS[member.name.dataset]
    if member.name.ext == "json":
        return {**typed, **dict.fromkeys(_json_keys(con, member), "VARCHAR")}
    header = _csv_header(member)
    if not header:
        return None
    return {h: typed.get(h, "VARCHAR") for h in header}


def _add_drift_columns(
    con: duckdb.DuckDBPyConnection, dataset: str, existing: list[str], source: dict[str, str]
) -> list[str]:
    """Add the source's columns the table lacks; return the table's columns."""
    have = {c.lower() for c in existing}
    for col in source:
        if col.lower() not in have:
            con.execute(
                f"ALTER TABLE {HATCH_TABLES[dataset]} ADD COLUMN {quote_ident(col)} VARCHAR"
            )
            have.add(col.lower())
    return existing if len(have) == len(existing) else ensure_table(con, dataset)


def _insert_sql(
    member: Member,
    table_cols: list[str],
    values: dict[str, str],
    reader: str,
    skip: int = 0,
) -> str:
    """``INSERT`` of the reader's rows; ``values`` maps source columns to SQL expressions.

    The first ``skip`` rows of the reader (the fast path's schema line) are not records.
    """
    rn = quote_ident(_RN)
    window = {"_export_start_date": quote_literal(str(member.name.start)) + "::DATE"}
    window["_export_end_date"] = quote_literal(str(member.name.end)) + "::DATE"
    lineage = {"_file_name": "?", "_file_sha256": "?", "_record_number": f"{rn} - {skip}"}
    lineage["_loaded_at"] = "?::TIMESTAMPTZ"
    by_lower = {c.lower(): expr for c, expr in values.items()}
    exprs = []
    for col in table_cols:
        if col in window or col in lineage:
            exprs.append((window | lineage)[col])
        else:
            exprs.append(by_lower.get(col.lower(), "NULL"))
    where = f" WHERE {rn} > {skip}" if skip else ""
    return (
        f"INSERT INTO {HATCH_TABLES[member.name.dataset]} "
        f"({', '.join(quote_ident(c) for c in table_cols)}) SELECT {', '.join(exprs)} "
        f"FROM (SELECT *, row_number() OVER () AS {rn} FROM {reader}){where}"
    )


def load_member(
    con: duckdb.DuckDBPyConnection,
    member: Member,
    *,
    file_name: str,
    sha256: str,
    loaded_at: datetime,
) -> int | NeedsSafePath:
    """Insert the member's rows (caller's transaction); returns the row count, or for an inflated
    member (:attr:`Member.stream`) that the fast path cannot load, why (:class:`NeedsSafePath`)."""
    # the timestamp as text (cast in SQL): a datetime parameter costs ~30 failed imports
    params = [file_name, sha256, loaded_at.isoformat()]
    if member.stream is not None:
        return _load_fast(con, member, params)
    dataset = member.name.dataset
    existing = ensure_table(con, dataset)
    try:
        source = _source_columns(con, member)
        if source is None:
            return 0
        _add_drift_columns(con, dataset, existing, source)
        cols = ensure_table(con, dataset)
        values = {c: quote_ident(c) for c in source}
        row = con.execute(_insert_sql(member, cols, values, _reader(member, source)), params)
        counted = row.fetchone()
    except duckdb.Error as exc:
        if is_disk_full(exc):  # not the member's fault
            raise
        raise _diagnose(con, member, exc) from None
    return int(counted[0]) if counted else 0


def prepare_archive(zip_path: Path, file_name: str, max_bytes: int, dest: Path) -> Member:
    """:func:`inflate_archive` with ``fast`` into ``dest`` (meant for a worker thread)."""
    return inflate_archive(zip_path, file_name, max_bytes, dest, fast=True)


def _cast(column: str, kind: str) -> str:
    ident = quote_ident(column)
    return ident if kind == "VARCHAR" else f"CAST({ident} AS {kind})"


def _fast_json(member: Member, existing: list[str]) -> tuple[dict[str, str], str]:
    """Values and reader of the fast JSON insert: auto-detection on a schema line, then casts.

    The schema line names every documented column and the table's drift columns, each with a
    text value, so DuckDB detects them all as VARCHAR; with auto-detection on (and every column
    read), DuckDB's reader fails on a key it has not seen instead of dropping it.
    """
    typed = HATCH_COLUMNS[member.name.dataset]
    fixed = {*typed, *HATCH_WINDOW_COLUMNS, *LINEAGE_COLUMNS}
    columns = {**typed, **{c: "VARCHAR" for c in existing if c not in fixed}}
    schema = member.path.with_name(_SCHEMA_FILE)
    schema.write_text(json.dumps(dict.fromkeys(columns, "-")) + "\n", encoding="utf-8")
    files = f"[{quote_literal(str(schema))}, {quote_literal(str(member.path))}]"
    reader = (
        f"read_json({files}, format='newline_delimited', records=true, sample_size=1, "
        "maximum_sample_files=1, map_inference_threshold=-1)"
    )
    return {c: _cast(c, t) for c, t in columns.items()}, reader


def _fast_csv(
    member: Member, existing: list[str]
) -> tuple[dict[str, str], str] | NeedsSafePath | None:
    typed = HATCH_COLUMNS[member.name.dataset]
    try:
        header = _csv_header(member)
    except (OSError, EOFError, DataError) as exc:
        return NeedsSafePath(str(exc), aborted=False)
    if not header:
        return None
    if not {h.lower() for h in header} <= {c.lower() for c in existing}:
        return NeedsSafePath("the header has columns the table lacks", aborted=False)
    source = {h: typed.get(h, "VARCHAR") for h in header}
    return {h: quote_ident(h) for h in header}, _reader(member, source)


def _load_fast(
    con: duckdb.DuckDBPyConnection, member: Member, params: list[object]
) -> int | NeedsSafePath:
    """Insert an inflated, checked member; any surprise returns :class:`NeedsSafePath`.

    The fast path never changes the table (no ``ALTER``): several transactions may be inserting
    at once. New CSV columns are found before anything is written.
    """
    try:
        existing = table_columns(con, member.name.dataset)
    except duckdb.Error as exc:
        return NeedsSafePath(f"no table: {exc}", aborted=True)
    if member.name.ext == "json":
        plan: tuple[dict[str, str], str] | NeedsSafePath | None = _fast_json(member, existing)
        skip = 1
    else:
        plan, skip = _fast_csv(member, existing), 0
    if plan is None:
        return 0
    if isinstance(plan, NeedsSafePath):
        return plan
    try:
        sql = _insert_sql(member, existing, plan[0], plan[1], skip)
        row = con.execute(sql, params).fetchone()
    except duckdb.Error as exc:
        if is_disk_full(exc):
            raise
        return NeedsSafePath(f"insert failed: {exc}", aborted=True)
    return int(row[0]) if row else 0


def load_archive(
    con: duckdb.DuckDBPyConnection,
    zip_path: Path,
    *,
    file_name: str,
    sha256: str,
    loaded_at: datetime,
    max_member_bytes: int,
    tmp_dir: Path | None = None,
    fast: bool = False,
) -> int | NeedsSafePath:
    """Validate, extract and insert one archive (caller's transaction); returns rows.

    With ``fast`` it may return :class:`NeedsSafePath`: call again without it (after a rollback
    when the transaction was aborted).
    """
    with extract_member(zip_path, file_name, max_member_bytes, tmp_dir, fast=fast) as member:
        return load_member(con, member, file_name=file_name, sha256=sha256, loaded_at=loaded_at)


# --- error diagnosis: find the first offending line -------------------------------------------


def _diagnose(con: duckdb.DuckDBPyConnection, member: Member, exc: duckdb.Error) -> DataError:
    """Turn a reader failure into a DataError naming the line and the column."""
    with contextlib.suppress(duckdb.Error):
        con.rollback()  # the failed statement aborted the caller's transaction
    try:
        structure = _first_bad_json_line if member.name.ext == "json" else _first_bad_csv_line
        found = structure(member) or _first_bad_value(con, member)
    except duckdb.Error:
        found = None
    if found:
        return DataError(found[1], member.where, found[0])
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    first = first.replace(str(member.path), member.path.name)  # not our temporary folder
    return DataError(f"DuckDB could not read the member: {first}", member.where)


def _first_bad_json_line(member: Member) -> tuple[int, str] | None:
    """Line number and reason of the first line DuckDB's JSON reader rejects (error path only)."""
    seen = {c.lower(): c for c in HATCH_COLUMNS[member.name.dataset]}
    with member.path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip() and (reason := _json_line_problem(raw, seen)):
                return number, reason
    return None


def _json_line_problem(raw: bytes, seen: dict[str, str]) -> str | None:
    """Why one line is not a record: not UTF-8, not a JSON object, a key twice, or a key that
    differs only in case from a documented column or an earlier key (``seen``, by lower case)."""
    bad_text = _utf8_problem(raw)
    if bad_text:
        return bad_text
    text = raw.decode("utf-8")
    keys: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys[:] = [k for k, _ in items]  # the outermost object is decoded last
        return dict(items)

    try:
        value = json.loads(text, object_pairs_hook=pairs)
    except ValueError as exc:
        message = getattr(exc, "msg", str(exc)).removesuffix(" at")
        return f"not valid JSON ({message} at column {getattr(exc, 'colno', '?')})"
    if not isinstance(value, dict):
        return f"not a JSON object (a {type(value).__name__})"
    for i, key in enumerate(keys):
        if key in keys[:i]:
            return f"key {json.dumps(key)} appears twice"
        first = seen.setdefault(key.lower(), key)
        if first != key:
            return f"key {json.dumps(key)} differs only in case from {json.dumps(first)}"
    return None


def _first_bad_value(con: duckdb.DuckDBPyConnection, member: Member) -> tuple[int, str] | None:
    """The first value that does not cast to its documented type, via try_cast in DuckDB."""
    typed = {c: t for c, t in HATCH_COLUMNS[member.name.dataset].items() if t != "VARCHAR"}
    if member.name.ext == "json":
        src = f"(SELECT row_number() OVER () AS rn, json FROM {_json_source(member.path)})"
        val = {c: f"(json ->> {quote_literal('$.' + json.dumps(c))})" for c in typed}
    else:
        header = _csv_header(member)
        typed = {c: t for c, t in typed.items() if c in header}
        all_text = dict.fromkeys(header, "VARCHAR")
        src = f"(SELECT row_number() OVER () AS rn, * FROM {_reader(member, all_text)})"
        val = {c: quote_ident(c) for c in typed}
    if not typed:
        return None
    checks = " UNION ALL ".join(
        f"SELECT {quote_literal(col)}, {quote_literal(kind)}, {val[col]} IS NOT NULL "
        f"AND try_cast({val[col]} AS {kind}) IS NULL, {val[col]}"
        for col, kind in typed.items()
    )
    row = con.execute(
        f"SELECT rn, c.col, c.kind, c.val FROM {src} AS s, "
        f"LATERAL ({checks}) AS c(col, kind, bad, val) WHERE c.bad ORDER BY rn LIMIT 1"
    ).fetchone()
    if not row:
        return None
    value = json.dumps(row[3], ensure_ascii=False)
    record_line = _json_line if member.name.ext == "json" else _csv_line
    return record_line(member.path, int(row[0])), f"column {row[1]}: {value} is not a {row[2]}"


def _utf8_problem(raw: bytes) -> str | None:
    """Why a line is not UTF-8 (the first bad byte and its column), or None."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
    return None


def _first_bad_utf8_line(path: Path) -> tuple[int, str] | None:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if reason := _utf8_problem(raw):
                return number, reason
    return None


def _csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) of each CSV record, the header included (error path only)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, strict=True)
        start = 1
        try:
            for fields in reader:
                yield start, fields
                start = reader.line_num + 1
        except csv.Error as exc:
            raise DataError(f"not valid CSV ({exc})", line=start) from None


def _first_bad_csv_line(member: Member) -> tuple[int, str] | None:
    """Line number and reason of the first CSV record DuckDB's reader rejects (error path only):
    not UTF-8, not valid CSV, or another number of fields than the header."""
    bad_text = _first_bad_utf8_line(member.path)
    if bad_text:
        return bad_text
    width = None
    try:
        for line, fields in _csv_records(member.path):
            if width is None:
                width = len(fields)
            elif len(fields) != width:
                return line, f"{len(fields)} field(s) where the header has {width}"
    except DataError as exc:
        return exc.line or 1, exc.reason
    return None


def _csv_line(path: Path, record: int) -> int:
    """The first physical line of the ``record``-th CSV data record (quoted newlines count)."""
    for number, (line, _) in enumerate(_csv_records(path)):
        if number == record:
            return line
    return record + 1


def _json_line(path: Path, record: int) -> int:
    """The line number of the ``record``-th JSON record (blank lines are not records)."""
    seen = 0
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            seen += bool(raw.strip())
            if seen == record:
                return number
    return record
