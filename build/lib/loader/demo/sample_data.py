"""Deterministic sample data for all five sources (Hatch exports, leads, HueChat, Texter).

Hatch rows are generated in DuckDB SQL from hash-based pseudo-random numbers
(``hash(seed, i, key)``), so the same ``(seed, start_date, end_date, contacts)`` always gives the
same rows and the same bytes, and millions of rows take seconds. Every version of a re-exported
record is a row; ``write_member`` selects the rows whose ``updated_at`` (UTC) date lies in a window
and writes them exactly as the Bulk Export API's member file (NDJSON or CSV).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import duckdb

from loader.schemas import HATCH_COLUMNS, HATCH_DATASETS
from loader.sql import quote_literal

SCHEMA = "sample"
Fmt = Literal["json", "csv"]
AVG_ROWS_PER_CONTACT = 6.0  # 3-8 messages (mean 5.5) plus re-exported versions

ORGS = (
    (
        "Summit Home Services",
        ("Richmond HVAC", "Norfolk Plumbing", "Virginia Beach Roofing"),
        "summithome.com",
    ),
    ("Brightline Auto Group", ("Brightline Toyota", "Brightline Honda"), "brightlineauto.com"),
    (
        "Cedar Dental Partners",
        ("Cedar Dental - Austin", "Cedar Dental - Dallas", "Cedar Dental - Houston"),
        "cedardental.com",
    ),
)
CAMPAIGNS = (
    "New Lead Follow-Up",
    "Unsold Estimates",
    "Missed Call Text Back",
    "Reactivation - 12 Months",
    "Appointment Reminders",
)
LEAD_SOURCES = (
    "integration:salesforce",
    "web_form",
    "standard_api",
    "web_form",
    "standard_api",
    "integration:hubspot",
    "integration:servicetitan",
    "facebook_lead_ads",
)
FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Zoë",
    "José",
    "Renée",
    "Aaliyah",
    "Nguyen",
    "Priya",
    "Seán",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "O'Brien",
    "Nguyen",
    "Müller",
    "D'Angelo",
    "Kim",
    "Patel",
]
MAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "comcast.net")
AREA_CODES = ("804", "757", "540", "703", "512", "214", "713", "919", "415", "646")
DISPOSITIONS = ("Success", "Appointment set", "Discarded", "Transferred", "Schedule follow-up")

AUTO_SMS = (
    "Hi {first}, this is {ws}! Thanks for reaching out. When's a good time to chat? 😊",
    'Hey {first}, just following up on your request. Reply "YES" to book, or STOP to opt out.',
    "{first}, we have openings this week, Tuesday or Thursday. Which works best?\nReply STOP to "
    "opt out.",
    "Hi {first}! Still interested? We'd love to help 🙌 — {ws}",
)
AUTO_EMAIL = (
    "Hi {first},\n\nThanks for contacting {ws}. We'd love to help, and we have availability "
    'this week.\n\nJust reply to this email or click "Book now".\n\nBest,\nThe {ws} team',
    "Hello {first},\n\nQuick follow-up: your estimate is ready, including parts, labor, and "
    "a 10% discount.\n\nCheers,\n{ws}",
)
VOICEMAILS = (
    "Hi {first}, it's {ws} returning your call, please call us back at your convenience.",
    'Voicemail drop: "Spring special" - {ws}',
)
USER_SMS = (
    "Hi {first}, this is Sam at {ws}. I can do 3pm tomorrow, does that work?",
    "Great, you're booked! We'll see you then, {first} 👍",
    'Sure thing — I\'ve noted "gate code 1234, side door". See you soon!',
)
CONTACT_SMS = (
    "Yes please! Can you call me after 5?",
    "Who is this?",
    'Tuesday works, but "morning" only, please 🙏',
    "ok",
    "How much would it cost, roughly?\nThanks",
    "STOP",
    "👍",
)
CONTACT_EMAIL = (
    "Hi,\n\nYes, I'm still interested. Could you send the quote again, please?\n\nThanks,\n{first}",
)

# final delivery status -> the provider's status path (Twilio / SendGrid)
STATUS_PATHS = {
    "delivered": ("queued", "sent", "delivered"),
    "read": ("queued", "sent", "delivered", "read"),
    "sent": ("queued", "sent"),
    "undelivered": ("queued", "sent", "undelivered"),
    "failed": ("queued", "failed"),
    "received": ("received",),
    "completed": ("queued", "ringing", "in-progress", "completed"),
    "no-answer": ("queued", "ringing", "no-answer"),
    "busy": ("queued", "ringing", "busy"),
    "processed": ("processed",),
    "email_delivered": ("processed", "delivered"),
    "open": ("processed", "delivered", "open"),
    "click": ("processed", "delivered", "open", "click"),
    "bounce": ("processed", "bounce"),
    "deferred": ("processed", "deferred"),
    "dropped": ("processed", "dropped"),
    "carrier_hold": ("queued", "carrier_hold"),
}


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


def _pick(values: Sequence[str], rnd: str) -> str:
    """SQL picking one of ``values`` with the uniform random expression ``rnd``."""
    return f"{_list(values)}[1 + floor({rnd} * {len(values)})::INTEGER]"


def default_end_date() -> date:
    """Yesterday in UTC: the latest day the export holds."""
    return datetime.now(timezone.utc).date() - timedelta(days=1)


def contacts_for_messages(messages: int) -> int:
    """Contact count giving about ``messages`` conversation_items rows."""
    return max(1, round(messages / AVG_ROWS_PER_CONTACT))


def _macros(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    seed_sql = f"{int(seed)}::BIGINT"
    con.execute(
        f"""
        -- hash(a, b, c) combines its arguments too weakly: draws for different keys k of the
        -- same i came out correlated. Re-hashing the xor of the parts' hashes decorrelates them.
        CREATE OR REPLACE MACRO sample.sd_h(i, k) AS
            hash(xor(xor(hash(i), hash(k)), hash({seed_sql})));
        CREATE OR REPLACE MACRO sample.sd_r(i, k) AS
            (sample.sd_h(i, k) >> 11)::DOUBLE / 9007199254740992.0;
        CREATE OR REPLACE MACRO sample.sd_uuid(i, k) AS printf(
            '%08x-%04x-4%03x-%04x-%012x',
            sample.sd_h(i, k) >> 32, (sample.sd_h(i, k) >> 16) & 65535, sample.sd_h(i, k) & 4095,
            ((sample.sd_h(i, k || '2') >> 48) & 16383) | 32768,
            sample.sd_h(i, k || '2') & 281474976710655);
        CREATE OR REPLACE MACRO sample.sd_hex(i, k, n) AS
            left(printf('%016x%016x', sample.sd_h(i, k), sample.sd_h(i, k || '2')), n);
        CREATE OR REPLACE MACRO sample.sd_ts(ts, r) AS CASE
            WHEN r < 0.50 THEN strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ')
            WHEN r < 0.62 THEN strftime(ts, '%Y-%m-%d %H:%M:%S')
            WHEN r < 0.72 THEN strftime(ts, '%Y-%m-%dT%H:%M:%S+00:00')
            WHEN r < 0.80 THEN strftime(ts - INTERVAL 5 HOUR, '%Y-%m-%dT%H:%M:%S.%f-05:00')
            WHEN r < 0.88 THEN strftime(ts, '%Y-%m-%dT%H:%M:%SZ')
            WHEN r < 0.94 THEN strftime(ts, '%Y-%m-%d %H:%M:%S.%f')
            WHEN r < 0.97 THEN strftime(ts, '%Y-%m-%dT%H:%M:%S')
            ELSE strftime(ts - INTERVAL 4 HOUR, '%Y-%m-%d %H:%M:%S.%g-04:00') END;
        """
    )


def _entity_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Workspace and per-contact attributes as macros of ``ws`` / ``i`` (no joins needed)."""
    orgs = [o for o, (_, wss, _) in enumerate(ORGS) for _ in wss]
    slots = [w for _, wss, _ in ORGS for w in range(len(wss))]
    org_names = [ORGS[o][0] for o in orgs]
    ws_names = [ws for _, wss, _ in ORGS for ws in wss]
    disp = _pick(DISPOSITIONS, "sample.sd_r(i, 'disp2')")
    con.execute(
        f"""
        CREATE OR REPLACE MACRO sample.ws_org(ws) AS {orgs}[ws + 1];
        CREATE OR REPLACE MACRO sample.ws_org_name(ws) AS {_list(org_names)}[ws + 1];
        CREATE OR REPLACE MACRO sample.ws_name(ws) AS {_list(ws_names)}[ws + 1];
        CREATE OR REPLACE MACRO sample.ws_org_id(ws) AS
            sample.sd_uuid(sample.ws_org(ws)::BIGINT, 'org');
        CREATE OR REPLACE MACRO sample.ws_id(ws) AS
            sample.sd_uuid((sample.ws_org(ws) * 10 + {slots}[ws + 1])::BIGINT, 'ws');
        CREATE OR REPLACE MACRO sample.ws_bot(ws) AS 'bot_' || sample.sd_hex(ws::BIGINT, 'bot', 12);
        CREATE OR REPLACE MACRO sample.c_ws(i) AS
            floor(sample.sd_r(i, 'ws') * {len(orgs)})::INTEGER;
        CREATE OR REPLACE MACRO sample.c_first(i) AS {_pick(FIRST_NAMES, "sample.sd_r(i, 'fn')")};
        CREATE OR REPLACE MACRO sample.c_user(i, ws) AS
            sample.sd_uuid((ws * 10 + floor(sample.sd_r(i, 'usr') * 4))::BIGINT, 'user');
        CREATE OR REPLACE MACRO sample.c_disposition(i) AS
            CASE WHEN sample.sd_r(i, 'disp') < 0.4 THEN {disp} END;
        """
    )


def _build_contacts(con: duckdb.DuckDBPyConnection, start: date, end: date, contacts: int) -> None:
    days = (end - start).days + 1
    start_us = (start - date(1970, 1, 1)).days * 86_400_000_000
    window_us = int(min(10.0, max(0.25, days * 0.4)) * 86_400_000_000)
    span_us = max(1, days * 86_400_000_000 - window_us - 7_200_000_000)
    _entity_macros(con)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {SCHEMA}._contacts AS
        WITH b AS (
            SELECT i,
                sample.c_ws(i) AS ws_idx,
                floor(sample.sd_r(i, 'camp') * 3)::INTEGER AS camp_slot,
                sample.sd_r(i, 'status') AS r_st,
                CASE WHEN r_st < 0.50 THEN 'No Reply' WHEN r_st < 0.72 THEN 'In Progress'
                     WHEN r_st < 0.93 THEN 'Replied' ELSE 'Canceled' END AS status,
                3 + floor(sample.sd_r(i, 'nmsg') * 6)::INTEGER AS n_msgs,
                make_timestamp({start_us} + floor(sample.sd_r(i, 't0') * {span_us})::BIGINT) AS t0,
                {window_us} * (0.5 + 0.5 * sample.sd_r(i, 'win')) AS window_us,
                sample.c_first(i) AS first_name,
                {_pick(LAST_NAMES, "sample.sd_r(i, 'ln')")} AS last_name,
                {_pick(AREA_CODES, "sample.sd_r(i, 'ac')")} AS area,
                lpad((2000000 + sample.sd_h(i, 'ph') % 7999999)::VARCHAR, 7, '0') AS local7,
                sample.sd_r(i, 'phf') AS r_phf,
                sample.sd_r(i, 'v') AS r_v
            FROM range({int(contacts)}) t(i)
        )
        SELECT b.*, sample.ws_org_id(ws_idx) AS org_id, sample.ws_org_name(ws_idx) AS org_name,
            sample.ws_id(ws_idx) AS ws_id, sample.ws_name(ws_idx) AS ws_name,
            sample.sd_uuid(i, 'contact') AS hatch_contact_id,
            sample.sd_uuid(i, 'ch') AS contact_history_id,
            sample.sd_uuid((ws_idx * 10 + camp_slot)::BIGINT, 'campaign') AS campaign_id,
            {_list(CAMPAIGNS)}[1 + (ws_idx + camp_slot) % {len(CAMPAIGNS)}] AS campaign_name,
            {_pick(LEAD_SOURCES, "sample.sd_r(i, 'src')")} AS lead_source,
            CASE WHEN sample.sd_r(i, 'em') < 0.07 THEN NULL
                 ELSE lower(strip_accents(replace(first_name, '''', '')) || '.'
                      || strip_accents(replace(last_name, '''', '')))
                      || (sample.sd_h(i, 'emn') % 1000)::VARCHAR || '@'
                      || {_pick(MAIL_DOMAINS, "sample.sd_r(i, 'emd')")} END AS email,
            CASE WHEN sample.sd_r(i, 'phn') < 0.04 THEN NULL
                 WHEN r_phf < 0.35 THEN '+1' || area || local7
                 WHEN r_phf < 0.60
                      THEN '(' || area || ') ' || left(local7, 3) || '-' || right(local7, 4)
                 WHEN r_phf < 0.75 THEN area || '.' || left(local7, 3) || '.' || right(local7, 4)
                 WHEN r_phf < 0.90 THEN area || '-' || left(local7, 3) || '-' || right(local7, 4)
                 ELSE area || local7 END AS phone,
            CASE WHEN sample.sd_r(i, 'ext') < 0.35 THEN
                 CASE WHEN lead_source = 'integration:salesforce'
                      THEN '003' || upper(sample.sd_hex(i, 'extid', 15))
                      ELSE (100000000 + sample.sd_h(i, 'extid') % 900000000)::VARCHAR END
            END AS external_contact_id,
            CASE WHEN sample.sd_r(i, 'appt') < if(status = 'Replied', 0.45, 0.03)
                 THEN 'APT-' || (10000 + sample.sd_h(i, 'appt') % 90000)::VARCHAR
                 END AS appointment_id,
            CASE WHEN sample.sd_r(i, 'inv') < if(status = 'Replied', 0.30, 0.02)
                 THEN 'INV-' || (100000 + sample.sd_h(i, 'inv') % 900000)::VARCHAR
                 END AS invoice_id,
            CASE WHEN status = 'Replied' AND sample.sd_r(i, 'sv') < 0.45
                 THEN round(150 + sample.sd_r(i, 'sv2') * 14850, 2) END AS sales_value,
            sample.sd_r(i, 'opt') < if(status = 'Canceled', 0.5, 0.02) AS opted_out,
            sample.c_disposition(i) AS disposition
        FROM b
        """
    )


def _build_contact_history(con: duckdb.DuckDBPyConnection, end: date) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {SCHEMA}._ch_versions AS
        WITH v AS (
            SELECT i, 1 AS version, r_v >= 0.16 AS final,
                t0 + to_microseconds((30 + sample.sd_r(i, 'u1') * 600)::BIGINT * 1000000) AS ts
            FROM {SCHEMA}._contacts
            UNION ALL
            SELECT i, 2, TRUE, t0 + to_microseconds(window_us::BIGINT)
                + to_microseconds((86400 + sample.sd_r(i, 'u2') * 3 * 86400)::BIGINT * 1000000)
            FROM {SCHEMA}._contacts WHERE r_v < 0.16
        )
        SELECT i, version, final, ts AS _ts, ts::DATE AS _day, i * 4 + version AS _k FROM v
        WHERE ts < DATE '{end}' + INTERVAL 1 DAY
        ORDER BY _day, _ts, _k;

        CREATE OR REPLACE TABLE {SCHEMA}.contact_history AS
        SELECT
            org_id AS organization_id, org_name AS organization_name,
            ws_id AS workspace_id, ws_name AS workspace_name, contact_history_id,
            campaign_id, campaign_name, lead_source AS current_lead_source, hatch_contact_id,
            CASE WHEN final THEN status ELSE 'In Progress' END AS contact_status,
            CASE WHEN NOT final THEN 'Step 1 of ' || n_msgs
                 WHEN status = 'In Progress' THEN 'Step ' || (1 + (i % (n_msgs - 1))) || ' of '
                      || n_msgs
                 WHEN status = 'Replied' THEN 'Moved to board'
                 WHEN status = 'Canceled' THEN 'Removed'
                 ELSE 'Completed' END AS campaign_stage,
            CASE WHEN final THEN sales_value END AS sales_value,
            final AND opted_out AS opted_out,
            email, phone, sample.sd_ts(_ts, sample.sd_r(_k, 'chts')) AS updated_at,
            external_contact_id,
            CASE WHEN final THEN appointment_id END AS appointment_id,
            CASE WHEN final THEN invoice_id END AS invoice_id,
            _day, _ts, _k
        FROM {SCHEMA}._ch_versions JOIN {SCHEMA}._contacts USING (i)
        ORDER BY _day, _ts, _k;

        DROP TABLE {SCHEMA}._ch_versions;
        """
    )


def _status_case(col: str) -> str:
    """SQL CASE mapping a final status key to its provider status path (a list)."""
    whens = " ".join(f"WHEN {quote_literal(k)} THEN {_list(v)}" for k, v in STATUS_PATHS.items())
    return f"CASE {col} {whens} END"


def _body_sql() -> str:
    def tpl(values: Sequence[str], key: str) -> str:
        return _pick(values, f"sample.sd_r(mid, '{key}')")

    return f"""replace(replace(CASE
        WHEN role = 'contact' AND category = 'email' THEN {tpl(CONTACT_EMAIL, "b")}
        WHEN role = 'contact' THEN {tpl(CONTACT_SMS, "b")}
        WHEN category = 'email' THEN {tpl(AUTO_EMAIL, "b")}
        WHEN category = 'call' THEN {tpl(VOICEMAILS, "b")}
        WHEN role = 'hatch_user' THEN {tpl(USER_SMS, "b")}
        ELSE {tpl(AUTO_SMS, "b")} END, '{{first}}', first_name), '{{ws}}', ws_name)"""


def _final_status_sql() -> str:
    return """CASE WHEN role = 'contact' AND category = 'sms' THEN 'received'
         WHEN role = 'contact' THEN 'email_delivered'
         WHEN r_st < 0.002 THEN 'carrier_hold'
         WHEN category = 'sms' THEN CASE
            WHEN r_st < 0.78 THEN 'delivered' WHEN r_st < 0.84 THEN 'sent'
            WHEN r_st < 0.91 THEN 'undelivered' WHEN r_st < 0.96 THEN 'failed'
            ELSE 'read' END
         WHEN category = 'call' THEN CASE
            WHEN r_st < 0.7 THEN 'completed' WHEN r_st < 0.9 THEN 'no-answer' ELSE 'busy' END
         ELSE CASE
            WHEN r_st < 0.45 THEN 'email_delivered' WHEN r_st < 0.70 THEN 'open'
            WHEN r_st < 0.78 THEN 'click' WHEN r_st < 0.86 THEN 'processed'
            WHEN r_st < 0.93 THEN 'bounce' WHEN r_st < 0.97 THEN 'deferred'
            ELSE 'dropped' END END"""


def _build_item_versions(con: duckdb.DuckDBPyConnection, end: date) -> None:
    """Narrow table: one row per message version (ids, times, role, category, status key)."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {SCHEMA}._items AS
        WITH m AS (
            SELECT i, ws_idx, j, i * 8 + j AS mid,
                t0 + to_microseconds(CASE WHEN j = 0
                    THEN (sample.sd_r(i * 8, 'dt') * 30e6)::BIGINT
                    ELSE (window_us * (j + 0.9 * sample.sd_r(i * 8 + j, 'dt')) / n_msgs)::BIGINT
                    END) AS msg_ts,
                CASE WHEN status = 'Replied' AND j >= 1 AND j % 2 = 1 THEN 'contact'
                     WHEN status = 'Replied' AND j >= 2 THEN 'hatch_user'
                     WHEN sample.sd_r(i * 8 + j, 'role') < 0.08 AND j > 0 THEN 'hatch_user'
                     ELSE 'automated_agent' END AS role
            FROM {SCHEMA}._contacts, range(8) r(j) WHERE j < n_msgs
        ), k AS (
            SELECT *, sample.sd_r(mid, 'st') AS r_st,
                CASE WHEN j = 0 THEN 'sms'
                     WHEN role = 'contact' THEN CASE WHEN sample.sd_r(mid, 'cat') < 0.85
                                                     THEN 'sms' ELSE 'email' END
                     WHEN role = 'hatch_user' THEN CASE WHEN sample.sd_r(mid, 'cat') < 0.8
                                                        THEN 'sms' ELSE 'email' END
                     WHEN sample.sd_r(mid, 'cat') < 0.6 THEN 'sms'
                     WHEN sample.sd_r(mid, 'cat') < 0.85 THEN 'email' ELSE 'call' END AS category
            FROM m
        ), p AS (
            SELECT i, ws_idx, mid, role, category, msg_ts, {_final_status_sql()} AS final_key,
                1 + floor(sample.sd_r(mid, 'step') * 20)::INTEGER AS step_s
            FROM k
        ), q AS (
            SELECT *, len({_status_case("final_key")}) AS n_path,
                n_path >= 2 AND sample.sd_r(mid, 'v') < 0.14 AS has_v2
            FROM p
        ), v AS (
            SELECT *, 1 AS version,
                msg_ts + to_microseconds(step_s * 1000000 * (n_path + 1)) AS ts
            FROM q
            UNION ALL
            SELECT *, 2, msg_ts
                + to_microseconds((86400 + sample.sd_r(mid, 'u2') * 2 * 86400)::BIGINT * 1000000)
            FROM q WHERE has_v2
        )
        SELECT i, ws_idx::UTINYINT AS ws_idx, mid, role, category, msg_ts, final_key, step_s,
            version,
            has_v2 AND version = 1 AS partial, ts AS _ts, ts::DATE AS _day,
            mid * 4 + version AS _k
        FROM v WHERE ts < DATE '{end}' + INTERVAL 1 DAY
        ORDER BY _day, _ts, _k
        """
    )


def _build_conversation_items(con: duckdb.DuckDBPyConnection, end: date) -> None:
    _build_item_versions(con, end)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {SCHEMA}.conversation_items AS
        WITH p AS (
            SELECT *, {_status_case("final_key")} AS full_path,
                CASE WHEN partial THEN full_path[:len(full_path) - 1] ELSE full_path END AS vpath,
                sample.sd_r(_k, 'fmt') AS r_fmt, sample.sd_r(_k, 'case') AS r_case,
                sample.sd_uuid(i, 'contact') AS hatch_contact_id,
                sample.c_first(i) AS first_name, sample.ws_name(ws_idx) AS ws_name
            FROM {SCHEMA}._items
        )
        SELECT
            sample.ws_org_id(ws_idx) AS organization_id,
            sample.ws_org_name(ws_idx) AS organization_name,
            sample.ws_id(ws_idx) AS workspace_id, ws_name AS workspace_name,
            sample.sd_uuid(mid, 'msg') AS id, sample.sd_uuid(i, 'conv') AS conversation_id,
            hatch_contact_id AS contact_id,
            role AS actor_type,
            CASE role WHEN 'contact' THEN hatch_contact_id
                 WHEN 'hatch_user' THEN sample.c_user(i, ws_idx)
                 ELSE sample.ws_bot(ws_idx) END AS actor_id,
            category,
            CASE category WHEN 'sms' THEN 'text' WHEN 'email' THEN 'email'
                 ELSE 'voicemail drop' END AS type,
            CASE WHEN role = 'contact' THEN
                    CASE WHEN r_case < 0.02 THEN 'INBOUND' WHEN r_case < 0.04 THEN 'Inbound'
                         ELSE 'inbound' END
                 ELSE CASE WHEN r_case < 0.03 THEN 'Outbound' WHEN r_case < 0.04 THEN 'OUTBOUND'
                           ELSE 'outbound' END END AS direction,
            {_body_sql()} AS body,
            CASE WHEN r_case > 0.995 THEN upper(vpath[-1])
                 WHEN r_case > 0.97 THEN upper(vpath[-1][1]) || vpath[-1][2:]
                 ELSE vpath[-1] END AS delivery_status,
            CASE WHEN sample.sd_r(_k, 'legacy') < 0.01
                 THEN array_to_string(vpath, ' -> ')
                 ELSE to_json(list_transform(vpath, (s, n) -> {{'status': s,
                     'timestamp': strftime(msg_ts + to_microseconds(step_s * 1000000 * n),
                                           '%Y-%m-%dT%H:%M:%SZ')}}))::VARCHAR
            END AS status_history,
            sample.c_disposition(i) AS chatbot_disposition,
            CASE WHEN role <> 'contact' AND sample.sd_r(mid, 'sched') < 0.08
                 THEN sample.sd_ts(msg_ts, r_fmt) END AS send_at,
            role <> 'contact' AND sample.sd_r(mid, 'sched') < 0.08 AS is_scheduled,
            CASE category WHEN 'email' THEN 'SendGrid' ELSE 'Twilio' END AS provider_name,
            CASE category WHEN 'email' THEN sample.sd_hex(mid, 'pmid', 22) || '.filterdrecv-'
                     || (sample.sd_h(mid, 'pm2') % 900 + 100)::VARCHAR || '-1'
                 WHEN 'call' THEN 'CA' || sample.sd_hex(mid, 'pmid', 32)
                 ELSE 'SM' || sample.sd_hex(mid, 'pmid', 32) END AS provider_message_id,
            printf('%08x', epoch(msg_ts)::BIGINT) || sample.sd_hex(mid, 'mongo', 16) AS mongo_id,
            sample.sd_ts(_ts, r_fmt) AS updated_at,
            _day, _ts, _k
        FROM p;

        DROP TABLE {SCHEMA}._items;
        """
    )


def build_hatch(
    con: duckdb.DuckDBPyConnection,
    *,
    seed: int = 42,
    start_date: date,
    end_date: date,
    contacts: int = 2000,
) -> None:
    """Create ``sample.contact_history`` and ``sample.conversation_items`` (every version).

    Besides the ``HATCH_COLUMNS`` the tables carry ``_day`` (UTC date of ``updated_at``) and
    ``_ts`` (``updated_at`` as a naive UTC timestamp) for windowing and ordering.
    """
    if end_date < start_date:
        raise ValueError("end_date is before start_date")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    _macros(con, seed)
    _build_contacts(con, start_date, end_date, contacts)
    _build_contact_history(con, end_date)
    _build_conversation_items(con, end_date)


def _check_source(data_source: str) -> None:
    if data_source not in HATCH_DATASETS:
        raise ValueError(f"unknown data_source {data_source!r}")


def _count(con: duckdb.DuckDBPyConnection, data_source: str, start: date, end: date) -> int:
    row = con.execute(
        f"SELECT count(*) FROM {SCHEMA}.{data_source} WHERE _day BETWEEN ? AND ?", [start, end]
    ).fetchone()
    return int(row[0]) if row else 0


def write_member(
    con: duckdb.DuckDBPyConnection,
    data_source: str,
    start: date,
    end: date,
    fmt: Fmt,
    dest: Path,
) -> int:
    """Write the export member for rows with ``updated_at`` date in ``[start, end]``; rows.

    ``json``: newline-delimited objects, keys in ``HATCH_COLUMNS`` order. ``csv``: header row,
    RFC 4180 quoting, booleans ``true``/``false``, null as an empty field. The file is written
    even when there are no rows (empty, or the header only).
    """
    _check_source(data_source)
    cols = ", ".join(f'"{c}"' for c in HATCH_COLUMNS[data_source])
    query = (
        f"SELECT {cols} FROM {SCHEMA}.{data_source} "
        f"WHERE _day BETWEEN DATE '{start}' AND DATE '{end}' "
    )
    options = (
        "FORMAT json"
        if fmt == "json"
        else "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR ''"
    )
    if fmt not in ("json", "csv"):
        raise ValueError(f"unknown format {fmt!r}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    path_sql = str(dest).replace("'", "''")
    result = con.execute(f"COPY ({query}) TO '{path_sql}' ({options})").fetchone()
    return int(result[0]) if result else 0


def archive_name(data_source: str, start: date, end: date, fmt: Fmt) -> tuple[str, str]:
    """(zip name, member name) exactly as the API names them."""
    stem = f"{data_source}_{start.isoformat()}_{end.isoformat()}"
    return f"{stem}.zip", f"{stem}.{fmt}"


def zip_member(member: Path, member_name: str, dest: Path, when: date, level: int = 1) -> None:
    """Zip one file deterministically (fixed timestamp) to ``dest`` via a temporary name.

    Deflate ``level`` 1 by default: several times faster than 6 on large members.
    """
    info = zipfile.ZipInfo(member_name, date_time=(when.year, when.month, when.day, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    tmp = dest.with_name(dest.name + ".tmp")
    with (
        zipfile.ZipFile(tmp, "w", compresslevel=level) as zf,
        member.open("rb") as src,
        zf.open(info, "w", force_zip64=True) as out,
    ):
        while chunk := src.read(1 << 20):
            out.write(chunk)
    os.replace(tmp, dest)


def write_archive(
    con: duckdb.DuckDBPyConnection,
    data_source: str,
    start: date,
    end: date,
    fmt: Fmt,
    dest_dir: Path,
) -> Path | None:
    """Write ``{ds}_{start}_{end}.zip`` (one member) into ``dest_dir``; None when no rows."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    zip_name, member_name = archive_name(data_source, start, end, fmt)
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".member-") as tmp:
        member = Path(tmp) / member_name
        if write_member(con, data_source, start, end, fmt, member) == 0:
            return None
        dest = dest_dir / zip_name
        zip_member(member, member_name, dest, start)
    return dest


class SampleData:
    """A lazily built in-memory sample; call it as a data provider for the export server.

    ``SampleData(...)(data_source, start, end, fmt, dest) -> rows`` writes the member file.
    """

    def __init__(
        self,
        seed: int = 42,
        end_date: date | None = None,
        days: int = 60,
        contacts: int = 2000,
    ) -> None:
        self.seed = seed
        self.end_date = end_date or default_end_date()
        self.start_date = self.end_date - timedelta(days=days - 1)
        self.days = days
        self.contacts = contacts
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection holding ``sample.*`` (built on first use)."""
        with self._lock:
            if self._con is None:
                con = duckdb.connect(":memory:")
                con.execute("SET TimeZone = 'UTC'")
                build_hatch(
                    con,
                    seed=self.seed,
                    start_date=self.start_date,
                    end_date=self.end_date,
                    contacts=self.contacts,
                )
                self._con = con
            return self._con

    def count(self, data_source: str, start: date, end: date) -> int:
        """Rows a member for this window would hold."""
        _check_source(data_source)
        con = self.con
        with self._lock:
            return _count(con, data_source, start, end)

    def __call__(self, data_source: str, start: date, end: date, fmt: Fmt, dest: Path) -> int:
        con = self.con
        with self._lock:
            return write_member(con, data_source, start, end, fmt, dest)


# ------------------------------------------------------- documents (leads, HueChat, Texter)

LEAD_TS_LAYOUTS = (
    "%Y-%m-%dT%H:%M:%SZ",  # RFC 3339 Z
    "%Y-%m-%dT%H:%M:%S{c}",  # RFC 3339 with ±hh:mm
    "%Y-%m-%dT%H:%M:%S{z}",  # Go reference layout, ±hhmm
    "%Y-%m-%d %H:%M:%S",  # naive
    "%Y-%m-%d",  # date only
    "%a, %d %b %Y %H:%M:%S {z}",  # RFC 1123 with numeric zone
    "%Y-%m-%d %H:%M:%SZ",  # newer contacts API example
)
US_ZONES = (-5, -6, -7, -8, 0)


def _lead_ts(ts: datetime, rng: random.Random) -> str:
    layout = rng.choice(LEAD_TS_LAYOUTS)
    hours = rng.choice(US_ZONES) if "{" in layout else 0
    local = ts + timedelta(hours=hours)
    sign = "-" if hours < 0 else "+"
    c = f"{sign}{abs(hours):02d}:00"
    z = f"{sign}{abs(hours):02d}00"
    return local.strftime(layout.replace("{c}", c).replace("{z}", z))


def _reformat_phone(phone: str, rng: random.Random) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())[-10:]
    forms = (
        digits,
        f"1{digits}",
        f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}",
        f"({digits[:3]}){digits[3:6]}-{digits[6:]}",
    )
    return rng.choice(forms)


def _leads(con: duckdb.DuckDBPyConnection, seed: int) -> list[dict[str, Any]]:
    rows = con.execute(
        f"""SELECT i, first_name, last_name, email, phone, external_contact_id, lead_source,
                   t0 + to_microseconds((sample.sd_r(i * 8, 'dt') * 30e6)::BIGINT)
            FROM {SCHEMA}._contacts
            WHERE lead_source IN ('web_form', 'standard_api') OR external_contact_id IS NOT NULL
            ORDER BY i"""
    ).fetchall()
    rng = random.Random(seed * 7919 + 1)
    leads = []
    for i, first, last, email, phone, ext, source, first_msg in rows:
        created = first_msg - timedelta(seconds=rng.randint(5, 900))
        kind = i % 4
        lead: dict[str, Any] = {"firstName": first, "lastName": last}
        if kind == 0 and ext:
            lead["contactID"] = ext
        if phone and kind in (0, 1, 3):
            lead["phoneNumber"] = _reformat_phone(phone, rng)
        if email and (kind in (0, 2) or not phone):
            lead["email"] = email.upper() if kind == 2 else email.title()
        if "phoneNumber" not in lead and "email" not in lead:
            lead["email"] = f"{first.lower()}.{i}@example.com"
        lead |= _lead_extras(source, created, rng, f"L{100000 + i}")
        leads.append(lead)
    for n in range(max(3, len(rows) // 20)):  # leads that never became a Hatch contact
        created = datetime(2026, 1, 1) + timedelta(minutes=rng.randint(0, 500_000))
        lead = {
            "firstName": rng.choice(FIRST_NAMES),
            "lastName": rng.choice(LAST_NAMES),
            "phoneNumber": f"555{rng.randint(1000000, 9999999)}",
        }
        leads.append(lead | _lead_extras("web_form", created, rng, f"X{n}"))
    return leads


def _lead_extras(source: str, created: datetime, rng: random.Random, lead_id: str) -> dict:
    return {
        "source": source if source in ("web_form", "standard_api") else "my_company_name",
        "status": rng.choice(("new", "New Lead", "contacted", None)),
        "leadID": lead_id,
        "createdAt": _lead_ts(created, rng),
        "updatedAt": _lead_ts(created + timedelta(seconds=rng.randint(0, 3600)), rng),
        "myCustomNestedObject": {"color": rng.choice(("red", "blue")), "model": "toyota"},
        "interests": rng.sample(["roofing", "hvac", "plumbing", "dental", "auto"], 2),
        "budget": rng.choice((5000, 12500.5, None, "10k-20k")),
        "consent": rng.random() < 0.9,
    }


def _iso_ms(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _huechat(n: int, anchor: datetime, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for k in range(n):
        created = anchor - timedelta(minutes=rng.randint(60, 60 * 24 * 55))
        updated = created + timedelta(minutes=rng.randint(1, 3000))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        cid = f"cnt_{rng.getrandbits(48):012x}"
        channel = (
            "telegram" if k % 97 == 13 else rng.choice(("whatsapp", "instagram", "sms", "email"))
        )
        count = rng.randint(1, 40)
        out.append(
            {
                "id": f"conv_{rng.getrandbits(40):010x}",
                "contact_id": cid,
                "contact": {
                    "id": cid,
                    "phone": f"+1{rng.choice(AREA_CODES)}{rng.randint(2000000, 9999999)}",
                    "email": f"{first.lower()}.{k}@example.com",
                    "first_name": first,
                    "last_name": last,
                    "full_name": f"{first} {last}",
                    "preferred_channel": rng.choice(("whatsapp", "sms", "email")),
                    "metadata": {
                        "customer_id": f"cust_{k}",
                        "tier": rng.choice(("premium", "basic")),
                    },
                    "status": "active",
                    "created_at": _iso_ms(created),
                    "updated_at": _iso_ms(updated),
                    "last_contacted": _iso_ms(updated) if k % 5 else None,
                },
                "channel": channel,
                "subject": rng.choice(("Order status inquiry", 'Booking, "urgent"', "Hi 👋", None)),
                "status": rng.choice(("open", "closed", "archived")),
                "priority": rng.choice(("low", "medium", "high")),
                "assigned_to": None
                if k % 3 == 0
                else {
                    "id": f"usr_{k % 7}",
                    "name": f"Agent {k % 7}",
                    "email": f"agent{k % 7}@example.com",
                },
                "labels": rng.sample(["billing", "urgent", "sales", "support"], rng.randint(0, 2)),
                "tags": rng.sample(["vip", "new", "returning"], rng.randint(0, 2)),
                "message_count": count,
                "unread_count": rng.randint(0, min(count, 5)),
                "created_at": _iso_ms(created),
                "updated_at": _iso_ms(updated),
                "last_message_at": _iso_ms(updated) if k % 11 else None,
                "last_message_preview": "Thanks, see you\nTuesday!" if k % 11 else None,
            }
        )
    return out


def _texter_chat(k: int, anchor: datetime, rng: random.Random) -> dict[str, Any]:
    created = anchor - timedelta(minutes=rng.randint(60, 60 * 24 * 55))
    last = created + timedelta(minutes=rng.randint(1, 3000))
    ms, sec = int(last.replace(tzinfo=timezone.utc).timestamp() * 1000), None
    sec = ms // 1000
    phone = f"9725{rng.randint(10000000, 99999999)}"
    chat: dict[str, Any] = {"_id": f"{rng.getrandbits(96):024x}", "title": rng.choice(FIRST_NAMES)}
    if k % 10 == 7:  # an old record: deprecated fields only
        chat |= {
            "channel": "whatsapp",
            "clientPhone": phone,
            "lastText": "ok, thanks",
            "unsubscribeTime": sec if k % 20 == 7 else None,
        }
    else:
        chat |= {
            "channelInfo": {
                "name": rng.choice(
                    ("whatsapp", "messenger", "instagram", "website_chat", "email", "sms")
                ),
                "id": phone,
                "accountId": "972509876543",
            },
            "agent": {"uid": f"{rng.getrandbits(64):016x}", "displayName": "Tyler"},
            "lastMessage": {"type": "text", "text": rng.choice(("תודה!", "Yes, please", "👍"))},
            "lastIncomingMessageTimestamp": ms,
        }
    chat |= {
        "status": 7 if k % 53 == 5 else rng.randint(0, 4),
        "departmentId": rng.choice(("customer_service", "sales", None)),
        "unreadCount": rng.randint(0, 4),
        "labels": rng.sample(["VIP", "urgent", "billing"], rng.randint(0, 2)),
        "last_message_timestamp": ms,
        "created": _iso_ms(created),
        "updatedAt": _iso_ms(last),
        "pendingUpdateTime": sec - 120,
        "resolvedUpdateTime": sec + 60,
        "crmData": {"leadId": 600000 + k, "plan": rng.choice(("premium", "basic"))},
        "externalBot": False,
    }
    return chat


def _dump(records: Sequence[Any], shape: str) -> bytes:
    if shape == "array":
        text = json.dumps(list(records), ensure_ascii=False, indent=1)
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return text.encode()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
            gz.write(data)
        data = buf.getvalue()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def _split(records: list, parts: int) -> list[list]:
    size = -(-len(records) // parts)
    return [records[k * size : (k + 1) * size] for k in range(parts)]


def write_documents_from(
    con: duckdb.DuckDBPyConnection, out_dir: Path, *, seed: int, end_date: date, contacts: int
) -> dict[str, list[Path]]:
    """Write leads / HueChat / Texter files for the contacts already built in ``con``."""
    out_dir = Path(out_dir)
    anchor = datetime(end_date.year, end_date.month, end_date.day, 23, 0)
    tag = end_date.isoformat()
    leads = _split(_leads(con, seed), 3)
    rng = random.Random(seed * 31 + 2)
    n_docs = max(20, min(20_000, contacts // 10))
    hue = _split(_huechat(n_docs, anchor, rng), 4)
    tex = _split([_texter_chat(k, anchor, rng) for k in range(n_docs)], 5)
    pages = [
        {"data": hue[2][:half], "pagination": {"limit": half, "offset": 0, "total": len(hue[2])}}
        for half in [max(1, -(-len(hue[2]) // 2))]
    ]
    pages.append(
        {
            "data": hue[2][pages[0]["pagination"]["limit"] :],
            "pagination": {
                "limit": pages[0]["pagination"]["limit"],
                "offset": pages[0]["pagination"]["limit"],
                "total": len(hue[2]),
            },
        }
    )
    hooks = [{"eventName": "chat_updated", "eventData": {"chat": c}} for c in tex[3]]
    files = {
        "leads": [
            _write(out_dir / "leads" / f"leads_{tag}.json", _dump(leads[0], "array")),
            _write(out_dir / "leads" / f"leads_{tag}.ndjson", _dump(leads[1], "lines")),
            _write(out_dir / "leads" / f"leads_{tag}.jsonl.gz", _dump(leads[2], "lines")),
        ],
        "huechat": [
            _write(out_dir / "huechat" / f"conversations_{tag}.json", _dump(hue[0], "array")),
            _write(out_dir / "huechat" / f"conversations_{tag}.jsonl", _dump(hue[1], "lines")),
            _write(
                out_dir / "huechat" / f"conversations_pages_{tag}.ndjson", _dump(pages, "lines")
            ),
            _write(out_dir / "huechat" / f"conversations_{tag}.json.gz", _dump(hue[3], "array")),
        ],
        "texter": [
            _write(out_dir / "texter" / f"chats_{tag}.json", _dump(tex[0], "array")),
            _write(out_dir / "texter" / f"chats_{tag}.ndjson", _dump(tex[1], "lines")),
            _write(
                out_dir / "texter" / f"search_{tag}.json",
                json.dumps({"data": tex[2], "total": len(tex[2])}, ensure_ascii=False).encode(),
            ),
            _write(out_dir / "texter" / f"webhooks_{tag}.jsonl", _dump(hooks, "lines")),
            _write(out_dir / "texter" / f"chats_{tag}.jsonl.gz", _dump(tex[4], "lines")),
        ],
    }
    return files


def write_documents(
    out_dir: Path,
    *,
    seed: int = 42,
    end_date: date | None = None,
    days: int = 60,
    contacts: int = 2000,
) -> dict[str, list[Path]]:
    """Write leads / HueChat / Texter files under ``out_dir`` in every accepted shape."""
    end = end_date or default_end_date()
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        build_hatch(
            con,
            seed=seed,
            start_date=end - timedelta(days=days - 1),
            end_date=end,
            contacts=contacts,
        )
        return write_documents_from(con, out_dir, seed=seed, end_date=end, contacts=contacts)
    finally:
        con.close()
