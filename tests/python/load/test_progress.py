"""Live feedback during a load: a bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import fcntl
import logging
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import date, timedelta
from pathlib import Path

from loader import progress
from loader.load.run import run_load

ROOT = Path(__file__).resolve().parents[3]


def _land_days(kit, days: int) -> None:
    for n in range(days):
        day = date(2024, 3, 1) + timedelta(days=n)
        kit.land("conversation_items", "json", day, day)


def test_log_lines_count_up_to_every_file(kit, settings, caplog, monkeypatch) -> None:
    _land_days(kit, 4)
    kit.land("contact_history", "csv")
    monkeypatch.setattr(progress, "INTERVAL_S", 0.0)  # a line per file instead of every 10 s
    with caplog.at_level(logging.INFO, logger="loader"):
        summary = run_load(settings)
    lines = [r.getMessage() for r in caplog.records if r.name == "loader.progress"]
    done = [
        int(re.match(r"load: (\d+) of 5 file\(s\), [\d,]+ rows, [\d.]+ MB/s", m)[1]) for m in lines
    ]
    assert done == [1, 2, 3, 4, 5]
    final_rows = int(re.search(r"of 5 file\(s\), ([\d,]+) rows", lines[-1])[1].replace(",", ""))
    assert final_rows == summary.rows
    # the second run skips everything: the skipped files count too
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="loader"):
        run_load(
            settings,
            targets=[str(p) for p in sorted(kit.hatch_dir("conversation_items").iterdir())],
        )
    assert any("load: 4 of 4 file(s)" in r.getMessage() for r in caplog.records)


def test_a_terminal_gets_a_bar(kit, settings) -> None:
    _land_days(kit, 3)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LANDING_URL": settings.landing_url,
        "WAREHOUSE_PATH": str(settings.warehouse_path),
        "LOADER_STATE_DIR": str(settings.state_dir),
    }
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "loader", "load"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    seen = b""
    while True:  # read until the child closes its end (EIO on Linux)
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    text = seen.decode(errors="replace")
    assert re.search(r"load: 100%.*3/3.*rows, [\d.]+ MB/s", text), text
    assert "load: 3 loaded" in proc.stdout.read()
