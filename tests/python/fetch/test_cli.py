"""``python -m loader fetch`` exit codes, run as a real subprocess."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

TODAY = datetime.now(timezone.utc).date()
DAY = str(TODAY - timedelta(days=4))
ONE_DAY = ("--source", "contact_history", "--start", DAY, "--end", DAY)


def test_exit_0_and_summary(server, cli) -> None:
    done = cli(server, *ONE_DAY, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert "1 window(s) fetched" in done.stdout
    assert "fetching contact_history" in done.stderr


def test_exit_2_usage_and_configuration(server, cli) -> None:
    assert cli(server, "--start", "2025-13-01").returncode == 2
    assert cli(server, "--source", "contacts").returncode == 2
    reversed_ = cli(server, "--start", DAY, "--end", str(TODAY - timedelta(days=9)))
    assert reversed_.returncode == 2 and "before --start" in reversed_.stderr
    no_key = cli(server, *ONE_DAY, HATCH_API_KEY="")
    assert no_key.returncode == 2 and "HATCH_API_KEY" in no_key.stderr
    assert cli(server, *ONE_DAY, HATCH_DAILY_CAP="many").returncode == 2
    assert server.request_count == 0


def test_exit_3_key_rejected(server, cli) -> None:
    done = cli(server, *ONE_DAY, HATCH_API_KEY="wrong")
    assert done.returncode == 3 and "HTTP 401" in done.stderr


def test_exit_4_rate_budget(server, cli) -> None:
    assert cli(server, *ONE_DAY, HATCH_MIN_INTERVAL_S="3600").returncode == 0
    done = cli(server, "--source", "conversation_items", HATCH_MIN_INTERVAL_S="3600")
    assert done.returncode == 4 and "run again after" in done.stderr


def test_exit_5_server_error(server, cli) -> None:
    server.fail_next(2, 500)
    done = cli(server, *ONE_DAY, HATCH_MAX_RETRIES="1")
    assert done.returncode == 5 and "kept failing" in done.stderr


def test_exit_5_single_day_too_large(make_server, tiny, cli) -> None:
    server = make_server(tiny(), max_uncompressed_bytes=100)
    done = cli(server, *ONE_DAY)
    assert done.returncode == 5 and f"contact_history {DAY}" in done.stderr
