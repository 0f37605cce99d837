"""Each kind of bad archive: clear error naming file and line, nothing loaded, others load."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from loader import warehouse
from loader.cli import main
from loader.errors import DataError
from loader.load.hatch_archives import _copy_member

CH = "contact_history_2024-03-01_2024-03-10"
CI = "conversation_items_2024-03-01_2024-03-10"
GOOD_CI = '{"id": "m1", "is_scheduled": true, "updated_at": "2024-03-01 10:00:00"}\n'


def _json_lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


CASES = {
    "not a zip": (f"{CH}.zip", None, "not a ZIP archive"),
    "two members": (
        f"{CH}.zip",
        {f"{CH}.json": "", "extra.txt": "x"},
        "exactly one member, found 2",
    ),
    "no member": (f"{CH}.zip", {}, "exactly one member, found 0"),
    "member of another window": (
        f"{CH}.zip",
        {"contact_history_2024-03-02_2024-03-10.json": ""},
        "does not match the archive",
    ),
    "member name pattern": (f"{CH}.zip", {"export.json": ""}, "does not match {data_source}"),
    "path escapes": (f"{CH}.zip", {f"../{CH}.json": ""}, "escapes the extraction folder"),
    "absolute path": (f"{CH}.zip", {f"/tmp/{CH}.json": ""}, "escapes the extraction folder"),
    "archive name": (
        "contact_history_2024-03-10_2024-03-01.zip",
        {f"{CH}.json": ""},
        "start is after",
    ),
    "too large": (f"{CH}.zip", {f"{CH}.json": "{}\n" * 100}, "over the limit of 200"),
    "line not an object": (
        f"{CI}.zip",
        {f"{CI}.json": _json_lines(GOOD_CI.strip(), "", "[1, 2]")},
        "line 3: not a JSON object",
    ),
    "invalid json": (
        f"{CI}.zip",
        {f"{CI}.json": _json_lines(GOOD_CI.strip(), '{"id": "x"')},
        "line 2: not valid JSON",
    ),
    "csv without header": (
        f"{CH}.zip",
        {f"{CH}.csv": "ch1,true,2024-03-01\nch2,false,2024-03-02\n"},
        "line 1: CSV header",
    ),
    "json wrong type": (
        f"{CH}.zip",
        {
            f"{CH}.json": _json_lines(
                '{"contact_history_id": "a", "opted_out": false}',
                '{"contact_history_id": "b", "opted_out": "maybe"}',
            )
        },
        'line 2: column opted_out: "maybe" is not a BOOLEAN',
    ),
    "csv wrong type": (
        f"{CH}.zip",
        {f"{CH}.csv": 'contact_history_id,body,sales_value\na,"x\ny",1.5\nb,z,lots\n'},
        'line 4: column sales_value: "lots" is not a DOUBLE',  # the physical line
    ),
    "invalid utf-8 in json": (
        f"{CI}.zip",
        {f"{CI}.json": GOOD_CI.encode() + b'{"id": "b\xff", "body": "x"}\n'},
        "line 2: not valid UTF-8 (byte 0xff at column 10)",
    ),
    "invalid utf-8 in csv": (
        f"{CH}.zip",
        {f"{CH}.csv": b'contact_history_id,campaign_name\na,"x\ny"\nb\xfe,z\n'},
        "line 4: not valid UTF-8 (byte 0xfe at column 2)",
    ),
    "nul byte in csv": (
        f"{CH}.zip",
        {f"{CH}.csv": b"contact_history_id,opted_out\nab,true\nc\x00d,false\n"},
        "line 3: a NUL byte (0x00) at column 2",
    ),
    "keys differ only in case": (
        f"{CH}.zip",
        {
            f"{CH}.json": _json_lines(
                '{"contact_history_id": "a", "campaign_name": "x"}',
                '{"contact_history_id": "b", "Campaign_Name": "y"}',
            )
        },
        'line 2: key "Campaign_Name" differs only in case from "campaign_name"',
    ),
    "new keys differ only in case": (
        f"{CI}.zip",
        {
            f"{CI}.json": _json_lines(
                '{"id": "a", "Tag": 1}', GOOD_CI.strip(), '{"id": "c", "tag": 2}'
            )
        },
        'line 3: key "tag" differs only in case from "Tag"',
    ),
    "duplicate key": (
        f"{CI}.zip",
        {f"{CI}.json": _json_lines(GOOD_CI.strip(), '{"id": "b", "body": "1", "body": "2"}')},
        'line 2: key "body" appears twice',
    ),
    "control character": (
        f"{CI}.zip",
        {f"{CI}.json": _json_lines(GOOD_CI.strip(), '{"id": "b", "body": "x\x01y"}')},
        "line 2: not valid JSON (Invalid control character at column 23)",
    ),
    "csv field count": (
        f"{CH}.zip",
        {f"{CH}.csv": 'contact_history_id,campaign_name,sales_value\na,"x\ny",1.5\nb,z\n'},
        "line 4: 2 field(s) where the header has 3",
    ),
    "csv unterminated quote": (
        f"{CH}.zip",
        {f"{CH}.csv": 'contact_history_id,campaign_name\na,"x\ny"\nb,"z\n'},
        "line 4: not valid CSV (unexpected end of data)",
    ),
    "bad timestamp": (
        f"{CI}.zip",
        {f"{CI}.json": _json_lines(GOOD_CI.strip(), '{"id": "b", "send_at": "soon"}')},
        'line 2: column send_at: "soon" is not a TIMESTAMPTZ',
    ),
}


def _args(settings) -> list[str]:
    return [
        "--landing-url",
        settings.landing_url,
        "--warehouse",
        str(settings.warehouse_path),
        "--state-dir",
        str(settings.state_dir),
    ]


@pytest.mark.parametrize("case", list(CASES))
def test_bad_archive(case, kit, settings, capsys):
    name, members, reason = CASES[case]
    if members is None:
        path = kit.hatch_dir("contact_history") / name
        path.write_bytes(b"PK\x03\x04 this is not really a zip")
    else:
        path = kit.bad_zip(name, members)
    day = "conversation_items_2024-03-10_2024-03-10"
    good = kit.bad_zip(f"{day}.zip", {f"{day}.json": GOOD_CI})
    args = (
        [*_args(settings), "--max-member-bytes", "200"] if case == "too large" else _args(settings)
    )
    if case != "too large":
        args += ["--max-member-bytes", "100000000"]
    assert main(["load", *args]) == 5
    err = capsys.readouterr().err
    assert name in err and reason in err, err
    assert "hatch-load-" not in err and "Traceback" not in err  # no temporary paths
    assert path.exists()
    con = warehouse.connect_readonly(settings.warehouse_path)
    log = con.execute(
        "SELECT file_name, status, error FROM loader.load_log ORDER BY file_name"
    ).fetchall()
    assert [(r[0], r[1]) for r in log] == sorted([(name, "failed"), (good.name, "loaded")])
    assert reason in next(r[2] for r in log if r[1] == "failed")
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "hatch_contact_history" in tables:
        assert con.execute("SELECT count(*) FROM raw.hatch_contact_history").fetchone() == (0,)
    bad_rows = con.execute(
        "SELECT count(*) FROM raw.hatch_conversation_items WHERE _file_name = ?", [name]
    ).fetchone()
    con.close()
    assert bad_rows == (0,)


def test_fixed_file_is_picked_up_again(kit, settings):
    bad = kit.bad_zip(f"{CI}.zip", {f"{CI}.json": '{"id": "a", "is_scheduled": "maybe"}\n'})
    assert main(["load", *_args(settings)]) == 5
    assert main(["load", *_args(settings)]) == 5  # still bad: tried again, failed again
    bad.unlink()
    kit.bad_zip(f"{CI}.zip", {f"{CI}.json": '{"id": "a", "is_scheduled": true}\n'})
    assert main(["load", *_args(settings)]) == 0
    con = warehouse.connect_readonly(settings.warehouse_path)
    assert con.execute(
        "SELECT status, count(*) FROM loader.load_log GROUP BY 1 ORDER BY 1"
    ).fetchall() == [("failed", 2), ("loaded", 1)]
    assert con.execute("SELECT id, is_scheduled FROM raw.hatch_conversation_items").fetchall() == [
        ("a", True)
    ]
    con.close()


def test_size_limit_is_enforced_during_extraction(tmp_path: Path):
    """A member whose declared size lies is still stopped while it is copied."""
    src = io.BytesIO(b"x" * (3 << 20))
    with pytest.raises(DataError, match="larger than the limit of 1048577 bytes"):
        _copy_member(src, tmp_path / "out.json", (1 << 20) + 1, "a.zip (a.json)")
