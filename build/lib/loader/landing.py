"""Landing store on fsspec: a local folder by default, any fsspec URL (s3://, memory://, ...)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from loader.errors import ConfigError, DataError

TEMP_PREFIX = ".tmp-"
BUCKET_PROTOCOLS = {"s3", "s3a", "gs", "gcs", "abfs", "az"}  # stores whose root is a bucket
_CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    """Hex sha256 of a local file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_stream(fh: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := fh.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _version(info: dict) -> str | None:
    """``size:stamp`` from an fsspec info dict; None without a modification stamp."""
    for key in ("mtime", "ETag", "LastModified", "last_modified", "updated", "created"):
        if info.get(key) is not None:
            return f"{info.get('size')}:{info[key]}"
    return None


class LandingStore:
    """Write-once archive store. Relative paths use '/', e.g. ``hatch/contact_history/x.zip``."""

    def __init__(self, url: str) -> None:
        self.url = str(url).rstrip("/") or "."
        try:
            self.fs, root = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as exc:
            raise ConfigError(f"LANDING_URL {self.url!r}: {exc}") from None
        self.root = root.rstrip("/")
        self.is_local = isinstance(self.fs, LocalFileSystem)

    def __repr__(self) -> str:
        return f"LandingStore({self.url!r})"

    def require_bucket(self) -> None:
        """ConfigError naming the bucket of an object-store URL that does not exist (the loader
        never creates buckets: that is the store owner's decision, with its policies)."""
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        if not set(protocols) & BUCKET_PROTOCOLS:
            return
        bucket = self.root.split("/", 1)[0]
        try:
            found = self.fs.exists(bucket)
        except (OSError, ValueError) as exc:  # credentials, endpoint, network
            raise ConfigError(f"{self.url}: cannot reach bucket {bucket!r}: {exc}") from None
        if not found:
            raise ConfigError(
                f"{self.url}: bucket {bucket!r} does not exist; create it first "
                "(the loader never creates buckets)"
            )

    def _path(self, relpath: str) -> str:
        rel = relpath.strip("/")
        if not rel or ".." in rel.split("/"):
            raise ValueError(f"invalid landing path: {relpath!r}")
        return f"{self.root}/{rel}"

    def url_of(self, relpath: str) -> str:
        """A URL (or absolute local path) naming the file, for lineage and messages."""
        path = self._path(relpath)
        return path if self.is_local else self.fs.unstrip_protocol(path)

    def exists(self, relpath: str) -> bool:
        """Whether the file exists."""
        return bool(self.fs.exists(self._path(relpath)))

    def sha256(self, relpath: str) -> str:
        """Hex sha256 of a stored file."""
        with self.open(relpath) as fh:
            return _sha256_stream(fh)

    def put_atomic(self, relpath: str, local_file: Path) -> str:
        """Store a local file under ``relpath``, whole or not at all; return its sha256.

        A local folder gets it under a temporary name, then renamed; an object store's PUT is
        itself all or nothing (and there is no rename). The same bytes already stored: no-op.
        Different bytes already stored: DataError.
        """
        sha = sha256_file(Path(local_file))
        target = self._path(relpath)
        if self.fs.exists(target):
            self._check_same(relpath, sha)
            return sha
        if not self.is_local:  # no folders to make (makedirs would create a missing bucket)
            self.fs.put_file(str(local_file), target)
            return sha
        parent, name = target.rsplit("/", 1)
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/{TEMP_PREFIX}{name}.{uuid.uuid4().hex}"
        try:
            self.fs.put_file(str(local_file), tmp)
            if self.fs.exists(target):  # another writer won the race meanwhile
                self._check_same(relpath, sha)
            else:
                os.replace(tmp, target)
        finally:
            if self.fs.exists(tmp):
                self.fs.rm_file(tmp)
        return sha

    def replace(self, relpath: str, local_file: Path) -> None:
        """Store a local file under ``relpath``, replacing any earlier one, whole or not at all
        (exports: a new version of the same file)."""
        target = self._path(relpath)
        if not self.is_local:
            self.fs.put_file(str(local_file), target)
            return
        parent, name = target.rsplit("/", 1)
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/{TEMP_PREFIX}{name}.{uuid.uuid4().hex}"
        try:
            self.fs.put_file(str(local_file), tmp)
            os.replace(tmp, target)
        finally:
            if self.fs.exists(tmp):
                self.fs.rm_file(tmp)

    def _check_same(self, relpath: str, sha: str) -> None:
        existing = self.sha256(relpath)
        if existing != sha:
            raise DataError(
                f"already archived with different content (stored sha256 {existing[:12]}…, "
                f"new {sha[:12]}…); not overwritten",
                file=self.url_of(relpath),
            )

    def list(self, prefix: str = "") -> list[str]:
        """Relative paths of stored files under ``prefix`` (temporary files excluded), sorted."""
        return sorted(self.versions(prefix))

    def versions(self, prefix: str = "") -> dict[str, str | None]:
        """Stored files under ``prefix`` -> a version tag (size and modification time or ETag).

        One listing call, no reads. The tag changes when a file is replaced; None when the store
        reports no modification time (the file must then be read to know it).
        """
        base = self._path(prefix) if prefix.strip("/") else self.root
        if not self.fs.exists(base):
            return {}
        found: dict[str, dict] = self.fs.find(base, detail=True)
        out = {}
        for path, info in found.items():
            rel = path.rstrip("/")[len(self.root) + 1 :]
            if not rel.rsplit("/", 1)[-1].startswith(TEMP_PREFIX):
                out[rel] = _version(info)
        return out

    def open(self, relpath: str) -> IO[bytes]:
        """Open a stored file for binary reading."""
        return self.fs.open(self._path(relpath), "rb")

    @contextmanager
    def get_local(self, relpath: str) -> Iterator[Path]:
        """A local path to read the file (a temporary download for remote stores)."""
        if self.is_local:
            yield Path(self._path(relpath))
            return
        tmpdir = tempfile.mkdtemp(prefix="landing-")
        try:
            local = Path(tmpdir) / relpath.rsplit("/", 1)[-1]
            self.fs.get_file(self._path(relpath), str(local))
            yield local
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
