"""Hatch archives -> raw tables: equivalence, exactly once, drift, edge cases."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from loader import warehouse
from loader.cli import main
from loader.load.run import run_load
from loader.schemas import HATCH_COLUMNS, HATCH_TABLES

DATASETS = tuple(HATCH_COLUMNS)


def rows(settings, dataset: str, extra: str = "") -> list[tuple]:
    """Raw rows without the load time, in a stable order."""
    con = warehouse.connect_readonly(settings.warehouse_path)
    try:
        return con.execute(
            f"SELECT * EXCLUDE (_loaded_at, _file_name, _file_sha256) {extra} "
            f"FROM {HATCH_TABLES[dataset]} ORDER BY _record_number"
        ).fetchall()
    finally:
        con.close()


def query(settings, sql: str) -> list[tuple]:
    con = warehouse.connect_readonly(settings.warehouse_path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_json_and_csv_give_identical_rows(kit, tmp_path):
    loaded = {}
    for fmt in ("json", "csv"):
        kit.settings = kit.settings.__class__(
            landing_url=str(tmp_path / fmt / "landing"),
            warehouse_path=tmp_path / fmt / "w.duckdb",
            state_dir=tmp_path / fmt / "state",
        )
        for ds in DATASETS:
            kit.land(ds, fmt)
        summary = run_load(kit.settings)
        assert summary.count("loaded") == 2 and not summary.failed
        loaded[fmt] = {ds: rows(kit.settings, ds) for ds in DATASETS}
    for ds in DATASETS:
        assert loaded["json"][ds] == loaded["csv"][ds]
        assert len(loaded["json"][ds]) > 0
    # the sample carries the hard cases: check they are really there
    bodies = [r[12] for r in loaded["csv"]["conversation_items"] if r[12]]
    assert any("\n" in b for b in bodies) and any('"' in b for b in bodies)
    assert any("," in b for b in bodies)


def test_types_nulls_and_lineage(kit, settings):
    kit.land("contact_history", "json")
    run_load(settings)
    types = dict(
        query(
            settings,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'hatch_contact_history'",
        )
    )
    assert types["opted_out"] == "BOOLEAN" and types["sales_value"] == "DOUBLE"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert list(types)[-6:] == [
        "_export_start_date",
        "_export_end_date",
        "_file_name",
        "_file_sha256",
        "_record_number",
        "_loaded_at",
    ]
    ((n, first, last, name, start),) = query(
        settings,
        "SELECT count(*), min(_record_number), max(_record_number), "
        "any_value(_file_name), any_value(_export_start_date) FROM raw.hatch_contact_history",
    )
    assert (first, last) == (1, n)
    assert name == "contact_history_2024-03-01_2024-03-10.zip" and start == date(2024, 3, 1)


def test_reload_is_skipped_and_new_archive_loads(kit, settings):
    kit.land("conversation_items", "json", date(2024, 3, 1), date(2024, 3, 5))
    first = run_load(settings)
    assert first.count("loaded") == 1
    before = rows(settings, "conversation_items")
    again = run_load(settings)
    assert again.count("skipped") == 1 and again.count("loaded") == 0
    assert rows(settings, "conversation_items") == before
    # the same content under another name (re-landed) is skipped too
    kit.land("conversation_items", "json", date(2024, 3, 6), date(2024, 3, 10))
    third = run_load(settings)
    assert third.count("loaded") == 1 and third.count("skipped") == 1
    assert query(settings, "SELECT count(*) FROM loader.load_log WHERE status='loaded'") == [(2,)]


def test_reexported_versions_are_all_kept(kit, settings):
    kit.land("contact_history", "json", date(2024, 3, 1), date(2024, 3, 10))
    kit.land("contact_history", "csv", date(2024, 3, 5), date(2024, 3, 10))  # overlaps
    run_load(settings)
    ((total, files),) = query(
        settings, "SELECT count(*), count(DISTINCT _file_name) FROM raw.hatch_contact_history"
    )
    assert files == 2 and total > len(rows(settings, "contact_history", "")) / 2


def _zip_name(ds: str, start: str = "2024-03-01", end: str = "2024-03-10") -> str:
    return f"{ds}_{start}_{end}"


def test_unknown_column_is_added_and_kept(kit, settings):
    name = _zip_name("contact_history")
    base = {"contact_history_id": "ch1", "opted_out": False, "updated_at": "2024-03-01T10:00:00Z"}
    lines = [
        json.dumps(base),
        json.dumps({**base, "contact_history_id": "ch2", "lead_score": 7, "tags": ["a", "b"]}),
    ]
    kit.bad_zip(name + ".zip", {name + ".json": "\n".join(lines) + "\n"})
    csv_name = _zip_name("contact_history", "2024-03-11", "2024-03-11")
    kit.bad_zip(
        csv_name + ".zip", {csv_name + ".csv": "contact_history_id,region,lead_score\nch3,west,9\n"}
    )
    summary = run_load(settings)
    assert not summary.failed, summary.failed
    cols = [
        r[0]
        for r in query(
            settings,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name='hatch_contact_history' ORDER BY ordinal_position",
        )
    ]
    assert cols[-3:] == ["lead_score", "tags", "region"]
    got = query(
        settings,
        "SELECT contact_history_id, lead_score, tags, region "
        "FROM raw.hatch_contact_history ORDER BY 1",
    )
    assert got == [
        ("ch1", None, None, None),
        ("ch2", "7", '["a","b"]', None),
        ("ch3", "9", None, "west"),
    ]


def test_missing_optional_columns_and_empty_members(kit, settings):
    ds = "contact_history"
    old = [
        c
        for c in HATCH_COLUMNS[ds]
        if c not in ("external_contact_id", "appointment_id", "invoice_id")
    ]
    name = _zip_name(ds)
    kit.bad_zip(
        name + ".zip",
        {
            name + ".csv": ",".join(old)
            + "\n"
            + ",".join("x" if c == "contact_history_id" else "" for c in old)
            + "\n"
        },
    )
    for day, body in (("2024-03-11", ""), ("2024-03-12", ",".join(old) + "\n")):
        empty = _zip_name(ds, day, day)
        kit.bad_zip(empty + ".zip", {empty + ".csv": body})
    empty_json = _zip_name(ds, "2024-03-13", "2024-03-13")
    kit.bad_zip(empty_json + ".zip", {empty_json + ".json": ""})
    summary = run_load(settings)
    assert not summary.failed, summary.failed
    assert summary.count("loaded") == 4 and summary.rows == 1
    assert query(
        settings,
        "SELECT external_contact_id, invoice_id, opted_out, contact_status "
        "FROM raw.hatch_contact_history",
    ) == [(None, None, None, None)]


def test_blank_lines_are_not_records(kit, settings):
    name = _zip_name("conversation_items")
    text = '\n{"id": "a"}\n\n  \n{"id": "b"}\r\n{"id": "c"}'
    kit.bad_zip(name + ".zip", {name + ".json": text})
    assert not run_load(settings).failed
    assert query(
        settings, "SELECT id, _record_number FROM raw.hatch_conversation_items ORDER BY 2"
    ) == [("a", 1), ("b", 2), ("c", 3)]


def test_a_bad_value_after_blank_lines_names_its_line(kit, settings):
    name = _zip_name("conversation_items")
    text = '{"id": "a"}\n\n\n{"id": "b", "is_scheduled": "maybe"}\n'
    kit.bad_zip(name + ".zip", {name + ".json": text})
    (failed,) = run_load(settings).failed
    assert 'line 4: column is_scheduled: "maybe" is not a BOOLEAN' in str(failed.error)


def test_status_shows_loaded_failed_and_freshness(kit, settings, capsys):
    kit.land("contact_history", "json")
    bad = _zip_name("conversation_items")
    kit.bad_zip(bad + ".zip", {bad + ".json": '{"id": "a", "is_scheduled": "maybe"}\n'})
    args = [
        "--landing-url",
        settings.landing_url,
        "--warehouse",
        str(settings.warehouse_path),
        "--state-dir",
        str(settings.state_dir),
    ]
    assert main(["load", *args]) == 5
    capsys.readouterr()
    assert main(["status", *args]) == 0
    out = capsys.readouterr().out
    assert "contact_history:" in out and "files loaded 1, failed 0" in out
    assert "newest updated_at 2024-03-" in out
    assert "files loaded 0, failed 1" in out
    assert 'line 1: column is_scheduled: "maybe" is not a BOOLEAN' in out
    assert "next export may be requested at: now" in out
    assert main(["status", "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    ch = next(d for d in data["datasets"] if d["dataset"] == "contact_history")
    assert ch["rows"] > 0 and ch["files_loaded"] == 1


def test_load_named_path(kit, settings, tmp_path, capsys):
    src = kit.land("conversation_items", "csv")
    moved = tmp_path / "elsewhere" / src.name
    moved.parent.mkdir()
    src.rename(moved)
    args = ["--landing-url", settings.landing_url, "--warehouse", str(settings.warehouse_path)]
    assert main(["load", str(moved), *args]) == 0
    assert "1 loaded" in capsys.readouterr().out
    assert main(["load", str(tmp_path / "nope.zip"), *args]) == 2
    other = tmp_path / "leads.json"
    other.write_text("[]")
    assert main(["load", str(other), *args]) == 2
    assert "--system" in capsys.readouterr().err
    assert query(settings, "SELECT file_url FROM loader.load_log") == [(str(moved),)]


def test_storage_version_of_new_warehouse(kit, settings):
    kit.land("contact_history", "json")
    run_load(settings)
    con = warehouse.connect_readonly(settings.warehouse_path)
    assert warehouse.storage_version(con) == "v1.0.0+"
    con.close()
    assert not Path(str(settings.warehouse_path) + ".wal").exists()


def test_every_raw_table_exists_after_a_hatch_only_load(kit, settings):
    """dbt's sources must exist for systems a user does not have (here: no document files)."""
    kit.land("conversation_items", "json", date(2024, 3, 1), date(2024, 3, 2))
    run_load(settings)
    tables = query(
        settings,
        "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'raw' "
        "ORDER BY table_name",
    )
    assert [t for t, _ in tables] == [
        "hatch_contact_history",
        "hatch_conversation_items",
        "hatch_leads",
        "huechat_conversations",
        "texter_chats",
    ]
    assert query(settings, "SELECT count(*) FROM raw.texter_chats") == [(0,)]


def test_memory_limit_setting_is_validated(kit, settings, monkeypatch, capsys):
    """The limit is put into SQL: only a plain size is accepted, anything else is exit 2."""
    kit.land("conversation_items", "json", date(2024, 3, 1), date(2024, 3, 2))
    monkeypatch.setenv("LOADER_MEMORY_LIMIT", "1GB'; DROP TABLE raw.hatch_contact_history; --")
    assert main(["load", "--landing-url", settings.landing_url]) == 2
    assert "LOADER_MEMORY_LIMIT" in capsys.readouterr().err
    monkeypatch.setenv("LOADER_MEMORY_LIMIT", "256MiB")
    assert (
        main(
            [
                "load",
                "--landing-url",
                settings.landing_url,
                "--warehouse",
                str(settings.warehouse_path),
            ]
        )
        == 0
    )


def test_unchanged_loaded_files_are_skipped_without_reading(kit, settings):
    """A loaded file whose size and modification time are unchanged is not read again; a file
    replaced since (new modification time) is read, hashed and judged anew."""
    path = kit.land("contact_history", "json")
    assert run_load(settings).count("loaded") == 1
    stat = path.stat()
    path.write_bytes(b"\0" * stat.st_size)  # same size, same mtime: not even opened
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = run_load(settings)
    assert again.count("skipped") == 1 and not again.failed
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # replaced: read again
    (failed,) = run_load(settings).failed
    assert "not a ZIP archive" in str(failed.error)
