"""Integration: every document file ``sample_data.write_documents`` writes loads cleanly."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from loader.load.documents import load_file
from loader.schemas import DOCUMENT_TABLES

sample_data = pytest.importorskip("loader.demo.sample_data")


def _system(path: Path) -> str | None:
    for part in (*path.parts[::-1], path.name.split("_")[0]):
        if part in DOCUMENT_TABLES:
            return part
    return None


@pytest.mark.skipif(
    not hasattr(sample_data, "write_documents"), reason="sample_data.write_documents not written"
)
def test_generated_documents_load(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    sample_data.write_documents(tmp_path, seed=7)
    files = [p for p in sorted(tmp_path.rglob("*")) if p.is_file() and _system(p)]
    assert files, "write_documents wrote no lead / HueChat / Texter files"
    loaded_at = datetime(2024, 6, 1, tzinfo=timezone.utc)
    for path in files:
        rows = load_file(
            con,
            path,
            system=_system(path) or "",
            file_name=path.name,
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            loaded_at=loaded_at,
        )
        assert rows > 0, path
    for system in {_system(p) for p in files}:
        (count,) = con.execute(f"SELECT count(*) FROM {DOCUMENT_TABLES[system]}").fetchone()
        assert count > 0
