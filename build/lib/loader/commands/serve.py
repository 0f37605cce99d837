"""``python -m loader serve``: a local Hatch-compatible Bulk Export API with sample data."""

from __future__ import annotations

import argparse
import threading

from loader.config import Settings

DEMO_KEY = "demo-key"


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``serve`` command (its own flags: the server is not the loader's client)."""
    parser = subparsers.add_parser(
        "serve",
        help="run a local Hatch-compatible export server with deterministic sample data",
        description=(
            "Serve GET /api/v1/export-data like Hatch's Bulk Export API (auth, 400/401/413/429/"
            "204, rate limits) with deterministic sample data. Stop with Ctrl-C."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="default: 8765 (0: any free port)")
    parser.add_argument("--api-key", default=DEMO_KEY, help=f"accepted key (default: {DEMO_KEY})")
    parser.add_argument("--seed", type=int, default=42, help="sample-data seed (default: 42)")
    parser.add_argument("--days", type=int, default=60, help="days of sample data (default: 60)")
    parser.add_argument(
        "--contacts", type=int, default=2000, help="sample contacts (default: 2000)"
    )
    parser.add_argument(
        "--min-interval", type=float, default=300.0, help="seconds between exports (default: 300)"
    )
    parser.add_argument("--daily-cap", type=int, default=100, help="exports per 24h (default: 100)")
    parser.add_argument(
        "--max-mb", type=float, default=100.0, help="413 above this many MB uncompressed"
    )
    parser.add_argument("--retention-days", type=int, default=180, help="default: 180")
    parser.add_argument(
        "--fail-rate", type=float, default=0.0, help="share of requests answered 500 (0..1)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted."""
    from loader.demo.export_server import ExportServer
    from loader.demo.sample_data import SampleData, default_end_date

    data = SampleData(
        seed=args.seed, end_date=default_end_date(), days=args.days, contacts=args.contacts
    )
    server = ExportServer(
        args.api_key,
        data,
        host=args.host,
        port=args.port,
        seed=args.seed,
        min_interval_s=args.min_interval,
        daily_cap=args.daily_cap,
        max_uncompressed_bytes=int(args.max_mb * 1024 * 1024),
        retention_days=args.retention_days,
        fail_rate=args.fail_rate,
    )
    url = server.start()
    key_hint = f" (API key: {DEMO_KEY})" if args.api_key == DEMO_KEY else ""
    print(f"Hatch export server at {url}{key_hint}", flush=True)
    print(
        f"  rate limits: 1 export per {args.min_interval:g}s, {args.daily_cap} per 24h; "
        "Ctrl-C to stop",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
