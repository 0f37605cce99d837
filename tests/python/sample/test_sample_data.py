"""Sample-data generator: determinism, formats, versions, documents, CLI (real DuckDB)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from loader.demo import sample_data as sd
from loader.schemas import HATCH_COLUMNS, HATCH_DATASETS

END = date(2026, 9, 29)
START = END - timedelta(days=59)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    sd.build_hatch(c, seed=7, start_date=START, end_date=END, contacts=400)
    return c


def test_columns_in_contract_order(con: duckdb.DuckDBPyConnection) -> None:
    for ds, cols in HATCH_COLUMNS.items():
        names = [r[0] for r in con.execute(f"DESCRIBE sample.{ds}").fetchall()]
        assert names[: len(cols)] == list(cols)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_same_bytes_twice(tmp_path: Path, fmt: str) -> None:
    digests = []
    for k in range(2):
        data = sd.SampleData(seed=3, end_date=END, days=20, contacts=150)
        dest = tmp_path / f"{k}.{fmt}"
        assert data("conversation_items", END - timedelta(days=19), END, fmt, dest) > 0
        digests.append(dest.read_bytes())
    assert digests[0] == digests[1]


def test_every_timestamp_casts(con: duckdb.DuckDBPyConnection) -> None:
    bad = con.execute(
        """SELECT count(*) FILTER (WHERE TRY_CAST(updated_at AS TIMESTAMPTZ) IS NULL)
                + count(*) FILTER (WHERE send_at IS NOT NULL
                                     AND TRY_CAST(send_at AS TIMESTAMPTZ) IS NULL),
                  count(DISTINCT regexp_replace(updated_at, '[0-9]', 'd', 'g'))
           FROM sample.conversation_items"""
    ).fetchone()
    assert bad is not None and bad[0] == 0 and bad[1] >= 6  # many forms, all castable
    ok = con.execute(
        "SELECT bool_and(abs(epoch(CAST(updated_at AS TIMESTAMPTZ)) - epoch(_ts::TIMESTAMPTZ)) < 1"
        " AND CAST(updated_at AS TIMESTAMPTZ)::DATE = _day) FROM sample.conversation_items"
    ).fetchone()
    assert ok == (True,)


def _read(con: duckdb.DuckDBPyConnection, ds: str, path: Path, fmt: str) -> list[tuple]:
    cols = "{" + ", ".join(f"'{c}': '{t}'" for c, t in HATCH_COLUMNS[ds].items()) + "}"
    reader = (
        f"read_json('{path}', format='newline_delimited', columns={cols})"
        if fmt == "json"
        else f"read_csv('{path}', header=true, columns={cols}, quote='\"', escape='\"')"
    )
    return con.execute(f"SELECT * FROM {reader}").fetchall()


@pytest.mark.parametrize("ds", HATCH_DATASETS)
def test_json_and_csv_members_give_identical_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, ds: str
) -> None:
    n_json = sd.write_member(con, ds, START, END, "json", tmp_path / "m.json")
    n_csv = sd.write_member(con, ds, START, END, "csv", tmp_path / "m.csv")
    rows_json = _read(con, ds, tmp_path / "m.json", "json")
    assert n_json == n_csv == len(rows_json) > 0
    assert rows_json == _read(con, ds, tmp_path / "m.csv", "csv")
    first = (tmp_path / "m.json").read_text(encoding="utf-8").splitlines()[0]
    assert list(json.loads(first)) == list(HATCH_COLUMNS[ds])
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").splitlines()[0] == ",".join(
        HATCH_COLUMNS[ds]
    )


def test_csv_quotes_newlines_and_quotes(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    sd.write_member(con, "conversation_items", START, END, "csv", tmp_path / "m.csv")
    text = (tmp_path / "m.csv").read_text(encoding="utf-8")
    assert '""YES""' in text and ",true," in text and ",false," in text
    assert any(line.endswith('opt out.",delivered,') is False for line in text.splitlines())
    json_text = sd.write_member(con, "conversation_items", START, END, "json", tmp_path / "m.json")
    raw = (tmp_path / "m.json").read_text(encoding="utf-8")
    assert json_text == raw.count("\n") and not raw.startswith("[")


def test_re_exports_have_later_day(con: duckdb.DuckDBPyConnection) -> None:
    for ds, key in (("contact_history", "contact_history_id"), ("conversation_items", "id")):
        share, later = con.execute(
            f"""WITH v AS (SELECT {key}, count(*) n, count(DISTINCT _day) d
                           FROM sample.{ds} GROUP BY 1)
                SELECT avg((n > 1)::INT), bool_and(d = n) FROM v"""
        ).fetchone()
        assert 0.03 < share < 0.25 and later


def test_messages_per_contact_and_values(con: duckdb.DuckDBPyConnection) -> None:
    lo, hi = con.execute(
        """SELECT min(n), max(n) FROM (SELECT contact_id, count(DISTINCT id) n
           FROM sample.conversation_items GROUP BY 1)"""
    ).fetchone()
    assert (lo, hi) == (3, 8)
    statuses = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT contact_status FROM sample.contact_history"
        ).fetchall()
    }
    assert statuses == {"In Progress", "No Reply", "Replied", "Canceled"}
    dirs = {
        r[0]
        for r in con.execute("SELECT DISTINCT direction FROM sample.conversation_items").fetchall()
    }
    assert {"outbound", "inbound"} <= dirs and len(dirs) > 2


def test_archive_has_one_named_member(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = sd.write_archive(con, "contact_history", START, END, "csv", tmp_path)
    assert path == tmp_path / f"contact_history_{START}_{END}.zip"
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == [f"contact_history_{START}_{END}.csv"]
    future = END + timedelta(days=5)
    assert sd.write_archive(con, "contact_history", future, future, "json", tmp_path) is None
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def _records(path: Path) -> list:
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_documents_every_shape(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    files = sd.write_documents_from(con, tmp_path, seed=7, end_date=END, contacts=400)
    assert set(files) == {"leads", "huechat", "texter"}
    for paths in files.values():
        assert any(p.suffix == ".gz" for p in paths)
        assert any(
            _records(p) and p.read_text(errors="ignore").startswith("[")
            for p in paths
            if p.suffix != ".gz"
        )
    hue = [r for p in files["huechat"] for r in _records(p)]
    assert any("pagination" in r for r in hue)
    tex = [r for p in files["texter"] for r in _records(p)]
    assert any("total" in r for r in tex) and any("eventData" in r for r in tex)
    assert any("clientPhone" in r for r in tex) and any(r.get("status") == 7 for r in tex)
    leads = [r for p in files["leads"] for r in _records(p)]
    ext = {
        r[0]
        for r in con.execute("SELECT external_contact_id FROM sample.contact_history").fetchall()
    }
    assert any(r.get("contactID") in ext for r in leads)
    assert any(
        r.get("createdAt", "").endswith(("-0500", "-0600", "-0700", "-0800", "+0000"))
        for r in leads
    )


def test_generate_cli(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "loader",
            "generate",
            "--landing-url",
            str(tmp_path),
            "--end-date",
            str(END),
            "--days",
            "5",
            "--daily",
            "--contacts",
            "100",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "conversation_items" in out.stdout
    zips = sorted((tmp_path / "hatch" / "conversation_items").glob("*.zip"))
    assert zips and all(z.name.startswith("conversation_items_2026-09-") for z in zips)
    assert list((tmp_path / "leads").iterdir())
