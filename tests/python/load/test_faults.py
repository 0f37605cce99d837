"""A bad night: kills, a second writer, a full disk, symlinks; a plain rerun recovers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from loader import warehouse
from loader.errors import EXIT_DISK_FULL, EXIT_WAREHOUSE_BUSY

ROOT = Path(__file__).resolve().parents[3]
SECRET = "sk-live-0123456789abcdef"


def _env(settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LANDING_URL": settings.landing_url,
        "WAREHOUSE_PATH": str(settings.warehouse_path),
        "LOADER_STATE_DIR": str(settings.state_dir),
        **extra,
    }


def _loader(settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loader", *args],
        env=_env(settings, **extra),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def _counts(path: Path) -> tuple[int, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT count(*), count(DISTINCT (_file_sha256, _record_number)) "
            "FROM raw.hatch_conversation_items"
        ).fetchone()
    finally:
        con.close()


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def spilling_landing(tmp_path_factory) -> Path:
    """100k messages: more than a 100MB buffer pool holds, so the load spills to disk."""
    landing = tmp_path_factory.mktemp("spill") / "landing"
    args = ["generate", "--landing-url", str(landing), "--messages", "100000", "--no-documents"]
    proc = subprocess.run(
        [sys.executable, "-m", "loader", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return landing


def test_load_killed_while_spilling_recovers_on_a_plain_rerun(spilling_landing, settings, tmp_path):
    settings = replace(settings, landing_url=str(spilling_landing))
    spill = warehouse.work_path(settings.warehouse_path).with_name("warehouse.duckdb.tmp")
    limit = {"LOADER_MEMORY_LIMIT": "100MB"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "loader", "load"],
        env=_env(settings, **limit),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        assert _wait_for(spill.is_dir, proc), "the load never spilled to disk"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert spill.is_dir() and not settings.warehouse_path.exists()
    rerun = _loader(settings, "load", **limit)
    assert rerun.returncode == 0, rerun.stderr
    assert not spill.exists()
    clean = tmp_path / "clean.duckdb"
    assert _loader(settings, "load", "--warehouse", str(clean)).returncode == 0
    assert _counts(settings.warehouse_path) == _counts(clean)
    assert _counts(clean)[0] == _counts(clean)[1] > 100_000


def test_stale_spill_folder_left_in_the_working_folder_is_removed(kit, settings):
    kit.land("conversation_items", "json")
    spill = warehouse.work_path(settings.warehouse_path).with_name("warehouse.duckdb.tmp")
    spill.mkdir(parents=True)
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"\0" * 4096)
    proc = _loader(settings, "load")
    assert proc.returncode == 0, proc.stderr
    assert not spill.exists()


HOLD_LOCK = """
import sys, time
from pathlib import Path
from loader import warehouse
path, secret = Path(sys.argv[1]), sys.argv[2]
sys.argv = ["/venv/bin/hatch-loader", "sync", "--api-key", secret]  # as the CLI would see it
with warehouse.writer(path):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_lock_file_holds_no_secret_and_is_private(kit, settings):
    kit.land("contact_history", "json")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.warehouse_path), SECRET],
        env=_env(settings),
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        lock = warehouse.lock_path(settings.warehouse_path)
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        assert lock.read_text() == f"pid {holder.pid}: hatch-loader sync\n"
        unreachable = "http://127.0.0.1:9/api/v1"  # the fetch fails at once; then the load waits
        busy = _loader(
            settings,
            "sync",
            "--api-key",
            SECRET,
            "--api-url",
            unreachable,
            HATCH_MAX_RETRIES="0",
            HATCH_MIN_INTERVAL_S="0",
        )
        assert busy.returncode == EXIT_WAREHOUSE_BUSY, busy.stderr
        assert "hatch-loader sync" in busy.stderr and SECRET not in busy.stderr + busy.stdout
        holder.send_signal(signal.SIGKILL)  # left behind by a kill: still no secret in it
        holder.wait()
        assert SECRET not in lock.read_text()
    finally:
        holder.kill()
        holder.wait()
    assert _loader(settings, "load").returncode == 0


def test_symlinked_warehouse_is_resolved_once(kit, settings, tmp_path):
    kit.land("contact_history", "json")
    release = tmp_path / "releases" / "r1" / "warehouse.duckdb"
    release.parent.mkdir(parents=True)
    link = tmp_path / "current.duckdb"
    link.symlink_to(release)
    linked = replace(settings, warehouse_path=link)
    with warehouse.writer(release):  # a writer through the real path holds the link's lock too
        busy = _loader(linked, "load")
    assert busy.returncode == EXIT_WAREHOUSE_BUSY, busy.stderr
    proc = _loader(linked, "load")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and link.resolve() == release
    assert release.is_file() and not release.is_symlink()
    con = duckdb.connect(str(link), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.hatch_contact_history").fetchone()[0] > 0
    con.close()


def test_csv_without_a_documented_column_loads_with_a_warning(kit, settings):
    name = "contact_history_2024-03-01_2024-03-10"
    csv = "contact_history_id,contact_status,updated_at\nch1,Replied,2024-03-01 10:00:00\n"
    kit.bad_zip(f"{name}.zip", {f"{name}.csv": csv})
    proc = _loader(settings, "load")
    assert proc.returncode == 0, proc.stderr
    assert f"WARNING {name}.zip: CSV header lacks documented column(s)" in proc.stdout
    assert "opted_out" in proc.stdout
    status = _loader(settings, "status", "--json")
    entry = next(d for d in json.loads(status.stdout)["datasets"] if d["dataset"] == name[:15])
    assert [w["file"] for w in entry["files_with_warnings"]] == [f"{name}.zip"]
    assert "opted_out" in entry["files_with_warnings"][0]["warning"]
    assert "WARNING" in _loader(settings, "status").stdout


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root (run the tests as root to cover a full disk)"
    if shutil.which("mount") is None:
        return "no mount command"
    return None


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs (root only), unmounted afterwards; yields its mount point."""
    why = _can_mount()
    if why:
        pytest.skip(why)
    point = tmp_path / "disk"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(point)])
    if done.returncode:
        pytest.skip("this sandbox refuses tmpfs mounts (needs root with CAP_SYS_ADMIN)")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_full_disk_is_one_line_and_a_rerun_on_room_loads_once(
    spilling_landing, settings, small_disk
):
    settings = replace(
        settings, landing_url=str(spilling_landing), warehouse_path=small_disk / "w.duckdb"
    )
    first = _loader(settings, "load", str(next(spilling_landing.rglob("contact_history_*.zip"))))
    assert first.returncode == 0, first.stderr  # a small published warehouse
    before = settings.warehouse_path.read_bytes()
    full = _loader(settings, "load")
    assert full.returncode == EXIT_DISK_FULL, full.stderr
    error = full.stderr.strip().splitlines()[-1]
    assert error.startswith("error: no space left on the device of ") and str(small_disk) in error
    assert "needs more than" in error and "Traceback" not in full.stderr
    assert settings.warehouse_path.read_bytes() == before  # published file untouched
    subprocess.run(["mount", "-o", "remount,size=300m", str(small_disk)], check=True)
    again = _loader(settings, "load")
    assert again.returncode == 0, again.stderr
    assert _counts(settings.warehouse_path)[0] == _counts(settings.warehouse_path)[1] > 100_000
    assert "0 loaded" in _loader(settings, "load").stdout  # exactly once


@pytest.fixture(scope="module")
def loaded(spilling_landing, tmp_path_factory) -> Path:
    """A warehouse with the 100k-message sample loaded (copy it before writing to it)."""
    path = tmp_path_factory.mktemp("loaded") / "warehouse.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "loader", "load"],
        env={**os.environ, "LANDING_URL": str(spilling_landing), "WAREHOUSE_PATH": str(path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return path


def _holders(path: Path) -> list[int]:
    """Pids of the processes with ``path`` open (read from /proc)."""
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            if any(os.path.realpath(fd) == str(path) for fd in fd_dir.iterdir()):
                found.append(int(fd_dir.parent.name))
    return found


@pytest.mark.dbt
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("command", [["-m", "loader", "build", "--all"], ["-m", "dbt.cli.main"]])
def test_killed_build_leaves_nothing_running(loaded, settings, command):
    shutil.copyfile(loaded, settings.warehouse_path)
    work = warehouse.work_path(settings.warehouse_path)
    args = [*command, "build"] if command[-1] == "dbt.cli.main" else command
    proc = subprocess.Popen(
        [sys.executable, *args],
        env={**_env(settings), "DBT_PROFILES_DIR": str(ROOT), "DBT_PROJECT_DIR": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        assert _wait_for(lambda: bool(_holders(work)), proc), "dbt never opened the working copy"
        time.sleep(2)  # well into the build, which has seconds to go
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)
        assert _holders(work) == [], "a process outlived the killed build"
    finally:
        proc.kill()
        proc.wait()
    again = _loader(settings, "build")
    assert again.returncode == 0, again.stderr[-2000:]


@pytest.mark.dbt
def test_build_on_a_full_disk_is_one_line_and_publishes_nothing(loaded, settings, small_disk):
    subprocess.run(["mount", "-o", "remount,size=45m", str(small_disk)], check=True)
    target = small_disk / "warehouse.duckdb"
    shutil.copyfile(loaded, target)
    before = target.read_bytes()
    on_disk = replace(settings, warehouse_path=target)
    full = _loader(on_disk, "build")
    assert full.returncode == EXIT_DISK_FULL, full.stderr[-3000:]
    error = full.stderr.strip().splitlines()[-1]
    assert error.startswith("error: no space left on the device of ") and str(small_disk) in error
    assert target.read_bytes() == before
    subprocess.run(["mount", "-o", "remount,size=300m", str(small_disk)], check=True)
    again = _loader(on_disk, "build")
    assert again.returncode == 0, again.stderr[-2000:]
