"""The files a load considers: every loadable file of the landing store, or the files named."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import fsspec

from loader.errors import ConfigError
from loader.landing import LandingStore
from loader.load import hatch_archives
from loader.schemas import DOCUMENT_TABLES, HATCH_DATASETS

log = logging.getLogger(__name__)

SYSTEMS = ("hatch", *DOCUMENT_TABLES)


DOCUMENT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")

LocalOpener = Callable[[], AbstractContextManager[Path]]


@dataclass(frozen=True)
class Candidate:
    """A file to load: where it is, what it is, and how to get a local copy of it."""

    file_name: str
    url: str
    system: str
    dataset: str
    open_local: LocalOpener
    version: str | None = None  # the landing store's size and modification tag, when it has one


def discover(store: LandingStore) -> list[Candidate]:
    """Every loadable file in the landing store, Hatch archives first, in name order."""
    found: list[Candidate] = []
    for system in SYSTEMS:
        for rel, version in sorted(store.versions(f"{system}/").items()):
            name = rel.rsplit("/", 1)[-1]
            dataset = _dataset_for(system, name)
            if dataset is None:
                log.debug("ignoring %s (not a %s file)", rel, system)
                continue
            opener = _store_opener(store, rel)
            found.append(Candidate(name, store.url_of(rel), system, dataset, opener, version))
    return found


def _dataset_for(system: str, name: str) -> str | None:
    if system == "hatch":
        # a bad archive name under hatch/ still gets tried, so it is recorded as failed
        if not name.endswith(".zip"):
            return None
        return next((ds for ds in HATCH_DATASETS if name.startswith(ds + "_")), "unknown")
    return system if name.lower().endswith(DOCUMENT_SUFFIXES) else None


def _store_opener(store: LandingStore, rel: str) -> LocalOpener:
    return lambda: store.get_local(rel)


@contextlib.contextmanager
def _fetch_url(url: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        local = Path(tmp) / url.rstrip("/").rsplit("/", 1)[-1]
        with fsspec.open(url, "rb") as src, local.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        yield local


def _local_opener(path: Path) -> LocalOpener:
    return lambda: contextlib.nullcontext(path)


def named_candidates(targets: Sequence[str], system: str | None = None) -> list[Candidate]:
    """Candidates for files named on the command line (local paths or fsspec URLs)."""
    found = []
    for target in targets:
        is_url = "://" in target and not target.startswith("file://")
        local = Path(target.removeprefix("file://"))
        if not is_url and not local.is_file():
            raise ConfigError(f"no such file: {target}")
        name = target.rstrip("/").rsplit("/", 1)[-1]
        sys_name = system or ("hatch" if hatch_archives.is_archive_name(name) else None)
        if sys_name is None:
            raise ConfigError(
                f"{name}: not a Hatch archive name ({{data_source}}_{{start}}_{{end}}.zip); "
                "name the document system with --system leads|huechat|texter"
            )
        dataset = _dataset_for(sys_name, name) or sys_name
        url = target if is_url else str(local.absolute())
        opener = (lambda u=target: _fetch_url(u)) if is_url else _local_opener(local)
        found.append(Candidate(name, url, sys_name, dataset, opener))
    return found
