"""Run one measured step in its own process: wall seconds and the process tree's peak RSS."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class StepFailed(RuntimeError):
    """A measured subprocess exited non-zero."""


@dataclass(frozen=True)
class Sample:
    """One run of one step."""

    seconds: float
    peak_rss_bytes: int
    stdout: str


def run(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_stem: Path,
) -> Sample:
    """Run ``cmd`` and wait for it with ``wait4``.

    ``wait4`` returns that child's own rusage, whose ``ru_maxrss`` is the maximum over the child
    and every descendant it waited for (Linux), so the figure is this process tree's peak and not
    a cumulative maximum over earlier steps. stdout/stderr go to ``{log_stem}.out/.err``.
    """
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_stem.with_suffix(".out"), log_stem.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=dict(env), cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = err_path.read_text(errors="replace")[-3000:]
        raise StepFailed(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    return Sample(seconds, usage.ru_maxrss * 1024, out_path.read_text(errors="replace"))
