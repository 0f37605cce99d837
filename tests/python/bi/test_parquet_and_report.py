"""``export-parquet`` and ``report``: files for file-reading tools and a visual HTML report."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import duckdb
import pytest
from bi_support import MARTS, chromium_run, loader, mart_counts, tool_env

from loader.report import html as report


@pytest.fixture(scope="module")
def parquet_dir(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The marts exported with ``python -m loader export-parquet --out DIR``."""
    out = tmp_path_factory.mktemp("parquet")
    env = tool_env(built_warehouse.parent, built_warehouse)
    loader("export-parquet", "--out", str(out), env=env)
    return out


@pytest.fixture(scope="module")
def report_html(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report written with ``python -m loader report --out FILE``."""
    out = tmp_path_factory.mktemp("report") / "sub" / "report.html"
    loader("report", "--out", str(out), env=tool_env(built_warehouse.parent, built_warehouse))
    return out


def test_parquet_file_per_mart_with_the_same_rows(built_warehouse: Path, parquet_dir: Path) -> None:
    counts = mart_counts(built_warehouse)
    assert set(MARTS) <= set(counts)
    files = sorted(p.stem for p in parquet_dir.glob("*.parquet"))
    assert files == sorted(counts)
    assert not list(parquet_dir.glob(".*tmp*"))  # temporary files were renamed or removed
    with duckdb.connect() as con:
        for name, rows in counts.items():
            path = parquet_dir / f"{name}.parquet"
            assert con.execute(f"select count(*) from read_parquet('{path}')").fetchone() == (rows,)


def test_parquet_folder_works_after_a_move(
    built_warehouse: Path, parquet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = tmp_path / "elsewhere" / "marts"
    shutil.copytree(parquet_dir, moved)  # a copy elsewhere: the original folder is gone for it
    sql = (moved / "views.sql").read_text()
    paths = re.findall(r"read_parquet\('([^']+)'\)", sql)
    assert sorted(Path(p).stem for p in paths) == sorted(mart_counts(built_warehouse))
    assert all(Path(p).name == p for p in paths)  # relative to the folder
    assert str(parquet_dir) not in sql
    counts = mart_counts(built_warehouse)
    monkeypatch.chdir(moved)  # views.sql run from its folder
    with duckdb.connect() as con:
        con.execute(sql)
        for name, rows in counts.items():
            assert con.execute(f'select count(*) from marts."{name}"').fetchone() == (rows,)
    monkeypatch.chdir(tmp_path)  # the views database from anywhere, told where its folder is
    with duckdb.connect(str(moved / "marts_parquet.duckdb"), read_only=True) as con:
        con.execute(f"SET file_search_path = '{moved}'")
        assert con.execute("select count(*) from marts.fct_messages").fetchone() == (
            counts["fct_messages"],
        )


def test_parquet_timestamps_are_utc_and_columns_described(
    built_warehouse: Path, parquet_dir: Path
) -> None:
    path = str(parquet_dir / "fct_messages.parquet")
    with duckdb.connect() as con:
        kinds = dict(
            con.execute(
                "select name, logical_type from parquet_schema(?) where name like '%_at'", [path]
            ).fetchall()
        )
        assert kinds["message_at"] and "isAdjustedToUTC=1" in kinds["message_at"], kinds
        assert all("isAdjustedToUTC=1" in str(t) for t in kinds.values()), kinds
        meta = {
            k.decode(): v.decode()
            for k, v in con.execute(
                "select key, value from parquet_kv_metadata(?)", [path]
            ).fetchall()
        }
        described = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
        columns = [row[0] for row in described]
        # the same instants as the warehouse's naive UTC values, read in another time zone
        con.execute("SET TimeZone = 'America/New_York'")
        exported = con.execute(
            f"select message_id, timezone('UTC', message_at) from read_parquet('{path}')"
            " order by message_id limit 50"
        ).fetchall()
    with duckdb.connect(str(built_warehouse), read_only=True) as con:
        stored = con.execute(
            "select message_id, message_at from marts.fct_messages order by message_id limit 50"
        ).fetchall()
    assert meta["description"].startswith("One row per message")
    assert all(meta.get(f"column:{c}") for c in columns), sorted(set(columns) - set(meta))
    assert "(UTC)" in meta["column:message_at"]
    assert exported == stored and any(at for _, at in stored)


def test_export_parquet_needs_a_published_warehouse(tmp_path: Path) -> None:
    env = tool_env(tmp_path, tmp_path / "missing.duckdb")
    result = loader("export-parquet", "--out", str(tmp_path / "out"), env=env, check=False)
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_report_is_self_contained_with_three_charts(report_html: Path) -> None:
    text = report_html.read_text()
    assert text.startswith("<!DOCTYPE html>")
    for title in report.CHART_TITLES.values():
        assert title in text
    assert text.count("<svg") >= 3
    # no network: no scripts, stylesheets, images or fonts fetched from anywhere
    assert not re.search(r"<script|<link|<img|@import|url\(", text, re.I)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text, re.I)
    assert "Missing marts" not in text


def test_report_renders_in_headless_chromium(
    chromium: str, report_html: Path, tmp_path: Path
) -> None:
    png = tmp_path / "report.png"
    shot = chromium_run(
        chromium,
        tmp_path / "profile",
        f"--screenshot={png}",
        "--window-size=1280,2000",
        report_html.as_uri(),
    )
    assert png.is_file(), shot.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    assert len(data) > 30_000  # charts, not a blank page
    # keep the screenshot next to the report for humans (CI artifacts)
    (report_html.parent / "report.png").write_bytes(data)
    dom = chromium_run(chromium, tmp_path / "profile2", "--dump-dom", report_html.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    for title in report.CHART_TITLES.values():
        assert title in dom.stdout
    assert dom.stdout.count("<svg") >= 3


def test_report_tolerates_missing_marts(tmp_path: Path) -> None:
    warehouse = tmp_path / "partial.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_campaign_performance as select 'Replied' as contact_status,"
            " 1 as contact_status_sort_order, 3 as contacts, 1 as opted_out_contacts,"
            " 0 as contacts_with_sales"
        )
    out = report.write_report(warehouse, tmp_path / "r.html")
    text = out.read_text()
    assert "Missing marts: fct_message_delivery, fct_speed_to_lead" in text
    assert "No message data." in text and "33.3%" in text


@pytest.mark.parametrize("top", [1, 3, 5, 10, 12.5, 37, 99, 1234, 98_765])
def test_count_axes_have_whole_number_ticks(top: float) -> None:
    svg = report.svg_columns(["a", "b"], [("sent", "#000", [top, top / 3])], title="t")
    ticks = re.findall(r'text-anchor="end" fill="#555">([^<]+)</text>', svg)
    assert len(ticks) == 5
    values = [float(t.replace(",", "")) for t in ticks]
    assert all(v == int(v) for v in values), ticks
    assert values[-1] >= top and values[0] == 0


def test_date_labels_show_the_year_only_across_years() -> None:
    from datetime import date

    assert report.date_labels([date(2026, 1, 1), date(2026, 2, 1)]) == ["01-01", "02-01"]
    assert report.date_labels([date(2025, 12, 31), date(2026, 1, 1)]) == [
        "2025-12-31",
        "2026-01-01",
    ]
