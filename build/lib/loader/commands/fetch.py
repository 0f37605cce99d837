"""``python -m loader fetch``: download Hatch exports into the landing store."""

from __future__ import annotations

import argparse

from loader.commands import common
from loader.config import Settings

# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = (
    "api_key",
    "api_url",
    "landing_url",
    "state_dir",
    "min_interval_s",
    "daily_cap",
    "backfill_days",
    "max_wait_s",
)


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``fetch`` command."""
    parser = subparsers.add_parser(
        "fetch",
        parents=parents,
        help="fetch Hatch bulk exports into the landing store",
        description=(
            "Fetch Hatch Bulk Export windows (at most 180 days each, through yesterday) and "
            "archive every ZIP in the landing store. Without dates: incremental from the day "
            "after the last fetched day of each dataset (first run: --backfill-days back)."
        ),
    )
    common.add_fetch_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch and print a one-line summary."""
    common.fetch_from_args(args, settings)
    return 0
