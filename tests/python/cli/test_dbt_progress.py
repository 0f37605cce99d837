"""The dbt progress callback: a rewritten line on a terminal, a summary and dbt's warnings."""

from __future__ import annotations

import io
from types import SimpleNamespace

from loader import progress


def _event(event: str, **data: object) -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(name=event), data=SimpleNamespace(**data))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_one_rewritten_line_then_the_summary(monkeypatch) -> None:
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    shown = progress.DbtProgress(mode="tty")
    shown(_event("LogStartLine", total=3, description="sql table model marts.fct_messages"))
    shown(_event("NodeFinished"))
    shown(_event("LogTestResult", status="warn", name="accepted_values_x", num_failures=2))
    shown(_event("NodeFinished"))
    shown(_event("StatsLine", stats={"pass": 2, "warn": 1, "error": 0, "skip": 0, "total": 3}))
    shown(_event("SomethingElse"))
    assert "\n" not in screen.getvalue()
    assert screen.getvalue().count("\r") == 5  # one rewrite per event it follows, not the last
    assert "dbt: 2 of 3 node(s) done" in screen.getvalue()
    summary = shown.summary()
    assert summary.startswith("dbt: 2 passed, 1 warning(s), 0 error(s), 0 skipped, of 3 in ")
    assert shown.problems == ["WARN accepted_values_x: 2 row(s)"]


def test_quiet_prints_nothing(monkeypatch) -> None:
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    shown = progress.DbtProgress(mode=None)
    shown(_event("LogStartLine", total=3, description="x"))
    shown(_event("NodeFinished"))
    assert screen.getvalue() == ""


def test_an_unexpected_event_never_raises() -> None:
    """dbt calls the callback on its worker threads, where an exception fails the node."""
    shown = progress.DbtProgress(mode=None)
    shown(_event("LogModelResult", status="error"))  # no name, no node_info
    shown(SimpleNamespace(info=SimpleNamespace(name="NodeFinished")))  # no data at all
    shown(_event("StatsLine", stats=None))
    assert shown.problems == ["ERROR ?"]
