"""The fast path (ISA-L inflate, auto-detected keys), its fallback, and the insert lanes."""

from __future__ import annotations

import dataclasses
import json
import struct
import zlib
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from loader import warehouse
from loader.load.hatch_archives import NeedsSafePath, ensure_table, load_archive
from loader.load.run import run_load

CI = "conversation_items_2024-03-01_2024-03-10"
LINES = "".join(json.dumps({"id": f"m{i}", "body": "x" * (i % 50)}) + "\n" for i in range(3000))


def raw_zip(dest: Path, member: str, data: bytes, *, crc: int | None = None, cut: int = 0) -> Path:
    """A one-member deflate ZIP written by hand: the CRC can lie, the stream can be cut."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = comp.compress(data) + comp.flush()
    raw = raw[: len(raw) - cut]
    crc = zlib.crc32(data) if crc is None else crc
    name = member.encode()
    fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0, crc, len(raw), len(data))
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", 20)
        + fields
        + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, 0)
        + name
    )
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(raw), 0
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(local + raw + central + end)
    return dest


def _fast(path: Path, limit: int = 1 << 30) -> int | NeedsSafePath:
    con = duckdb.connect()
    try:
        ensure_table(con, "conversation_items")
        ensure_table(con, "contact_history")
        return load_archive(
            con,
            path,
            file_name=path.name,
            sha256="x",
            loaded_at=datetime.now(timezone.utc),
            max_member_bytes=limit,
            fast=True,
        )
    finally:
        con.close()


def _log(settings) -> list[tuple]:
    con = warehouse.connect_readonly(settings.warehouse_path)
    try:
        return con.execute(
            "SELECT file_name, status, rows, error FROM loader.load_log ORDER BY file_name"
        ).fetchall()
    finally:
        con.close()


def test_good_archive_takes_the_fast_path(tmp_path, kit):
    assert _fast(kit.land("conversation_items", "json")) > 0
    assert _fast(kit.land("contact_history", "csv")) > 0
    assert _fast(raw_zip(tmp_path / f"{CI}.zip", f"{CI}.json", LINES.encode())) == 3000


def test_blank_lines_stay_on_the_fast_path(tmp_path):
    assert _fast(raw_zip(tmp_path / f"{CI}.zip", f"{CI}.json", (LINES + "\n" + LINES).encode()))


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("new key", LINES + '{"id": "z", "late": 1}\n'),
        ("nested new key", '{"id": "z", "late": {"a": 1}}\n' + LINES),
        ("not an object", LINES + "[1, 2]\n"),
        ("bad value", LINES + '{"id": "z", "is_scheduled": "maybe"}\n'),
    ],
)
def test_surprises_miss_the_fast_path(tmp_path, kind, text):
    outcome = _fast(raw_zip(tmp_path / f"{CI}.zip", f"{CI}.json", text.encode()))
    assert isinstance(outcome, NeedsSafePath)
    assert outcome.aborted  # the insert failed: the caller must roll back


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("bad crc", "bad CRC-32"),
        ("cut stream", "truncated"),
        ("lying size", "larger than the limit of 50000 bytes"),
    ],
)
def test_broken_streams_fail_with_nothing_loaded(kit, settings, kind, reason):
    data = LINES.encode()
    dest = kit.hatch_dir("conversation_items") / f"{CI}.zip"
    if kind == "bad crc":
        raw_zip(dest, f"{CI}.json", data, crc=zlib.crc32(data) ^ 1)
    elif kind == "cut stream":  # DuckDB alone would load the prefix silently
        raw_zip(dest, f"{CI}.json", data, cut=len(zlib.compress(data)) // 2)
    else:
        raw_zip(dest, f"{CI}.json", data)
        blob = bytearray(dest.read_bytes())  # declare 40000 bytes in both headers
        for at in (22, blob.index(b"PK\x01\x02") + 24):
            blob[at : at + 4] = struct.pack("<I", 40000)
        dest.write_bytes(bytes(blob))
        settings = dataclasses.replace(settings, max_member_bytes=50000)
    summary = run_load(settings)
    assert summary.count("failed") == 1
    ((_, status, rows, error),) = _log(settings)
    assert (status, rows) == ("failed", 0) and reason in error, error


def test_late_unknown_key_is_kept(kit, settings):
    name = "conversation_items_2024-03-11_2024-03-11"
    text = LINES + json.dumps({"id": "late", "late_key": "v"}) + "\n"
    raw_zip(kit.hatch_dir("conversation_items") / f"{name}.zip", f"{name}.json", text.encode())
    assert not run_load(settings).failed
    con = warehouse.connect_readonly(settings.warehouse_path)
    got = con.execute(
        "SELECT _record_number, late_key FROM raw.hatch_conversation_items WHERE id = 'late'"
    ).fetchall()
    con.close()
    assert got == [(3001, "v")]


def test_batch_with_a_bad_file_loads_the_others(kit, settings):
    days = [f"conversation_items_2024-03-{d:02d}_2024-03-{d:02d}" for d in range(1, 8)]
    for i, day in enumerate(days):
        body = '{"id": "a", "is_scheduled": "maybe"}\n' if i == 3 else f'{{"id": "d{i}"}}\n'
        raw_zip(kit.hatch_dir("conversation_items") / f"{day}.zip", f"{day}.json", body.encode())
    summary = run_load(settings)
    assert summary.count("loaded") == 6 and summary.count("failed") == 1
    log = _log(settings)
    assert [r[1] for r in log] == ["loaded"] * 3 + ["failed"] + ["loaded"] * 3
    assert 'line 1: column is_scheduled: "maybe" is not a BOOLEAN' in log[3][3]
    again = run_load(settings)
    assert again.count("skipped") == 6 and again.count("failed") == 1


def test_copies_in_one_run_load_once(kit, settings):
    first = kit.land("contact_history", "json")
    copy = first.with_name("contact_history_2024-03-01_2024-03-11.zip")
    copy.write_bytes(first.read_bytes())  # same bytes, another name: skipped
    summary = run_load(settings)
    assert summary.count("loaded") == 1 and summary.count("skipped") == 1


def test_batch_routes_surprises_to_the_safe_path_in_place(kit, settings):
    days = [f"conversation_items_2024-04-{d:02d}_2024-04-{d:02d}" for d in range(1, 6)]
    texts = [LINES] * 5
    texts[1] = LINES + json.dumps({"id": "late", "late_key": "v"}) + "\n"  # new key, last line
    texts[3] = '{"id": "b1"}\n\n{"id": "b3"}\n'  # a blank line is not a record
    for day, text in zip(days, texts, strict=True):
        raw_zip(kit.hatch_dir("conversation_items") / f"{day}.zip", f"{day}.json", text.encode())
    summary = run_load(settings)
    assert summary.count("loaded") == 5 and not summary.failed
    con = warehouse.connect_readonly(settings.warehouse_path)
    got = con.execute(
        "SELECT _file_name, _record_number, late_key FROM raw.hatch_conversation_items "
        "WHERE id IN ('late', 'b1', 'b3') ORDER BY 1, 2"
    ).fetchall()
    counts = con.execute(
        "SELECT count(*), count(DISTINCT (_file_name, _record_number)) "
        "FROM raw.hatch_conversation_items"
    ).fetchone()
    con.close()
    assert got == [
        (f"{days[1]}.zip", 3001, "v"),
        (f"{days[3]}.zip", 1, None),
        (f"{days[3]}.zip", 2, None),
    ]
    assert counts == (4 * 3000 + 1 + 2, 4 * 3000 + 1 + 2)


def test_lanes_give_the_table_of_a_one_lane_load(kit, settings, tmp_path, conversation_rows):
    """Three lanes with a drift file, a bad file and blank lines in the mix, and a small dataset
    pinned to one lane: offenders are loaded alone, the archives rolled back with them go through
    the lanes again; same rows as one lane."""
    for d in range(1, 5):
        day = f"contact_history_2024-05-{d:02d}_2024-05-{d:02d}"
        text = "".join(json.dumps({"contact_history_id": f"d{d}c{i}"}) + "\n" for i in range(50))
        raw_zip(kit.hatch_dir("contact_history") / f"{day}.zip", f"{day}.json", text.encode())
    days = [f"conversation_items_2024-05-{d:02d}_2024-05-{d:02d}" for d in range(1, 13)]
    for i, day in enumerate(days):
        text = LINES.replace('"m', f'"d{i}m')
        if i == 4:
            text += json.dumps({"id": "late", "late_key": "v"}) + "\n"
        if i == 8:
            text = '{"id": "a"}\n{"id": "b", "is_scheduled": "maybe"}\n'
        if i == 10:
            text = "\n" + text.replace("\n", "\n\n", 5)
        raw_zip(kit.hatch_dir("conversation_items") / f"{day}.zip", f"{day}.json", text.encode())
    tables, contacts = [], []
    for lanes in (1, 3):
        run = dataclasses.replace(
            settings, warehouse_path=tmp_path / f"lanes{lanes}.duckdb", load_lanes=lanes
        )
        summary = run_load(run)
        assert summary.count("loaded") == 15 and summary.count("failed") == 1, summary
        (failed,) = summary.failed
        assert failed.file_name == f"{days[8]}.zip" and "line 2" in str(failed.error)
        tables.append(conversation_rows(run.warehouse_path))
        con = warehouse.connect_readonly(run.warehouse_path)
        contacts.append(
            con.execute(
                "SELECT _file_name, _record_number, contact_history_id "
                "FROM raw.hatch_contact_history ORDER BY 1, 2"
            ).fetchall()
        )
        con.close()
    assert tables[0] == tables[1]
    assert contacts[0] == contacts[1] and len(contacts[0]) == 4 * 50
    assert len(tables[0]) == 10 * 3000 + 3001
    late = [r for r in tables[0] if r[4] == "late"]
    assert len(late) == 1 and late[0][-1] == "v"
