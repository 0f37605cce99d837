"""The API key appears in no log line, error message, repr or written file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from loader.config import Secret
from loader.fetch.exports import Progress, build_client

DAY = datetime.now(timezone.utc).date() - timedelta(days=3)


def test_key_never_leaks_through_any_path(
    make_server, make_settings, tiny, cli, files_bytes, api_key, tmp_path: Path
) -> None:
    server = make_server(tiny(empty_days={DAY - timedelta(days=1)}), retention_days=20)
    day = ("--start", str(DAY), "--end", str(DAY))
    runs = [
        cli(server, *day),  # 200 x2
        cli(server, "--start", str(DAY - timedelta(days=1)), "--end", str(DAY - timedelta(days=1))),
        cli(server, "--start", str(DAY - timedelta(days=30)), "--end", str(DAY)),  # 400
        cli(server, *day, "--force", HATCH_API_KEY="not-the-key-42"),  # 401
    ]
    server.fail_next(2, 503)
    runs.append(cli(server, *day, "--force", HATCH_MAX_RETRIES="1"))  # 503 exhausted
    server.inject(429, retry_after="99999")
    runs.append(cli(server, *day, "--force", HATCH_MAX_RETRIES="1"))  # rate budget
    assert [r.returncode for r in runs] == [0, 0, 5, 3, 5, 4], [r.stderr for r in runs]
    for run in runs:
        assert run.stderr.strip()  # something was logged (-v)
        assert api_key not in run.stdout + run.stderr
        assert "not-the-key-42" not in run.stdout + run.stderr
    written = list(files_bytes(tmp_path))
    assert any(p.suffix == ".sqlite" for p, _ in written)
    assert any(p.suffix == ".zip" for p, _ in written)
    for path, raw in written:
        assert api_key.encode() not in raw, path

    settings = make_settings(server)
    client = build_client(settings, Progress())
    for text in (repr(settings), str(settings), repr(client), repr(Secret(api_key))):
        assert api_key not in text
    client.close()
