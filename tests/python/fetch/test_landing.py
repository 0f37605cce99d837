"""The landing store: atomic, write-once, local or any fsspec URL."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from loader.errors import DataError
from loader.landing import LandingStore


@pytest.fixture(params=["local", "memory"])
def store(request, tmp_path: Path) -> LandingStore:
    if request.param == "local":
        return LandingStore(str(tmp_path / "landing"))
    return LandingStore(f"memory://landing-{uuid.uuid4().hex}")


def test_put_atomic_write_once(store: LandingStore, tmp_path: Path) -> None:
    src = tmp_path / "a.zip"
    src.write_bytes(b"first bytes")
    sha = store.put_atomic("hatch/contact_history/a.zip", src)
    assert sha == hashlib.sha256(b"first bytes").hexdigest()
    assert store.put_atomic("hatch/contact_history/a.zip", src) == sha  # same bytes: no-op
    other = tmp_path / "b.zip"
    other.write_bytes(b"other bytes")
    with pytest.raises(DataError, match="different content"):
        store.put_atomic("hatch/contact_history/a.zip", other)
    with store.open("hatch/contact_history/a.zip") as fh:
        assert fh.read() == b"first bytes"
    with store.get_local("hatch/contact_history/a.zip") as local:
        assert local.read_bytes() == b"first bytes"
    assert store.list() == ["hatch/contact_history/a.zip"]
    assert store.list("hatch/conversation_items") == []
    assert store.url_of("hatch/contact_history/a.zip").endswith(
        "landing/hatch/contact_history/a.zip"
    ) or ("landing-" in store.url_of("hatch/contact_history/a.zip"))


def test_temporary_files_are_not_listed(tmp_path: Path) -> None:
    store = LandingStore(str(tmp_path / "landing"))
    folder = tmp_path / "landing" / "hatch" / "x"
    folder.mkdir(parents=True)
    (folder / ".tmp-x.zip.123").write_bytes(b"partial")
    (folder / "x.zip").write_bytes(b"whole")
    assert store.list("hatch") == ["hatch/x/x.zip"]


def test_rejects_paths_escaping_the_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LandingStore(str(tmp_path)).open("../etc/passwd")


def test_fetch_into_an_fsspec_store(server, make_settings) -> None:
    from datetime import datetime, timedelta, timezone

    from loader.fetch.exports import run_fetch

    day = datetime.now(timezone.utc).date() - timedelta(days=2)
    url = f"memory://landing-{uuid.uuid4().hex}"
    summary = run_fetch(make_settings(server, landing_url=url), ["contact_history"], day, day)
    rel = f"hatch/contact_history/contact_history_{day}_{day}.zip"
    assert LandingStore(url).list("hatch") == [rel] == summary.files
    assert LandingStore(url).url_of(rel).startswith("memory://")
