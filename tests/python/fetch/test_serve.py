"""``python -m loader serve`` with the sample-data generator, then ``fetch`` against it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_serve_command_then_fetch(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HATCH_", "LOADER_"))}
    env["PYTHONPATH"] = str(REPO)
    serve = subprocess.Popen(
        [sys.executable, "-m", "loader", "serve", "--port", "0", "--min-interval", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = serve.stdout.readline()
        assert "Hatch export server at http://127.0.0.1:" in line, line
        url = line.split(" at ", 1)[1].split()[0]
        assert url.endswith("/api/v1")
        fetch_env = {
            **env,
            "HATCH_API_KEY": "demo-key",
            "HATCH_API_URL": url,
            "HATCH_MIN_INTERVAL_S": "0",
            "HATCH_BACKFILL_DAYS": "3",
        }
        done = subprocess.run(
            [sys.executable, "-m", "loader", "fetch", "--format", "csv"],
            cwd=tmp_path,
            env=fetch_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        archives = sorted((tmp_path / "landing" / "hatch").rglob("*.zip"))
        assert [a.parent.name for a in archives] == ["contact_history", "conversation_items"]
        for archive in archives:
            with zipfile.ZipFile(archive) as zf:
                [member] = zf.namelist()
                assert member == archive.stem + ".csv"
                assert zf.read(member).count(b"\n") > 1
    finally:
        serve.terminate()
        serve.wait(timeout=30)
