"""Fixtures for the dbt end-to-end tests: sample archives, loading, isolated dbt runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loader.config import Settings
from loader.demo import sample_data
from loader.load.run import run_load

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = Path(sys.executable).with_name("dbt")
MARTS = (
    "fct_campaign_performance",
    "fct_message_delivery",
    "fct_messages",
    "fct_contact_campaigns",
    "fct_conversations",
    "fct_speed_to_lead",
    "fct_speed_to_lead_by_source",
    "dim_campaigns",
    "dim_workspaces",
)


def write_archives(
    con: duckdb.DuckDBPyConnection, landing: Path, start: date, end: date, fmt: str = "json"
) -> list[Path]:
    """Daily export archives for ``[start, end]`` into the landing layout; the archive paths."""
    written: list[Path] = []
    day = start
    while day <= end:
        for ds in ("contact_history", "conversation_items"):
            path = sample_data.write_archive(con, ds, day, day, fmt, landing / "hatch" / ds)  # type: ignore[arg-type]
            if path is not None:
                written.append(path)
        day += timedelta(days=1)
    return written


def write_leads(con: duckdb.DuckDBPyConnection, landing: Path, name: str, status: str) -> None:
    """A lead file for some sampled contacts (matched by phone or e-mail), created at ``START``."""
    rows = con.sql(
        """select distinct on (hatch_contact_id) phone, email, current_lead_source
        from sample.contact_history where phone is not null and email is not null
        order by hatch_contact_id limit 40"""
    ).fetchall()
    lines = [
        json.dumps(
            {
                "id": f"lead-{n}",
                "phoneNumber": phone if n % 2 else None,
                "email": email,
                "source": source or "web_form",
                "status": status,
                "createdAt": f"{START}T00:00:00Z",
                "updatedAt": f"{START}T00:00:00Z" if status == "new" else f"{SPLIT}T00:00:00Z",
            }
        )
        for n, (phone, email, source) in enumerate(rows)
    ]
    (landing / "leads").mkdir(parents=True, exist_ok=True)
    (landing / "leads" / name).write_text("\n".join(lines) + "\n")


def load(landing: Path, warehouse: Path, state_dir: Path) -> int:
    """Load everything new in ``landing`` into ``warehouse``; rows loaded."""
    settings = Settings(landing_url=str(landing), warehouse_path=warehouse, state_dir=state_dir)
    summary = run_load(settings)
    assert not summary.failed, [str(r) for r in summary.failed]
    return summary.rows


def dbt(
    args: list[str], warehouse: Path, work_dir: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run dbt on ``warehouse`` with private target and log paths under ``work_dir``."""
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [str(DBT), *args, "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr}")
    return proc


START, SPLIT, END = date(2024, 3, 1), date(2024, 3, 20), date(2024, 3, 30)
EDGE_DAY = END - timedelta(days=2)  # the day the edge-case versions below are exported


def inject_edge_cases(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Newer (and one older) versions of first-load records, exported on ``EDGE_DAY``.

    - every message of one conversation moves to another conversation (the first one vanishes),
      and to another day (its send time changes);
    - one message of a second conversation moves to a third one (both change);
    - a late-arriving *older* version of a message (must not win);
    - a contact_history record changes status, another one changes contact.
    """
    # the columns of a version exported on EDGE_DAY, at noon; `updated_at` given separately
    day = f"DATE '{EDGE_DAY}' as _day, TIMESTAMP '{EDGE_DAY} 12:00:00' as _ts"
    newer = f"{day}, '{EDGE_DAY}T12:00:00Z' as updated_at"
    latest = f"""select * from sample.conversation_items where _day < DATE '{SPLIT}'
        qualify row_number() over (partition by id order by _ts desc, _k desc) = 1"""
    # conversations with no other activity after the first load: only the moves below touch them
    convs = [
        r[0]
        for r in con.sql(
            f"""select conversation_id from sample.conversation_items group by 1
            having count(distinct id) >= 2 and max(_day) < DATE '{SPLIT}' order by 1 limit 4"""
        ).fetchall()
    ]
    vanishing, target, shrinking, growing = convs
    con.execute(
        f"""insert into sample.conversation_items
        select * replace ('{target}' as conversation_id, '2024-03-02T08:00:00Z' as send_at,
            {newer}, _k + 10000000 as _k)
        from ({latest}) where conversation_id = '{vanishing}'"""
    )
    con.execute(
        f"""insert into sample.conversation_items
        select * replace ('{growing}' as conversation_id, {newer}, _k + 20000000 as _k)
        from ({latest}) where conversation_id = '{shrinking}' order by id limit 1"""
    )
    late_id = con.sql(
        f"select id from ({latest}) where conversation_id not in {tuple(convs)} order by id limit 1"
    ).fetchone()[0]  # type: ignore[index]
    con.execute(
        f"""insert into sample.conversation_items
        select * replace ('failed' as delivery_status, {day},
            '2024-02-01T00:00:00Z' as updated_at, _k + 30000000 as _k)
        from ({latest}) where id = '{late_id}'"""
    )
    contacts = f"""select * from sample.contact_history where _day < DATE '{SPLIT}'
        qualify row_number() over (
            partition by contact_history_id order by _ts desc, _k desc) = 1"""
    # contacts whose conversations have no other activity after the first load
    quiet = f"""select contact_id from sample.conversation_items group by 1
        having max(_day) < DATE '{SPLIT}'"""
    changed, moved, other = con.sql(
        f"""select contact_history_id, hatch_contact_id, contact_status from ({contacts})
        where hatch_contact_id in ({quiet}) and _day < DATE '{SPLIT}' order by 1 limit 3"""
    ).fetchall()
    con.execute(
        f"""insert into sample.contact_history
        select * replace (case when contact_status = 'Replied' then 'Canceled' else 'Replied' end
                as contact_status, {newer}, _k + 10000000 as _k)
        from ({contacts}) where contact_history_id = '{changed[0]}'"""
    )
    con.execute(
        f"""insert into sample.contact_history
        select * replace ('{other[1]}' as hatch_contact_id, {newer}, _k + 20000000 as _k)
        from ({contacts}) where contact_history_id = '{moved[0]}'"""
    )
    return {
        "vanishing": vanishing,
        "target": target,
        "shrinking": shrinking,
        "growing": growing,
        "late_id": late_id,
        "status_changed": changed[0],
        "contact_moved": moved[0],
    }


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests taking ``mart`` run once per Hatch mart (one list, here)."""
    if "mart" in metafunc.fixturenames:
        metafunc.parametrize("mart", MARTS)


SELECT = ["--select", *(f"+{m}" for m in MARTS), "--indirect-selection", "cautious"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two warehouses over the same data: built incrementally in two loads, and in one go."""
    root = tmp_path_factory.mktemp("dbt_e2e")
    landing = root / "landing"
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    sample_data.build_hatch(con, seed=7, start_date=START, end_date=END, contacts=400)

    incremental = root / "incremental.duckdb"
    write_archives(con, landing, START, SPLIT)
    write_leads(con, landing, "leads_1.ndjson", "new")
    assert load(landing, incremental, root / "state_inc") > 0
    dbt(["build", *SELECT], incremental, root / "dbt_inc")
    with duckdb.connect(str(incremental), read_only=True) as wh:
        first_ids = {r[0] for r in wh.sql("select message_id from marts.fct_messages").fetchall()}

    edge = inject_edge_cases(con)
    write_archives(con, landing, SPLIT, END)  # the split day again: identical bytes, skipped
    write_leads(con, landing, "leads_2.ndjson", "contacted")  # the same leads, re-sent
    assert load(landing, incremental, root / "state_inc") > 0
    dbt(["build", *SELECT], incremental, root / "dbt_inc")
    dbt(["build", *SELECT], incremental, root / "dbt_inc")  # nothing new: the marts stay the same

    full = root / "full.duckdb"
    assert load(landing, full, root / "state_full") > 0
    dbt(["build", "--full-refresh", *SELECT], full, root / "dbt_full")
    con.close()
    return {
        "incremental": incremental,
        "full": full,
        "root": root,
        "first_ids": first_ids,
        "split": SPLIT,
        "edge": edge,
    }
