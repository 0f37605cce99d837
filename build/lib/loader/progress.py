"""Live feedback on the console while a load or a dbt build runs.

On a terminal (stderr) a progress bar (tqdm) or one rewritten line; otherwise a log line every
``INTERVAL_S`` seconds, so a cron or CI log shows the run moving. Nothing with ``-q`` (the
``loader`` logger above INFO).
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

log = logging.getLogger("loader.progress")

INTERVAL_S = 10.0  # seconds between progress log lines when stderr is not a terminal
_MB = 1_000_000


def mode() -> str | None:
    """``"tty"`` (a bar on stderr), ``"log"`` (periodic log lines), or None (``-q``)."""
    if not logging.getLogger("loader").isEnabledFor(logging.INFO):
        return None
    return "tty" if sys.stderr.isatty() else "log"


class LoadProgress:
    """Files, rows and MB/s of a load; ``advance`` may be called from several threads."""

    def __init__(self, files: int) -> None:
        self.total, self.files, self.rows, self.bytes = files, 0, 0, 0
        self.started = self.last_line = time.monotonic()
        self.lock = threading.Lock()
        self.mode = mode()
        self.bar = (
            tqdm(total=files, unit="file", desc="load", file=sys.stderr)
            if self.mode == "tty"
            else None
        )

    def __enter__(self) -> LoadProgress:
        if self.bar is not None:  # log lines go above the bar, not through it
            self.redirect = logging_redirect_tqdm()
            self.redirect.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
            self.redirect.__exit__(None, None, None)

    def advance(self, files: int = 1, rows: int = 0, size: int = 0) -> None:
        """``files`` more done (loaded, skipped or failed), with their rows and bytes read."""
        with self.lock:
            self.files += files
            self.rows += rows
            self.bytes += size
            now = time.monotonic()
            rate = self.bytes / _MB / max(now - self.started, 1e-3)
            if self.bar is not None:
                self.bar.set_postfix_str(f"{self.rows:,} rows, {rate:.1f} MB/s", refresh=False)
                self.bar.update(files)
            elif self.mode == "log" and now - self.last_line >= INTERVAL_S:
                self.last_line = now
                log.info(
                    "load: %d of %d file(s), %s rows, %.1f MB/s",
                    self.files,
                    self.total,
                    f"{self.rows:,}",
                    rate,
                )


@dataclass
class DbtProgress:
    """A callback for ``dbtRunner``: one progress line while dbt runs, a summary at the end."""

    total: int = 0
    done: int = 0
    current: str = ""
    stats: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "WARN name: message" of tests and nodes
    started: float = field(default_factory=time.monotonic)
    last_line: float = field(default_factory=time.monotonic)
    mode: str | None = field(default_factory=mode)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: Any) -> None:
        """Take one dbt event (an ``EventMsg``: ``info.name`` and ``data``). Never raises: dbt
        calls it on its worker threads, where an exception would fail the node."""
        try:
            self._take(event.info.name, event.data)
        except Exception as exc:  # a display problem must not fail the build
            log.debug("dbt progress: %s", exc)

    def _take(self, name: str, data: Any) -> None:
        with self.lock:
            if name == "LogStartLine":
                self.total, self.current = data.total, data.description
            elif name == "NodeFinished":
                self.done += 1
            elif name in ("LogTestResult", "LogModelResult", "LogSeedResult", "LogNodeResult"):
                self._problem(data)
            elif name == "StatsLine":
                self.stats = {k: int(v) for k, v in data.stats.items()}
            else:
                return
            self._show()

    def _problem(self, data: Any) -> None:
        status = str(getattr(data, "status", "")).lower()
        if status in ("warn", "fail", "error"):
            failures = getattr(data, "num_failures", 0)
            rows = f": {failures} row(s)" if failures else ""
            node = getattr(getattr(data, "node_info", None), "node_name", "") or getattr(
                data, "name", "?"
            )
            self.problems.append(f"{status.upper()} {node}{rows}")

    def _show(self) -> None:
        now = time.monotonic()
        line = f"dbt: {self.done} of {self.total or '?'} node(s) done"
        if self.mode == "tty":
            width = shutil.get_terminal_size().columns - 1  # no wrap: the line is rewritten
            text = f"{line}, running {self.current}"[:width]
            sys.stderr.write(f"\r{text:<{width}}")
            sys.stderr.flush()
        elif self.mode == "log" and now - self.last_line >= INTERVAL_S:
            self.last_line = now
            log.info("%s", line)

    def summary(self) -> str:
        """One line of counts and time (dbt's own summary numbers when it gave them)."""
        if self.mode == "tty":
            sys.stderr.write("\r" + " " * (shutil.get_terminal_size().columns - 1) + "\r")
            sys.stderr.flush()
        took = time.monotonic() - self.started
        s = self.stats
        if not s:
            return f"dbt: {self.done} node(s) done in {took:.1f}s"
        return (
            f"dbt: {s.get('pass', 0)} passed, {s.get('warn', 0)} warning(s), "
            f"{s.get('error', 0)} error(s), {s.get('skip', 0)} skipped, of {s.get('total', 0)} "
            f"in {took:.1f}s"
        )
