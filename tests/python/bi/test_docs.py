"""``dbt docs generate`` works and the docs site renders the model list in headless Chromium."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from bi_support import MARTS, chromium_run


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def docs_url(docs_target: Path) -> Iterator[str]:
    """The generated docs served on 127.0.0.1 (as ``dbt docs serve`` does)."""
    handler = functools.partial(_QuietHandler, directory=str(docs_target))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_docs_catalog_covers_every_mart(docs_target: Path) -> None:
    catalog = json.loads((docs_target / "catalog.json").read_text())
    tables = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert set(MARTS) <= tables
    manifest = json.loads((docs_target / "manifest.json").read_text())
    exposures = {e["label"] for e in manifest["exposures"].values()}
    assert {"Campaign performance", "Message delivery", "Speed to lead"} <= exposures


def test_docs_site_renders_model_list_in_chromium(
    chromium: str, docs_url: str, tmp_path: Path
) -> None:
    dom = chromium_run(
        chromium,
        tmp_path / "profile",
        "--virtual-time-budget=20000",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        docs_url,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert "fct_campaign_performance" in html, f"docs app did not render; console: {console}"
    for mart in MARTS:
        assert mart in html, mart
