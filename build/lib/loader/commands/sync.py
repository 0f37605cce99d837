"""``python -m loader sync``: fetch new Hatch exports, then load everything not loaded yet."""

from __future__ import annotations

import argparse
import logging

from loader.commands import common
from loader.config import Settings
from loader.errors import LoaderError

log = logging.getLogger(__name__)


# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = (
    "api_key",
    "api_url",
    "landing_url",
    "warehouse_path",
    "state_dir",
    "min_interval_s",
    "daily_cap",
    "backfill_days",
    "max_wait_s",
)


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``sync`` command."""
    parser = subparsers.add_parser(
        "sync",
        parents=parents,
        help="fetch, then load",
        description=(
            "Run `fetch` (same options), then `load` of everything landed and not loaded yet "
            "(with --build, then `dbt build`, published together). "
            "When the fetch fails, what is already landed is still loaded; the exit code is the "
            "fetch's."
        ),
    )
    common.add_fetch_arguments(parser)
    common.add_load_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch, then load; a fetch error is raised after the load."""
    from loader.load.run import run_load

    fetch_error: LoaderError | None = None
    try:
        common.fetch_from_args(args, settings)
    except LoaderError as exc:
        log.error("fetch failed: %s; loading what is landed", exc)
        fetch_error = exc
    summary = run_load(settings, after=common.build_after_load(args, settings))
    if args.build:
        print(f"build: ok, published {settings.warehouse_path}")
    code = common.report_load(summary)
    if fetch_error is not None:
        raise fetch_error
    return code
