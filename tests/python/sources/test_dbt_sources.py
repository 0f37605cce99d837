"""dbt models for leads, HueChat and Texter, built on the fixture warehouse (one dbt build)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from . import warehouse_fixture

PROJECT = Path(__file__).resolve().parents[3]
DBT = Path(sys.executable).parent / "dbt"
SELECT = [
    "conversation_channels", "conversation_status_map", "texter_chat_statuses",
    "+fct_conversations", "+fct_speed_to_lead_by_source",
]  # fmt: skip

pytestmark = pytest.mark.dbt


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The fixture warehouse after ``dbt build`` of the document models; read-only connection."""
    tmp = tmp_path_factory.mktemp("dbt_sources")
    path = tmp / "wh.duckdb"
    warehouse_fixture.build(path)
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(path),
        "DBT_TARGET_PATH": str(tmp / "target"),
        "DBT_LOG_PATH": str(tmp / "logs"),
    }
    cmd = [str(DBT), "build", "--profiles-dir", ".", "--indirect-selection", "cautious"]
    cmd += ["--select", *SELECT, "--exclude", "stg_hatch__message_status_events"]
    done = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:]
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    rel = con.sql(sql)
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def test_every_lead_timestamp_layout_parses_to_utc(wh: duckdb.DuckDBPyConnection) -> None:
    rows = _rows(
        wh,
        """select sender_lead_id, created_at, created_at_raw, is_created_at_unparseable,
                  custom_properties['expected'] as expected
           from staging.stg_hatch__leads where source = 'layouts'""",
    )
    assert len(rows) == 12
    for row in rows:
        expected = row["expected"] and datetime.fromisoformat(row["expected"])
        assert row["created_at"] == expected, row
        assert row["is_created_at_unparseable"] is (expected is None)
        assert row["created_at_raw"]  # the original is kept


def test_leads_one_row_per_lead_latest_version_and_flattened_properties(
    wh: duckdb.DuckDBPyConnection,
) -> None:
    (john,) = _rows(wh, "select * from staging.stg_hatch__leads where sender_lead_id = 'lead-1'")
    assert john["payload_count"] == 2
    assert john["status"] == "contacted"  # the re-sent payload with the later updatedAt
    assert john["phone_number"] == "+18048675309"
    assert john["custom_properties"] == {
        "utm__campaign": "spring", "utm__ids__0": "1", "utm__ids__1": "2",
        "score": None, "vip": "true",
    }  # fmt: skip
    (carol,) = _rows(wh, "select * from staging.stg_hatch__leads where first_name = 'Carol'")
    assert carol["email"] == "carol@example.com"
    assert carol["lead_key_type"] == "payload_hash"
    (ann,) = _rows(wh, "select * from staging.stg_hatch__leads where first_name = 'Ann'")
    assert ann["lead_key_type"] == "sender_contact_id"
    assert ann["phone_number"] == "+12025550100"


def test_speed_to_lead_matches_by_each_key(wh: duckdb.DuckDBPyConnection) -> None:
    rows = {
        r["first"]: r
        for r in _rows(
            wh,
            """select l.first_name as first, f.* from marts.fct_speed_to_lead f
               join staging.stg_hatch__leads l using (lead_id) where l.source <> 'layouts'""",
        )
    }
    expected = {  # name: (match_method, contact, seconds to touch, seconds to reply)
        "John": ("external_contact_id", "hc_1", 60, 300),
        "Ann": ("phone", "hc_2", 120, None),
        "Carol": ("email", "hc_3", 30, 90),
    }
    for name, (method, contact, touch, reply) in expected.items():
        row = rows[name]
        assert (row["match_method"], row["hatch_contact_id"]) == (method, contact)
        assert (row["seconds_to_first_touch"], row["seconds_to_first_reply"]) == (touch, reply)
    for name in ("Dan", "Eve", "Frank"):  # no match: kept, with nulls
        row = rows[name]
        assert row["is_matched"] is False and row["is_touched"] is False
        assert row["hatch_contact_id"] is None and row["seconds_to_first_touch"] is None


def test_speed_to_lead_rollup(wh: duckdb.DuckDBPyConnection) -> None:
    (web,) = _rows(
        wh, "select * from marts.fct_speed_to_lead_by_source where lead_source = 'web_form'"
    )
    assert (web["lead_count"], web["touched_lead_count"], web["share_touched"]) == (2, 2, 1.0)
    assert web["median_seconds_to_first_touch"] == 90.0
    assert web["p90_seconds_to_first_touch"] == pytest.approx(114.0)


def test_texter_time_units_deprecated_fallback_and_unknown_status(
    wh: duckdb.DuckDBPyConnection,
) -> None:
    chats = {r["chat_id"]: r for r in _rows(wh, "select * from staging.stg_texter__chats")}
    current = chats["67bf11038b24880cc966f799"]  # webhook version (later updatedAt) wins
    assert current["last_message_at"] == datetime(2025, 11, 1, 16, 3, 19)  # ms
    assert current["resolved_updated_at"] == datetime(2025, 11, 1, 16, 3, 20)  # seconds
    assert current["created_at"] == datetime(2025, 2, 26, 13, 2, 58, 353000)  # ISO
    assert current["channel"] == "whatsapp" and not current["is_channel_from_deprecated_field"]
    assert current["last_message_text"] == "current text"  # not the deprecated lastText
    assert current["unsubscribed_at"] == datetime(2025, 11, 1, 16, 0)  # not unsubscribeTime
    assert (current["status_name"], current["labels"]) == ("RESOLVED", ["VIP", "Resolved"])
    legacy = chats["legacy0000000000000000001"]
    assert legacy["channel"] == "sms" and legacy["is_channel_from_deprecated_field"]
    assert legacy["channel_contact_id"] == "+972521234567"
    assert legacy["last_message_text"] == "old text"
    assert legacy["unsubscribed_at"] == datetime(2023, 11, 14, 22, 13, 20)
    assert legacy["last_message_at"] == datetime(2023, 11, 14, 22, 13, 20, 123000)
    assert (legacy["status_code"], legacy["status_name"], legacy["is_known_status"]) == (
        9, None, False,
    )  # fmt: skip


def test_huechat_embedded_contact_and_unknown_channel(wh: duckdb.DuckDBPyConnection) -> None:
    convs = {
        r["conversation_id"]: r
        for r in _rows(wh, "select * from staging.stg_huechat__conversations")
    }
    assert convs["conv_1"]["status"] == "closed"  # later version from the array file
    assert convs["conv_3"]["contact_email"] == "sam@example.com"
    odd = convs["conv_2"]
    assert (odd["channel"], odd["is_known_channel"], odd["is_known_status"]) == (
        "telegram", False, False,
    )  # fmt: skip


def test_fct_conversations_across_platforms(wh: duckdb.DuckDBPyConnection) -> None:
    rows = {r["conversation_key"]: r for r in _rows(wh, "select * from marts.fct_conversations")}
    assert {k.split(":")[0] for k in rows} == {"hatch", "huechat", "texter"}
    assert len(rows) == 9
    hatch = rows["hatch:c1"]
    assert (hatch["status"], hatch["status_original"], hatch["message_count"]) == (
        "open", "Replied", 4,
    )  # fmt: skip
    assert hatch["assigned_agent_id"] == "usr_9"
    assert hatch["last_message_at"] == datetime(2024, 5, 1, 12, 6)
    legacy = rows["texter:legacy0000000000000000001"]
    assert (legacy["status"], legacy["status_original"]) == ("unknown", "9")
    assert rows["texter:67bf11038b24880cc966f799"]["status"] == "closed"
    assert rows["huechat:conv_2"]["status"] == "unknown"
    assert rows["huechat:conv_1"]["labels"] == ["billing"]
