"""Fixtures for the load tests: small generated exports and archive builders."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from loader import warehouse
from loader.config import Settings
from loader.demo.sample_data import build_hatch, write_archive, write_member

START, END = date(2024, 3, 1), date(2024, 3, 10)


@pytest.fixture(scope="session")
def sample_con() -> duckdb.DuckDBPyConnection:
    """A small deterministic Hatch sample (every version of every record)."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone='UTC'")
    build_hatch(con, seed=7, start_date=START, end_date=END, contacts=60)
    return con


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh landing folder, warehouse and state dir."""
    (tmp_path / "landing").mkdir()
    return Settings(
        landing_url=str(tmp_path / "landing"),
        warehouse_path=tmp_path / "warehouse.duckdb",
        state_dir=tmp_path / ".loader",
    )


class Kit:
    """Helpers bound to one test's settings and the shared sample."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, tmp: Path) -> None:
        self.con, self.settings, self.tmp = con, settings, tmp

    def hatch_dir(self, dataset: str) -> Path:
        return hatch_dir(self.settings, dataset)

    def land(self, dataset: str, fmt: str, start: date = START, end: date = END) -> Path:
        return land(self.con, self.settings, dataset, fmt, start, end)

    def member_bytes(self, dataset: str, fmt: str) -> bytes:
        return member_bytes(self.con, dataset, fmt, self.tmp)

    def bad_zip(self, name: str, members: dict[str, bytes | str]) -> Path:
        """A ZIP under the dataset's landing folder (dataset taken from the name)."""
        dataset = "contact_history" if name.startswith("contact_history") else "conversation_items"
        return make_zip(self.hatch_dir(dataset) / name, members)


@pytest.fixture
def kit(sample_con: duckdb.DuckDBPyConnection, settings: Settings, tmp_path: Path) -> Kit:
    """Helpers for this test."""
    return Kit(sample_con, settings, tmp_path)


def hatch_dir(settings: Settings, dataset: str) -> Path:
    """The landing folder of one Hatch dataset."""
    path = Path(settings.landing_url) / "hatch" / dataset
    path.mkdir(parents=True, exist_ok=True)
    return path


def land(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    dataset: str,
    fmt: str,
    start: date = START,
    end: date = END,
) -> Path:
    """Write a generated archive into the landing store."""
    path = write_archive(con, dataset, start, end, fmt, hatch_dir(settings, dataset))
    assert path is not None
    return path


def member_bytes(con: duckdb.DuckDBPyConnection, dataset: str, fmt: str, tmp: Path) -> bytes:
    """The generated member's bytes."""
    dest = tmp / f"member.{fmt}"
    write_member(con, dataset, START, END, fmt, dest)
    return dest.read_bytes()


def make_zip(dest: Path, members: dict[str, bytes | str]) -> Path:
    """A ZIP with exactly these members (names unchecked: for bad-archive tests)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(buf.getvalue())
    return dest


def _conversation_rows(path: Path) -> list[tuple]:
    con = warehouse.connect_readonly(path)
    try:
        return con.execute(
            "SELECT * EXCLUDE (_loaded_at) FROM raw.hatch_conversation_items "
            "ORDER BY _file_name, _record_number"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def conversation_rows():
    """Every raw conversation item of a warehouse but its load time, in file and record order."""
    return _conversation_rows
