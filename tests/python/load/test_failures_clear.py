"""A failed file leaves `status` when the fixed file loads, or when told to forget it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NAME = "contact_history_2024-03-01_2024-03-10.zip"


def _loader(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LANDING_URL": settings.landing_url,
        "WAREHOUSE_PATH": str(settings.warehouse_path),
        "LOADER_STATE_DIR": str(settings.state_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "loader", *args], env=env, capture_output=True, text=True, cwd=ROOT
    )


def _failed_lines(settings) -> list[str]:
    done = _loader(settings, "status")
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if "FAILED" in line]


def _bad_and_good(kit, tmp_path: Path) -> tuple[Path, Path]:
    good = kit.land("contact_history", "json")
    kept = tmp_path / "good.zip"
    shutil.move(good, kept)  # the landing store stays empty: files are loaded by path
    bad = kit.bad_zip(NAME, {NAME.replace(".zip", ".json"): '{"contact_history_id": 1\n'})
    outside = tmp_path / "outside" / NAME
    outside.parent.mkdir()
    shutil.move(bad, outside)
    return outside, kept


def test_loading_the_fixed_file_clears_the_failure(kit, settings, tmp_path) -> None:
    outside, good = _bad_and_good(kit, tmp_path)
    assert _loader(settings, "load", str(outside)).returncode == 5
    assert len(_failed_lines(settings)) == 1
    shutil.copy(good, outside)  # fixed in place: other bytes, same path
    done = _loader(settings, "load", str(outside))
    assert done.returncode == 0, done.stderr
    assert _failed_lines(settings) == []


def test_forget_failed_clears_a_file_that_is_gone(kit, settings, tmp_path) -> None:
    outside, _ = _bad_and_good(kit, tmp_path)
    assert _loader(settings, "load", str(outside)).returncode == 5
    outside.unlink()
    assert len(_failed_lines(settings)) == 1
    other = _loader(settings, "status", "--forget-failed", "not_this_one.zip")
    assert "forgot the failures of 0 file(s)" in other.stdout
    assert len(_failed_lines(settings)) == 1
    done = _loader(settings, "status", "--forget-failed")
    assert done.returncode == 0, done.stderr
    assert f"forgot the failures of 1 file(s)\n  {NAME}" in done.stdout
    assert _failed_lines(settings) == []
    assert "FAILED" not in done.stdout
