"""End-to-end dbt tests: sample archives -> loader -> dbt build, incremental vs full refresh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from loader.commands import status as status_command
from loader.config import Settings
from loader.dbt import build as build_command
from loader.demo import sample_data
from loader.load.run import run_load

from .conftest import END, SPLIT, START, dbt, load, write_archives

pytestmark = pytest.mark.dbt
PROJECT_DIR = Path(__file__).resolve().parents[3]


def test_second_load_reexports_old_messages(built: dict) -> None:
    """The second load holds newer versions of messages already built in the first run."""
    with duckdb.connect(str(built["incremental"]), read_only=True) as wh:
        rows = wh.sql(
            f"""select distinct id from raw.hatch_conversation_items
            where _export_end_date > date '{built["split"]}'"""
        ).fetchall()
    assert len({r[0] for r in rows} & built["first_ids"]) > 0


def test_incremental_equals_full_refresh(built: dict, mart: str) -> None:
    """Every mart is identical, row by row, after incremental and full-refresh builds.

    Lineage columns (``_loaded_at``) are left out: the warehouses were loaded at different times.
    """
    with duckdb.connect(str(built["incremental"]), read_only=True) as wh:
        wh.execute(f"attach '{built['full']}' as full_wh (read_only)")
        names = [
            r[0]
            for r in wh.execute(
                """select column_name from information_schema.columns
                where table_catalog = current_database() and table_schema = 'marts'
                and table_name = ? and column_name not like '\\_%' escape '\\'
                order by ordinal_position""",
                [mart],
            ).fetchall()
        ]
        cols = ", ".join(f'"{n}"' for n in names)
        inc, full = f"select {cols} from marts.{mart}", f"select {cols} from full_wh.marts.{mart}"
        rows = wh.sql(f"select count(*) from marts.{mart}").fetchone()
        only_inc = wh.sql(f"select count(*) from ({inc} except all {full})").fetchone()
        only_full = wh.sql(f"select count(*) from ({full} except all {inc})").fetchone()
    assert rows and rows[0] > 0
    assert only_inc == (0,) and only_full == (0,)


def test_marts_reconcile_with_staging(built: dict) -> None:
    """Contacts and messages are neither lost nor doubled between staging and the marts."""
    with duckdb.connect(str(built["full"]), read_only=True) as wh:
        one = wh.sql(
            """select
                (select sum(contacts) from marts.fct_campaign_performance),
                (select count(*) from intermediate.int_hatch__contact_history),
                (select count(distinct contact_history_id) from raw.hatch_contact_history),
                (select sum(messages) from marts.fct_message_delivery),
                (select count(*) from marts.fct_messages),
                (select count(distinct id) from raw.hatch_conversation_items)"""
        ).fetchone()
        shares = wh.sql(
            """select max(abs(s - 1)) from (select sum(share_of_campaign_contacts) s
            from marts.fct_campaign_performance group by campaign_id)"""
        ).fetchone()
    assert one is not None and one[0] == one[1] == one[2]
    assert one[3] == one[4] == one[5]
    assert shares is not None and shares[0] < 1e-9


def test_unknown_values_are_kept(built: dict) -> None:
    """A status the seed does not know stays in the marts as `unknown`, and is counted."""
    with duckdb.connect(str(built["full"]), read_only=True) as wh:
        unknown = wh.sql(
            """select count(*) from marts.fct_messages
            where delivery_outcome = 'unknown' and delivery_status = 'carrier_hold'"""
        ).fetchone()
        counted = wh.sql("select sum(unknown_status_messages) from marts.fct_message_delivery")
        counted_row = counted.fetchone()
    assert unknown is not None and unknown[0] > 0
    assert counted_row is not None and counted_row[0] >= unknown[0]


def test_build_command_publishes_and_fails_cleanly(built: dict) -> None:
    """`loader build` publishes on success; a dbt failure raises and leaves the file as it was."""
    root: Path = built["root"]
    target = root / "via_command.duckdb"
    shutil.copy(built["full"], target)
    settings = Settings(warehouse_path=target, state_dir=root / "state_cmd")
    before = target.read_bytes()
    with pytest.raises(build_command.BuildFailedError):
        build_command.build(settings, ["--no-such-dbt-flag"])
    assert target.read_bytes() == before
    build_command.build(
        settings,
        ["--select", "dim_workspaces", "--target-path", str(root / "cmd_target")],
    )
    with duckdb.connect(str(target), read_only=True) as wh:
        assert wh.sql("select count(*) from marts.dim_workspaces").fetchone() != (0,)


def test_edge_cases_reach_the_marts(built: dict) -> None:
    """The edge-case versions of the second load took effect in the incremental warehouse."""
    edge = built["edge"]
    with duckdb.connect(str(built["incremental"]), read_only=True) as wh:
        conversations = {
            r[0]: r[1]
            for r in wh.sql(
                "select conversation_id, message_count from marts.fct_conversations"
                " where platform = 'hatch'"
            ).fetchall()
        }
        late = wh.sql(
            f"select delivery_status from marts.fct_messages where message_id = '{edge['late_id']}'"
        ).fetchone()
        statuses = dict(
            wh.sql(
                "select contact_history_id, hatch_contact_id from marts.fct_contact_campaigns"
                f" where contact_history_id = '{edge['contact_moved']}'"
            ).fetchall()
        )
    assert edge["vanishing"] not in conversations  # every message moved away
    assert edge["target"] in conversations and edge["growing"] in conversations
    assert late is not None and late[0] != "failed"  # the older version did not win
    assert statuses  # the record is still there, under its new contact


def test_load_build_publishes_load_and_marts_together(built: dict) -> None:
    """`load --build`: one working copy, published only when the load and the build both succeed."""
    root: Path = built["root"]
    target = root / "one_session.duckdb"
    settings = Settings(
        landing_url=str(root / "landing"), warehouse_path=target, state_dir=root / "state_one"
    )

    def failing_build(work: Path) -> None:
        raise build_command.BuildFailedError(f"dbt build failed on {work.name}")

    with pytest.raises(build_command.BuildFailedError):
        run_load(settings, after=failing_build)
    assert not target.exists()  # the loaded rows were not published without their marts

    proc = _loader(
        ["load", "--build"],
        LANDING_URL=str(root / "landing"),
        WAREHOUSE_PATH=str(target),
        LOADER_STATE_DIR=str(root / "state_one"),
        DBT_TARGET_PATH=str(root / "one_target"),
        DBT_LOG_PATH=str(root / "one_logs"),
    )
    assert "build: ok" in proc.stdout and "load:" in proc.stdout
    counts = """select (select count(*) from marts.fct_messages),
        (select count(*) from raw.hatch_leads)"""
    with (
        duckdb.connect(str(target), read_only=True) as one,
        duckdb.connect(str(built["full"]), read_only=True) as full,
    ):
        assert one.sql(counts).fetchone() == full.sql(counts).fetchone()


def _loader(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m loader ARGS`` with ``env`` added; it must succeed."""
    proc = subprocess.run(
        [sys.executable, "-m", "loader", *args],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _loader_build(
    root: Path, target: Path, *args: str, logs: str = "follow_logs"
) -> subprocess.CompletedProcess[str]:
    return _loader(
        ["build", *args],
        WAREHOUSE_PATH=str(target),
        LOADER_STATE_DIR=str(root / "state_follow"),
        DBT_TARGET_PATH=str(root / "follow_target"),
        DBT_LOG_PATH=str(root / logs),
    )


def _counts(path: Path) -> tuple[int, str, int]:
    """Builds recorded by the loader, dbt's last invocation, HueChat conversations in the mart."""
    with duckdb.connect(str(path), read_only=True) as wh:
        row = wh.sql(
            """select (select count(*) from loader.build_state),
            (select invocation_id from loader.dbt_run_outcome),
            (select count(*) from marts.fct_conversations where platform = 'huechat')"""
        ).fetchone()
    assert row is not None
    return row


def test_build_follows_new_loads(built: dict) -> None:
    """`loader build` with no dbt arguments: the whole project when no build is recorded; nothing
    when nothing was loaded since; after a HueChat file, only what that raw table reaches (the
    Hatch models are not run). The marts then equal a `--full-refresh` build's."""
    root: Path = built["root"]
    target = root / "following.duckdb"
    shutil.copy(built["incremental"], target)
    settings = Settings(warehouse_path=target, state_dir=root / "state_follow")
    assert status_command.collect(settings)["next_build"] == {
        "runs": "whole project",
        "reason": "no build recorded",
        "raw_tables": [],
    }
    whole = _loader_build(root, target)
    assert "only what the new loads reach" not in whole.stderr
    recorded, invocation, huechat = _counts(target)
    assert recorded == 1 and huechat == 0

    assert status_command.collect(settings)["next_build"]["runs"] == "nothing"
    idle = _loader_build(root, target)
    assert "dbt not run" in idle.stderr
    assert _counts(target) == (1, invocation, 0)
    forced = _loader_build(root, target, "--all")  # the whole project regardless, recorded
    assert "dbt not run" not in forced.stderr
    recorded, forced_invocation, huechat = _counts(target)
    assert (recorded, huechat) == (2, 0) and forced_invocation != invocation

    fixture = PROJECT_DIR / "tests/python/sources/fixtures/huechat_pages.jsonl"
    assert run_load(settings, [str(fixture)], "huechat").rows > 0
    pending = status_command.collect(settings)["next_build"]
    assert pending["raw_tables"] == ["huechat_conversations"]
    assert "next build runs: what the new loads reach (raw.huechat_conversations)" in (
        status_command.render(status_command.collect(settings))
    )
    followed = _loader_build(root, target)
    assert "source:*.huechat_conversations+" in followed.stderr
    assert "hatch_conversation_items" not in followed.stderr
    recorded, _, huechat = _counts(target)
    assert recorded == 3 and huechat > 0

    refreshed = root / "following_refreshed.duckdb"
    shutil.copy(target, refreshed)
    _loader_build(root, refreshed, "--full-refresh")
    with duckdb.connect(str(target), read_only=True) as wh:
        wh.execute(f"attach '{refreshed}' as refreshed (read_only)")
        marts = wh.sql(
            "select table_name from duckdb_tables() where database_name = current_database()"
            " and schema_name = 'marts'"
        ).fetchall()
        assert len(marts) >= 9
        for (mart,) in marts:
            a, b = f"select * from marts.{mart}", f"select * from refreshed.marts.{mart}"
            diff = wh.sql(
                f"select count(*) from (({a} except all {b}) union all ({b} except all {a}))"
            )
            assert diff.fetchone() == (0,), mart


def test_docs_persisted(built: dict) -> None:
    """Descriptions are written to the catalog by dbt's persist_docs (a stale one is restored)."""
    root: Path = built["root"]
    target = root / "comments.duckdb"
    shutil.copy(built["full"], target)
    column = "select comment from duckdb_columns() where schema_name = 'marts'"
    column += " and table_name = 'fct_messages' and column_name = 'message_id'"
    table = "select comment from duckdb_tables() where schema_name = 'marts'"
    table += " and table_name = 'fct_messages'"
    with duckdb.connect(str(target)) as wh:
        described = (wh.sql(column).fetchone(), wh.sql(table).fetchone())
        wh.execute("comment on column marts.fct_messages.message_id is 'stale'")
        wh.execute("comment on table marts.fct_messages is 'stale'")
    assert all(d and d[0] and d[0] != "stale" for d in described)
    for run in ("comments_1",):
        _loader_build(root, target, "--select", "fct_messages", logs=run)
    with duckdb.connect(str(target), read_only=True) as wh:
        assert (wh.sql(column).fetchone(), wh.sql(table).fetchone()) == described
    first = (root / "comments_1/dbt.log").read_text()
    assert '"fct_messages".message_id is' in first and '"fct_messages" is' in first


def test_table_marts_enforce_their_not_null_constraints(built: dict) -> None:
    """Every column declared `not_null` in the marts' contracts is NOT NULL in the warehouse, and
    writing a null there fails."""
    declared = {
        (model["name"], column["name"])
        for model in yaml.safe_load((PROJECT_DIR / "models/marts/_marts__models.yml").read_text())[
            "models"
        ]
        for column in model.get("columns", [])
        if {"type": "not_null"} in (column.get("constraints") or [])
    }
    assert len(declared) >= 10
    with duckdb.connect(str(built["full"])) as wh:
        enforced = {
            (table, column)
            for table, columns in wh.sql(
                """select table_name, constraint_column_names from duckdb_constraints()
                where schema_name = 'marts' and constraint_type = 'NOT NULL'"""
            ).fetchall()
            for column in columns
        }
        assert declared <= enforced
        with pytest.raises(duckdb.ConstraintException, match="lead_source"):
            wh.execute("insert into marts.fct_speed_to_lead_by_source (lead_source) values (null)")


def test_conversations_follow_a_message_moved_twice_between_their_builds(tmp_path: Path) -> None:
    """A message moves from A to B in a load that only int_hatch__messages is built on, then to C.

    int_hatch__messages then holds B, not A, as the conversation the second move left, so the
    incremental int_hatch__conversations must fall back to the raw versions (its compiled SQL says
    which path it took) and come out as a full refresh's: A without the message.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    sample_data.build_hatch(con, seed=11, start_date=START, end_date=END, contacts=60)
    for table in ("conversation_items", "contact_history"):
        con.execute(f"delete from sample.{table} where _day > DATE '{SPLIT}'")
    landing, inc, full = tmp_path / "landing", tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    select = ["--select", "+fct_conversations", "--indirect-selection", "cautious"]
    write_archives(con, landing, START, SPLIT)
    load(landing, inc, tmp_path / "state")
    dbt(["build", *select], inc, tmp_path / "dbt")

    latest = """select * from sample.conversation_items
        qualify row_number() over (partition by id order by _ts desc, _k desc) = 1"""
    conversations = [
        r[0]
        for r in con.sql(
            f"""select conversation_id from ({latest}) group by 1
            having count(*) >= 2 order by 1 limit 3"""
        ).fetchall()
    ]
    a, b, c = conversations
    message = con.sql(f"select min(id) from ({latest}) where conversation_id = '{a}'").fetchone()[0]
    for k, conversation in enumerate((b, c), start=1):
        day = SPLIT + timedelta(days=k)
        con.execute(
            f"""insert into sample.conversation_items
            select * replace ('{conversation}' as conversation_id, DATE '{day}' as _day,
                TIMESTAMP '{day} 12:00:00' as _ts, '{day}T12:00:00Z' as updated_at,
                _k + {k} * 10000000 as _k)
            from ({latest}) where id = '{message}'"""
        )
        write_archives(con, landing, day, day)
        load(landing, inc, tmp_path / "state")
        if k == 1:  # the first move reaches int_hatch__messages only
            dbt(["run", "--select", "int_hatch__messages"], inc, tmp_path / "dbt")
    dbt(["build", *select], inc, tmp_path / "dbt")

    load(landing, full, tmp_path / "state_full")
    dbt(["build", "--full-refresh", *select], full, tmp_path / "dbt_full")
    con.close()
    rows = """select conversation_id, message_count, inbound_message_count, created_at,
        last_message_at from {}intermediate.int_hatch__conversations"""
    with duckdb.connect(str(inc), read_only=True) as wh:
        wh.execute(f"attach '{full}' as full_wh (read_only)")
        counts = wh.sql(
            f"""select i.conversation_id, i.message_count, f.message_count
            from ({rows.format("")}) i join ({rows.format("full_wh.")}) f using (conversation_id)
            where conversation_id in ('{a}', '{b}', '{c}') order by 1"""
        ).fetchall()
        differ = [
            wh.sql(f"select count(*) from ({x} except all {y})").fetchone()[0]
            for x, y in (
                (rows.format(""), rows.format("full_wh.")),
                (rows.format("full_wh."), rows.format("")),
            )
        ]
    assert differ == [0, 0], counts
    assert [n for _, n, _ in counts] == [n for _, _, n in counts]


def test_marts_declare_their_keys_and_owner(built: dict) -> None:
    """Every mart names its grain (`meta.primary_key`, backed by a uniqueness test) and the keys
    it joins on (`meta.foreign_keys`, each backed by a `relationships` test to a mart whose
    primary key they are), and belongs to the `marts` group with an owner; the dimensions'
    primary keys are DuckDB constraints."""
    manifest = json.loads((built["root"] / "dbt_full/target/manifest.json").read_text())
    nodes = manifest["nodes"].values()
    marts = {n["name"]: n for n in nodes if n["resource_type"] == "model" and "marts" in n["fqn"]}
    assert len(marts) == 9
    assert manifest["groups"]["group.hatch_analytics.marts"]["owner"]["name"]
    tests: dict[str, list[tuple[str, dict]]] = {}
    for node in nodes:
        if node["resource_type"] == "test" and node.get("test_metadata"):
            meta = node["test_metadata"]
            tests.setdefault(node["attached_node"] or "", []).append((meta["name"], meta["kwargs"]))
    for name, mart in marts.items():
        assert mart["group"] == "marts", name
        keys = mart["config"]["meta"]["primary_key"]
        found = tests.get(mart["unique_id"], [])
        unique = [[k["column_name"]] for t, k in found if t == "unique"]
        unique += [k["combination"] for t, k in found if t == "unique_combination_of_columns"]
        assert keys in unique, (name, keys, unique)
        for fk in mart["config"]["meta"].get("foreign_keys", []):
            assert marts[fk["to"]]["config"]["meta"]["primary_key"] == fk["to_columns"], fk
            relations = [
                (k["column_name"], k["to"], k["field"]) for t, k in found if t == "relationships"
            ]
            assert (fk["columns"][0], f"ref('{fk['to']}')", fk["to_columns"][0]) in relations
    for warehouse in (built["full"], built["incremental"]):  # also after rebuilds
        with duckdb.connect(str(warehouse), read_only=True) as wh:
            primary = wh.sql(
                """select table_name, constraint_column_names from duckdb_constraints()
                where schema_name = 'marts' and constraint_type = 'PRIMARY KEY'
                order by table_name"""
            ).fetchall()
        assert primary == [("dim_campaigns", ["campaign_id"]), ("dim_workspaces", ["workspace_id"])]
