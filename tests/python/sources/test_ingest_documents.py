"""loader.load.documents.load_file: every accepted shape, lineage and rejections."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from loader.errors import DataError
from loader.load.documents import load_file
from loader.schemas import DOCUMENT_TABLES

from .conftest import FIXTURES

LOADED_AT = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def _load(con: duckdb.DuckDBPyConnection, path: Path, system: str) -> int:
    return load_file(
        con, path, system=system, file_name=path.name, sha256="f" * 64, loaded_at=LOADED_AT
    )


def _records(con: duckdb.DuckDBPyConnection, system: str) -> list[tuple]:
    return con.execute(
        f"SELECT _record_number, record FROM {DOCUMENT_TABLES[system]} ORDER BY _record_number"
    ).fetchall()


@pytest.mark.parametrize(
    ("fixture", "system", "ids", "key"),
    [
        ("leads_array.json", "leads", ["John", "Ann", "Carol"], "firstName"),
        ("leads.ndjson", "leads", ["Dan", "Eve", "Frank", "John"], "firstName"),
        ("huechat_pages.jsonl", "huechat", ["conv_1", "conv_2"], "id"),
        ("huechat_array.json", "huechat", ["conv_1", "conv_3"], "id"),
        (
            "texter_search.json",
            "texter",
            ["67bf11038b24880cc966f799", "legacy0000000000000000001"],
            "_id",
        ),
        (
            "texter_webhooks.jsonl",
            "texter",
            ["67bf11038b24880cc966f799", "bot000000000000000000001"],
            "_id",
        ),
    ],
)
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_each_shape_loads_one_row_per_record(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    fixture: str,
    system: str,
    ids: list[str],
    key: str,
    compressed: bool,
) -> None:
    path = FIXTURES / fixture
    if compressed:  # magic bytes decide, not the name: no .gz suffix on purpose
        path = tmp_path / f"{fixture}.bin"
        path.write_bytes(gzip.compress((FIXTURES / fixture).read_bytes()))
    assert _load(con, path, system) == len(ids)
    rows = _records(con, system)
    assert [n for n, _ in rows] == list(range(1, len(ids) + 1))
    assert [json.loads(r)[key] for _, r in rows] == ids
    lineage = con.execute(
        f"SELECT DISTINCT _file_name, _file_sha256, _loaded_at FROM {DOCUMENT_TABLES[system]}"
    ).fetchall()
    assert lineage == [(path.name, "f" * 64, LOADED_AT)]


def test_record_kept_whole(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, FIXTURES / "leads_array.json", "leads")
    record = json.loads(_records(con, "leads")[0][1])
    expected = json.loads((FIXTURES / "leads_array.json").read_text())[0]
    assert record == expected


def test_single_page_object_and_page_array(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    pages = [
        json.loads(line) for line in (FIXTURES / "huechat_pages.jsonl").read_text().splitlines()
    ]
    (tmp_path / "one.json").write_text(json.dumps(pages[0], indent=2))
    (tmp_path / "many.json").write_text(json.dumps(pages))
    assert _load(con, tmp_path / "one.json", "huechat") == 1
    assert _load(con, tmp_path / "many.json", "huechat") == 2


def test_empty_file_and_empty_page_load_nothing(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "page.json").write_text('{"data": [], "total": 0}')
    assert _load(con, tmp_path / "empty.json", "texter") == 0
    assert _load(con, tmp_path / "page.json", "texter") == 0
    assert con.execute("SELECT count(*) FROM raw.texter_chats").fetchone() == (0,)


def test_appends_and_creates_table_once(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, FIXTURES / "leads_array.json", "leads")
    _load(con, FIXTURES / "leads.ndjson", "leads")
    assert con.execute("SELECT count(*) FROM raw.hatch_leads").fetchone() == (7,)


def test_lead_without_phone_or_email_fails_the_whole_file(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(DataError) as info:
        _load(con, FIXTURES / "leads_missing_contact.ndjson", "leads")
    assert info.value.line == 2
    assert "leads_missing_contact.ndjson, line 2" in str(info.value)
    assert "neither phoneNumber nor email" in str(info.value)
    assert con.execute("SELECT count(*) FROM raw.hatch_leads").fetchone() == (0,)


def test_lead_without_source_rejected_naming_the_element(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(DataError, match=r"record 2 \(array element 2\): lead has no source"):
        _load(con, FIXTURES / "leads_missing_source.json", "leads")


def test_rejection_inside_a_page_names_the_data_element(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"data": [{"id": "conv_1"}]}\n{"data": [{"id": "c2"}, {"channel": "sms"}]}\n')
    with pytest.raises(
        DataError, match=r"p.jsonl, line 2: record 3 \(data element 2\): conversation has no id"
    ):
        _load(con, path, "huechat")


GOOD = '{"id": "a", "source": "s", "email": "a@b.c"}'


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (f'{GOOD}\n{{"id": "b", "source": \n', 2, "Expecting"),
        (f'[\n{GOOD},\n{{"id": "b" "source": "s"}}\n]\n', 3, ","),
        (f'{GOOD}\n\n{{"id": "b", "source": "s"}}\n', 3, "neither"),
        (f'[\n  {GOOD},\n\n  {{"id": "b"}}\n]', 4, "neither"),
    ],
)
def test_errors_name_the_physical_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, content: str, line: int, reason: str
) -> None:
    """The line is the file's own line, blank lines and pretty-printing included."""
    path = tmp_path / "leads.jsonl"
    path.write_text(content)
    with pytest.raises(DataError, match=reason) as info:
        _load(con, path, "leads")
    assert info.value.line == line, str(info.value)
    assert f"leads.jsonl, line {line}:" in str(info.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"_id": "a"}\n{"_id": "b"\n', "not valid JSON"),
        ('[{"_id": "a"}, 5]', r"array element 2\): record is not a JSON object"),
        ('{"title": "no id"}', "chat has no _id"),
    ],
)
def test_malformed_input_raises_data_error(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, content: str, match: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError, match=match) as info:
        _load(con, path, "texter")
    assert info.value.file == "bad.json"


def test_unknown_system_rejected(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "leads.ndjson", tmp_path / "x.json")
    with pytest.raises(DataError, match="unknown document system"):
        _load(con, tmp_path / "x.json", "zendesk")


def test_inside_a_rolled_back_transaction_nothing_remains(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN")
    with pytest.raises(DataError):
        _load(con, FIXTURES / "leads_missing_contact.ndjson", "leads")
    con.execute("ROLLBACK")
    con.execute("BEGIN")
    assert _load(con, FIXTURES / "leads.ndjson", "leads") == 4
    con.execute("COMMIT")
    assert con.execute("SELECT count(*) FROM raw.hatch_leads").fetchone() == (4,)


def test_truncated_gzip_fails(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    data = gzip.compress((FIXTURES / "texter_webhooks.jsonl").read_bytes())
    path = tmp_path / "chats.jsonl.gz"
    path.write_bytes(data[:-6])
    with pytest.raises(DataError, match="bad gzip data"):
        _load(con, path, "texter")
