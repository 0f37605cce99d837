"""The build record: project digest, raw table fingerprints and the selection they give."""

from __future__ import annotations

from pathlib import Path

import duckdb

from loader.dbt import build_state
from loader.dbt.build_state import Fingerprint


def _project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "models/a.sql").write_text("select 1 as x\n")
    (root / "tests/python").mkdir(parents=True)
    (root / "tests/python/test_x.py").write_text("def test_x(): pass\n")
    (root / "dbt_project.yml").write_text("name: p\n")
    return root


def test_project_digest_follows_what_dbt_reads(tmp_path: Path) -> None:
    """A model, a generic test or the profile changes the digest; the Python suite does not."""
    root = _project(tmp_path / "p")
    digest = build_state.project_digest(root, root)
    (root / "tests/python/test_x.py").write_text("def test_x(): assert True\n")
    assert build_state.project_digest(root, root) == digest
    (root / "models/a.sql").write_text("select 2 as x\n")
    changed = build_state.project_digest(root, root)
    assert changed != digest
    (root / "tests/generic").mkdir()
    (root / "tests/generic/t.sql").write_text("{% test t(model) %}select 1{% endtest %}\n")
    with_test = build_state.project_digest(root, root)
    assert with_test != changed
    (root / "profiles.yml").write_text("p: {}\n")
    assert build_state.project_digest(root, root) != with_test


def test_table_fingerprints_change_with_every_load() -> None:
    """Rows and the newest `_loaded_at` of each raw table; a table without it has rows only."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.t (x INT, _loaded_at TIMESTAMPTZ)")
    con.execute('CREATE TABLE raw."odd\'name" (x INT)')
    con.execute("CREATE TABLE main.elsewhere (x INT)")
    con.execute("INSERT INTO raw.t VALUES (1, '2024-01-01 00:00:00+00')")
    first = build_state.table_fingerprints(con)
    assert set(first) == {"t", "odd'name"}
    assert first["odd'name"] == "0|None"
    con.execute("DELETE FROM raw.t")
    con.execute("INSERT INTO raw.t VALUES (1, '2024-01-02 00:00:00+00')")  # same rows, new load
    second = build_state.table_fingerprints(con)
    assert second["t"] != first["t"] and second["odd'name"] == first["odd'name"]


def test_selection_is_whole_project_changed_tables_or_nothing() -> None:
    """No record or another project: everything (None); else the changed tables' descendants."""
    before = Fingerprint("p1", {"a": "1|x", "b": "2|y"})
    assert build_state.selection(None, before) is None
    assert build_state.selection(before, Fingerprint("p2", before.tables)) is None
    assert build_state.selection(before, before) == []
    after = Fingerprint("p1", {"a": "1|x", "b": "3|z", "c": "1|w"})
    assert build_state.selection(before, after) == ["source:*.b+", "source:*.c+"]
    assert build_state.selection(before, Fingerprint("p1", {"a": "1|x"})) is None  # b dropped


def test_record_and_read_back(tmp_path: Path) -> None:
    """The newest record is read back; none before the first."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert build_state.last_recorded(con) is None
    build_state.record(con, Fingerprint("p1", {"a": "1|x"}))
    build_state.record(con, Fingerprint("p2", {"a": "2|y"}))
    assert build_state.last_recorded(con) == Fingerprint("p2", {"a": "2|y"})


def test_project_digest_is_the_same_for_a_moved_checkout(tmp_path: Path) -> None:
    """Names are relative: the same files elsewhere give the same digest."""
    a, b = _project(tmp_path / "a"), _project(tmp_path / "elsewhere" / "b")
    assert build_state.project_digest(a, a) == build_state.project_digest(b, b)
